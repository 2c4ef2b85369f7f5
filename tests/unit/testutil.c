/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/testutil.c - files, hex, gunzip and a small JSON reader for tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zlib.h>

#include <time.h>

#include <qpki/cert.h>
#include <qpki/key.h>
#include <qpki/responder.h>
#include <qpki/signer.h>

#include "testutil.h"

static const char *join(const char *env, const char *fallback, const char *rel)
{
    static char buf[4096];
    const char *dir = getenv(env);
    if (!dir)
        dir = fallback;
    snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
    return buf;
}

const char *tu_vector_path(const char *rel) { return join("QPKI_VECTORS_DIR", "tests/vectors", rel); }
const char *tu_data_path(const char *rel) { return join("QPKI_TEST_DATA", "tests/data", rel); }

uint8_t *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n + 1 < cap)
            break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

uint8_t *tu_read_gz(const char *path, size_t *len)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        int r = gzread(g, buf + n, (unsigned)(cap - n - 1));
        if (r < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        n += (size_t)r;
        if (r == 0)
            break;
        if (cap - n - 1 == 0) {
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    gzclose(g);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    uint8_t *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
        if (a < 0 || b < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(a << 4 | b);
    }
    *len = n / 2;
    return out;
}

char *tu_run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (buf)
        buf[n] = 0;
    return buf;
}

/* ---- JSON ------------------------------------------------------------------ */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct json {
    enum jtype type;
    int boolean;
    long long num;
    char *str;          /* J_STR */
    char **keys;        /* J_OBJ */
    struct json **items; /* J_ARR, J_OBJ values */
    size_t count, cap;
};

struct jp {
    const char *p, *end;
    int depth;
};

static void skip_ws(struct jp *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static json *jnew(enum jtype t)
{
    json *j = calloc(1, sizeof(*j));
    if (j)
        j->type = t;
    return j;
}

static int push(json *j, char *key, json *v)
{
    if (j->count == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 8;
        json **items = realloc(j->items, cap * sizeof(*items));
        if (!items)
            return -1;
        j->items = items;
        if (j->type == J_OBJ) {
            char **keys = realloc(j->keys, cap * sizeof(*keys));
            if (!keys)
                return -1;
            j->keys = keys;
        }
        j->cap = cap;
    }
    if (j->type == J_OBJ)
        j->keys[j->count] = key;
    j->items[j->count++] = v;
    return 0;
}

static char *parse_string(struct jp *s)
{
    if (s->p >= s->end || *s->p != '"')
        return NULL;
    s->p++;
    size_t cap = 32, n = 0;
    char *out = malloc(cap);
    while (out && s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c == '\\') {
            if (s->p >= s->end)
                break;
            char e = *s->p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                if (s->end - s->p < 4) {
                    free(out);
                    return NULL;
                }
                unsigned v = 0;
                for (int i = 0; i < 4; i++)
                    v = v << 4 | (unsigned)hexval(s->p[i]);
                s->p += 4;
                c = v < 0x80 ? (char)v : '?'; /* vectors are ASCII */
                break;
            }
            default: c = e; break;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        out[n++] = c;
    }
    if (!out || s->p >= s->end) {
        free(out);
        return NULL;
    }
    s->p++;
    out[n] = 0;
    return out;
}

