/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/index_txt.c - the index.txt status database (`openssl ca` and QPKI).
 *
 * The rows live in the writable in-memory table (table.c: lock-free lookups,
 * row-by-row changes).  Besides the table the backend keeps, for every line of
 * the file it loaded, a 64-bit hash of the line's bytes and the record of the
 * row on it (12 octets per line): the line map.
 *
 * A reload compares the new file with the line map in one streaming pass:
 * line k is unchanged when its hash equals that of line k before.  `openssl ca`
 * and `qpki cert issue/revoke` change the file by appending rows and by
 * rewriting one row's status in place (the file is rewritten, but every other
 * line stays where it was), so a change touches a few lines; only those are
 * parsed and applied to the table, row by row (a changed row, a new row, a
 * row whose line went away).  The whole new file is checked before anything is
 * applied (every changed line parses; no serial appears twice, also not on an
 * unchanged line), so a bad file still leaves the table alone.  A one-row
 * change therefore costs one pass over the file's bytes (hashing, no parsing)
 * plus one row; no second table is built.  When more than
 * max(4096, lines/64) lines changed (rows inserted in the middle, a sorted or
 * rewritten file) the file is loaded in full instead: a new table is built
 * beside the old one and replaces it at once (table_replace_begin/commit),
 * which compares the two so that changes_since still names only the rows that
 * changed.
 *
 * A lookup sees each row either before or after a reload's change of it: after
 * an incremental reload, rows change one at a time during the apply (each one
 * atomically), and the generation moves once all of them are in.  A full
 * reload swaps the whole table. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/db_internal.h"
#include "db/index_row.h"
#include "db/table.h"

#define READ_CHUNK ((size_t)4 << 20)   /* bytes per read(2): the longest line */
#define READ_ATTEMPTS 3                /* re-reads when the file changes under us */
#define RACY_WINDOW_NS 2000000000LL    /* see read_once */
#define DIFF_MIN_LIMIT 4096u           /* changed lines always applied row by row */

/* ------------------------------------------------------------------------ */
/* Line hashes.  Only a change detector for files the CA writes: equal hashes
 * mean "same bytes" with probability 1 - 2^-64 per changed line.  16 octets per
 * 64x64->128-bit multiply, folded (the multiply-and-fold construction of
 * wyhash); the length and a position-dependent seed enter the state. */
