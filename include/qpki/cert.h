/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/cert.h - X.509 certificates: parse, inspect, verify.
 *
 * The parser accepts any well-formed DER certificate (RFC 5280 §4.1): it does not
 * reject unknown signature or key algorithms or unknown critical extensions at
 * parse time (ML-DSA and Catalyst certificates parse; whether a signature can be
 * checked is decided by qpki_cert_verify_signature).
 *
 * The parser is strict DER (X.690 §10/§11): a DEFAULT value that is encoded
 * (version v1, critical FALSE) is an error, as are non-minimal INTEGERs and
 * trailing bytes.  The one tolerance: serial numbers that are negative, zero or
 * longer than RFC 5280's 20 octets (up to QPKI_SERIAL_MAX octets of magnitude)
 * are kept exactly as encoded, because broken CAs issue them.
 *
 * The builders (qpki_name, qpki_cert_builder, qpki_csr_builder) produce DER
 * that the parser accepts; their products are signed through a qpki_signer.
 *
 * Thread safety: a qpki_cert and a qpki_csr are immutable after parsing and may
 * be shared.  A builder must not be used from two threads at once. */
#ifndef QPKI_CERT_H
#define QPKI_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/signer.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_cert qpki_cert;

/* More extensions than this in one certificate or request is QPKI_ERR_LIMIT. */
#define QPKI_CERT_MAX_EXTENSIONS 64

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
/* The same; on failure error (may be NULL) receives one line naming the field and
 * the byte offset, e.g. "tbsCertificate: validity: notAfter: UTCTime not in DER
 * form (YYMMDDHHMMSSZ) at byte 163", "Certificate: truncated at byte 300 of 702:
 * SEQUENCE (0x30)" (offsets count from the start of the DER; for PEM, of the
 * decoded block).  Since QPKI_1.1. */
QPKI_API qpki_status qpki_cert_parse_err(const uint8_t *der, size_t len, char *error,
                                         size_t error_size, qpki_cert **out);
QPKI_API qpki_status qpki_cert_load_file_err(const char *path, char *error, size_t error_size,
                                             qpki_cert **out);
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
 * QPKI_ERR_UNSUPPORTED_ALGORITHM when the algorithm is not one we can check.
 * Names are compared as exact DER bytes, not with RFC 5280 §7.1 normalisation
 * (case folding, string types): a mismatch is QPKI_ERR_UNKNOWN_ISSUER. */
QPKI_API qpki_status qpki_cert_verify_signature(const qpki_cert *cert, const qpki_cert *issuer);
/* True when cert is valid at time t (notBefore <= t <= notAfter). */
QPKI_API bool qpki_cert_valid_at(const qpki_cert *cert, qpki_time t);

/* ---- Catalyst hybrid certificates (ITU-T X.509 §9.8, docs/CATALYST.md) -------------
 *
 * A Catalyst certificate carries a second ("alternative", here ML-DSA) key in the
 * extension subjectAltPublicKeyInfo (2.5.29.72) and a second signature by the
 * issuer's alternative key in altSignatureAlgorithm (2.5.29.73) and
 * altSignatureValue (2.5.29.74).  The alternative signature covers the
 * TBSCertificate re-encoded without its `signature` field (the AlgorithmIdentifier
 * after serialNumber) and without the altSignatureValue extension; the classical
 * signature covers the whole TBSCertificate, altSignatureValue included. */

/* altSubjectPublicKeyInfo value (a SubjectPublicKeyInfo TLV); QPKI_ERR_NOT_FOUND
 * when the certificate has none. */
QPKI_API qpki_status qpki_cert_alt_spki(const qpki_cert *cert, const uint8_t **spki,
                                        size_t *len);
/* altSignatureAlgorithm (AlgorithmIdentifier TLV) and the altSignatureValue bits;
 * QPKI_ERR_NOT_FOUND when the certificate has neither, QPKI_ERR_DECODE when only
 * one of the two is present or either is malformed. */
QPKI_API qpki_status qpki_cert_alt_signature(const qpki_cert *cert, const uint8_t **alg,
                                             size_t *alg_len, const uint8_t **sig,
                                             size_t *sig_len);
