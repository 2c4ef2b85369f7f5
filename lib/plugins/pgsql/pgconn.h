/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/pgconn.h - libpq connections of the PostgreSQL plugin:
 * connecting and querying without ever blocking past a deadline (a node's
 * following thread must notice a vanished server and must stop promptly), the
 * schema version check, and error messages that name the server and the cause. */
#ifndef QPKI_PGSQL_PGCONN_H
#define QPKI_PGSQL_PGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <qpki/status.h>

/* The schema versions this plugin knows (sql/NNN_*.sql, embedded at build time
 * by sql/embed_sql.py). */
struct pg_migration {
    unsigned version;
    const char *name;
    const char *sql;
};
extern const struct pg_migration pg_migrations[];
extern const size_t pg_migrations_count;
/* The newest version: pg_migrations[pg_migrations_count - 1].version. */
unsigned pg_schema_newest(void);

/* Advisory lock keys (pg_advisory_xact_lock): the writers of status rows
 * (sql/001_init.sql, "qpki") and `qpki db init` ("qpkI"). */
#define PG_LOCK_WRITERS 1903192937
#define PG_LOCK_INIT 1903192905

/* Connect to url (already checked with pg_url_check).  stop_fd: a descriptor
 * that becomes readable when the caller wants to give up (or -1); timeout_ms
 * bounds the whole attempt.  On failure NULL and a message "cannot connect to
 * the status database at HOST:PORT: <cause>". */
PGconn *pg_connect(const char *url, int stop_fd, int timeout_ms, char *err, size_t errlen);

/* Run one statement (parameters in text form, may be NULL) and return its
 * result (PGRES_COMMAND_OK or PGRES_TUPLES_OK), or NULL with a message in err
 * (the server's, see pg_result_message; "timed out"; "stopped").  The caller
 * PQclears the result.  After a time-out or a stop the connection is closed
 * (PQstatus CONNECTION_BAD): a result may still be on its way. */
PGresult *pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params,
                  int stop_fd, int timeout_ms, char *err, size_t errlen);

/* Read the rows of a "COPY (...) TO STDOUT": fn gets each CopyData message --
 * in text format (binary false) one line, without its line break,
 * NUL-terminated, writable; in binary format the message as sent (one row, the
 * header before the first, the trailer) -- and returns QPKI_OK to go on.
 * QPKI_OK at the end; the error fn returned; or QPKI_ERR_IO with a message. */
typedef qpki_status (*pg_line_fn)(void *user, char *line, size_t len);
qpki_status pg_copy_out(PGconn *c, const char *sql, bool binary, int stop_fd, int timeout_ms,
                        pg_line_fn fn, void *user, char *err, size_t errlen);

/* The message of a failed result, explained for the common causes: no qpki
 * schema (42P01, 3F000: run `qpki db init`), permission denied (42501: which
 * role is needed), a read-only standby (25006). */
void pg_result_message(const PGresult *res, char *err, size_t errlen);

/* The schema in place: QPKI_OK when its version is one this plugin knows
 * (*version receives it); QPKI_ERR_NOT_FOUND when there is none (or an older
 * one than this plugin needs), QPKI_ERR_UNSUPPORTED when it is newer,
 * QPKI_ERR_IO on other failures -- each with a message. */
qpki_status pg_schema_check(PGconn *c, int stop_fd, int timeout_ms, unsigned *version,
                            char *err, size_t errlen);

/* "PGconn's server" for messages: host:port of the connection. */
void pg_conn_server(PGconn *c, char *buf, size_t size);

#endif
