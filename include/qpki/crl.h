/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/crl.h - X.509 certificate revocation lists (RFC 5280 §5): parse, inspect,
 * verify, build.
 *
 * The parser is strict DER (X.690 §10/§11) and bounded: at most
 * QPKI_CRL_MAX_SIZE octets, QPKI_CRL_MAX_ENTRIES revoked certificates and
 * QPKI_CRL_MAX_ENTRY_EXTENSIONS extensions per entry.  It reads v1 and v2 CRLs,
 * checks every entry once at parse time, and keeps no per-entry copy: entries are
 * decoded again, from the CRL's own bytes, by qpki_crl_next_entry (a 1-million
 * entry CRL costs its DER and nothing per entry).  Like the certificate parser it
 * does not reject what it cannot use: unknown critical extensions (of the CRL or
 * of an entry) and indirect-CRL entries parse, and qpki_crl_usable tells whether
 * the CRL may decide a certificate's status.
 *
 * Signatures are checked with the issuing CA's certificate by the same code as
 * certificate signatures (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519, Ed448,
 * ML-DSA), and Catalyst CRLs (ITU-T X.509 §9.8, docs/CATALYST.md) carry and
 * check a second, alternative signature with the same byte rules as
 * certificates: it covers the TBSCertList without its `signature` field and
 * without the altSignatureValue extension.
 *
 * Thread safety: a qpki_crl is immutable after parsing and may be shared.  A
 * builder must not be used from two threads at once. */
#ifndef QPKI_CRL_H
#define QPKI_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/export.h>
#include <qpki/signer.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest CRL we parse or build (octets): a 10-million entry CRL fits. */
#define QPKI_CRL_MAX_SIZE ((size_t)512 * 1024 * 1024)
/* More revoked certificates than this in one CRL is QPKI_ERR_LIMIT. */
#define QPKI_CRL_MAX_ENTRIES 10000000u
/* More extensions than this in one CRL entry is QPKI_ERR_LIMIT. */
#define QPKI_CRL_MAX_ENTRY_EXTENSIONS 16u
/* RFC 5280 §5.2.3: "CRL issuers MUST NOT use CRLNumber values longer than 20
 * octets"; longer cRLNumber / BaseCRLNumber values are QPKI_ERR_TOO_LARGE. */
#define QPKI_CRL_NUMBER_MAX 20

/* CRL extension OIDs (dotted), for qpki_crl_builder_add_extension and lookups. */
#define QPKI_OID_CRL_NUMBER "2.5.29.20"
#define QPKI_OID_DELTA_CRL_INDICATOR "2.5.29.27"
#define QPKI_OID_ISSUING_DISTRIBUTION_POINT "2.5.29.28"
#define QPKI_OID_FRESHEST_CRL "2.5.29.46"

typedef struct qpki_crl qpki_crl;

/* Parse one DER CertificateList; the bytes are copied.  Trailing data is an
 * error.  QPKI_ERR_TOO_LARGE above QPKI_CRL_MAX_SIZE; QPKI_ERR_LIMIT above the
 * entry or extension caps; QPKI_ERR_BAD_VERSION for a version other than v2, or
 * extensions in a v1 CRL; the DER errors of qpki/status.h otherwise. */
QPKI_API qpki_status qpki_crl_parse(const uint8_t *der, size_t len, qpki_crl **out);
/* PEM (RFC 7468 §6: label "X509 CRL"; other blocks are skipped) or DER. */
QPKI_API qpki_status qpki_crl_parse_any(const uint8_t *data, size_t len, qpki_crl **out);
/* Read a PEM or DER CRL file.  A DER file is parsed in place (no second copy). */
QPKI_API qpki_status qpki_crl_load_file(const char *path, qpki_crl **out);
/* The same; on failure error (may be NULL) receives one line naming the field and
 * the byte offset, e.g. "tbsCertList: revokedCertificates[3]: crlEntryExtensions:
 * duplicate extension 2.5.29.21 (reasonCode) at byte 410".  Since QPKI_1.1. */
