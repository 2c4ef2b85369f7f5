/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_verify.c - RFC 6960 §3.2 checks on responses made by OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/key.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"

static qpki_cert *ca, *other_ca, *leaf1;
/* Fixtures are valid for ~100 years from their creation; verify "now". */

static int setup(void **state)
{
    (void)state;
    if (qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca) != QPKI_OK ||
        qpki_cert_load_file(tu_data_path("ocsp/other-ca.crt"), &other_ca) != QPKI_OK ||
        qpki_cert_load_file(tu_data_path("ocsp/leaf1.crt"), &leaf1) != QPKI_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    qpki_cert_free(&other_ca);
    qpki_cert_free(&leaf1);
    return 0;
}

static qpki_ocsp_response *load(const char *name)
{
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path(name), &len);
    assert_non_null(der);
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    free(der);
    return r;
}

static qpki_status verify_with(const char *name, const qpki_cert *trust, qpki_ocsp_verifier **keep)
{
    qpki_ocsp_response *r = load(name);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, trust), QPKI_OK);
    qpki_status rc = qpki_ocsp_verifier_verify(v, r);
    qpki_ocsp_response_free(&r);
    if (keep)
        *keep = v;
    else
        qpki_ocsp_verifier_free(&v);
    return rc;
}

static void test_delegated_response_by_name_verifies(void **state)
{
    (void)state;
    qpki_ocsp_verifier *v;
    assert_int_equal(verify_with("ocsp/resp-good.der", ca, &v), QPKI_OK);
    assert_non_null(strstr(qpki_ocsp_verifier_detail(v), "delegated responder"));
    assert_non_null(strstr(qpki_ocsp_verifier_detail(v), "Test OCSP Responder"));
    assert_non_null(qpki_ocsp_verifier_signer_cert(v));
    assert_ptr_not_equal(qpki_ocsp_verifier_signer_cert(v), ca);
    qpki_ocsp_verifier_free(&v);
}

static void test_delegated_response_by_key_verifies(void **state)
{
    (void)state;
    assert_int_equal(verify_with("ocsp/resp-good-bykey.der", ca, NULL), QPKI_OK);
}

static void test_ca_signed_response_verifies(void **state)
{
    (void)state;
    qpki_ocsp_verifier *v;
    assert_int_equal(verify_with("ocsp/resp-good-casigned.der", ca, &v), QPKI_OK);
    assert_ptr_equal(qpki_ocsp_verifier_signer_cert(v), ca);
    assert_string_equal(qpki_ocsp_verifier_detail(v), "signed by the CA");
    qpki_ocsp_verifier_free(&v);
}

static void test_responder_without_ocsp_signing_eku_is_untrusted(void **state)
{
    (void)state;
    qpki_ocsp_verifier *v;
    assert_int_equal(verify_with("ocsp/resp-noeku.der", ca, &v), QPKI_ERR_UNTRUSTED_RESPONDER);
    assert_non_null(strstr(qpki_ocsp_verifier_detail(v), "lacks id-kp-OCSPSigning"));
    qpki_ocsp_verifier_free(&v);
}

static void test_response_checked_against_another_ca_is_untrusted(void **state)
{
    (void)state;
    assert_int_equal(verify_with("ocsp/resp-good.der", other_ca, NULL),
                     QPKI_ERR_UNTRUSTED_RESPONDER);
}

