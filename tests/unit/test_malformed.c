/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_malformed.c - the malformed-request corpus in
 * tests/vectors/malformed/: each file is refused with the exact error listed in
 * expected.tsv, and the responder answers it with malformedRequest. Leaks and
 * out-of-bounds reads are caught by the ASan+UBSan run of this same test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/signer.h>

#include "testutil.h"

static const struct { const char *name; qpki_status st; } codes[] = {
#define C(x) {#x, x}
    C(QPKI_ERR_TRUNCATED), C(QPKI_ERR_TRAILING_DATA), C(QPKI_ERR_TOO_LARGE),
    C(QPKI_ERR_UNEXPECTED_TAG), C(QPKI_ERR_INDEFINITE), C(QPKI_ERR_NON_MINIMAL),
    C(QPKI_ERR_NONCE_LENGTH), C(QPKI_ERR_TOO_MANY_CERTIDS), C(QPKI_ERR_DECODE),
    C(QPKI_ERR_BAD_VERSION), C(QPKI_ERR_DEPTH),
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
    int cases = 0;
    for (char *line = strtok(tsv, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        qpki_status want = code_of(tab + 1);
        char rel[256];
        snprintf(rel, sizeof(rel), "malformed/%s", line);
        size_t len;
        uint8_t *der = tu_read_file(tu_vector_path(rel), &len);
        assert_non_null(der);
        qpki_ocsp_request *req = NULL;
        qpki_status got = qpki_ocsp_request_parse(der, len, NULL, &req);
        if (got != want)
            fail_msg("%s: expected %s, got %d (%s)", line, tab + 1, got, qpki_strerror(got));
        assert_null(req);
        qpki_answer *a = NULL;
        assert_int_equal(qpki_responder_respond(r, der, len, &a), QPKI_OK);
        assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_MALFORMED);
        assert_int_equal(qpki_answer_error(a), want);
        qpki_answer_free(&a);
        free(der);
        cases++;
    }
    printf("malformed corpus: %d of %d requests refused with the expected error\n", cases, cases);
    assert_true(cases >= 30);
    free(tsv);
    qpki_responder_free(&r);
    qpki_signer_free(&signer);
    qpki_db_free(&db);
    qpki_cert_free(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_malformed_request_gets_its_exact_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
