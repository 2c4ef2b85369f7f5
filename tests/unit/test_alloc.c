/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_alloc.c - every allocation of the OCSP paths fails in turn:
 * each call then reports QPKI_ERR_NOMEM (or the responder answers internalError),
 * never crashes, never returns a half-built object, and leaks nothing (this test
 * also runs under ASan/LeakSanitizer in scripts/test.sh). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/crl.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"
#include "internal.h"

static qpki_cert *ca, *responder, *leaf;
static qpki_signer *signer;
static qpki_db *db;

static int setup(void **state)
{
    (void)state;
    if (qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca) ||
        qpki_cert_load_file(tu_data_path("ocsp/responder.crt"), &responder) ||
        qpki_cert_load_file(tu_data_path("ocsp/leaf1.crt"), &leaf) ||
        qpki_signer_software_load(tu_data_path("ocsp/responder.key"), NULL, &signer) ||
        qpki_db_open_index(tu_data_path("ocsp/index.txt"), &db))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qpki_test_fail_alloc_after(-1);
    qpki_cert_free(&ca);
    qpki_cert_free(&responder);
    qpki_cert_free(&leaf);
    qpki_signer_free(&signer);
    qpki_db_free(&db);
    return 0;
}

/* Run op with the n-th allocation failing, n = 0, 1, ... until it succeeds.
 * The loop is bounded; an operation that allocates nothing succeeds at n = 0. */
#define SWEEP(op_expr, on_success)                                                   \
    do {                                                                             \
        long n_;                                                                     \
        for (n_ = 0; n_ < 10000; n_++) {                                             \
            qpki_test_fail_alloc_after(n_);                                          \
            qpki_status rc_ = (op_expr);                                             \
            qpki_test_fail_alloc_after(-1);                                          \
            if (rc_ == QPKI_OK) {                                                    \
                on_success;                                                          \
                break;                                                               \
            }                                                                        \
            assert_int_equal(rc_, QPKI_ERR_NOMEM);                                   \
        }                                                                            \
        assert_true(n_ < 10000);                                                     \
    } while (0)

static void test_request_parse_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/req-two.der"), &len);
    assert_non_null(der);
    qpki_ocsp_request *req = NULL;
    SWEEP(qpki_ocsp_request_parse(der, len, NULL, &req), {
        assert_int_equal(qpki_ocsp_request_count(req), 2);
        qpki_ocsp_request_free(&req);
    });
    assert_null(req);
    free(der);
}

static void test_response_parse_and_verify_fail_cleanly(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/resp-two.der"), &len);
    assert_non_null(der);
    qpki_ocsp_response *resp = NULL;
    SWEEP(qpki_ocsp_response_parse(der, len, &resp), {});
    assert_int_equal(qpki_ocsp_response_single_count(resp), 2);
    qpki_ocsp_verifier *v = NULL;
    SWEEP(qpki_ocsp_verifier_new(&v), {});
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    qpki_certid *id = NULL;
    SWEEP(qpki_certid_for_cert(QPKI_HASH_SHA256, ca, leaf, &id), {});
    SWEEP(qpki_ocsp_verifier_expect_certid(v, id), {});
    SWEEP(qpki_ocsp_verifier_verify(v, resp), {});
    qpki_certid_free(&id);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    free(der);
}

static qpki_status build_and_sign(uint8_t **out, size_t *len)
{
    qpki_ocsp_response_builder *b = NULL;
    qpki_certid *id = NULL;
    qpki_time now = (qpki_time)time(NULL);
    qpki_status rc = qpki_ocsp_response_builder_new(&b);
    if (rc == QPKI_OK)
        rc = qpki_certid_for_cert(QPKI_HASH_SHA1, ca, leaf, &id);
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_add_single(b, id, QPKI_CERT_STATUS_REVOKED, now - 100,
                                                   QPKI_REASON_SUPERSEDED, now - 60, now + 3600);
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_set_nonce(b, (const uint8_t *)"0123456789abcdef", 16);
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_add_cert(b, responder);
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_sign(b, signer, out, len);
    qpki_certid_free(&id);
    qpki_ocsp_response_builder_free(&b);
    return rc;
}