/* Check cert's alternative signature with issuer's alternative key (issuer's
 * altSubjectPublicKeyInfo).  QPKI_OK; QPKI_ERR_NOT_FOUND when cert has no
 * alternative signature; QPKI_ERR_DECODE (malformed extensions);
 * QPKI_ERR_UNKNOWN_ISSUER (names differ, as for qpki_cert_verify_signature);
 * QPKI_ERR_KEY_MISMATCH when issuer has no altSubjectPublicKeyInfo;
 * QPKI_ERR_BAD_SIGNATURE; QPKI_ERR_UNSUPPORTED_ALGORITHM.  It does not check the
 * classical signature: call qpki_cert_verify_signature as well. */
QPKI_API qpki_status qpki_cert_verify_alt_signature(const qpki_cert *cert,
                                                    const qpki_cert *issuer);

/* ---- more of the reader ------------------------------------------------------ */

/* X.509 version as written in text: 1, 2 or 3. */
QPKI_API int qpki_cert_version(const qpki_cert *cert);
/* basicConstraints pathLenConstraint; -1 when absent (or no basicConstraints);
 * values above 255 are reported as 255. */
QPKI_API int qpki_cert_path_len_constraint(const qpki_cert *cert);
/* extKeyUsage purposes: count (0 when the extension is absent) and the i-th
 * KeyPurposeId OID contents. */
QPKI_API size_t qpki_cert_ext_key_usage_count(const qpki_cert *cert);
QPKI_API qpki_status qpki_cert_ext_key_usage(const qpki_cert *cert, size_t index,
                                             const uint8_t **oid, size_t *oid_len);
/* subjectAltName extnValue (a GeneralNames SEQUENCE TLV); len 0 when absent. */
QPKI_API void qpki_cert_subject_alt_name(const qpki_cert *cert, const uint8_t **der,
                                         size_t *len);
/* Outer signatureAlgorithm, whole AlgorithmIdentifier TLV. */
QPKI_API void qpki_cert_sig_alg_der(const qpki_cert *cert, const uint8_t **der, size_t *len);
/* signatureValue BIT STRING value (without the unused-bits octet). */
QPKI_API void qpki_cert_signature(const qpki_cert *cert, const uint8_t **sig, size_t *len);

/* RFC 4514 text of any DER Name ("CN=x,O=y,C=FR": the last RDN of the encoding
 * first, as RFC 4514 §2.1 orders them).  Known attribute types use their short
 * names (CN, SN, serialNumber, C, L, ST, street, O, OU, title, postalCode, GN,
 * organizationIdentifier, emailAddress, DC, UID); others are written as a dotted
 * OID with a #hex value (RFC 4514 §2.4), as are values whose string type we do
 * not decode.  Special characters are escaped with '\\' (RFC 4514 §2.4); control
 * characters as \XX; non-ASCII UTF-8 is written as is (OpenSSL's RFC2253 mode
 * escapes it as \XX bytes instead - the only difference).  Names of more than
 * 128 attributes are QPKI_ERR_LIMIT. */
QPKI_API qpki_status qpki_name_to_text(const uint8_t *der, size_t len, char *buf, size_t size);

/* ---- Name builder ------------------------------------------------------------ */

/* Attributes the Name builder knows (RFC 5280 Appendix A string types:
 * PrintableString for C and serialNumber, IA5String for emailAddress,
 * UTF8String for the others). */
typedef enum qpki_name_attr {
    QPKI_NAME_CN = 1,            /* 2.5.4.3, 1..64 characters */
    QPKI_NAME_O = 2,             /* 2.5.4.10, 1..64 */
    QPKI_NAME_OU = 3,            /* 2.5.4.11, 1..64 */
    QPKI_NAME_C = 4,             /* 2.5.4.6, two letters */
    QPKI_NAME_L = 5,             /* 2.5.4.7, 1..128 */
    QPKI_NAME_ST = 6,            /* 2.5.4.8, 1..128 */
    QPKI_NAME_SERIAL_NUMBER = 7, /* 2.5.4.5, 1..64 PrintableString characters */
    QPKI_NAME_EMAIL = 8          /* 1.2.840.113549.1.9.1, 1..255 ASCII */
} qpki_name_attr;

typedef struct qpki_name qpki_name;

QPKI_API qpki_status qpki_name_new(qpki_name **out);
QPKI_API void qpki_name_free(qpki_name **name);
/* Append one RDN holding one attribute (values are UTF-8 text).  Values outside
 * the attribute's character set or length bounds are QPKI_ERR_INVALID_ARG. */
