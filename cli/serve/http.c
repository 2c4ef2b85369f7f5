/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/http.c - the libmicrohttpd side of `qpki ocsp serve`.
 *
 * The OCSP listener: epoll with an internal thread pool (one thread per CPU by
 * default), HTTP/1.1 keep-alive, a per-connection idle timeout, a connection
 * cap that the open-file limit can hold, and an optional cap per client address.  Each request is handed to lib/http (qpki_http_handle) with the raw
 * request-target (MHD's own unescaping is switched off: lib/http decodes the
 * base64 itself) and the reply's bytes are sent without a copy; the reply is
 * freed when libmicrohttpd is done with the response.
 *
 * The admin listener (--admin-addr, off by default): GET /healthz and
 * GET /metrics. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

struct serve_listener {
    struct MHD_Daemon *daemon;
    int fd;
    bool admin;
    char address[160];
};

/* State of a POST while its body arrives. */
struct post_state {
    uint64_t t0;
    uint8_t *buf;                /* small: the inline buffer; larger: malloc'd */
    size_t len, cap;
    bool too_large;
    uint8_t small[512];          /* one-CertID requests are about 100 bytes */
};

static _Atomic size_t max_body_limit; /* current --max-body (changes on SIGHUP) */

void serve_http_set_max_body(size_t bytes) { atomic_store(&max_body_limit, bytes); }

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- listening socket ----------------------------------------------------------- */

/* "host:port", ":port", "[v6]:port", "*:port".  host "" means every address. */
static bool split_address(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return false;
        size_t n = (size_t)(close - addr - 1);
        if (n >= hsize)
            return false;
        memcpy(host, addr + 1, n);
        host[n] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return false;
        size_t n = (size_t)(colon - addr);
        if (n >= hsize)
            return false;
        memcpy(host, addr, n);
        host[n] = '\0';
        if (!strcmp(host, "*"))
            host[0] = '\0';
    }
    if (!colon[1] || strlen(colon + 1) >= psize)
        return false;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    snprintf(port, psize, "%s", colon + 1);
    return true;
}

static int try_bind(int family, const struct sockaddr *sa, socklen_t len, int *err)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int one = 1, zero = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, sa, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

static void describe(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    buf[0] = '\0';
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    char host[INET6_ADDRSTRLEN] = "";
    unsigned port = 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(buf, size, "%s:%u", host, port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(buf, size, "[%s]:%u", host, port);
    }
}

static int open_listener(const char *addr)
{
    char host[256], port[16];
    if (!split_address(addr, host, sizeof(host), port, sizeof(port))) {
        cli_usage_error("bad listen address '%s' (HOST:PORT, :PORT or [IPv6]:PORT)", addr);
        return -1;
    }
    int err = 0;
    if (!host[0]) {
        /* every address: IPv6 with IPv4-mapped addresses, or IPv4 alone */
        unsigned short p = (unsigned short)atoi(port);
        struct sockaddr_in6 in6;
        memset(&in6, 0, sizeof(in6));
        in6.sin6_family = AF_INET6;
        in6.sin6_addr = in6addr_any;
        in6.sin6_port = htons(p);
        int fd = try_bind(AF_INET6, (const struct sockaddr *)&in6, sizeof(in6), &err);
        if (fd >= 0)
            return fd;
        struct sockaddr_in in;
        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_ANY);
        in.sin_port = htons(p);
        fd = try_bind(AF_INET, (const struct sockaddr *)&in, sizeof(in), &err);
        if (fd >= 0)
            return fd;
        cli_error("cannot listen on %s: %s", addr, strerror(err));
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        cli_error("cannot resolve listen address %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = try_bind(ai->ai_family, ai->ai_addr, ai->ai_addrlen, &err);
    freeaddrinfo(res);
    if (fd < 0)
        cli_error("cannot listen on %s: %s", addr, strerror(err));
    return fd;
}

/* ---- replies ------------------------------------------------------------------------ */

static void free_reply(void *cls)
{
    qpki_http_reply *reply = cls;
    qpki_http_reply_free(&reply);
}

/* IMF-fixdate (RFC 9110 §5.6.7) of the current second, per thread. */
static const char *http_date_now(void)
{
    static _Thread_local time_t second = -1;
    static _Thread_local char text[40];
    time_t now = time(NULL);
    if (now != second) {
        struct tm tm;
        if (!gmtime_r(&now, &tm) ||
            !strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm))
            text[0] = '\0';
        second = now;
    }
    return text;
}

