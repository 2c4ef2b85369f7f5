/* SPDX-License-Identifier: Apache-2.0 */
/* lib/http/rfc9919.c - OCSP over HTTP: method, request-target, headers and body
 * in; status, headers and body out.  No sockets, no clock without override.
 *
 * Sources: RFC 6960 Appendix A (HTTP binding), RFC 9919 (Lightweight OCSP
 * Profile, obsoletes RFC 5019) §5 transport and §6.2 HTTP proxies, RFC 9110
 * (HTTP semantics: dates, entity tags, conditional requests). */
#include <string.h>
#include <time.h>

#include <qpki/http.h>

#include "../der/der.h"
#include "../der/pem.h"
#include "../internal.h"
#include "../responder/cache.h"
#include "http_internal.h"

#define HTTP_MIN_TARGET 16
#define HTTP_MAX_TARGET_CAP (1024 * 1024)
#define HTTP_MAX_BODY_CAP (16 * 1024 * 1024)
/* Work space on the stack for GET decoding; longer targets allocate. */
#define HTTP_STACK_WORK 2048
#define HTTP_MAX_HEADERS 8

struct qpki_http {
    size_t max_body;
    size_t max_target;
    qpki_clock_fn clock;
    void *clock_user;
};

struct qpki_http_reply {
    unsigned status;
    size_t nheaders;
    const char *name[HTTP_MAX_HEADERS];
    const char *value[HTTP_MAX_HEADERS];
    const uint8_t *body;
    size_t body_len;
    qpki_answer *answer;                 /* owned; the body borrows its bytes */
    char content_length[24];
    char last_modified[HTTP_DATE_LEN + 1];
    char expires[HTTP_DATE_LEN + 1];
    char etag[2 + 2 * 32 + 1];           /* "<64 hex digits>" */
    char cache_control[80];
};

static const char ocsp_response_type[] = "application/ocsp-response";
static const char text_type[] = "text/plain; charset=utf-8";

/* ---- small helpers ------------------------------------------------------------ */

static void add_header(struct qpki_http_reply *rep, const char *name, const char *value)
{
    if (rep->nheaders < HTTP_MAX_HEADERS) {
        rep->name[rep->nheaders] = name;
        rep->value[rep->nheaders] = value;
        rep->nheaders++;
    }
}

static qpki_time clock_now(const struct qpki_http *h)
{
    if (h->clock)
        return h->clock(h->clock_user);
    return (qpki_time)time(NULL);
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static bool ascii_case_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return false;
    return *a == *b;
}

/* ---- numbers and dates ------------------------------------------------------------ */

