/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/state.c - a "generation" of the server: one qpki_responder with its
 * CAs, status databases, signers and HTTP limits, built from a configuration.
 *
 * SIGHUP builds a new generation and swaps it in (cli/serve/serve.c); the
 * maintenance tick of the current one refreshes the status databases (index.txt
 * changes), and its key-watching thread switches an issuer's key and certificate
 * when their files change (`qpki credential activate`), through
 * qpki_responder_issuer_replace_key, which is atomic for requests in flight. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qpki/cert.h>
#include <qpki/db_plugin.h>

#include "cred.h"
#include "serve.h"

struct serve_server serve_srv = {
    .lock = PTHREAD_RWLOCK_INITIALIZER,
};
atomic_uint_fast64_t serve_epoch;

static bool first_existing(char *buf, size_t size, const char *dir, const char *const *names,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, size, "%s/%s", dir, names[i]);
        if (access(buf, F_OK) == 0)
            return true;
    }
    return false;
}

static void db_log(void *user, qpki_status status, const char *message)
{
    const char *ca = user;
    if (status != QPKI_OK) {
        serve_metrics_db_refresh_failure();
        serve_log("error", message, "ca", ca, "action", "previous table kept",
                  (const char *)NULL);
    } else {
        serve_log("info", message, "ca", ca, (const char *)NULL);
    }
}

void serve_file_id(const char *path, struct file_id *id)
{
    memset(id, 0, sizeof(*id));
    struct stat st;
    if (!path[0] || stat(path, &st) != 0)
        return;
    id->exists = true;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    id->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

bool serve_file_ids_equal(const struct file_id *a, const struct file_id *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].exists != b[i].exists || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
            a[i].size != b[i].size || a[i].mtime_ns != b[i].mtime_ns ||
            a[i].ctime_ns != b[i].ctime_ns)
            return false;
    }
    return true;
}

static struct cli_signer_opts signer_opts(const struct serve_ca_config *ca)
{
    struct cli_signer_opts o = {ca->cert, ca->key, ca->credential, ca->cred_dir,
                                ca->hsm_config, ca->key_label, ca->key_id,
                                ca->passphrase_env, ca->passphrase_file};
    return o;
}

static bool has_signer(const struct serve_ca_config *ca)
{
    return ca->cert || ca->key || ca->credential || ca->hsm_config;
}

/* The ids of the additional credentials, split in place (at most
 * SERVE_EXTRA_KEYS_MAX; checked when the CA is loaded). */
static size_t extra_ids(char *list, char **ids)
{
    size_t n = 0;
    char *save = NULL;
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save))
        if (n < SERVE_EXTRA_KEYS_MAX + 1)
            ids[n++] = id;
    return n;
}

/* The files whose change means "load the keys and certificates again": those of
 * the default key, then those of every additional credential.  snap: the
 * identities seen before the files were read (reload_key), recorded as loaded
 * for every path that did not move, so that a change made while they were being
 * read -- `credential activate` during the load -- is still a change at the next
 * pass; NULL: look at the files now. */
static void watch_setup(const struct serve_ca_config *ca, struct serve_issuer *is,
                        const struct file_id *snap)
{
    char(*before)[4096] = snap ? malloc(sizeof(is->watch_path)) : NULL;
    size_t n_before = is->n_watch;
    if (before)
        memcpy(before, is->watch_path, sizeof(is->watch_path));
    memset(is->watch_path, 0, sizeof(is->watch_path));
    is->watch = false;
    is->n_watch = 3;
    if (ca->credential) {
        if (cli_credential_paths(ca->cred_dir, ca->credential, is->watch_path[0],
                                 sizeof(is->watch_path[0]), is->watch_path[1],
                                 sizeof(is->watch_path[1]))) {
            snprintf(is->watch_path[2], sizeof(is->watch_path[2]),
                     "%s/%s/credential.meta.json", ca->cred_dir, ca->credential);
            is->watch = true;
        }
    } else if (ca->cert) {
        snprintf(is->watch_path[0], sizeof(is->watch_path[0]), "%s", ca->cert);
        if (ca->key)
            snprintf(is->watch_path[1], sizeof(is->watch_path[1]), "%s", ca->key);
        is->watch = true;
    }
    char *list = ca->extra_credentials ? strdup(ca->extra_credentials) : NULL;
    char *ids[SERVE_EXTRA_KEYS_MAX + 1];
    size_t n = list ? extra_ids(list, ids) : 0;
    for (size_t i = 0; i < n && i < SERVE_EXTRA_KEYS_MAX; i++) {
        char(*p)[4096] = &is->watch_path[3 * (i + 1)];
        /* the meta file always: when the credential is unreadable now, its
         * change still notices the repair */
        snprintf(p[2], sizeof(p[2]), "%s/%s/credential.meta.json", ca->cred_dir, ids[i]);
        if (!cli_credential_paths(ca->cred_dir, ids[i], p[0], sizeof(p[0]), p[1], sizeof(p[1])))
            p[0][0] = p[1][0] = '\0';
        is->watch = true;
    }
    is->n_watch = 3 * (1 + (n < SERVE_EXTRA_KEYS_MAX ? n : SERVE_EXTRA_KEYS_MAX));
    free(list);
    for (size_t i = 0; i < is->n_watch; i++) {
        if (before && i < n_before && strcmp(before[i], is->watch_path[i]) == 0)
            is->loaded[i] = snap[i];
        else
            serve_file_id(is->watch_path[i], &is->loaded[i]);
    }
    free(before);
    is->has_pending = false;
}

