/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/pgconn.c - connect, query and COPY with deadlines; the schema
 * version check; error messages (pgconn.h). */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pgconn.h"
#include "values.h"

unsigned pg_schema_newest(void)
{
    return pg_migrations[pg_migrations_count - 1].version;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* libpq's multi-line message as one line: line breaks and tabs become "; ". */
static void flatten(const char *in, char *out, size_t size)
{
    size_t o = 0;
    bool gap = false;
    for (const char *p = in ? in : ""; *p && o + 3 < size; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            gap = o > 0;
            continue;
        }
        if (gap) {
            out[o++] = ';';
            out[o++] = ' ';
            gap = false;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

void pg_conn_server(PGconn *c, char *buf, size_t size)
{
    const char *host = c ? PQhost(c) : NULL, *port = c ? PQport(c) : NULL;
    if (host && host[0] == '/')
        snprintf(buf, size, "%s (port %s)", host, port && port[0] ? port : "5432");
    else
        snprintf(buf, size, "%s:%s", host && host[0] ? host : "localhost",
                 port && port[0] ? port : "5432");
}

/* Wait until the socket is ready (readable, or writable when write), the stop
 * descriptor fires, or the deadline passes: 1 ready, 0 deadline, -1 stop. */
static int wait_socket(PGconn *c, bool write, int stop_fd, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd fds[2] = {
            {PQsocket(c), (short)(write ? POLLOUT : POLLIN), 0},
            {stop_fd, POLLIN, 0},
        };
        int n = poll(fds, stop_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            return 0;
        if (n <= 0)
            continue;
        if (stop_fd >= 0 && (fds[1].revents & POLLIN))
            return -1;
        if (fds[0].revents)
            return 1;
    }
}

PGconn *pg_connect(const char *url, int stop_fd, int timeout_ms, char *err, size_t errlen)
{
    char server[256];
    pg_url_server(url, server, sizeof(server));
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *values[] = {url, "qpki", NULL};
    PGconn *c = PQconnectStartParams(keys, values, 1);
    if (!c) {
        set_err(err, errlen, "cannot connect to the status database at %s: out of memory",
                server);
        return NULL;
    }
    int64_t deadline = now_ms() + timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    const char *why = NULL;
    while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        int w = wait_socket(c, st == PGRES_POLLING_WRITING, stop_fd, deadline);
        if (w <= 0) {
            why = w == 0 ? "timed out" : "stopped";
            break;
        }
        st = PQconnectPoll(c);
    }
    if (!why && PQstatus(c) == CONNECTION_OK)
        return c;
    char cause[512];
    flatten(why ? why : PQerrorMessage(c), cause, sizeof(cause));
    pg_conn_server(c, server, sizeof(server));
    set_err(err, errlen, "cannot connect to the status database at %s: %s", server,
            cause[0] ? cause : "unknown error");
    PQfinish(c);
    return NULL;
}

void pg_result_message(const PGresult *res, char *err, size_t errlen)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char msg[512];
    flatten(primary ? primary : PQresultErrorMessage(res), msg, sizeof(msg));
    if (!state)
        state = "";
    if (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)
        set_err(err, errlen, "%s: the database has no qpki schema (run `qpki db init --db URL` "
                             "first, with a role that may create it)", msg);
    else if (strcmp(state, "42501") == 0)
        set_err(err, errlen, "%s: the role lacks the grant it needs (qpki_reader to serve, "
                             "qpki_writer for CA commands; docs/OPERATIONS.md)", msg);
    else if (strcmp(state, "25006") == 0)
        set_err(err, errlen, "%s: this server is a read-only standby; CA commands write to "
                             "the primary", msg);
    else
        set_err(err, errlen, "%s", msg[0] ? msg : "unknown error");
}

/* Collect the results of the query in flight: the last one, or NULL on error. */
static PGresult *collect(PGconn *c, int stop_fd, int64_t deadline, char *err, size_t errlen)
{
    PGresult *last = NULL, *failed = NULL;
    for (;;) {
        while (PQisBusy(c)) {
            int w = wait_socket(c, false, stop_fd, deadline);
            if (w <= 0 || !PQconsumeInput(c)) {
                if (w <= 0) {
                    set_err(err, errlen, "%s", w == 0 ? "the database did not answer in time"
                                                      : "stopped");
                } else {
                    char m[512];
                    flatten(PQerrorMessage(c), m, sizeof(m));
                    set_err(err, errlen, "connection lost: %s", m);
                }
                /* the query may still be running: the caller closes the connection */
                PQclear(last);
                PQclear(failed);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_COPY_OUT || s == PGRES_COPY_IN) {
            PQclear(last);
            PQclear(failed);
            return r; /* the caller streams */
        }
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            if (!failed)
                failed = r;
            else
                PQclear(r);
            continue;
        }
        PQclear(last);
        last = r;
    }
    if (failed) {
        pg_result_message(failed, err, errlen);
        PQclear(failed);
        PQclear(last);
        return NULL;
    }
    if (!last) {
        char m[512];
        flatten(PQerrorMessage(c), m, sizeof(m));
        set_err(err, errlen, "no result: %s", m[0] ? m : "connection lost");
    }
    return last;
}

PGresult *pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params,
                  int stop_fd, int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = now_ms() + timeout_ms;
    int sent = nparams > 0 ? PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0)
                           : PQsendQuery(c, sql);
    if (!sent) {
        char m[512];
        flatten(PQerrorMessage(c), m, sizeof(m));
        set_err(err, errlen, "cannot send the query: %s", m);
        return NULL;
    }
    /* push the query out (large parameter sets may not fit the socket buffer) */
    int f;
    while ((f = PQflush(c)) == 1) {
        int w = wait_socket(c, true, stop_fd, deadline);
        if (w <= 0) {
            set_err(err, errlen, "%s", w == 0 ? "the database did not answer in time" : "stopped");
            return NULL;
        }
    }
    if (f < 0) {
        char m[512];
        flatten(PQerrorMessage(c), m, sizeof(m));
        set_err(err, errlen, "connection lost: %s", m);
        return NULL;
    }
    PGresult *r = collect(c, stop_fd, deadline, err, errlen);
    if (r && PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_err(err, errlen, "unexpected COPY from a plain statement");
        PQclear(r);
        return NULL;
    }
    return r;
}

