/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/pubkey.c - SubjectPublicKeyInfo parsing and signature verification.
 *
 * A crypto_pubkey keeps only the raw key bytes; each verification imports them
 * into a wolfSSL key object on the stack.  wolfSSL keys carry internal state
 * (RsaKey.state, ecc_key.state) that concurrent calls would race on, so sharing
 * one would not be thread-safe; the import is cheap next to the verification. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <string.h>

#include "crypto_internal.h"
#include "mldsa/mldsa.h"
#include "../der/oid.h"

/* ---- curves -------------------------------------------------------------- */

int crypto_ec_curve_id(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return ECC_SECP256R1;
    case QPKI_KEY_EC_P384: return ECC_SECP384R1;
    case QPKI_KEY_EC_P521: return ECC_SECP521R1;
    default: return ECC_CURVE_INVALID;
    }
}

size_t crypto_ec_size(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return 32;
    case QPKI_KEY_EC_P384: return 48;
    case QPKI_KEY_EC_P521: return 66;
    default: return 0;
    }
}

der_oid crypto_ec_curve_oid(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return OID_P256;
    case QPKI_KEY_EC_P384: return OID_P384;
    case QPKI_KEY_EC_P521: return OID_P521;
    default: return (der_oid){NULL, 0};
    }
}

/* Big-endian curve prime p of a curve (from wolfCrypt's parameter table). */
static qpki_status ec_prime(qpki_key_alg alg, uint8_t *out, size_t size)
{
    int idx = wc_ecc_get_curve_idx(crypto_ec_curve_id(alg));
    const ecc_set_type *dp = idx >= 0 ? wc_ecc_get_curve_params(idx) : NULL;
    QPKI_ENSURE(dp && dp->prime, QPKI_ERR_INTERNAL);
    size_t len = 0;
    QPKI_GUARD(qpki_hex_decode(dp->prime, out, size, &len));
    QPKI_ENSURE(len == size, QPKI_ERR_INTERNAL);
    return QPKI_OK;
}

static int be_compare(const uint8_t *a, const uint8_t *b, size_t n)
{
    return memcmp(a, b, n);  /* public values only */
}

