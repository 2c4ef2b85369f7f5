/* SPDX-License-Identifier: Apache-2.0 */
/* lib/names.c - text for result codes and protocol enums. */
#include <strings.h>

#include "internal.h"
#include "der/der.h"
#include "der/oid.h"

const char *qpki_strerror(qpki_status status)
{
    switch (status) {
    case QPKI_OK: return "success";
    case QPKI_ERR_INVALID_ARG: return "invalid argument";
    case QPKI_ERR_NOMEM: return "out of memory";
    case QPKI_ERR_INTERNAL: return "internal error";
    case QPKI_ERR_UNSUPPORTED: return "not supported";
    case QPKI_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case QPKI_ERR_LIMIT: return "limit exceeded";
    case QPKI_ERR_NOT_FOUND: return "not found";
    case QPKI_ERR_EXISTS: return "already exists";
    case QPKI_ERR_IO: return "input/output error";
    case QPKI_ERR_BUSY: return "busy, try again later";
    case QPKI_ERR_DECODE: return "malformed encoding";
    case QPKI_ERR_TRUNCATED: return "truncated input";
    case QPKI_ERR_TRAILING_DATA: return "trailing data after the encoding";
    case QPKI_ERR_NON_MINIMAL: return "non-minimal DER encoding";
    case QPKI_ERR_INDEFINITE: return "indefinite length (BER) not allowed";
    case QPKI_ERR_DEPTH: return "nesting too deep";
    case QPKI_ERR_UNEXPECTED_TAG: return "unexpected tag";
    case QPKI_ERR_BAD_VERSION: return "unsupported version";
    case QPKI_ERR_TOO_MANY_CERTIDS: return "too many CertIDs in request";
    case QPKI_ERR_NONCE_LENGTH: return "nonce must be 1 to 128 octets";
    case QPKI_ERR_TOO_LARGE: return "input too large";
    case QPKI_ERR_BAD_TIME: return "invalid time encoding";
    case QPKI_ERR_BAD_PEM: return "invalid PEM";
    case QPKI_ERR_PARSE: return "parse error";
    case QPKI_ERR_CRYPTO: return "cryptographic operation failed";
    case QPKI_ERR_BAD_SIGNATURE: return "signature does not verify";
    case QPKI_ERR_UNSUPPORTED_ALGORITHM: return "unsupported algorithm";
    case QPKI_ERR_BAD_KEY: return "invalid key";
    case QPKI_ERR_BAD_PASSPHRASE: return "wrong passphrase";
    case QPKI_ERR_KEY_MISMATCH: return "key does not match certificate";
    case QPKI_ERR_RNG: return "random number generator failure";
    case QPKI_ERR_PASSPHRASE_REQUIRED: return "key is encrypted: a passphrase is required";
    case QPKI_ERR_RESPONSE_STATUS: return "OCSP response status is not successful";
    case QPKI_ERR_UNTRUSTED_RESPONDER: return "responder is not authorised by the CA";
    case QPKI_ERR_NOT_YET_VALID: return "response time is in the future";
    case QPKI_ERR_STALE: return "response is stale (nextUpdate passed)";
    case QPKI_ERR_NONCE_MISMATCH: return "nonce mismatch";
    case QPKI_ERR_CERTID_MISMATCH: return "response is not for the requested certificate";
    case QPKI_ERR_NONCE_MISSING: return "nonce missing from response";
    case QPKI_ERR_PQ_SIGNATURE: return "post-quantum signature missing or invalid";
    case QPKI_ERR_CERT_EXPIRED: return "certificate outside its validity period";
    case QPKI_ERR_SIGNER_UNAVAILABLE: return "signer unavailable";
    case QPKI_ERR_PLUGIN_LOAD: return "cannot load plugin";
    case QPKI_ERR_PLUGIN_SYMBOL: return "plugin entry symbol missing";
    case QPKI_ERR_PLUGIN_ABI: return "plugin ABI version not supported";
    case QPKI_ERR_PIN: return "PIN missing or rejected";
    case QPKI_ERR_UNKNOWN_ISSUER: return "issuer not served by this responder";
    }
    return "unknown error";
}

