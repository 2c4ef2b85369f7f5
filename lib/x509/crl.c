/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/crl.c - X.509 CRL reader and signature checks (RFC 5280 §5; Catalyst
 * alternative signatures per ITU-T X.509 §9.8, docs/CATALYST.md). */
#include <string.h>

#include "../der/oid.h"
#include "../der/pem.h"
#include "../internal.h"
#include "x509.h"

/* ---- entries --------------------------------------------------------------------- */

typedef enum entry_fault { ENTRY_OK = 0, ENTRY_UNKNOWN_CRITICAL, ENTRY_INDIRECT } entry_fault;

/* RFC 5280 §5.3.1: CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1),
 * cACompromise (2), affiliationChanged (3), superseded (4), cessationOfOperation
 * (5), certificateHold (6), -- value 7 is not used -- removeFromCRL (8),
 * privilegeWithdrawn (9), aACompromise (10) } */
static qpki_status read_reason(der_view v, qpki_crl_reason *out)
{
    der_cursor c = der_cursor_init(v.p, v.n);
    int r;
    QPKI_GUARD(der_read_enumerated(&c, &r));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_ENSURE(r >= 0 && r <= 10 && r != 7, QPKI_ERR_DECODE);
    *out = (qpki_crl_reason)r;
    return QPKI_OK;
}

/* RFC 5280 §5.3.2: HoldInstructionCode ::= OBJECT IDENTIFIER; an instruction
 * other than the three id-holdinstruction values is kept as ABSENT. */
static qpki_status read_hold(der_view v, qpki_hold_instruction *out)
{
    der_cursor c = der_cursor_init(v.p, v.n);
    der_view oid;
    QPKI_GUARD(der_read_oid(&c, &oid));
    QPKI_GUARD(der_expect_end(&c));
    *out = der_oid_eq(oid, OID_HOLD_INSTRUCTION_NONE)          ? QPKI_HOLD_INSTRUCTION_NONE
           : der_oid_eq(oid, OID_HOLD_INSTRUCTION_CALL_ISSUER) ? QPKI_HOLD_INSTRUCTION_CALL_ISSUER
           : der_oid_eq(oid, OID_HOLD_INSTRUCTION_REJECT)      ? QPKI_HOLD_INSTRUCTION_REJECT
                                                               : QPKI_HOLD_INSTRUCTION_ABSENT;
    return QPKI_OK;
}

/* crlEntryExtensions: the Extension rules of certificates (x509_read_extensions)
 * without an allocation per entry: at most QPKI_CRL_MAX_ENTRY_EXTENSIONS, no
 * repeats, critical FALSE not encoded. */
static qpki_status read_entry_extensions(der_cursor seq, qpki_crl_entry *e, entry_fault *fault)
{
    der_view seen[QPKI_CRL_MAX_ENTRY_EXTENSIONS];
    size_t n = 0;
    /* RFC 5280 §4.1: Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension */
    QPKI_ENSURE(!der_at_end(&seq), QPKI_ERR_DECODE);
    while (!der_at_end(&seq)) {
        QPKI_ENSURE(n < QPKI_CRL_MAX_ENTRY_EXTENSIONS, QPKI_ERR_LIMIT);
        der_cursor ext;
        der_view oid, value;
        bool critical = false;
        QPKI_GUARD(der_read_tlv(&seq, DER_SEQUENCE, &ext));
        QPKI_GUARD(der_read_oid(&ext, &oid));
        if (der_next_is(&ext, DER_BOOLEAN)) {
            QPKI_GUARD(der_read_bool(&ext, &critical));
            /* X.690 §11.5: a value equal to its DEFAULT shall be absent. */
            QPKI_ENSURE(critical, QPKI_ERR_NON_MINIMAL);
        }
        QPKI_GUARD(der_read_octet_string(&ext, &value));
        QPKI_GUARD(der_expect_end(&ext));
        for (size_t j = 0; j < n; j++)
            if (der_view_eq(seen[j], oid.p, oid.n)) {
                char dotted[DER_OID_TEXT_MAX];
                const char *name = qpki_oid_short_name(oid.p, oid.n);
                return der_fail(&ext, QPKI_ERR_DECODE, "duplicate extension %s%s%s%s",
                                der_oid_text_capped(oid, dotted), name ? " (" : "",
                                name ? name : "", name ? ")" : "");
            }
        seen[n++] = oid;
        if (der_oid_eq(oid, OID_CE_CRL_REASON)) {
            QPKI_GUARD(read_reason(value, &e->reason));
        } else if (der_oid_eq(oid, OID_CE_INVALIDITY_DATE)) {
            /* RFC 5280 §5.3.2: InvalidityDate ::= GeneralizedTime */
            der_cursor c = der_cursor_init(value.p, value.n);
            QPKI_GUARD(der_read_generalized_time(&c, &e->invalidity_date));
            QPKI_GUARD(der_expect_end(&c));
            e->has_invalidity_date = true;
        } else if (der_oid_eq(oid, OID_CE_HOLD_INSTRUCTION)) {
            QPKI_GUARD(read_hold(value, &e->hold_instruction));
        } else if (der_oid_eq(oid, OID_CE_CERTIFICATE_ISSUER)) {
            /* RFC 5280 §5.3.3: CertificateIssuer ::= GeneralNames - the entry (and
             * those after it) belong to another issuer: an indirect CRL. */
            der_view contents;
            QPKI_GUARD(x509_general_names_check(value.p, value.n, &contents));
            e->certificate_issuer = true;
            if (*fault == ENTRY_OK)
                *fault = ENTRY_INDIRECT;
        } else if (critical && *fault == ENTRY_OK) {
            *fault = ENTRY_UNKNOWN_CRITICAL;
        }
    }
    return QPKI_OK;
}

