/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_p256.c - our ECDSA P-256 signing (lib/crypto/p256) and its use
 * by crypto_sign.
 *
 * Oracles: RFC 6979 Appendix A.2.5 (k, r, s copied from the RFC text), python3
 * `cryptography` (public keys d*G, signature verification), wolfSSL (verification
 * through crypto_verify and wc_ecc_verify_hash, DER by wc_ecc_rs_raw_to_sig).
 * With -Dp256=wolfssl only the crypto_sign-level tests run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "testutil.h"
#include "crypto/crypto_internal.h"
#include "internal.h"
#include "qpki_config.h"
#if QPKI_P256_BUILTIN
#include "crypto/p256/p256.h"
#endif

/* ---- helpers -------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t xorshift(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(xorshift() >> 24);
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    size_t len = 0;
    uint8_t *b = tu_hex(hex, &len);
    assert_non_null(b);
    assert_int_equal(len, n);
    memcpy(out, b, n);
    free(b);
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", p[i]);
    out[2 * n] = '\0';
}

static const char *tmp_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "/tmp/qpki-test-p256-%ld-%s", (long)getpid(), name);
    return buf;
}

/* A P-256 crypto_privkey from a 32-octet scalar. */
static crypto_privkey *key_from_scalar(const uint8_t d[32])
{
    crypto_key_parts parts = {.alg = QPKI_KEY_EC_P256, .secret = d, .secret_len = 32};
    crypto_privkey *k = NULL;
    assert_int_equal(crypto_privkey_from_parts(&parts, &k), QPKI_OK);
    return k;
}

static crypto_pubkey *pub_of(const crypto_privkey *k)
{
    crypto_pubkey *pub = NULL;
    assert_int_equal(crypto_pubkey_parse(crypto_privkey_spki(k), &pub), QPKI_OK);
    return pub;
}

/* Uncompressed point of a key (0x04 || X || Y) from its SPKI: the last 65 octets. */
static void point_of(const crypto_privkey *k, uint8_t x[32], uint8_t y[32])
{
    der_view spki = crypto_privkey_spki(k);
    assert_true(spki.n > 65);
    assert_int_equal(spki.p[spki.n - 65], 0x04);
    memcpy(x, spki.p + spki.n - 64, 32);
    memcpy(y, spki.p + spki.n - 32, 32);
}

#define N_HEX "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"
#define GX_HEX "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
#define GY_HEX "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"
/* p - Gy */
#define NEG_GY_HEX "B01CBD1C01E58065711814B583F061E9D431CCA994CEA1313449BF97C840AE0A"

/* ---- crypto_sign level (both backends) ---------------------------------------------- */

static const qpki_sig_alg ECDSA_ALGS[3] = {QPKI_SIG_ECDSA_SHA256, QPKI_SIG_ECDSA_SHA384,
                                           QPKI_SIG_ECDSA_SHA512};

static void test_random_keys_sign_and_wolfssl_verifies_every_signature(void **state)
{
    (void)state;
    unsigned ok = 0;
    for (int ki = 0; ki < 40; ki++) {
        crypto_privkey *k = NULL;
        assert_int_equal(crypto_privkey_generate(QPKI_KEY_EC_P256, 0, &k), QPKI_OK);
        crypto_pubkey *pub = pub_of(k);
        for (int mi = 0; mi < 50; mi++) {
            uint8_t msg[100], sig[80];
            size_t mlen = (size_t)(xorshift() % sizeof(msg)), slen = sizeof(sig);
            fill(msg, mlen);
            qpki_sig_alg alg = ECDSA_ALGS[mi % 3];
            assert_int_equal(crypto_sign(k, alg, msg, mlen, sig, &slen), QPKI_OK);
            assert_true(slen >= 8 && slen <= 72);
            assert_int_equal(crypto_verify(pub, alg, msg, mlen, sig, slen), QPKI_OK);
            ok++;
        }
        crypto_pubkey_free(&pub);
        crypto_privkey_free(&k);
    }
    assert_int_equal(ok, 2000);
}

