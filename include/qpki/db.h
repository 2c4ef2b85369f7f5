/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/db.h - the certificate-status database.
 *
 * A status database answers one question for the responder: what does the CA's
 * record say about the certificate with this serial number?  It reports the row
 * as the CA wrote it (valid, revoked with time and reason, expired) and applies
 * no policy: deciding what an expired row means (good, unauthorized, revoked) is
 * the responder's job.
 *
 * A qpki_db is a vtable (qpki_status_db_ops) plus an implementation pointer.  The
 * library ships one backend, the index.txt file written by `openssl ca` or QPKI
 * (qpki_db_open_index); others (for example SQL, shared by several responder
 * nodes) plug in with qpki_db_new.
 *
 * Serial numbers cross this API as the unsigned big-endian magnitude of the
 * certificate's serialNumber.  qpki_db_lookup accepts leading zero octets (the DER
 * INTEGER contents of a positive serial start with 0x00 when the high bit is set)
 * and removes them before asking the backend.  A DER INTEGER whose first contents
 * octet is >= 0x80 is a negative number; the database has no negative serials, so
 * callers holding INTEGER contents reject those before the lookup.
 *
 * Thread safety: qpki_db_lookup, qpki_db_generation, qpki_db_count,
 * qpki_db_changes_since, qpki_db_list_serials and qpki_db_last_error may be
 * called from any number of threads at once, also while another thread runs
 * qpki_db_refresh.  A lookup
 * sees each row whole, either as it was before a reload changed it or as it is
 * after, never half of it; and it sees a table at least as new as the
 * generation read before it.  (A reload that changes a few rows applies them
 * one by one and moves the generation once all are in; a full reload swaps the
 * whole table at once.)  Calls to qpki_db_refresh and qpki_db_set_log are
 * serialised internally.  The last qpki_db_free must not race with anything.
 *
 * Which rows changed: every generation move is recorded with the serials it
 * changed (qpki_db_changes_since), so a responder re-signs only those serials'
 * cached responses. */
#ifndef QPKI_DB_H
#define QPKI_DB_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QPKI_DB_ABI_V1 1u
#define QPKI_DB_ABI_V2 2u /* V2 appends changes_since to qpki_status_db_ops */
#define QPKI_DB_ABI_V3 3u /* V3 appends health */
#define QPKI_DB_ABI_V4 4u /* V4 appends list_serials */

/* Row status exactly as the index file states it. */
typedef enum qpki_db_row_status {
    QPKI_DB_ROW_VALID = 'V',
    QPKI_DB_ROW_REVOKED = 'R',
    QPKI_DB_ROW_EXPIRED = 'E'
} qpki_db_row_status;

/* RFC 5280 §5.3.2 holdInstructionCode.  The value is the last arc of the OID
 * id-holdinstruction (1.2.840.10040.2) .N; 0 means no instruction recorded. */
typedef enum qpki_hold_instruction {
    QPKI_HOLD_INSTRUCTION_ABSENT = 0,
    QPKI_HOLD_INSTRUCTION_NONE = 1,        /* id-holdinstruction-none (deprecated) */
    QPKI_HOLD_INSTRUCTION_CALL_ISSUER = 2, /* id-holdinstruction-callissuer */
    QPKI_HOLD_INSTRUCTION_REJECT = 3       /* id-holdinstruction-reject */
} qpki_hold_instruction;

/* OpenSSL's short name ("holdInstructionReject"); "absent" for 0; NULL for
 * values that are not assigned. */
QPKI_API const char *qpki_hold_instruction_name(qpki_hold_instruction instruction);

/* One row of the database.
 *
 * ABI rule: fields are only ever appended.  The caller states how large its copy
 * of the struct is in struct_size (qpki_db_entry_init does it); the library
 * writes only that many bytes, so a program built against this header keeps
 * working with later libraries (fields a library does not know keep their
 * qpki_db_entry_init values), and qpki_db_lookup refuses a struct_size smaller
 * than this first version (QPKI_ERR_INVALID_ARG). */
typedef struct qpki_db_entry {
    uint32_t struct_size;                   /* sizeof(qpki_db_entry) as the caller was built */
    qpki_crl_reason reason;                 /* R rows: the CRLReason, QPKI_REASON_NONE
                                             * when the row names none; others: NONE */
    qpki_hold_instruction hold_instruction; /* R rows with certificateHold: the
                                             * instruction when recorded; else ABSENT */
    char row_status;                        /* a qpki_db_row_status: 'V', 'R' or 'E' */
    qpki_time expiry;                       /* the certificate's notAfter as recorded */
    qpki_time revocation_time;              /* R rows: revocationTime; other rows: 0 */
    qpki_time invalidity_date;              /* RFC 5280 §5.3.2 invalidityDate (OpenSSL's
                                             * keyTime / CAkeyTime); 0 when none */
} qpki_db_entry;