/* RFC 5280 §5.1:
 *   revokedCertificates SEQUENCE OF SEQUENCE {
 *       userCertificate    CertificateSerialNumber,
 *       revocationDate     Time,
 *       crlEntryExtensions Extensions OPTIONAL -- if present, version MUST be v2
 *   } OPTIONAL
 * One entry at *list into *e (a full-size struct). */
static qpki_status read_entry(der_cursor *list, int version, qpki_crl_entry *e,
                              entry_fault *fault)
{
    qpki_crl_entry_init(e);
    der_cursor ent;
    QPKI_GUARD(der_read_tlv(list, DER_SEQUENCE, &ent));
    der_view serial;
    der_cursor at_serial = ent;
    DER_FIELD(&ent, "userCertificate", der_read_integer(&ent, &serial));
    /* Serials are kept as encoded (negative ones too, as for certificates), up
     * to QPKI_SERIAL_MAX octets of magnitude. */
    if (serial.n > QPKI_SERIAL_MAX + 1)
        return der_fail(&at_serial, QPKI_ERR_TOO_LARGE, "userCertificate: serial of %zu "
                        "octets (at most %d)", serial.n, QPKI_SERIAL_MAX + 1);
    e->serial = serial.p;
    e->serial_len = serial.n;
    DER_FIELD(&ent, "revocationDate", der_read_time(&ent, &e->revocation_date));
    if (!der_at_end(&ent)) {
        der_cursor at = ent, exts;
        if (version != 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "crlEntryExtensions in a v1 CRL");
        DER_FIELD(&ent, "crlEntryExtensions", der_read_tlv(&ent, DER_SEQUENCE, &exts));
        e->extensions = at.p;
        e->extensions_len = (size_t)(ent.p - at.p);
        DER_FIELD(&ent, "crlEntryExtensions", read_entry_extensions(exts, e, fault));
    }
    return der_expect_end(&ent);
}

void qpki_crl_entry_init(qpki_crl_entry *entry)
{
    if (!entry)
        return;
    memset(entry, 0, sizeof(*entry));
    entry->struct_size = (uint32_t)sizeof(*entry);
    entry->reason = QPKI_REASON_NONE;
}

/* ---- CRL extensions -------------------------------------------------------------- */

/* CRLNumber ::= INTEGER (0..MAX); BaseCRLNumber ::= CRLNumber.  RFC 5280 §5.2.3:
 * "CRL issuers MUST NOT use CRLNumber values longer than 20 octets." */
static qpki_status read_crl_number(der_view v, der_view *magnitude)
{
    der_cursor c = der_cursor_init(v.p, v.n);
    der_view content;
    QPKI_GUARD(der_read_integer(&c, &content));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_integer_magnitude(content, magnitude));
    QPKI_ENSURE(magnitude->n <= QPKI_CRL_NUMBER_MAX, QPKI_ERR_TOO_LARGE);
    return QPKI_OK;
}

/* An IMPLICIT BOOLEAN DEFAULT FALSE of the IssuingDistributionPoint: when
 * present it must be TRUE (X.690 §11.5) in its one DER form (§11.1). */
