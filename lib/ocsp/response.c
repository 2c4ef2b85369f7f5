/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/response.c - RFC 6960 §4.2 OCSPResponse: build, sign, parse. */
#include <string.h>
#include <time.h>

#include <qpki/cert.h>
#include <qpki/signer.h>

#include "../der/oid.h"
#include "ocsp_internal.h"

#define RESPONSE_MAX_SINGLES 1024
#define RESPONSE_MAX_CERTS 16

/* ---- building ------------------------------------------------------------ */

struct builder_single {
    uint8_t *certid_der;
    size_t certid_len;
    qpki_cert_status status;
    qpki_time revocation_time;
    qpki_crl_reason reason;
    qpki_time this_update;
    qpki_time next_update;
    der_buf exts;        /* encoded Extension TLVs, len 0 when none */
};

struct qpki_ocsp_response_builder {
    bool by_name;
    bool responder_set;
    uint8_t key_hash[20];
    uint8_t *name_der;
    size_t name_len;
    bool produced_set;
    qpki_time produced_at;
    struct builder_single *singles;
    size_t count, cap;
    der_buf exts;        /* responseExtensions as encoded Extension TLVs */
    const qpki_cert **certs;
    size_t cert_count;
    qpki_signer *alt;    /* Catalyst: ML-DSA signer for altSignatureValue */
    struct arena *arena; /* where the builder and everything it holds live; NULL: the heap */
};

/* Memory for the builder's parts: from its arena, or the heap. */
static void *b_alloc(const struct qpki_ocsp_response_builder *b, size_t n)
{
    return b->arena ? arena_alloc(b->arena, n) : qpki_malloc(n);
}

static void *b_realloc(const struct qpki_ocsp_response_builder *b, void *p, size_t old_n, size_t n)
{
    return b->arena ? arena_realloc(b->arena, p, old_n, n) : qpki_realloc(p, n);
}

static void b_free(const struct qpki_ocsp_response_builder *b, void *p)
{
    if (!b->arena)
        qpki_free(p);
}

qpki_status qpki_ocsp_response_builder_new(qpki_ocsp_response_builder **out)
{
    return ocsp_response_builder_new_in(NULL, out);
}

qpki_status ocsp_response_builder_new_in(struct arena *a, qpki_ocsp_response_builder **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    struct qpki_ocsp_response_builder *b =
        a ? arena_calloc(a, 1, sizeof(*b)) : qpki_calloc(1, sizeof(*b));
    QPKI_ENSURE(b, QPKI_ERR_NOMEM);
    b->arena = a;
    der_buf_init_in(&b->exts, a, 0);
    *out = b;
    return QPKI_OK;
}

void qpki_ocsp_response_builder_free(qpki_ocsp_response_builder **pb)
{
    if (!pb || !*pb)
        return;
    struct qpki_ocsp_response_builder *b = *pb;
    if (b->arena) {
        /* the arena holds the rest */
        qpki_signer_free(&b->alt);
        *pb = NULL;
        return;
    }
    for (size_t i = 0; i < b->count; i++) {
        qpki_free(b->singles[i].certid_der);
        der_buf_free(&b->singles[i].exts);
    }
    qpki_free(b->singles);
    qpki_free(b->name_der);
    der_buf_free(&b->exts);
    qpki_free(b->certs);
    qpki_signer_free(&b->alt);
    qpki_free(b);
    *pb = NULL;
}

/* RFC 6960 §4.2.1: "KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key
 * (i.e., the SHA-1 hash of the value of the BIT STRING subjectPublicKey [excluding
 * the tag, length, and number of unused bits] in the responder's certificate)". */
qpki_status ocsp_key_hash_of_spki(const uint8_t *spki, size_t len, uint8_t out[20])
{
    der_cursor c = der_cursor_init(spki, len), seq;
    der_view alg, bits;
    unsigned unused;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_read_raw(&seq, DER_SEQUENCE, &alg));
    QPKI_GUARD(der_read_bit_string(&seq, &bits, &unused));
    uint8_t h[CRYPTO_MAX_HASH_LEN];
    QPKI_GUARD(crypto_hash(QPKI_HASH_SHA1, bits.p, bits.n, h));
    memcpy(out, h, 20);
    return QPKI_OK;
}

