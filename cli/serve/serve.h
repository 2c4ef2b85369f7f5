/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/serve.h - the pieces of `qpki ocsp serve` (cli/serve/serve.c, the command):
 *   config.c   options from the command line and the YAML file
 *   log.c      one line per event, logfmt or JSON
 *   state.c    the responder "generation": CAs, databases, signers; reload
 *              and credential watching
 *   http.c     libmicrohttpd: the OCSP listener and the admin listener
 *   metrics.c  counters and the Prometheus text
 *   pidfile.c  the PID file (shared with `ocsp stop`, cli/ocsp_stop.c)
 *   notify.c   systemd readiness (sd_notify datagrams, no libsystemd)
 *   crl.c      CAs answered from their CRLs: fetching, the refresher thread */
#ifndef QPKI_CLI_SERVE_H
#define QPKI_CLI_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <qpki/crl.h>
#include <qpki/db.h>
#include <qpki/http.h>
#include <qpki/responder.h>

#include "cli.h"

/* ---- configuration ------------------------------------------------------------ */

/* Unset values: NULL strings, -1 numbers.  serve_config_finish() fills the
 * defaults. */
struct serve_ca_config {
    char *dir;                   /* CA directory: ca.crt (or cacert.pem), index.txt */
    char *name;                  /* label in logs and metrics (default: basename of dir) */
    char *cert, *key, *credential, *cred_dir, *hsm_config, *key_label, *key_id;
    char *extra_credentials;     /* more keys for RFC 6960 §4.4.7 preferences: credential
                                    IDs, comma-separated (a repeated --credential) */
    char *passphrase_env, *passphrase_file;
    int64_t validity;            /* seconds */
    int64_t backdate;            /* seconds */
    int nonce_policy;            /* qpki_nonce_policy */
    int unknown_policy;          /* qpki_unknown_policy */
    int include_certs;           /* 0/1 */
    int responder_id;            /* qpki_responder_id_type */
    /* answering from CRLs (--crl) instead of index.txt */
    char *crl;                   /* complete CRL sources (files, http(s) URLs), '\n'-separated */
    char *delta_crl;             /* delta CRL sources, the same */
    char *issued;                /* issued-serials list (--issued) */
    int64_t crl_refresh;         /* seconds between fetches (default 300) */
    int64_t crl_grace;           /* seconds a CRL serves past nextUpdate (default 0) */
    int64_t crl_timeout;         /* seconds for one HTTP fetch (default 30) */
    long crl_max_size;           /* largest CRL fetched (default 256 MiB) */
    int crl_unknown;             /* --crl-unknown-as: 0 good (default), 1 unknown */
    /* publishing the CA's own CRL (--publish-crl) */
    char *publish_crl;           /* URL path ("/crl/ca.crl") */
    int64_t publish_crl_validity; /* nextUpdate - thisUpdate (default 7d) */
    int64_t crl_min_interval;    /* remade at most this often on changes (default 60s) */
    /* the status database: index.txt in dir, or a PostgreSQL database */
    char *db;                    /* libpq connection string (no password) or NULL */
    int64_t db_poll_ms;          /* poll for changes at least this often (default 1 s) */
    int64_t db_max_staleness_ms; /* tryLater past this (default: the validity) */
};

enum serve_log_format { SERVE_LOG_LOGFMT = 0, SERVE_LOG_JSON = 1 };

struct serve_config {
    char *addr;                  /* "host:port", ":port", "[v6]:port" */
    long port;
    char *pid_file;
    char *admin_addr;
    long threads;
    long max_body;
    long max_url;
    long timeout;                /* seconds, per connection (idle) */
    long max_connections;
    long max_connections_per_ip; /* 0: no cap */
    long max_live_signing;
    long cache_size;
    long max_certids;
    int log_format;
    int quiet;
    long drain_timeout;          /* seconds to finish in-flight requests on SIGTERM */
    int presign;                 /* 0/1: --presign */
    int presign_hash;            /* CertID hash forms pre-signed: bits 1 << qpki_hash_alg */
    /* defaults for every CA (the CA's own value wins) */
    struct serve_ca_config defaults;
    struct serve_ca_config *cas;
    size_t n_cas;
};