/* A QPKI credential's active version, from its credential.meta.json (which
 * `credential activate` writes last, after the links have been switched): false
 * when it is not one (--cert/--key, or hand-made <id>.crt/<id>.key without
 * metadata) or the file cannot be read. */
static bool credential_active(const struct serve_ca_config *ca, char *out, size_t size)
{
    char meta[PATH_MAX];
    out[0] = '\0';
    if (!ca->credential || !cred_valid_id(ca->credential) ||
        snprintf(meta, sizeof(meta), "%s/%s/%s", ca->cred_dir, ca->credential, CRED_META_FILE) >=
            (int)sizeof(meta) ||
        access(meta, F_OK) != 0)
        return false;
    struct credential c;
    if (!cred_load(ca->cred_dir, ca->credential, &c))
        return false;
    snprintf(out, size, "%s", c.active);
    cred_free(&c);
    return true;
}

static void cert_label(const qpki_cert *cert, char *subject, size_t ssize, char *serial,
                       size_t nsize)
{
    subject[0] = serial[0] = '\0';
    if (!cert)
        return;
    (void)qpki_cert_subject_text(cert, subject, ssize);
    const uint8_t *s;
    size_t len;
    qpki_cert_serial(cert, &s, &len);
    size_t o = 0;
    for (size_t i = 0; i < len && o + 3 <= nsize; i++)
        o += (size_t)snprintf(serial + o, nsize - o, "%02X", s[i]);
}

/* RFC 6960 §4.4.7 Preferred Signature Algorithms: the CA's further keys (a
 * repeated --credential), added after the default one; a request that lists one
 * of their algorithms gets a response signed with it.  Loaded in full before
 * anything changes, so a broken credential keeps the keys in service. */
struct extra_keys {
    size_t n;
    qpki_signer *signer[SERVE_EXTRA_KEYS_MAX];
    qpki_cert *cert[SERVE_EXTRA_KEYS_MAX];
};

static void extra_keys_free(struct extra_keys *x)
{
    for (size_t i = 0; i < x->n; i++) {
        qpki_signer_free(&x->signer[i]);
        qpki_cert_free(&x->cert[i]);
    }
    x->n = 0;
}

static bool extra_keys_load(const struct serve_ca_config *ca, const struct serve_issuer *is,
                            struct extra_keys *x)
{
    memset(x, 0, sizeof(*x));
    if (!ca->extra_credentials)
        return true;
    char *list = strdup(ca->extra_credentials);
    if (!list) {
        cli_error("out of memory");
        return false;
    }
    char *ids[SERVE_EXTRA_KEYS_MAX + 1];
    size_t n = extra_ids(list, ids);
    bool ok = n <= SERVE_EXTRA_KEYS_MAX;
    if (!ok)
        cli_error("CA %s: at most %d additional credentials", ca->dir, SERVE_EXTRA_KEYS_MAX);
    for (size_t i = 0; ok && i < n; i++) {
        struct cli_signer_opts o = {NULL, NULL, ids[i], ca->cred_dir, NULL, NULL, NULL,
                                    ca->passphrase_env, ca->passphrase_file};
        ok = cli_load_responder(&o, is->ca, &x->cert[i], &x->signer[i]) == CLI_OK;
        x->n = i + 1;
    }
    free(list);
    if (!ok)
        extra_keys_free(x);
    return ok;
}

