/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_keccak.c - Keccak-f[1600], SHA3-256/512, SHAKE128/256 (FIPS 202):
 * FIPS 202 example digests, incremental == one-shot, Python hashlib as an oracle, and
 * the NIST ACVP vectors (AFT, MCT, VOT; LDT with QPKI_ACVP_LDT=1).
 *
 * ACVP bit conventions (checked against the vectors): a message of `len` bits is the
 * hex string's first len/8 bytes followed by the top len%8 bits of the next byte,
 * i.e. the trailing FIPS 202 bits are that byte >> (8 - len%8); an output of outLen
 * bits that is not a whole number of bytes is given with its last len%8 bits in the
 * top of the last byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "crypto/keccak.h"
#include "safety.h"

enum kind { K_SHA3_256, K_SHA3_512, K_SHAKE128, K_SHAKE256 };

static unsigned kind_rate(enum kind k)
{
    switch (k) {
    case K_SHA3_256: return SHA3_256_RATE;
    case K_SHA3_512: return SHA3_512_RATE;
    case K_SHAKE128: return SHAKE128_RATE;
    default: return SHAKE256_RATE;
    }
}

/* Hash `bits` bits of msg; out gets ceil(out_bits/8) bytes in the ACVP layout. */
static void hash_bits(enum kind k, const uint8_t *msg, size_t bits, uint8_t *out, size_t out_bits)
{
    keccak_state st;
    keccak_init(&st, kind_rate(k));
    keccak_absorb(&st, msg, bits / 8);
    unsigned tail = (unsigned)(bits % 8);
    uint8_t last = tail ? (uint8_t)(msg[bits / 8] >> (8 - tail)) : 0;
    if (k == K_SHA3_256 || k == K_SHA3_512)
        keccak_finalize_bits(&st, last, tail, 0x2, 2);
    else
        keccak_finalize_bits(&st, last, tail, 0xf, 4);
    size_t n = (out_bits + 7) / 8;
    keccak_squeeze(&st, out, n);
    if (out_bits % 8)
        out[n - 1] = (uint8_t)(out[n - 1] << (8 - out_bits % 8));
}