void serve_config_init(struct serve_config *c);
void serve_config_free(struct serve_config *c);
/* Parse `qpki ocsp serve` arguments into c (unset fields stay unset).  *config_path
 * receives --config (borrowed from argv).  Returns CLI_OK, CLI_USAGE (message
 * printed) or -1 for --help (text printed). */
int serve_config_from_args(int argc, char **argv, struct serve_config *c,
                           const char **config_path);
/* Read the YAML configuration file into c.  Prints the error (file:line). */
bool serve_config_load_yaml(const char *path, struct serve_config *c);
/* out = base with every set field of over on top; a CA list in over replaces
 * the one in base. */
bool serve_config_merge(const struct serve_config *base, const struct serve_config *over,
                        struct serve_config *out);
/* Defaults, per-CA inheritance and checks (prints the error). */
bool serve_config_finish(struct serve_config *c);
/* The port of the listen address (for the default PID file). */
long serve_config_port(const struct serve_config *c);

/* ---- logging ------------------------------------------------------------------- */

void serve_log_setup(int format, bool quiet);
bool serve_log_quiet(void);
/* One event: level ("info", "warn", "error"), message, then key/value string
 * pairs ending with NULL. */
void serve_log(const char *level, const char *msg, ...) __attribute__((sentinel));

struct serve_request_log {
    const char *method;
    unsigned code;
    const char *remote;
    const char *ca;              /* NULL when unknown */
    const qpki_answer *answer;   /* NULL for HTTP-level refusals */
    uint64_t us;
    bool reused;                 /* served from the HTTP answer cache */
};
void serve_log_request(const struct serve_request_log *r);
/* Library log callback (qpki_responder_set_log). */
void serve_log_library(void *user, int level, const char *message);

/* ---- metrics ------------------------------------------------------------------- */

/* reused: the encoded HTTP answer of an identical request in the same second
 * was sent again (a cache hit, no signature). */
void serve_metrics_request(unsigned http_code, const qpki_answer *answer, uint64_t us,
                           bool reused);
void serve_metrics_reload(bool ok);
void serve_metrics_db_refresh_failure(void);
void serve_metrics_key_reload(bool ok);
/* One pass of the key-watching thread over every CA's files is complete. */
void serve_metrics_key_watch_pass(void);
void serve_metrics_connection(int delta);
void serve_metrics_start(void);
/* The Prometheus text for the current state (malloc'd). */
char *serve_metrics_render(void);

/* ---- responder generations ------------------------------------------------------ */

/* additional credentials per CA (a repeated --credential / extra_credentials) */
#define SERVE_EXTRA_KEYS_MAX 7
#define SERVE_WATCH_MAX (3 * (1 + SERVE_EXTRA_KEYS_MAX))

struct file_id {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns, ctime_ns;
};

/* The identity of a file (exists = false when it does not); equal identities:
 * the same contents for a writer that replaces files by rename. */
void serve_file_id(const char *path, struct file_id *id);
bool serve_file_ids_equal(const struct file_id *a, const struct file_id *b, size_t n);

struct serve_crl;
struct serve_pub;

