/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/x509.h - private layout of parsed certificates and CSRs, and the
 * pieces shared by the parsers and the builders (never installed).
 *
 * A parsed object owns one copy of its DER bytes; every der_view below points
 * into that copy. */
#ifndef QPKI_X509_H
#define QPKI_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/crl.h>

#include "../der/der.h"

/* One Extension (RFC 5280 §4.1): views into the owner's bytes. */
typedef struct x509_ext {
    der_view oid;      /* extnID contents */
    bool critical;
    der_view value;    /* extnValue OCTET STRING contents */
    der_view whole;    /* the whole Extension TLV */
} x509_ext;

struct qpki_cert {
    uint8_t *der;
    size_t len;

    der_view tbs;          /* tbsCertificate TLV */
    int version;           /* 0 = v1, 1 = v2, 2 = v3 */
    der_view version_tlv;  /* [0] EXPLICIT Version TLV; n == 0 when absent (v1) */
    der_view serial_tlv;   /* INTEGER TLV */
    der_view serial;       /* INTEGER contents */
    der_view tbs_sig_alg;  /* TBSCertificate.signature TLV */
    der_view issuer;       /* Name TLV */
    der_view validity;     /* Validity TLV */
    qpki_time not_before, not_after;
    der_view subject;      /* Name TLV */
    der_view spki;         /* SubjectPublicKeyInfo TLV */
    der_view key_bits;     /* subjectPublicKey BIT STRING value */
    qpki_key_alg key_alg;
    der_view issuer_uid;   /* [1] TLV, n == 0 when absent */
    der_view subject_uid;  /* [2] TLV, n == 0 when absent */
    der_view exts_tlv;     /* [3] TLV, n == 0 when absent */

    der_view sig_alg;      /* outer signatureAlgorithm TLV */
    qpki_sig_alg sig_alg_id;
    der_view signature;    /* signatureValue bits (unused-bits octet removed) */
    unsigned sig_unused;

    size_t ext_count;
    x509_ext *exts;
    /* decoded well-known extensions */
    bool has_basic_constraints, is_ca;
    int path_len;          /* -1 when absent */
    bool has_key_usage;
    unsigned key_usage;
    der_view eku;          /* ExtKeyUsageSyntax contents (OIDs); n == 0 when absent */
    size_t eku_count;
    bool ocsp_signing, ocsp_nocheck;
    der_view ski, aki, san; /* keyIdentifier contents; SAN extnValue (GeneralNames TLV) */
};

struct qpki_csr {
    uint8_t *der;
    size_t len;
    der_view cri;          /* certificationRequestInfo TLV */
    der_view subject;      /* Name TLV */
    der_view spki;
    der_view key_bits;
    qpki_key_alg key_alg;
    der_view sig_alg;      /* signatureAlgorithm TLV */
    qpki_sig_alg sig_alg_id;
    der_view signature;
    unsigned sig_unused;
    size_t ext_count;
    x509_ext *exts;        /* from the extensionRequest attribute */
    der_view san;
    /* Catalyst attributes (2.5.29.72/73/74 as attribute types), n == 0 when absent */
    der_view version_tlv;  /* INTEGER TLV */
    der_view attrs;        /* [0] contents: the Attribute TLVs */
    der_view alt_spki;     /* SubjectPublicKeyInfo TLV */
    der_view alt_sig_alg;  /* AlgorithmIdentifier TLV */
    der_view alt_sig;      /* BIT STRING value */
    unsigned alt_sig_unused;
    der_view alt_sig_attr; /* the whole altSignatureValue Attribute TLV */
};

/* RFC 5280 §5.1: a parsed CertificateList.  Entries are not stored: the parser
 * checks them once and qpki_crl_next_entry decodes them again from `revoked`. */
struct qpki_crl {
    uint8_t *der;
    size_t len;

    der_view tbs;          /* tbsCertList TLV */
    int version;           /* 0 = v1 (absent), 1 = v2 */
    der_view version_tlv;  /* INTEGER TLV; n == 0 when absent */
    der_view tbs_sig_alg;  /* TBSCertList.signature TLV */
    der_view issuer;       /* Name TLV */
    qpki_time this_update, next_update;
    bool has_next_update;
    der_view revoked;      /* revokedCertificates contents; n == 0 when absent or empty */
    size_t entry_count;
    der_view exts_tlv;     /* [0] TLV; n == 0 when absent */

    der_view sig_alg;      /* outer signatureAlgorithm TLV */
    qpki_sig_alg sig_alg_id;
    der_view signature;
    unsigned sig_unused;

