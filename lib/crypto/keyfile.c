/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/keyfile.c - private key files: PEM/DER, PKCS#8 (RFC 5958), encrypted
 * PKCS#8 (PBES2, RFC 8018), SEC1 (RFC 5915), PKCS#1 (RFC 8017), RFC 8410 EdDSA.
 *
 * Every structure is read with the bounded DER reader; wolfCrypt only receives
 * raw numbers.  Plaintext key bytes live in buffers that are wiped before they
 * are freed; DER writers that carry secrets never reallocate (secret_buf). */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"
#include "mldsa/mldsa.h"
#include "../der/oid.h"
#include "../der/pem.h"

/* ---- buffers for secrets ----------------------------------------------------------- */

qpki_status crypto_secret_buf_init(der_buf *b, size_t cap)
{
    der_buf_init(b, cap);
    b->p = qpki_malloc(cap);
    QPKI_ENSURE(b->p, QPKI_ERR_NOMEM);
    b->cap = cap;
    return QPKI_OK;
}

void crypto_secret_buf_wipe(der_buf *b)
{
    qpki_free_secret(b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Finish a secret_buf: hands out the bytes or wipes them on a sticky error. */
static qpki_status secret_buf_finish(der_buf *b, uint8_t **out, size_t *out_len)
{
    if (b->err != QPKI_OK || b->open != 0) {
        qpki_status rc = b->err != QPKI_OK ? b->err : QPKI_ERR_INTERNAL;
        crypto_secret_buf_wipe(b);
        return rc;
    }
    return der_buf_finish(b, out, out_len);
}

/* ---- key formats ------------------------------------------------------------------- */

/* RFC 5915 §3:
 *   ECPrivateKey ::= SEQUENCE {
 *     version        INTEGER { ecPrivkeyVer1(1) } (ecPrivkeyVer1),
 *     privateKey     OCTET STRING,
 *     parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
 *     publicKey  [1] BIT STRING OPTIONAL }
 * curve is the curve named by the PKCS#8 AlgorithmIdentifier (or UNKNOWN). */
static qpki_status load_sec1(const uint8_t *der, size_t n, qpki_key_alg curve,
                             qpki_detail *detail, crypto_privkey **out)
{
    /* Structural failures are described with byte offsets (in this
     * ECPrivateKey), never with a byte of it (der_diag.secret). */
    der_diag diag = {der, n, detail, true};
    der_cursor c = der_cursor_init_diag(der, n, &diag), seq, field;
    der_view d, pub = {0};
    uint64_t version = 0;
    bool present;
    DER_FIELD(&c, "ECPrivateKey", der_read_tlv(&c, DER_SEQUENCE, &seq));
    DER_FIELD(&c, "ECPrivateKey", der_expect_end(&c));
    der_cursor at = seq;
    DER_FIELD(&c, "ECPrivateKey: version", der_read_uint64(&seq, &version));
    if (version != 1)
        return der_fail(&at, QPKI_ERR_BAD_VERSION, "ECPrivateKey: version %llu (ecPrivkeyVer1 "
                        "= 1)", (unsigned long long)version);
    DER_FIELD(&c, "ECPrivateKey: privateKey", der_read_octet_string(&seq, &d));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &field, &present));
    if (present) {
        /* "parameters ... namedCurve" - specified curves are not supported. */
        der_view oid;
        QPKI_ENSURE(der_next_is(&field, DER_OID), QPKI_ERR_UNSUPPORTED_ALGORITHM);
        QPKI_GUARD(der_read_oid(&field, &oid));
        QPKI_GUARD(der_expect_end(&field));
        qpki_key_alg named = qpki_ec_curve_alg(oid.p, oid.n);
        QPKI_ENSURE(named != QPKI_KEY_UNKNOWN, QPKI_ERR_UNSUPPORTED_ALGORITHM);
        /* RFC 5915 §3: with PKCS#8 the parameters "MUST" match, if present. */
        QPKI_ENSURE(curve == QPKI_KEY_UNKNOWN || curve == named, QPKI_ERR_BAD_KEY);
        curve = named;
    }
    QPKI_ENSURE(curve != QPKI_KEY_UNKNOWN, QPKI_ERR_BAD_KEY);
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(1), &field, &present));
    if (present) {
        unsigned unused = 0;
        DER_FIELD(&c, "ECPrivateKey: publicKey", der_read_bit_string(&field, &pub, &unused));
        DER_FIELD(&c, "ECPrivateKey: publicKey", der_expect_end(&field));
        QPKI_ENSURE(unused == 0, QPKI_ERR_BAD_KEY);
    }
    DER_FIELD(&c, "ECPrivateKey", der_expect_end(&seq));

    /* "privateKey is the private key.  It is an octet string of length
     * ceiling (log2(n)/8)" - some writers drop leading zeros; pad them back. */
    size_t size = crypto_ec_size(curve);
    QPKI_ENSURE(d.n > 0 && d.n <= size, QPKI_ERR_BAD_KEY);
    uint8_t scalar[CRYPTO_EC_MAX_BYTES];
    memset(scalar, 0, size - d.n);
    memcpy(scalar + (size - d.n), d.p, d.n);
    crypto_key_parts parts = {.alg = curve, .secret = scalar, .secret_len = size,
                              .detail = detail};
    if (pub.p) {
        /* The public key is recomputed from d and must be this point
         * (uncompressed, or compressed: X and the parity of Y). */
        parts.pub = pub.p;
        parts.pub_len = pub.n;
    }
    qpki_status rc = crypto_privkey_from_parts(&parts, out);
    qpki_wipe(scalar, sizeof(scalar));
    return rc;
}

