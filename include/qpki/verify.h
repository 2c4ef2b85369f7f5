/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/verify.h - checking an OCSP response the way a relying party must.
 *
 * RFC 6960 §3.2: "Prior to accepting a signed response for a particular
 * certificate as valid, OCSP clients SHALL confirm that:
 *   1. The certificate identified in a received response corresponds to the
 *      certificate that was identified in the corresponding request;
 *   2. The signature on the response is valid;
 *   3. The identity of the signer matches the intended recipient of the request;
 *   4. The signer is currently authorized to provide a response for the
 *      certificate in question;
 *   5. The time at which the status being indicated is known to be correct
 *      (thisUpdate) is sufficiently recent;
 *   6. When available, the time at or before which newer information will be
 *      available about the status of the certificate (nextUpdate) is greater than
 *      the current time."
 *
 * The verifier trusts exactly one CA (set_ca).  The response is accepted when it
 * is signed by that CA's key, or by a certificate in the response that the CA
 * issued, that carries id-kp-OCSPSigning (RFC 6960 §4.2.2.2) and is valid now.
 *
 * Thread safety: a verifier belongs to one thread. */
#ifndef QPKI_VERIFY_H
#define QPKI_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/export.h>
#include <qpki/response.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_ocsp_verifier qpki_ocsp_verifier;

QPKI_API qpki_status qpki_ocsp_verifier_new(qpki_ocsp_verifier **out);
QPKI_API void qpki_ocsp_verifier_free(qpki_ocsp_verifier **v);

/* The CA that issued the certificates in question (required).  Referenced, not
 * copied: keep it alive while the verifier is used. */
QPKI_API qpki_status qpki_ocsp_verifier_set_ca(qpki_ocsp_verifier *v, const qpki_cert *ca);
/* Verification time (default: the current time when verify is called). */
QPKI_API qpki_status qpki_ocsp_verifier_set_time(qpki_ocsp_verifier *v, qpki_time now);
/* Tolerated clock skew in seconds for thisUpdate/producedAt in the future and
 * nextUpdate in the past (default 300, as OpenSSL's ocsp -validity_period). */
QPKI_API qpki_status qpki_ocsp_verifier_set_skew(qpki_ocsp_verifier *v, int64_t seconds);
/* Reject responses whose thisUpdate is older than max_age seconds (default -1:
 * no limit; nextUpdate is always enforced when present). */
QPKI_API qpki_status qpki_ocsp_verifier_set_max_age(qpki_ocsp_verifier *v, int64_t max_age);
/* Expect this nonce echoed (QPKI_ERR_NONCE_MISSING / QPKI_ERR_NONCE_MISMATCH). */
QPKI_API qpki_status qpki_ocsp_verifier_set_nonce(qpki_ocsp_verifier *v, const uint8_t *nonce,
                                                  size_t len);
/* Expect a SingleResponse for this CertID (copied); may be called several times.
 * Matching compares hash algorithm, both hashes and the serial; a response for
 * the same certificate under another hash algorithm also matches when its hashes
 * are those of the CA. */
QPKI_API qpki_status qpki_ocsp_verifier_expect_certid(qpki_ocsp_verifier *v,
                                                      const qpki_certid *id);
/* Expect a SingleResponse for this serial (magnitude) issued by the CA, whatever
 * the CertID hash algorithm. */
QPKI_API qpki_status qpki_ocsp_verifier_expect_serial(qpki_ocsp_verifier *v,
                                                      const uint8_t *serial, size_t len);

/* Post-quantum protection: Catalyst hybrid responses (docs/CATALYST.md) and pure
 * ML-DSA ones.  For a delegated responder the verifier also looks at how the CA
 * bound the responder certificate: signed with ML-DSA, or with a Catalyst
 * alternative signature that verifies with the CA's altSubjectPublicKeyInfo
 * (qpki_cert_verify_alt_signature) - post-quantum end to end - or with a
 * classical signature only (QPKI_PQ_UNCHAINED).  A responder certificate whose
 * alternative signature is present but wrong fails with QPKI_ERR_PQ_SIGNATURE. */