/* The libmicrohttpd response for a reply; the reply is freed with it. */
static struct MHD_Response *make_response(qpki_http_reply *reply)
{
    const uint8_t *body;
    size_t len;
    qpki_http_reply_body(reply, &body, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *)(uintptr_t)body, free_reply, reply);
    if (!resp) {
        qpki_http_reply_free(&reply);
        return NULL;
    }
    for (size_t i = 0; i < qpki_http_reply_header_count(reply); i++) {
        const char *name, *value;
        (void)qpki_http_reply_header(reply, i, &name, &value);
        if (!strcmp(name, "Content-Length"))
            continue; /* libmicrohttpd writes it from the body */
        (void)MHD_add_response_header(resp, name, value);
    }
    /* RFC 9110 §6.6.1: an origin server with a clock MUST send Date.  We write
     * it (formatted once a second per thread) rather than libmicrohttpd, which
     * would format it for every request, cached answers included; an answer
     * cache entry lives within one second, so its Date stays exact. */
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, http_date_now());
    if (atomic_load_explicit(&serve_srv.draining, memory_order_relaxed))
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return resp;
}

/* ---- HTTP answer cache -------------------------------------------------------------
 * Identical requests (same request-target for GET, same body for POST) within
 * the same second get the same encoded answer: same body and same headers
 * (max-age counts whole seconds), so the libmicrohttpd response is sent again
 * and the request costs no decoding, no responder call and no allocation.
 * Each worker thread has its own table, so lookups take no lock.  Only
 * cacheable answers are kept (signed, no nonce, max-age); requests with
 * If-None-Match bypass it.  An entry serves only within the second it was made
 * and while serve_epoch has not moved (status database reloaded, key switched,
 * SIGHUP), so it never answers differently from the responder for longer than
 * the rest of that second. */
#define ACACHE_SLOTS 2048 /* about 0.6 MB per worker thread */
#define ACACHE_WAYS 4
#define ACACHE_KEY_MAX 192 /* base64 of a one-CertID request is 100-130 bytes */

struct acache_entry {
    uint64_t hash;
    uint64_t epoch;
    time_t second;
    struct MHD_Response *resp;    /* our reference, dropped on replacement */
    qpki_http_reply *reply;       /* freed with resp */
    bool post;
    uint16_t key_len;
    char ca[64];         /* CA name for the log (truncated past 63 bytes) */
    uint8_t key[ACACHE_KEY_MAX];
};

struct acache {
    struct acache_entry e[ACACHE_SLOTS];
};

static pthread_key_t acache_key;
static pthread_once_t acache_once = PTHREAD_ONCE_INIT;

static void acache_destroy(void *p)
{
    struct acache *c = p;
    for (size_t i = 0; i < ACACHE_SLOTS; i++)
        if (c->e[i].resp)
            MHD_destroy_response(c->e[i].resp);
    free(c);
}

static void acache_init(void) { (void)pthread_key_create(&acache_key, acache_destroy); }

static struct acache *acache_get(void)
{
    (void)pthread_once(&acache_once, acache_init);
    struct acache *c = pthread_getspecific(acache_key);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (c && pthread_setspecific(acache_key, c) != 0) {
            free(c);
            c = NULL;
        }
    }
    return c;
}

static uint64_t acache_hash(bool post, const uint8_t *key, size_t len)
{
    /* 8 bytes at a time, multiply and fold (not cryptographic: the key bytes are
     * compared in full on a hit) */
    uint64_t h = 0x9e3779b97f4a7c15u * (len + (post ? 1 : 0));
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, key + i, len - i);
    h = (h ^ tail) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 29);
}

/* A reply worth keeping: successful, signed for everyone (max-age). */
static bool acache_worthy(const qpki_http_reply *reply)
{
    const qpki_answer *a = qpki_http_reply_answer(reply);
    const char *cc = qpki_http_reply_header_value(reply, "Cache-Control");
    return qpki_http_reply_status(reply) == 200 && a &&
           qpki_answer_resp_status(a) == QPKI_OCSP_RESP_SUCCESSFUL &&
           !qpki_answer_nonce_echoed(a) && cc && !strncmp(cc, "max-age=", 8);
}