QPKI_API qpki_status qpki_crl_load_file_err(const char *path, char *error, size_t error_size,
                                            qpki_crl **out);
/* qpki_crl_parse with the same one-line message as qpki_crl_load_file_err.  Since
 * QPKI_1.1. */
QPKI_API qpki_status qpki_crl_parse_err(const uint8_t *der, size_t len, char *error,
                                        size_t error_size, qpki_crl **out);
QPKI_API void qpki_crl_free(qpki_crl **crl);

/* The whole DER encoding; tbsCertList, whole TLV. */
QPKI_API void qpki_crl_der(const qpki_crl *crl, const uint8_t **der, size_t *len);
QPKI_API void qpki_crl_tbs(const qpki_crl *crl, const uint8_t **der, size_t *len);
/* 1 or 2, as the version field says (absent: 1). */
QPKI_API int qpki_crl_version(const qpki_crl *crl);
/* issuer Name, whole DER TLV; RFC 4514 text of it. */
QPKI_API void qpki_crl_issuer_der(const qpki_crl *crl, const uint8_t **der, size_t *len);
QPKI_API qpki_status qpki_crl_issuer_text(const qpki_crl *crl, char *buf, size_t size);
QPKI_API qpki_time qpki_crl_this_update(const qpki_crl *crl);
/* nextUpdate; *present (may be NULL) false and 0 returned when absent. */
QPKI_API qpki_time qpki_crl_next_update(const qpki_crl *crl, bool *present);
/* Outer signatureAlgorithm (QPKI_SIG_UNKNOWN when not one we know), and its TLV. */
QPKI_API qpki_sig_alg qpki_crl_sig_alg(const qpki_crl *crl);
QPKI_API void qpki_crl_sig_alg_der(const qpki_crl *crl, const uint8_t **der, size_t *len);
/* signatureValue bits (unused-bits octet removed). */
QPKI_API void qpki_crl_signature(const qpki_crl *crl, const uint8_t **sig, size_t *len);

/* RFC 5280 §5.2.3 cRLNumber: the unsigned magnitude, no leading zero octets
 * (len 0 for zero).  QPKI_ERR_NOT_FOUND when absent. */
QPKI_API qpki_status qpki_crl_number(const qpki_crl *crl, const uint8_t **number, size_t *len);
/* RFC 5280 §5.2.4 deltaCRLIndicator: the BaseCRLNumber, same form.
 * QPKI_ERR_NOT_FOUND when the CRL is a complete CRL. */
QPKI_API qpki_status qpki_crl_delta_base(const qpki_crl *crl, const uint8_t **number,
                                         size_t *len);
QPKI_API bool qpki_crl_is_delta(const qpki_crl *crl);
/* Compare two CRL numbers given as magnitudes (leading zero octets allowed):
 * <0, 0, >0 as a is smaller, equal, larger. */
QPKI_API int qpki_crl_number_cmp(const uint8_t *a, size_t a_len, const uint8_t *b,
                                 size_t b_len);
/* authorityKeyIdentifier keyIdentifier; len 0 when absent. */
QPKI_API void qpki_crl_authority_key_id(const qpki_crl *crl, const uint8_t **id, size_t *len);

/* RFC 5280 §5.2.5 issuingDistributionPoint.  The extnValue (the
 * IssuingDistributionPoint SEQUENCE TLV; len 0 when absent: the CRL covers every
 * certificate of its issuer) and its decoded flags.  Two CRLs have the same
 * scope when these bytes are equal. */
QPKI_API void qpki_crl_issuing_distribution_point(const qpki_crl *crl, const uint8_t **der,
                                                  size_t *len);