static qpki_status load_pkcs1(const uint8_t *der, size_t n, qpki_detail *detail,
                              crypto_privkey **out)
{
    crypto_key_parts parts = {.alg = QPKI_KEY_RSA, .secret = der, .secret_len = n,
                              .detail = detail};
    return crypto_privkey_from_parts(&parts, out);
}

/* RFC 8410 §7: CurvePrivateKey ::= OCTET STRING (the 32- or 57-octet seed). */
static qpki_status load_eddsa(qpki_key_alg alg, der_view inner, der_view pub,
                              qpki_detail *detail, crypto_privkey **out)
{
    der_cursor c = der_cursor_init(inner.p, inner.n);
    der_view seed;
    QPKI_GUARD(der_read_octet_string(&c, &seed));
    QPKI_GUARD(der_expect_end(&c));
    size_t want = alg == QPKI_KEY_ED25519 ? ED25519_KEY_SIZE : ED448_KEY_SIZE;
    QPKI_ENSURE(seed.n == want, QPKI_ERR_BAD_KEY);
    crypto_key_parts parts = {.alg = alg, .secret = seed.p, .secret_len = seed.n,
                              .pub = pub.p, .pub_len = pub.n, .detail = detail};
    return crypto_privkey_from_parts(&parts, out);
}

static qpki_key_alg mldsa_alg_from_oid(der_view oid)
{
    if (der_oid_eq(oid, OID_ML_DSA_44))
        return QPKI_KEY_ML_DSA_44;
    if (der_oid_eq(oid, OID_ML_DSA_65))
        return QPKI_KEY_ML_DSA_65;
    if (der_oid_eq(oid, OID_ML_DSA_87))
        return QPKI_KEY_ML_DSA_87;
    return QPKI_KEY_UNKNOWN;
}

/* RFC 9881 §6:
 *   ML-DSA-44-PrivateKey ::= CHOICE {
 *     seed [0] OCTET STRING (SIZE (32)),
 *     expandedKey OCTET STRING (SIZE (2560)),
 *     both SEQUENCE {
 *       seed OCTET STRING (SIZE (32)),
 *       expandedKey OCTET STRING (SIZE (2560)) } }
 * (2560 / 4032 / 4896 octets for ML-DSA-44 / -65 / -87; the module uses
 * IMPLICIT tags, so seed is [0] primitive). */
static qpki_status load_mldsa(qpki_key_alg alg, der_view inner, der_view pub,
                              qpki_detail *detail, crypto_privkey **out)
{
    size_t sk_len = mldsa_sk_bytes((mldsa_level)crypto_mldsa_level(alg));
    der_cursor c = der_cursor_init(inner.p, inner.n), field, both;
    der_view seed = {0}, expanded = {0};
    uint8_t tag = 0;
    QPKI_GUARD(der_peek_tag(&c, &tag));
    if (tag == DER_CTX(0)) {
        QPKI_GUARD(der_read_tlv(&c, DER_CTX(0), &field));
        seed = der_cursor_view(&field);
    } else if (tag == DER_OCTET_STRING) {
        QPKI_GUARD(der_read_octet_string(&c, &expanded));
    } else if (tag == DER_SEQUENCE) {
        QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &both));
        QPKI_GUARD(der_read_octet_string(&both, &seed));
        QPKI_GUARD(der_read_octet_string(&both, &expanded));
        QPKI_GUARD(der_expect_end(&both));
    } else {
        return QPKI_ERR_BAD_KEY;
    }
    QPKI_GUARD(der_expect_end(&c));
    bool has_seed = tag != DER_OCTET_STRING, has_expanded = tag != DER_CTX(0);
    QPKI_ENSURE(!has_seed || seed.n == MLDSA_SEED_BYTES, QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(!has_expanded || expanded.n == sk_len, QPKI_ERR_BAD_KEY);
    crypto_key_parts parts = {.alg = alg, .secret = expanded.p, .secret_len = expanded.n,
                              .seed = seed.p, .pub = pub.p, .pub_len = pub.n,
                              .detail = detail};
    return crypto_privkey_from_parts(&parts, out);
}

