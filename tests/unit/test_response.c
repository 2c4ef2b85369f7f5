/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_response.c - building, encoding and parsing OCSP responses.
 * Our responses are checked by `openssl ocsp` (an independent implementation);
 * responses made by `openssl ocsp` are parsed field by field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/key.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"

static qpki_cert *ca, *responder, *leaf1;
static qpki_signer *rsigner, *casigner;

static int setup(void **state)
{
    (void)state;
    if (qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca) != QPKI_OK ||
        qpki_cert_load_file(tu_data_path("ocsp/responder.crt"), &responder) != QPKI_OK ||
        qpki_cert_load_file(tu_data_path("ocsp/leaf1.crt"), &leaf1) != QPKI_OK ||
        qpki_signer_software_load(tu_data_path("ocsp/responder.key"), NULL, &rsigner) != QPKI_OK ||
        qpki_signer_software_load(tu_data_path("ocsp/ca.key"), NULL, &casigner) != QPKI_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    qpki_cert_free(&responder);
    qpki_cert_free(&leaf1);
    qpki_signer_free(&rsigner);
    qpki_signer_free(&casigner);
    return 0;
}

/* Write der to a temp file and run `openssl ocsp -respin` on it. */
static char *openssl_check(const uint8_t *der, size_t len, const char *extra, int *status)
{
    char path[] = "/tmp/qpki-resp-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, der, len), (ssize_t)len);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -respin %s -CAfile %s -issuer %s -no_nonce %s -resp_text 2>&1", path,
             tu_data_path("ocsp/ca.crt"), tu_data_path("ocsp/ca.crt"), extra);
    char *out = tu_run(cmd, status);
    unlink(path);
    return out;
}

static void test_openssl_response_fields_are_parsed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/resp-revoked.der"), &len);
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    assert_int_equal(qpki_ocsp_response_status(r), QPKI_OCSP_RESP_SUCCESSFUL);
    assert_true(qpki_ocsp_response_is_basic(r));
    bool by_key = true;
    const uint8_t *id;
    size_t id_len;
    assert_int_equal(qpki_ocsp_response_responder_id(r, &by_key, &id, &id_len), QPKI_OK);
    assert_false(by_key); /* openssl's default is byName */
    const uint8_t *subj;
    size_t subj_len;
    qpki_cert_subject_der(responder, &subj, &subj_len);
    assert_int_equal(id_len, subj_len);
    assert_memory_equal(id, subj, subj_len);
    assert_int_equal(qpki_ocsp_response_single_count(r), 1);
    const qpki_ocsp_single *s = qpki_ocsp_response_single(r, 0);
    assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_REVOKED);
    assert_int_equal(qpki_ocsp_single_revocation_time(s), 1705312800); /* 2024-01-15T10:00:00Z */
    assert_int_equal(qpki_ocsp_single_reason(s), QPKI_REASON_KEY_COMPROMISE);
    assert_true(qpki_ocsp_single_next_update(s) > qpki_ocsp_single_this_update(s));
    char serial[16];
    assert_int_equal(qpki_certid_serial_hex(qpki_ocsp_single_certid(s), serial, sizeof(serial)),
                     QPKI_OK);
    assert_string_equal(serial, "1002");
    assert_int_equal(qpki_ocsp_response_sig_alg(r), QPKI_SIG_ECDSA_SHA256);
    assert_int_equal(qpki_ocsp_response_cert_count(r), 1);
    const uint8_t *c1, *c2;
    size_t l1, l2;
    qpki_cert_der(qpki_ocsp_response_cert(r, 0), &c1, &l1);
    qpki_cert_der(responder, &c2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(c1, c2, l1);
    qpki_ocsp_response_free(&r);
    free(der);

    der = tu_read_file(tu_data_path("ocsp/resp-two.der"), &len);
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    assert_int_equal(qpki_ocsp_response_single_count(r), 2);
    assert_int_equal(qpki_ocsp_single_status(qpki_ocsp_response_single(r, 0)), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(qpki_ocsp_single_status(qpki_ocsp_response_single(r, 1)),
                     QPKI_CERT_STATUS_REVOKED);
    const uint8_t *nonce;
    size_t nonce_len;
    assert_int_equal(qpki_ocsp_response_nonce(r, &nonce, &nonce_len), QPKI_OK);
    assert_int_equal(nonce_len, 16);
    qpki_ocsp_response_free(&r);
    free(der);
}

/* Build, sign with the delegated responder key, and let openssl judge it. */
static uint8_t *build(qpki_cert_status st, qpki_crl_reason reason, bool nonce, bool ca_signed,
                      bool by_name, size_t *len)
{
    qpki_ocsp_response_builder *b = NULL;
    assert_int_equal(qpki_ocsp_response_builder_new(&b), QPKI_OK);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA1, ca, leaf1, &id), QPKI_OK);
    qpki_time now = (qpki_time)time(NULL);
    assert_int_equal(qpki_ocsp_response_builder_set_produced_at(b, now), QPKI_OK);
    if (by_name) {
        const uint8_t *n;
        size_t nl;
        qpki_cert_subject_der(ca_signed ? ca : responder, &n, &nl);
        assert_int_equal(qpki_ocsp_response_builder_set_responder_by_name(b, n, nl), QPKI_OK);
    }
    assert_int_equal(qpki_ocsp_response_builder_add_single(b, id, st, 1705312800, reason,
                                                           now - 60, now + 3600),
                     QPKI_OK);
    if (nonce)
        assert_int_equal(qpki_ocsp_response_builder_set_nonce(b, (const uint8_t *)"0123456789abcdef",
                                                              16),
                         QPKI_OK);
    if (!ca_signed)
        assert_int_equal(qpki_ocsp_response_builder_add_cert(b, responder), QPKI_OK);
    uint8_t *der = NULL;
    assert_int_equal(qpki_ocsp_response_builder_sign(b, ca_signed ? casigner : rsigner, &der, len),
                     QPKI_OK);
    qpki_ocsp_response_builder_free(&b);
    qpki_certid_free(&id);
    return der;
}

