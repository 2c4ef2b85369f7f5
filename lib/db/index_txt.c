/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/index_txt.c - the index.txt status database (`openssl ca` and QPKI).
 *
 * The rows live in the writable in-memory table (table.c: lock-free lookups,
 * row-by-row changes).  Besides the table the backend keeps, for every line of
 * the file it loaded, a 64-bit hash of the line's bytes and the record of the
 * row on it (12 octets per line): the line map; and the file cut into blocks
 * of 64 to 128 KiB, each with a 64-bit hash and its count of '\n': the block
 * map (~0.4 KiB per MiB of file).
 *
 * A reload first compares the new file with the block map: blocks are matched
 * from the start (in place) and from the end (moved by the change of size),
 * hashing 64 octets per step with no per-line work.  `openssl ca` and `qpki
 * cert issue/revoke` change the file by appending rows and by rewriting one
 * row's status in place (the file is rewritten, every other line stays), so
 * all but one or two blocks match.  Only the lines touching the blocks in
 * between (the window) are hashed and compared with the line map's lines of
 * the same number -- the window ends before its last lines that equal the old
 * window's last ones, so a line inserted or deleted there moves the lines
 * after it instead of changing them -- and only the lines that differ are
 * parsed and applied to the table, row by row (a changed row, a new row, a row
 * whose line went away).  The whole new file is checked before anything is
 * applied (every changed line parses; no serial appears twice, also not on an
 * unchanged line), so a bad file still leaves the table alone.  A one-row
 * change therefore costs one read of the file's bytes (hashing, no parsing)
 * plus one row; no second table is built.  When more than max(4096, lines/64)
 * lines changed (a sorted or rewritten file) every line is parsed and the rows
 * that differ are applied in place (merge); when more than max(4096, rows/16)
 * rows differ the file is loaded in full instead: a new table is built beside
 * the old one and replaces it at once (table_replace_begin/commit), which
 * compares the two so that changes_since still names only the rows that
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
#define RACY_WINDOW_NS 2000000000LL    /* see reader_close */
#define DIFF_MIN_LIMIT 4096u           /* changed lines always applied row by row */
#define BLOCK_SIZE ((size_t)64 << 10)  /* octets per block of the block map (up to twice) */

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
/* Block hashes: the same kind of change detector over a block of the file,
 * 64 octets per step in four independent lanes (no per-line work, so it runs
 * at the speed the bytes arrive from the page cache).  Fed in pieces of any
 * size: the hash depends on the bytes alone. */
typedef struct block_hash {
    uint64_t lane[4];
    uint64_t n;
    uint8_t tail[64];
    size_t tail_n;
} block_hash;

static void bh_init(block_hash *h)
{
    memset(h, 0, sizeof(*h));
    h->lane[0] = HK0;
    h->lane[1] = HK1;
    h->lane[2] = HK2;
    h->lane[3] = HK0 ^ HK1;
}

static inline void bh_stripe(uint64_t lane[4], const uint8_t *p)
{
    lane[0] = mum(load64(p) ^ HK1, load64(p + 8) ^ lane[0]);
    lane[1] = mum(load64(p + 16) ^ HK1, load64(p + 24) ^ lane[1]);
    lane[2] = mum(load64(p + 32) ^ HK1, load64(p + 40) ^ lane[2]);
    lane[3] = mum(load64(p + 48) ^ HK1, load64(p + 56) ^ lane[3]);
}

static void bh_update(block_hash *h, const uint8_t *p, size_t n)
{
    h->n += n;
    if (h->tail_n) {
        size_t take = 64 - h->tail_n < n ? 64 - h->tail_n : n;
        memcpy(h->tail + h->tail_n, p, take);
        h->tail_n += take;
        p += take;
        n -= take;
        if (h->tail_n < 64)
            return;
        bh_stripe(h->lane, h->tail);
        h->tail_n = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        bh_stripe(h->lane, p);
    memcpy(h->tail, p, n);
    h->tail_n = n;
}

static uint64_t bh_final(block_hash *h)
{
    if (h->tail_n) {
        memset(h->tail + h->tail_n, 0, 64 - h->tail_n);
        bh_stripe(h->lane, h->tail);
    }
    uint64_t a = mum(h->lane[0] ^ HK2, h->lane[1] ^ h->n);
    uint64_t b = mum(h->lane[2] ^ HK0, h->lane[3] ^ HK1);
    return mum(a ^ HK1, b ^ h->n ^ HK2);
}

static uint64_t bh_of(const uint8_t *p, size_t n)
{
    block_hash h;
    bh_init(&h);
    bh_update(&h, p, n);
    return bh_final(&h);
}

/* The block map: the loaded file cut into blocks of block_size to 2 *
 * block_size - 1 octets (one shorter block when the file is), each with its
 * hash and how many '\n' it holds. */
typedef struct block {
    uint64_t off;
    uint64_t hash;
    uint32_t len;
    uint32_t lines;
} block;

typedef struct block_map {
    block *b;
    size_t n, cap;
    uint64_t size; /* the file's */
} block_map;

static void blocks_clear(block_map *m)
{
    qpki_free(m->b);
    memset(m, 0, sizeof(*m));
}

static bool blocks_push(block_map *m, const block *b)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        block *nb = qpki_realloc(m->b, cap * sizeof(*nb));
        if (!nb)
            return false;
        m->b = nb;
        m->cap = cap;
    }
    m->b[m->n++] = *b;
    return true;
}

