/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/log.c - the server's log: one line per event on stderr, logfmt
 *   ts=2025-06-15T15:06:40.123Z level=info msg=request method=GET code=200 ...
 * or JSON
 *   {"ts":"2025-06-15T15:06:40.123Z","level":"info","msg":"request","method":"GET",...}
 * Each line is written with one write(2), so lines from several threads never
 * interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qpki/types.h>

#include "serve.h"

static int log_format = SERVE_LOG_LOGFMT;
static bool log_quiet;

void serve_log_setup(int format, bool quiet)
{
    log_format = format;
    log_quiet = quiet;
}

bool serve_log_quiet(void) { return log_quiet; }

struct line {
    char buf[2048];
    size_t len;
    bool truncated;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof(l->buf) - 2) {
        n = sizeof(l->buf) - 2 - l->len;
        l->truncated = true;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s) { put(l, s, strlen(s)); }

static bool needs_quotes(const char *v)
{
    if (!*v)
        return true;
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
            return true;
    return false;
}

/* A string value: logfmt quotes when needed, JSON always; both escape '"', '\'
 * and control characters. */
static void put_escaped(struct line *l, const char *v, bool quote)
{
    if (quote)
        put(l, "\"", 1);
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(l, e, 2);
        } else if (c < 0x20) {
            char e[8];
            int n = c == '\n' ? snprintf(e, sizeof(e), "\\n")
                    : c == '\t' ? snprintf(e, sizeof(e), "\\t")
                                : snprintf(e, sizeof(e), "\\u%04x", c);
            put(l, e, (size_t)n);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    if (quote)
        put(l, "\"", 1);
}

static void field(struct line *l, const char *key, const char *value)
{
    if (!value)
        value = "";
    if (log_format == SERVE_LOG_JSON) {
        puts_(l, ",\"");
        puts_(l, key);
        puts_(l, "\":");
        put_escaped(l, value, true);
    } else {
        puts_(l, " ");
        puts_(l, key);
        puts_(l, "=");
        put_escaped(l, value, needs_quotes(value));
    }
}

static void field_num(struct line *l, const char *key, unsigned long long value)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", value);
    if (log_format == SERVE_LOG_JSON) {
        puts_(l, ",\"");
        puts_(l, key);
        puts_(l, "\":");
        puts_(l, num);
    } else {
        field(l, key, num);
    }
}

static void begin(struct line *l, const char *level, const char *msg)
{
    l->len = 0;
    l->truncated = false;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));
    if (log_format == SERVE_LOG_JSON) {
        puts_(l, "{\"ts\":\"");
        puts_(l, when);
        puts_(l, "\"");
    } else {
        puts_(l, "ts=");
        puts_(l, when);
    }
    field(l, "level", level);
    field(l, "msg", msg);
}

static void finish(struct line *l)
{
    if (log_format == SERVE_LOG_JSON)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    const char *p = l->buf;
    size_t left = l->len;
    while (left > 0) {
        ssize_t w = write(STDERR_FILENO, p, left);
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
}

void serve_log(const char *level, const char *msg, ...)
{
    struct line l;
    begin(&l, level, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        field(&l, key, value);
    }
    va_end(ap);
    finish(&l);
}

void serve_log_request(const struct serve_request_log *r)
{
    if (log_quiet)
        return;
    struct line l;
    begin(&l, "info", "request");
    field(&l, "method", r->method);
    field_num(&l, "code", r->code);
    if (r->answer) {
        const qpki_answer *a = r->answer;
        qpki_ocsp_resp_status rs = qpki_answer_resp_status(a);
        field(&l, "status", qpki_ocsp_resp_status_name(rs));
        const char *serial = qpki_answer_serial_hex(a);
        if (rs == QPKI_OCSP_RESP_SUCCESSFUL)
            field(&l, "cert_status", qpki_cert_status_name(qpki_answer_cert_status(a)));
        field(&l, "ca", r->ca ? r->ca : "-");
        field(&l, "serial", serial && *serial ? serial : "-");
        qpki_hash_alg h = qpki_answer_hash_alg(a);
        field(&l, "hash", h == QPKI_HASH_NONE ? "-" : qpki_hash_alg_name(h));
        field(&l, "nonce", qpki_answer_nonce_echoed(a) ? "y" : "n");
        field(&l, "cache", rs != QPKI_OCSP_RESP_SUCCESSFUL          ? "-"
                           : r->reused || qpki_answer_cache_hit(a) ? "hit"
                                                                   : "miss");
        if (qpki_answer_error(a) != QPKI_OK) {
            field(&l, "error", qpki_strerror(qpki_answer_error(a)));
            /* bounded by the library: field names, dotted OIDs, numbers */
            const char *detail = qpki_answer_error_detail(a);
            if (detail[0])
                field(&l, "detail", detail);
        }
        field_num(&l, "sign_us", r->reused ? 0 : qpki_answer_sign_us(a));
    }
    field_num(&l, "us", r->us);
    if (r->remote)
        field(&l, "remote", r->remote);
    finish(&l);
}

void serve_log_library(void *user, int level, const char *message)
{
    const char *ca = user;
    const char *lv = level <= QPKI_LOG_ERROR ? "error" : level == QPKI_LOG_WARNING ? "warn" : "info";
    if (level >= QPKI_LOG_DEBUG)
        return;
    if (ca)
        serve_log(lv, message, "ca", ca, (const char *)NULL);
    else
        serve_log(lv, message, (const char *)NULL);
}