static void test_good_response_is_accepted_by_openssl(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = build(QPKI_CERT_STATUS_GOOD, QPKI_REASON_NONE, false, false, false, &len);
    int st;
    char *out = openssl_check(der, len, "-serial 0x1001", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "Response verify OK"));
    assert_non_null(strstr(out, "0x1001: good"));
    free(out);
    qpki_free(der);
}

static void test_every_revocation_reason_is_accepted_by_openssl(void **state)
{
    (void)state;
    static const struct { qpki_crl_reason r; const char *text; } reasons[] = {
        {QPKI_REASON_UNSPECIFIED, "Reason: unspecified"},
        {QPKI_REASON_KEY_COMPROMISE, "Reason: keyCompromise"},
        {QPKI_REASON_CA_COMPROMISE, "Reason: cACompromise"},
        {QPKI_REASON_AFFILIATION_CHANGED, "Reason: affiliationChanged"},
        {QPKI_REASON_SUPERSEDED, "Reason: superseded"},
        {QPKI_REASON_CESSATION_OF_OPERATION, "Reason: cessationOfOperation"},
        {QPKI_REASON_CERTIFICATE_HOLD, "Reason: certificateHold"},
        {QPKI_REASON_REMOVE_FROM_CRL, "Reason: removeFromCRL"},
        /* OpenSSL 3.0 has no names for 9 and 10 and prints "(UNKNOWN) (0x9)" */
        {QPKI_REASON_PRIVILEGE_WITHDRAWN, "Reason: (UNKNOWN) (0x9)"},
        {QPKI_REASON_AA_COMPROMISE, "Reason: (UNKNOWN) (0xa)"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        size_t len;
        uint8_t *der = build(QPKI_CERT_STATUS_REVOKED, reasons[i].r, true, false, true, &len);
        int st;
        char *out = openssl_check(der, len, "-serial 0x1001", &st);
        if (st != 0)
            fail_msg("openssl: %s", out);
        assert_non_null(strstr(out, "Response verify OK"));
        assert_non_null(strstr(out, "0x1001: revoked"));
        if (!strstr(out, reasons[i].text))
            fail_msg("want '%s' in: %s", reasons[i].text, out);
        assert_non_null(strstr(out, "Revocation Time: Jan 15 10:00:00 2024 GMT"));
        free(out);
        /* and we read back exactly what we wrote */
        qpki_ocsp_response *r = NULL;
        assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
        const qpki_ocsp_single *s = qpki_ocsp_response_single(r, 0);
        assert_int_equal(qpki_ocsp_single_reason(s), reasons[i].r);
        assert_int_equal(qpki_ocsp_single_revocation_time(s), 1705312800);
        qpki_ocsp_response_free(&r);
        qpki_free(der);
    }
}

static void test_revoked_without_reason_and_unknown(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = build(QPKI_CERT_STATUS_REVOKED, QPKI_REASON_NONE, false, true, false, &len);
    int st;
    char *out = openssl_check(der, len, "-serial 0x1001", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "Response verify OK"));
    assert_non_null(strstr(out, "0x1001: revoked"));
    assert_null(strstr(out, "Reason:"));
    free(out);
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    assert_int_equal(qpki_ocsp_single_reason(qpki_ocsp_response_single(r, 0)), QPKI_REASON_NONE);
    assert_int_equal(qpki_ocsp_response_cert_count(r), 0); /* CA-signed: no certs */
    qpki_ocsp_response_free(&r);
    qpki_free(der);

    der = build(QPKI_CERT_STATUS_UNKNOWN, QPKI_REASON_NONE, false, false, false, &len);
    out = openssl_check(der, len, "-serial 0x1001", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "0x1001: unknown"));
    free(out);
    qpki_free(der);
}