static void test_every_flipped_signature_bit_is_caught(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/resp-good-bykey.der"), &len);
    assert_non_null(der);
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    const uint8_t *sig, *tbs, *base;
    size_t sig_len, tbs_len, base_len;
    qpki_ocsp_response_signature(r, &sig, &sig_len);
    qpki_ocsp_response_tbs(r, &tbs, &tbs_len);
    qpki_ocsp_response_der(r, &base, &base_len);
    size_t sig_off = (size_t)(sig - base), tbs_off = (size_t)(tbs - base);
    qpki_ocsp_response_free(&r);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    /* flip each bit of the last 8 signature bytes (the ECDSA s value) */
    for (size_t i = sig_len - 8; i < sig_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            der[sig_off + i] ^= (uint8_t)(1u << bit);
            qpki_ocsp_response *bad = NULL;
            if (qpki_ocsp_response_parse(der, len, &bad) == QPKI_OK) {
                assert_int_equal(qpki_ocsp_verifier_verify(v, bad), QPKI_ERR_BAD_SIGNATURE);
                qpki_ocsp_response_free(&bad);
            }
            der[sig_off + i] ^= (uint8_t)(1u << bit);
        }
    }
    /* a changed byte in the signed data (inside the key hash) */
    der[tbs_off + 8] ^= 0x01;
    qpki_ocsp_response *bad = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &bad), QPKI_OK);
    assert_int_not_equal(qpki_ocsp_verifier_verify(v, bad), QPKI_OK);
    qpki_ocsp_response_free(&bad);
    qpki_ocsp_verifier_free(&v);
    free(der);
}

static qpki_status verify_at(const char *name, qpki_time now, qpki_ocsp_verifier *v)
{
    qpki_ocsp_response *r = load(name);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_time(v, now), QPKI_OK);
    qpki_status rc = qpki_ocsp_verifier_verify(v, r);
    qpki_ocsp_response_free(&r);
    return rc;
}

static void test_times_are_checked_with_skew(void **state)
{
    (void)state;
    /* CA-signed, so the responder certificate's own validity does not interfere */
    qpki_ocsp_response *r = load("ocsp/resp-good-casigned.der");
    const qpki_ocsp_single *s = qpki_ocsp_response_single(r, 0);
    qpki_time tu = qpki_ocsp_single_this_update(s), nu = qpki_ocsp_single_next_update(s);
    assert_true(nu > tu);
    qpki_ocsp_response_free(&r);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    /* nextUpdate passed (beyond the 300 s skew): stale */
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", nu + 301, v), QPKI_ERR_STALE);
    assert_non_null(strstr(qpki_ocsp_verifier_detail(v), "stale"));
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", nu + 299, v), QPKI_OK);
    /* thisUpdate in the future: not yet valid */
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", tu - 301, v), QPKI_ERR_NOT_YET_VALID);
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", tu - 299, v), QPKI_OK);
    /* maximum age */
    assert_int_equal(qpki_ocsp_verifier_set_max_age(v, 3600), QPKI_OK);
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", tu + 3600 + 301, v), QPKI_ERR_STALE);
    assert_int_equal(verify_at("ocsp/resp-good-casigned.der", tu + 3600, v), QPKI_OK);
    qpki_ocsp_verifier_free(&v);
}

static void test_nonce_must_be_echoed_exactly(void **state)
{
    (void)state;
    qpki_ocsp_response *r = load("ocsp/resp-good-nonce.der");
    const uint8_t *nonce;
    size_t nonce_len;
    assert_int_equal(qpki_ocsp_response_nonce(r, &nonce, &nonce_len), QPKI_OK);
    assert_int_equal(nonce_len, 16);
    uint8_t copy[16];
    memcpy(copy, nonce, 16);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_nonce(v, copy, 16), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    copy[15] ^= 1;
    assert_int_equal(qpki_ocsp_verifier_set_nonce(v, copy, 16), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_NONCE_MISMATCH);
    qpki_ocsp_response_free(&r);
    /* a response without nonce when one was sent */
    r = load("ocsp/resp-good.der");
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_NONCE_MISSING);
    qpki_ocsp_response_free(&r);
    qpki_ocsp_verifier_free(&v);
}

static void test_response_must_answer_the_requested_certificate(void **state)
{
    (void)state;
    qpki_ocsp_response *r = load("ocsp/resp-good.der");
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    qpki_certid *want = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA256, ca, leaf1, &want), QPKI_OK);
    /* same certificate under another CertID hash: accepted */
    assert_int_equal(qpki_ocsp_verifier_expect_certid(v, want), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    qpki_certid_free(&want);
    /* another serial: mismatch */
    assert_int_equal(qpki_ocsp_verifier_expect_serial(v, (const uint8_t *)"\x99\x99", 2), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_CERTID_MISMATCH);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);
}

