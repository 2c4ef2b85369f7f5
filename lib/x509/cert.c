/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/cert.c - X.509 certificate reader (RFC 5280 §4.1, §4.2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../crypto/crypto.h"
#include "../der/oid.h"
#include "../der/pem.h"
#include "../internal.h"
#include "x509.h"

/* ---- pieces shared with the CSR reader --------------------------------------- */

/* RFC 5280 §4.1.1.2:
 *   AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER,
 *                                      parameters ANY DEFINED BY algorithm OPTIONAL } */
qpki_status x509_read_alg_id(der_cursor *c, der_view *whole, der_view *oid)
{
    der_cursor save = *c, seq;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_read_oid(&seq, oid));
    if (!der_at_end(&seq))
        QPKI_GUARD(der_skip(&seq));
    QPKI_GUARD(der_expect_end(&seq));
    *whole = (der_view){save.p, (size_t)(c->p - save.p)};
    return QPKI_OK;
}

qpki_key_alg x509_key_alg_from_alg_id(der_view alg_tlv)
{
    der_cursor c = der_cursor_init(alg_tlv.p, alg_tlv.n), seq;
    der_view oid, curve;
    if (der_read_tlv(&c, DER_SEQUENCE, &seq) != QPKI_OK || der_read_oid(&seq, &oid) != QPKI_OK)
        return QPKI_KEY_UNKNOWN;
    /* RFC 5480 §2.1.1: id-ecPublicKey with namedCurve parameters. */
    if (der_oid_eq(oid, OID_EC_PUBLIC_KEY)) {
        if (der_read_oid(&seq, &curve) != QPKI_OK || !der_at_end(&seq))
            return QPKI_KEY_UNKNOWN;
        if (der_oid_eq(curve, OID_P256))
            return QPKI_KEY_EC_P256;
        if (der_oid_eq(curve, OID_P384))
            return QPKI_KEY_EC_P384;
        if (der_oid_eq(curve, OID_P521))
            return QPKI_KEY_EC_P521;
        return QPKI_KEY_UNKNOWN;
    }
    static const struct {
        der_oid oid;
        qpki_key_alg alg;
    } table[] = {
        {OID_RSA_ENCRYPTION, QPKI_KEY_RSA}, {OID_ED25519, QPKI_KEY_ED25519},
        {OID_ED448, QPKI_KEY_ED448},        {OID_ML_DSA_44, QPKI_KEY_ML_DSA_44},
        {OID_ML_DSA_65, QPKI_KEY_ML_DSA_65}, {OID_ML_DSA_87, QPKI_KEY_ML_DSA_87},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(table); i++)
        if (der_oid_eq(oid, table[i].oid))
            return table[i].alg;
    return QPKI_KEY_UNKNOWN;
}

/* RFC 5280 §4.1:
 *   SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
 *                                       subjectPublicKey BIT STRING } */
qpki_status x509_read_spki(der_cursor *c, der_view *whole, der_view *key_bits,
                           qpki_key_alg *alg)
{
    der_cursor save = *c, seq;
    der_view alg_tlv, oid;
    unsigned unused;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &seq));
    QPKI_GUARD(x509_read_alg_id(&seq, &alg_tlv, &oid));
    QPKI_GUARD(der_read_bit_string(&seq, key_bits, &unused));
    QPKI_GUARD(der_expect_end(&seq));
    *whole = (der_view){save.p, (size_t)(c->p - save.p)};
    /* Keys of every algorithm we know are whole octets; a key with unused bits is
     * kept but its algorithm is reported unknown (nothing can use it). */
    *alg = unused == 0 ? x509_key_alg_from_alg_id(alg_tlv) : QPKI_KEY_UNKNOWN;
    return QPKI_OK;
}

/* RFC 5280 §4.1:
 *   Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 *   Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER,
 *                            critical BOOLEAN DEFAULT FALSE,
 *                            extnValue OCTET STRING } */
/* "1.3.6.1.5.5.7.48.1.2 (nonce)" for messages: dotted (capped), with a short name
 * when there is one. */
static const char *ext_oid_text(der_view oid, char buf[DER_OID_TEXT_MAX + 40])
{
    char dotted[DER_OID_TEXT_MAX];
    const char *name = qpki_oid_short_name(oid.p, oid.n);
    snprintf(buf, DER_OID_TEXT_MAX + 40, "%s%s%s%s", der_oid_text_capped(oid, dotted),
             name ? " (" : "", name ? name : "", name ? ")" : "");
    return buf;
}

