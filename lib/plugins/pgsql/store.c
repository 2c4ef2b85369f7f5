/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/store.c - the writing side (qpki_db_store_ops): schema
 * creation and migration, imports with COPY, issuance, revocation and reading
 * a CA's rows back.  Used by the CA commands (`qpki db ...`, `qpki cert ...
 * --db`), one thread, blocking calls with generous deadlines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/db_plugin.h>

#include "pgsql.h"
#include "pgconn.h"
#include "values.h"

/* A CA command may wait this long for one statement (an import of millions
 * of rows is one statement). */
#define STORE_TIMEOUT_MS (6 * 3600 * 1000)
#define STORE_CONNECT_MS 30000
#define COPY_CHUNK (256 * 1024)

struct pg_store {
    PGconn *c;
    char err[QPKI_PG_MESSAGE_MAX];
    bool schema_ok;
    bool importing;
    char ca_hex[2 * QPKI_DB_CA_ID_LEN + 1];
    char *buf;
    size_t len;
};

static qpki_status fail_msg(struct pg_store *s, qpki_status rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static qpki_status fail_msg(struct pg_store *s, qpki_status rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return rc;
}

/* Run sql; NULL (message in s->err) on failure. */
static PGresult *run(struct pg_store *s, const char *sql, int n, const char *const *params)
{
    return pg_exec(s->c, sql, n, params, -1, STORE_TIMEOUT_MS, s->err, sizeof(s->err));
}

static bool run_ok(struct pg_store *s, const char *sql, int n, const char *const *params)
{
    PGresult *r = run(s, sql, n, params);
    PQclear(r);
    return r != NULL;
}

static void rollback(struct pg_store *s)
{
    char keep[sizeof(s->err)];
    memcpy(keep, s->err, sizeof(keep));
    PQclear(pg_exec(s->c, "ROLLBACK", 0, NULL, -1, 30000, NULL, 0));
    memcpy(s->err, keep, sizeof(keep));
}

static qpki_status need_schema(struct pg_store *s)
{
    if (s->schema_ok)
        return QPKI_OK;
    unsigned v;
    qpki_status rc = pg_schema_check(s->c, -1, STORE_CONNECT_MS, &v, s->err, sizeof(s->err));
    if (rc == QPKI_OK)
        s->schema_ok = true;
    return rc;
}

static bool ca_param(struct pg_store *s, const uint8_t *ca_id, size_t len, char *out)
{
    if (!ca_id || len != QPKI_DB_CA_ID_LEN) {
        fail_msg(s, QPKI_ERR_INVALID_ARG, "a CA identifier is %d octets", QPKI_DB_CA_ID_LEN);
        return false;
    }
    out[0] = '\\';
    out[1] = 'x';
    pg_hex(ca_id, len, out + 2);
    return true;
}

/* ---- schema ---------------------------------------------------------------------- */

static qpki_status st_init_schema(void *self, uint32_t *before, uint32_t *after)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    *before = *after = 0;
    if (!run_ok(s, "BEGIN", 0, NULL))
        return QPKI_ERR_IO;
    char lock[64];
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", PG_LOCK_INIT);
    if (!run_ok(s, lock, 0, NULL)) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    unsigned version = 0;
    qpki_status rc = pg_schema_check(s->c, -1, STORE_TIMEOUT_MS, &version, s->err,
                                     sizeof(s->err));
    if (rc == QPKI_ERR_NOT_FOUND && version == 0) {
        rc = QPKI_OK; /* nothing there yet */
        s->err[0] = '\0';
    }
    if (rc != QPKI_OK) {
        rollback(s);
        return rc;
    }
    *before = *after = version;
    for (size_t i = 0; i < pg_migrations_count; i++) {
        const struct pg_migration *m = &pg_migrations[i];
        if (m->version <= version)
            continue;
        PGresult *r = run(s, m->sql, 0, NULL);
        if (!r) {
            char why[sizeof(s->err)];
            memcpy(why, s->err, sizeof(why));
            fail_msg(s, QPKI_ERR_IO, "migration %s failed: %s", m->name, why);
            rollback(s);
            return QPKI_ERR_IO;
        }
        PQclear(r);
        char v[16];
        snprintf(v, sizeof(v), "%u", m->version);
        const char *p[1] = {v};
        if (!run_ok(s, "INSERT INTO qpki.schema_version (version) VALUES ($1)", 1, p)) {
            rollback(s);
            return QPKI_ERR_IO;
        }
        *after = m->version;
    }
    if (!run_ok(s, "COMMIT", 0, NULL))
        return QPKI_ERR_IO;
    s->schema_ok = true;
    return QPKI_OK;
}

/* ---- import ------------------------------------------------------------------------ */

static qpki_status flush_copy(struct pg_store *s)
{
    if (s->len == 0)
        return QPKI_OK;
    if (PQputCopyData(s->c, s->buf, (int)s->len) != 1) {
        char m[QPKI_PG_MESSAGE_MAX];
        snprintf(m, sizeof(m), "%s", PQerrorMessage(s->c));
        m[strcspn(m, "\n")] = '\0';
        return fail_msg(s, QPKI_ERR_IO, "sending rows failed: %s", m);
    }
    s->len = 0;
    return QPKI_OK;
}

static qpki_status st_import_begin(void *self, const uint8_t *ca_id, size_t ca_id_len,
                                   const char *name, const uint8_t *cert_der, size_t cert_len)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    if (s->importing)
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "an import is already running");
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    if (!ca_param(s, ca_id, ca_id_len, ca))
        return QPKI_ERR_INVALID_ARG;
    QPKI_GUARD(need_schema(s));
    char subject[1024] = "";
    char *cert_param = NULL;
    if (cert_der && cert_len) {
        qpki_cert *cert = NULL;
        if (qpki_cert_parse(cert_der, cert_len, &cert) == QPKI_OK)
            (void)qpki_cert_subject_text(cert, subject, sizeof(subject));
        qpki_cert_free(&cert);
        cert_param = malloc(2 * cert_len + 3);
        if (!cert_param)
            return fail_msg(s, QPKI_ERR_NOMEM, "out of memory");
        cert_param[0] = '\\';
        cert_param[1] = 'x';
        pg_hex(cert_der, cert_len, cert_param + 2);
    }
    s->buf = malloc(COPY_CHUNK + PG_ROW_MAX);
    if (!s->buf) {
        free(cert_param);
        return fail_msg(s, QPKI_ERR_NOMEM, "out of memory");
    }
    s->len = 0;
    memcpy(s->ca_hex, ca + 2, sizeof(s->ca_hex));
    const char *p[4] = {ca, name && name[0] ? name : NULL, subject[0] ? subject : NULL,
                        cert_param};
    bool ok = run_ok(s, "BEGIN", 0, NULL) &&
              run_ok(s,
                     "INSERT INTO qpki.ca (ca_id, name, subject, certificate) "
                     "VALUES ($1, $2, $3, $4) ON CONFLICT (ca_id) DO UPDATE SET "
                     "name = coalesce(EXCLUDED.name, qpki.ca.name), "
                     "subject = coalesce(EXCLUDED.subject, qpki.ca.subject), "
                     "certificate = coalesce(EXCLUDED.certificate, qpki.ca.certificate)",
                     4, p) &&
              run_ok(s,
                     "CREATE TEMPORARY TABLE qpki_import (serial text NOT NULL, "
                     "status char(1) NOT NULL, not_after bigint NOT NULL, "
                     "revocation_time bigint, reason smallint, hold_instruction smallint, "
                     "invalidity_date bigint, filename text, subject text) ON COMMIT DROP",
                     0, NULL);
    free(cert_param);
    if (ok) {
        PGresult *r = PQexec(s->c, "COPY qpki_import FROM STDIN");
        ok = r && PQresultStatus(r) == PGRES_COPY_IN;
        if (!ok && r)
            pg_result_message(r, s->err, sizeof(s->err));
        PQclear(r);
    }
    if (!ok) {
        rollback(s);
        free(s->buf);
        s->buf = NULL;
        return QPKI_ERR_IO;
    }
    s->importing = true;
    return QPKI_OK;
}

static qpki_status st_import_row(void *self, const qpki_db_row *row)
{
    struct pg_store *s = self;
    if (!s->importing)
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "no import running");
    if (!row || !row->entry || (!row->serial && row->serial_len))
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "invalid row");
    const uint8_t *serial = row->serial;
    size_t serial_len = row->serial_len;
    while (serial_len && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    size_t start = s->len;
    size_t cap = COPY_CHUNK + PG_ROW_MAX;
    qpki_status rc = pg_row_format(serial, serial_len, row->entry, s->buf, &s->len, cap);
    if (rc == QPKI_OK) {
        bool ok = s->len + 1 < cap;
        if (ok)
            s->buf[s->len++] = '\t';
        ok = ok && pg_copy_put_text(s->buf, &s->len, cap, row->filename) && s->len + 1 < cap;
        if (ok)
            s->buf[s->len++] = '\t';
        ok = ok && pg_copy_put_text(s->buf, &s->len, cap, row->subject) && s->len + 1 < cap;
        if (ok)
            s->buf[s->len++] = '\n';
        if (!ok)
            rc = QPKI_ERR_TOO_LARGE;
    }
    if (rc != QPKI_OK) {
        s->len = start;
        char hex[2 * QPKI_SERIAL_MAX + 1];
        pg_hex(serial, serial_len > QPKI_SERIAL_MAX ? 0 : serial_len, hex);
        return fail_msg(s, rc, "serial %s: %s", hex,
                        rc == QPKI_ERR_TOO_LARGE ? "filename and subject too long"
                                                 : "the row breaks the schema's rules");
    }
    if (s->len >= COPY_CHUNK)
        return flush_copy(s);
    return QPKI_OK;
}

static qpki_status end_copy(struct pg_store *s, const char *abort_msg)
{
    qpki_status rc = abort_msg ? QPKI_OK : flush_copy(s);
    if (rc != QPKI_OK)
        abort_msg = "client error";
    if (PQputCopyEnd(s->c, abort_msg) != 1 && rc == QPKI_OK)
        rc = fail_msg(s, QPKI_ERR_IO, "ending COPY failed");
    PGresult *r;
    while ((r = PQgetResult(s->c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == QPKI_OK && !abort_msg) {
            pg_result_message(r, s->err, sizeof(s->err));
            rc = QPKI_ERR_IO;
        }
        PQclear(r);
    }
    return rc;
}

static qpki_status st_import_end(void *self, bool commit, qpki_db_import_counts *counts)
{
    struct pg_store *s = self;
    if (counts)
        memset(counts, 0, sizeof(*counts));
    if (!s->importing)
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "no import running");
    s->importing = false;
    qpki_status rc = end_copy(s, commit ? NULL : "import abandoned");
    free(s->buf);
    s->buf = NULL;
    if (!commit || rc != QPKI_OK) {
        rollback(s);
        return rc;
    }
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    snprintf(ca, sizeof(ca), "\\x%s", s->ca_hex);
    const char *p[1] = {ca};
    /* Writers of status rows run one after another (sql/001_init.sql): take
     * the lock now, so that no row of this CA appears between the look below
     * and the insert.  The sort wants memory of its own (spills to disk past
     * it). */
    char lock[64];
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", PG_LOCK_WRITERS);
    if (!run_ok(s, lock, 0, NULL) || !run_ok(s, "SET LOCAL work_mem = '256MB'", 0, NULL)) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    PGresult *r = run(s, "SELECT EXISTS (SELECT 1 FROM qpki.cert_status WHERE ca_id = $1)", 1, p);
    if (!r) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    bool first = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 'f';
    PQclear(r);
    /* Rows go in in the order of the primary key: each index page is then
     * filled once, where random serials would touch a random page per row
     * (docs/PERFORMANCE.md "Nodes on PostgreSQL": 2x the CPU). */
    static const char select_rows[] =
        "SELECT $1::bytea, decode(serial, 'hex'), status, to_timestamp(not_after), "
        "to_timestamp(revocation_time), reason, hold_instruction, "
        "to_timestamp(invalidity_date), filename, subject FROM qpki_import "
        "ORDER BY decode(serial, 'hex')";
    static const char insert_into[] =
        "INSERT INTO qpki.cert_status AS c (ca_id, serial, status, not_after, "
        "revocation_time, reason, hold_instruction, invalidity_date, filename, subject) ";
    char sql[2048];
    if (first) {
        /* The CA has no row yet: a plain insert (a serial twice in the import
         * breaks the primary key; the savepoint lets us name it). */
        snprintf(sql, sizeof(sql), "%s%s", insert_into, select_rows);
        if (!run_ok(s, "SAVEPOINT qpki_import", 0, NULL)) {
            rollback(s);
            return QPKI_ERR_IO;
        }
    } else {
        /* Insert new serials; update rows whose answer-relevant fields differ
         * (the trigger numbers those changes); leave the rest.  xmax = 0 marks
         * a row this statement inserted. */
        snprintf(sql, sizeof(sql),
                 "WITH up AS (%s%s "
                 "ON CONFLICT (ca_id, serial) DO UPDATE SET status = EXCLUDED.status, "
                 "not_after = EXCLUDED.not_after, revocation_time = EXCLUDED.revocation_time, "
                 "reason = EXCLUDED.reason, hold_instruction = EXCLUDED.hold_instruction, "
                 "invalidity_date = EXCLUDED.invalidity_date, filename = EXCLUDED.filename, "
                 "subject = EXCLUDED.subject "
                 "WHERE (c.status, c.not_after, c.revocation_time, c.reason, "
                 "c.hold_instruction, c.invalidity_date) IS DISTINCT FROM (EXCLUDED.status, "
                 "EXCLUDED.not_after, EXCLUDED.revocation_time, EXCLUDED.reason, "
                 "EXCLUDED.hold_instruction, EXCLUDED.invalidity_date) "
                 "RETURNING (xmax = 0) AS inserted) "
                 "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), "
                 "(SELECT count(*) FROM qpki_import) FROM up",
                 insert_into, select_rows);
    }
    /* a serial twice in one import would make the upsert touch a row twice */
    static const char twice[] =
        "SELECT serial FROM qpki_import GROUP BY serial HAVING count(*) > 1 LIMIT 1";
    if (!first) {
        r = run(s, twice, 0, NULL);
        if (!r) {
            rollback(s);
            return QPKI_ERR_IO;
        }
        if (PQntuples(r) > 0) {
            fail_msg(s, QPKI_ERR_EXISTS, "serial %s appears twice in the import",
                     PQgetvalue(r, 0, 0));
            PQclear(r);
            rollback(s);
            return QPKI_ERR_EXISTS;
        }
        PQclear(r);
    }
    r = run(s, sql, 1, p);
    if (!r) {
        char why[sizeof(s->err)];
        memcpy(why, s->err, sizeof(why));
        /* name the serial that broke the key, if that was the cause */
        PGresult *d = NULL;
        if (first && run_ok(s, "ROLLBACK TO SAVEPOINT qpki_import", 0, NULL))
            d = run(s, twice, 0, NULL);
        qpki_status drc = QPKI_ERR_IO;
        if (d && PQntuples(d) > 0) {
            fail_msg(s, QPKI_ERR_EXISTS, "serial %s appears twice in the import",
                     PQgetvalue(d, 0, 0));
            drc = QPKI_ERR_EXISTS;
        } else {
            memcpy(s->err, why, sizeof(why));
        }
        PQclear(d);
        rollback(s);
        return drc;
    }
    int64_t ins = 0, upd = 0, total = 0;
    bool ok;
    if (first) {
        ok = pg_parse_i64(PQcmdTuples(r), &ins);
        total = ins;
    } else {
        ok = PQntuples(r) == 1 && pg_parse_i64(PQgetvalue(r, 0, 0), &ins) &&
             pg_parse_i64(PQgetvalue(r, 0, 1), &upd) && pg_parse_i64(PQgetvalue(r, 0, 2), &total);
    }
    PQclear(r);
    if (!ok) {
        rollback(s);
        return fail_msg(s, QPKI_ERR_IO, "unexpected answer to the import");
    }
    if (!run_ok(s, "COMMIT", 0, NULL))
        return QPKI_ERR_IO;
    if (counts) {
        counts->inserted = (uint64_t)ins;
        counts->updated = (uint64_t)upd;
        counts->unchanged = (uint64_t)(total - ins - upd);
    }
    return QPKI_OK;
}

/* ---- single rows ------------------------------------------------------------------------ */

/* Text parameters of a row's columns: serial hex, status, times, codes. */
struct row_params {
    char serial[2 * QPKI_SERIAL_MAX + 1];
    char status[2];
    char not_after[24], revocation[24], reason[8], hold[8], invalidity[24];
};

static qpki_status row_params(struct pg_store *s, const uint8_t *serial, size_t serial_len,
                              const qpki_db_entry *e, struct row_params *p)
{
    while (serial_len && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    if (serial_len > QPKI_SERIAL_MAX || pg_entry_check(e) != QPKI_OK)
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "the row breaks the schema's rules");
    pg_hex(serial, serial_len, p->serial);
    p->status[0] = e->row_status;
    p->status[1] = '\0';
    snprintf(p->not_after, sizeof(p->not_after), "%lld", (long long)e->expiry);
    snprintf(p->revocation, sizeof(p->revocation), "%lld", (long long)e->revocation_time);
    snprintf(p->reason, sizeof(p->reason), "%d", (int)e->reason);
    snprintf(p->hold, sizeof(p->hold), "%d", (int)e->hold_instruction);
    snprintf(p->invalidity, sizeof(p->invalidity), "%lld", (long long)e->invalidity_date);
    return QPKI_OK;
}

static qpki_status st_insert(void *self, const uint8_t *ca_id, size_t ca_id_len,
                             const qpki_db_row *row)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    if (!ca_param(s, ca_id, ca_id_len, ca))
        return QPKI_ERR_INVALID_ARG;
    if (!row || !row->entry || (!row->serial && row->serial_len))
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "invalid row");
    QPKI_GUARD(need_schema(s));
    struct row_params rp;
    QPKI_GUARD(row_params(s, row->serial, row->serial_len, row->entry, &rp));
    bool revoked = row->entry->row_status == 'R';
    const char *p[10] = {
        ca, rp.serial, rp.status, rp.not_after, revoked ? rp.revocation : NULL,
        revoked && row->entry->reason != QPKI_REASON_NONE ? rp.reason : NULL,
        row->entry->hold_instruction ? rp.hold : NULL,
        row->entry->invalidity_date ? rp.invalidity : NULL, row->filename, row->subject,
    };
    /* one statement: one transaction */
    PGresult *r = run(s,
                      "WITH ca AS (INSERT INTO qpki.ca (ca_id) VALUES ($1) "
                      "ON CONFLICT (ca_id) DO NOTHING) "
                      "INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, "
                      "revocation_time, reason, hold_instruction, invalidity_date, filename, "
                      "subject) VALUES ($1, decode($2, 'hex'), $3, to_timestamp($4::bigint), "
                      "to_timestamp($5::bigint), $6, $7, to_timestamp($8::bigint), $9, $10) "
                      "ON CONFLICT (ca_id, serial) DO NOTHING RETURNING 1",
                      10, p);
    if (!r)
        return QPKI_ERR_IO;
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        return fail_msg(s, QPKI_ERR_EXISTS, "serial %s is already recorded for this CA",
                        rp.serial);
    return QPKI_OK;
}

static qpki_status st_revoke(void *self, const uint8_t *ca_id, size_t ca_id_len,
                             const uint8_t *serial, size_t serial_len,
                             const qpki_db_entry *revocation)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    if (!ca_param(s, ca_id, ca_id_len, ca))
        return QPKI_ERR_INVALID_ARG;
    if (!revocation || (!serial && serial_len))
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "invalid argument");
    QPKI_GUARD(need_schema(s));
    qpki_db_entry e = *revocation;
    e.row_status = 'R';
    struct row_params rp;
    QPKI_GUARD(row_params(s, serial, serial_len, &e, &rp));
    if (!run_ok(s, "BEGIN", 0, NULL))
        return QPKI_ERR_IO;
    const char *key[2] = {ca, rp.serial};
    PGresult *r = run(s,
                      "SELECT status FROM qpki.cert_status WHERE ca_id = $1 "
                      "AND serial = decode($2, 'hex') FOR UPDATE",
                      2, key);
    if (!r) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    qpki_status rc = QPKI_OK;
    if (PQntuples(r) == 0)
        rc = fail_msg(s, QPKI_ERR_NOT_FOUND, "serial %s is not recorded for this CA",
                      rp.serial);
    else if (PQgetvalue(r, 0, 0)[0] == 'R')
        rc = fail_msg(s, QPKI_ERR_EXISTS, "serial %s is already revoked", rp.serial);
    PQclear(r);
    if (rc != QPKI_OK) {
        rollback(s);
        return rc;
    }
    const char *p[6] = {
        ca, rp.serial, rp.revocation, e.reason != QPKI_REASON_NONE ? rp.reason : NULL,
        e.hold_instruction ? rp.hold : NULL, e.invalidity_date ? rp.invalidity : NULL,
    };
    if (!run_ok(s,
                "UPDATE qpki.cert_status SET status = 'R', "
                "revocation_time = to_timestamp($3::bigint), reason = $4, hold_instruction = $5, "
                "invalidity_date = to_timestamp($6::bigint) "
                "WHERE ca_id = $1 AND serial = decode($2, 'hex')",
                6, p)) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    return run_ok(s, "COMMIT", 0, NULL) ? QPKI_OK : QPKI_ERR_IO;
}

/* ---- CRL numbers (schema version 2) ------------------------------------------------- */

/* Decimal digits (a numeric's text) to a big-endian magnitude. */
static bool decimal_to_magnitude(const char *text, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0; /* out[cap - n .. cap) holds the value so far */
    if (!*text)
        return false;
    for (const char *d = text; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        unsigned carry = (unsigned)(*d - '0');
        for (size_t i = 0; i < n; i++) {
            unsigned v = out[cap - 1 - i] * 10u + carry;
            out[cap - 1 - i] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry) {
            if (n == cap)
                return false;
            out[cap - 1 - n++] = (uint8_t)carry;
        }
    }
    memmove(out, out + cap - n, n);
    *len = n;
    return true;
}

static qpki_status st_next_crl_number(void *self, const uint8_t *ca_id, size_t ca_id_len,
                                      uint8_t *number, size_t cap, size_t *len)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    if (!ca_param(s, ca_id, ca_id_len, ca))
        return QPKI_ERR_INVALID_ARG;
    if (!number || !len)
        return fail_msg(s, QPKI_ERR_INVALID_ARG, "invalid argument");
    QPKI_GUARD(need_schema(s));
    PGresult *r = run(s, "SELECT coalesce(max(version), 0) FROM qpki.schema_version", 0, NULL);
    if (!r)
        return QPKI_ERR_IO;
    int64_t version = 0;
    bool ok = PQntuples(r) == 1 && pg_parse_i64(PQgetvalue(r, 0, 0), &version);
    PQclear(r);
    if (!ok)
        return fail_msg(s, QPKI_ERR_IO, "cannot read qpki.schema_version");
    if (version < 2)
        return fail_msg(s, QPKI_ERR_UNSUPPORTED,
                        "the qpki schema (version %lld) has no CRL numbers: run `qpki db init "
                        "--db URL` to migrate it", (long long)version);
    /* RFC 5280 §5.2.3: at most 20 octets - the number after this one too */
    if (!run_ok(s, "BEGIN", 0, NULL))
        return QPKI_ERR_IO;
    const char *p[1] = {ca};
    r = run(s,
            "UPDATE qpki.ca SET crl_number = crl_number + 1 WHERE ca_id = $1 "
            "RETURNING (crl_number - 1)::text, crl_number < 2 ^ 159",
            1, p);
    if (!r) {
        rollback(s);
        return QPKI_ERR_IO;
    }
    qpki_status rc = QPKI_OK;
    uint8_t buf[QPKI_CRL_NUMBER_MAX + 1];
    size_t n = 0;
    if (PQntuples(r) != 1)
        rc = fail_msg(s, QPKI_ERR_NOT_FOUND, "the CA is not registered in the status "
                                             "database (qpki db init --ca-dir)");
    else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0)
        rc = fail_msg(s, QPKI_ERR_LIMIT, "the next CRL number would pass 20 octets");
    else if (!decimal_to_magnitude(PQgetvalue(r, 0, 0), buf, sizeof(buf), &n))
        rc = fail_msg(s, QPKI_ERR_IO, "qpki.ca.crl_number is not a number");
    else if (n > cap)
        rc = fail_msg(s, QPKI_ERR_BUFFER_TOO_SMALL, "buffer too small");
    PQclear(r);
    if (rc != QPKI_OK) {
        rollback(s);
        return rc;
    }
    if (!run_ok(s, "COMMIT", 0, NULL))
        return QPKI_ERR_IO;
    memcpy(number, buf, n);
    *len = n;
    return QPKI_OK;
}

