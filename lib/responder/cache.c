/* SPDX-License-Identifier: Apache-2.0 */
/* lib/responder/cache.c - sharded signed-response cache.
 *
 * Each entry is found by its key (issuer, key index, CertID bytes) through the
 * shard's key buckets, and by its group (issuer, serial) through the shard's
 * group buckets; the shard is chosen by the group, so dropping a group takes one
 * lock and walks one chain. */
#include <pthread.h>
#include <string.h>

#include "../crypto/crypto.h"
#include "../internal.h"
#include "cache.h"

#define SHARDS 64
#define KEY_MAX 256

struct entry {
    struct slab_block *block;  /* slab block holding it, NULL: malloc'd */
    struct entry *next;        /* key bucket chain */
    struct entry *gnext;       /* group bucket chain */
    struct entry *older, *newer; /* shard insertion order (FIFO eviction) */
    uint64_t hash, ghash;
    struct blob *blob;
    size_t key_len, group_len;
    uint8_t key[];             /* key, then group */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets, **gbuckets;
    size_t nbuckets;
    size_t count;
    struct entry *oldest, *newest;
};

/* Pre-signed entries and their responses are carved from large blocks: one
 * allocation per SLAB_BLOCK octets instead of two per response.  A block counts
 * the entries and blobs carved from it that are still alive (plus one while it
 * is the block being filled); the last to go frees it.  Pre-signed responses are
 * all re-signed within a refresh period, in about the order they were first
 * signed, so a block's entries die together and holes do not accumulate. */
#define SLAB_BLOCK ((size_t)256 << 10)
#define SLAB_ALIGN ((size_t)16)

struct slab_block {
    atomic_size_t live;
    struct cache *owner;
    size_t used;
    _Alignas(16) uint8_t data[];
};

struct cache {
    struct shard shards[SHARDS];
    pthread_mutex_t slab_lock;
    struct slab_block *slab_cur; /* being filled */
    atomic_size_t slab_bytes;
    size_t max_per_shard;
    size_t slab_max;             /* pre-signed entries stop at 7/8 of the capacity */
    uint64_t seed;
    atomic_size_t count;
};

struct blob *blob_new(const uint8_t *data, size_t len)
{
    struct blob *b = qpki_malloc(sizeof(*b) + len);
    if (!b)
        return NULL;
    memset(b, 0, sizeof(*b));
    atomic_init(&b->refs, 1);
    atomic_init(&b->digest_state, 0);
    b->len = len;
    memcpy(b->data, data, len);
    return b;
}

static void slab_release(struct slab_block *blk)
{
    if (atomic_fetch_sub_explicit(&blk->live, 1, memory_order_acq_rel) == 1) {
        atomic_fetch_sub(&blk->owner->slab_bytes, SLAB_BLOCK);
        qpki_free(blk);
    }
}

/* n octets from the block being filled; *blk holds one count for them. */
static void *slab_alloc(struct cache *c, size_t n, struct slab_block **blk)
{
    n = (n + SLAB_ALIGN - 1) & ~(SLAB_ALIGN - 1);
    if (n > SLAB_BLOCK - sizeof(struct slab_block))
        return NULL;
    pthread_mutex_lock(&c->slab_lock);
    struct slab_block *b = c->slab_cur;
    if (!b || b->used + n > SLAB_BLOCK - sizeof(struct slab_block)) {
        struct slab_block *fresh = qpki_malloc(SLAB_BLOCK);
        if (!fresh) {
            pthread_mutex_unlock(&c->slab_lock);
            return NULL;
        }
        atomic_init(&fresh->live, 1); /* the cache's, while it is filled */
        fresh->owner = c;
        fresh->used = 0;
        atomic_fetch_add(&c->slab_bytes, SLAB_BLOCK);
        c->slab_cur = fresh;
        if (b)
            slab_release(b);
        b = fresh;
    }
    void *p = b->data + b->used;
    b->used += n;
    atomic_fetch_add_explicit(&b->live, 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->slab_lock);
    *blk = b;
    return p;
}

static void entry_free(struct entry *e)
{
    if (e->block)
        slab_release(e->block);
    else
        qpki_free(e);
}

