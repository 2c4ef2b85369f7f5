/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/crl.c - CRLs in the responder.  Publishing (`--publish-crl`): the
 * CA's own CRL made from its index.txt (cli/crl_make.c), remade when the status
 * changes (at most every --crl-min-interval) and at half its validity.
 * Answering from CRLs (`--crl`): each
 * CA's qpki_db_crl database (lib/db/crl_db.c checks and applies the CRLs), the
 * fetching of its sources - files, and http(s) URLs with libcurl (If-None-Match
 * / If-Modified-Since, timeouts, a size cap, at most 5 redirects, http and https
 * only) - and the refresher thread: every source again after --crl-refresh and
 * at its CRL's nextUpdate.  A CRL that cannot be fetched or is refused leaves the
 * previous one in use, with a log line and a metric. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qpki/crl.h>

#include "crl_make.h"
#include "serve.h"

struct crl_src {
    char *where;                 /* file path or URL */
    bool delta, http;
    size_t index;                /* in the database */
    char etag[256], last_modified[128];
    struct file_id file;         /* file sources: identity at the last read */
    qpki_time next_fetch;
    qpki_time last_success;      /* last fetch that worked (new CRL or the same) */
    uint64_t fetches, fetch_failures, not_modified;
    char last_error[256];
};

struct serve_crl {
    char *ca;                    /* label */
    qpki_db *db;                 /* reference */
    qpki_db *issued;             /* --issued: a memory table, or NULL */
    char *issued_path;
    struct file_id issued_id;
    int64_t refresh, timeout;
    long max_size;
    pthread_mutex_t lock;        /* the sources' figures */
    size_t n;
    struct crl_src *src;
    uint64_t seen_generation;    /* for serve_epoch */
};

/* ---- fetching ------------------------------------------------------------------------ */

struct download {
    FILE *out;
    size_t got, max;
    bool too_large;
    char etag[256], last_modified[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct download *d = user;
    size_t len = size * n;
    if (d->got + len > d->max) {
        d->too_large = true;
        return 0;
    }
    d->got += len;
    return fwrite(p, 1, len, d->out) == len ? len : 0;
}

/* Keep one response header value (without CR LF). */
static void take_header(const char *line, size_t len, const char *name, char *dst, size_t size)
{
    size_t k = strlen(name);
    if (len <= k || strncasecmp(line, name, k) != 0)
        return;
    line += k;
    len -= k;
    while (len && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
        len--;
    if (len < size) {
        memcpy(dst, line, len);
        dst[len] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    struct download *d = user;
    size_t len = size * n;
    /* a redirect starts a new header block */
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0)
        d->etag[0] = d->last_modified[0] = '\0';
    take_header(p, len, "ETag:", d->etag, sizeof(d->etag));
    take_header(p, len, "Last-Modified:", d->last_modified, sizeof(d->last_modified));
    return len;
}

enum fetch_result { FETCH_NEW, FETCH_SAME, FETCH_FAILED };

/* GET the URL into the file f.  FETCH_SAME for 304 Not Modified. */
static enum fetch_result fetch_http(struct serve_crl *c, struct crl_src *s, FILE *f, char *err,
                                    size_t errlen)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(err, errlen, "cannot start libcurl");
        return FETCH_FAILED;
    }
    struct download d = {.out = f, .max = (size_t)c->max_size};
    struct curl_slist *headers = NULL;
    char line[512];
    /* RFC 9110 §13.1.2, §13.1.3: conditional GET */
    if (s->etag[0]) {
        snprintf(line, sizeof(line), "If-None-Match: %s", s->etag);
        headers = curl_slist_append(headers, line);
    }
    if (s->last_modified[0]) {
        snprintf(line, sizeof(line), "If-Modified-Since: %s", s->last_modified);
        headers = curl_slist_append(headers, line);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, s->where);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &d);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)(c->timeout < 10 ? c->timeout : 10));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_size);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "qpki-ocsp");
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (d.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errlen, "larger than --crl-max-size (%ld bytes)", c->max_size);
        return FETCH_FAILED;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return FETCH_FAILED;
    }
    if (code == 304)
        return FETCH_SAME;
    if (code != 200) {
        snprintf(err, errlen, "HTTP status %ld", code);
        return FETCH_FAILED;
    }
    snprintf(s->etag, sizeof(s->etag), "%s", d.etag);
    snprintf(s->last_modified, sizeof(s->last_modified), "%s", d.last_modified);
    return FETCH_NEW;
}