static qpki_status read_idp_flag(der_cursor *seq, unsigned n, unsigned flag, unsigned *flags)
{
    der_cursor v;
    bool present;
    QPKI_GUARD(der_read_optional(seq, DER_CTX(n), &v, &present));
    if (!present)
        return QPKI_OK;
    QPKI_ENSURE(v.left == 1, QPKI_ERR_DECODE);
    QPKI_ENSURE(v.p[0] != 0x00, QPKI_ERR_NON_MINIMAL);
    QPKI_ENSURE(v.p[0] == 0xff, QPKI_ERR_DECODE);
    *flags |= flag;
    return QPKI_OK;
}

/* RFC 5280 §5.2.5:
 *   IssuingDistributionPoint ::= SEQUENCE {
 *       distributionPoint          [0] DistributionPointName OPTIONAL,
 *       onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
 *       onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
 *       onlySomeReasons            [3] ReasonFlags OPTIONAL,
 *       indirectCRL                [4] BOOLEAN DEFAULT FALSE,
 *       onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
 *   -- at most one of onlyContainsUserCerts, onlyContainsCACerts,
 *   -- and onlyContainsAttributeCerts may be set to TRUE.
 *   DistributionPointName ::= CHOICE { fullName [0] GeneralNames,
 *       nameRelativeToCRLIssuer [1] RelativeDistinguishedName } */
static qpki_status read_idp(der_view v, unsigned *flags)
{
    der_cursor c = der_cursor_init(v.p, v.n), seq, f;
    bool present;
    *flags = 0;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &f, &present));
    if (present) {
        uint8_t tag;
        der_cursor name;
        QPKI_GUARD(der_read_any(&f, &tag, &name, NULL));
        QPKI_ENSURE(tag == DER_CTX_CONS(0) || tag == DER_CTX_CONS(1), QPKI_ERR_UNEXPECTED_TAG);
        QPKI_ENSURE(!der_at_end(&name), QPKI_ERR_DECODE);
        QPKI_GUARD(der_expect_end(&f));
        *flags |= QPKI_CRL_IDP_DISTRIBUTION_POINT;
    }
    QPKI_GUARD(read_idp_flag(&seq, 1, QPKI_CRL_IDP_ONLY_USER_CERTS, flags));
    QPKI_GUARD(read_idp_flag(&seq, 2, QPKI_CRL_IDP_ONLY_CA_CERTS, flags));
    /* ReasonFlags ::= BIT STRING, here [3] IMPLICIT: an unused-bits octet (0..7)
     * and the bits. */
    QPKI_GUARD(der_read_optional(&seq, DER_CTX(3), &f, &present));
    if (present) {
        QPKI_ENSURE(f.left >= 1 && f.p[0] <= 7 && (f.left > 1 || f.p[0] == 0), QPKI_ERR_DECODE);
        *flags |= QPKI_CRL_IDP_ONLY_SOME_REASONS;
    }
    QPKI_GUARD(read_idp_flag(&seq, 4, QPKI_CRL_IDP_INDIRECT, flags));
    QPKI_GUARD(read_idp_flag(&seq, 5, QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS, flags));
    QPKI_GUARD(der_expect_end(&seq));
    unsigned only = *flags & (QPKI_CRL_IDP_ONLY_USER_CERTS | QPKI_CRL_IDP_ONLY_CA_CERTS |
                              QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS);
    QPKI_ENSURE((only & (only - 1)) == 0, QPKI_ERR_DECODE);
    return QPKI_OK;
}

static qpki_status read_crl_extension(qpki_crl *crl, const x509_ext *e)
{
    if (der_oid_eq(e->oid, OID_CE_AUTHORITY_KEY_ID))
        return x509_read_aki(e->value, &crl->aki);
    if (der_oid_eq(e->oid, OID_CE_CRL_NUMBER)) {
        crl->has_number = true;
        return read_crl_number(e->value, &crl->number);
    }
    if (der_oid_eq(e->oid, OID_CE_DELTA_CRL_INDICATOR)) {
        crl->has_delta_base = true;
        return read_crl_number(e->value, &crl->delta_base);
    }
    if (der_oid_eq(e->oid, OID_CE_ISSUING_DP)) {
        crl->idp = e->value;
        QPKI_GUARD(read_idp(e->value, &crl->idp_flags));
        if (crl->idp_flags & QPKI_CRL_IDP_INDIRECT)
            crl->unusable = X509_CRL_INDIRECT;
        else if (crl->idp_flags & QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS)
            crl->unusable = X509_CRL_ATTRIBUTE_ONLY;
        return QPKI_OK;
    }
    /* Extensions that do not change what the entries mean. */
    static const der_oid harmless[] = {OID_CE_ISSUER_ALT_NAME, OID_CE_FRESHEST_CRL, OID_PE_AIA,
                                       OID_CE_ALT_SIG_ALG, OID_CE_ALT_SIG_VALUE};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(harmless); i++)
        if (der_oid_eq(e->oid, harmless[i]))
            return QPKI_OK;
    if (e->critical && crl->unusable == X509_CRL_USABLE)
        crl->unusable = X509_CRL_UNKNOWN_CRITICAL;
    return QPKI_OK;
}