static void test_signed_response_encoding_is_exact(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = build(QPKI_CERT_STATUS_GOOD, QPKI_REASON_NONE, true, false, false, &len);
    /* OCSPResponse: SEQUENCE, responseStatus successful, [0] { SEQ { id-pkix-ocsp-basic } } */
    assert_int_equal(der[0], 0x30);
    size_t off = der[1] & 0x80 ? 2u + (der[1] & 0x7fu) : 2u;
    assert_memory_equal(der + off, "\x0a\x01\x00\xa0", 4);
    static const uint8_t basic_oid[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05,
                                        0x05, 0x07, 0x30, 0x01, 0x01};
    assert_non_null(memmem(der, len, basic_oid, sizeof(basic_oid)));
    /* the nonce extension: OID, then OCTET STRING { OCTET STRING(16) } */
    static const uint8_t nonce_ext[] = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30,
                                        0x01, 0x02, 0x04, 0x12, 0x04, 0x10, '0', '1'};
    assert_non_null(memmem(der, len, nonce_ext, sizeof(nonce_ext)));
    /* ecdsa-with-SHA256 AlgorithmIdentifier without parameters */
    static const uint8_t ecdsa_alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                        0xce, 0x3d, 0x04, 0x03, 0x02, 0x03};
    assert_non_null(memmem(der, len, ecdsa_alg, sizeof(ecdsa_alg)));
    /* good is [0] IMPLICIT NULL, times are GeneralizedTime with seconds and Z */
    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    const qpki_ocsp_single *s = qpki_ocsp_response_single(r, 0);
    assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(qpki_ocsp_single_next_update(s) - qpki_ocsp_single_this_update(s), 3660);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_nonce(v, (const uint8_t *)"0123456789abcdef", 16),
                     QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);
    qpki_free(der);
}

