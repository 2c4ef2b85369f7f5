/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_sha256.c - our SHA-256 and HMAC-SHA-256 (lib/crypto/sha256.c), on
 * both compression functions (the x86 SHA extensions where the CPU has them, and
 * portable C, forced with sha256_set_shani(0)).
 *
 * Oracles: the NIST example digests (FIPS 180-4 examples, "SHA256.pdf" /
 * "SHA2_Additional.pdf" of the NIST Cryptographic Standards and Guidelines
 * examples), RFC 4231 §4 HMAC-SHA-256 test cases 1-4, 6 and 7 (values copied from
 * the RFC), wolfSSL's SHA-256 and HMAC (an independent implementation) on every
 * length 0..1100 split at every kind of boundary, and Python hashlib / hmac. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "testutil.h"
#include "crypto/crypto_internal.h"
#include "crypto/sha256.h"
#include "safety.h"

/* Each test runs once per compression function. */
static const char *const PORTABLE = "portable", *const SHANI = "SHA extensions",
                         *const NO_SHANI = "portable (no SHA extensions)";

static int use_portable(void **state)
{
    *state = (void *)(uintptr_t)PORTABLE;
    sha256_set_shani(0);
    return 0;
}

static int use_best(void **state)
{
    sha256_set_shani(1);
    *state = (void *)(uintptr_t)(sha256_shani_active() ? SHANI : NO_SHANI);
    return 0;
}

static void test_path_is_what_the_setup_chose(void **state)
{
    const char *path = *state;
    assert_int_equal(sha256_shani_active(), path == SHANI);
    printf("compression function under test: %s\n", path);
}

static void digest_hex(const uint8_t *msg, size_t n, const char *hex)
{
    uint8_t d[SHA256_LEN];
    sha256(msg, n, d);
    assert_hex_equal(d, sizeof(d), hex);
}