typedef unsigned __int128 u128;

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    u128 r = (u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#define HK0 0xa0761d6478bd642full
#define HK1 0xe7037ed1a0b428dbull
#define HK2 0x8ebc6af09c88c6e3ull

static uint64_t line_hash(const uint8_t *p, size_t n)
{
    uint64_t h = HK0 ^ mum((uint64_t)n ^ HK1, HK2);
    while (n >= 16) {
        h = mum(load64(p) ^ HK1, load64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = load64(p);
        b = load64(p + n - 8); /* overlaps a when n < 16 */
    } else if (n > 0) {
        uint8_t tail[8] = {0};
        memcpy(tail, p, n);
        a = load64(tail);
        b = (uint64_t)n << 56;
    }
    h = mum(a ^ HK1, b ^ h ^ HK2);
    return mum(h ^ HK0, (uint64_t)n ^ HK1);
}


/* ------------------------------------------------------------------------ */
/* The line map: per line of the loaded file, its hash and its row's record. */
typedef struct line_map {
    uint64_t *hash;
    table_ref *ref; /* 0: the line holds no row (comment, blank) */
    size_t n, cap;
} line_map;

static void map_clear(line_map *m)
{
    qpki_free(m->hash);
    qpki_free(m->ref);
    memset(m, 0, sizeof(*m));
}

static bool map_reserve(line_map *m, size_t n)
{
    if (n <= m->cap)
        return true;
    size_t cap = m->cap ? m->cap + m->cap / 2 : 1024;
    if (cap < n)
        cap = n;
    uint64_t *h = qpki_realloc(m->hash, cap * sizeof(*h));
    if (!h)
        return false;
    m->hash = h;
    table_ref *r = qpki_realloc(m->ref, cap * sizeof(*r));
    if (!r)
        return false;
    m->ref = r;
    m->cap = cap;
    return true;
}

/* The line holding ref, 1-based; 0 when none. */
static size_t map_line_of(const line_map *m, size_t n, table_ref ref)
{
    for (size_t k = 0; k < n; k++)
        if (m->ref[k] == ref)
            return k + 1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading: one pass over the lines, in one of three modes.
 *   DIFF:  lines are hashed and compared with the current map; the changed
 *          ones are parsed into `changed`, applied after the pass.
 *   MERGE: every line is parsed and its row compared with the table's (rows
 *          seen are marked in a bitmap by record); the rows that differ go to
 *          `changed`, and after the pass they are applied and the rows not
 *          seen removed, row by row.  For a file rewritten in another order:
 *          no second table.
 *   FULL:  every line is parsed into a new table (replace_begin..commit) and a
 *          new line map: the first load, or when too many rows changed. */
typedef enum load_mode { LOAD_FULL, LOAD_DIFF, LOAD_MERGE } load_mode;

typedef struct changed_line {
    size_t line;   /* 0-based */
    uint64_t hash;
    bool has_row;
    uint8_t serial_len;
    uint8_t serial[QPKI_SERIAL_MAX];
    qpki_db_entry entry;
} changed_line;

typedef struct loader {
    load_mode mode;
    db_table *table;
    line_map *map;       /* DIFF: the current map */
    line_map fresh;      /* FULL: the map being built */
    const char *name;    /* file name in messages */
    char *error;
    size_t error_size;
    qpki_status rc;      /* the first failure; later lines are only hashed */
    uint64_t lineno;     /* lines seen */
    uint64_t fail_line;  /* the line of rc (1-based), 0 for failures of no line */
    uint64_t file_hash;
    changed_line *changed;
    size_t changed_n, changed_cap, changed_limit;
    bool too_many;       /* DIFF, MERGE: give up, load in full */
    uint8_t *seen;       /* MERGE: bit ref / 8 set for each table row seen */
    size_t seen_size, found;
} loader;

static void fail_at_line(loader *ld, uint64_t line, qpki_status rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_at_line(loader *ld, uint64_t line, qpki_status rc, const char *fmt, ...)
{
    char why[QPKI_DB_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (n < 0)
        why[0] = '\0';
    qpki_fmt(ld->error, ld->error_size, "%s:%" PRIu64 ": %s", ld->name, line, why);
    ld->rc = rc;
    ld->fail_line = line;
}

static void fail_nomem(loader *ld)
{
    qpki_fmt(ld->error, ld->error_size, "%s: out of memory", ld->name);
    ld->rc = QPKI_ERR_NOMEM;
    ld->fail_line = 0;
}

static void fail_duplicate(loader *ld, uint64_t line, uint64_t first, const uint8_t *serial,
                           size_t len)
{
    char hex[2 * QPKI_SERIAL_MAX + 1];
    qpki_serial_hex(serial, len, hex);
    fail_at_line(ld, line, QPKI_ERR_PARSE, "duplicate serial number %s (first on line %" PRIu64 ")",
                 hex, first);
}

static void loader_init(loader *ld, load_mode mode, db_table *t, line_map *map, size_t min_limit,
                        const char *name, char *error, size_t error_size)
{
    memset(ld, 0, sizeof(*ld));
    ld->mode = mode;
    ld->table = t;
    ld->map = map;
    ld->name = name;
    ld->error = error;
    ld->error_size = error_size;
    ld->file_hash = 0x243f6a8885a308d3ull;
    size_t limit = map ? map->n / 64 : 0;
    ld->changed_limit = limit > min_limit ? limit : min_limit;
}

/* Start (again): FULL begins a new table. */
static qpki_status loader_start(loader *ld)
{
    ld->rc = QPKI_OK;
    ld->lineno = 0;
    ld->fail_line = 0;
    ld->file_hash = 0x243f6a8885a308d3ull;
    ld->changed_n = 0;
    ld->too_many = false;
    ld->fresh.n = 0;
    ld->found = 0;
    if (ld->mode == LOAD_FULL) {
        qpki_status rc = table_replace_begin(ld->table);
        if (rc != QPKI_OK)
            fail_nomem(ld);
        return rc;
    }
    if (ld->mode == LOAD_MERGE) {
        /* Records are at least 9 octets apart: ref / 8 tells them apart. */
        qpki_free(ld->seen);
        ld->seen_size = table_arena_used(ld->table) / 64 + 1;
        ld->seen = qpki_calloc(ld->seen_size, 1);
        if (!ld->seen) {
            fail_nomem(ld);
            return QPKI_ERR_NOMEM;
        }
    }
    return QPKI_OK;
}

static void loader_clear(loader *ld)
{
    if (ld->mode == LOAD_FULL && table_replacing(ld->table))
        table_abort(ld->table);
    map_clear(&ld->fresh);
    qpki_free(ld->seen);
    ld->seen = NULL;
    qpki_free(ld->changed);
    ld->changed = NULL;
    ld->changed_cap = ld->changed_n = 0;
}

/* Parse the row on a line; false (and ld->rc) when it is bad. */
static bool parse_row(loader *ld, const char *line, size_t len, index_row *r, qpki_db_entry *e)
{
    index_span f[INDEX_ROW_FIELDS];
    index_row_fault fault;
    if (!index_row_parse(line, len, f, r, &fault)) {
        char why[QPKI_DB_MESSAGE_MAX];
        index_row_fault_text(&fault, why, sizeof(why));
        fail_at_line(ld, ld->lineno, QPKI_ERR_PARSE, "%s", why);
        return false;
    }
    qpki_db_entry_init(e);
    e->row_status = r->status;
    e->expiry = r->expiry;
    if (r->status == 'R') {
        e->revocation_time = r->revocation_time;
        e->reason = r->reason;
        e->hold_instruction = r->hold;
        if (r->has_invalidity)
            e->invalidity_date = r->invalidity_date;
    }
    return true;
}

/* FULL and MERGE: add the line to the new line map (*k: its index) and parse
 * its row; false when it holds none or is bad (ld->rc). */
static bool fresh_line(loader *ld, const char *line, size_t len, uint64_t h, size_t *k,
                       index_row *r, qpki_db_entry *e)
{
    line_map *m = &ld->fresh;
    if (!map_reserve(m, m->n + 1)) {
        fail_nomem(ld);
        return false;
    }
    *k = m->n++;
    m->hash[*k] = h;
    m->ref[*k] = 0;
    return index_line_has_row(line, &len) && parse_row(ld, line, len, r, e);
}

static void full_line(loader *ld, const char *line, size_t len, uint64_t h)
{
    line_map *m = &ld->fresh;
    size_t k;
    index_row r;
    qpki_db_entry e;
    if (!fresh_line(ld, line, len, h, &k, &r, &e))
        return;
    table_ref ref = 0;
    qpki_status rc = table_put(ld->table, r.serial, r.serial_len, &e, true, &ref);
    switch (rc) {
    case QPKI_OK:
        m->ref[k] = ref;
        break;
    case QPKI_ERR_EXISTS:
        /* OpenSSL's `ca` refuses to index such a database, too. */
        fail_duplicate(ld, ld->lineno, map_line_of(m, k, ref), r.serial, r.serial_len);
        break;
    case QPKI_ERR_NOMEM:
        fail_nomem(ld);
        break;
    case QPKI_ERR_TOO_LARGE:
        fail_at_line(ld, ld->lineno, rc, "index too large (rows beyond 4 GiB)");
        break;
    default:
        fail_at_line(ld, ld->lineno, rc, "row cannot be stored: %s", qpki_strerror(rc));
        break;
    }
}

static changed_line *changed_add(loader *ld);

static void diff_line(loader *ld, const char *line, size_t len, uint64_t h)
{
    size_t k = (size_t)ld->lineno - 1;
    if (k < ld->map->n && ld->map->hash[k] == h)
        return; /* the same bytes as before: the same row */
    changed_line *c = changed_add(ld);
    if (!c)
        return;
    c->line = k;
    c->hash = h;
    if (index_line_has_row(line, &len)) {
        index_row r;
        if (!parse_row(ld, line, len, &r, &c->entry))
            return;
        c->has_row = true;
        c->serial_len = (uint8_t)r.serial_len;
        memcpy(c->serial, r.serial, r.serial_len);
    }
    ld->changed_n++;
}

/* Room for one more changed line; false when there is none (too_many or out
 * of memory). */
static changed_line *changed_add(loader *ld)
{
    if (ld->changed_n == ld->changed_limit) {
        ld->too_many = true;
        return NULL;
    }
    if (ld->changed_n == ld->changed_cap) {
        size_t cap = ld->changed_cap ? ld->changed_cap * 2 : 16;
        changed_line *c = qpki_realloc(ld->changed, cap * sizeof(*c));
        if (!c) {
            fail_nomem(ld);
            return NULL;
        }
        ld->changed = c;
        ld->changed_cap = cap;
    }
    changed_line *c = &ld->changed[ld->changed_n];
    memset(c, 0, sizeof(*c));
    return c;
}

static void merge_line(loader *ld, const char *line, size_t len, uint64_t h)
{
    line_map *m = &ld->fresh;
    size_t k;
    index_row r;
    qpki_db_entry e;
    if (!fresh_line(ld, line, len, h, &k, &r, &e))
        return;
    table_ref ref = table_find(ld->table, r.serial, r.serial_len);
    if (ref) {
        size_t bit = ref / 8;
        if (ld->seen[bit / 8] & (1u << (bit % 8))) {
            /* OpenSSL's `ca` refuses to index such a database, too. */
            fail_duplicate(ld, ld->lineno, map_line_of(m, k, ref), r.serial, r.serial_len);
            return;
        }
        ld->seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
        ld->found++;
        m->ref[k] = ref;
        if (table_row_equals(ld->table, ref, &e))
            return;
    }
    changed_line *c = changed_add(ld);
    if (!c)
        return;
    c->line = k;
    c->hash = h;
    c->has_row = true;
    c->serial_len = (uint8_t)r.serial_len;
    memcpy(c->serial, r.serial, r.serial_len);
    c->entry = e;
    ld->changed_n++;
}

/* One line (without its '\n'). */
static void loader_line(loader *ld, const char *line, size_t len)
{
    ld->lineno++;
    uint64_t h = line_hash((const uint8_t *)line, len);
    ld->file_hash = mix64(ld->file_hash ^ h);
    if (ld->rc != QPKI_OK || ld->too_many)
        return;
    if (ld->mode == LOAD_FULL)
        full_line(ld, line, len, h);
    else if (ld->mode == LOAD_MERGE)
        merge_line(ld, line, len, h);
    else
        diff_line(ld, line, len, h);
}

static uint64_t loader_file_hash(const loader *ld, uint64_t total)
{
    return mix64(ld->file_hash ^ mix64(total));
}

/* ---- applying a diff ---------------------------------------------------- */

/* A small open-addressing set of indices (into `changed`, or of refs). */
typedef struct small_set {
    size_t *slot; /* value + 1; 0 empty */
    size_t mask;
} small_set;

static bool set_init(small_set *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    s->slot = qpki_calloc(cap, sizeof(*s->slot));
    s->mask = cap - 1;
    return s->slot != NULL;
}

static uint64_t bytes_hash(const uint8_t *p, size_t n) { return mix64(line_hash(p, n)); }

/* The changed line holding serial (index + 1), or 0; inserts `index` when
 * absent and index != SIZE_MAX. */
static size_t serial_set_find(small_set *s, const changed_line *c, const uint8_t *serial,
                              size_t len, size_t index)
{
    size_t j = (size_t)bytes_hash(serial, len) & s->mask;
    for (;; j = (j + 1) & s->mask) {
        size_t v = s->slot[j];
        if (v == 0) {
            if (index != SIZE_MAX)
                s->slot[j] = index + 1;
            return 0;
        }
        const changed_line *o = &c[v - 1];
        if (o->serial_len == len && memcmp(o->serial, serial, len) == 0)
            return v;
    }
}

static bool ref_set_has(small_set *s, table_ref ref, bool insert)
{
    size_t j = (size_t)mix64(ref) & s->mask;
    for (;; j = (j + 1) & s->mask) {
        if (s->slot[j] == 0) {
            if (insert)
                s->slot[j] = (size_t)ref + 1;
            return false;
        }
        if (s->slot[j] == (size_t)ref + 1)
            return true;
    }
}

/* Put the rows of the changed lines and note their records (and hashes) in the
 * line map m.  Out of memory half-way: what was applied stays (each row is
 * whole) and is committed; the caller then drops the line map, so the next
 * change parses every line. */
static qpki_status put_changed(loader *ld, line_map *m)
{
    for (size_t i = 0; i < ld->changed_n; i++) {
        const changed_line *c = &ld->changed[i];
        table_ref ref = 0;
        if (c->has_row &&
            table_put(ld->table, c->serial, c->serial_len, &c->entry, false, &ref) != QPKI_OK) {
            fail_nomem(ld);
            (void)table_commit(ld->table, NULL);
            return QPKI_ERR_NOMEM;
        }
        m->ref[c->line] = ref;
        m->hash[c->line] = c->hash;
    }
    return QPKI_OK;
}

/* Check the diff of a file of new_n lines against the table, then apply it and
 * commit.  Fails (table untouched) on a duplicate serial. */
static qpki_status diff_apply(loader *ld, size_t new_n, uint64_t *changed_rows)
{
    line_map *m = ld->map;
    size_t removed = m->n > new_n ? m->n - new_n : 0;
    small_set rows = {0}, gone = {0};
    qpki_status rc = QPKI_OK;
    if (!set_init(&rows, ld->changed_n) || !set_init(&gone, ld->changed_n + removed)) {
        fail_nomem(ld);
        rc = ld->rc;
        goto out;
    }
    /* The records of the lines that changed or went away. */
    for (size_t i = 0; i < ld->changed_n; i++) {
        size_t k = ld->changed[i].line;
        if (k < m->n && m->ref[k])
            (void)ref_set_has(&gone, m->ref[k], true);
    }
    for (size_t k = new_n; k < m->n; k++)
        if (m->ref[k])
            (void)ref_set_has(&gone, m->ref[k], true);

    /* A serial twice in the new file: on two changed lines, or on a changed
     * line and an unchanged one.  Report the earliest second occurrence, as a
     * full load (which stops there) would. */
    uint64_t dup_line = UINT64_MAX, dup_first = 0;
    const changed_line *dup = NULL;
    for (size_t i = 0; i < ld->changed_n; i++) {
        const changed_line *c = &ld->changed[i];
        if (!c->has_row)
            continue;
        size_t first = serial_set_find(&rows, ld->changed, c->serial, c->serial_len, i);
        uint64_t line = 0, other = 0;
        if (first) {
            line = c->line + 1;
            other = ld->changed[first - 1].line + 1;
        } else {
            table_ref ref = table_find(ld->table, c->serial, c->serial_len);
            if (ref && !ref_set_has(&gone, ref, false)) {
                uint64_t j = map_line_of(m, m->n, ref);
                line = j > c->line + 1 ? j : c->line + 1;
                other = j > c->line + 1 ? c->line + 1 : j;
            }
        }
        if (line && (line < dup_line || (line == dup_line && other < dup_first))) {
            dup_line = line;
            dup_first = other;
            dup = c;
        }
    }
    if (dup && (ld->rc == QPKI_OK || (ld->rc == QPKI_ERR_PARSE && dup_line < ld->fail_line)))
        fail_duplicate(ld, dup_line, dup_first, dup->serial, dup->serial_len);
    if (ld->rc != QPKI_OK) {
        rc = ld->rc;
        goto out;
    }
    if (!map_reserve(m, new_n)) {
        fail_nomem(ld);
        rc = ld->rc;
        goto out;
    }

    /* Apply: first the rows whose line changed or went away and whose serial
     * is not in the new file any more (their records are still valid: nothing
     * was written yet), then the new and changed rows. */
    uint64_t before = table_generation(ld->table);
    for (size_t i = 0; i <= gone.mask; i++) {
        if (!gone.slot[i])
            continue;
        table_ref ref = (table_ref)(gone.slot[i] - 1);
        const uint8_t *serial;
        size_t len;
        table_ref_serial(ld->table, ref, &serial, &len);
        if (!serial_set_find(&rows, ld->changed, serial, len, SIZE_MAX))
            table_remove_ref(ld->table, ref);
    }
    for (size_t k = new_n; k < m->n; k++)
        m->ref[k] = 0;
    rc = put_changed(ld, m);
    if (rc != QPKI_OK)
        goto out;
    m->n = new_n;
    rc = table_commit(ld->table, NULL);
    *changed_rows = table_generation(ld->table) != before;
out:
    qpki_free(rows.slot);
    qpki_free(gone.slot);
    return rc;
}

/* The rows of the table a merge did not see: removed. */
typedef struct unseen {
    const loader *ld;
    table_ref *refs;
    size_t n, cap;
    bool nomem;
} unseen;

static void collect_unseen(void *user, table_ref ref)
{
    unseen *u = user;
    size_t bit = ref / 8;
    if (u->ld->seen[bit / 8] & (1u << (bit % 8)))
        return;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        table_ref *r = qpki_realloc(u->refs, cap * sizeof(*r));
        if (!r) {
            u->nomem = true;
            return;
        }
        u->refs = r;
        u->cap = cap;
    }
    u->refs[u->n++] = ref;
}

/* After a merge pass: check the rows new to the table for duplicates, then
 * remove the rows not seen, put the changed and new ones, and commit.  Sets
 * too_many (and changes nothing) when more rows differ than the limit. */
static qpki_status merge_apply(loader *ld)
{
    line_map *m = &ld->fresh;
    size_t removed = table_write_count(ld->table) - ld->found;
    if (ld->rc == QPKI_OK && removed + ld->changed_n > ld->changed_limit) {
        ld->too_many = true;
        return QPKI_OK;
    }
    /* A serial on two lines where neither is in the table yet (rows already
     * there were caught by their seen bit during the pass). */
    small_set rows = {0};
    unseen u = {ld, NULL, 0, 0, false};
    qpki_status rc = QPKI_OK;
    if (!set_init(&rows, ld->changed_n)) {
        fail_nomem(ld);
        rc = ld->rc;
        goto out;
    }
    uint64_t dup_line = UINT64_MAX, dup_first = 0;
    const changed_line *dup = NULL;
    for (size_t i = 0; i < ld->changed_n && !dup; i++) {
        const changed_line *c = &ld->changed[i];
        if (m->ref[c->line])
            continue; /* a changed row of the table */
        size_t first = serial_set_find(&rows, ld->changed, c->serial, c->serial_len, i);
        if (first) { /* in line order: the first found is the earliest */
            dup = c;
            dup_line = c->line + 1;
            dup_first = ld->changed[first - 1].line + 1;
        }
    }
    if (dup && (ld->rc == QPKI_OK || (ld->rc == QPKI_ERR_PARSE && dup_line < ld->fail_line)))
        fail_duplicate(ld, dup_line, dup_first, dup->serial, dup->serial_len);
    if (ld->rc != QPKI_OK) {
        rc = ld->rc;
        goto out;
    }
    if (removed) {
        table_foreach_ref(ld->table, collect_unseen, &u);
        if (u.nomem) {
            fail_nomem(ld);
            rc = ld->rc;
            goto out;
        }
        for (size_t i = 0; i < u.n; i++)
            table_remove_ref(ld->table, u.refs[i]);
    }
    rc = put_changed(ld, m);
    if (rc == QPKI_OK)
        rc = table_commit(ld->table, NULL);
out:
    qpki_free(rows.slot);
    qpki_free(u.refs);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Reading the file. */
typedef struct file_id {
    bool valid;
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns, ctime_ns;
} file_id;

static file_id file_id_of(const struct stat *st)
{
    file_id id = {
        .valid = true,
        .dev = st->st_dev,
        .ino = st->st_ino,
        .size = st->st_size,
        .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
        .ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
    };
    return id;
}

static bool file_id_equal(const file_id *a, const file_id *b)
{
    return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

typedef struct read_result {
    file_id id;     /* the file as read (valid when it could be opened) */
    uint64_t hash;  /* contents hash (when the whole file was read) */
    bool hashed;
    bool racy;      /* modified so recently that a same-size rewrite might not
                     * change its timestamps */
    bool changed;   /* modified while we read it */
} read_result;

static qpki_status io_failure(const char *path, int err, char *error, size_t error_size)
{
    char buf[128];
    qpki_fmt(error, error_size, "%s: %s", path, strerror_r(err, buf, sizeof(buf)));
    return err == ENOENT ? QPKI_ERR_NOT_FOUND : QPKI_ERR_IO;
}

/* Feed the lines of data[0..len) (eof: the rest is the last line); returns
 * the bytes consumed. */
static size_t feed(loader *ld, const uint8_t *data, size_t len, bool eof)
{
    size_t pos = 0;
    while (pos < len) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        if (!nl)
            break;
        loader_line(ld, (const char *)data + pos, (size_t)(nl - (data + pos)));
        pos = (size_t)(nl - data) + 1;
    }
    if (eof && pos < len) {
        loader_line(ld, (const char *)data + pos, len - pos); /* no final newline */
        pos = len;
    }
    return pos;
}

/* Read the file once through the loader. */
static qpki_status read_once(const char *path, loader *ld, read_result *res)
{
    memset(res, 0, sizeof(*res));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_failure(path, errno, ld->error, ld->error_size);
    qpki_status rc = QPKI_OK;
    uint8_t *buf = NULL;
    struct stat before, after;
    if (fstat(fd, &before) != 0) {
        rc = io_failure(path, errno, ld->error, ld->error_size);
        goto out;
    }
    if (!S_ISREG(before.st_mode)) {
        qpki_fmt(ld->error, ld->error_size, "%s: not a regular file", path);
        rc = QPKI_ERR_IO;
        goto out;
    }
    res->id = file_id_of(&before);
    struct timespec start;
    clock_gettime(CLOCK_REALTIME, &start);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    size_t cap = READ_CHUNK;
    if ((uint64_t)before.st_size < cap - 1)
        cap = (size_t)before.st_size + 1 < 4096 ? 4096 : (size_t)before.st_size + 1;
    buf = qpki_malloc(cap);
    if (!buf) {
        fail_nomem(ld);
        rc = QPKI_ERR_NOMEM;
        goto out;
    }
    rc = loader_start(ld);
    if (rc != QPKI_OK)
        goto out;
    uint64_t total = 0;
    size_t have = 0;
    bool sized = false;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = io_failure(path, errno, ld->error, ld->error_size);
            goto out;
        }
        total += (uint64_t)n;
        size_t end = have + (size_t)n;
        size_t pos = feed(ld, buf, end, n == 0);
        if (!sized && ld->mode == LOAD_FULL && ld->rc == QPKI_OK && pos > 0 &&
            (uint64_t)before.st_size > pos) {
            /* Size the new table's index from the first chunk's rows per byte. */
            sized = true;
            uint64_t rows = (uint64_t)before.st_size / pos * ld->lineno +
                            (uint64_t)before.st_size % pos * ld->lineno / pos;
            if (rows < ((uint64_t)1 << 32) && table_reserve(ld->table, (size_t)rows) != QPKI_OK)
                fail_nomem(ld);
        }
        if (n == 0)
            break;
        if (ld->too_many)
            break; /* loaded in full instead */
        size_t rem = end - pos;
        if (rem == cap) {
            if (ld->rc == QPKI_OK)
                fail_at_line(ld, ld->lineno + 1, QPKI_ERR_PARSE, "line longer than %zu bytes",
                             cap);
            ld->lineno++;
            rem = 0; /* keep reading, for the hash */
        }
        memmove(buf, buf + pos, rem);
        have = rem;
    }
    if (fstat(fd, &after) != 0) {
        rc = io_failure(path, errno, ld->error, ld->error_size);
        goto out;
    }
    file_id later = file_id_of(&after);
    /* A diff that gave up stopped early: the full load that follows reads the
     * file again and checks it then. */
    res->changed = !ld->too_many &&
                   (!file_id_equal(&res->id, &later) || total != (uint64_t)before.st_size);
    if (!ld->too_many) {
        res->hash = loader_file_hash(ld, total);
        res->hashed = true;
    }
    /* Timestamps have a granularity (a clock tick, or a second or more on some
     * file systems): a rewrite of the same size within that tick leaves the
     * inode, size, mtime and ctime as they were.  While the file's last change
     * is this recent, refresh compares contents as well. */
    int64_t start_ns = (int64_t)start.tv_sec * 1000000000 + start.tv_nsec;
    int64_t last = res->id.mtime_ns > res->id.ctime_ns ? res->id.mtime_ns : res->id.ctime_ns;
    res->racy = last >= start_ns - RACY_WINDOW_NS;
out:
    qpki_free(buf);
    close(fd);
    return rc;
}

/* Read the file through the loader, again when it changed while being read. */
static qpki_status read_file(const char *path, loader *ld, read_result *res)
{
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        qpki_status rc = read_once(path, ld, res);
        if (rc == QPKI_OK && res->changed)
            continue;
        return rc;
    }
    qpki_fmt(ld->error, ld->error_size, "%s: file kept changing while being read", path);
    return QPKI_ERR_IO;
}

/* ------------------------------------------------------------------------ */
/* The backend. */
typedef struct index_db {
    char *path;                /* NULL: loaded from memory, never refreshed */
    db_table *table;
    /* One refresh at a time; guards the fields below. */
    pthread_mutex_t refresh_lock;
    line_map map;              /* the lines of the file the table holds */
    bool map_valid;
    size_t diff_min_limit;     /* DIFF_MIN_LIMIT; tests lower it */
    size_t merge_min_limit;    /* DIFF_MIN_LIMIT; 0: never merge (tests) */
    read_result seen;          /* the file as last read, good or bad */
    qpki_status seen_rc;       /* what that read gave (OK or a content error) */
    qpki_index_stats stats;
    /* The current failure message ("" when fine); read by any thread. */
    pthread_mutex_t error_lock;
    char error[QPKI_DB_MESSAGE_MAX];
} index_db;

static void set_error(index_db *db, const char *msg)
{
    pthread_mutex_lock(&db->error_lock);
    qpki_fmt(db->error, sizeof(db->error), "%s", msg);
    pthread_mutex_unlock(&db->error_lock);
}

/* The source of a load: a file, or bytes in memory. */
typedef struct source {
    const char *path;    /* or NULL */
    const uint8_t *data; /* when path is NULL */
    size_t len;
} source;

static qpki_status load_from(const source *src, loader *ld, read_result *res)
{
    if (src->path)
        return read_file(src->path, ld, res);
    memset(res, 0, sizeof(*res));
    QPKI_GUARD(loader_start(ld));
    (void)feed(ld, src->data, src->len, true);
    res->hash = loader_file_hash(ld, src->len);
    res->hashed = !ld->too_many;
    return QPKI_OK;
}

/* Make the loader's new line map the current one. */
static void install_map(index_db *db, loader *ld)
{
    db->map = ld->fresh;
    memset(&ld->fresh, 0, sizeof(ld->fresh));
    db->map_valid = true;
    /* Give back the map's growth slack. */
    if (db->map.cap > db->map.n + db->map.n / 16 + 1024) {
        uint64_t *h = qpki_realloc(db->map.hash, (db->map.n + 1) * sizeof(*h));
        if (h)
            db->map.hash = h;
        table_ref *r = qpki_realloc(db->map.ref, (db->map.n + 1) * sizeof(*r));
        if (r)
            db->map.ref = r;
        if (h && r)
            db->map.cap = db->map.n + 1;
    }
}

/* Load the source in full into a new table that replaces the current one. */
static qpki_status load_full(index_db *db, const source *src, const char *name, read_result *res,
                             char *msg, size_t msg_size)
{
    db->stats.full_loads++;
    /* The old map goes first: both tables exist until the commit, the maps
     * need not.  A failed load leaves the table without a map; the next change
     * is merged (every line parsed) again. */
    map_clear(&db->map);
    db->map_valid = false;
    loader ld;
    loader_init(&ld, LOAD_FULL, db->table, NULL, 0, name, msg, msg_size);
    qpki_status rc = load_from(src, &ld, res);
    if (rc == QPKI_OK)
        rc = ld.rc;
    if (rc == QPKI_OK) {
        (void)table_commit(db->table, NULL);
        install_map(db, &ld);
    }
    loader_clear(&ld);
    return rc;
}

/* Parse the whole source and apply the rows that differ from the table, row
 * by row (no second table); a full load when more than max(merge limit, rows
 * / 16) rows differ, or when the table is empty. */
static qpki_status load_merge(index_db *db, const source *src, const char *name,
                              read_result *res, char *msg, size_t msg_size)
{
    size_t rows = table_write_count(db->table);
    if (rows == 0 || db->merge_min_limit == 0)
        return load_full(db, src, name, res, msg, msg_size);
    map_clear(&db->map);
    db->map_valid = false;
    loader ld;
    loader_init(&ld, LOAD_MERGE, db->table, NULL, 0, name, msg, msg_size);
    ld.changed_limit = rows / 16 > db->merge_min_limit ? rows / 16 : db->merge_min_limit;
    qpki_status rc = load_from(src, &ld, res);
    if (rc == QPKI_OK && !ld.too_many)
        rc = merge_apply(&ld);
    if (rc == QPKI_OK && ld.too_many) {
        loader_clear(&ld);
        return load_full(db, src, name, res, msg, msg_size);
    }
    if (rc == QPKI_OK) {
        db->stats.merged_loads++;
        install_map(db, &ld);
    }
    loader_clear(&ld);
    return rc;
}

/* Load the source against the line map: the changed rows only, or in full
 * when too much changed.  *same: the source holds exactly the lines loaded. */
static qpki_status load_changes(index_db *db, const source *src, const char *name,
                                read_result *res, char *msg, size_t msg_size, bool *same)
{
    *same = false;
    if (!db->map_valid)
        return load_merge(db, src, name, res, msg, msg_size);
    loader ld;
    loader_init(&ld, LOAD_DIFF, db->table, &db->map, db->diff_min_limit, name, msg, msg_size);
    qpki_status rc = load_from(src, &ld, res);
    size_t new_n = (size_t)ld.lineno;
    if (rc == QPKI_OK && !ld.too_many && ld.rc == QPKI_OK && db->map.n > new_n &&
        ld.changed_n + (db->map.n - new_n) > ld.changed_limit)
        ld.too_many = true; /* many lines gone */
    if (rc == QPKI_OK && ld.too_many) {
        loader_clear(&ld);
        return load_merge(db, src, name, res, msg, msg_size);
    }
    if (rc == QPKI_OK && ld.changed_n == 0 && new_n == db->map.n && ld.rc == QPKI_OK) {
        *same = true;
        loader_clear(&ld);
        return QPKI_OK;
    }
    if (rc == QPKI_OK) {
        uint64_t changed_rows = 0;
        size_t changed_lines = ld.changed_n + (db->map.n > new_n ? db->map.n - new_n : 0);
        rc = diff_apply(&ld, new_n, &changed_rows);
        if (rc == QPKI_OK) {
            db->stats.incremental_loads++;
            db->stats.changed_lines = changed_lines;
        }
        if (rc == QPKI_ERR_NOMEM) {
            map_clear(&db->map); /* the table may be half-applied: reload in full */
            db->map_valid = false;
        }
    }
    loader_clear(&ld);
    return rc;
}

static qpki_status refresh_locked(index_db *db)
{
    char msg[QPKI_DB_MESSAGE_MAX];
    msg[0] = '\0';
    qpki_status rc;
    struct stat st;
    if (stat(db->path, &st) != 0) {
        rc = io_failure(db->path, errno, msg, sizeof(msg));
        db->seen.id.valid = false;
        goto fail;
    }
    file_id now = file_id_of(&st);
    if (file_id_equal(&now, &db->seen.id)) {
        if (!db->seen.racy)
            return db->seen_rc;
        /* Unchanged timestamps, but recent enough that a change could hide
         * behind them: compare contents (the line hashes). */
        db->stats.hash_checks++;
    }
    source src = {.path = db->path};
    read_result r = {0};
    bool same = false;
    rc = load_changes(db, &src, db->path, &r, msg, sizeof(msg), &same);
    if (rc != QPKI_OK) {
        /* Remember content errors so an unchanged bad file is not parsed on
         * every poll; retry I/O and memory failures next time. */
        bool content_error = (rc == QPKI_ERR_PARSE || rc == QPKI_ERR_TOO_LARGE) && r.hashed;
        db->seen = r;
        db->seen.id.valid = content_error && r.id.valid;
        db->seen_rc = rc;
        goto fail;
    }
    db->seen = r;
    db->seen_rc = QPKI_OK;
    set_error(db, "");
    return QPKI_OK;
fail:
    set_error(db, msg);
    return rc;
}

static qpki_status index_refresh(void *self)
{
    index_db *db = self;
    if (!db->path)
        return QPKI_OK;
    pthread_mutex_lock(&db->refresh_lock);
    qpki_status rc = refresh_locked(db);
    pthread_mutex_unlock(&db->refresh_lock);
    return rc;
}

static qpki_status index_lookup(void *self, const uint8_t *serial, size_t serial_len,
                                qpki_db_entry *out)
{
    return table_lookup(((index_db *)self)->table, serial, serial_len, out);
}

static uint64_t index_generation(void *self) { return table_generation(((index_db *)self)->table); }

static size_t index_count(void *self) { return table_count(((index_db *)self)->table); }

static qpki_status index_changes_since(void *self, uint64_t since, uint64_t *upto,
                                       qpki_db_change_fn fn, void *user)
{
    return table_changes_since(((index_db *)self)->table, since, upto, fn, user);
}

static void index_last_error(void *self, char *buf, size_t size)
{
    index_db *db = self;
    pthread_mutex_lock(&db->error_lock);
    qpki_fmt(buf, size, "%s", db->error);
    pthread_mutex_unlock(&db->error_lock);
}

static void index_close(void *self)
{
    index_db *db = self;
    if (!db)
        return;
    table_free(&db->table);
    map_clear(&db->map);
    pthread_mutex_destroy(&db->refresh_lock);
    pthread_mutex_destroy(&db->error_lock);
    qpki_free(db->path);
    qpki_free(db);
}

static const qpki_status_db_ops index_ops = {
    .abi_version = QPKI_DB_ABI_V2,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = index_lookup,
    .generation = index_generation,
    .refresh = index_refresh,
    .count = index_count,
    .last_error = index_last_error,
    .close = index_close,
    .changes_since = index_changes_since,
};

static index_db *index_db_new(const char *path)
{
    index_db *db = qpki_calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    if (path && !(db->path = qpki_strdup(path))) {
        qpki_free(db);
        return NULL;
    }
    db->diff_min_limit = DIFF_MIN_LIMIT;
    db->merge_min_limit = DIFF_MIN_LIMIT;
    if (table_new(&db->table) != QPKI_OK) {
        qpki_free(db->path);
        qpki_free(db);
        return NULL;
    }
    int e1 = pthread_mutex_init(&db->refresh_lock, NULL);
    int e2 = e1 ? e1 : pthread_mutex_init(&db->error_lock, NULL);
    if (e2) {
        if (!e1)
            pthread_mutex_destroy(&db->refresh_lock);
        table_free(&db->table);
        qpki_free(db->path);
        qpki_free(db);
        return NULL;
    }
    return db;
}

static qpki_status wrap(index_db *db, char *error, size_t error_size, qpki_db **out)
{
    qpki_status rc = qpki_db_new(&index_ops, db, out);
    if (rc == QPKI_OK)
        qpki_db_mark_builtin(*out);
    if (rc != QPKI_OK) {
        qpki_fmt(error, error_size, "%s: %s", db->path ? db->path : "index", qpki_strerror(rc));
        index_close(db);
    }
    return rc;
}

qpki_status qpki_db_open_index_err(const char *path, char *error, size_t error_size,
                                   qpki_db **out)
{
    char scratch[QPKI_DB_MESSAGE_MAX];
    if (!error || !error_size) {
        error = scratch;
        error_size = sizeof(scratch);
    }
    error[0] = '\0';
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(path && path[0], QPKI_ERR_INVALID_ARG);

    /* A CA directory means its index.txt. */
    char *file = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        const char *leaf = path[n - 1] == '/' ? "index.txt" : "/index.txt";
        size_t leaf_len = strlen(leaf);
        file = qpki_malloc(n + leaf_len + 1);
        if (!file) {
            qpki_fmt(error, error_size, "%s: out of memory", path);
            return QPKI_ERR_NOMEM;
        }
        memcpy(file, path, n);
        memcpy(file + n, leaf, leaf_len + 1);
    }
    index_db *db = index_db_new(file ? file : path);
    qpki_free(file);
    if (!db) {
        qpki_fmt(error, error_size, "%s: out of memory", path);
        return QPKI_ERR_NOMEM;
    }
    pthread_mutex_lock(&db->refresh_lock);
    qpki_status rc = refresh_locked(db);
    pthread_mutex_unlock(&db->refresh_lock);
    if (rc != QPKI_OK) {
        index_last_error(db, error, error_size);
        index_close(db);
        return rc;
    }
    return wrap(db, error, error_size, out);
}