/* ---- reading ------------------------------------------------------------------------------- */

struct walk {
    struct pg_store *s;
    qpki_db_row_fn fn;
    void *user;
    bool stopped;
};

static qpki_status walk_line(void *user, char *line, size_t len)
{
    (void)len;
    struct walk *w = user;
    if (w->stopped)
        return QPKI_OK;
    char *f[PG_STATUS_COLUMNS + 2];
    if (pg_copy_split(line, f, PG_STATUS_COLUMNS + 2) != PG_STATUS_COLUMNS + 2)
        return fail_msg(w->s, QPKI_ERR_PARSE, "malformed row from the database");
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t serial_len = 0;
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    QPKI_GUARD(pg_row_parse(f, serial, &serial_len, &e, w->s->err, sizeof(w->s->err)));
    qpki_db_row row = {
        .struct_size = (uint32_t)sizeof(row),
        .serial = serial,
        .serial_len = serial_len,
        .entry = &e,
        .filename = f[PG_STATUS_COLUMNS],
        .subject = f[PG_STATUS_COLUMNS + 1],
    };
    if (w->fn(w->user, &row) != 0)
        w->stopped = true;
    return QPKI_OK;
}

static qpki_status st_foreach(void *self, const uint8_t *ca_id, size_t ca_id_len,
                              qpki_db_row_fn fn, void *user)
{
    struct pg_store *s = self;
    s->err[0] = '\0';
    char ca[2 * QPKI_DB_CA_ID_LEN + 3];
    if (!ca_param(s, ca_id, ca_id_len, ca) || !fn)
        return QPKI_ERR_INVALID_ARG;
    QPKI_GUARD(need_schema(s));
    /* COPY takes no parameters: the CA is inlined as hex digits (ca_param made
     * them), which need no quoting.  Ordered by number: by length, then bytes
     * (magnitudes have no leading zero octets). */
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "COPY (SELECT encode(serial, 'hex'), status, "
             "floor(extract(epoch FROM not_after))::bigint, "
             "floor(extract(epoch FROM revocation_time))::bigint, reason, hold_instruction, "
             "floor(extract(epoch FROM invalidity_date))::bigint, filename, subject "
             "FROM qpki.cert_status WHERE ca_id = decode('%s', 'hex') "
             "ORDER BY octet_length(serial), serial) TO STDOUT",
             ca + 2);
    struct walk w = {s, fn, user, false};
    return pg_copy_out(s->c, sql, false, -1, STORE_TIMEOUT_MS, walk_line, &w, s->err, sizeof(s->err));
}

