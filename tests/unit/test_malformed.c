/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_malformed.c - the malformed-request corpus in
 * tests/vectors/malformed/: each file is refused with the exact error listed in
 * expected.tsv and a message holding the listed substrings (field name, OID, byte
 * offset), and the responder answers it with malformedRequest and the same
 * message for its log.  tests/vectors/malformed-other/ does the same for OCSP
 * responses, certificates and CRLs.  Leaks and out-of-bounds reads are caught by
 * the ASan+UBSan run of this same test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/db.h>
#include <qpki/key.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"

static const struct { const char *name; qpki_status st; } codes[] = {
#define C(x) {#x, x}
    C(QPKI_ERR_TRUNCATED), C(QPKI_ERR_TRAILING_DATA), C(QPKI_ERR_TOO_LARGE),
    C(QPKI_ERR_UNEXPECTED_TAG), C(QPKI_ERR_INDEFINITE), C(QPKI_ERR_NON_MINIMAL),
    C(QPKI_ERR_NONCE_LENGTH), C(QPKI_ERR_TOO_MANY_CERTIDS), C(QPKI_ERR_DECODE),
    C(QPKI_ERR_BAD_VERSION), C(QPKI_ERR_DEPTH), C(QPKI_ERR_BAD_TIME), C(QPKI_OK),
    C(QPKI_ERR_BAD_KEY),
#undef C
};

static qpki_status code_of(const char *name)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (!strcmp(codes[i].name, name))
            return codes[i].st;
    fail_msg("unknown code name %s in expected.tsv", name);
    return QPKI_OK;
}

/* Split a tab-separated line in place: up to max fields, returns how many. */
static size_t split_tabs(char *line, char **fields, size_t max)
{
    size_t n = 0;
    for (char *p = line; p && n < max; n++) {
        fields[n] = p;
        p = strchr(p, '\t');
        if (p)
            *p++ = '\0';
    }
    return n;
}

/* The rows of a tab-separated table read in place, comments and empty lines
 * skipped. */
typedef struct tsv_rows {
    char *text; /* until the first row is read */
    char *save;
} tsv_rows;

/* The next row split into up to max fields: how many, 0 after the last row. */
static size_t tsv_next(tsv_rows *t, char **fields, size_t max)
{
    for (;;) {
        char *line = strtok_r(t->text, "\n", &t->save);
        t->text = NULL;
        if (!line)
            return 0;
        if (line[0] != '#')
            return split_tabs(line, fields, max);
    }
}

/* The message holds every listed substring, is one bounded printable line. */
static void assert_message(const char *file, const char *msg, char **subs, size_t nsubs)
{
    size_t len = strlen(msg);
    if (len == 0 || len >= 255)
        fail_msg("%s: message of %zu characters: \"%s\"", file, len, msg);
    for (size_t i = 0; i < len; i++)
        if (msg[i] < 0x20 || msg[i] > 0x7e)
            fail_msg("%s: byte 0x%02x in the message", file, (unsigned char)msg[i]);
    for (size_t i = 0; i < nsubs; i++)
        if (!strstr(msg, subs[i]))
            fail_msg("%s: message \"%s\" lacks \"%s\"", file, msg, subs[i]);
}

static void test_every_malformed_request_gets_its_exact_error(void **state)
{
    (void)state;
    qpki_cert *ca = NULL;
    qpki_db *db = NULL;
    qpki_signer *signer = NULL;
    qpki_responder *r = NULL;
    assert_int_equal(qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca), QPKI_OK);
    assert_int_equal(qpki_db_open_index(tu_data_path("ocsp/index.txt"), &db), QPKI_OK);
    assert_int_equal(qpki_signer_software_load(tu_data_path("ocsp/ca.key"), NULL, &signer), QPKI_OK);
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, signer, NULL, NULL), QPKI_OK);

    size_t tsv_len;
    char *tsv = (char *)tu_read_file(tu_vector_path("malformed/expected.tsv"), &tsv_len);
    assert_non_null(tsv);
    int cases = 0, substrings = 0;
    tsv_rows rows = {tsv, NULL};
    char *f[8];
    size_t nf;
    while ((nf = tsv_next(&rows, f, 8)) > 0) {
        assert_true(nf >= 3); /* file, status, at least one substring */
        qpki_status want = code_of(f[1]);
        char rel[256];
        snprintf(rel, sizeof(rel), "malformed/%s", f[0]);
        size_t len;
        uint8_t *der = tu_read_file(tu_vector_path(rel), &len);
        assert_non_null(der);
        qpki_ocsp_request *req = NULL;
        char msg[256];
        qpki_status got = qpki_ocsp_request_parse_err(der, len, NULL, msg, sizeof(msg), &req);
        if (got != want)
            fail_msg("%s: expected %s, got %d (%s)", f[0], f[1], got, qpki_strerror(got));
        assert_null(req);
        assert_message(f[0], msg, f + 2, nf - 2);
        substrings += (int)(nf - 2);
        /* the one-argument form refuses it the same way */
        assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), want);
        qpki_answer *a = NULL;
        assert_int_equal(qpki_responder_respond(r, der, len, &a), QPKI_OK);
        assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_MALFORMED);
        assert_int_equal(qpki_answer_error(a), want);
        /* serve's log line: the same message, cut to the answer's bound */
        const char *logged = qpki_answer_error_detail(a);
        assert_true(strlen(logged) > 0 && strlen(logged) < 160);
        if (strncmp(msg, logged, strlen(logged)) != 0)
            fail_msg("%s: answer detail \"%s\" is not the message \"%s\"", f[0], logged, msg);
        qpki_answer_free(&a);
        free(der);
        cases++;
    }
    printf("malformed corpus: %d of %d requests refused with the expected error and a "
           "message with the %d expected substrings\n", cases, cases, substrings);
    assert_true(cases >= 30);
    free(tsv);
    qpki_responder_free(&r);
    qpki_signer_free(&signer);
    qpki_db_free(&db);
    qpki_cert_free(&ca);
}

