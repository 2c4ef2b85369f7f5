/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/crl_db.c - a status database fed by the CRLs of one CA (qpki/crl.h,
 * `qpki ocsp serve --crl`): each CRL offered is checked (signature, issuer,
 * times, CRL number, scope) and, when accepted, the effective revocation list
 * of every source (complete CRLs per partition, with their newest applicable
 * delta CRL) is written into the one in-memory table (table.c) as a whole new
 * table; the table's commit compares old and new rows, so changes_since names
 * only the serials whose entry changed.
 *
 * Memory: the accepted CRLs (their DER; no per-entry copy) and the table
 * (about 40 octets per entry).  The CRL a new one replaces is released before
 * the table is rebuilt, so a reload holds at most the new CRL, the old table and
 * the new one. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <qpki/crl.h>
#include <qpki/limits.h>
#include <qpki/db.h>

#include "internal.h"
#include "db/db_internal.h"
#include "db/table.h"

/* thisUpdate this far in the future is still accepted (clock skew). */
#define CRL_DB_FUTURE_SKEW 300
/* The generation is epoch << 40 | the table's generation. */
#define EPOCH_SHIFT 40
#define TABLE_GEN_MASK ((UINT64_C(1) << EPOCH_SHIFT) - 1)

struct crl_source {
    char *name;
    bool delta;
    qpki_crl *crl;          /* the accepted CRL, NULL until one is */
    qpki_time loaded_at;
    uint64_t updates, refusals;
    bool active;            /* applied at the last rebuild (deltas: applicable) */
};

typedef struct crl_db {
    qpki_cert *ca;
    db_table *table;
    pthread_mutex_t lock;   /* writers: update, add_source, settings, info */
    struct crl_source *src;
    size_t n_src;
    qpki_time grace;
    qpki_time (*clock)(void *user);
    void *clock_user;
    qpki_db *issued;            /* set before lookups start; never replaced */
    _Atomic uint64_t issued_gen;
    /* read by lookups without the lock */
    _Atomic int64_t deadline;   /* latest nextUpdate + grace that keeps answers good */
    _Atomic bool ready;         /* every complete source has a CRL and the table is built */
    _Atomic bool stale;         /* the state generation() last reported */
    _Atomic uint64_t epoch;
    char problem[QPKI_DB_MESSAGE_MAX]; /* why the table could not be rebuilt ("" when fine) */
} crl_db;

static qpki_time now_of(const crl_db *c)
{
    return c->clock ? c->clock(c->clock_user) : (qpki_time)time(NULL);
}

/* Not allowed to answer from the table: not built, or a CRL past
 * nextUpdate + grace (RFC 5280 §5.1.2.5: the next CRL "will be issued before or
 * on this date"; after it the list may be missing revocations). */
static bool is_stale(crl_db *c)
{
    return !atomic_load(&c->ready) || now_of(c) > atomic_load(&c->deadline);
}

/* A change of the stale state, or of the issued list, is a new epoch: cached
 * answers go (tryLater instead of an old good, or the other way round). */
static uint64_t current_epoch(crl_db *c, bool *stale_out)
{
    bool stale = is_stale(c);
    bool was = atomic_load(&c->stale);
    if (stale != was && atomic_compare_exchange_strong(&c->stale, &was, stale))
        atomic_fetch_add(&c->epoch, 1);
    if (c->issued) {
        uint64_t g = qpki_db_generation(c->issued);
        uint64_t seen = atomic_load(&c->issued_gen);
        if (g != seen && atomic_compare_exchange_strong(&c->issued_gen, &seen, g))
            atomic_fetch_add(&c->epoch, 1);
    }
    if (stale_out)
        *stale_out = stale;
    return atomic_load(&c->epoch);
}

static qpki_status crl_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    crl_db *c = self;
    bool stale;
    (void)current_epoch(c, &stale);
    if (stale)
        return QPKI_ERR_STALE;
    qpki_status rc = table_lookup(c->table, serial, len, out);
    if (rc != QPKI_ERR_NOT_FOUND)
        return rc;
    /* Not on any CRL.  A CRL says nothing of certificates it does not list: the
     * answer is "good" (what Microsoft's Online Responder answers), unless an
     * issued list is given and the serial is not on it (docs/CONFORMANCE.md). */
    qpki_time expiry = 0;
    if (c->issued) {
        qpki_db_entry issued;
        qpki_db_entry_init(&issued);
        QPKI_GUARD(qpki_db_lookup(c->issued, serial, len, &issued));
        expiry = issued.expiry;
    }
    qpki_db_entry_init(out);
    out->row_status = QPKI_DB_ROW_VALID;
    out->expiry = expiry;
    return QPKI_OK;
}

