/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/sigalg.c - signature AlgorithmIdentifiers: canonical encodings and a
 * strict parser. */
#include <string.h>

#include "crypto_internal.h"
#include "../der/oid.h"

/* Canonical encodings (whole AlgorithmIdentifier TLVs). */

/* RFC 4055 §5: "When any of these four object identifiers appears within an
 * AlgorithmIdentifier, the parameters MUST be NULL." (sha*WithRSAEncryption) */
#define RSA_PKCS1(last) "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01" last "\x05\x00"
/* RFC 5758 §3.2: "When the ecdsa-with-SHA224, ecdsa-with-SHA256,
 * ecdsa-with-SHA384, or ecdsa-with-SHA512 algorithm identifier appears in the
 * algorithm field as an AlgorithmIdentifier, the encoding MUST omit the parameters
 * field." */
#define ECDSA(last) "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03" last
/* RFC 4055 §3.1 RSASSA-PSS-params with hashAlgorithm = the hash (NULL parameters,
 * as RFC 4055 §2.1 sha256Identifier), maskGenAlgorithm = MGF1 with the same hash,
 * saltLength = the hash length, trailerField omitted (DEFAULT trailerFieldBC). */
#define HASH_ID(last) "\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02" last "\x05\x00"
#define RSA_PSS(hlast, salt)                                                              \
    "\x30\x41\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"                                \
    "\x30\x34"                                                                            \
    "\xa0\x0f" HASH_ID(hlast)                                                             \
    "\xa1\x1c\x30\x1a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08" HASH_ID(hlast)         \
    "\xa2\x03\x02\x01" salt
/* RFC 8410 §3: "For all of the OIDs, the parameters MUST be absent." */
#define EDDSA(last) "\x30\x05\x06\x03\x2b\x65" last
/* RFC 9881 §2: "The contents of the parameters component for each algorithm MUST
 * be absent." */
#define ML_DSA(last) "\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03" last

struct sig_alg_info {
    qpki_sig_alg alg;
    qpki_hash_alg hash;
    qpki_key_alg key;  /* for EC any curve fits; this is the default curve */
    const char *der;
    size_t der_len;
};

#define ENTRY(a, h, k, d) {a, h, k, d, sizeof(d) - 1}
static const struct sig_alg_info sig_algs[] = {
    ENTRY(QPKI_SIG_ECDSA_SHA256, QPKI_HASH_SHA256, QPKI_KEY_EC_P256, ECDSA("\x02")),
    ENTRY(QPKI_SIG_ECDSA_SHA384, QPKI_HASH_SHA384, QPKI_KEY_EC_P384, ECDSA("\x03")),
    ENTRY(QPKI_SIG_ECDSA_SHA512, QPKI_HASH_SHA512, QPKI_KEY_EC_P521, ECDSA("\x04")),
    ENTRY(QPKI_SIG_RSA_PKCS1_SHA256, QPKI_HASH_SHA256, QPKI_KEY_RSA, RSA_PKCS1("\x0b")),
    ENTRY(QPKI_SIG_RSA_PKCS1_SHA384, QPKI_HASH_SHA384, QPKI_KEY_RSA, RSA_PKCS1("\x0c")),
    ENTRY(QPKI_SIG_RSA_PKCS1_SHA512, QPKI_HASH_SHA512, QPKI_KEY_RSA, RSA_PKCS1("\x0d")),
    ENTRY(QPKI_SIG_RSA_PSS_SHA256, QPKI_HASH_SHA256, QPKI_KEY_RSA, RSA_PSS("\x01", "\x20")),
    ENTRY(QPKI_SIG_RSA_PSS_SHA384, QPKI_HASH_SHA384, QPKI_KEY_RSA, RSA_PSS("\x02", "\x30")),
    ENTRY(QPKI_SIG_RSA_PSS_SHA512, QPKI_HASH_SHA512, QPKI_KEY_RSA, RSA_PSS("\x03", "\x40")),
    ENTRY(QPKI_SIG_ED25519, QPKI_HASH_NONE, QPKI_KEY_ED25519, EDDSA("\x70")),
    ENTRY(QPKI_SIG_ED448, QPKI_HASH_NONE, QPKI_KEY_ED448, EDDSA("\x71")),
    ENTRY(QPKI_SIG_ML_DSA_44, QPKI_HASH_NONE, QPKI_KEY_ML_DSA_44, ML_DSA("\x11")),
    ENTRY(QPKI_SIG_ML_DSA_65, QPKI_HASH_NONE, QPKI_KEY_ML_DSA_65, ML_DSA("\x12")),
    ENTRY(QPKI_SIG_ML_DSA_87, QPKI_HASH_NONE, QPKI_KEY_ML_DSA_87, ML_DSA("\x13")),
};

