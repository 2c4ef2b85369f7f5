/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/request.c - RFC 6960 §4.1 OCSPRequest: parse and encode. */
#include <string.h>

#include "../der/oid.h"
#include "../internal.h"
#include "ocsp_internal.h"

#define PREF_SIG_ALGS_MAX 16

struct qpki_ocsp_request {
    const uint8_t *der;          /* owned (heap) unless the request lives in an arena */
    size_t der_len;
    struct arena *arena;         /* where the request and its arrays live; NULL: the heap */
    struct qpki_certid *ids;
    size_t count;
    der_view requestor;          /* GeneralName TLV, n == 0 when absent */
    ocsp_ext *exts;
    size_t ext_count;
    der_view nonce;              /* n == 0 when absent */
    bool has_nonce;
    bool is_signed;
    qpki_sig_alg pref[PREF_SIG_ALGS_MAX];
    size_t pref_count;
};

/* RFC 6960 §4.4.7.1:
 *   PreferredSignatureAlgorithms ::= SEQUENCE OF PreferredSignatureAlgorithm
 *   PreferredSignatureAlgorithm ::= SEQUENCE {
 *       sigIdentifier  AlgorithmIdentifier,
 *       certIdentifier AlgorithmIdentifier OPTIONAL }                        */
static qpki_status read_pref_sig_algs(struct qpki_ocsp_request *r, const der_cursor *at,
                                      der_view value)
{
    der_cursor c = der_cursor_sub(at, value), list;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &list));
    QPKI_GUARD(der_expect_end(&c));
    while (!der_at_end(&list)) {
        der_cursor item;
        der_view sig_alg;
        QPKI_GUARD(der_read_tlv(&list, DER_SEQUENCE, &item));
        QPKI_GUARD(der_read_raw(&item, DER_SEQUENCE, &sig_alg));
        if (!der_at_end(&item)) {
            der_view cert_alg;
            QPKI_GUARD(der_read_raw(&item, DER_SEQUENCE, &cert_alg));
        }
        QPKI_GUARD(der_expect_end(&item));
        qpki_sig_alg alg = QPKI_SIG_UNKNOWN;
        if (crypto_sig_alg_parse(sig_alg, &alg) != QPKI_OK)
            alg = QPKI_SIG_UNKNOWN;
        if (r->pref_count < PREF_SIG_ALGS_MAX)
            r->pref[r->pref_count++] = alg;
    }
    return QPKI_OK;
}

static qpki_status read_request_extensions(struct qpki_ocsp_request *r, der_cursor *c)
{
    QPKI_GUARD(ocsp_read_extensions(c, r->arena, &r->exts, &r->ext_count));
    for (size_t i = 0; i < r->ext_count; i++) {
        const ocsp_ext *e = &r->exts[i];
        if (der_oid_eq(e->oid, OID_OCSP_NONCE)) {
            der_cursor at = der_cursor_sub(c, e->value);
            qpki_status st = ocsp_nonce_decode(e->value, &r->nonce);
            if (st == QPKI_ERR_NONCE_LENGTH)
                /* RFC 9654 §2.1 (checked in ocsp_nonce_decode) */
                return der_fail(&at, st, "nonce (1.3.6.1.5.5.7.48.1.2) of %zu octets "
                                "(RFC 9654: 1..128)", r->nonce.n);
            QPKI_GUARD(st);
            r->has_nonce = true;
        } else if (der_oid_eq(e->oid, OID_OCSP_PREF_SIG_ALGS)) {
            DER_FIELD(c, "preferredSignatureAlgorithms (1.3.6.1.5.5.7.48.1.8)",
                      read_pref_sig_algs(r, c, e->value));
        }
        /* RFC 6960 §4.4: "Support for any specific extension is OPTIONAL";
         * unrecognised request extensions are ignored (critical or not, as
         * OpenSSL's responder does) - documented in docs/OPERATIONS.md. */
    }
    return QPKI_OK;
}

/* Request ::= SEQUENCE { reqCert CertID,
 *                        singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL } */
static qpki_status read_single_request(struct qpki_ocsp_request *r, der_cursor *list,
                                       struct qpki_certid *id)
{
    der_cursor req, ext;
    bool present;
    QPKI_GUARD(der_read_tlv(list, DER_SEQUENCE, &req));
    DER_FIELD(&req, "reqCert", certid_read(&req, id));
    QPKI_GUARD(der_read_optional(&req, DER_CTX_CONS(0), &ext, &present));
    if (present) {
        ocsp_ext *exts;
        size_t n;
        DER_FIELD(&req, "singleRequestExtensions",
                  ocsp_read_extensions(&ext, r->arena, &exts, &n));
        if (!r->arena)
            qpki_free(exts); /* validated, not used (e.g. service locator) */
    }
    return der_expect_end(&req);
}

