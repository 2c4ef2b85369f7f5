/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/csr.c - PKCS#10 certification requests (RFC 2986): read, verify, build. */
#include <string.h>

#include "../der/oid.h"
#include "../der/pem.h"
#include "../internal.h"
#include "x509.h"

/* ---- reader ------------------------------------------------------------------------ */

/* RFC 2985 §5.4.2: extensionRequest ATTRIBUTE ::= { WITH SYNTAX ExtensionRequest
 * SINGLE VALUE TRUE ID pkcs-9-at-extensionRequest }, ExtensionRequest ::= Extensions */
static qpki_status parse_extension_request(qpki_csr *csr, der_cursor values)
{
    QPKI_ENSURE(csr->exts == NULL, QPKI_ERR_DECODE); /* attribute given twice */
    der_cursor seq;
    QPKI_GUARD(der_read_tlv(&values, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&values)); /* SINGLE VALUE */
    QPKI_GUARD(x509_read_extensions(seq, &csr->exts, &csr->ext_count));
    for (size_t i = 0; i < csr->ext_count; i++) {
        if (der_oid_eq(csr->exts[i].oid, OID_CE_SUBJECT_ALT_NAME)) {
            der_view contents;
            QPKI_GUARD(x509_general_names_check(csr->exts[i].value.p, csr->exts[i].value.n,
                                                &contents));
            csr->san = csr->exts[i].value;
        }
    }
    return QPKI_OK;
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
    QPKI_GUARD(der_read_uint64(&cri, &version));
    QPKI_ENSURE(version == 0, QPKI_ERR_BAD_VERSION);
    QPKI_GUARD(x509_read_name(&cri, &csr->subject));
    QPKI_GUARD(x509_read_spki(&cri, &csr->spki, &csr->key_bits, &csr->key_alg));
    QPKI_GUARD(der_read_tlv(&cri, DER_CTX_CONS(0), &attrs));
    QPKI_GUARD(der_expect_end(&cri));
    while (!der_at_end(&attrs)) {
        der_cursor attr, values;
        der_view type;
        QPKI_GUARD(der_read_tlv(&attrs, DER_SEQUENCE, &attr));
        QPKI_GUARD(der_read_oid(&attr, &type));
        QPKI_GUARD(der_read_tlv(&attr, DER_SET, &values));
        QPKI_GUARD(der_expect_end(&attr));
        QPKI_ENSURE(!der_at_end(&values), QPKI_ERR_DECODE); /* SIZE(1..MAX) */
        if (der_oid_eq(type, OID_PKCS9_EXTENSION_REQUEST))
            QPKI_GUARD(parse_extension_request(csr, values));
        /* other attributes (challengePassword, ...) are not used */
    }
    return QPKI_OK;
}

static qpki_status parse_csr(qpki_csr *csr)
{
    der_cursor c = der_cursor_init(csr->der, csr->len), outer;
    /* RFC 2986 §4.2:
     *   CertificationRequest ::= SEQUENCE {
     *       certificationRequestInfo CertificationRequestInfo,
     *       signatureAlgorithm AlgorithmIdentifier{{ SignatureAlgorithms }},
     *       signature          BIT STRING } */
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &outer));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(parse_cri(csr, &outer));
    der_view oid;
    QPKI_GUARD(x509_read_alg_id(&outer, &csr->sig_alg, &oid));
    QPKI_GUARD(der_read_bit_string(&outer, &csr->signature, &csr->sig_unused));
    QPKI_GUARD(der_expect_end(&outer));
    csr->sig_alg_id = x509_sig_alg_of(csr->sig_alg);
    return QPKI_OK;
}