static void test_empty_message_digests_match_known_values(void **state)
{
    (void)state;
    uint8_t out[64];
    sha3_256(out, NULL, 0);
    assert_hex_equal(out, 32, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    sha3_512(out, NULL, 0);
    assert_hex_equal(out, 64,
                     "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
                     "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26");
    shake128(out, 32, NULL, 0);
    assert_hex_equal(out, 32, "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
    shake256(out, 64, NULL, 0);
    assert_hex_equal(out, 64,
                     "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
                     "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be");
}

/* FIPS 202 examples (NIST "SHA3-256_Msg5" / "SHAKE128_Msg0"): the 5-bit message
 * 11001 hashes to 7B0047CF... under SHA3-256. */
static void test_five_bit_message_matches_nist_example(void **state)
{
    (void)state;
    keccak_state st;
    uint8_t out[32];
    keccak_init(&st, SHA3_256_RATE);
    keccak_finalize_bits(&st, 0x13, 5, 0x2, 2); /* bits 1,1,0,0,1 -> 0b10011 */
    keccak_squeeze(&st, out, 32);
    assert_hex_equal(out, 32, "7b0047cf5a456882363cbf0fb05322cf65f4b7059a46365e830132e3b5d957af");
}

static void test_incremental_absorb_and_squeeze_match_one_shot(void **state)
{
    (void)state;
    uint8_t msg[1000], one[600], inc[600];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    const size_t steps[] = {1, 3, 7, 64, 135, 136, 137, 167, 168, 169, 500};
    for (size_t s = 0; s < QPKI_ARRAY_LEN(steps); s++) {
        shake128(one, sizeof(one), msg, sizeof(msg));
        shake128_ctx c;
        shake128_init(&c);
        for (size_t off = 0; off < sizeof(msg); off += steps[s]) {
            size_t n = sizeof(msg) - off < steps[s] ? sizeof(msg) - off : steps[s];
            shake128_absorb(&c, msg + off, n);
        }
        shake128_finalize(&c);
        for (size_t off = 0; off < sizeof(inc); off += steps[s]) {
            size_t n = sizeof(inc) - off < steps[s] ? sizeof(inc) - off : steps[s];
            shake128_squeeze(&c, inc + off, n);
        }
        assert_memory_equal(one, inc, sizeof(one));

        shake256(one, sizeof(one), msg, sizeof(msg));
        shake256_ctx d;
        shake256_init(&d);
        for (size_t off = 0; off < sizeof(msg); off += steps[s]) {
            size_t n = sizeof(msg) - off < steps[s] ? sizeof(msg) - off : steps[s];
            shake256_absorb(&d, msg + off, n);
        }
        shake256_finalize(&d);
        for (size_t off = 0; off < sizeof(inc); off += steps[s]) {
            size_t n = sizeof(inc) - off < steps[s] ? sizeof(inc) - off : steps[s];
            shake256_squeeze(&d, inc + off, n);
        }
        assert_memory_equal(one, inc, sizeof(one));
    }
}

/* Independent oracle: Python's hashlib (OpenSSL's Keccak) on messages whose lengths
 * straddle the block sizes 72, 136 and 168. */
static void test_matches_python_hashlib_around_block_boundaries(void **state)
{
    (void)state;
    const size_t lens[] = {0, 1, 71, 72, 73, 135, 136, 137, 167, 168, 169, 335, 336, 337, 1000};
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c \"import hashlib\n"
             "for n in %s:\n m=bytes((i*13+5)&255 for i in range(n))\n"
             " print(hashlib.sha3_256(m).hexdigest(),hashlib.sha3_512(m).hexdigest(),"
             "hashlib.shake_128(m).hexdigest(200),hashlib.shake_256(m).hexdigest(300))\"",
             "[0,1,71,72,73,135,136,137,167,168,169,335,336,337,1000]");
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_non_null(out);
    assert_int_equal(status, 0);
    char *line = out;
    size_t checked = 0;
    for (size_t t = 0; t < QPKI_ARRAY_LEN(lens); t++) {
        uint8_t msg[1000];
        for (size_t i = 0; i < lens[t]; i++)
            msg[i] = (uint8_t)((i * 13 + 5) & 255);
        char h1[129], h2[129], h3[401], h4[601];
        assert_int_equal(sscanf(line, "%128s %128s %400s %600s", h1, h2, h3, h4), 4);
        uint8_t d[300];
        sha3_256(d, msg, lens[t]);
        assert_hex_equal(d, 32, h1);
        sha3_512(d, msg, lens[t]);
        assert_hex_equal(d, 64, h2);
        shake128(d, 200, msg, lens[t]);
        assert_hex_equal(d, 200, h3);
        shake256(d, 300, msg, lens[t]);
        assert_hex_equal(d, 300, h4);
        checked++;
        line = strchr(line, '\n');
        assert_non_null(line);
        line++;
    }
    printf("python hashlib oracle: %zu message lengths x 4 functions agree\n", checked);
    free(out);
}

/* Reference sponge written bit by bit from FIPS 202 Algorithm 8 and pad10*1
 * (Algorithm 9): P = M || suffix || 1 || 0^j || 1, absorbed block by block with
 * keccak_f1600 (itself checked by ACVP).  Used to check keccak_finalize_bits for
 * every trailing bit count and suffix around block boundaries. */
static void ref_sponge(unsigned rate, const uint8_t *msg, size_t nbits, uint8_t suffix,
                       unsigned suffix_len, uint8_t *out, size_t out_len)
{
    size_t r = (size_t)rate * 8, m = nbits + suffix_len;
    size_t j = (2 * r - (m + 2) % r) % r; /* (-m-2) mod r */
    size_t total = m + 2 + j;
    uint8_t *p = calloc(total / 8, 1);
    assert_non_null(p);
    for (size_t i = 0; i < nbits; i++)
        if ((msg[i / 8] >> (i % 8)) & 1)
            p[i / 8] |= (uint8_t)(1u << (i % 8));
    for (unsigned i = 0; i < suffix_len; i++)
        if ((suffix >> i) & 1)
            p[(nbits + i) / 8] |= (uint8_t)(1u << ((nbits + i) % 8));
    p[m / 8] |= (uint8_t)(1u << (m % 8));
    p[(total - 1) / 8] |= (uint8_t)(1u << ((total - 1) % 8));
    uint64_t st[25] = {0};
    for (size_t off = 0; off < total / 8; off += rate) {
        for (unsigned i = 0; i < rate; i++)
            st[i / 8] ^= (uint64_t)p[off + i] << (8 * (i % 8));
        keccak_f1600(st);
    }
    for (size_t o = 0; o < out_len; o++) {
        if (o > 0 && o % rate == 0)
            keccak_f1600(st);
        out[o] = (uint8_t)(st[(o % rate) / 8] >> (8 * (o % 8)));
    }
    free(p);
}

static void test_bit_padding_matches_reference_sponge_at_block_edges(void **state)
{
    (void)state;
    uint8_t msg[400], a[200], b[200];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 151 + 3);
    const unsigned rates[3] = {SHA3_256_RATE, SHA3_512_RATE, SHAKE128_RATE};
    size_t checked = 0;
    for (unsigned ri = 0; ri < 3; ri++) {
        unsigned rate = rates[ri];
        for (int sfx = 0; sfx < 2; sfx++) {
            uint8_t suffix = sfx ? 0xf : 0x2;
            unsigned slen = sfx ? 4 : 2;
            for (size_t bytes = rate - 2; bytes <= rate + 1; bytes++) {
                for (unsigned tail = 0; tail < 8; tail++) {
                    size_t nbits = bytes * 8 + tail;
                    keccak_state st;
                    keccak_init(&st, rate);
                    keccak_absorb(&st, msg, bytes);
                    keccak_finalize_bits(&st, (uint8_t)(msg[bytes] & ((1u << tail) - 1u)), tail,
                                         suffix, slen);
                    keccak_squeeze(&st, a, sizeof(a));
                    ref_sponge(rate, msg, nbits, suffix, slen, b, sizeof(b));
                    assert_memory_equal(a, b, sizeof(a));
                    checked++;
                }
            }
        }
    }
    printf("bit padding: %zu (rate, suffix, length) cases agree with the reference sponge\n",
           checked);
}

