/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/verify.c - relying-party checks of an OCSP response (RFC 6960 §3.2). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <qpki/verify.h>

#include "../der/oid.h"
#include "ocsp_internal.h"

#define VERIFY_MAX_EXPECT 16

struct qpki_ocsp_verifier {
    const qpki_cert *ca;
    bool time_set;
    qpki_time now;
    int64_t skew;
    int64_t max_age;
    bool want_nonce;
    uint8_t nonce[QPKI_NONCE_MAX];
    size_t nonce_len;
    qpki_certid *expect_ids[VERIFY_MAX_EXPECT];
    size_t expect_id_count;
    uint8_t expect_serials[VERIFY_MAX_EXPECT][QPKI_SERIAL_MAX];
    size_t expect_serial_len[VERIFY_MAX_EXPECT];
    size_t expect_serial_count;
    const qpki_cert *signer;
    qpki_pq_requirement require_pq;
    uint8_t *alt_spki;
    size_t alt_spki_len;
    qpki_pq_result pq;
    char detail[512];
};

qpki_status qpki_ocsp_verifier_new(qpki_ocsp_verifier **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    struct qpki_ocsp_verifier *v = qpki_calloc(1, sizeof(*v));
    QPKI_ENSURE(v, QPKI_ERR_NOMEM);
    v->skew = 300;
    v->max_age = -1;
    *out = v;
    return QPKI_OK;
}

void qpki_ocsp_verifier_free(qpki_ocsp_verifier **pv)
{
    if (!pv || !*pv)
        return;
    for (size_t i = 0; i < (*pv)->expect_id_count; i++)
        qpki_certid_free(&(*pv)->expect_ids[i]);
    qpki_free((*pv)->alt_spki);
    qpki_free(*pv);
    *pv = NULL;
}