/* Fetch a source into *crl (NULL with FETCH_SAME). */
static enum fetch_result fetch(struct serve_crl *c, struct crl_src *s, qpki_crl **crl, char *err,
                               size_t errlen)
{
    *crl = NULL;
    qpki_status st;
    if (!s->http) {
        struct file_id now;
        serve_file_id(s->where, &now);
        if (!now.exists) {
            snprintf(err, errlen, "%s", strerror(ENOENT));
            return FETCH_FAILED;
        }
        if (serve_file_ids_equal(&now, &s->file, 1))
            return FETCH_SAME;
        if (now.size > c->max_size) {
            snprintf(err, errlen, "larger than --crl-max-size (%ld bytes)", c->max_size);
            return FETCH_FAILED;
        }
        char why[160];
        st = qpki_crl_load_file_err(s->where, why, sizeof(why), crl);
        if (st != QPKI_OK) {
            snprintf(err, errlen, "not a CRL: %s%s%s", qpki_strerror(st), why[0] ? ": " : "",
                     why);
            return FETCH_FAILED;
        }
        s->file = now;
        return FETCH_NEW;
    }
    /* The body goes to a temporary file, read back in one buffer the CRL keeps
     * (one copy of a large CRL in memory, not two). */
    const char *tmpdir = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/qpki-crl-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkostemp(path, O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!f) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return FETCH_FAILED;
    }
    enum fetch_result r = fetch_http(c, s, f, err, errlen);
    if (fclose(f) != 0 && r == FETCH_NEW) {
        snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
        r = FETCH_FAILED;
    }
    char why[160] = "";
    if (r == FETCH_NEW && (st = qpki_crl_load_file_err(path, why, sizeof(why), crl)) != QPKI_OK) {
        snprintf(err, errlen, "not a CRL: %s%s%s", qpki_strerror(st), why[0] ? ": " : "", why);
        r = FETCH_FAILED;
        /* refetch it whole next time */
        s->etag[0] = s->last_modified[0] = '\0';
    }
    unlink(path);
    return r;
}

static qpki_time wall_clock(void) { return (qpki_time)time(NULL); }

/* When to look at a source again: after --crl-refresh, and at its CRL's
 * nextUpdate; past it (or after a failure), at least every minute. */
static void schedule(struct serve_crl *c, struct crl_src *s, bool failed)
{
    qpki_time now = wall_clock();
    int64_t every = c->refresh;
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    bool loaded = qpki_db_crl_source_info(c->db, s->index, &info) == QPKI_OK && info.loaded;
    if (failed || (loaded && info.next_update && info.next_update <= now))
        every = every < 60 ? every : 60;
    s->next_fetch = now + every;
    if (loaded && info.next_update > now && info.next_update < s->next_fetch)
        s->next_fetch = info.next_update;
}

/* Fetch one source and offer what came.  at_start: errors are printed (the
 * command fails) instead of logged. */