static void test_non_successful_status_is_reported(void **state)
{
    (void)state;
    static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(try_later, sizeof(try_later), &r), QPKI_OK);
    assert_int_equal(qpki_ocsp_response_status(r), QPKI_OCSP_RESP_TRY_LATER);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_RESPONSE_STATUS);
    assert_string_equal(qpki_ocsp_verifier_detail(v), "responseStatus is tryLater");
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);
}

static void test_verifier_without_ca_refuses(void **state)
{
    (void)state;
    qpki_ocsp_response *r = load("ocsp/resp-good.der");
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_INVALID_ARG);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);
}

/* ---- post-quantum protection (Catalyst and pure ML-DSA) --------------------------- */

/* A certificate for key (and alt_key when not NULL), issued by issuer (NULL:
 * self-signed CA) with issuer_signer, plus issuer_alt when not NULL (Catalyst). */
static qpki_cert *make_cert(const char *cn, bool is_ca, qpki_signer *key, qpki_signer *alt_key,
                            const qpki_cert *issuer, qpki_signer *issuer_signer,
                            qpki_signer *issuer_alt)
{
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    uint8_t *name;
    size_t name_len;
    assert_int_equal(qpki_name_from_text(cn, &name, &name_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject(b, name, name_len), QPKI_OK);
    if (issuer)
        assert_int_equal(qpki_cert_builder_set_issuer_cert(b, issuer), QPKI_OK);
    else
        assert_int_equal(qpki_cert_builder_set_issuer(b, name, name_len), QPKI_OK);
    qpki_free(name);
    assert_int_equal(qpki_cert_builder_set_random_serial(b), QPKI_OK);
    qpki_time now = (qpki_time)time(NULL);
    assert_int_equal(qpki_cert_builder_set_validity(b, now - 3600, now + 86400), QPKI_OK);
    const uint8_t *spki;
    size_t spki_len;
    assert_int_equal(qpki_signer_public_key(key, &spki, &spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    if (alt_key) {
        assert_int_equal(qpki_signer_public_key(alt_key, &spki, &spki_len), QPKI_OK);
        assert_int_equal(qpki_cert_builder_set_alt_spki(b, spki, spki_len), QPKI_OK);
    }
    if (is_ca)
        assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, -1, true), QPKI_OK);
    else
        assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_OCSP_SIGNING), QPKI_OK);
    uint8_t *der;
    size_t len;
    qpki_signer *by = issuer ? issuer_signer : key;
    qpki_signer *by_alt = issuer ? issuer_alt : alt_key;
    if (by_alt)
        assert_int_equal(qpki_cert_builder_sign_hybrid(b, by, by_alt, &der, &len), QPKI_OK);
    else
        assert_int_equal(qpki_cert_builder_sign(b, by, &der, &len), QPKI_OK);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
    qpki_free(der);
    qpki_cert_builder_free(&b);
    return c;
}

/* A good response for serial 01 of ca, signed by signer (+ alt), carrying cert. */
static qpki_ocsp_response *make_response(const qpki_cert *ca_cert, qpki_signer *signer,
                                         qpki_signer *alt, const qpki_cert *cert)
{
    qpki_ocsp_response_builder *b = NULL;
    assert_int_equal(qpki_ocsp_response_builder_new(&b), QPKI_OK);
    static const uint8_t serial[] = {0x01};
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA256, ca_cert, serial, 1, &id), QPKI_OK);
    qpki_time now = (qpki_time)time(NULL);
    assert_int_equal(qpki_ocsp_response_builder_add_single(b, id, QPKI_CERT_STATUS_GOOD, 0,
                                                           QPKI_REASON_NONE, now - 60, now + 3600),
                     QPKI_OK);
    if (cert)
        assert_int_equal(qpki_ocsp_response_builder_add_cert(b, cert), QPKI_OK);
    if (alt)
        assert_int_equal(qpki_ocsp_response_builder_set_alt_signer(b, alt), QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_ocsp_response_builder_sign(b, signer, &der, &len), QPKI_OK);
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    qpki_free(der);
    qpki_certid_free(&id);
    qpki_ocsp_response_builder_free(&b);
    return r;
}

