/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/cert.h - X.509 certificates: parse, inspect, verify.
 *
 * The parser accepts any well-formed DER certificate (RFC 5280 §4.1): it does not
 * reject unknown signature or key algorithms or unknown critical extensions at
 * parse time (ML-DSA and Catalyst certificates parse; whether a signature can be
 * checked is decided by qpki_cert_verify_signature).
 *
 * Thread safety: a qpki_cert is immutable after parsing and may be shared. */
#ifndef QPKI_CERT_H
#define QPKI_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_cert qpki_cert;

/* RFC 5280 §4.2.1.3 KeyUsage bits (bit 0 = digitalSignature). */
enum {
    QPKI_KU_DIGITAL_SIGNATURE = 1u << 0,
    QPKI_KU_NON_REPUDIATION = 1u << 1,
    QPKI_KU_KEY_ENCIPHERMENT = 1u << 2,
    QPKI_KU_DATA_ENCIPHERMENT = 1u << 3,
    QPKI_KU_KEY_AGREEMENT = 1u << 4,
    QPKI_KU_KEY_CERT_SIGN = 1u << 5,
    QPKI_KU_CRL_SIGN = 1u << 6,
    QPKI_KU_ENCIPHER_ONLY = 1u << 7,
    QPKI_KU_DECIPHER_ONLY = 1u << 8
};

/* Parse one DER certificate; the bytes are copied. Trailing data is an error. */
QPKI_API qpki_status qpki_cert_parse(const uint8_t *der, size_t len, qpki_cert **out);
/* Parse the first certificate of PEM text or DER bytes. */
QPKI_API qpki_status qpki_cert_parse_any(const uint8_t *data, size_t len, qpki_cert **out);
/* Read a PEM or DER certificate file (first certificate in a PEM bundle). */
QPKI_API qpki_status qpki_cert_load_file(const char *path, qpki_cert **out);
QPKI_API void qpki_cert_free(qpki_cert **cert);

/* The whole DER encoding. */
QPKI_API void qpki_cert_der(const qpki_cert *cert, const uint8_t **der, size_t *len);
/* tbsCertificate, whole TLV. */
QPKI_API void qpki_cert_tbs(const qpki_cert *cert, const uint8_t **der, size_t *len);
/* Serial number INTEGER contents as encoded (two's complement, may start 0x00). */
QPKI_API void qpki_cert_serial(const qpki_cert *cert, const uint8_t **serial, size_t *len);
/* Issuer and subject Name, whole DER TLV (for hashing and comparison). */
QPKI_API void qpki_cert_issuer_der(const qpki_cert *cert, const uint8_t **der, size_t *len);
QPKI_API void qpki_cert_subject_der(const qpki_cert *cert, const uint8_t **der, size_t *len);
/* RFC 4514-style one-line text of the subject/issuer ("CN=x,O=y"), written to buf. */
QPKI_API qpki_status qpki_cert_subject_text(const qpki_cert *cert, char *buf, size_t size);
QPKI_API qpki_status qpki_cert_issuer_text(const qpki_cert *cert, char *buf, size_t size);
QPKI_API qpki_time qpki_cert_not_before(const qpki_cert *cert);
QPKI_API qpki_time qpki_cert_not_after(const qpki_cert *cert);
/* SubjectPublicKeyInfo, whole DER TLV. */
QPKI_API void qpki_cert_spki(const qpki_cert *cert, const uint8_t **der, size_t *len);
/* subjectPublicKey BIT STRING value (without the unused-bits octet): the bytes
 * RFC 6960 §4.1.1 issuerKeyHash and byKey responder IDs hash. */
QPKI_API void qpki_cert_public_key_bits(const qpki_cert *cert, const uint8_t **bits,
                                        size_t *len);
/* Key algorithm (QPKI_KEY_UNKNOWN for algorithms we do not know). */
QPKI_API qpki_key_alg qpki_cert_key_alg(const qpki_cert *cert);
/* Outer signatureAlgorithm (QPKI_SIG_UNKNOWN when not one we know). */
QPKI_API qpki_sig_alg qpki_cert_sig_alg(const qpki_cert *cert);

/* Extensions. */
QPKI_API bool qpki_cert_is_ca(const qpki_cert *cert);          /* basicConstraints cA */
/* KeyUsage bits; *present false when the extension is absent. */
QPKI_API unsigned qpki_cert_key_usage(const qpki_cert *cert, bool *present);
/* True when extKeyUsage lists id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9). */
QPKI_API bool qpki_cert_has_ocsp_signing(const qpki_cert *cert);
/* True when id-pkix-ocsp-nocheck (1.3.6.1.5.5.7.48.1.5) is present. */
QPKI_API bool qpki_cert_has_ocsp_nocheck(const qpki_cert *cert);
/* subjectKeyIdentifier / authorityKeyIdentifier keyIdentifier; len 0 when absent. */
QPKI_API void qpki_cert_subject_key_id(const qpki_cert *cert, const uint8_t **id, size_t *len);
QPKI_API void qpki_cert_authority_key_id(const qpki_cert *cert, const uint8_t **id, size_t *len);
/* Number of extensions and the i-th one: OID contents, critical flag, extnValue
 * contents (the DER inside the OCTET STRING). Unknown extensions are kept. */
QPKI_API size_t qpki_cert_extension_count(const qpki_cert *cert);
QPKI_API qpki_status qpki_cert_extension(const qpki_cert *cert, size_t index,
                                         const uint8_t **oid, size_t *oid_len, bool *critical,
                                         const uint8_t **value, size_t *value_len);
/* Find an extension by OID contents; QPKI_ERR_NOT_FOUND when absent. */
QPKI_API qpki_status qpki_cert_find_extension(const qpki_cert *cert, const uint8_t *oid,
                                              size_t oid_len, bool *critical,
                                              const uint8_t **value, size_t *value_len);

/* Check cert's signature with issuer's public key (and that cert's issuer Name
 * equals issuer's subject Name).  QPKI_ERR_BAD_SIGNATURE, or
 * QPKI_ERR_UNSUPPORTED_ALGORITHM when the algorithm is not one we can check. */
QPKI_API qpki_status qpki_cert_verify_signature(const qpki_cert *cert, const qpki_cert *issuer);
/* True when cert is valid at time t (notBefore <= t <= notAfter). */
QPKI_API bool qpki_cert_valid_at(const qpki_cert *cert, qpki_time t);

#ifdef __cplusplus
}
#endif
#endif
