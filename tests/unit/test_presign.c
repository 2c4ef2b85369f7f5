/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_presign.c - pre-signed responses (qpki_responder_presign_step):
 * every row signed ahead of time and then answered from the cache, a changed
 * row re-signed with its new status (and nothing else), refresh before half of
 * the validity on a fake clock, the cache bound, back-off while live signing
 * runs.  Every answer is checked with the verifier (the server test checks them
 * with openssl). */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"
#include "internal.h"

#define ROWS 300u
#define FIRST 0x1000u

static qpki_cert *ca, *responder_cert;
static qpki_signer *rsigner;
static qpki_time fixed_now;

static int setup(void **state)
{
    (void)state;
    fixed_now = (qpki_time)time(NULL);
    return tu_load_ocsp_fixture(&ca, &responder_cert, &rsigner);
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    qpki_cert_free(&responder_cert);
    qpki_signer_free(&rsigner);
    return 0;
}

static void serial_of(unsigned s, uint8_t out[2])
{
    out[0] = (uint8_t)(s >> 8);
    out[1] = (uint8_t)s;
}

/* A memory table with ROWS valid rows FIRST.. */
static qpki_db *table_of_rows(void)
{
    qpki_db *m = NULL;
    assert_int_equal(qpki_db_memory_new("presign", &m), QPKI_OK);
    for (unsigned s = FIRST; s < FIRST + ROWS; s++) {
        uint8_t serial[2];
        serial_of(s, serial);
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        e.row_status = 'V';
        e.expiry = fixed_now + 365 * 86400;
        assert_int_equal(qpki_db_memory_put(m, serial, 2, &e), QPKI_OK);
    }
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
    return m;
}

static qpki_responder *presigning(qpki_db *m, size_t cache_size, unsigned hashes)
{
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_set_clock(r, tu_clock, &fixed_now), QPKI_OK);
    assert_int_equal(qpki_responder_set_cache(r, true, cache_size), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, m, rsigner, responder_cert, NULL), QPKI_OK);
    assert_int_equal(qpki_responder_set_presign(r, hashes), QPKI_OK);
    return r;
}

static void presign_stats(qpki_responder *r, qpki_presign_stats *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->struct_size = sizeof(*ps);
    assert_int_equal(qpki_responder_get_presign_stats(r, ps), QPKI_OK);
}

static void stats_of(qpki_responder *r, qpki_responder_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->struct_size = sizeof(*st);
    assert_int_equal(qpki_responder_get_stats(r, st), QPKI_OK);
}

/* Step until a pass has completed after the passes already done and the
 * queue is empty; returns the signatures made. */
static unsigned run_pass(qpki_responder *r)
{
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    uint64_t want = ps.passes + 1;
    unsigned total = 0;
    for (unsigned i = 0; i < 100000; i++) {
        unsigned n = 0;
        assert_int_equal(qpki_responder_presign_step(r, 16, &n), QPKI_OK);
        total += n;
        presign_stats(r, &ps);
        if (ps.passes >= want && ps.queued == 0 && n == 0)
            return total;
    }
    fail_msg("the pass never completed: passes %llu queued %llu total %u",
             (unsigned long long)ps.passes, (unsigned long long)ps.queued, total);
    return total;
}

/* Ask for serial s (CertID hashed with alg), verify the answer; returns its
 * certStatus, *hit whether it came from the cache, *produced its producedAt. */
