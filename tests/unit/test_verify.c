/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_verify.c - RFC 6960 §3.2 checks on responses made by OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/response.h>
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