typedef enum qpki_pq_result {
    QPKI_PQ_ABSENT = 0,   /* classical only: no ML-DSA signature, no alternative one */
    QPKI_PQ_OK = 1,       /* the alternative (Catalyst) signature verified; the signer
                             is the CA or a responder it bound post-quantum */
    QPKI_PQ_NO_KEY = 2,   /* present, but the signer certificate has no
                             altSubjectPublicKeyInfo and none was given */
    QPKI_PQ_PURE = 3,     /* the response signature itself is ML-DSA; signer bound
                             post-quantum as for QPKI_PQ_OK */
    QPKI_PQ_UNCHAINED = 4 /* the response's post-quantum signature (alternative or
                             ML-DSA) verified, but the delegated responder
                             certificate carries only a classical signature by the
                             CA */
} qpki_pq_result;
/* What post-quantum protection a response must have (default NONE: classical-only
 * responses verify). */
typedef enum qpki_pq_requirement {
    QPKI_PQ_REQUIRE_NONE = 0,
    /* the response's own post-quantum signature is present and valid:
     * QPKI_PQ_OK, QPKI_PQ_PURE or QPKI_PQ_UNCHAINED */
    QPKI_PQ_REQUIRE_RESPONSE = 1,
    /* every signature from the trust anchor (the CA) to the response is
     * post-quantum: also the CA's signature on a delegated responder certificate
     * (ML-DSA, or a Catalyst alternative signature that verifies).  QPKI_PQ_OK or
     * QPKI_PQ_PURE; QPKI_PQ_UNCHAINED fails, the message naming the link */
    QPKI_PQ_REQUIRE_PATH = 2
} qpki_pq_requirement;
/* Fail with QPKI_ERR_PQ_SIGNATURE unless the requirement is met.  Since QPKI_1.1. */
QPKI_API qpki_status qpki_ocsp_verifier_set_pq_requirement(qpki_ocsp_verifier *v,
                                                           qpki_pq_requirement requirement);
/* require true is QPKI_PQ_REQUIRE_PATH (since 1.1; 1.0 checked the response
 * alone, now QPKI_PQ_REQUIRE_RESPONSE), false QPKI_PQ_REQUIRE_NONE. */
QPKI_API qpki_status qpki_ocsp_verifier_set_require_pq(qpki_ocsp_verifier *v, bool require);
/* The alternative public key (SubjectPublicKeyInfo DER, copied) to check the
 * alternative signature with, instead of the signer certificate's
 * altSubjectPublicKeyInfo extension (2.5.29.72). */
QPKI_API qpki_status qpki_ocsp_verifier_set_alt_public_key(qpki_ocsp_verifier *v,
                                                           const uint8_t *spki, size_t len);
/* After verify: what happened to the alternative signature. */
QPKI_API qpki_pq_result qpki_ocsp_verifier_pq_result(const qpki_ocsp_verifier *v);

/* Run every check.  QPKI_OK, or the first failure: QPKI_ERR_RESPONSE_STATUS,
 * QPKI_ERR_BAD_SIGNATURE, QPKI_ERR_UNTRUSTED_RESPONDER, QPKI_ERR_NOT_YET_VALID,
 * QPKI_ERR_STALE, QPKI_ERR_NONCE_MISSING, QPKI_ERR_NONCE_MISMATCH,
 * QPKI_ERR_CERTID_MISMATCH, QPKI_ERR_UNSUPPORTED_ALGORITHM, QPKI_ERR_PQ_SIGNATURE (an
 * alternative signature that does not verify, or a missing one when required).  A one-line English
 * explanation is kept (qpki_ocsp_verifier_detail). */
QPKI_API qpki_status qpki_ocsp_verifier_verify(qpki_ocsp_verifier *v,
                                               const qpki_ocsp_response *resp);
/* Explanation of the last verify result ("signed by delegated responder
 * CN=ocsp.example.com"; "nextUpdate 2024-01-01T00:00:00Z is in the past"). */
QPKI_API const char *qpki_ocsp_verifier_detail(const qpki_ocsp_verifier *v);
/* After a successful verify: the certificate whose key signed the response (the
 * CA itself or the delegated responder certificate from the response). */
QPKI_API const qpki_cert *qpki_ocsp_verifier_signer_cert(const qpki_ocsp_verifier *v);

#ifdef __cplusplus
}
#endif
#endif