static const struct sig_alg_info *info_of(qpki_sig_alg alg)
{
    for (size_t i = 0; i < QPKI_ARRAY_LEN(sig_algs); i++)
        if (sig_algs[i].alg == alg)
            return &sig_algs[i];
    return NULL;
}

const uint8_t *crypto_sig_alg_der(qpki_sig_alg alg, size_t *len)
{
    const struct sig_alg_info *info = info_of(alg);
    if (!info) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = info->der_len;
    return (const uint8_t *)info->der;
}

qpki_hash_alg crypto_sig_alg_hash(qpki_sig_alg alg)
{
    const struct sig_alg_info *info = info_of(alg);
    return info ? info->hash : QPKI_HASH_NONE;
}

static bool is_ec(qpki_key_alg key)
{
    return key == QPKI_KEY_EC_P256 || key == QPKI_KEY_EC_P384 || key == QPKI_KEY_EC_P521;
}

bool crypto_sig_alg_fits_key(qpki_sig_alg sig, qpki_key_alg key)
{
    const struct sig_alg_info *info = info_of(sig);
    if (!info)
        return false;
    if (is_ec(info->key))
        return is_ec(key);
    return info->key == key;
}

/* A hash AlgorithmIdentifier inside RSASSA-PSS-params.  RFC 4055 §2.1: "all
 * implementations MUST accept both NULL and absent parameters as legal and
 * equivalent encodings." */
static qpki_status read_hash_id(der_cursor *c, qpki_hash_alg *out)
{
    der_cursor seq;
    der_view oid;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_read_oid(&seq, &oid));
    if (!der_at_end(&seq))
        QPKI_GUARD(der_read_null(&seq));
    QPKI_GUARD(der_expect_end(&seq));
    *out = crypto_hash_from_oid(oid);
    QPKI_ENSURE(*out != QPKI_HASH_NONE && *out != QPKI_HASH_SHA1,
                QPKI_ERR_UNSUPPORTED_ALGORITHM);
    return QPKI_OK;
}

/* RFC 4055 §3.1:
 *   RSASSA-PSS-params  ::=  SEQUENCE  {
 *       hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
 *       maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
 *       saltLength         [2] INTEGER DEFAULT 20,
 *       trailerField       [3] INTEGER DEFAULT 1  }
 * We support the three sets of QPKI_SIG_RSA_PSS_*: SHA-2 hash, MGF1 with the same
 * hash, salt length equal to the hash length.  The SHA-1 defaults are refused, so
 * [0], [1] and [2] must be present.  "The trailerField MUST be 1"; an explicit
 * value 1 (not DER, but equivalent) is tolerated. */
