/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_http.c - the RFC 9919 / RFC 6960 Appendix A HTTP mapping.
 *
 * A small PKI is made with the openssl CLI (the oracle for requests and for the
 * ETag's SHA-256); a real responder answers with a fixed clock, so every header
 * value is asserted exactly.  Python's email.utils is the oracle for IMF-fixdate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/http.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/signer.h>
#include "der/pem.h"
#include "http/http_internal.h"
#include "internal.h"

/* 2025-06-15T15:06:40Z.  The responder backdates thisUpdate by 60 s and gives
 * 3600 s of validity (its defaults). */
#define T0 ((qpki_time)1750000000)
#define THIS_UPDATE "Sun, 15 Jun 2025 15:05:40 GMT"
#define NEXT_UPDATE "Sun, 15 Jun 2025 16:06:40 GMT"

static struct {
    char dir[64];
    qpki_responder *r;
    qpki_http *h;
    qpki_time http_now;
    uint8_t *req_good, *req_revoked, *req_nonce, *req_foreign;
    size_t req_good_len, req_revoked_len, req_nonce_len, req_foreign_len;
    qpki_cert *ca;
    qpki_db *db;
} fx;

static qpki_time responder_clock(void *user)
{
    (void)user;
    return T0;
}

static qpki_time http_clock(void *user)
{
    (void)user;
    return fx.http_now;
}

static const char *path_in(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ & 3];
    snprintf(p, 256, "%s/%s", fx.dir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/qpki-test-http-XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null; "
             "openssl req -x509 -new -key ca.key -subj '/CN=HTTP Test CA' -days 3650 -out ca.crt "
             "  -addext basicConstraints=critical,CA:TRUE "
             "  -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature; "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null; "
             "openssl req -x509 -new -key other.key -subj '/CN=Other CA' -days 3650 -out other.crt; "
             "printf 'V\\t351231000000Z\\t\\t1001\\tunknown\\t/CN=good\\n"
             "R\\t351231000000Z\\t240115100000Z,keyCompromise\\t1002\\tunknown\\t/CN=revoked\\n' "
             "  > index.txt; "
             "openssl ocsp -issuer ca.crt -serial 0x1001 -no_nonce -reqout good.req; "
             "openssl ocsp -issuer ca.crt -serial 0x1002 -no_nonce -reqout revoked.req; "
             "openssl ocsp -issuer ca.crt -serial 0x1001 -nonce -reqout nonce.req; "
             "openssl ocsp -issuer other.crt -serial 0x1001 -no_nonce -reqout foreign.req",
             fx.dir);
    int status = -1;
    free(tu_run(cmd, &status));
    if (status != 0)
        return -1;
    fx.req_good = tu_read_file(path_in("good.req"), &fx.req_good_len);
    fx.req_revoked = tu_read_file(path_in("revoked.req"), &fx.req_revoked_len);
    fx.req_nonce = tu_read_file(path_in("nonce.req"), &fx.req_nonce_len);
    fx.req_foreign = tu_read_file(path_in("foreign.req"), &fx.req_foreign_len);
    if (!fx.req_good || !fx.req_revoked || !fx.req_nonce || !fx.req_foreign)
        return -1;

    qpki_signer *signer = NULL;
    if (qpki_cert_load_file(path_in("ca.crt"), &fx.ca) != QPKI_OK ||
        qpki_db_open_index(path_in("index.txt"), &fx.db) != QPKI_OK ||
        qpki_signer_software_load(path_in("ca.key"), NULL, &signer) != QPKI_OK ||
        qpki_responder_new(&fx.r) != QPKI_OK ||
        qpki_responder_set_clock(fx.r, responder_clock, NULL) != QPKI_OK ||
        qpki_responder_add_issuer(fx.r, fx.ca, fx.db, signer, NULL, NULL) != QPKI_OK)
        return -1;
    qpki_signer_free(&signer);  /* the responder holds its own reference */
    /* The database is borrowed by the responder: freed after it, in teardown. */
    if (qpki_http_new(&fx.h) != QPKI_OK || qpki_http_set_clock(fx.h, http_clock, NULL) != QPKI_OK)
        return -1;
    fx.http_now = T0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qpki_http_free(&fx.h);
    qpki_responder_free(&fx.r);
    qpki_db_free(&fx.db);
    qpki_cert_free(&fx.ca);
    free(fx.req_good);
    free(fx.req_revoked);
    free(fx.req_nonce);
    free(fx.req_foreign);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
    free(tu_run(cmd, NULL));
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static qpki_http_reply *do_request(const char *method, const char *target, const uint8_t *body,
                                   size_t body_len, const char *inm)
{
    qpki_http_request req;
    qpki_http_request_init(&req);
    req.method = method;
    req.target = target;
    req.target_len = strlen(target);
    req.body = body;
    req.body_len = body_len;
    req.if_none_match = inm;
    qpki_http_reply *rep = NULL;
    assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, &rep), QPKI_OK);
    assert_non_null(rep);
    return rep;
}

static qpki_http_reply *post(const uint8_t *body, size_t len)
{
    return do_request("POST", "/", body, len, NULL);
}

static qpki_http_reply *get(const char *target) { return do_request("GET", target, NULL, 0, NULL); }

