/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/values.h - the pure parts of the PostgreSQL plugin: checking
 * a connection string for a password, and rows in PostgreSQL's COPY text format
 * (written for imports, read for loads and exports).  No libpq calls except
 * PQconninfoParse; unit-tested in tests/unit/test_pgsql_values.c.
 *
 * Rows cross COPY with these columns (sql/001_init.sql names them):
 *   serial            hex of the magnitude, no "\x" prefix ("" is serial zero)
 *   status            V, R or E
 *   not_after         seconds since the epoch (extract(epoch ...)::bigint)
 *   revocation_time   seconds, or \N
 *   reason            CRLReason code, or \N
 *   hold_instruction  1..3, or \N
 *   invalidity_date   seconds, or \N
 * followed, where the query asks for them, by change_seq (loads) or filename and
 * subject (exports, imports). */
#ifndef QPKI_PGSQL_VALUES_H
#define QPKI_PGSQL_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/db.h>
#include <qpki/limits.h>
#include <qpki/status.h>

/* Columns of the status part of a row, in order. */
enum pg_column {
    PG_COL_SERIAL,
    PG_COL_STATUS,
    PG_COL_NOT_AFTER,
    PG_COL_REVOCATION_TIME,
    PG_COL_REASON,
    PG_COL_HOLD,
    PG_COL_INVALIDITY,
    PG_STATUS_COLUMNS
};

/* The longest row a plugin reads or writes (bytes): filename and subject are
 * bounded by this. */
#define PG_ROW_MAX 16384

/* QPKI_ERR_INVALID_ARG with a message in err when url carries a password (as
 * URI user information "user:secret@", a password= key or query parameter) or
 * libpq cannot parse it.  The message never repeats the password. */
qpki_status pg_url_check(const char *url, char *err, size_t errlen);

/* "host:port" of the server url names, for messages ("127.0.0.1:5432",
 * "/var/run/postgresql" for the default Unix socket, "service NAME"). */
void pg_url_server(const char *url, char *buf, size_t size);

/* One line of COPY text output (without its line break) split at tabs into at
 * most max fields, each unescaped in place and NUL-terminated; a field that is
 * \N becomes NULL.  The line is modified.  Returns the number of fields, or -1
 * when there are more than max or an escape is malformed. */
int pg_copy_split(char *line, char **fields, int max);

/* Append text to buf[*len..cap) escaped for COPY text input (backslash, tab,
 * line feed, carriage return); NULL appends \N.  false when it does not fit. */
bool pg_copy_put_text(char *buf, size_t *len, size_t cap, const char *text);

/* Parse the status columns (fields[0..PG_STATUS_COLUMNS), as pg_copy_split
 * returned them) into serial[0..*serial_len) and *entry (initialised by the
 * caller with qpki_db_entry_init).  QPKI_ERR_PARSE with a message in err for a
 * value the schema does not allow. */
qpki_status pg_row_parse(char *const *fields, uint8_t serial[QPKI_SERIAL_MAX],
                         size_t *serial_len, qpki_db_entry *entry, char *err, size_t errlen);

/* A node's load reads the status columns in COPY's binary format (FORMAT
 * binary: the server converts nothing, half the CPU of the text form), one
 * row per CopyData message as libpq hands them over: the 11-octet signature,
 * flags and header extension before the first row, then per row an int16
 * field count and per field an int32 length (-1: NULL) and the value in the
 * type's binary form -- serial bytea, status char(1), timestamps int64
 * microseconds since 2000-01-01 UTC, reason and hold instruction int16 --
 * and an int16 -1 after the last row.  Every length is checked against the
 * message; nothing is read past it. */
typedef struct pg_bin_reader {
    bool header_done; /* the file header was read */
    bool ended;       /* the trailer was read: no row may follow */
} pg_bin_reader;

/* Parse one message msg[0..len) of such a COPY.  *have_row: false when it held
 * only the header or the trailer; otherwise the row is in serial[0..*serial_len)
 * (leading zero octets removed) and *entry (initialised by the caller with
 * qpki_db_entry_init), checked as pg_row_parse checks a text row.
 * QPKI_ERR_PARSE with a message in err for anything else. */
qpki_status pg_bin_message(pg_bin_reader *rd, const uint8_t *msg, size_t len,
                           uint8_t serial[QPKI_SERIAL_MAX], size_t *serial_len,
                           qpki_db_entry *entry, bool *have_row, char *err, size_t errlen);

/* Append the status columns of one row (tab-separated, no trailing tab) to
 * buf[*len..cap).  QPKI_ERR_INVALID_ARG for an entry the schema does not allow
 * (a status other than V/R/E, details on a row that is not revoked, a hold
 * instruction without certificateHold, an invalidity date without
 * keyCompromise/cACompromise); QPKI_ERR_BUFFER_TOO_SMALL when it does not fit. */
qpki_status pg_row_format(const uint8_t *serial, size_t serial_len, const qpki_db_entry *entry,
                          char *buf, size_t *len, size_t cap);

/* Check an entry against the schema's constraints (as pg_row_format does). */
qpki_status pg_entry_check(const qpki_db_entry *entry);

/* Parse a decimal int64 ("-12"); false for anything else. */
bool pg_parse_i64(const char *text, int64_t *out);

/* Lower-case hex of data into out (2 * len + 1 bytes). */
void pg_hex(const uint8_t *data, size_t len, char *out);

#endif
