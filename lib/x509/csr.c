/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/csr.c - PKCS#10 certification requests (RFC 2986): read, verify, build. */
#include <stdio.h>
#include <string.h>

#include "../der/oid.h"
#include "../der/pem.h"
#include "../internal.h"
#include "x509.h"

/* ---- reader ------------------------------------------------------------------------ */

/* RFC 2985 §5.4.2: extensionRequest ATTRIBUTE ::= { WITH SYNTAX ExtensionRequest
 * SINGLE VALUE TRUE ID pkcs-9-at-extensionRequest }, ExtensionRequest ::= Extensions */
static qpki_status parse_extension_request(qpki_csr *csr, der_cursor values, der_cursor *at)
{
    if (csr->exts)
        return der_fail(at, QPKI_ERR_DECODE, "extensionRequest given twice");
    der_cursor seq;
    QPKI_GUARD(der_read_tlv(&values, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&values)); /* SINGLE VALUE */
    QPKI_GUARD(x509_read_extensions(seq, NULL, &csr->exts, &csr->ext_count));
    for (size_t i = 0; i < csr->ext_count; i++) {
        if (der_oid_eq(csr->exts[i].oid, OID_CE_SUBJECT_ALT_NAME)) {
            der_view contents;
            qpki_status st = x509_general_names_check(csr->exts[i].value.p,
                                                      csr->exts[i].value.n, &contents);
            if (st != QPKI_OK) {
                der_cursor e = der_cursor_sub(at, csr->exts[i].whole);
                return der_fail(&e, st, "extensions[%zu]: subjectAltName: bad value (%s)", i,
                                qpki_strerror(st));
            }
            csr->san = csr->exts[i].value;
        }
    }
    return QPKI_OK;
}

/* Catalyst attributes (Bouncy Castle's layout, docs/CATALYST.md): attribute types
 * are the ITU-T X.509 §9.8 extension OIDs, each with a single value -
 * subjectAltPublicKeyInfo: SubjectPublicKeyInfo, altSignatureAlgorithm:
 * AlgorithmIdentifier, altSignatureValue: BIT STRING. */
static qpki_status parse_alt_attribute(qpki_csr *csr, der_view type, der_cursor values,
                                       der_view whole, der_cursor *at)
{
    der_view oid, bits;
    qpki_key_alg alg;
    char dotted[DER_OID_TEXT_MAX];
    const der_view *seen = der_oid_eq(type, OID_CE_ALT_SPKI)      ? &csr->alt_spki
                           : der_oid_eq(type, OID_CE_ALT_SIG_ALG) ? &csr->alt_sig_alg
                                                                  : &csr->alt_sig_attr;
    if (seen->n)
        return der_fail(at, QPKI_ERR_DECODE, "attribute %s given twice",
                        der_oid_text_capped(type, dotted));
    if (der_oid_eq(type, OID_CE_ALT_SPKI)) {
        QPKI_GUARD(x509_read_spki(&values, &csr->alt_spki, &bits, &alg));
    } else if (der_oid_eq(type, OID_CE_ALT_SIG_ALG)) {
        QPKI_GUARD(x509_read_alg_id(&values, &csr->alt_sig_alg, &oid));
    } else {
        QPKI_GUARD(der_read_bit_string(&values, &csr->alt_sig, &csr->alt_sig_unused));
        csr->alt_sig_attr = whole;
    }
    return der_expect_end(&values); /* single value */
}

/* RFC 2986 §4.1:
 *   CertificationRequestInfo ::= SEQUENCE {
 *       version       INTEGER { v1(0) } (v1,...),
 *       subject       Name,
 *       subjectPKInfo SubjectPublicKeyInfo{{ PKInfoAlgorithms }},
 *       attributes    [0] Attributes{{ CRIAttributes }} }
 *   Attributes { ATTRIBUTE:IOSet } ::= SET OF Attribute{{ IOSet }}
 *   Attribute ::= SEQUENCE { type ATTRIBUTE.&id, values SET SIZE(1..MAX) OF ... } */
