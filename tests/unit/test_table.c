/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_table.c - the writable in-memory status table
 * (qpki_db_memory_*, lib/db/table.c): row semantics, commits and generations,
 * full replaces, changes_since with a trimmed history, V1/V2 backends, memory
 * reuse, and lookups racing a writer. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <qpki/db.h>
#include <qpki/limits.h>

#include "db/db_internal.h"
#include "db/table.h"
#include "internal.h"

/* ---- helpers ---------------------------------------------------------- */

static qpki_db_entry valid_row(qpki_time expiry)
{
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'V';
    e.expiry = expiry;
    return e;
}

static qpki_db_entry revoked_row(qpki_time expiry, qpki_time at, qpki_crl_reason reason)
{
    qpki_db_entry e = valid_row(expiry);
    e.row_status = 'R';
    e.revocation_time = at;
    e.reason = reason;
    return e;
}

static void put(qpki_db *db, uint32_t serial, const qpki_db_entry *e)
{
    uint8_t s[4] = {(uint8_t)(serial >> 24), (uint8_t)(serial >> 16), (uint8_t)(serial >> 8),
                    (uint8_t)serial};
    assert_int_equal(qpki_db_memory_put(db, s, sizeof(s), e), QPKI_OK);
}

static qpki_status get(qpki_db *db, uint32_t serial, qpki_db_entry *e)
{
    uint8_t s[4] = {(uint8_t)(serial >> 24), (uint8_t)(serial >> 16), (uint8_t)(serial >> 8),
                    (uint8_t)serial};
    qpki_db_entry_init(e);
    return qpki_db_lookup(db, s, sizeof(s), e);
}

static void expect_same(const qpki_db_entry *a, const qpki_db_entry *b)
{
    assert_int_equal(a->row_status, b->row_status);
    assert_int_equal(a->expiry, b->expiry);
    assert_int_equal(a->revocation_time, b->revocation_time);
    assert_int_equal(a->reason, b->reason);
    assert_int_equal(a->hold_instruction, b->hold_instruction);
    assert_int_equal(a->invalidity_date, b->invalidity_date);
}

/* changes_since collected as serial values (4-octet big-endian or shorter). */
typedef struct seen {
    uint32_t serial[256];
    size_t n;
} seen;

static void collect(void *user, const uint8_t *serial, size_t len)
{
    seen *s = user;
    uint32_t v = 0;
    assert_true(len <= 4);
    assert_true(len == 0 || serial[0] != 0); /* normalised */
    for (size_t i = 0; i < len; i++)
        v = v << 8 | serial[i];
    assert_true(s->n < 256);
    s->serial[s->n++] = v;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct serials changes_since reports, sorted, as "1,5,9". */
static qpki_status changes(qpki_db *db, uint64_t since, uint64_t *upto, char *out, size_t size)
{
    seen s = {0};
    qpki_status rc = qpki_db_changes_since(db, since, upto, collect, &s);
    qsort(s.serial, s.n, sizeof(s.serial[0]), cmp_u32);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s.n; i++) {
        if (i > 0 && s.serial[i] == s.serial[i - 1])
            continue;
        used += (size_t)snprintf(out + used, size - used, "%s%u", used ? "," : "", s.serial[i]);
    }
    return rc;
}

/* ---- rows, commits, generations ---------------------------------------- */