/* pq_result for one response against trust, and the verdicts with the whole path
 * required (set_require_pq(true) = QPKI_PQ_REQUIRE_PATH) and with the response
 * alone (QPKI_PQ_REQUIRE_RESPONSE). */
static void expect_pq2(const qpki_ocsp_response *r, const qpki_cert *trust, qpki_pq_result want,
                       qpki_status with_path, qpki_status with_response)
{
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, trust), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_pq_result(v), want);
    assert_int_equal(qpki_ocsp_verifier_set_require_pq(v, true), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), with_path);
    assert_int_equal(qpki_ocsp_verifier_set_pq_requirement(v, QPKI_PQ_REQUIRE_PATH), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), with_path);
    assert_int_equal(qpki_ocsp_verifier_set_pq_requirement(v, QPKI_PQ_REQUIRE_RESPONSE),
                     QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), with_response);
    assert_int_equal(qpki_ocsp_verifier_set_pq_requirement(v, (qpki_pq_requirement)3),
                     QPKI_ERR_INVALID_ARG);
    qpki_ocsp_verifier_free(&v);
}

static void expect_pq(const qpki_ocsp_response *r, const qpki_cert *trust, qpki_pq_result want,
                      qpki_status with_require)
{
    expect_pq2(r, trust, want, with_require, with_require);
}

/* "Post-quantum" means the whole path: the response's ML-DSA signature (Catalyst
 * or pure) and, for a delegated responder, the CA's post-quantum signature on the
 * responder certificate. */