/* ---- the CertificateList ---------------------------------------------------------- */

/* RFC 5280 §5.1:
 *   TBSCertList ::= SEQUENCE {
 *       version                 Version OPTIONAL, -- if present, MUST be v2
 *       signature               AlgorithmIdentifier,
 *       issuer                  Name,
 *       thisUpdate              Time,
 *       nextUpdate              Time OPTIONAL,
 *       revokedCertificates     SEQUENCE OF SEQUENCE { ... } OPTIONAL,
 *       crlExtensions           [0] EXPLICIT Extensions OPTIONAL -- if present, MUST be v2 } */
static qpki_status parse_tbs_fields(qpki_crl *crl, der_cursor *tbsp);
static qpki_status parse_tbs(qpki_crl *crl, der_cursor *outer)
{
    der_cursor before = *outer, tbs;
    QPKI_GUARD(der_read_tlv(outer, DER_SEQUENCE, &tbs));
    crl->tbs = (der_view){before.p, (size_t)(outer->p - before.p)};
    return parse_tbs_fields(crl, &tbs);
}

static qpki_status parse_tbs_fields(qpki_crl *crl, der_cursor *tbsp)
{
    der_cursor tbs = *tbsp;

    if (der_next_is(&tbs, DER_INTEGER)) {
        der_cursor at = tbs;
        uint64_t v;
        DER_FIELD(&tbs, "version", der_read_uint64(&tbs, &v));
        /* §5.1.2.1: "this field MUST be present and MUST specify version 2 (the
         * integer value is 1)"; v1 is the absence of the field. */
        if (v != 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "version %llu (v2 = 1; v1 is the "
                            "field's absence)", (unsigned long long)v);
        crl->version_tlv = (der_view){at.p, (size_t)(tbs.p - at.p)};
        crl->version = 1;
    }
    der_view oid;
    DER_FIELD(&tbs, "signature", x509_read_alg_id(&tbs, &crl->tbs_sig_alg, &oid));
    DER_FIELD(&tbs, "issuer", x509_read_name(&tbs, &crl->issuer));
    DER_FIELD(&tbs, "thisUpdate", der_read_time(&tbs, &crl->this_update));
    if (der_next_is(&tbs, DER_UTC_TIME) || der_next_is(&tbs, DER_GENERALIZED_TIME)) {
        DER_FIELD(&tbs, "nextUpdate", der_read_time(&tbs, &crl->next_update));
        crl->has_next_update = true;
    }
    der_cursor list;
    bool present;
    QPKI_GUARD(der_read_optional(&tbs, DER_SEQUENCE, &list, &present));
    if (present) {
        /* §5.1.2.6 wants the list absent rather than empty; an empty SEQUENCE
         * is valid DER and means the same, so it is accepted. */
        crl->revoked = der_cursor_view(&list);
        entry_fault fault = ENTRY_OK;
        qpki_crl_entry e;
        while (!der_at_end(&list)) {
            if (crl->entry_count >= QPKI_CRL_MAX_ENTRIES)
                return der_fail(&list, QPKI_ERR_LIMIT, "revokedCertificates: more than %zu "
                                "entries", (size_t)QPKI_CRL_MAX_ENTRIES);
            qpki_status st = read_entry(&list, crl->version, &e, &fault);
            if (st != QPKI_OK)
                return der_field(&tbs, st, "revokedCertificates[%zu]", crl->entry_count);
            crl->entry_count++;
        }
        if (fault == ENTRY_INDIRECT)
            crl->unusable = X509_CRL_INDIRECT;
        else if (fault == ENTRY_UNKNOWN_CRITICAL)
            crl->unusable = X509_CRL_UNKNOWN_CRITICAL_ENTRY;
    }
    der_cursor at = tbs, f;
    QPKI_GUARD(der_read_optional(&tbs, DER_CTX_CONS(0), &f, &present));
    if (present) {
        if (crl->version != 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "crlExtensions in a v1 CRL");
        crl->exts_tlv = (der_view){at.p, (size_t)(tbs.p - at.p)};
        der_cursor seq;
        DER_FIELD(&tbs, "crlExtensions", der_read_tlv(&f, DER_SEQUENCE, &seq));
        DER_FIELD(&tbs, "crlExtensions", der_expect_end(&f));
        DER_FIELD(&tbs, "crlExtensions",
                  x509_read_extensions(seq, NULL, &crl->exts, &crl->ext_count));
    }
    return der_expect_end(&tbs);
}