static qpki_cert_status ask(qpki_responder *r, unsigned s, qpki_hash_alg alg, bool *hit,
                            qpki_time *produced, qpki_crl_reason *reason)
{
    uint8_t serial[2];
    serial_of(s, serial);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(alg, ca, serial, 2, &id), QPKI_OK);
    const qpki_certid *ids[] = {id};
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_ocsp_request_encode(ids, 1, NULL, 0, &der, &len), QPKI_OK);
    qpki_answer *a = NULL;
    assert_int_equal(qpki_responder_respond(r, der, len, &a), QPKI_OK);
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
    const uint8_t *body;
    size_t body_len;
    qpki_answer_bytes(a, &body, &body_len);
    qpki_ocsp_response *resp = NULL;
    assert_int_equal(qpki_ocsp_response_parse(body, body_len, &resp), QPKI_OK);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_time(v, fixed_now), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_OK);
    const qpki_ocsp_single *single = qpki_ocsp_response_single(resp, 0);
    /* the response names exactly the CertID asked about */
    assert_true(qpki_certid_equal(qpki_ocsp_single_certid(single), id));
    qpki_cert_status st = qpki_ocsp_single_status(single);
    assert_int_equal(qpki_answer_cert_status(a), st);
    if (reason)
        *reason = qpki_ocsp_single_reason(single);
    *hit = qpki_answer_cache_hit(a);
    if (produced)
        *produced = qpki_ocsp_response_produced_at(resp);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(der);
    qpki_certid_free(&id);
    return st;
}