/* Zero *entry, set struct_size = sizeof(qpki_db_entry) and reason = NONE. */
QPKI_API void qpki_db_entry_init(qpki_db_entry *entry);

/* Receives one changed serial: the normalised magnitude (no leading zero
 * octets; serial_len 0 is serial number zero). */
typedef void (*qpki_db_change_fn)(void *user, const uint8_t *serial, size_t serial_len);

/* Where a listing of a database's rows stands (qpki_db_list_serials): zero
 * it before the first call and pass it back unchanged.  Its contents belong to
 * the backend (a backend that keeps its rows in a memory table passes it on
 * to qpki_db_list_serials on that table). */
typedef struct qpki_db_cursor {
    uint64_t opaque[4];
} qpki_db_cursor;

/* How a backend that follows a remote source (a database) is doing
 * (qpki_db_health).  Fields are only ever appended; the caller sets
 * struct_size to the size of its copy. */
typedef struct qpki_db_health {
    uint32_t struct_size;       /* sizeof(qpki_db_health) as the caller was built */
    int connected;              /* 1 connected to the source, 0 not (answering from the
                                   table and reconnecting), -1 no connection to speak of */
    uint64_t staleness_ms;      /* since the table was last confirmed to match the source */
    uint64_t max_staleness_ms;  /* lookups fail with QPKI_ERR_STALE past it; 0: never */
    uint64_t changes;           /* changed rows applied from the source since open */
    uint64_t reloads;           /* full loads since open (the first included) */
} qpki_db_health;

/* The backend vtable.  Methods are only ever appended; qpki_db_new checks
 * abi_version and struct_size before anything is called. */
typedef struct qpki_status_db_ops {
    uint32_t abi_version; /* QPKI_DB_ABI_V1 to _V4 (the methods it declares) */
    uint32_t struct_size; /* sizeof(qpki_status_db_ops) as the backend was built */
    /* Find a serial.  serial is normalised: no leading zero octets, 0 to
     * QPKI_SERIAL_MAX octets (0 octets is serial number zero).  *out arrives
     * initialised (qpki_db_entry_init, full size); fill the fields you know
     * (those of the abi_version you declare).  Return
     * QPKI_ERR_NOT_FOUND on a miss; QPKI_ERR_STALE when the table is older
     * than the backend's own bound on staleness, QPKI_ERR_BUSY when it cannot
     * answer now (the responder then answers tryLater and caches nothing).
     * Called concurrently from many threads, also during refresh; must not
     * block for long. */
    qpki_status (*lookup)(void *self, const uint8_t *serial, size_t serial_len,
                          qpki_db_entry *out);
    /* A number that changes (grows) whenever the answers may have changed;
     * responders drop cached responses when it moves. */
    uint64_t (*generation)(void *self);
    /* Check the source and reload when it changed.  QPKI_OK when the table in
     * use is current; an error when the source cannot be read or is invalid, in
     * which case the previous table stays in use.  May be NULL (a source that
     * never changes). */
    qpki_status (*refresh)(void *self);
    /* Rows in the table in use. */
    size_t (*count)(void *self);
    /* Copy the message describing the last failure (or "" when the source is
     * currently fine) into buf, always NUL-terminated.  May be NULL. */
    void (*last_error)(void *self, char *buf, size_t size);
    /* Release self. */
    void (*close)(void *self);
    /* V2; may be NULL.  Report every serial whose row may differ between
     * generation `since` (a value generation() returned earlier) and the
     * current table -- inserted, changed (status, times, reason, hold
     * instruction, invalidity date) or removed -- by calling fn(user, serial,
     * len) at least once per serial, and set *upto to the generation the report
     * covers (>= since).  QPKI_OK: the report is complete up to *upto.
     * QPKI_ERR_NOT_FOUND: the backend cannot tell for that range (history
     * trimmed, source replaced wholesale): the caller treats every row as
     * changed.  Safe from any thread, also during refresh; fn must not call
     * back into this database. */
    qpki_status (*changes_since)(void *self, uint64_t since, uint64_t *upto,
                                 qpki_db_change_fn fn, void *user);
    /* V3; may be NULL.  Fill *out (arriving zeroed with the library's
     * struct_size) with the state of the connection to the source.  Safe from
     * any thread; must not block. */
    qpki_status (*health)(void *self, qpki_db_health *out);
    /* V4; may be NULL.  List the serials of the rows of the table in use, a
     * part at a time (a responder pre-signs every row's response with it):
     * go on from *cursor (all zero on the first call), call fn(user, serial,
     * len) for the rows of the next part (normalised serials, as lookup
     * receives them), advance *cursor and set *done to 1 when the listing is
     * complete, else to 0.  max bounds the work of one call (about max rows
     * or index slots; a call may report fewer rows, even none, before the
     * end).  Every row present from the first call to the last is reported at
     * least once; a row inserted, changed or removed meanwhile may or may not
     * be (changes_since names it).  An error ends the listing (the caller
     * starts over later).  Safe from any thread, concurrently with lookups
     * and refresh; fn runs inside the backend's read section: it must be
     * quick (copy the serial out) and must not call back into this
     * database. */
    qpki_status (*list_serials)(void *self, qpki_db_cursor *cursor, size_t max,
                                qpki_db_change_fn fn, void *user, int *done);
} qpki_status_db_ops;