qpki_status pg_copy_out(PGconn *c, const char *sql, bool binary, int stop_fd, int timeout_ms,
                        pg_line_fn fn, void *user, char *err, size_t errlen)
{
    int64_t deadline = now_ms() + timeout_ms;
    if (!PQsendQuery(c, sql)) {
        char m[512];
        flatten(PQerrorMessage(c), m, sizeof(m));
        set_err(err, errlen, "cannot send the query: %s", m);
        return QPKI_ERR_IO;
    }
    PGresult *r = collect(c, stop_fd, deadline, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        PQclear(r);
        set_err(err, errlen, "the query did not start a COPY");
        return QPKI_ERR_IO;
    }
    PQclear(r);
    qpki_status rc = QPKI_OK;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(c, &buf, 1);
        if (n == 0) {
            int w = wait_socket(c, false, stop_fd, deadline);
            if (w <= 0) {
                set_err(err, errlen, "%s",
                        w == 0 ? "the database did not answer in time" : "stopped");
                return QPKI_ERR_IO;
            }
            if (!PQconsumeInput(c)) {
                char m[512];
                flatten(PQerrorMessage(c), m, sizeof(m));
                set_err(err, errlen, "connection lost: %s", m);
                return QPKI_ERR_IO;
            }
            continue;
        }
        if (n == -1)
            break; /* done: the final result follows */
        if (n < 0) {
            char m[512];
            flatten(PQerrorMessage(c), m, sizeof(m));
            set_err(err, errlen, "connection lost: %s", m);
            return QPKI_ERR_IO;
        }
        /* one row per message; a text row ends with its line break */
        size_t len = (size_t)n;
        if (!binary && len && buf[len - 1] == '\n')
            buf[--len] = '\0';
        if (rc == QPKI_OK)
            rc = fn(user, buf, len);
        PQfreemem(buf);
    }
    r = collect(c, stop_fd, deadline, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    PQclear(r);
    return rc;
}

qpki_status pg_schema_check(PGconn *c, int stop_fd, int timeout_ms, unsigned *version,
                            char *err, size_t errlen)
{
    *version = 0;
    /* catalog reads need no privilege; the schema's tables do */
    PGresult *r = pg_exec(c,
                          "SELECT n.oid IS NOT NULL, "
                          "coalesce(has_schema_privilege(n.oid, 'USAGE'), false), "
                          "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid "
                          "AND c.relname = 'schema_version') "
                          "FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = 'qpki'",
                          0, NULL, stop_fd, timeout_ms, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    bool ok1 = PQntuples(r) == 1;
    bool usable = ok1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    bool present = ok1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0 &&
                   strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    PQclear(r);
    char server[256];
    pg_conn_server(c, server, sizeof(server));
    const char *db = PQdb(c);
    if (!present) {
        set_err(err, errlen, "database %s at %s has no qpki schema (table "
                             "qpki.schema_version does not exist): run `qpki db init --db URL` "
                             "first", db, server);
        return QPKI_ERR_NOT_FOUND;
    }
    if (!usable) {
        set_err(err, errlen, "role %s may not use schema qpki in database %s at %s: grant it "
                             "qpki_reader (nodes) or qpki_writer (CA commands)",
                 PQuser(c), db, server);
        return QPKI_ERR_IO;
    }
    r = pg_exec(c, "SELECT coalesce(max(version), 0) FROM qpki.schema_version", 0, NULL,
                stop_fd, timeout_ms, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    int64_t v = 0;
    bool ok = PQntuples(r) == 1 && pg_parse_i64(PQgetvalue(r, 0, 0), &v);
    PQclear(r);
    if (!ok) {
        set_err(err, errlen, "cannot read qpki.schema_version");
        return QPKI_ERR_IO;
    }
    *version = (unsigned)v;
    if (v > (int64_t)pg_schema_newest()) {
        set_err(err, errlen, "database %s at %s has qpki schema version %lld, newer than this "
                             "qpki knows (%u): upgrade qpki on this machine",
                 db, server, (long long)v, pg_schema_newest());
        return QPKI_ERR_UNSUPPORTED;
    }
    if (v < 1) {
        set_err(err, errlen, "database %s at %s has an empty qpki.schema_version: run `qpki "
                             "db init --db URL`", db, server);
        return QPKI_ERR_NOT_FOUND;
    }
    return QPKI_OK;
}