/* text is a string literal (owned false) or malloc'd and handed over (true). */
static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, bool owned)
{
    void *buf = (void *)(uintptr_t)text;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(text), buf, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (owned)
            free(buf);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static void remote_of(struct MHD_Connection *c, char *buf, size_t size)
{
    buf[0] = '\0';
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, a6->s6_addr + 12, buf, (socklen_t)size);
        else
            inet_ntop(AF_INET6, a6, buf, (socklen_t)size);
    }
}

static void account(struct MHD_Connection *c, const char *method, unsigned code,
                    const char *ca, const qpki_answer *a, uint64_t us, bool reused)
{
    serve_metrics_request(code, a, us, reused);
    if (!serve_log_quiet()) {
        char remote[INET6_ADDRSTRLEN];
        remote_of(c, remote, sizeof(remote));
        struct serve_request_log rl = {method, code, remote, ca && ca[0] ? ca : NULL, a, us,
                                       reused};
        serve_log_request(&rl);
    }
}

/* Answer one complete request. */
static enum MHD_Result answer(struct MHD_Connection *c, const char *method, const char *url,
                              const uint8_t *body, size_t body_len, bool too_large, uint64_t t0)
{
    qpki_http_request req;
    qpki_http_request_init(&req);
    req.method = method;
    req.target = url;
    req.target_len = strlen(url);
    req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    req.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    req.body = body;
    req.body_len = body_len;

    /* the HTTP answer cache */
    bool post = !strcmp(method, MHD_HTTP_METHOD_POST);
    const uint8_t *key = post ? body : (const uint8_t *)url;
    size_t key_len = post ? body_len : req.target_len;
    struct acache_entry *slot = NULL;
    uint64_t hash = 0, epoch = atomic_load_explicit(&serve_epoch, memory_order_acquire);
    time_t second = time(NULL);
    if (!too_large && !req.if_none_match && key_len > 0 && key_len <= ACACHE_KEY_MAX &&
        (post || !strcmp(method, MHD_HTTP_METHOD_GET)) &&
        !atomic_load_explicit(&serve_srv.draining, memory_order_relaxed)) {
        struct acache *ac = acache_get();
        if (ac) {
            hash = acache_hash(post, key, key_len);
            /* 4-way sets: a few keys sharing a set do not evict each other */
            size_t first = (size_t)(hash % (ACACHE_SLOTS / ACACHE_WAYS)) * ACACHE_WAYS;
            struct acache_entry *set = &ac->e[first];
            for (size_t w = 0; w < ACACHE_WAYS; w++) {
                struct acache_entry *e = &set[w];
                if (e->resp && e->hash == hash && e->post == post && e->key_len == key_len &&
                    e->second == second && e->epoch == epoch && !memcmp(e->key, key, key_len)) {
                    account(c, method, 200, e->ca, qpki_http_reply_answer(e->reply),
                            now_us() - t0, true);
                    return MHD_queue_response(c, 200, e->resp);
                }
            }
            /* where a new answer would go: a free or outdated way, else the
             * way the hash picks */
            slot = &set[(hash >> 60) % ACACHE_WAYS];
            for (size_t w = 0; w < ACACHE_WAYS; w++) {
                if (!set[w].resp || set[w].second != second || set[w].epoch != epoch) {
                    slot = &set[w];
                    break;
                }
            }
        }
    }

    qpki_http_reply *reply = NULL;
    qpki_status st;
    char ca[128] = "";
    if (too_large) {
        st = qpki_http_reply_error(413, &reply);
    } else {
        pthread_rwlock_rdlock(&serve_srv.lock);
        struct serve_gen *g = serve_srv.gen;
        st = qpki_http_handle(g->http, g->r, &req, &reply);
        if (st == QPKI_OK && qpki_http_reply_answer(reply)) {
            int idx = qpki_answer_issuer_index(qpki_http_reply_answer(reply));
            if (idx >= 0 && (size_t)idx < g->n)
                snprintf(ca, sizeof(ca), "%s", g->issuers[idx].name);
        }
        pthread_rwlock_unlock(&serve_srv.lock);
    }
    if (st != QPKI_OK) {
        serve_log("error", "cannot answer a request", "error", qpki_strerror(st),
                  (const char *)NULL);
        serve_metrics_request(500, NULL, now_us() - t0, false);
        return send_text(c, 500, "text/plain; charset=utf-8", "internal error\n", false);
    }
    unsigned code = qpki_http_reply_status(reply);
    account(c, method, code, ca, qpki_http_reply_answer(reply), now_us() - t0, false);
    bool keep = slot && acache_worthy(reply);
    struct MHD_Response *resp = make_response(reply);
    if (!resp)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(c, code, resp);
    if (keep && r == MHD_YES) {
        if (slot->resp)
            MHD_destroy_response(slot->resp);
        slot->resp = resp;
        slot->reply = reply;
        slot->hash = hash;
        slot->epoch = epoch;
        slot->second = second;
        slot->post = post;
        slot->key_len = (uint16_t)key_len;
        memcpy(slot->key, key, key_len);
        snprintf(slot->ca, sizeof(slot->ca), "%s", ca);
    } else {
        MHD_destroy_response(resp);
    }
    return r;
}