static qpki_status extra_keys_add(struct serve_issuer *is, const struct extra_keys *x)
{
    qpki_status st = QPKI_OK;
    for (size_t i = 0; st == QPKI_OK && i < x->n; i++)
        st = qpki_responder_issuer_add_key(is->iss, x->signer[i], x->cert[i]);
    return st;
}

/* Messages of a database source's following thread (connection lost and back,
 * reloads); it runs on that thread (serve_log is safe from any thread). */
static void db_follow_log(void *user, qpki_status status, const char *message)
{
    serve_log(status == QPKI_OK ? "info" : "warn", message, "ca", (const char *)user,
              (const char *)NULL);
}

/* A database source published changes: the per-thread HTTP answer cache
 * (cli/serve/http.c) must not answer from before them, not even for the rest
 * of the second (the responder's own cache follows the generation by itself). */
static void db_changed(void *user)
{
    (void)user;
    atomic_fetch_add(&serve_epoch, 1);
}

/* --db: the CA's rows from PostgreSQL, loaded now and followed (DESIGN §11).
 * An unreachable database, a wrong role or a schema this qpki does not know
 * fail the start (exit 2) with the server and the cause. */
static bool open_db_source(const struct serve_ca_config *ca, struct serve_issuer *is)
{
    uint8_t id[QPKI_DB_CA_ID_LEN];
    qpki_status st = qpki_db_ca_id(is->ca, id);
    if (st != QPKI_OK) {
        cli_error_st(st, "CA %s: cannot compute its identifier", ca->dir);
        return false;
    }
    char err[1024] = "";
    qpki_db_plugin *plugin = NULL;
    st = qpki_db_plugin_load(NULL, &plugin, err, sizeof(err));
    if (st != QPKI_OK) {
        cli_error("CA %s: cannot load the database plugin: %s", ca->dir,
                  err[0] ? err : qpki_strerror(st));
        return false;
    }
    qpki_db_source_params p = {
        .struct_size = (uint32_t)sizeof(p),
        .url = ca->db,
        .ca_id = id,
        .ca_id_len = sizeof(id),
        .ca_name = is->name,
        .poll_ms = (uint32_t)ca->db_poll_ms,
        .max_staleness_ms = (uint32_t)(ca->db_max_staleness_ms > UINT32_MAX
                                           ? UINT32_MAX
                                           : ca->db_max_staleness_ms),
        .log_fn = db_follow_log,
        .log_user = is->name,
        .changed_fn = db_changed,
        .changed_user = NULL,
    };
    st = qpki_db_plugin_check_url(plugin, ca->db, err, sizeof(err));
    if (st == QPKI_OK)
        st = qpki_db_plugin_open_source(plugin, &p, &is->db, err, sizeof(err));
    qpki_db_plugin_free(&plugin); /* the source keeps the plugin's code mapped */
    if (st != QPKI_OK) {
        cli_error("CA %s: --db: %s", ca->dir, err[0] ? err : qpki_strerror(st));
        return false;
    }
    return true;
}