/* version [0] EXPLICIT Version DEFAULT v1 of a TBSRequest or ResponseData
 * (RFC 6960 §4.1.1, §4.2.1): only v1 (0) exists.  DER omits a DEFAULT value;
 * an explicit v1 is tolerated for old clients. */
qpki_status ocsp_read_version(der_cursor *tbs)
{
    der_cursor x;
    bool present;
    QPKI_GUARD(der_read_optional(tbs, DER_CTX_CONS(0), &x, &present));
    if (present) {
        uint64_t v;
        der_cursor at = x;
        DER_FIELD(tbs, "version", der_read_uint64(&x, &v));
        DER_FIELD(tbs, "version", der_expect_end(&x));
        if (v != 0)
            return der_fail(&at, QPKI_ERR_BAD_VERSION, "version %llu (only v1 = 0 exists)",
                            (unsigned long long)v);
    }
    return QPKI_OK;
}

static qpki_status read_tbs_request(struct qpki_ocsp_request *r, const qpki_limits *limits,
                                    der_cursor *tbs)
{
    der_cursor list, x;
    bool present;
    QPKI_GUARD(ocsp_read_version(tbs));
    /* requestorName [1] EXPLICIT GeneralName OPTIONAL */
    QPKI_GUARD(der_read_optional(tbs, DER_CTX_CONS(1), &x, &present));
    if (present) {
        DER_FIELD(tbs, "requestorName", der_read_any(&x, NULL, NULL, &r->requestor));
        DER_FIELD(tbs, "requestorName", der_expect_end(&x));
    }
    /* requestList SEQUENCE OF Request */
    DER_FIELD(tbs, "requestList", der_read_tlv(tbs, DER_SEQUENCE, &list));
    size_t n = 0;
    for (der_cursor scan = list; !der_at_end(&scan); n++) {
        /* The cap is checked before any CertID is decoded or allocated. */
        if (n >= limits->max_certids)
            return der_fail(&scan, QPKI_ERR_TOO_MANY_CERTIDS, "requestList: more than %u "
                            "requests (the limit)", (unsigned)limits->max_certids);
        DER_FIELD(tbs, "requestList", der_skip(&scan));
    }
    /* RFC 6960 §4.1.1: requestList holds one or more Requests. */
    if (n < 1)
        return der_fail(&list, QPKI_ERR_DECODE, "requestList: empty (RFC 6960 section 4.1.1: "
                        "one or more Requests)");
    r->ids = r->arena ? arena_calloc(r->arena, n, sizeof(*r->ids)) : qpki_calloc(n, sizeof(*r->ids));
    QPKI_ENSURE(r->ids, QPKI_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        qpki_status st = read_single_request(r, &list, &r->ids[i]);
        if (st != QPKI_OK)
            return der_field(tbs, st, "requestList[%zu]", i);
    }
    r->count = n;
    /* requestExtensions [2] EXPLICIT Extensions OPTIONAL */
    QPKI_GUARD(der_read_optional(tbs, DER_CTX_CONS(2), &x, &present));
    if (present)
        DER_FIELD(tbs, "requestExtensions", read_request_extensions(r, &x));
    return der_expect_end(tbs);
}

static qpki_status parse_body(struct qpki_ocsp_request *r, const qpki_limits *limits,
                              qpki_detail *detail)
{
    der_diag diag = {r->der, r->der_len, detail};
    der_cursor c = der_cursor_init_diag(r->der, r->der_len, &diag), outer, tbs, x;
    bool present;
    DER_FIELD(&c, "OCSPRequest", der_read_tlv(&c, DER_SEQUENCE, &outer));
    /* Strict DER: nothing may follow the OCSPRequest. */
    DER_FIELD(&c, "OCSPRequest", der_expect_end(&c));
    DER_FIELD(&c, "tbsRequest", der_read_tlv(&outer, DER_SEQUENCE, &tbs));
    DER_FIELD(&c, "tbsRequest", read_tbs_request(r, limits, &tbs));

    /* optionalSignature [0] EXPLICIT Signature OPTIONAL
     *   Signature ::= SEQUENCE { signatureAlgorithm AlgorithmIdentifier,
     *                            signature BIT STRING,
     *                            certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL } */
    QPKI_GUARD(der_read_optional(&outer, DER_CTX_CONS(0), &x, &present));
    if (present) {
        der_cursor sig, certs;
        der_view alg, bits;
        unsigned unused;
        DER_FIELD(&c, "optionalSignature", der_read_tlv(&x, DER_SEQUENCE, &sig));
        DER_FIELD(&c, "optionalSignature", der_expect_end(&x));
        DER_FIELD(&c, "optionalSignature: signatureAlgorithm",
                  der_read_raw(&sig, DER_SEQUENCE, &alg));
        DER_FIELD(&c, "optionalSignature: signature", der_read_bit_string(&sig, &bits, &unused));
        QPKI_GUARD(der_read_optional(&sig, DER_CTX_CONS(0), &certs, &present));
        if (present) {
            der_cursor seq;
            DER_FIELD(&c, "optionalSignature: certs", der_read_tlv(&certs, DER_SEQUENCE, &seq));
            DER_FIELD(&c, "optionalSignature: certs", der_expect_end(&certs));
        }
        DER_FIELD(&c, "optionalSignature", der_expect_end(&sig));
        r->is_signed = true;
    }
    DER_FIELD(&c, "OCSPRequest", der_expect_end(&outer));
    return QPKI_OK;
}