static bool refresh_source(struct serve_crl *c, struct crl_src *s, bool at_start)
{
    char err[256] = "", number[2 * QPKI_CRL_NUMBER_MAX + 1] = "";
    qpki_crl *crl = NULL;
    enum fetch_result r = fetch(c, s, &crl, err, sizeof(err));
    qpki_status st = QPKI_OK;
    if (r == FETCH_NEW)
        st = qpki_db_crl_update(c->db, s->index, &crl, err, sizeof(err));
    pthread_mutex_lock(&c->lock);
    s->fetches++;
    if (r == FETCH_FAILED) {
        s->fetch_failures++;
        snprintf(s->last_error, sizeof(s->last_error), "fetch: %s", err);
    } else {
        s->last_success = wall_clock();
        if (r == FETCH_SAME)
            s->not_modified++;
        /* A refused CRL stays refused while the source serves it (304 or the
         * same bytes): only a CRL taken, or the source answering again after
         * a failed fetch, clears the error. */
        if ((r == FETCH_NEW && st == QPKI_OK) ||
            (r == FETCH_SAME && strncmp(s->last_error, "fetch:", 6) == 0))
            s->last_error[0] = '\0';
        else if (st != QPKI_OK && st != QPKI_ERR_EXISTS)
            snprintf(s->last_error, sizeof(s->last_error), "refused: %s", err);
    }
    pthread_mutex_unlock(&c->lock);
    schedule(c, s, r == FETCH_FAILED || (st != QPKI_OK && st != QPKI_ERR_EXISTS));
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    (void)qpki_db_crl_source_info(c->db, s->index, &info);
    if (info.has_number)
        for (size_t i = 0; i < info.number_len; i++)
            snprintf(number + 2 * i, 3, "%02X", info.number[i]);
    const char *kind = s->delta ? "delta CRL" : "CRL";
    if (r == FETCH_FAILED || (r == FETCH_NEW && st != QPKI_OK && st != QPKI_ERR_EXISTS)) {
        if (at_start) {
            cli_error("CA %s: cannot use the %s %s: %s%s", c->ca, kind, s->where,
                      r == FETCH_FAILED ? "" : "refused: ", err);
            return false;
        }
        serve_log("error", r == FETCH_FAILED ? "CRL fetch failed" : "CRL refused", "ca", c->ca,
                  "source", s->where, "error", err, "action",
                  info.loaded ? "previous CRL kept" : "no CRL yet (tryLater)",
                  (const char *)NULL);
        return false;
    }
    if (r == FETCH_NEW && st == QPKI_OK) {
        char entries[32], next[32] = "-";
        snprintf(entries, sizeof(entries), "%zu", info.entries);
        if (info.next_update)
            cli_format_time(info.next_update, next, sizeof(next));
        serve_log("info", s->delta ? "delta CRL loaded" : "CRL loaded", "ca", c->ca, "source",
                  s->where, "number", number[0] ? number : "-", "entries", entries,
                  "next_update", next, (const char *)NULL);
    }
    return true;
}

/* ---- setup ----------------------------------------------------------------------------- */