qpki_status crypto_ec_point_check(qpki_key_alg alg, const uint8_t *point, size_t len)
{
    size_t size = crypto_ec_size(alg);
    QPKI_ENSURE(size, QPKI_ERR_INVALID_ARG);
    /* RFC 5480 §2.2: "The first octet of the OCTET STRING indicates whether the key
     * is compressed or uncompressed.  The uncompressed form is indicated by 0x04
     * and the compressed form is indicated by either 0x02 or 0x03".  We accept the
     * uncompressed form ("MUST" be supported) only. */
    if (len == 1 + size && point && (point[0] == 0x02 || point[0] == 0x03))
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    QPKI_ENSURE(point && len == 1 + 2 * size && point[0] == 0x04, QPKI_ERR_BAD_KEY);

    /* SEC 1 v2 §3.2.2.1 public key validation: "Check that xQ and yQ are integers
     * in the interval [0, p - 1]" and "that Q satisfies the defining equation". */
    uint8_t prime[CRYPTO_EC_MAX_BYTES];
    QPKI_GUARD(ec_prime(alg, prime, size));
    QPKI_ENSURE(be_compare(point + 1, prime, size) < 0, QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(be_compare(point + 1 + size, prime, size) < 0, QPKI_ERR_BAD_KEY);

    ecc_key key;
    int ret = wc_ecc_init(&key);
    QPKI_ENSURE(ret == 0, crypto_wolf_status(ret));
    ret = wc_ecc_import_x963_ex(point, (word32)len, &key, crypto_ec_curve_id(alg));
    qpki_status rc = QPKI_OK;
    if (ret != 0)
        rc = ret == MEMORY_E ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_KEY;
    else if (wc_ecc_point_is_on_curve(&key.pubkey, key.idx) != 0)
        rc = QPKI_ERR_BAD_KEY;
    (void)wc_ecc_free(&key);
    return rc;
}

/* ---- SPKI ------------------------------------------------------------------ */

/* RFC 8017 Appendix A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER,
 * publicExponent INTEGER }. */
static qpki_status parse_rsa_public(der_view der, der_view *n, der_view *e, unsigned *bits)
{
    der_cursor c = der_cursor_init(der.p, der.n), seq;
    der_view nc, ec;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_integer(&seq, &nc));
    QPKI_GUARD(der_read_integer(&seq, &ec));
    QPKI_GUARD(der_expect_end(&seq));
    QPKI_ENSURE(der_integer_magnitude(nc, n) == QPKI_OK, QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(der_integer_magnitude(ec, e) == QPKI_OK, QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(n->n > 0 && e->n > 0, QPKI_ERR_BAD_KEY);
    unsigned top = n->p[0], top_bits = 0;
    while (top) {
        top_bits++;
        top >>= 1;
    }
    size_t b = (n->n - 1) * 8 + top_bits;
    /* wolfSSL (RSA_MAX_SIZE) cannot process larger moduli. */
    QPKI_ENSURE(b <= CRYPTO_RSA_MAX_BITS, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_ENSURE(b >= CRYPTO_RSA_MIN_BITS, QPKI_ERR_BAD_KEY);
    /* RFC 8017 §3.1: n is a product of odd primes; e is odd, 3 <= e <= n - 1. */
    QPKI_ENSURE((n->p[n->n - 1] & 1) && (e->p[e->n - 1] & 1), QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(e->n > 1 || e->p[0] >= 3, QPKI_ERR_BAD_KEY);
    QPKI_ENSURE(e->n < n->n || (e->n == n->n && be_compare(e->p, n->p, n->n) < 0),
                QPKI_ERR_BAD_KEY);
    *bits = (unsigned)b;
    return QPKI_OK;
}

static size_t raw_key_len(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_ED25519: return ED25519_PUB_KEY_SIZE;
    case QPKI_KEY_ED448: return ED448_PUB_KEY_SIZE;
    case QPKI_KEY_ML_DSA_44: return 1312;
    case QPKI_KEY_ML_DSA_65: return 1952;
    case QPKI_KEY_ML_DSA_87: return 2592;
    default: return 0;
    }
}

qpki_status crypto_pubkey_from_raw(qpki_key_alg alg, const uint8_t *raw, size_t n,
                                   crypto_pubkey **out)
{
    QPKI_ENSURE(out && raw && n, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_GUARD(crypto_thread_enter());
    unsigned bits = 0;
    der_view rn = {0}, re = {0};
    switch (alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        QPKI_GUARD(crypto_ec_point_check(alg, raw, n));
        bits = alg == QPKI_KEY_EC_P521 ? 521u : (unsigned)crypto_ec_size(alg) * 8u;
        break;
    case QPKI_KEY_RSA:
        QPKI_GUARD(parse_rsa_public((der_view){raw, n}, &rn, &re, &bits));
        break;
    case QPKI_KEY_ED25519: {
        QPKI_ENSURE(n == ED25519_PUB_KEY_SIZE, QPKI_ERR_BAD_KEY);
        ed25519_key k;
        QPKI_ENSURE(wc_ed25519_init(&k) == 0, QPKI_ERR_CRYPTO);
        int ret = wc_ed25519_import_public(raw, (word32)n, &k);
        wc_ed25519_free(&k);
        QPKI_ENSURE(ret == 0, QPKI_ERR_BAD_KEY);
        bits = 256;
        break;
    }
    case QPKI_KEY_ED448: {
        QPKI_ENSURE(n == ED448_PUB_KEY_SIZE, QPKI_ERR_BAD_KEY);
        ed448_key k;
        QPKI_ENSURE(wc_ed448_init(&k) == 0, QPKI_ERR_CRYPTO);
        int ret = wc_ed448_import_public(raw, (word32)n, &k);
        wc_ed448_free(&k);
        QPKI_ENSURE(ret == 0, QPKI_ERR_BAD_KEY);
        bits = 456;
        break;
    }
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87:
        QPKI_ENSURE(n == raw_key_len(alg), QPKI_ERR_BAD_KEY);
        bits = (unsigned)n * 8u;
        break;
    default:
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    crypto_pubkey *k = qpki_calloc(1, sizeof(*k));
    QPKI_ENSURE(k, QPKI_ERR_NOMEM);
    k->raw = qpki_memdup(raw, n);
    if (!k->raw) {
        qpki_free(k);
        return QPKI_ERR_NOMEM;
    }
    k->raw_len = n;
    k->alg = alg;
    k->bits = bits;
    if (alg == QPKI_KEY_RSA) {
        k->rsa_n = k->raw + (rn.p - raw);
        k->rsa_n_len = rn.n;
        k->rsa_e = k->raw + (re.p - raw);
        k->rsa_e_len = re.n;
    }
    *out = k;
    return QPKI_OK;
}

qpki_status crypto_pubkey_parse(der_view spki_tlv, crypto_pubkey **out)
{
    QPKI_ENSURE(out && (spki_tlv.p || spki_tlv.n == 0), QPKI_ERR_INVALID_ARG);
    *out = NULL;
    /* RFC 5280 §4.1: SubjectPublicKeyInfo ::= SEQUENCE { algorithm
     * AlgorithmIdentifier, subjectPublicKey BIT STRING } */
    der_cursor c = der_cursor_init(spki_tlv.p, spki_tlv.n), spki, algid;
    der_view oid, key;
    unsigned unused;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &spki));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_tlv(&spki, DER_SEQUENCE, &algid));
    QPKI_GUARD(der_read_bit_string(&spki, &key, &unused));
    QPKI_GUARD(der_expect_end(&spki));
    QPKI_GUARD(der_read_oid(&algid, &oid));
    QPKI_ENSURE(unused == 0, QPKI_ERR_BAD_KEY);

    qpki_key_alg alg = QPKI_KEY_UNKNOWN;
    if (der_oid_eq(oid, OID_EC_PUBLIC_KEY)) {
        /* RFC 5480 §2.1.1: "ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER
         * ... }" - "implicitCurve and specifiedCurve MUST NOT be used in PKIX". */
        der_view curve;
        QPKI_ENSURE(der_next_is(&algid, DER_OID), QPKI_ERR_UNSUPPORTED_ALGORITHM);
        QPKI_GUARD(der_read_oid(&algid, &curve));
        QPKI_GUARD(der_expect_end(&algid));
        alg = qpki_ec_curve_alg(curve.p, curve.n);
        QPKI_ENSURE(alg != QPKI_KEY_UNKNOWN, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    } else if (der_oid_eq(oid, OID_RSA_ENCRYPTION)) {
        /* RFC 3279 §2.3.1: "The parameters field MUST have ASN.1 type NULL for this
         * algorithm identifier."  Absent parameters are tolerated on input. */
        if (!der_at_end(&algid))
            QPKI_GUARD(der_read_null(&algid));
        QPKI_GUARD(der_expect_end(&algid));
        alg = QPKI_KEY_RSA;
    } else {
        static const struct {
            der_oid oid;
            qpki_key_alg alg;
        } absent_params[] = {
            {OID_ED25519, QPKI_KEY_ED25519},     {OID_ED448, QPKI_KEY_ED448},
            {OID_ML_DSA_44, QPKI_KEY_ML_DSA_44}, {OID_ML_DSA_65, QPKI_KEY_ML_DSA_65},
            {OID_ML_DSA_87, QPKI_KEY_ML_DSA_87},
        };
        for (size_t i = 0; i < QPKI_ARRAY_LEN(absent_params); i++)
            if (der_oid_eq(oid, absent_params[i].oid))
                alg = absent_params[i].alg;
        QPKI_ENSURE(alg != QPKI_KEY_UNKNOWN, QPKI_ERR_UNSUPPORTED_ALGORITHM);
        /* RFC 8410 §3 and RFC 9881 §2: parameters MUST be absent. */
        QPKI_ENSURE(der_at_end(&algid), QPKI_ERR_BAD_KEY);
    }
    return crypto_pubkey_from_raw(alg, key.p, key.n, out);
}

void crypto_pubkey_free(crypto_pubkey **key)
{
    if (!key || !*key)
        return;
    qpki_free((*key)->raw);
    qpki_free(*key);
    *key = NULL;
}

qpki_key_alg crypto_pubkey_alg(const crypto_pubkey *key)
{
    return key ? key->alg : QPKI_KEY_UNKNOWN;
}

unsigned crypto_pubkey_bits(const crypto_pubkey *key) { return key ? key->bits : 0; }

qpki_status crypto_spki_encode(qpki_key_alg alg, const uint8_t *raw, size_t n, uint8_t **out,
                               size_t *out_len)
{
    QPKI_ENSURE(raw && out && out_len, QPKI_ERR_INVALID_ARG);
    der_buf b;
    der_buf_init(&b, 0);
    size_t spki = der_begin(&b, DER_SEQUENCE);
    size_t algid = der_begin(&b, DER_SEQUENCE);
    switch (alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        der_put_oid(&b, OID_EC_PUBLIC_KEY);
        der_put_oid(&b, crypto_ec_curve_oid(alg));
        break;
    case QPKI_KEY_RSA:
        der_put_oid(&b, OID_RSA_ENCRYPTION);
        der_put_null(&b);
        break;
    case QPKI_KEY_ED25519: der_put_oid(&b, OID_ED25519); break;
    case QPKI_KEY_ED448: der_put_oid(&b, OID_ED448); break;
    case QPKI_KEY_ML_DSA_44: der_put_oid(&b, OID_ML_DSA_44); break;
    case QPKI_KEY_ML_DSA_65: der_put_oid(&b, OID_ML_DSA_65); break;
    case QPKI_KEY_ML_DSA_87: der_put_oid(&b, OID_ML_DSA_87); break;
    default:
        der_buf_free(&b);
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    der_end(&b, algid);
    der_put_bit_string(&b, raw, n, 0);
    der_end(&b, spki);
    return der_buf_finish(&b, out, out_len);
}

/* ---- verification ------------------------------------------------------------ */

/* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5480 §2.2 / RFC 3279
 * §2.2.3), in DER: minimal, positive integers and nothing after the SEQUENCE.
 * Anything else is not a valid signature (Wycheproof "BerEncodedSignature",
 * "InvalidEncoding"). */
static qpki_status parse_ecdsa_sig(const uint8_t *sig, size_t len, der_view *r, der_view *s)
{
    der_cursor c = der_cursor_init(sig, len), seq;
    der_view rc, sc;
    if (der_read_tlv(&c, DER_SEQUENCE, &seq) != QPKI_OK || !der_at_end(&c) ||
        der_read_integer(&seq, &rc) != QPKI_OK || der_read_integer(&seq, &sc) != QPKI_OK ||
        !der_at_end(&seq))
        return QPKI_ERR_BAD_SIGNATURE;
    /* Negative values are never valid (r, s in [1, n-1]). */
    if ((rc.p[0] & 0x80) || (sc.p[0] & 0x80))
        return QPKI_ERR_BAD_SIGNATURE;
    if (der_integer_magnitude(rc, r) != QPKI_OK || der_integer_magnitude(sc, s) != QPKI_OK)
        return QPKI_ERR_BAD_SIGNATURE;
    return QPKI_OK;
}

static qpki_status verify_ecdsa(const crypto_pubkey *key, qpki_hash_alg hash,
                                const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                size_t sig_len)
{
    der_view r, s;
    QPKI_GUARD(parse_ecdsa_sig(sig, sig_len, &r, &s));
    size_t size = crypto_ec_size(key->alg);
    /* SEC 1 §4.1.4 step 1: "If r and s are not both integers in the interval
     * [1, n - 1], output invalid".  Longer than the order cannot be in range. */
    QPKI_ENSURE(r.n >= 1 && r.n <= size && s.n >= 1 && s.n <= size, QPKI_ERR_BAD_SIGNATURE);
    uint8_t digest[CRYPTO_MAX_HASH_LEN];
    QPKI_GUARD(crypto_hash(hash, msg, msg_len, digest));
    size_t hlen = crypto_hash_len(hash);

    qpki_status rc = QPKI_ERR_BAD_SIGNATURE;
    ecc_key k;
    mp_int mr, ms;
    int ret = wc_ecc_init(&k);
    QPKI_ENSURE(ret == 0, crypto_wolf_status(ret));
    if (mp_init(&mr) != MP_OKAY || mp_init(&ms) != MP_OKAY) {
        (void)wc_ecc_free(&k);
        return QPKI_ERR_CRYPTO;
    }
    ret = wc_ecc_import_x963_ex(key->raw, (word32)key->raw_len, &k, crypto_ec_curve_id(key->alg));
    if (ret != 0) {
        rc = crypto_wolf_status(ret);
        goto out;
    }
    if (mp_read_unsigned_bin(&mr, r.p, (word32)r.n) != MP_OKAY ||
        mp_read_unsigned_bin(&ms, s.p, (word32)s.n) != MP_OKAY) {
        rc = QPKI_ERR_CRYPTO;
        goto out;
    }
    int valid = 0;
    ret = wc_ecc_verify_hash_ex(&mr, &ms, digest, (word32)hlen, &valid, &k);
    if (ret == MEMORY_E)
        rc = QPKI_ERR_NOMEM;
    else
        rc = (ret == 0 && valid == 1) ? QPKI_OK : QPKI_ERR_BAD_SIGNATURE;
out:
    mp_clear(&mr);
    mp_clear(&ms);
    (void)wc_ecc_free(&k);
    return rc;
}

static int mgf_of(qpki_hash_alg hash)
{
    switch (hash) {
    case QPKI_HASH_SHA256: return WC_MGF1SHA256;
    case QPKI_HASH_SHA384: return WC_MGF1SHA384;
    case QPKI_HASH_SHA512: return WC_MGF1SHA512;
    default: return WC_MGF1NONE;
    }
}

static qpki_status verify_rsa(const crypto_pubkey *key, qpki_sig_alg alg, qpki_hash_alg hash,
                              const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                              size_t sig_len)
{
    /* RFC 8017 §8.2.2 step 1 and §8.1.2 step 1: "If the length of the signature S
     * is not k octets, output "invalid signature"". */
    size_t k_len = (key->bits + 7) / 8;
    QPKI_ENSURE(sig_len == k_len && key->rsa_n_len == k_len, QPKI_ERR_BAD_SIGNATURE);
    /* RFC 8017 §5.2.2 RSAVP1 step 1: "If the signature representative s is not
     * between 0 and n - 1, output "signature representative out of range"".
     * wolfSSL 5.5.4 reduces s mod n instead (Wycheproof rsa_signature tcId 244). */
    QPKI_ENSURE(be_compare(sig, key->rsa_n, k_len) < 0, QPKI_ERR_BAD_SIGNATURE);
    uint8_t digest[CRYPTO_MAX_HASH_LEN];
    QPKI_GUARD(crypto_hash(hash, msg, msg_len, digest));
    size_t hlen = crypto_hash_len(hash);

    uint8_t in[CRYPTO_RSA_MAX_BITS / 8], em[CRYPTO_RSA_MAX_BITS / 8];
    memcpy(in, sig, sig_len);
    RsaKey k;
    int ret = wc_InitRsaKey(&k, NULL);
    QPKI_ENSURE(ret == 0, crypto_wolf_status(ret));
    qpki_status rc = QPKI_ERR_BAD_SIGNATURE;
    ret = wc_RsaPublicKeyDecodeRaw(key->rsa_n, (word32)key->rsa_n_len, key->rsa_e,
                                   (word32)key->rsa_e_len, &k);
    if (ret != 0) {
        rc = crypto_wolf_status(ret);
        goto out;
    }
    if (alg == QPKI_SIG_RSA_PSS_SHA256 || alg == QPKI_SIG_RSA_PSS_SHA384 ||
        alg == QPKI_SIG_RSA_PSS_SHA512) {
        /* RFC 8017 §9.1.2 EMSA-PSS-VERIFY with MGF1 over the same hash and sLen =
         * hLen (the parameters our AlgorithmIdentifiers carry). */
        enum wc_HashType ht = (enum wc_HashType)crypto_wc_hash_type(hash);
        ret = wc_RsaPSS_Verify_ex(in, (word32)sig_len, em, (word32)sizeof(em), ht, mgf_of(hash),
                                  (int)hlen, &k);
        if (ret == MEMORY_E) {
            rc = QPKI_ERR_NOMEM;
        } else if (ret > 0) {
            int check = wc_RsaPSS_CheckPadding_ex(digest, (word32)hlen, em, (word32)ret, ht,
                                                  (int)hlen, (int)key->bits);
            rc = check == 0 ? QPKI_OK : QPKI_ERR_BAD_SIGNATURE;
        }
    } else {
        /* RFC 8017 §8.2.2 step 3-4: EMSA-PKCS1-v1_5-ENCODE(M) and compare the
         * whole encoded message, so a DigestInfo with other parameters, a
         * different hash or trailing garbage never verifies. */
        uint8_t expect[CRYPTO_DIGEST_INFO_MAX];
        size_t expect_len = 0;
        rc = crypto_digest_info(hash, digest, expect, &expect_len);
        if (rc != QPKI_OK)
            goto out;
        rc = QPKI_ERR_BAD_SIGNATURE;
        ret = wc_RsaSSL_Verify(in, (word32)sig_len, em, (word32)sizeof(em), &k);
        if (ret == MEMORY_E)
            rc = QPKI_ERR_NOMEM;
        else if (ret > 0 && (size_t)ret == expect_len && memcmp(em, expect, expect_len) == 0)
            rc = QPKI_OK;
    }
out:
    (void)wc_FreeRsaKey(&k);
    return rc;
}

/* True when the little-endian integer a[0..n) is below b[0..n) (public data). */
static bool le_less(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i];
    return false;
}

/* Group orders L, little-endian (RFC 8032 §5.1 and §5.2). */
static const uint8_t ed25519_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
static const uint8_t ed448_l[57] = {
    0xf3, 0x44, 0x58, 0xab, 0x92, 0xc2, 0x78, 0x23, 0x55, 0x8f, 0xc5, 0x8d, 0x72, 0xc2, 0x6c,
    0x21, 0x90, 0x36, 0xd6, 0xae, 0x49, 0xdb, 0x4e, 0xc4, 0xe9, 0x23, 0xca, 0x7c, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, 0x00};

static qpki_status verify_eddsa(const crypto_pubkey *key, const uint8_t *msg, size_t msg_len,
                                const uint8_t *sig, size_t sig_len)
{
    int valid = 0, ret;
    if (key->alg == QPKI_KEY_ED25519) {
        /* RFC 8032 §5.1.7: a signature is 64 octets; step 1: "Decode the first
         * half as a point R, and the second half as an integer S, in the range
         * 0 <= s < L ... If any of the decodings fail (including S being out of
         * range), the signature is invalid."  wolfSSL 5.5.4 does not check the
         * range of S (Wycheproof ed25519 tcId 85), so it is checked here. */
        QPKI_ENSURE(sig_len == ED25519_SIG_SIZE, QPKI_ERR_BAD_SIGNATURE);
        QPKI_ENSURE(le_less(sig + 32, ed25519_l, 32), QPKI_ERR_BAD_SIGNATURE);
        ed25519_key k;
        QPKI_ENSURE(wc_ed25519_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed25519_import_public(key->raw, (word32)key->raw_len, &k);
        if (ret == 0)
            ret = wc_ed25519_verify_msg(sig, (word32)sig_len, msg, (word32)msg_len, &valid, &k);
        wc_ed25519_free(&k);
    } else {
        /* RFC 8032 §5.2.7: a signature is 114 octets; Ed448 with an empty context
         * (RFC 8410 §6: "the context is the empty string"). */
        QPKI_ENSURE(sig_len == ED448_SIG_SIZE, QPKI_ERR_BAD_SIGNATURE);
        /* RFC 8032 §5.2.7 step 1: S must satisfy 0 <= S < L. */
        QPKI_ENSURE(le_less(sig + 57, ed448_l, 57), QPKI_ERR_BAD_SIGNATURE);
        ed448_key k;
        QPKI_ENSURE(wc_ed448_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed448_import_public(key->raw, (word32)key->raw_len, &k);
        if (ret == 0)
            ret = wc_ed448_verify_msg(sig, (word32)sig_len, msg, (word32)msg_len, &valid, &k,
                                      NULL, 0);
        wc_ed448_free(&k);
    }
    if (ret == MEMORY_E)
        return QPKI_ERR_NOMEM;
    return ret == 0 && valid == 1 ? QPKI_OK : QPKI_ERR_BAD_SIGNATURE;
}

qpki_status crypto_verify(const crypto_pubkey *key, qpki_sig_alg alg, const uint8_t *msg,
                          size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    QPKI_ENSURE(key && (msg || msg_len == 0) && (sig || sig_len == 0), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(crypto_sig_alg_fits_key(alg, key->alg), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_GUARD(crypto_thread_enter());
    if (sig_len == 0)
        return QPKI_ERR_BAD_SIGNATURE;
    /* wolfCrypt refuses a NULL message pointer even for an empty message. */
    static const uint8_t empty[1];
    if (!msg)
        msg = empty;
    qpki_hash_alg hash = crypto_sig_alg_hash(alg);
    switch (key->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        return verify_ecdsa(key, hash, msg, msg_len, sig, sig_len);
    case QPKI_KEY_RSA:
        return verify_rsa(key, alg, hash, msg, msg_len, sig, sig_len);
    case QPKI_KEY_ED25519:
    case QPKI_KEY_ED448:
        /* wolfCrypt's EdDSA takes a 32-bit message length. */
        QPKI_ENSURE(msg_len <= UINT32_MAX, QPKI_ERR_TOO_LARGE);
        return verify_eddsa(key, msg, msg_len, sig, sig_len);
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87: {
        /* FIPS 204 Algorithm 3 ML-DSA.Verify, pure, with the empty context string
         * (RFC 9881 §3). */
        int v = mldsa_verify((mldsa_level)crypto_mldsa_level(key->alg), key->raw, msg, msg_len,
                             NULL, 0, sig, sig_len);
        return v == 0 ? QPKI_OK : v == MLDSA_ERR_NOMEM ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_SIGNATURE;
    }
    default:
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
}

qpki_status crypto_verify_spki(der_view spki_tlv, der_view sig_alg_tlv, const uint8_t *msg,
                               size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    qpki_sig_alg alg;
    QPKI_GUARD(crypto_sig_alg_parse(sig_alg_tlv, &alg));
    crypto_pubkey *key = NULL;
    QPKI_GUARD(crypto_pubkey_parse(spki_tlv, &key));
    qpki_status rc = crypto_verify(key, alg, msg, msg_len, sig, sig_len);
    crypto_pubkey_free(&key);
    return rc;
}