/* Cuts the bytes [start, end) of a file into blocks while they stream past
 * (fed in order, from any offset at or before the next byte it wants). */
typedef struct block_builder {
    block_map *out;
    uint64_t pos, end;     /* next byte wanted, end of the range */
    uint64_t piece_start, piece_end, q, r, pieces, made;
    block_hash h;
    uint32_t lines;
    bool nomem;
} block_builder;

static void bb_next_piece(block_builder *bb)
{
    bb->piece_start = bb->pos;
    bb->piece_end = bb->pos + bb->q + (bb->made < bb->r ? 1 : 0);
    bh_init(&bb->h);
    bb->lines = 0;
}

static void bb_init(block_builder *bb, block_map *out, uint64_t start, uint64_t end,
                    size_t block_size)
{
    memset(bb, 0, sizeof(*bb));
    bb->out = out;
    bb->pos = start;
    bb->end = end;
    uint64_t len = end - start;
    bb->pieces = len / block_size ? len / block_size : (len ? 1 : 0);
    if (bb->pieces) {
        bb->q = len / bb->pieces;
        bb->r = len % bb->pieces;
        bb_next_piece(bb);
    }
}

static void bb_feed(block_builder *bb, uint64_t off, const uint8_t *p, size_t n)
{
    if (bb->made == bb->pieces || off + n <= bb->pos || off > bb->pos)
        return;
    p += bb->pos - off;
    n -= (size_t)(bb->pos - off);
    while (n > 0 && bb->made < bb->pieces) {
        size_t take = bb->piece_end - bb->pos < n ? (size_t)(bb->piece_end - bb->pos) : n;
        bh_update(&bb->h, p, take);
        for (const uint8_t *q = p, *e = p + take; (q = memchr(q, '\n', (size_t)(e - q))); q++)
            bb->lines++;
        bb->pos += take;
        p += take;
        n -= take;
        if (bb->pos == bb->piece_end) {
            block b = {bb->piece_start, bh_final(&bb->h), (uint32_t)(bb->pos - bb->piece_start),
                       bb->lines};
            if (!blocks_push(bb->out, &b))
                bb->nomem = true;
            if (++bb->made < bb->pieces)
                bb_next_piece(bb);
        }
    }
}

/* Whether every block was made (all of [start, end) fed). */
static bool bb_done(const block_builder *bb) { return bb->made == bb->pieces && !bb->nomem; }

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
    uint64_t lineno;     /* lines seen (DIFF: starts at the window's first line) */
    uint64_t fail_line;  /* the line of rc (1-based), 0 for failures of no line */
    size_t cmp_end;      /* DIFF: lines below this are compared with the map's */
    block_map fresh_blocks; /* FULL, MERGE: the blocks of the file read; DIFF:
                             * the blocks of the window */
    changed_line *changed;
    size_t changed_n, changed_cap, changed_limit;
    bool too_many;       /* DIFF, MERGE: give up, load in full */
    bool blocks_ok;      /* FULL, MERGE: fresh_blocks cover the whole file */
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
    ld->cmp_end = map ? map->n : 0;
    size_t limit = map ? map->n / 64 : 0;
    ld->changed_limit = limit > min_limit ? limit : min_limit;
}