qpki_status x509_read_extensions(der_cursor seq, struct arena *a, x509_ext **exts, size_t *count)
{
    *exts = NULL;
    *count = 0;
    if (der_at_end(&seq))
        return der_fail(&seq, QPKI_ERR_DECODE, "empty Extensions (SIZE (1..MAX))");
    size_t n = 0;
    for (der_cursor probe = seq; !der_at_end(&probe); n++) {
        if (n >= QPKI_CERT_MAX_EXTENSIONS)
            return der_fail(&probe, QPKI_ERR_LIMIT, "more than %d extensions",
                            QPKI_CERT_MAX_EXTENSIONS);
        QPKI_GUARD(der_skip(&probe));
    }
    x509_ext *e = a ? arena_calloc(a, n, sizeof(*e)) : qpki_calloc(n, sizeof(*e));
    QPKI_ENSURE(e, QPKI_ERR_NOMEM);
    qpki_status rc = QPKI_OK;
    char name[DER_OID_TEXT_MAX + 40];
    size_t i = 0;
    for (; i < n; i++) {
        der_cursor ext;
        der_cursor before = seq;
        QPKI_CHECK(der_read_tlv(&seq, DER_SEQUENCE, &ext));
        e[i].whole = (der_view){before.p, (size_t)(seq.p - before.p)};
        QPKI_CHECK(der_read_oid(&ext, &e[i].oid));
        e[i].critical = false;
        if (der_next_is(&ext, DER_BOOLEAN)) {
            der_cursor at = ext;
            QPKI_CHECK(der_read_bool(&ext, &e[i].critical));
            /* X.690 §11.5: a value equal to its DEFAULT shall be absent in DER. */
            if (!e[i].critical) {
                rc = der_fail(&at, QPKI_ERR_NON_MINIMAL, "extension %s: critical FALSE is "
                              "encoded (DER omits a DEFAULT value)", ext_oid_text(e[i].oid, name));
                goto out;
            }
        }
        QPKI_CHECK(der_read_octet_string(&ext, &e[i].value));
        QPKI_CHECK(der_expect_end(&ext));
        /* RFC 5280 §4.2: "A certificate MUST NOT include more than one instance
         * of a particular extension." */
        for (size_t j = 0; j < i; j++)
            if (der_view_eq(e[j].oid, e[i].oid.p, e[i].oid.n)) {
                rc = der_fail(&before, QPKI_ERR_DECODE, "duplicate extension %s",
                              ext_oid_text(e[i].oid, name));
                goto out;
            }
    }
    QPKI_CHECK(der_expect_end(&seq));
    *exts = e;
    *count = n;
    return QPKI_OK;
out:
    if (i < n)
        (void)der_field(&seq, rc, "extensions[%zu]", i);
    if (!a)
        qpki_free(e);
    return rc;
}

qpki_sig_alg x509_sig_alg_of(der_view alg_tlv)
{
    qpki_sig_alg alg = QPKI_SIG_UNKNOWN;
    if (crypto_sig_alg_parse(alg_tlv, &alg) != QPKI_OK)
        return QPKI_SIG_UNKNOWN;
    return alg;
}

qpki_status x509_verify(der_view spki, der_view sig_alg, der_view signed_tlv, der_view sig_bits,
                        unsigned sig_unused)
{
    /* Every signature algorithm we know produces whole octets. */
    QPKI_ENSURE(sig_unused == 0, QPKI_ERR_BAD_SIGNATURE);
    return crypto_verify_spki(spki, sig_alg, signed_tlv.p, signed_tlv.n, sig_bits.p, sig_bits.n);
}

/* ---- well-known extensions ----------------------------------------------------- */

/* RFC 5280 §4.2.1.9:
 *   BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 *                                   pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
static qpki_status parse_basic_constraints(qpki_cert *cert, der_view v)
{
    der_cursor c = der_cursor_init(v.p, v.n), seq;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    bool ca = false;
    if (der_next_is(&seq, DER_BOOLEAN)) {
        QPKI_GUARD(der_read_bool(&seq, &ca));
        QPKI_ENSURE(ca, QPKI_ERR_NON_MINIMAL); /* DEFAULT FALSE must be absent */
    }
    cert->path_len = -1;
    if (!der_at_end(&seq)) {
        uint64_t pl;
        QPKI_GUARD(der_read_uint64(&seq, &pl));
        cert->path_len = pl > 255 ? 255 : (int)pl; /* larger limits mean "no limit" */
    }
    QPKI_GUARD(der_expect_end(&seq));
    cert->has_basic_constraints = true;
    cert->is_ca = ca;
    return QPKI_OK;
}

/* RFC 5280 §4.2.1.3: KeyUsage ::= BIT STRING { digitalSignature (0), ... }.
 * Bit 0 is the most significant bit of the first octet.  Bits past
 * decipherOnly (8) are ignored; trailing zero bits are tolerated (common in the
 * wild although DER drops them, X.690 §11.2.2). */
static qpki_status parse_key_usage(qpki_cert *cert, der_view v)
{
    der_cursor c = der_cursor_init(v.p, v.n);
    der_view bits;
    unsigned unused;
    QPKI_GUARD(der_read_bit_string(&c, &bits, &unused));
    QPKI_GUARD(der_expect_end(&c));
    unsigned ku = 0;
    for (unsigned i = 0; i < 9 && i / 8 < bits.n; i++)
        if (bits.p[i / 8] & (0x80u >> (i % 8)))
            ku |= 1u << i;
    cert->has_key_usage = true;
    cert->key_usage = ku;
    return QPKI_OK;
}