    size_t ext_count;
    x509_ext *exts;
    /* decoded extensions */
    bool has_number, has_delta_base;
    der_view number;       /* cRLNumber magnitude */
    der_view delta_base;   /* BaseCRLNumber magnitude */
    der_view aki;          /* keyIdentifier contents */
    der_view idp;          /* issuingDistributionPoint extnValue */
    unsigned idp_flags;
    /* why the CRL cannot decide a status (qpki_crl_usable); 0 when it can */
    enum { X509_CRL_USABLE = 0, X509_CRL_UNKNOWN_CRITICAL, X509_CRL_UNKNOWN_CRITICAL_ENTRY,
           X509_CRL_INDIRECT, X509_CRL_ATTRIBUTE_ONLY } unusable;
};

/* ---- shared parsing helpers ------------------------------------------------ */

/* Hand a view out through the accessors' (pointer, length) pair; either may be NULL. */
static inline void x509_view_out(der_view v, const uint8_t **p, size_t *n)
{
    if (p)
        *p = v.p;
    if (n)
        *n = v.n;
}
#define X509_EMPTY_VIEW ((der_view){NULL, 0})

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }:
 * reads the TLV, checks the shape, returns the whole TLV and the OID contents. */
QPKI_MUST_USE qpki_status x509_read_alg_id(der_cursor *c, der_view *whole, der_view *oid);
/* SubjectPublicKeyInfo: whole TLV, subjectPublicKey value, key algorithm
 * (QPKI_KEY_UNKNOWN for algorithms we do not know - not an error). */
QPKI_MUST_USE qpki_status x509_read_spki(der_cursor *c, der_view *whole, der_view *key_bits,
                                         qpki_key_alg *alg);
/* Key algorithm from an SPKI's AlgorithmIdentifier. */
qpki_key_alg x509_key_alg_from_alg_id(der_view alg_tlv);
/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension, given the SEQUENCE
 * contents.  Duplicates -> QPKI_ERR_DECODE; more than QPKI_CERT_MAX_EXTENSIONS
 * -> QPKI_ERR_LIMIT.  *exts is allocated in the arena a, or on the heap
 * (qpki_free) when a is NULL. */
struct arena;
QPKI_MUST_USE qpki_status x509_read_extensions(der_cursor seq, struct arena *a, x509_ext **exts,
                                               size_t *count);
/* RFC 5280 §4.2.1.1 AuthorityKeyIdentifier extnValue: checks its shape and
 * sets *key_id to the keyIdentifier contents when present (else unchanged). */
QPKI_MUST_USE qpki_status x509_read_aki(der_view value, der_view *key_id);
/* Signature algorithm enum of an AlgorithmIdentifier (QPKI_SIG_UNKNOWN when
 * the crypto layer does not know it). */
qpki_sig_alg x509_sig_alg_of(der_view alg_tlv);
/* Signature check shared by certificates, CSRs and CRLs. */
QPKI_MUST_USE qpki_status x509_verify(der_view spki, der_view sig_alg, der_view signed_tlv,
                                      der_view sig_bits, unsigned sig_unused);

/* RFC 5280 §4.2.1.1 keyIdentifier of an issuer: its subjectKeyIdentifier, or
 * when it has none the §4.2.1.2 method 1 id of its key (written to buf). */
QPKI_MUST_USE qpki_status x509_issuer_key_id(const qpki_cert *issuer, uint8_t buf[20],
                                             der_view *kid);
/* The issuer's alternative (Catalyst) key: its altSubjectPublicKeyInfo parsed
 * into an SPKI TLV (QPKI_ERR_KEY_MISMATCH when it has none). */
QPKI_MUST_USE qpki_status x509_issuer_alt_spki(const qpki_cert *issuer, der_view *spki);
/* The TBS of a certificate or CRL re-encoded from its parsed pieces (ITU-T X.509
 * §7.2.2, docs/CATALYST.md): `head` (the fields before the signature
 * AlgorithmIdentifier), `sig_alg` unless omit_signature, `body` (every field
 * between the signature and the extensions), then the [ext_tag] EXPLICIT
 * Extensions with every Extension of exts copied except skip_oid (skip_oid.n ==
 * 0 keeps all; the wrapper is left out when no extension remains).  Every piece
 * is copied byte for byte; only the lengths are re-encoded.  *out freed with
 * qpki_free; at most max octets. */
QPKI_MUST_USE qpki_status x509_tbs_reencode(der_view head, der_view sig_alg, bool omit_signature,
                                            der_view body, uint8_t ext_tag, const x509_ext *exts,
                                            size_t ext_count, der_oid skip_oid, size_t max,
                                            uint8_t **out, size_t *out_len);
/* Sign msg with signer and check the signature with spki (a signer that does not
 * hold the key it reports must not produce an object).  *sig freed with
 * qpki_free. */
