/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/table.h - the writable in-memory status table (private; the public face
 * is qpki_db_memory_* in qpki/db.h, the rules are stated there and in table.c).
 *
 * One implementation for every backend that holds rows in memory: the
 * index.txt backend (index_txt.c), qpki_db_memory_new, and through that
 * plugins (PostgreSQL, CRLs). */
#ifndef QPKI_DB_TABLE_H
#define QPKI_DB_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/db.h>

#include "safety.h"

typedef struct db_table db_table;

/* The SplitMix64 finaliser: a bijection with full avalanche (serial hashes in
 * table.c, line and set hashes in index_txt.c). */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* A record reference: the record's offset in its arena + 1; 0 = none.  Valid
 * for the writer until the row is changed or removed (or the store replaced). */
typedef uint32_t table_ref;

/* Serials kept in the changes history by default. */
#define TABLE_HISTORY_DEFAULT 65536u

QPKI_MUST_USE qpki_status table_new(db_table **out);
/* Nothing may run on t concurrently. */
void table_free(db_table **t);

/* ---- any thread, any time ---- */
/* serial normalised (no leading zero octets), at most QPKI_SERIAL_MAX octets. */
QPKI_MUST_USE qpki_status table_lookup(db_table *t, const uint8_t *serial, size_t len,
                                       qpki_db_entry *out);
uint64_t table_generation(db_table *t);
size_t table_count(db_table *t);
QPKI_MUST_USE qpki_status table_changes_since(db_table *t, uint64_t since, uint64_t *upto,
                                              qpki_db_change_fn fn, void *user);

/* Visit the serials of the rows in index slots [*cursor, *cursor + max_slots)
 * of the table lookups see, as a lookup would (any thread, concurrently with
 * the writer): fn runs inside one read section and must be quick (copy the
 * serial out).  *cursor advances; returns the number of slots of the index
 * (the scan is over when *cursor reaches it).  *index_id receives an identity
 * of the index scanned: when it differs between two calls the index was
 * rebuilt (rows moved to other slots), so a scan that must see every row
 * starts over.  A row changed during a scan may be seen before or after its
 * change, or (when inserted or moved) not at all. */
typedef void (*table_serial_fn)(void *user, const uint8_t *serial, size_t len);
size_t table_scan(db_table *t, size_t *cursor, uintptr_t *index_id, table_serial_fn fn,
                  void *user, size_t max_slots);

/* One part of a listing (qpki_status_db_ops.list_serials) of the table
 * lookups see: max index slots from the cursor's (table_scan), starting over
 * when the index was rebuilt since the previous part.  Never fails. */
qpki_status table_list(db_table *t, qpki_db_cursor *cursor, size_t max, qpki_db_change_fn fn,
                       void *user, int *done);

/* ---- the writer (one at a time) ----
 * put/remove work on the table lookups see, or, between replace_begin and
 * commit/abort, on the table being built. */

/* Insert or replace (the entry is checked as qpki_db_memory_put documents).
 * *ref (may be NULL) receives the row's record.  When must_be_new and the
 * serial is already there: QPKI_ERR_EXISTS, nothing changed, *ref = the
 * existing record. */
QPKI_MUST_USE qpki_status table_put(db_table *t, const uint8_t *serial, size_t len,
                                    const qpki_db_entry *entry, bool must_be_new,
                                    table_ref *ref);
/* QPKI_ERR_NOT_FOUND when absent. */
QPKI_MUST_USE qpki_status table_remove(db_table *t, const uint8_t *serial, size_t len);
/* Remove the row whose record is ref (a ref the writer holds). */
void table_remove_ref(db_table *t, table_ref ref);
/* The serial of a record the writer holds (view into the table, valid until
 * the next write). */
void table_ref_serial(db_table *t, table_ref ref, const uint8_t **serial, size_t *len);
/* The record of a serial in the table written to; 0 when absent. */
table_ref table_find(db_table *t, const uint8_t *serial, size_t len);
QPKI_MUST_USE qpki_status table_replace_begin(db_table *t);
/* Size the index of the table written to for `rows` rows (a hint: growing it
 * step by step costs a rebuild each time it doubles). */
QPKI_MUST_USE qpki_status table_reserve(db_table *t, size_t rows);
bool table_replacing(const db_table *t);
/* Rows in the table written to. */
size_t table_write_count(const db_table *t);
/* Never fails (QPKI_OK); a status for the public wrapper. */
qpki_status table_commit(db_table *t, uint64_t *generation);
void table_abort(db_table *t);

/* Call fn for every row of the table written to (no write may run
 * meanwhile).  For tests and the fuzzer. */
typedef void (*table_row_fn)(void *user, const uint8_t *serial, size_t len,
                             const qpki_db_entry *entry);
void table_foreach(db_table *t, table_row_fn fn, void *user);

/* Whether the row of ref (in the table written to) holds exactly entry
 * (false also for an entry the table cannot hold). */
bool table_row_equals(db_table *t, table_ref ref, const qpki_db_entry *entry);
/* Call fn for the record of every row of the table written to (no write may
 * run meanwhile). */
typedef void (*table_ref_fn)(void *user, table_ref ref);
void table_foreach_ref(db_table *t, table_ref_fn fn, void *user);
/* Octets of the arena of the table written to: every ref is below this + 1. */
size_t table_arena_used(const db_table *t);

/* For tests: keep at most max serials in the changes history (>= 1). */
void table_set_history_limit(db_table *t, size_t max);

/* For tests and benchmarks: bytes of the arena in use / rows / index slots. */
typedef struct table_stats {
    size_t arena_used, arena_free, slots, tombstones, rows, grace_periods;
} table_stats;
void table_get_stats(db_table *t, table_stats *st);

#endif