QPKI_API qpki_status qpki_name_add(qpki_name *name, qpki_name_attr attr, const char *value);
/* Append an attribute given by dotted OID with a UTF8String value. */
QPKI_API qpki_status qpki_name_add_oid(qpki_name *name, const char *oid, const char *value);
/* DER of the Name built so far (RDNs in the order added); free with qpki_free. */
QPKI_API qpki_status qpki_name_encode(const qpki_name *name, uint8_t **der, size_t *len);
/* Build a Name from text: RFC 4514 ("CN=x,O=Acme\, Inc.,C=FR": encoded last to
 * first) or OpenSSL's slash form ("/C=FR/O=Acme, Inc./CN=x": encoded in order).
 * Keys: CN O OU C L ST serialNumber emailAddress (any case) or a dotted OID
 * (UTF8String value, or #hex giving the value's DER).  '\\' escapes the next
 * character or two hex digits.  Multi-valued RDNs ('+') are not supported
 * (QPKI_ERR_PARSE).  Free with qpki_free. */
QPKI_API qpki_status qpki_name_from_text(const char *text, uint8_t **der, size_t *len);

/* ---- certificate builder ------------------------------------------------------ */

/* KeyPurposeId values (RFC 5280 §4.2.1.12) as dotted text. */
#define QPKI_EKU_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define QPKI_EKU_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define QPKI_EKU_CODE_SIGNING "1.3.6.1.5.5.7.3.3"
#define QPKI_EKU_EMAIL_PROTECTION "1.3.6.1.5.5.7.3.4"
#define QPKI_EKU_TIME_STAMPING "1.3.6.1.5.5.7.3.8"
#define QPKI_EKU_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"

/* Extension OIDs, for qpki_cert_builder_add_extension and lookups. */
#define QPKI_OID_SUBJECT_ALT_NAME "2.5.29.17"
#define QPKI_OID_ALT_SUBJECT_PUBLIC_KEY_INFO "2.5.29.72"
#define QPKI_OID_ALT_SIGNATURE_ALGORITHM "2.5.29.73"
#define QPKI_OID_ALT_SIGNATURE_VALUE "2.5.29.74"

/* Builds a v3 TBSCertificate and signs it.  Required before signing: a serial,
 * issuer, subject, validity and SPKI.  Extensions are encoded in the order of
 * the first call that set each one; setting a known extension again replaces it.
 * Nothing is validated against a profile: the caller decides what to issue. */
typedef struct qpki_cert_builder qpki_cert_builder;

QPKI_API qpki_status qpki_cert_builder_new(qpki_cert_builder **out);
QPKI_API void qpki_cert_builder_free(qpki_cert_builder **builder);

/* Serial as an unsigned big-endian magnitude.  RFC 5280 §4.1.2.2: positive
 * (zero is QPKI_ERR_INVALID_ARG) and at most 20 octets once encoded. */
QPKI_API qpki_status qpki_cert_builder_set_serial(qpki_cert_builder *b, const uint8_t *serial,
                                                  size_t len);
/* 20 random octets with the top bit clear (positive, 159 bits of entropy). */
QPKI_API qpki_status qpki_cert_builder_set_random_serial(qpki_cert_builder *b);
/* The serial set so far (INTEGER contents); len 0 when none. */
QPKI_API void qpki_cert_builder_serial(const qpki_cert_builder *b, const uint8_t **serial,
                                       size_t *len);
/* Issuer Name DER (checked to be a Name). */
QPKI_API qpki_status qpki_cert_builder_set_issuer(qpki_cert_builder *b, const uint8_t *der,
                                                  size_t len);
/* Issuer from the issuing CA's certificate: issuer = its subject, and an
 * authorityKeyIdentifier = its subjectKeyIdentifier (or, when it has none, the
 * RFC 5280 §4.2.1.2 method 1 key id of its key).  qpki_cert_builder_sign then
 * checks that the signer's public key is this certificate's key
 * (QPKI_ERR_KEY_MISMATCH). */
QPKI_API qpki_status qpki_cert_builder_set_issuer_cert(qpki_cert_builder *b,
                                                       const qpki_cert *issuer);
QPKI_API qpki_status qpki_cert_builder_set_subject(qpki_cert_builder *b, const uint8_t *der,
                                                   size_t len);