/* Base64 (standard, padded) of der into a malloc'd string. */
static char *b64(const uint8_t *der, size_t len)
{
    char *s = malloc(b64_encoded_len(len) + 1);
    assert_non_null(s);
    b64_encode(der, len, s);
    return s;
}

/* Replace every occurrence of character c in s by rep (malloc'd result). */
static char *replace_char(const char *s, char c, const char *rep)
{
    size_t n = 0, rl = strlen(rep);
    for (const char *p = s; *p; p++)
        n += *p == c ? rl : 1;
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (const char *p = s; *p; p++) {
        if (*p == c) {
            memcpy(o, rep, rl);
            o += rl;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static void assert_header(const qpki_http_reply *rep, size_t i, const char *name,
                          const char *value)
{
    const char *n = NULL, *v = NULL;
    assert_true(qpki_http_reply_header(rep, i, &n, &v));
    assert_string_equal(n, name);
    assert_string_equal(v, value);
}

/* SHA-256 of the body by the openssl CLI, as a quoted ETag. */
static void openssl_etag(const uint8_t *body, size_t len, char out[67])
{
    FILE *f = fopen(path_in("body.der"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(body, 1, len, f), len);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -r %s", path_in("body.der"));
    int status = -1;
    char *hex = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(hex);
    out[0] = '"';
    memcpy(out + 1, hex, 64);
    out[65] = '"';
    out[66] = '\0';
    free(hex);
}

static void assert_body_is_openssl_status(const qpki_http_reply *rep, const char *expect)
{
    const uint8_t *body;
    size_t len;
    qpki_http_reply_body(rep, &body, &len);
    FILE *f = fopen(path_in("resp.der"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(body, 1, len, f), len);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -respin %s -resp_text -noverify 2>&1 | grep -o '%s' | head -1",
             path_in("resp.der"), expect);
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_non_null(out);
    assert_true(strstr(out, expect) != NULL);
    free(out);
}

static void assert_error_body(const qpki_http_reply *rep, uint8_t resp_status)
{
    const uint8_t expect[5] = {0x30, 0x03, 0x0a, 0x01, resp_status};
    const uint8_t *body;
    size_t len;
    qpki_http_reply_body(rep, &body, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(body, expect, 5);
    assert_int_equal(qpki_http_reply_status(rep), 200);
    assert_int_equal(qpki_http_reply_header_count(rep), 3);
    assert_header(rep, 0, "Content-Type", "application/ocsp-response");
    assert_header(rep, 1, "Content-Length", "5");
    assert_header(rep, 2, "Cache-Control", "no-cache");
}

/* ---- IMF-fixdate ---------------------------------------------------------------- */

static void test_date_is_imf_fixdate_of_rfc9110_example(void **state)
{
    (void)state;
    char d[HTTP_DATE_LEN + 1];
    http_format_date(784111777, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_format_date(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    http_format_date(951782400, d);
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    http_format_date(-1, d);
    assert_string_equal(d, "Wed, 31 Dec 1969 23:59:59 GMT");
    http_format_date(T0, d);
    assert_string_equal(d, "Sun, 15 Jun 2025 15:06:40 GMT");
}

static void test_date_outside_four_digit_years_is_clamped(void **state)
{
    (void)state;
    char d[HTTP_DATE_LEN + 1];
    http_format_date(INT64_MAX, d);
    assert_string_equal(d, "Fri, 31 Dec 9999 23:59:59 GMT");
    http_format_date(INT64_MIN, d);
    assert_string_equal(d, "Mon, 01 Jan 0001 00:00:00 GMT");
}

static void test_date_matches_python_email_utils_for_400_times(void **state)
{
    (void)state;
    /* times spread over 1970..2099 and some before 1970 */
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c \"import email.utils\n"
             "for i in range(400):\n"
             "  t = -86400*400 + i * 10957331 + (i*i*7919) %% 86400\n"
             "  print(t, email.utils.formatdate(t, usegmt=True))\"");
    int status = -1;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(out);
    int n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        assert_non_null(sp);
        *sp = '\0';
        char d[HTTP_DATE_LEN + 1];
        http_format_date((qpki_time)strtoll(line, NULL, 10), d);
        assert_string_equal(d, sp + 1);
        n++;
    }
    assert_int_equal(n, 400);
    free(out);
}

/* ---- GET request-target decoding -------------------------------------------------- */

static void assert_get_decodes(const char *target, const uint8_t *der, size_t len)
{
    size_t n = strlen(target);
    size_t cap = 2 * n + 4;
    uint8_t *work = malloc(cap);
    const uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(http_decode_get_target(target, n, work, cap, &got, &got_len), QPKI_OK);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, der, len);
    free(work);
}

static void assert_get_fails(const char *target)
{
    size_t n = strlen(target);
    size_t cap = 2 * n + 4;
    uint8_t *work = malloc(cap);
    const uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(http_decode_get_target(target, n, work, cap, &got, &got_len),
                     QPKI_ERR_DECODE);
    free(work);
}

/* A request whose base64 has '+', "//" inside and '=' padding at the end: the
 * nonce is chosen until it does. */
static uint8_t *awkward_request(size_t *len, char **b64_out)
{
    qpki_certid *id = NULL;
    const uint8_t serial[] = {0x10, 0x01};
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, fx.ca, serial, 2, &id), QPKI_OK);
    uint8_t nonce[48];
    for (size_t pre = 0; pre < 3; pre++) {
        for (size_t extra = 0; extra < 3; extra++) {
            size_t n = 0;
            for (size_t i = 0; i < pre; i++)
                nonce[n++] = 0x00;
            /* 0xfb 0xef 0xbe = sextets 62 62 62 62 ('+' x4) when aligned */
            for (size_t i = 0; i < 4; i++) {
                nonce[n++] = 0xfb;
                nonce[n++] = 0xef;
                nonce[n++] = 0xbe;
            }
            for (size_t i = 0; i < 12; i++)
                nonce[n++] = 0xff;  /* '/' runs in any alignment */
            for (size_t i = 0; i < extra; i++)
                nonce[n++] = 0x11;
            uint8_t *der = NULL;
            size_t der_len = 0;
            const qpki_certid *ids[1] = {id};
            assert_int_equal(qpki_ocsp_request_encode(ids, 1, nonce, n, &der, &der_len), QPKI_OK);
            char *s = b64(der, der_len);
            if (strchr(s, '+') && strstr(s, "//") && s[strlen(s) - 1] == '=') {
                qpki_certid_free(&id);
                uint8_t *copy = malloc(der_len);
                memcpy(copy, der, der_len);
                qpki_free(der);
                *len = der_len;
                *b64_out = s;
                return copy;
            }
            free(s);
            qpki_free(der);
        }
    }
    fail_msg("no nonce gave the wanted base64 characters");
    return NULL;
}

static void test_get_plain_base64_after_root_is_the_request(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    char target[512];
    snprintf(target, sizeof(target), "/%s", s);
    assert_get_decodes(target, fx.req_good, fx.req_good_len);
    free(s);
}

static void test_get_under_any_prefix_and_doubled_slashes(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    const char *prefixes[] = {"/ocsp/", "//", "/a/b/c/", "/ocsp//", "///", "/ca1/ocsp/v1/"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(prefixes); i++) {
        char target[512];
        snprintf(target, sizeof(target), "%s%s", prefixes[i], s);
        assert_get_decodes(target, fx.req_good, fx.req_good_len);
    }
    free(s);
}

static void test_get_base64_with_slashes_is_found_by_longest_suffix(void **state)
{
    (void)state;
    size_t len;
    char *s;
    uint8_t *der = awkward_request(&len, &s);
    char target[1024];
    snprintf(target, sizeof(target), "/%s", s);
    assert_get_decodes(target, der, len);
    snprintf(target, sizeof(target), "/ocsp/%s", s);
    assert_get_decodes(target, der, len);
    snprintf(target, sizeof(target), "//%s", s);
    assert_get_decodes(target, der, len);
    free(s);
    free(der);
}

static void test_get_percent_encodings_of_plus_slash_equals_are_decoded(void **state)
{
    (void)state;
    size_t len;
    char *s;
    uint8_t *der = awkward_request(&len, &s);
    char *a = replace_char(s, '+', "%2B");
    char *b = replace_char(a, '/', "%2F");
    char *c = replace_char(b, '=', "%3D");
    char *lower1 = replace_char(s, '+', "%2b");
    char *lower2 = replace_char(lower1, '/', "%2f");
    char *lower3 = replace_char(lower2, '=', "%3d");
    const char *variants[] = {a, b, c, lower3};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(variants); i++) {
        char target[2048];
        snprintf(target, sizeof(target), "/ocsp/%s", variants[i]);
        assert_get_decodes(target, der, len);
    }
    free(a);
    free(b);
    free(c);
    free(lower1);
    free(lower2);
    free(lower3);
    free(s);
    free(der);
}

static void test_get_space_or_percent20_stands_for_plus(void **state)
{
    (void)state;
    size_t len;
    char *s;
    uint8_t *der = awkward_request(&len, &s);
    char *sp = replace_char(s, '+', " ");
    char *p20 = replace_char(s, '+', "%20");
    char target[2048];
    snprintf(target, sizeof(target), "/%s", sp);
    assert_get_decodes(target, der, len);
    snprintf(target, sizeof(target), "/%s", p20);
    assert_get_decodes(target, der, len);
    free(sp);
    free(p20);
    free(s);
    free(der);
}

static void test_get_missing_padding_is_accepted(void **state)
{
    (void)state;
    size_t len;
    char *s;
    uint8_t *der = awkward_request(&len, &s);
    char *nopad = replace_char(s, '=', "");
    assert_true(strlen(nopad) < strlen(s));
    char target[2048];
    snprintf(target, sizeof(target), "/ocsp/%s", nopad);
    assert_get_decodes(target, der, len);
    free(nopad);
    free(s);
    free(der);
}

static void test_get_query_is_ignored_and_absolute_form_reduced_to_path(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    char target[1024];
    snprintf(target, sizeof(target), "/ocsp/%s?x=1&y=%%2F", s);
    assert_get_decodes(target, fx.req_good, fx.req_good_len);
    snprintf(target, sizeof(target), "http://ocsp.example.com:8080/%s", s);
    assert_get_decodes(target, fx.req_good, fx.req_good_len);
    snprintf(target, sizeof(target), "http://ocsp.example.com//ocsp/%s", s);
    assert_get_decodes(target, fx.req_good, fx.req_good_len);
    free(s);
}

static void test_get_without_a_request_is_a_decode_error(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    char target[1024];
    assert_get_fails("/");
    assert_get_fails("");
    assert_get_fails("/favicon.ico");
    assert_get_fails("/MEQw");                      /* truncated DER */
    snprintf(target, sizeof(target), "/%s%%", s);   /* dangling percent */
    assert_get_fails(target);
    snprintf(target, sizeof(target), "/%s%%zz", s); /* bad escape */
    assert_get_fails(target);
    snprintf(target, sizeof(target), "/%sAAAA", s); /* trailing DER bytes */
    assert_get_fails(target);
    snprintf(target, sizeof(target), "%s", s);      /* no '/' before it */
    assert_get_fails(target);
    /* valid DER SEQUENCE whose first element is not a SEQUENCE: 30 03 02 01 05 */
    assert_get_fails("/MAMCAQU=");
    free(s);
    /* the nested SEQUENCEs of a request end where it ends (tbsRequest at offset
     * 2, requestList at 4, Request at 6): none of them passes for a request */
    for (size_t off = 2; off <= 6; off += 2) {
        assert_int_equal(fx.req_good[off], 0x30);
        assert_int_equal((size_t)fx.req_good[off + 1] + 2 + off, fx.req_good_len);
        char *inner = b64(fx.req_good + off, fx.req_good_len - off);
        snprintf(target, sizeof(target), "/%s", inner);
        assert_get_fails(target);
        free(inner);
    }
}

/* "/" + a suffix whose first characters announce a SEQUENCE exactly as long as
 * the suffix (this suffix followed by `rest`): one the decoder must decode whole
 * to tell it from a request. */
static char *length_consistent_decoy(const char *rest)
{
    size_t rest_len = strlen(rest);
    size_t fill = (4 - (8 + rest_len) % 4) % 4;
    size_t chars = 8 + fill + rest_len;
    size_t der_len = chars / 4 * 3;
    uint8_t h[6] = {0x30, 0x82, (uint8_t)((der_len - 4) >> 8), (uint8_t)(der_len - 4), 0, 0};
    char *head = b64(h, sizeof(h));
    assert_int_equal(strlen(head), 8);
    char *out = malloc(1 + chars + 1);
    snprintf(out, 1 + chars + 1, "/%s%.*s%s", head, (int)fill, "AAA", rest);
    free(head);
    return out;
}

/* RFC 6960 A.1 puts the request last in the path; the path before it is not
 * ours to choose, but it cannot make a GET cost more than a few decodes of the
 * target: a target of 8 KiB of "/M" has 4,096 suffixes to try. */
static void test_get_suffix_search_is_bounded(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    /* suffixes whose length does not fit what they announce are not decoded:
     * the request after 4,000 of them is found */
    size_t n = 8000 + 1 + strlen(s) + 1;
    char *target = malloc(n);
    for (size_t i = 0; i < 8000; i += 2)
        memcpy(target + i, "/M", 2);
    snprintf(target + 8000, n - 8000, "/%s", s);
    assert_get_decodes(target, fx.req_good, fx.req_good_len);
    target[8000] = 'x';  /* and without a request: refused */
    assert_get_fails(target);
    free(target);

    /* suffixes that do fit are decoded whole, at most four per target: three
     * before the request leave it found, five make the target malformed */
    char *rest = malloc(strlen(s) + 2);
    snprintf(rest, strlen(s) + 2, "/%s", s);
    for (int decoys = 1; decoys <= 5; decoys++) {
        char *next = length_consistent_decoy(rest);
        free(rest);
        rest = next;
        if (decoys <= 3)
            assert_get_decodes(rest, fx.req_good, fx.req_good_len);
        else if (decoys == 5)
            assert_get_fails(rest);
    }
    free(rest);
    free(s);
}

static void test_get_work_buffer_too_small_is_reported(void **state)
{
    (void)state;
    uint8_t work[8];
    const uint8_t *der;
    size_t len;
    assert_int_equal(http_decode_get_target("/MEQw", 5, work, sizeof(work), &der, &len),
                     QPKI_ERR_BUFFER_TOO_SMALL);
}

/* ---- If-None-Match ---------------------------------------------------------------- */

static void test_if_none_match_uses_weak_comparison_and_lists(void **state)
{
    (void)state;
    const char *tag = "\"abc\"";
    assert_true(http_if_none_match("\"abc\"", tag));
    assert_true(http_if_none_match("W/\"abc\"", tag));
    assert_true(http_if_none_match("\"x\", \"abc\"", tag));
    assert_true(http_if_none_match("\"x\",W/\"abc\"", tag));
    assert_true(http_if_none_match("*", tag));
    assert_true(http_if_none_match("  *", tag));
    assert_false(http_if_none_match("\"abcd\"", tag));
    assert_false(http_if_none_match("\"ABC\"", tag));
    assert_false(http_if_none_match("abc", tag));
    assert_false(http_if_none_match("\"abc", tag));
    assert_false(http_if_none_match("", tag));
    assert_false(http_if_none_match(NULL, tag));
}

/* ---- whole requests through a responder ------------------------------------------ */

static void test_post_good_gets_every_caching_header_exactly(void **state)
{
    (void)state;
    fx.http_now = T0 + 100;
    qpki_http_reply *rep = post(fx.req_good, fx.req_good_len);
    assert_int_equal(qpki_http_reply_status(rep), 200);
    const uint8_t *body;
    size_t len;
    qpki_http_reply_body(rep, &body, &len);
    const qpki_answer *a = qpki_http_reply_answer(rep);
    assert_non_null(a);
    const uint8_t *adr;
    size_t alen;
    qpki_answer_bytes(a, &adr, &alen);
    assert_ptr_equal(body, adr);  /* borrowed, not copied */
    assert_int_equal(len, alen);
    char clen[24], etag[67], cc[96];
    snprintf(clen, sizeof(clen), "%zu", len);
    openssl_etag(body, len, etag);
    snprintf(cc, sizeof(cc), "max-age=%d, public, no-transform, must-revalidate", 3600 - 100);

    assert_int_equal(qpki_http_reply_header_count(rep), 6);
    assert_header(rep, 0, "Content-Type", "application/ocsp-response");
    assert_header(rep, 1, "Content-Length", clen);
    assert_header(rep, 2, "Last-Modified", THIS_UPDATE);
    assert_header(rep, 3, "Expires", NEXT_UPDATE);
    assert_header(rep, 4, "ETag", etag);
    assert_header(rep, 5, "Cache-Control", cc);
    assert_false(qpki_http_reply_header(rep, 6, NULL, NULL));
    assert_string_equal(qpki_http_reply_header_value(rep, "etag"), etag);
    assert_null(qpki_http_reply_header_value(rep, "Allow"));
    assert_body_is_openssl_status(rep, "Cert Status: good");
    qpki_http_reply_free(&rep);
    assert_null(rep);
    fx.http_now = T0;
}

static void test_get_answers_with_the_same_cached_bytes_as_post(void **state)
{
    (void)state;
    qpki_http_reply *p = post(fx.req_good, fx.req_good_len);
    char *s = b64(fx.req_good, fx.req_good_len);
    char *enc = replace_char(s, '=', "%3D");
    char target[1024];
    snprintf(target, sizeof(target), "/ocsp/%s", enc);
    qpki_http_reply *g = get(target);
    assert_int_equal(qpki_http_reply_status(g), 200);
    const uint8_t *b1, *b2;
    size_t l1, l2;
    qpki_http_reply_body(p, &b1, &l1);
    qpki_http_reply_body(g, &b2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    assert_true(qpki_answer_cache_hit(qpki_http_reply_answer(g)));
    assert_string_equal(qpki_http_reply_header_value(p, "ETag"),
                        qpki_http_reply_header_value(g, "ETag"));
    assert_string_equal(qpki_http_reply_header_value(g, "Cache-Control"),
                        "max-age=3600, public, no-transform, must-revalidate");
    qpki_http_reply_free(&p);
    qpki_http_reply_free(&g);
    free(enc);
    free(s);
}

static void test_revoked_answer_is_cacheable_too(void **state)
{
    (void)state;
    qpki_http_reply *rep = post(fx.req_revoked, fx.req_revoked_len);
    assert_int_equal(qpki_http_reply_status(rep), 200);
    assert_int_equal(qpki_http_reply_header_count(rep), 6);
    assert_header(rep, 2, "Last-Modified", THIS_UPDATE);
    assert_header(rep, 3, "Expires", NEXT_UPDATE);
    assert_header(rep, 5, "Cache-Control", "max-age=3600, public, no-transform, must-revalidate");
    assert_body_is_openssl_status(rep, "Cert Status: revoked");
    qpki_http_reply_free(&rep);
}

static void test_echoed_nonce_makes_the_answer_no_store_without_etag(void **state)
{
    (void)state;
    qpki_http_reply *rep = post(fx.req_nonce, fx.req_nonce_len);
    assert_int_equal(qpki_http_reply_status(rep), 200);
    assert_true(qpki_answer_nonce_echoed(qpki_http_reply_answer(rep)));
    const uint8_t *body;
    size_t len;
    qpki_http_reply_body(rep, &body, &len);
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", len);
    assert_int_equal(qpki_http_reply_header_count(rep), 5);
    assert_header(rep, 0, "Content-Type", "application/ocsp-response");
    assert_header(rep, 1, "Content-Length", clen);
    assert_header(rep, 2, "Last-Modified", THIS_UPDATE);
    assert_header(rep, 3, "Expires", NEXT_UPDATE);
    assert_header(rep, 4, "Cache-Control", "no-store");
    assert_null(qpki_http_reply_header_value(rep, "ETag"));
    /* If-None-Match never turns a nonce answer into a 304 */
    qpki_http_reply *again = do_request("POST", "/", fx.req_nonce, fx.req_nonce_len, "*");
    assert_int_equal(qpki_http_reply_status(again), 200);
    qpki_http_reply_free(&again);
    qpki_http_reply_free(&rep);
}

static void test_matching_if_none_match_gets_304_without_body(void **state)
{
    (void)state;
    char *s = b64(fx.req_good, fx.req_good_len);
    char target[1024];
    snprintf(target, sizeof(target), "/%s", s);
    qpki_http_reply *first = get(target);
    char etag[67];
    snprintf(etag, sizeof(etag), "%s", qpki_http_reply_header_value(first, "ETag"));
    char weak[80], list[160];
    snprintf(weak, sizeof(weak), "W/%s", etag);
    snprintf(list, sizeof(list), "\"0000\", %s", etag);
    const char *matching[] = {etag, weak, list, "*"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(matching); i++) {
        qpki_http_reply *rep = do_request("GET", target, NULL, 0, matching[i]);
        assert_int_equal(qpki_http_reply_status(rep), 304);
        const uint8_t *body;
        size_t len = 99;
        qpki_http_reply_body(rep, &body, &len);
        assert_int_equal(len, 0);
        assert_int_equal(qpki_http_reply_header_count(rep), 4);
        assert_header(rep, 0, "Last-Modified", THIS_UPDATE);
        assert_header(rep, 1, "Expires", NEXT_UPDATE);
        assert_header(rep, 2, "ETag", etag);
        assert_header(rep, 3, "Cache-Control",
                      "max-age=3600, public, no-transform, must-revalidate");
        assert_non_null(qpki_http_reply_answer(rep));
        qpki_http_reply_free(&rep);
    }
    /* a different tag, or a POST, gets the full answer */
    qpki_http_reply *other = do_request("GET", target, NULL, 0, "\"0000\"");
    assert_int_equal(qpki_http_reply_status(other), 200);
    qpki_http_reply_free(&other);
    qpki_http_reply *p = do_request("POST", "/", fx.req_good, fx.req_good_len, etag);
    assert_int_equal(qpki_http_reply_status(p), 200);
    qpki_http_reply_free(&p);
    qpki_http_reply_free(&first);
    free(s);
}

static void test_max_age_never_goes_past_next_update(void **state)
{
    (void)state;
    fx.http_now = T0 + 3599;
    qpki_http_reply *rep = post(fx.req_good, fx.req_good_len);
    assert_string_equal(qpki_http_reply_header_value(rep, "Cache-Control"),
                        "max-age=1, public, no-transform, must-revalidate");
    qpki_http_reply_free(&rep);
    fx.http_now = T0 + 3600;
    rep = post(fx.req_good, fx.req_good_len);
    assert_string_equal(qpki_http_reply_header_value(rep, "Cache-Control"),
                        "max-age=0, public, no-transform, must-revalidate");
    qpki_http_reply_free(&rep);
    fx.http_now = T0 + 999999;
    rep = post(fx.req_good, fx.req_good_len);
    assert_string_equal(qpki_http_reply_header_value(rep, "Cache-Control"),
                        "max-age=0, public, no-transform, must-revalidate");
    qpki_http_reply_free(&rep);
    fx.http_now = T0;
}

static void test_other_methods_get_405_with_allow(void **state)
{
    (void)state;
    const char *methods[] = {"PUT", "HEAD", "DELETE", "OPTIONS", "get", "PATCH"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(methods); i++) {
        qpki_http_reply *rep = do_request(methods[i], "/", NULL, 0, NULL);
        assert_int_equal(qpki_http_reply_status(rep), 405);
        const char *text = "method not allowed: OCSP uses GET or POST\n";
        const uint8_t *body;
        size_t len;
        qpki_http_reply_body(rep, &body, &len);
        assert_int_equal(len, strlen(text));
        assert_memory_equal(body, text, len);
        char clen[8];
        snprintf(clen, sizeof(clen), "%zu", len);
        assert_int_equal(qpki_http_reply_header_count(rep), 4);
        assert_header(rep, 0, "Content-Type", "text/plain; charset=utf-8");
        assert_header(rep, 1, "Content-Length", clen);
        assert_header(rep, 2, "Allow", "GET, POST");
        assert_header(rep, 3, "Cache-Control", "no-cache");
        assert_null(qpki_http_reply_answer(rep));
        qpki_http_reply_free(&rep);
    }
}

static void test_target_over_the_limit_gets_414(void **state)
{
    (void)state;
    size_t n = QPKI_HTTP_DEFAULT_MAX_TARGET + 1;
    char *target = malloc(n + 1);
    target[0] = '/';
    memset(target + 1, 'A', n - 1);
    target[n] = '\0';
    qpki_http_reply *rep = get(target);
    assert_int_equal(qpki_http_reply_status(rep), 414);
    assert_header(rep, 0, "Content-Type", "text/plain; charset=utf-8");
    assert_header(rep, 1, "Content-Length", "24");
    assert_header(rep, 2, "Cache-Control", "no-cache");
    qpki_http_reply_free(&rep);
    /* exactly at the limit: decoded (and malformed), not 414 */
    target[n - 1] = '\0';
    rep = get(target);
    assert_error_body(rep, 1);
    qpki_http_reply_free(&rep);
    /* a smaller configured limit */
    assert_int_equal(qpki_http_set_max_target(fx.h, 64), QPKI_OK);
    char *s = b64(fx.req_good, fx.req_good_len);
    char t2[512];
    snprintf(t2, sizeof(t2), "/%s", s);
    assert_true(strlen(t2) > 64);
    rep = get(t2);
    assert_int_equal(qpki_http_reply_status(rep), 414);
    qpki_http_reply_free(&rep);
    assert_int_equal(qpki_http_set_max_target(fx.h, QPKI_HTTP_DEFAULT_MAX_TARGET), QPKI_OK);
    assert_int_equal(qpki_http_max_target(fx.h), QPKI_HTTP_DEFAULT_MAX_TARGET);
    free(s);
    free(target);
}

static void test_long_get_target_uses_heap_work_space(void **state)
{
    (void)state;
    /* a valid request after a 3000-byte prefix: more than the stack work space */
    char *s = b64(fx.req_good, fx.req_good_len);
    size_t pre = 3000;
    char *target = malloc(pre + strlen(s) + 2);
    memset(target, 'x', pre);
    target[0] = '/';
    target[pre] = '/';
    strcpy(target + pre + 1, s);
    qpki_http_reply *rep = get(target);
    assert_int_equal(qpki_http_reply_status(rep), 200);
    assert_int_equal(qpki_answer_resp_status(qpki_http_reply_answer(rep)), 0);
    qpki_http_reply_free(&rep);
    free(target);
    free(s);
}

static void test_body_over_the_limit_gets_413(void **state)
{
    (void)state;
    uint8_t *big = calloc(1, QPKI_HTTP_DEFAULT_MAX_BODY + 1);
    qpki_http_reply *rep = post(big, QPKI_HTTP_DEFAULT_MAX_BODY + 1);
    assert_int_equal(qpki_http_reply_status(rep), 413);
    assert_int_equal(qpki_http_reply_header_count(rep), 3);
    assert_header(rep, 0, "Content-Type", "text/plain; charset=utf-8");
    assert_header(rep, 1, "Content-Length", "23");
    assert_header(rep, 2, "Cache-Control", "no-cache");
    qpki_http_reply_free(&rep);
    /* at the limit: read and answered malformedRequest */
    rep = post(big, QPKI_HTTP_DEFAULT_MAX_BODY);
    assert_error_body(rep, 1);
    qpki_http_reply_free(&rep);
    /* a smaller configured limit */
    assert_int_equal(qpki_http_set_max_body(fx.h, fx.req_good_len - 1), QPKI_OK);
    rep = post(fx.req_good, fx.req_good_len);
    assert_int_equal(qpki_http_reply_status(rep), 413);
    qpki_http_reply_free(&rep);
    assert_int_equal(qpki_http_set_max_body(fx.h, QPKI_HTTP_DEFAULT_MAX_BODY), QPKI_OK);
    assert_int_equal(qpki_http_max_body(fx.h), QPKI_HTTP_DEFAULT_MAX_BODY);
    free(big);
}

static void test_undecodable_requests_get_200_malformed_request(void **state)
{
    (void)state;
    const uint8_t garbage[] = {0x30, 0x82, 0xff, 0xff, 0x01};
    qpki_http_reply *rep = post(garbage, sizeof(garbage));
    assert_error_body(rep, 1);
    qpki_http_reply_free(&rep);
    rep = post(NULL, 0);
    assert_error_body(rep, 1);
    qpki_http_reply_free(&rep);
    rep = post((const uint8_t *)"hello", 5);
    assert_error_body(rep, 1);
    qpki_http_reply_free(&rep);
    const char *targets[] = {"/", "/favicon.ico", "/%zz", "/ocsp/MEQw", "/!!!"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(targets); i++) {
        rep = get(targets[i]);
        assert_error_body(rep, 1);
        assert_int_equal(qpki_answer_resp_status(qpki_http_reply_answer(rep)),
                         QPKI_OCSP_RESP_MALFORMED);
        qpki_http_reply_free(&rep);
    }
}

static void test_foreign_issuer_gets_unauthorized_no_cache(void **state)
{
    (void)state;
    qpki_http_reply *rep = post(fx.req_foreign, fx.req_foreign_len);
    assert_error_body(rep, 6);
    qpki_http_reply_free(&rep);
}

static void test_post_content_type_is_not_required(void **state)
{
    (void)state;
    const char *types[] = {NULL, "application/ocsp-request", "application/x-www-form-urlencoded"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(types); i++) {
        qpki_http_request req;
        qpki_http_request_init(&req);
        req.method = "POST";
        req.target = "/ocsp";
        req.target_len = 5;
        req.content_type = types[i];
        req.body = fx.req_good;
        req.body_len = fx.req_good_len;
        qpki_http_reply *rep = NULL;
        assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, &rep), QPKI_OK);
        assert_int_equal(qpki_http_reply_status(rep), 200);
        assert_int_equal(qpki_answer_resp_status(qpki_http_reply_answer(rep)), 0);
        qpki_http_reply_free(&rep);
    }
}