static void release_blob(void *cls) { serve_blob_release(cls); }

/* A CRL published with --publish-crl at url: true when url is one (*r is then
 * the result).  RFC 2585 §4.2: "application/pkix-crl"; Last-Modified =
 * thisUpdate, Expires = nextUpdate, an ETag that names the CRL (its number);
 * If-None-Match -> 304. */
static bool published(struct MHD_Connection *c, const char *method, const char *url, uint64_t t0,
                      enum MHD_Result *r)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return false;
    pthread_rwlock_rdlock(&serve_srv.lock);
    struct serve_blob *b = serve_pub_find(serve_srv.gen, url);
    pthread_rwlock_unlock(&serve_srv.lock);
    if (!b)
        return false;
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    bool same = inm && (strstr(inm, b->etag) || !strcmp(inm, "*"));
    struct MHD_Response *resp =
        same ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
             : MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->der,
                                                                      release_blob, b);
    if (!resp) {
        serve_blob_release(b);
        *r = MHD_NO;
        return true;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/pkix-crl");
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, b->last_modified);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_EXPIRES, b->expires);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, b->etag);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, no-transform");
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, http_date_now());
    unsigned code = same ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    if (same)
        serve_blob_release(b);
    account(c, method, code, NULL, NULL, now_us() - t0, false);
    *r = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return true;
}

/* *req_cls of a GET between its two calls (no allocation on the hot path). */
static char get_marker;

/* libmicrohttpd calls this at least twice per request: first with the headers
 * only, then with each piece of the body, then once more with none.  Answering
 * on the first call is an "early response" after which libmicrohttpd closes the
 * connection, so requests are answered on the last call; only a POST whose
 * Content-Length is over the limit is refused early (and the connection closed,
 * which is right for an unread body). */
static enum MHD_Result on_ocsp(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)cls;
    (void)version;
    if (!*req_cls) {
        atomic_fetch_add(&serve_srv.in_flight, 1);
        if (!strcmp(method, MHD_HTTP_METHOD_GET)) {
            *req_cls = &get_marker;
            return MHD_YES;
        }
        uint64_t t0 = now_us();
        /* RFC 9110 §15.5.14: refuse an announced body over the limit before
         * reading it. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && !strcmp(method, MHD_HTTP_METHOD_POST)) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (!errno && !*end && n > atomic_load(&max_body_limit))
                return answer(c, method, url, NULL, 0, true, t0);
        }
        struct post_state *ps = malloc(sizeof(*ps)); /* the only allocation of a POST */
        if (!ps)
            return MHD_NO;
        ps->buf = ps->small;
        ps->len = 0;
        ps->cap = sizeof(ps->small);
        ps->too_large = false;
        ps->t0 = t0;
        *req_cls = ps;
        return MHD_YES;
    }
    if (*req_cls == &get_marker) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0; /* a GET body means nothing */
            return MHD_YES;
        }
        enum MHD_Result r;
        uint64_t t0 = now_us();
        if (published(c, method, url, t0, &r))
            return r;
        return answer(c, method, url, NULL, 0, false, t0);
    }
    struct post_state *ps = *req_cls;
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        size_t limit = atomic_load(&max_body_limit);
        *upload_data_size = 0;
        if (ps->too_large || ps->len + n > limit || strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
            ps->too_large = true;
            ps->len += n;
            /* a body far over the limit: stop reading it */
            return ps->len > 4 * limit ? MHD_NO : MHD_YES;
        }
        if (ps->len + n > ps->cap) {
            size_t cap = ps->cap * 2;
            while (cap < ps->len + n)
                cap *= 2;
            uint8_t *nb = ps->buf == ps->small ? malloc(cap) : realloc(ps->buf, cap);
            if (!nb)
                return MHD_NO;
            if (ps->buf == ps->small)
                memcpy(nb, ps->small, ps->len);
            ps->buf = nb;
            ps->cap = cap;
        }
        memcpy(ps->buf + ps->len, upload_data, n);
        ps->len += n;
        return MHD_YES;
    }
    /* HEAD of a published CRL; other methods get their 405 from lib/http */
    enum MHD_Result pr;
    if (!ps->too_large && published(c, method, url, ps->t0, &pr))
        return pr;
    bool post = !strcmp(method, MHD_HTTP_METHOD_POST);
    return answer(c, method, url, post ? ps->buf : NULL, post ? ps->len : 0,
                  post && ps->too_large, ps->t0);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    if (*req_cls && *req_cls != &get_marker) {
        struct post_state *ps = *req_cls;
        if (ps->buf != ps->small)
            free(ps->buf);
        free(ps);
    }
    *req_cls = NULL;
    atomic_fetch_sub(&serve_srv.in_flight, 1);
}

