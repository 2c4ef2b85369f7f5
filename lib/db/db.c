/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/db.c - the status-database handle: vtable checks and dispatch, serial
 * normalisation, reload logging. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/db_internal.h"

/* Sizes of the first versions of the public structs: what older callers and
 * backends are guaranteed to have. */
#define ENTRY_V1_SIZE (offsetof(qpki_db_entry, invalidity_date) + sizeof(qpki_time))
#define OPS_V1_SIZE (offsetof(qpki_status_db_ops, close) + sizeof(void (*)(void *)))
#define OPS_V2_SIZE (offsetof(qpki_status_db_ops, changes_since) + sizeof(void (*)(void)))
#define OPS_V3_SIZE (offsetof(qpki_status_db_ops, health) + sizeof(void (*)(void)))
#define OPS_V4_SIZE (offsetof(qpki_status_db_ops, list_serials) + sizeof(void (*)(void)))
#define HEALTH_V1_SIZE (offsetof(qpki_db_health, reloads) + sizeof(uint64_t))

struct qpki_db {
    _Atomic unsigned refs;
    qpki_status_db_ops ops;            /* copy of the backend's, zero-extended */
    const qpki_status_db_ops *ops_ptr; /* as given, for qpki_db_backend */
    void *self;
    bool builtin;                      /* index.txt or memory table: lookups never refuse */
    /* Serialises refresh and guards the logging state below. */
    pthread_mutex_t refresh_lock;
    qpki_db_log_fn log_fn;
    void *log_user;
    bool failing;                         /* the last refresh failed */
    char failure[QPKI_DB_MESSAGE_MAX];    /* its message, to log each failure once */
};

void qpki_db_entry_init(qpki_db_entry *entry)
{
    if (!entry)
        return;
    memset(entry, 0, sizeof(*entry));
    entry->struct_size = (uint32_t)sizeof(*entry);
    entry->reason = QPKI_REASON_NONE;
    entry->hold_instruction = QPKI_HOLD_INSTRUCTION_ABSENT;
}

const char *qpki_hold_instruction_name(qpki_hold_instruction instruction)
{
    switch (instruction) {
    case QPKI_HOLD_INSTRUCTION_ABSENT: return "absent";
    case QPKI_HOLD_INSTRUCTION_NONE: return "holdInstructionNone";
    case QPKI_HOLD_INSTRUCTION_CALL_ISSUER: return "holdInstructionCallIssuer";
    case QPKI_HOLD_INSTRUCTION_REJECT: return "holdInstructionReject";
    }
    return NULL;
}