const char *qpki_hash_alg_name(qpki_hash_alg alg)
{
    switch (alg) {
    case QPKI_HASH_SHA1: return "sha1";
    case QPKI_HASH_SHA256: return "sha256";
    case QPKI_HASH_SHA384: return "sha384";
    case QPKI_HASH_SHA512: return "sha512";
    case QPKI_HASH_NONE: break;
    }
    return "none";
}

qpki_status qpki_hash_alg_from_name(const char *name, qpki_hash_alg *out)
{
    static const struct { const char *a, *b; qpki_hash_alg alg; } map[] = {
        {"sha1", "sha-1", QPKI_HASH_SHA1},       {"sha256", "sha-256", QPKI_HASH_SHA256},
        {"sha384", "sha-384", QPKI_HASH_SHA384}, {"sha512", "sha-512", QPKI_HASH_SHA512},
    };
    QPKI_ENSURE(name && out, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < QPKI_ARRAY_LEN(map); i++) {
        if (!strcasecmp(name, map[i].a) || !strcasecmp(name, map[i].b)) {
            *out = map[i].alg;
            return QPKI_OK;
        }
    }
    return QPKI_ERR_PARSE;
}

const char *qpki_sig_alg_name(qpki_sig_alg alg)
{
    switch (alg) {
    case QPKI_SIG_ECDSA_SHA256: return "ecdsa-with-SHA256";
    case QPKI_SIG_ECDSA_SHA384: return "ecdsa-with-SHA384";
    case QPKI_SIG_ECDSA_SHA512: return "ecdsa-with-SHA512";
    case QPKI_SIG_RSA_PKCS1_SHA256: return "sha256WithRSAEncryption";
    case QPKI_SIG_RSA_PKCS1_SHA384: return "sha384WithRSAEncryption";
    case QPKI_SIG_RSA_PKCS1_SHA512: return "sha512WithRSAEncryption";
    case QPKI_SIG_RSA_PSS_SHA256: return "rsassaPss-SHA256";
    case QPKI_SIG_RSA_PSS_SHA384: return "rsassaPss-SHA384";
    case QPKI_SIG_RSA_PSS_SHA512: return "rsassaPss-SHA512";
    case QPKI_SIG_ED25519: return "ED25519";
    case QPKI_SIG_ED448: return "ED448";
    case QPKI_SIG_ML_DSA_44: return "ML-DSA-44";
    case QPKI_SIG_ML_DSA_65: return "ML-DSA-65";
    case QPKI_SIG_ML_DSA_87: return "ML-DSA-87";
    case QPKI_SIG_UNKNOWN: break;
    }
    return "unknown";
}

qpki_status qpki_sig_alg_from_name(const char *name, qpki_sig_alg *out)
{
    /* the name qpki_sig_alg_name prints, or a short form */
    static const struct { const char *b; qpki_sig_alg alg; } map[] = {
        {"ecdsa-sha256", QPKI_SIG_ECDSA_SHA256},   {"ecdsa-sha384", QPKI_SIG_ECDSA_SHA384},
        {"ecdsa-sha512", QPKI_SIG_ECDSA_SHA512},   {"rsa-sha256", QPKI_SIG_RSA_PKCS1_SHA256},
        {"rsa-sha384", QPKI_SIG_RSA_PKCS1_SHA384}, {"rsa-sha512", QPKI_SIG_RSA_PKCS1_SHA512},
        {"rsa-pss-sha256", QPKI_SIG_RSA_PSS_SHA256}, {"rsa-pss-sha384", QPKI_SIG_RSA_PSS_SHA384},
        {"rsa-pss-sha512", QPKI_SIG_RSA_PSS_SHA512}, {"ed25519", QPKI_SIG_ED25519},
        {"ed448", QPKI_SIG_ED448},                 {"ml-dsa-44", QPKI_SIG_ML_DSA_44},
        {"ml-dsa-65", QPKI_SIG_ML_DSA_65},         {"ml-dsa-87", QPKI_SIG_ML_DSA_87},
    };
    QPKI_ENSURE(name && out, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < QPKI_ARRAY_LEN(map); i++) {
        if (!strcasecmp(name, map[i].b) || !strcasecmp(name, qpki_sig_alg_name(map[i].alg))) {
            *out = map[i].alg;
            return QPKI_OK;
        }
    }
    return QPKI_ERR_PARSE;
}