qpki_status qpki_ocsp_response_builder_set_responder_by_key(qpki_ocsp_response_builder *b,
                                                            const uint8_t *spki_der,
                                                            size_t spki_len)
{
    QPKI_ENSURE(b && spki_der, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(ocsp_key_hash_of_spki(spki_der, spki_len, b->key_hash));
    b->by_name = false;
    b->responder_set = true;
    return QPKI_OK;
}

void ocsp_response_builder_set_key_hash(qpki_ocsp_response_builder *b, const uint8_t hash[20])
{
    memcpy(b->key_hash, hash, sizeof(b->key_hash));
    b->by_name = false;
    b->responder_set = true;
}

qpki_status qpki_ocsp_response_builder_set_responder_by_name(qpki_ocsp_response_builder *b,
                                                             const uint8_t *name_der,
                                                             size_t name_len)
{
    QPKI_ENSURE(b && name_der && name_len, QPKI_ERR_INVALID_ARG);
    der_cursor c = der_cursor_init(name_der, name_len);
    der_view whole;
    QPKI_GUARD(der_read_raw(&c, DER_SEQUENCE, &whole));
    QPKI_GUARD(der_expect_end(&c));
    uint8_t *copy = b_alloc(b, name_len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    memcpy(copy, name_der, name_len);
    b_free(b, b->name_der);
    b->name_der = copy;
    b->name_len = name_len;
    b->by_name = true;
    b->responder_set = true;
    return QPKI_OK;
}

qpki_status qpki_ocsp_response_builder_set_produced_at(qpki_ocsp_response_builder *b,
                                                       qpki_time t)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    b->produced_at = t;
    b->produced_set = true;
    return QPKI_OK;
}

qpki_status qpki_ocsp_response_builder_add_single(qpki_ocsp_response_builder *b,
                                                  const qpki_certid *id,
                                                  qpki_cert_status status,
                                                  qpki_time revocation_time,
                                                  qpki_crl_reason reason, qpki_time this_update,
                                                  qpki_time next_update)
{
    QPKI_ENSURE(b && id, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(status == QPKI_CERT_STATUS_GOOD || status == QPKI_CERT_STATUS_REVOKED ||
                    status == QPKI_CERT_STATUS_UNKNOWN,
                QPKI_ERR_INVALID_ARG);
    if (status == QPKI_CERT_STATUS_REVOKED)
        QPKI_ENSURE(reason == QPKI_REASON_NONE || qpki_crl_reason_name(reason) != NULL,
                    QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(next_update == 0 || next_update >= this_update, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(b->count < RESPONSE_MAX_SINGLES, QPKI_ERR_LIMIT);
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        struct builder_single *s =
            b_realloc(b, b->singles, b->cap * sizeof(*s), cap * sizeof(*s));
        QPKI_ENSURE(s, QPKI_ERR_NOMEM);
        b->singles = s;
        b->cap = cap;
    }
    struct builder_single *s = &b->singles[b->count];
    memset(s, 0, sizeof(*s));
    s->certid_der = b_alloc(b, id->der_len);
    QPKI_ENSURE(s->certid_der, QPKI_ERR_NOMEM);
    memcpy(s->certid_der, id->der, id->der_len);
    s->certid_len = id->der_len;
    s->status = status;
    s->revocation_time = revocation_time;
    s->reason = reason;
    s->this_update = this_update;
    s->next_update = next_update;
    der_buf_init_in(&s->exts, b->arena, 0);
    b->count++;
    return QPKI_OK;
}

static qpki_status append_extension(der_buf *exts, const uint8_t *oid, size_t oid_len,
                                    bool critical, const uint8_t *value, size_t value_len)
{
    QPKI_ENSURE(oid && oid_len && (value || value_len == 0), QPKI_ERR_INVALID_ARG);
    der_put_extension(exts, (der_oid){oid, oid_len}, critical, value, value_len);
    return exts->err;
}

qpki_status qpki_ocsp_response_builder_add_single_extension(qpki_ocsp_response_builder *b,
                                                            const uint8_t *oid, size_t oid_len,
                                                            bool critical, const uint8_t *value,
                                                            size_t value_len)
{
    QPKI_ENSURE(b && b->count > 0, QPKI_ERR_INVALID_ARG);
    return append_extension(&b->singles[b->count - 1].exts, oid, oid_len, critical, value,
                            value_len);
}

qpki_status qpki_ocsp_response_builder_set_nonce(qpki_ocsp_response_builder *b,
                                                 const uint8_t *nonce, size_t len)
{
    QPKI_ENSURE(b && nonce, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(len >= QPKI_NONCE_MIN && len <= QPKI_NONCE_MAX, QPKI_ERR_NONCE_LENGTH);
    ocsp_write_nonce_extension(&b->exts, nonce, len);
    return b->exts.err;
}

qpki_status qpki_ocsp_response_builder_add_extension(qpki_ocsp_response_builder *b,
                                                     const uint8_t *oid, size_t oid_len,
                                                     bool critical, const uint8_t *value,
                                                     size_t value_len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    return append_extension(&b->exts, oid, oid_len, critical, value, value_len);
}

qpki_status qpki_ocsp_response_builder_add_cert(qpki_ocsp_response_builder *b,
                                                const qpki_cert *cert)
{
    QPKI_ENSURE(b && cert, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(b->cert_count < RESPONSE_MAX_CERTS, QPKI_ERR_LIMIT);
    const qpki_cert **certs = b_realloc(b, (void *)b->certs, b->cert_count * sizeof(*certs),
                                        (b->cert_count + 1) * sizeof(*certs));
    QPKI_ENSURE(certs, QPKI_ERR_NOMEM);
    certs[b->cert_count++] = cert;
    b->certs = certs;
    return QPKI_OK;
}

/* SingleResponse ::= SEQUENCE {
 *    certID                       CertID,
 *    certStatus                   CertStatus,
 *    thisUpdate                   GeneralizedTime,
 *    nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
 *    singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }           */
static void write_single(der_buf *out, const struct builder_single *s)
{
    size_t seq = der_begin(out, DER_SEQUENCE);
    der_put_bytes(out, s->certid_der, s->certid_len);
    switch (s->status) {
    case QPKI_CERT_STATUS_GOOD:
        /* good [0] IMPLICIT NULL */
        der_put_tlv(out, DER_CTX(0), NULL, 0);
        break;
    case QPKI_CERT_STATUS_REVOKED: {
        /* revoked [1] IMPLICIT RevokedInfo
         * RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
         *                            revocationReason [0] EXPLICIT CRLReason OPTIONAL } */
        size_t rev = der_begin(out, DER_CTX_CONS(1));
        der_put_generalized_time(out, s->revocation_time);
        if (s->reason != QPKI_REASON_NONE) {
            size_t r = der_begin(out, DER_CTX_CONS(0));
            der_put_enumerated(out, (int)s->reason);
            der_end(out, r);
        }
        der_end(out, rev);
        break;
    }
    case QPKI_CERT_STATUS_UNKNOWN:
        /* unknown [2] IMPLICIT UnknownInfo (NULL) */
        der_put_tlv(out, DER_CTX(2), NULL, 0);
        break;
    }
    der_put_generalized_time(out, s->this_update);
    if (s->next_update) {
        size_t nu = der_begin(out, DER_CTX_CONS(0));
        der_put_generalized_time(out, s->next_update);
        der_end(out, nu);
    }
    if (s->exts.len) {
        size_t e = der_begin(out, DER_CTX_CONS(1));
        size_t list = der_begin(out, DER_SEQUENCE);
        der_put_bytes(out, s->exts.p, s->exts.len);
        der_end(out, list);
        der_end(out, e);
    }
    der_end(out, seq);
}

/* ResponseData ::= SEQUENCE {
 *    version              [0] EXPLICIT Version DEFAULT v1,
 *    responderID              ResponderID,
 *    producedAt               GeneralizedTime,
 *    responses                SEQUENCE OF SingleResponse,
 *    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
 * ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }  (EXPLICIT module) */
static void write_tbs(der_buf *out, const struct qpki_ocsp_response_builder *b, qpki_time produced,
                      const der_buf *extra)
{
    size_t tbs = der_begin(out, DER_SEQUENCE);
    if (b->by_name) {
        size_t n = der_begin(out, DER_CTX_CONS(1));
        der_put_bytes(out, b->name_der, b->name_len);
        der_end(out, n);
    } else {
        size_t k = der_begin(out, DER_CTX_CONS(2));
        der_put_octet_string(out, b->key_hash, sizeof(b->key_hash));
        der_end(out, k);
    }
    der_put_generalized_time(out, produced);
    size_t list = der_begin(out, DER_SEQUENCE);
    for (size_t i = 0; i < b->count; i++)
        write_single(out, &b->singles[i]);
    der_end(out, list);
    if (b->exts.len || (extra && extra->len)) {
        size_t e = der_begin(out, DER_CTX_CONS(1));
        size_t seq = der_begin(out, DER_SEQUENCE);
        der_put_bytes(out, b->exts.p, b->exts.len);
        if (extra)
            der_put_bytes(out, extra->p, extra->len);
        der_end(out, seq);
        der_end(out, e);
    }
    der_end(out, tbs);
}

qpki_status qpki_ocsp_response_builder_set_alt_signer(qpki_ocsp_response_builder *b,
                                                      qpki_signer *alt)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    qpki_signer_free(&b->alt);
    b->alt = alt ? qpki_signer_ref(alt) : NULL;
    return QPKI_OK;
}

/* Catalyst (DESIGN §5, docs/CATALYST.md; extensions of ITU-T X.509 (10/2019) §9.8
 * carried as non-critical responseExtensions):
 *   1. append altSignatureAlgorithm (2.5.29.73): extnValue = the alt signer's
 *      AlgorithmIdentifier;
 *   2. encode tbsResponseData with it (and without .74) and sign those bytes with
 *      the alternative (ML-DSA) key;
 *   3. append altSignatureValue (2.5.29.74): extnValue = BIT STRING of that
 *      signature, as the last extension.
 * The classical signature then covers tbsResponseData including both. */
static qpki_status catalyst_extensions(const struct qpki_ocsp_response_builder *b,
                                       qpki_time produced, der_buf *alt_exts)
{
    const uint8_t *alg;
    size_t alg_len;
    QPKI_GUARD(qpki_signer_algorithm(b->alt, &alg, &alg_len));
    der_put_extension(alt_exts, OID_CE_ALT_SIG_ALG, false, alg, alg_len);
    QPKI_GUARD(alt_exts->err);
    der_buf tb, v;
    der_buf_init_in(&tb, b->arena, 0);
    der_buf_init_in(&v, b->arena, 0);
    write_tbs(&tb, b, produced, alt_exts);
    const uint8_t *tbs, *value;
    uint8_t *sig = NULL;
    size_t tbs_len, value_len;
    qpki_status rc;
    QPKI_CHECK(der_buf_view(&tb, &tbs, &tbs_len));
    size_t cap = qpki_signer_max_signature_size(b->alt);
    sig = b_alloc(b, cap ? cap : 1);
    if (!sig)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    size_t sig_len = cap;
    QPKI_CHECK(qpki_signer_sign(b->alt, tbs, tbs_len, sig, &sig_len));
    der_put_bit_string(&v, sig, sig_len, 0);
    QPKI_CHECK(der_buf_view(&v, &value, &value_len));
    der_put_extension(alt_exts, OID_CE_ALT_SIG_VALUE, false, value, value_len);
    rc = alt_exts->err;
out:
    der_buf_free(&tb);
    der_buf_free(&v);
    b_free(b, sig);
    return rc;
}

/* Encode and sign into ob (a fresh buffer the caller owns). */
static qpki_status builder_sign(struct qpki_ocsp_response_builder *b, qpki_signer *signer,
                                der_buf *ob)
{
    /* RFC 6960 §4.2.1: responses contains one SingleResponse per CertID. */
    QPKI_ENSURE(b->count > 0, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(b->exts.err);
    for (size_t i = 0; i < b->count; i++)
        QPKI_GUARD(b->singles[i].exts.err);
    if (!b->responder_set) {
        const uint8_t *spki;
        size_t spki_len;
        QPKI_GUARD(qpki_signer_public_key(signer, &spki, &spki_len));
        QPKI_GUARD(ocsp_key_hash_of_spki(spki, spki_len, b->key_hash));
    }
    const uint8_t *alg;
    size_t alg_len;
    QPKI_GUARD(qpki_signer_algorithm(signer, &alg, &alg_len));
    qpki_time produced = b->produced_set ? b->produced_at : (qpki_time)time(NULL);

    qpki_status rc;
    const uint8_t *tbs;
    uint8_t *sig = NULL;
    size_t tbs_len = 0;
    der_buf tb, alt_exts;
    der_buf_init_in(&tb, b->arena, 0);
    der_buf_init_in(&alt_exts, b->arena, 0);
    if (b->alt)
        QPKI_CHECK(catalyst_extensions(b, produced, &alt_exts));
    write_tbs(&tb, b, produced, &alt_exts);
    QPKI_CHECK(der_buf_view(&tb, &tbs, &tbs_len));

    size_t sig_cap = qpki_signer_max_signature_size(signer);
    if (sig_cap == 0)
        QPKI_FAIL(QPKI_ERR_INTERNAL);
    sig = b_alloc(b, sig_cap);
    if (!sig)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    size_t sig_len = sig_cap;
    QPKI_CHECK(qpki_signer_sign(signer, tbs, tbs_len, sig, &sig_len));

    /* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
     *                             responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
     * ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER,
     *                              response OCTET STRING } */
    size_t resp = der_begin(ob, DER_SEQUENCE);
    der_put_enumerated(ob, QPKI_OCSP_RESP_SUCCESSFUL);
    size_t bytes0 = der_begin(ob, DER_CTX_CONS(0));
    size_t bytes = der_begin(ob, DER_SEQUENCE);
    der_put_oid(ob, OID_OCSP_BASIC);
    size_t octets = der_begin(ob, DER_OCTET_STRING);
    size_t basic = der_begin(ob, DER_SEQUENCE);
    der_put_bytes(ob, tbs, tbs_len);
    der_put_bytes(ob, alg, alg_len);
    der_put_bit_string(ob, sig, sig_len, 0);
    if (b->cert_count) {
        size_t certs0 = der_begin(ob, DER_CTX_CONS(0));
        size_t certs = der_begin(ob, DER_SEQUENCE);
        for (size_t i = 0; i < b->cert_count; i++) {
            const uint8_t *der;
            size_t len;
            qpki_cert_der(b->certs[i], &der, &len);
            der_put_bytes(ob, der, len);
        }
        der_end(ob, certs);
        der_end(ob, certs0);
    }
    der_end(ob, basic);
    der_end(ob, octets);
    der_end(ob, bytes);
    der_end(ob, bytes0);
    der_end(ob, resp);
    rc = ob->err;
out:
    der_buf_free(&tb);
    der_buf_free(&alt_exts);
    b_free(b, sig);
    return rc;
}

qpki_status qpki_ocsp_response_builder_sign(qpki_ocsp_response_builder *b, qpki_signer *signer,
                                            uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(b && signer && out && out_len, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    der_buf ob;
    der_buf_init_in(&ob, b->arena, 0);
    qpki_status rc = builder_sign(b, signer, &ob);
    if (rc != QPKI_OK) {
        der_buf_free(&ob);
        return rc;
    }
    return der_buf_finish(&ob, out, out_len);
}

qpki_status ocsp_response_builder_sign_view(qpki_ocsp_response_builder *b, qpki_signer *signer,
                                            const uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(b && b->arena && signer && out && out_len, QPKI_ERR_INVALID_ARG);
    der_buf ob;
    der_buf_init_in(&ob, b->arena, 0);
    QPKI_GUARD(builder_sign(b, signer, &ob));
    return der_buf_view(&ob, out, out_len);
}

qpki_status qpki_ocsp_response_error_der(qpki_ocsp_resp_status status, const uint8_t **out,
                                         size_t *out_len)
{
    /* RFC 6960 §4.2.1: responses other than successful carry no responseBytes. */
    static const uint8_t encodings[7][5] = {
        {0}, /* successful has a body: not produced here */
        {0x30, 0x03, 0x0a, 0x01, 0x01}, {0x30, 0x03, 0x0a, 0x01, 0x02},
        {0x30, 0x03, 0x0a, 0x01, 0x03}, {0},
        {0x30, 0x03, 0x0a, 0x01, 0x05}, {0x30, 0x03, 0x0a, 0x01, 0x06},
    };
    QPKI_ENSURE(out && out_len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(status == QPKI_OCSP_RESP_MALFORMED || status == QPKI_OCSP_RESP_INTERNAL_ERROR ||
                    status == QPKI_OCSP_RESP_TRY_LATER || status == QPKI_OCSP_RESP_SIG_REQUIRED ||
                    status == QPKI_OCSP_RESP_UNAUTHORIZED,
                QPKI_ERR_INVALID_ARG);
    *out = encodings[status];
    *out_len = 5;
    return QPKI_OK;
}

/* ---- parsing --------------------------------------------------------------- */

struct qpki_ocsp_single {
    struct qpki_certid id;
    qpki_cert_status status;
    qpki_time revocation_time;
    qpki_crl_reason reason;
    qpki_time this_update;
    qpki_time next_update;
    ocsp_ext *exts;
    size_t ext_count;
};

struct qpki_ocsp_response {
    uint8_t *der;
    size_t der_len;
    qpki_ocsp_resp_status status;
    bool basic;
    der_view type;       /* responseType OID contents, n == 0 without responseBytes */
    der_view tbs, sig_alg, signature;
    qpki_sig_alg sig_alg_id;
    bool by_key;
    der_view responder;
    qpki_time produced_at;
    struct qpki_ocsp_single *singles;
    size_t count;
    ocsp_ext *exts;
    size_t ext_count;
    der_view nonce;
    bool has_nonce;
    qpki_cert **certs;
    size_t cert_count;
};

static qpki_status read_cert_status(der_cursor *seq, struct qpki_ocsp_single *s)
{
    der_cursor x, at = *seq;
    bool present;
    uint8_t tag;
    /* CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
     * RevokedInfo, unknown [2] IMPLICIT UnknownInfo } */
    QPKI_GUARD(der_read_any(seq, &tag, &x, NULL));
    switch (tag) {
    case DER_CTX(0):
        if (!der_at_end(&x))
            return der_fail(&at, QPKI_ERR_DECODE, "good [0] NULL with %zu content octets",
                            x.left);
        s->status = QPKI_CERT_STATUS_GOOD;
        break;
    case DER_CTX_CONS(1): {
        s->status = QPKI_CERT_STATUS_REVOKED;
        DER_FIELD(seq, "revoked: revocationTime",
                  der_read_generalized_time(&x, &s->revocation_time));
        der_cursor r;
        QPKI_GUARD(der_read_optional(&x, DER_CTX_CONS(0), &r, &present));
        if (present) {
            int v;
            der_cursor at_reason = r;
            DER_FIELD(seq, "revoked: revocationReason", der_read_enumerated(&r, &v));
            DER_FIELD(seq, "revoked: revocationReason", der_expect_end(&r));
            if (v > QPKI_REASON_AA_COMPROMISE || v == 7)
                return der_fail(&at_reason, QPKI_ERR_DECODE, "revoked: revocationReason %d "
                                "is not a CRLReason (RFC 5280 section 5.3.1)", v);
            s->reason = (qpki_crl_reason)v;
        }
        DER_FIELD(seq, "revoked", der_expect_end(&x));
        break;
    }
    case DER_CTX(2):
        if (!der_at_end(&x))
            return der_fail(&at, QPKI_ERR_DECODE, "unknown [2] NULL with %zu content octets",
                            x.left);
        s->status = QPKI_CERT_STATUS_UNKNOWN;
        break;
    default:
        return der_fail(&at, QPKI_ERR_UNEXPECTED_TAG, "tag 0x%02x is none of good [0], "
                        "revoked [1], unknown [2]", tag);
    }
    return QPKI_OK;
}

static qpki_status read_single(der_cursor *list, struct qpki_ocsp_single *s)
{
    der_cursor seq, x;
    bool present;
    QPKI_GUARD(der_read_tlv(list, DER_SEQUENCE, &seq));
    DER_FIELD(&seq, "certID", certid_read(&seq, &s->id));
    s->reason = QPKI_REASON_NONE;
    DER_FIELD(&seq, "certStatus", read_cert_status(&seq, s));
    DER_FIELD(&seq, "thisUpdate", der_read_generalized_time(&seq, &s->this_update));
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &x, &present));
    if (present) {
        DER_FIELD(&seq, "nextUpdate", der_read_generalized_time(&x, &s->next_update));
        DER_FIELD(&seq, "nextUpdate", der_expect_end(&x));
    }
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(1), &x, &present));
    if (present)
        DER_FIELD(&seq, "singleExtensions",
                  ocsp_read_extensions(&x, NULL, &s->exts, &s->ext_count));
    return der_expect_end(&seq);
}

/* ResponseData (see write_tbs). */
static qpki_status read_response_data(struct qpki_ocsp_response *r, der_cursor *tbs)
{
    der_cursor x, list;
    bool present;
    QPKI_GUARD(ocsp_read_version(tbs));
    uint8_t tag;
    der_cursor at = *tbs;
    DER_FIELD(tbs, "responderID", der_read_any(tbs, &tag, &x, NULL));
    if (tag == DER_CTX_CONS(1)) {
        r->by_key = false;
        DER_FIELD(tbs, "responderID: byName", der_read_raw(&x, DER_SEQUENCE, &r->responder));
    } else if (tag == DER_CTX_CONS(2)) {
        r->by_key = true;
        DER_FIELD(tbs, "responderID: byKey", der_read_octet_string(&x, &r->responder));
    } else {
        return der_fail(&at, QPKI_ERR_UNEXPECTED_TAG, "responderID: tag 0x%02x is neither "
                        "byName [1] nor byKey [2]", tag);
    }
    DER_FIELD(tbs, "responderID", der_expect_end(&x));
    DER_FIELD(tbs, "producedAt", der_read_generalized_time(tbs, &r->produced_at));
    DER_FIELD(tbs, "responses", der_read_tlv(tbs, DER_SEQUENCE, &list));
    size_t n = 0;
    for (der_cursor scan = list; !der_at_end(&scan); n++) {
        if (n >= RESPONSE_MAX_SINGLES)
            return der_fail(&scan, QPKI_ERR_LIMIT, "responses: more than %d SingleResponses",
                            RESPONSE_MAX_SINGLES);
        DER_FIELD(tbs, "responses", der_skip(&scan));
    }
    r->singles = qpki_calloc(n ? n : 1, sizeof(*r->singles));
    QPKI_ENSURE(r->singles, QPKI_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        qpki_status st = read_single(&list, &r->singles[i]);
        if (st != QPKI_OK)
            return der_field(tbs, st, "responses[%zu]", i);
        r->count++;
    }
    QPKI_GUARD(der_read_optional(tbs, DER_CTX_CONS(1), &x, &present));
    if (present) {
        DER_FIELD(tbs, "responseExtensions",
                  ocsp_read_extensions(&x, NULL, &r->exts, &r->ext_count));
        for (size_t i = 0; i < r->ext_count; i++) {
            if (der_oid_eq(r->exts[i].oid, OID_OCSP_NONCE)) {
                /* A response nonce of bad length is still reported so the verifier
                 * can say it does not match. */
                if (ocsp_nonce_decode(r->exts[i].value, &r->nonce) != QPKI_OK)
                    r->nonce = r->exts[i].value;
                r->has_nonce = true;
            }
        }
    }
    return der_expect_end(tbs);
}

/* BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData,
 *    signatureAlgorithm AlgorithmIdentifier, signature BIT STRING,
 *    certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL } */
static qpki_status read_basic(struct qpki_ocsp_response *r, const der_cursor *parent,
                              der_view body)
{
    der_cursor c = der_cursor_sub(parent, body), basic, tbs, x;
    bool present;
    unsigned unused;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &basic));
    QPKI_GUARD(der_expect_end(&c));
    der_cursor before = basic;
    DER_FIELD(&c, "tbsResponseData", der_read_tlv(&basic, DER_SEQUENCE, &tbs));
    r->tbs = (der_view){before.p, (size_t)(basic.p - before.p)};
    DER_FIELD(&c, "signatureAlgorithm", der_read_raw(&basic, DER_SEQUENCE, &r->sig_alg));
    if (crypto_sig_alg_parse(r->sig_alg, &r->sig_alg_id) != QPKI_OK)
        r->sig_alg_id = QPKI_SIG_UNKNOWN;
    der_cursor at = basic;
    DER_FIELD(&c, "signature", der_read_bit_string(&basic, &r->signature, &unused));
    if (unused != 0)
        return der_fail(&at, QPKI_ERR_DECODE, "signature: BIT STRING with %u unused bits",
                        unused);
    QPKI_GUARD(der_read_optional(&basic, DER_CTX_CONS(0), &x, &present));
    if (present) {
        der_cursor seq;
        DER_FIELD(&c, "certs", der_read_tlv(&x, DER_SEQUENCE, &seq));
        DER_FIELD(&c, "certs", der_expect_end(&x));
        size_t n = 0;
        for (der_cursor scan = seq; !der_at_end(&scan); n++) {
            if (n >= RESPONSE_MAX_CERTS)
                return der_fail(&scan, QPKI_ERR_LIMIT, "certs: more than %d certificates",
                                RESPONSE_MAX_CERTS);
            DER_FIELD(&c, "certs", der_skip(&scan));
        }
        r->certs = qpki_calloc(n ? n : 1, sizeof(*r->certs));
        QPKI_ENSURE(r->certs, QPKI_ERR_NOMEM);
        for (size_t i = 0; i < n; i++) {
            der_view cert;
            der_cursor at_cert = seq;
            qpki_status st = der_read_raw(&seq, DER_SEQUENCE, &cert);
            if (st == QPKI_OK) {
                char why[160];
                st = qpki_cert_parse_err(cert.p, cert.n, why, sizeof(why), &r->certs[i]);
                if (st != QPKI_OK && st != QPKI_ERR_NOMEM)
                    (void)der_fail(&at_cert, st, "%s of the certificate", why);
            }
            if (st != QPKI_OK)
                return der_field(&c, st, "certs[%zu]", i);
            r->cert_count++;
        }
    }
    QPKI_GUARD(der_expect_end(&basic));
    DER_FIELD(&c, "tbsResponseData", read_response_data(r, &tbs));
    return QPKI_OK;
}

static qpki_status parse_response(struct qpki_ocsp_response *r, qpki_detail *detail)
{
    der_diag diag = {r->der, r->der_len, detail};
    der_cursor c = der_cursor_init_diag(r->der, r->der_len, &diag), seq, x, bytes;
    bool present;
    int status;
    DER_FIELD(&c, "OCSPResponse", der_read_tlv(&c, DER_SEQUENCE, &seq));
    DER_FIELD(&c, "OCSPResponse", der_expect_end(&c));
    der_cursor at = seq;
    DER_FIELD(&c, "responseStatus", der_read_enumerated(&seq, &status));
    if (status < 0 || status > 6 || status == 4)
        return der_fail(&at, QPKI_ERR_DECODE, "responseStatus %d is not an "
                        "OCSPResponseStatus (RFC 6960 section 4.2.1)", status);
    r->status = (qpki_ocsp_resp_status)status;
    at = seq;
    QPKI_GUARD(der_read_optional(&seq, DER_CTX_CONS(0), &x, &present));
    DER_FIELD(&c, "OCSPResponse", der_expect_end(&seq));
    /* RFC 6960 §4.2.1: a successful response carries responseBytes; the others
     * do not. */
    if (r->status != QPKI_OCSP_RESP_SUCCESSFUL) {
        if (present)
            return der_fail(&at, QPKI_ERR_DECODE, "responseBytes present in a %s response "
                            "(RFC 6960 section 4.2.1: only successful ones carry them)",
                            qpki_ocsp_resp_status_name(r->status));
        return QPKI_OK;
    }
    if (!present)
        return der_fail(&at, QPKI_ERR_DECODE, "responseBytes missing in a successful response");
    der_view type, body;
    DER_FIELD(&c, "responseBytes", der_read_tlv(&x, DER_SEQUENCE, &bytes));
    DER_FIELD(&c, "responseBytes", der_expect_end(&x));
    DER_FIELD(&c, "responseBytes: responseType", der_read_oid(&bytes, &type));
    der_cursor at_body = bytes;
    DER_FIELD(&c, "responseBytes: response", der_read_octet_string(&bytes, &body));
    DER_FIELD(&c, "responseBytes", der_expect_end(&bytes));
    r->type = type;
    if (!der_oid_eq(type, OID_OCSP_BASIC))
        return QPKI_OK; /* unknown responseType: parsed, no basic body */
    r->basic = true;
    DER_FIELD(&c, "BasicOCSPResponse", read_basic(r, &at_body, body));
    return QPKI_OK;
}

qpki_status qpki_ocsp_response_parse(const uint8_t *der, size_t len, qpki_ocsp_response **out)
{
    return qpki_ocsp_response_parse_err(der, len, NULL, 0, out);
}

qpki_status qpki_ocsp_response_parse_err(const uint8_t *der, size_t len, char *error,
                                         size_t error_size, qpki_ocsp_response **out)
{
    qpki_detail detail;
    detail_init(&detail, error, error_size);
    QPKI_ENSURE(out && (der || len == 0), QPKI_ERR_INVALID_ARG);
    *out = NULL;
    if (len == 0)
        return detail_fail(&detail, QPKI_ERR_TRUNCATED, "OCSPResponse: empty (0 bytes)");
    if (len > DER_BUF_DEFAULT_MAX)
        return detail_fail(&detail, QPKI_ERR_TOO_LARGE, "OCSPResponse: %zu bytes, more "
                           "than the %zu allowed", len, (size_t)DER_BUF_DEFAULT_MAX);
    struct qpki_ocsp_response *r = qpki_calloc(1, sizeof(*r));
    QPKI_ENSURE(r, QPKI_ERR_NOMEM);
    r->der = qpki_memdup(der, len);
    r->der_len = len;
    qpki_status rc = r->der ? parse_response(r, &detail) : QPKI_ERR_NOMEM;
    if (rc != QPKI_OK) {
        if (rc == QPKI_ERR_NOMEM)
            detail_fail(&detail, rc, "out of memory");
        qpki_ocsp_response_free(&r);
        return rc;
    }
    *out = r;
    return QPKI_OK;
}

qpki_status qpki_ocsp_response_type(const qpki_ocsp_response *resp, const uint8_t **oid,
                                    size_t *len)
{
    QPKI_ENSURE(resp && oid && len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(resp->type.n > 0, QPKI_ERR_NOT_FOUND);
    *oid = resp->type.p;
    *len = resp->type.n;
    return QPKI_OK;
}

void qpki_ocsp_response_free(qpki_ocsp_response **resp)
{
    if (!resp || !*resp)
        return;
    struct qpki_ocsp_response *r = *resp;
    for (size_t i = 0; i < r->count; i++)
        qpki_free(r->singles[i].exts);
    qpki_free(r->singles);
    qpki_free(r->exts);
    for (size_t i = 0; i < r->cert_count; i++)
        qpki_cert_free(&r->certs[i]);
    qpki_free(r->certs);
    qpki_free(r->der);
    qpki_free(r);
    *resp = NULL;
}

qpki_ocsp_resp_status qpki_ocsp_response_status(const qpki_ocsp_response *resp)
{
    return resp ? resp->status : QPKI_OCSP_RESP_INTERNAL_ERROR;
}

bool qpki_ocsp_response_is_basic(const qpki_ocsp_response *resp) { return resp && resp->basic; }

qpki_status qpki_ocsp_response_responder_id(const qpki_ocsp_response *resp, bool *by_key,
                                            const uint8_t **value, size_t *len)
{
    QPKI_ENSURE(resp && by_key && value && len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(resp->basic, QPKI_ERR_NOT_FOUND);
    *by_key = resp->by_key;
    *value = resp->responder.p;
    *len = resp->responder.n;
    return QPKI_OK;
}

qpki_time qpki_ocsp_response_produced_at(const qpki_ocsp_response *resp)
{
    return resp ? resp->produced_at : 0;
}

size_t qpki_ocsp_response_single_count(const qpki_ocsp_response *resp)
{
    return resp ? resp->count : 0;
}

const qpki_ocsp_single *qpki_ocsp_response_single(const qpki_ocsp_response *resp, size_t i)
{
    return resp && i < resp->count ? &resp->singles[i] : NULL;
}

qpki_status qpki_ocsp_response_nonce(const qpki_ocsp_response *resp, const uint8_t **nonce,
                                     size_t *len)
{
    QPKI_ENSURE(resp && nonce && len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(resp->has_nonce, QPKI_ERR_NOT_FOUND);
    *nonce = resp->nonce.p;
    *len = resp->nonce.n;
    return QPKI_OK;
}

size_t qpki_ocsp_response_extension_count(const qpki_ocsp_response *resp)
{
    return resp ? resp->ext_count : 0;
}

qpki_status qpki_ocsp_response_extension(const qpki_ocsp_response *resp, size_t i,
                                         const uint8_t **oid, size_t *oid_len, bool *critical,
                                         const uint8_t **value, size_t *value_len)
{
    QPKI_ENSURE(resp, QPKI_ERR_INVALID_ARG);
    return ocsp_extension_get(resp->exts, resp->ext_count, i, oid, oid_len, critical, value,
                              value_len);
}

qpki_sig_alg qpki_ocsp_response_sig_alg(const qpki_ocsp_response *resp)
{
    return resp ? resp->sig_alg_id : QPKI_SIG_UNKNOWN;
}

void qpki_ocsp_response_sig_alg_der(const qpki_ocsp_response *resp, const uint8_t **der,
                                    size_t *len)
{
    *der = resp->sig_alg.p;
    *len = resp->sig_alg.n;
}

void qpki_ocsp_response_signature(const qpki_ocsp_response *resp, const uint8_t **sig,
                                  size_t *len)
{
    *sig = resp->signature.p;
    *len = resp->signature.n;
}

void qpki_ocsp_response_tbs(const qpki_ocsp_response *resp, const uint8_t **der, size_t *len)
{
    *der = resp->tbs.p;
    *len = resp->tbs.n;
}

size_t qpki_ocsp_response_cert_count(const qpki_ocsp_response *resp)
{
    return resp ? resp->cert_count : 0;
}

const qpki_cert *qpki_ocsp_response_cert(const qpki_ocsp_response *resp, size_t i)
{
    return resp && i < resp->cert_count ? resp->certs[i] : NULL;
}

void qpki_ocsp_response_der(const qpki_ocsp_response *resp, const uint8_t **der, size_t *len)
{
    *der = resp->der;
    *len = resp->der_len;
}

const qpki_certid *qpki_ocsp_single_certid(const qpki_ocsp_single *s) { return &s->id; }
qpki_cert_status qpki_ocsp_single_status(const qpki_ocsp_single *s) { return s->status; }
qpki_time qpki_ocsp_single_revocation_time(const qpki_ocsp_single *s) { return s->revocation_time; }
qpki_crl_reason qpki_ocsp_single_reason(const qpki_ocsp_single *s) { return s->reason; }
qpki_time qpki_ocsp_single_this_update(const qpki_ocsp_single *s) { return s->this_update; }
qpki_time qpki_ocsp_single_next_update(const qpki_ocsp_single *s) { return s->next_update; }
size_t qpki_ocsp_single_extension_count(const qpki_ocsp_single *s) { return s ? s->ext_count : 0; }

qpki_status qpki_ocsp_single_extension(const qpki_ocsp_single *s, size_t i, const uint8_t **oid,
                                       size_t *oid_len, bool *critical, const uint8_t **value,
                                       size_t *value_len)
{
    QPKI_ENSURE(s, QPKI_ERR_INVALID_ARG);
    return ocsp_extension_get(s->exts, s->ext_count, i, oid, oid_len, critical, value,
                              value_len);
}

/* ---- Catalyst: the alternative signature ---------------------------------------- */

qpki_status qpki_ocsp_response_alt_signature(const qpki_ocsp_response *resp,
                                             const uint8_t **alg_der, size_t *alg_len,
                                             const uint8_t **sig, size_t *sig_len)
{
    QPKI_ENSURE(resp && alg_der && alg_len && sig && sig_len, QPKI_ERR_INVALID_ARG);
    const ocsp_ext *alg = NULL, *val = NULL;
    for (size_t i = 0; i < resp->ext_count; i++) {
        if (der_oid_eq(resp->exts[i].oid, OID_CE_ALT_SIG_ALG))
            alg = &resp->exts[i];
        else if (der_oid_eq(resp->exts[i].oid, OID_CE_ALT_SIG_VALUE))
            val = &resp->exts[i];
    }
    QPKI_ENSURE(alg && val, QPKI_ERR_NOT_FOUND);
    /* altSignatureAlgorithm ::= AlgorithmIdentifier; altSignatureValue ::= BIT STRING */
    der_cursor a = der_cursor_init(alg->value.p, alg->value.n);
    der_view alg_tlv, bits;
    unsigned unused;
    QPKI_GUARD(der_read_raw(&a, DER_SEQUENCE, &alg_tlv));
    QPKI_GUARD(der_expect_end(&a));
    der_cursor v = der_cursor_init(val->value.p, val->value.n);
    QPKI_GUARD(der_read_bit_string(&v, &bits, &unused));
    QPKI_GUARD(der_expect_end(&v));
    QPKI_ENSURE(unused == 0, QPKI_ERR_DECODE);
    *alg_der = alg_tlv.p;
    *alg_len = alg_tlv.n;
    *sig = bits.p;
    *sig_len = bits.n;
    return QPKI_OK;
}

qpki_status ocsp_response_alt_tbs(const qpki_ocsp_response *resp, uint8_t **out, size_t *out_len)
{
    /* tbsResponseData re-encoded without the altSignatureValue extension: every
     * element copied byte for byte, the responseExtensions list rebuilt without
     * 2.5.29.74 (docs/CATALYST.md). */
    der_cursor c = der_cursor_init(resp->tbs.p, resp->tbs.n), tbs;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &tbs));
    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    qpki_status rc = QPKI_OK;
    /* responseExtensions is the [1] after `responses`; the [1] before it is a
     * responderID byName. */
    bool after_responses = false;
    while (rc == QPKI_OK && !der_at_end(&tbs)) {
        uint8_t tag;
        der_cursor value;
        der_view whole;
        rc = der_read_any(&tbs, &tag, &value, &whole);
        if (rc != QPKI_OK)
            break;
        if (tag == DER_SEQUENCE)
            after_responses = true;
        if (tag != DER_CTX_CONS(1) || !after_responses) {
            der_put_bytes(&b, whole.p, whole.n);
            continue;
        }
        der_cursor list;
        rc = der_read_tlv(&value, DER_SEQUENCE, &list);
        if (rc != QPKI_OK)
            break;
        size_t x = der_begin(&b, DER_CTX_CONS(1));
        size_t l = der_begin(&b, DER_SEQUENCE);
        while (rc == QPKI_OK && !der_at_end(&list)) {
            der_cursor ext;
            der_view ext_whole, oid;
            der_cursor before = list;
            rc = der_read_tlv(&list, DER_SEQUENCE, &ext);
            if (rc == QPKI_OK)
                rc = der_read_oid(&ext, &oid);
            ext_whole = (der_view){before.p, (size_t)(list.p - before.p)};
            if (rc == QPKI_OK && !der_oid_eq(oid, OID_CE_ALT_SIG_VALUE))
                der_put_bytes(&b, ext_whole.p, ext_whole.n);
        }
        der_end(&b, l);
        der_end(&b, x);
    }
    der_end(&b, seq);
    if (rc != QPKI_OK) {
        der_buf_free(&b);
        return rc;
    }
    return der_buf_finish(&b, out, out_len);
}