struct serve_issuer {
    char *name;
    qpki_cert *ca;
    qpki_db *db;
    struct serve_crl *crl;       /* answered from CRLs (--crl), else NULL */
    struct serve_pub *pub;       /* its CRL published (--publish-crl), else NULL */
    qpki_responder_issuer *iss;
    qpki_cert *responder_cert;   /* current delegated certificate (NULL: CA-signed) */
    /* watched signer files: certificate, key, credential.meta.json of the default
     * key (credential or --cert/--key), then the same three for each additional
     * credential (RFC 6960 §4.4.7 preference keys) */
    bool watch;
    size_t n_watch;
    char watch_path[SERVE_WATCH_MAX][4096];
    struct file_id loaded[SERVE_WATCH_MAX];  /* identities at the last load attempt */
    struct file_id pending[SERVE_WATCH_MAX]; /* a change seen once, applied when stable */
    bool has_pending;
    /* a QPKI credential: its active version (credential.meta.json "active") as
     * read before the last load attempt, "" when it has no metadata */
    char active[16];
};

struct serve_gen {
    struct serve_config conf;
    qpki_responder *r;
    qpki_http *http;
    size_t n;
    struct serve_issuer *issuers;
    /* the CRL refresher thread (crl.c), when some CA has --crl */
    pthread_t crl_thread;
    bool crl_running;
    atomic_bool crl_stop;
    pthread_mutex_t crl_wait;
    pthread_cond_t crl_wake;
    /* the pre-signing thread (presign.c), with --presign */
    pthread_t presign_thread;
    bool presign_running;
    atomic_bool presign_stop;
    pthread_mutex_t presign_wait;
    pthread_cond_t presign_wake;
    /* the thread that watches the responder key and certificate files (state.c):
     * a key switch never waits for the main thread's index.txt reloads */
    pthread_t keys_thread;
    bool keys_running;
    atomic_bool keys_stop;
    pthread_mutex_t keys_wait;
    pthread_cond_t keys_wake;
};

/* Build a generation from a finished configuration (the configuration is moved
 * into the generation).  Prints/logs the error. */
bool serve_gen_build(struct serve_config *conf, struct serve_gen **out);
void serve_gen_free(struct serve_gen **g);
/* Periodic work on the current generation (main thread, every 500 ms): refresh
 * the status databases.  Changed credential files are applied by the
 * generation's own key-watching thread, every SERVE_KEY_WATCH_MS. */
void serve_gen_maintain(struct serve_gen *g);
#define SERVE_KEY_WATCH_MS 250

/* The status databases that follow a remote source (--db), for /healthz:
 * SERVE_DB_OK; SERVE_DB_DEGRADED when one has lost its connection but its table
 * is still within --db-max-staleness (answers stay normal); SERVE_DB_STALE when
 * one is past it (that CA answers tryLater).  buf receives one line per CA that
 * is not OK ("ca=NAME database unreachable for 12.3s (max 3600s): <cause>"). */
enum serve_db_state { SERVE_DB_OK, SERVE_DB_DEGRADED, SERVE_DB_STALE };
enum serve_db_state serve_gen_db_state(struct serve_gen *g, char *buf, size_t size);

/* Moves whenever an answer may change: a status database reloaded, a key
 * switched, a SIGHUP swap.  The HTTP answer cache keeps entries of the current
 * epoch only. */
extern atomic_uint_fast64_t serve_epoch;

/* The running server. */
struct serve_server {
    pthread_rwlock_t lock;       /* readers: requests; writer: swapping gen */
    struct serve_gen *gen;
    atomic_bool draining;
    atomic_long in_flight;
};
extern struct serve_server serve_srv;

/* ---- pre-signed responses (presign.c) ---------------------------------------------- */

/* With --presign: turn pre-signing on in g's responder and start the thread
 * that does it (nothing otherwise, or when the cache is off). */
bool serve_presign_start(struct serve_gen *g);
void serve_presign_stop(struct serve_gen *g);

/* ---- CAs answered from CRLs (crl.c) ------------------------------------------------- */

/* The CRL database of a CA with --crl: its sources declared, the issued list
 * loaded, every source fetched and offered once (any failure is printed and
 * fails).  *db receives a reference for the responder. */
bool serve_crl_open(const struct serve_ca_config *ca, const qpki_cert *cert,
                    struct serve_crl **out, qpki_db **db);
