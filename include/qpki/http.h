/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/http.h - OCSP over HTTP (RFC 6960 Appendix A, RFC 9919 §5 and §6.2),
 * without sockets.
 *
 * A transport (libmicrohttpd, a CGI wrapper, an event loop of your own) hands
 * over the method, the raw request-target, two request headers and the body;
 * qpki_http_handle() answers through a qpki_responder and returns the HTTP
 * status, the response headers and the body to send.  The body borrows the
 * answer's bytes: nothing is copied.
 *
 * Requests
 *  - POST: the body is the DER OCSPRequest.  Content-Type is not required
 *    (RFC 6960 A.1 names application/ocsp-request; some clients omit it).
 *  - GET: "{any prefix}/{url-encoding of base64 of the DER}".  The request-target
 *    is percent-decoded (%2B %2F %3D, either case), a space (literal or %20)
 *    stands for '+', padding may be missing, the query is ignored and an
 *    absolute-form target ("http://host/...") is reduced to its path.  Because
 *    base64 itself contains '/', the request is found by trying the suffixes that
 *    start after each '/', LONGEST FIRST: the first one that decodes to DER with
 *    the shape of an OCSPRequest (nested SEQUENCEs down to the first CertID's
 *    hash algorithm OID) and no trailing bytes is the request.  So any prefix
 *    works ("/", "/ocsp/", "//", "/ca1/ocsp/"), as does base64 containing '/'
 *    or "//".  A
 *    prefix could only be mistaken for part of the request if a path segment
 *    began with 'M' followed by 'A'..'P' (base64 of 0x30) and the whole rest
 *    happened to decode to that shape; avoid such prefixes all the same.
 *  - Any other method: 405 with "Allow: GET, POST".  A request-target longer
 *    than the target limit: 414.  A body longer than the body limit: 413.
 *  - Bytes that are not an OCSPRequest (bad base64, bad DER, empty body) are
 *    answered like OpenSSL and Boulder do: HTTP 200 carrying the unsigned OCSP
 *    response malformedRequest, so OCSP clients see an OCSP error.
 *
 * Responses (status 200)
 *    Content-Type: application/ocsp-response
 *    Content-Length: <body length>
 *  successful answers without an echoed nonce (cacheable):
 *    Last-Modified: <thisUpdate>            (IMF-fixdate, RFC 9110 §5.6.7)
 *    Expires: <nextUpdate>
 *    ETag: "<lower-case hex SHA-256 of the body>"
 *    Cache-Control: max-age=<nextUpdate - now, at least 0>, public, no-transform, must-revalidate
 *  successful answers that echo a nonce (unique to one request):
 *    Last-Modified, Expires as above;  Cache-Control: no-store
 *  unsigned error answers (malformedRequest, unauthorized, tryLater, ...):
 *    Cache-Control: no-cache
 *  A cacheable answer whose ETag matches If-None-Match (weak comparison, "*"
 *  included, RFC 9110 §13.1.2) gets 304 with Last-Modified, Expires, ETag and
 *  Cache-Control and no body.
 *  HTTP errors (405, 413, 414, 400) carry a one-line text/plain body and
 *  "Cache-Control: no-cache".  The Date header is left to the transport.
 *  Transports that compute Content-Length themselves skip that header.
 *
 * Thread safety: a qpki_http is read-only once configured; qpki_http_handle may
 * be called from many threads at once.  A reply belongs to one thread. */
#ifndef QPKI_HTTP_H
#define QPKI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/responder.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default cap on a POST body (bytes). */
#define QPKI_HTTP_DEFAULT_MAX_BODY 65536
/* Default cap on the request-target of any request (bytes).  A GET request of 16
 * CertIDs with a nonce is about 1.5 KB of base64. */
#define QPKI_HTTP_DEFAULT_MAX_TARGET 8192

typedef struct qpki_http qpki_http;
typedef struct qpki_http_reply qpki_http_reply;

/* One HTTP request as the transport received it.  Initialise with
 * qpki_http_request_init(), then fill the fields; struct_size lets later
 * versions append fields.  All pointers are borrowed for the call. */
typedef struct qpki_http_request {
    uint32_t struct_size;        /* sizeof(qpki_http_request) as the caller was built */
    const char *method;          /* "GET", "POST", ... (case-sensitive, RFC 9110 §9.1) */
    const char *target;          /* raw request-target, not percent-decoded */
    size_t target_len;
    const char *content_type;    /* Content-Type header value, or NULL */
    const char *if_none_match;   /* If-None-Match header value, or NULL */
    const uint8_t *body;         /* request body (POST), may be NULL when body_len is 0 */
    size_t body_len;
} qpki_http_request;

QPKI_API void qpki_http_request_init(qpki_http_request *req);

QPKI_API qpki_status qpki_http_new(qpki_http **out);
QPKI_API void qpki_http_free(qpki_http **h);
/* Largest accepted POST body [QPKI_HTTP_DEFAULT_MAX_BODY]; 1 .. 16 MiB. */
QPKI_API qpki_status qpki_http_set_max_body(qpki_http *h, size_t bytes);
/* Largest accepted request-target [QPKI_HTTP_DEFAULT_MAX_TARGET]; 16 .. 1 MiB. */
QPKI_API qpki_status qpki_http_set_max_target(qpki_http *h, size_t bytes);
/* Clock used for max-age (default: time(NULL)). */
QPKI_API qpki_status qpki_http_set_clock(qpki_http *h, qpki_clock_fn fn, void *user);
QPKI_API size_t qpki_http_max_body(const qpki_http *h);
QPKI_API size_t qpki_http_max_target(const qpki_http *h);

/* Answer one request through the responder.  On QPKI_OK *out holds the reply
 * (free with qpki_http_reply_free).  Fails only on invalid arguments or when
 * memory runs out; every protocol problem becomes a reply. */
QPKI_API qpki_status qpki_http_handle(const qpki_http *h, qpki_responder *r,
                                      const qpki_http_request *req, qpki_http_reply **out);
/* The reply for an error the transport detected itself before a complete
 * request existed: 400 (unparsable HTTP), 405, 413 (body over the limit while
 * reading it), 414.  Other codes give QPKI_ERR_INVALID_ARG. */
QPKI_API qpki_status qpki_http_reply_error(unsigned http_status, qpki_http_reply **out);
QPKI_API void qpki_http_reply_free(qpki_http_reply **reply);

/* HTTP status code (200, 304, 400, 405, 413, 414). */
QPKI_API unsigned qpki_http_reply_status(const qpki_http_reply *reply);
/* Response headers, in the order to send them.  Returns false past the end.
 * Names and values are borrowed from the reply. */
QPKI_API size_t qpki_http_reply_header_count(const qpki_http_reply *reply);
QPKI_API bool qpki_http_reply_header(const qpki_http_reply *reply, size_t i, const char **name,
                                     const char **value);
/* Value of the named header (ASCII case-insensitive), or NULL. */
QPKI_API const char *qpki_http_reply_header_value(const qpki_http_reply *reply,
                                                  const char *name);
/* Body to send (borrowed from the reply; empty for 304). */
QPKI_API void qpki_http_reply_body(const qpki_http_reply *reply, const uint8_t **body,
                                   size_t *len);
/* The OCSP answer behind the reply (for logs: issuer, serial, status, cache
 * hit ...), or NULL when the request was refused at the HTTP level. */
QPKI_API const qpki_answer *qpki_http_reply_answer(const qpki_http_reply *reply);

#ifdef __cplusplus
}
#endif
#endif