static qpki_status parse_cri(qpki_csr *csr, der_cursor *outer)
{
    der_cursor before = *outer, cri, attrs;
    QPKI_GUARD(der_read_tlv(outer, DER_SEQUENCE, &cri));
    csr->cri = (der_view){before.p, (size_t)(outer->p - before.p)};
    uint64_t version;
    der_cursor at_version = cri;
    DER_FIELD(&cri, "version", der_read_uint64(&cri, &version));
    if (version != 0)
        return der_fail(&at_version, QPKI_ERR_BAD_VERSION, "version %llu (only v1 = 0 exists)",
                        (unsigned long long)version);
    csr->version_tlv = (der_view){at_version.p, (size_t)(cri.p - at_version.p)};
    DER_FIELD(&cri, "subject", x509_read_name(&cri, &csr->subject));
    DER_FIELD(&cri, "subjectPKInfo",
              x509_read_spki(&cri, &csr->spki, &csr->key_bits, &csr->key_alg));
    DER_FIELD(&cri, "attributes", der_read_tlv(&cri, DER_CTX_CONS(0), &attrs));
    DER_FIELD(&cri, "certificationRequestInfo", der_expect_end(&cri));
    csr->attrs = der_cursor_view(&attrs);
    for (size_t i = 0; !der_at_end(&attrs); i++) {
        der_cursor attr, values, at_attr = attrs;
        der_view type;
        char name[40];
        snprintf(name, sizeof(name), "attributes[%zu]", i);
        DER_FIELD(&attrs, name, der_read_tlv(&attrs, DER_SEQUENCE, &attr));
        der_view whole = {at_attr.p, (size_t)(attrs.p - at_attr.p)};
        DER_FIELD(&attrs, name, der_read_oid(&attr, &type));
        DER_FIELD(&attrs, name, der_read_tlv(&attr, DER_SET, &values));
        DER_FIELD(&attrs, name, der_expect_end(&attr));
        if (der_at_end(&values)) /* SIZE(1..MAX) */
            return der_field(&attrs, der_fail(&at_attr, QPKI_ERR_DECODE, "no value"), "%s",
                             name);
        if (der_oid_eq(type, OID_PKCS9_EXTENSION_REQUEST))
            DER_FIELD(&attrs, name, parse_extension_request(csr, values, &at_attr));
        else if (der_oid_eq(type, OID_CE_ALT_SPKI) || der_oid_eq(type, OID_CE_ALT_SIG_ALG) ||
                 der_oid_eq(type, OID_CE_ALT_SIG_VALUE))
            DER_FIELD(&attrs, name, parse_alt_attribute(csr, type, values, whole, &at_attr));
        /* other attributes (challengePassword, ...) are not used */
    }
    return QPKI_OK;
}

static qpki_status parse_csr(qpki_csr *csr, qpki_detail *detail)
{
    der_diag diag = {csr->der, csr->len, detail};
    der_cursor c = der_cursor_init_diag(csr->der, csr->len, &diag), outer;
    /* RFC 2986 §4.2:
     *   CertificationRequest ::= SEQUENCE {
     *       certificationRequestInfo CertificationRequestInfo,
     *       signatureAlgorithm AlgorithmIdentifier{{ SignatureAlgorithms }},
     *       signature          BIT STRING } */
    DER_FIELD(&c, "CertificationRequest", der_read_tlv(&c, DER_SEQUENCE, &outer));
    DER_FIELD(&c, "CertificationRequest", der_expect_end(&c));
    DER_FIELD(&c, "certificationRequestInfo", parse_cri(csr, &outer));
    der_view oid;
    DER_FIELD(&c, "signatureAlgorithm", x509_read_alg_id(&outer, &csr->sig_alg, &oid));
    DER_FIELD(&c, "signature", der_read_bit_string(&outer, &csr->signature, &csr->sig_unused));
    DER_FIELD(&c, "CertificationRequest", der_expect_end(&outer));
    csr->sig_alg_id = x509_sig_alg_of(csr->sig_alg);
    return QPKI_OK;
}

qpki_status qpki_csr_parse(const uint8_t *der, size_t len, qpki_csr **out)
{
    return qpki_csr_parse_err(der, len, NULL, 0, out);
}

qpki_status qpki_csr_parse_err(const uint8_t *der, size_t len, char *error, size_t error_size,
                               qpki_csr **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(der || len == 0, QPKI_ERR_INVALID_ARG);
    uint8_t *copy;
    QPKI_GUARD(x509_input_copy(der, len, QPKI_CERT_MAX_SIZE, "CertificationRequest", &detail,
                               &copy));
    qpki_csr *csr = qpki_calloc(1, sizeof(*csr));
    if (!csr) {
        qpki_free(copy);
        return QPKI_ERR_NOMEM;
    }
    csr->der = copy;
    csr->len = len;
    qpki_status rc = parse_csr(csr, &detail);
    if (rc != QPKI_OK) {
        qpki_csr_free(&csr);
        return rc;
    }
    *out = csr;
    return QPKI_OK;
}