static bool load_issuer(struct serve_gen *g, size_t index)
{
    const struct serve_ca_config *ca = &g->conf.cas[index];
    struct serve_issuer *is = &g->issuers[index];
    char path[PATH_MAX];
    qpki_signer *signer = NULL, *alt = NULL;
    qpki_cert *rcert = NULL;
    bool ok = false;

    is->name = strdup(ca->name);
    if (!is->name) {
        cli_error("out of memory");
        return false;
    }
    static const char *const cert_names[] = {"ca.crt", "cacert.pem"};
    if (!first_existing(path, sizeof(path), ca->dir, cert_names, 2)) {
        cli_error("CA directory %s has no ca.crt (or cacert.pem)", ca->dir);
        goto out;
    }
    if (!cli_load_cert(path, "CA certificate", &is->ca))
        goto out;
    qpki_status st;
    if (ca->crl) {
        /* the CA's status from its CRLs (crl.c), not from index.txt */
        if (!serve_crl_open(ca, is->ca, &is->crl, &is->db))
            goto out;
    } else if (ca->db) {
        /* from PostgreSQL, shared by several nodes */
        if (!open_db_source(ca, is))
            goto out;
    } else {
        snprintf(path, sizeof(path), "%s/index.txt", ca->dir);
        char err[512] = "";
        st = qpki_db_open_index_err(path, err, sizeof(err), &is->db);
        if (st != QPKI_OK) {
            cli_error("cannot load the status database %s: %s", path,
                      err[0] ? err : qpki_strerror(st));
            goto out;
        }
        qpki_db_set_log(is->db, db_log, is->name);
        if (ca->publish_crl && !serve_pub_open(ca, is->ca, is->db, &is->pub))
            goto out;
    }

    char active[sizeof(is->active)] = "";
    (void)credential_active(ca, active, sizeof(active));
    if (has_signer(ca)) {
        struct cli_signer_opts o = signer_opts(ca);
        /* a Catalyst credential brings its ML-DSA key (<id>.alt.key) */
        if (cli_load_responder_alt(&o, NULL, is->ca, &rcert, &signer, &alt) != CLI_OK)
            goto out;
    } else {
        static const char *const key_names[] = {"ca.key", "private/cakey.pem"};
        if (!first_existing(path, sizeof(path), ca->dir, key_names, 2)) {
            cli_error("CA %s: no responder given (--credential, --cert/--key) and no CA key "
                      "(ca.key or private/cakey.pem) to sign with",
                      ca->dir);
            goto out;
        }
        if (!cli_load_key_signer(path, ca->passphrase_env, ca->passphrase_file, &signer))
            goto out;
        /* A Catalyst CA (docs/CATALYST.md) signs its own responses with both of
         * its keys: ca.alt.key beside ca.key, checked against the CA
         * certificate's altSubjectPublicKeyInfo below. */
        char alt_path[PATH_MAX];
        if (cli_path(alt_path, sizeof(alt_path), "%s/ca.alt.key", ca->dir) &&
            access(alt_path, F_OK) == 0 &&
            !cli_load_key_signer(alt_path, ca->passphrase_env, ca->passphrase_file, &alt))
            goto out;
    }
    st = qpki_responder_add_issuer(g->r, is->ca, is->db, signer, rcert, &is->iss);
    if (st == QPKI_ERR_KEY_MISMATCH) {
        cli_error("CA %s: the signing key does not belong to %s", ca->dir,
                  rcert ? "the responder certificate" : "the CA certificate");
        goto out;
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "CA %s: cannot add the issuer", ca->dir);
        goto out;
    }
    /* Catalyst (docs/CATALYST.md): responses also carry the ML-DSA signature */
    if (alt && (st = qpki_responder_issuer_replace_key_hybrid(is->iss, signer, alt, rcert)) !=
                   QPKI_OK) {
        cli_error_st(st, "CA %s: cannot add the Catalyst alternative key", ca->dir);
        goto out;
    }
    struct extra_keys extra;
    if (!extra_keys_load(ca, is, &extra))
        goto out;
    st = extra_keys_add(is, &extra);
    extra_keys_free(&extra);
    if (st != QPKI_OK) {
        cli_error_st(st, "CA %s: cannot add the keys of the additional credentials", ca->dir);
        goto out;
    }
    if ((st = qpki_responder_issuer_set_validity(is->iss, ca->validity)) != QPKI_OK ||
        (st = qpki_responder_issuer_set_backdate(is->iss, ca->backdate)) != QPKI_OK ||
        (st = qpki_responder_issuer_set_nonce_policy(is->iss, (qpki_nonce_policy)ca->nonce_policy)) !=
            QPKI_OK ||
        (st = qpki_responder_issuer_set_unknown_policy(
             is->iss, (qpki_unknown_policy)ca->unknown_policy)) != QPKI_OK ||
        (st = qpki_responder_issuer_set_include_certs(is->iss, ca->include_certs != 0)) !=
            QPKI_OK ||
        (st = qpki_responder_issuer_set_responder_id(
             is->iss, (qpki_responder_id_type)ca->responder_id)) != QPKI_OK) {
        cli_error_st(st, "CA %s: bad responder setting", ca->dir);
        goto out;
    }
    is->responder_cert = rcert;
    rcert = NULL;
    watch_setup(ca, is, NULL);
    snprintf(is->active, sizeof(is->active), "%s", active);
    /* activated while loading: the next pass of the key watcher loads it */
    if (credential_active(ca, active, sizeof(active)) && strcmp(active, is->active) != 0)
        memset(is->loaded, 0, sizeof(is->loaded));
    ok = true;