static void test_response_builder_fails_cleanly(void **state)
{
    (void)state;
    uint8_t *der = NULL;
    size_t len = 0;
    SWEEP(build_and_sign(&der, &len), {});
    qpki_ocsp_response *resp = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &resp), QPKI_OK);
    assert_int_equal(qpki_ocsp_single_reason(qpki_ocsp_response_single(resp, 0)),
                     QPKI_REASON_SUPERSEDED);
    qpki_ocsp_response_free(&resp);
    qpki_free(der);
}

/* The responder never answers with anything but a verified success or an
 * unsigned internalError while allocations fail. */
static void test_responder_under_allocation_failure_answers_internal_error(void **state)
{
    (void)state;
    qpki_responder *r = NULL;
    SWEEP(qpki_responder_new(&r), {});
    SWEEP(qpki_responder_add_issuer(r, ca, db, signer, responder, NULL), {});
    size_t len;
    uint8_t *req = tu_read_file(tu_data_path("ocsp/req-sha1-nonce.der"), &len);
    assert_non_null(req);
    /* one normal answer first, so the cache exists and the sweep reaches the
     * request, status and signing paths */
    qpki_answer *warm = NULL;
    assert_int_equal(qpki_responder_respond(r, req, len, &warm), QPKI_OK);
    assert_int_equal(qpki_answer_resp_status(warm), QPKI_OCSP_RESP_SUCCESSFUL);
    qpki_answer_free(&warm);
    int successes = 0, internal_errors = 0;
    for (long n = 0; n < 200; n++) {
        qpki_answer *a = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_responder_respond(r, req, len, &a);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_ERR_NOMEM) {
            assert_null(a);
            continue;
        }
        assert_int_equal(rc, QPKI_OK);
        qpki_ocsp_resp_status st = qpki_answer_resp_status(a);
        if (st == QPKI_OCSP_RESP_INTERNAL_ERROR) {
            internal_errors++;
        } else {
            assert_int_equal(st, QPKI_OCSP_RESP_SUCCESSFUL);
            const uint8_t *der;
            size_t dl;
            qpki_answer_bytes(a, &der, &dl);
            qpki_ocsp_response *resp = NULL;
            qpki_ocsp_verifier *v = NULL;
            assert_int_equal(qpki_ocsp_response_parse(der, dl, &resp), QPKI_OK);
            assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
            assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
            assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_OK);
            qpki_ocsp_verifier_free(&v);
            qpki_ocsp_response_free(&resp);
            successes++;
        }
        qpki_answer_free(&a);
    }
    assert_true(internal_errors > 0);
    assert_true(successes > 0);
    free(req);
    qpki_responder_free(&r);
}

/* The CRL reader (PEM and DER) and the builder, signing included. */
static void test_crl_parse_and_build_fail_cleanly(void **state)
{
    (void)state;
    size_t len;
    uint8_t *pem = tu_read_file(tu_data_path("crl/ec-p256-delta.crl.pem"), &len);
    assert_non_null(pem);
    qpki_crl *crl = NULL;
    SWEEP(qpki_crl_parse_any(pem, len, &crl), {
        assert_int_equal(qpki_crl_entry_count(crl), 12);
    });
    free(pem);
    qpki_cert *crl_ca = NULL;
    qpki_signer *crl_signer = NULL;
    assert_int_equal(qpki_cert_load_file(tu_data_path("certs/ec-p256-ca.pem"), &crl_ca), QPKI_OK);
    assert_int_equal(qpki_signer_software_load(tu_data_path("certs/ec-p256-ca.key"), NULL,
                                               &crl_signer),
                     QPKI_OK);
    assert_int_equal(qpki_crl_verify_signature(crl, crl_ca), QPKI_OK);
    static const uint8_t num[] = {0x07};
    qpki_crl_builder *b = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    SWEEP(qpki_crl_builder_new(&b), {});
    SWEEP(qpki_crl_builder_set_issuer_cert(b, crl_ca), {});
    assert_int_equal(qpki_crl_builder_set_times(b, 1775001600, 1775606400), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_number(b, num, 1), QPKI_OK);
    size_t cursor = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    while (qpki_crl_next_entry(crl, &cursor, &e) == QPKI_OK)
        SWEEP(qpki_crl_builder_add_entry(b, e.serial, e.serial_len, e.revocation_date, e.reason,
                                         e.hold_instruction, e.invalidity_date),
              {});
    assert_int_equal(qpki_crl_builder_entry_count(b), 12);
    SWEEP(qpki_crl_builder_sign(b, crl_signer, &der, &der_len), {});
    qpki_crl *again = NULL;
    assert_int_equal(qpki_crl_parse(der, der_len, &again), QPKI_OK);
    assert_int_equal(qpki_crl_verify_signature(again, crl_ca), QPKI_OK);
    assert_int_equal(qpki_crl_entry_count(again), 12);
    qpki_crl_free(&again);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_signer_free(&crl_signer);
    qpki_cert_free(&crl_ca);
    qpki_crl_free(&crl);
}