static qpki_status parse_crl(qpki_crl *crl, qpki_detail *detail)
{
    /* CertificateList ::= SEQUENCE { tbsCertList TBSCertList,
     *     signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING } */
    der_diag diag = {crl->der, crl->len, detail};
    der_cursor c = der_cursor_init_diag(crl->der, crl->len, &diag), outer;
    DER_FIELD(&c, "CertificateList", der_read_tlv(&c, DER_SEQUENCE, &outer));
    DER_FIELD(&c, "CertificateList", der_expect_end(&c));
    DER_FIELD(&c, "tbsCertList", parse_tbs(crl, &outer));
    der_view oid;
    der_cursor at = outer;
    DER_FIELD(&c, "signatureAlgorithm", x509_read_alg_id(&outer, &crl->sig_alg, &oid));
    DER_FIELD(&c, "signatureValue",
              der_read_bit_string(&outer, &crl->signature, &crl->sig_unused));
    DER_FIELD(&c, "CertificateList", der_expect_end(&outer));
    /* §5.1.1.2: signatureAlgorithm "MUST contain the same algorithm identifier as
     * the signature field in the sequence tbsCertList". */
    if (!der_view_eq(crl->sig_alg, crl->tbs_sig_alg.p, crl->tbs_sig_alg.n))
        return der_fail(&at, QPKI_ERR_DECODE, "signatureAlgorithm differs from "
                        "tbsCertList.signature (RFC 5280 section 5.1.1.2)");
    crl->sig_alg_id = x509_sig_alg_of(crl->sig_alg);
    for (size_t i = 0; i < crl->ext_count; i++) {
        qpki_status st = read_crl_extension(crl, &crl->exts[i]);
        if (st != QPKI_OK) {
            char dotted[DER_OID_TEXT_MAX];
            const x509_ext *e = &crl->exts[i];
            const char *name = qpki_oid_short_name(e->oid.p, e->oid.n);
            der_cursor ec = der_cursor_sub(&c, e->whole);
            return der_fail(&ec, st, "tbsCertList: crlExtensions: extension %s%s%s%s: bad "
                            "value (%s)", der_oid_text_capped(e->oid, dotted),
                            name ? " (" : "", name ? name : "", name ? ")" : "",
                            qpki_strerror(st));
        }
    }
    return QPKI_OK;
}

/* Parse der[0..len), which the new CRL owns from here on (freed on failure). */
static qpki_status crl_adopt(uint8_t *der, size_t len, qpki_detail *detail, qpki_crl **out)
{
    qpki_crl *crl = qpki_calloc(1, sizeof(*crl));
    if (!crl) {
        qpki_free(der);
        return QPKI_ERR_NOMEM;
    }
    crl->der = der;
    crl->len = len;
    qpki_status rc = parse_crl(crl, detail);
    if (rc != QPKI_OK) {
        qpki_crl_free(&crl);
        return rc;
    }
    *out = crl;
    return QPKI_OK;
}

qpki_status qpki_crl_parse(const uint8_t *der, size_t len, qpki_crl **out)
{
    return qpki_crl_parse_err(der, len, NULL, 0, out);
}

qpki_status qpki_crl_parse_err(const uint8_t *der, size_t len, char *error, size_t error_size,
                               qpki_crl **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(der || len == 0, QPKI_ERR_INVALID_ARG);
    uint8_t *copy;
    QPKI_GUARD(x509_input_copy(der, len, QPKI_CRL_MAX_SIZE, "CertificateList", &detail, &copy));
    return crl_adopt(copy, len, &detail, out);
}