/* notBefore <= notAfter; UTCTime through 2049, GeneralizedTime after. */
QPKI_API qpki_status qpki_cert_builder_set_validity(qpki_cert_builder *b, qpki_time not_before,
                                                    qpki_time not_after);
/* SubjectPublicKeyInfo DER (checked for shape; any algorithm). */
QPKI_API qpki_status qpki_cert_builder_set_spki(qpki_cert_builder *b, const uint8_t *der,
                                                size_t len);
/* basicConstraints.  path_len < 0: no pathLenConstraint; RFC 5280 §4.2.1.9: only
 * with ca true (else QPKI_ERR_INVALID_ARG). */
QPKI_API qpki_status qpki_cert_builder_set_basic_constraints(qpki_cert_builder *b, bool ca,
                                                             int path_len, bool critical);
/* keyUsage from QPKI_KU_* bits (at least one, RFC 5280 §4.2.1.3). */
QPKI_API qpki_status qpki_cert_builder_set_key_usage(qpki_cert_builder *b, unsigned bits,
                                                     bool critical);
/* Append a KeyPurposeId (dotted text, e.g. QPKI_EKU_OCSP_SIGNING) to extKeyUsage
 * (non-critical unless qpki_cert_builder_set_ext_key_usage_critical). */
QPKI_API qpki_status qpki_cert_builder_add_ext_key_usage(qpki_cert_builder *b, const char *oid);
QPKI_API qpki_status qpki_cert_builder_set_ext_key_usage_critical(qpki_cert_builder *b,
                                                                  bool critical);
/* subjectKeyIdentifier: id == NULL computes RFC 5280 §4.2.1.2 method 1 (SHA-1
 * of the subjectPublicKey BIT STRING value) when signing. */
QPKI_API qpki_status qpki_cert_builder_set_subject_key_id(qpki_cert_builder *b,
                                                          const uint8_t *id, size_t len);
/* authorityKeyIdentifier keyIdentifier: id == NULL computes method 1 from the
 * signer's public key when signing (self-signed CAs). */
QPKI_API qpki_status qpki_cert_builder_set_authority_key_id(qpki_cert_builder *b,
                                                            const uint8_t *id, size_t len);
/* subjectAltName entries, kept in the order added.  DNS names are ASCII
 * (letters, digits, '-', '.', '_', a leading "*."); IP addresses are IPv4 or
 * IPv6 text; email addresses need an '@'; URIs need a scheme.  The extension
 * is critical when the subject is an empty Name (RFC 5280 §4.2.1.6). */
QPKI_API qpki_status qpki_cert_builder_add_san_dns(qpki_cert_builder *b, const char *name);
QPKI_API qpki_status qpki_cert_builder_add_san_ip(qpki_cert_builder *b, const char *addr);
QPKI_API qpki_status qpki_cert_builder_add_san_email(qpki_cert_builder *b, const char *addr);
QPKI_API qpki_status qpki_cert_builder_add_san_uri(qpki_cert_builder *b, const char *uri);
/* Append every GeneralName of a GeneralNames DER (e.g. qpki_csr_subject_alt_name). */
QPKI_API qpki_status qpki_cert_builder_add_san_der(qpki_cert_builder *b, const uint8_t *der,
                                                   size_t len);
/* id-pkix-ocsp-nocheck, value NULL, non-critical (RFC 6960 §4.2.2.2.1). */
QPKI_API qpki_status qpki_cert_builder_set_ocsp_nocheck(qpki_cert_builder *b);
/* authorityInfoAccess entries: id-ad-ocsp / id-ad-caIssuers with a URI. */
QPKI_API qpki_status qpki_cert_builder_add_aia_ocsp(qpki_cert_builder *b, const char *url);
QPKI_API qpki_status qpki_cert_builder_add_aia_ca_issuers(qpki_cert_builder *b,
                                                          const char *url);
/* Any extension: dotted OID, critical flag, extnValue contents (DER).  An OID
 * already present is QPKI_ERR_EXISTS. */
QPKI_API qpki_status qpki_cert_builder_add_extension(qpki_cert_builder *b, const char *oid,
                                                     bool critical, const uint8_t *value,
                                                     size_t len);
/* Remove an extension (dotted OID); QPKI_ERR_NOT_FOUND when absent. */
QPKI_API qpki_status qpki_cert_builder_remove_extension(qpki_cert_builder *b, const char *oid);