static void test_tampered_signature_is_rejected_by_wolfssl(void **state)
{
    (void)state;
    crypto_privkey *k = NULL;
    assert_int_equal(crypto_privkey_generate(QPKI_KEY_EC_P256, 0, &k), QPKI_OK);
    crypto_pubkey *pub = pub_of(k);
    static const uint8_t msg[] = "tamper me";
    uint8_t sig[80];
    size_t slen = sizeof(sig);
    assert_int_equal(crypto_sign(k, QPKI_SIG_ECDSA_SHA256, msg, 9, sig, &slen), QPKI_OK);
    assert_int_equal(crypto_verify(pub, QPKI_SIG_ECDSA_SHA256, msg, 9, sig, slen), QPKI_OK);
    sig[slen - 1] ^= 0x01; /* last octet of s */
    assert_int_equal(crypto_verify(pub, QPKI_SIG_ECDSA_SHA256, msg, 9, sig, slen),
                     QPKI_ERR_BAD_SIGNATURE);
    sig[slen - 1] ^= 0x01;
    static const uint8_t other[] = "tamper mE";
    assert_int_equal(crypto_verify(pub, QPKI_SIG_ECDSA_SHA256, other, 9, sig, slen),
                     QPKI_ERR_BAD_SIGNATURE);
    crypto_pubkey_free(&pub);
    crypto_privkey_free(&k);
}

static void test_private_keys_one_and_n_minus_one_sign_verifiable_signatures(void **state)
{
    (void)state;
    uint8_t one[32] = {0}, nm1[32];
    one[31] = 1;
    unhex(N_HEX, nm1, 32);
    nm1[31] -= 1;
    const uint8_t *ds[2] = {one, nm1};
    for (int i = 0; i < 2; i++) {
        crypto_privkey *k = key_from_scalar(ds[i]);
        uint8_t x[32], y[32], gx[32], gy[32];
        point_of(k, x, y);
        unhex(GX_HEX, gx, 32);
        unhex(i == 0 ? GY_HEX : NEG_GY_HEX, gy, 32);
        assert_memory_equal(x, gx, 32);
        assert_memory_equal(y, gy, 32);
        crypto_pubkey *pub = pub_of(k);
        for (int a = 0; a < 3; a++) {
            uint8_t sig[80];
            size_t slen = sizeof(sig);
            assert_int_equal(crypto_sign(k, ECDSA_ALGS[a], (const uint8_t *)"edge", 4, sig, &slen),
                             QPKI_OK);
            assert_int_equal(crypto_verify(pub, ECDSA_ALGS[a], (const uint8_t *)"edge", 4, sig, slen),
                             QPKI_OK);
        }
        crypto_pubkey_free(&pub);
        crypto_privkey_free(&k);
    }
}

static void test_two_signatures_of_one_message_differ_because_k_is_hedged(void **state)
{
    (void)state;
    crypto_privkey *k = NULL;
    assert_int_equal(crypto_privkey_generate(QPKI_KEY_EC_P256, 0, &k), QPKI_OK);
    uint8_t s1[80], s2[80];
    size_t l1 = sizeof(s1), l2 = sizeof(s2);
    assert_int_equal(crypto_sign(k, QPKI_SIG_ECDSA_SHA256, (const uint8_t *)"m", 1, s1, &l1), QPKI_OK);
    assert_int_equal(crypto_sign(k, QPKI_SIG_ECDSA_SHA256, (const uint8_t *)"m", 1, s2, &l2), QPKI_OK);
    assert_false(l1 == l2 && memcmp(s1, s2, l1) == 0);
    crypto_privkey_free(&k);
}

/* 200 signatures (random keys, messages and hashes) checked by python3
 * `cryptography` (OpenSSL's ECDSA verification, independent of wolfSSL). */