/* RFC 5280 §4.2.1.12: ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
static qpki_status parse_ext_key_usage(qpki_cert *cert, der_view v)
{
    der_cursor c = der_cursor_init(v.p, v.n), seq;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_ENSURE(!der_at_end(&seq), QPKI_ERR_DECODE);
    cert->eku = der_cursor_view(&seq);
    size_t n = 0;
    while (!der_at_end(&seq)) {
        der_view oid;
        QPKI_GUARD(der_read_oid(&seq, &oid));
        /* RFC 6960 §4.2.2.2: the delegate "MUST ... include the value of
         * id-kp-OCSPSigning in an extended key usage extension" - only that
         * purpose counts (anyExtendedKeyUsage does not). */
        if (der_oid_eq(oid, OID_KP_OCSP_SIGNING))
            cert->ocsp_signing = true;
        n++;
    }
    cert->eku_count = n;
    return QPKI_OK;
}

/* RFC 5280 §4.2.1.1:
 *   AuthorityKeyIdentifier ::= SEQUENCE {
 *       keyIdentifier             [0] KeyIdentifier           OPTIONAL,
 *       authorityCertIssuer       [1] GeneralNames            OPTIONAL,
 *       authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL } */
qpki_status x509_read_aki(der_view v, der_view *key_id)
{
    der_cursor c = der_cursor_init(v.p, v.n), seq, f;
    bool present;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX(0), &f, &present));
    if (present)
        *key_id = der_cursor_view(&f);
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(1), &f, &present));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX(2), &f, &present));
    return der_expect_end(&seq);
}

static qpki_status parse_known_extension(qpki_cert *cert, const x509_ext *e)
{
    if (der_oid_eq(e->oid, OID_CE_BASIC_CONSTRAINTS))
        return parse_basic_constraints(cert, e->value);
    if (der_oid_eq(e->oid, OID_CE_KEY_USAGE))
        return parse_key_usage(cert, e->value);
    if (der_oid_eq(e->oid, OID_CE_EXT_KEY_USAGE))
        return parse_ext_key_usage(cert, e->value);
    if (der_oid_eq(e->oid, OID_CE_AUTHORITY_KEY_ID))
        return x509_read_aki(e->value, &cert->aki);
    der_cursor c = der_cursor_init(e->value.p, e->value.n);
    if (der_oid_eq(e->oid, OID_CE_SUBJECT_KEY_ID)) {
        /* RFC 5280 §4.2.1.2: SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING) */
        QPKI_GUARD(der_read_octet_string(&c, &cert->ski));
        return der_expect_end(&c);
    }
    if (der_oid_eq(e->oid, OID_OCSP_NOCHECK)) {
        /* RFC 6960 §4.2.2.2.1: "The value of the extension SHALL be NULL." */
        QPKI_GUARD(der_read_null(&c));
        QPKI_GUARD(der_expect_end(&c));
        cert->ocsp_nocheck = true;
        return QPKI_OK;
    }
    if (der_oid_eq(e->oid, OID_CE_SUBJECT_ALT_NAME)) {
        der_view contents;
        QPKI_GUARD(x509_general_names_check(e->value.p, e->value.n, &contents));
        cert->san = e->value;
        return QPKI_OK;
    }
    return QPKI_OK;
}

/* ---- the certificate ----------------------------------------------------------- */