qpki_status qpki_csr_parse(const uint8_t *der, size_t len, qpki_csr **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(der || len == 0, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(len <= QPKI_CERT_MAX_SIZE, QPKI_ERR_TOO_LARGE);
    QPKI_ENSURE(len > 0, QPKI_ERR_TRUNCATED);
    qpki_csr *csr = qpki_calloc(1, sizeof(*csr));
    QPKI_ENSURE(csr, QPKI_ERR_NOMEM);
    csr->der = qpki_memdup(der, len);
    if (!csr->der) {
        qpki_free(csr);
        return QPKI_ERR_NOMEM;
    }
    csr->len = len;
    qpki_status rc = parse_csr(csr);
    if (rc != QPKI_OK) {
        qpki_csr_free(&csr);
        return rc;
    }
    *out = csr;
    return QPKI_OK;
}

qpki_status qpki_csr_parse_any(const uint8_t *data, size_t len, qpki_csr **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data || len == 0, QPKI_ERR_INVALID_ARG);
    if (!pem_detect(data, len))
        return qpki_csr_parse(data, len, out);
    /* RFC 7468 §7: "CERTIFICATE REQUEST"; "NEW CERTIFICATE REQUEST" is the label
     * older tools (Netscape, Microsoft) write. */
    uint8_t *der;
    size_t der_len;
    QPKI_GUARD(x509_pem_find(data, len, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", &der,
                             &der_len));
    qpki_status rc = qpki_csr_parse(der, der_len, out);
    qpki_free(der);
    return rc;
}

qpki_status qpki_csr_load_file(const char *path, qpki_csr **out)
{
    QPKI_ENSURE(path && out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    uint8_t *data;
    size_t len;
    QPKI_GUARD(x509_read_file(path, X509_FILE_MAX, &data, &len));
    qpki_status rc = qpki_csr_parse_any(data, len, out);
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

static void view_out(der_view v, const uint8_t **p, size_t *n)
{
    if (p)
        *p = v.p;
    if (n)
        *n = v.n;
}

#define EMPTY ((der_view){NULL, 0})

void qpki_csr_der(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    view_out(csr ? (der_view){csr->der, csr->len} : EMPTY, der, len);
}

void qpki_csr_subject_der(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    view_out(csr ? csr->subject : EMPTY, der, len);
}

qpki_status qpki_csr_subject_text(const qpki_csr *csr, char *buf, size_t size)
{
    QPKI_ENSURE(csr && buf && size > 0, QPKI_ERR_INVALID_ARG);
    return x509_name_text(csr->subject, buf, size);
}

void qpki_csr_spki(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    view_out(csr ? csr->spki : EMPTY, der, len);
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
    view_out(e->oid, oid, oid_len);
    if (critical)
        *critical = e->critical;
    view_out(e->value, value, value_len);
    return QPKI_OK;
}

void qpki_csr_subject_alt_name(const qpki_csr *csr, const uint8_t **der, size_t *len)
{
    view_out(csr ? csr->san : EMPTY, der, len);
}

qpki_status qpki_csr_verify_signature(const qpki_csr *csr)
{
    QPKI_ENSURE(csr, QPKI_ERR_INVALID_ARG);
    /* RFC 2986 §3 step 2: the CertificationRequestInfo is signed "with the
     * subject entity's private key" - checked with the public key it carries. */
    return x509_verify(csr->spki, csr->sig_alg, csr->cri, csr->signature, csr->sig_unused);
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

qpki_status qpki_csr_builder_sign(const qpki_csr_builder *b, qpki_signer *signer, uint8_t **der,
                                  size_t *len)
{
    QPKI_ENSURE(b && signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_ENSURE(b->subject, QPKI_ERR_INVALID_ARG);
    der_view alg, spki, key_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &key_bits));

    der_buf t;
    der_buf_init(&t, QPKI_CERT_MAX_SIZE);
    size_t cri = der_begin(&t, DER_SEQUENCE);
    der_put_uint64(&t, 0); /* version v1(0) */
    der_put_bytes(&t, b->subject, b->subject_len);
    der_put_bytes(&t, spki.p, spki.n);
    size_t attrs = der_begin(&t, DER_CTX_CONS(0));
    if (x509_ext_list_count(&b->exts, (der_oid){NULL, 0}) > 0) {
        size_t attr = der_begin(&t, DER_SEQUENCE);
        der_put_oid(&t, OID_PKCS9_EXTENSION_REQUEST);
        size_t values = der_begin(&t, DER_SET);
        /* Computed kinds are not offered on the CSR builder, so no key bits. */
        x509_ext_list_encode(&b->exts, &t, (der_oid){NULL, 0}, key_bits, key_bits);
        der_end(&t, values);
        der_end(&t, attr);
    }
    der_end(&t, attrs);
    der_end(&t, cri);
    uint8_t *tbs = NULL, *out = NULL;
    size_t tbs_len = 0, out_len = 0;
    qpki_csr *check = NULL;
    qpki_status rc;
    QPKI_CHECK(der_buf_finish(&t, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, &out, &out_len));
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