/* The TBSCertificate DER: signature AlgorithmIdentifier sig_alg (sig_alg NULL
 * omits the signature field), without the extension skip_oid (dotted, or NULL).
 * signer_spki feeds a signer-derived authorityKeyIdentifier (may be NULL when not
 * used).  This is what Catalyst alternative signatures cover (ITU-T X.509 §9.8:
 * TBS without signature and without altSignatureValue).  Free with qpki_free. */
QPKI_API qpki_status qpki_cert_builder_encode_tbs(const qpki_cert_builder *b,
                                                  const uint8_t *sig_alg, size_t sig_alg_len,
                                                  const char *skip_oid,
                                                  const uint8_t *signer_spki,
                                                  size_t signer_spki_len, uint8_t **der,
                                                  size_t *len);
/* Sign with signer (algorithm from qpki_signer_algorithm) and return the whole
 * Certificate DER (free with qpki_free).  The signature is checked against the
 * signer's public key before the certificate is returned (a faulty signer gives
 * QPKI_ERR_BAD_SIGNATURE, not a bad certificate). */
QPKI_API qpki_status qpki_cert_builder_sign(const qpki_cert_builder *b,
                                            qpki_signer *signer, uint8_t **der,
                                            size_t *len);
/* Catalyst: the subject's alternative public key (SubjectPublicKeyInfo DER, e.g.
 * an ML-DSA key), written as a non-critical altSubjectPublicKeyInfo (2.5.29.72);
 * setting it again replaces it. */
QPKI_API qpki_status qpki_cert_builder_set_alt_spki(qpki_cert_builder *b, const uint8_t *der,
                                                    size_t len);
/* Catalyst: sign with two keys.  Appends the non-critical extensions
 * altSignatureAlgorithm (alt_signer's AlgorithmIdentifier) and altSignatureValue
 * (alt_signer's signature over the TBSCertificate without the signature field and
 * without altSignatureValue), then signs everything with signer as
 * qpki_cert_builder_sign does.  The builder is not changed.  With an issuer from
 * qpki_cert_builder_set_issuer_cert, signer's key must be the issuer's key and
 * alt_signer's key the issuer's altSubjectPublicKeyInfo (QPKI_ERR_KEY_MISMATCH);
 * a builder that already holds 2.5.29.73 or 2.5.29.74 is QPKI_ERR_EXISTS.  Both
 * signatures are checked before the certificate is returned. */
QPKI_API qpki_status qpki_cert_builder_sign_hybrid(const qpki_cert_builder *b,
                                                   qpki_signer *signer,
                                                   qpki_signer *alt_signer, uint8_t **der,
                                                   size_t *len);

/* ---- PKCS#10 certification requests (RFC 2986) ------------------------------------ */

typedef struct qpki_csr qpki_csr;

/* Parse one DER CertificationRequest (bytes copied; trailing data is an error). */
QPKI_API qpki_status qpki_csr_parse(const uint8_t *der, size_t len, qpki_csr **out);
/* PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER. */
QPKI_API qpki_status qpki_csr_parse_any(const uint8_t *data, size_t len, qpki_csr **out);
QPKI_API qpki_status qpki_csr_load_file(const char *path, qpki_csr **out);
/* The same; on failure error (may be NULL) receives one line naming the field and
 * the byte offset, e.g. "certificationRequestInfo: attributes[1]: extensionRequest
 * given twice at byte 212", "CertificationRequest: truncated at byte 200 of 402"
 * (offsets count from the start of the DER; for PEM, of the decoded block).  Since
 * QPKI_1.1. */
QPKI_API qpki_status qpki_csr_parse_err(const uint8_t *der, size_t len, char *error,
                                        size_t error_size, qpki_csr **out);
QPKI_API qpki_status qpki_csr_load_file_err(const char *path, char *error, size_t error_size,
                                            qpki_csr **out);