struct blob *blob_ref(struct blob *b)
{
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void blob_unref(struct blob **pb)
{
    if (!pb || !*pb)
        return;
    if (atomic_fetch_sub_explicit(&(*pb)->refs, 1, memory_order_acq_rel) == 1) {
        if ((*pb)->block)
            slab_release((*pb)->block);
        else
            qpki_free(*pb);
    }
    *pb = NULL;
}

static uint64_t bytes_hash(uint64_t seed, const uint8_t *key, size_t n);

/* Keys come from requests (attacker-chosen serials), so the bucket hash is keyed
 * with a per-process random seed to keep chains short. */
static uint64_t key_hash(const struct cache *c, const uint8_t *key, size_t n)
{
    return bytes_hash(c->seed, key, n);
}

static struct shard *shard_of(struct cache *c, uint64_t ghash)
{
    return &c->shards[(ghash >> 40) % SHARDS];
}

static uint64_t bytes_hash(uint64_t seed, const uint8_t *key, size_t n)
{
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ull * (n + 1));
    for (size_t i = 0; i < n; i++) {
        h ^= key[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

struct cache *cache_new(size_t max_entries)
{
    struct cache *c = qpki_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (crypto_random((uint8_t *)&c->seed, sizeof(c->seed)) != QPKI_OK)
        c->seed = 0x243f6a8885a308d3ull;
    pthread_mutex_init(&c->slab_lock, NULL);
    atomic_init(&c->slab_bytes, 0);
    c->max_per_shard = max_entries / SHARDS + 1;
    c->slab_max = max_entries - max_entries / 8;
    size_t nb = 64;
    while (nb < c->max_per_shard && nb < (1u << 20))
        nb <<= 1;
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&c->shards[i].lock, NULL);
        c->shards[i].nbuckets = nb;
        c->shards[i].buckets = qpki_calloc(nb, sizeof(struct entry *));
        c->shards[i].gbuckets = qpki_calloc(nb, sizeof(struct entry *));
        if (!c->shards[i].buckets || !c->shards[i].gbuckets) {
            cache_free(&c);
            return NULL;
        }
    }
    return c;
}

static void unlink_entry(struct shard *s, struct entry *e)
{
    struct entry **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    pp = &s->gbuckets[e->ghash & (s->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->gnext;
    if (*pp)
        *pp = e->gnext;
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    s->count--;
    blob_unref(&e->blob);
    entry_free(e);
}

static void clear_shard(struct cache *c, struct shard *s)
{
    size_t n = s->count;
    while (s->oldest)
        unlink_entry(s, s->oldest);
    atomic_fetch_sub(&c->count, n);
}

void cache_free(struct cache **pc)
{
    if (!pc || !*pc)
        return;
    struct cache *c = *pc;
    for (size_t i = 0; i < SHARDS; i++) {
        if (c->shards[i].buckets && c->shards[i].gbuckets)
            clear_shard(c, &c->shards[i]);
        qpki_free(c->shards[i].buckets);
        qpki_free(c->shards[i].gbuckets);
        pthread_mutex_destroy(&c->shards[i].lock);
    }
    if (c->slab_cur)
        slab_release(c->slab_cur); /* the last count once every entry is gone */
    pthread_mutex_destroy(&c->slab_lock);
    qpki_free(c);
    *pc = NULL;
}

struct blob *cache_get(struct cache *c, const uint8_t *key, size_t key_len,
                       const uint8_t *group, size_t group_len)
{
    uint64_t h = key_hash(c, key, key_len);
    struct shard *s = shard_of(c, key_hash(c, group, group_len));
    struct blob *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (struct entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->key_len == key_len && !memcmp(e->key, key, key_len)) {
            found = blob_ref(e->blob);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* Entries a shard takes from cache_put_slab: up to its capacity, never evicting
 * (the 1/8 of the whole cache left for live answers is slab_max's). */
static size_t slab_room(const struct cache *c) { return c->max_per_shard; }

/* Link a filled entry (key, group, hash fields set) holding b.  room: add a
 * new key only while the shard holds fewer entries (else CACHE_PUT_FULL). */
static int put_entry(struct cache *c, struct entry *fresh, struct blob *b,
                     const _Atomic uint64_t *cond, uint64_t want, size_t room)
{
    uint64_t h = fresh->hash;
    struct shard *s = shard_of(c, fresh->ghash);
    pthread_mutex_lock(&s->lock);
    if (cond && atomic_load(cond) != want) {
        pthread_mutex_unlock(&s->lock);
        entry_free(fresh);
        return CACHE_PUT_REFUSED;
    }
    struct entry *old = NULL;
    for (struct entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && e->key_len == fresh->key_len &&
            !memcmp(e->key, fresh->key, fresh->key_len)) {
            old = e;
            break;
        }
    }
    if (!old && room != SIZE_MAX && (s->count >= room || atomic_load(&c->count) >= c->slab_max)) {
        pthread_mutex_unlock(&s->lock);
        entry_free(fresh);
        return CACHE_PUT_FULL;
    }
    fresh->blob = blob_ref(b);
    if (old) {
        unlink_entry(s, old);
        atomic_fetch_sub(&c->count, 1);
    }
    if (s->count >= c->max_per_shard && s->oldest) {
        unlink_entry(s, s->oldest);
        atomic_fetch_sub(&c->count, 1);
    }
    struct entry **bucket = &s->buckets[h & (s->nbuckets - 1)];
    fresh->next = *bucket;
    *bucket = fresh;
    bucket = &s->gbuckets[fresh->ghash & (s->nbuckets - 1)];
    fresh->gnext = *bucket;
    *bucket = fresh;
    fresh->older = s->newest;
    if (s->newest)
        s->newest->newer = fresh;
    else
        s->oldest = fresh;
    s->newest = fresh;
    s->count++;
    atomic_fetch_add(&c->count, 1);
    pthread_mutex_unlock(&s->lock);
    return CACHE_PUT_STORED;
}

static void entry_fill(struct cache *c, struct entry *e, const uint8_t *key, size_t key_len,
                       const uint8_t *group, size_t group_len)
{
    e->hash = key_hash(c, key, key_len);
    e->ghash = key_hash(c, group, group_len);
    e->key_len = key_len;
    e->group_len = group_len;
    memcpy(e->key, key, key_len);
    memcpy(e->key + key_len, group, group_len);
}

bool cache_put(struct cache *c, const uint8_t *key, size_t key_len, const uint8_t *group,
               size_t group_len, struct blob *b, const _Atomic uint64_t *cond, uint64_t want)
{
    if (key_len > KEY_MAX || group_len > CACHE_GROUP_MAX)
        return false;
    struct entry *fresh = qpki_malloc(sizeof(*fresh) + key_len + group_len);
    if (!fresh)
        return false; /* caching is best effort */
    memset(fresh, 0, sizeof(*fresh));
    entry_fill(c, fresh, key, key_len, group, group_len);
    return put_entry(c, fresh, b, cond, want, SIZE_MAX) == CACHE_PUT_STORED;
}

bool cache_slab_room(struct cache *c, const uint8_t *group, size_t group_len)
{
    struct shard *s = shard_of(c, key_hash(c, group, group_len));
    pthread_mutex_lock(&s->lock);
    bool room = s->count < slab_room(c) && atomic_load(&c->count) < c->slab_max;
    pthread_mutex_unlock(&s->lock);
    return room;
}

int cache_put_slab(struct cache *c, const uint8_t *key, size_t key_len, const uint8_t *group,
                   size_t group_len, const struct blob *b, const _Atomic uint64_t *cond,
                   uint64_t want)
{
    if (key_len > KEY_MAX || group_len > CACHE_GROUP_MAX)
        return CACHE_PUT_REFUSED;
    struct slab_block *eb, *bb;
    struct entry *fresh = slab_alloc(c, sizeof(*fresh) + key_len + group_len, &eb);
    if (!fresh)
        return CACHE_PUT_REFUSED;
    struct blob *copy = slab_alloc(c, sizeof(*copy) + b->len, &bb);
    if (!copy) {
        slab_release(eb);
        return CACHE_PUT_REFUSED;
    }
    memset(fresh, 0, sizeof(*fresh));
    fresh->block = eb;
    entry_fill(c, fresh, key, key_len, group, group_len);
    memcpy(copy, b, sizeof(*copy));
    memcpy(copy->data, b->data, b->len);
    atomic_init(&copy->refs, 1);
    atomic_init(&copy->digest_state, 0);
    copy->block = bb;
    int stored = put_entry(c, fresh, copy, cond, want, slab_room(c));
    blob_unref(&copy); /* the entry holds its own reference */
    return stored;
}

size_t cache_slab_bytes(struct cache *c) { return c ? atomic_load(&c->slab_bytes) : 0; }

size_t cache_drop_group(struct cache *c, const uint8_t *group, size_t group_len)
{
    uint64_t gh = key_hash(c, group, group_len);
    struct shard *s = shard_of(c, gh);
    size_t dropped = 0;
    pthread_mutex_lock(&s->lock);
    struct entry *e = s->gbuckets[gh & (s->nbuckets - 1)];
    while (e) {
        struct entry *next = e->gnext;
        if (e->ghash == gh && e->group_len == group_len &&
            !memcmp(e->key + e->key_len, group, group_len)) {
            unlink_entry(s, e);
            dropped++;
        }
        e = next;
    }
    pthread_mutex_unlock(&s->lock);
    if (dropped)
        atomic_fetch_sub(&c->count, dropped);
    return dropped;
}

size_t cache_count(struct cache *c) { return c ? atomic_load(&c->count) : 0; }

void cache_clear(struct cache *c)
{
    for (size_t i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        clear_shard(c, &c->shards[i]);
        pthread_mutex_unlock(&c->shards[i].lock);
    }
}