/* The issued list: one hex serial a line ('#' comments, blank lines). */
static bool load_issued(struct serve_crl *c, bool at_start)
{
    uint8_t *text = NULL;
    size_t len = 0;
    if (!cli_read_file(c->issued_path, "issued-serials list", &text, &len))
        return false;
    bool ok = qpki_db_memory_replace_begin(c->issued) == QPKI_OK;
    size_t line = 0, rows = 0;
    qpki_db_entry v;
    qpki_db_entry_init(&v);
    v.row_status = QPKI_DB_ROW_VALID;
    for (char *save = NULL, *l = strtok_r((char *)text, "\n", &save); ok && l;
         l = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t n = strlen(l);
        while (n && (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
            l[--n] = '\0';
        while (*l == ' ' || *l == '\t')
            l++;
        if (!*l || *l == '#')
            continue;
        uint8_t serial[QPKI_SERIAL_MAX];
        size_t serial_len;
        if (qpki_serial_from_hex(l, serial, sizeof(serial), &serial_len) != QPKI_OK) {
            if (at_start)
                cli_error("%s:%zu: not a hexadecimal serial number", c->issued_path, line);
            else
                serve_log("error", "issued-serials list not reloaded", "ca", c->ca, "file",
                          c->issued_path, "error", "a line is not a hexadecimal serial",
                          (const char *)NULL);
            ok = false;
            break;
        }
        ok = qpki_db_memory_put(c->issued, serial, serial_len, &v) == QPKI_OK;
        rows++;
    }
    free(text);
    if (!ok) {
        qpki_db_memory_abort(c->issued);
        return false;
    }
    (void)qpki_db_memory_commit(c->issued, NULL);
    if (!at_start) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", rows);
        serve_log("info", "issued-serials list reloaded", "ca", c->ca, "file", c->issued_path,
                  "serials", n, (const char *)NULL);
    }
    return true;
}

/* Add the sources of one '\n'-separated list. */
static bool add_sources(struct serve_crl *c, const char *list, bool delta)
{
    if (!list)
        return true;
    char *copy = strdup(list);
    if (!copy) {
        cli_error("out of memory");
        return false;
    }
    bool ok = true;
    for (char *save = NULL, *w = strtok_r(copy, "\n", &save); ok && w;
         w = strtok_r(NULL, "\n", &save)) {
        struct crl_src *n = realloc(c->src, (c->n + 1) * sizeof(*n));
        if (!n) {
            cli_error("out of memory");
            ok = false;
            break;
        }
        c->src = n;
        struct crl_src *s = &c->src[c->n];
        memset(s, 0, sizeof(*s));
        s->where = strdup(w);
        s->delta = delta;
        s->http = !strncasecmp(w, "http://", 7) || !strncasecmp(w, "https://", 8);
        if (!s->where) {
            cli_error("out of memory");
            ok = false;
            break;
        }
        c->n++;
        if (qpki_db_crl_add_source(c->db, w, delta, &s->index) != QPKI_OK) {
            cli_error("out of memory");
            ok = false;
        }
    }
    free(copy);
    return ok;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_start(void) { (void)curl_global_init(CURL_GLOBAL_DEFAULT); }

bool serve_crl_open(const struct serve_ca_config *ca, const qpki_cert *cert,
                    struct serve_crl **out, qpki_db **db)
{
    /* curl_global_init is not thread-safe: once, before the refresher runs */
    pthread_once(&curl_once, curl_start);
    *out = NULL;
    *db = NULL;
    struct serve_crl *c = calloc(1, sizeof(*c));
    if (!c || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        cli_error("out of memory");
        return false;
    }
    c->refresh = ca->crl_refresh;
    c->timeout = ca->crl_timeout;
    c->max_size = ca->crl_max_size;
    c->ca = strdup(ca->name);
    qpki_status st = c->ca ? qpki_db_crl_new(cert, &c->db) : QPKI_ERR_NOMEM;
    if (st == QPKI_OK)
        st = qpki_db_crl_set_grace(c->db, ca->crl_grace);
    if (st != QPKI_OK) {
        cli_error_st(st, "CA %s: cannot create the CRL database", ca->dir);
        goto fail;
    }
    if (!add_sources(c, ca->crl, false) || !add_sources(c, ca->delta_crl, true))
        goto fail;
    if (ca->issued) {
        c->issued_path = strdup(ca->issued);
        if (!c->issued_path || qpki_db_memory_new("issued", &c->issued) != QPKI_OK) {
            cli_error("out of memory");
            goto fail;
        }
        serve_file_id(c->issued_path, &c->issued_id);
        if (!load_issued(c, true) || qpki_db_crl_set_issued(c->db, c->issued) != QPKI_OK)
            goto fail;
    }
    /* Every source once now: a CA whose CRLs cannot be used does not start. */
    for (size_t i = 0; i < c->n; i++)
        if (!refresh_source(c, &c->src[i], true))
            goto fail;
    c->seen_generation = qpki_db_generation(c->db);
    *db = qpki_db_ref(c->db);
    *out = c;
    return true;
fail:
    serve_crl_close(&c);
    return false;
}

void serve_crl_close(struct serve_crl **cp)
{
    struct serve_crl *c = cp ? *cp : NULL;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->src[i].where);
    free(c->src);
    qpki_db_free(&c->db);
    qpki_db_free(&c->issued);
    free(c->issued_path);
    free(c->ca);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cp = NULL;
}

/* ---- the refresher thread ---------------------------------------------------------------- */

/* Due sources of every CRL CA of g, the issued lists, and serve_epoch when an
 * answer may have changed (a CRL accepted, the stale state flipped). */
static void pub_due(struct serve_pub *p);

static void refresh_due(struct serve_gen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->issuers[i].pub)
            pub_due(g->issuers[i].pub);
        struct serve_crl *c = g->issuers[i].crl;
        if (!c)
            continue;
        qpki_time now = wall_clock();
        for (size_t k = 0; k < c->n && !atomic_load(&g->crl_stop); k++)
            if (now >= c->src[k].next_fetch)
                (void)refresh_source(c, &c->src[k], false);
        if (c->issued) {
            struct file_id id;
            serve_file_id(c->issued_path, &id);
            if (!serve_file_ids_equal(&id, &c->issued_id, 1)) {
                c->issued_id = id;
                (void)load_issued(c, false);
            }
        }
        uint64_t gen = qpki_db_generation(c->db);
        if (gen != c->seen_generation) {
            c->seen_generation = gen;
            atomic_fetch_add(&serve_epoch, 1);
            if (qpki_db_crl_is_stale(c->db))
                serve_log("error", "CRL past its nextUpdate and grace: answering tryLater",
                          "ca", c->ca, (const char *)NULL);
        }
    }
}

