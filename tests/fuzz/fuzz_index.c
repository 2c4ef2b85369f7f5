/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_index.c - libFuzzer target: arbitrary bytes as an index.txt
 * status database (the same parser qpki_db_open_index runs on files), then
 * lookups in whatever table came out, and the serial-text parser.  Opening
 * also runs with an allocation failing (fuzz_alloc.h): QPKI_ERR_NOMEM, with a
 * message, and nothing leaked.
 *
 * The input is also read as two versions of the file (split at the first form
 * feed; without one, the first half of the lines and then the whole input, an
 * append): the second is applied on top of the first the way a reload applies
 * a changed index.txt (only the lines around the blocks that differ, row by
 * row, with blocks of the default size and of 7 and 64 octets; again forcing the
 * merge used when many lines changed; and again forcing the full load used
 * when many rows changed), and
 * the result must equal a fresh load of the second -- the same rows, or, when
 * the second is bad, the same error and the first version's rows kept.
 *
 * Build (against a static library compiled with -fsanitize=fuzzer-no-link,address):
 *   clang -fsanitize=fuzzer,address -Iinclude -Ilib -I<build> tests/fuzz/fuzz_index.c \
 *         <build>/lib/libqpki-ocsp.a -lwolfssl -lpthread -lm -o fuzz_index
 * Seeds: tests/fuzz/corpus/index/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "db/db_internal.h"
#include "db/table.h"
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every row of one table is in the other with the same values. */
static void same_row(void *user, const uint8_t *serial, size_t len, const qpki_db_entry *want)
{
    qpki_db *other = user;
    qpki_db_entry got;
    qpki_db_entry_init(&got);
    if (qpki_db_lookup(other, serial, len, &got) != QPKI_OK || got.row_status != want->row_status ||
        got.expiry != want->expiry || got.revocation_time != want->revocation_time ||
        got.reason != want->reason || got.hold_instruction != want->hold_instruction ||
        got.invalidity_date != want->invalidity_date)
        abort();
}

static void same_rows(qpki_db *a, qpki_db *b)
{
    if (qpki_db_count(a) != qpki_db_count(b))
        abort();
    table_foreach(qpki_index_table(a), same_row, b);
}

/* diff_limit, merge_limit: see qpki_index_set_limits (SIZE_MAX: the
 * defaults); block: see qpki_index_set_block_size (0: the default). */
static void two_versions(const uint8_t *data, size_t size, size_t diff_limit, size_t merge_limit,
                         size_t block)
{
    const uint8_t *first = data, *second = data;
    size_t first_len, second_len = size;
    const uint8_t *ff = memchr(data, '\f', size);
    if (ff) {
        first_len = (size_t)(ff - data);
        second = ff + 1;
        second_len = size - first_len - 1;
    } else {
        first_len = size / 2;
        while (first_len > 0 && data[first_len - 1] != '\n')
            first_len--;
    }
    qpki_db *inc = NULL, *fresh = NULL, *before = NULL;
    char e1[QPKI_DB_MESSAGE_MAX], e2[QPKI_DB_MESSAGE_MAX];
    if (qpki_index_open_memory("index.txt", first, first_len, NULL, 0, &inc) != QPKI_OK)
        return;
    if (diff_limit != SIZE_MAX && qpki_index_set_limits(inc, diff_limit, merge_limit) != QPKI_OK)
        abort();
    if (block && (qpki_index_set_block_size(inc, block) != QPKI_OK ||
                  qpki_index_apply_memory(inc, "index.txt", first, first_len, NULL, 0) != QPKI_OK))
        abort(); /* cut into blocks of that size, rows unchanged */
    uint64_t g0 = qpki_db_generation(inc);
    qpki_status rc_inc = qpki_index_apply_memory(inc, "index.txt", second, second_len, e1,
                                                 sizeof(e1));
    qpki_status rc_fresh = qpki_index_open_memory("index.txt", second, second_len, e2,
                                                  sizeof(e2), &fresh);
    if (rc_inc != rc_fresh || (rc_inc != QPKI_OK && strcmp(e1, e2) != 0))
        abort();
    if (rc_inc == QPKI_OK) {
        same_rows(inc, fresh);
        same_rows(fresh, inc);
    } else {
        /* Bad: the first version stays, generation and all. */
        if (qpki_index_open_memory("index.txt", first, first_len, NULL, 0, &before) != QPKI_OK)
            abort();
        same_rows(inc, before);
        if (qpki_db_generation(inc) != g0)
            abort();
    }
    qpki_db_free(&inc);
    qpki_db_free(&fresh);
    qpki_db_free(&before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_input(data, size);
    qpki_db *db = NULL;
    char error[QPKI_DB_MESSAGE_MAX];
    fuzz_alloc_arm();
    qpki_status rc = qpki_index_open_memory("index.txt", data, size, error, sizeof(error), &db);
    if (fuzz_alloc_disarm()) {
        /* QPKI_ERR_NOMEM with a message, or the table (or error) it makes
         * without the failure */
        qpki_db *again = NULL;
        qpki_status failed_rc = rc;
        if (rc == QPKI_ERR_NOMEM) {
            fuzz_alloc_expect_nomem(rc, db == NULL, "qpki_index_open_memory");
            if (error[0] == '\0')
                abort(); /* out of memory is said too */
            rc = qpki_index_open_memory("index.txt", data, size, error, sizeof(error), &db);
        } else {
            qpki_status again_rc = qpki_index_open_memory("index.txt", data, size, error,
                                                         sizeof(error), &again);
            fuzz_alloc_expect_same(failed_rc, again_rc, "qpki_index_open_memory");
            if (again && qpki_db_count(again) != qpki_db_count(db))
                abort(); /* a table that lost rows */
            qpki_db_free(&again);
        }
    }
    if (rc == QPKI_OK) {
        /* Look up fixed serials, serial zero, and slices of the input itself. */
        static const uint8_t fixed[][3] = {{0, 0, 1}, {0x10, 0x00, 0x0a}, {0xff, 0xff, 0xff}};
        qpki_db_entry e;
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
            qpki_db_entry_init(&e);
            (void)qpki_db_lookup(db, fixed[i], sizeof(fixed[i]), &e);
        }
        qpki_db_entry_init(&e);
        (void)qpki_db_lookup(db, NULL, 0, &e);
        for (size_t off = 0; off < size && off < 256; off += 7) {
            size_t n = size - off < QPKI_SERIAL_MAX + 2 ? size - off : QPKI_SERIAL_MAX + 2;
            qpki_db_entry_init(&e);
            (void)qpki_db_lookup(db, data + off, n, &e);
        }
        (void)qpki_db_count(db);
        (void)qpki_db_generation(db);
        (void)qpki_db_refresh(db);
        qpki_db_free(&db);
    } else if (error[0] == '\0') {
        abort(); /* every failure must say why */
    }

    two_versions(data, size, SIZE_MAX, SIZE_MAX, 0); /* the changed lines, row by row */
    two_versions(data, size, SIZE_MAX, SIZE_MAX, 7); /* ... found by blocks of 7 octets */
    two_versions(data, size, SIZE_MAX, SIZE_MAX, 64);
    two_versions(data, size, 0, SIZE_MAX, 0);        /* every line parsed, merged */
    two_versions(data, size, 0, 0, 0);               /* a full load beside the old table */

    /* The CLI's serial parser on the first line. */
    char text[256];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t len;
    (void)qpki_serial_from_hex(text, serial, sizeof(serial), &len);
    return 0;
}