typedef struct qpki_db qpki_db;

/* Wrap a backend.  abi_version must be 1..QPKI_DB_ABI_V4 and struct_size must
 * cover every V1 method (else QPKI_ERR_PLUGIN_ABI); lookup, generation, count and
 * close are required (else QPKI_ERR_INVALID_ARG).  A method of version N is
 * used only when abi_version is at least N and struct_size covers it (a V1
 * backend's struct stays valid).  On success the handle owns
 * self and calls ops->close when the last reference goes; on failure self is NOT
 * closed.  ops must stay valid as long as the handle (a static const struct). */
QPKI_API qpki_status qpki_db_new(const qpki_status_db_ops *ops, void *self, qpki_db **out);

/* Open an index.txt database.  path is the index file itself or a CA directory
 * containing index.txt.  The file is loaded now; a missing or invalid file is an
 * error (QPKI_ERR_NOT_FOUND, QPKI_ERR_IO, QPKI_ERR_PARSE, QPKI_ERR_TOO_LARGE,
 * QPKI_ERR_NOMEM).
 *
 * Format (OpenSSL `openssl ca` and QPKI): one row per line, six tab-separated
 * fields "status expiry revocation serial filename subject".  status is V, R or
 * E; times are YYMMDDHHMMSSZ (UTCTime: YY >= 50 means 19YY) or YYYYMMDDHHMMSSZ;
 * revocation is empty for V and E rows and "time[,reason[,extra]]" for R rows,
 * reason in OpenSSL's spelling or RFC 5280 camelCase, any case;
 * "holdInstruction,<instruction>" records certificateHold with a hold
 * instruction, "keyTime,<time>" keyCompromise and "CAkeyTime,<time>" cACompromise
 * with an invalidity date.  The serial is hex, either case, with or without
 * leading zeros, at most QPKI_SERIAL_MAX octets.  filename and subject are not
 * kept.  A tab preceded by a backslash does not separate fields.  Empty lines and
 * lines starting with '#' are skipped; the last line needs no newline.  A serial that appears twice is an error
 * (OpenSSL's `ca` refuses such a file too); so is a negative serial.  Any bad
 * line fails the whole load with a message "<path>:<line>: <reason>".
 *
 * qpki_db_refresh re-reads the file when its identity (inode, size, mtime,
 * ctime) changed, or, for two seconds after a change, when its contents differ
 * (changes within one timestamp tick); the generation moves only when the rows
 * changed (not for a touch, a comment or a subject).  Writers should replace
 * the file by rename (as `openssl ca` does); a file that changes while being
 * read is read again.
 *
 * Reloads are incremental: the new file is compared block by block with the
 * one loaded (a 64-bit hash per 64 KiB block, matched from the start and from
 * the end), the lines of the blocks that differ line by line (a 64-bit hash
 * per line), only the lines that differ are parsed, and once the whole file is
 * known to be valid their rows are changed in the table one by one -- no
 * second table.  `openssl ca` and `qpki cert issue/revoke` change a file
 * exactly so (rows appended, one row rewritten in place).  When more than
 * max(4096, lines / 64) lines differ, every line is parsed and the rows that
 * differ are applied in place; when more than max(4096, rows / 16) rows
 * differ, the file is loaded in full into a new table that replaces the old
 * one at once.
 * changes_since names the rows that really changed in both cases.
 *
 * Memory: about 40 bytes per row with 16-octet serials in the table, plus 12
 * per line of the file for the line hashes (10 million rows: ~500 MiB); a
 * row-by-row reload adds a few bytes per changed line; a full reload holds the
 * old and the new table side by side until it completes. */