enum {
    QPKI_CRL_IDP_ONLY_USER_CERTS = 1u << 0,   /* onlyContainsUserCerts */
    QPKI_CRL_IDP_ONLY_CA_CERTS = 1u << 1,     /* onlyContainsCACerts */
    QPKI_CRL_IDP_ONLY_SOME_REASONS = 1u << 2, /* onlySomeReasons present */
    QPKI_CRL_IDP_INDIRECT = 1u << 3,          /* indirectCRL */
    QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS = 1u << 4,
    QPKI_CRL_IDP_DISTRIBUTION_POINT = 1u << 5 /* distributionPoint present */
};
QPKI_API unsigned qpki_crl_idp_flags(const qpki_crl *crl);

/* Every CRL extension: count, and the i-th one (OID contents, critical flag,
 * extnValue contents), as qpki_cert_extension does. */
QPKI_API size_t qpki_crl_extension_count(const qpki_crl *crl);
QPKI_API qpki_status qpki_crl_extension(const qpki_crl *crl, size_t index, const uint8_t **oid,
                                        size_t *oid_len, bool *critical,
                                        const uint8_t **value, size_t *value_len);

/* Whether the CRL may decide the status of its issuer's certificates (RFC 5280
 * §5.2, §5.3: "If a CRL contains a critical extension that the application
 * cannot process, then the application MUST NOT use that CRL to determine the
 * status of certificates"; the same for critical entry extensions).  QPKI_OK;
 * QPKI_ERR_UNSUPPORTED for a critical CRL or entry extension we do not process,
 * an indirect CRL (indirectCRL or certificateIssuer entries: the entries name
 * other issuers) or one that covers only attribute certificates; msg (may be
 * NULL) receives a sentence saying which. */
QPKI_API qpki_status qpki_crl_usable(const qpki_crl *crl, char *msg, size_t msg_size);

/* ---- entries ------------------------------------------------------------------ */

/* One revoked certificate (RFC 5280 §5.1.2.6, §5.3).  Fields are only ever
 * appended: set struct_size (qpki_crl_entry_init); the library writes only that
 * many bytes.  Pointers are views into the CRL, valid while it lives. */
typedef struct qpki_crl_entry {
    uint32_t struct_size;
    const uint8_t *serial;       /* userCertificate INTEGER contents as encoded (two's
                                  * complement: starts 0x00 when the top bit is set,
                                  * >= 0x80 for the negative serials of broken CAs) */
    size_t serial_len;
    qpki_time revocation_date;
    qpki_crl_reason reason;      /* reasonCode; QPKI_REASON_NONE when absent */
    qpki_hold_instruction hold_instruction; /* holdInstructionCode; ABSENT when absent
                                  * or not one of RFC 5280's three */
    qpki_time invalidity_date;   /* invalidityDate; 0 when absent */
    bool has_invalidity_date;
    bool certificate_issuer;     /* a certificateIssuer extension (indirect CRLs) */
    const uint8_t *extensions;   /* crlEntryExtensions, whole TLV; len 0 when absent */
    size_t extensions_len;
} qpki_crl_entry;

/* Zero *entry, set struct_size = sizeof(qpki_crl_entry), reason = NONE. */
QPKI_API void qpki_crl_entry_init(qpki_crl_entry *entry);
/* Number of revokedCertificates entries. */
QPKI_API size_t qpki_crl_entry_count(const qpki_crl *crl);
/* Walk the entries in order: *cursor starts at 0 and is advanced; QPKI_OK with
 * *entry filled, QPKI_ERR_NOT_FOUND after the last entry.  No allocation. */
QPKI_API qpki_status qpki_crl_next_entry(const qpki_crl *crl, size_t *cursor,
                                         qpki_crl_entry *entry);

/* ---- verification --------------------------------------------------------------- */

/* Check the CRL's signature with issuer's public key.  The CRL's issuer Name must
 * equal issuer's subject Name as exact DER (QPKI_ERR_UNKNOWN_ISSUER, as for
 * qpki_cert_verify_signature); when issuer has a keyUsage extension it must
 * assert cRLSign (RFC 5280 §6.3.3 (f): QPKI_ERR_KEY_MISMATCH otherwise);
 * QPKI_ERR_BAD_SIGNATURE; QPKI_ERR_UNSUPPORTED_ALGORITHM.  Times are not
 * checked here. */
