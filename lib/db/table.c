/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/table.c - the writable in-memory status table: lock-free lookups, one
 * writer, row-by-row changes, and the history of changed serials.
 *
 * Layout.  A table holds one store (two during a replace).  A store is
 *   - an arena of packed rows (records, format below) in one reservation of
 *     address space that never moves: mmap(PROT_NONE) of up to 4 GiB, made
 *     read-write in 2 MiB steps as it fills.  Records are addressed by 32-bit
 *     references (offset + 1), so the arena can never be reallocated under a
 *     reader, and pages not yet used cost nothing;
 *   - an open-addressing hash index (linear probing) of 64-bit slots:
 *     (serial hash >> 32) << 32 | reference; 0 = empty, reference 0xffffffff =
 *     a tombstone left by a removal.  It stays below 3/4 full (rows +
 *     tombstones); beyond, a new index (twice as large when the rows need it,
 *     else the same size without tombstones) is built beside it and published
 *     with one pointer store.
 * Memory: 4 + serial + 5 (+5 revoked, +5 invalidity date) octets per record and
 * 8 octets per slot at a load of 3/8..3/4: ~40 octets per row for 16-octet
 * serials.  Records of changed rows are recycled (below), so a table that
 * only changes rows stays the same size.
 *
 * Writing.  One writer at a time (the caller serialises).  A record is
 * immutable once a slot points at it.  Insert: write the record, then store
 * the slot (release).  Change: write a new record, store the slot pointing at
 * it (one atomic 64-bit store), retire the old record.  Remove: store a
 * tombstone, retire the record.  A lookup loads each slot with acquire, so it
 * finds either the old record or the new one, both complete: each row change
 * is atomic for readers and costs one record and one slot store.  Tombstones
 * keep the probe chains of other rows intact (a removal never moves other
 * slots, which a concurrent lookup could then miss); an insert reuses the
 * first tombstone on its chain.
 *
 * Reclamation (why freeing under lock-free readers is safe).  A retired record
 * or index, or a replaced store, may still be read by a lookup that loaded its
 * pointer before the change.  Lookups therefore announce themselves: a lookup
 * increments active[e] of a per-thread shard (one of READER_SHARDS counter
 * pairs, each on its own cache lines), where e is the parity of the table's
 * epoch, re-reads the epoch, and retries on the other parity if it moved; it
 * decrements the counter when done.  To reclaim, the writer collects what it
 * retired (already unlinked: no slot or pointer leads to it any more), flips the
 * epoch (seq_cst), and waits until every active[old parity] is zero.  Every
 * lookup that could have seen the retired memory incremented active[old] and
 * then saw the old epoch, so in the single total order of seq_cst operations it
 * precedes the flip and the writer's wait observes it; a lookup that sees the
 * new epoch started after the flip, whose release ordered every unlinking store
 * before it, so it cannot reach retired memory.  Lookups never block and never
 * wait for the writer; the writer waits only for lookups already running (a
 * lookup is ~100 ns).  Retired records go to per-size free lists after such a
 * grace period (at commit, after 4096 retirements, or at an index rebuild);
 * replaced indexes and stores are freed after one.
 *
 * Generations and history.  The generation moves at commit when some row
 * really changed (a put of the row already there changes nothing).  The
 * serials changed since the last commit are collected and, at commit, appended
 * to a bounded history under a mutex, tagged with the new generation;
 * changes_since(since) reports those tagged > since, or QPKI_ERR_NOT_FOUND when
 * the history no longer reaches back to since.  A replace (a full reload)
 * builds a second store and, at commit, compares the two (O(n), stopping once
 * more rows changed than the history holds) so that a reload of a file that
 * was rewritten but mostly unchanged still reports only the changed rows. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/table.h"

/* ------------------------------------------------------------------------ */
/* Records.
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
#define REC_MAX (REC_HEAD + QPKI_SERIAL_MAX + 3u * TIME_OCTETS)
#define TIME_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define TIME_END 253402300800LL   /* 10000-01-01T00:00:00Z */

#define ENTRY_V1_SIZE (offsetof(qpki_db_entry, invalidity_date) + sizeof(qpki_time))

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

static bool time_ok(qpki_time t) { return t >= TIME_MIN && t < TIME_END; }

static bool reason_ok(qpki_crl_reason r)
{
    /* RFC 5280 §5.3.1: CRLReason values 0-10; 7 is not used. */
    return r == QPKI_REASON_NONE || (r >= QPKI_REASON_UNSPECIFIED && r <= QPKI_REASON_AA_COMPROMISE &&
                                     (int)r != 7);
}

/* Encode a row; QPKI_ERR_INVALID_ARG for an entry the table cannot hold as
 * qpki_db_lookup would return it. */