qpki_status qpki_ocsp_verifier_set_ca(qpki_ocsp_verifier *v, const qpki_cert *ca)
{
    QPKI_ENSURE(v && ca, QPKI_ERR_INVALID_ARG);
    v->ca = ca;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_time(qpki_ocsp_verifier *v, qpki_time now)
{
    QPKI_ENSURE(v, QPKI_ERR_INVALID_ARG);
    v->now = now;
    v->time_set = true;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_skew(qpki_ocsp_verifier *v, int64_t seconds)
{
    QPKI_ENSURE(v && seconds >= 0, QPKI_ERR_INVALID_ARG);
    v->skew = seconds;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_max_age(qpki_ocsp_verifier *v, int64_t max_age)
{
    QPKI_ENSURE(v && max_age >= -1, QPKI_ERR_INVALID_ARG);
    v->max_age = max_age;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_nonce(qpki_ocsp_verifier *v, const uint8_t *nonce,
                                         size_t len)
{
    QPKI_ENSURE(v && nonce, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(len >= QPKI_NONCE_MIN && len <= QPKI_NONCE_MAX, QPKI_ERR_NONCE_LENGTH);
    memcpy(v->nonce, nonce, len);
    v->nonce_len = len;
    v->want_nonce = true;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_expect_certid(qpki_ocsp_verifier *v, const qpki_certid *id)
{
    QPKI_ENSURE(v && id, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(v->expect_id_count < VERIFY_MAX_EXPECT, QPKI_ERR_LIMIT);
    QPKI_GUARD(qpki_certid_dup(id, &v->expect_ids[v->expect_id_count]));
    v->expect_id_count++;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_expect_serial(qpki_ocsp_verifier *v, const uint8_t *serial,
                                             size_t len)
{
    QPKI_ENSURE(v && (serial || len == 0), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(v->expect_serial_count < VERIFY_MAX_EXPECT, QPKI_ERR_LIMIT);
    while (len > 0 && serial[0] == 0) {
        serial++;
        len--;
    }
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_TOO_LARGE);
    if (len)
        memcpy(v->expect_serials[v->expect_serial_count], serial, len);
    v->expect_serial_len[v->expect_serial_count++] = len;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_pq_requirement(qpki_ocsp_verifier *v,
                                                  qpki_pq_requirement requirement)
{
    QPKI_ENSURE(v && (requirement == QPKI_PQ_REQUIRE_NONE ||
                      requirement == QPKI_PQ_REQUIRE_RESPONSE ||
                      requirement == QPKI_PQ_REQUIRE_PATH),
                QPKI_ERR_INVALID_ARG);
    v->require_pq = requirement;
    return QPKI_OK;
}

qpki_status qpki_ocsp_verifier_set_require_pq(qpki_ocsp_verifier *v, bool require)
{
    return qpki_ocsp_verifier_set_pq_requirement(v, require ? QPKI_PQ_REQUIRE_PATH
                                                            : QPKI_PQ_REQUIRE_NONE);
}

qpki_status qpki_ocsp_verifier_set_alt_public_key(qpki_ocsp_verifier *v, const uint8_t *spki,
                                                  size_t len)
{
    QPKI_ENSURE(v && spki && len, QPKI_ERR_INVALID_ARG);
    uint8_t *copy = qpki_memdup(spki, len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    qpki_free(v->alt_spki);
    v->alt_spki = copy;
    v->alt_spki_len = len;
    return QPKI_OK;
}

qpki_pq_result qpki_ocsp_verifier_pq_result(const qpki_ocsp_verifier *v)
{
    return v ? v->pq : QPKI_PQ_ABSENT;
}

const char *qpki_ocsp_verifier_detail(const qpki_ocsp_verifier *v)
{
    return v ? v->detail : "";
}

const qpki_cert *qpki_ocsp_verifier_signer_cert(const qpki_ocsp_verifier *v)
{
    return v ? v->signer : NULL;
}

static qpki_status fail(qpki_ocsp_verifier *v, qpki_status rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static qpki_status fail(qpki_ocsp_verifier *v, qpki_status rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
    return rc;
}

static void fmt_time(qpki_time t, char *buf, size_t size)
{
    int y, mo, d, h, mi, s;
    qpki_time_to_fields(t, &y, &mo, &d, &h, &mi, &s);
    qpki_fmt(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
}

/* Does the ResponderID name this certificate? */
static bool responder_id_matches(const qpki_ocsp_response *resp, const qpki_cert *cert)
{
    bool by_key;
    const uint8_t *value;
    size_t len;
    if (qpki_ocsp_response_responder_id(resp, &by_key, &value, &len) != QPKI_OK)
        return false;
    if (by_key) {
        const uint8_t *bits;
        size_t bits_len;
        uint8_t h[CRYPTO_MAX_HASH_LEN];
        qpki_cert_public_key_bits(cert, &bits, &bits_len);
        return len == 20 && crypto_hash(QPKI_HASH_SHA1, bits, bits_len, h) == QPKI_OK &&
               !memcmp(h, value, 20);
    }
    const uint8_t *name;
    size_t name_len;
    qpki_cert_subject_der(cert, &name, &name_len);
    return name_len == len && !memcmp(name, value, len);
}

static bool same_cert(const qpki_cert *a, const qpki_cert *b)
{
    const uint8_t *pa, *pb;
    size_t na, nb;
    qpki_cert_der(a, &pa, &na);
    qpki_cert_der(b, &pb, &nb);
    return na == nb && !memcmp(pa, pb, na);
}

static qpki_status check_signature(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp,
                                   const qpki_cert *signer)
{
    const uint8_t *spki, *alg, *tbs, *sig;
    size_t spki_len, alg_len, tbs_len, sig_len;
    qpki_cert_spki(signer, &spki, &spki_len);
    qpki_ocsp_response_sig_alg_der(resp, &alg, &alg_len);
    qpki_ocsp_response_tbs(resp, &tbs, &tbs_len);
    qpki_ocsp_response_signature(resp, &sig, &sig_len);
    qpki_status rc = crypto_verify_spki((der_view){spki, spki_len}, (der_view){alg, alg_len},
                                        tbs, tbs_len, sig, sig_len);
    if (rc == QPKI_ERR_NOMEM)
        return fail(v, rc, "out of memory while checking the signature");
    if (rc == QPKI_ERR_UNSUPPORTED_ALGORITHM)
        return fail(v, rc, "signature algorithm %s is not supported for this key",
                    qpki_sig_alg_name(qpki_ocsp_response_sig_alg(resp)));
    if (rc != QPKI_OK)
        return fail(v, QPKI_ERR_BAD_SIGNATURE, "response signature does not verify");
    return QPKI_OK;
}

/* RFC 6960 §4.2.2.2: the key that signs a response MUST belong to one of: the CA
 * who issued the certificate in question; a Trusted Responder; or a CA Designated
 * Responder (Authorized Responder) that "holds a specially marked certificate
 * issued directly by the CA, indicating that the responder may issue OCSP
 * responses for that CA" - the id-kp-OCSPSigning extended key usage. */
static qpki_status find_signer(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp,
                               qpki_time now)
{
    char subject[256];
    if (responder_id_matches(resp, v->ca)) {
        QPKI_GUARD(check_signature(v, resp, v->ca));
        v->signer = v->ca;
        return fail(v, QPKI_OK, "signed by the CA");
    }
    qpki_status last = QPKI_ERR_UNTRUSTED_RESPONDER;
    snprintf(v->detail, sizeof(v->detail),
             "responder ID matches neither the CA nor a certificate in the response");
    for (size_t i = 0; i < qpki_ocsp_response_cert_count(resp); i++) {
        const qpki_cert *c = qpki_ocsp_response_cert(resp, i);
        if (!responder_id_matches(resp, c))
            continue;
        if (qpki_cert_subject_text(c, subject, sizeof(subject)) != QPKI_OK)
            snprintf(subject, sizeof(subject), "(unprintable)");
        if (same_cert(c, v->ca)) {
            QPKI_GUARD(check_signature(v, resp, c));
            v->signer = v->ca;
            return fail(v, QPKI_OK, "signed by the CA");
        }
        qpki_status issued = qpki_cert_verify_signature(c, v->ca);
        if (issued == QPKI_ERR_NOMEM)
            return fail(v, issued, "out of memory while checking the responder certificate");
        if (issued != QPKI_OK) {
            last = fail(v, QPKI_ERR_UNTRUSTED_RESPONDER,
                        "responder certificate %s is not issued by the CA", subject);
            continue;
        }
        if (!qpki_cert_has_ocsp_signing(c)) {
            last = fail(v, QPKI_ERR_UNTRUSTED_RESPONDER,
                        "responder certificate %s lacks id-kp-OCSPSigning", subject);
            continue;
        }
        if (!qpki_cert_valid_at(c, now)) {
            last = fail(v, QPKI_ERR_UNTRUSTED_RESPONDER,
                        "responder certificate %s is not valid now", subject);
            continue;
        }
        QPKI_GUARD(check_signature(v, resp, c));
        v->signer = c;
        return fail(v, QPKI_OK, "signed by delegated responder %s", subject);
    }
    return last;
}

static bool is_pq_sig_alg(qpki_sig_alg a)
{
    return a == QPKI_SIG_ML_DSA_44 || a == QPKI_SIG_ML_DSA_65 || a == QPKI_SIG_ML_DSA_87;
}

/* Catalyst (docs/CATALYST.md): the alternative signature covers tbsResponseData
 * re-encoded without altSignatureValue; its key is the signer certificate's
 * altSubjectPublicKeyInfo (2.5.29.72, value = SubjectPublicKeyInfo).
 * *checked is set when it was present and verified. */
static qpki_status check_alt_signature(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp,
                                       bool *checked)
{
    const uint8_t *alg, *sig;
    size_t alg_len, sig_len;
    *checked = false;
    qpki_status rc = qpki_ocsp_response_alt_signature(resp, &alg, &alg_len, &sig, &sig_len);
    if (rc == QPKI_ERR_NOT_FOUND)
        return QPKI_OK;
    if (rc != QPKI_OK)
        return fail(v, QPKI_ERR_PQ_SIGNATURE, "malformed alternative signature extensions");
    der_view key = {v->alt_spki, v->alt_spki_len};
    if (!v->alt_spki) {
        bool critical;
        if (qpki_cert_find_extension(v->signer, OID_CE_ALT_SPKI.p, OID_CE_ALT_SPKI.n, &critical,
                                     &key.p, &key.n) != QPKI_OK) {
            v->pq = QPKI_PQ_NO_KEY;
            return QPKI_OK;
        }
    }
    uint8_t *tbs = NULL;
    size_t tbs_len = 0;
    QPKI_GUARD(ocsp_response_alt_tbs(resp, &tbs, &tbs_len));
    rc = crypto_verify_spki(key, (der_view){alg, alg_len}, tbs, tbs_len, sig, sig_len);
    qpki_free(tbs);
    if (rc != QPKI_OK)
        return fail(v, QPKI_ERR_PQ_SIGNATURE, "post-quantum signature does not verify (%s)",
                    qpki_strerror(rc));
    *checked = true;
    return QPKI_OK;
}

/* Is the delegated responder certificate's binding to the CA post-quantum too?
 * Either the CA signed it with ML-DSA, or its Catalyst alternative signature
 * (ITU-T X.509 §9.8) verifies with the CA's alternative key.  Otherwise an
 * attacker who can forge the CA's classical signature could mint a responder
 * certificate for a post-quantum key of their own.  *pq is false when the
 * binding is classical only; a present alternative signature that does not
 * verify is an error. */
static qpki_status check_responder_pq(qpki_ocsp_verifier *v, bool *pq)
{
    *pq = true;
    if (v->signer == v->ca || is_pq_sig_alg(qpki_cert_sig_alg(v->signer)))
        return QPKI_OK;
    qpki_status rc = qpki_cert_verify_alt_signature(v->signer, v->ca);
    if (rc == QPKI_OK)
        return QPKI_OK;
    *pq = false;
    if (rc == QPKI_ERR_NOT_FOUND || rc == QPKI_ERR_KEY_MISMATCH)
        return QPKI_OK; /* no alternative signature, or a CA without an alternative key */
    return fail(v, QPKI_ERR_PQ_SIGNATURE,
                "the responder certificate's alternative (post-quantum) signature does not "
                "verify (%s)",
                qpki_strerror(rc));
}

/* DESIGN §5: which post-quantum protection the response has, and
 * require_pq. */
static qpki_status check_pq(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp)
{
    v->pq = QPKI_PQ_ABSENT;
    bool alt_ok, chain_pq;
    QPKI_GUARD(check_alt_signature(v, resp, &alt_ok));
    bool primary_pq = is_pq_sig_alg(qpki_ocsp_response_sig_alg(resp));
    if (primary_pq || alt_ok) {
        QPKI_GUARD(check_responder_pq(v, &chain_pq));
        if (!chain_pq)
            v->pq = QPKI_PQ_UNCHAINED;
        else
            v->pq = alt_ok ? QPKI_PQ_OK : QPKI_PQ_PURE;
    }
    if (v->require_pq == QPKI_PQ_REQUIRE_NONE || v->pq == QPKI_PQ_OK || v->pq == QPKI_PQ_PURE)
        return QPKI_OK;
    if (v->pq == QPKI_PQ_UNCHAINED) {
        if (v->require_pq == QPKI_PQ_REQUIRE_RESPONSE)
            return QPKI_OK;
        /* The whole path must survive a quantum attacker: one who can forge the
         * CA's classical signature mints a responder certificate for a key of
         * their own, and its post-quantum response signature then proves
         * nothing. */
        char subject[256];
        if (qpki_cert_subject_text(v->signer, subject, sizeof(subject)) != QPKI_OK)
            snprintf(subject, sizeof(subject), "(unprintable)");
        return fail(v, QPKI_ERR_PQ_SIGNATURE,
                    "the link CA -> responder certificate %s is classical only (%s, no "
                    "post-quantum signature by the CA): the path from the trust anchor is not "
                    "post-quantum",
                    subject, qpki_sig_alg_name(qpki_cert_sig_alg(v->signer)));
    }
    if (v->pq == QPKI_PQ_NO_KEY)
        return fail(v, QPKI_ERR_PQ_SIGNATURE,
                    "the signer certificate has no altSubjectPublicKeyInfo");
    return fail(v, QPKI_ERR_PQ_SIGNATURE, "the response has no post-quantum signature");
}

/* Does some SingleResponse carry this serial (magnitude)?  Every single was
 * already checked to name the trusted CA, so the serial identifies the
 * certificate whatever the CertID hash algorithm. */
static bool serial_is_answered(const qpki_ocsp_response *resp, const uint8_t *serial,
                               size_t serial_len)
{
    for (size_t i = 0; i < qpki_ocsp_response_single_count(resp); i++) {
        const qpki_certid *id = qpki_ocsp_single_certid(qpki_ocsp_response_single(resp, i));
        const uint8_t *a;
        size_t na;
        qpki_certid_serial_magnitude(id, &a, &na);
        if (na == serial_len && (na == 0 || !memcmp(a, serial, na)))
            return true;
    }
    return false;
}

static bool certid_is_answered(const qpki_ocsp_response *resp, const qpki_certid *want)
{
    for (size_t i = 0; i < qpki_ocsp_response_single_count(resp); i++)
        if (qpki_certid_equal(qpki_ocsp_single_certid(qpki_ocsp_response_single(resp, i)), want))
            return true;
    /* the same serial under another hash algorithm */
    const uint8_t *serial;
    size_t len;
    qpki_certid_serial_magnitude(want, &serial, &len);
    return serial_is_answered(resp, serial, len);
}

qpki_status qpki_ocsp_verifier_verify(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp)
{
    QPKI_ENSURE(v && resp, QPKI_ERR_INVALID_ARG);
    v->signer = NULL;
    v->detail[0] = '\0';
    if (!v->ca)
        return fail(v, QPKI_ERR_INVALID_ARG, "no CA certificate to trust");
    qpki_ocsp_resp_status st = qpki_ocsp_response_status(resp);
    if (st != QPKI_OCSP_RESP_SUCCESSFUL)
        return fail(v, QPKI_ERR_RESPONSE_STATUS, "responseStatus is %s",
                    qpki_ocsp_resp_status_name(st));
    if (!qpki_ocsp_response_is_basic(resp)) {
        /* RFC 6960 §4.2.1: "OCSP responders SHALL be capable of producing responses
         * of the id-pkix-ocsp-basic response type" - the only one we decode. */
        const uint8_t *oid = NULL;
        size_t oid_len = 0;
        char dotted[DER_OID_TEXT_MAX] = "(absent)";
        if (qpki_ocsp_response_type(resp, &oid, &oid_len) == QPKI_OK)
            der_oid_text_capped((der_view){oid, oid_len}, dotted);
        return fail(v, QPKI_ERR_UNSUPPORTED, "responseType %s is not id-pkix-ocsp-basic "
                    "(1.3.6.1.5.5.7.48.1.1)", dotted);
    }
    qpki_time now = v->time_set ? v->now : (qpki_time)time(NULL);

    /* §3.2 items 2-4: signature valid, signer authorised. */
    QPKI_GUARD(find_signer(v, resp, now));
    QPKI_GUARD(check_pq(v, resp));
    char signer_detail[sizeof(v->detail)];
    memcpy(signer_detail, v->detail, sizeof(signer_detail));

    char t1[32], t2[32];
    qpki_time produced = qpki_ocsp_response_produced_at(resp);
    if (produced > now + v->skew) {
        fmt_time(produced, t1, sizeof(t1));
        return fail(v, QPKI_ERR_NOT_YET_VALID, "producedAt %s is in the future", t1);
    }
    size_t n = qpki_ocsp_response_single_count(resp);
    if (n == 0)
        return fail(v, QPKI_ERR_CERTID_MISMATCH, "response has no SingleResponse");
    for (size_t i = 0; i < n; i++) {
        const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, i);
        char serial[2 * QPKI_SERIAL_MAX + 3];
        if (qpki_certid_serial_hex(qpki_ocsp_single_certid(s), serial, sizeof(serial)) != QPKI_OK)
            snprintf(serial, sizeof(serial), "?");
        /* A responder is only authorised for certificates of the CA (§4.2.2.2). */
        if (!qpki_certid_matches_issuer(qpki_ocsp_single_certid(s), v->ca))
            return fail(v, QPKI_ERR_CERTID_MISMATCH,
                        "response for serial %s names another issuer than the CA", serial);
        /* §3.2 items 5-6: thisUpdate recent, nextUpdate in the future. */
        qpki_time tu = qpki_ocsp_single_this_update(s);
        qpki_time nu = qpki_ocsp_single_next_update(s);
        fmt_time(tu, t1, sizeof(t1));
        if (tu > now + v->skew)
            return fail(v, QPKI_ERR_NOT_YET_VALID, "thisUpdate %s is in the future", t1);
        if (nu && nu < now - v->skew) {
            fmt_time(nu, t2, sizeof(t2));
            return fail(v, QPKI_ERR_STALE, "nextUpdate %s is in the past (stale response)", t2);
        }
        if (v->max_age >= 0 && tu < now - v->skew - v->max_age)
            return fail(v, QPKI_ERR_STALE, "thisUpdate %s is older than the maximum age", t1);
    }
    /* §3.2 item 1: the response is for the certificate(s) requested. */
    for (size_t k = 0; k < v->expect_id_count; k++) {
        if (!certid_is_answered(resp, v->expect_ids[k])) {
            char serial[2 * QPKI_SERIAL_MAX + 3];
            if (qpki_certid_serial_hex(v->expect_ids[k], serial, sizeof(serial)) != QPKI_OK)
                snprintf(serial, sizeof(serial), "?");
            return fail(v, QPKI_ERR_CERTID_MISMATCH, "no status for the requested serial %s",
                        serial);
        }
    }
    for (size_t k = 0; k < v->expect_serial_count; k++) {
        if (!serial_is_answered(resp, v->expect_serials[k], v->expect_serial_len[k]))
            return fail(v, QPKI_ERR_CERTID_MISMATCH,
                        "no status for the requested serial number");
    }
    /* RFC 9654 §2: the nonce binds the response to the request. */
    if (v->want_nonce) {
        const uint8_t *nonce;
        size_t len;
        if (qpki_ocsp_response_nonce(resp, &nonce, &len) != QPKI_OK)
            return fail(v, QPKI_ERR_NONCE_MISSING, "the response does not echo the nonce");
        if (len != v->nonce_len || memcmp(nonce, v->nonce, len) != 0)
            return fail(v, QPKI_ERR_NONCE_MISMATCH, "the response nonce differs from ours");
    }
    memcpy(v->detail, signer_detail, sizeof(v->detail));
    return QPKI_OK;
}