QPKI_API qpki_status qpki_crl_verify_signature(const qpki_crl *crl, const qpki_cert *issuer);
/* Catalyst: altSignatureAlgorithm (AlgorithmIdentifier TLV) and altSignatureValue
 * bits; QPKI_ERR_NOT_FOUND when the CRL has neither, QPKI_ERR_DECODE when only one
 * is present or either is malformed. */
QPKI_API qpki_status qpki_crl_alt_signature(const qpki_crl *crl, const uint8_t **alg,
                                            size_t *alg_len, const uint8_t **sig,
                                            size_t *sig_len);
/* Check the alternative signature with issuer's altSubjectPublicKeyInfo.  Results
 * as qpki_cert_verify_alt_signature (QPKI_ERR_NOT_FOUND without one,
 * QPKI_ERR_KEY_MISMATCH when issuer has no alternative key, ...).  It does not
 * check the classical signature: call qpki_crl_verify_signature as well. */
QPKI_API qpki_status qpki_crl_verify_alt_signature(const qpki_crl *crl,
                                                   const qpki_cert *issuer);

/* ---- builder ------------------------------------------------------------------- */

/* Builds a v2 CRL and signs it.  Required before signing: the issuer (a
 * certificate), thisUpdate/nextUpdate and the CRL number.  Extensions, in this
 * order: authorityKeyIdentifier (the issuer's subjectKeyIdentifier, or RFC 5280
 * §4.2.1.2 method 1 of its key), cRLNumber, deltaCRLIndicator (critical, when a
 * base is set), those added with qpki_crl_builder_add_extension, and for a
 * hybrid signature altSignatureAlgorithm and altSignatureValue last.  Entries are
 * written in the order added, each with reasonCode, holdInstructionCode and
 * invalidityDate extensions when given. */
typedef struct qpki_crl_builder qpki_crl_builder;

QPKI_API qpki_status qpki_crl_builder_new(qpki_crl_builder **out);
QPKI_API void qpki_crl_builder_free(qpki_crl_builder **builder);
/* issuer = ca's subject; the signer given to sign must hold ca's key
 * (QPKI_ERR_KEY_MISMATCH), and for a hybrid signature the alternative signer
 * ca's altSubjectPublicKeyInfo key. */
QPKI_API qpki_status qpki_crl_builder_set_issuer_cert(qpki_crl_builder *b, const qpki_cert *ca);
/* RFC 5280 §5.1.2.5: "Conforming CRL issuers MUST include the nextUpdate time
 * in all CRLs": next_update > this_update (QPKI_ERR_INVALID_ARG otherwise). */
QPKI_API qpki_status qpki_crl_builder_set_times(qpki_crl_builder *b, qpki_time this_update,
                                                qpki_time next_update);
/* cRLNumber: an unsigned big-endian magnitude, at most QPKI_CRL_NUMBER_MAX
 * octets once encoded (leading zero octets are removed; zero is allowed). */
QPKI_API qpki_status qpki_crl_builder_set_number(qpki_crl_builder *b, const uint8_t *number,
                                                 size_t len);
/* Make a delta CRL (RFC 5280 §5.2.4) against the complete CRL numbered base. */
QPKI_API qpki_status qpki_crl_builder_set_delta_base(qpki_crl_builder *b, const uint8_t *base,
                                                     size_t len);
/* Any CRL extension (dotted OID, extnValue contents: one DER element).  The OIDs
 * the builder writes itself, and an OID added twice, are QPKI_ERR_EXISTS. */
QPKI_API qpki_status qpki_crl_builder_add_extension(qpki_crl_builder *b, const char *oid,
                                                    bool critical, const uint8_t *value,
                                                    size_t len);
/* RFC 5280 §5.2.6 freshestCRL (non-critical) on a complete CRL: where its delta
 * CRLs are published, one DistributionPoint with the URI as fullName (RFC 3986
 * URI with a scheme, QPKI_ERR_INVALID_ARG otherwise).  OpenSSL applies delta
 * CRLs only to a complete CRL (or certificate) that has one. */