static void test_transport_errors_have_fixed_replies(void **state)
{
    (void)state;
    const unsigned codes[] = {400, 405, 413, 414};
    const char *texts[] = {"bad request\n", "method not allowed: OCSP uses GET or POST\n",
                           "request body too large\n", "request-target too long\n"};
    for (size_t i = 0; i < 4; i++) {
        qpki_http_reply *rep = NULL;
        assert_int_equal(qpki_http_reply_error(codes[i], &rep), QPKI_OK);
        assert_int_equal(qpki_http_reply_status(rep), codes[i]);
        const uint8_t *body;
        size_t len;
        qpki_http_reply_body(rep, &body, &len);
        assert_int_equal(len, strlen(texts[i]));
        assert_memory_equal(body, texts[i], len);
        qpki_http_reply_free(&rep);
    }
    qpki_http_reply *rep = (qpki_http_reply *)1;
    assert_int_equal(qpki_http_reply_error(200, &rep), QPKI_ERR_INVALID_ARG);
    assert_null(rep);
    assert_int_equal(qpki_http_reply_error(500, &rep), QPKI_ERR_INVALID_ARG);
}

static void test_invalid_arguments_are_refused(void **state)
{
    (void)state;
    qpki_http_request req;
    qpki_http_request_init(&req);
    assert_int_equal(req.struct_size, sizeof(req));
    qpki_http_reply *rep = NULL;
    assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, &rep), QPKI_ERR_INVALID_ARG); /* no method */
    req.method = "GET";
    req.target_len = 4;  /* with a NULL target */
    assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, &rep), QPKI_ERR_INVALID_ARG);
    req.target = "/abc";
    req.struct_size = 8;
    assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, &rep), QPKI_ERR_INVALID_ARG);
    req.struct_size = sizeof(req);
    assert_int_equal(qpki_http_handle(NULL, fx.r, &req, &rep), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_handle(fx.h, NULL, &req, &rep), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_handle(fx.h, fx.r, &req, NULL), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_set_max_body(fx.h, 0), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_set_max_body(fx.h, 16 * 1024 * 1024 + 1), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_set_max_target(fx.h, 15), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_http_new(NULL), QPKI_ERR_INVALID_ARG);
    qpki_http_free(NULL);
    qpki_http_reply_free(NULL);
    qpki_http_reply_free(&rep);
    assert_int_equal(qpki_http_reply_status(NULL), 0);
    assert_int_equal(qpki_http_reply_header_count(NULL), 0);
    assert_null(qpki_http_reply_answer(NULL));
}