/* tests/vectors/malformed-other/expected.tsv: kind, file, status, substrings. */
static void test_every_malformed_response_cert_crl_and_key_names_the_field(void **state)
{
    (void)state;
    qpki_cert *ca = NULL;
    assert_int_equal(qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca), QPKI_OK);
    size_t tsv_len;
    char *tsv = (char *)tu_read_file(tu_vector_path("malformed-other/expected.tsv"), &tsv_len);
    assert_non_null(tsv);
    int cases = 0, substrings = 0;
    tsv_rows rows = {tsv, NULL};
    char *f[8];
    size_t nf;
    while ((nf = tsv_next(&rows, f, 8)) > 0) {
        assert_true(nf >= 4); /* kind, file, status, at least one substring */
        qpki_status want = code_of(f[2]);
        char rel[256], path[1024];
        snprintf(rel, sizeof(rel), "malformed-other/%s", f[1]);
        snprintf(path, sizeof(path), "%s", tu_vector_path(rel));
        size_t len;
        uint8_t *der = tu_read_file(path, &len);
        assert_non_null(der);
        char msg[256] = "";
        qpki_status got;
        if (!strcmp(f[0], "response") || !strcmp(f[0], "response-type")) {
            qpki_ocsp_response *resp = NULL;
            got = qpki_ocsp_response_parse_err(der, len, msg, sizeof(msg), &resp);
            if (got == QPKI_OK) {
                /* an unknown responseType parses; verify names its OID */
                assert_false(qpki_ocsp_response_is_basic(resp));
                qpki_ocsp_verifier *v = NULL;
                assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
                assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
                assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_ERR_UNSUPPORTED);
                snprintf(msg, sizeof(msg), "%s", qpki_ocsp_verifier_detail(v));
                qpki_ocsp_verifier_free(&v);
            } else {
                assert_null(resp);
            }
            qpki_ocsp_response_free(&resp);
        } else if (!strcmp(f[0], "cert")) {
            qpki_cert *c = NULL;
            got = qpki_cert_parse_err(der, len, msg, sizeof(msg), &c);
            assert_null(c);
            /* the file form gives the same line */
            char msg2[256];
            assert_int_equal(qpki_cert_load_file_err(path, msg2, sizeof(msg2), &c), got);
            assert_string_equal(msg, msg2);
        } else if (!strcmp(f[0], "key")) {
            qpki_key *k = NULL;
            got = qpki_key_load_err(path, NULL, msg, sizeof(msg), &k);
            assert_null(k);
        } else if (!strcmp(f[0], "crl")) {
            qpki_crl *crl = NULL;
            got = qpki_crl_load_file_err(path, msg, sizeof(msg), &crl);
            assert_null(crl);
            /* the bytes form gives the same line */
            char msg2[256];
            assert_int_equal(qpki_crl_parse_err(der, len, msg2, sizeof(msg2), &crl), got);
            assert_string_equal(msg, msg2);
            assert_int_equal(qpki_crl_parse(der, len, &crl), got);
        } else if (!strcmp(f[0], "csr")) {
            qpki_csr *csr = NULL;
            got = qpki_csr_parse_err(der, len, msg, sizeof(msg), &csr);
            assert_null(csr);
            char msg2[256];
            assert_int_equal(qpki_csr_load_file_err(path, msg2, sizeof(msg2), &csr), got);
            assert_string_equal(msg, msg2);
            assert_int_equal(qpki_csr_parse(der, len, &csr), got);
            assert_int_equal(qpki_csr_parse_any(der, len, &csr), got);
        } else {
            fail_msg("unknown kind %s", f[0]);
            got = QPKI_OK;
        }
        if (got != want)
            fail_msg("%s: expected %s, got %d (%s): %s", f[1], f[2], got, qpki_strerror(got),
                     msg);
        assert_message(f[1], msg, f + 3, nf - 3);
        substrings += (int)(nf - 3);
        free(der);
        cases++;
    }
    printf("malformed responses, certificates, requests, CRLs, keys: %d files, %d substrings found\n", cases,
           substrings);
    assert_true(cases >= 21);
    free(tsv);
    qpki_cert_free(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_malformed_request_gets_its_exact_error),
        cmocka_unit_test(test_every_malformed_response_cert_crl_and_key_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