QPKI_API qpki_status qpki_db_open_index(const char *path, qpki_db **out);
/* The same; on failure error (may be NULL) receives the message, e.g.
 * "/srv/ca/index.txt:42: bad revocation date". */
QPKI_API qpki_status qpki_db_open_index_err(const char *path, char *error, size_t error_size,
                                            qpki_db **out);

/* Reference counting: ref returns the same pointer; free drops one reference,
 * accepts NULL and sets *db = NULL. */
QPKI_API qpki_db *qpki_db_ref(qpki_db *db);
QPKI_API void qpki_db_free(qpki_db **db);

/* Look up a serial (magnitude, big-endian; leading zero octets allowed).
 * out->struct_size must be set (qpki_db_entry_init).  QPKI_ERR_NOT_FOUND when the
 * serial is not in the table (also when it is longer than QPKI_SERIAL_MAX
 * octets); *out is then left initialised.  No allocation, O(1).  When caching an
 * answer, read qpki_db_generation before the lookup: the lookup then sees a table
 * at least that new, so the answer is never newer-labelled than its data. */
QPKI_API qpki_status qpki_db_lookup(qpki_db *db, const uint8_t *serial, size_t serial_len,
                                    qpki_db_entry *out);
/* 0 for NULL. */
QPKI_API uint64_t qpki_db_generation(qpki_db *db);
QPKI_API size_t qpki_db_count(qpki_db *db);
/* See qpki_status_db_ops.refresh.  The log callback, when set, receives a
 * message when a reload succeeds and when the source turns bad (once per distinct
 * failure, not on every call). */
QPKI_API qpki_status qpki_db_refresh(qpki_db *db);
/* Copy the message describing the current failure of the source, or "" when it
 * is fine, into buf (always NUL-terminated; "" for a NULL db), e.g.
 * "/srv/ca/index.txt:42: bad revocation date '2401151000Z'".  Safe from any
 * thread. */
QPKI_API void qpki_db_last_error(qpki_db *db, char *buf, size_t size);

/* The state of a backend that follows a remote source (see
 * qpki_status_db_ops.health): QPKI_OK with *out filled (as many bytes as
 * out->struct_size says); QPKI_ERR_UNSUPPORTED for a backend without one (an
 * index.txt file).  Safe from any thread. */
QPKI_API qpki_status qpki_db_get_health(qpki_db *db, qpki_db_health *out);

/* Which serials changed since generation `since` (see
 * qpki_status_db_ops.changes_since); QPKI_ERR_NOT_FOUND also when the backend
 * has no changes_since (a V1 backend): treat every row as changed.  fn must not
 * call back into db.  Safe from any thread. */
QPKI_API qpki_status qpki_db_changes_since(qpki_db *db, uint64_t since, uint64_t *upto,
                                           qpki_db_change_fn fn, void *user);

/* List the serials of db's rows, a part at a time (see
 * qpki_status_db_ops.list_serials): zero *cursor, then call until *done is 1.
 * fn receives each serial normalised (no leading zero octets, at most
 * QPKI_SERIAL_MAX octets).  The library's own backends (index.txt, CRLs, the
 * memory table) and the PostgreSQL plugin list their rows;
 * QPKI_ERR_UNSUPPORTED for a backend without list_serials (V1 to V3).  fn
 * must be quick and must not call back into db.  Safe from any thread, also
 * while the table changes. */
QPKI_API qpki_status qpki_db_list_serials(qpki_db *db, qpki_db_cursor *cursor, size_t max,
                                          qpki_db_change_fn fn, void *user, int *done);

