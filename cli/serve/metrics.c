/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/metrics.c - counters of the running server and their Prometheus text
 * exposition (format 0.0.4).  Counters are process-wide and survive SIGHUP
 * reloads; gauges are read from the current generation when scraped.
 *
 * The per-request counters live in one block per worker thread, written only
 * by that thread (plain relaxed stores, no locked instruction, no cache line
 * shared between cores) and summed when /metrics is scraped. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

static const unsigned http_codes[] = {200, 304, 400, 404, 405, 413, 414, 500, 503};
#define N_CODES (sizeof(http_codes) / sizeof(http_codes[0]))
/* Histogram upper bounds in microseconds. */
static const uint64_t bounds_us[] = {50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000,
                                     50000, 100000, 250000, 1000000};
#define N_BOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

struct histogram {
    atomic_ullong bucket[N_BOUNDS + 1]; /* last: +Inf */
    atomic_ullong sum_us;
    atomic_ullong count;
};

/* Per-request counters of one thread. */
struct counters {
    atomic_ullong http[N_CODES + 1];     /* last: other codes */
    atomic_ullong resp_status[7];
    atomic_ullong cert_status[3];
    atomic_ullong cache_hits, cache_misses, live_signatures, nonces, reused;
    struct histogram signing, duration;
    struct counters *next;
};

static struct {
    atomic_ullong reloads, reload_failures;
    atomic_ullong db_reload_failures;
    atomic_ullong key_reloads, key_reload_failures, key_watch_passes;
    atomic_llong connections;
    time_t started;
} m;

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counters *blocks;          /* every thread's block, never freed */
static _Thread_local struct counters *mine;

static struct counters *my_counters(void)
{
    if (!mine) {
        mine = calloc(1, sizeof(*mine));
        if (!mine)
            return NULL;
        pthread_mutex_lock(&blocks_lock);
        mine->next = blocks;
        blocks = mine;
        pthread_mutex_unlock(&blocks_lock);
    }
    return mine;
}

/* Only the owning thread writes: load + store, no read-modify-write. */
static void bump(atomic_ullong *v, unsigned long long by)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static void observe(struct histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < N_BOUNDS && us > bounds_us[i])
        i++;
    bump(&h->bucket[i], 1);
    bump(&h->sum_us, us);
    bump(&h->count, 1);
}

void serve_metrics_request(unsigned http_code, const qpki_answer *a, uint64_t us, bool reused)
{
    struct counters *c = my_counters();
    if (!c)
        return;
    size_t i = 0;
    while (i < N_CODES && http_codes[i] != http_code)
        i++;
    bump(&c->http[i], 1);
    observe(&c->duration, us);
    if (!a)
        return;
    qpki_ocsp_resp_status rs = qpki_answer_resp_status(a);
    if ((unsigned)rs < 7)
        bump(&c->resp_status[rs], 1);
    if (rs != QPKI_OCSP_RESP_SUCCESSFUL)
        return;
    qpki_cert_status cs = qpki_answer_cert_status(a);
    if ((unsigned)cs < 3)
        bump(&c->cert_status[cs], 1);
    if (qpki_answer_nonce_echoed(a))
        bump(&c->nonces, 1);
    else if (reused || qpki_answer_cache_hit(a))
        bump(&c->cache_hits, 1);
    if (reused)
        bump(&c->reused, 1);
    else
        bump(&c->cache_misses, 1);
    uint64_t sign_us = qpki_answer_sign_us(a);
    if (!reused && (sign_us > 0 || !qpki_answer_cache_hit(a))) {
        bump(&c->live_signatures, 1);
        observe(&c->signing, sign_us);
    }
}

/* The sum of every thread's block. */
static void total(struct counters *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_lock(&blocks_lock);
    for (struct counters *c = blocks; c; c = c->next) {
        atomic_ullong *dst = (atomic_ullong *)t, *src = (atomic_ullong *)c;
        size_t n = offsetof(struct counters, next) / sizeof(atomic_ullong);
        for (size_t k = 0; k < n; k++)
            bump(&dst[k], atomic_load_explicit(&src[k], memory_order_relaxed));
    }
    pthread_mutex_unlock(&blocks_lock);
}

