/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_http.c - the RFC 9919 / RFC 6960 Appendix A mapping in lib/http
 * (method, percent- and base64-decoding of GET targets, Content-Type, If-None-Match,
 * POST bodies) and the responder behind it, with a fixed test CA.
 *
 * Input layout: byte 0 picks the method (bits 0-2) and which headers are present
 * (bit 3: Content-Type, bit 4: If-None-Match); the rest is split at 0x00 bytes into
 * target, Content-Type, If-None-Match and body (missing parts are empty).
 * Besides "no crash, no leak, no UB" it checks what every reply must be: a status
 * the API documents, a Content-Length (when sent) equal to the body, and, for
 * 200, a body that parses as an OCSPResponse.  Each request also runs with an
 * allocation failing (fuzz_alloc.h) first: the call returns QPKI_ERR_NOMEM, or
 * the same HTTP status as without the failure, or an internalError answer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/http.h>
#include <qpki/response.h>
#include <qpki/responder.h>

#include "fuzz_alloc.h"
#include "fuzz_fixture.h"
#include <qpki/signer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_responder *responder;
static qpki_http *http;

static void init(void)
{
    responder = fuzz_test_responder("fuzz_http");
    if (qpki_http_new(&http) || qpki_http_set_max_target(http, 4096) ||
        qpki_http_set_max_body(http, 4096))
        abort();
}

/* The next part of the input up to a 0x00 byte (or the end). */
static const uint8_t *part(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *start = *p;
    const uint8_t *z = start < end ? memchr(start, 0, (size_t)(end - start)) : NULL;
    const uint8_t *stop = z ? z : end;
    *len = (size_t)(stop - start);
    *p = z ? z + 1 : end;
    return start;
}

static char *cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* What every reply must be. */
static void check_reply(const qpki_http_reply *reply)
{
    unsigned code = qpki_http_reply_status(reply);
    if (code != 200 && code != 304 && code != 400 && code != 405 && code != 413 && code != 414)
        abort(); /* a status the API does not document */
    const uint8_t *b;
    size_t bl;
    qpki_http_reply_body(reply, &b, &bl);
    const char *cl = qpki_http_reply_header_value(reply, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) != bl)
        abort(); /* Content-Length must be the body's */
    for (size_t i = 0; i < qpki_http_reply_header_count(reply); i++) {
        const char *name, *value;
        if (!qpki_http_reply_header(reply, i, &name, &value) || !name || !value ||
            strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
            abort(); /* header injection or a hole in the list */
    }
    if (code == 200) {
        qpki_ocsp_response *resp = NULL;
        if (qpki_ocsp_response_parse(b, bl, &resp) != QPKI_OK)
            abort(); /* every 200 carries an OCSPResponse */
        qpki_ocsp_response_free(&resp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    if (size < 1)
        return 0;
    fuzz_alloc_input(data, size);
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "get", "", "OPTIONS",
                                          "POST"};
    const uint8_t *p = data + 1, *end = data + size;
    size_t target_len, ct_len, inm_len, body_len;
    const uint8_t *target = part(&p, end, &target_len);
    const uint8_t *ct = part(&p, end, &ct_len);
    const uint8_t *inm = part(&p, end, &inm_len);
    const uint8_t *body = p;
    body_len = (size_t)(end - p);

    char *target_s = cstr(target, target_len); /* the mapping takes target_len bytes */
    char *ct_s = cstr(ct, ct_len), *inm_s = cstr(inm, inm_len);
    qpki_http_request req;
    qpki_http_request_init(&req);
    req.method = methods[data[0] & 7];
    req.target = target_s;
    req.target_len = target_len;
    req.content_type = (data[0] & 8) ? ct_s : NULL;
    req.if_none_match = (data[0] & 16) ? inm_s : NULL;
    req.body = body_len ? body : NULL;
    req.body_len = body_len;

    /* with an allocation failing, then without */
    qpki_http_reply *failed = NULL, *reply = NULL;
    fuzz_alloc_arm();
    qpki_status fst = qpki_http_handle(http, responder, &req, &failed);
    bool refused = fuzz_alloc_disarm();
    if (fst != QPKI_OK && (fst != QPKI_ERR_NOMEM || failed || !refused))
        abort();
    qpki_status st = qpki_http_handle(http, responder, &req, &reply);
    if (st == QPKI_OK) {
        check_reply(reply);
        if (failed) {
            check_reply(failed);
            const qpki_answer *fa = qpki_http_reply_answer(failed);
            if (qpki_http_reply_status(failed) != qpki_http_reply_status(reply) &&
                !(refused && fa && qpki_answer_resp_status(fa) == QPKI_OCSP_RESP_INTERNAL_ERROR))
                abort(); /* another HTTP status only for an internalError answer */
        }
        qpki_http_reply_free(&reply);
    } else if (st != QPKI_ERR_NOMEM) {
        abort(); /* only invalid arguments or memory may fail the call */
    }
    qpki_http_reply_free(&failed);
    free(target_s);
    free(ct_s);
    free(inm_s);
    return 0;
}