/* ---- the writable in-memory table -------------------------------------------
 *
 * A status database held in memory and written by its owner.  The index.txt
 * backend keeps its rows in one; a backend that follows another source (a
 * PostgreSQL plugin, CRLs, an embedder's own store) fills one and may wrap it in
 * its own qpki_status_db_ops (delegating lookup, generation, count,
 * changes_since and list_serials to the qpki_db_* calls on it).
 *
 * Readers: qpki_db_lookup is O(1), allocates nothing, takes no lock (a
 * lookup announces itself in one of a few per-table counters, on a cache line
 * chosen by its thread), and runs concurrently with writes; it sees each row
 * either before or after a change, never half of it.  qpki_db_generation,
 * qpki_db_count, qpki_db_changes_since and qpki_db_list_serials are safe from
 * any thread at any time.  A listing goes through the index slots; when the
 * index is rebuilt meanwhile (it grew, or a replace was committed) it starts
 * over, so a row may be reported more than once.
 *
 * Writers: put, remove, replace_begin, commit and abort must be serialised by
 * the caller (one writer at a time), and must not run inside a changes_since
 * callback.  A put or remove outside replace_begin..commit is visible to
 * lookups at once, row by row; the generation and the changes_since report
 * move at commit, so a reader that caches by generation sees the change at the
 * latest when the generation moves.  A put that stores exactly the row already
 * there changes nothing.
 *
 * Memory: rows are packed (4 octets + the serial + 5 octets per time) in an
 * arena that never moves (reserved address space, filled on demand) and found
 * through an open-addressing hash index of 8 octets per slot at a load factor
 * of 3/8 to 3/4: about 40 octets per row with 16-octet serials.  A one-row
 * change writes one new record and one slot; the replaced record is reused
 * once no lookup can still be reading it.  Growing the index past 3/4 builds a
 * twice larger one beside it (amortised; the old one is freed at once after).
 * replace_begin..commit builds a whole second table beside the first, and
 * commit frees the first: a full reload needs both for its duration.
 *
 * changes_since: each commit records the serials it changed, in a bounded
 * history (the last 65,536 serials); a commit that changes more (a large
 * replace) trims the history, and changes_since for an older range returns
 * QPKI_ERR_NOT_FOUND. */

/* A new, empty table (generation 0).  name is used in messages. */
QPKI_API qpki_status qpki_db_memory_new(const char *name, qpki_db **out);
/* Insert or replace one row (serial as the magnitude; leading zero octets are
 * removed; at most QPKI_SERIAL_MAX octets after that).  The entry is what
 * qpki_db_lookup returns: row_status 'V', 'R' or 'E'; reason, hold_instruction,
 * revocation_time and invalidity_date only on 'R' rows (else
 * QPKI_ERR_INVALID_ARG); times within years 0000-9999.  entry->struct_size
 * must be set (qpki_db_entry_init).  QPKI_ERR_INVALID_ARG also when db is not a
 * memory table; QPKI_ERR_NOMEM / QPKI_ERR_TOO_LARGE leave the table as it was. */
QPKI_API qpki_status qpki_db_memory_put(qpki_db *db, const uint8_t *serial, size_t serial_len,
                                        const qpki_db_entry *entry);
/* Remove one row; QPKI_ERR_NOT_FOUND when it is not there. */
QPKI_API qpki_status qpki_db_memory_remove(qpki_db *db, const uint8_t *serial,
                                           size_t serial_len);
/* The rows put from here until commit form a whole new table that replaces
 * the current one at commit (a full reload); until then lookups see the old
 * table.  A second replace_begin restarts the new table empty. */
QPKI_API qpki_status qpki_db_memory_replace_begin(qpki_db *db);
/* Publish what was put or removed since the last commit as one new generation
 * (the generation moves only when some row really changed; after a replace,
 * commit compares the old and the new table to know which rows did);
 * *generation (may be NULL) receives the current generation. */
QPKI_API qpki_status qpki_db_memory_commit(qpki_db *db, uint64_t *generation);
/* Drop an unfinished replace_begin (puts and removes made outside a replace
 * are already visible and stay; the next commit publishes them). */
QPKI_API void qpki_db_memory_abort(qpki_db *db);

/* Log callback: status is QPKI_OK for informational messages. */
typedef void (*qpki_db_log_fn)(void *user, qpki_status status, const char *message);
/* Set (or clear with NULL) the callback.  It runs on the thread calling
 * qpki_db_refresh, inside it, and must not call qpki_db_refresh or
 * qpki_db_set_log on the same handle. */
QPKI_API void qpki_db_set_log(qpki_db *db, qpki_db_log_fn fn, void *user);

/* Parse serial-number text: hex digits in either case, optional "0x" prefix,
 * optional ':' between digits ("0a:1b"), any number of leading zeros.  Writes
 * the magnitude without leading zero octets (len 0 for zero).  QPKI_ERR_PARSE on
 * empty or bad text, QPKI_ERR_BUFFER_TOO_SMALL when the magnitude needs more
 * than cap octets. */
QPKI_API qpki_status qpki_serial_from_hex(const char *hex, uint8_t *out, size_t cap,
                                          size_t *len);

#ifdef __cplusplus
}
#endif
#endif