qpki_status qpki_db_open_index(const char *path, qpki_db **out)
{
    return qpki_db_open_index_err(path, NULL, 0, out);
}

qpki_status qpki_index_open_memory(const char *name, const uint8_t *data, size_t len,
                                   char *error, size_t error_size, qpki_db **out)
{
    char scratch[QPKI_DB_MESSAGE_MAX];
    if (!error || !error_size) {
        error = scratch;
        error_size = sizeof(scratch);
    }
    error[0] = '\0';
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(name && (data || len == 0), QPKI_ERR_INVALID_ARG);
    index_db *db = index_db_new(NULL);
    if (!db) {
        qpki_fmt(error, error_size, "%s: out of memory", name);
        return QPKI_ERR_NOMEM;
    }
    source src = {.data = data, .len = len};
    read_result r;
    qpki_status rc = load_full(db, &src, name, &r, error, error_size);
    if (rc != QPKI_OK) {
        index_close(db);
        return rc;
    }
    return wrap(db, error, error_size, out);
}

qpki_status qpki_index_apply_memory(qpki_db *db, const char *name, const uint8_t *data,
                                    size_t len, char *error, size_t error_size)
{
    char scratch[QPKI_DB_MESSAGE_MAX];
    if (!error || !error_size) {
        error = scratch;
        error_size = sizeof(scratch);
    }
    error[0] = '\0';
    index_db *self = qpki_db_backend(db, &index_ops);
    QPKI_ENSURE(self && !self->path && name && (data || len == 0), QPKI_ERR_INVALID_ARG);
    source src = {.data = data, .len = len};
    read_result r;
    bool same;
    pthread_mutex_lock(&self->refresh_lock);
    qpki_status rc = load_changes(self, &src, name, &r, error, error_size, &same);
    pthread_mutex_unlock(&self->refresh_lock);
    return rc;
}

qpki_status qpki_index_set_limits(qpki_db *db, size_t lines, size_t rows)
{
    index_db *self = qpki_db_backend(db, &index_ops);
    QPKI_ENSURE(self, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&self->refresh_lock);
    self->diff_min_limit = lines;
    self->merge_min_limit = rows;
    pthread_mutex_unlock(&self->refresh_lock);
    return QPKI_OK;
}

qpki_status qpki_index_get_stats(qpki_db *db, qpki_index_stats *stats)
{
    index_db *self = qpki_db_backend(db, &index_ops);
    QPKI_ENSURE(self && stats, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&self->refresh_lock);
    *stats = self->stats;
    pthread_mutex_unlock(&self->refresh_lock);
    return QPKI_OK;
}

struct db_table *qpki_index_table(qpki_db *db)
{
    index_db *self = qpki_db_backend(db, &index_ops);
    return self ? self->table : NULL;
}
