/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/db_internal.h - private interface of the status database (never installed). */
#ifndef QPKI_DB_INTERNAL_H
#define QPKI_DB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/db.h>

#include "safety.h"

/* Longest message a backend or the handle keeps (bytes, with the NUL). */
#define QPKI_DB_MESSAGE_MAX 512

/* The backend self pointer of db when db was created with exactly this ops
 * pointer; NULL otherwise (lets a backend's private helpers find their state). */
void *qpki_db_backend(qpki_db *db, const qpki_status_db_ops *ops);

/* The library's own backends (index.txt, memory table) mark their handles: their
 * lookups never return QPKI_ERR_STALE or QPKI_ERR_BUSY, so the responder need
 * not ask on a cache hit whether the table is too old to answer. */
void qpki_db_mark_builtin(qpki_db *db);
bool qpki_db_is_builtin(const qpki_db *db);

/* An index.txt database read from memory, under the display name `name` (used
 * in messages, e.g. "index.txt:3: bad status"); refresh is a no-op.  For the
 * fuzzer and tests.  error may be NULL. */
QPKI_MUST_USE qpki_status qpki_index_open_memory(const char *name, const uint8_t *data,
                                                 size_t len, char *error, size_t error_size,
                                                 qpki_db **out);

/* Counters of an index database, for tests: full loads (every line parsed
 * into a new table), incremental loads (only the changed lines parsed and
 * applied; a read that finds no line changed counts as neither), re-reads made
 * to detect changes within one timestamp tick, the lines the last incremental
 * load found changed or gone, merged loads (every line parsed, the rows that
 * differ applied to the table in place), and the bytes of the lines the last
 * incremental load went through (the lines touching the blocks that differ;
 * the other blocks are only hashed). */
typedef struct qpki_index_stats {
    uint64_t full_loads;
    uint64_t hash_checks;
    uint64_t incremental_loads;
    uint64_t changed_lines;
    uint64_t merged_loads;
    uint64_t parsed_bytes;
} qpki_index_stats;
QPKI_MUST_USE qpki_status qpki_index_get_stats(qpki_db *db, qpki_index_stats *stats);

/* Apply the index.txt in data[0..len) to a database made by
 * qpki_index_open_memory, as qpki_db_refresh applies a changed file: the
 * changed lines only, or a full load when too much changed.  On failure the
 * table is left as it was and error receives the message.  For the fuzzer and
 * tests. */
QPKI_MUST_USE qpki_status qpki_index_apply_memory(qpki_db *db, const char *name,
                                                  const uint8_t *data, size_t len, char *error,
                                                  size_t error_size);

/* For tests: parse every line (merge) when more than max(lines, lines in the
 * file / 64) lines changed, and build a second table when more than max(rows,
 * table rows / 16) rows differ, or always when rows is 0 (defaults 4096,
 * 4096). */
QPKI_MUST_USE qpki_status qpki_index_set_limits(qpki_db *db, size_t lines, size_t rows);

/* For tests: cut the file into blocks of `size` octets (1 to 2^30; default
 * 65536) from the next load on (which parses every line). */
QPKI_MUST_USE qpki_status qpki_index_set_block_size(qpki_db *db, size_t size);

/* The table of an index database; NULL for any other. */
struct db_table *qpki_index_table(qpki_db *db);

/* The table of a qpki_db_memory_new database; NULL for any other. */
struct db_table *qpki_db_memory_table(qpki_db *db);

/* qpki_plugin_probe for a status database plugin: QPKI_OK and "status database
 * plugin NAME VERSION" in info, or the loader's status and reason. */
QPKI_MUST_USE qpki_status db_plugin_probe(const char *path, char *info, size_t infolen);

#endif