/* PEM (RFC 7468 §7: "CERTIFICATE REQUEST"; "NEW CERTIFICATE REQUEST" is the
 * label older tools -- Netscape, Microsoft -- write) or DER. */
static qpki_status csr_parse_any(const uint8_t *data, size_t len, qpki_detail *detail,
                                 qpki_csr **out)
{
    if (!pem_detect(data, len))
        return qpki_csr_parse_err(data, len, detail->msg, detail->cap, out);
    uint8_t *der;
    size_t der_len;
    qpki_status rc = x509_pem_find(data, len, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST",
                                   &der, &der_len);
    if (rc != QPKI_OK)
        return detail_fail(detail, rc, "no PEM CERTIFICATE REQUEST block (%s)",
                           qpki_strerror(rc));
    rc = qpki_csr_parse_err(der, der_len, detail->msg, detail->cap, out);
    if (rc != QPKI_OK)
        detail_prefix(detail, "PEM block CERTIFICATE REQUEST: ");
    qpki_free(der);
    return rc;
}

qpki_status qpki_csr_parse_any(const uint8_t *data, size_t len, qpki_csr **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data || len == 0, QPKI_ERR_INVALID_ARG);
    qpki_detail detail;
    detail_init(&detail, NULL, 0);
    return csr_parse_any(data, len, &detail, out);
}

qpki_status qpki_csr_load_file(const char *path, qpki_csr **out)
{
    return qpki_csr_load_file_err(path, NULL, 0, out);
}