const char *qpki_key_alg_name(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return "ecdsa-p256";
    case QPKI_KEY_EC_P384: return "ecdsa-p384";
    case QPKI_KEY_EC_P521: return "ecdsa-p521";
    case QPKI_KEY_RSA: return "rsa";
    case QPKI_KEY_ED25519: return "ed25519";
    case QPKI_KEY_ED448: return "ed448";
    case QPKI_KEY_ML_DSA_44: return "ml-dsa-44";
    case QPKI_KEY_ML_DSA_65: return "ml-dsa-65";
    case QPKI_KEY_ML_DSA_87: return "ml-dsa-87";
    case QPKI_KEY_UNKNOWN: break;
    }
    return "unknown";
}

const char *qpki_cert_status_name(qpki_cert_status status)
{
    switch (status) {
    case QPKI_CERT_STATUS_GOOD: return "good";
    case QPKI_CERT_STATUS_REVOKED: return "revoked";
    case QPKI_CERT_STATUS_UNKNOWN: return "unknown";
    }
    return "invalid";
}

const char *qpki_ocsp_resp_status_name(qpki_ocsp_resp_status status)
{
    switch (status) {
    case QPKI_OCSP_RESP_SUCCESSFUL: return "successful";
    case QPKI_OCSP_RESP_MALFORMED: return "malformedRequest";
    case QPKI_OCSP_RESP_INTERNAL_ERROR: return "internalError";
    case QPKI_OCSP_RESP_TRY_LATER: return "tryLater";
    case QPKI_OCSP_RESP_SIG_REQUIRED: return "sigRequired";
    case QPKI_OCSP_RESP_UNAUTHORIZED: return "unauthorized";
    }
    return "invalid";
}

/* RFC 5280 §5.3.1 CRLReason names; index = value. */
static const char *const reason_names[] = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
    "aACompromise",
};

const char *qpki_crl_reason_name(qpki_crl_reason reason)
{
    if (reason == QPKI_REASON_NONE)
        return "none";
    if ((int)reason < 0 || (size_t)reason >= QPKI_ARRAY_LEN(reason_names))
        return NULL;
    return reason_names[reason];
}

qpki_status qpki_crl_reason_from_name(const char *name, qpki_crl_reason *out)
{
    QPKI_ENSURE(name && out, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < QPKI_ARRAY_LEN(reason_names); i++) {
        if (reason_names[i] && !strcasecmp(name, reason_names[i])) {
            *out = (qpki_crl_reason)i;
            return QPKI_OK;
        }
    }
    /* OpenSSL's index.txt spellings (crypto/x509/v3_crld / apps/ca.c). */
    static const struct { const char *name; qpki_crl_reason r; } alias[] = {
        {"CACompromise", QPKI_REASON_CA_COMPROMISE},
        {"AACompromise", QPKI_REASON_AA_COMPROMISE},
        {"holdInstruction", QPKI_REASON_CERTIFICATE_HOLD},
        {"keyTime", QPKI_REASON_KEY_COMPROMISE},
        {"CAkeyTime", QPKI_REASON_CA_COMPROMISE},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(alias); i++) {
        if (!strcasecmp(name, alias[i].name)) {
            *out = alias[i].r;
            return QPKI_OK;
        }
    }
    return QPKI_ERR_PARSE;
}

qpki_sig_alg qpki_default_sig_alg(qpki_key_alg key)
{
    switch (key) {
    case QPKI_KEY_EC_P256: return QPKI_SIG_ECDSA_SHA256;
    case QPKI_KEY_EC_P384: return QPKI_SIG_ECDSA_SHA384;
    case QPKI_KEY_EC_P521: return QPKI_SIG_ECDSA_SHA512;
    case QPKI_KEY_RSA: return QPKI_SIG_RSA_PKCS1_SHA256;
    case QPKI_KEY_ED25519: return QPKI_SIG_ED25519;
    case QPKI_KEY_ED448: return QPKI_SIG_ED448;
    case QPKI_KEY_ML_DSA_44: return QPKI_SIG_ML_DSA_44;
    case QPKI_KEY_ML_DSA_65: return QPKI_SIG_ML_DSA_65;
    case QPKI_KEY_ML_DSA_87: return QPKI_SIG_ML_DSA_87;
    case QPKI_KEY_UNKNOWN: break;
    }
    return QPKI_SIG_UNKNOWN;
}