void serve_crl_close(struct serve_crl **c);
/* The refresher thread of a generation (nothing when no CA has --crl). */
bool serve_crl_start(struct serve_gen *g);
void serve_crl_stop(struct serve_gen *g);

struct serve_crl_stats {
    const char *where;           /* the source */
    bool delta;
    qpki_db_crl_info info;       /* what the database holds from it */
    uint64_t fetches, fetch_failures, not_modified;
    int64_t last_success;        /* Unix time of the last fetch that worked; 0: none */
    char last_error[256];        /* the last fetch failure or refusal; "" after a success */
};
size_t serve_crl_source_count(const struct serve_crl *c);
void serve_crl_source_stats(struct serve_crl *c, size_t index, struct serve_crl_stats *out);
/* The CA answers tryLater now (no CRL yet, or one past nextUpdate + grace). */
bool serve_crl_stale(struct serve_crl *c);
/* The /healthz lines of every CRL of g ("crl ca=... source=... state=ok|stale|none
 * number=... this_update=... next_update=... age=...s entries=..."), malloc'd;
 * NULL when no CA answers from CRLs.  *stale is set when one of them is stale. */
char *serve_crl_health(struct serve_gen *g, bool *stale);

/* Publishing (--publish-crl): the CA's CRL, made now (a failure is printed and
 * fails), then remade by the refresher thread. */
bool serve_pub_open(const struct serve_ca_config *ca, const qpki_cert *cert, qpki_db *db,
                    struct serve_pub **out);
void serve_pub_close(struct serve_pub **p);
/* A published CRL, shared by the requests sending it. */
struct serve_blob {
    atomic_int refs;
    uint8_t *der;
    size_t len;
    qpki_time this_update, next_update;
    char number[2 * QPKI_CRL_NUMBER_MAX + 1];
    char etag[64];
    char last_modified[40], expires[40]; /* IMF-fixdate */
};
/* The CRL published at path in g (a reference: serve_blob_release), or NULL. */
struct serve_blob *serve_pub_find(struct serve_gen *g, const char *path);
void serve_blob_release(struct serve_blob *b);

/* ---- HTTP listeners ----------------------------------------------------------------- */

struct serve_listener;
/* Bind and start the OCSP listener (or, admin = true, the admin listener). */
bool serve_http_start(const struct serve_config *c, bool admin, struct serve_listener **out);
/* The body limit the listener enforces while reading (updated on SIGHUP). */
void serve_http_set_max_body(size_t bytes);
/* The address actually bound ("127.0.0.1:8080"). */
const char *serve_http_address(const struct serve_listener *l);
/* Periodic work (from the main loop): logs how many libmicrohttpd messages the
 * rate limit held back. */
void serve_http_tick(void);
/* Stop accepting; wait up to drain_seconds for requests in flight; stop. */
void serve_http_stop(struct serve_listener **l, long drain_seconds);

/* ---- systemd readiness (notify.c) --------------------------------------------------- */

/* Send state ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET (sd_notify(3) protocol,
 * no libsystemd); nothing when the variable is unset.  Failures are logged once
 * and otherwise ignored. */
void serve_notify(const char *state);
/* "RELOADING=1" with MONOTONIC_USEC, before a SIGHUP reload. */
void serve_notify_reloading(void);

/* ---- PID file ------------------------------------------------------------------------- */

/* "/tmp/qpki-ocsp-<port>.pid" */
void serve_default_pid_file(long port, char *buf, size_t size);
/* Create path exclusively with our PID.  A file naming a dead process is
 * replaced; one naming a live process is an error (printed). */
bool serve_pidfile_create(const char *path);
/* Remove path if it still names this process. */
void serve_pidfile_remove(const char *path);
/* Read the PID in path: 1 ok, 0 missing file, -1 unreadable/garbage (printed). */
int serve_pidfile_read(const char *path, pid_t *pid);

#endif