qpki_status qpki_ocsp_request_parse(const uint8_t *der, size_t len, const qpki_limits *limits,
                                    qpki_ocsp_request **out)
{
    return qpki_ocsp_request_parse_err(der, len, limits, NULL, 0, out);
}

qpki_status qpki_ocsp_request_parse_err(const uint8_t *der, size_t len,
                                        const qpki_limits *limits, char *error,
                                        size_t error_size, qpki_ocsp_request **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    return ocsp_request_parse_in(der, len, limits, NULL, &detail, out);
}

qpki_status ocsp_request_parse_in(const uint8_t *der, size_t len, const qpki_limits *limits,
                                  struct arena *a, qpki_detail *detail, qpki_ocsp_request **out)
{
    QPKI_ENSURE(out && (der || len == 0), QPKI_ERR_INVALID_ARG);
    *out = NULL;
    qpki_limits lim;
    qpki_limits_init(&lim);
    if (limits) {
        QPKI_ENSURE(limits->struct_size >= offsetof(qpki_limits, max_request_size) +
                                               sizeof(limits->max_request_size),
                    QPKI_ERR_INVALID_ARG);
        lim.max_certids = limits->max_certids;
        lim.max_request_size = limits->max_request_size;
    }
    if (len > lim.max_request_size)
        return detail_fail(detail, QPKI_ERR_TOO_LARGE, "OCSPRequest: %zu bytes, more than "
                           "the %zu allowed", len, lim.max_request_size);
    if (len == 0)
        return detail_fail(detail, QPKI_ERR_TRUNCATED, "OCSPRequest: empty (0 bytes)");

    struct qpki_ocsp_request *r = a ? arena_calloc(a, 1, sizeof(*r)) : qpki_calloc(1, sizeof(*r));
    QPKI_ENSURE(r, QPKI_ERR_NOMEM);
    r->arena = a;
    /* in an arena the request borrows the caller's bytes (they outlive it) */
    r->der = a ? der : qpki_memdup(der, len);
    r->der_len = len;
    qpki_status rc = r->der ? parse_body(r, &lim, detail) : QPKI_ERR_NOMEM;
    if (rc != QPKI_OK) {
        if (rc == QPKI_ERR_NOMEM)
            detail_fail(detail, rc, "out of memory");
        qpki_ocsp_request_free(&r);
        return rc;
    }
    *out = r;
    return QPKI_OK;
}

void qpki_ocsp_request_free(qpki_ocsp_request **req)
{
    if (!req || !*req)
        return;
    if (!(*req)->arena) {
        qpki_free((*req)->ids);
        qpki_free((*req)->exts);
        qpki_free((void *)(uintptr_t)(*req)->der);
        qpki_free(*req);
    }
    *req = NULL;
}

size_t qpki_ocsp_request_count(const qpki_ocsp_request *req) { return req ? req->count : 0; }

const qpki_certid *qpki_ocsp_request_certid(const qpki_ocsp_request *req, size_t i)
{
    return req && i < req->count ? &req->ids[i] : NULL;
}