/* NIST examples: one block, two blocks, the 896-bit message and one million "a". */
static void test_nist_examples(void **state)
{
    (void)state;
    digest_hex((const uint8_t *)"", 0,
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_hex((const uint8_t *)"abc", 3,
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_hex((const uint8_t *)m448, strlen(m448),
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    digest_hex((const uint8_t *)m896, strlen(m896),
               "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million "a", fed 997 bytes at a time */
    uint8_t a[997];
    memset(a, 'a', sizeof(a));
    sha256_ctx c;
    sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof(a) ? left : sizeof(a);
        sha256_update(&c, a, k);
        left -= k;
    }
    uint8_t d[SHA256_LEN];
    sha256_final(&c, d);
    assert_hex_equal(d, sizeof(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_hex(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t n,
                     const char *hex)
{
    hmac_sha256_ctx m;
    hmac_sha256_init(&m, key, key_len);
    hmac_sha256_update(&m, msg, n);
    uint8_t out[SHA256_LEN];
    hmac_sha256_final(&m, out);
    assert_hex_equal(out, sizeof(out), hex);
}

/* RFC 4231 §4.2-4.8 (case 5 truncates the output and is not about the MAC). */
static void test_rfc4231(void **state)
{
    (void)state;
    uint8_t k[131], d[50];
    memset(k, 0x0b, 20);
    hmac_hex(k, 20, (const uint8_t *)"Hi There", 8,
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_hex((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k, 0xaa, 20);
    memset(d, 0xdd, 50);
    hmac_hex(k, 20, d, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k[i] = (uint8_t)(i + 1);
    memset(d, 0xcd, 50);
    hmac_hex(k, 25, d, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k, 0xaa, 131);
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_hex(k, 131, (const uint8_t *)t6, strlen(t6),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    const char *t7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    hmac_hex(k, 131, (const uint8_t *)t7, strlen(t7),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)((i * 131 + (i >> 8) * 7 + 3) & 0xff);
}

/* Every length 0..1100, hashed one-shot and in pieces of 1, 63, 64 and 65 bytes,
 * against wolfSSL's SHA-256; HMAC with keys of 0..130 bytes against wolfSSL's. */
static void test_matches_wolfssl(void **state)
{
    (void)state;
    static uint8_t msg[1101];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = pattern(i);
    const size_t pieces[] = {1, 63, 64, 65, 1101};
    size_t checked = 0;
    for (size_t n = 0; n <= 1100; n++) {
        uint8_t want[WC_SHA256_DIGEST_SIZE];
        assert_int_equal(wc_Sha256Hash(msg, (word32)n, want), 0);
        for (size_t p = 0; p < QPKI_ARRAY_LEN(pieces); p++) {
            sha256_ctx c;
            sha256_init(&c);
            for (size_t o = 0; o < n; o += pieces[p])
                sha256_update(&c, msg + o, n - o < pieces[p] ? n - o : pieces[p]);
            uint8_t got[SHA256_LEN];
            sha256_final(&c, got);
            assert_memory_equal(got, want, sizeof(want));
            checked++;
        }
    }
    for (size_t kl = 0; kl <= 130; kl += 13) {
        for (size_t n = 0; n <= 300; n += 37) {
            Hmac h;
            uint8_t want[WC_SHA256_DIGEST_SIZE], got[SHA256_LEN];
            assert_int_equal(wc_HmacInit(&h, NULL, INVALID_DEVID), 0);
            /* wolfSSL (FIPS-style builds) refuses keys under 14 bytes for HMAC
             * unless told otherwise; lengths below that go through a zero-padded
             * 14-byte key, which HMAC treats identically (RFC 2104 §2 pads with
             * zeros). */
            uint8_t key[130] = {0};
            memcpy(key, msg + 500, kl);
            size_t wl = kl < 14 ? 14 : kl;
            assert_int_equal(wc_HmacSetKey(&h, WC_SHA256, key, (word32)wl), 0);
            assert_int_equal(wc_HmacUpdate(&h, msg, (word32)n), 0);
            assert_int_equal(wc_HmacFinal(&h, want), 0);
            wc_HmacFree(&h);
            hmac_sha256_ctx m;
            hmac_sha256_init(&m, key, kl);
            hmac_sha256_update(&m, msg, n);
            hmac_sha256_final(&m, got);
            assert_memory_equal(got, want, sizeof(want));
            checked++;
        }
    }
    printf("wolfSSL oracle: %zu digests and MACs agree\n", checked);
}

/* crypto_hash (what signatures, CertIDs and ETags use) goes through the same code. */
static void test_crypto_hash_uses_it(void **state)
{
    (void)state;
    uint8_t d[CRYPTO_MAX_HASH_LEN];
    assert_int_equal(crypto_hash(QPKI_HASH_SHA256, (const uint8_t *)"abc", 3, d), QPKI_OK);
    assert_hex_equal(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_hash_ctx c;
    assert_int_equal(crypto_hash_init(&c, QPKI_HASH_SHA256), QPKI_OK);
    assert_int_equal(crypto_hash_update(&c, (const uint8_t *)"ab", 2), QPKI_OK);
    assert_int_equal(crypto_hash_update(&c, (const uint8_t *)"c", 1), QPKI_OK);
    assert_int_equal(crypto_hash_final(&c, d), QPKI_OK);
    assert_hex_equal(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_matches_python(void **state)
{
    (void)state;
    int status = -1;
    char *out = tu_run("/usr/bin/python3 -c \"import hashlib, hmac\n"
                       "for n in [0,1,55,56,57,63,64,65,119,120,127,128,129,1000,4097]:\n"
                       " m=bytes((i*131+(i>>8)*7+3)&255 for i in range(n))\n"
                       " print(hashlib.sha256(m).hexdigest(),"
                       "hmac.new(m[:n%97],m,'sha256').hexdigest())\"",
                       &status);
    assert_non_null(out);
    assert_int_equal(status, 0);
    const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4097};
    static uint8_t msg[4097];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = pattern(i);
    char *line = out;
    for (size_t t = 0; t < QPKI_ARRAY_LEN(lens); t++) {
        char h[65], m[65];
        assert_int_equal(sscanf(line, "%64s %64s", h, m), 2);
        digest_hex(msg, lens[t], h);
        hmac_hex(msg, lens[t] % 97, msg, lens[t], m);
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    printf("python hashlib/hmac oracle: %zu lengths agree\n", QPKI_ARRAY_LEN(lens));
    free(out);
}

#define BOTH(f)                                                                  \
    cmocka_unit_test_setup(f, use_best), cmocka_unit_test_setup(f, use_portable)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_path_is_what_the_setup_chose), BOTH(test_nist_examples),
        BOTH(test_rfc4231), BOTH(test_matches_wolfssl), BOTH(test_crypto_hash_uses_it),
        BOTH(test_matches_python),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
