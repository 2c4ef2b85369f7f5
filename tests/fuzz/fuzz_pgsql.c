/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_pgsql.c - libFuzzer target: arbitrary bytes as the rows a
 * node's load reads from PostgreSQL (COPY ... TO STDOUT (FORMAT binary),
 * lib/plugins/pgsql/values.c pg_bin_message) and as a line of COPY text
 * (pg_copy_split + pg_row_parse, the rows a node follows and an export reads).
 *
 * The input is cut into messages at each 0x00 0x00 0xfe pair-and-marker (a
 * message may be empty), fed in order to one reader: every message either
 * parses (a row passes the schema's checks) or fails with a message; nothing is
 * read past a message (ASan), and after the trailer nothing more is accepted.
 * Seeds: tests/fuzz/corpus/pgsql/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "plugins/pgsql/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err, qpki_status rc)
{
    /* a failure says why, in one bounded line */
    if (rc != QPKI_OK && (!err[0] || strchr(err, '\n')))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_bin_reader rd = {false, false};
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        bool cut = i == size || (i + 3 <= size && data[i] == 0 && data[i + 1] == 0 &&
                                 data[i + 2] == 0xfe);
        if (!cut)
            continue;
        /* each message in a buffer of its own size: ASan sees any read past it */
        size_t n = i - start;
        uint8_t *msg = malloc(n ? n : 1);
        if (!msg)
            return 0;
        memcpy(msg, data + start, n);
        uint8_t serial[QPKI_SERIAL_MAX];
        size_t serial_len = 0;
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        bool row = false, ended = rd.ended;
        char err[256] = "";
        qpki_status rc = pg_bin_message(&rd, msg, n, serial, &serial_len, &e, &row, err,
                                        sizeof(err));
        check_message(err, rc);
        if (rc == QPKI_OK && row) {
            if (ended || serial_len > QPKI_SERIAL_MAX || (serial_len && serial[0] == 0) ||
                pg_entry_check(&e) != QPKI_OK)
                abort();
        }
        free(msg);
        start = i + 3;
        i += 2;
    }
    /* the same bytes as one line of COPY text */
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    char *f[PG_STATUS_COLUMNS];
    if (pg_copy_split(line, f, PG_STATUS_COLUMNS) == PG_STATUS_COLUMNS) {
        uint8_t serial[QPKI_SERIAL_MAX];
        size_t serial_len = 0;
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        char err[256] = "";
        qpki_status rc = pg_row_parse(f, serial, &serial_len, &e, err, sizeof(err));
        check_message(err, rc);
        if (rc == QPKI_OK && pg_entry_check(&e) != QPKI_OK)
            abort();
    }
    free(line);
    return 0;
}