/* QPKI's "ML-DSA-65 PRIVATE KEY" PEM: the raw FIPS 204 private key (skEncode
 * output); a 32-octet body is taken as the seed. */
static qpki_status load_mldsa_raw(qpki_key_alg alg, const uint8_t *raw, size_t n,
                                  qpki_detail *detail, crypto_privkey **out)
{
    size_t sk_len = mldsa_sk_bytes((mldsa_level)crypto_mldsa_level(alg));
    crypto_key_parts parts = {.alg = alg, .detail = detail};
    if (n == MLDSA_SEED_BYTES)
        parts.seed = raw;
    else if (n == sk_len) {
        parts.secret = raw;
        parts.secret_len = n;
    } else
        return QPKI_ERR_BAD_KEY;
    return crypto_privkey_from_parts(&parts, out);
}

/* RFC 5958 §2:
 *   OneAsymmetricKey ::= SEQUENCE {
 *     version                   Version,
 *     privateKeyAlgorithm       PrivateKeyAlgorithmIdentifier,
 *     privateKey                PrivateKey,
 *     attributes            [0] Attributes OPTIONAL,
 *     ...,
 *     [[2: publicKey        [1] PublicKey OPTIONAL ]],
 *     ... }
 * "version is the syntax version number.  If publicKey is present, then version
 * is set to v2 [1] else version is set to v1 [0]." */
static qpki_status load_pkcs8(const uint8_t *der, size_t n, qpki_detail *detail,
                              crypto_privkey **out)
{
    /* Structural failures are described with byte offsets, never with a byte of
     * the key (der_diag.secret). */
    der_diag diag = {der, n, detail, true};
    der_cursor c = der_cursor_init_diag(der, n, &diag), seq, algid, field;
    der_view oid, inner, pub = {0};
    uint64_t version = 0;
    bool present;
    DER_FIELD(&c, "PrivateKeyInfo", der_read_tlv(&c, DER_SEQUENCE, &seq));
    DER_FIELD(&c, "PrivateKeyInfo", der_expect_end(&c));
    der_cursor at = seq;
    DER_FIELD(&c, "PrivateKeyInfo: version", der_read_uint64(&seq, &version));
    if (version > 1)
        return der_fail(&at, QPKI_ERR_BAD_VERSION, "PrivateKeyInfo: version %llu (v1 = 0, "
                        "v2 = 1)", (unsigned long long)version);
    DER_FIELD(&c, "PrivateKeyInfo: privateKeyAlgorithm",
              der_read_tlv(&seq, DER_SEQUENCE, &algid));
    DER_FIELD(&c, "PrivateKeyInfo: privateKeyAlgorithm", der_read_oid(&algid, &oid));
    DER_FIELD(&c, "PrivateKeyInfo: privateKey", der_read_octet_string(&seq, &inner));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &field, &present));
    at = seq;
    QPKI_GUARD(der_read_optional(&seq, DER_CTX(1), &field, &present));
    if (present) {
        /* [1] IMPLICIT BIT STRING: an unused-bits octet, then the key. */
        if (version != 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "PrivateKeyInfo: publicKey in a v1 "
                            "key (RFC 5958: v2 = 1)");
        QPKI_ENSURE(field.left >= 1 && field.p[0] == 0, QPKI_ERR_BAD_KEY);
        pub = (der_view){field.p + 1, field.left - 1};
    }
    DER_FIELD(&c, "PrivateKeyInfo", der_expect_end(&seq));

    if (der_oid_eq(oid, OID_EC_PUBLIC_KEY)) {
        der_view curve_oid;
        QPKI_ENSURE(der_next_is(&algid, DER_OID), QPKI_ERR_UNSUPPORTED_ALGORITHM);
        QPKI_GUARD(der_read_oid(&algid, &curve_oid));
        QPKI_GUARD(der_expect_end(&algid));
        qpki_key_alg curve = qpki_ec_curve_alg(curve_oid.p, curve_oid.n);
        QPKI_ENSURE(curve != QPKI_KEY_UNKNOWN, QPKI_ERR_UNSUPPORTED_ALGORITHM);
        return load_sec1(inner.p, inner.n, curve, detail, out);
    }
    if (der_oid_eq(oid, OID_RSA_ENCRYPTION)) {
        if (!der_at_end(&algid))
            QPKI_GUARD(der_read_null(&algid));
        QPKI_GUARD(der_expect_end(&algid));
        return load_pkcs1(inner.p, inner.n, detail, out);
    }
    if (der_oid_eq(oid, OID_ED25519) || der_oid_eq(oid, OID_ED448)) {
        /* RFC 8410 §3: "the parameters MUST be absent". */
        QPKI_ENSURE(der_at_end(&algid), QPKI_ERR_BAD_KEY);
        return load_eddsa(der_oid_eq(oid, OID_ED25519) ? QPKI_KEY_ED25519 : QPKI_KEY_ED448,
                          inner, pub, detail, out);
    }
    qpki_key_alg mldsa = mldsa_alg_from_oid(oid);
    if (mldsa != QPKI_KEY_UNKNOWN) {
        /* RFC 9881 §2: "The contents of the parameters component ... MUST be
         * absent." */
        QPKI_ENSURE(der_at_end(&algid), QPKI_ERR_BAD_KEY);
        return load_mldsa(mldsa, inner, pub, detail, out);
    }
    return QPKI_ERR_UNSUPPORTED_ALGORITHM;
}