QPKI_API qpki_status qpki_crl_builder_set_freshest_crl(qpki_crl_builder *b, const char *uri);
/* Append a revoked certificate: serial as an unsigned magnitude (1 to
 * QPKI_SERIAL_MAX octets after leading zeros are removed, or zero); reason
 * QPKI_REASON_NONE for no reasonCode; hold only with QPKI_REASON_CERTIFICATE_HOLD
 * (ABSENT for none); invalidity_date 0 for none.  removeFromCRL only in a delta
 * CRL (RFC 5280 §5.3.1; checked at signing).  More than QPKI_CRL_MAX_ENTRIES is
 * QPKI_ERR_LIMIT.  Serials are not checked for repeats. */
QPKI_API qpki_status qpki_crl_builder_add_entry(qpki_crl_builder *b, const uint8_t *serial,
                                                size_t len, qpki_time revocation_date,
                                                qpki_crl_reason reason,
                                                qpki_hold_instruction hold,
                                                qpki_time invalidity_date);
QPKI_API size_t qpki_crl_builder_entry_count(const qpki_crl_builder *b);
/* Sign with signer and return the CertificateList DER (free with qpki_free).  The
 * signature is checked before the CRL is returned, and the result parsed back. */
QPKI_API qpki_status qpki_crl_builder_sign(const qpki_crl_builder *b, qpki_signer *signer,
                                           uint8_t **der, size_t *len);
/* Catalyst: both signatures, as qpki_cert_builder_sign_hybrid does for
 * certificates (docs/CATALYST.md). */
QPKI_API qpki_status qpki_crl_builder_sign_hybrid(const qpki_crl_builder *b,
                                                  qpki_signer *signer, qpki_signer *alt_signer,
                                                  uint8_t **der, size_t *len);

/* ---- a status database fed by CRLs (qpki ocsp serve --crl) ---------------------------
 *
 * A qpki_db answering for one CA from the CRLs it publishes: a CA that issues
 * only CRLs (an `openssl ca`, Active Directory Certificate Services, an
 * appliance) gets an OCSP responder.  The application fetches CRLs (files, HTTP)
 * and offers each with qpki_db_crl_update; the database checks it and, when it
 * accepts it, answers from it:
 *
 *  - the CRL must be usable (qpki_crl_usable), signed by the CA's key with the
 *    CA's name as issuer (qpki_crl_verify_signature; a Catalyst CRL's
 *    alternative signature is checked too), not past nextUpdate + grace, with a
 *    thisUpdate at most 5 minutes ahead, and a cRLNumber above the one of the
 *    CRL the source holds (RFC 5280 §5.2.3; CRLs without a number: a later
 *    thisUpdate).  A refused CRL leaves the previous one in use.
 *  - Sources: complete CRLs, one per partition (issuingDistributionPoint; two
 *    sources of the same scope are refused), and delta CRLs (RFC 5280 §5.2.4),
 *    each applied to the complete CRL of the same scope when its BaseCRLNumber
 *    is at most that CRL's number and its own number above it (the newest
 *    such delta); removeFromCRL entries of a delta take the serial off.  A
 *    serial listed by several partitions gets the entry of the last source.
 *  - Answers: a listed serial is revoked with the entry's time, reason, hold
 *    instruction (certificateHold) and invalidity date.  A serial on no CRL is
 *    good (the row 'V', expiry 0) - what a CRL can say; with an issued list
 *    (qpki_db_crl_set_issued) a serial absent from it is not found (unknown).
 *    removeFromCRL in a complete CRL (OpenSSL's `ca -gencrl` writes it for an
 *    index row of that reason) is kept as a revocation with that reason, as
 *    the index-based database answers for the same row.
 *  - Staleness: until every complete source has a CRL, and once any CRL in use
 *    is past nextUpdate + grace, lookups fail with QPKI_ERR_STALE (the
 *    responder answers tryLater, never a good from an expired list) and the
 *    generation moves (cached answers go); a newer CRL brings it back.
 *  - Changes: each accepted CRL rebuilds the table; changes_since names only the
 *    serials whose entry changed.
 *
 * Thread safety: lookups, generation, count and changes_since from any thread;
 * qpki_db_crl_update and the setters are serialised inside. */