static json *parse_value(struct jp *s)
{
    skip_ws(s);
    if (s->p >= s->end || ++s->depth > 64)
        return NULL;
    json *j = NULL;
    char c = *s->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        j = jnew(obj ? J_OBJ : J_ARR);
        s->p++;
        skip_ws(s);
        if (j && s->p < s->end && *s->p == (obj ? '}' : ']')) {
            s->p++;
        } else {
            while (j) {
                char *key = NULL;
                if (obj) {
                    skip_ws(s);
                    key = parse_string(s);
                    skip_ws(s);
                    if (!key || s->p >= s->end || *s->p != ':') {
                        free(key);
                        json_free(j);
                        j = NULL;
                        break;
                    }
                    s->p++;
                }
                json *v = parse_value(s);
                if (!v || push(j, key, v) != 0) {
                    free(key);
                    json_free(v);
                    json_free(j);
                    j = NULL;
                    break;
                }
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') {
                    s->p++;
                    continue;
                }
                if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
                    s->p++;
                    break;
                }
                json_free(j);
                j = NULL;
            }
        }
    } else if (c == '"') {
        char *str = parse_string(s);
        if (str) {
            j = jnew(J_STR);
            if (j)
                j->str = str;
            else
                free(str);
        }
    } else if (s->end - s->p >= 4 && !memcmp(s->p, "true", 4)) {
        j = jnew(J_BOOL);
        if (j)
            j->boolean = 1;
        s->p += 4;
    } else if (s->end - s->p >= 5 && !memcmp(s->p, "false", 5)) {
        j = jnew(J_BOOL);
        s->p += 5;
    } else if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
        j = jnew(J_NULL);
        s->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *endp;
        errno = 0;
        long long v = strtoll(s->p, &endp, 10);
        /* skip fraction/exponent: vectors only use integers */
        while (endp < s->end && (*endp == '.' || *endp == 'e' || *endp == 'E' || *endp == '+' ||
                                 *endp == '-' || (*endp >= '0' && *endp <= '9')))
            endp++;
        j = jnew(J_NUM);
        if (j)
            j->num = v;
        s->p = endp;
    }
    s->depth--;
    return j;
}

json *json_parse(const char *text, size_t len)
{
    struct jp s = {text, text + len, 0};
    json *j = parse_value(&s);
    skip_ws(&s);
    if (j && s.p != s.end) {
        json_free(j);
        return NULL;
    }
    return j;
}

json *json_load_gz(const char *path)
{
    size_t n;
    uint8_t *text = tu_read_gz(path, &n);
    if (!text)
        return NULL;
    json *j = json_parse((const char *)text, n);
    free(text);
    return j;
}