static void *refresher(void *arg)
{
    struct serve_gen *g = arg;
    pthread_mutex_lock(&g->crl_wait);
    while (!atomic_load(&g->crl_stop)) {
        pthread_mutex_unlock(&g->crl_wait);
        refresh_due(g);
        pthread_mutex_lock(&g->crl_wait);
        if (atomic_load(&g->crl_stop))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&g->crl_wake, &g->crl_wait, &ts);
    }
    pthread_mutex_unlock(&g->crl_wait);
    return NULL;
}

bool serve_crl_start(struct serve_gen *g)
{
    bool any = false;
    for (size_t i = 0; i < g->n; i++)
        any |= g->issuers[i].crl != NULL || g->issuers[i].pub != NULL;
    if (!any)
        return true;
    atomic_store(&g->crl_stop, false);
    if (pthread_create(&g->crl_thread, NULL, refresher, g) != 0) {
        cli_error("cannot start the CRL refresher thread");
        return false;
    }
    g->crl_running = true;
    return true;
}

void serve_crl_stop(struct serve_gen *g)
{
    if (!g->crl_running)
        return;
    pthread_mutex_lock(&g->crl_wait);
    atomic_store(&g->crl_stop, true);
    pthread_cond_broadcast(&g->crl_wake);
    pthread_mutex_unlock(&g->crl_wait);
    pthread_join(g->crl_thread, NULL);
    g->crl_running = false;
}

/* ---- figures for /metrics and /healthz ---------------------------------------------------- */

size_t serve_crl_source_count(const struct serve_crl *c) { return c ? c->n : 0; }

void serve_crl_source_stats(struct serve_crl *c, size_t i, struct serve_crl_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->info.struct_size = sizeof(out->info);
    (void)qpki_db_crl_source_info(c->db, c->src[i].index, &out->info);
    pthread_mutex_lock(&c->lock);
    const struct crl_src *s = &c->src[i];
    out->where = s->where;
    out->delta = s->delta;
    out->fetches = s->fetches;
    out->fetch_failures = s->fetch_failures;
    out->not_modified = s->not_modified;
    out->last_success = s->last_success;
    snprintf(out->last_error, sizeof(out->last_error), "%s", s->last_error);
    pthread_mutex_unlock(&c->lock);
}

bool serve_crl_stale(struct serve_crl *c) { return c && qpki_db_crl_is_stale(c->db); }

/* The /healthz lines of the CRLs in use ("crl ca=... source=... number=...
 * this_update=... next_update=... age=...s entries=..."), malloc'd; NULL when no
 * CA answers from CRLs. */