/* ---- PBES2 ------------------------------------------------------------------------- */

struct pbes2 {
    der_view salt;
    uint64_t iterations;
    uint64_t key_length;  /* 0 when absent */
    qpki_hash_alg prf;
    size_t aes_key_len;
    der_view iv;
};

/* RFC 8018 Appendix A.2:
 *   PBKDF2-params ::= SEQUENCE {
 *     salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
 *     iterationCount INTEGER (1..MAX),
 *     keyLength INTEGER (1..MAX) OPTIONAL,
 *     prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
 * Appendix A.4:
 *   PBES2-params ::= SEQUENCE {
 *     keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
 *     encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
 * Appendix B.2.5: aes*-CBC-Pad parameters are "AES-IV ::= OCTET STRING (SIZE(16))". */
static qpki_status parse_pbes2(der_cursor *params, struct pbes2 *p)
{
    der_cursor seq, kdf, kdf_params, enc;
    der_view oid;
    QPKI_GUARD(der_read_tlv(params, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(params));
    QPKI_GUARD(der_read_tlv(&seq, DER_SEQUENCE, &kdf));
    QPKI_GUARD(der_read_tlv(&seq, DER_SEQUENCE, &enc));
    QPKI_GUARD(der_expect_end(&seq));

    QPKI_GUARD(der_read_oid(&kdf, &oid));
    QPKI_ENSURE(der_oid_eq(oid, OID_PBKDF2), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_GUARD(der_read_tlv(&kdf, DER_SEQUENCE, &kdf_params));
    QPKI_GUARD(der_expect_end(&kdf));
    QPKI_ENSURE(der_next_is(&kdf_params, DER_OCTET_STRING), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_GUARD(der_read_octet_string(&kdf_params, &p->salt));
    QPKI_GUARD(der_read_uint64(&kdf_params, &p->iterations));
    QPKI_ENSURE(p->iterations >= 1, QPKI_ERR_DECODE);
    QPKI_ENSURE(p->iterations <= CRYPTO_PBKDF2_MAX_ITERATIONS, QPKI_ERR_LIMIT);
    p->key_length = 0;
    if (der_next_is(&kdf_params, DER_INTEGER))
        QPKI_GUARD(der_read_uint64(&kdf_params, &p->key_length));
    p->prf = QPKI_HASH_SHA1;
    if (!der_at_end(&kdf_params)) {
        der_cursor prf;
        QPKI_GUARD(der_read_tlv(&kdf_params, DER_SEQUENCE, &prf));
        QPKI_GUARD(der_read_oid(&prf, &oid));
        if (!der_at_end(&prf))
            QPKI_GUARD(der_read_null(&prf));
        QPKI_GUARD(der_expect_end(&prf));
        if (der_oid_eq(oid, OID_HMAC_SHA1))
            p->prf = QPKI_HASH_SHA1;
        else if (der_oid_eq(oid, OID_HMAC_SHA256))
            p->prf = QPKI_HASH_SHA256;
        else if (der_oid_eq(oid, OID_HMAC_SHA384))
            p->prf = QPKI_HASH_SHA384;
        else if (der_oid_eq(oid, OID_HMAC_SHA512))
            p->prf = QPKI_HASH_SHA512;
        else
            return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    QPKI_GUARD(der_expect_end(&kdf_params));

    QPKI_GUARD(der_read_oid(&enc, &oid));
    if (der_oid_eq(oid, OID_AES128_CBC))
        p->aes_key_len = 16;
    else if (der_oid_eq(oid, OID_AES192_CBC))
        p->aes_key_len = 24;
    else if (der_oid_eq(oid, OID_AES256_CBC))
        p->aes_key_len = 32;
    else
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    QPKI_GUARD(der_read_octet_string(&enc, &p->iv));
    QPKI_GUARD(der_expect_end(&enc));
    QPKI_ENSURE(p->iv.n == AES_BLOCK_SIZE, QPKI_ERR_DECODE);
    QPKI_ENSURE(p->key_length == 0 || p->key_length == p->aes_key_len, QPKI_ERR_DECODE);
    QPKI_ENSURE(p->salt.n > 0 && p->salt.n <= 1024, QPKI_ERR_DECODE);
    return QPKI_OK;
}

static qpki_status pbkdf2(const char *passphrase, const struct pbes2 *p, uint8_t *key)
{
    size_t plen = strlen(passphrase);
    QPKI_ENSURE(plen <= INT32_MAX, QPKI_ERR_INVALID_ARG);
    /* RFC 8018 §5.2 PBKDF2 (P, S, c, dkLen) with the PRF from the parameters. */
    int ret = wc_PBKDF2(key, (const byte *)passphrase, (int)plen, p->salt.p, (int)p->salt.n,
                        (int)p->iterations, (int)p->aes_key_len, crypto_wc_hash_type(p->prf));
    return ret == 0 ? QPKI_OK : crypto_wolf_status(ret);
}

static qpki_status aes_cbc(bool decrypt, const uint8_t *key, size_t key_len,
                           const uint8_t *iv, const uint8_t *in, size_t n, uint8_t *out)
{
    Aes aes;
    int ret = wc_AesInit(&aes, NULL, INVALID_DEVID);
    if (ret == 0)
        ret = wc_AesSetKey(&aes, key, (word32)key_len, iv,
                           decrypt ? AES_DECRYPTION : AES_ENCRYPTION);
    if (ret == 0)
        ret = decrypt ? wc_AesCbcDecrypt(&aes, out, in, (word32)n)
                      : wc_AesCbcEncrypt(&aes, out, in, (word32)n);
    wc_AesFree(&aes);
    qpki_wipe(&aes, sizeof(aes));
    return ret == 0 ? QPKI_OK : crypto_wolf_status(ret);
}

/* RFC 5958 §3:
 *   EncryptedPrivateKeyInfo ::= SEQUENCE {
 *     encryptionAlgorithm  EncryptionAlgorithmIdentifier,
 *     encryptedData        EncryptedData }
 * with PBES2 (RFC 8018 §6.2.2 decryption: derive K, decrypt C under K with the
 * IV, "separate the result into a message M and padding PS ... If the padding is
 * wrong, output "decryption error""). */
static qpki_status load_encrypted(const uint8_t *der, size_t n, const char *passphrase,
                                  qpki_detail *detail, crypto_privkey **out)
{
    der_cursor c = der_cursor_init(der, n), seq, algid;
    der_view oid, data;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_tlv(&seq, DER_SEQUENCE, &algid));
    QPKI_GUARD(der_read_octet_string(&seq, &data));
    QPKI_GUARD(der_expect_end(&seq));
    QPKI_GUARD(der_read_oid(&algid, &oid));
    QPKI_ENSURE(der_oid_eq(oid, OID_PBES2), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    struct pbes2 p;
    QPKI_GUARD(parse_pbes2(&algid, &p));
    QPKI_ENSURE(passphrase, QPKI_ERR_PASSPHRASE_REQUIRED);
    QPKI_ENSURE(data.n > 0 && data.n % AES_BLOCK_SIZE == 0 && data.n <= UINT32_MAX,
                QPKI_ERR_DECODE);

    uint8_t key[32];
    uint8_t *plain = qpki_malloc(data.n);
    QPKI_ENSURE(plain, QPKI_ERR_NOMEM);
    qpki_status rc = pbkdf2(passphrase, &p, key);
    if (rc == QPKI_OK)
        rc = aes_cbc(true, key, p.aes_key_len, p.iv.p, data.p, data.n, plain);
    qpki_wipe(key, sizeof(key));
    if (rc != QPKI_OK)
        goto out;
    /* RFC 8018 §6.1.1 step 4 padding: PS is 1..8 (here 1..16) octets each equal to
     * its length.  Checked without an early exit. */
    uint8_t pad = plain[data.n - 1];
    uint8_t bad = (uint8_t)((pad == 0) | (pad > AES_BLOCK_SIZE));
    for (size_t i = 0; i < AES_BLOCK_SIZE; i++) {
        uint8_t in_pad = (uint8_t)(i < pad);
        bad |= (uint8_t)(in_pad & (plain[data.n - 1 - i] != pad));
    }
    if (bad) {
        rc = QPKI_ERR_BAD_PASSPHRASE;
        goto out;
    }
    size_t plain_len = data.n - pad;
    /* A wrong passphrase that happens to leave valid padding still yields bytes
     * that are not one DER SEQUENCE. */
    der_cursor pc = der_cursor_init(plain, plain_len), inner;
    if (der_read_tlv(&pc, DER_SEQUENCE, &inner) != QPKI_OK || !der_at_end(&pc)) {
        rc = QPKI_ERR_BAD_PASSPHRASE;
        goto out;
    }
    rc = load_pkcs8(plain, plain_len, detail, out);
out:
    qpki_free_secret(plain, data.n);
    return rc;
}

/* ---- detection ----------------------------------------------------------------- */

/* A DER key without a PEM label: tell the formats apart by their first fields. */
static qpki_status load_der(const uint8_t *der, size_t n, const char *passphrase,
                            qpki_detail *detail, crypto_privkey **out)
{
    der_diag diag = {der, n, detail, true};
    der_cursor c = der_cursor_init_diag(der, n, &diag), seq;
    DER_FIELD(&c, "private key", der_read_tlv(&c, DER_SEQUENCE, &seq));
    uint8_t first = 0, second = 0;
    DER_FIELD(&c, "private key", der_peek_tag(&seq, &first));
    if (first == DER_SEQUENCE)
        return load_encrypted(der, n, passphrase, detail, out); /* { AlgId, OCTET STRING } */
    if (first != DER_INTEGER)
        return der_fail(&seq, QPKI_ERR_BAD_KEY, "private key: neither PKCS#8, SEC1 nor PKCS#1 "
                        "(no version INTEGER)");
    DER_FIELD(&c, "private key", der_skip(&seq));
    DER_FIELD(&c, "private key", der_peek_tag(&seq, &second));
    if (second == DER_SEQUENCE)
        return load_pkcs8(der, n, detail, out);          /* { version, AlgId, ... } */
    if (second == DER_OCTET_STRING)
        return load_sec1(der, n, QPKI_KEY_UNKNOWN, detail, out); /* { 1, d, ... } */
    if (second == DER_INTEGER)
        return load_pkcs1(der, n, detail, out);          /* { 0, n, e, ... } */
    return der_fail(&seq, QPKI_ERR_BAD_KEY, "private key: neither PKCS#8, SEC1 nor PKCS#1 "
                    "(the field after the version)");
}

static qpki_status load_pem_block(const char *label, const uint8_t *der, size_t n,
                                  const char *passphrase, qpki_detail *detail,
                                  crypto_privkey **out)
{
    /* RFC 7468 §10 "PRIVATE KEY", §11 "ENCRYPTED PRIVATE KEY"; SEC1 and PKCS#1
     * keys as OpenSSL writes them ("EC PRIVATE KEY", "RSA PRIVATE KEY"). */
    if (!strcmp(label, "PRIVATE KEY"))
        return load_pkcs8(der, n, detail, out);
    if (!strcmp(label, "ENCRYPTED PRIVATE KEY"))
        return load_encrypted(der, n, passphrase, detail, out);
    if (!strcmp(label, "EC PRIVATE KEY"))
        return load_sec1(der, n, QPKI_KEY_UNKNOWN, detail, out);
    if (!strcmp(label, "RSA PRIVATE KEY"))
        return load_pkcs1(der, n, detail, out);
    if (!strcmp(label, "ML-DSA-44 PRIVATE KEY"))
        return load_mldsa_raw(QPKI_KEY_ML_DSA_44, der, n, detail, out);
    if (!strcmp(label, "ML-DSA-65 PRIVATE KEY"))
        return load_mldsa_raw(QPKI_KEY_ML_DSA_65, der, n, detail, out);
    if (!strcmp(label, "ML-DSA-87 PRIVATE KEY"))
        return load_mldsa_raw(QPKI_KEY_ML_DSA_87, der, n, detail, out);
    return QPKI_ERR_NOT_FOUND;
}

qpki_status crypto_privkey_load(const uint8_t *data, size_t len, const char *passphrase,
                                crypto_privkey **out)
{
    return crypto_privkey_load_detail(data, len, passphrase, NULL, out);
}

qpki_status crypto_privkey_load_detail(const uint8_t *data, size_t len, const char *passphrase,
                                       qpki_detail *detail, crypto_privkey **out)
{
    QPKI_ENSURE(data && len && out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(len <= CRYPTO_MAX_KEY_FILE, QPKI_ERR_TOO_LARGE);
    if (!pem_detect(data, len))
        return load_der(data, len, passphrase, detail, out);
    size_t offset = 0;
    for (;;) {
        char label[80];
        uint8_t *der = NULL;
        size_t der_len = 0;
        qpki_status rc = pem_next(data, len, &offset, label, sizeof(label), &der, &der_len);
        if (rc == QPKI_ERR_NOT_FOUND)
            return QPKI_ERR_BAD_PEM;  /* no private key block in the text */
        if (rc != QPKI_OK)
            return rc;                /* incl. legacy "Proc-Type:" encryption */
        rc = load_pem_block(label, der, der_len, passphrase, detail, out);
        qpki_free_secret(der, der_len);
        if (rc != QPKI_ERR_NOT_FOUND)
            return rc;
        /* Another block ("EC PARAMETERS", a certificate): keep looking. */
    }
}

/* ---- export -------------------------------------------------------------------- */

static void put_algid(der_buf *b, qpki_key_alg alg)
{
    size_t m = der_begin(b, DER_SEQUENCE);
    switch (alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        der_put_oid(b, OID_EC_PUBLIC_KEY);
        der_put_oid(b, crypto_ec_curve_oid(alg));
        break;
    case QPKI_KEY_RSA:
        der_put_oid(b, OID_RSA_ENCRYPTION);
        der_put_null(b);
        break;
    case QPKI_KEY_ED25519: der_put_oid(b, OID_ED25519); break;
    case QPKI_KEY_ED448: der_put_oid(b, OID_ED448); break;
    case QPKI_KEY_ML_DSA_44: der_put_oid(b, OID_ML_DSA_44); break;
    case QPKI_KEY_ML_DSA_65: der_put_oid(b, OID_ML_DSA_65); break;
    case QPKI_KEY_ML_DSA_87: der_put_oid(b, OID_ML_DSA_87); break;
    default: b->err = QPKI_ERR_UNSUPPORTED_ALGORITHM; break;
    }
    der_end(b, m);
}

/* PKCS#8 PrivateKeyInfo (version v1) of key. */
static qpki_status pkcs8_encode(const crypto_privkey *key, uint8_t **out, size_t *out_len)
{
    der_buf b;
    QPKI_GUARD(crypto_secret_buf_init(&b, 2 * key->secret_len + key->pub_len + 128));
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_uint64(&b, 0);
    put_algid(&b, key->alg);
    size_t inner = der_begin(&b, DER_OCTET_STRING);
    switch (key->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521: {
        /* RFC 5915 ECPrivateKey; the curve is in the PKCS#8 AlgorithmIdentifier,
         * the public key is included (as OpenSSL does). */
        size_t ec = der_begin(&b, DER_SEQUENCE);
        der_put_uint64(&b, 1);
        der_put_octet_string(&b, key->secret, key->secret_len);
        size_t pub = der_begin(&b, DER_CTX_CONS(1));
        der_put_bit_string(&b, key->pub, key->pub_len, 0);
        der_end(&b, pub);
        der_end(&b, ec);
        break;
    }
    case QPKI_KEY_RSA: der_put_bytes(&b, key->secret, key->secret_len); break;
    case QPKI_KEY_ED25519:
    case QPKI_KEY_ED448:
        /* RFC 8410 §7: CurvePrivateKey ::= OCTET STRING */
        der_put_octet_string(&b, key->secret, key->secret_len);
        break;
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87:
        /* RFC 9881 §6: the seed form when we have the seed ("the seed format is
         * RECOMMENDED"), else the expandedKey form. */
        if (key->has_seed)
            der_put_tlv(&b, DER_CTX(0), key->seed, sizeof(key->seed));
        else
            der_put_octet_string(&b, key->secret, key->secret_len);
        break;
    default: b.err = QPKI_ERR_UNSUPPORTED_ALGORITHM; break;
    }
    der_end(&b, inner);
    der_end(&b, seq);
    return secret_buf_finish(&b, out, out_len);
}

/* EncryptedPrivateKeyInfo with PBES2: PBKDF2-HMAC-SHA256 (16-octet salt) and
 * AES-256-CBC, as OpenSSL 3 writes by default. */
static qpki_status pkcs8_encrypt(const uint8_t *plain, size_t n, const char *passphrase,
                                 uint32_t iterations, uint8_t **out, size_t *out_len)
{
    uint8_t salt[16], iv[AES_BLOCK_SIZE], key[32];
    QPKI_GUARD(crypto_random(salt, sizeof(salt)));
    QPKI_GUARD(crypto_random(iv, sizeof(iv)));
    struct pbes2 p = {.salt = {salt, sizeof(salt)}, .iterations = iterations,
                      .prf = QPKI_HASH_SHA256, .aes_key_len = 32, .iv = {iv, sizeof(iv)}};
    /* RFC 8018 §6.1.1 step 4: pad with 1..16 octets each of value of the count. */
    size_t padded = (n / AES_BLOCK_SIZE + 1) * AES_BLOCK_SIZE;
    QPKI_ENSURE(padded <= UINT32_MAX, QPKI_ERR_TOO_LARGE);
    uint8_t *buf = qpki_malloc(padded), *ct = qpki_malloc(padded);
    qpki_status rc = QPKI_OK;
    if (!buf || !ct) {
        rc = QPKI_ERR_NOMEM;
        goto out;
    }
    memcpy(buf, plain, n);
    memset(buf + n, (int)(padded - n), padded - n);
    rc = pbkdf2(passphrase, &p, key);
    if (rc == QPKI_OK)
        rc = aes_cbc(false, key, sizeof(key), iv, buf, padded, ct);
    if (rc != QPKI_OK)
        goto out;

    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    size_t algid = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_PBES2);
    size_t params = der_begin(&b, DER_SEQUENCE);
    size_t kdf = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_PBKDF2);
    size_t kdf_params = der_begin(&b, DER_SEQUENCE);
    der_put_octet_string(&b, salt, sizeof(salt));
    der_put_uint64(&b, iterations);
    size_t prf = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_HMAC_SHA256);
    der_put_null(&b);
    der_end(&b, prf);
    der_end(&b, kdf_params);
    der_end(&b, kdf);
    size_t enc = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_AES256_CBC);
    der_put_octet_string(&b, iv, sizeof(iv));
    der_end(&b, enc);
    der_end(&b, params);
    der_end(&b, algid);
    der_put_octet_string(&b, ct, padded);
    der_end(&b, seq);
    rc = der_buf_finish(&b, out, out_len);
out:
    qpki_wipe(key, sizeof(key));
    qpki_free_secret(buf, buf ? padded : 0);
    qpki_free(ct);
    return rc;
}

qpki_status crypto_privkey_export_iter(const crypto_privkey *key, bool pem,
                                       const char *passphrase, uint32_t iterations,
                                       uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(key && out && out_len && iterations >= 1, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    *out_len = 0;
    uint8_t *der = NULL;
    size_t der_len = 0;
    QPKI_GUARD(pkcs8_encode(key, &der, &der_len));
    qpki_status rc = QPKI_OK;
    if (passphrase) {
        uint8_t *enc = NULL;
        size_t enc_len = 0;
        rc = pkcs8_encrypt(der, der_len, passphrase, iterations, &enc, &enc_len);
        qpki_free_secret(der, der_len);
        der = enc;
        der_len = enc_len;
        if (rc != QPKI_OK)
            return rc;
    }
    if (!pem) {
        *out = der;
        *out_len = der_len;
        return QPKI_OK;
    }
    char *text = NULL;
    size_t text_len = 0;
    rc = pem_encode(passphrase ? "ENCRYPTED PRIVATE KEY" : "PRIVATE KEY", der, der_len, &text,
                    &text_len);
    qpki_free_secret(der, der_len);
    if (rc != QPKI_OK)
        return rc;
    *out = (uint8_t *)text;
    *out_len = text_len;
    return QPKI_OK;
}

qpki_status crypto_privkey_export(const crypto_privkey *key, bool pem, const char *passphrase,
                                  uint8_t **out, size_t *out_len)
{
    return crypto_privkey_export_iter(key, pem, passphrase, CRYPTO_PBKDF2_DEFAULT_ITERATIONS,
                                      out, out_len);
}

/* ---- files ----------------------------------------------------------------------- */

qpki_status crypto_read_key_file(const char *path, uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(path && out && out_len, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ENOENT ? QPKI_ERR_NOT_FOUND : QPKI_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return QPKI_ERR_IO;
    }
    if ((uint64_t)st.st_size > CRYPTO_MAX_KEY_FILE) {
        close(fd);
        return QPKI_ERR_TOO_LARGE;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    uint8_t *buf = qpki_malloc(cap);
    if (!buf) {
        close(fd);
        return QPKI_ERR_NOMEM;
    }
    qpki_status rc = QPKI_OK;
    while (len < cap) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = QPKI_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (rc == QPKI_OK && len == cap)
        rc = QPKI_ERR_TOO_LARGE;  /* the file grew while we read it */
    if (rc == QPKI_OK && len == 0)
        rc = QPKI_ERR_BAD_KEY;
    if (rc != QPKI_OK) {
        qpki_free_secret(buf, cap);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return QPKI_OK;
}