static qpki_status rec_encode(const uint8_t *serial, size_t len, const qpki_db_entry *in,
                              uint8_t out[REC_MAX], size_t *n)
{
    QPKI_ENSURE(in && in->struct_size >= ENTRY_V1_SIZE, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX && (len == 0 || serial[0] != 0), QPKI_ERR_INVALID_ARG);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    memcpy(&e, in, in->struct_size < sizeof(e) ? in->struct_size : sizeof(e));
    bool revoked = e.row_status == 'R';
    QPKI_ENSURE(revoked || e.row_status == 'V' || e.row_status == 'E', QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(time_ok(e.expiry), QPKI_ERR_INVALID_ARG);
    if (!revoked) {
        QPKI_ENSURE(e.reason == QPKI_REASON_NONE && e.revocation_time == 0 &&
                        e.hold_instruction == QPKI_HOLD_INSTRUCTION_ABSENT && e.invalidity_date == 0,
                    QPKI_ERR_INVALID_ARG);
    } else {
        QPKI_ENSURE(reason_ok(e.reason) && time_ok(e.revocation_time) &&
                        time_ok(e.invalidity_date), QPKI_ERR_INVALID_ARG);
        /* RFC 5280 §5.3.2: a hold instruction goes with certificateHold only. */
        QPKI_ENSURE((unsigned)e.hold_instruction <= QPKI_HOLD_INSTRUCTION_REJECT &&
                        (e.hold_instruction == QPKI_HOLD_INSTRUCTION_ABSENT ||
                         e.reason == QPKI_REASON_CERTIFICATE_HOLD),
                    QPKI_ERR_INVALID_ARG);
    }
    out[0] = (uint8_t)len;
    out[1] = (uint8_t)e.row_status;
    out[2] = (uint8_t)(int8_t)(revoked ? e.reason : QPKI_REASON_NONE);
    out[3] = (uint8_t)((unsigned)e.hold_instruction | (e.invalidity_date ? FLAG_INVALIDITY : 0u));
    if (len)
        memcpy(out + REC_HEAD, serial, len);
    uint8_t *q = out + REC_HEAD + len;
    put_time40(q, e.expiry);
    q += TIME_OCTETS;
    if (revoked) {
        put_time40(q, e.revocation_time);
        q += TIME_OCTETS;
    }
    if (e.invalidity_date) {
        put_time40(q, e.invalidity_date);
        q += TIME_OCTETS;
    }
    *n = (size_t)(q - out);
    return QPKI_OK;
}

/* ------------------------------------------------------------------------ */
/* Hashing: serials absorbed 8 octets at a time through mix64 (table.h). */
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

/* ------------------------------------------------------------------------ */
/* Stores. */
#define SLOT_TOMB 0xffffffffu
#define REF_LIMIT (SLOT_TOMB - 1u) /* largest reference: offset + 1 */
#define ARENA_STEP ((size_t)2 << 20)
#define HUGE_FROM ((size_t)8 << 20)

typedef struct slot_index {
    size_t mask;
    _Atomic uint64_t slots[];
} slot_index;

typedef struct store {
    uint8_t *base;     /* reservation (PROT_NONE beyond committed) */
    size_t reserved, committed, used;
    _Atomic(slot_index *) index;
    size_t count, tombstones;
    size_t free_bytes;
    table_ref free_head[REC_MAX + 1]; /* per record size; next link in the record's first 4 octets */
    bool published;                    /* lookups may be reading it */
} store;

/* Ask for transparent huge pages: rows and slots are read at random and with
 * 4 KiB pages nearly every lookup also misses the TLB.  Advice only. */
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

static slot_index *index_new(size_t cap)
{
    slot_index *ix = qpki_calloc(1, sizeof(*ix) + cap * sizeof(ix->slots[0]));
    if (!ix)
        return NULL;
    ix->mask = cap - 1;
    advise_huge(ix->slots, cap * sizeof(ix->slots[0]));
    return ix;
}

static size_t index_cap_for(size_t rows)
{
    size_t cap = 16;
    while (cap - cap / 4 < rows + 1) /* load factor below 3/4 */
        cap *= 2;
    return cap;
}

static store *store_new(size_t rows_hint)
{
    store *s = qpki_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    /* Reserve address space only: nothing is committed until used. */
    size_t want = SIZE_MAX > UINT32_MAX ? (size_t)REF_LIMIT : (size_t)256 << 20;
    for (; want >= ARENA_STEP * 8; want /= 2) {
        void *p = mmap(NULL, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            s->base = p;
            s->reserved = want;
            break;
        }
    }
    slot_index *ix = s->base ? index_new(index_cap_for(rows_hint)) : NULL;
    if (!ix) {
        if (s->base)
            munmap(s->base, s->reserved);
        qpki_free(s);
        return NULL;
    }
    atomic_init(&s->index, ix);
    return s;
}

static void store_free(store *s)
{
    if (!s)
        return;
    munmap(s->base, s->reserved);
    qpki_free(atomic_load_explicit(&s->index, memory_order_relaxed));
    qpki_free(s);
}

static const uint8_t *rec_at(const store *s, table_ref ref) { return s->base + ref - 1u; }

/* Room for n more octets: QPKI_ERR_TOO_LARGE past the reservation, NOMEM when
 * the system refuses memory. */
static qpki_status arena_reserve(store *s, size_t n)
{
    if (s->used + n <= s->committed)
        return QPKI_OK;
    QPKI_ENSURE(n <= s->reserved - s->used, QPKI_ERR_TOO_LARGE);
    size_t grow = s->committed / 4 > ARENA_STEP ? s->committed / 4 : ARENA_STEP;
    size_t target = s->used + n > s->committed + grow ? s->used + n : s->committed + grow;
    target = (target + ARENA_STEP - 1) & ~(ARENA_STEP - 1);
    if (target > s->reserved)
        target = s->reserved;
    if (mprotect(s->base + s->committed, target - s->committed, PROT_READ | PROT_WRITE) != 0)
        return QPKI_ERR_NOMEM;
    if (target >= HUGE_FROM)
        advise_huge(s->base + s->committed, target - s->committed);
    s->committed = target;
    return QPKI_OK;
}

static qpki_status rec_alloc(store *s, size_t n, table_ref *ref)
{
    table_ref head = s->free_head[n];
    if (head) {
        uint32_t next;
        memcpy(&next, s->base + head - 1u, sizeof(next));
        s->free_head[n] = next;
        s->free_bytes -= n;
        *ref = head;
        return QPKI_OK;
    }
    QPKI_GUARD(arena_reserve(s, n));
    QPKI_ENSURE(s->used + n <= REF_LIMIT, QPKI_ERR_TOO_LARGE);
    *ref = (table_ref)(s->used + 1u);
    s->used += n;
    return QPKI_OK;
}

static void rec_free(store *s, table_ref ref)
{
    size_t n = rec_size(rec_at(s, ref));
    uint32_t next = s->free_head[n];
    memcpy(s->base + ref - 1u, &next, sizeof(next));
    s->free_head[n] = ref;
    s->free_bytes += n;
}

/* Writer-side probe: the slot holding the serial (or SIZE_MAX), and the first
 * reusable slot (tombstone or empty) on its chain. */
static size_t probe(const store *s, const slot_index *ix, const uint8_t *serial, size_t len,
                    uint64_t h, size_t *free_slot)
{
    uint64_t tag = h >> 32;
    size_t j = (size_t)h & ix->mask;
    size_t first_free = SIZE_MAX;
    for (;;) {
        uint64_t v = atomic_load_explicit(&ix->slots[j], memory_order_relaxed);
        if (v == 0) {
            if (free_slot)
                *free_slot = first_free == SIZE_MAX ? j : first_free;
            return SIZE_MAX;
        }
        uint32_t ref = (uint32_t)v;
        if (ref == SLOT_TOMB) {
            if (first_free == SIZE_MAX)
                first_free = j;
        } else if ((v >> 32) == tag) {
            const uint8_t *rec = rec_at(s, ref);
            if (rec[0] == len && memcmp(rec + REC_HEAD, serial, len) == 0)
                return j;
        }
        j = (j + 1) & ix->mask;
    }
}

/* Reader-side find (inside a read section). */
static const uint8_t *find(const store *s, const slot_index *ix, const uint8_t *serial, size_t len,
                           uint64_t h)
{
    uint64_t tag = h >> 32;
    size_t j = (size_t)h & ix->mask;
    for (;;) {
        uint64_t v = atomic_load_explicit(&ix->slots[j], memory_order_acquire);
        if (v == 0)
            return NULL;
        uint32_t ref = (uint32_t)v;
        if (ref != SLOT_TOMB && (v >> 32) == tag) {
            const uint8_t *rec = rec_at(s, ref);
            if (rec[0] == len && memcmp(rec + REC_HEAD, serial, len) == 0)
                return rec;
        }
        j = (j + 1) & ix->mask;
    }
}

/* Writer side: the record slot i points to; 0 for an empty slot or a
 * tombstone. */
static table_ref live_ref(const slot_index *ix, size_t i)
{
    uint64_t v = atomic_load_explicit(&ix->slots[i], memory_order_relaxed);
    uint32_t ref = (uint32_t)v;
    return v == 0 || ref == SLOT_TOMB ? 0 : ref;
}

/* ------------------------------------------------------------------------ */
/* The table. */
#define READER_SHARDS 32
#define RETIRE_BATCH 4096

typedef struct reader_shard {
    _Atomic size_t active[2];
    char pad[128 - 2 * sizeof(size_t)]; /* neighbours' counters on other cache lines */
} reader_shard;

typedef struct changed_serial {
    uint8_t len;
    uint8_t serial[QPKI_SERIAL_MAX];
} changed_serial;

typedef struct history_entry {
    uint64_t generation;
    changed_serial s;
} history_entry;

struct db_table {
    reader_shard readers[READER_SHARDS];
    _Atomic unsigned epoch;
    _Atomic(store *) current;
    _Atomic uint64_t generation;
    _Atomic size_t count;
    /* The writer's. */
    store *building;          /* replace_begin..commit */
    table_ref *retired;       /* records of current, unlinked, awaiting a grace period */
    size_t retired_n, retired_cap;
    changed_serial *pending;  /* changed since the last commit */
    size_t pending_n, pending_cap;
    bool pending_overflow;    /* more than the history holds */
    size_t grace_periods;
    /* The history, guarded by history_lock (readers: changes_since). */
    pthread_mutex_t history_lock;
    history_entry *ring;
    size_t ring_cap, ring_head, ring_n; /* oldest at ring_head */
    size_t history_limit;
    uint64_t trimmed_through; /* changes tagged <= this may be missing */
};

static size_t shard_of_thread(void)
{
    return (size_t)(mix64((uint64_t)(uintptr_t)pthread_self()) % READER_SHARDS);
}

static reader_shard *read_enter(db_table *t, unsigned *parity)
{
    reader_shard *sh = &t->readers[shard_of_thread()];
    for (;;) {
        unsigned e = atomic_load(&t->epoch) & 1u;
        atomic_fetch_add(&sh->active[e], 1);
        if ((atomic_load(&t->epoch) & 1u) == e) {
            *parity = e;
            return sh;
        }
        atomic_fetch_sub(&sh->active[e], 1); /* flipped meanwhile: take the new one */
    }
}

static void read_leave(reader_shard *sh, unsigned parity)
{
    atomic_fetch_sub_explicit(&sh->active[parity], 1, memory_order_release);
}

/* Wait until no lookup can still see what was unlinked before this call. */
static void synchronize(db_table *t)
{
    unsigned old = atomic_fetch_add(&t->epoch, 1u) & 1u;
    for (size_t i = 0; i < READER_SHARDS; i++) {
        unsigned spins = 0;
        while (atomic_load_explicit(&t->readers[i].active[old], memory_order_acquire) != 0) {
            if (++spins > 100)
                sched_yield();
        }
    }
    t->grace_periods++;
}

/* Put the records retired from the current store on the free lists (after a
 * grace period). */
static void recycle(db_table *t)
{
    store *cur = atomic_load_explicit(&t->current, memory_order_relaxed);
    for (size_t i = 0; i < t->retired_n; i++)
        rec_free(cur, t->retired[i]);
    t->retired_n = 0;
}

static void reclaim(db_table *t)
{
    if (!t->retired_n)
        return;
    synchronize(t);
    recycle(t);
}

static void retire(db_table *t, store *s, table_ref ref)
{
    if (!s->published) {
        rec_free(s, ref); /* nobody reads it */
        return;
    }
    if (t->retired_n == t->retired_cap) {
        size_t cap = t->retired_cap ? t->retired_cap * 2 : 256;
        table_ref *r = qpki_realloc(t->retired, cap * sizeof(*r));
        if (!r) {
            /* Cannot queue it: wait for the readers now, then recycle. */
            synchronize(t);
            recycle(t);
            rec_free(s, ref);
            return;
        }
        t->retired = r;
        t->retired_cap = cap;
    }
    t->retired[t->retired_n++] = ref;
    if (t->retired_n >= RETIRE_BATCH)
        reclaim(t);
}

static store *write_store(const db_table *t)
{
    return t->building ? t->building : atomic_load_explicit(&t->current, memory_order_relaxed);
}

/* Note a changed serial for the next commit (outside a replace). */
static void note_change(db_table *t, const uint8_t *serial, size_t len)
{
    if (t->pending_overflow)
        return;
    if (t->pending_n >= t->history_limit) {
        t->pending_overflow = true;
        return;
    }
    if (t->pending_n == t->pending_cap) {
        size_t cap = t->pending_cap ? t->pending_cap * 2 : 64;
        changed_serial *p = qpki_realloc(t->pending, cap * sizeof(*p));
        if (!p) {
            t->pending_overflow = true; /* report "cannot tell" rather than lose it */
            return;
        }
        t->pending = p;
        t->pending_cap = cap;
    }
    changed_serial *c = &t->pending[t->pending_n++];
    c->len = (uint8_t)len;
    if (len)
        memcpy(c->serial, serial, len);
}

/* Rebuild the index of s with room for its rows (and `extra` more) and no
 * tombstones; the old index is freed after a grace period when s is visible. */
static qpki_status rebuild_index(db_table *t, store *s, size_t extra)
{
    slot_index *old = atomic_load_explicit(&s->index, memory_order_relaxed);
    size_t cap = index_cap_for(s->count + extra);
    if (cap < old->mask + 1 && s->count + extra > (old->mask + 1) * 3 / 8)
        cap = old->mask + 1; /* do not shrink while reasonably full */
    slot_index *ix = index_new(cap);
    QPKI_ENSURE(ix, QPKI_ERR_NOMEM);
    for (size_t i = 0; i <= old->mask; i++) {
        table_ref ref = live_ref(old, i);
        if (!ref)
            continue;
        uint64_t v = atomic_load_explicit(&old->slots[i], memory_order_relaxed);
        const uint8_t *rec = rec_at(s, ref);
        uint64_t h = serial_hash(rec + REC_HEAD, rec[0]);
        size_t j = (size_t)h & ix->mask;
        while (atomic_load_explicit(&ix->slots[j], memory_order_relaxed) != 0)
            j = (j + 1) & ix->mask;
        atomic_store_explicit(&ix->slots[j], v, memory_order_relaxed);
    }
    atomic_store_explicit(&s->index, ix, memory_order_release);
    s->tombstones = 0;
    if (s->published) {
        synchronize(t); /* also a grace period for the records retired so far */
        recycle(t);
    }
    qpki_free(old);
    return QPKI_OK;
}

qpki_status table_new(db_table **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    db_table *t = qpki_calloc(1, sizeof(*t));
    QPKI_ENSURE(t, QPKI_ERR_NOMEM);
    if (pthread_mutex_init(&t->history_lock, NULL) != 0) {
        qpki_free(t);
        return QPKI_ERR_NOMEM;
    }
    store *s = store_new(0);
    if (!s) {
        pthread_mutex_destroy(&t->history_lock);
        qpki_free(t);
        return QPKI_ERR_NOMEM;
    }
    s->published = true;
    atomic_init(&t->current, s);
    atomic_init(&t->epoch, 0u);
    atomic_init(&t->generation, 0);
    atomic_init(&t->count, 0);
    t->history_limit = TABLE_HISTORY_DEFAULT;
    *out = t;
    return QPKI_OK;
}

void table_free(db_table **pt)
{
    if (!pt || !*pt)
        return;
    db_table *t = *pt;
    *pt = NULL;
    store_free(t->building);
    store_free(atomic_load_explicit(&t->current, memory_order_relaxed));
    qpki_free(t->retired);
    qpki_free(t->pending);
    qpki_free(t->ring);
    pthread_mutex_destroy(&t->history_lock);
    qpki_free(t);
}

qpki_status table_lookup(db_table *t, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    uint64_t h = serial_hash(serial, len);
    unsigned parity;
    reader_shard *sh = read_enter(t, &parity);
    const store *s = atomic_load_explicit(&t->current, memory_order_acquire);
    const slot_index *ix = atomic_load_explicit(&s->index, memory_order_acquire);
    const uint8_t *rec = find(s, ix, serial, len, h);
    if (rec)
        rec_to_entry(rec, out);
    read_leave(sh, parity);
    return rec ? QPKI_OK : QPKI_ERR_NOT_FOUND;
}

size_t table_scan(db_table *t, size_t *cursor, uintptr_t *index_id, table_serial_fn fn,
                  void *user, size_t max_slots)
{
    unsigned parity;
    reader_shard *sh = read_enter(t, &parity);
    const store *s = atomic_load_explicit(&t->current, memory_order_acquire);
    const slot_index *ix = atomic_load_explicit(&s->index, memory_order_acquire);
    size_t slots = ix->mask + 1;
    *index_id = (uintptr_t)ix ^ ((uintptr_t)s << 1);
    size_t i = *cursor < slots ? *cursor : slots;
    size_t end = max_slots < slots - i ? i + max_slots : slots;
    for (; i < end; i++) {
        uint64_t v = atomic_load_explicit(&ix->slots[i], memory_order_acquire);
        uint32_t ref = (uint32_t)v;
        if (v == 0 || ref == SLOT_TOMB)
            continue;
        const uint8_t *rec = rec_at(s, ref);
        fn(user, rec + REC_HEAD, rec[0]);
    }
    read_leave(sh, parity);
    *cursor = end;
    return slots;
}

qpki_status table_list(db_table *t, qpki_db_cursor *cursor, size_t max, qpki_db_change_fn fn,
                       void *user, int *done)
{
    /* opaque[0]: the next slot; [1], [2]: the identity and size of the index */
    size_t pos = cursor->opaque[0] <= SIZE_MAX ? (size_t)cursor->opaque[0] : SIZE_MAX;
    uintptr_t id = 0;
    size_t slots = table_scan(t, &pos, &id, fn, user, max ? max : 1);
    if (cursor->opaque[0] > 0 && (cursor->opaque[1] != (uint64_t)id || cursor->opaque[2] != slots))
        pos = 0; /* rows moved to other slots: start over (some are reported twice) */
    cursor->opaque[0] = pos;
    cursor->opaque[1] = (uint64_t)id;
    cursor->opaque[2] = slots;
    *done = pos >= slots;
    return QPKI_OK;
}

uint64_t table_generation(db_table *t)
{
    return atomic_load_explicit(&t->generation, memory_order_acquire);
}

size_t table_count(db_table *t) { return atomic_load_explicit(&t->count, memory_order_relaxed); }

size_t table_write_count(const db_table *t) { return write_store(t)->count; }

bool table_replacing(const db_table *t) { return t->building != NULL; }

static void publish_count(db_table *t, const store *s)
{
    if (s == atomic_load_explicit(&t->current, memory_order_relaxed))
        atomic_store_explicit(&t->count, s->count, memory_order_relaxed);
}

qpki_status table_put(db_table *t, const uint8_t *serial, size_t len, const qpki_db_entry *entry,
                      bool must_be_new, table_ref *ref)
{
    uint8_t rec[REC_MAX];
    size_t n;
    QPKI_GUARD(rec_encode(serial, len, entry, rec, &n));
    store *s = write_store(t);
    slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    uint64_t h = serial_hash(serial, len);
    size_t free_slot = SIZE_MAX; /* set by probe when it returns SIZE_MAX */
    size_t at = probe(s, ix, serial, len, h, &free_slot);
    if (at != SIZE_MAX) {
        uint64_t v = atomic_load_explicit(&ix->slots[at], memory_order_relaxed);
        table_ref old = (table_ref)v;
        if (ref)
            *ref = old;
        QPKI_ENSURE(!must_be_new, QPKI_ERR_EXISTS);
        const uint8_t *cur = rec_at(s, old);
        if (rec_size(cur) == n && memcmp(cur, rec, n) == 0)
            return QPKI_OK; /* the row already there */
        table_ref fresh;
        QPKI_GUARD(rec_alloc(s, n, &fresh));
        memcpy(s->base + fresh - 1u, rec, n);
        atomic_store_explicit(&ix->slots[at], (v & ~(uint64_t)0xffffffffu) | fresh,
                              memory_order_release);
        if (ref)
            *ref = fresh;
        if (!t->building)
            note_change(t, serial, len);
        retire(t, s, old);
        return QPKI_OK;
    }
    if (s->count + s->tombstones + 1 > (ix->mask + 1) - (ix->mask + 1) / 4) {
        QPKI_GUARD(rebuild_index(t, s, 1));
        ix = atomic_load_explicit(&s->index, memory_order_relaxed);
        (void)probe(s, ix, serial, len, h, &free_slot);
    }
    table_ref fresh;
    QPKI_GUARD(rec_alloc(s, n, &fresh));
    memcpy(s->base + fresh - 1u, rec, n);
    if ((uint32_t)atomic_load_explicit(&ix->slots[free_slot], memory_order_relaxed) == SLOT_TOMB)
        s->tombstones--;
    atomic_store_explicit(&ix->slots[free_slot], (h >> 32) << 32 | fresh, memory_order_release);
    s->count++;
    publish_count(t, s);
    if (ref)
        *ref = fresh;
    if (!t->building)
        note_change(t, serial, len);
    return QPKI_OK;
}

static void remove_at(db_table *t, store *s, slot_index *ix, size_t at)
{
    uint64_t v = atomic_load_explicit(&ix->slots[at], memory_order_relaxed);
    table_ref old = (table_ref)v;
    const uint8_t *rec = rec_at(s, old);
    if (!t->building)
        note_change(t, rec + REC_HEAD, rec[0]);
    atomic_store_explicit(&ix->slots[at], (v & ~(uint64_t)0xffffffffu) | SLOT_TOMB,
                          memory_order_release);
    s->count--;
    s->tombstones++;
    publish_count(t, s);
    retire(t, s, old);
}

qpki_status table_remove(db_table *t, const uint8_t *serial, size_t len)
{
    store *s = write_store(t);
    slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    size_t at = probe(s, ix, serial, len, serial_hash(serial, len), NULL);
    QPKI_ENSURE(at != SIZE_MAX, QPKI_ERR_NOT_FOUND);
    remove_at(t, s, ix, at);
    return QPKI_OK;
}

void table_remove_ref(db_table *t, table_ref ref)
{
    store *s = write_store(t);
    const uint8_t *rec = rec_at(s, ref);
    slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    size_t at = probe(s, ix, rec + REC_HEAD, rec[0], serial_hash(rec + REC_HEAD, rec[0]), NULL);
    if (at != SIZE_MAX)
        remove_at(t, s, ix, at);
}

void table_ref_serial(db_table *t, table_ref ref, const uint8_t **serial, size_t *len)
{
    const uint8_t *rec = rec_at(write_store(t), ref);
    *serial = rec + REC_HEAD;
    *len = rec[0];
}

table_ref table_find(db_table *t, const uint8_t *serial, size_t len)
{
    store *s = write_store(t);
    slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    size_t at = probe(s, ix, serial, len, serial_hash(serial, len), NULL);
    return at == SIZE_MAX ? 0 : (table_ref)atomic_load_explicit(&ix->slots[at], memory_order_relaxed);
}

qpki_status table_reserve(db_table *t, size_t rows)
{
    store *s = write_store(t);
    const slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    if (index_cap_for(rows) <= ix->mask + 1)
        return QPKI_OK;
    return rebuild_index(t, s, rows > s->count ? rows - s->count : 0);
}

qpki_status table_replace_begin(db_table *t)
{
    /* Size the new index for the rows there are now: a reload usually has about
     * as many, and growing it step by step would rehash every row log n times. */
    store *cur = atomic_load_explicit(&t->current, memory_order_relaxed);
    store *s = store_new(cur->count);
    QPKI_ENSURE(s, QPKI_ERR_NOMEM);
    store_free(t->building);
    t->building = s;
    return QPKI_OK;
}

void table_abort(db_table *t)
{
    store_free(t->building);
    t->building = NULL;
}

/* The rows that differ between the current store and the one built by a
 * replace, into pending (stopping once more than the history holds). */
static void diff_stores(db_table *t, const store *a, const store *b)
{
    if (a->count + b->count == 0)
        return;
    if ((a->count > b->count ? a->count - b->count : b->count - a->count) > t->history_limit) {
        t->pending_overflow = true;
        return;
    }
    const store *pair[2][2] = {{b, a}, {a, b}};
    size_t found = 0; /* rows of b also in a */
    for (int pass = 0; pass < 2 && !t->pending_overflow; pass++) {
        if (pass == 1 && found == a->count)
            break; /* every row of a is in b: none was removed */
        const store *from = pair[pass][0], *other = pair[pass][1];
        const slot_index *ix = atomic_load_explicit(&from->index, memory_order_relaxed);
        const slot_index *oix = atomic_load_explicit(&other->index, memory_order_relaxed);
        for (size_t i = 0; i <= ix->mask && !t->pending_overflow; i++) {
            table_ref ref = live_ref(ix, i);
            if (!ref)
                continue;
            const uint8_t *rec = rec_at(from, ref);
            size_t at = probe(other, oix, rec + REC_HEAD, rec[0],
                              serial_hash(rec + REC_HEAD, rec[0]), NULL);
            bool differs = at == SIZE_MAX;
            if (!differs && pass == 0) {
                found++;
                const uint8_t *o = rec_at(
                    other, (table_ref)atomic_load_explicit(&oix->slots[at], memory_order_relaxed));
                size_t n = rec_size(rec);
                differs = rec_size(o) != n || memcmp(o, rec, n) != 0;
            }
            if (differs)
                note_change(t, rec + REC_HEAD, rec[0]);
        }
    }
}

/* Append the pending serials to the history as generation gen (history_lock
 * held). */
static void history_append(db_table *t, uint64_t gen)
{
    if (t->pending_overflow || t->pending_n > t->history_limit) {
        t->ring_n = 0;
        t->ring_head = 0;
        t->trimmed_through = gen;
        return;
    }
    if (t->ring_cap < t->history_limit && t->ring_n + t->pending_n > t->ring_cap) {
        size_t cap = t->ring_cap ? t->ring_cap : 64;
        while (cap < t->ring_n + t->pending_n && cap < t->history_limit)
            cap *= 2;
        if (cap > t->history_limit)
            cap = t->history_limit;
        history_entry *r = qpki_malloc(cap * sizeof(*r));
        if (r) {
            for (size_t i = 0; i < t->ring_n; i++)
                r[i] = t->ring[(t->ring_head + i) % t->ring_cap];
            qpki_free(t->ring);
            t->ring = r;
            t->ring_cap = cap;
            t->ring_head = 0;
        }
    }
    if (t->ring_cap < t->pending_n) {
        t->ring_n = 0; /* no memory for it: report "cannot tell" for older ranges */
        t->ring_head = 0;
        t->trimmed_through = gen;
        return;
    }
    for (size_t i = 0; i < t->pending_n; i++) {
        if (t->ring_n == t->ring_cap) {
            history_entry *oldest = &t->ring[t->ring_head];
            if (oldest->generation > t->trimmed_through)
                t->trimmed_through = oldest->generation;
            t->ring_head = (t->ring_head + 1) % t->ring_cap;
            t->ring_n--;
        }
        history_entry *e = &t->ring[(t->ring_head + t->ring_n) % t->ring_cap];
        e->generation = gen;
        e->s = t->pending[i];
        t->ring_n++;
    }
}

qpki_status table_commit(db_table *t, uint64_t *generation)
{
    if (t->building) {
        store *old = atomic_load_explicit(&t->current, memory_order_relaxed);
        store *fresh = t->building;
        if (old->count == 0 && fresh->count > t->history_limit)
            t->pending_overflow = true; /* a first load: every row is new */
        else
            diff_stores(t, old, fresh);
        fresh->published = true;
        atomic_store_explicit(&t->current, fresh, memory_order_release);
        atomic_store_explicit(&t->count, fresh->count, memory_order_relaxed);
        t->building = NULL;
        synchronize(t);
        t->retired_n = 0; /* they were old's */
        store_free(old);
    } else {
        reclaim(t);
    }
    if (t->pending_n || t->pending_overflow) {
        pthread_mutex_lock(&t->history_lock);
        uint64_t gen = atomic_load_explicit(&t->generation, memory_order_relaxed) + 1;
        history_append(t, gen);
        /* Rows first, then the generation (release): a reader that reads
         * generation g before its lookup sees a table at least that new. */
        atomic_store_explicit(&t->generation, gen, memory_order_release);
        pthread_mutex_unlock(&t->history_lock);
        t->pending_n = 0;
        t->pending_overflow = false;
    }
    if (t->pending_cap > 4096 && t->pending_n == 0) {
        qpki_free(t->pending); /* a large batch is over: give the list back */
        t->pending = NULL;
        t->pending_cap = 0;
    }
    if (generation)
        *generation = atomic_load_explicit(&t->generation, memory_order_relaxed);
    return QPKI_OK;
}

qpki_status table_changes_since(db_table *t, uint64_t since, uint64_t *upto,
                                qpki_db_change_fn fn, void *user)
{
    QPKI_ENSURE(upto && fn, QPKI_ERR_INVALID_ARG);
    pthread_mutex_lock(&t->history_lock);
    uint64_t cur = atomic_load_explicit(&t->generation, memory_order_relaxed);
    qpki_status rc = QPKI_OK;
    if (since > cur) {
        rc = QPKI_ERR_INVALID_ARG;
    } else if (since < t->trimmed_through) {
        rc = QPKI_ERR_NOT_FOUND;
    } else {
        for (size_t i = 0; i < t->ring_n; i++) {
            const history_entry *e = &t->ring[(t->ring_head + i) % t->ring_cap];
            if (e->generation > since)
                fn(user, e->s.serial, e->s.len);
        }
        *upto = cur;
    }
    pthread_mutex_unlock(&t->history_lock);
    return rc;
}

void table_set_history_limit(db_table *t, size_t max)
{
    pthread_mutex_lock(&t->history_lock);
    t->history_limit = max ? max : 1;
    t->ring_n = 0;
    t->ring_head = 0;
    t->trimmed_through = atomic_load_explicit(&t->generation, memory_order_relaxed);
    qpki_free(t->ring);
    t->ring = NULL;
    t->ring_cap = 0;
    pthread_mutex_unlock(&t->history_lock);
}

bool table_row_equals(db_table *t, table_ref ref, const qpki_db_entry *entry)
{
    const uint8_t *rec = rec_at(write_store(t), ref);
    uint8_t want[REC_MAX];
    size_t n;
    if (rec_encode(rec + REC_HEAD, rec[0], entry, want, &n) != QPKI_OK)
        return false;
    return rec_size(rec) == n && memcmp(rec, want, n) == 0;
}

void table_foreach_ref(db_table *t, table_ref_fn fn, void *user)
{
    const store *s = write_store(t);
    const slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    for (size_t i = 0; i <= ix->mask; i++) {
        table_ref ref = live_ref(ix, i);
        if (ref)
            fn(user, ref);
    }
}

size_t table_arena_used(const db_table *t) { return write_store(t)->used; }

typedef struct row_visit {
    const store *s;
    table_row_fn fn;
    void *user;
} row_visit;

static void visit_row(void *user, table_ref ref)
{
    const row_visit *v = user;
    const uint8_t *rec = rec_at(v->s, ref);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    rec_to_entry(rec, &e);
    v->fn(v->user, rec + REC_HEAD, rec[0], &e);
}

void table_foreach(db_table *t, table_row_fn fn, void *user)
{
    row_visit v = {write_store(t), fn, user};
    table_foreach_ref(t, visit_row, &v);
}

void table_get_stats(db_table *t, table_stats *st)
{
    const store *s = write_store(t);
    const slot_index *ix = atomic_load_explicit(&s->index, memory_order_relaxed);
    st->arena_used = s->used;
    st->arena_free = s->free_bytes;
    st->slots = ix->mask + 1;
    st->tombstones = s->tombstones;
    st->rows = s->count;
    st->grace_periods = t->grace_periods;
}
