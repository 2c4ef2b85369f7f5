/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/index_txt.c - the index.txt status database (`openssl ca` and QPKI).
 *
 * The file is parsed into an immutable table: rows packed back to back in one
 * byte arena, found through an open-addressing hash index.  A reload builds a
 * complete new table beside the old one and swaps the pointer under a
 * write lock held only for the swap, so a lookup sees one table or the other,
 * never a half-loaded one.  A file that fails to load leaves the table alone.
 *
 * Memory per row: 4 header octets + the serial magnitude + 5 octets per time
 * (expiry; revocation and invalidity when present) in the arena, plus 8 octets
 * per hash slot at a load factor between 3/8 and 3/4.  Subject and filename are
 * not kept.  A 20-octet serial that is valid costs 29 + ~13 octets. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/db_internal.h"
#include "db/index_row.h"

#define READ_CHUNK ((size_t)4 << 20)        /* bytes per read(2): the longest line */
#define READ_ATTEMPTS 3                     /* re-reads when the file changes under us */
#define RACY_WINDOW_NS 2000000000LL         /* see read_once */
#define ARENA_MAX ((size_t)UINT32_MAX - 1u) /* record offset + 1 fits in 32 bits */

/* ------------------------------------------------------------------------ */
/* Packed rows.
 *   [0] serial length   [1] status 'V' 'R' 'E'   [2] reason (int8, -1 none)
 *   [3] flags: bits 0-1 hold instruction, bit 2 invalidity date present
 *   [4 .. 4+len) serial magnitude
 *   then expiry, the revocation time for R rows, and the invalidity date when
 *   flagged: each a signed 40-bit little-endian count of seconds (years 0000 to
 *   9999 need 39 bits). */
#define REC_HEAD 4u
#define TIME_OCTETS 5u
#define FLAG_HOLD_MASK 0x03u
#define FLAG_INVALIDITY 0x04u