static void test_pq_result_covers_the_responder_certificate(void **state)
{
    (void)state;
    qpki_signer *ca_ec = tu_generated_signer(QPKI_KEY_EC_P256), *ca_pq = tu_generated_signer(QPKI_KEY_ML_DSA_44);
    qpki_signer *r_ec = tu_generated_signer(QPKI_KEY_EC_P256), *r_pq = tu_generated_signer(QPKI_KEY_ML_DSA_44);
    qpki_cert *cat_ca = make_cert("CN=Catalyst CA", true, ca_ec, ca_pq, NULL, NULL, NULL);
    qpki_cert *ec_ca = make_cert("CN=Classical CA", true, ca_ec, NULL, NULL, NULL, NULL);
    qpki_cert *ml_ca = make_cert("CN=ML-DSA CA", true, ca_pq, NULL, NULL, NULL, NULL);

    /* Catalyst CA -> Catalyst responder -> Catalyst response: OK */
    qpki_cert *cat_r = make_cert("CN=R", false, r_ec, r_pq, cat_ca, ca_ec, ca_pq);
    qpki_ocsp_response *resp = make_response(cat_ca, r_ec, r_pq, cat_r);
    expect_pq(resp, cat_ca, QPKI_PQ_OK, QPKI_OK);
    qpki_ocsp_response_free(&resp);
    /* ... a classical response from the same responder: absent */
    resp = make_response(cat_ca, r_ec, NULL, cat_r);
    expect_pq(resp, cat_ca, QPKI_PQ_ABSENT, QPKI_ERR_PQ_SIGNATURE);
    qpki_ocsp_response_free(&resp);
    /* CA-signed Catalyst response: the CA is the trust anchor */
    resp = make_response(cat_ca, ca_ec, ca_pq, NULL);
    expect_pq(resp, cat_ca, QPKI_PQ_OK, QPKI_OK);
    qpki_ocsp_response_free(&resp);

    /* classical CA -> Catalyst responder (ECDSA binding only): the response's PQ
     * signature is there and valid, but the CA's link to the responder is
     * classical: the whole-path requirement fails naming that link, the
     * response-only one passes */
    qpki_cert *mixed = make_cert("CN=R", false, r_ec, r_pq, ec_ca, ca_ec, NULL);
    resp = make_response(ec_ca, r_ec, r_pq, mixed);
    expect_pq2(resp, ec_ca, QPKI_PQ_UNCHAINED, QPKI_ERR_PQ_SIGNATURE, QPKI_OK);
    qpki_ocsp_verifier *path = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&path), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(path, ec_ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_require_pq(path, true), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(path, resp), QPKI_ERR_PQ_SIGNATURE);
    assert_string_equal(qpki_ocsp_verifier_detail(path),
                        "the link CA -> responder certificate CN=R is classical only "
                        "(ecdsa-with-SHA256, no post-quantum signature by the CA): the path "
                        "from the trust anchor is not post-quantum");
    qpki_ocsp_verifier_free(&path);
    qpki_ocsp_response_free(&resp);

    /* pure ML-DSA: ML-DSA CA -> ML-DSA responder -> ML-DSA response */
    qpki_cert *ml_r = make_cert("CN=R", false, r_pq, NULL, ml_ca, ca_pq, NULL);
    resp = make_response(ml_ca, r_pq, NULL, ml_r);
    expect_pq(resp, ml_ca, QPKI_PQ_PURE, QPKI_OK);
    qpki_ocsp_response_free(&resp);
    /* ML-DSA response from a responder the Catalyst CA bound with both keys */
    qpki_cert *pq_under_cat = make_cert("CN=R", false, r_pq, NULL, cat_ca, ca_ec, ca_pq);
    resp = make_response(cat_ca, r_pq, NULL, pq_under_cat);
    expect_pq(resp, cat_ca, QPKI_PQ_PURE, QPKI_OK);
    qpki_ocsp_response_free(&resp);

    /* a responder certificate whose alternative signature is wrong: always an
     * error.  Same name and classical key as the Catalyst CA, another ML-DSA
     * key: its altSignatureValue does not verify with the real CA's key. */
    qpki_signer *fake_pq = tu_generated_signer(QPKI_KEY_ML_DSA_44);
    qpki_cert *fake_ca = make_cert("CN=Catalyst CA", true, ca_ec, fake_pq, NULL, NULL, NULL);
    qpki_cert *forged = make_cert("CN=R", false, r_ec, r_pq, fake_ca, ca_ec, fake_pq);
    assert_int_equal(qpki_cert_verify_signature(forged, cat_ca), QPKI_OK);
    assert_int_equal(qpki_cert_verify_alt_signature(forged, cat_ca), QPKI_ERR_BAD_SIGNATURE);
    resp = make_response(cat_ca, r_ec, r_pq, forged);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, cat_ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_ERR_PQ_SIGNATURE);
    assert_non_null(strstr(qpki_ocsp_verifier_detail(v), "responder certificate"));
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);

    qpki_cert_free(&forged);
    qpki_cert_free(&fake_ca);
    qpki_signer_free(&fake_pq);
    qpki_cert_free(&pq_under_cat);
    qpki_cert_free(&ml_r);
    qpki_cert_free(&mixed);
    qpki_cert_free(&cat_r);
    qpki_cert_free(&ml_ca);
    qpki_cert_free(&ec_ca);
    qpki_cert_free(&cat_ca);
    qpki_signer_free(&r_pq);
    qpki_signer_free(&r_ec);
    qpki_signer_free(&ca_pq);
    qpki_signer_free(&ca_ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delegated_response_by_name_verifies),
        cmocka_unit_test(test_delegated_response_by_key_verifies),
        cmocka_unit_test(test_ca_signed_response_verifies),
        cmocka_unit_test(test_responder_without_ocsp_signing_eku_is_untrusted),
        cmocka_unit_test(test_response_checked_against_another_ca_is_untrusted),
        cmocka_unit_test(test_every_flipped_signature_bit_is_caught),
        cmocka_unit_test(test_times_are_checked_with_skew),
        cmocka_unit_test(test_nonce_must_be_echoed_exactly),
        cmocka_unit_test(test_response_must_answer_the_requested_certificate),
        cmocka_unit_test(test_non_successful_status_is_reported),
        cmocka_unit_test(test_verifier_without_ca_refuses),
        cmocka_unit_test(test_pq_result_covers_the_responder_certificate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