QPKI_MUST_USE qpki_status x509_sign_checked(qpki_signer *signer, der_view alg, der_view spki,
                                            const uint8_t *msg, size_t msg_len, uint8_t **sig,
                                            size_t *sig_len);
/* extnValue contents of the extension oid in exts, or an empty view. */
der_view x509_ext_find(const x509_ext *exts, size_t count, der_oid oid);
/* Catalyst: altSignatureAlgorithm and altSignatureValue of an extension list
 * (ITU-T X.509 §9.8.3, §9.8.4).  QPKI_ERR_NOT_FOUND when neither is there,
 * QPKI_ERR_DECODE when one is missing or malformed. */
QPKI_MUST_USE qpki_status x509_read_alt_signature(const x509_ext *exts, size_t count,
                                                  der_view *alg, der_view *sig,
                                                  unsigned *unused);

/* Read a whole file of at most max bytes (QPKI_ERR_NOT_FOUND, QPKI_ERR_IO,
 * QPKI_ERR_TOO_LARGE); free with qpki_free. */
/* What every reader of a DER object does first: refuse an empty input or one
 * over max octets (the message names `what`: "Certificate: empty (0 bytes)"),
 * then copy der[0..len) for the object to own (*copy; QPKI_ERR_NOMEM). */
QPKI_MUST_USE qpki_status x509_input_copy(const uint8_t *der, size_t len, size_t max,
                                          const char *what, qpki_detail *detail,
                                          uint8_t **copy);
QPKI_MUST_USE qpki_status x509_read_file(const char *path, size_t max, uint8_t **data,
                                         size_t *len);
/* First PEM block labelled label (or alt_label, may be NULL) in data; blocks
 * with headers and other labels are skipped (QPKI_ERR_NOT_FOUND when none).
 * *der freed with qpki_free. */
QPKI_MUST_USE qpki_status x509_pem_find(const uint8_t *data, size_t len, const char *label,
                                        const char *alt_label, uint8_t **der, size_t *der_len);
/* Certificate and request files (PEM bundles may hold whole chains). */
#define X509_FILE_MAX ((size_t)8 * 1024 * 1024)

/* ---- names -------------------------------------------------------------------- */

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OID, value ANY }:
 * read one Name and check that shape. */
QPKI_MUST_USE qpki_status x509_read_name(der_cursor *c, der_view *whole);
/* RFC 4514 text of a Name TLV already checked by x509_read_name. */
QPKI_MUST_USE qpki_status x509_name_text(der_view name, char *buf, size_t size);

/* ---- builders ---------------------------------------------------------------- */

/* How an extension's value is produced when the TBS is encoded. */
enum x509_ext_kind {
    X509_EXT_RAW = 0,     /* value given */
    X509_EXT_SAN,         /* GeneralNames from the builder's SAN list */
    X509_EXT_SKI_AUTO,    /* RFC 5280 §4.2.1.2 method 1 from the SPKI */
    X509_EXT_AKI_SIGNER   /* keyIdentifier = method 1 of the signer's key */
};

typedef struct x509_ext_item {
    uint8_t oid[64];
    size_t oid_len;
    bool critical;
    enum x509_ext_kind kind;
    uint8_t *value;       /* owned; X509_EXT_RAW only */
    size_t value_len;
} x509_ext_item;

/* Ordered extension list used by the certificate and CSR builders. */
typedef struct x509_ext_list {
    x509_ext_item *items;
    size_t n, cap;
    uint8_t *san;         /* concatenated GeneralName TLVs */
    size_t san_len;
    size_t san_count;
} x509_ext_list;

void x509_ext_list_free(x509_ext_list *l);
/* Set (replace == true: replace an existing entry in place) or add (replace ==
 * false: an existing entry is QPKI_ERR_EXISTS) an extension. */
QPKI_MUST_USE qpki_status x509_ext_list_put(x509_ext_list *l, der_oid oid, bool critical,
                                            enum x509_ext_kind kind, const uint8_t *value,
                                            size_t value_len, bool replace);
/* Remove an extension (QPKI_ERR_NOT_FOUND when absent). */
QPKI_MUST_USE qpki_status x509_ext_list_remove(x509_ext_list *l, der_oid oid);
/* Number of extensions that x509_ext_list_encode writes. */
size_t x509_ext_list_count(const x509_ext_list *l, der_oid skip_oid);
/* Append one GeneralName TLV to the SAN list (creating the SAN entry). */
QPKI_MUST_USE qpki_status x509_ext_list_add_san(x509_ext_list *l, const uint8_t *gn,
                                                size_t gn_len);
/* Encode the list as Extensions (SEQUENCE OF Extension), skipping skip_oid when
 * skip_oid.n != 0.  spki_key_bits / signer_key_bits feed the computed kinds.
 * extra (already encoded Extension TLVs, may be empty) is appended last: the
 * Catalyst signing path adds altSignatureAlgorithm/altSignatureValue this way
 * without changing the builder. */