QPKI_API void qpki_csr_free(qpki_csr **csr);
QPKI_API void qpki_csr_der(const qpki_csr *csr, const uint8_t **der, size_t *len);
QPKI_API void qpki_csr_subject_der(const qpki_csr *csr, const uint8_t **der, size_t *len);
QPKI_API qpki_status qpki_csr_subject_text(const qpki_csr *csr, char *buf, size_t size);
QPKI_API void qpki_csr_spki(const qpki_csr *csr, const uint8_t **der, size_t *len);
QPKI_API qpki_key_alg qpki_csr_key_alg(const qpki_csr *csr);
QPKI_API qpki_sig_alg qpki_csr_sig_alg(const qpki_csr *csr);
/* Extensions requested with the PKCS#9 extensionRequest attribute (RFC 2985
 * §5.4.2), same conventions as the certificate accessors. */
QPKI_API size_t qpki_csr_extension_count(const qpki_csr *csr);
QPKI_API qpki_status qpki_csr_extension(const qpki_csr *csr, size_t index, const uint8_t **oid,
                                        size_t *oid_len, bool *critical,
                                        const uint8_t **value, size_t *value_len);
/* Requested subjectAltName (GeneralNames TLV); len 0 when none. */
QPKI_API void qpki_csr_subject_alt_name(const qpki_csr *csr, const uint8_t **der, size_t *len);
/* Check the request's self-signature with its own public key. */
QPKI_API qpki_status qpki_csr_verify_signature(const qpki_csr *csr);
/* Catalyst requests (the layout Bouncy Castle uses; docs/CATALYST.md): the
 * alternative key and proof of possession travel as CertificationRequestInfo
 * attributes whose types are the extension OIDs: subjectAltPublicKeyInfo
 * (2.5.29.72, a SubjectPublicKeyInfo), altSignatureAlgorithm (2.5.29.73) and
 * altSignatureValue (2.5.29.74, a BIT STRING).  The alternative signature covers
 * the CertificationRequestInfo re-encoded without the altSignatureValue attribute.
 * The alternative key attribute; QPKI_ERR_NOT_FOUND when absent. */
QPKI_API qpki_status qpki_csr_alt_spki(const qpki_csr *csr, const uint8_t **spki,
                                       size_t *len);
/* Check the alternative signature with the request's own alternative key.
 * QPKI_ERR_NOT_FOUND when the request has none of the three attributes,
 * QPKI_ERR_DECODE when only some are present, QPKI_ERR_BAD_SIGNATURE,
 * QPKI_ERR_UNSUPPORTED_ALGORITHM. */
QPKI_API qpki_status qpki_csr_verify_alt_signature(const qpki_csr *csr);

typedef struct qpki_csr_builder qpki_csr_builder;

QPKI_API qpki_status qpki_csr_builder_new(qpki_csr_builder **out);
QPKI_API void qpki_csr_builder_free(qpki_csr_builder **builder);
QPKI_API qpki_status qpki_csr_builder_set_subject(qpki_csr_builder *b, const uint8_t *der,
                                                  size_t len);
/* Requested subjectAltName entries (same rules as the certificate builder). */
QPKI_API qpki_status qpki_csr_builder_add_san_dns(qpki_csr_builder *b, const char *name);
QPKI_API qpki_status qpki_csr_builder_add_san_ip(qpki_csr_builder *b, const char *addr);
QPKI_API qpki_status qpki_csr_builder_add_san_email(qpki_csr_builder *b, const char *addr);
QPKI_API qpki_status qpki_csr_builder_add_san_uri(qpki_csr_builder *b, const char *uri);
/* Any requested extension (dotted OID, extnValue contents). */
QPKI_API qpki_status qpki_csr_builder_add_extension(qpki_csr_builder *b, const char *oid,
                                                    bool critical, const uint8_t *value,
                                                    size_t len);
/* Sign: the SPKI is the signer's public key.  Returns the CertificationRequest
 * DER (free with qpki_free). */
QPKI_API qpki_status qpki_csr_builder_sign(const qpki_csr_builder *b,
                                           qpki_signer *signer, uint8_t **der,
                                           size_t *len);
/* Catalyst request: the SPKI is signer's key and the attributes carry
 * alt_signer's key, its algorithm and its signature (see qpki_csr_alt_spki); the
 * attributes are in DER SET OF order (X.690 §11.6).  Both signatures are checked
 * before the request is returned. */
QPKI_API qpki_status qpki_csr_builder_sign_hybrid(const qpki_csr_builder *b,
                                                  qpki_signer *signer,
                                                  qpki_signer *alt_signer, uint8_t **der,
                                                  size_t *len);

#ifdef __cplusplus
}
#endif
#endif