char *serve_crl_health(struct serve_gen *g, bool *stale)
{
    char *out = NULL;
    size_t len = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < g->n; i++) {
        struct serve_crl *c = g->issuers[i].crl;
        if (!c)
            continue;
        bool s = serve_crl_stale(c);
        *stale |= s;
        for (size_t j = 0; j < serve_crl_source_count(c); j++) {
            struct serve_crl_stats st;
            serve_crl_source_stats(c, j, &st);
            char hex[2 * QPKI_CRL_NUMBER_MAX + 1] = "-", tu[32] = "-", nu[32] = "-";
            for (size_t b = 0; b < st.info.number_len; b++)
                snprintf(hex + 2 * b, 3, "%02X", st.info.number[b]);
            if (st.info.loaded) {
                cli_format_time(st.info.this_update, tu, sizeof(tu));
                if (st.info.next_update)
                    cli_format_time(st.info.next_update, nu, sizeof(nu));
            }
            char line[1024];
            int n = snprintf(line, sizeof(line),
                             "crl ca=%s source=%s kind=%s state=%s number=%s this_update=%s "
                             "next_update=%s age=%llds entries=%zu%s%s\n",
                             g->issuers[i].name, st.where, st.delta ? "delta" : "complete",
                             !st.info.loaded ? "none" : s ? "stale" : "ok", hex, tu, nu,
                             st.info.loaded ? (long long)(now - st.info.this_update) : 0LL,
                             st.info.entries, st.last_error[0] ? " last_error=" : "",
                             st.last_error);
            if (n < 0)
                continue;
            char *bigger = realloc(out, len + (size_t)n + 1);
            if (!bigger)
                break;
            out = bigger;
            memcpy(out + len, line, (size_t)n + 1);
            len += (size_t)n;
        }
    }
    return out;
}

/* ---- publishing the CA's own CRL (--publish-crl) ------------------------------------------ */

struct serve_pub {
    char *path;                  /* the URL path it is served at */
    char *ca_name;
    const qpki_cert *ca;         /* the issuer's (borrowed) */
    qpki_db *db;                 /* reference: its generation says when to remake */
    qpki_ca_store *store;
    qpki_signer *signer, *alt_signer;
    int64_t validity, min_interval;
    uint64_t made_generation;
    qpki_time made_at;
    pthread_mutex_t lock;        /* current */
    struct serve_blob *current;
    uint64_t makes, make_failures;
};

static void blob_unref(struct serve_blob *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        qpki_free(b->der);
        free(b);
    }
}

void serve_blob_release(struct serve_blob *b) { blob_unref(b); }

static void http_date(qpki_time t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        buf[0] = '\0';
}

/* Make the CRL from index.txt and swap it in.  at_start: errors printed. */
static bool pub_make(struct serve_pub *p, bool at_start)
{
    qpki_time now = wall_clock();
    uint64_t gen = qpki_db_generation(p->db);
    struct crl_make m = {p->ca, p->signer, p->alt_signer, crl_source_store(p->store), now,
                         p->validity, NULL, NULL};
    struct crl_made made;
    char err[512];
    bool ok = crl_make(&m, &made, err, sizeof(err));
    /* kept as crl/ca.crl too: `qpki crl gen --delta` makes deltas against it */
    qpki_status st = ok ? qpki_ca_store_save_crl(p->store, made.der, made.len) : QPKI_OK;
    if (ok && st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(p->store);
        snprintf(err, sizeof(err), "cannot keep it in crl/: %s", why[0] ? why : qpki_strerror(st));
        ok = false;
    }
    struct serve_blob *b = ok ? calloc(1, sizeof(*b)) : NULL;
    if (ok && !b) {
        snprintf(err, sizeof(err), "out of memory");
        ok = false;
    }
    p->made_at = now;
    if (!ok) {
        qpki_free(made.der);
        p->make_failures++;
        if (at_start)
            cli_error("CA %s: cannot make the CRL to publish: %s", p->ca_name, err);
        else
            serve_log("error", "cannot make the CRL to publish; the previous one stays",
                      "ca", p->ca_name, "error", err, (const char *)NULL);
        return false;
    }
    atomic_init(&b->refs, 1);
    b->der = made.der;
    b->len = made.len;
    b->this_update = now;
    b->next_update = now + p->validity;
    for (size_t i = 0; i < made.number_len; i++)
        snprintf(b->number + 2 * i, 3, "%02X", made.number[i]);
    if (!made.number_len)
        snprintf(b->number, sizeof(b->number), "00");
    /* a new CRL has a new number: the number names the bytes */
    snprintf(b->etag, sizeof(b->etag), "\"crl-%s\"", b->number);
    http_date(b->this_update, b->last_modified, sizeof(b->last_modified));
    http_date(b->next_update, b->expires, sizeof(b->expires));
    pthread_mutex_lock(&p->lock);
    struct serve_blob *old = p->current;
    p->current = b;
    pthread_mutex_unlock(&p->lock);
    blob_unref(old);
    p->made_generation = gen;
    p->makes++;
    char entries[32], next[32];
    snprintf(entries, sizeof(entries), "%zu", made.entries);
    cli_format_time(b->next_update, next, sizeof(next));
    if (!at_start)
        serve_log("info", "CRL published", "ca", p->ca_name, "path", p->path, "number",
                  b->number, "entries", entries, "next_update", next, (const char *)NULL);
    return true;
}

