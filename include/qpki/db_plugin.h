/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/db_plugin.h - status-database plugins loaded at run time (dlopen), e.g.
 * the PostgreSQL plugin qpki-db-pgsql.so (DESIGN §11, docs/DATABASE.md).
 *
 * A database plugin keeps its client library (libpq) out of libqpki-ocsp and
 * out of every program that embeds it: only a process that loads the plugin
 * maps it.  The plugin offers two things:
 *
 *  1. A source: a qpki_db (qpki/db.h) for one CA that a responder answers from.
 *     The plugin loads the CA's rows into memory and follows the database's
 *     changes in its own thread; lookups never touch the network.
 *  2. A store: the writing side the CA commands use (`qpki db init|import|
 *     export`, `qpki cert issue|revoke|list --db`), a vtable the caller calls
 *     directly (qpki_db_store_ops).
 *
 * Loader API (an application calls): qpki_db_plugin_load, then
 * qpki_db_plugin_open_source and/or qpki_db_plugin_open_store.  Plugin ABI (a
 * plugin implements): one exported function named QPKI_DB_PLUGIN_ENTRY that
 * returns a qpki_db_plugin descriptor; the loader checks its abi_version and
 * struct_size, then the abi_version and struct_size of every vtable the plugin
 * returns, before calling anything in it.  Structures only grow at the end; a
 * plugin reads a field of a parameter struct only when its struct_size covers
 * it.  The same loader (and QPKI_PLUGIN_DIR) serves the signer plugins
 * (qpki/plugin.h).
 *
 * A database plugin stays mapped until the process exits (client libraries
 * such as libpq and the TLS library under it do not support being unloaded).
 *
 * Errors: every function takes an optional (err, errlen) buffer that receives
 * one line of English naming the cause ("cannot connect to the status database
 * at 127.0.0.1:5432: connection refused"); it never holds a password.
 *
 * Thread safety: the loader functions may be called from several threads; a
 * source is a qpki_db (safe for concurrent lookups); a store belongs to one
 * thread at a time. */
#ifndef QPKI_DB_PLUGIN_H
#define QPKI_DB_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* File name of the PostgreSQL plugin inside the plugin directory
 * ($QPKI_PLUGIN_DIR, else the library's built-in plugin directory). */
#define QPKI_DB_PLUGIN_PGSQL_NAME "qpki-db-pgsql.so"
/* Length of a CA identifier: SHA-256 of the CA certificate's DER
 * SubjectPublicKeyInfo. */
#define QPKI_DB_CA_ID_LEN 32

/* The identifier of a CA in a status database: the SHA-256 of its
 * certificate's DER SubjectPublicKeyInfo (the key, not a path or a name: a CA
 * certificate renewed with the same key keeps its rows). */
QPKI_API qpki_status qpki_db_ca_id(const qpki_cert *ca, uint8_t id[QPKI_DB_CA_ID_LEN]);

/* ---- the store: what CA commands write and read ------------------------------- */

/* One certificate's row as a store reads or writes it.  All pointers are
 * borrowed for the duration of the call or callback. */
typedef struct qpki_db_row {
    uint32_t struct_size;           /* sizeof(qpki_db_row) of the side that filled it */
    const uint8_t *serial;          /* magnitude, big-endian, no leading zero octets */
    size_t serial_len;              /* 0..QPKI_SERIAL_MAX (0: serial number zero) */
    const qpki_db_entry *entry;     /* status, times, reason, hold instruction */
    const char *filename;           /* index.txt filename field; NULL when unknown */
    const char *subject;            /* index.txt subject field ("/CN=x"); NULL when unknown */
} qpki_db_row;

/* Called for each row; return 0 to continue, anything else to stop (the walk then
 * returns QPKI_OK). */
typedef int (*qpki_db_row_fn)(void *user, const qpki_db_row *row);

/* What an import did. */
typedef struct qpki_db_import_counts {
    uint64_t inserted;   /* rows the database did not have */
    uint64_t updated;    /* rows whose status, times or reason differed */
    uint64_t unchanged;  /* rows already exactly so (filename and subject aside) */
} qpki_db_import_counts;

#define QPKI_DB_STORE_ABI_V1 1u
#define QPKI_DB_STORE_ABI_V2 2u /* V2 appends next_crl_number */

/* The store vtable.  Each method that writes runs as one transaction: it
 * commits completely or changes nothing (import: from import_begin to
 * import_end).  Methods are only ever appended. */
typedef struct qpki_db_store_ops {
    uint32_t abi_version; /* QPKI_DB_STORE_ABI_V1 */
    uint32_t struct_size; /* sizeof(qpki_db_store_ops) as the plugin was built */
    /* Create the schema, or migrate it to the newest version this plugin
     * knows; nothing to do is success.  *before receives the version found (0:
     * none), *after the version now in place.  A schema newer than the plugin
     * knows: QPKI_ERR_UNSUPPORTED, nothing changed. */
    qpki_status (*init_schema)(void *self, uint32_t *before, uint32_t *after);
    /* Start an import for the CA ca_id (QPKI_DB_CA_ID_LEN octets); name and
     * certificate (DER, may be NULL/0) describe the CA in the database. */
    qpki_status (*import_begin)(void *self, const uint8_t *ca_id, size_t ca_id_len,
                                const char *name, const uint8_t *cert_der, size_t cert_len);
    /* One row of the import (QPKI_ERR_EXISTS: the serial came twice). */
    qpki_status (*import_row)(void *self, const qpki_db_row *row);
    /* commit true: apply the rows (insert new serials, update differing rows,
     * leave the rest) and commit, filling *counts; false: drop them. */
    qpki_status (*import_end)(void *self, bool commit, qpki_db_import_counts *counts);
    /* Add the row of a new certificate (issuance).  QPKI_ERR_EXISTS when the
     * serial is already recorded for that CA; nothing changed then. */
    qpki_status (*insert)(void *self, const uint8_t *ca_id, size_t ca_id_len,
                          const qpki_db_row *row);
    /* Revoke: the row of serial becomes R with the revocation time, reason, hold
     * instruction and invalidity date of *revocation (row_status is ignored).
     * QPKI_ERR_NOT_FOUND: no such serial; QPKI_ERR_EXISTS: already revoked;
     * nothing changed in both cases. */
    qpki_status (*revoke)(void *self, const uint8_t *ca_id, size_t ca_id_len,
                          const uint8_t *serial, size_t serial_len,
                          const qpki_db_entry *revocation);
    /* Every row of the CA in ascending serial order (one consistent snapshot). */
    qpki_status (*foreach)(void *self, const uint8_t *ca_id, size_t ca_id_len,
                           qpki_db_row_fn fn, void *user);
    /* Copy the message of the last failure ("" when none) into buf, always
     * NUL-terminated. */
    void (*last_error)(void *self, char *buf, size_t size);
    /* Disconnect and release self (an unfinished import is dropped). */
    void (*close)(void *self);
    /* V2; may be NULL.  Take the CA's next CRL number (RFC 5280 §5.2.3; what a
     * CA directory's crlnumber file holds): the value kept for ca_id (1 for a CA
     * that never had one) as a big-endian magnitude without leading zero octets
     * into number[0..*len), which the database replaces by value + 1 in the same
     * statement.  QPKI_ERR_NOT_FOUND: the CA is not registered (qpki db init
     * --ca-dir); QPKI_ERR_UNSUPPORTED: the schema predates CRL numbers (qpki db
     * init migrates it); QPKI_ERR_LIMIT: the next number would pass 20 octets
     * (nothing taken); QPKI_ERR_BUFFER_TOO_SMALL. */
    qpki_status (*next_crl_number)(void *self, const uint8_t *ca_id, size_t ca_id_len,
                                   uint8_t *number, size_t cap, size_t *len);
} qpki_db_store_ops;

/* ---- the source: what a responder answers from ---------------------------------- */

/* What to follow.  Pointers are borrowed for the duration of open. */
typedef struct qpki_db_source_params {
    uint32_t struct_size;       /* sizeof(qpki_db_source_params) of the caller */
    const char *url;            /* the plugin's connection string */
    const uint8_t *ca_id;       /* QPKI_DB_CA_ID_LEN octets */
    size_t ca_id_len;
    const char *ca_name;        /* label for messages; may be NULL */
    uint32_t poll_ms;           /* check for changes at least this often; 0: 1000 */
    uint32_t max_staleness_ms;  /* lookups fail with QPKI_ERR_STALE once the table
                                   has not been confirmed current for this long;
                                   0: never */
    qpki_db_log_fn log_fn;      /* messages of the following thread (connection
                                   lost / back, reloads); may be NULL; called from
                                   that thread */
    void *log_user;
    /* Called from the following thread right after changes were published
     * (the generation moved), so that caches outside the responder (an HTTP
     * answer cache) can drop what they hold at once; may be NULL.  Must be
     * quick and must not call back into the source. */
    void (*changed_fn)(void *user);
    void *changed_user;
} qpki_db_source_params;

/* ---- the plugin descriptor -------------------------------------------------------- */

/* Name of the one symbol a database plugin exports: a qpki_db_plugin_entry_fn. */
#define QPKI_DB_PLUGIN_ENTRY "qpki_db_plugin_v1"
#define QPKI_DB_PLUGIN_ABI_V1 1u

typedef struct qpki_db_plugin_desc {
    uint32_t abi_version;       /* QPKI_DB_PLUGIN_ABI_V1 */
    uint32_t struct_size;       /* sizeof(qpki_db_plugin_desc) as the plugin was built */
    const char *name;           /* "pgsql" */
    const char *version;        /* plugin version text */
    /* Check a connection string without connecting: QPKI_ERR_INVALID_ARG with a
     * message when it is malformed or carries a secret (a password). */
    qpki_status (*check_url)(const char *url, char *err, size_t errlen);
    /* Connect and load the CA's rows; on success *ops (static) and *self for
     * qpki_db_new, the table complete and followed.  On failure a message
     * naming the server and the cause, and nothing to release. */
    qpki_status (*open_source)(const qpki_db_source_params *params,
                               const qpki_status_db_ops **ops, void **self, char *err,
                               size_t errlen);
    /* Connect for writing; on success *ops (static) and *self, released with
     * (*ops)->close(*self). */
    qpki_status (*open_store)(const char *url, const qpki_db_store_ops **ops, void **self,
                              char *err, size_t errlen);
} qpki_db_plugin_desc;

/* Type of the entry symbol.  Returns NULL only if the plugin cannot work at all. */
typedef const qpki_db_plugin_desc *(*qpki_db_plugin_entry_fn)(void);

/* ---- loader API ---------------------------------------------------------------------- */

typedef struct qpki_db_plugin qpki_db_plugin;

/* Load a database plugin: plugin_path, or NULL for
 * $QPKI_PLUGIN_DIR/qpki-db-pgsql.so (the library's plugin directory when the
 * variable is unset).  QPKI_ERR_PLUGIN_LOAD (missing, not loadable),
 * QPKI_ERR_PLUGIN_SYMBOL (no entry symbol), QPKI_ERR_PLUGIN_ABI (built for a
 * newer ABI, truncated descriptor). */
QPKI_API qpki_status qpki_db_plugin_load(const char *plugin_path, qpki_db_plugin **out,
                                         char *err, size_t errlen);
/* Accepts NULL; sets *plugin = NULL.  Sources and stores opened through the
 * plugin stay valid (the plugin is never unmapped). */
QPKI_API void qpki_db_plugin_free(qpki_db_plugin **plugin);
/* The plugin's name ("pgsql"). */
QPKI_API const char *qpki_db_plugin_name(const qpki_db_plugin *plugin);

/* See qpki_db_plugin_desc.check_url. */
QPKI_API qpki_status qpki_db_plugin_check_url(const qpki_db_plugin *plugin, const char *url,
                                              char *err, size_t errlen);
/* Open a source and wrap it in a qpki_db (qpki_db_free releases it). */
QPKI_API qpki_status qpki_db_plugin_open_source(const qpki_db_plugin *plugin,
                                                const qpki_db_source_params *params,
                                                qpki_db **out, char *err, size_t errlen);
/* Open a store; the vtable is checked (QPKI_ERR_PLUGIN_ABI) before it is handed
 * out.  Release with (*ops)->close(*self). */
QPKI_API qpki_status qpki_db_plugin_open_store(const qpki_db_plugin *plugin, const char *url,
                                               const qpki_db_store_ops **ops, void **self,
                                               char *err, size_t errlen);

/* The index.txt line (without line break) of one row, as `openssl ca` writes it:
 * "status expiry revocation serial filename subject" separated by tabs, times
 * as the RFC 5280 §4.1.2.5 text, the serial in upper-case hex with an even
 * number of digits, the revocation field in OpenSSL's spelling (qpki/ca.h).
 * filename NULL writes "unknown", subject NULL writes "".  QPKI_ERR_INVALID_ARG
 * for a row the format cannot hold (a tab or line break in a text field, an
 * invalidity date without keyCompromise/cACompromise, a hold instruction
 * without certificateHold); QPKI_ERR_BUFFER_TOO_SMALL when size is short.
 * *len (may be NULL) receives the length written. */
QPKI_API qpki_status qpki_db_row_format_index(const qpki_db_row *row, char *buf, size_t size,
                                              size_t *len);

#ifdef __cplusplus
}
#endif
#endif