static void test_every_row_is_presigned_and_answered_from_the_cache(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 100000, 1u << QPKI_HASH_SHA1);
    assert_int_equal(run_pass(r), ROWS);
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    assert_int_equal(ps.enabled, 1);
    assert_int_equal(ps.signed_total, ROWS);
    assert_int_equal(ps.changed, 0);
    assert_int_equal(ps.refreshed, 0);
    assert_int_equal(ps.last_pass_rows, ROWS);
    assert_int_equal(ps.rows, ROWS);
    assert_int_equal(ps.failures, 0);
    assert_int_equal(ps.skipped_full, 0);
    assert_true(ps.slab_bytes > 0);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_entries, ROWS);
    assert_int_equal(st.live_signatures, 0);
    /* nobody asked before: every row is answered from signed bytes */
    for (unsigned s = FIRST; s < FIRST + ROWS; s++) {
        bool hit = false;
        qpki_time produced = 0;
        assert_int_equal(ask(r, s, QPKI_HASH_SHA1, &hit, &produced, NULL), QPKI_CERT_STATUS_GOOD);
        assert_true(hit);
        assert_int_equal(produced, fixed_now);
    }
    stats_of(r, &st);
    assert_int_equal(st.cache_hits, ROWS);
    assert_int_equal(st.live_signatures, 0);
    /* a CertID form not pre-signed is signed live and cached */
    bool hit = true;
    assert_int_equal(ask(r, FIRST, QPKI_HASH_SHA256, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    /* a second pass right after finds nothing due */
    fixed_now += 61; /* past the pause between passes */
    assert_int_equal(run_pass(r), 0);
    presign_stats(r, &ps);
    assert_int_equal(ps.signed_total, ROWS);
    assert_true(ps.passes >= 2);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

/* A status database of one's own that keeps its rows in a memory table (as
 * the PostgreSQL plugin does) and declares V4 (lists its rows) or V3 (cannot). */
static qpki_status own_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    return qpki_db_lookup(self, serial, len, out);
}
static uint64_t own_generation(void *self) { return qpki_db_generation(self); }
static size_t own_count(void *self) { return qpki_db_count(self); }
static void own_close(void *self) { (void)self; }
static qpki_status own_changes(void *self, uint64_t since, uint64_t *upto, qpki_db_change_fn fn,
                               void *user)
{
    return qpki_db_changes_since(self, since, upto, fn, user);
}
static qpki_status own_list(void *self, qpki_db_cursor *cursor, size_t max, qpki_db_change_fn fn,
                            void *user, int *done)
{
    return qpki_db_list_serials(self, cursor, max, fn, user, done);
}

static const qpki_status_db_ops own_v4 = {
    .abi_version = QPKI_DB_ABI_V4,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = own_lookup,
    .generation = own_generation,
    .count = own_count,
    .close = own_close,
    .changes_since = own_changes,
    .list_serials = own_list,
};
static const qpki_status_db_ops own_v3 = {
    .abi_version = QPKI_DB_ABI_V3,
    .struct_size = offsetof(qpki_status_db_ops, list_serials),
    .lookup = own_lookup,
    .generation = own_generation,
    .count = own_count,
    .close = own_close,
    .changes_since = own_changes,
};

typedef struct log_lines {
    int warnings;
    char last[512];
} log_lines;

static void log_into(void *user, int level, const char *message)
{
    log_lines *l = user;
    if (level == QPKI_LOG_WARNING && strstr(message, "pre-signing")) {
        l->warnings++;
        snprintf(l->last, sizeof(l->last), "%s", message);
    }
}

static void test_a_backend_of_ones_own_is_presigned_when_it_lists_its_rows(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows(), *db = NULL;
    assert_int_equal(qpki_db_new(&own_v4, m, &db), QPKI_OK);
    qpki_responder *r = presigning(db, 100000, 1u << QPKI_HASH_SHA1);
    log_lines logged = {0, ""};
    assert_int_equal(qpki_responder_set_log(r, log_into, &logged), QPKI_OK);
    assert_int_equal(run_pass(r), ROWS);
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    assert_int_equal(ps.signed_total, ROWS);
    assert_int_equal(ps.last_pass_rows, ROWS);
    assert_int_equal(logged.warnings, 0);
    for (unsigned s = FIRST; s < FIRST + ROWS; s += 7) {
        bool hit = false;
        assert_int_equal(ask(r, s, QPKI_HASH_SHA1, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
        assert_true(hit);
    }
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.live_signatures, 0);
    qpki_responder_free(&r);
    qpki_db_free(&db);
    qpki_db_free(&m);
}

static void test_a_backend_that_cannot_list_its_rows_gets_changed_rows_and_one_warning(
    void **state)
{
    (void)state;
    qpki_db *m = table_of_rows(), *db = NULL;
    assert_int_equal(qpki_db_new(&own_v3, m, &db), QPKI_OK);
    qpki_responder *r = presigning(db, 100000, 1u << QPKI_HASH_SHA1);
    log_lines logged = {0, ""};
    assert_int_equal(qpki_responder_set_log(r, log_into, &logged), QPKI_OK);
    assert_int_equal(run_pass(r), 0);
    assert_int_equal(logged.warnings, 1);
    assert_non_null(strstr(logged.last, "cannot list its rows"));
    fixed_now += 61; /* another pass: no second warning */
    assert_int_equal(run_pass(r), 0);
    assert_int_equal(logged.warnings, 1);
    /* a row that changes is still re-signed ahead of requests */
    uint8_t serial[2];
    serial_of(FIRST + 9, serial);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'R';
    e.expiry = fixed_now + 365 * 86400;
    e.revocation_time = fixed_now - 5;
    e.reason = QPKI_REASON_SUPERSEDED;
    assert_int_equal(qpki_db_memory_put(m, serial, 2, &e), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
    unsigned n = 0;
    assert_int_equal(qpki_responder_presign_step(r, 16, &n), QPKI_OK);
    assert_int_equal(n, 1);
    bool hit = false;
    qpki_crl_reason reason = QPKI_REASON_NONE;
    assert_int_equal(ask(r, FIRST + 9, QPKI_HASH_SHA1, &hit, NULL, &reason),
                     QPKI_CERT_STATUS_REVOKED);
    assert_true(hit);
    assert_int_equal(reason, QPKI_REASON_SUPERSEDED);
    /* the others are signed when first asked for */
    assert_int_equal(ask(r, FIRST + 10, QPKI_HASH_SHA1, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    qpki_responder_free(&r);
    qpki_db_free(&db);
    qpki_db_free(&m);
}

static void test_two_hash_forms_are_both_presigned(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 100000, 1u << QPKI_HASH_SHA1 | 1u << QPKI_HASH_SHA256);
    assert_int_equal(run_pass(r), 2 * ROWS);
    bool hit = false;
    assert_int_equal(ask(r, FIRST + 7, QPKI_HASH_SHA1, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    assert_int_equal(ask(r, FIRST + 7, QPKI_HASH_SHA256, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    assert_int_equal(ask(r, FIRST + 7, QPKI_HASH_SHA384, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    assert_int_equal(qpki_responder_set_presign(r, 1u << 9), QPKI_ERR_INVALID_ARG);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

static void test_a_changed_row_is_resigned_with_its_new_status_and_nothing_else(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 100000, 1u << QPKI_HASH_SHA1);
    assert_int_equal(run_pass(r), ROWS);
    /* revoke one row and remove another */
    uint8_t serial[2];
    serial_of(FIRST + 42, serial);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'R';
    e.expiry = fixed_now + 365 * 86400;
    e.revocation_time = fixed_now - 5;
    e.reason = QPKI_REASON_KEY_COMPROMISE;
    assert_int_equal(qpki_db_memory_put(m, serial, 2, &e), QPKI_OK);
    serial_of(FIRST + 43, serial);
    assert_int_equal(qpki_db_memory_remove(m, serial, 2), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
    fixed_now += 1;
    unsigned n = 0;
    assert_int_equal(qpki_responder_presign_step(r, 16, &n), QPKI_OK);
    assert_int_equal(n, 1); /* the revoked row; the removed one is not signed */
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    assert_int_equal(ps.changed, 1);
    assert_int_equal(ps.signed_total, ROWS + 1);
    assert_int_equal(ps.queued, 0);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_invalidated, 2);
    assert_int_equal(st.cache_flushes, 0);
    assert_int_equal(st.cache_entries, ROWS - 1);
    bool hit = false;
    qpki_time produced = 0;
    qpki_crl_reason reason = QPKI_REASON_NONE;
    assert_int_equal(ask(r, FIRST + 42, QPKI_HASH_SHA1, &hit, &produced, &reason),
                     QPKI_CERT_STATUS_REVOKED);
    assert_true(hit);
    assert_int_equal(produced, fixed_now);
    assert_int_equal(reason, QPKI_REASON_KEY_COMPROMISE);
    /* the removed row is unknown, answered live */
    assert_int_equal(ask(r, FIRST + 43, QPKI_HASH_SHA1, &hit, NULL, NULL),
                     QPKI_CERT_STATUS_UNKNOWN);
    assert_false(hit);
    /* the others keep their first signature */
    assert_int_equal(ask(r, FIRST + 41, QPKI_HASH_SHA1, &hit, &produced, NULL),
                     QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    assert_int_equal(produced, fixed_now - 1);
    stats_of(r, &st);
    assert_int_equal(st.live_signatures, 1);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

static void test_responses_are_refreshed_before_half_of_their_validity(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 100000, 1u << QPKI_HASH_SHA1);
    qpki_responder_issuer *iss = qpki_responder_issuer_at(r, 0);
    assert_int_equal(qpki_responder_issuer_set_validity(iss, 3200), QPKI_OK);
    qpki_time start = fixed_now;
    assert_int_equal(run_pass(r), ROWS);
    /* before 3/8 of the validity (1200 s) nothing is due */
    fixed_now = start + 1199;
    assert_int_equal(run_pass(r), 0);
    /* from 3/8 on every response is due; the next pass starts validity / 16
     * (200 s) after the last one ended and replaces them all, before half
     * (1600 s) has passed */
    fixed_now = start + 1200;
    unsigned n = 9;
    assert_int_equal(qpki_responder_presign_step(r, 16, &n), QPKI_OK);
    assert_int_equal(n, 0); /* the pause between passes */
    fixed_now = start + 1199 + 200;
    assert_int_equal(run_pass(r), ROWS);
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    assert_int_equal(ps.refreshed, ROWS);
    assert_int_equal(ps.signed_total, 2 * ROWS);
    fixed_now = start + 1599;
    for (unsigned s = FIRST; s < FIRST + ROWS; s += 37) {
        bool hit = false;
        qpki_time produced = 0;
        assert_int_equal(ask(r, s, QPKI_HASH_SHA1, &hit, &produced, NULL), QPKI_CERT_STATUS_GOOD);
        assert_true(hit);
        assert_int_equal(produced, start + 1399);
    }
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_entries, ROWS);
    assert_int_equal(st.live_signatures, 0);
    /* a setting that changes every response re-signs them all at once */
    assert_int_equal(qpki_responder_issuer_set_backdate(iss, 30), QPKI_OK);
    assert_int_equal(run_pass(r), ROWS);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

static void test_the_cache_size_stays_the_bound(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 128, 1u << QPKI_HASH_SHA1);
    unsigned n = run_pass(r);
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    qpki_responder_stats st;
    stats_of(r, &st);
    /* pre-signing fills what the capacity allows and evicts nothing */
    assert_true(n > 0 && n <= 128);
    assert_int_equal(ps.signed_total, n);
    assert_int_equal(ps.skipped_full, ROWS - n);
    assert_int_equal(st.cache_entries, n);
    /* a second pass does not churn: the same rows stay, none is re-signed */
    fixed_now += 61;
    assert_int_equal(run_pass(r), 0);
    presign_stats(r, &ps);
    assert_int_equal(ps.signed_total, n);
    stats_of(r, &st);
    assert_int_equal(st.cache_entries, n);
    /* rows beyond are answered live and cached */
    unsigned hits = 0, misses = 0;
    for (unsigned s = FIRST; s < FIRST + ROWS; s++) {
        bool hit = false;
        assert_int_equal(ask(r, s, QPKI_HASH_SHA1, &hit, NULL, NULL), QPKI_CERT_STATUS_GOOD);
        hit ? hits++ : misses++;
    }
    assert_true(hits > 0 && misses >= ROWS - 128);
    stats_of(r, &st);
    /* live answers fill each of the 64 shards up to 128 / 64 + 1 (cache.c) */
    assert_true(st.cache_entries <= 64 * (128 / 64 + 1));
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

static void test_presigning_off_or_without_cache_is_unsupported(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, m, rsigner, responder_cert, NULL), QPKI_OK);
    unsigned n = 7;
    assert_int_equal(qpki_responder_presign_step(r, 4, &n), QPKI_ERR_UNSUPPORTED);
    assert_int_equal(n, 0);
    assert_int_equal(qpki_responder_set_cache(r, false, 10), QPKI_OK);
    assert_int_equal(qpki_responder_set_presign(r, 1u << QPKI_HASH_SHA1), QPKI_OK);
    assert_int_equal(qpki_responder_presign_step(r, 4, &n), QPKI_ERR_UNSUPPORTED);
    assert_int_equal(qpki_responder_presign_step(r, 0, &n), QPKI_ERR_INVALID_ARG);
    qpki_presign_stats ps;
    presign_stats(r, &ps);
    assert_int_equal(ps.enabled, 1);
    assert_int_equal(ps.signed_total, 0);
    /* a caller's older, shorter struct gets only its part */
    uint8_t small[sizeof(qpki_presign_stats)];
    memset(small, 0xAB, sizeof(small));
    qpki_presign_stats *v = (qpki_presign_stats *)small;
    v->struct_size = (uint32_t)offsetof(qpki_presign_stats, changed);
    assert_int_equal(qpki_responder_get_presign_stats(r, v), QPKI_OK);
    assert_int_equal(v->enabled, 1);
    assert_int_equal(small[offsetof(qpki_presign_stats, changed)], 0xAB);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

/* A signer that blocks until released: a live signature in flight. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;
static bool gate_armed;

static qpki_status gated_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                              size_t *sig_len)
{
    pthread_mutex_lock(&gate_lock);
    if (gate_armed) {
        gate_entered++;
        pthread_cond_broadcast(&gate_cond);
        while (!gate_open)
            pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    return qpki_signer_sign((qpki_signer *)self, tbs, tbs_len, sig, sig_len);
}
static qpki_status gated_alg(void *self, const uint8_t **d, size_t *l)
{
    return qpki_signer_algorithm((qpki_signer *)self, d, l);
}
static qpki_status gated_pub(void *self, const uint8_t **d, size_t *l)
{
    return qpki_signer_public_key((qpki_signer *)self, d, l);
}
static size_t gated_max(void *self) { return qpki_signer_max_signature_size((qpki_signer *)self); }
static void gated_close(void *self) { (void)self; }

struct asker {
    qpki_responder *r;
    uint8_t *der;
    size_t len;
};

static void *ask_thread(void *p)
{
    struct asker *a = p;
    qpki_answer *ans = NULL;
    if (qpki_responder_respond(a->r, a->der, a->len, &ans) == QPKI_OK)
        qpki_answer_free(&ans);
    return NULL;
}

static void test_presigning_backs_off_while_live_signing_runs(void **state)
{
    (void)state;
    static const qpki_signer_ops ops = {
        .abi_version = QPKI_SIGNER_ABI_V1, .struct_size = sizeof(qpki_signer_ops),
        .algorithm = gated_alg, .public_key = gated_pub, .max_signature_size = gated_max,
        .sign = gated_sign, .close = gated_close};
    qpki_signer *gated = NULL;
    assert_int_equal(qpki_signer_new(&ops, rsigner, &gated), QPKI_OK);
    qpki_db *m = table_of_rows();
    qpki_responder *r = tu_responder(ca, m, gated, responder_cert, &fixed_now);
    assert_int_equal(qpki_responder_set_presign(r, 1u << QPKI_HASH_SHA1), QPKI_OK);
    /* a nonce request (live) holds a signature in flight */
    uint8_t serial[2];
    serial_of(FIRST, serial);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, serial, 2, &id), QPKI_OK);
    const qpki_certid *ids[] = {id};
    static const uint8_t nonce[16] = {1, 2, 3};
    struct asker a = {r, NULL, 0};
    assert_int_equal(qpki_ocsp_request_encode(ids, 1, nonce, sizeof(nonce), &a.der, &a.len),
                     QPKI_OK);
    gate_armed = true;
    gate_open = 0;
    gate_entered = 0;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ask_thread, &a), 0);
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    unsigned n = 9;
    assert_int_equal(qpki_responder_presign_step(r, 16, &n), QPKI_ERR_BUSY);
    assert_int_equal(n, 0);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    gate_armed = false;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    pthread_join(t, NULL);
    assert_int_equal(run_pass(r), ROWS);
    qpki_free(a.der);
    qpki_certid_free(&id);
    qpki_responder_free(&r);
    qpki_db_free(&m);
    qpki_signer_free(&gated);
}

struct stepper {
    qpki_responder *r;
    unsigned signed_n;
};

static void *step_thread(void *p)
{
    struct stepper *s = p;
    for (unsigned i = 0; i < 2000; i++) {
        unsigned n = 0;
        qpki_status rc = qpki_responder_presign_step(s->r, 8, &n);
        if (rc != QPKI_OK && rc != QPKI_ERR_BUSY)
            break;
        s->signed_n += n;
    }
    return NULL;
}

static void test_two_presigning_threads_share_the_pass(void **state)
{
    (void)state;
    qpki_db *m = table_of_rows();
    qpki_responder *r = presigning(m, 100000, 1u << QPKI_HASH_SHA1);
    struct stepper a = {r, 0}, b = {r, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, step_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, step_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    /* every row exactly once between them */
    assert_int_equal(a.signed_n + b.signed_n, ROWS);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_entries, ROWS);
    bool hit = false;
    assert_int_equal(ask(r, FIRST + ROWS - 1, QPKI_HASH_SHA1, &hit, NULL, NULL),
                     QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_is_presigned_and_answered_from_the_cache),
        cmocka_unit_test(test_two_hash_forms_are_both_presigned),
        cmocka_unit_test(test_a_backend_of_ones_own_is_presigned_when_it_lists_its_rows),
        cmocka_unit_test(test_a_backend_that_cannot_list_its_rows_gets_changed_rows_and_one_warning),
        cmocka_unit_test(test_a_changed_row_is_resigned_with_its_new_status_and_nothing_else),
        cmocka_unit_test(test_responses_are_refreshed_before_half_of_their_validity),
        cmocka_unit_test(test_the_cache_size_stays_the_bound),
        cmocka_unit_test(test_presigning_off_or_without_cache_is_unsupported),
        cmocka_unit_test(test_presigning_backs_off_while_live_signing_runs),
        cmocka_unit_test(test_two_presigning_threads_share_the_pass),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