static void test_python_cryptography_verifies_200_signatures(void **state)
{
    (void)state;
    static const char *hash_names[3] = {"SHA256", "SHA384", "SHA512"};
    FILE *f = fopen(tmp_path("sigs.txt"), "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++) {
        crypto_privkey *k = NULL;
        assert_int_equal(crypto_privkey_generate(QPKI_KEY_EC_P256, 0, &k), QPKI_OK);
        uint8_t x[32], y[32], msg[64], sig[80];
        size_t mlen = 1 + (size_t)(xorshift() % 63), slen = sizeof(sig);
        fill(msg, mlen);
        point_of(k, x, y);
        assert_int_equal(crypto_sign(k, ECDSA_ALGS[i % 3], msg, mlen, sig, &slen), QPKI_OK);
        char hx[65], hy[65], hm[129], hs[161];
        to_hex(x, 32, hx);
        to_hex(y, 32, hy);
        to_hex(msg, mlen, hm);
        to_hex(sig, slen, hs);
        fprintf(f, "%s %s %s %s %s\n", hx, hy, hash_names[i % 3], hm, hs);
        crypto_privkey_free(&k);
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c '\n"
             "import sys\n"
             "from cryptography.hazmat.primitives.asymmetric import ec\n"
             "from cryptography.hazmat.primitives import hashes\n"
             "ok = 0\n"
             "for line in open(sys.argv[1]):\n"
             "    x, y, h, m, s = line.split()\n"
             "    pub = ec.EllipticCurvePublicNumbers(int(x, 16), int(y, 16), ec.SECP256R1()).public_key()\n"
             "    pub.verify(bytes.fromhex(s), bytes.fromhex(m), ec.ECDSA(getattr(hashes, h)()))\n"
             "    ok += 1\n"
             "print(ok)\n' %s",
             tmp_path("sigs.txt"));
    int st = -1;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(out);
    assert_string_equal(out, "200\n");
    free(out);
    unlink(tmp_path("sigs.txt"));
}

#if QPKI_P256_BUILTIN

/* ---- RFC 6979 A.2.5 ------------------------------------------------------------------- */

/* RFC 6979 Appendix A.2.5 (ECDSA, 256 Bits (Prime Field)), copied from the RFC
 * text: private key x, public key U = xG and, for messages "sample" and "test",
 * the deterministic k and the signature (r, s) with SHA-1, SHA-224, SHA-256,
 * SHA-384 and SHA-512 (HMAC-DRBG with the same hash). */
#define RFC_X "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
#define RFC_UX "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
#define RFC_UY "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"