void x509_ext_list_encode(const x509_ext_list *l, der_buf *b, der_oid skip_oid,
                          der_view spki_key_bits, der_view signer_key_bits, der_view extra);
/* RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
QPKI_MUST_USE qpki_status x509_key_id(der_view key_bits, uint8_t out[20]);

/* GeneralName encoders (RFC 5280 §4.2.1.6) into a der_buf. */
QPKI_MUST_USE qpki_status x509_gn_dns(der_buf *b, const char *name);
QPKI_MUST_USE qpki_status x509_gn_email(der_buf *b, const char *addr);
QPKI_MUST_USE qpki_status x509_gn_uri(der_buf *b, const char *uri);
QPKI_MUST_USE qpki_status x509_gn_ip(der_buf *b, const char *text);
/* Check a GeneralNames SEQUENCE TLV and hand back its contents. */
QPKI_MUST_USE qpki_status x509_general_names_check(const uint8_t *der, size_t len,
                                                   der_view *contents);

/* Append every GeneralName of a GeneralNames TLV to the SAN list. */
QPKI_MUST_USE qpki_status x509_add_san_der(x509_ext_list *l, const uint8_t *der, size_t len);
/* Add an extension given by dotted OID; value must be one DER element; an OID
 * already present is QPKI_ERR_EXISTS. */
QPKI_MUST_USE qpki_status x509_add_raw_extension(x509_ext_list *l, const char *oid,
                                                 bool critical, const uint8_t *value,
                                                 size_t len);
/* The signer's AlgorithmIdentifier TLV, SPKI TLV and key bits (borrowed from
 * the signer), checked for shape. */
QPKI_MUST_USE qpki_status x509_signer_info(qpki_signer *signer, der_view *alg, der_view *spki,
                                           der_view *key_bits);
/* Sign tbs and wrap it as SEQUENCE { tbs, alg, BIT STRING signature } (the
 * shape of Certificate, CertificationRequest and CertificateList); the
 * signature is checked against signer_spki first.  The result is at most max
 * octets.  *der freed with qpki_free. */
QPKI_MUST_USE qpki_status x509_sign_and_wrap(qpki_signer *signer, der_view alg,
                                             der_view signer_spki, const uint8_t *tbs,
                                             size_t tbs_len, size_t max, uint8_t **der,
                                             size_t *len);

struct qpki_cert_builder {
    uint8_t serial[QPKI_SERIAL_MAX + 1]; /* INTEGER contents */
    size_t serial_len;
    uint8_t *issuer;
    size_t issuer_len;
    uint8_t *subject;
    size_t subject_len;
    uint8_t *spki;
    size_t spki_len;
    der_view key_bits;                  /* into spki */
    bool has_validity;
    qpki_time not_before, not_after;
    uint8_t *issuer_spki;               /* from set_issuer_cert, for the key check */
    size_t issuer_spki_len;
    uint8_t *issuer_alt_spki;           /* the issuer's altSubjectPublicKeyInfo (Catalyst) */
    size_t issuer_alt_spki_len;
    x509_ext_list exts;
    der_buf eku;                        /* KeyPurposeId TLVs */
    bool eku_critical;
    der_buf aia;                        /* AccessDescription TLVs */
};

/* ---- re-encoding a parsed certificate (Catalyst, ITU-T X.509 §9.8) ------------- */

/* extnValue contents of the extension oid, or an empty view when absent. */
der_view x509_cert_ext_value(const qpki_cert *cert, der_oid oid);

/* TBSCertificate of cert re-encoded field by field from the parsed views, with
 * the signature field omitted when omit_signature is true and the extension
 * skip_oid left out when skip_oid.n != 0.  With neither, the result equals the
 * original TBS bytes.  *out is freed with qpki_free. */
QPKI_MUST_USE qpki_status x509_cert_tbs_reencode(const qpki_cert *cert, bool omit_signature,
                                                 der_oid skip_oid, uint8_t **out,
                                                 size_t *out_len);

/* The same for a CRL's TBSCertList (extensions in [0]).  At most
 * QPKI_CRL_MAX_SIZE octets. */
QPKI_MUST_USE qpki_status x509_crl_tbs_reencode(const qpki_crl *crl, bool omit_signature,
                                                der_oid skip_oid, uint8_t **out,
                                                size_t *out_len);

/* Catalyst request: the CertificationRequestInfo without the altSignatureValue
 * attribute (what the alternative signature covers).  *out freed with qpki_free. */
QPKI_MUST_USE qpki_status x509_csr_alt_cri(const qpki_csr *csr, uint8_t **out, size_t *out_len);

#endif