out:
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    qpki_cert_free(&rcert);
    return ok;
}

static bool keys_start(struct serve_gen *g);
static void keys_stop(struct serve_gen *g);

bool serve_gen_build(struct serve_config *conf, struct serve_gen **out)
{
    *out = NULL;
    struct serve_gen *g = calloc(1, sizeof(*g));
    if (!g) {
        cli_error("out of memory");
        return false;
    }
    g->conf = *conf;
    serve_config_init(conf); /* moved */
    pthread_mutex_init(&g->crl_wait, NULL);
    pthread_cond_init(&g->crl_wake, NULL);
    pthread_mutex_init(&g->presign_wait, NULL);
    pthread_cond_init(&g->presign_wake, NULL);
    pthread_mutex_init(&g->keys_wait, NULL);
    pthread_cond_init(&g->keys_wake, NULL);
    qpki_status st;
    if ((st = qpki_responder_new(&g->r)) != QPKI_OK || (st = qpki_http_new(&g->http)) != QPKI_OK) {
        cli_error_st(st, "cannot create the responder");
        goto fail;
    }
    qpki_limits limits;
    qpki_limits_init(&limits);
    limits.max_certids = (uint32_t)g->conf.max_certids;
    limits.max_request_size = (size_t)g->conf.max_body;
    if ((st = qpki_responder_set_limits(g->r, &limits)) != QPKI_OK ||
        (st = qpki_responder_set_log(g->r, serve_log_library, NULL)) != QPKI_OK ||
        (st = qpki_responder_set_max_live_signing(g->r, (unsigned)g->conf.max_live_signing)) !=
            QPKI_OK ||
        (st = qpki_responder_set_cache(g->r, g->conf.cache_size > 0,
                                       (size_t)(g->conf.cache_size > 0 ? g->conf.cache_size
                                                                       : 1))) != QPKI_OK ||
        (st = qpki_http_set_max_body(g->http, (size_t)g->conf.max_body)) != QPKI_OK ||
        (st = qpki_http_set_max_target(g->http, (size_t)g->conf.max_url)) != QPKI_OK) {
        cli_error_st(st, "bad responder limits");
        goto fail;
    }
    g->issuers = calloc(g->conf.n_cas, sizeof(*g->issuers));
    if (!g->issuers) {
        cli_error("out of memory");
        goto fail;
    }
    g->n = g->conf.n_cas;
    for (size_t i = 0; i < g->n; i++)
        if (!load_issuer(g, i))
            goto fail;
    if (!serve_crl_start(g) || !serve_presign_start(g) || !keys_start(g))
        goto fail;
    *out = g;
    return true;
fail:
    serve_gen_free(&g);
    return false;
}

void serve_gen_free(struct serve_gen **gp)
{
    struct serve_gen *g = gp ? *gp : NULL;
    if (!g)
        return;
    keys_stop(g);
    serve_crl_stop(g);
    serve_presign_stop(g);
    /* the responder first: it borrows the databases */
    qpki_responder_free(&g->r);
    qpki_http_free(&g->http);
    for (size_t i = 0; g->issuers && i < g->n; i++) {
        struct serve_issuer *is = &g->issuers[i];
        qpki_db_free(&is->db);
        serve_crl_close(&is->crl);
        serve_pub_close(&is->pub);
        qpki_cert_free(&is->ca);
        qpki_cert_free(&is->responder_cert);
        free(is->name);
    }
    free(g->issuers);
    serve_config_free(&g->conf);
    pthread_mutex_destroy(&g->crl_wait);
    pthread_cond_destroy(&g->crl_wake);
    pthread_mutex_destroy(&g->presign_wait);
    pthread_cond_destroy(&g->presign_wake);
    pthread_mutex_destroy(&g->keys_wait);
    pthread_cond_destroy(&g->keys_wake);
    free(g);
    *gp = NULL;
}

/* The watched files changed (now: their identities, seen before anything is
 * read): load the key and certificate, and switch when they are new. */