/* PEM or DER in data, which is consumed (freed) either way. */
static qpki_status crl_adopt_any(uint8_t *data, size_t len, qpki_detail *detail,
                                 qpki_crl **out)
{
    if (!pem_detect(data, len)) {
        if (len == 0) {
            qpki_free(data);
            return detail_fail(detail, QPKI_ERR_TRUNCATED, "CertificateList: empty (0 bytes)");
        }
        return crl_adopt(data, len, detail, out);
    }
    /* RFC 7468 §6: "X509 CRL" is the label of a CertificateList. */
    uint8_t *der;
    size_t der_len;
    qpki_status rc = x509_pem_find(data, len, "X509 CRL", NULL, &der, &der_len);
    qpki_free(data);
    if (rc != QPKI_OK)
        return detail_fail(detail, rc, "no PEM X509 CRL block (%s)", qpki_strerror(rc));
    if (der_len > QPKI_CRL_MAX_SIZE || der_len == 0) {
        qpki_free(der);
        return der_len ? QPKI_ERR_TOO_LARGE : QPKI_ERR_TRUNCATED;
    }
    rc = crl_adopt(der, der_len, detail, out);
    if (rc != QPKI_OK)
        detail_prefix(detail, "PEM block X509 CRL: ");
    return rc;
}

qpki_status qpki_crl_parse_any(const uint8_t *data, size_t len, qpki_crl **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data || len == 0, QPKI_ERR_INVALID_ARG);
    if (!pem_detect(data, len))
        return qpki_crl_parse(data, len, out);
    /* A PEM CRL is about 4/3 of its DER. */
    QPKI_ENSURE(len / 4 * 3 <= QPKI_CRL_MAX_SIZE + 4096, QPKI_ERR_TOO_LARGE);
    uint8_t *copy = qpki_memdup(data, len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    return crl_adopt_any(copy, len, NULL, out);
}

qpki_status qpki_crl_load_file(const char *path, qpki_crl **out)
{
    return qpki_crl_load_file_err(path, NULL, 0, out);
}