/* Start (again): FULL begins a new table. */
static qpki_status loader_start(loader *ld)
{
    ld->rc = QPKI_OK;
    ld->lineno = 0;
    ld->fail_line = 0;
    ld->changed_n = 0;
    ld->too_many = false;
    ld->fresh.n = 0;
    ld->fresh_blocks.n = 0;
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
    blocks_clear(&ld->fresh_blocks);
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

/* The changed line holds the row of r (its entry is set by the caller). */
static void changed_take_serial(changed_line *c, const index_row *r)
{
    c->has_row = true;
    c->serial_len = (uint8_t)r->serial_len;
    memcpy(c->serial, r->serial, r->serial_len);
}

static void diff_line(loader *ld, const char *line, size_t len, uint64_t h)
{
    size_t k = (size_t)ld->lineno - 1;
    if (k < ld->cmp_end && ld->map->hash[k] == h)
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
        changed_take_serial(c, &r);
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
    changed_take_serial(c, &r);
    c->entry = e;
    ld->changed_n++;
}

/* One line (without its '\n'). */
static void loader_line(loader *ld, const char *line, size_t len)
{
    ld->lineno++;
    uint64_t h = line_hash((const uint8_t *)line, len);
    if (ld->rc != QPKI_OK || ld->too_many)
        return;
    if (ld->mode == LOAD_FULL)
        full_line(ld, line, len, h);
    else if (ld->mode == LOAD_MERGE)
        merge_line(ld, line, len, h);
    else
        diff_line(ld, line, len, h);
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

/* Whether new line k (0-based) is one of the changed lines (kept in line
 * order). */
static bool line_changed(const loader *ld, size_t k)
{
    size_t lo = 0, hi = ld->changed_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ld->changed[mid].line < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ld->changed_n && ld->changed[lo].line == k;
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

/* The lines a diff looked at: old lines [first, old_end) became new lines
 * [first, new_end); the lines before are the same, and so are the lines after,
 * moved by new_end - old_end. */
typedef struct window {
    size_t first, old_end, new_end;
} window;

/* The new line number (1-based) of old line j (1-based) outside the window. */
static uint64_t window_line(const window *w, uint64_t j)
{
    return j > w->old_end ? j - w->old_end + w->new_end : j;
}

/* Check the diff against the table, then apply it (the line map's lines after
 * the window move with them) and commit.  Fails (table and map untouched) on
 * a duplicate serial. */
static qpki_status diff_apply(loader *ld, const window *w, uint64_t *changed_rows)
{
    line_map *m = ld->map;
    size_t removed = w->old_end > w->new_end ? w->old_end - w->new_end : 0;
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
        if (k < w->old_end && m->ref[k])
            (void)ref_set_has(&gone, m->ref[k], true);
    }
    for (size_t k = w->new_end; k < w->old_end; k++)
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
                uint64_t j = window_line(w, map_line_of(m, m->n, ref));
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
    if (!map_reserve(m, m->n - w->old_end + w->new_end)) {
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
    if (w->new_end != w->old_end) {
        /* The lines after the window move; the window's new lines are all
         * changed lines (set by put_changed). */
        size_t tail = m->n - w->old_end;
        memmove(m->hash + w->new_end, m->hash + w->old_end, tail * sizeof(*m->hash));
        memmove(m->ref + w->new_end, m->ref + w->old_end, tail * sizeof(*m->ref));
        m->n = m->n - w->old_end + w->new_end;
    }
    rc = put_changed(ld, m);
    if (rc != QPKI_OK)
        goto out;
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
    bool hashed;    /* every byte was looked at: the contents are known */
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

/* Feed the lines of data[0..len) (eof: the rest is the last line), or only
 * through the line whose '\n' is at or after `stop` (*stopped); returns the
 * bytes consumed. */
static size_t feed(loader *ld, const uint8_t *data, size_t len, bool eof, size_t stop,
                   bool *stopped)
{
    size_t pos = 0;
    *stopped = false;
    while (pos < len) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        if (!nl)
            break;
        loader_line(ld, (const char *)data + pos, (size_t)(nl - (data + pos)));
        pos = (size_t)(nl - data) + 1;
        if (pos > stop) {
            *stopped = true;
            return pos;
        }
    }
    if (eof && pos < len) {
        loader_line(ld, (const char *)data + pos, len - pos); /* no final newline */
        pos = len;
    }
    return pos;
}

/* The source of a load: a file, or bytes in memory. */
typedef struct source {
    const char *path;    /* or NULL */
    const uint8_t *data; /* when path is NULL */
    size_t len;
} source;

/* An open source.  A file is read with pread(2), not mapped: a file cut short
 * while mapped would kill the process with SIGBUS; read, it only reads short,
 * which counts as "changed while read". */
typedef struct reader {
    int fd;                /* -1: the bytes in data */
    const uint8_t *data;
    uint64_t size;         /* at open */
    uint8_t *win;          /* a window of the file: [win_off, win_off + win_len) */
    size_t win_cap, win_len;
    uint64_t win_off;
    bool short_read;       /* the file's size is not what it was at open */
    struct timespec start;
    const char *path;
    char *error;
    size_t error_size;
} reader;

#define WINDOW_SIZE ((size_t)1 << 20) /* bytes per pread(2) when comparing blocks */

static qpki_status reader_open(reader *rd, const source *src, read_result *res, char *error,
                               size_t error_size)
{
    memset(rd, 0, sizeof(*rd));
    memset(res, 0, sizeof(*res));
    rd->fd = -1;
    rd->error = error;
    rd->error_size = error_size;
    if (!src->path) {
        rd->data = src->data;
        rd->size = src->len;
        return QPKI_OK;
    }
    rd->path = src->path;
    rd->fd = open(src->path, O_RDONLY | O_CLOEXEC);
    if (rd->fd < 0)
        return io_failure(src->path, errno, error, error_size);
    struct stat st;
    qpki_status rc = QPKI_OK;
    if (fstat(rd->fd, &st) != 0) {
        rc = io_failure(src->path, errno, error, error_size);
    } else if (!S_ISREG(st.st_mode)) {
        qpki_fmt(error, error_size, "%s: not a regular file", src->path);
        rc = QPKI_ERR_IO;
    }
    if (rc != QPKI_OK) {
        close(rd->fd);
        rd->fd = -1;
        return rc;
    }
    res->id = file_id_of(&st);
    rd->size = (uint64_t)st.st_size;
    clock_gettime(CLOCK_REALTIME, &rd->start);
    (void)posix_fadvise(rd->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return QPKI_OK;
}

/* Close the source.  check: note in res whether the file changed while it was
 * read, and whether its last change is recent enough to hide a rewrite. */
static qpki_status reader_close(reader *rd, read_result *res, bool check)
{
    qpki_status rc = QPKI_OK;
    qpki_free(rd->win);
    rd->win = NULL;
    if (rd->fd < 0)
        return rc;
    if (check) {
        struct stat after;
        if (fstat(rd->fd, &after) != 0) {
            rc = io_failure(rd->path, errno, rd->error, rd->error_size);
        } else {
            file_id later = file_id_of(&after);
            res->changed = rd->short_read || !file_id_equal(&res->id, &later);
        }
        /* Timestamps have a granularity (a clock tick, or a second or more on
         * some file systems): a rewrite of the same size within that tick
         * leaves the inode, size, mtime and ctime as they were.  While the
         * file's last change is this recent, refresh compares contents as
         * well. */
        int64_t start_ns = (int64_t)rd->start.tv_sec * 1000000000 + rd->start.tv_nsec;
        int64_t last = res->id.mtime_ns > res->id.ctime_ns ? res->id.mtime_ns : res->id.ctime_ns;
        res->racy = last >= start_ns - RACY_WINDOW_NS;
    }
    close(rd->fd);
    rd->fd = -1;
    return rc;
}

/* The bytes [off, off + n) of the source (n <= WINDOW_SIZE), read ahead in
 * the direction of travel (back: towards the start).  NULL with *rc set on an
 * error, or with *rc = QPKI_OK and short_read when the file ends before. */
static const uint8_t *reader_at(reader *rd, uint64_t off, size_t n, bool back, qpki_status *rc)
{
    *rc = QPKI_OK;
    if (off + n > rd->size) {
        rd->short_read = true;
        return NULL;
    }
    if (rd->fd < 0)
        return rd->data + off;
    if (rd->win && off >= rd->win_off && off + n <= rd->win_off + rd->win_len)
        return rd->win + (off - rd->win_off);
    if (!rd->win) {
        rd->win_cap = WINDOW_SIZE;
        rd->win = qpki_malloc(rd->win_cap);
        if (!rd->win) {
            qpki_fmt(rd->error, rd->error_size, "%s: out of memory", rd->path);
            *rc = QPKI_ERR_NOMEM;
            return NULL;
        }
    }
    uint64_t start = off;
    if (back)
        start = off + n > rd->win_cap ? off + n - rd->win_cap : 0;
    size_t want = rd->size - start < rd->win_cap ? (size_t)(rd->size - start) : rd->win_cap;
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(rd->fd, rd->win + got, want - got, (off_t)(start + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rd->win_len = 0;
            *rc = io_failure(rd->path, errno, rd->error, rd->error_size);
            return NULL;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    rd->win_off = start;
    rd->win_len = got;
    if (off + n > start + got) {
        rd->short_read = true;
        return NULL;
    }
    return rd->win + (off - start);
}

/* Feed the lines from offset `from` to the loader, and their bytes to bb: up
 * to the end of the source, or (stop != UINT64_MAX) through the line whose
 * '\n' is at or after stop (*stopped).  *end: the offset after the last line
 * fed. */
static qpki_status stream_lines(reader *rd, loader *ld, uint64_t from, uint64_t stop,
                                block_builder *bb, uint64_t *end, bool *stopped)
{
    *stopped = false;
    if (rd->fd < 0) {
        const uint8_t *d = rd->data + from;
        size_t len = (size_t)(rd->size - from);
        size_t rel = stop == UINT64_MAX ? SIZE_MAX : (size_t)(stop - from);
        size_t pos = feed(ld, d, len, true, rel, stopped);
        bb_feed(bb, from, d, pos);
        *end = from + pos;
        return QPKI_OK;
    }
    size_t cap = READ_CHUNK;
    if (rd->size < cap - 1)
        cap = (size_t)rd->size + 1 < 4096 ? 4096 : (size_t)rd->size + 1;
    uint8_t *buf = qpki_malloc(cap);
    if (!buf) {
        fail_nomem(ld);
        return QPKI_ERR_NOMEM;
    }
    qpki_status rc = QPKI_OK;
    uint64_t base = from; /* the offset of buf[0] */
    size_t have = 0;
    bool sized = false;
    for (;;) {
        size_t want = cap - have;
        if (stop != UINT64_MAX) {
            /* A window: read little past its end (the buffer is for the
             * longest line, not for reading ahead). */
            uint64_t at = base + have, goal = (stop > at ? stop : at) + 65536;
            if (goal - at < want)
                want = (size_t)(goal - at);
        }
        ssize_t n = pread(rd->fd, buf + have, want, (off_t)(base + have));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = io_failure(rd->path, errno, ld->error, ld->error_size);
            break;
        }
        bb_feed(bb, base + have, buf + have, (size_t)n);
        size_t fill = have + (size_t)n;
        size_t rel = stop == UINT64_MAX ? SIZE_MAX : stop > base ? (size_t)(stop - base) : 0;
        bool done;
        size_t pos = feed(ld, buf, fill, n == 0, rel, &done);
        if (!sized && ld->mode == LOAD_FULL && ld->rc == QPKI_OK && pos > 0 && rd->size > pos) {
            /* Size the new table's index from the first chunk's rows per byte. */
            sized = true;
            uint64_t rows = rd->size / pos * ld->lineno + rd->size % pos * ld->lineno / pos;
            if (rows < ((uint64_t)1 << 32) && table_reserve(ld->table, (size_t)rows) != QPKI_OK)
                fail_nomem(ld);
        }
        if (done || n == 0) {
            *stopped = done;
            *end = base + pos;
            break;
        }
        if (ld->too_many)
            break; /* loaded another way instead */
        size_t rem = fill - pos;
        if (rem == cap) {
            if (ld->rc == QPKI_OK)
                fail_at_line(ld, ld->lineno + 1, QPKI_ERR_PARSE, "line longer than %zu bytes",
                             cap);
            ld->lineno++;
            rem = 0; /* keep reading */
        }
        memmove(buf, buf + fill - rem, rem);
        base += fill - rem;
        have = rem;
    }
    qpki_free(buf);
    return rc;
}

/* One pass of the loader over an open reader. */
typedef qpki_status (*read_pass)(reader *rd, loader *ld, void *ctx);

/* Open the source, start the loader and run the pass; again when the file
 * changed while being read (READ_ATTEMPTS times at most). */
static qpki_status read_stable(const source *src, loader *ld, read_result *res, read_pass pass,
                               void *ctx)
{
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        reader rd;
        qpki_status rc = reader_open(&rd, src, res, ld->error, ld->error_size);
        if (rc != QPKI_OK)
            return rc;
        rc = loader_start(ld);
        if (rc == QPKI_OK)
            rc = pass(&rd, ld, ctx);
        qpki_status crc = reader_close(&rd, res, rc == QPKI_OK && !ld->too_many);
        if (rc == QPKI_OK)
            rc = crc;
        if (rc != QPKI_OK || ld->too_many)
            return rc;
        res->hashed = true;
        if (res->changed || rd.short_read)
            continue;
        return QPKI_OK;
    }
    qpki_fmt(ld->error, ld->error_size, "%s: file kept changing while being read", src->path);
    return QPKI_ERR_IO;
}

typedef struct whole_pass {
    size_t block_size;
    block_builder bb;
    uint64_t size;
} whole_pass;

static qpki_status stream_whole(reader *rd, loader *ld, void *ctx)
{
    whole_pass *w = ctx;
    bb_init(&w->bb, &ld->fresh_blocks, 0, rd->size, w->block_size);
    w->size = rd->size;
    uint64_t end = 0;
    bool stopped;
    qpki_status rc = stream_lines(rd, ld, 0, UINT64_MAX, &w->bb, &end, &stopped);
    if (rc == QPKI_OK && !ld->too_many && end != rd->size)
        rd->short_read = true; /* grew or shrank meanwhile */
    return rc;
}

/* Read the whole source through the loader (FULL, MERGE) and cut it into
 * blocks. */
static qpki_status pass_whole(const source *src, loader *ld, size_t block_size,
                              read_result *res)
{
    whole_pass w = {.block_size = block_size};
    qpki_status rc = read_stable(src, ld, res, stream_whole, &w);
    if (rc != QPKI_OK || ld->too_many)
        return rc;
    ld->fresh_blocks.size = w.size;
    ld->blocks_ok = bb_done(&w.bb);
    return QPKI_OK;
}

/* ------------------------------------------------------------------------ */
/* The backend. */
typedef struct index_db {
    char *path;                /* NULL: loaded from memory, never refreshed */
    db_table *table;
    /* One refresh at a time; guards the fields below. */
    pthread_mutex_t refresh_lock;
    line_map map;              /* the lines of the file the table holds */
    block_map blocks;          /* and its blocks */
    bool map_valid;            /* map and blocks describe that file */
    size_t block_size;         /* BLOCK_SIZE; tests lower it */
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

/* The table no longer matches a known file: the next change parses every
 * line (merge). */
static void forget_map(index_db *db)
{
    map_clear(&db->map);
    blocks_clear(&db->blocks);
    db->map_valid = false;
}

/* Make the loader's new line map and blocks the current ones. */
static void install_map(index_db *db, loader *ld)
{
    db->map = ld->fresh;
    memset(&ld->fresh, 0, sizeof(ld->fresh));
    db->blocks = ld->fresh_blocks;
    memset(&ld->fresh_blocks, 0, sizeof(ld->fresh_blocks));
    db->map_valid = ld->blocks_ok;
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
    forget_map(db);
    loader ld;
    loader_init(&ld, LOAD_FULL, db->table, NULL, 0, name, msg, msg_size);
    qpki_status rc = pass_whole(src, &ld, db->block_size, res);
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
    forget_map(db);
    loader ld;
    loader_init(&ld, LOAD_MERGE, db->table, NULL, 0, name, msg, msg_size);
    ld.changed_limit = rows / 16 > db->merge_min_limit ? rows / 16 : db->merge_min_limit;
    qpki_status rc = pass_whole(src, &ld, db->block_size, res);
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

/* What a block comparison found: the window of lines to diff, and the blocks
 * kept (old blocks [0, front) in place, [back, n) moved by the change of
 * size). */
typedef struct block_diff {
    bool same;            /* the file is the one loaded, byte for byte */
    window w;
    size_t front, back;
    uint64_t size;        /* the new file's */
    uint64_t parsed;      /* bytes of the window's lines */
} block_diff;

/* Compare the source with the block map.  Blocks are matched from the start
 * (in place) and from the end (moved by the change of size); only the lines
 * touching the blocks in between go through the loader (DIFF, lines compared
 * with the line map's), the rest is only hashed.  The loader's blocks receive
 * the window's new blocks.  Sets rd->short_read (the caller re-reads) when the
 * file does not hold together. */
static qpki_status diff_blocks(index_db *db, reader *rd, loader *ld, block_diff *d)
{
    const block *b = db->blocks.b;
    size_t nb = db->blocks.n, i = 0, j = nb;
    uint64_t old_size = db->blocks.size, size = rd->size;
    const uint8_t *p;
    qpki_status rc = QPKI_OK;
    memset(d, 0, sizeof(*d));
    d->size = size;
    for (; i < nb && b[i].off + b[i].len <= size; i++) {
        if (!(p = reader_at(rd, b[i].off, b[i].len, false, &rc)))
            return rc;
        if (bh_of(p, b[i].len) != b[i].hash)
            break;
    }
    uint64_t front = i ? b[i - 1].off + b[i - 1].len : 0;
    if (i == nb && size == old_size) {
        d->same = true;
        return QPKI_OK;
    }
    /* Old block k is at b[k].off + size - old_size in the new file. */
    for (; j > i && b[j - 1].off + size >= front + old_size; j--) {
        if (!(p = reader_at(rd, b[j - 1].off + size - old_size, b[j - 1].len, true, &rc)))
            return rc;
        if (bh_of(p, b[j - 1].len) != b[j - 1].hash)
            break;
    }
    uint64_t back_old = j < nb ? b[j].off : old_size;
    /* A window shorter than a block takes in a neighbour, so that blocks stay
     * at least block_size long (all but the file's last). */
    if (back_old + size - old_size - front < db->block_size) {
        if (i > 0) {
            i--;
            front = b[i].off;
        } else if (j < nb) {
            back_old += b[j].len;
            j++;
        }
    }
    uint64_t back = back_old + size - old_size;
    /* Lines: the window starts with the line holding byte `front` and ends
     * with the line whose '\n' is the first at or after `back` (the end of
     * the file when none is: then no line follows). */
    size_t first = 0, upto_back = 0, after = 0;
    for (size_t k = 0; k < nb; k++) {
        if (k < i)
            first += b[k].lines;
        if (k < j)
            upto_back += b[k].lines;
        else
            after += b[k].lines;
    }
    size_t old_end = after ? upto_back + 1 : ld->map->n;
    uint64_t start = front;
    while (start > 0) {
        size_t n = start < 4096 ? (size_t)start : 4096;
        if (!(p = reader_at(rd, start - n, n, true, &rc)))
            return rc;
        size_t q = n;
        while (q > 0 && p[q - 1] != '\n')
            q--;
        start -= n - q;
        if (q > 0)
            break;
    }
    ld->lineno = first;
    ld->cmp_end = old_end;
    block_builder bb;
    bb_init(&bb, &ld->fresh_blocks, front, back, db->block_size);
    uint64_t end = 0;
    bool stopped = false;
    rc = stream_lines(rd, ld, start, after ? back : UINT64_MAX, &bb, &end, &stopped);
    if (rc != QPKI_OK || ld->too_many)
        return rc;
    if (bb.nomem) {
        fail_nomem(ld);
        return QPKI_OK;
    }
    if (!bb_done(&bb) || stopped != (after > 0)) {
        rd->short_read = true; /* not the file it was at open */
        return QPKI_OK;
    }
    /* Lines moved, not changed: a line inserted or deleted in the window
     * moves the lines after it, which then differ from the old lines of the
     * same number.  The window ends before its last lines that equal the old
     * window's last lines. */
    size_t new_end = (size_t)ld->lineno;
    const line_map *m = ld->map;
    while (new_end > first && old_end > first && ld->rc == QPKI_OK) {
        const changed_line *c = ld->changed_n ? &ld->changed[ld->changed_n - 1] : NULL;
        bool changed = c && c->line == new_end - 1;
        /* A line not changed has the hash of the old line of its number. */
        if ((changed ? c->hash : m->hash[new_end - 1]) != m->hash[old_end - 1])
            break;
        /* The new lines [old_end, new_end) take no record from the old map
         * (the lines after the window move onto them): all must be changed
         * lines.  Trimming brings new line old_end - 1 into that range; when
         * it was found equal to the old line of its number it has no row of
         * its own (e.g. a line appended twice), so the window stays. */
        if (old_end < new_end && !line_changed(ld, old_end - 1))
            break;
        if (changed)
            ld->changed_n--;
        new_end--;
        old_end--;
    }
    d->w = (window){first, old_end, new_end};
    d->front = i;
    d->back = j;
    d->parsed = end - start;
    return QPKI_OK;
}

typedef struct blocks_pass {
    index_db *db;
    block_diff *d;
} blocks_pass;

static qpki_status diff_pass(reader *rd, loader *ld, void *ctx)
{
    blocks_pass *p = ctx;
    return diff_blocks(p->db, rd, ld, p->d);
}

/* The loader's DIFF pass over the source (diff_blocks). */
static qpki_status pass_blocks(index_db *db, const source *src, loader *ld, read_result *res,
                               block_diff *d)
{
    blocks_pass p = {db, d};
    return read_stable(src, ld, res, diff_pass, &p);
}

/* After a diff: the kept blocks (those after the window moved) around the
 * window's new ones.  False when out of memory. */
static bool splice_blocks(block_map *m, const block_diff *d, const block_map *mid)
{
    size_t tail = m->n - d->back, n = d->front + mid->n + tail;
    block *nb = qpki_malloc((n ? n : 1) * sizeof(*nb));
    if (!nb)
        return false;
    if (d->front)
        memcpy(nb, m->b, d->front * sizeof(*nb));
    if (mid->n)
        memcpy(nb + d->front, mid->b, mid->n * sizeof(*nb));
    for (size_t k = 0; k < tail; k++) {
        nb[d->front + mid->n + k] = m->b[d->back + k];
        nb[d->front + mid->n + k].off += d->size - m->size;
    }
    qpki_free(m->b);
    m->b = nb;
    m->n = m->cap = n;
    m->size = d->size;
    return true;
}

/* Load the source against the line map and blocks: the changed rows only, or
 * merged or in full when too much changed.  *same: the source holds exactly
 * the lines loaded. */
static qpki_status load_changes(index_db *db, const source *src, const char *name,
                                read_result *res, char *msg, size_t msg_size, bool *same)
{
    *same = false;
    if (!db->map_valid)
        return load_merge(db, src, name, res, msg, msg_size);
    loader ld;
    loader_init(&ld, LOAD_DIFF, db->table, &db->map, db->diff_min_limit, name, msg, msg_size);
    block_diff d;
    memset(&d, 0, sizeof(d));
    qpki_status rc = pass_blocks(db, src, &ld, res, &d);
    if (rc == QPKI_OK && d.same) {
        *same = true;
        loader_clear(&ld);
        return QPKI_OK;
    }
    size_t gone = d.w.old_end > d.w.new_end ? d.w.old_end - d.w.new_end : 0;
    if (rc == QPKI_OK && !ld.too_many && ld.rc == QPKI_OK &&
        ld.changed_n + gone > ld.changed_limit)
        ld.too_many = true; /* many lines gone */
    if (rc == QPKI_OK && ld.too_many) {
        loader_clear(&ld);
        return load_merge(db, src, name, res, msg, msg_size);
    }
    if (rc == QPKI_OK) {
        uint64_t changed_rows = 0;
        if (ld.changed_n == 0 && gone == 0 && d.w.new_end == d.w.old_end && ld.rc == QPKI_OK)
            *same = true; /* other bytes, the same lines */
        else
            rc = diff_apply(&ld, &d.w, &changed_rows);
        if (rc == QPKI_OK && !*same) {
            db->stats.incremental_loads++;
            db->stats.changed_lines = ld.changed_n + gone;
            db->stats.parsed_bytes = d.parsed;
        }
        if (rc == QPKI_OK && !splice_blocks(&db->blocks, &d, &ld.fresh_blocks))
            forget_map(db); /* the next change parses every line */
        if (rc == QPKI_ERR_NOMEM)
            forget_map(db); /* the table may be half-applied: reload in full */
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

static qpki_status index_list_serials(void *self, qpki_db_cursor *cursor, size_t max,
                                      qpki_db_change_fn fn, void *user, int *done)
{
    return table_list(((index_db *)self)->table, cursor, max, fn, user, done);
}

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
    forget_map(db);
    pthread_mutex_destroy(&db->refresh_lock);
    pthread_mutex_destroy(&db->error_lock);
    qpki_free(db->path);
    qpki_free(db);
}

static const qpki_status_db_ops index_ops = {
    .abi_version = QPKI_DB_ABI_V4,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = index_lookup,
    .generation = index_generation,
    .refresh = index_refresh,
    .count = index_count,
    .last_error = index_last_error,
    .close = index_close,
    .changes_since = index_changes_since,
    .list_serials = index_list_serials,
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
    db->block_size = BLOCK_SIZE;
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

qpki_status qpki_index_set_block_size(qpki_db *db, size_t size)
{
    index_db *self = qpki_db_backend(db, &index_ops);
    QPKI_ENSURE(self && size >= 1 && size <= ((size_t)1 << 30), QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&self->refresh_lock);
    self->block_size = size;
    forget_map(self);
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