static void test_error_responses_are_five_bytes(void **state)
{
    (void)state;
    const uint8_t *der;
    size_t len;
    qpki_ocsp_resp_status all[] = {QPKI_OCSP_RESP_MALFORMED, QPKI_OCSP_RESP_INTERNAL_ERROR,
                                   QPKI_OCSP_RESP_TRY_LATER, QPKI_OCSP_RESP_SIG_REQUIRED,
                                   QPKI_OCSP_RESP_UNAUTHORIZED};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(qpki_ocsp_response_error_der(all[i], &der, &len), QPKI_OK);
        assert_int_equal(len, 5);
        uint8_t want[5] = {0x30, 0x03, 0x0a, 0x01, (uint8_t)all[i]};
        assert_memory_equal(der, want, 5);
        qpki_ocsp_response *r = NULL;
        assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
        assert_int_equal(qpki_ocsp_response_status(r), all[i]);
        assert_false(qpki_ocsp_response_is_basic(r));
        qpki_ocsp_response_free(&r);
    }
    assert_int_equal(qpki_ocsp_response_error_der(QPKI_OCSP_RESP_SUCCESSFUL, &der, &len),
                     QPKI_ERR_INVALID_ARG);
}

static void test_builder_rejects_nonsense(void **state)
{
    (void)state;
    qpki_ocsp_response_builder *b = NULL;
    assert_int_equal(qpki_ocsp_response_builder_new(&b), QPKI_OK);
    uint8_t *der = NULL;
    size_t len;
    /* no SingleResponse */
    assert_int_equal(qpki_ocsp_response_builder_sign(b, rsigner, &der, &len), QPKI_ERR_INVALID_ARG);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA1, ca, leaf1, &id), QPKI_OK);
    /* nextUpdate before thisUpdate */
    assert_int_equal(qpki_ocsp_response_builder_add_single(b, id, QPKI_CERT_STATUS_GOOD, 0,
                                                           QPKI_REASON_NONE, 100, 50),
                     QPKI_ERR_INVALID_ARG);
    /* reason 7 is unassigned */
    assert_int_equal(qpki_ocsp_response_builder_add_single(b, id, QPKI_CERT_STATUS_REVOKED, 0,
                                                           (qpki_crl_reason)7, 100, 200),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_ocsp_response_builder_set_nonce(b, (const uint8_t *)"", 0),
                     QPKI_ERR_NONCE_LENGTH);
    qpki_certid_free(&id);
    qpki_ocsp_response_builder_free(&b);
    assert_null(b);
}

static void test_malformed_responses_fail_cleanly(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/resp-two.der"), &len);
    qpki_ocsp_response *r = NULL;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(qpki_ocsp_response_parse(der, cut, &r), QPKI_OK);
        assert_null(r);
    }
    uint8_t *more = malloc(len + 1);
    memcpy(more, der, len);
    more[len] = 0;
    assert_int_equal(qpki_ocsp_response_parse(more, len + 1, &r), QPKI_ERR_TRAILING_DATA);
    free(more);
    free(der);
    /* successful status without responseBytes */
    static const uint8_t empty_ok[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(qpki_ocsp_response_parse(empty_ok, sizeof(empty_ok), &r), QPKI_ERR_DECODE);
    /* status 4 is unassigned */
    static const uint8_t four[] = {0x30, 0x03, 0x0a, 0x01, 0x04};
    assert_int_equal(qpki_ocsp_response_parse(four, sizeof(four), &r), QPKI_ERR_DECODE);
}

/* Catalyst hybrid response: ECDSA responder certificate carrying an ML-DSA-65
 * altSubjectPublicKeyInfo; openssl checks the classical part, our verifier both. */