/* The per-request arena (lib/alloc.c): the first block first, then heap blocks
 * that the allocation-failure hook reaches; the last allocation grows in
 * place, an earlier one moves with its bytes; release frees the heap blocks
 * (LeakSanitizer checks it under scripts/test.sh). */
static void test_arena_uses_first_block_then_heap_blocks(void **state)
{
    (void)state;
    max_align_t first[64 / sizeof(max_align_t)];
    arena a;
    arena_init(&a, first, sizeof(first));
    uint8_t *p = arena_alloc(&a, 10), *q = arena_alloc(&a, 10);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_equal(p, (uint8_t *)first);
    assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
    assert_true(q >= p + 10 && q + 10 <= (uint8_t *)first + sizeof(first));
    memset(p, 0xa5, 10);
    memset(q, 0x5a, 10);
    /* past the first block: a heap block, and the first block's bytes stay */
    uint8_t *big = arena_alloc(&a, 5000);
    assert_non_null(big);
    assert_true(big < (uint8_t *)first || big >= (uint8_t *)first + sizeof(first));
    memset(big, 1, 5000);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(p[i], 0xa5);
        assert_int_equal(q[i], 0x5a);
    }
    /* the most recent allocation grows in place; an older one is copied */
    uint8_t *t = arena_alloc(&a, 16);
    memcpy(t, "0123456789abcdef", 16);
    uint8_t *t2 = arena_realloc(&a, t, 16, 64);
    assert_ptr_equal(t2, t);
    uint8_t *q2 = arena_realloc(&a, q, 10, 40);
    assert_ptr_not_equal(q2, q);
    for (int i = 0; i < 10; i++)
        assert_int_equal(q2[i], 0x5a);
    assert_memory_equal(t2, "0123456789abcdef", 16);
    uint8_t *z = arena_calloc(&a, 8, 8);
    assert_non_null(z);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    arena_release(&a);
}

static void test_arena_heap_block_failure_is_null(void **state)
{
    (void)state;
    max_align_t first[64 / sizeof(max_align_t)];
    arena a;
    arena_init(&a, first, sizeof(first));
    qpki_test_fail_alloc_after(0);
    assert_non_null(arena_alloc(&a, 16));   /* fits the first block: no heap */
    assert_null(arena_alloc(&a, 4096));     /* needs a heap block */
    assert_null(arena_calloc(&a, SIZE_MAX / 4, 4));
    qpki_test_fail_alloc_after(-1);
    assert_non_null(arena_alloc(&a, 4096));
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_parse_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_response_parse_and_verify_fail_cleanly),
        cmocka_unit_test(test_response_builder_fails_cleanly),
        cmocka_unit_test(test_crl_parse_and_build_fail_cleanly),
        cmocka_unit_test(test_responder_under_allocation_failure_answers_internal_error),
        cmocka_unit_test(test_arena_uses_first_block_then_heap_blocks),
        cmocka_unit_test(test_arena_heap_block_failure_is_null),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