void serve_metrics_reload(bool ok)
{
    atomic_fetch_add(ok ? &m.reloads : &m.reload_failures, 1);
}

void serve_metrics_db_refresh_failure(void) { atomic_fetch_add(&m.db_reload_failures, 1); }

void serve_metrics_key_reload(bool ok)
{
    atomic_fetch_add(ok ? &m.key_reloads : &m.key_reload_failures, 1);
}

void serve_metrics_key_watch_pass(void)
{
    atomic_fetch_add(&m.key_watch_passes, 1);
}

void serve_metrics_connection(int delta) { atomic_fetch_add(&m.connections, delta); }

/* ---- text exposition ---------------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->oom = true;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
    add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One metric without labels: its HELP and TYPE lines, then its value. */
static void metric(struct text *t, const char *name, const char *type, const char *help,
                   unsigned long long value)
{
    header(t, name, type, help);
    add(t, "%s %llu\n", name, value);
}

static unsigned long long get(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void counter(struct text *t, const char *name, const char *help, atomic_ullong *v)
{
    metric(t, name, "counter", help, get(v));
}

static void histogram(struct text *t, const char *name, const char *help, struct histogram *h)
{
    header(t, name, "histogram", help);
    unsigned long long cum = 0;
    for (size_t i = 0; i < N_BOUNDS; i++) {
        cum += get(&h->bucket[i]);
        add(t, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds_us[i] / 1e6, cum);
    }
    cum += get(&h->bucket[N_BOUNDS]);
    add(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
    add(t, "%s_sum %.6f\n", name, (double)get(&h->sum_us) / 1e6);
    add(t, "%s_count %llu\n", name, get(&h->count));
}

/* Label values: escape '\', '"' and newlines (text format 0.0.4). */
static void label_value(char *out, size_t size, const char *v)
{
    size_t o = 0;
    for (; *v && o + 3 < size; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

static const char *resp_status_names[7] = {"successful", "malformedRequest", "internalError",
                                           "tryLater", NULL, "sigRequired", "unauthorized"};

/* Per CRL source of the CAs answered from CRLs (--crl). */
static void crl_metrics(struct text *t, struct serve_gen *g)
{
    static const struct {
        const char *name, *type, *help;
    } m_[] = {
        {"qpki_crl_info", "gauge", "A CRL in use (1), labelled with its cRLNumber in hex."},
        {"qpki_crl_number", "gauge", "cRLNumber of the CRL in use (when below 2^53)."},
        {"qpki_crl_this_update_seconds", "gauge", "thisUpdate of the CRL in use."},
        {"qpki_crl_next_update_seconds", "gauge",
         "nextUpdate of the CRL in use (0: none); past it plus --crl-grace: tryLater."},
        {"qpki_crl_age_seconds", "gauge", "Seconds since the thisUpdate of the CRL in use."},
        {"qpki_crl_entries", "gauge", "Revoked certificates listed by the CRL in use."},
        {"qpki_crl_updates_total", "counter", "CRLs accepted from the source."},
        {"qpki_crl_refused_total", "counter",
         "CRLs refused (bad signature, other CA, older number, expired, ...): the previous "
         "one kept."},
        {"qpki_crl_fetches_total", "counter", "Fetches of the source."},
        {"qpki_crl_fetch_failures_total", "counter", "Fetches that failed."},
        {"qpki_crl_not_modified_total", "counter",
         "Fetches that found the same CRL (HTTP 304, unchanged file)."},
    };
    bool any = false;
    for (size_t i = 0; i < g->n; i++)
        any |= g->issuers[i].crl != NULL;
    if (!any)
        return;
    time_t now = time(NULL);
    for (size_t k = 0; k < sizeof(m_) / sizeof(m_[0]); k++) {
        header(t, m_[k].name, m_[k].type, m_[k].help);
        for (size_t i = 0; i < g->n; i++) {
            struct serve_crl *c = g->issuers[i].crl;
            char ca[512];
            label_value(ca, sizeof(ca), g->issuers[i].name);
            for (size_t j = 0; j < serve_crl_source_count(c); j++) {
                struct serve_crl_stats st;
                serve_crl_source_stats(c, j, &st);
                char src[1024], hex[2 * QPKI_CRL_NUMBER_MAX + 1] = "";
                label_value(src, sizeof(src), st.where);
                const qpki_db_crl_info *in = &st.info;
                unsigned long long num = 0;
                for (size_t b = 0; b < in->number_len; b++) {
                    snprintf(hex + 2 * b, 3, "%02X", in->number[b]);
                    num = num << 8 | in->number[b];
                }
                const char *kind = st.delta ? "delta" : "complete";
                bool loaded = in->loaded;
                switch (k) {
                case 0:
                    if (loaded)
                        add(t, "%s{ca=\"%s\",source=\"%s\",kind=\"%s\",number=\"%s\"} 1\n",
                            m_[k].name, ca, src, kind, hex);
                    break;
                case 1:
                    if (loaded && in->has_number && in->number_len <= 6)
                        add(t, "%s{ca=\"%s\",source=\"%s\"} %llu\n", m_[k].name, ca, src,
                            num);
                    break;
                case 2:
                case 3:
                case 4:
                case 5:
                    if (loaded)
                        add(t, "%s{ca=\"%s\",source=\"%s\"} %lld\n", m_[k].name, ca, src,
                            (long long)(k == 2   ? in->this_update
                                        : k == 3 ? in->next_update
                                        : k == 4 ? (int64_t)now - in->this_update
                                                 : (int64_t)in->entries));
                    break;
                default:
                    add(t, "%s{ca=\"%s\",source=\"%s\"} %llu\n", m_[k].name, ca, src,
                        (unsigned long long)(k == 6   ? in->updates
                                             : k == 7 ? in->refusals
                                             : k == 8 ? st.fetches
                                             : k == 9 ? st.fetch_failures
                                                      : st.not_modified));
                    break;
                }
            }
        }
    }
    header(t, "qpki_crl_stale", "gauge",
           "1 when the CA answers tryLater: no CRL yet, or one past nextUpdate + --crl-grace.");
    for (size_t i = 0; i < g->n; i++) {
        if (!g->issuers[i].crl)
            continue;
        char ca[512];
        label_value(ca, sizeof(ca), g->issuers[i].name);
        add(t, "qpki_crl_stale{ca=\"%s\"} %d\n", ca, serve_crl_stale(g->issuers[i].crl) ? 1 : 0);
    }
}

char *serve_metrics_render(void)
{
    struct text t = {NULL, 0, 0, false};
    t.cap = 8192;
    t.buf = malloc(t.cap);
    if (!t.buf)
        return NULL;
    t.buf[0] = '\0';
    if (!m.started)
        m.started = time(NULL);
    struct counters sum;
    total(&sum);

    header(&t, "qpki_ocsp_http_requests_total", "counter", "HTTP requests by response code.");
    for (size_t i = 0; i <= N_CODES; i++) {
        if (i < N_CODES)
            add(&t, "qpki_ocsp_http_requests_total{code=\"%u\"} %llu\n", http_codes[i],
                get(&sum.http[i]));
        else
            add(&t, "qpki_ocsp_http_requests_total{code=\"other\"} %llu\n", get(&sum.http[i]));
    }
    header(&t, "qpki_ocsp_responses_total", "counter",
           "OCSP responses by OCSPResponseStatus.");
    for (size_t i = 0; i < 7; i++)
        if (resp_status_names[i])
            add(&t, "qpki_ocsp_responses_total{status=\"%s\"} %llu\n", resp_status_names[i],
                get(&sum.resp_status[i]));
    header(&t, "qpki_ocsp_cert_status_total", "counter",
           "Signed answers by the certStatus of their first CertID.");
    const char *cs[3] = {"good", "revoked", "unknown"};
    for (size_t i = 0; i < 3; i++)
        add(&t, "qpki_ocsp_cert_status_total{status=\"%s\"} %llu\n", cs[i], get(&sum.cert_status[i]));
    counter(&t, "qpki_ocsp_cache_hits_total", "Answers served from the signed-response cache.",
            &sum.cache_hits);
    counter(&t, "qpki_ocsp_http_answer_reuses_total",
            "Cache hits answered with the encoded HTTP answer of an identical request "
            "in the same second (no responder call).",
            &sum.reused);
    counter(&t, "qpki_ocsp_cache_misses_total",
            "Cacheable answers that had to be signed (first request, expiry, their row changed).",
            &sum.cache_misses);
    counter(&t, "qpki_ocsp_nonce_responses_total", "Answers signed live to echo a nonce.",
            &sum.nonces);
    counter(&t, "qpki_ocsp_signatures_total", "Responses signed (cache misses and nonces).",
            &sum.live_signatures);
    histogram(&t, "qpki_ocsp_signing_duration_seconds", "Time spent signing one response.",
              &sum.signing);
    histogram(&t, "qpki_ocsp_request_duration_seconds",
              "Time from a complete request to its reply (sending excluded).", &sum.duration);
    counter(&t, "qpki_ocsp_reloads_total", "Successful SIGHUP reloads.", &m.reloads);
    counter(&t, "qpki_ocsp_reload_failures_total",
            "SIGHUP reloads that failed (the previous state kept serving).", &m.reload_failures);
    counter(&t, "qpki_ocsp_db_reload_failures_total",
            "index.txt changes that could not be loaded (the previous table kept serving).",
            &m.db_reload_failures);
    counter(&t, "qpki_ocsp_key_reloads_total",
            "Responder keys and certificates switched after their files changed.",
            &m.key_reloads);
    counter(&t, "qpki_ocsp_key_reload_failures_total",
            "Changed responder key or certificate files that could not be used.",
            &m.key_reload_failures);
    counter(&t, "qpki_ocsp_key_watch_passes_total",
            "Passes of the key-watching thread over the responder key and certificate files.",
            &m.key_watch_passes);
    header(&t, "qpki_ocsp_open_connections", "gauge", "Open HTTP connections.");
    add(&t, "qpki_ocsp_open_connections %lld\n", (long long)atomic_load(&m.connections));
    header(&t, "qpki_ocsp_start_time_seconds", "gauge", "Start time of the process.");
    add(&t, "qpki_ocsp_start_time_seconds %lld\n", (long long)m.started);

    pthread_rwlock_rdlock(&serve_srv.lock);
    struct serve_gen *g = serve_srv.gen;
    if (g) {
        qpki_responder_stats st;
        memset(&st, 0, sizeof(st));
        st.struct_size = (uint32_t)sizeof(st);
        if (qpki_responder_get_stats(g->r, &st) == QPKI_OK) {
            metric(&t, "qpki_ocsp_signing_in_flight", "gauge",
                   "Live signatures in progress (the signing queue depth).",
                   st.live_in_flight);
            header(&t, "qpki_ocsp_signing_queue_limit", "gauge",
                   "Live signatures allowed at once before tryLater.");
            add(&t, "qpki_ocsp_signing_queue_limit %ld\n", g->conf.max_live_signing);
            metric(&t, "qpki_ocsp_cache_entries", "gauge",
                   "Signed responses in the cache.",
                   st.cache_entries);
            metric(&t, "qpki_ocsp_cache_invalidated_total", "counter",
                   "Cached responses dropped because their serial's row changed (the other "
                   "serials' responses stay cached).",
                   st.cache_invalidated);
            metric(&t, "qpki_ocsp_cache_flushes_total", "counter",
                   "Times a CA's whole cache went stale because its status database could not "
                   "say which rows changed.",
                   st.cache_flushes);
        }
        qpki_presign_stats ps = {.struct_size = sizeof(ps)};
        if (qpki_responder_get_presign_stats(g->r, &ps) == QPKI_OK && ps.enabled) {
            const struct {
                const char *name, *type, *help;
                unsigned long long value;
            } presign[] = {
                {"qpki_ocsp_presigned_total", "counter",
                 "Responses pre-signed ahead of requests (--presign): first signatures, "
                 "refreshes and changed rows.", ps.signed_total},
                {"qpki_ocsp_presign_changed_total", "counter",
                 "Pre-signed again because the row changed.", ps.changed},
                {"qpki_ocsp_presign_refreshed_total", "counter",
                 "Pre-signed again because 3/8 of the validity had passed.", ps.refreshed},
                {"qpki_ocsp_presign_passes_total", "counter",
                 "Passes over every CA's rows completed.", ps.passes},
                {"qpki_ocsp_presign_rows_visited_total", "counter",
                 "Rows visited by the passes (progress of the pass under way).", ps.rows_visited},
                {"qpki_ocsp_presign_skipped_full_total", "counter",
                 "Rows not pre-signed because the cache was at 7/8 of --cache-size "
                 "(answered live and cached).", ps.skipped_full},
                {"qpki_ocsp_presign_failures_total", "counter",
                 "Pre-signatures or lookups that failed.", ps.failures},
                {"qpki_ocsp_presign_queue", "gauge",
                 "Changed rows waiting to be pre-signed again.", ps.queued},
                {"qpki_ocsp_presign_bytes", "gauge",
                 "Memory of the blocks holding pre-signed responses.", ps.slab_bytes},
            };
            for (size_t i = 0; i < sizeof(presign) / sizeof(presign[0]); i++)
                metric(&t, presign[i].name, presign[i].type, presign[i].help, presign[i].value);
        }
        header(&t, "qpki_ocsp_db_rows", "gauge", "Rows in the status database of each CA.");
        for (size_t i = 0; i < g->n; i++) {
            char lv[512];
            label_value(lv, sizeof(lv), g->issuers[i].name);
            add(&t, "qpki_ocsp_db_rows{ca=\"%s\"} %zu\n", lv, qpki_db_count(g->issuers[i].db));
        }
        header(&t, "qpki_ocsp_db_generation", "gauge",
               "Generation of each status database (moves when index.txt changes).");
        for (size_t i = 0; i < g->n; i++) {
            char lv[512];
            label_value(lv, sizeof(lv), g->issuers[i].name);
            add(&t, "qpki_ocsp_db_generation{ca=\"%s\"} %llu\n", lv,
                (unsigned long long)qpki_db_generation(g->issuers[i].db));
        }
        crl_metrics(&t, g);
        /* CAs served from a database (--db): its connection and how current
         * the table is */
        static const struct {
            const char *name, *type, *help;
        } dbm[] = {
            {"qpki_db_connected", "gauge",
             "1 while the CA's status database connection is up (--db CAs)."},
            {"qpki_db_staleness_seconds", "gauge",
             "Time since the CA's table was last confirmed current by its database."},
            {"qpki_db_changes_total", "counter",
             "Changed rows applied from the database since start."},
            {"qpki_db_reloads_total", "counter",
             "Full loads of the CA's rows (the first included)."},
        };
        for (size_t k = 0; k < sizeof(dbm) / sizeof(dbm[0]); k++) {
            bool headed = false;
            for (size_t i = 0; i < g->n; i++) {
                qpki_db_health h;
                memset(&h, 0, sizeof(h));
                h.struct_size = (uint32_t)sizeof(h);
                if (qpki_db_get_health(g->issuers[i].db, &h) != QPKI_OK || h.connected < 0)
                    continue;
                if (!headed)
                    header(&t, dbm[k].name, dbm[k].type, dbm[k].help);
                headed = true;
                char lv[512];
                label_value(lv, sizeof(lv), g->issuers[i].name);
                if (k == 0)
                    add(&t, "%s{ca=\"%s\"} %d\n", dbm[k].name, lv, h.connected);
                else if (k == 1)
                    add(&t, "%s{ca=\"%s\"} %.3f\n", dbm[k].name, lv,
                        (double)h.staleness_ms / 1000.0);
                else
                    add(&t, "%s{ca=\"%s\"} %llu\n", dbm[k].name, lv,
                        (unsigned long long)(k == 2 ? h.changes : h.reloads));
            }
        }
    }
    pthread_rwlock_unlock(&serve_srv.lock);
    if (t.oom) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

void serve_metrics_start(void) { m.started = time(NULL); }