qpki_status qpki_crl_load_file_err(const char *path, char *error, size_t error_size,
                                   qpki_crl **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(path && out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    uint8_t *data;
    size_t len;
    /* Room for the PEM form of the largest DER we accept. */
    QPKI_GUARD(x509_read_file(path, QPKI_CRL_MAX_SIZE / 3 * 4 + 4096, &data, &len));
    if (!pem_detect(data, len) && len > QPKI_CRL_MAX_SIZE) {
        qpki_free(data);
        return detail_fail(&detail, QPKI_ERR_TOO_LARGE, "CertificateList: %zu bytes, more "
                           "than the %zu allowed", len, (size_t)QPKI_CRL_MAX_SIZE);
    }
    return crl_adopt_any(data, len, &detail, out);
}

void qpki_crl_free(qpki_crl **crl)
{
    if (!crl || !*crl)
        return;
    qpki_free((*crl)->exts);
    qpki_free((*crl)->der);
    qpki_free(*crl);
    *crl = NULL;
}

/* ---- accessors -------------------------------------------------------------------- */

void qpki_crl_der(const qpki_crl *crl, const uint8_t **der, size_t *len)
{
    x509_view_out(crl ? (der_view){crl->der, crl->len} : X509_EMPTY_VIEW, der, len);
}

void qpki_crl_tbs(const qpki_crl *crl, const uint8_t **der, size_t *len)
{
    x509_view_out(crl ? crl->tbs : X509_EMPTY_VIEW, der, len);
}

int qpki_crl_version(const qpki_crl *crl) { return crl ? crl->version + 1 : 0; }

void qpki_crl_issuer_der(const qpki_crl *crl, const uint8_t **der, size_t *len)
{
    x509_view_out(crl ? crl->issuer : X509_EMPTY_VIEW, der, len);
}

qpki_status qpki_crl_issuer_text(const qpki_crl *crl, char *buf, size_t size)
{
    QPKI_ENSURE(crl && buf && size > 0, QPKI_ERR_INVALID_ARG);
    return x509_name_text(crl->issuer, buf, size);
}

qpki_time qpki_crl_this_update(const qpki_crl *crl) { return crl ? crl->this_update : 0; }

qpki_time qpki_crl_next_update(const qpki_crl *crl, bool *present)
{
    bool has = crl && crl->has_next_update;
    if (present)
        *present = has;
    return has ? crl->next_update : 0;
}

qpki_sig_alg qpki_crl_sig_alg(const qpki_crl *crl)
{
    return crl ? crl->sig_alg_id : QPKI_SIG_UNKNOWN;
}

void qpki_crl_sig_alg_der(const qpki_crl *crl, const uint8_t **der, size_t *len)
{
    x509_view_out(crl ? crl->sig_alg : X509_EMPTY_VIEW, der, len);
}

void qpki_crl_signature(const qpki_crl *crl, const uint8_t **sig, size_t *len)
{
    x509_view_out(crl ? crl->signature : X509_EMPTY_VIEW, sig, len);
}

qpki_status qpki_crl_number(const qpki_crl *crl, const uint8_t **number, size_t *len)
{
    QPKI_ENSURE(crl, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(crl->has_number, QPKI_ERR_NOT_FOUND);
    x509_view_out(crl->number, number, len);
    return QPKI_OK;
}

qpki_status qpki_crl_delta_base(const qpki_crl *crl, const uint8_t **number, size_t *len)
{
    QPKI_ENSURE(crl, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(crl->has_delta_base, QPKI_ERR_NOT_FOUND);
    x509_view_out(crl->delta_base, number, len);
    return QPKI_OK;
}

bool qpki_crl_is_delta(const qpki_crl *crl) { return crl && crl->has_delta_base; }

int qpki_crl_number_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    while (a_len > 0 && a[0] == 0) {
        a++;
        a_len--;
    }
    while (b_len > 0 && b[0] == 0) {
        b++;
        b_len--;
    }
    if (a_len != b_len)
        return a_len < b_len ? -1 : 1;
    return a_len ? memcmp(a, b, a_len) : 0;
}

void qpki_crl_authority_key_id(const qpki_crl *crl, const uint8_t **id, size_t *len)
{
    x509_view_out(crl ? crl->aki : X509_EMPTY_VIEW, id, len);
}

void qpki_crl_issuing_distribution_point(const qpki_crl *crl, const uint8_t **der, size_t *len)
{
    x509_view_out(crl ? crl->idp : X509_EMPTY_VIEW, der, len);
}

unsigned qpki_crl_idp_flags(const qpki_crl *crl) { return crl ? crl->idp_flags : 0; }

size_t qpki_crl_extension_count(const qpki_crl *crl) { return crl ? crl->ext_count : 0; }

qpki_status qpki_crl_extension(const qpki_crl *crl, size_t index, const uint8_t **oid,
                               size_t *oid_len, bool *critical, const uint8_t **value,
                               size_t *value_len)
{
    QPKI_ENSURE(crl, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(index < crl->ext_count, QPKI_ERR_NOT_FOUND);
    const x509_ext *e = &crl->exts[index];
    x509_view_out(e->oid, oid, oid_len);
    if (critical)
        *critical = e->critical;
    x509_view_out(e->value, value, value_len);
    return QPKI_OK;
}

qpki_status qpki_crl_usable(const qpki_crl *crl, char *msg, size_t msg_size)
{
    QPKI_ENSURE(crl, QPKI_ERR_INVALID_ARG);
    const char *why = NULL;
    switch (crl->unusable) {
    case X509_CRL_USABLE:
        break;
    case X509_CRL_UNKNOWN_CRITICAL:
        why = "the CRL has a critical extension this library does not process";
        break;
    case X509_CRL_UNKNOWN_CRITICAL_ENTRY:
        why = "an entry has a critical extension this library does not process";
        break;
    case X509_CRL_INDIRECT:
        why = "indirect CRLs (entries for other issuers) are not supported";
        break;
    case X509_CRL_ATTRIBUTE_ONLY:
        why = "the CRL covers attribute certificates only";
        break;
    }
    if (msg && msg_size)
        qpki_fmt(msg, msg_size, "%s", why ? why : "");
    return why ? QPKI_ERR_UNSUPPORTED : QPKI_OK;
}

size_t qpki_crl_entry_count(const qpki_crl *crl) { return crl ? crl->entry_count : 0; }

qpki_status qpki_crl_next_entry(const qpki_crl *crl, size_t *cursor, qpki_crl_entry *entry)
{
    QPKI_ENSURE(crl && cursor && entry, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(entry->struct_size >= offsetof(qpki_crl_entry, extensions_len) +
                                          sizeof(entry->extensions_len),
                QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(*cursor <= crl->revoked.n, QPKI_ERR_INVALID_ARG);
    if (*cursor == crl->revoked.n)
        return QPKI_ERR_NOT_FOUND;
    der_cursor list = der_cursor_init(crl->revoked.p + *cursor, crl->revoked.n - *cursor);
    qpki_crl_entry e;
    entry_fault fault = ENTRY_OK;
    /* Checked at parse time; a cursor that does not point at an entry fails here. */
    QPKI_GUARD(read_entry(&list, crl->version, &e, &fault));
    *cursor = crl->revoked.n - list.left;
    uint32_t size = entry->struct_size < sizeof(e) ? entry->struct_size : (uint32_t)sizeof(e);
    memcpy(entry, &e, size);
    entry->struct_size = size;
    return QPKI_OK;
}

/* ---- verification ------------------------------------------------------------------ */

qpki_status qpki_crl_verify_signature(const qpki_crl *crl, const qpki_cert *issuer)
{
    QPKI_ENSURE(crl && issuer, QPKI_ERR_INVALID_ARG);
    /* Names compared as exact DER, as for certificates (qpki_cert_verify_signature). */
    QPKI_ENSURE(der_view_eq(crl->issuer, issuer->subject.p, issuer->subject.n),
                QPKI_ERR_UNKNOWN_ISSUER);
    /* RFC 5280 §6.3.3 (f): "If a key usage extension is present in the CRL
     * issuer's certificate, verify that the cRLSign bit is set." */
    if (issuer->has_key_usage)
        QPKI_ENSURE(issuer->key_usage & QPKI_KU_CRL_SIGN, QPKI_ERR_KEY_MISMATCH);
    return x509_verify(issuer->spki, crl->sig_alg, crl->tbs, crl->signature, crl->sig_unused);
}

qpki_status qpki_crl_alt_signature(const qpki_crl *crl, const uint8_t **alg, size_t *alg_len,
                                   const uint8_t **sig, size_t *sig_len)
{
    QPKI_ENSURE(crl, QPKI_ERR_INVALID_ARG);
    der_view a, s;
    unsigned unused;
    QPKI_GUARD(x509_read_alt_signature(crl->exts, crl->ext_count, &a, &s, &unused));
    x509_view_out(a, alg, alg_len);
    x509_view_out(s, sig, sig_len);
    return QPKI_OK;
}

qpki_status x509_crl_tbs_reencode(const qpki_crl *crl, bool omit_signature, der_oid skip_oid,
                                  uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(crl && out && out_len, QPKI_ERR_INVALID_ARG);
    /* head: version when present; body: issuer up to the extensions, which end
     * the TBSCertList. */
    const uint8_t *tbs_end = crl->tbs.p + crl->tbs.n;
    der_view body = {crl->issuer.p, (size_t)(tbs_end - crl->exts_tlv.n - crl->issuer.p)};
    return x509_tbs_reencode(crl->version_tlv, crl->tbs_sig_alg, omit_signature, body,
                             DER_CTX_CONS(0), crl->exts, crl->ext_count, skip_oid,
                             QPKI_CRL_MAX_SIZE, out, out_len);
}

qpki_status qpki_crl_verify_alt_signature(const qpki_crl *crl, const qpki_cert *issuer)
{
    QPKI_ENSURE(crl && issuer, QPKI_ERR_INVALID_ARG);
    der_view alg, sig, spki;
    unsigned unused;
    QPKI_GUARD(x509_read_alt_signature(crl->exts, crl->ext_count, &alg, &sig, &unused));
    QPKI_ENSURE(der_view_eq(crl->issuer, issuer->subject.p, issuer->subject.n),
                QPKI_ERR_UNKNOWN_ISSUER);
    QPKI_GUARD(x509_issuer_alt_spki(issuer, &spki));
    /* ITU-T X.509 §9.8: altSignatureAlgorithm and altSignatureValue may be
     * CRL extensions too; the alternative signature is computed as for
     * certificates (§7.2.2), over the TBSCertList "with the signature component
     * and the altSignatureValue extension removed". */
    uint8_t *tbs;
    size_t tbs_len;
    QPKI_GUARD(x509_crl_tbs_reencode(crl, true, OID_CE_ALT_SIG_VALUE, &tbs, &tbs_len));
    qpki_status rc = x509_verify(spki, alg, (der_view){tbs, tbs_len}, sig, unused);
    qpki_free(tbs);
    return rc;
}