qpki_status qpki_ocsp_request_nonce(const qpki_ocsp_request *req, const uint8_t **nonce,
                                    size_t *len)
{
    QPKI_ENSURE(req && nonce && len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(req->has_nonce, QPKI_ERR_NOT_FOUND);
    *nonce = req->nonce.p;
    *len = req->nonce.n;
    return QPKI_OK;
}

qpki_status qpki_ocsp_request_requestor_name(const qpki_ocsp_request *req, const uint8_t **der,
                                             size_t *len)
{
    QPKI_ENSURE(req && der && len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(req->requestor.n > 0, QPKI_ERR_NOT_FOUND);
    *der = req->requestor.p;
    *len = req->requestor.n;
    return QPKI_OK;
}

bool qpki_ocsp_request_is_signed(const qpki_ocsp_request *req) { return req && req->is_signed; }

size_t qpki_ocsp_request_extension_count(const qpki_ocsp_request *req)
{
    return req ? req->ext_count : 0;
}

qpki_status qpki_ocsp_request_extension(const qpki_ocsp_request *req, size_t i,
                                        const uint8_t **oid, size_t *oid_len, bool *critical,
                                        const uint8_t **value, size_t *value_len)
{
    QPKI_ENSURE(req, QPKI_ERR_INVALID_ARG);
    return ocsp_extension_get(req->exts, req->ext_count, i, oid, oid_len, critical, value,
                              value_len);
}

size_t qpki_ocsp_request_pref_sig_alg_count(const qpki_ocsp_request *req)
{
    return req ? req->pref_count : 0;
}

qpki_sig_alg qpki_ocsp_request_pref_sig_alg(const qpki_ocsp_request *req, size_t i)
{
    return req && i < req->pref_count ? req->pref[i] : QPKI_SIG_UNKNOWN;
}

void qpki_ocsp_request_der(const qpki_ocsp_request *req, const uint8_t **der, size_t *len)
{
    *der = req->der;
    *len = req->der_len;
}

qpki_status qpki_ocsp_request_encode(const qpki_certid *const *ids, size_t n,
                                     const uint8_t *nonce, size_t nonce_len, uint8_t **out,
                                     size_t *out_len)
{
    return qpki_ocsp_request_encode_prefs(ids, n, nonce, nonce_len, NULL, 0, out, out_len);
}

/* RFC 6960 §4.4.7.1: the extension lists PreferredSignatureAlgorithm entries
 * "in order of preference"; we write sigIdentifier alone (certIdentifier is
 * OPTIONAL). */
static void write_pref_sig_algs(der_buf *b, const qpki_sig_alg *prefs, size_t npref)
{
    size_t ext = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, OID_OCSP_PREF_SIG_ALGS);
    size_t octets = der_begin(b, DER_OCTET_STRING);
    size_t list = der_begin(b, DER_SEQUENCE);
    for (size_t i = 0; i < npref; i++) {
        size_t len = 0;
        const uint8_t *alg = crypto_sig_alg_der(prefs[i], &len);
        size_t one = der_begin(b, DER_SEQUENCE);
        der_put_bytes(b, alg, len);
        der_end(b, one);
    }
    der_end(b, list);
    der_end(b, octets);
    der_end(b, ext);
}

qpki_status qpki_ocsp_request_encode_prefs(const qpki_certid *const *ids, size_t n,
                                           const uint8_t *nonce, size_t nonce_len,
                                           const qpki_sig_alg *prefs, size_t npref,
                                           uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(ids && n >= 1 && out && out_len && (prefs || npref == 0), QPKI_ERR_INVALID_ARG);
    /* the parser keeps PREF_SIG_ALGS_MAX entries; never write more than we read */
    QPKI_ENSURE(npref <= PREF_SIG_ALGS_MAX, QPKI_ERR_LIMIT);
    for (size_t i = 0; i < npref; i++) {
        size_t len = 0;
        QPKI_ENSURE(crypto_sig_alg_der(prefs[i], &len) && len > 0,
                    QPKI_ERR_UNSUPPORTED_ALGORITHM);
    }
    if (nonce)
        QPKI_ENSURE(nonce_len >= QPKI_NONCE_MIN && nonce_len <= QPKI_NONCE_MAX,
                    QPKI_ERR_NONCE_LENGTH);
    der_buf b;
    der_buf_init(&b, 0);
    size_t req = der_begin(&b, DER_SEQUENCE);
    size_t tbs = der_begin(&b, DER_SEQUENCE);
    size_t list = der_begin(&b, DER_SEQUENCE);
    for (size_t i = 0; i < n; i++) {
        if (!ids[i]) {
            der_buf_free(&b);
            return QPKI_ERR_INVALID_ARG;
        }
        size_t one = der_begin(&b, DER_SEQUENCE);
        der_put_bytes(&b, ids[i]->der, ids[i]->der_len);
        der_end(&b, one);
    }
    der_end(&b, list);
    if (nonce || npref) {
        size_t exts = der_begin(&b, DER_CTX_CONS(2));
        size_t seq = der_begin(&b, DER_SEQUENCE);
        if (nonce)
            ocsp_write_nonce_extension(&b, nonce, nonce_len);
        if (npref)
            write_pref_sig_algs(&b, prefs, npref);
        der_end(&b, seq);
        der_end(&b, exts);
    }
    der_end(&b, tbs);
    der_end(&b, req);
    return der_buf_finish(&b, out, out_len);
}