static uint64_t crl_generation(void *self)
{
    crl_db *c = self;
    uint64_t epoch = current_epoch(c, NULL);
    return epoch << EPOCH_SHIFT | (table_generation(c->table) & TABLE_GEN_MASK);
}

static size_t crl_count(void *self) { return table_count(((crl_db *)self)->table); }

/* The serials the CRLs name, then those of the issued list when one is set
 * (a memory table or index.txt: the serials the CA issued, so the good ones
 * too; the revoked ones come twice).  opaque[3] says which part the listing
 * is in; table_list keeps to opaque[0..2]. */
static qpki_status crl_list_serials(void *self, qpki_db_cursor *cursor, size_t max,
                                    qpki_db_change_fn fn, void *user, int *done)
{
    crl_db *c = self;
    db_table *issued = NULL;
    if (c->issued && !(issued = qpki_db_memory_table(c->issued)))
        issued = qpki_index_table(c->issued);
    if (cursor->opaque[3] == 0) {
        QPKI_GUARD(table_list(c->table, cursor, max, fn, user, done));
        if (*done && issued) {
            memset(cursor, 0, sizeof(*cursor));
            cursor->opaque[3] = 1;
            *done = 0;
        }
        return QPKI_OK;
    }
    if (!issued) {
        *done = 1;
        return QPKI_OK;
    }
    return table_list(issued, cursor, max, fn, user, done);
}

static qpki_status crl_changes_since(void *self, uint64_t since, uint64_t *upto,
                                     qpki_db_change_fn fn, void *user)
{
    crl_db *c = self;
    uint64_t epoch = current_epoch(c, NULL);
    /* another epoch: every answer may differ */
    if (since >> EPOCH_SHIFT != epoch)
        return QPKI_ERR_NOT_FOUND;
    uint64_t t_upto = 0;
    QPKI_GUARD(table_changes_since(c->table, since & TABLE_GEN_MASK, &t_upto, fn, user));
    *upto = epoch << EPOCH_SHIFT | (t_upto & TABLE_GEN_MASK);
    return QPKI_OK;
}

static void crl_last_error(void *self, char *buf, size_t size)
{
    crl_db *c = self;
    pthread_mutex_lock(&c->lock);
    if (c->problem[0])
        qpki_fmt(buf, size, "%s", c->problem);
    else if (!atomic_load(&c->ready))
        qpki_fmt(buf, size, "no CRL loaded yet");
    else if (now_of(c) > atomic_load(&c->deadline))
        qpki_fmt(buf, size, "a CRL is past its nextUpdate (+ grace): answering tryLater");
    else
        qpki_fmt(buf, size, "%s", "");
    pthread_mutex_unlock(&c->lock);
}

static void crl_close(void *self)
{
    crl_db *c = self;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_src; i++) {
        qpki_crl_free(&c->src[i].crl);
        qpki_free(c->src[i].name);
    }
    qpki_free(c->src);
    qpki_db_free(&c->issued);
    table_free(&c->table);
    qpki_cert_free(&c->ca);
    pthread_mutex_destroy(&c->lock);
    qpki_free(c);
}

static const qpki_status_db_ops crl_ops = {
    .abi_version = QPKI_DB_ABI_V4,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = crl_lookup,
    .generation = crl_generation,
    .count = crl_count,
    .last_error = crl_last_error,
    .close = crl_close,
    .changes_since = crl_changes_since,
    .list_serials = crl_list_serials,
};

qpki_status qpki_db_crl_new(const qpki_cert *ca, qpki_db **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(ca, QPKI_ERR_INVALID_ARG);
    crl_db *c = qpki_calloc(1, sizeof(*c));
    QPKI_ENSURE(c, QPKI_ERR_NOMEM);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        qpki_free(c);
        return QPKI_ERR_NOMEM;
    }
    atomic_init(&c->deadline, INT64_MAX);
    atomic_init(&c->ready, false);
    atomic_init(&c->stale, true);
    atomic_init(&c->epoch, 1);
    const uint8_t *der;
    size_t len;
    qpki_cert_der(ca, &der, &len);
    qpki_status rc = qpki_cert_parse(der, len, &c->ca);
    if (rc == QPKI_OK)
        rc = table_new(&c->table);
    if (rc == QPKI_OK)
        rc = qpki_db_new(&crl_ops, c, out);
    if (rc != QPKI_OK)
        crl_close(c);
    return rc;
}

