/* SPDX-License-Identifier: Apache-2.0 */
/* lib/responder/cache.h - signed-response cache (private).
 *
 * A sharded hash map from an opaque key (issuer, key, CertID bytes) to an immutable
 * reference-counted blob holding an encoded response and its times.  Readers take a
 * reference under the shard lock, so a blob replaced or evicted while a request is
 * still sending it stays alive until that request drops it. */
#ifndef QPKI_CACHE_H
#define QPKI_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/types.h>
#include "../safety.h"

struct blob {
    atomic_uint refs;
    qpki_time this_update, next_update, produced_at;
    qpki_time refresh_after;   /* re-sign when now >= this */
    uint64_t flush_epoch;      /* issuer's whole-cache invalidations at signing time */
    uint64_t key_epoch;        /* issuer key set at signing time */
    uint64_t config_epoch;     /* issuer policy settings at signing time */
    qpki_cert_status cert_status;
    atomic_int digest_state;   /* SHA-256 of data: 0 not yet, 1 being stored, 2 ready */
    uint8_t sha256[32];        /* lib/http's ETag, computed once per blob */
    struct slab_block *block;  /* slab block holding it (cache_put_slab), NULL: malloc'd */
    size_t len;
    uint8_t data[];
};

struct slab_block;
struct blob *blob_new(const uint8_t *data, size_t len);
/* SHA-256 of the encoded response an answer carries (lib/http's ETag); for a
 * signed blob it is computed once and shared by every cache hit. */
struct qpki_answer;
QPKI_MUST_USE qpki_status answer_body_sha256(const struct qpki_answer *a, uint8_t out[32]);
struct blob *blob_ref(struct blob *b);
void blob_unref(struct blob **b);

/* Entries belong to a group, the (issuer, serial) they answer for: every
 * entry of one group sits in the same shard, chained for cache_drop_group, so a
 * change of one row drops exactly that serial's responses (whatever CertID hash
 * algorithm, parameters or key they were asked with) and nothing else. */
#define CACHE_GROUP_MAX 40

struct cache;
struct cache *cache_new(size_t max_entries);
void cache_free(struct cache **c);
/* A new reference to the blob stored under key, or NULL. */
struct blob *cache_get(struct cache *c, const uint8_t *key, size_t key_len,
                       const uint8_t *group, size_t group_len);
/* Store b under key (the cache takes its own reference), replacing any older
 * blob; evicts the oldest entry of the shard when it is full.  Only when
 * *cond == want, checked under the shard's lock (NULL: always): a writer that
 * changes *cond before dropping groups never leaves behind an entry put for
 * the old value.  Returns whether b was stored. */
bool cache_put(struct cache *c, const uint8_t *key, size_t key_len, const uint8_t *group,
               size_t group_len, struct blob *b, const _Atomic uint64_t *cond, uint64_t want);
/* The same for pre-signed responses: the entry and a copy of b's bytes and
 * fields are placed in the cache's slab (large blocks shared by many entries,
 * no allocation per entry); a block is freed once every entry and blob in it
 * is gone.  A key not yet cached is added only while the cache holds less than
 * 7/8 of its capacity (1/8 stays for live answers) and its shard is not full,
 * so pre-signing never evicts: CACHE_PUT_FULL.  CACHE_PUT_REFUSED: *cond moved, or no memory. */
enum { CACHE_PUT_REFUSED = 0, CACHE_PUT_STORED = 1, CACHE_PUT_FULL = 2 };
/* Whether the shard of group has room for a new pre-signed entry (a hint: the
 * put checks again). */
bool cache_slab_room(struct cache *c, const uint8_t *group, size_t group_len);
int cache_put_slab(struct cache *c, const uint8_t *key, size_t key_len, const uint8_t *group,
                    size_t group_len, const struct blob *b, const _Atomic uint64_t *cond,
                    uint64_t want);
/* Octets held by slab blocks (pre-signed entries and responses, with the
 * holes left by replaced ones until their block empties). */
size_t cache_slab_bytes(struct cache *c);
/* Remove every entry of a group; returns how many. */
size_t cache_drop_group(struct cache *c, const uint8_t *group, size_t group_len);
size_t cache_count(struct cache *c);
void cache_clear(struct cache *c);

#endif
