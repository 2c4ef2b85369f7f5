/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/request.h - RFC 6960 §4.1 OCSP requests: parse and build.
 *
 *   OCSPRequest ::= SEQUENCE {
 *       tbsRequest              TBSRequest,
 *       optionalSignature   [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest ::= SEQUENCE {
 *       version             [0] EXPLICIT Version DEFAULT v1,
 *       requestorName       [1] EXPLICIT GeneralName OPTIONAL,
 *       requestList             SEQUENCE OF Request,
 *       requestExtensions   [2] EXPLICIT Extensions OPTIONAL }
 *
 * Parsing is strict DER and bounded by qpki_limits (CertID count, size).  A
 * request signature is kept (algorithm, value, certs) but not checked: responders
 * built on this library accept signed requests and ignore the signature.
 *
 * Thread safety: a parsed request is immutable and may be shared. */
#ifndef QPKI_REQUEST_H
#define QPKI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/certid.h>
#include <qpki/export.h>
#include <qpki/limits.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_ocsp_request qpki_ocsp_request;

/* Parse a DER OCSPRequest.  limits may be NULL (defaults).  Errors:
 * QPKI_ERR_TOO_LARGE (size), QPKI_ERR_TOO_MANY_CERTIDS, QPKI_ERR_NONCE_LENGTH
 * (RFC 9654: nonce of 0 or more than 128 octets), QPKI_ERR_BAD_VERSION, and the
 * DER errors (QPKI_ERR_TRUNCATED, QPKI_ERR_TRAILING_DATA, ...).  Every error
 * maps to the malformedRequest response.  The request keeps views into a private
 * copy of the bytes. */
QPKI_API qpki_status qpki_ocsp_request_parse(const uint8_t *der, size_t len,
                                             const qpki_limits *limits,
                                             qpki_ocsp_request **out);
/* The same; on failure error (may be NULL) receives one line naming the field and
 * the byte offset, e.g. "tbsRequest: requestExtensions: extensions[1]: duplicate
 * extension 1.3.6.1.5.5.7.48.1.2 (nonce) at byte 97", "OCSPRequest: truncated
 * at byte 41 of 83: SEQUENCE (0x30)".  The line never holds input bytes as text:
 * OIDs are printed dotted (at most 63 characters), tags and offsets as numbers.
 * Since QPKI_1.1. */
QPKI_API qpki_status qpki_ocsp_request_parse_err(const uint8_t *der, size_t len,
                                                 const qpki_limits *limits, char *error,
                                                 size_t error_size, qpki_ocsp_request **out);
QPKI_API void qpki_ocsp_request_free(qpki_ocsp_request **req);

QPKI_API size_t qpki_ocsp_request_count(const qpki_ocsp_request *req);
/* The i-th CertID (borrowed; NULL when out of range). */
QPKI_API const qpki_certid *qpki_ocsp_request_certid(const qpki_ocsp_request *req, size_t i);
/* Nonce value (the octets inside Nonce ::= OCTET STRING); QPKI_ERR_NOT_FOUND when
 * the request has no nonce. */
QPKI_API qpki_status qpki_ocsp_request_nonce(const qpki_ocsp_request *req,
                                             const uint8_t **nonce, size_t *len);
/* requestorName GeneralName (whole TLV); QPKI_ERR_NOT_FOUND when absent. */
QPKI_API qpki_status qpki_ocsp_request_requestor_name(const qpki_ocsp_request *req,
                                                      const uint8_t **der, size_t *len);
QPKI_API bool qpki_ocsp_request_is_signed(const qpki_ocsp_request *req);
/* requestExtensions: count and the i-th (OID contents, critical, extnValue
 * contents). */
QPKI_API size_t qpki_ocsp_request_extension_count(const qpki_ocsp_request *req);
QPKI_API qpki_status qpki_ocsp_request_extension(const qpki_ocsp_request *req, size_t i,
                                                 const uint8_t **oid, size_t *oid_len,
                                                 bool *critical, const uint8_t **value,
                                                 size_t *value_len);
/* RFC 6960 §4.4.7 Preferred Signature Algorithms, in the client's order of
 * preference: the number listed, and the i-th sigIdentifier as an enum
 * (QPKI_SIG_UNKNOWN for algorithms we do not know). */
QPKI_API size_t qpki_ocsp_request_pref_sig_alg_count(const qpki_ocsp_request *req);
QPKI_API qpki_sig_alg qpki_ocsp_request_pref_sig_alg(const qpki_ocsp_request *req, size_t i);
/* The whole DER encoding. */
QPKI_API void qpki_ocsp_request_der(const qpki_ocsp_request *req, const uint8_t **der,
                                    size_t *len);

/* Build an unsigned request for n CertIDs with an optional nonce (nonce may be
 * NULL; otherwise 1..128 octets) encoded as RFC 9654 §2.1 requires (extnValue =
 * DER of Nonce ::= OCTET STRING).  *out is freed with qpki_free. */
QPKI_API qpki_status qpki_ocsp_request_encode(const qpki_certid *const *ids, size_t n,
                                              const uint8_t *nonce, size_t nonce_len,
                                              uint8_t **out, size_t *out_len);
/* The same, plus (npref > 0) an RFC 6960 §4.4.7 Preferred Signature Algorithms
 * extension listing prefs[0..npref) in order of preference (at most 16;
 * QPKI_ERR_UNSUPPORTED_ALGORITHM for QPKI_SIG_UNKNOWN).  Since QPKI_1.0
 * (added before the 1.0.0 release). */
QPKI_API qpki_status qpki_ocsp_request_encode_prefs(const qpki_certid *const *ids, size_t n,
                                                    const uint8_t *nonce, size_t nonce_len,
                                                    const qpki_sig_alg *prefs, size_t npref,
                                                    uint8_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
