/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/memory.c - qpki_db_memory_*: the writable in-memory table (table.c)
 * as a status database of its own, for backends and embedders that fill it
 * from another source.  The rules are stated in qpki/db.h. */
#include <string.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/db_internal.h"
#include "db/table.h"

typedef struct memory_db {
    db_table *table;
    char *name;
} memory_db;

static qpki_status memory_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    return table_lookup(((memory_db *)self)->table, serial, len, out);
}

static uint64_t memory_generation(void *self)
{
    return table_generation(((memory_db *)self)->table);
}

static size_t memory_count(void *self) { return table_count(((memory_db *)self)->table); }

static qpki_status memory_list_serials(void *self, qpki_db_cursor *cursor, size_t max,
                                       qpki_db_change_fn fn, void *user, int *done)
{
    return table_list(((memory_db *)self)->table, cursor, max, fn, user, done);
}

static qpki_status memory_changes_since(void *self, uint64_t since, uint64_t *upto,
                                        qpki_db_change_fn fn, void *user)
{
    return table_changes_since(((memory_db *)self)->table, since, upto, fn, user);
}

static void memory_close(void *self)
{
    memory_db *m = self;
    if (!m)
        return;
    table_free(&m->table);
    qpki_free(m->name);
    qpki_free(m);
}

static const qpki_status_db_ops memory_ops = {
    .abi_version = QPKI_DB_ABI_V4,
    .struct_size = sizeof(qpki_status_db_ops),
    .lookup = memory_lookup,
    .generation = memory_generation,
    .count = memory_count,
    .close = memory_close,
    .changes_since = memory_changes_since,
    .list_serials = memory_list_serials,
};

qpki_status qpki_db_memory_new(const char *name, qpki_db **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(name, QPKI_ERR_INVALID_ARG);
    memory_db *m = qpki_calloc(1, sizeof(*m));
    QPKI_ENSURE(m, QPKI_ERR_NOMEM);
    qpki_status rc = QPKI_ERR_NOMEM;
    m->name = qpki_strdup(name);
    if (m->name)
        rc = table_new(&m->table);
    if (rc == QPKI_OK)
        rc = qpki_db_new(&memory_ops, m, out);
    if (rc == QPKI_OK)
        qpki_db_mark_builtin(*out);
    if (rc != QPKI_OK)
        memory_close(m);
    return rc;
}

static db_table *table_of(qpki_db *db)
{
    memory_db *m = qpki_db_backend(db, &memory_ops);
    return m ? m->table : NULL;
}

/* RFC 5280 §4.1.2.2 serials are positive INTEGERs; the table is keyed by the
 * magnitude without leading zero octets, as qpki_db_lookup normalises it. */
static qpki_status normalise(const uint8_t **serial, size_t *len)
{
    QPKI_ENSURE(*serial || *len == 0, QPKI_ERR_INVALID_ARG);
    while (*len > 0 && (*serial)[0] == 0) {
        (*serial)++;
        (*len)--;
    }
    QPKI_ENSURE(*len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    return QPKI_OK;
}

qpki_status qpki_db_memory_put(qpki_db *db, const uint8_t *serial, size_t serial_len,
                               const qpki_db_entry *entry)
{
    db_table *t = table_of(db);
    QPKI_ENSURE(t && entry, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(normalise(&serial, &serial_len));
    return table_put(t, serial, serial_len, entry, false, NULL);
}

qpki_status qpki_db_memory_remove(qpki_db *db, const uint8_t *serial, size_t serial_len)
{
    db_table *t = table_of(db);
    QPKI_ENSURE(t, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(normalise(&serial, &serial_len));
    return table_remove(t, serial, serial_len);
}

qpki_status qpki_db_memory_replace_begin(qpki_db *db)
{
    db_table *t = table_of(db);
    QPKI_ENSURE(t, QPKI_ERR_INVALID_ARG);
    return table_replace_begin(t);
}

qpki_status qpki_db_memory_commit(qpki_db *db, uint64_t *generation)
{
    db_table *t = table_of(db);
    QPKI_ENSURE(t, QPKI_ERR_INVALID_ARG);
    return table_commit(t, generation);
}

void qpki_db_memory_abort(qpki_db *db)
{
    db_table *t = table_of(db);
    if (t)
        table_abort(t);
}

db_table *qpki_db_memory_table(qpki_db *db) { return table_of(db); }