/* ---- connections ------------------------------------------------------------------ */

static atomic_long open_connections; /* on the OCSP listener */
static long connection_cap;          /* what libmicrohttpd was given */
static atomic_bool at_cap;

/* At the cap libmicrohttpd stops accepting: new connections wait in the
 * listen backlog, and the kernel refuses them once that is full.  Said once
 * when the cap is reached, and again when a tenth of it is free. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    (void)socket_context;
    int delta = toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;
    serve_metrics_connection(delta);
    long open = atomic_fetch_add(&open_connections, delta) + delta;
    char n[24], cap[24];
    snprintf(n, sizeof(n), "%ld", open);
    snprintf(cap, sizeof(cap), "%ld", connection_cap);
    if (delta > 0 && open >= connection_cap && !atomic_exchange(&at_cap, true))
        serve_log("warn", "connection limit reached: new connections wait in the listen backlog",
                  "open", n, "limit", cap, (const char *)NULL);
    else if (delta < 0 && open <= connection_cap - (connection_cap + 9) / 10 &&
             atomic_load(&at_cap) && atomic_exchange(&at_cap, false))
        serve_log("info", "accepting connections again", "open", n, "limit", cap,
                  (const char *)NULL);
}

/* Descriptors the process needs besides its connections: what is open now
 * (standard streams, the log, the listening sockets), an epoll and an eventfd
 * per worker thread, the admin listener and its 64 connections, and room for
 * the files opened while running (index.txt and credential reloads, SIGHUP,
 * a PKCS#11 module). */
static long fd_reserve(const struct serve_config *conf)
{
    long open_now = 16;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        open_now = -1; /* the directory's own descriptor */
        while (readdir(d))
            open_now++;
        open_now -= 2; /* "." and ".." */
        closedir(d);
    }
    return open_now + 2 * conf->threads + 4 + (conf->admin_addr ? 64 + 8 : 0) + 64;
}

/* The connection cap the open-file limit allows.  The soft limit is raised
 * toward the hard one as far as --max-connections needs; when even the hard
 * limit is too low the cap is lowered, with a warning, so that accept() never
 * fails for want of a descriptor (libmicrohttpd 0.9.75 then retries in a busy
 * loop, logging each time, in a worker thread that holds no connection) and
 * reloads always find one to open files with. */
static long connection_limit(const struct serve_config *conf)
{
    long want = conf->max_connections, reserve = fd_reserve(conf);
    rlim_t need = (rlim_t)(want + reserve);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        struct rlimit up = rl;
        up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl = up;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    long cap = (long)rl.rlim_cur - reserve;
    if (cap < conf->threads)
        cap = conf->threads; /* one per worker thread at least */
    char w[24], c[24], nofile[24];
    snprintf(w, sizeof(w), "%ld", want);
    snprintf(c, sizeof(c), "%ld", cap);
    snprintf(nofile, sizeof(nofile), "%llu", (unsigned long long)rl.rlim_cur);
    serve_log("warn", "the open-file limit is too low for --max-connections: connection cap lowered",
              "max_connections", w, "cap", c, "open_file_limit", nofile, "hint",
              "raise the limit (ulimit -n, systemd LimitNOFILE=)", (const char *)NULL);
    return cap;
}