/* Exactly n decimal digits of v (zero-padded). */
static void put_digits(char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Decimal text of v, NUL-terminated; returns the length (out: 21 bytes). */
static size_t put_uint(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* RFC 9110 §5.6.7: "IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT",
 * e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; a sender MUST generate this format. */
void http_format_date(qpki_time t, char out[HTTP_DATE_LEN + 1])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const qpki_time min_t = -62135596800;  /* 0001-01-01T00:00:00Z */
    const qpki_time max_t = 253402300799;  /* 9999-12-31T23:59:59Z */
    if (t < min_t)
        t = min_t;
    if (t > max_t)
        t = max_t;
    int year, mon, day, hour, min, sec;
    qpki_time_to_fields(t, &year, &mon, &day, &hour, &min, &sec);
    int64_t since_epoch = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t wday = (since_epoch + 4) % 7;  /* 1970-01-01 was a Thursday */
    if (wday < 0)
        wday += 7;
    /* written by hand: this runs twice per answer on the hot path */
    memcpy(out, days[wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put_digits(out + 5, (uint64_t)day, 2);
    out[7] = ' ';
    memcpy(out + 8, months[mon - 1], 3);
    out[11] = ' ';
    put_digits(out + 12, (uint64_t)year, 4);
    out[16] = ' ';
    put_digits(out + 17, (uint64_t)hour, 2);
    out[19] = ':';
    put_digits(out + 20, (uint64_t)min, 2);
    out[22] = ':';
    put_digits(out + 23, (uint64_t)sec, 2);
    memcpy(out + 25, " GMT", 5);
}

/* ---- GET request-target ------------------------------------------------------- */

/* The bytes have the shape of an OCSPRequest (RFC 6960 §4.1.1), down to the
 * first CertID's hash algorithm OID, and nothing follows them:
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] ... }
 *   TBSRequest ::= SEQUENCE { version [0] ..., requestorName [1] ...,
 *                             requestList SEQUENCE OF Request, ... }
 *   Request ::= SEQUENCE { reqCert CertID, ... }
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, ... }
 * The full parse happens in the responder; this tells the request apart from
 * the other suffixes of the path, including the nested SEQUENCEs of a request
 * that end where it ends (a suffix after a '/' inside the base64 can be exactly
 * the encoding of such an inner element). */
static bool is_ocsp_request_shape(const uint8_t *p, size_t n)
{
    der_cursor c = der_cursor_init(p, n), outer, tbs, list, request, certid, alg, skip;
    der_view oid;
    if (der_read_tlv(&c, DER_SEQUENCE, &outer) != QPKI_OK || !der_at_end(&c) ||
        der_read_tlv(&outer, DER_SEQUENCE, &tbs) != QPKI_OK)
        return false;
    if (der_next_is(&tbs, DER_CTX_CONS(0)) && der_read_tlv(&tbs, DER_CTX_CONS(0), &skip) != QPKI_OK)
        return false;
    if (der_next_is(&tbs, DER_CTX_CONS(1)) && der_read_tlv(&tbs, DER_CTX_CONS(1), &skip) != QPKI_OK)
        return false;
    return der_read_tlv(&tbs, DER_SEQUENCE, &list) == QPKI_OK &&
           der_read_tlv(&list, DER_SEQUENCE, &request) == QPKI_OK &&
           der_read_tlv(&request, DER_SEQUENCE, &certid) == QPKI_OK &&
           der_read_tlv(&certid, DER_SEQUENCE, &alg) == QPKI_OK &&
           der_read_oid(&alg, &oid) == QPKI_OK;
}

/* A candidate suffix is decoded whole only when its first eight characters
 * announce a definite-length SEQUENCE whose encoding is exactly as long as the
 * suffix (padded or not), and at most GET_MAX_FULL_DECODES of those are tried:
 * otherwise a target of n characters such as "/M/M/M..." costs n/2 decodes of
 * up to n characters each (8 KiB: 16 million characters for one request).  A
 * suffix that fails the check cannot decode to a request: the request's DER ends
 * where the suffix ends, so its length fixes the suffix's. */
#define GET_MAX_FULL_DECODES 4

static bool b64_length_encodes(size_t der_len, size_t chars)
{
    size_t padded = (der_len + 2) / 3 * 4;
    size_t bare = der_len / 3 * 4 + (der_len % 3 ? der_len % 3 + 1 : 0);
    return chars == padded || chars == bare;
}

static bool candidate_length_fits(const char *cand, size_t cand_len)
{
    if (cand_len <= 16)
        return true; /* short: the whole decode is as cheap as the check */
    uint8_t h[6];
    size_t got;
    if (b64_decode(cand, 8, 0, h, sizeof(h), &got) != QPKI_OK || got != 6 || h[0] != 0x30)
        return false;
    size_t hl, len = 0;
    if (h[1] < 0x80) {
        hl = 2;
        len = h[1];
    } else {
        size_t k = h[1] & 0x7f;
        if (k == 0 || k > 4)
            return false;
        hl = 2 + k;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | h[2 + i];
    }
    return b64_length_encodes(hl + len, cand_len);
}

qpki_status http_decode_get_target(const char *target, size_t n, uint8_t *work,
                                   size_t work_cap, const uint8_t **der, size_t *der_len)
{
    QPKI_ENSURE(target && work && der && der_len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(work_cap >= 2 * n + 4, QPKI_ERR_BUFFER_TOO_SMALL);

    /* RFC 9112 §3.2.2: a request-target in absolute-form ("http://host/path");
     * keep the path. */
    size_t start = 0;
    const char *scheme_end = n >= 3 ? memchr(target, ':', n) : NULL;
    if (scheme_end && (size_t)(scheme_end - target) + 3 <= n && scheme_end[1] == '/' &&
        scheme_end[2] == '/' && memchr(target, '/', (size_t)(scheme_end - target)) == NULL) {
        size_t authority = (size_t)(scheme_end - target) + 3;
        const char *slash = memchr(target + authority, '/', n - authority);
        start = slash ? (size_t)(slash - target) : n;
    }
    /* The query and fragment are not part of the path. */
    size_t end = start;
    while (end < n && target[end] != '?' && target[end] != '#')
        end++;

    /* RFC 6960 A.1: "GET {url}/{url-encoding of base-64 encoding of the DER
     * encoding of the OCSPRequest}".  Undo the url-encoding (%2B %2F %3D and any
     * other %XX); clients that form-encode '+' send a space or %20 instead, so a
     * space decodes to '+'. */
    char *path = (char *)work;
    size_t len = 0;
    for (size_t i = start; i < end; i++) {
        char c = target[i];
        if (c == '%') {
            QPKI_ENSURE(i + 2 < end, QPKI_ERR_DECODE);
            int hi = qpki_hex_digit(target[i + 1]), lo = qpki_hex_digit(target[i + 2]);
            QPKI_ENSURE(hi >= 0 && lo >= 0, QPKI_ERR_DECODE);
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == ' ')
            c = '+';
        path[len++] = c;
    }
    path[len] = '\0';

    /* Base64 contains '/', so the request is not simply the last segment: try
     * every suffix that begins after a '/', longest first.  A DER SEQUENCE
     * (0x30) always encodes to a leading 'M', which discards most candidates
     * without decoding them. */
    uint8_t *out = work + len + 1;
    size_t out_cap = work_cap - (len + 1);
    unsigned full_decodes = 0;
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/' || i + 1 >= len || path[i + 1] != 'M')
            continue;
        const char *cand = path + i + 1;
        size_t cand_len = len - i - 1;
        if (!candidate_length_fits(cand, cand_len))
            continue;
        if (++full_decodes > GET_MAX_FULL_DECODES)
            break;
        size_t got;
        if (b64_decode(cand, cand_len, B64_OPTIONAL_PAD, out, out_cap, &got) != QPKI_OK)
            continue;
        if (!is_ocsp_request_shape(out, got))
            continue;
        *der = out;
        *der_len = got;
        return QPKI_OK;
    }
    return QPKI_ERR_DECODE;
}

/* ---- entity tags ---------------------------------------------------------------- */

/* RFC 9110 §13.1.2: "If-None-Match = "*" / #entity-tag"; "A recipient MUST use
 * the weak comparison function when comparing entity tags for If-None-Match".
 * §8.8.3: entity-tag = [ weak ] opaque-tag; weak = %s"W/"; opaque-tag = DQUOTE
 * *etagc DQUOTE.  Weak comparison ignores the W/ prefix. */
bool http_if_none_match(const char *field, const char *etag)
{
    if (!field || !etag)
        return false;
    size_t etag_len = strlen(etag);
    const char *p = field;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return false;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;  /* not an entity-tag: stop, no match */
        const char *close = strchr(p + 1, '"');
        if (!close)
            return false;
        size_t tag_len = (size_t)(close - p) + 1;
        if (tag_len == etag_len && memcmp(p, etag, etag_len) == 0)
            return true;
        p = close + 1;
    }
}

/* ---- configuration ------------------------------------------------------------- */

void qpki_http_request_init(qpki_http_request *req)
{
    if (!req)
        return;
    memset(req, 0, sizeof(*req));
    req->struct_size = (uint32_t)sizeof(*req);
}

qpki_status qpki_http_new(qpki_http **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    struct qpki_http *h = qpki_calloc(1, sizeof(*h));
    QPKI_ENSURE(h, QPKI_ERR_NOMEM);
    h->max_body = QPKI_HTTP_DEFAULT_MAX_BODY;
    h->max_target = QPKI_HTTP_DEFAULT_MAX_TARGET;
    *out = h;
    return QPKI_OK;
}

void qpki_http_free(qpki_http **h)
{
    if (!h || !*h)
        return;
    qpki_free(*h);
    *h = NULL;
}

qpki_status qpki_http_set_max_body(qpki_http *h, size_t bytes)
{
    QPKI_ENSURE(h && bytes >= 1 && bytes <= HTTP_MAX_BODY_CAP, QPKI_ERR_INVALID_ARG);
    h->max_body = bytes;
    return QPKI_OK;
}

qpki_status qpki_http_set_max_target(qpki_http *h, size_t bytes)
{
    QPKI_ENSURE(h && bytes >= HTTP_MIN_TARGET && bytes <= HTTP_MAX_TARGET_CAP,
                QPKI_ERR_INVALID_ARG);
    h->max_target = bytes;
    return QPKI_OK;
}

qpki_status qpki_http_set_clock(qpki_http *h, qpki_clock_fn fn, void *user)
{
    QPKI_ENSURE(h, QPKI_ERR_INVALID_ARG);
    h->clock = fn;
    h->clock_user = user;
    return QPKI_OK;
}

size_t qpki_http_max_body(const qpki_http *h) { return h ? h->max_body : 0; }
size_t qpki_http_max_target(const qpki_http *h) { return h ? h->max_target : 0; }

/* ---- replies --------------------------------------------------------------------- */

static qpki_status reply_new(unsigned status, struct qpki_http_reply **out)
{
    struct qpki_http_reply *rep = qpki_calloc(1, sizeof(*rep));
    QPKI_ENSURE(rep, QPKI_ERR_NOMEM);
    rep->status = status;
    *out = rep;
    return QPKI_OK;
}

static const char *error_text(unsigned status)
{
    switch (status) {
    case 400: return "bad request\n";
    case 405: return "method not allowed: OCSP uses GET or POST\n";
    case 413: return "request body too large\n";
    case 414: return "request-target too long\n";
    default: return NULL;
    }
}

qpki_status qpki_http_reply_error(unsigned http_status, qpki_http_reply **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    const char *text = error_text(http_status);
    QPKI_ENSURE(text, QPKI_ERR_INVALID_ARG);
    struct qpki_http_reply *rep;
    QPKI_GUARD(reply_new(http_status, &rep));
    rep->body = (const uint8_t *)text;
    rep->body_len = strlen(text);
    (void)put_uint(rep->content_length, rep->body_len);
    add_header(rep, "Content-Type", text_type);
    add_header(rep, "Content-Length", rep->content_length);
    /* RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field
     * in a 405 response containing a list of the target resource's currently
     * supported methods." */
    if (http_status == 405)
        add_header(rep, "Allow", "GET, POST");
    /* 405 and 414 are heuristically cacheable (RFC 9110 §15.1); these answers
     * depend on limits that may change. */
    add_header(rep, "Cache-Control", "no-cache");
    *out = rep;
    return QPKI_OK;
}

/* Build the reply for an answer (ownership of the answer moves to the reply). */
static qpki_status reply_for_answer(const struct qpki_http *h, const qpki_http_request *req,
                                    qpki_answer *answer, struct qpki_http_reply **out)
{
    struct qpki_http_reply *rep;
    qpki_status rc = reply_new(200, &rep);
    if (rc != QPKI_OK) {
        qpki_answer_free(&answer);
        return rc;
    }
    rep->answer = answer;
    qpki_answer_bytes(answer, &rep->body, &rep->body_len);

    qpki_time this_update = qpki_answer_this_update(answer);
    qpki_time next_update = qpki_answer_next_update(answer);
    bool signed_answer = qpki_answer_resp_status(answer) == QPKI_OCSP_RESP_SUCCESSFUL;
    bool nonce = qpki_answer_nonce_echoed(answer);
    bool cacheable = signed_answer && !nonce && next_update > 0;

    /* RFC 6960 A.1: "Content-Type: application/ocsp-response". */
    add_header(rep, "Content-Type", ocsp_response_type);
    (void)put_uint(rep->content_length, rep->body_len);
    add_header(rep, "Content-Length", rep->content_length);
    if (!signed_answer) {
        /* Unsigned error answers say nothing about any certificate and may
         * change with the next request: make every cache revalidate. */
        add_header(rep, "Cache-Control", "no-cache");
        *out = rep;
        return QPKI_OK;
    }

    /* RFC 5019 §6.2 "HTTP Proxies", kept by RFC 9919: responders SHOULD send
     * "last-modified: ... the same as the thisUpdate timestamp", "expires: ...
     * the same as the nextUpdate timestamp", "ETag: A string that identifies a
     * particular response. A cryptographic hash of the response is a good ETag
     * value" and "cache-control: max-age=<n> ... public ... no-transform ...
     * must-revalidate" with n "earlier than nextUpdate". */
    if (this_update > 0) {
        http_format_date(this_update, rep->last_modified);
        add_header(rep, "Last-Modified", rep->last_modified);
    }
    if (next_update > 0) {
        http_format_date(next_update, rep->expires);
        add_header(rep, "Expires", rep->expires);
    }
    if (!cacheable) {
        /* A response that echoes a nonce answers one request only (RFC 9654);
         * no cache may keep it. */
        add_header(rep, "Cache-Control", nonce ? "no-store" : "no-cache");
        *out = rep;
        return QPKI_OK;
    }

    /* computed once per signed response and shared by its cache hits */
    uint8_t digest[32];
    rc = answer_body_sha256(answer, digest);
    if (rc != QPKI_OK) {
        qpki_http_reply_free(&rep);
        return rc;
    }
    rep->etag[0] = '"';
    qpki_hex_encode(digest, 32, rep->etag + 1);
    rep->etag[65] = '"';
    rep->etag[66] = '\0';
    add_header(rep, "ETag", rep->etag);

    qpki_time now = clock_now(h);
    int64_t max_age = next_update > now ? next_update - now : 0;
    static const char directives[] = ", public, no-transform, must-revalidate";
    memcpy(rep->cache_control, "max-age=", 8);
    size_t n = 8 + put_uint(rep->cache_control + 8, (uint64_t)max_age);
    memcpy(rep->cache_control + n, directives, sizeof(directives));
    add_header(rep, "Cache-Control", rep->cache_control);

    /* RFC 9110 §13.1.2: when the condition is false for GET, "the origin server
     * MUST NOT perform the requested method; instead, the origin server MUST
     * respond with ... 304 (Not Modified)".  §15.4.5: the 304 carries the
     * Cache-Control, Expires and ETag a 200 would have had, and no content. */
    if (req->if_none_match && strcmp(req->method, "GET") == 0 &&
        http_if_none_match(req->if_none_match, rep->etag)) {
        rep->status = 304;
        rep->body_len = 0;
        size_t kept = 0;
        for (size_t i = 0; i < rep->nheaders; i++) {
            if (strcmp(rep->name[i], "Content-Type") == 0 ||
                strcmp(rep->name[i], "Content-Length") == 0)
                continue;
            rep->name[kept] = rep->name[i];
            rep->value[kept] = rep->value[i];
            kept++;
        }
        rep->nheaders = kept;
    }
    *out = rep;
    return QPKI_OK;
}

static qpki_status answer_malformed(const struct qpki_http *h, const qpki_http_request *req,
                                    struct qpki_http_reply **out)
{
    qpki_answer *answer = NULL;
    QPKI_GUARD(qpki_answer_new_error(QPKI_OCSP_RESP_MALFORMED, &answer));
    return reply_for_answer(h, req, answer, out);
}

static qpki_status answer_der(const struct qpki_http *h, qpki_responder *r,
                              const qpki_http_request *req, const uint8_t *der, size_t len,
                              struct qpki_http_reply **out)
{
    qpki_answer *answer = NULL;
    QPKI_GUARD(qpki_responder_respond(r, der, len, &answer));
    return reply_for_answer(h, req, answer, out);
}

static qpki_status handle_get(const struct qpki_http *h, qpki_responder *r,
                              const qpki_http_request *req, struct qpki_http_reply **out)
{
    uint8_t stack_work[HTTP_STACK_WORK];
    uint8_t *work = stack_work;
    size_t work_cap = sizeof(stack_work);
    if (2 * req->target_len + 4 > work_cap) {
        work_cap = 2 * req->target_len + 4;
        work = qpki_malloc(work_cap);
        QPKI_ENSURE(work, QPKI_ERR_NOMEM);
    }
    const uint8_t *der;
    size_t der_len;
    qpki_status rc;
    if (http_decode_get_target(req->target, req->target_len, work, work_cap, &der, &der_len) ==
        QPKI_OK)
        rc = answer_der(h, r, req, der, der_len, out);
    else
        rc = answer_malformed(h, req, out);
    if (work != stack_work)
        qpki_free(work);
    return rc;
}

qpki_status qpki_http_handle(const qpki_http *h, qpki_responder *r,
                             const qpki_http_request *req, qpki_http_reply **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(h && r && req && req->method, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(req->struct_size >= sizeof(qpki_http_request), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(req->target || req->target_len == 0, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(req->body || req->body_len == 0, QPKI_ERR_INVALID_ARG);

    /* RFC 6960 A.1: "An OCSP request using the GET method is constructed as
     * follows: ...  An OCSP request using the POST method is constructed as
     * follows: ..."; nothing else is defined. */
    bool get = strcmp(req->method, "GET") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    if (!get && !post)
        return qpki_http_reply_error(405, out);
    /* RFC 9110 §15.5.15: 414 "the target URI is longer than the server is
     * willing to interpret". */
    if (req->target_len > h->max_target)
        return qpki_http_reply_error(414, out);
    if (get)
        return handle_get(h, r, req, out);

    /* RFC 9110 §15.5.14: 413 "the request content is larger than the server is
     * willing or able to process". */
    if (req->body_len > h->max_body)
        return qpki_http_reply_error(413, out);
    /* RFC 6960 A.1 POST: "Content-Type: application/ocsp-request" with the DER
     * as the body.  The type is not checked: clients that omit or misstate it
     * still send a DER OCSPRequest, and anything else is malformedRequest. */
    if (req->body_len == 0)
        return answer_malformed(h, req, out);
    return answer_der(h, r, req, req->body, req->body_len, out);
}

void qpki_http_reply_free(qpki_http_reply **reply)
{
    if (!reply || !*reply)
        return;
    qpki_answer_free(&(*reply)->answer);
    qpki_free(*reply);
    *reply = NULL;
}

unsigned qpki_http_reply_status(const qpki_http_reply *reply) { return reply ? reply->status : 0; }

size_t qpki_http_reply_header_count(const qpki_http_reply *reply)
{
    return reply ? reply->nheaders : 0;
}

bool qpki_http_reply_header(const qpki_http_reply *reply, size_t i, const char **name,
                            const char **value)
{
    if (!reply || i >= reply->nheaders)
        return false;
    if (name)
        *name = reply->name[i];
    if (value)
        *value = reply->value[i];
    return true;
}

const char *qpki_http_reply_header_value(const qpki_http_reply *reply, const char *name)
{
    if (!reply || !name)
        return NULL;
    for (size_t i = 0; i < reply->nheaders; i++)
        if (ascii_case_equal(reply->name[i], name))
            return reply->value[i];
    return NULL;
}

void qpki_http_reply_body(const qpki_http_reply *reply, const uint8_t **body, size_t *len)
{
    if (body)
        *body = reply ? reply->body : NULL;
    if (len)
        *len = reply ? reply->body_len : 0;
}

const qpki_answer *qpki_http_reply_answer(const qpki_http_reply *reply)
{
    return reply ? reply->answer : NULL;
}
