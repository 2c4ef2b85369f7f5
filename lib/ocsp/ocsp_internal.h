/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/ocsp_internal.h - private layouts shared by the OCSP codec files. */
#ifndef QPKI_OCSP_INTERNAL_H
#define QPKI_OCSP_INTERNAL_H

#include <qpki/certid.h>
#include <qpki/request.h>
#include <qpki/response.h>

#include "../crypto/crypto.h"
#include "../der/der.h"
#include "../x509/x509.h"
#include "../internal.h"

/* A CertID.  `der` is the exact encoding: for a CertID parsed inside a request or
 * response it points into that message's bytes (owned == NULL); a standalone
 * CertID owns its encoding. */
struct qpki_certid {
    qpki_hash_alg alg;
    size_t hash_len;
    uint8_t name_hash[CRYPTO_MAX_HASH_LEN];
    uint8_t key_hash[CRYPTO_MAX_HASH_LEN];
    uint8_t serial[QPKI_SERIAL_MAX + 1]; /* INTEGER contents */
    size_t serial_len;
    size_t serial_mag_off;               /* magnitude = serial + off */
    const uint8_t *der;
    size_t der_len;
    uint8_t *owned;
};

/* Parse the CertID at the cursor into id (der points into the cursor's buffer). */
QPKI_MUST_USE qpki_status certid_read(der_cursor *c, struct qpki_certid *id);
/* Encode a CertID from its parts (hash AlgorithmIdentifier with NULL parameters). */
void certid_write(der_buf *b, const struct qpki_certid *id);

/* The optional `[0] EXPLICIT Version DEFAULT v1` at the start of a TBSRequest
 * or ResponseData: absent or 0, else QPKI_ERR_BAD_VERSION naming it. */
QPKI_MUST_USE qpki_status ocsp_read_version(der_cursor *tbs);

/* Extensions are read by lib/x509 (x509_read_extensions): one reader for
 * certificates, CSRs, requests and responses. */
typedef x509_ext ocsp_ext;

/* Parse `[n] EXPLICIT Extensions` contents at c: the SEQUENCE, then the list
 * (x509_read_extensions).  Allocates *exts in the arena a (NULL: on the heap). */
QPKI_MUST_USE qpki_status ocsp_read_extensions(der_cursor *c, struct arena *a, ocsp_ext **exts,
                                               size_t *count);
/* The i-th of count parsed extensions, as the public *_extension() accessors
 * hand it out: QPKI_ERR_INVALID_ARG for a NULL out pointer, QPKI_ERR_NOT_FOUND
 * when i >= count. */
QPKI_MUST_USE qpki_status ocsp_extension_get(const ocsp_ext *exts, size_t count,
                                             size_t i, const uint8_t **oid, size_t *oid_len,
                                             bool *critical, const uint8_t **value,
                                             size_t *value_len);
/* RFC 6960 §4.2.1 KeyHash: SHA-1 of the subjectPublicKey BIT STRING value of a
 * SubjectPublicKeyInfo. */
QPKI_MUST_USE qpki_status ocsp_key_hash_of_spki(const uint8_t *spki, size_t len, uint8_t out[20]);
/* ResponderID byKey from a KeyHash computed beforehand (the responder keeps one per
 * key instead of hashing the key for every answer). */
void ocsp_response_builder_set_key_hash(qpki_ocsp_response_builder *b, const uint8_t hash[20]);

/* The nonce Extension (OID, extnValue = DER of the Nonce OCTET STRING). */
void ocsp_write_nonce_extension(der_buf *b, const uint8_t *nonce, size_t len);
/* RFC 9654 §2.1 Nonce ::= OCTET STRING(SIZE(1..128)) inside extnValue.  Sets *nonce to
 * the nonce octets; QPKI_ERR_NONCE_LENGTH for 0 or > 128 octets. */
QPKI_MUST_USE qpki_status ocsp_nonce_decode(der_view extn_value, der_view *nonce);

/* A response builder whose parts live in the arena a (NULL: the heap, as
 * qpki_ocsp_response_builder_new); qpki_ocsp_response_builder_free then only
 * drops its signer reference. */
QPKI_MUST_USE qpki_status ocsp_response_builder_new_in(struct arena *a,
                                                       qpki_ocsp_response_builder **out);
/* qpki_ocsp_response_builder_sign for an arena builder: *out points into the
 * arena (no copy; valid until the arena is released). */
QPKI_MUST_USE qpki_status ocsp_response_builder_sign_view(qpki_ocsp_response_builder *b,
                                                          qpki_signer *signer,
                                                          const uint8_t **out, size_t *out_len);
/* qpki_ocsp_request_parse_err with the request in the arena a (NULL: on the
 * heap, a copy of der); in an arena it borrows der, which must outlive it, and
 * qpki_ocsp_request_free only forgets it (the arena's release frees it).  detail
 * (may be NULL) receives the message naming the field. */
QPKI_MUST_USE qpki_status ocsp_request_parse_in(const uint8_t *der, size_t len,
                                                const qpki_limits *limits, struct arena *a,
                                                qpki_detail *detail, qpki_ocsp_request **out);

/* Catalyst: tbsResponseData re-encoded without the altSignatureValue extension
 * (the bytes the alternative signature covers). Free with qpki_free. */
QPKI_MUST_USE qpki_status ocsp_response_alt_tbs(const qpki_ocsp_response *resp, uint8_t **out,
                                                size_t *out_len);

#endif
