/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/types.h - OCSP and X.509 protocol values shared by several headers.
 * Enums are append-only with explicit values. */
#ifndef QPKI_TYPES_H
#define QPKI_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 6960 §4.2.1 OCSPResponseStatus (values are the ENUMERATED values). */
typedef enum qpki_ocsp_resp_status {
    QPKI_OCSP_RESP_SUCCESSFUL = 0,
    QPKI_OCSP_RESP_MALFORMED = 1,
    QPKI_OCSP_RESP_INTERNAL_ERROR = 2,
    QPKI_OCSP_RESP_TRY_LATER = 3,
    /* 4 is not used */
    QPKI_OCSP_RESP_SIG_REQUIRED = 5,
    QPKI_OCSP_RESP_UNAUTHORIZED = 6
} qpki_ocsp_resp_status;

/* RFC 6960 §4.2.1 CertStatus CHOICE. */
typedef enum qpki_cert_status {
    QPKI_CERT_STATUS_GOOD = 0,
    QPKI_CERT_STATUS_REVOKED = 1,
    QPKI_CERT_STATUS_UNKNOWN = 2
} qpki_cert_status;

/* RFC 5280 §5.3.1 CRLReason; QPKI_REASON_NONE means "no reason given". */
typedef enum qpki_crl_reason {
    QPKI_REASON_NONE = -1,
    QPKI_REASON_UNSPECIFIED = 0,
    QPKI_REASON_KEY_COMPROMISE = 1,
    QPKI_REASON_CA_COMPROMISE = 2,
    QPKI_REASON_AFFILIATION_CHANGED = 3,
    QPKI_REASON_SUPERSEDED = 4,
    QPKI_REASON_CESSATION_OF_OPERATION = 5,
    QPKI_REASON_CERTIFICATE_HOLD = 6,
    /* 7 is not used */
    QPKI_REASON_REMOVE_FROM_CRL = 8,
    QPKI_REASON_PRIVILEGE_WITHDRAWN = 9,
    QPKI_REASON_AA_COMPROMISE = 10
} qpki_crl_reason;

/* Hash algorithms (CertID hashes, signature digests). */
typedef enum qpki_hash_alg {
    QPKI_HASH_NONE = 0,
    QPKI_HASH_SHA1 = 1,
    QPKI_HASH_SHA256 = 2,
    QPKI_HASH_SHA384 = 3,
    QPKI_HASH_SHA512 = 4
} qpki_hash_alg;

/* Signature algorithms we can produce or check. */
typedef enum qpki_sig_alg {
    QPKI_SIG_UNKNOWN = 0,
    QPKI_SIG_ECDSA_SHA256 = 1,
    QPKI_SIG_ECDSA_SHA384 = 2,
    QPKI_SIG_ECDSA_SHA512 = 3,
    QPKI_SIG_RSA_PKCS1_SHA256 = 4,
    QPKI_SIG_RSA_PKCS1_SHA384 = 5,
    QPKI_SIG_RSA_PKCS1_SHA512 = 6,
    QPKI_SIG_RSA_PSS_SHA256 = 7,  /* MGF1-SHA256, salt 32, trailer 1 */
    QPKI_SIG_ED25519 = 8,
    QPKI_SIG_ED448 = 9,
    QPKI_SIG_ML_DSA_44 = 10,
    QPKI_SIG_ML_DSA_65 = 11,
    QPKI_SIG_ML_DSA_87 = 12,
    QPKI_SIG_RSA_PSS_SHA384 = 13, /* MGF1-SHA384, salt 48 */
    QPKI_SIG_RSA_PSS_SHA512 = 14  /* MGF1-SHA512, salt 64 */
} qpki_sig_alg;

/* Key algorithms (what a key is, independent of the signature digest). */
typedef enum qpki_key_alg {
    QPKI_KEY_UNKNOWN = 0,
    QPKI_KEY_EC_P256 = 1,
    QPKI_KEY_EC_P384 = 2,
    QPKI_KEY_EC_P521 = 3,
    QPKI_KEY_RSA = 4,
    QPKI_KEY_ED25519 = 5,
    QPKI_KEY_ED448 = 6,
    QPKI_KEY_ML_DSA_44 = 7,
    QPKI_KEY_ML_DSA_65 = 8,
    QPKI_KEY_ML_DSA_87 = 9
} qpki_key_alg;

/* Names used by the CLI and logs: "sha256", "ecdsa-with-SHA256", "keyCompromise", ... */
QPKI_API const char *qpki_hash_alg_name(qpki_hash_alg alg);
QPKI_API const char *qpki_sig_alg_name(qpki_sig_alg alg);
/* The algorithm for a name qpki_sig_alg_name prints or a short form
 * (ecdsa-sha256, rsa-sha256, rsa-pss-sha256, ed25519, ed448, ml-dsa-65, ...),
 * case-insensitive; QPKI_ERR_PARSE when unknown.  Since QPKI_1.0 (added before
 * the 1.0.0 release). */
QPKI_API qpki_status qpki_sig_alg_from_name(const char *name, qpki_sig_alg *out);
QPKI_API const char *qpki_key_alg_name(qpki_key_alg alg);
QPKI_API const char *qpki_cert_status_name(qpki_cert_status status);
QPKI_API const char *qpki_ocsp_resp_status_name(qpki_ocsp_resp_status status);
/* RFC 5280 camelCase name; "none" for QPKI_REASON_NONE; NULL for unassigned values. */
QPKI_API const char *qpki_crl_reason_name(qpki_crl_reason reason);
/* Case-insensitive parse of an RFC 5280 name or OpenSSL's spelling ("CACompromise"). */
QPKI_API qpki_status qpki_crl_reason_from_name(const char *name, qpki_crl_reason *out);
/* "sha1" "sha256" "sha384" "sha512" (case-insensitive; "sha-256" accepted). */
QPKI_API qpki_status qpki_hash_alg_from_name(const char *name, qpki_hash_alg *out);
/* The dotted text ("1.3.6.1.5.5.7.48.1.2") of an OBJECT IDENTIFIER's content
 * octets.  QPKI_ERR_BUFFER_TOO_SMALL: buf holds the arcs that fit (size 128
 * holds every OID met in practice); QPKI_ERR_TOO_LARGE: an arc beyond 64
 * bits; QPKI_ERR_DECODE: no octets or a truncated last arc.  buf is a string
 * in every case (size > 0).  Since QPKI_1.1. */
QPKI_API qpki_status qpki_oid_to_text(const uint8_t *oid, size_t len, char *buf, size_t size);

/* Seconds since the Unix epoch, UTC. All times in the API use this type. */
typedef int64_t qpki_time;

#ifdef __cplusplus
}
#endif
#endif