static const struct {
    const char *msg;
    int hash; /* digest length */
    const char *k, *r, *s;
} RFC6979[10] = {
    {"sample", 20, "882905F1227FD620FBF2ABF21244F0BA83D0DC3A9103DBBEE43A1FB858109DB4",
     "61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32",
     "6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB"},
    {"sample", 28, "103F90EE9DC52E5E7FB5132B7033C63066D194321491862059967C715985D473",
     "53B2FFF5D1752B2C689DF257C04C40A587FABABB3F6FC2702F1343AF7CA9AA3F",
     "B9AFB64FDC03DC1A131C7D2386D11E349F070AA432A4ACC918BEA988BF75C74C"},
    {"sample", 32, "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
    {"sample", 48, "09F634B188CEFD98E7EC88B1AA9852D734D0BC272F7D2A47DECC6EBEB375AAD4",
     "0EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719",
     "4861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954"},
    {"sample", 64, "5FA81C63109BADB88C1F367B47DA606DA28CAD69AA22C4FE6AD7DF73A7173AA5",
     "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
     "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE"},
    {"test", 20, "8C9520267C55D6B980DF741E56B4ADEE114D84FBFA2E62137954164028632A2E",
     "0CBCC86FD6ABD1D99E703E1EC50069EE5C0B4BA4B9AC60E409E8EC5910D81A89",
     "01B9D7B73DFAA60D5651EC4591A0136F87653E0FD780C3B1BC872FFDEAE479B1"},
    {"test", 28, "669F4426F2688B8BE0DB3A6BD1989BDAEFFF84B649EEB84F3DD26080F667FAA7",
     "C37EDB6F0AE79D47C3C27E962FA269BB4F441770357E114EE511F662EC34A692",
     "C820053A05791E521FCAAD6042D40AEA1D6B1A540138558F47D0719800E18F2D"},
    {"test", 32, "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
    {"test", 48, "16AEFFA357260B04B1DD199693960740066C1A8F3E8EDD79070AA914D361B3B8",
     "83910E8B48BB0C74244EBDF7F07A1C5413D61472BD941EF3920E623FBCCEBEB6",
     "8DDBEC54CF8CD5874883841D712142A56A8D0F218F5003CB0296B6B509619F2C"},
    {"test", 64, "6915D11632ACA3C40D5D51C08DAF9C555933819548784480E93499000D9F0B7F",
     "461D93F31B6540894788FD206C07CFA0CC35F46FA3C91816FFF1040AD1581A04",
     "39AF9F15DE0DB8D97E72719C74820D304CE5226E32DEDAE67519E840D1194E55"},
};

static void digest_of(int len, const char *msg, uint8_t *out)
{
    const byte *m = (const byte *)msg;
    word32 n = (word32)strlen(msg);
    int ret = len == 20   ? wc_ShaHash(m, n, out)
              : len == 28 ? wc_Sha224Hash(m, n, out)
              : len == 32 ? wc_Sha256Hash(m, n, out)
              : len == 48 ? wc_Sha384Hash(m, n, out)
                          : wc_Sha512Hash(m, n, out);
    assert_int_equal(ret, 0);
}

static void test_rfc6979_a25_public_key_is_x_times_g(void **state)
{
    (void)state;
    uint8_t d[32], x[32], y[32], ux[32], uy[32];
    unhex(RFC_X, d, 32);
    unhex(RFC_UX, ux, 32);
    unhex(RFC_UY, uy, 32);
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    assert_memory_equal(x, ux, 32);
    assert_memory_equal(y, uy, 32);
}

static void test_rfc6979_a25_k_r_s_for_all_ten_vectors(void **state)
{
    (void)state;
    uint8_t d[32];
    unhex(RFC_X, d, 32);
    for (int i = 0; i < 10; i++) {
        uint8_t h[64], k[32], r[32], s[32], ek[32], er[32], es[32];
        digest_of(RFC6979[i].hash, RFC6979[i].msg, h);
        unhex(RFC6979[i].k, ek, 32);
        unhex(RFC6979[i].r, er, 32);
        unhex(RFC6979[i].s, es, 32);
        assert_int_equal(p256_rfc6979_first_k(d, h, (size_t)RFC6979[i].hash, NULL, 0, k), QPKI_OK);
        assert_memory_equal(k, ek, 32);
        assert_int_equal(p256_sign_digest_rs(d, h, (size_t)RFC6979[i].hash, NULL, 0, r, s),
                         QPKI_OK);
        assert_memory_equal(r, er, 32);
        assert_memory_equal(s, es, 32);
    }
}

static void test_rfc6979_a25_sha256_sample_der_is_exact(void **state)
{
    (void)state;
    uint8_t d[32], h[32], sig[P256_SIG_MAX_DER];
    unhex(RFC_X, d, 32);
    digest_of(32, "sample", h);
    size_t len = sizeof(sig);
    assert_int_equal(p256_sign_digest(d, h, 32, NULL, 0, sig, &len), QPKI_OK);
    /* r and s both have the top bit set: INTEGERs of 33 octets with a 0x00. */
    uint8_t want[72];
    unhex("3046022100"
          "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
          "022100"
          "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
          want, 72);
    assert_int_equal(len, 72);
    assert_memory_equal(sig, want, 72);
    /* too small a buffer */
    len = 71;
    assert_int_equal(p256_sign_digest(d, h, 32, NULL, 0, sig, &len), QPKI_ERR_BUFFER_TOO_SMALL);
}

/* ---- points --------------------------------------------------------------------------- */

static void test_small_multiples_and_n_minus_one_of_g(void **state)
{
    (void)state;
    uint8_t d[32] = {0}, x[32], y[32], want[32];
    d[31] = 1;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    unhex(GX_HEX, want, 32);
    assert_memory_equal(x, want, 32);
    unhex(GY_HEX, want, 32);
    assert_memory_equal(y, want, 32);
    /* 2G and 3G (SEC 2 / well-known values, also checked against python below) */
    d[31] = 2;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    unhex("7CF27B188D034F7E8A52380304B51AC3C08969E277F21B35A60B48FC47669978", want, 32);
    assert_memory_equal(x, want, 32);
    unhex("07775510DB8ED040293D9AC69F7430DBBA7DADE63CE982299E04B79D227873D1", want, 32);
    assert_memory_equal(y, want, 32);
    d[31] = 3;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    unhex("5ECBE4D1A6330A44C8F7EF951D4BF165E6C6B721EFADA985FB41661BC6E7FD6C", want, 32);
    assert_memory_equal(x, want, 32);
    unhex("8734640C4998FF7E374B06CE1A64A2ECD82AB036384FB83D9A79B127A27D5032", want, 32);
    assert_memory_equal(y, want, 32);
    /* (n-1)G = -G */
    unhex(N_HEX, d, 32);
    d[31] -= 1;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    unhex(GX_HEX, want, 32);
    assert_memory_equal(x, want, 32);
    unhex(NEG_GY_HEX, want, 32);
    assert_memory_equal(y, want, 32);
    /* 0 and n are not private keys */
    memset(d, 0, 32);
    assert_int_equal(p256_base_mult(d, x, y), QPKI_ERR_BAD_KEY);
    unhex(N_HEX, d, 32);
    assert_int_equal(p256_base_mult(d, x, y), QPKI_ERR_BAD_KEY);
    assert_int_equal(p256_table_bytes(), 51 * 16 * 64 + 64); /* 52,288 octets */
}

static void test_complete_addition_doubles_adds_and_reaches_infinity(void **state)
{
    (void)state;
    uint8_t gx[32], gy[32], ngy[32], x[32], y[32], d[32] = {0}, x2[32], y2[32], x3[32], y3[32];
    unhex(GX_HEX, gx, 32);
    unhex(GY_HEX, gy, 32);
    unhex(NEG_GY_HEX, ngy, 32);
    d[31] = 2;
    assert_int_equal(p256_base_mult(d, x2, y2), QPKI_OK);
    d[31] = 3;
    assert_int_equal(p256_base_mult(d, x3, y3), QPKI_OK);
    p256_point_add_affine(gx, gy, gx, gy, x, y); /* P = Q: the same formula doubles */
    assert_memory_equal(x, x2, 32);
    assert_memory_equal(y, y2, 32);
    p256_point_add_affine(gx, gy, x2, y2, x, y);
    assert_memory_equal(x, x3, 32);
    assert_memory_equal(y, y3, 32);
    /* G + (-G) = infinity: Z = 0, and 0^(p-2) = 0 gives the affine (0, 0) */
    static const uint8_t zero[32] = {0};
    p256_point_add_affine(gx, gy, gx, ngy, x, y);
    assert_memory_equal(x, zero, 32);
    assert_memory_equal(y, zero, 32);
}

/* d*G for 64 random d, against python3 `cryptography` (derive_private_key). */
static void test_random_multiples_of_g_match_python_cryptography(void **state)
{
    (void)state;
    enum { COUNT = 64 };
    static uint8_t ds[COUNT][32], xs[COUNT][32], ys[COUNT][32];
    FILE *f = fopen(tmp_path("scalars.txt"), "w");
    assert_non_null(f);
    for (int i = 0; i < COUNT; i++) {
        do {
            fill(ds[i], 32);
            if (i < 8)
                ds[i][0] = (uint8_t)(i * 2); /* small top limbs too; even and odd */
        } while (p256_base_mult(ds[i], xs[i], ys[i]) != QPKI_OK);
        char h[65];
        to_hex(ds[i], 32, h);
        fprintf(f, "%s\n", h);
    }
    fclose(f);
    char cmd[768];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c '\n"
             "import sys\n"
             "from cryptography.hazmat.primitives.asymmetric import ec\n"
             "for line in open(sys.argv[1]):\n"
             "    n = ec.derive_private_key(int(line, 16), ec.SECP256R1()).public_key().public_numbers()\n"
             "    print(\"%%064X %%064X\" %% (n.x, n.y))\n' %s",
             tmp_path("scalars.txt"));
    int st = -1;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(out);
    char *line = out;
    for (int i = 0; i < COUNT; i++) {
        char hx[65], hy[65], want[131];
        to_hex(xs[i], 32, hx);
        to_hex(ys[i], 32, hy);
        snprintf(want, sizeof(want), "%s %s\n", hx, hy);
        assert_true(strncmp(line, want, 130) == 0);
        line += 130;
    }
    assert_string_equal(line, "");
    free(out);
    unlink(tmp_path("scalars.txt"));
}

/* ---- inversion ----------------------------------------------------------------------------- */

/* p256_mod_inverse (the divsteps inversion behind k^-1 and Z^-1) against Python's
 * pow(a, -1, m), mod p and mod n: 1, 2, m-1, m-2, 2^255, powers of two, values with
 * long runs of ones or zeros, and random values. */
static void test_inverse_mod_p_and_n_matches_python(void **state)
{
    (void)state;
    enum { COUNT = 200 };
    static const char *const mods[2] = {
        "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"};
    static uint8_t in[2][COUNT][32], out[2][COUNT][32];
    FILE *f = fopen(tmp_path("inverses.txt"), "w");
    assert_non_null(f);
    for (int m = 0; m < 2; m++) {
        uint8_t mod[32];
        unhex(mods[m], mod, 32);
        for (int i = 0; i < COUNT; i++) {
            uint8_t *a = in[m][i];
            memset(a, 0, 32);
            if (i == 0) {
                a[31] = 1;
            } else if (i == 1) {
                a[31] = 2;
            } else if (i == 2 || i == 3) { /* m - 1, m - 2 */
                memcpy(a, mod, 32);
                a[31] = (uint8_t)(a[31] - (i - 1));
            } else if (i < 4 + 40) { /* 2^k for k = 0, 6, 12, ... , 234, then 2^255 */
                int k = i == 43 ? 255 : (i - 4) * 6;
                a[31 - k / 8] = (uint8_t)(1u << (k % 8));
            } else if (i < 4 + 40 + 20) { /* 0x7f, a run of zeros, then 0xff to the end */
                memset(a + (i % 31) + 1, 0xff, (size_t)(31 - (i % 31)));
                a[0] = 0x7f;
            } else {
                fill(a, 32);
                a[0] &= 0xfe; /* below both moduli */
            }
            assert_int_equal(p256_mod_inverse(a, m == 1, out[m][i]), QPKI_OK);
            char h[65];
            to_hex(a, 32, h);
            fprintf(f, "%d %s\n", m, h);
        }
    }
    fclose(f);
    char cmd[768];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c '\n"
             "import sys\n"
             "M = [int(\"%s\", 16), int(\"%s\", 16)]\n"
             "for line in open(sys.argv[1]):\n"
             "    m, a = line.split()\n"
             "    print(\"%%064X\" %% pow(int(a, 16), -1, M[int(m)]))\n' %s",
             mods[0], mods[1], tmp_path("inverses.txt"));
    int st = -1;
    char *res = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(res);
    char *line = res;
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < COUNT; i++) {
            char h[65];
            to_hex(out[m][i], 32, h);
            assert_true(strncmp(line, h, 64) == 0);
            assert_int_equal(line[64], '\n');
            line += 65;
        }
    assert_string_equal(line, "");
    free(res);
    unlink(tmp_path("inverses.txt"));
    /* 0 has no inverse: 0 by convention; the modulus itself is refused */
    uint8_t zero[32] = {0}, r[32], mod[32];
    assert_int_equal(p256_mod_inverse(zero, true, r), QPKI_OK);
    assert_memory_equal(r, zero, 32);
    unhex(mods[1], mod, 32);
    assert_int_equal(p256_mod_inverse(mod, true, r), QPKI_ERR_INVALID_ARG);
    printf("divsteps inversion: %d values mod p and mod n agree with Python\n", 2 * COUNT);
}