void json_free(json *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++) {
        json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

const json *json_get(const json *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (!strcmp(obj->keys[i], key))
            return obj->items[i];
    return NULL;
}

size_t json_len(const json *arr) { return arr && arr->type == J_ARR ? arr->count : 0; }

const json *json_at(const json *arr, size_t i)
{
    return arr && arr->type == J_ARR && i < arr->count ? arr->items[i] : NULL;
}

const char *json_str(const json *j) { return j && j->type == J_STR ? j->str : NULL; }

long long json_int(const json *j, long long dflt) { return j && j->type == J_NUM ? j->num : dflt; }

int json_bool(const json *j, int dflt) { return j && j->type == J_BOOL ? j->boolean : dflt; }

int json_is_null(const json *j) { return j && j->type == J_NULL; }

uint8_t *json_hex(const json *obj, const char *key, size_t *len)
{
    const char *s = json_str(json_get(obj, key));
    return s ? tu_hex(s, len) : NULL;
}

/* ---- certificates ------------------------------------------------------------- */

qpki_cert *tu_responder_cert(const qpki_cert *ca, qpki_signer *ca_signer, qpki_signer *signer,
                             const uint8_t *alt_spki, size_t alt_spki_len)
{
    qpki_cert_builder *cb = NULL;
    uint8_t *name = NULL, *der = NULL;
    size_t name_len, len;
    const uint8_t *spki;
    size_t spki_len;
    qpki_cert *cert = NULL;
    qpki_time now = (qpki_time)time(NULL);
    if (qpki_signer_public_key(signer, &spki, &spki_len) ||
        qpki_name_from_text(alt_spki ? "CN=Hybrid OCSP Responder" : "CN=OCSP Responder", &name,
                            &name_len) ||
        qpki_cert_builder_new(&cb) || qpki_cert_builder_set_random_serial(cb) ||
        qpki_cert_builder_set_issuer_cert(cb, ca) ||
        qpki_cert_builder_set_subject(cb, name, name_len) ||
        qpki_cert_builder_set_validity(cb, now - 3600, now + 86400) ||
        qpki_cert_builder_set_spki(cb, spki, spki_len) ||
        qpki_cert_builder_add_ext_key_usage(cb, "1.3.6.1.5.5.7.3.9") ||
        qpki_cert_builder_set_ocsp_nocheck(cb) ||
        (alt_spki && qpki_cert_builder_add_extension(cb, QPKI_OID_ALT_SUBJECT_PUBLIC_KEY_INFO,
                                                     false, alt_spki, alt_spki_len)) ||
        qpki_cert_builder_sign(cb, ca_signer, &der, &len) || qpki_cert_parse(der, len, &cert))
        cert = NULL;
    qpki_free(der);
    qpki_free(name);
    qpki_cert_builder_free(&cb);
    return cert;
}

qpki_signer *tu_generated_signer(qpki_key_alg alg)
{
    qpki_key *k = NULL;
    qpki_signer *s = NULL;
    assert_int_equal(qpki_key_generate(alg, 0, &k), QPKI_OK);
    assert_int_equal(qpki_signer_software_from_key(k, QPKI_SIG_UNKNOWN, &s), QPKI_OK);
    qpki_key_free(&k);
    return s;
}

qpki_cert *tu_self_signed_ca(qpki_signer *classic, qpki_signer *alt, const char *cn)
{
    qpki_cert_builder *b = NULL;
    uint8_t *name = NULL, *der = NULL;
    size_t nlen, len;
    const uint8_t *spki;
    size_t spki_len;
    assert_int_equal(qpki_name_from_text(cn, &name, &nlen), QPKI_OK);
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject(b, name, nlen), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer(b, name, nlen), QPKI_OK);
    static const uint8_t serial[] = {0x01};
    assert_int_equal(qpki_cert_builder_set_serial(b, serial, 1), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, 1577836800, 4733510400), QPKI_OK);
    assert_int_equal(qpki_signer_public_key(classic, &spki, &spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, -1, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, QPKI_KU_KEY_CERT_SIGN | QPKI_KU_CRL_SIGN,
                                                     true),
                     QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    if (alt) {
        assert_int_equal(qpki_signer_public_key(alt, &spki, &spki_len), QPKI_OK);
        assert_int_equal(qpki_cert_builder_set_alt_spki(b, spki, spki_len), QPKI_OK);
        assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    } else {
        assert_int_equal(qpki_cert_builder_sign(b, classic, &der, &len), QPKI_OK);
    }
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
    qpki_free(der);
    qpki_free(name);
    qpki_cert_builder_free(&b);
    return c;
}

void assert_hex_equal(const uint8_t *got, size_t n, const char *want_hex)
{
    size_t wn = 0;
    uint8_t *want = tu_hex(want_hex, &wn);
    assert_non_null(want);
    assert_int_equal(wn, n);
    assert_memory_equal(got, want, n);
    free(want);
}

qpki_time tu_clock(void *user) { return *(const qpki_time *)user; }

int tu_load_ocsp_fixture(qpki_cert **ca, qpki_cert **responder_cert, qpki_signer **responder_key)
{
    if (qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), ca) ||
        qpki_cert_load_file(tu_data_path("ocsp/responder.crt"), responder_cert) ||
        qpki_signer_software_load(tu_data_path("ocsp/responder.key"), NULL, responder_key))
        return -1;
    return 0;
}

qpki_responder *tu_responder(const qpki_cert *ca, qpki_db *db, qpki_signer *signer,
                             const qpki_cert *responder_cert, qpki_time *now)
{
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_set_clock(r, tu_clock, now), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, signer, responder_cert, NULL), QPKI_OK);
    return r;
}