static void reload_key(struct serve_gen *g, size_t index, const struct file_id *now)
{
    const struct serve_ca_config *ca = &g->conf.cas[index];
    struct serve_issuer *is = &g->issuers[index];
    bool extras_changed = !serve_file_ids_equal(now + 3, is->loaded + 3, is->n_watch - 3);
    /* the version read before the files: a later activation is a later change */
    char active[sizeof(is->active)];
    (void)credential_active(ca, active, sizeof(active));
    memcpy(is->loaded, now, sizeof(is->loaded[0]) * is->n_watch);
    struct cli_signer_opts o = signer_opts(ca);
    qpki_cert *cert = NULL;
    qpki_signer *signer = NULL, *alt = NULL;
    struct extra_keys extra = {0};
    if (cli_load_responder_alt(&o, NULL, is->ca, &cert, &signer, &alt) != CLI_OK ||
        !extra_keys_load(ca, is, &extra)) {
        qpki_cert_free(&cert);
        qpki_signer_free(&signer);
        qpki_signer_free(&alt);
        struct file_id after[SERVE_WATCH_MAX];
        for (size_t k = 0; k < is->n_watch; k++)
            serve_file_id(is->watch_path[k], &after[k]);
        if (!serve_file_ids_equal(after, now, is->n_watch)) {
            /* read while they were being switched (the certificate of one
             * version, the key of the next): the next pass reads them again */
            return;
        }
        serve_metrics_key_reload(false);
        serve_log("error", "responder key or certificate changed but cannot be used; "
                  "still signing with the previous ones",
                  "ca", is->name, "cert", is->watch_path[0], "key", is->watch_path[1],
                  (const char *)NULL);
        return;
    }
    if (!extras_changed && is->responder_cert && cli_cert_equal(cert, is->responder_cert)) {
        /* same certificate (and key: cli_load_responder checked the pair) */
        qpki_cert_free(&cert);
        qpki_signer_free(&signer);
        qpki_signer_free(&alt);
        extra_keys_free(&extra);
        watch_setup(ca, is, now);
        snprintf(is->active, sizeof(is->active), "%s", active);
        return;
    }
    qpki_status st = qpki_responder_issuer_replace_key_hybrid(is->iss, signer, alt, cert);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    /* the switch left the default key alone: add the preference keys again */
    if (st == QPKI_OK && extra_keys_add(is, &extra) != QPKI_OK)
        serve_log("error", "cannot add the additional keys again; serving with the default "
                  "key only until the next switch or SIGHUP",
                  "ca", is->name, (const char *)NULL);
    extra_keys_free(&extra);
    if (st != QPKI_OK) {
        qpki_cert_free(&cert);
        serve_metrics_key_reload(false);
        serve_log("error", "cannot switch the responder key; still signing with the previous one",
                  "ca", is->name, "error", qpki_strerror(st), (const char *)NULL);
        return;
    }
    char old_subject[256], old_serial[80], subject[256], serial[80];
    cert_label(is->responder_cert, old_subject, sizeof(old_subject), old_serial,
               sizeof(old_serial));
    cert_label(cert, subject, sizeof(subject), serial, sizeof(serial));
    qpki_cert_free(&is->responder_cert);
    is->responder_cert = cert;
    atomic_fetch_add(&serve_epoch, 1);
    serve_metrics_key_reload(true);
    /* paths may have moved (QPKI credentials without links name the active
     * version's files) */
    watch_setup(ca, is, now);
    snprintf(is->active, sizeof(is->active), "%s", active);
    serve_log("info", "responder key and certificate switched", "ca", is->name, "subject",
              subject, "serial", serial, "previous_serial", old_serial, "additional_keys",
              extras_changed ? "reloaded" : "unchanged", "version", active[0] ? active : "-",
              (const char *)NULL);
}

