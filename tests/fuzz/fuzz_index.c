/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_index.c - libFuzzer target: arbitrary bytes as an index.txt
 * status database (the same parser qpki_db_open_index runs on files), then
 * lookups in whatever table came out, and the serial-text parser.  Opening
 * also runs with an allocation failing (fuzz_alloc.h): QPKI_ERR_NOMEM, with a
 * message, and nothing leaked.
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
#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
