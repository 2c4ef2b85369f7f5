/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/db_internal.h - private interface of the status database (never installed). */
#ifndef QPKI_DB_INTERNAL_H
#define QPKI_DB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/db.h>

#include "safety.h"

/* Longest message a backend or the handle keeps (bytes, with the NUL). */
#define QPKI_DB_MESSAGE_MAX 512

/* The backend self pointer of db when db was created with exactly this ops
 * pointer; NULL otherwise (lets a backend's private helpers find their state). */
void *qpki_db_backend(qpki_db *db, const qpki_status_db_ops *ops);

/* An index.txt database read from memory, under the display name `name` (used
 * in messages, e.g. "index.txt:3: bad status"); refresh is a no-op.  For the
 * fuzzer and tests.  error may be NULL. */
QPKI_MUST_USE qpki_status qpki_index_open_memory(const char *name, const uint8_t *data,
                                                 size_t len, char *error, size_t error_size,
                                                 qpki_db **out);

/* Counters of an index database, for tests: full reads (parse) and hash-only
 * re-reads made to detect changes within one timestamp tick. */
typedef struct qpki_index_stats {
    uint64_t full_loads;
    uint64_t hash_checks;
} qpki_index_stats;
QPKI_MUST_USE qpki_status qpki_index_get_stats(qpki_db *db, qpki_index_stats *stats);

#endif
