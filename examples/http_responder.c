/* SPDX-License-Identifier: Apache-2.0 */
/* examples/http_responder.c - a minimal OCSP responder over HTTP: libqpki-ocsp
 * answers, its qpki_http mapping (RFC 6960 Appendix A, RFC 9919) turns requests
 * and answers into HTTP, libmicrohttpd moves the bytes.
 *
 *   http_responder PORT CA_DIR [RESPONDER.crt RESPONDER.key]
 *
 * CA_DIR holds ca.crt, index.txt and (without a delegated responder) ca.key.
 * GET and POST, cached signed answers, nonces echoed, caching headers, 304,
 * 405/413/414 - everything `qpki ocsp serve` does per request; index.txt
 * changes are picked up every second.  Stop with Ctrl-C. */
#define _POSIX_C_SOURCE 200809L /* sigprocmask, sigtimedwait under -std=c11 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/http.h>
#include <qpki/responder.h>
#include <qpki/signer.h>

static qpki_responder *responder;
static qpki_http *http;

struct body { /* a request body being received */
    uint8_t *p;
    size_t len;
};

static void free_reply(void *cls)
{
    qpki_http_reply *reply = cls;
    qpki_http_reply_free(&reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls, (void)version;
    struct body *b = *state;
    if (!b) { /* first call: headers only */
        *state = b = calloc(1, sizeof(*b));
        return b ? MHD_YES : MHD_NO;
    }
    if (*data_size) { /* a piece of the body (bounded by the HTTP layer's limit + 1) */
        size_t n = *data_size, cap = qpki_http_max_body(http) + 1;
        *data_size = 0;
        if (b->len + n > cap)
            n = cap - b->len;
        uint8_t *p = realloc(b->p, b->len + n + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + b->len, data, n);
        b->p = p;
        b->len += n;
        return MHD_YES;
    }
    qpki_http_request req; /* last call: answer */
    qpki_http_request_init(&req);
    req.method = method;
    req.target = url;
    req.target_len = strlen(url);
    req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    req.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    req.body = b->p;
    req.body_len = b->len;
    qpki_http_reply *reply = NULL;
    if (qpki_http_handle(http, responder, &req, &reply) != QPKI_OK)
        return MHD_NO;
    const uint8_t *bytes;
    size_t len;
    qpki_http_reply_body(reply, &bytes, &len);
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *)(uintptr_t)bytes, free_reply, reply); /* no copy */
    if (!resp) {
        qpki_http_reply_free(&reply);
        return MHD_NO;
    }
    const char *name, *value;
    for (size_t i = 0; qpki_http_reply_header(reply, i, &name, &value); i++)
        if (strcmp(name, "Content-Length") != 0) /* MHD writes that one */
            MHD_add_response_header(resp, name, value);
    enum MHD_Result r = MHD_queue_response(c, qpki_http_reply_status(reply), resp);
    MHD_destroy_response(resp);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    struct body *b = *state;
    if (b)
        free(b->p);
    free(b);
    *state = NULL;
}

/* lib/http decodes the request-target itself (%2B %2F %3D, spaces ...). */
static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return strlen(s);
}

static int fail(const char *what, qpki_status st)
{
    fprintf(stderr, "http_responder: %s: %s\n", what, qpki_strerror(st));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s PORT CA_DIR [RESPONDER.crt RESPONDER.key]\n", argv[0]);
        return 2;
    }
    char path[4096];
    qpki_cert *ca = NULL, *responder_cert = NULL;
    qpki_db *db = NULL;
    qpki_signer *signer = NULL;
    qpki_status st;
    snprintf(path, sizeof(path), "%s/ca.crt", argv[2]);
    if ((st = qpki_cert_load_file(path, &ca)) != QPKI_OK)
        return fail(path, st);
    snprintf(path, sizeof(path), "%s/index.txt", argv[2]);
    if ((st = qpki_db_open_index(path, &db)) != QPKI_OK)
        return fail(path, st);
    if (argc == 5 && (st = qpki_cert_load_file(argv[3], &responder_cert)) != QPKI_OK)
        return fail(argv[3], st);
    snprintf(path, sizeof(path), "%s/ca.key", argv[2]);
    const char *key = argc == 5 ? argv[4] : path;
    if ((st = qpki_signer_software_load(key, NULL, &signer)) != QPKI_OK)
        return fail(key, st);
    if ((st = qpki_responder_new(&responder)) != QPKI_OK ||
        (st = qpki_responder_add_issuer(responder, ca, db, signer, responder_cert, NULL)) !=
            QPKI_OK ||
        (st = qpki_http_new(&http)) != QPKI_OK)
        return fail("responder", st);
    qpki_signer_free(&signer);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, keep_raw,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http_responder: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    printf("http_responder: serving %s on port %s\n", argv[2], argv[1]);
    fflush(stdout);
    sigset_t set; /* wait for Ctrl-C or SIGTERM; reload index.txt every second */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec second = {1, 0};
    while (sigtimedwait(&set, NULL, &second) < 0)
        (void)qpki_responder_refresh(responder);
    MHD_stop_daemon(d);
    qpki_http_free(&http);
    qpki_responder_free(&responder);
    qpki_db_free(&db);
    qpki_cert_free(&responder_cert);
    qpki_cert_free(&ca);
    return 0;
}