/* RFC 5480 §2.1.1.1 namedCurve: secp256r1, secp384r1, secp521r1. */
qpki_key_alg qpki_ec_curve_alg(const uint8_t *oid, size_t oid_len)
{
    der_view v = {oid, oid_len};
    if (der_oid_eq(v, OID_P256))
        return QPKI_KEY_EC_P256;
    if (der_oid_eq(v, OID_P384))
        return QPKI_KEY_EC_P384;
    if (der_oid_eq(v, OID_P521))
        return QPKI_KEY_EC_P521;
    return QPKI_KEY_UNKNOWN;
}

const char *qpki_oid_short_name(const uint8_t *oid, size_t len)
{
    static const struct {
        der_oid oid;
        const char *name;
    } names[] = {
        {OID_OCSP_BASIC, "id-pkix-ocsp-basic"},
        {OID_OCSP_NONCE, "nonce"},
        {OID_OCSP_CRL, "crlID"},
        {OID_OCSP_RESPONSE, "acceptableResponses"},
        {OID_OCSP_NOCHECK, "ocsp-nocheck"},
        {OID_OCSP_ARCHIVE_CUTOFF, "archiveCutoff"},
        {OID_OCSP_SERVICE_LOCATOR, "serviceLocator"},
        {OID_OCSP_PREF_SIG_ALGS, "preferredSignatureAlgorithms"},
        {OID_OCSP_EXTENDED_REVOKE, "extendedRevoke"},
        {OID_CE_SUBJECT_KEY_ID, "subjectKeyIdentifier"},
        {OID_CE_KEY_USAGE, "keyUsage"},
        {OID_CE_SUBJECT_ALT_NAME, "subjectAltName"},
        {OID_CE_ISSUER_ALT_NAME, "issuerAltName"},
        {OID_CE_BASIC_CONSTRAINTS, "basicConstraints"},
        {OID_CE_CRL_NUMBER, "cRLNumber"},
        {OID_CE_CRL_REASON, "reasonCode"},
        {OID_CE_HOLD_INSTRUCTION, "holdInstructionCode"},
        {OID_CE_INVALIDITY_DATE, "invalidityDate"},
        {OID_CE_DELTA_CRL_INDICATOR, "deltaCRLIndicator"},
        {OID_CE_ISSUING_DP, "issuingDistributionPoint"},
        {OID_CE_CERTIFICATE_ISSUER, "certificateIssuer"},
        {OID_CE_CRL_DISTRIBUTION, "cRLDistributionPoints"},
        {OID_CE_CERT_POLICIES, "certificatePolicies"},
        {OID_CE_AUTHORITY_KEY_ID, "authorityKeyIdentifier"},
        {OID_CE_EXT_KEY_USAGE, "extKeyUsage"},
        {OID_CE_FRESHEST_CRL, "freshestCRL"},
        {OID_CE_ALT_SPKI, "subjectAltPublicKeyInfo"},
        {OID_CE_ALT_SIG_ALG, "altSignatureAlgorithm"},
        {OID_CE_ALT_SIG_VALUE, "altSignatureValue"},
        {OID_PE_AIA, "authorityInfoAccess"},
    };
    der_view v = {oid, len};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(names); i++)
        if (der_oid_eq(v, names[i].oid))
            return names[i].name;
    return NULL;
}

qpki_status qpki_oid_to_text(const uint8_t *oid, size_t len, char *buf, size_t size)
{
    QPKI_ENSURE(buf && size > 0, QPKI_ERR_INVALID_ARG);
    buf[0] = '\0';
    QPKI_ENSURE(oid || len == 0, QPKI_ERR_INVALID_ARG);
    return der_oid_to_text((der_view){oid, len}, buf, size);
}