struct acvp_counts {
    size_t aft, aft_ok, mct, mct_ok, vot, vot_ok, ldt, ldt_ok, ldt_skipped;
};

/* ACVP SHA-3 "standard" Monte Carlo test (SHA3VS §6.2.3 / ACVP SHA-3 spec):
 *   MD[0] = Seed; for j = 0..99 { for i = 1..1000: MD[i] = SHA3(MD[i-1]);
 *                                 MD[0] = MD[1000]; output MD[0] } */
static size_t run_mct(enum kind k, const json *tc)
{
    size_t seed_len = 0, ok = 0;
    uint8_t *seed = json_hex(tc, "msg", &seed_len);
    assert_non_null(seed);
    size_t dlen = k == K_SHA3_256 ? 32 : 64;
    assert_int_equal(seed_len, dlen);
    uint8_t md[64];
    memcpy(md, seed, dlen);
    const json *res = json_get(tc, "resultsArray");
    assert_int_equal(json_len(res), 100);
    for (size_t j = 0; j < 100; j++) {
        for (unsigned i = 0; i < 1000; i++) {
            if (k == K_SHA3_256)
                sha3_256(md, md, 32);
            else
                sha3_512(md, md, 64);
        }
        size_t wn = 0;
        uint8_t *want = json_hex(json_at(res, j), "md", &wn);
        assert_non_null(want);
        if (wn == dlen && memcmp(want, md, dlen) == 0)
            ok++;
        free(want);
    }
    free(seed);
    return ok == 100 ? 1 : 0;
}

/* Large data test: the message is `content` repeated up to fullLength bits (8 GiB
 * here), hashed as a stream. */
static int run_ldt(enum kind k, const json *tc)
{
    const json *lm = json_get(tc, "largeMsg");
    size_t clen = 0;
    uint8_t *content = json_hex(lm, "content", &clen);
    long long cbits = json_int(json_get(lm, "contentLength"), -1);
    long long full = json_int(json_get(lm, "fullLength"), -1);
    assert_non_null(content);
    assert_true(cbits == (long long)clen * 8 && full % cbits == 0);
    assert_string_equal(json_str(json_get(lm, "expansionTechnique")), "repeating");
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    assert_non_null(buf);
    for (size_t i = 0; i < CHUNK; i++)
        buf[i] = content[i % clen];
    keccak_state st;
    keccak_init(&st, kind_rate(k));
    unsigned long long left = (unsigned long long)full / 8;
    assert_true(CHUNK % clen == 0);
    while (left > 0) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        keccak_absorb(&st, buf, n);
        left -= n;
    }
    keccak_finalize_bits(&st, 0, 0, 0x2, 2);
    uint8_t md[64];
    size_t dlen = k == K_SHA3_256 ? 32 : 64;
    keccak_squeeze(&st, md, dlen);
    size_t wn = 0;
    uint8_t *want = json_hex(tc, "md", &wn);
    int ok = want && wn == dlen && memcmp(want, md, dlen) == 0;
    free(want);
    free(buf);
    free(content);
    return ok;
}