qpki_status qpki_csr_load_file_err(const char *path, char *error, size_t error_size,
                                   qpki_csr **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(path && out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    uint8_t *data;
    size_t len;
    QPKI_GUARD(x509_read_file(path, X509_FILE_MAX, &data, &len));
    qpki_status rc = csr_parse_any(data, len, &detail, out);
    qpki_free(data);
    return rc;
}

void qpki_csr_free(qpki_csr **csr)
{
    if (!csr || !*csr)
        return;
    qpki_free((*csr)->exts);
    qpki_free((*csr)->der);
    qpki_free(*csr);
    *csr = NULL;
}

void qpki_csr_der(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    x509_view_out(csr ? (der_view){csr->der, csr->len} : X509_EMPTY_VIEW, der, len);
}

void qpki_csr_subject_der(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    x509_view_out(csr ? csr->subject : X509_EMPTY_VIEW, der, len);
}

qpki_status qpki_csr_subject_text(const qpki_csr *csr, char *buf, size_t size)
{
    QPKI_ENSURE(csr && buf && size > 0, QPKI_ERR_INVALID_ARG);
    return x509_name_text(csr->subject, buf, size);
}

void qpki_csr_spki(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    x509_view_out(csr ? csr->spki : X509_EMPTY_VIEW, der, len);
}

qpki_key_alg qpki_csr_key_alg(const qpki_csr *csr) { return csr ? csr->key_alg : QPKI_KEY_UNKNOWN; }

qpki_sig_alg qpki_csr_sig_alg(const qpki_csr *csr)
{
    return csr ? csr->sig_alg_id : QPKI_SIG_UNKNOWN;
}

size_t qpki_csr_extension_count(const qpki_csr *csr) { return csr ? csr->ext_count : 0; }

qpki_status qpki_csr_extension(const qpki_csr *csr, size_t index, const uint8_t **oid,
                               size_t *oid_len, bool *critical, const uint8_t **value,
                               size_t *value_len)
{
    QPKI_ENSURE(csr, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(index < csr->ext_count, QPKI_ERR_NOT_FOUND);
    const x509_ext *e = &csr->exts[index];
    x509_view_out(e->oid, oid, oid_len);
    if (critical)
        *critical = e->critical;
    x509_view_out(e->value, value, value_len);
    return QPKI_OK;
}

void qpki_csr_subject_alt_name(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    x509_view_out(csr ? csr->san : X509_EMPTY_VIEW, der, len);
}

qpki_status qpki_csr_verify_signature(const qpki_csr *csr)
{
    QPKI_ENSURE(csr, QPKI_ERR_INVALID_ARG);
    /* RFC 2986 §3 step 2: the CertificationRequestInfo is signed "with the
     * subject entity's private key" - checked with the public key it carries. */
    return x509_verify(csr->spki, csr->sig_alg, csr->cri, csr->signature, csr->sig_unused);
}

qpki_status qpki_csr_alt_spki(const qpki_csr *csr, const uint8_t **spki, size_t *len)
{
    QPKI_ENSURE(csr, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(csr->alt_spki.n > 0, QPKI_ERR_NOT_FOUND);
    x509_view_out(csr->alt_spki, spki, len);
    return QPKI_OK;
}

/* The CertificationRequestInfo without the altSignatureValue attribute: what the
 * alternative signature covers.  Removing one element of a SET OF in DER order
 * leaves the others in order, so this is also the DER re-encoding. */
qpki_status x509_csr_alt_cri(const qpki_csr *csr, uint8_t **out, size_t *out_len)
{
    der_buf b;
    der_buf_init(&b, QPKI_CERT_MAX_SIZE);
    size_t cri = der_begin(&b, DER_SEQUENCE);
    der_put_bytes(&b, csr->version_tlv.p, csr->version_tlv.n);
    der_put_bytes(&b, csr->subject.p, csr->subject.n);
    der_put_bytes(&b, csr->spki.p, csr->spki.n);
    size_t attrs = der_begin(&b, DER_CTX_CONS(0));
    der_cursor c = der_cursor_init(csr->attrs.p, csr->attrs.n);
    while (!der_at_end(&c) && b.err == QPKI_OK) {
        der_view whole;
        qpki_status rc = der_read_raw(&c, DER_SEQUENCE, &whole);
        if (rc != QPKI_OK) {
            der_buf_free(&b);
            return rc;
        }
        if (whole.p != csr->alt_sig_attr.p)
            der_put_bytes(&b, whole.p, whole.n);
    }
    der_end(&b, attrs);
    der_end(&b, cri);
    return der_buf_finish(&b, out, out_len);
}

qpki_status qpki_csr_verify_alt_signature(const qpki_csr *csr)
{
    QPKI_ENSURE(csr, QPKI_ERR_INVALID_ARG);
    size_t present = (size_t)(csr->alt_spki.n > 0) + (size_t)(csr->alt_sig_alg.n > 0) +
                     (size_t)(csr->alt_sig_attr.n > 0);
    QPKI_ENSURE(present > 0, QPKI_ERR_NOT_FOUND);
    QPKI_ENSURE(present == 3, QPKI_ERR_DECODE);
    uint8_t *tbs;
    size_t tbs_len;
    QPKI_GUARD(x509_csr_alt_cri(csr, &tbs, &tbs_len));
    /* Proof of possession of the alternative key: signed with it, checked with the
     * key the request carries. */
    qpki_status rc = x509_verify(csr->alt_spki, csr->alt_sig_alg, (der_view){tbs, tbs_len},
                                 csr->alt_sig, csr->alt_sig_unused);
    qpki_free(tbs);
    return rc;
}

/* ---- builder ----------------------------------------------------------------------- */

struct qpki_csr_builder {
    uint8_t *subject;
    size_t subject_len;
    x509_ext_list exts;
};

qpki_status qpki_csr_builder_new(qpki_csr_builder **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = qpki_calloc(1, sizeof(**out));
    QPKI_ENSURE(*out, QPKI_ERR_NOMEM);
    return QPKI_OK;
}

void qpki_csr_builder_free(qpki_csr_builder **builder)
{
    if (!builder || !*builder)
        return;
    qpki_free((*builder)->subject);
    x509_ext_list_free(&(*builder)->exts);
    qpki_free(*builder);
    *builder = NULL;
}

qpki_status qpki_csr_builder_set_subject(qpki_csr_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b && der, QPKI_ERR_INVALID_ARG);
    der_cursor c = der_cursor_init(der, len);
    der_view name;
    QPKI_GUARD(x509_read_name(&c, &name));
    QPKI_GUARD(der_expect_end(&c));
    uint8_t *copy = qpki_memdup(der, len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    qpki_free(b->subject);
    b->subject = copy;
    b->subject_len = len;
    return QPKI_OK;
}

typedef qpki_status (*gn_encoder)(der_buf *b, const char *text);

static qpki_status add_san(qpki_csr_builder *b, gn_encoder enc, const char *text)
{
    QPKI_ENSURE(b && text, QPKI_ERR_INVALID_ARG);
    der_buf gn;
    der_buf_init(&gn, 8192);
    qpki_status rc = enc(&gn, text);
    if (rc == QPKI_OK)
        rc = x509_ext_list_add_san(&b->exts, gn.p, gn.len);
    der_buf_free(&gn);
    return rc;
}

qpki_status qpki_csr_builder_add_san_dns(qpki_csr_builder *b, const char *name)
{
    return add_san(b, x509_gn_dns, name);
}

qpki_status qpki_csr_builder_add_san_ip(qpki_csr_builder *b, const char *addr)
{
    return add_san(b, x509_gn_ip, addr);
}

qpki_status qpki_csr_builder_add_san_email(qpki_csr_builder *b, const char *addr)
{
    return add_san(b, x509_gn_email, addr);
}

qpki_status qpki_csr_builder_add_san_uri(qpki_csr_builder *b, const char *uri)
{
    return add_san(b, x509_gn_uri, uri);
}

qpki_status qpki_csr_builder_add_extension(qpki_csr_builder *b, const char *oid, bool critical,
                                           const uint8_t *value, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    return x509_add_raw_extension(&b->exts, oid, critical, value, len);
}

/* X.690 §11.6: "the encodings of the component values of a set-of value shall
 * appear in ascending order, the encodings being compared as octet strings with
 * the shorter components being padded at their trailing end with 0-octets". */
static int set_of_cmp(der_view a, der_view b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c != 0)
        return c;
    der_view longer = a.n > b.n ? a : b;
    for (size_t i = n; i < longer.n; i++)
        if (longer.p[i] != 0)
            return a.n > b.n ? 1 : -1;
    return 0;
}

/* One Attribute TLV { type, SET { value } } appended to out. */
static void put_attribute(der_buf *out, der_oid type, const uint8_t *value, size_t len)
{
    size_t attr = der_begin(out, DER_SEQUENCE);
    der_put_oid(out, type);
    size_t values = der_begin(out, DER_SET);
    der_put_bytes(out, value, len);
    der_end(out, values);
    der_end(out, attr);
}

#define CSR_MAX_ATTRS 4

/* CertificationRequestInfo for spki with the builder's extensionRequest (when it
 * has extensions) and the extra Attribute TLVs in extra, all in SET OF order. */
static qpki_status encode_cri(const qpki_csr_builder *b, der_view spki, der_view key_bits,
                              der_view extra, uint8_t **out, size_t *out_len)
{
    der_buf ext_attr, t;
    der_buf_init(&ext_attr, QPKI_CERT_MAX_SIZE);
    if (x509_ext_list_count(&b->exts, (der_oid){NULL, 0}) > 0) {
        size_t attr = der_begin(&ext_attr, DER_SEQUENCE);
        der_put_oid(&ext_attr, OID_PKCS9_EXTENSION_REQUEST);
        size_t values = der_begin(&ext_attr, DER_SET);
        /* Computed kinds are not offered on the CSR builder, so no key bits. */
        x509_ext_list_encode(&b->exts, &ext_attr, (der_oid){NULL, 0}, key_bits, key_bits,
                             (der_view){NULL, 0});
        der_end(&ext_attr, values);
        der_end(&ext_attr, attr);
    }
    qpki_status rc = ext_attr.err;
    der_view list[CSR_MAX_ATTRS];
    size_t n = 0;
    if (rc == QPKI_OK && ext_attr.len)
        list[n++] = (der_view){ext_attr.p, ext_attr.len};
    der_cursor c = der_cursor_init(extra.p, extra.n);
    while (rc == QPKI_OK && !der_at_end(&c)) {
        if (n == CSR_MAX_ATTRS)
            rc = QPKI_ERR_INTERNAL;
        else
            rc = der_read_raw(&c, DER_SEQUENCE, &list[n++]);
    }
    if (rc != QPKI_OK) {
        der_buf_free(&ext_attr);
        return rc;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort of at most four */
        for (size_t j = i; j > 0 && set_of_cmp(list[j - 1], list[j]) > 0; j--) {
            der_view tmp = list[j];
            list[j] = list[j - 1];
            list[j - 1] = tmp;
        }
    der_buf_init(&t, QPKI_CERT_MAX_SIZE);
    size_t cri = der_begin(&t, DER_SEQUENCE);
    der_put_uint64(&t, 0); /* version v1(0) */
    der_put_bytes(&t, b->subject, b->subject_len);
    der_put_bytes(&t, spki.p, spki.n);
    size_t attrs = der_begin(&t, DER_CTX_CONS(0));
    for (size_t i = 0; i < n; i++)
        der_put_bytes(&t, list[i].p, list[i].n);
    der_end(&t, attrs);
    der_end(&t, cri);
    der_buf_free(&ext_attr);
    return der_buf_finish(&t, out, out_len);
}

qpki_status qpki_csr_builder_sign(const qpki_csr_builder *b, qpki_signer *signer, uint8_t **der,
                                  size_t *len)
{
    QPKI_ENSURE(b && signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_ENSURE(b->subject, QPKI_ERR_INVALID_ARG);
    der_view alg, spki, key_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &key_bits));
    uint8_t *tbs = NULL, *out = NULL;
    size_t tbs_len = 0, out_len = 0;
    qpki_csr *check = NULL;
    qpki_status rc;
    QPKI_CHECK(encode_cri(b, spki, key_bits, (der_view){NULL, 0}, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CERT_MAX_SIZE, &out,
                                  &out_len));
    QPKI_CHECK(qpki_csr_parse(out, out_len, &check));
    *der = out;
    *len = out_len;
    out = NULL;
out:
    qpki_csr_free(&check);
    qpki_free(out);
    qpki_free(tbs);
    return rc;
}

/* Bouncy Castle's Catalyst request: attributes subjectAltPublicKeyInfo and
 * altSignatureAlgorithm; the alternative key signs that CertificationRequestInfo;
 * the signature becomes the altSignatureValue attribute; the classical key signs
 * the result. */
qpki_status qpki_csr_builder_sign_hybrid(const qpki_csr_builder *b, qpki_signer *signer,
                                         qpki_signer *alt_signer, uint8_t **der, size_t *len)
{
    QPKI_ENSURE(b && signer && alt_signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_ENSURE(b->subject, QPKI_ERR_INVALID_ARG);
    der_view alg, spki, key_bits, alt_alg, alt_spki, alt_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &key_bits));
    QPKI_GUARD(x509_signer_info(alt_signer, &alt_alg, &alt_spki, &alt_bits));
    uint8_t *alt_tbs = NULL, *tbs = NULL, *out = NULL, *sig = NULL;
    size_t alt_tbs_len = 0, tbs_len = 0, out_len = 0, sig_len = 0;
    qpki_csr *check = NULL;
    qpki_status rc;
    der_buf extra, bits;
    der_buf_init(&extra, QPKI_CERT_MAX_SIZE);
    der_buf_init(&bits, QPKI_CERT_MAX_SIZE);
    put_attribute(&extra, OID_CE_ALT_SPKI, alt_spki.p, alt_spki.n);
    put_attribute(&extra, OID_CE_ALT_SIG_ALG, alt_alg.p, alt_alg.n);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_cri(b, spki, key_bits, (der_view){extra.p, extra.len}, &alt_tbs,
                          &alt_tbs_len));
    QPKI_CHECK(x509_sign_checked(alt_signer, alt_alg, alt_spki, alt_tbs, alt_tbs_len, &sig,
                                 &sig_len));
    der_put_bit_string(&bits, sig, sig_len, 0);
    QPKI_CHECK(bits.err);
    put_attribute(&extra, OID_CE_ALT_SIG_VALUE, bits.p, bits.len);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_cri(b, spki, key_bits, (der_view){extra.p, extra.len}, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CERT_MAX_SIZE, &out,
                                  &out_len));
    QPKI_CHECK(qpki_csr_parse(out, out_len, &check));
    /* A faulty alternative signer must not produce a request the CA rejects. */
    rc = qpki_csr_verify_alt_signature(check);
    if (rc == QPKI_ERR_UNSUPPORTED_ALGORITHM)
        rc = QPKI_OK;
    QPKI_CHECK(rc);
    *der = out;
    *len = out_len;
    out = NULL;
out:
    qpki_csr_free(&check);
    qpki_free(out);
    qpki_free(tbs);
    qpki_free(sig);
    qpki_free(alt_tbs);
    der_buf_free(&bits);
    der_buf_free(&extra);
    return rc;
}