bool serve_pub_open(const struct serve_ca_config *ca, const qpki_cert *cert, qpki_db *db,
                    struct serve_pub **out)
{
    *out = NULL;
    struct serve_pub *p = calloc(1, sizeof(*p));
    if (!p || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        cli_error("out of memory");
        return false;
    }
    p->ca = cert;
    p->db = qpki_db_ref(db);
    p->validity = ca->publish_crl_validity;
    p->min_interval = ca->crl_min_interval;
    p->path = strdup(ca->publish_crl);
    p->ca_name = strdup(ca->name);
    if (!p->path || !p->ca_name) {
        cli_error("out of memory");
        goto fail;
    }
    /* The CA signs its CRLs: its own keys (a delegated responder key cannot). */
    char path[PATH_MAX];
    static const char *const key_names[] = {"ca.key", "private/cakey.pem"};
    size_t k = 0;
    for (; k < 2; k++) {
        snprintf(path, sizeof(path), "%s/%s", ca->dir, key_names[k]);
        if (access(path, F_OK) == 0)
            break;
    }
    if (k == 2) {
        cli_error("CA %s: --publish-crl needs the CA's key (ca.key) to sign CRLs", ca->dir);
        goto fail;
    }
    if (!cli_load_key_signer(path, ca->passphrase_env, ca->passphrase_file, &p->signer))
        goto fail;
    snprintf(path, sizeof(path), "%s/ca.alt.key", ca->dir);
    if (access(path, F_OK) == 0 &&
        !cli_load_key_signer(path, ca->passphrase_env, ca->passphrase_file, &p->alt_signer))
        goto fail;
    qpki_status st = qpki_ca_store_open(ca->dir, &p->store);
    if (st != QPKI_OK) {
        cli_error_st(st, "CA %s: --publish-crl needs index.txt", ca->dir);
        goto fail;
    }
    if (!pub_make(p, true))
        goto fail;
    *out = p;
    return true;
fail:
    serve_pub_close(&p);
    return false;
}

void serve_pub_close(struct serve_pub **pp)
{
    struct serve_pub *p = pp ? *pp : NULL;
    if (!p)
        return;
    blob_unref(p->current);
    qpki_signer_free(&p->signer);
    qpki_signer_free(&p->alt_signer);
    qpki_ca_store_free(&p->store);
    qpki_db_free(&p->db);
    free(p->path);
    free(p->ca_name);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pp = NULL;
}

/* Remade when the status changed (at most every --crl-min-interval) and when
 * half of its validity has passed. */
static void pub_due(struct serve_pub *p)
{
    qpki_time now = wall_clock();
    qpki_time half = p->current ? p->current->this_update + p->validity / 2 : 0;
    bool changed = qpki_db_generation(p->db) != p->made_generation;
    if ((changed && now - p->made_at >= p->min_interval) || now >= half)
        (void)pub_make(p, false);
}

struct serve_blob *serve_pub_find(struct serve_gen *g, const char *path)
{
    for (size_t i = 0; i < g->n; i++) {
        struct serve_pub *p = g->issuers[i].pub;
        if (!p || strcmp(p->path, path) != 0)
            continue;
        pthread_mutex_lock(&p->lock);
        struct serve_blob *b = p->current;
        if (b)
            atomic_fetch_add(&b->refs, 1);
        pthread_mutex_unlock(&p->lock);
        return b;
    }
    return NULL;
}