static void test_catalyst_response_carries_a_valid_pq_signature(void **state)
{
    (void)state;
    qpki_key *pq = NULL, *other = NULL;
    assert_int_equal(qpki_key_generate(QPKI_KEY_ML_DSA_65, 0, &pq), QPKI_OK);
    assert_int_equal(qpki_key_generate(QPKI_KEY_ML_DSA_65, 0, &other), QPKI_OK);
    qpki_signer *pq_signer = NULL;
    assert_int_equal(qpki_signer_software_from_key(pq, QPKI_SIG_ML_DSA_65, &pq_signer), QPKI_OK);
    const uint8_t *pq_spki, *other_spki;
    size_t pq_spki_len, other_spki_len;
    assert_int_equal(qpki_key_public_key(pq, &pq_spki, &pq_spki_len), QPKI_OK);
    assert_int_equal(qpki_key_public_key(other, &other_spki, &other_spki_len), QPKI_OK);

    /* a delegated responder certificate with altSubjectPublicKeyInfo */
    qpki_time now = (qpki_time)time(NULL);
    qpki_cert *hybrid = tu_responder_cert(ca, casigner, rsigner, pq_spki, pq_spki_len);
    assert_non_null(hybrid);

    qpki_ocsp_response_builder *b = NULL;
    assert_int_equal(qpki_ocsp_response_builder_new(&b), QPKI_OK);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA256, ca, leaf1, &id), QPKI_OK);
    assert_int_equal(qpki_ocsp_response_builder_add_single(b, id, QPKI_CERT_STATUS_GOOD, 0,
                                                           QPKI_REASON_NONE, now - 60, now + 3600),
                     QPKI_OK);
    assert_int_equal(qpki_ocsp_response_builder_set_nonce(b, (const uint8_t *)"catalyst-nonce!!", 16),
                     QPKI_OK);
    assert_int_equal(qpki_ocsp_response_builder_add_cert(b, hybrid), QPKI_OK);
    assert_int_equal(qpki_ocsp_response_builder_set_alt_signer(b, pq_signer), QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_ocsp_response_builder_sign(b, rsigner, &der, &len), QPKI_OK);
    assert_true(len > 3309); /* carries an ML-DSA-65 signature */

    /* every existing client verifies the classical part */
    int st;
    char *out = openssl_check(der, len, "-sha256 -serial 0x1001", &st);
    if (st != 0 || !strstr(out, "Response verify OK") || !strstr(out, "0x1001: good"))
        fail_msg("openssl: %s", out);
    free(out);

    qpki_ocsp_response *r = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &r), QPKI_OK);
    const uint8_t *alg, *sig;
    size_t alg_len, sig_len;
    assert_int_equal(qpki_ocsp_response_alt_signature(r, &alg, &alg_len, &sig, &sig_len), QPKI_OK);
    assert_int_equal(sig_len, 3309);
    /* id-ml-dsa-65 without parameters */
    assert_int_equal(alg_len, 13);
    assert_memory_equal(alg, "\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x12", 13);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_pq_requirement(v, QPKI_PQ_REQUIRE_RESPONSE), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    /* verified; this classical test CA bound the responder certificate with ECDSA
     * only, which the verifier reports */
    assert_int_equal(qpki_ocsp_verifier_pq_result(v), QPKI_PQ_UNCHAINED);
    /* the wrong ML-DSA key: the PQ signature does not verify */
    assert_int_equal(qpki_ocsp_verifier_set_alt_public_key(v, other_spki, other_spki_len), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_PQ_SIGNATURE);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);

    /* a classical-only response fails when PQ is required */
    size_t plain_len;
    uint8_t *plain = build(QPKI_CERT_STATUS_GOOD, QPKI_REASON_NONE, false, false, false, &plain_len);
    assert_int_equal(qpki_ocsp_response_parse(plain, plain_len, &r), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_pq_result(v), QPKI_PQ_ABSENT);
    assert_int_equal(qpki_ocsp_verifier_set_require_pq(v, true), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, r), QPKI_ERR_PQ_SIGNATURE);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&r);
    qpki_free(plain);

    qpki_free(der);
    qpki_certid_free(&id);
    qpki_ocsp_response_builder_free(&b);
    qpki_cert_free(&hybrid);
    qpki_signer_free(&pq_signer);
    qpki_key_free(&pq);
    qpki_key_free(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_response_fields_are_parsed),
        cmocka_unit_test(test_good_response_is_accepted_by_openssl),
        cmocka_unit_test(test_every_revocation_reason_is_accepted_by_openssl),
        cmocka_unit_test(test_revoked_without_reason_and_unknown),
        cmocka_unit_test(test_signed_response_encoding_is_exact),
        cmocka_unit_test(test_error_responses_are_five_bytes),
        cmocka_unit_test(test_builder_rejects_nonsense),
        cmocka_unit_test(test_malformed_responses_fail_cleanly),
        cmocka_unit_test(test_catalyst_response_carries_a_valid_pq_signature),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