/* Keep the request-target as received: lib/http percent-decodes it itself. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* libmicrohttpd's messages: at most MHD_LOG_BURST of one kind (its format
 * string) per MHD_LOG_WINDOW seconds, so that a flood (thousands of clients
 * resetting their connections, descriptors running out) does not become a
 * flood of log lines.  How many were held back is logged with the next one let
 * through, or by serve_http_tick() once the window is over. */
#define MHD_LOG_KINDS 32
#define MHD_LOG_BURST 5
#define MHD_LOG_WINDOW 10

static struct mhd_log_kind {
    const char *fmt;
    time_t window;
    unsigned passed;
    unsigned long held;
    char last[160];
} mhd_log_kinds[MHD_LOG_KINDS];
static pthread_mutex_t mhd_log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_held(const char *msg, unsigned long held)
{
    char n[24];
    snprintf(n, sizeof(n), "%lu", held);
    serve_log("warn", "libmicrohttpd messages held back (rate limit)", "component", "http",
              "held", n, "last", msg, (const char *)NULL);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    time_t now = time(NULL);
    unsigned long held = 0;
    char last[160] = "";
    bool pass = true;
    pthread_mutex_lock(&mhd_log_lock);
    struct mhd_log_kind *k = NULL;
    for (size_t i = 0; i < MHD_LOG_KINDS && !k; i++)
        if (mhd_log_kinds[i].fmt == fmt || !mhd_log_kinds[i].fmt)
            k = &mhd_log_kinds[i];
    if (k) { /* a full table lets every message through */
        if (!k->fmt || now - k->window >= MHD_LOG_WINDOW) {
            held = k->held;
            snprintf(last, sizeof(last), "%s", k->last);
            k->fmt = fmt;
            k->window = now;
            k->passed = 0;
            k->held = 0;
        }
        if (k->passed < MHD_LOG_BURST) {
            k->passed++;
        } else {
            k->held++;
            snprintf(k->last, sizeof(k->last), "%s", msg);
            pass = false;
        }
    }
    pthread_mutex_unlock(&mhd_log_lock);
    if (held)
        log_held(last, held);
    if (pass)
        serve_log("warn", msg, "component", "http", (const char *)NULL);
}

/* Log the counts held back in windows that are over (all: every count). */
static void mhd_log_flush(bool all)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < MHD_LOG_KINDS; i++) {
        unsigned long held = 0;
        char last[160];
        pthread_mutex_lock(&mhd_log_lock);
        struct mhd_log_kind *k = &mhd_log_kinds[i];
        if (k->fmt && k->held && (all || now - k->window >= MHD_LOG_WINDOW)) {
            held = k->held;
            snprintf(last, sizeof(last), "%s", k->last);
            k->held = 0;
            k->passed = 0;
            k->window = now;
        }
        pthread_mutex_unlock(&mhd_log_lock);
        if (held)
            log_held(last, held);
    }
}

void serve_http_tick(void) { mhd_log_flush(false); }

/* ---- admin -------------------------------------------------------------------------- */