/* ---- digests, DER, extra data ------------------------------------------------------------ */

static int wolf_verify_digest(const uint8_t x[32], const uint8_t y[32], const uint8_t *h,
                              size_t hlen, const uint8_t *sig, size_t slen)
{
    ecc_key key;
    int res = 0;
    assert_int_equal(wc_ecc_init(&key), 0);
    assert_int_equal(wc_ecc_import_unsigned(&key, x, y, NULL, ECC_SECP256R1), 0);
    int ret = wc_ecc_verify_hash(sig, (word32)slen, h, (word32)hlen, &res, &key);
    wc_ecc_free(&key);
    return ret == 0 ? res : -1;
}

static void test_edge_digests_and_sha512_truncation_verify_with_wolfssl(void **state)
{
    (void)state;
    uint8_t d[32], x[32], y[32], h[64], sig[P256_SIG_MAX_DER];
    fill(d, 32);
    d[0] &= 0x7f;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    static const uint8_t fills[2] = {0x00, 0xff};
    static const size_t lens[5] = {20, 28, 32, 48, 64};
    for (int fi = 0; fi < 2; fi++) {
        for (int li = 0; li < 5; li++) {
            memset(h, fills[fi], sizeof(h));
            size_t slen = sizeof(sig);
            assert_int_equal(p256_sign_digest(d, h, lens[li], NULL, 0, sig, &slen), QPKI_OK);
            assert_int_equal(wolf_verify_digest(x, y, h, lens[li], sig, slen), 1);
        }
    }
    /* SEC 1 §4.1.3 step 5: a 64-octet digest counts by its leftmost 32 octets, so
     * the signature verifies against those alone and against the whole digest,
     * and signing the 32-octet prefix gives the same e (hence the same s for the
     * same k would follow; the k differs since HMAC uses the full digest). */
    fill(h, 64);
    size_t slen = sizeof(sig);
    assert_int_equal(p256_sign_digest(d, h, 64, NULL, 0, sig, &slen), QPKI_OK);
    assert_int_equal(wolf_verify_digest(x, y, h, 64, sig, slen), 1);
    assert_int_equal(wolf_verify_digest(x, y, h, 32, sig, slen), 1);
    h[40] ^= 0xff; /* beyond the leftmost 256 bits: still valid */
    assert_int_equal(wolf_verify_digest(x, y, h, 64, sig, slen), 1);
    h[3] ^= 0x01;  /* inside: invalid */
    assert_int_equal(wolf_verify_digest(x, y, h, 64, sig, slen), 0);
    /* bad arguments */
    slen = sizeof(sig);
    assert_int_equal(p256_sign_digest(d, h, 33, NULL, 0, sig, &slen), QPKI_ERR_INVALID_ARG);
    memset(d, 0, 32);
    assert_int_equal(p256_sign_digest(d, h, 32, NULL, 0, sig, &slen), QPKI_ERR_BAD_KEY);
    unhex(N_HEX, d, 32);
    assert_int_equal(p256_sign_digest(d, h, 32, NULL, 0, sig, &slen), QPKI_ERR_BAD_KEY);
}