static void st_last_error(void *self, char *buf, size_t size)
{
    struct pg_store *s = self;
    snprintf(buf, size, "%s", s->err);
}

static void st_close(void *self)
{
    struct pg_store *s = self;
    if (!s)
        return;
    if (s->importing)
        (void)st_import_end(s, false, NULL);
    PQfinish(s->c);
    free(s->buf);
    free(s);
}

static const qpki_db_store_ops store_ops = {
    .abi_version = QPKI_DB_STORE_ABI_V2,
    .struct_size = (uint32_t)sizeof(qpki_db_store_ops),
    .init_schema = st_init_schema,
    .import_begin = st_import_begin,
    .import_row = st_import_row,
    .import_end = st_import_end,
    .insert = st_insert,
    .revoke = st_revoke,
    .foreach = st_foreach,
    .last_error = st_last_error,
    .close = st_close,
    .next_crl_number = st_next_crl_number,
};

qpki_status pg_store_open(const char *url, const qpki_db_store_ops **ops, void **self,
                          char *err, size_t errlen)
{
    QPKI_GUARD(pg_url_check(url, err, errlen));
    struct pg_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return QPKI_ERR_NOMEM;
    }
    s->c = pg_connect(url, -1, STORE_CONNECT_MS, err, errlen);
    if (!s->c) {
        free(s);
        return QPKI_ERR_IO;
    }
    *ops = &store_ops;
    *self = s;
    return QPKI_OK;
}