static void test_allocation_failures_are_reported(void **state)
{
    (void)state;
    qpki_http_request req;
    qpki_http_request_init(&req);
    req.method = "POST";
    req.target = "/";
    req.target_len = 1;
    req.body = fx.req_good;
    req.body_len = fx.req_good_len;
    /* n-th allocation fails for n = 0.. until the call succeeds */
    bool succeeded = false;
    for (long n = 0; n < 200 && !succeeded; n++) {
        qpki_test_fail_alloc_after(n);
        qpki_http_reply *rep = NULL;
        qpki_status rc = qpki_http_handle(fx.h, fx.r, &req, &rep);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            assert_non_null(rep);
            succeeded = true;
        } else {
            assert_int_equal(rc, QPKI_ERR_NOMEM);
            assert_null(rep);
        }
        qpki_http_reply_free(&rep);
    }
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_is_imf_fixdate_of_rfc9110_example),
        cmocka_unit_test(test_date_outside_four_digit_years_is_clamped),
        cmocka_unit_test(test_date_matches_python_email_utils_for_400_times),
        cmocka_unit_test(test_get_plain_base64_after_root_is_the_request),
        cmocka_unit_test(test_get_under_any_prefix_and_doubled_slashes),
        cmocka_unit_test(test_get_base64_with_slashes_is_found_by_longest_suffix),
        cmocka_unit_test(test_get_percent_encodings_of_plus_slash_equals_are_decoded),
        cmocka_unit_test(test_get_space_or_percent20_stands_for_plus),
        cmocka_unit_test(test_get_missing_padding_is_accepted),
        cmocka_unit_test(test_get_query_is_ignored_and_absolute_form_reduced_to_path),
        cmocka_unit_test(test_get_without_a_request_is_a_decode_error),
        cmocka_unit_test(test_get_suffix_search_is_bounded),
        cmocka_unit_test(test_get_work_buffer_too_small_is_reported),
        cmocka_unit_test(test_if_none_match_uses_weak_comparison_and_lists),
        cmocka_unit_test(test_post_good_gets_every_caching_header_exactly),
        cmocka_unit_test(test_get_answers_with_the_same_cached_bytes_as_post),
        cmocka_unit_test(test_revoked_answer_is_cacheable_too),
        cmocka_unit_test(test_echoed_nonce_makes_the_answer_no_store_without_etag),
        cmocka_unit_test(test_matching_if_none_match_gets_304_without_body),
        cmocka_unit_test(test_max_age_never_goes_past_next_update),
        cmocka_unit_test(test_other_methods_get_405_with_allow),
        cmocka_unit_test(test_target_over_the_limit_gets_414),
        cmocka_unit_test(test_long_get_target_uses_heap_work_space),
        cmocka_unit_test(test_body_over_the_limit_gets_413),
        cmocka_unit_test(test_undecodable_requests_get_200_malformed_request),
        cmocka_unit_test(test_foreign_issuer_gets_unauthorized_no_cache),
        cmocka_unit_test(test_post_content_type_is_not_required),
        cmocka_unit_test(test_transport_errors_have_fixed_replies),
        cmocka_unit_test(test_invalid_arguments_are_refused),
        cmocka_unit_test(test_allocation_failures_are_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
