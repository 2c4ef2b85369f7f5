/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/source.c - a node's table (qpki_status_db_ops): one CA's rows
 * of qpki.cert_status held in memory (the library's table, qpki_db_memory_*) and
 * followed from the database by a thread of its own (DESIGN §11).
 *
 * Lookups never touch the network: they read the in-memory table.  The
 * following thread:
 *   - at open (synchronously, so that `serve` can refuse to start): connects,
 *     checks the schema, LISTENs on a primary, loads every row of the CA;
 *   - then waits for a NOTIFY qpki_status (a primary sends one at the commit of
 *     every change) or for the poll interval (a hot standby sends none), and
 *     applies the rows whose change_seq is above the last one applied, in
 *     order, row by row (each changed serial reaches changes_since, so the
 *     responder drops only those cached answers);
 *   - when the sequence went backwards (a restored database) or the rows are
 *     too many to follow one by one, reloads everything (replace + commit: the
 *     table compares old and new);
 *   - when the connection fails, keeps the table, reconnects with backoff
 *     (250 ms doubling to 10 s) and catches up by sequence.
 *
 * Staleness: the time since the start of the last successful check against the
 * database.  Past max_staleness_ms, lookups fail with QPKI_ERR_STALE (the
 * responder answers tryLater, never an old "good").  So that cached answers
 * stop too, the generation carries a "stale epoch" above bit 40 that moves
 * whenever the table turns stale or fresh again; changes_since across such a
 * move is QPKI_ERR_NOT_FOUND (every cached answer of the CA is dropped). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qpki/db.h>
#include <qpki/db_plugin.h>

#include "pgconn.h"
#include "pgsql.h"
#include "values.h"

#define GEN_SHIFT 40
#define GEN_MASK ((UINT64_C(1) << GEN_SHIFT) - 1)
#define CONNECT_TIMEOUT_MS 10000
#define QUERY_TIMEOUT_MS 10000
#define LOAD_TIMEOUT_MS (30 * 60 * 1000)
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
/* rows fetched per query while following; more pending than a few batches
 * is cheaper to reload */
#define FOLLOW_BATCH 20000

struct pg_source {
    qpki_db *table;
    char *url;
    char ca_hex[2 * QPKI_DB_CA_ID_LEN + 1];
    char ca_name[128];
    uint32_t poll_ms, max_staleness_ms;
    qpki_db_log_fn log_fn;
    void *log_user;
    void (*changed_fn)(void *user);
    void *changed_user;
    /* the following thread's own */
    PGconn *c;
    int64_t last_seq;
    bool need_full;
    char logged[QPKI_PG_MESSAGE_MAX]; /* the failure last logged, to log each once */
    int64_t lost_at_ms;
    uint64_t reloads_seen;
    /* shared */
    int stop_pipe[2];
    pthread_t thread;
    bool thread_started;
    _Atomic int64_t last_ok_ms; /* monotonic ms: start of the last successful check */
    atomic_int connected;
    atomic_uint_fast64_t changes, reloads, stale_epoch;
    pthread_mutex_t err_lock;
    char err[QPKI_PG_MESSAGE_MAX];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_error(struct pg_source *s, const char *msg)
{
    pthread_mutex_lock(&s->err_lock);
    snprintf(s->err, sizeof(s->err), "%s", msg);
    pthread_mutex_unlock(&s->err_lock);
}

static void say(struct pg_source *s, qpki_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct pg_source *s, qpki_status st, const char *fmt, ...)
{
    if (!s->log_fn)
        return;
    char msg[QPKI_PG_MESSAGE_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log_fn(s->log_user, st, msg);
}

/* ---- staleness and generations -------------------------------------------------------- */

static uint64_t staleness_ms(const struct pg_source *s)
{
    int64_t d = now_ms() - atomic_load_explicit(&s->last_ok_ms, memory_order_acquire);
    return d > 0 ? (uint64_t)d : 0;
}

static bool is_stale(const struct pg_source *s)
{
    return s->max_staleness_ms && staleness_ms(s) > s->max_staleness_ms;
}

/* The stale epoch, moved (odd = stale) when the state changed since it was last
 * looked at. */
static uint64_t current_epoch(struct pg_source *s)
{
    uint64_t e = atomic_load(&s->stale_epoch);
    bool stale = is_stale(s);
    while ((e & 1) != (stale ? 1u : 0u)) {
        if (atomic_compare_exchange_weak(&s->stale_epoch, &e, e + 1)) {
            e++;
            break;
        }
    }
    return e;
}

static qpki_status src_lookup(void *self, const uint8_t *serial, size_t serial_len,
                              qpki_db_entry *out)
{
    struct pg_source *s = self;
    /* RFC 6960 §2.3: tryLater "the responder is unable to respond at this
     * time" -- a table older than the operator allows is never stated as
     * current. */
    if (is_stale(s))
        return QPKI_ERR_STALE;
    return qpki_db_lookup(s->table, serial, serial_len, out);
}

static uint64_t src_generation(void *self)
{
    struct pg_source *s = self;
    uint64_t e = current_epoch(s);
    return (e << GEN_SHIFT) | (qpki_db_generation(s->table) & GEN_MASK);
}

static qpki_status src_changes_since(void *self, uint64_t since, uint64_t *upto,
                                     qpki_db_change_fn fn, void *user)
{
    struct pg_source *s = self;
    uint64_t e = current_epoch(s);
    if (since >> GEN_SHIFT != e) {
        *upto = (e << GEN_SHIFT) | (qpki_db_generation(s->table) & GEN_MASK);
        return QPKI_ERR_NOT_FOUND;
    }
    uint64_t table_upto = 0;
    qpki_status rc = qpki_db_changes_since(s->table, since & GEN_MASK, &table_upto, fn, user);
    *upto = (e << GEN_SHIFT) | (table_upto & GEN_MASK);
    /* turned stale (or fresh) meanwhile: the report does not cover that */
    if (rc == QPKI_OK && current_epoch(s) != e)
        return QPKI_ERR_NOT_FOUND;
    return rc;
}

/* The rows of the table in memory (a responder pre-signs them); the table
 * copes with the following thread changing it meanwhile. */
static qpki_status src_list_serials(void *self, qpki_db_cursor *cursor, size_t max,
                                    qpki_db_change_fn fn, void *user, int *done)
{
    struct pg_source *s = self;
    return qpki_db_list_serials(s->table, cursor, max, fn, user, done);
}

static size_t src_count(void *self)
{
    struct pg_source *s = self;
    return qpki_db_count(s->table);
}

static void src_last_error(void *self, char *buf, size_t size)
{
    struct pg_source *s = self;
    pthread_mutex_lock(&s->err_lock);
    snprintf(buf, size, "%s", s->err);
    pthread_mutex_unlock(&s->err_lock);
}

static qpki_status src_health(void *self, qpki_db_health *out)
{
    struct pg_source *s = self;
    out->connected = atomic_load(&s->connected);
    out->staleness_ms = staleness_ms(s);
    out->changes = atomic_load(&s->changes);
    out->reloads = atomic_load(&s->reloads);
    out->max_staleness_ms = s->max_staleness_ms;
    return QPKI_OK;
}

/* ---- talking to the database ------------------------------------------------------------ */

static void drop_connection(struct pg_source *s)
{
    PQfinish(s->c);
    s->c = NULL;
}

/* Connect, check the schema, LISTEN when the server is a primary. */
static qpki_status connect_checked(struct pg_source *s, char *err, size_t errlen)
{
    s->c = pg_connect(s->url, s->stop_pipe[0], CONNECT_TIMEOUT_MS, err, errlen);
    if (!s->c)
        return QPKI_ERR_IO;
    unsigned version;
    qpki_status rc = pg_schema_check(s->c, s->stop_pipe[0], QUERY_TIMEOUT_MS, &version, err,
                                     errlen);
    if (rc != QPKI_OK) {
        drop_connection(s);
        return rc;
    }
    PGresult *r = pg_exec(s->c, "SELECT pg_is_in_recovery()", 0, NULL, s->stop_pipe[0],
                          QUERY_TIMEOUT_MS, err, errlen);
    if (!r) {
        drop_connection(s);
        return QPKI_ERR_IO;
    }
    bool standby = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    /* a hot standby refuses LISTEN ("cannot execute LISTEN during recovery"):
     * there, polling alone finds the changes */
    if (!standby) {
        r = pg_exec(s->c, "LISTEN qpki_status", 0, NULL, s->stop_pipe[0], QUERY_TIMEOUT_MS,
                    err, errlen);
        if (!r) {
            drop_connection(s);
            return QPKI_ERR_IO;
        }
        PQclear(r);
    }
    return QPKI_OK;
}

struct load_ctx {
    struct pg_source *s;
    pg_bin_reader rd;
    uint64_t rows;
    char *err;
    size_t errlen;
};

static qpki_status load_message(void *user, char *msg, size_t len)
{
    struct load_ctx *l = user;
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t serial_len = 0;
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    bool row = false;
    QPKI_GUARD(pg_bin_message(&l->rd, (const uint8_t *)msg, len, serial, &serial_len, &e, &row,
                              l->err, l->errlen));
    if (!row)
        return QPKI_OK;
    qpki_status rc = qpki_db_memory_put(l->s->table, serial, serial_len, &e);
    if (rc != QPKI_OK) {
        char hex[2 * QPKI_SERIAL_MAX + 1];
        pg_hex(serial, serial_len, hex);
        snprintf(l->err, l->errlen, "cannot keep row %s: %s", hex, qpki_strerror(rc));
        return rc;
    }
    l->rows++;
    return QPKI_OK;
}

static int64_t value_i64(const PGresult *r, int row, int col)
{
    int64_t v = 0;
    if (!PQgetisnull(r, row, col))
        (void)pg_parse_i64(PQgetvalue(r, row, col), &v);
    return v;
}

/* Every row of the CA from one snapshot into a new table, swapped in at once. */
static qpki_status full_load(struct pg_source *s, int timeout_ms, char *err, size_t errlen)
{
    int stop = s->stop_pipe[0];
    const char *p[1];
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    snprintf(ca, sizeof(ca), "\\x%s", s->ca_hex);
    p[0] = ca;
    PGresult *r = pg_exec(s->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                          stop, timeout_ms, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    PQclear(r);
    /* the snapshot's last change of this CA: following continues after it */
    r = pg_exec(s->c,
                "SELECT greatest((SELECT coalesce(max(change_seq), 0) FROM qpki.cert_status "
                "WHERE ca_id = $1), (SELECT coalesce(max(change_seq), 0) FROM "
                "qpki.cert_status_deleted WHERE ca_id = $1))",
                1, p, stop, timeout_ms, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    int64_t upto = value_i64(r, 0, 0);
    PQclear(r);
    char sql[768];
    /* the columns as stored, in binary: the server converts nothing
     * (docs/PERFORMANCE.md "Nodes on PostgreSQL") */
    snprintf(sql, sizeof(sql),
             "COPY (SELECT serial, status, not_after, revocation_time, reason, "
             "hold_instruction, invalidity_date FROM qpki.cert_status "
             "WHERE ca_id = decode('%s', 'hex')) TO STDOUT (FORMAT binary)",
             s->ca_hex);
    qpki_status rc = qpki_db_memory_replace_begin(s->table);
    if (rc != QPKI_OK) {
        snprintf(err, errlen, "cannot start a new table: %s", qpki_strerror(rc));
        return rc;
    }
    struct load_ctx l = {s, {false, false}, 0, err, errlen};
    rc = pg_copy_out(s->c, sql, true, stop, timeout_ms, load_message, &l, err, errlen);
    if (rc == QPKI_OK && !l.rd.ended) {
        snprintf(err, errlen, "malformed binary rows from the database: no end");
        rc = QPKI_ERR_PARSE;
    }
    if (rc == QPKI_OK) {
        r = pg_exec(s->c, "COMMIT", 0, NULL, stop, timeout_ms, err, errlen);
        rc = r ? QPKI_OK : QPKI_ERR_IO;
        PQclear(r);
    }
    if (rc != QPKI_OK) {
        qpki_db_memory_abort(s->table);
        return rc;
    }
    rc = qpki_db_memory_commit(s->table, NULL);
    if (rc != QPKI_OK) {
        snprintf(err, errlen, "cannot publish the new table: %s", qpki_strerror(rc));
        return rc;
    }
    s->last_seq = upto;
    s->need_full = false;
    atomic_fetch_add(&s->reloads, 1);
    return QPKI_OK;
}

/* Apply one batch of changes; *more when the batch was full. */
static qpki_status follow_batch(struct pg_source *s, bool *more, uint64_t *applied, char *err,
                                size_t errlen)
{
    char ca[2 * QPKI_DB_CA_ID_LEN + 3], since[24], limit[16];
    snprintf(ca, sizeof(ca), "\\x%s", s->ca_hex);
    snprintf(since, sizeof(since), "%lld", (long long)s->last_seq);
    snprintf(limit, sizeof(limit), "%d", FOLLOW_BATCH);
    const char *p[3] = {ca, since, limit};
    /* deleted rows come back with status 'D' */
    PGresult *r = pg_exec(s->c,
                          "SELECT encode(serial, 'hex'), status, "
                          "floor(extract(epoch FROM not_after))::bigint, "
                          "floor(extract(epoch FROM revocation_time))::bigint, reason, "
                          "hold_instruction, floor(extract(epoch FROM invalidity_date))::bigint, "
                          "change_seq FROM qpki.cert_status "
                          "WHERE ca_id = $1 AND change_seq > $2 "
                          "UNION ALL SELECT encode(serial, 'hex'), 'D', 0, NULL, NULL, NULL, "
                          "NULL, change_seq FROM qpki.cert_status_deleted "
                          "WHERE ca_id = $1 AND change_seq > $2 "
                          "ORDER BY 8 LIMIT $3",
                          3, p, s->stop_pipe[0], QUERY_TIMEOUT_MS, err, errlen);
    if (!r)
        return QPKI_ERR_IO;
    int n = PQntuples(r);
    qpki_status rc = QPKI_OK;
    int64_t seq = s->last_seq;
    for (int i = 0; i < n && rc == QPKI_OK; i++) {
        char *f[PG_STATUS_COLUMNS];
        for (int k = 0; k < PG_STATUS_COLUMNS; k++)
            f[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
        uint8_t serial[QPKI_SERIAL_MAX];
        size_t serial_len;
        if (f[PG_COL_STATUS] && f[PG_COL_STATUS][0] == 'D') {
            /* the parser checks the serial; the rest of a deletion is empty */
            char v[] = "V", zero[] = "0";
            char *g[PG_STATUS_COLUMNS] = {f[PG_COL_SERIAL], v, zero, NULL, NULL, NULL, NULL};
            qpki_db_entry e;
            qpki_db_entry_init(&e);
            rc = pg_row_parse(g, serial, &serial_len, &e, err, errlen);
            if (rc == QPKI_OK) {
                rc = qpki_db_memory_remove(s->table, serial, serial_len);
                if (rc == QPKI_ERR_NOT_FOUND)
                    rc = QPKI_OK; /* deleted before we loaded it */
            }
        } else {
            qpki_db_entry e;
            qpki_db_entry_init(&e);
            rc = pg_row_parse(f, serial, &serial_len, &e, err, errlen);
            if (rc == QPKI_OK)
                rc = qpki_db_memory_put(s->table, serial, serial_len, &e);
        }
        if (rc == QPKI_OK)
            seq = value_i64(r, i, 7);
        else if (!err[0])
            snprintf(err, errlen, "cannot apply a change: %s", qpki_strerror(rc));
    }
    PQclear(r);
    /* publish what was applied (also after a failure: those rows are current) */
    qpki_status crc = qpki_db_memory_commit(s->table, NULL);
    if (rc == QPKI_OK && crc != QPKI_OK) {
        snprintf(err, errlen, "cannot publish changes: %s", qpki_strerror(crc));
        rc = crc;
    }
    if (rc != QPKI_OK)
        return rc;
    *applied += (uint64_t)n;
    s->last_seq = seq;
    *more = n == FOLLOW_BATCH;
    return QPKI_OK;
}

/* Bring the table up to date: changes since last_seq, or everything when the
 * sequence went backwards (checked when check_sequence: on polls, not on every
 * notification) or a reload is due. */
static qpki_status catch_up(struct pg_source *s, bool check_sequence, uint64_t *applied,
                           char *err, size_t errlen)
{
    *applied = 0;
    if (!s->need_full && check_sequence) {
        PGresult *r = pg_exec(s->c,
                              "SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
                              "FROM qpki.change_seq",
                              0, NULL, s->stop_pipe[0], QUERY_TIMEOUT_MS, err, errlen);
        if (!r)
            return QPKI_ERR_IO;
        int64_t seq = value_i64(r, 0, 0);
        PQclear(r);
        if (seq < s->last_seq) {
            say(s, QPKI_OK,
                "status database: the change sequence went back from %lld to %lld (a "
                "restored database?): reloading every row",
                (long long)s->last_seq, (long long)seq);
            s->need_full = true;
        }
    }
    if (s->need_full) {
        QPKI_GUARD(full_load(s, LOAD_TIMEOUT_MS, err, errlen));
        say(s, QPKI_OK, "status database reloaded: %zu rows (change %lld)",
            qpki_db_count(s->table), (long long)s->last_seq);
        return QPKI_OK;
    }
    bool more = true;
    for (int batches = 0; more; batches++) {
        if (batches == 5) {
            /* far behind (a long outage, a large import): one snapshot is
             * cheaper than many batches */
            s->need_full = true;
            return catch_up(s, false, applied, err, errlen);
        }
        QPKI_GUARD(follow_batch(s, &more, applied, err, errlen));
    }
    atomic_fetch_add(&s->changes, *applied);
    return QPKI_OK;
}

/* Wait up to ms for a notification: 1 notified, 0 time passed, -1 stop,
 * -2 the connection failed. */
static int wait_change(struct pg_source *s, int64_t ms)
{
    int64_t deadline = now_ms() + ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd fds[2] = {{PQsocket(s->c), POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
        int n = poll(fds, 2, (int)left);
        if (n < 0 && errno != EINTR)
            return -2;
        if (n <= 0)
            continue;
        if (fds[1].revents & POLLIN)
            return -1;
        if (!fds[0].revents)
            continue;
        if (!PQconsumeInput(s->c))
            return -2;
        bool notified = false;
        PGnotify *note;
        while ((note = PQnotifies(s->c)) != NULL) {
            notified = true;
            PQfreemem(note);
        }
        if (notified)
            return 1;
        if (PQstatus(s->c) != CONNECTION_OK)
            return -2;
    }
}

/* Sleep ms unless asked to stop (true: stop). */
static bool sleep_or_stop(struct pg_source *s, int64_t ms)
{
    struct pollfd fd = {s->stop_pipe[0], POLLIN, 0};
    int64_t deadline = now_ms() + ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        int n = poll(&fd, 1, (int)left);
        if (n > 0 && (fd.revents & POLLIN))
            return true;
    }
}

static void lost(struct pg_source *s, const char *why)
{
    set_error(s, why);
    if (atomic_exchange(&s->connected, 0) == 1) {
        s->lost_at_ms = now_ms();
        snprintf(s->logged, sizeof(s->logged), "%s", why);
        say(s, QPKI_ERR_IO,
            "status database connection lost: %s; answering from the table (%zu rows) "
            "and reconnecting",
            why, qpki_db_count(s->table));
    } else if (strcmp(s->logged, why) != 0) {
        snprintf(s->logged, sizeof(s->logged), "%s", why);
        say(s, QPKI_ERR_IO, "status database still unreachable: %s", why);
    }
}

static void *follow(void *arg)
{
    struct pg_source *s = arg;
    int64_t backoff = BACKOFF_FIRST_MS;
    char err[QPKI_PG_MESSAGE_MAX];
    bool notified = false;
    for (;;) {
        if (!s->c) {
            err[0] = '\0';
            qpki_status rc = connect_checked(s, err, sizeof(err));
            if (rc != QPKI_OK) {
                if (strcmp(err, "stopped") == 0 || strstr(err, ": stopped"))
                    break;
                lost(s, err);
                if (sleep_or_stop(s, backoff))
                    break;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            backoff = BACKOFF_FIRST_MS;
        }
        int64_t t0 = now_ms();
        uint64_t applied = 0;
        err[0] = '\0';
        qpki_status rc = catch_up(s, !notified, &applied, err, sizeof(err));
        if (rc != QPKI_OK) {
            if (strcmp(err, "stopped") == 0)
                break;
            drop_connection(s);
            lost(s, err);
            continue;
        }
        if ((applied || s->reloads_seen != atomic_load(&s->reloads)) && s->changed_fn)
            s->changed_fn(s->changed_user);
        s->reloads_seen = atomic_load(&s->reloads);
        atomic_store_explicit(&s->last_ok_ms, t0, memory_order_release);
        if (atomic_exchange(&s->connected, 1) == 0) {
            set_error(s, "");
            s->logged[0] = '\0';
            say(s, QPKI_OK,
                "status database connection back after %.1f s; caught up %llu changes "
                "(%zu rows)",
                (double)(now_ms() - s->lost_at_ms) / 1000.0, (unsigned long long)applied,
                qpki_db_count(s->table));
        }
        int w = wait_change(s, s->poll_ms);
        notified = w == 1;
        if (w == -1)
            break;
        if (w == -2) {
            char m[QPKI_PG_MESSAGE_MAX];
            snprintf(m, sizeof(m), "connection lost: %s", PQerrorMessage(s->c));
            m[strcspn(m, "\n")] = '\0';
            drop_connection(s);
            lost(s, m);
        }
    }
    drop_connection(s);
    return NULL;
}

/* ---- lifetime ----------------------------------------------------------------------------- */

static void src_free(struct pg_source *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        ssize_t w;
        do
            w = write(s->stop_pipe[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
    }
    drop_connection(s);
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    qpki_db_free(&s->table);
    pthread_mutex_destroy(&s->err_lock);
    free(s->url);
    free(s);
}

static void src_close(void *self)
{
    src_free(self);
}

static const qpki_status_db_ops source_ops = {
    .abi_version = QPKI_DB_ABI_V4,
    .struct_size = (uint32_t)sizeof(qpki_status_db_ops),
    .lookup = src_lookup,
    .generation = src_generation,
    .refresh = NULL, /* the following thread keeps the table current */
    .count = src_count,
    .last_error = src_last_error,
    .close = src_close,
    .changes_since = src_changes_since,
    .health = src_health,
    .list_serials = src_list_serials,
};

qpki_status pg_source_open(const qpki_db_source_params *p, const qpki_status_db_ops **ops,
                           void **self, char *err, size_t errlen)
{
    QPKI_GUARD(pg_url_check(p->url, err, errlen));
    struct pg_source *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return QPKI_ERR_NOMEM;
    }
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    pthread_mutex_init(&s->err_lock, NULL);
    s->url = strdup(p->url);
    pg_hex(p->ca_id, QPKI_DB_CA_ID_LEN, s->ca_hex);
    snprintf(s->ca_name, sizeof(s->ca_name), "%s", p->ca_name ? p->ca_name : s->ca_hex);
    s->poll_ms = p->poll_ms ? p->poll_ms : 1000;
    s->max_staleness_ms = p->max_staleness_ms;
    s->log_fn = p->log_fn;
    s->log_user = p->log_user;
    if (p->struct_size >= offsetof(qpki_db_source_params, changed_user) + sizeof(void *)) {
        s->changed_fn = p->changed_fn;
        s->changed_user = p->changed_user;
    }
    s->need_full = true;
    qpki_status rc = QPKI_ERR_NOMEM;
    if (!s->url || pipe2(s->stop_pipe, O_CLOEXEC) != 0 ||
        (rc = qpki_db_memory_new(s->ca_name, &s->table)) != QPKI_OK) {
        snprintf(err, errlen, "cannot set up the table: %s", qpki_strerror(rc));
        src_free(s);
        return rc;
    }
    rc = connect_checked(s, err, errlen);
    if (rc == QPKI_OK) {
        int64_t t0 = now_ms();
        rc = full_load(s, LOAD_TIMEOUT_MS, err, errlen);
        atomic_store(&s->last_ok_ms, t0);
        atomic_store(&s->connected, 1);
    }
    s->reloads_seen = atomic_load(&s->reloads);
    if (rc == QPKI_OK && pthread_create(&s->thread, NULL, follow, s) != 0) {
        snprintf(err, errlen, "cannot start the following thread");
        rc = QPKI_ERR_NOMEM;
    }
    if (rc != QPKI_OK) {
        src_free(s);
        return rc;
    }
    s->thread_started = true;
    *ops = &source_ops;
    *self = s;
    return QPKI_OK;
}