/* A new CRL database for the CA certificate ca (copied). */
QPKI_API qpki_status qpki_db_crl_new(const qpki_cert *ca, qpki_db **out);
/* Declare a source (a file or URL, named for messages): delta false for complete
 * CRLs, true for delta CRLs.  *index (may be NULL) receives its number, in the
 * order added. */
QPKI_API qpki_status qpki_db_crl_add_source(qpki_db *db, const char *name, bool delta,
                                            size_t *index);
/* Seconds a CRL stays in use past its nextUpdate (default 0). */
QPKI_API qpki_status qpki_db_crl_set_grace(qpki_db *db, qpki_time grace);
/* Clock for the time checks (NULL: the system clock). */
QPKI_API qpki_status qpki_db_crl_set_clock(qpki_db *db, qpki_time (*now)(void *user),
                                           void *user);
/* The certificates the CA issued (a database whose rows are the issued serials,
 * e.g. a qpki_db_memory table); set once (QPKI_ERR_EXISTS after).  A serial on
 * no CRL and absent from it is then QPKI_ERR_NOT_FOUND (unknown); present, it
 * is good with that row's expiry.  A reference is kept; when its generation
 * moves, cached answers go. */
QPKI_API qpki_status qpki_db_crl_set_issued(qpki_db *db, qpki_db *issued);
/* Offer a CRL to source index; *crl is taken (and set to NULL) in every case.
 * QPKI_OK: accepted and in use.  QPKI_ERR_EXISTS: the very CRL the source holds
 * (nothing done).  Refusals, with msg (may be NULL) saying why: see the checks
 * above (QPKI_ERR_UNSUPPORTED, QPKI_ERR_INVALID_ARG wrong kind or duplicate
 * scope, QPKI_ERR_UNKNOWN_ISSUER, QPKI_ERR_KEY_MISMATCH, QPKI_ERR_BAD_SIGNATURE,
 * QPKI_ERR_NOT_YET_VALID, QPKI_ERR_STALE expired or not newer, QPKI_ERR_DECODE,
 * QPKI_ERR_NOT_FOUND a delta without its complete CRL).  QPKI_ERR_NOMEM: the
 * CRL is kept but the table could not be rebuilt (lookups are QPKI_ERR_STALE
 * until an update succeeds). */
QPKI_API qpki_status qpki_db_crl_update(qpki_db *db, size_t index, qpki_crl **crl, char *msg,
                                        size_t msg_size);

/* What a source holds.  Fields are only appended; set struct_size. */
typedef struct qpki_db_crl_info {
    uint32_t struct_size;
    bool delta;
    bool loaded;                  /* a CRL was accepted */
    bool active;                  /* in use at the last rebuild (a delta: applicable) */
    bool has_number;
    uint8_t number[QPKI_CRL_NUMBER_MAX]; /* cRLNumber magnitude */
    size_t number_len;
    qpki_time this_update;
    qpki_time next_update;        /* 0 when absent */
    qpki_time loaded_at;          /* when it was accepted (the database's clock) */
    size_t entries;
    uint64_t updates;             /* CRLs accepted */
    uint64_t refusals;            /* CRLs refused */
} qpki_db_crl_info;
/* QPKI_ERR_NOT_FOUND for an index past the last source. */
QPKI_API qpki_status qpki_db_crl_source_info(qpki_db *db, size_t index, qpki_db_crl_info *info);
QPKI_API size_t qpki_db_crl_source_count(qpki_db *db);
/* True when lookups answer QPKI_ERR_STALE now (not ready, or past nextUpdate +
 * grace); true for a database that is not a CRL database. */
QPKI_API bool qpki_db_crl_is_stale(qpki_db *db);

#ifdef __cplusplus
}
#endif
#endif