static enum MHD_Result on_admin(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version,
                                const char *upload_data, size_t *upload_data_size,
                                void **req_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    (void)req_cls;
    if (*upload_data_size)
        return MHD_NO;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(c, 405, "text/plain; charset=utf-8", "use GET\n", false);
    if (!strcmp(url, "/healthz")) {
        char dbmsg[2048];
        pthread_rwlock_rdlock(&serve_srv.lock);
        qpki_status st = qpki_responder_health(serve_srv.gen->r);
        /* CAs answered from CRLs: one line per CRL; a stale one is unhealthy */
        bool crl_stale = false;
        char *crl = serve_crl_health(serve_srv.gen, &crl_stale);
        /* CAs answered from PostgreSQL (--db): degraded still answers normally from
         * the table (200: keep this node in the balancer); stale answers tryLater
         * (503: prefer other nodes) */
        enum serve_db_state db = serve_gen_db_state(serve_srv.gen, dbmsg, sizeof(dbmsg));
        pthread_rwlock_unlock(&serve_srv.lock);
        char msg[256];
        if (st != QPKI_OK)
            snprintf(msg, sizeof(msg), "unhealthy: %s\n", qpki_strerror(st));
        else if (crl_stale)
            snprintf(msg, sizeof(msg), "unhealthy: a CRL is past its nextUpdate (tryLater)\n");
        else if (db == SERVE_DB_STALE)
            snprintf(msg, sizeof(msg), "stale\n");
        else if (db == SERVE_DB_DEGRADED)
            snprintf(msg, sizeof(msg), "degraded\n");
        else
            snprintf(msg, sizeof(msg), "ok\n");
        size_t n = strlen(msg) + strlen(dbmsg) + (crl ? strlen(crl) : 0) + 1;
        char *body = malloc(n);
        if (!body) {
            free(crl);
            return MHD_NO;
        }
        snprintf(body, n, "%s%s%s", msg, dbmsg, crl ? crl : "");
        free(crl);
        bool healthy = st == QPKI_OK && !crl_stale && db != SERVE_DB_STALE;
        return send_text(c, healthy ? 200 : 503, "text/plain; charset=utf-8", body, true);
    }
    if (!strcmp(url, "/metrics")) {
        char *text = serve_metrics_render();
        if (!text)
            return MHD_NO;
        return send_text(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, true);
    }
    return send_text(c, 404, "text/plain; charset=utf-8",
                     "not found: /healthz and /metrics are served here\n", false);
}

/* ---- start and stop ----------------------------------------------------------------- */

bool serve_http_start(const struct serve_config *conf, bool admin, struct serve_listener **out)
{
    *out = NULL;
    struct serve_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        cli_error("out of memory");
        return false;
    }
    l->admin = admin;
    l->fd = open_listener(admin ? conf->admin_addr : conf->addr);
    if (l->fd < 0) {
        free(l);
        return false;
    }
    describe(l->fd, l->address, sizeof(l->address));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (admin) {
        l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_admin, NULL,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                                     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)l->fd,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                     MHD_OPTION_END);
    } else {
        serve_http_set_max_body((size_t)conf->max_body);
        /* per-connection memory: the request line and headers must fit; libmicrohttpd
         * clears all of it between requests, so no more than needed */
        size_t memory = (size_t)conf->max_url + 4096;
        if (memory < 8192)
            memory = 8192;
        connection_cap = connection_limit(conf);
        struct MHD_OptionItem pool[] = {
            {conf->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
             (intptr_t)conf->threads, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        /* a client address may hold at most this many connections (0: no cap;
         * behind a proxy every client has the proxy's address) */
        struct MHD_OptionItem per_ip[] = {
            {conf->max_connections_per_ip > 0 ? MHD_OPTION_PER_IP_CONNECTION_LIMIT : MHD_OPTION_END,
             (intptr_t)conf->max_connections_per_ip, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        l->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_ocsp, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)l->fd,
            /* one thread: libmicrohttpd's internal thread alone (it refuses a
             * pool of 0 or 1 with a warning), so the option is only given for 2+ */
            MHD_OPTION_ARRAY, pool, MHD_OPTION_ARRAY, per_ip,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)connection_cap,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf->timeout,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
            MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
            MHD_OPTION_END);
    }
    if (!l->daemon) {
        cli_error("cannot start the HTTP server on %s", l->address);
        close(l->fd);
        free(l);
        return false;
    }
    *out = l;
    return true;
}

const char *serve_http_address(const struct serve_listener *l) { return l->address; }

void serve_http_stop(struct serve_listener **lp, long drain_seconds)
{
    struct serve_listener *l = lp ? *lp : NULL;
    if (!l)
        return;
    /* stop accepting; requests on open connections are still answered, with
     * "Connection: close" */
    MHD_socket fd = MHD_quiesce_daemon(l->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    if (!l->admin) {
        uint64_t deadline = now_us() + (uint64_t)drain_seconds * 1000000u;
        while (atomic_load(&serve_srv.in_flight) > 0 && now_us() < deadline) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        long left = atomic_load(&serve_srv.in_flight);
        if (left > 0) {
            char n[24];
            snprintf(n, sizeof(n), "%ld", left);
            serve_log("warn", "drain timeout: closing connections with requests in flight",
                      "requests", n, (const char *)NULL);
        }
    }
    MHD_stop_daemon(l->daemon);
    mhd_log_flush(true);
    free(l);
    *lp = NULL;
}