/* Our DER equals wc_ecc_rs_raw_to_sig's for the same (r, s): 1000 signatures, so
 * r or s with a leading zero octet (1/256 each) and with the top bit set occur. */
static void test_der_is_byte_for_byte_what_wolfssl_writes(void **state)
{
    (void)state;
    uint8_t d[32], x[32], y[32];
    fill(d, 32);
    d[0] &= 0x7f;
    assert_int_equal(p256_base_mult(d, x, y), QPKI_OK);
    unsigned short_ints = 0;
    for (int i = 0; i < 1000; i++) {
        uint8_t h[32], r[32], s[32], sig[P256_SIG_MAX_DER], ref[P256_SIG_MAX_DER];
        fill(h, 32);
        size_t slen = sizeof(sig);
        word32 rlen = sizeof(ref);
        assert_int_equal(p256_sign_digest_rs(d, h, 32, NULL, 0, r, s), QPKI_OK);
        assert_int_equal(p256_sign_digest(d, h, 32, NULL, 0, sig, &slen), QPKI_OK);
        assert_int_equal(wc_ecc_rs_raw_to_sig(r, 32, s, 32, ref, &rlen), 0);
        assert_int_equal(slen, rlen);
        assert_memory_equal(sig, ref, slen);
        if (r[0] == 0 || s[0] == 0)
            short_ints++;
        if (i < 100)
            assert_int_equal(wolf_verify_digest(x, y, h, 32, sig, slen), 1);
    }
    assert_true(short_ints > 0);
}