/* One pass over every CA's signer files. */
static void watch_keys(struct serve_gen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct serve_ca_config *ca = &g->conf.cas[i];
        struct serve_issuer *is = &g->issuers[i];
        if (!is->watch)
            continue;
        struct file_id now[SERVE_WATCH_MAX];
        for (size_t k = 0; k < is->n_watch; k++)
            serve_file_id(is->watch_path[k], &now[k]);
        if (serve_file_ids_equal(now, is->loaded, is->n_watch)) {
            is->has_pending = false;
            continue;
        }
        char active[sizeof(is->active)];
        if (!serve_file_ids_equal(&now[2], &is->loaded[2], 1) &&
            credential_active(ca, active, sizeof(active))) {
            if (strcmp(active, is->active) != 0) {
                /* `credential activate` writes credential.meta.json last, once
                 * the links name the new version: act on it at once */
                is->has_pending = false;
                reload_key(g, i, now);
                continue;
            }
            if (serve_file_ids_equal(now, is->loaded, 2) &&
                serve_file_ids_equal(now + 3, is->loaded + 3, is->n_watch - 3)) {
                /* only the metadata changed (`credential rotate` added a
                 * version): the files in use are the same */
                is->loaded[2] = now[2];
                is->has_pending = false;
                continue;
            }
        }
        /* other writers (--cert/--key, hand-made links) replace the certificate
         * and the key with two renames: wait until the files have stopped
         * changing for one pass */
        if (!is->has_pending || !serve_file_ids_equal(now, is->pending, is->n_watch)) {
            memcpy(is->pending, now, sizeof(is->pending[0]) * is->n_watch);
            is->has_pending = true;
            continue;
        }
        is->has_pending = false;
        reload_key(g, i, now);
    }
}

/* The key-watching thread: a pass every SERVE_KEY_WATCH_MS, on its own so that
 * an index.txt reload (a full one of a large file takes seconds) or a main
 * thread held up in a write never delays a key switch. */
static void *key_watcher(void *arg)
{
    struct serve_gen *g = arg;
    for (;;) {
        watch_keys(g);
        serve_metrics_key_watch_pass();
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SERVE_KEY_WATCH_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&g->keys_wait);
        while (!atomic_load(&g->keys_stop) &&
               pthread_cond_timedwait(&g->keys_wake, &g->keys_wait, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&g->keys_wait);
        if (atomic_load(&g->keys_stop))
            return NULL;
    }
}

static bool keys_start(struct serve_gen *g)
{
    bool any = false;
    for (size_t i = 0; i < g->n; i++)
        any = any || g->issuers[i].watch;
    if (!any)
        return true;
    atomic_store(&g->keys_stop, false);
    if (pthread_create(&g->keys_thread, NULL, key_watcher, g) != 0) {
        cli_error("cannot start the key-watching thread");
        return false;
    }
    g->keys_running = true;
    return true;
}

static void keys_stop(struct serve_gen *g)
{
    if (!g->keys_running)
        return;
    pthread_mutex_lock(&g->keys_wait);
    atomic_store(&g->keys_stop, true);
    pthread_cond_broadcast(&g->keys_wake);
    pthread_mutex_unlock(&g->keys_wait);
    pthread_join(g->keys_thread, NULL);
    g->keys_running = false;
}

void serve_gen_maintain(struct serve_gen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct serve_issuer *is = &g->issuers[i];
        /* errors are logged once per distinct failure by db_log */
        uint64_t generation = qpki_db_generation(is->db);
        (void)qpki_db_refresh(is->db);
        if (qpki_db_generation(is->db) != generation)
            atomic_fetch_add(&serve_epoch, 1); /* after the new table is in place */
    }
}

enum serve_db_state serve_gen_db_state(struct serve_gen *g, char *buf, size_t size)
{
    enum serve_db_state worst = SERVE_DB_OK;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; g && i < g->n; i++) {
        qpki_db_health h;
        memset(&h, 0, sizeof(h));
        h.struct_size = (uint32_t)sizeof(h);
        if (qpki_db_get_health(g->issuers[i].db, &h) != QPKI_OK || h.connected != 0)
            continue;
        bool stale = h.max_staleness_ms && h.staleness_ms > h.max_staleness_ms;
        if (stale)
            worst = SERVE_DB_STALE;
        else if (worst == SERVE_DB_OK)
            worst = SERVE_DB_DEGRADED;
        char why[512];
        qpki_db_last_error(g->issuers[i].db, why, sizeof(why));
        int n = snprintf(buf + used, size - used,
                         "ca=%s status database unreachable, table %.1fs old (max %.1fs)%s: %s\n",
                         g->issuers[i].name, (double)h.staleness_ms / 1000.0,
                         (double)h.max_staleness_ms / 1000.0,
                         stale ? ", answering tryLater" : "", why);
        if (n > 0 && (size_t)n < size - used)
            used += (size_t)n;
    }
    return worst;
}