qpki_status qpki_db_new(const qpki_status_db_ops *ops, void *self, qpki_db **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(ops, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(ops->abi_version >= 1 && ops->abi_version <= QPKI_DB_ABI_V4,
                QPKI_ERR_PLUGIN_ABI);
    QPKI_ENSURE(ops->struct_size >= OPS_V1_SIZE, QPKI_ERR_PLUGIN_ABI);
    QPKI_ENSURE(ops->lookup && ops->generation && ops->count && ops->close,
                QPKI_ERR_INVALID_ARG);

    qpki_db *db = qpki_calloc(1, sizeof(*db));
    QPKI_ENSURE(db, QPKI_ERR_NOMEM);
    if (pthread_mutex_init(&db->refresh_lock, NULL) != 0) {
        qpki_free(db);
        return QPKI_ERR_NOMEM;
    }
    /* A backend built against a later header may have a larger table: take the
     * methods we know.  One built against an earlier one: the rest stays NULL. */
    size_t n = ops->struct_size < sizeof(db->ops) ? ops->struct_size : sizeof(db->ops);
    memcpy(&db->ops, ops, n);
    /* A method counts only when the version that introduced it is declared. */
    if (ops->abi_version < QPKI_DB_ABI_V2 || ops->struct_size < OPS_V2_SIZE)
        db->ops.changes_since = NULL;
    if (ops->abi_version < QPKI_DB_ABI_V3 || ops->struct_size < OPS_V3_SIZE)
        db->ops.health = NULL;
    if (ops->abi_version < QPKI_DB_ABI_V4 || ops->struct_size < OPS_V4_SIZE)
        db->ops.list_serials = NULL;
    db->ops_ptr = ops;
    db->self = self;
    atomic_init(&db->refs, 1u);
    *out = db;
    return QPKI_OK;
}

qpki_db *qpki_db_ref(qpki_db *db)
{
    if (db)
        atomic_fetch_add_explicit(&db->refs, 1u, memory_order_relaxed);
    return db;
}

void qpki_db_free(qpki_db **pdb)
{
    if (!pdb || !*pdb)
        return;
    qpki_db *db = *pdb;
    *pdb = NULL;
    if (atomic_fetch_sub_explicit(&db->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    db->ops.close(db->self);
    pthread_mutex_destroy(&db->refresh_lock);
    qpki_free(db);
}

void qpki_db_mark_builtin(qpki_db *db)
{
    if (db)
        db->builtin = true;
}

bool qpki_db_is_builtin(const qpki_db *db) { return db && db->builtin; }

void *qpki_db_backend(qpki_db *db, const qpki_status_db_ops *ops)
{
    return db && db->ops_ptr == ops ? db->self : NULL;
}

qpki_status qpki_db_lookup(qpki_db *db, const uint8_t *serial, size_t serial_len,
                           qpki_db_entry *out)
{
    QPKI_ENSURE(db && out && (serial || serial_len == 0), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(out->struct_size >= ENTRY_V1_SIZE, QPKI_ERR_INVALID_ARG);

    /* RFC 5280 §4.1.2.2 serials are positive INTEGERs; their DER contents carry a
     * leading 0x00 when the high bit is set, and some clients send more.  The
     * table is keyed by the magnitude without leading zero octets. */
    while (serial_len > 0 && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    static const uint8_t zero_length[1] = {0};
    if (serial_len == 0)
        serial = zero_length; /* backends may memcmp/memcpy 0 bytes from it */
    /* The backend fills a full-size struct of ours; the caller gets as much of
     * it as its own struct holds. */
    qpki_db_entry tmp;
    qpki_db_entry_init(&tmp);
    qpki_status rc = QPKI_ERR_NOT_FOUND;
    if (serial_len <= QPKI_SERIAL_MAX)
        rc = db->ops.lookup(db->self, serial, serial_len, &tmp);
    if (rc != QPKI_OK)
        qpki_db_entry_init(&tmp);
    uint32_t caller_size = out->struct_size;
    memcpy(out, &tmp, caller_size < sizeof(tmp) ? caller_size : sizeof(tmp));
    out->struct_size = caller_size;
    return rc;
}

uint64_t qpki_db_generation(qpki_db *db)
{
    return db ? db->ops.generation(db->self) : 0;
}

size_t qpki_db_count(qpki_db *db)
{
    return db ? db->ops.count(db->self) : 0;
}

qpki_status qpki_db_get_health(qpki_db *db, qpki_db_health *out)
{
    QPKI_ENSURE(db && out && out->struct_size >= HEALTH_V1_SIZE, QPKI_ERR_INVALID_ARG);
    if (!db->ops.health)
        return QPKI_ERR_UNSUPPORTED;
    /* the backend fills a full-size struct of ours; the caller gets as much of
     * it as its own struct holds */
    qpki_db_health h;
    memset(&h, 0, sizeof(h));
    h.struct_size = (uint32_t)sizeof(h);
    qpki_status rc = db->ops.health(db->self, &h);
    if (rc != QPKI_OK)
        return rc;
    uint32_t caller_size = out->struct_size;
    memcpy(out, &h, caller_size < sizeof(h) ? caller_size : sizeof(h));
    out->struct_size = caller_size;
    return QPKI_OK;
}

qpki_status qpki_db_changes_since(qpki_db *db, uint64_t since, uint64_t *upto,
                                  qpki_db_change_fn fn, void *user)
{
    QPKI_ENSURE(db && upto && fn, QPKI_ERR_INVALID_ARG);
    if (!db->ops.changes_since)
        return QPKI_ERR_NOT_FOUND; /* a V1 backend cannot tell: every row may have changed */
    uint64_t reached = since;
    qpki_status rc = db->ops.changes_since(db->self, since, &reached, fn, user);
    if (rc == QPKI_OK) {
        /* A report never goes backwards. */
        QPKI_ENSURE(reached >= since, QPKI_ERR_INTERNAL);
        *upto = reached;
    }
    return rc;
}

/* What a backend reports is handed on normalised, as lookups receive serials:
 * an embedder's backend may keep leading zero octets. */
struct list_relay {
    qpki_db_change_fn fn;
    void *user;
};

static void list_relay_serial(void *user, const uint8_t *serial, size_t len)
{
    const struct list_relay *relay = user;
    if (!serial && len > 0)
        return;
    while (len > 0 && serial[0] == 0) {
        serial++;
        len--;
    }
    static const uint8_t zero_length[1] = {0};
    if (len <= QPKI_SERIAL_MAX)
        relay->fn(relay->user, len ? serial : zero_length, len);
}

qpki_status qpki_db_list_serials(qpki_db *db, qpki_db_cursor *cursor, size_t max,
                                 qpki_db_change_fn fn, void *user, int *done)
{
    QPKI_ENSURE(done, QPKI_ERR_INVALID_ARG);
    *done = 1;
    QPKI_ENSURE(db && cursor && fn, QPKI_ERR_INVALID_ARG);
    if (!db->ops.list_serials)
        return QPKI_ERR_UNSUPPORTED; /* V1 to V3: the rows cannot be listed */
    struct list_relay relay = {fn, user};
    int end = 0;
    qpki_status rc = db->ops.list_serials(db->self, cursor, max, list_relay_serial, &relay, &end);
    *done = rc != QPKI_OK || end != 0;
    return rc;
}

void qpki_db_last_error(qpki_db *db, char *buf, size_t size)
{
    if (!buf || !size)
        return;
    buf[0] = '\0';
    if (db && db->ops.last_error) {
        db->ops.last_error(db->self, buf, size);
        buf[size - 1] = '\0';
    }
}

void qpki_db_set_log(qpki_db *db, qpki_db_log_fn fn, void *user)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->refresh_lock);
    db->log_fn = fn;
    db->log_user = user;
    pthread_mutex_unlock(&db->refresh_lock);
}

qpki_status qpki_db_refresh(qpki_db *db)
{
    QPKI_ENSURE(db, QPKI_ERR_INVALID_ARG);
    if (!db->ops.refresh)
        return QPKI_OK;
    pthread_mutex_lock(&db->refresh_lock);
    uint64_t before = db->ops.generation(db->self);
    qpki_status rc = db->ops.refresh(db->self);
    char msg[QPKI_DB_MESSAGE_MAX];
    msg[0] = '\0';
    bool log = false;
    if (rc != QPKI_OK) {
        qpki_db_last_error(db, msg, sizeof(msg));
        if (!msg[0])
            qpki_fmt(msg, sizeof(msg), "status database refresh failed: %s",
                     qpki_strerror(rc));
        /* Log a failure when it starts or changes, not on every poll. */
        log = !db->failing || strcmp(msg, db->failure) != 0;
        db->failing = true;
        qpki_fmt(db->failure, sizeof(db->failure), "%s", msg);
    } else {
        uint64_t after = db->ops.generation(db->self);
        if (after != before) {
            qpki_fmt(msg, sizeof(msg), "status database reloaded: %zu rows, generation %llu",
                     db->ops.count(db->self), (unsigned long long)after);
            log = true;
        } else if (db->failing) {
            qpki_fmt(msg, sizeof(msg),
                     "status database source valid again, unchanged: %zu rows, generation %llu",
                     db->ops.count(db->self), (unsigned long long)after);
            log = true;
        }
        db->failing = false;
        db->failure[0] = '\0';
    }
    if (log && db->log_fn)
        db->log_fn(db->log_user, rc, msg);
    pthread_mutex_unlock(&db->refresh_lock);
    return rc;
}

qpki_status qpki_serial_from_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    QPKI_ENSURE(hex && len && (out || cap == 0), QPKI_ERR_INVALID_ARG);
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    /* Validate: digits with single ':' separators between them. */
    size_t digits = 0, significant = 0;
    bool leading = true;
    char prev = ':';
    for (const char *p = hex; *p; p++) {
        if (*p == ':') {
            QPKI_ENSURE(prev != ':' && p[1] != '\0', QPKI_ERR_PARSE);
        } else {
            QPKI_ENSURE(qpki_hex_digit(*p) >= 0, QPKI_ERR_PARSE);
            digits++;
            if (leading && *p != '0')
                leading = false;
            if (!leading)
                significant++;
        }
        prev = *p;
    }
    QPKI_ENSURE(digits > 0, QPKI_ERR_PARSE);
    size_t n = (significant + 1) / 2;
    QPKI_ENSURE(n <= cap, QPKI_ERR_BUFFER_TOO_SMALL);
    /* Decode the significant digits, right-aligned in n octets. */
    size_t i = 0;
    bool high = (significant % 2) == 0; /* odd count: the first octet gets one nibble */
    unsigned acc = 0;
    size_t seen = 0;
    for (const char *p = hex; *p; p++) {
        if (*p == ':')
            continue;
        if (seen++ < digits - significant)
            continue; /* a leading zero */
        acc = (acc << 4) | (unsigned)qpki_hex_digit(*p);
        if (!high) {
            out[i++] = (uint8_t)acc;
            acc = 0;
        }
        high = !high;
    }
    *len = n;
    return QPKI_OK;
}