static qpki_status parse_pss_params(der_cursor *params, qpki_sig_alg *out)
{
    der_cursor seq, field, mgf, mgf_params;
    QPKI_GUARD(der_read_tlv(params, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(params));

    qpki_hash_alg hash = QPKI_HASH_NONE, mgf_hash = QPKI_HASH_NONE;
    bool present;
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &field, &present));
    QPKI_ENSURE(present, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_GUARD(read_hash_id(&field, &hash));
    QPKI_GUARD(der_expect_end(&field));

    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(1), &field, &present));
    QPKI_ENSURE(present, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    der_view mgf_oid;
    QPKI_GUARD(der_read_tlv(&field, DER_SEQUENCE, &mgf));
    QPKI_GUARD(der_expect_end(&field));
    QPKI_GUARD(der_read_oid(&mgf, &mgf_oid));
    QPKI_ENSURE(der_oid_eq(mgf_oid, OID_MGF1), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    mgf_params = mgf;
    QPKI_GUARD(read_hash_id(&mgf_params, &mgf_hash));
    QPKI_GUARD(der_expect_end(&mgf_params));
    QPKI_ENSURE(mgf_hash == hash, QPKI_ERR_UNSUPPORTED_ALGORITHM);

    uint64_t salt = 0;
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(2), &field, &present));
    QPKI_ENSURE(present, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_GUARD(der_read_uint64(&field, &salt));
    QPKI_GUARD(der_expect_end(&field));
    QPKI_ENSURE(salt == crypto_hash_len(hash), QPKI_ERR_UNSUPPORTED_ALGORITHM);

    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(3), &field, &present));
    if (present) {
        uint64_t trailer = 0;
        QPKI_GUARD(der_read_uint64(&field, &trailer));
        QPKI_GUARD(der_expect_end(&field));
        QPKI_ENSURE(trailer == 1, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    }
    QPKI_GUARD(der_expect_end(&seq));

    switch (hash) {
    case QPKI_HASH_SHA256: *out = QPKI_SIG_RSA_PSS_SHA256; break;
    case QPKI_HASH_SHA384: *out = QPKI_SIG_RSA_PSS_SHA384; break;
    case QPKI_HASH_SHA512: *out = QPKI_SIG_RSA_PSS_SHA512; break;
    default: return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    return QPKI_OK;
}

qpki_status crypto_sig_alg_parse(der_view alg_id_tlv, qpki_sig_alg *out)
{
    QPKI_ENSURE(out && (alg_id_tlv.p || alg_id_tlv.n == 0), QPKI_ERR_INVALID_ARG);
    *out = QPKI_SIG_UNKNOWN;
    der_cursor c = der_cursor_init(alg_id_tlv.p, alg_id_tlv.n), seq;
    der_view oid;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_oid(&seq, &oid));

    static const struct {
        der_oid oid;
        qpki_sig_alg alg;
        enum { PARAMS_ABSENT, PARAMS_NULL_OR_ABSENT, PARAMS_PSS } params;
    } table[] = {
        {OID_ECDSA_SHA256, QPKI_SIG_ECDSA_SHA256, PARAMS_ABSENT},
        {OID_ECDSA_SHA384, QPKI_SIG_ECDSA_SHA384, PARAMS_ABSENT},
        {OID_ECDSA_SHA512, QPKI_SIG_ECDSA_SHA512, PARAMS_ABSENT},
        {OID_SHA256_RSA, QPKI_SIG_RSA_PKCS1_SHA256, PARAMS_NULL_OR_ABSENT},
        {OID_SHA384_RSA, QPKI_SIG_RSA_PKCS1_SHA384, PARAMS_NULL_OR_ABSENT},
        {OID_SHA512_RSA, QPKI_SIG_RSA_PKCS1_SHA512, PARAMS_NULL_OR_ABSENT},
        {OID_RSASSA_PSS, QPKI_SIG_UNKNOWN, PARAMS_PSS},
        {OID_ED25519, QPKI_SIG_ED25519, PARAMS_ABSENT},
        {OID_ED448, QPKI_SIG_ED448, PARAMS_ABSENT},
        {OID_ML_DSA_44, QPKI_SIG_ML_DSA_44, PARAMS_ABSENT},
        {OID_ML_DSA_65, QPKI_SIG_ML_DSA_65, PARAMS_ABSENT},
        {OID_ML_DSA_87, QPKI_SIG_ML_DSA_87, PARAMS_ABSENT},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(table); i++) {
        if (!der_oid_eq(oid, table[i].oid))
            continue;
        switch (table[i].params) {
        case PARAMS_ABSENT:
            QPKI_ENSURE(der_at_end(&seq), QPKI_ERR_UNSUPPORTED_ALGORITHM);
            *out = table[i].alg;
            return QPKI_OK;
        case PARAMS_NULL_OR_ABSENT:
            if (!der_at_end(&seq)) {
                QPKI_ENSURE(der_next_is(&seq, DER_NULL), QPKI_ERR_UNSUPPORTED_ALGORITHM);
                QPKI_GUARD(der_read_null(&seq));
                QPKI_ENSURE(der_at_end(&seq), QPKI_ERR_UNSUPPORTED_ALGORITHM);
            }
            *out = table[i].alg;
            return QPKI_OK;
        case PARAMS_PSS: {
            /* RFC 4055 §3.1: "the parameters field MUST contain RSASSA-PSS-params"
             * when id-RSASSA-PSS is the signature algorithm. */
            QPKI_ENSURE(!der_at_end(&seq), QPKI_ERR_UNSUPPORTED_ALGORITHM);
            qpki_sig_alg alg;
            QPKI_GUARD(parse_pss_params(&seq, &alg));
            *out = alg;
            return QPKI_OK;
        }
        }
    }
    return QPKI_ERR_UNSUPPORTED_ALGORITHM;
}