static void test_extra_data_changes_k_and_none_is_deterministic(void **state)
{
    (void)state;
    uint8_t d[32], h[32], k0[32], k1[32], k2[32], e1[32], e2[32];
    unhex(RFC_X, d, 32);
    digest_of(32, "sample", h);
    memset(e1, 0x11, 32);
    memcpy(e2, e1, 32);
    e2[31] ^= 1;
    assert_int_equal(p256_rfc6979_first_k(d, h, 32, NULL, 0, k0), QPKI_OK);
    assert_int_equal(p256_rfc6979_first_k(d, h, 32, e1, 32, k1), QPKI_OK);
    assert_int_equal(p256_rfc6979_first_k(d, h, 32, e2, 32, k2), QPKI_OK);
    assert_memory_not_equal(k0, k1, 32);
    assert_memory_not_equal(k1, k2, 32);
    uint8_t again[32];
    assert_int_equal(p256_rfc6979_first_k(d, h, 32, e1, 32, again), QPKI_OK);
    assert_memory_equal(k1, again, 32);
}

#endif /* QPKI_P256_BUILTIN */

/* The build this program is: the library's own arithmetic, or (test_p256_portable,
 * tests/meson.build) the portable C compiled in its place, so that every test
 * above runs on both. */
static void test_the_expected_arithmetic_is_under_test(void **state)
{
    (void)state;
#if defined(QPKI_P256_TEST_PORTABLE) || !defined(__x86_64__)
    assert_string_equal(p256_arithmetic(), "portable");
#else
    assert_string_equal(p256_arithmetic(), "x86-64");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_keys_sign_and_wolfssl_verifies_every_signature),
        cmocka_unit_test(test_tampered_signature_is_rejected_by_wolfssl),
        cmocka_unit_test(test_private_keys_one_and_n_minus_one_sign_verifiable_signatures),
        cmocka_unit_test(test_two_signatures_of_one_message_differ_because_k_is_hedged),
        cmocka_unit_test(test_python_cryptography_verifies_200_signatures),
#if QPKI_P256_BUILTIN
        cmocka_unit_test(test_the_expected_arithmetic_is_under_test),
        cmocka_unit_test(test_rfc6979_a25_public_key_is_x_times_g),
        cmocka_unit_test(test_rfc6979_a25_k_r_s_for_all_ten_vectors),
        cmocka_unit_test(test_rfc6979_a25_sha256_sample_der_is_exact),
        cmocka_unit_test(test_small_multiples_and_n_minus_one_of_g),
        cmocka_unit_test(test_complete_addition_doubles_adds_and_reaches_infinity),
        cmocka_unit_test(test_random_multiples_of_g_match_python_cryptography),
        cmocka_unit_test(test_inverse_mod_p_and_n_matches_python),
        cmocka_unit_test(test_edge_digests_and_sha512_truncation_verify_with_wolfssl),
        cmocka_unit_test(test_der_is_byte_for_byte_what_wolfssl_writes),
        cmocka_unit_test(test_extra_data_changes_k_and_none_is_deterministic),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