static void test_put_replace_remove_and_generations(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("mem", &db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 0);
    assert_int_equal(qpki_db_count(db), 0);
    qpki_db_entry e;
    assert_int_equal(get(db, 1, &e), QPKI_ERR_NOT_FOUND);

    qpki_db_entry v1 = valid_row(1798761600);
    put(db, 1, &v1);
    put(db, 2, &v1);
    /* Visible at once, row by row; the generation moves at commit. */
    assert_int_equal(get(db, 1, &e), QPKI_OK);
    expect_same(&e, &v1);
    assert_int_equal(qpki_db_count(db), 2);
    assert_int_equal(qpki_db_generation(db), 0);
    uint64_t g = 99;
    assert_int_equal(qpki_db_memory_commit(db, &g), QPKI_OK);
    assert_int_equal(g, 1);
    assert_int_equal(qpki_db_generation(db), 1);

    /* A put of the row already there, and a commit with nothing changed: the
     * generation stays. */
    put(db, 1, &v1);
    assert_int_equal(qpki_db_memory_commit(db, &g), QPKI_OK);
    assert_int_equal(g, 1);

    /* Revoke with every field; leading zero octets name the same serial. */
    qpki_db_entry r = revoked_row(1798761600, 1705312800, QPKI_REASON_KEY_COMPROMISE);
    r.invalidity_date = 1705000000;
    static const uint8_t padded[] = {0, 0, 0, 0, 0, 1};
    assert_int_equal(qpki_db_memory_put(db, padded, sizeof(padded), &r), QPKI_OK);
    assert_int_equal(get(db, 1, &e), QPKI_OK);
    expect_same(&e, &r);
    qpki_db_entry hold = revoked_row(1798761600, 1705312800, QPKI_REASON_CERTIFICATE_HOLD);
    hold.hold_instruction = QPKI_HOLD_INSTRUCTION_REJECT;
    put(db, 2, &hold);
    assert_int_equal(get(db, 2, &e), QPKI_OK);
    expect_same(&e, &hold);
    assert_int_equal(qpki_db_memory_commit(db, &g), QPKI_OK);
    assert_int_equal(g, 2);
    assert_int_equal(qpki_db_count(db), 2);

    /* Serial zero (no octets) is a row like any other. */
    qpki_db_entry ex = valid_row(1700000000);
    ex.row_status = 'E';
    assert_int_equal(qpki_db_memory_put(db, NULL, 0, &ex), QPKI_OK);
    static const uint8_t zero[] = {0};
    qpki_db_entry_init(&e);
    assert_int_equal(qpki_db_lookup(db, zero, 1, &e), QPKI_OK);
    expect_same(&e, &ex);

    assert_int_equal(qpki_db_memory_remove(db, padded, sizeof(padded)), QPKI_OK);
    assert_int_equal(get(db, 1, &e), QPKI_ERR_NOT_FOUND);
    static const uint8_t one[] = {1};
    assert_int_equal(qpki_db_memory_remove(db, one, 1), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_db_count(db), 2);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 3);
    qpki_db_free(&db);
}

static void test_rows_the_table_cannot_return_are_refused(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("mem", &db), QPKI_OK);
    uint8_t s[1] = {7};
    qpki_db_entry e = valid_row(1798761600);
    e.row_status = 'X';
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = valid_row(1798761600);
    e.revocation_time = 5; /* a valid row with a revocation time */
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = valid_row(1798761600);
    e.reason = QPKI_REASON_SUPERSEDED;
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = revoked_row(1798761600, 1, (qpki_crl_reason)7); /* RFC 5280: 7 is not used */
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = revoked_row(1798761600, 1, QPKI_REASON_KEY_COMPROMISE);
    e.hold_instruction = QPKI_HOLD_INSTRUCTION_REJECT; /* only with certificateHold */
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = valid_row(253402300800LL); /* year 10000 */
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    e = valid_row(1798761600);
    e.struct_size = 8;
    assert_int_equal(qpki_db_memory_put(db, s, 1, &e), QPKI_ERR_INVALID_ARG);
    uint8_t long_serial[QPKI_SERIAL_MAX + 1];
    memset(long_serial, 0x11, sizeof(long_serial));
    e = valid_row(1798761600);
    assert_int_equal(qpki_db_memory_put(db, long_serial, sizeof(long_serial), &e),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_memory_put(db, long_serial, QPKI_SERIAL_MAX, &e), QPKI_OK);
    assert_int_equal(qpki_db_count(db), 1);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 1);

    /* Not a memory table. */
    qpki_db *index = NULL;
    static const char text[] = "V\t270101000000Z\t\t01\tunknown\t/CN=one\n";
    assert_int_equal(qpki_index_open_memory("index.txt", (const uint8_t *)text, strlen(text), NULL,
                                            0, &index),
                     QPKI_OK);
    assert_int_equal(qpki_db_memory_put(index, s, 1, &e), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_memory_remove(index, s, 1), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_memory_replace_begin(index), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_memory_commit(index, NULL), QPKI_ERR_INVALID_ARG);
    qpki_db_memory_abort(index); /* no effect */
    assert_int_equal(qpki_db_count(index), 1);
    assert_int_equal(qpki_db_memory_put(NULL, s, 1, &e), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_memory_new("x", NULL), QPKI_ERR_INVALID_ARG);
    qpki_db_free(&index);
    qpki_db_free(&db);
}

