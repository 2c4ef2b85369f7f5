/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/response.h - RFC 6960 §4.2 OCSP responses: build and parse.
 *
 *   OCSPResponse ::= SEQUENCE {
 *      responseStatus         OCSPResponseStatus,
 *      responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
 *   BasicOCSPResponse ::= SEQUENCE {
 *      tbsResponseData      ResponseData,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signature            BIT STRING,
 *      certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *
 * Thread safety: a builder belongs to one thread; a parsed response is immutable
 * and may be shared. */
#ifndef QPKI_RESPONSE_H
#define QPKI_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/export.h>
#include <qpki/signer.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- building ------------------------------------------------------------ */

typedef struct qpki_ocsp_response_builder qpki_ocsp_response_builder;

QPKI_API qpki_status qpki_ocsp_response_builder_new(qpki_ocsp_response_builder **out);
QPKI_API void qpki_ocsp_response_builder_free(qpki_ocsp_response_builder **b);

/* ResponderID byKey: SHA-1 of the subjectPublicKey BIT STRING value of spki (RFC
 * 6960 §4.2.1 KeyHash).  This is the default when the builder is signed without
 * a responder ID: the signer's public key is used. */
QPKI_API qpki_status qpki_ocsp_response_builder_set_responder_by_key(
    qpki_ocsp_response_builder *b, const uint8_t *spki_der, size_t spki_len);
/* ResponderID byName: the responder certificate's subject Name (DER TLV). */
QPKI_API qpki_status qpki_ocsp_response_builder_set_responder_by_name(
    qpki_ocsp_response_builder *b, const uint8_t *name_der, size_t name_len);
/* producedAt (default: the time of qpki_ocsp_response_builder_sign). */
QPKI_API qpki_status qpki_ocsp_response_builder_set_produced_at(qpki_ocsp_response_builder *b,
                                                                qpki_time t);
/* Append a SingleResponse.  revocation_time and reason are used for
 * QPKI_CERT_STATUS_REVOKED only (reason QPKI_REASON_NONE omits the reason);
 * next_update 0 omits nextUpdate (responders built on this library always set it).
 * The CertID is encoded exactly as id's DER (a parsed CertID echoes the request). */
QPKI_API qpki_status qpki_ocsp_response_builder_add_single(qpki_ocsp_response_builder *b,
                                                           const qpki_certid *id,
                                                           qpki_cert_status status,
                                                           qpki_time revocation_time,
                                                           qpki_crl_reason reason,
                                                           qpki_time this_update,
                                                           qpki_time next_update);
/* Add a singleExtension to the most recently added SingleResponse (e.g. RFC 5280
 * invalidity date, RFC 6960 §4.4.4 archive cutoff). value = extnValue contents. */
QPKI_API qpki_status qpki_ocsp_response_builder_add_single_extension(
    qpki_ocsp_response_builder *b, const uint8_t *oid, size_t oid_len, bool critical,
    const uint8_t *value, size_t value_len);
/* Echo a nonce: the octets inside Nonce (1..128); encoded as RFC 9654 §2.1. */
QPKI_API qpki_status qpki_ocsp_response_builder_set_nonce(qpki_ocsp_response_builder *b,
                                                          const uint8_t *nonce, size_t len);
/* Add a responseExtension (oid contents, extnValue contents). */
QPKI_API qpki_status qpki_ocsp_response_builder_add_extension(qpki_ocsp_response_builder *b,
                                                              const uint8_t *oid,
                                                              size_t oid_len, bool critical,
                                                              const uint8_t *value,
                                                              size_t value_len);
/* Include a certificate in BasicOCSPResponse.certs (e.g. the delegated responder
 * certificate).  The certificate is referenced, not copied: keep it alive until
 * the builder is freed. */
QPKI_API qpki_status qpki_ocsp_response_builder_add_cert(qpki_ocsp_response_builder *b,
                                                         const qpki_cert *cert);
/* Catalyst hybrid (docs/CATALYST.md): also sign with alt (an ML-DSA signer).  The
 * response then carries non-critical responseExtensions altSignatureAlgorithm
 * (2.5.29.73) and altSignatureValue (2.5.29.74); the alternative signature covers
 * tbsResponseData encoded without the 2.5.29.74 extension, and the classical
 * signature covers all of it.  alt is referenced; NULL removes it. */
QPKI_API qpki_status qpki_ocsp_response_builder_set_alt_signer(qpki_ocsp_response_builder *b,
                                                               qpki_signer *alt);
/* Encode tbsResponseData, sign it with signer and return the complete DER
 * OCSPResponse (free with qpki_free).  QPKI_ERR_SIGNER_UNAVAILABLE passes through
 * from the signer. */
QPKI_API qpki_status qpki_ocsp_response_builder_sign(qpki_ocsp_response_builder *b,
                                                     qpki_signer *signer, uint8_t **out,
                                                     size_t *out_len);

/* The unsigned OCSPResponse for a non-successful status (malformedRequest,
 * internalError, tryLater, sigRequired, unauthorized): 30 03 0a 01 <status>.
 * *out points to static storage and must not be freed. */
QPKI_API qpki_status qpki_ocsp_response_error_der(qpki_ocsp_resp_status status,
                                                  const uint8_t **out, size_t *out_len);

/* ---- parsing --------------------------------------------------------------- */

typedef struct qpki_ocsp_response qpki_ocsp_response;
typedef struct qpki_ocsp_single qpki_ocsp_single;

/* Parse a DER OCSPResponse (strict DER).  Non-successful responses parse too (they
 * have no body).  Unknown responseTypes parse with no basic response. */
QPKI_API qpki_status qpki_ocsp_response_parse(const uint8_t *der, size_t len,
                                              qpki_ocsp_response **out);
/* The same; on failure error (may be NULL) receives one line naming the field and
 * the byte offset, e.g. "BasicOCSPResponse: tbsResponseData: responses[0]:
 * certStatus: tag 0x83 is none of good [0], revoked [1], unknown [2] at byte 120",
 * "OCSPResponse: truncated at byte 600 of 1203: SEQUENCE (0x30)".  OIDs are
 * printed dotted (at most 63 characters), tags and offsets as numbers.  Since
 * QPKI_1.1. */
QPKI_API qpki_status qpki_ocsp_response_parse_err(const uint8_t *der, size_t len, char *error,
                                                  size_t error_size, qpki_ocsp_response **out);
/* responseType of responseBytes (OID contents octets, borrowed): id-pkix-ocsp-basic
 * or another type the library does not decode (qpki_ocsp_response_is_basic false).
 * QPKI_ERR_NOT_FOUND for a response without responseBytes.  Since QPKI_1.1. */
QPKI_API qpki_status qpki_ocsp_response_type(const qpki_ocsp_response *resp,
                                             const uint8_t **oid, size_t *len);
QPKI_API void qpki_ocsp_response_free(qpki_ocsp_response **resp);

QPKI_API qpki_ocsp_resp_status qpki_ocsp_response_status(const qpki_ocsp_response *resp);
/* True when responseBytes hold an id-pkix-ocsp-basic response. */
QPKI_API bool qpki_ocsp_response_is_basic(const qpki_ocsp_response *resp);
/* ResponderID: *by_key true for byKey (value = the 20-byte KeyHash), false for
 * byName (value = the Name TLV). */
QPKI_API qpki_status qpki_ocsp_response_responder_id(const qpki_ocsp_response *resp,
                                                     bool *by_key, const uint8_t **value,
                                                     size_t *len);
QPKI_API qpki_time qpki_ocsp_response_produced_at(const qpki_ocsp_response *resp);
QPKI_API size_t qpki_ocsp_response_single_count(const qpki_ocsp_response *resp);
QPKI_API const qpki_ocsp_single *qpki_ocsp_response_single(const qpki_ocsp_response *resp,
                                                           size_t i);
/* The nonce octets echoed in responseExtensions; QPKI_ERR_NOT_FOUND if none. */
QPKI_API qpki_status qpki_ocsp_response_nonce(const qpki_ocsp_response *resp,
                                              const uint8_t **nonce, size_t *len);
QPKI_API size_t qpki_ocsp_response_extension_count(const qpki_ocsp_response *resp);
QPKI_API qpki_status qpki_ocsp_response_extension(const qpki_ocsp_response *resp, size_t i,
                                                  const uint8_t **oid, size_t *oid_len,
                                                  bool *critical, const uint8_t **value,
                                                  size_t *value_len);
QPKI_API qpki_sig_alg qpki_ocsp_response_sig_alg(const qpki_ocsp_response *resp);
/* signatureAlgorithm TLV, signature BIT STRING value, tbsResponseData TLV. */
QPKI_API void qpki_ocsp_response_sig_alg_der(const qpki_ocsp_response *resp,
                                             const uint8_t **der, size_t *len);
QPKI_API void qpki_ocsp_response_signature(const qpki_ocsp_response *resp,
                                           const uint8_t **sig, size_t *len);
QPKI_API void qpki_ocsp_response_tbs(const qpki_ocsp_response *resp, const uint8_t **der,
                                     size_t *len);
/* Catalyst: the altSignatureAlgorithm (AlgorithmIdentifier TLV) and the
 * altSignatureValue bits; QPKI_ERR_NOT_FOUND when the response has none. */
QPKI_API qpki_status qpki_ocsp_response_alt_signature(const qpki_ocsp_response *resp,
                                                      const uint8_t **alg_der, size_t *alg_len,
                                                      const uint8_t **sig, size_t *sig_len);
/* Certificates in BasicOCSPResponse.certs. */
QPKI_API size_t qpki_ocsp_response_cert_count(const qpki_ocsp_response *resp);
QPKI_API const qpki_cert *qpki_ocsp_response_cert(const qpki_ocsp_response *resp, size_t i);
/* The whole DER encoding. */
QPKI_API void qpki_ocsp_response_der(const qpki_ocsp_response *resp, const uint8_t **der,
                                     size_t *len);

/* SingleResponse accessors. */
QPKI_API const qpki_certid *qpki_ocsp_single_certid(const qpki_ocsp_single *s);
QPKI_API qpki_cert_status qpki_ocsp_single_status(const qpki_ocsp_single *s);
QPKI_API qpki_time qpki_ocsp_single_revocation_time(const qpki_ocsp_single *s);
/* QPKI_REASON_NONE when the response gives no reason. */
QPKI_API qpki_crl_reason qpki_ocsp_single_reason(const qpki_ocsp_single *s);
QPKI_API qpki_time qpki_ocsp_single_this_update(const qpki_ocsp_single *s);
/* 0 when nextUpdate is absent. */
QPKI_API qpki_time qpki_ocsp_single_next_update(const qpki_ocsp_single *s);
QPKI_API size_t qpki_ocsp_single_extension_count(const qpki_ocsp_single *s);
QPKI_API qpki_status qpki_ocsp_single_extension(const qpki_ocsp_single *s, size_t i,
                                                const uint8_t **oid, size_t *oid_len,
                                                bool *critical, const uint8_t **value,
                                                size_t *value_len);

#ifdef __cplusplus
}
#endif
#endif