static crl_db *crl_of(qpki_db *db) { return qpki_db_backend(db, &crl_ops); }

qpki_status qpki_db_crl_add_source(qpki_db *db, const char *name, bool delta, size_t *index)
{
    crl_db *c = crl_of(db);
    QPKI_ENSURE(c && name, QPKI_ERR_INVALID_ARG);
    char *copy = qpki_strdup(name);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    pthread_mutex_lock(&c->lock);
    struct crl_source *n = qpki_realloc(c->src, (c->n_src + 1) * sizeof(*n));
    if (!n) {
        pthread_mutex_unlock(&c->lock);
        qpki_free(copy);
        return QPKI_ERR_NOMEM;
    }
    c->src = n;
    memset(&n[c->n_src], 0, sizeof(*n));
    n[c->n_src].name = copy;
    n[c->n_src].delta = delta;
    if (index)
        *index = c->n_src;
    c->n_src++;
    /* a new complete source has no CRL yet */
    if (!delta)
        atomic_store(&c->ready, false);
    pthread_mutex_unlock(&c->lock);
    return QPKI_OK;
}

qpki_status qpki_db_crl_set_grace(qpki_db *db, qpki_time grace)
{
    crl_db *c = crl_of(db);
    QPKI_ENSURE(c && grace >= 0, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&c->lock);
    qpki_time old = c->grace;
    c->grace = grace;
    int64_t d = atomic_load(&c->deadline);
    if (d != INT64_MAX)
        atomic_store(&c->deadline, d - old + grace);
    pthread_mutex_unlock(&c->lock);
    return QPKI_OK;
}

qpki_status qpki_db_crl_set_clock(qpki_db *db, qpki_time (*now)(void *user), void *user)
{
    crl_db *c = crl_of(db);
    QPKI_ENSURE(c, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&c->lock);
    c->clock = now;
    c->clock_user = user;
    pthread_mutex_unlock(&c->lock);
    return QPKI_OK;
}