static qpki_status parse_tbs(qpki_cert *cert, der_cursor *outer)
{
    der_cursor before = *outer, tbs;
    DER_FIELD(outer, "tbsCertificate", der_read_tlv(outer, DER_SEQUENCE, &tbs));
    cert->tbs = (der_view){before.p, (size_t)(outer->p - before.p)};

    /* version [0] EXPLICIT Version DEFAULT v1; Version ::= INTEGER { v1(0), v2(1), v3(2) } */
    cert->version = 0;
    if (der_next_is(&tbs, DER_CTX_CONS(0))) {
        der_cursor at = tbs, vc;
        DER_FIELD(&tbs, "version", der_read_tlv(&tbs, DER_CTX_CONS(0), &vc));
        cert->version_tlv = (der_view){at.p, (size_t)(tbs.p - at.p)};
        uint64_t v;
        DER_FIELD(&tbs, "version", der_read_uint64(&vc, &v));
        DER_FIELD(&tbs, "version", der_expect_end(&vc));
        /* v1 is the DEFAULT and X.690 §11.5 forbids encoding it. */
        if (v != 1 && v != 2)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "version %llu (v2 = 1 or v3 = 2; v1 "
                            "is the DEFAULT, not encoded)", (unsigned long long)v);
        cert->version = (int)v;
    }

    /* serialNumber CertificateSerialNumber (INTEGER).  RFC 5280 §4.1.2.2 wants a
     * positive value of at most 20 octets; "Certificate users SHOULD be prepared
     * to gracefully handle such certificates" - negative and zero serials are
     * kept as encoded, up to QPKI_SERIAL_MAX octets of magnitude. */
    der_cursor at = tbs;
    DER_FIELD(&tbs, "serialNumber", der_read_integer(&tbs, &cert->serial));
    cert->serial_tlv = (der_view){at.p, (size_t)(tbs.p - at.p)};
    if (cert->serial.n > QPKI_SERIAL_MAX + 1)
        return der_fail(&at, QPKI_ERR_TOO_LARGE, "serialNumber of %zu octets (at most %d)",
                        cert->serial.n, QPKI_SERIAL_MAX + 1);

    der_view oid;
    DER_FIELD(&tbs, "signature", x509_read_alg_id(&tbs, &cert->tbs_sig_alg, &oid));
    DER_FIELD(&tbs, "issuer", x509_read_name(&tbs, &cert->issuer));

    /* Validity ::= SEQUENCE { notBefore Time, notAfter Time } */
    der_cursor val;
    at = tbs;
    DER_FIELD(&tbs, "validity", der_read_tlv(&tbs, DER_SEQUENCE, &val));
    cert->validity = (der_view){at.p, (size_t)(tbs.p - at.p)};
    DER_FIELD(&tbs, "validity: notBefore", der_read_time(&val, &cert->not_before));
    DER_FIELD(&tbs, "validity: notAfter", der_read_time(&val, &cert->not_after));
    DER_FIELD(&tbs, "validity", der_expect_end(&val));

    DER_FIELD(&tbs, "subject", x509_read_name(&tbs, &cert->subject));
    DER_FIELD(&tbs, "subjectPublicKeyInfo",
              x509_read_spki(&tbs, &cert->spki, &cert->key_bits, &cert->key_alg));

    /* issuerUniqueID [1] IMPLICIT, subjectUniqueID [2] IMPLICIT: "If present,
     * version MUST be v2 or v3"; extensions [3] EXPLICIT: "If present, version
     * MUST be v3" (RFC 5280 §4.1). */
    der_cursor f;
    bool present;
    at = tbs;
    QPKI_GUARD(der_read_optional(&tbs, DER_CTX(1), &f, &present));
    if (present) {
        if (cert->version < 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "issuerUniqueID in a v1 certificate");
        cert->issuer_uid = (der_view){at.p, (size_t)(tbs.p - at.p)};
    }
    at = tbs;
    QPKI_GUARD(der_read_optional(&tbs, DER_CTX(2), &f, &present));
    if (present) {
        if (cert->version < 1)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "subjectUniqueID in a v1 certificate");
        cert->subject_uid = (der_view){at.p, (size_t)(tbs.p - at.p)};
    }
    at = tbs;
    QPKI_GUARD(der_read_optional(&tbs, DER_CTX_CONS(3), &f, &present));
    if (present) {
        if (cert->version != 2)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "extensions in a v%d certificate (v3 "
                            "only)", cert->version + 1);
        cert->exts_tlv = (der_view){at.p, (size_t)(tbs.p - at.p)};
        der_cursor seq;
        DER_FIELD(&tbs, "extensions", der_read_tlv(&f, DER_SEQUENCE, &seq));
        DER_FIELD(&tbs, "extensions", der_expect_end(&f));
        DER_FIELD(&tbs, "extensions",
                  x509_read_extensions(seq, NULL, &cert->exts, &cert->ext_count));
    }
    return der_expect_end(&tbs);
}

static qpki_status parse_cert(qpki_cert *cert, qpki_detail *detail)
{
    der_diag diag = {cert->der, cert->len, detail};
    der_cursor c = der_cursor_init_diag(cert->der, cert->len, &diag), outer;
    /* Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
     *     signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING } */
    DER_FIELD(&c, "Certificate", der_read_tlv(&c, DER_SEQUENCE, &outer));
    DER_FIELD(&c, "Certificate", der_expect_end(&c));
    cert->path_len = -1;
    DER_FIELD(&c, "tbsCertificate", parse_tbs(cert, &outer));
    der_view oid;
    der_cursor at = outer;
    DER_FIELD(&c, "signatureAlgorithm", x509_read_alg_id(&outer, &cert->sig_alg, &oid));
    DER_FIELD(&c, "signatureValue",
              der_read_bit_string(&outer, &cert->signature, &cert->sig_unused));
    DER_FIELD(&c, "Certificate", der_expect_end(&outer));
    /* RFC 5280 §4.1.1.2: signatureAlgorithm "MUST contain the same algorithm
     * identifier as the signature field in the sequence tbsCertificate". */
    if (!der_view_eq(cert->sig_alg, cert->tbs_sig_alg.p, cert->tbs_sig_alg.n))
        return der_fail(&at, QPKI_ERR_DECODE, "signatureAlgorithm differs from "
                        "tbsCertificate.signature (RFC 5280 section 4.1.1.2)");
    cert->sig_alg_id = x509_sig_alg_of(cert->sig_alg);
    for (size_t i = 0; i < cert->ext_count; i++) {
        qpki_status st = parse_known_extension(cert, &cert->exts[i]);
        if (st != QPKI_OK) {
            char name[DER_OID_TEXT_MAX + 40];
            der_cursor e = der_cursor_sub(&c, cert->exts[i].whole);
            return der_fail(&e, st, "tbsCertificate: extension %s: bad value (%s)",
                            ext_oid_text(cert->exts[i].oid, name), qpki_strerror(st));
        }
    }
    return QPKI_OK;
}