static void put_time40(uint8_t *p, qpki_time t)
{
    uint64_t u = (uint64_t)t;
    for (unsigned i = 0; i < TIME_OCTETS; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

static qpki_time get_time40(const uint8_t *p)
{
    uint64_t u = 0;
    for (unsigned i = 0; i < TIME_OCTETS; i++)
        u |= (uint64_t)p[i] << (8 * i);
    if (u & ((uint64_t)1 << 39))
        u |= ~(((uint64_t)1 << 40) - 1); /* sign-extend */
    return (qpki_time)u;
}

static size_t rec_size(const uint8_t *rec)
{
    size_t n = REC_HEAD + rec[0] + TIME_OCTETS;
    if (rec[1] == 'R')
        n += TIME_OCTETS;
    if (rec[3] & FLAG_INVALIDITY)
        n += TIME_OCTETS;
    return n;
}

static void rec_to_entry(const uint8_t *rec, qpki_db_entry *out)
{
    const uint8_t *q = rec + REC_HEAD + rec[0];
    out->row_status = (char)rec[1];
    out->expiry = get_time40(q);
    q += TIME_OCTETS;
    if (rec[1] == 'R') {
        out->revocation_time = get_time40(q);
        q += TIME_OCTETS;
        out->reason = (qpki_crl_reason)(int8_t)rec[2];
        out->hold_instruction = (qpki_hold_instruction)(rec[3] & FLAG_HOLD_MASK);
    }
    if (rec[3] & FLAG_INVALIDITY)
        out->invalidity_date = get_time40(q);
}

/* ------------------------------------------------------------------------ */
/* Hashing.  mix64 is the SplitMix64 finaliser (a bijection with full
 * avalanche); serials and file contents are absorbed 8 octets at a time. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t serial_hash(const uint8_t *s, size_t n)
{
    uint64_t h = mix64(0x6a09e667f3bcc908ull ^ n);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix64(h ^ w);
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        h = mix64(h ^ w);
    }
    return h;
}

/* Streaming hash of the file contents (two independent lanes for speed).  Used
 * only to notice changes the file's timestamps cannot show. */
typedef struct content_hash {
    uint64_t a, b, total;
    uint8_t tail[16];
    size_t tail_len;
} content_hash;

static void ch_init(content_hash *c)
{
    memset(c, 0, sizeof(*c));
    c->a = 0x243f6a8885a308d3ull;
    c->b = 0x13198a2e03707344ull;
}

static void ch_block(content_hash *c, const uint8_t *p)
{
    uint64_t x, y;
    memcpy(&x, p, 8);
    memcpy(&y, p + 8, 8);
    c->a = mix64(c->a ^ x);
    c->b = mix64(c->b ^ y);
}

static void ch_update(content_hash *c, const uint8_t *p, size_t n)
{
    c->total += n;
    if (c->tail_len) {
        size_t take = 16 - c->tail_len < n ? 16 - c->tail_len : n;
        memcpy(c->tail + c->tail_len, p, take);
        c->tail_len += take;
        p += take;
        n -= take;
        if (c->tail_len < 16)
            return;
        ch_block(c, c->tail);
        c->tail_len = 0;
    }
    while (n >= 16) {
        ch_block(c, p);
        p += 16;
        n -= 16;
    }
    memcpy(c->tail, p, n);
    c->tail_len = n;
}

static uint64_t ch_final(content_hash *c)
{
    uint8_t last[16] = {0};
    memcpy(last, c->tail, c->tail_len);
    ch_block(c, last);
    return mix64(c->a ^ mix64(c->b ^ c->total));
}

/* ------------------------------------------------------------------------ */
/* The table. */
typedef struct index_table {
    uint8_t *arena;      /* packed rows */
    size_t used, cap;
    uint64_t *slots;     /* (hash >> 32) << 32 | (offset + 1); 0 = empty */
    size_t mask;
    size_t count;
    uint64_t content_hash;
} index_table;

static void table_free(index_table *t)
{
    if (!t)
        return;
    qpki_free(t->arena);
    qpki_free(t->slots);
    qpki_free(t);
}

/* Ask for transparent huge pages on a large, not yet touched allocation: the
 * hash slots and rows are read at random, and with 4 KiB pages nearly every
 * lookup also misses the TLB.  Advice only; nothing depends on it. */
static void advise_huge(void *p, size_t n)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (n < 2 * huge)
        return;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + n) & ~(huge - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

static const uint8_t *table_find(const index_table *t, const uint8_t *serial, size_t len,
                                 uint64_t h)
{
    uint64_t tag = h >> 32;
    size_t j = (size_t)h & t->mask;
    for (;;) {
        uint64_t s = t->slots[j];
        if (s == 0)
            return NULL;
        if ((s >> 32) == tag) {
            const uint8_t *rec = t->arena + ((uint32_t)s - 1u);
            if (rec[0] == len && memcmp(rec + REC_HEAD, serial, len) == 0)
                return rec;
        }
        j = (j + 1) & t->mask;
    }
}

/* ------------------------------------------------------------------------ */
/* The parser: one line at a time into a table under construction. */
typedef struct parser {
    const char *name;   /* file name in messages */
    index_table *t;
    uint32_t *lines;    /* line number of each row, for duplicate messages */
    size_t lines_cap;
    uint64_t lineno;
    qpki_status rc;     /* the first failure; later lines are only counted */
    char *error;
    size_t error_size;
} parser;

static void fail_at_line(parser *ps, qpki_status rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_at_line(parser *ps, qpki_status rc, const char *fmt, ...)
{
    char why[QPKI_DB_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (n < 0)
        why[0] = '\0';
    qpki_fmt(ps->error, ps->error_size, "%s:%" PRIu64 ": %s", ps->name, ps->lineno, why);
    ps->rc = rc;
}

static void fail_nomem(parser *ps)
{
    qpki_fmt(ps->error, ps->error_size, "%s: out of memory", ps->name);
    ps->rc = QPKI_ERR_NOMEM;
}

static bool parser_reserve(parser *ps, size_t need)
{
    index_table *t = ps->t;
    if (need > ARENA_MAX - t->used) {
        fail_at_line(ps, QPKI_ERR_TOO_LARGE, "index too large (rows beyond 4 GiB)");
        return false;
    }
    if (t->used + need > t->cap) {
        size_t cap = t->cap ? t->cap : (size_t)1 << 16;
        while (cap < t->used + need)
            cap = cap > ARENA_MAX / 2 ? ARENA_MAX : cap * 2;
        uint8_t *a = qpki_realloc(t->arena, cap);
        if (!a) {
            fail_nomem(ps);
            return false;
        }
        advise_huge(a + t->used, cap - t->used);
        t->arena = a;
        t->cap = cap;
    }
    if (t->count == ps->lines_cap) {
        size_t cap = ps->lines_cap ? ps->lines_cap * 2 : 1024;
        uint32_t *l = qpki_realloc(ps->lines, cap * sizeof(*l));
        if (!l) {
            fail_nomem(ps);
            return false;
        }
        ps->lines = l;
        ps->lines_cap = cap;
    }
    return true;
}

static void parse_line(parser *ps, const char *line, size_t len)
{
    ps->lineno++;
    if (ps->rc != QPKI_OK || !index_line_has_row(line, &len))
        return;
    index_span f[INDEX_ROW_FIELDS];
    index_row r;
    index_row_fault fault;
    if (!index_row_parse(line, len, f, &r, &fault)) {
        char why[QPKI_DB_MESSAGE_MAX];
        index_row_fault_text(&fault, why, sizeof(why));
        fail_at_line(ps, QPKI_ERR_PARSE, "%s", why);
        return;
    }

    size_t need = REC_HEAD + r.serial_len + TIME_OCTETS;
    if (r.status == 'R')
        need += TIME_OCTETS;
    if (r.has_invalidity)
        need += TIME_OCTETS;
    if (!parser_reserve(ps, need))
        return;
    index_table *t = ps->t;
    uint8_t *rec = t->arena + t->used;
    rec[0] = (uint8_t)r.serial_len;
    rec[1] = (uint8_t)r.status;
    rec[2] = (uint8_t)(int8_t)r.reason;
    rec[3] = (uint8_t)((unsigned)r.hold | (r.has_invalidity ? FLAG_INVALIDITY : 0u));
    memcpy(rec + REC_HEAD, r.serial, r.serial_len);
    uint8_t *q = rec + REC_HEAD + r.serial_len;
    put_time40(q, r.expiry);
    q += TIME_OCTETS;
    if (r.status == 'R') {
        put_time40(q, r.revocation_time);
        q += TIME_OCTETS;
    }
    if (r.has_invalidity)
        put_time40(q, r.invalidity_date);
    t->used += need;
    ps->lines[t->count] = ps->lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)ps->lineno;
    t->count++;
}

static void fail_duplicate(parser *ps, size_t row_index, size_t first_offset)
{
    index_table *t = ps->t;
    size_t first = 0;
    for (size_t off = 0; off < first_offset; off += rec_size(t->arena + off))
        first++;
    const uint8_t *rec = t->arena + first_offset;
    char hex[2 * QPKI_SERIAL_MAX + 1];
    qpki_serial_hex(rec + REC_HEAD, rec[0], hex);
    ps->lineno = ps->lines[row_index];
    fail_at_line(ps, QPKI_ERR_PARSE, "duplicate serial number %s (first on line %" PRIu32 ")",
                 hex, ps->lines[first]);
}

/* Build the hash index over the parsed rows; a serial seen twice is an error
 * (OpenSSL's `ca` refuses to index such a database, too). */
static qpki_status parser_finish(parser *ps)
{
    if (ps->rc != QPKI_OK)
        return ps->rc;
    index_table *t = ps->t;
    size_t cap = 16;
    while (cap - cap / 4 < t->count + 1) /* load factor below 3/4 */
        cap *= 2;
    t->slots = qpki_calloc(cap, sizeof(*t->slots));
    if (!t->slots) {
        fail_nomem(ps);
        return ps->rc;
    }
    advise_huge(t->slots, cap * sizeof(*t->slots));
    t->mask = cap - 1;
    size_t off = 0;
    for (size_t i = 0; i < t->count; i++) {
        const uint8_t *rec = t->arena + off;
        uint64_t h = serial_hash(rec + REC_HEAD, rec[0]);
        uint64_t tag = h >> 32;
        size_t j = (size_t)h & t->mask;
        for (;;) {
            uint64_t s = t->slots[j];
            if (s == 0) {
                t->slots[j] = (tag << 32) | (uint64_t)(off + 1);
                break;
            }
            if ((s >> 32) == tag) {
                const uint8_t *other = t->arena + ((uint32_t)s - 1u);
                if (other[0] == rec[0] && memcmp(other + REC_HEAD, rec + REC_HEAD, rec[0]) == 0) {
                    fail_duplicate(ps, i, (size_t)((uint32_t)s - 1u));
                    return ps->rc;
                }
            }
            j = (j + 1) & t->mask;
        }
        off += rec_size(rec);
    }
    /* Give back the arena's growth slack. */
    if (t->used && t->used < t->cap) {
        uint8_t *a = qpki_realloc(t->arena, t->used);
        if (a) {
            t->arena = a;
            t->cap = t->used;
        }
    }
    qpki_free(ps->lines);
    ps->lines = NULL;
    return QPKI_OK;
}

static qpki_status parser_init(parser *ps, const char *name, char *error, size_t error_size)
{
    memset(ps, 0, sizeof(*ps));
    ps->name = name;
    ps->error = error;
    ps->error_size = error_size;
    ps->t = qpki_calloc(1, sizeof(*ps->t));
    if (!ps->t) {
        fail_nomem(ps);
        return ps->rc;
    }
    return QPKI_OK;
}

/* Hand the table over (parser_finish succeeded) or drop it. */
static index_table *parser_take(parser *ps)
{
    index_table *t = ps->t;
    ps->t = NULL;
    return t;
}

static void parser_clear(parser *ps)
{
    table_free(ps->t);
    ps->t = NULL;
    qpki_free(ps->lines);
    ps->lines = NULL;
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

/* Read the file once: hash everything, parse when ps is given. */
static qpki_status read_once(const char *path, parser *ps, read_result *res, char *error,
                             size_t error_size)
{
    memset(res, 0, sizeof(*res));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_failure(path, errno, error, error_size);
    qpki_status rc = QPKI_OK;
    uint8_t *buf = NULL;
    struct stat before, after;
    if (fstat(fd, &before) != 0) {
        rc = io_failure(path, errno, error, error_size);
        goto out;
    }
    if (!S_ISREG(before.st_mode)) {
        qpki_fmt(error, error_size, "%s: not a regular file", path);
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
        qpki_fmt(error, error_size, "%s: out of memory", path);
        rc = QPKI_ERR_NOMEM;
        goto out;
    }
    content_hash ch;
    ch_init(&ch);
    uint64_t total = 0;
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = io_failure(path, errno, error, error_size);
            goto out;
        }
        ch_update(&ch, buf + have, (size_t)n);
        total += (uint64_t)n;
        size_t end = have + (size_t)n;
        if (!ps) {
            if (n == 0)
                break;
            continue; /* have stays 0 */
        }
        size_t pos = 0;
        while (pos < end) {
            const uint8_t *nl = memchr(buf + pos, '\n', end - pos);
            if (!nl)
                break;
            parse_line(ps, (const char *)buf + pos, (size_t)(nl - (buf + pos)));
            pos = (size_t)(nl - buf) + 1;
        }
        if (n == 0) {
            if (pos < end)
                parse_line(ps, (const char *)buf + pos, end - pos); /* no final newline */
            break;
        }
        size_t rem = end - pos;
        if (rem == cap) {
            if (ps->rc == QPKI_OK) {
                ps->lineno++;
                fail_at_line(ps, QPKI_ERR_PARSE, "line longer than %zu bytes", cap);
            }
            rem = 0; /* keep reading, for the hash */
        }
        memmove(buf, buf + pos, rem);
        have = rem;
    }
    if (fstat(fd, &after) != 0) {
        rc = io_failure(path, errno, error, error_size);
        goto out;
    }
    file_id later = file_id_of(&after);
    res->changed = !file_id_equal(&res->id, &later) || total != (uint64_t)before.st_size;
    res->hash = ch_final(&ch);
    res->hashed = true;
    /* Timestamps have a granularity (a clock tick, or a second or more on some
     * file systems): a rewrite of the same size within that tick leaves the
     * inode, size, mtime and ctime as they were.  While the file's last change
     * is this recent, refresh compares contents hashes as well. */
    int64_t start_ns = (int64_t)start.tv_sec * 1000000000 + start.tv_nsec;
    int64_t last = res->id.mtime_ns > res->id.ctime_ns ? res->id.mtime_ns : res->id.ctime_ns;
    res->racy = last >= start_ns - RACY_WINDOW_NS;
out:
    qpki_free(buf);
    close(fd);
    return rc;
}

/* Read (and, unless hash_only, parse) the file, again when it changed while
 * being read.  On success with !hash_only, *table is the new table. */
static qpki_status read_file(const char *path, bool hash_only, index_table **table,
                             read_result *res, char *error, size_t error_size)
{
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        parser ps;
        qpki_status rc = QPKI_OK;
        if (!hash_only) {
            rc = parser_init(&ps, path, error, error_size);
            if (rc != QPKI_OK)
                return rc;
        }
        rc = read_once(path, hash_only ? NULL : &ps, res, error, error_size);
        if (rc == QPKI_OK && res->changed) {
            if (!hash_only)
                parser_clear(&ps);
            continue;
        }
        if (!hash_only) {
            if (rc == QPKI_OK)
                rc = parser_finish(&ps);
            if (rc == QPKI_OK) {
                *table = parser_take(&ps);
                (*table)->content_hash = res->hash;
            }
            parser_clear(&ps);
        }
        return rc;
    }
    qpki_fmt(error, error_size, "%s: file kept changing while being read", path);
    return QPKI_ERR_IO;
}

/* ------------------------------------------------------------------------ */
/* The backend.
 *
 * The table pointer is guarded by LOCK_SHARDS read-write locks, each on its own
 * cache lines: a lookup read-locks the one its thread hashes to, the swap
 * write-locks them all.  One shared lock would make every lookup on every core
 * write the same cache line. */
#define LOCK_SHARDS 16

typedef struct lock_shard {
    pthread_rwlock_t lock;
    char pad[128 - sizeof(pthread_rwlock_t) % 128]; /* two cache lines apart */
} lock_shard;

typedef struct index_db {
    char *path;                     /* NULL: loaded from memory, never refreshed */
    lock_shard shards[LOCK_SHARDS]; /* readers: lookups; writer: the swap */
    int shards_ready;               /* how many are initialised */
    index_table *table;
    _Atomic uint64_t generation;
    _Atomic size_t count;
    /* One refresh at a time; guards the fields below. */
    pthread_mutex_t refresh_lock;
    read_result seen;               /* the file as last read, good or bad */
    qpki_status seen_rc;            /* what that read gave (OK or a content error) */
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

/* Make t the table in use, unless it holds exactly the rows of the current one
 * (a touched file, or one where only subjects or comments changed): the
 * generation moves only when answers may change.  A reader that read generation
 * G before its lookup is guaranteed a table at least as new as G: the generation
 * moves inside the write lock, after the swap. */
static void install(index_db *db, index_table *t)
{
    const index_table *cur = db->table;
    if (cur && cur->count == t->count && cur->used == t->used &&
        (t->used == 0 || memcmp(cur->arena, t->arena, t->used) == 0)) {
        table_free(t);
        return;
    }
    for (int i = 0; i < LOCK_SHARDS; i++)
        pthread_rwlock_wrlock(&db->shards[i].lock);
    index_table *old = db->table;
    db->table = t;
    atomic_store_explicit(&db->count, t->count, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->generation, 1, memory_order_release);
    for (int i = LOCK_SHARDS - 1; i >= 0; i--)
        pthread_rwlock_unlock(&db->shards[i].lock);
    table_free(old);
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
         * behind them: compare contents. */
        db->stats.hash_checks++;
        read_result r = {0};
        rc = read_file(db->path, true, NULL, &r, msg, sizeof(msg));
        if (rc != QPKI_OK) {
            db->seen.id.valid = false;
            goto fail;
        }
        if (db->seen.hashed && file_id_equal(&r.id, &db->seen.id) && r.hash == db->seen.hash) {
            db->seen.racy = r.racy;
            return db->seen_rc;
        }
    }
    db->stats.full_loads++;
    index_table *t = NULL;
    read_result r = {0};
    rc = read_file(db->path, false, &t, &r, msg, sizeof(msg));
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
    install(db, t);
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
    index_db *db = self;
    uint64_t h = serial_hash(serial, serial_len);
    qpki_status rc = QPKI_ERR_NOT_FOUND;
    pthread_rwlock_t *lock =
        &db->shards[mix64((uint64_t)pthread_self()) & (LOCK_SHARDS - 1)].lock;
    pthread_rwlock_rdlock(lock);
    const index_table *t = db->table;
    const uint8_t *rec = t ? table_find(t, serial, serial_len, h) : NULL;
    if (rec) {
        rec_to_entry(rec, out);
        rc = QPKI_OK;
    }
    pthread_rwlock_unlock(lock);
    return rc;
}

static uint64_t index_generation(void *self)
{
    index_db *db = self;
    return atomic_load_explicit(&db->generation, memory_order_acquire);
}

static size_t index_count(void *self)
{
    index_db *db = self;
    return atomic_load_explicit(&db->count, memory_order_relaxed);
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
    table_free(db->table);
    for (int i = 0; i < db->shards_ready; i++)
        pthread_rwlock_destroy(&db->shards[i].lock);
    pthread_mutex_destroy(&db->refresh_lock);
    pthread_mutex_destroy(&db->error_lock);
    qpki_free(db->path);
    qpki_free(db);
}

static const qpki_status_db_ops index_ops = {
    .abi_version = QPKI_DB_ABI_V1,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = index_lookup,
    .generation = index_generation,
    .refresh = index_refresh,
    .count = index_count,
    .last_error = index_last_error,
    .close = index_close,
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
    /* Writers first: a reload must not wait behind a steady stream of lookups. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int e1 = 0;
    while (db->shards_ready < LOCK_SHARDS && !e1) {
        e1 = pthread_rwlock_init(&db->shards[db->shards_ready].lock, &attr);
        if (!e1)
            db->shards_ready++;
    }
    pthread_rwlockattr_destroy(&attr);
    int e2 = e1 ? e1 : pthread_mutex_init(&db->refresh_lock, NULL);
    int e3 = e2 ? e2 : pthread_mutex_init(&db->error_lock, NULL);
    if (e3) {
        for (int i = 0; i < db->shards_ready; i++)
            pthread_rwlock_destroy(&db->shards[i].lock);
        if (!e2)
            pthread_mutex_destroy(&db->refresh_lock);
        qpki_free(db->path);
        qpki_free(db);
        return NULL;
    }
    atomic_init(&db->generation, 0);
    atomic_init(&db->count, 0);
    return db;
}

static qpki_status wrap(index_db *db, char *error, size_t error_size, qpki_db **out)
{
    qpki_status rc = qpki_db_new(&index_ops, db, out);
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
    parser ps;
    qpki_status rc = parser_init(&ps, name, error, error_size);
    if (rc != QPKI_OK) {
        index_close(db);
        return rc;
    }
    const char *p = (const char *)data, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        parse_line(&ps, p, (size_t)(line_end - p));
        p = nl ? nl + 1 : end;
    }
    rc = parser_finish(&ps);
    if (rc != QPKI_OK) {
        parser_clear(&ps);
        index_close(db);
        return rc;
    }
    index_table *t = parser_take(&ps);
    parser_clear(&ps);
    content_hash ch;
    ch_init(&ch);
    ch_update(&ch, data, len);
    t->content_hash = ch_final(&ch);
    install(db, t);
    return wrap(db, error, error_size, out);
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