/* ---- replace ----------------------------------------------------------- */

static void test_replace_is_invisible_until_commit_and_reports_only_real_changes(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("mem", &db), QPKI_OK);
    qpki_db_entry v = valid_row(1798761600);
    for (uint32_t i = 1; i <= 100; i++)
        put(db, i, &v);
    uint64_t g0;
    assert_int_equal(qpki_db_memory_commit(db, &g0), QPKI_OK);
    assert_int_equal(g0, 1);

    /* A new table: rows 1-100 again except 7 revoked, 50 gone, 101 new. */
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    qpki_db_entry r = revoked_row(1798761600, 1705312800, QPKI_REASON_SUPERSEDED);
    for (uint32_t i = 1; i <= 101; i++) {
        if (i == 50)
            continue;
        put(db, i, i == 7 ? &r : &v);
    }
    /* Lookups still see the old table. */
    qpki_db_entry e;
    assert_int_equal(get(db, 7, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    assert_int_equal(get(db, 50, &e), QPKI_OK);
    assert_int_equal(get(db, 101, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_db_count(db), 100);
    uint64_t g1;
    assert_int_equal(qpki_db_memory_commit(db, &g1), QPKI_OK);
    assert_int_equal(g1, 2);
    assert_int_equal(get(db, 7, &e), QPKI_OK);
    expect_same(&e, &r);
    assert_int_equal(get(db, 50, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(get(db, 101, &e), QPKI_OK);
    assert_int_equal(qpki_db_count(db), 100);
    char list[512];
    uint64_t upto = 0;
    assert_int_equal(changes(db, g0, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "7,50,101");
    assert_int_equal(upto, 2);

    /* The same rows again: no new generation. */
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    for (uint32_t i = 1; i <= 101; i++)
        if (i != 50)
            put(db, i, i == 7 ? &r : &v);
    assert_int_equal(qpki_db_memory_commit(db, &g1), QPKI_OK);
    assert_int_equal(g1, 2);

    /* Abort keeps the table; a second replace_begin starts over empty. */
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    put(db, 500, &v);
    qpki_db_memory_abort(db);
    assert_int_equal(get(db, 500, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    put(db, 600, &v);
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    put(db, 700, &v);
    assert_int_equal(qpki_db_memory_commit(db, &g1), QPKI_OK);
    assert_int_equal(g1, 3);
    assert_int_equal(qpki_db_count(db), 1);
    assert_int_equal(get(db, 600, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(get(db, 700, &e), QPKI_OK);
    /* 100 rows went and one came: the history holds all 101. */
    upto = 0;
    assert_int_equal(changes(db, 2, &upto, list, sizeof(list)), QPKI_OK);
    assert_int_equal(upto, 3);
    assert_non_null(strstr(list, "700"));
    qpki_db_free(&db);
}

/* ---- changes_since ----------------------------------------------------- */

static void test_changes_since_reports_each_commit_and_says_when_history_is_trimmed(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("mem", &db), QPKI_OK);
    table_set_history_limit(qpki_db_memory_table(db), 4);
    qpki_db_entry v = valid_row(1798761600);
    qpki_db_entry r = revoked_row(1798761600, 1705312800, QPKI_REASON_UNSPECIFIED);
    char list[512];
    uint64_t upto = 77;
    /* Nothing happened yet: complete and empty. */
    assert_int_equal(changes(db, 0, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "");
    assert_int_equal(upto, 0);

    put(db, 1, &v);
    put(db, 2, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g1: 1, 2 */
    put(db, 2, &r);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g2: 2 */
    static const uint8_t s1[] = {1};
    assert_int_equal(qpki_db_memory_remove(db, s1, 1), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g3: 1 */
    assert_int_equal(qpki_db_generation(db), 3);

    assert_int_equal(changes(db, 0, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "1,2");
    assert_int_equal(upto, 3);
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "1,2");
    assert_int_equal(changes(db, 2, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "1");
    assert_int_equal(changes(db, 3, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "");
    assert_int_equal(upto, 3);
    /* A generation from the future is a caller's mistake. */
    assert_int_equal(changes(db, 4, &upto, list, sizeof(list)), QPKI_ERR_INVALID_ARG);

    /* Two more serials fill the history of 4; the oldest (g1's) go. */
    put(db, 3, &v);
    put(db, 4, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g4: 3, 4 */
    assert_int_equal(changes(db, 0, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "1,2,3,4");
    assert_int_equal(upto, 4);
    put(db, 5, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g5: 5; g2's 2 goes */
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    assert_int_equal(changes(db, 2, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "1,3,4,5");

    /* One commit of more serials than the history holds: nothing older is
     * known any more, but the next commits are. */
    for (uint32_t i = 10; i < 15; i++)
        put(db, i, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g6 */
    assert_int_equal(changes(db, 5, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    assert_int_equal(changes(db, 6, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "");
    put(db, 3, &r);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g7 */
    assert_int_equal(changes(db, 6, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "3");
    assert_int_equal(upto, 7);

    /* A replace that changes more rows than the history holds. */
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    for (uint32_t i = 100; i < 110; i++)
        put(db, i, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK); /* g8 */
    assert_int_equal(changes(db, 7, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    assert_int_equal(changes(db, 8, &upto, list, sizeof(list)), QPKI_OK);
    qpki_db_free(&db);
}

/* ---- the vtable: V1 and V2 backends ---------------------------------------- */

typedef struct fake {
    uint64_t generation;
    int changes_calls;
} fake;

static qpki_status fake_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    (void)self;
    (void)serial;
    (void)len;
    (void)out;
    return QPKI_ERR_NOT_FOUND;
}
static uint64_t fake_generation(void *self) { return ((fake *)self)->generation; }
static size_t fake_count(void *self) { (void)self; return 0; }
static void fake_close(void *self) { (void)self; }
static qpki_status fake_changes(void *self, uint64_t since, uint64_t *upto, qpki_db_change_fn fn,
                                void *user)
{
    fake *f = self;
    f->changes_calls++;
    static const uint8_t serial[] = {0x2a};
    if (since < f->generation)
        fn(user, serial, 1);
    *upto = f->generation;
    return QPKI_OK;
}
static qpki_status fake_backwards(void *self, uint64_t since, uint64_t *upto,
                                  qpki_db_change_fn fn, void *user)
{
    (void)self;
    (void)fn;
    (void)user;
    *upto = since - 1;
    return QPKI_OK;
}

static void test_v1_backends_stay_valid_and_v2_reports_changes(void **state)
{
    (void)state;
    fake f = {.generation = 5};
    qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V1,
        .struct_size = offsetof(qpki_status_db_ops, changes_since), /* as built against 1.0 */
        .lookup = fake_lookup,
        .generation = fake_generation,
        .count = fake_count,
        .close = fake_close,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    char list[64];
    uint64_t upto = 0;
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    qpki_db_free(&db);

    /* A V1 backend built against the new header has changes_since in its
     * struct but does not declare V2: the method is not called. */
    ops.struct_size = sizeof(ops);
    ops.changes_since = fake_changes;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    assert_int_equal(f.changes_calls, 0);
    qpki_db_free(&db);

    /* V2. */
    ops.abi_version = QPKI_DB_ABI_V2;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_OK);
    assert_string_equal(list, "42");
    assert_int_equal(upto, 5);
    assert_int_equal(f.changes_calls, 1);
    assert_int_equal(qpki_db_changes_since(db, 1, NULL, collect, NULL), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_changes_since(NULL, 1, &upto, collect, NULL), QPKI_ERR_INVALID_ARG);
    qpki_db_free(&db);
    /* V2 declared with a struct too short for the method: not called. */
    ops.struct_size = offsetof(qpki_status_db_ops, changes_since);
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    assert_int_equal(changes(db, 1, &upto, list, sizeof(list)), QPKI_ERR_NOT_FOUND);
    qpki_db_free(&db);
    /* A report that goes backwards is refused. */
    ops.struct_size = sizeof(ops);
    ops.changes_since = fake_backwards;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    upto = 99;
    assert_int_equal(changes(db, 3, &upto, list, sizeof(list)), QPKI_ERR_INTERNAL);
    assert_int_equal(upto, 99);
    qpki_db_free(&db);
    /* the newest version this library knows plus one */
    ops.abi_version = QPKI_DB_ABI_V4 + 1;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_ERR_PLUGIN_ABI);
}

/* ---- memory ------------------------------------------------------------ */

static void test_changing_rows_reuses_their_memory(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("mem", &db), QPKI_OK);
    db_table *t = qpki_db_memory_table(db);
    qpki_db_entry v = valid_row(1798761600);
    for (uint32_t i = 0; i < 1000; i++)
        put(db, i, &v);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    table_stats st0, st1;
    table_get_stats(t, &st0);
    assert_int_equal(st0.rows, 1000);
    /* 4 + 2 (serials 256..999 have 2 octets, 0..255 one or none) + 5. */
    assert_true(st0.arena_used <= 1000 * 11);
    /* Flip every row 20 times between valid and revoked, committing each
     * round: the arena does not grow beyond one more copy of each size. */
    qpki_db_entry r = revoked_row(1798761600, 1705312800, QPKI_REASON_SUPERSEDED);
    for (int round = 0; round < 20; round++) {
        for (uint32_t i = 0; i < 1000; i++)
            put(db, i, round % 2 ? &v : &r);
        assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    }
    table_get_stats(t, &st1);
    assert_int_equal(st1.rows, 1000);
    assert_true(st1.arena_used <= st0.arena_used + 1000 * 16);
    assert_int_equal(st1.slots, st0.slots);
    assert_true(st1.grace_periods >= 20);
    qpki_db_entry e;
    assert_int_equal(get(db, 999, &e), QPKI_OK);
    expect_same(&e, &v); /* round 19 wrote valid rows */

    /* Removing and inserting leaves tombstones; the index is rebuilt before
     * they fill it, and every row is still found. */
    for (int round = 0; round < 30; round++) {
        for (uint32_t i = 0; i < 1000; i++) {
            uint8_t s[4] = {0, 0, (uint8_t)(i >> 8), (uint8_t)i};
            if (i % 3 == (uint32_t)round % 3)
                (void)qpki_db_memory_remove(db, s, 4);
        }
        for (uint32_t i = 0; i < 1000; i++)
            if (i % 3 == (uint32_t)round % 3)
                put(db, i + 100000u * (uint32_t)(round + 1), &v);
        assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    }
    table_get_stats(t, &st1);
    assert_true(st1.tombstones < st1.slots / 4);
    assert_int_equal(qpki_db_count(db), st1.rows);
    qpki_db_free(&db);
}

/* ---- lookups racing the writer ---------------------------------------------
 *
 * Every row carries its version in every field: version n of row i has expiry
 * BASE + i * 4096 + n, status R for odd n (revocation time = expiry - n - 1,
 * reason n % 6) and V for even n.  A torn read mixes two versions and fails
 * the check; a lookup that returns an older version than one the same thread
 * already saw for that row means a change was lost or reordered. */
#define RACE_ROWS 2000u
#define RACE_READERS 3
#define RACE_BASE 1800000000LL

static qpki_db_entry race_row(uint32_t i, uint32_t n)
{
    qpki_time expiry = RACE_BASE + (qpki_time)i * 4096 + n;
    if (n % 2 == 0)
        return valid_row(expiry);
    return revoked_row(expiry, expiry - n - 1, (qpki_crl_reason)(n % 6));
}

/* The version of a row, or -1 when its fields do not belong together. */
static long race_version(uint32_t i, const qpki_db_entry *e)
{
    qpki_time off = e->expiry - RACE_BASE - (qpki_time)i * 4096;
    if (off < 0 || off >= 4096)
        return -1;
    qpki_db_entry want = race_row(i, (uint32_t)off);
    if (e->row_status != want.row_status || e->revocation_time != want.revocation_time ||
        e->reason != want.reason || e->hold_instruction != 0 || e->invalidity_date != 0)
        return -1;
    return (long)off;
}

typedef struct race {
    qpki_db *db;
    atomic_bool stop;
    atomic_ulong lookups, found, failures;
} race;

static void *race_reader(void *arg)
{
    race *c = arg;
    long *last = calloc(RACE_ROWS, sizeof(*last));
    assert_non_null(last);
    uint64_t x = (uint64_t)(uintptr_t)&last;
    unsigned long lookups = 0, found = 0, failures = 0;
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t i = (uint32_t)(x % RACE_ROWS);
        qpki_db_entry e;
        qpki_status rc = get(c->db, i + 1, &e);
        lookups++;
        if (rc == QPKI_ERR_NOT_FOUND)
            continue; /* removed for now */
        long v = rc == QPKI_OK ? race_version(i, &e) : -1;
        if (v < 0 || v < last[i])
            failures++;
        else
            last[i] = v;
        found++;
    }
    atomic_fetch_add(&c->lookups, lookups);
    atomic_fetch_add(&c->found, found);
    atomic_fetch_add(&c->failures, failures);
    free(last);
    return NULL;
}

static void test_lookups_racing_the_writer_see_each_row_old_or_new_exactly(void **state)
{
    (void)state;
    race c = {0};
    assert_int_equal(qpki_db_memory_new("race", &c.db), QPKI_OK);
    uint32_t *version = calloc(RACE_ROWS, sizeof(*version));
    assert_non_null(version);
    /* Half the rows to start with: the index grows while readers run. */
    for (uint32_t i = 0; i < RACE_ROWS / 2; i++) {
        qpki_db_entry e = race_row(i, 0);
        put(c.db, i + 1, &e);
    }
    assert_int_equal(qpki_db_memory_commit(c.db, NULL), QPKI_OK);
    pthread_t th[RACE_READERS];
    for (int i = 0; i < RACE_READERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &c), 0);

    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint32_t next_new = RACE_ROWS / 2;
    for (int step = 0; step < 40000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t i = (uint32_t)(x % RACE_ROWS);
        if (step % 20 == 0 && next_new < RACE_ROWS) {
            i = next_new++;
        } else if (i >= next_new) {
            continue;
        }
        if (step % 97 == 0) {
            uint8_t s[4] = {(uint8_t)((i + 1) >> 24), (uint8_t)((i + 1) >> 16),
                            (uint8_t)((i + 1) >> 8), (uint8_t)(i + 1)};
            (void)qpki_db_memory_remove(c.db, s, 4);
        } else if (version[i] < 4095) {
            version[i]++;
            qpki_db_entry e = race_row(i, version[i]);
            put(c.db, i + 1, &e);
        }
        if (step % 50 == 0)
            assert_int_equal(qpki_db_memory_commit(c.db, NULL), QPKI_OK);
        if (step % 2000 == 1999) {
            /* A full replace, every row one version on. */
            assert_int_equal(qpki_db_memory_replace_begin(c.db), QPKI_OK);
            for (uint32_t k = 0; k < next_new; k++) {
                if (version[k] < 4095)
                    version[k]++;
                qpki_db_entry e = race_row(k, version[k]);
                put(c.db, k + 1, &e);
            }
            assert_int_equal(qpki_db_memory_commit(c.db, NULL), QPKI_OK);
        }
        if (step % 256 == 0)
            sched_yield();
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < RACE_READERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&c.failures), 0);
    assert_true(atomic_load(&c.found) > 1000);
    table_stats st;
    table_get_stats(qpki_db_memory_table(c.db), &st);
    assert_true(st.grace_periods > 10);
    /* The final table holds each row's last version. */
    for (uint32_t i = 0; i < RACE_ROWS; i++) {
        qpki_db_entry e;
        if (get(c.db, i + 1, &e) == QPKI_OK)
            assert_int_equal(race_version(i, &e), (long)version[i]);
    }
    free(version);
    qpki_db_free(&c.db);
}

/* qpki_db_list_serials lists every row exactly once, a few index slots at a
 * time, and starts over when the index was rebuilt between two calls (rows
 * moved to other slots). */
typedef struct scan_seen {
    uint8_t hit[2000];
    size_t n, bad;
} scan_seen;

static void scan_mark(void *user, const uint8_t *serial, size_t len)
{
    scan_seen *s = user;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v << 8 | serial[i];
    if (v >= 0x1000000u && v - 0x1000000u < 2000u)
        s->hit[v - 0x1000000u]++;
    else
        s->bad++;
    s->n++;
}

/* One listing to its end, max slots per call; returns the calls made. */
static size_t list_all(qpki_db *db, qpki_db_cursor *cursor, size_t max, scan_seen *into)
{
    size_t calls = 0;
    int done = 0;
    while (!done) {
        assert_int_equal(qpki_db_list_serials(db, cursor, max, scan_mark, into, &done), QPKI_OK);
        calls++;
        assert_true(calls < 100000);
    }
    return calls;
}

static void test_list_serials_lists_every_row_once_and_starts_over_on_an_index_rebuild(
    void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_memory_new("scan", &db), QPKI_OK);
    scan_seen seen_rows;
    memset(&seen_rows, 0, sizeof(seen_rows));
    /* an empty table: one call, done, nothing reported */
    qpki_db_cursor cursor;
    memset(&cursor, 0, sizeof(cursor));
    assert_int_equal(list_all(db, &cursor, 64, &seen_rows), 1);
    assert_int_equal(seen_rows.n, 0);
    qpki_db_entry e = valid_row(2000000000);
    for (uint32_t i = 0; i < 300; i++)
        put(db, 0x1000000u + i, &e);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    memset(&cursor, 0, sizeof(cursor));
    size_t calls = list_all(db, &cursor, 7, &seen_rows);
    assert_int_equal(seen_rows.n, 300);
    assert_int_equal(seen_rows.bad, 0);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(seen_rows.hit[i], 1);
    /* 7 slots a call over an index of 300 * 4/3 to 300 * 8/3 slots */
    assert_true(calls * 7 >= 300 * 4 / 3 && calls * 7 < 300 * 8 / 3 + 7);
    /* a listing that sees a row removed and one changed meanwhile: the others
     * once each */
    memset(&seen_rows, 0, sizeof(seen_rows));
    memset(&cursor, 0, sizeof(cursor));
    int done = 0;
    assert_int_equal(qpki_db_list_serials(db, &cursor, 16, scan_mark, &seen_rows, &done), QPKI_OK);
    assert_int_equal(done, 0);
    assert_int_equal(qpki_db_memory_remove(db, (const uint8_t *)"\x01\x00\x01\x2b", 4), QPKI_OK);
    qpki_db_entry revoked = valid_row(2000000000);
    revoked.row_status = 'R';
    revoked.revocation_time = 1700000000;
    put(db, 0x1000000u + 5, &revoked);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    list_all(db, &cursor, 16, &seen_rows);
    for (size_t i = 0; i < 300; i++)
        if (i != 0x12b)
            assert_int_equal(seen_rows.hit[i], 1);
    assert_true(seen_rows.hit[0x12b] <= 1);
    put(db, 0x1000000u + 0x12b, &e);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    /* half a listing, then enough rows to grow the index: the listing starts
     * over, so every row present throughout is seen, some twice, and the rows
     * added meanwhile are seen too (the second part lists the new index) */
    memset(&seen_rows, 0, sizeof(seen_rows));
    memset(&cursor, 0, sizeof(cursor));
    assert_int_equal(qpki_db_list_serials(db, &cursor, 200, scan_mark, &seen_rows, &done), QPKI_OK);
    assert_int_equal(done, 0);
    size_t first_part = seen_rows.n;
    assert_true(first_part > 0 && first_part < 300);
    for (uint32_t i = 300; i < 2000; i++)
        put(db, 0x1000000u + i, &e);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    list_all(db, &cursor, 64, &seen_rows);
    for (size_t i = 0; i < 2000; i++)
        assert_true(seen_rows.hit[i] >= 1);
    assert_true(seen_rows.n > 2000); /* the start-over repeated some */
    /* a fresh listing after it sees all 2000 once */
    memset(&seen_rows, 0, sizeof(seen_rows));
    memset(&cursor, 0, sizeof(cursor));
    list_all(db, &cursor, 64, &seen_rows);
    assert_int_equal(seen_rows.n, 2000);
    for (size_t i = 0; i < 2000; i++)
        assert_int_equal(seen_rows.hit[i], 1);
    /* a replace (a full reload) commits a new table: a listing begun before
     * starts over on it */
    memset(&seen_rows, 0, sizeof(seen_rows));
    memset(&cursor, 0, sizeof(cursor));
    assert_int_equal(qpki_db_list_serials(db, &cursor, 64, scan_mark, &seen_rows, &done), QPKI_OK);
    assert_int_equal(qpki_db_memory_replace_begin(db), QPKI_OK);
    for (uint32_t i = 1000; i < 1100; i++)
        put(db, 0x1000000u + i, &e);
    assert_int_equal(qpki_db_memory_commit(db, NULL), QPKI_OK);
    assert_int_equal(qpki_db_list_serials(db, &cursor, 64, scan_mark, &seen_rows, &done), QPKI_OK);
    assert_int_equal(done, 0);
    memset(&seen_rows, 0, sizeof(seen_rows)); /* the start-over is done: from slot 0 */
    list_all(db, &cursor, 64, &seen_rows);
    for (size_t i = 0; i < 2000; i++)
        assert_int_equal(seen_rows.hit[i], i >= 1000 && i < 1100 ? 1 : 0);
    assert_int_equal(seen_rows.bad, 0);
    /* bad arguments */
    assert_int_equal(qpki_db_list_serials(db, NULL, 64, scan_mark, &seen_rows, &done),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(done, 1);
    assert_int_equal(qpki_db_list_serials(db, &cursor, 64, NULL, &seen_rows, &done),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_list_serials(db, &cursor, 64, scan_mark, &seen_rows, NULL),
                     QPKI_ERR_INVALID_ARG);
    qpki_db_free(&db);
    /* a backend without list_serials (V1 to V3) cannot be listed */
    fake f = {.generation = 1};
    qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V3, .struct_size = sizeof(ops), .lookup = fake_lookup,
        .generation = fake_generation, .count = fake_count, .close = fake_close};
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    memset(&cursor, 0, sizeof(cursor));
    done = 0;
    assert_int_equal(qpki_db_list_serials(db, &cursor, 64, scan_mark, &seen_rows, &done),
                     QPKI_ERR_UNSUPPORTED);
    assert_int_equal(done, 1);
    qpki_db_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_replace_remove_and_generations),
        cmocka_unit_test(test_rows_the_table_cannot_return_are_refused),
        cmocka_unit_test(test_replace_is_invisible_until_commit_and_reports_only_real_changes),
        cmocka_unit_test(test_changes_since_reports_each_commit_and_says_when_history_is_trimmed),
        cmocka_unit_test(test_v1_backends_stay_valid_and_v2_reports_changes),
        cmocka_unit_test(test_changing_rows_reuses_their_memory),
        cmocka_unit_test(test_lookups_racing_the_writer_see_each_row_old_or_new_exactly),
        cmocka_unit_test(test_list_serials_lists_every_row_once_and_starts_over_on_an_index_rebuild),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