qpki_status qpki_cert_parse(const uint8_t *der, size_t len, qpki_cert **out)
{
    return qpki_cert_parse_err(der, len, NULL, 0, out);
}

qpki_status qpki_cert_parse_err(const uint8_t *der, size_t len, char *error, size_t error_size,
                                qpki_cert **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(der || len == 0, QPKI_ERR_INVALID_ARG);
    uint8_t *copy;
    QPKI_GUARD(x509_input_copy(der, len, QPKI_CERT_MAX_SIZE, "Certificate", &detail, &copy));
    qpki_cert *cert = qpki_calloc(1, sizeof(*cert));
    if (!cert) {
        qpki_free(copy);
        return QPKI_ERR_NOMEM;
    }
    cert->der = copy;
    cert->len = len;
    qpki_status rc = parse_cert(cert, &detail);
    if (rc != QPKI_OK) {
        qpki_cert_free(&cert);
        return rc;
    }
    *out = cert;
    return QPKI_OK;
}

qpki_status x509_input_copy(const uint8_t *der, size_t len, size_t max, const char *what,
                            qpki_detail *detail, uint8_t **copy)
{
    *copy = NULL;
    if (len > max)
        return detail_fail(detail, QPKI_ERR_TOO_LARGE, "%s: %zu bytes, more than the %zu "
                           "allowed", what, len, max);
    if (len == 0)
        return detail_fail(detail, QPKI_ERR_TRUNCATED, "%s: empty (0 bytes)", what);
    *copy = qpki_memdup(der, len);
    return *copy ? QPKI_OK : QPKI_ERR_NOMEM;
}

qpki_status x509_pem_find(const uint8_t *data, size_t len, const char *label,
                          const char *alt_label, uint8_t **der, size_t *der_len)
{
    size_t off = 0;
    for (;;) {
        char found[64];
        qpki_status rc = pem_next(data, len, &off, found, sizeof(found), der, der_len);
        if (rc == QPKI_ERR_UNSUPPORTED) {
            /* A block with RFC 1421 headers (a legacy encrypted key): not one we
             * want; continue after its BEGIN line. */
            const uint8_t *b = memmem(data + off, len - off, "-----BEGIN ", 11);
            if (!b)
                return QPKI_ERR_NOT_FOUND;
            off = (size_t)(b - data) + 11;
            continue;
        }
        QPKI_GUARD(rc);
        if (strcmp(found, label) == 0 || (alt_label && strcmp(found, alt_label) == 0))
            return QPKI_OK;
        qpki_free_secret(*der, *der_len); /* may be a private key */
        *der = NULL;
        *der_len = 0;
    }
}

qpki_status qpki_cert_parse_any(const uint8_t *data, size_t len, qpki_cert **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data || len == 0, QPKI_ERR_INVALID_ARG);
    if (!pem_detect(data, len))
        return qpki_cert_parse(data, len, out);
    /* RFC 7468 §5: the label is "CERTIFICATE"; other blocks (keys, requests) in
     * the same file are skipped. */
    uint8_t *der;
    size_t der_len;
    QPKI_GUARD(x509_pem_find(data, len, "CERTIFICATE", NULL, &der, &der_len));
    qpki_status rc = qpki_cert_parse(der, der_len, out);
    qpki_free(der);
    return rc;
}