qpki_status qpki_db_crl_set_issued(qpki_db *db, qpki_db *issued)
{
    crl_db *c = crl_of(db);
    QPKI_ENSURE(c && issued && issued != db, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&c->lock);
    /* once: lookups read the pointer without the lock */
    qpki_status rc = c->issued ? QPKI_ERR_EXISTS : QPKI_OK;
    if (rc == QPKI_OK) {
        c->issued = qpki_db_ref(issued);
        atomic_store(&c->issued_gen, qpki_db_generation(issued));
        atomic_fetch_add(&c->epoch, 1);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- checking an offered CRL ------------------------------------------------------- */

static bool same_scope(const qpki_crl *a, const qpki_crl *b)
{
    const uint8_t *pa, *pb;
    size_t na, nb;
    qpki_crl_issuing_distribution_point(a, &pa, &na);
    qpki_crl_issuing_distribution_point(b, &pb, &nb);
    return na == nb && (na == 0 || memcmp(pa, pb, na) == 0);
}

static int number_cmp(const qpki_crl *a, const qpki_crl *b)
{
    const uint8_t *pa, *pb;
    size_t na, nb;
    (void)qpki_crl_number(a, &pa, &na);
    (void)qpki_crl_number(b, &pb, &nb);
    return qpki_crl_number_cmp(pa, na, pb, nb);
}

static void number_text(const qpki_crl *crl, char *buf, size_t size)
{
    const uint8_t *p;
    size_t n;
    if (qpki_crl_number(crl, &p, &n) != QPKI_OK) {
        qpki_fmt(buf, size, "(none)");
        return;
    }
    char hex[2 * QPKI_CRL_NUMBER_MAX + 1];
    qpki_serial_hex(p, n, hex);
    qpki_fmt(buf, size, "%s", hex);
}

#define REFUSE(code, ...)                      \
    do {                                       \
        qpki_fmt(msg, msg_size, __VA_ARGS__);  \
        return (code);                         \
    } while (0)

/* The checks of an offered CRL against the CA and what the source holds.
 * QPKI_ERR_EXISTS: the same CRL again. */
static qpki_status check_offer(crl_db *c, size_t index, const qpki_crl *crl, qpki_time now,
                               char *msg, size_t msg_size)
{
    const struct crl_source *s = &c->src[index];
    char why[160];
    /* RFC 5280 §5.2, §5.3: critical extensions we cannot process, indirect CRLs */
    if (qpki_crl_usable(crl, why, sizeof(why)) != QPKI_OK)
        REFUSE(QPKI_ERR_UNSUPPORTED, "%s", why);
    if (qpki_crl_is_delta(crl) != s->delta)
        REFUSE(QPKI_ERR_INVALID_ARG, "%s", s->delta ? "a complete CRL where a delta CRL is expected"
                                                    : "a delta CRL where a complete CRL is expected");
    /* RFC 5280 §6.3.3 (f), (g): the CRL issuer is the CA, its key signed it */
    qpki_status rc = qpki_crl_verify_signature(crl, c->ca);
    if (rc == QPKI_ERR_UNKNOWN_ISSUER)
        REFUSE(rc, "issued by another CA (the issuer name differs from the CA certificate's subject)");
    if (rc == QPKI_ERR_KEY_MISMATCH)
        REFUSE(rc, "the CA certificate's keyUsage does not allow CRL signing (cRLSign)");
    if (rc != QPKI_OK)
        REFUSE(rc, "the signature does not verify with the CA certificate's key: %s",
               qpki_strerror(rc));
    /* Catalyst: the alternative signature too, when there is one */
    rc = qpki_crl_verify_alt_signature(crl, c->ca);
    if (rc != QPKI_OK && rc != QPKI_ERR_NOT_FOUND)
        REFUSE(QPKI_ERR_BAD_SIGNATURE, "the alternative (Catalyst) signature does not verify: %s",
               qpki_strerror(rc));
    bool has_next;
    qpki_time this_update = qpki_crl_this_update(crl), next = qpki_crl_next_update(crl, &has_next);
    if (this_update > now + CRL_DB_FUTURE_SKEW)
        REFUSE(QPKI_ERR_NOT_YET_VALID, "thisUpdate is in the future");
    if (has_next && next < this_update)
        REFUSE(QPKI_ERR_DECODE, "nextUpdate is before thisUpdate");
    if (has_next && now > next + c->grace)
        REFUSE(QPKI_ERR_STALE, "past its nextUpdate%s", c->grace ? " and the grace period" : "");
    bool numbered = qpki_crl_number(crl, NULL, NULL) == QPKI_OK;
    if (s->delta && !numbered)
        REFUSE(QPKI_ERR_DECODE, "a delta CRL without cRLNumber (RFC 5280 section 5.2.4 requires it)");
    if (s->crl) {
        const uint8_t *a, *b;
        size_t na, nb;
        qpki_crl_der(crl, &a, &na);
        qpki_crl_der(s->crl, &b, &nb);
        if (na == nb && memcmp(a, b, na) == 0)
            return QPKI_ERR_EXISTS;
        bool had_number = qpki_crl_number(s->crl, NULL, NULL) == QPKI_OK;
        char old_n[48], new_n[48];
        number_text(s->crl, old_n, sizeof(old_n));
        number_text(crl, new_n, sizeof(new_n));
        /* RFC 5280 §5.2.3: "monotonically increasing sequence number" */
        if (had_number && !numbered)
            REFUSE(QPKI_ERR_DECODE, "no cRLNumber, where the CRL in use has %s", old_n);
        if (numbered && had_number && number_cmp(crl, s->crl) <= 0)
            REFUSE(QPKI_ERR_STALE, "CRL number %s is not above %s, the one in use", new_n, old_n);
        if (!numbered && !had_number && this_update <= qpki_crl_this_update(s->crl))
            REFUSE(QPKI_ERR_STALE, "thisUpdate is not after the one of the CRL in use");
    }
    if (!s->delta) {
        for (size_t i = 0; i < c->n_src; i++)
            if (i != index && !c->src[i].delta && c->src[i].crl && same_scope(crl, c->src[i].crl))
                REFUSE(QPKI_ERR_INVALID_ARG, "the same scope (issuingDistributionPoint) as %s",
                       c->src[i].name);
        return QPKI_OK;
    }
    /* RFC 5280 §5.2.4: a delta CRL applies to the complete CRL of the same scope
     * whose number is at least its BaseCRLNumber. */
    const qpki_crl *full = NULL;
    for (size_t i = 0; i < c->n_src; i++)
        if (!c->src[i].delta && c->src[i].crl && same_scope(crl, c->src[i].crl))
            full = c->src[i].crl;
    if (!full)
        REFUSE(QPKI_ERR_NOT_FOUND, "no complete CRL of the same scope is loaded");
    const uint8_t *base, *fnum;
    size_t base_len, fnum_len;
    (void)qpki_crl_delta_base(crl, &base, &base_len);
    if (qpki_crl_number(full, &fnum, &fnum_len) != QPKI_OK)
        REFUSE(QPKI_ERR_NOT_FOUND, "the complete CRL of its scope has no cRLNumber");
    if (qpki_crl_number_cmp(base, base_len, fnum, fnum_len) > 0) {
        char full_n[48], base_n[2 * QPKI_CRL_NUMBER_MAX + 1];
        number_text(full, full_n, sizeof(full_n));
        qpki_serial_hex(base, base_len, base_n);
        REFUSE(QPKI_ERR_NOT_FOUND, "its base CRL %s is newer than the complete CRL in use (%s)",
               base_n, full_n);
    }
    return QPKI_OK;
}

/* ---- building the table -------------------------------------------------------------- */

/* Put (or, removeFromCRL in a delta, remove) every entry of crl. */
static qpki_status apply(crl_db *c, const qpki_crl *crl, bool delta)
{
    size_t cursor = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    qpki_status rc;
    while ((rc = qpki_crl_next_entry(crl, &cursor, &e)) == QPKI_OK) {
        const uint8_t *s = e.serial;
        size_t n = e.serial_len;
        /* a negative serialNumber names no certificate we can be asked about */
        if (n && (s[0] & 0x80))
            continue;
        while (n > 0 && s[0] == 0) {
            s++;
            n--;
        }
        if (n > QPKI_SERIAL_MAX)
            continue;
        if (delta && e.reason == QPKI_REASON_REMOVE_FROM_CRL) {
            /* RFC 5280 §5.3.1: removeFromCRL in a delta CRL - "the certificate
             * ... is no longer revoked" (released from hold) */
            rc = table_remove(c->table, s, n);
            if (rc != QPKI_OK && rc != QPKI_ERR_NOT_FOUND)
                return rc;
            continue;
        }
        qpki_db_entry row;
        qpki_db_entry_init(&row);
        row.row_status = QPKI_DB_ROW_REVOKED;
        row.revocation_time = e.revocation_date;
        row.reason = e.reason;
        /* RFC 5280 §5.3.2: the hold instruction goes with certificateHold */
        if (e.reason == QPKI_REASON_CERTIFICATE_HOLD)
            row.hold_instruction = e.hold_instruction;
        row.invalidity_date = e.has_invalidity_date ? e.invalidity_date : 0;
        QPKI_GUARD(table_put(c->table, s, n, &row, false, NULL));
    }
    return rc == QPKI_ERR_NOT_FOUND ? QPKI_OK : rc;
}

/* The delta source to apply to complete source `full`: the newest one of the
 * same scope whose base the complete CRL covers and which is newer than it. */
static struct crl_source *delta_for(crl_db *c, const struct crl_source *full)
{
    struct crl_source *best = NULL;
    const uint8_t *fnum;
    size_t fnum_len;
    if (qpki_crl_number(full->crl, &fnum, &fnum_len) != QPKI_OK)
        return NULL;
    for (size_t i = 0; i < c->n_src; i++) {
        struct crl_source *d = &c->src[i];
        if (!d->delta || !d->crl || !same_scope(d->crl, full->crl))
            continue;
        const uint8_t *base;
        size_t base_len;
        (void)qpki_crl_delta_base(d->crl, &base, &base_len);
        if (qpki_crl_number_cmp(base, base_len, fnum, fnum_len) > 0 ||
            number_cmp(d->crl, full->crl) <= 0)
            continue;
        if (!best || number_cmp(d->crl, best->crl) > 0)
            best = d;
    }
    return best;
}

/* The whole effective list as a new table; the commit publishes the rows that
 * changed.  Also recomputes the deadline and readiness. */
static qpki_status rebuild(crl_db *c)
{
    bool ready = true;
    size_t rows = 0;
    for (size_t i = 0; i < c->n_src; i++) {
        c->src[i].active = false;
        if (!c->src[i].delta && !c->src[i].crl)
            ready = false;
        if (c->src[i].crl)
            rows += qpki_crl_entry_count(c->src[i].crl);
    }
    QPKI_GUARD(table_replace_begin(c->table));
    qpki_status rc = table_reserve(c->table, rows);
    int64_t deadline = INT64_MAX;
    /* Partitions in the order given; a serial on several CRLs gets the entry of
     * the last one. */
    for (size_t i = 0; rc == QPKI_OK && i < c->n_src; i++) {
        struct crl_source *f = &c->src[i];
        if (f->delta || !f->crl)
            continue;
        f->active = true;
        rc = apply(c, f->crl, false);
        struct crl_source *d = rc == QPKI_OK ? delta_for(c, f) : NULL;
        if (d) {
            d->active = true;
            rc = apply(c, d->crl, true);
        }
    }
    if (rc != QPKI_OK) {
        table_abort(c->table);
        return rc;
    }
    for (size_t i = 0; i < c->n_src; i++) {
        bool has_next;
        qpki_time next = c->src[i].active ? qpki_crl_next_update(c->src[i].crl, &has_next) : 0;
        if (c->src[i].active && has_next && next + c->grace < deadline)
            deadline = next + c->grace;
    }
    (void)table_commit(c->table, NULL);
    atomic_store(&c->deadline, deadline);
    atomic_store(&c->ready, ready);
    return QPKI_OK;
}

qpki_status qpki_db_crl_update(qpki_db *db, size_t source, qpki_crl **crl, char *msg,
                               size_t msg_size)
{
    crl_db *c = crl_of(db);
    if (msg && msg_size)
        msg[0] = '\0';
    if (!c || !crl || !*crl) {
        if (crl)
            qpki_crl_free(crl);
        return QPKI_ERR_INVALID_ARG;
    }
    char scratch[8];
    if (!msg || !msg_size) {
        msg = scratch;
        msg_size = sizeof(scratch);
    }
    pthread_mutex_lock(&c->lock);
    qpki_status rc = source < c->n_src ? QPKI_OK : QPKI_ERR_INVALID_ARG;
    if (rc == QPKI_OK)
        rc = check_offer(c, source, *crl, now_of(c), msg, msg_size);
    if (rc != QPKI_OK) {
        if (rc != QPKI_ERR_EXISTS && source < c->n_src)
            c->src[source].refusals++;
        pthread_mutex_unlock(&c->lock);
        qpki_crl_free(crl);
        return rc;
    }
    struct crl_source *s = &c->src[source];
    qpki_crl_free(&s->crl); /* before the rebuild: peak memory is one CRL */
    s->crl = *crl;
    *crl = NULL;
    s->loaded_at = now_of(c);
    s->updates++;
    rc = rebuild(c);
    if (rc != QPKI_OK) {
        /* The table still holds the previous list, which the CRLs held no
         * longer describe: answer tryLater until a rebuild succeeds. */
        atomic_store(&c->ready, false);
        qpki_fmt(c->problem, sizeof(c->problem), "cannot rebuild the table: %s",
                 qpki_strerror(rc));
        qpki_fmt(msg, msg_size, "%s", c->problem);
    } else {
        c->problem[0] = '\0';
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

qpki_status qpki_db_crl_source_info(qpki_db *db, size_t source, qpki_db_crl_info *info)
{
    crl_db *c = crl_of(db);
    QPKI_ENSURE(c && info && info->struct_size >= sizeof(uint32_t), QPKI_ERR_INVALID_ARG);
    qpki_db_crl_info i;
    memset(&i, 0, sizeof(i));
    pthread_mutex_lock(&c->lock);
    if (source >= c->n_src) {
        pthread_mutex_unlock(&c->lock);
        return QPKI_ERR_NOT_FOUND;
    }
    const struct crl_source *s = &c->src[source];
    i.delta = s->delta;
    i.updates = s->updates;
    i.refusals = s->refusals;
    if (s->crl) {
        i.loaded = true;
        i.active = s->active;
        const uint8_t *p;
        size_t n;
        if (qpki_crl_number(s->crl, &p, &n) == QPKI_OK) {
            i.has_number = true;
            memcpy(i.number, p, n);
            i.number_len = n;
        }
        i.this_update = qpki_crl_this_update(s->crl);
        i.next_update = qpki_crl_next_update(s->crl, NULL);
        i.entries = qpki_crl_entry_count(s->crl);
        i.loaded_at = s->loaded_at;
    }
    pthread_mutex_unlock(&c->lock);
    uint32_t size = info->struct_size < sizeof(i) ? info->struct_size : (uint32_t)sizeof(i);
    i.struct_size = size;
    memcpy(info, &i, size);
    return QPKI_OK;
}

size_t qpki_db_crl_source_count(qpki_db *db)
{
    crl_db *c = crl_of(db);
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->n_src;
    pthread_mutex_unlock(&c->lock);
    return n;
}

bool qpki_db_crl_is_stale(qpki_db *db)
{
    crl_db *c = crl_of(db);
    return !c || is_stale(c);
}