static void run_acvp_file(const char *rel, enum kind k, const char *name)
{
    json *root = json_load_gz(tu_vector_path(rel));
    assert_non_null(root);
    const json *groups = json_get(root, "testGroups");
    struct acvp_counts c = {0};
    const int do_ldt = getenv("QPKI_ACVP_LDT") != NULL;
    size_t unknown = 0;
    for (size_t g = 0; g < json_len(groups); g++) {
        const json *grp = json_at(groups, g);
        const char *type = json_str(json_get(grp, "testType"));
        const json *tests = json_get(grp, "tests");
        assert_non_null(type);
        for (size_t t = 0; t < json_len(tests); t++) {
            const json *tc = json_at(tests, t);
            if (strcmp(type, "AFT") == 0 || strcmp(type, "VOT") == 0) {
                size_t mlen = 0, wlen = 0;
                uint8_t *msg = json_hex(tc, "msg", &mlen);
                uint8_t *want = json_hex(tc, "md", &wlen);
                assert_non_null(msg);
                assert_non_null(want);
                long long bits = json_int(json_get(tc, "len"), -1);
                long long obits = json_int(json_get(tc, "outLen"), -1);
                if (obits < 0)
                    obits = k == K_SHA3_256 ? 256 : 512;
                assert_true(bits >= 0 && (size_t)(bits + 7) / 8 <= mlen + (bits == 0));
                uint8_t *got = malloc((size_t)(obits + 7) / 8 + 1);
                assert_non_null(got);
                hash_bits(k, msg, (size_t)bits, got, (size_t)obits);
                int ok = wlen == (size_t)(obits + 7) / 8 && memcmp(got, want, wlen) == 0;
                if (!ok)
                    printf("%s %s tcId %lld failed\n", name, type,
                           json_int(json_get(tc, "tcId"), -1));
                if (type[0] == 'A') {
                    c.aft++;
                    c.aft_ok += (size_t)ok;
                } else {
                    c.vot++;
                    c.vot_ok += (size_t)ok;
                }
                free(got);
                free(msg);
                free(want);
            } else if (strcmp(type, "MCT") == 0) {
                const char *ver = json_str(json_get(grp, "mctVersion"));
                assert_true(k == K_SHA3_256 || k == K_SHA3_512);
                assert_true(ver == NULL || strcmp(ver, "standard") == 0);
                c.mct++;
                c.mct_ok += run_mct(k, tc);
            } else if (strcmp(type, "LDT") == 0) {
                c.ldt++;
                if (!do_ldt) {
                    c.ldt_skipped++;
                    continue;
                }
                c.ldt_ok += (size_t)run_ldt(k, tc);
            } else {
                unknown++;
            }
        }
    }
    if (c.aft)
        printf("%s AFT: %zu passed of %zu\n", name, c.aft_ok, c.aft);
    if (c.vot)
        printf("%s VOT: %zu passed of %zu\n", name, c.vot_ok, c.vot);
    if (c.mct)
        printf("%s MCT: %zu passed of %zu (100 x 1000 iterations each)\n", name, c.mct_ok, c.mct);
    else
        printf("%s MCT: none in this vector file\n", name);
    if (c.ldt)
        printf("%s LDT: %zu passed of %zu, %zu skipped (8 GiB messages; set QPKI_ACVP_LDT=1 "
               "to run)\n", name, c.ldt_ok, c.ldt, c.ldt_skipped);
    assert_int_equal(unknown, 0);
    assert_int_equal(c.aft_ok, c.aft);
    assert_int_equal(c.vot_ok, c.vot);
    assert_int_equal(c.mct_ok, c.mct);
    assert_int_equal(c.ldt_ok + c.ldt_skipped, c.ldt);
    assert_true(c.aft > 0);
    json_free(root);
}

static void test_acvp_sha3_256_vectors_pass(void **state)
{
    (void)state;
    run_acvp_file("acvp/SHA3-256-2.0/internalProjection.json.gz", K_SHA3_256, "SHA3-256");
}

static void test_acvp_sha3_512_vectors_pass(void **state)
{
    (void)state;
    run_acvp_file("acvp/SHA3-512-2.0/internalProjection.json.gz", K_SHA3_512, "SHA3-512");
}

static void test_acvp_shake128_vectors_pass(void **state)
{
    (void)state;
    run_acvp_file("acvp/SHAKE-128-FIPS202/internalProjection.json.gz", K_SHAKE128, "SHAKE-128");
}

static void test_acvp_shake256_vectors_pass(void **state)
{
    (void)state;
    run_acvp_file("acvp/SHAKE-256-FIPS202/internalProjection.json.gz", K_SHAKE256, "SHAKE-256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_message_digests_match_known_values),
        cmocka_unit_test(test_five_bit_message_matches_nist_example),
        cmocka_unit_test(test_incremental_absorb_and_squeeze_match_one_shot),
        cmocka_unit_test(test_bit_padding_matches_reference_sponge_at_block_edges),
        cmocka_unit_test(test_matches_python_hashlib_around_block_boundaries),
        cmocka_unit_test(test_acvp_sha3_256_vectors_pass),
        cmocka_unit_test(test_acvp_sha3_512_vectors_pass),
        cmocka_unit_test(test_acvp_shake128_vectors_pass),
        cmocka_unit_test(test_acvp_shake256_vectors_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