qpki_status x509_read_file(const char *path, size_t max, uint8_t **data, size_t *len)
{
    QPKI_ENSURE(path && data && len, QPKI_ERR_INVALID_ARG);
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? QPKI_ERR_NOT_FOUND : QPKI_ERR_IO;
    qpki_status rc = QPKI_OK;
    size_t cap = 4096, n = 0;
    /* A regular file is read into one buffer of its size (plus the byte that
     * shows the end): large files (CRLs) are not grown by doubling. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size < max && (size_t)st.st_size + 1 > cap)
        cap = (size_t)st.st_size + 1;
    uint8_t *buf = qpki_malloc(cap);
    if (!buf)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f))
                QPKI_FAIL(QPKI_ERR_IO);
            break;
        }
        if (cap >= max + 1)
            QPKI_FAIL(QPKI_ERR_TOO_LARGE);
        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        uint8_t *nb = qpki_realloc(buf, ncap);
        if (!nb)
            QPKI_FAIL(QPKI_ERR_NOMEM);
        buf = nb;
        cap = ncap;
    }
    if (n > max)
        QPKI_FAIL(QPKI_ERR_TOO_LARGE);
    *data = buf;
    *len = n;
    buf = NULL;
out:
    qpki_free(buf);
    fclose(f);
    return rc;
}

qpki_status qpki_cert_load_file(const char *path, qpki_cert **out)
{
    return qpki_cert_load_file_err(path, NULL, 0, out);
}

qpki_status qpki_cert_load_file_err(const char *path, char *error, size_t error_size,
                                    qpki_cert **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(path && out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    uint8_t *data;
    size_t len;
    QPKI_GUARD(x509_read_file(path, X509_FILE_MAX, &data, &len));
    qpki_status rc;
    if (!pem_detect(data, len)) {
        rc = qpki_cert_parse_err(data, len, error, error_size, out);
    } else {
        uint8_t *der;
        size_t der_len;
        rc = x509_pem_find(data, len, "CERTIFICATE", NULL, &der, &der_len);
        if (rc == QPKI_OK) {
            rc = qpki_cert_parse_err(der, der_len, error, error_size, out);
            if (rc != QPKI_OK)
                detail_prefix(&detail, "PEM block CERTIFICATE: ");
            qpki_free(der);
        } else {
            detail_fail(&detail, rc, "no PEM CERTIFICATE block (%s)", qpki_strerror(rc));
        }
    }
    qpki_free(data);
    return rc;
}

void qpki_cert_free(qpki_cert **cert)
{
    if (!cert || !*cert)
        return;
    qpki_free((*cert)->exts);
    qpki_free((*cert)->der);
    qpki_free(*cert);
    *cert = NULL;
}

/* ---- accessors ------------------------------------------------------------------- */

void qpki_cert_der(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? (der_view){cert->der, cert->len} : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_tbs(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->tbs : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_serial(const qpki_cert *cert, const uint8_t **serial, size_t *len)
{
    x509_view_out(cert ? cert->serial : X509_EMPTY_VIEW, serial, len);
}

void qpki_cert_issuer_der(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->issuer : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_subject_der(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->subject : X509_EMPTY_VIEW, der, len);
}

qpki_status qpki_cert_subject_text(const qpki_cert *cert, char *buf, size_t size)
{
    QPKI_ENSURE(cert && buf && size > 0, QPKI_ERR_INVALID_ARG);
    return x509_name_text(cert->subject, buf, size);
}

qpki_status qpki_cert_issuer_text(const qpki_cert *cert, char *buf, size_t size)
{
    QPKI_ENSURE(cert && buf && size > 0, QPKI_ERR_INVALID_ARG);
    return x509_name_text(cert->issuer, buf, size);
}

qpki_time qpki_cert_not_before(const qpki_cert *cert) { return cert ? cert->not_before : 0; }
qpki_time qpki_cert_not_after(const qpki_cert *cert) { return cert ? cert->not_after : 0; }

void qpki_cert_spki(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->spki : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_public_key_bits(const qpki_cert *cert, const uint8_t **bits, size_t *len)
{
    x509_view_out(cert ? cert->key_bits : X509_EMPTY_VIEW, bits, len);
}

qpki_key_alg qpki_cert_key_alg(const qpki_cert *cert)
{
    return cert ? cert->key_alg : QPKI_KEY_UNKNOWN;
}

qpki_sig_alg qpki_cert_sig_alg(const qpki_cert *cert)
{
    return cert ? cert->sig_alg_id : QPKI_SIG_UNKNOWN;
}

bool qpki_cert_is_ca(const qpki_cert *cert) { return cert && cert->is_ca; }

unsigned qpki_cert_key_usage(const qpki_cert *cert, bool *present)
{
    if (present)
        *present = cert && cert->has_key_usage;
    return cert ? cert->key_usage : 0;
}

bool qpki_cert_has_ocsp_signing(const qpki_cert *cert) { return cert && cert->ocsp_signing; }
bool qpki_cert_has_ocsp_nocheck(const qpki_cert *cert) { return cert && cert->ocsp_nocheck; }

void qpki_cert_subject_key_id(const qpki_cert *cert, const uint8_t **id, size_t *len)
{
    x509_view_out(cert ? cert->ski : X509_EMPTY_VIEW, id, len);
}

void qpki_cert_authority_key_id(const qpki_cert *cert, const uint8_t **id, size_t *len)
{
    x509_view_out(cert ? cert->aki : X509_EMPTY_VIEW, id, len);
}

size_t qpki_cert_extension_count(const qpki_cert *cert) { return cert ? cert->ext_count : 0; }

qpki_status qpki_cert_extension(const qpki_cert *cert, size_t index, const uint8_t **oid,
                                size_t *oid_len, bool *critical, const uint8_t **value,
                                size_t *value_len)
{
    QPKI_ENSURE(cert, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(index < cert->ext_count, QPKI_ERR_NOT_FOUND);
    const x509_ext *e = &cert->exts[index];
    x509_view_out(e->oid, oid, oid_len);
    if (critical)
        *critical = e->critical;
    x509_view_out(e->value, value, value_len);
    return QPKI_OK;
}

qpki_status qpki_cert_find_extension(const qpki_cert *cert, const uint8_t *oid, size_t oid_len,
                                     bool *critical, const uint8_t **value, size_t *value_len)
{
    QPKI_ENSURE(cert && oid, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < cert->ext_count; i++)
        if (der_view_eq(cert->exts[i].oid, oid, oid_len))
            return qpki_cert_extension(cert, i, NULL, NULL, critical, value, value_len);
    return QPKI_ERR_NOT_FOUND;
}

int qpki_cert_version(const qpki_cert *cert) { return cert ? cert->version + 1 : 0; }

int qpki_cert_path_len_constraint(const qpki_cert *cert) { return cert ? cert->path_len : -1; }

size_t qpki_cert_ext_key_usage_count(const qpki_cert *cert) { return cert ? cert->eku_count : 0; }

qpki_status qpki_cert_ext_key_usage(const qpki_cert *cert, size_t index, const uint8_t **oid,
                                    size_t *oid_len)
{
    QPKI_ENSURE(cert, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(index < cert->eku_count, QPKI_ERR_NOT_FOUND);
    der_cursor c = der_cursor_init(cert->eku.p, cert->eku.n);
    der_view v = X509_EMPTY_VIEW;
    for (size_t i = 0; i <= index; i++)
        QPKI_GUARD(der_read_oid(&c, &v));
    x509_view_out(v, oid, oid_len);
    return QPKI_OK;
}

void qpki_cert_subject_alt_name(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->san : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_sig_alg_der(const qpki_cert *cert, const uint8_t **der, size_t *len)
{
    x509_view_out(cert ? cert->sig_alg : X509_EMPTY_VIEW, der, len);
}

void qpki_cert_signature(const qpki_cert *cert, const uint8_t **sig, size_t *len)
{
    x509_view_out(cert ? cert->signature : X509_EMPTY_VIEW, sig, len);
}

/* ---- verification ------------------------------------------------------------------ */

qpki_status qpki_cert_verify_signature(const qpki_cert *cert, const qpki_cert *issuer)
{
    QPKI_ENSURE(cert && issuer, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §7.1 compares names after normalising them; we compare the DER
     * bytes exactly.  A CA that re-encodes its own name differently in the
     * certificates it issues (string type or case) is not matched - such a
     * certificate gets QPKI_ERR_UNKNOWN_ISSUER, never a false match. */
    QPKI_ENSURE(der_view_eq(cert->issuer, issuer->subject.p, issuer->subject.n),
                QPKI_ERR_UNKNOWN_ISSUER);
    return x509_verify(issuer->spki, cert->sig_alg, cert->tbs, cert->signature,
                       cert->sig_unused);
}

/* ---- Catalyst (ITU-T X.509 §9.8) ---------------------------------------------------- */

qpki_status qpki_cert_alt_spki(const qpki_cert *cert, const uint8_t **spki, size_t *len)
{
    QPKI_ENSURE(cert, QPKI_ERR_INVALID_ARG);
    der_view v = x509_cert_ext_value(cert, OID_CE_ALT_SPKI);
    QPKI_ENSURE(v.n > 0, QPKI_ERR_NOT_FOUND);
    x509_view_out(v, spki, len);
    return QPKI_OK;
}

/* §9.8.3: AltSignatureAlgorithm ::= AlgorithmIdentifier; "When the
 * altSignatureAlgorithm extension is included ... the altSignatureValue extension
 * shall also be included."  §9.8.4: AltSignatureValue ::= BIT STRING. */
qpki_status x509_read_alt_signature(const x509_ext *exts, size_t count, der_view *alg,
                                    der_view *sig, unsigned *unused)
{
    der_view a = x509_ext_find(exts, count, OID_CE_ALT_SIG_ALG);
    der_view v = x509_ext_find(exts, count, OID_CE_ALT_SIG_VALUE);
    QPKI_ENSURE(a.n > 0 || v.n > 0, QPKI_ERR_NOT_FOUND);
    QPKI_ENSURE(a.n > 0 && v.n > 0, QPKI_ERR_DECODE);
    der_cursor c = der_cursor_init(a.p, a.n);
    der_view oid;
    QPKI_GUARD(x509_read_alg_id(&c, alg, &oid));
    QPKI_GUARD(der_expect_end(&c));
    c = der_cursor_init(v.p, v.n);
    QPKI_GUARD(der_read_bit_string(&c, sig, unused));
    return der_expect_end(&c);
}

static qpki_status read_alt_signature(const qpki_cert *cert, der_view *alg, der_view *sig,
                                      unsigned *unused)
{
    return x509_read_alt_signature(cert->exts, cert->ext_count, alg, sig, unused);
}

qpki_status x509_issuer_alt_spki(const qpki_cert *issuer, der_view *spki)
{
    /* §9.8.4: "it shall be verified using the alternative public key of the
     * issuer" - the issuer's subjectAltPublicKeyInfo (2.5.29.72). */
    der_view alt = x509_cert_ext_value(issuer, OID_CE_ALT_SPKI);
    QPKI_ENSURE(alt.n > 0, QPKI_ERR_KEY_MISMATCH);
    der_cursor c = der_cursor_init(alt.p, alt.n);
    der_view bits;
    qpki_key_alg key_alg;
    QPKI_GUARD(x509_read_spki(&c, spki, &bits, &key_alg));
    return der_expect_end(&c);
}

qpki_status qpki_cert_alt_signature(const qpki_cert *cert, const uint8_t **alg, size_t *alg_len,
                                    const uint8_t **sig, size_t *sig_len)
{
    QPKI_ENSURE(cert, QPKI_ERR_INVALID_ARG);
    der_view a, s;
    unsigned unused;
    QPKI_GUARD(read_alt_signature(cert, &a, &s, &unused));
    x509_view_out(a, alg, alg_len);
    x509_view_out(s, sig, sig_len);
    return QPKI_OK;
}

qpki_status qpki_cert_verify_alt_signature(const qpki_cert *cert, const qpki_cert *issuer)
{
    QPKI_ENSURE(cert && issuer, QPKI_ERR_INVALID_ARG);
    der_view alg, sig;
    unsigned unused;
    QPKI_GUARD(read_alt_signature(cert, &alg, &sig, &unused));
    /* Same exact-DER name rule as qpki_cert_verify_signature. */
    QPKI_ENSURE(der_view_eq(cert->issuer, issuer->subject.p, issuer->subject.n),
                QPKI_ERR_UNKNOWN_ISSUER);
    der_view spki;
    QPKI_GUARD(x509_issuer_alt_spki(issuer, &spki));
    /* §7.2.2: the TBSCertificate "with the signature component and the
     * altSignatureValue extension removed". */
    uint8_t *tbs;
    size_t tbs_len;
    QPKI_GUARD(x509_cert_tbs_reencode(cert, true, OID_CE_ALT_SIG_VALUE, &tbs, &tbs_len));
    qpki_status rc = x509_verify(spki, alg, (der_view){tbs, tbs_len}, sig, unused);
    qpki_free(tbs);
    return rc;
}

bool qpki_cert_valid_at(const qpki_cert *cert, qpki_time t)
{
    /* RFC 5280 §4.1.2.5: "The validity period for a certificate is the period of
     * time from notBefore through notAfter, inclusive." */
    return cert && t >= cert->not_before && t <= cert->not_after;
}

/* ---- re-encoding --------------------------------------------------------------------- */

der_view x509_ext_find(const x509_ext *exts, size_t count, der_oid oid)
{
    for (size_t i = 0; i < count; i++)
        if (der_oid_eq(exts[i].oid, oid))
            return exts[i].value;
    return (der_view){NULL, 0};
}

der_view x509_cert_ext_value(const qpki_cert *cert, der_oid oid)
{
    return x509_ext_find(cert->exts, cert->ext_count, oid);
}

qpki_status x509_tbs_reencode(der_view head, der_view sig_alg, bool omit_signature, der_view body,
                              uint8_t ext_tag, const x509_ext *exts, size_t ext_count,
                              der_oid skip_oid, size_t max, uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(out && out_len, QPKI_ERR_INVALID_ARG);
    der_buf b;
    der_buf_init(&b, max);
    size_t tbs = der_begin(&b, DER_SEQUENCE);
    der_put_bytes(&b, head.p, head.n);
    if (!omit_signature)
        der_put_bytes(&b, sig_alg.p, sig_alg.n);
    der_put_bytes(&b, body.p, body.n);
    size_t kept = 0;
    for (size_t i = 0; i < ext_count; i++)
        if (!(skip_oid.n && der_oid_eq(exts[i].oid, skip_oid)))
            kept++;
    /* Extensions is SIZE (1..MAX): when every extension is skipped, the
     * wrapper goes too. */
    if (kept > 0) {
        size_t ctx = der_begin(&b, ext_tag);
        size_t seq = der_begin(&b, DER_SEQUENCE);
        for (size_t i = 0; i < ext_count; i++)
            if (!(skip_oid.n && der_oid_eq(exts[i].oid, skip_oid)))
                der_put_bytes(&b, exts[i].whole.p, exts[i].whole.n);
        der_end(&b, seq);
        der_end(&b, ctx);
    }
    der_end(&b, tbs);
    return der_buf_finish(&b, out, out_len);
}

qpki_status x509_cert_tbs_reencode(const qpki_cert *cert, bool omit_signature, der_oid skip_oid,
                                   uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(cert && out && out_len, QPKI_ERR_INVALID_ARG);
    /* head: version (when present) and serialNumber; body: issuer up to the
     * extensions, which end the TBSCertificate. */
    const uint8_t *head_start = cert->version_tlv.n ? cert->version_tlv.p : cert->serial_tlv.p;
    der_view head = {head_start, (size_t)(cert->serial_tlv.p + cert->serial_tlv.n - head_start)};
    const uint8_t *tbs_end = cert->tbs.p + cert->tbs.n;
    der_view body = {cert->issuer.p,
                     (size_t)(tbs_end - cert->exts_tlv.n - cert->issuer.p)};
    return x509_tbs_reencode(head, cert->tbs_sig_alg, omit_signature, body, DER_CTX_CONS(3),
                             cert->exts, cert->ext_count, skip_oid, QPKI_CERT_MAX_SIZE, out,
                             out_len);
}
