/* SPDX-License-Identifier: Apache-2.0 */
/* lib/der/der.c - bounded DER reader and capped writer (X.690 §8, §10). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../internal.h"
#include "der.h"

/* ---- reader ------------------------------------------------------------- */

der_cursor der_cursor_init(const uint8_t *p, size_t n)
{
    return (der_cursor){p, p ? n : 0, 0, NULL};
}

der_cursor der_cursor_init_diag(const uint8_t *p, size_t n, const der_diag *diag)
{
    return (der_cursor){p, p ? n : 0, 0, diag};
}

der_cursor der_cursor_sub(const der_cursor *parent, der_view v)
{
    return (der_cursor){v.p, v.p ? v.n : 0, parent->depth, parent->diag};
}

/* ---- failure messages ------------------------------------------------------ */

size_t der_offset(const der_cursor *c, const uint8_t *p)
{
    const der_diag *d = c->diag;
    if (!d || !d->base || p < d->base || p > d->base + d->len)
        return 0;
    return (size_t)(p - d->base);
}

static bool has_message(const der_cursor *c)
{
    return c->diag && c->diag->detail && c->diag->detail->msg && !c->diag->detail->msg[0];
}

void der_fail_(const der_cursor *c, const char *fmt, ...)
{
    if (!has_message(c))
        return;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (n < 0)
        what[0] = '\0';
    (void)detail_fail(c->diag->detail, QPKI_ERR_DECODE, "%s at byte %zu", what,
                      der_offset(c, c->p));
}

void der_field_(const der_cursor *c, qpki_status st, const char *fmt, ...)
{
    if (!c->diag || !c->diag->detail)
        return;
    /* A failure nothing described yet (a check outside the reader) still gets
     * the field's name and the library's word for it. */
    (void)detail_fail(c->diag->detail, st, "%s", qpki_strerror(st));
    va_list ap;
    va_start(ap, fmt);
    detail_vprefix(c->diag->detail, ": ", fmt, ap);
    va_end(ap);
}

const char *der_tag_name(uint8_t tag, char buf[16])
{
    static const struct {
        uint8_t tag;
        const char *name;
    } names[] = {
        {DER_BOOLEAN, "BOOLEAN"},
        {DER_INTEGER, "INTEGER"},
        {DER_BIT_STRING, "BIT STRING"},
        {DER_OCTET_STRING, "OCTET STRING"},
        {DER_NULL, "NULL"},
        {DER_OID, "OBJECT IDENTIFIER"},
        {DER_ENUMERATED, "ENUMERATED"},
        {DER_UTF8_STRING, "UTF8String"},
        {DER_PRINTABLE_STRING, "PrintableString"},
        {DER_IA5_STRING, "IA5String"},
        {DER_UTC_TIME, "UTCTime"},
        {DER_GENERALIZED_TIME, "GeneralizedTime"},
        {DER_SEQUENCE, "SEQUENCE"},
        {DER_SET, "SET"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].tag == tag)
            return names[i].name;
    if ((tag & 0x1f) == 0x1f)
        snprintf(buf, 16, "high tag number");
    else if ((tag & 0xc0) == 0x80)
        snprintf(buf, 16, "[%u]", tag & 0x1fu);
    else
        snprintf(buf, 16, "tag");
    return buf;
}

const char *der_oid_text_capped(der_view oid, char buf[DER_OID_TEXT_MAX])
{
    qpki_status st = der_oid_to_text(oid, buf, DER_OID_TEXT_MAX);
    if (st == QPKI_ERR_BUFFER_TOO_SMALL) {
        /* der_oid_to_text stops before the arc that does not fit */
        size_t n = strlen(buf);
        if (n > DER_OID_TEXT_MAX - 4)
            n = DER_OID_TEXT_MAX - 4;
        memcpy(buf + n, "...", 4);
    } else if (st != QPKI_OK) {
        snprintf(buf, DER_OID_TEXT_MAX, "(bad OID)");
    }
    return buf;
}

/* An element's name for messages: "SEQUENCE (0x30)", "[0] (0xa0)". */
static const char *tag_text(uint8_t tag, char buf[40])
{
    char nb[16];
    snprintf(buf, 40, "%s (0x%02x)", der_tag_name(tag, nb), tag);
    return buf;
}

/* The same for a byte read from the input where a tag should be: in a private
 * key that byte may be key material when the structure is off, so it is not
 * shown. */
static const char *found_text(const der_cursor *c, uint8_t tag, char buf[40])
{
    if (c->diag && c->diag->secret) {
        snprintf(buf, 40, "an element");
        return buf;
    }
    return tag_text(tag, buf);
}

/* ---- reader ------------------------------------------------------------- */

/* The cursor is the input itself (depth 0), not the contents of an element:
 * running out there means the input is cut short. */
static bool at_input_end(const der_cursor *c)
{
    return c->depth == 0;
}

/* Nothing left where an element must start. */
static qpki_status missing(const der_cursor *c, const char *what)
{
    if (at_input_end(c))
        return der_fail(c, QPKI_ERR_TRUNCATED, "truncated: %s expected", what);
    return der_fail(c, QPKI_ERR_TRUNCATED, "%s missing (the enclosing element ends)", what);
}

qpki_status der_peek_tag(const der_cursor *c, uint8_t *tag)
{
    if (c->left == 0)
        return missing(c, "an element");
    *tag = c->p[0];
    return QPKI_OK;
}

bool der_next_is(const der_cursor *c, uint8_t tag)
{
    return c->left > 0 && c->p[0] == tag;
}

qpki_status der_read_header(der_cursor *c, uint8_t *tag, size_t *len)
{
    if (c->left < 2) {
        size_t off = der_offset(c, c->p);
        if (c->left == 0)
            return missing(c, "an element");
        return der_fail(c, QPKI_ERR_TRUNCATED, "truncated at byte %zu of at least %zu: "
                        "a tag without its length", off + c->left, off + 2);
    }
    const uint8_t *p = c->p;
    /* X.690 §8.1.2.4: tag numbers >= 31 use the high-tag-number form; nothing we
     * parse uses them, so they are rejected rather than half-supported. */
    if ((p[0] & 0x1f) == 0x1f)
        return der_fail(c, QPKI_ERR_UNEXPECTED_TAG, "high-tag-number form");
    size_t used = 2, n = p[1];
    if (n & 0x80) {
        unsigned k = n & 0x7f;
        /* X.690 §10.1: "The definite form of length encoding shall be used" - 0x80
         * is the indefinite form. */
        if (k == 0)
            return der_fail(c, QPKI_ERR_INDEFINITE, "indefinite length (BER, not DER)");
        if (k > sizeof(size_t) || k > 4)
            return der_fail(c, QPKI_ERR_TOO_LARGE, "length of %u octets (at most 4)", k);
        if (c->left < 2 + (size_t)k) {
            size_t off = der_offset(c, c->p);
            return der_fail(c, QPKI_ERR_TRUNCATED, "truncated at byte %zu of %zu: "
                            "length octets", off + c->left, off + 2 + (size_t)k);
        }
        /* X.690 §10.1: "encoded in the minimum number of octets" - no leading zero
         * octet, and the long form only for lengths of 128 or more. */
        if (p[2] == 0)
            return der_fail(c, QPKI_ERR_NON_MINIMAL, "non-minimal length (leading zero)");
        n = 0;
        for (unsigned i = 0; i < k; i++)
            n = (n << 8) | p[2 + i];
        if (n < 0x80)
            return der_fail(c, QPKI_ERR_NON_MINIMAL, "non-minimal length (long form for %zu)",
                            n);
        used += k;
    }
    if (n > c->left - used) {
        char tb[40];
        size_t off = der_offset(c, c->p);
        if (at_input_end(c))
            return der_fail(c, QPKI_ERR_TRUNCATED, "truncated at byte %zu of %zu: %s",
                            off + c->left, off + used + n, found_text(c, p[0], tb));
        return der_fail(c, QPKI_ERR_TRUNCATED, "%s of %zu bytes runs %zu bytes past the end "
                        "of its enclosing element", found_text(c, p[0], tb), n,
                        n - (c->left - used));
    }
    *tag = p[0];
    *len = n;
    c->p += used;
    c->left -= used;
    return QPKI_OK;
}

qpki_status der_read_any(der_cursor *c, uint8_t *tag, der_cursor *value, der_view *whole)
{
    der_cursor save = *c;
    uint8_t t;
    size_t len;
    QPKI_GUARD(der_read_header(c, &t, &len));
    if ((t & 0x20) && c->depth + 1 > QPKI_DER_MAX_DEPTH) {
        *c = save;
        return der_fail(c, QPKI_ERR_DEPTH, "nesting deeper than %d", QPKI_DER_MAX_DEPTH);
    }
    if (tag)
        *tag = t;
    if (value)
        *value = (der_cursor){c->p, len, c->depth + 1, c->diag};
    c->p += len;
    c->left -= len;
    if (whole)
        *whole = (der_view){save.p, (size_t)(c->p - save.p)};
    return QPKI_OK;
}

/* The next element has tag `want`: else a message naming both. */
static qpki_status expect_tag(const der_cursor *c, uint8_t want)
{
    char wb[40], gb[40];
    if (c->left == 0)
        return missing(c, tag_text(want, wb));
    if (c->p[0] != want)
        return der_fail(c, QPKI_ERR_UNEXPECTED_TAG, "expected %s, found %s", tag_text(want, wb),
                        c->diag && c->diag->secret ? "another tag" : tag_text(c->p[0], gb));
    return QPKI_OK;
}

qpki_status der_read_tlv(der_cursor *c, uint8_t want, der_cursor *value)
{
    QPKI_GUARD(expect_tag(c, want));
    return der_read_any(c, NULL, value, NULL);
}

qpki_status der_read_optional(der_cursor *c, uint8_t want, der_cursor *value, bool *present)
{
    *present = der_next_is(c, want);
    if (!*present)
        return QPKI_OK;
    return der_read_any(c, NULL, value, NULL);
}

qpki_status der_read_raw(der_cursor *c, uint8_t want, der_view *whole)
{
    QPKI_GUARD(expect_tag(c, want));
    return der_read_any(c, NULL, NULL, whole);
}

qpki_status der_skip(der_cursor *c)
{
    return der_read_any(c, NULL, NULL, NULL);
}

qpki_status der_expect_end(const der_cursor *c)
{
    if (c->left == 0)
        return QPKI_OK;
    char tb[40];
    if (at_input_end(c))
        return der_fail(c, QPKI_ERR_TRAILING_DATA, "trailing data: %zu byte%s after the end",
                        c->left, c->left == 1 ? "" : "s");
    return der_fail(c, QPKI_ERR_TRAILING_DATA, "unexpected %s (%zu bytes left in the element)",
                    found_text(c, c->p[0], tb), c->left);
}

/* X.690 §8.3.2: the first nine bits of an INTEGER shall not be all ones or all
 * zeros (minimal two's complement). */
static qpki_status check_integer(const der_cursor *v)
{
    if (v->left < 1)
        return der_fail(v, QPKI_ERR_DECODE, "empty INTEGER");
    if (v->left >= 2 && ((v->p[0] == 0x00 && !(v->p[1] & 0x80)) ||
                         (v->p[0] == 0xff && (v->p[1] & 0x80))))
        return der_fail(v, QPKI_ERR_NON_MINIMAL, "non-minimal INTEGER (leading 0x%02x)", v->p[0]);
    return QPKI_OK;
}

qpki_status der_read_integer(der_cursor *c, der_view *content)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_INTEGER, &v));
    QPKI_GUARD(check_integer(&v));
    *content = der_cursor_view(&v);
    return QPKI_OK;
}

qpki_status der_integer_magnitude(der_view content, der_view *magnitude)
{
    QPKI_ENSURE(content.n >= 1, QPKI_ERR_DECODE);
    QPKI_ENSURE(!(content.p[0] & 0x80), QPKI_ERR_DECODE);
    while (content.n > 1 && content.p[0] == 0) {
        content.p++;
        content.n--;
    }
    if (content.n == 1 && content.p[0] == 0)
        content.n = 0; /* zero has an empty magnitude */
    *magnitude = content;
    return QPKI_OK;
}

qpki_status der_read_uint64(der_cursor *c, uint64_t *out)
{
    der_view v, m;
    der_cursor at = *c;
    QPKI_GUARD(der_read_integer(c, &v));
    if (der_integer_magnitude(v, &m) != QPKI_OK)
        return der_fail(&at, QPKI_ERR_DECODE, "negative INTEGER");
    if (m.n > 8)
        return der_fail(&at, QPKI_ERR_TOO_LARGE, "INTEGER of %zu octets (at most 8)", m.n);
    uint64_t x = 0;
    for (size_t i = 0; i < m.n; i++)
        x = (x << 8) | m.p[i];
    *out = x;
    return QPKI_OK;
}

qpki_status der_read_int64(der_cursor *c, int64_t *out)
{
    der_view v;
    der_cursor at = *c;
    QPKI_GUARD(der_read_integer(c, &v));
    if (v.n > 8)
        return der_fail(&at, QPKI_ERR_TOO_LARGE, "INTEGER of %zu octets (at most 8)", v.n);
    uint64_t x = (v.p[0] & 0x80) ? UINT64_MAX : 0;
    for (size_t i = 0; i < v.n; i++)
        x = (x << 8) | v.p[i];
    memcpy(out, &x, sizeof(x));
    return QPKI_OK;
}

qpki_status der_read_enumerated(der_cursor *c, int *out)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_ENUMERATED, &v));
    QPKI_GUARD(check_integer(&v));
    if (v.p[0] & 0x80)
        return der_fail(&v, QPKI_ERR_DECODE, "negative ENUMERATED");
    if (v.left > 4)
        return der_fail(&v, QPKI_ERR_TOO_LARGE, "ENUMERATED of %zu octets", v.left);
    uint32_t x = 0;
    for (size_t i = 0; i < v.left; i++)
        x = (x << 8) | v.p[i];
    if (x > INT32_MAX)
        return der_fail(&v, QPKI_ERR_TOO_LARGE, "ENUMERATED value too large");
    *out = (int)x;
    return QPKI_OK;
}

qpki_status der_read_bool(der_cursor *c, bool *out)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_BOOLEAN, &v));
    if (v.left != 1)
        return der_fail(&v, QPKI_ERR_DECODE, "BOOLEAN of %zu octets", v.left);
    /* X.690 §11.1: "If the encoding represents the boolean value TRUE, its single
     * contents octet shall have all eight bits set to one." */
    if (v.p[0] != 0x00 && v.p[0] != 0xff)
        return v.diag && v.diag->secret
                   ? der_fail(&v, QPKI_ERR_NON_MINIMAL, "BOOLEAN neither 0x00 nor 0xff")
                   : der_fail(&v, QPKI_ERR_NON_MINIMAL, "BOOLEAN 0x%02x (DER: 0x00 or 0xff)",
                              v.p[0]);
    *out = v.p[0] == 0xff;
    return QPKI_OK;
}

qpki_status der_read_null(der_cursor *c)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_NULL, &v));
    if (v.left != 0)
        return der_fail(&v, QPKI_ERR_DECODE, "NULL with %zu content octets", v.left);
    return QPKI_OK;
}

qpki_status der_read_oid(der_cursor *c, der_view *oid)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_OID, &v));
    if (v.left < 1)
        return der_fail(&v, QPKI_ERR_DECODE, "empty OBJECT IDENTIFIER");
    /* X.690 §8.19.2: each subidentifier is encoded in the fewest possible octets
     * (no leading 0x80) and the last octet of the encoding has bit 8 clear. */
    bool start = true;
    for (size_t i = 0; i < v.left; i++) {
        if (start && v.p[i] == 0x80)
            return der_fail(&v, QPKI_ERR_NON_MINIMAL, "non-minimal OBJECT IDENTIFIER arc");
        start = !(v.p[i] & 0x80);
    }
    if (!start)
        return der_fail(&v, QPKI_ERR_DECODE, "OBJECT IDENTIFIER cut inside an arc");
    *oid = der_cursor_view(&v);
    return QPKI_OK;
}

qpki_status der_read_octet_string(der_cursor *c, der_view *content)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_OCTET_STRING, &v));
    *content = der_cursor_view(&v);
    return QPKI_OK;
}

qpki_status der_read_bit_string(der_cursor *c, der_view *bits, unsigned *unused)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_BIT_STRING, &v));
    if (v.left < 1)
        return der_fail(&v, QPKI_ERR_DECODE, "BIT STRING without its unused-bits octet");
    unsigned u = v.p[0];
    if (u > 7 || (v.left == 1 && u != 0))
        return der_fail(&v, QPKI_ERR_DECODE, "BIT STRING with %u unused bits", u);
    /* X.690 §11.2.1: unused bits shall be set to zero. */
    if (u && (v.p[v.left - 1] & ((1u << u) - 1)) != 0)
        return der_fail(&v, QPKI_ERR_NON_MINIMAL, "BIT STRING with unused bits not zero");
    *bits = (der_view){v.p + 1, v.left - 1};
    if (unused)
        *unused = u;
    return QPKI_OK;
}

/* X.690 §11.7 / RFC 5280 §4.1.2.5: times end in "Z" and include seconds. */
static qpki_status parse_time(uint8_t tag, const der_cursor *v, qpki_time *out)
{
    const uint8_t *p = v->p;
    size_t n = v->left;
    if (tag == DER_UTC_TIME) {
        QPKI_ENSURE(n == 13 && p[12] == 'Z', QPKI_ERR_BAD_TIME);
    } else {
        QPKI_ENSURE(n >= 15 && p[n - 1] == 'Z', QPKI_ERR_BAD_TIME);
        if (n > 15) {
            /* X.690 §11.7.3/4: a fraction uses '.', has no trailing zeros, and is
             * followed only by 'Z'. */
            QPKI_ENSURE(p[14] == '.' && n >= 17 && p[n - 2] != '0', QPKI_ERR_BAD_TIME);
            for (size_t i = 15; i < n - 1; i++)
                QPKI_ENSURE(p[i] >= '0' && p[i] <= '9', QPKI_ERR_BAD_TIME);
        }
    }
    return qpki_time_from_digits((const char *)p, tag == DER_UTC_TIME ? 2 : 4, out);
}

static qpki_status time_at(uint8_t tag, const der_cursor *v, qpki_time *out)
{
    qpki_status st = parse_time(tag, v, out);
    if (st != QPKI_OK)
        return der_fail(v, st, "%s not in DER form (%s)",
                        tag == DER_UTC_TIME ? "UTCTime" : "GeneralizedTime",
                        tag == DER_UTC_TIME ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ");
    return QPKI_OK;
}

qpki_status der_read_time(der_cursor *c, qpki_time *out)
{
    uint8_t tag = 0;
    QPKI_GUARD(der_peek_tag(c, &tag));
    if (tag != DER_UTC_TIME && tag != DER_GENERALIZED_TIME) {
        char tb[40];
        return der_fail(c, QPKI_ERR_UNEXPECTED_TAG, "expected UTCTime or GeneralizedTime, "
                        "found %s", found_text(c, tag, tb));
    }
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, tag, &v));
    return time_at(tag, &v, out);
}

qpki_status der_read_generalized_time(der_cursor *c, qpki_time *out)
{
    der_cursor v;
    QPKI_GUARD(der_read_tlv(c, DER_GENERALIZED_TIME, &v));
    return time_at(DER_GENERALIZED_TIME, &v, out);
}

/* ---- OID text -------------------------------------------------------------- */

qpki_status der_oid_to_text(der_view oid, char *buf, size_t size)
{
    QPKI_ENSURE(buf && size > 0, QPKI_ERR_INVALID_ARG);
    buf[0] = '\0';
    size_t used = 0;
    uint64_t acc = 0;
    bool first = true;
    for (size_t i = 0; i < oid.n; i++) {
        QPKI_ENSURE(acc <= (UINT64_MAX >> 7), QPKI_ERR_TOO_LARGE);
        acc = (acc << 7) | (oid.p[i] & 0x7f);
        if (oid.p[i] & 0x80)
            continue;
        int w;
        if (first) {
            unsigned arc0 = acc < 40 ? 0 : acc < 80 ? 1 : 2;
            w = snprintf(buf + used, size - used, "%u.%llu", arc0,
                         (unsigned long long)(acc - 40u * arc0));
            first = false;
        } else {
            w = snprintf(buf + used, size - used, ".%llu", (unsigned long long)acc);
        }
        if (w < 0 || (size_t)w >= size - used) {
            buf[used] = '\0'; /* the arcs that fit, not part of one */
            return QPKI_ERR_BUFFER_TOO_SMALL;
        }
        used += (size_t)w;
        acc = 0;
    }
    /* X.690 §8.19.2: the last octet of each subidentifier has bit 8 clear. */
    QPKI_ENSURE(!first && !(oid.p[oid.n - 1] & 0x80), QPKI_ERR_DECODE);
    return QPKI_OK;
}

static qpki_status put_base128(uint64_t v, uint8_t *out, size_t cap, size_t *len)
{
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v);
    QPKI_ENSURE(*len + k <= cap, QPKI_ERR_BUFFER_TOO_SMALL);
    while (k) {
        k--;
        out[(*len)++] = (uint8_t)(tmp[k] | (k ? 0x80 : 0));
    }
    return QPKI_OK;
}

qpki_status der_oid_from_text(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
    QPKI_ENSURE(text && out && out_len, QPKI_ERR_INVALID_ARG);
    uint64_t arcs[64];
    size_t n = 0;
    const char *p = text;
    while (*p) {
        QPKI_ENSURE(n < QPKI_ARRAY_LEN(arcs), QPKI_ERR_TOO_LARGE);
        QPKI_ENSURE(*p >= '0' && *p <= '9', QPKI_ERR_PARSE);
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            QPKI_ENSURE(v <= (UINT64_MAX - 9) / 10, QPKI_ERR_TOO_LARGE);
            v = v * 10 + (uint64_t)(*p++ - '0');
        }
        arcs[n++] = v;
        if (*p == '.') {
            p++;
            QPKI_ENSURE(*p, QPKI_ERR_PARSE);
        } else {
            QPKI_ENSURE(*p == '\0', QPKI_ERR_PARSE);
        }
    }
    QPKI_ENSURE(n >= 2 && arcs[0] <= 2 && (arcs[0] == 2 || arcs[1] < 40), QPKI_ERR_PARSE);
    size_t len = 0;
    QPKI_GUARD(put_base128(arcs[0] * 40 + arcs[1], out, cap, &len));
    for (size_t i = 2; i < n; i++)
        QPKI_GUARD(put_base128(arcs[i], out, cap, &len));
    *out_len = len;
    return QPKI_OK;
}

/* ---- writer ------------------------------------------------------------------ */

void der_buf_init(der_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : DER_BUF_DEFAULT_MAX;
}

void der_buf_init_in(der_buf *b, struct arena *a, size_t max)
{
    der_buf_init(b, max);
    b->arena = a;
}

qpki_status der_buf_view(const der_buf *b, const uint8_t **out, size_t *out_len)
{
    QPKI_GUARD(b->err);
    QPKI_ENSURE(b->open == 0, QPKI_ERR_INTERNAL); /* unbalanced der_begin/der_end */
    *out = b->p ? b->p : (const uint8_t *)"";
    *out_len = b->len;
    return QPKI_OK;
}

void der_buf_free(der_buf *b)
{
    if (!b->arena)
        qpki_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

qpki_status der_buf_finish(der_buf *b, uint8_t **out, size_t *out_len)
{
    qpki_status rc = b->err;
    if (rc == QPKI_OK && b->open != 0)
        rc = QPKI_ERR_INTERNAL; /* unbalanced der_begin/der_end */
    if (rc != QPKI_OK) {
        der_buf_free(b);
        return rc;
    }
    if (b->arena) {
        /* the caller frees what it gets: a heap copy of the arena's bytes */
        uint8_t *copy = qpki_memdup(b->p ? b->p : (const uint8_t *)"", b->len);
        QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
        *out = copy;
        *out_len = b->len;
        b->p = NULL;
        b->len = b->cap = 0;
        return QPKI_OK;
    }
    if (!b->p) {
        b->p = qpki_malloc(1);
        if (!b->p)
            return QPKI_ERR_NOMEM;
    }
    *out = b->p;
    *out_len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return QPKI_OK;
}

static bool reserve(der_buf *b, size_t extra)
{
    if (b->err != QPKI_OK)
        return false;
    if (extra > b->max || b->len > b->max - extra) {
        b->err = QPKI_ERR_TOO_LARGE;
        return false;
    }
    size_t need = b->len + extra;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = b->arena ? arena_realloc(b->arena, b->p, b->cap, cap) : qpki_realloc(b->p, cap);
    if (!p) {
        b->err = QPKI_ERR_NOMEM;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void der_put_bytes(der_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static size_t len_octets(size_t n)
{
    size_t k = 1;
    if (n >= 0x80)
        for (size_t x = n; x; x >>= 8)
            k++;
    return k;
}

static void write_len(uint8_t *dst, size_t n, size_t k)
{
    if (k == 1) {
        dst[0] = (uint8_t)n;
        return;
    }
    dst[0] = (uint8_t)(0x80 | (k - 1));
    for (size_t i = k - 1; i >= 1; i--) {
        dst[i] = (uint8_t)(n & 0xff);
        n >>= 8;
    }
}

void der_put_tlv(der_buf *b, uint8_t tag, const void *content, size_t n)
{
    size_t k = len_octets(n);
    if (!reserve(b, 1 + k) || !reserve(b, 1 + k + n))
        return;
    b->p[b->len] = tag;
    write_len(b->p + b->len + 1, n, k);
    b->len += 1 + k;
    if (n)
        memcpy(b->p + b->len, content, n);
    b->len += n;
}

size_t der_begin(der_buf *b, uint8_t tag)
{
    size_t mark = b->len;
    /* Tag plus a one-octet length placeholder; der_end widens it if needed. */
    if (reserve(b, 2)) {
        b->p[b->len] = tag;
        b->p[b->len + 1] = 0;
        b->len += 2;
    }
    b->open++;
    return mark;
}

void der_end(der_buf *b, size_t mark)
{
    if (b->open == 0) {
        if (b->err == QPKI_OK)
            b->err = QPKI_ERR_INTERNAL;
        return;
    }
    b->open--;
    if (b->err != QPKI_OK)
        return;
    size_t content = b->len - mark - 2;
    size_t k = len_octets(content);
    if (k > 1) {
        if (!reserve(b, k - 1))
            return;
        memmove(b->p + mark + 1 + k, b->p + mark + 2, content);
        b->len += k - 1;
    }
    write_len(b->p + mark + 1, content, k);
}

void der_put_integer_content(der_buf *b, const uint8_t *content, size_t n)
{
    der_put_tlv(b, DER_INTEGER, content, n);
}

void der_put_uint_bytes(der_buf *b, const uint8_t *mag, size_t n)
{
    while (n > 0 && mag[0] == 0) {
        mag++;
        n--;
    }
    size_t mark = der_begin(b, DER_INTEGER);
    if (n == 0 || (mag[0] & 0x80)) {
        uint8_t zero = 0;
        der_put_bytes(b, &zero, 1);
    }
    der_put_bytes(b, mag, n);
    der_end(b, mark);
}

void der_put_uint64(der_buf *b, uint64_t v)
{
    uint8_t mag[8];
    for (int i = 7; i >= 0; i--) {
        mag[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    der_put_uint_bytes(b, mag, sizeof(mag));
}

void der_put_enumerated(der_buf *b, int v)
{
    uint8_t tmp[5];
    size_t n = 0;
    uint32_t x = (uint32_t)(v < 0 ? 0 : v);
    tmp[0] = 0;
    uint8_t be[4] = {(uint8_t)(x >> 24), (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
    size_t i = 0;
    while (i < 3 && be[i] == 0)
        i++;
    if (be[i] & 0x80)
        tmp[n++] = 0;
    while (i < 4)
        tmp[n++] = be[i++];
    der_put_tlv(b, DER_ENUMERATED, tmp, n);
}

void der_put_bool(der_buf *b, bool v)
{
    uint8_t x = v ? 0xff : 0x00;
    der_put_tlv(b, DER_BOOLEAN, &x, 1);
}

void der_put_null(der_buf *b) { der_put_tlv(b, DER_NULL, NULL, 0); }

void der_put_oid(der_buf *b, der_oid oid) { der_put_tlv(b, DER_OID, oid.p, oid.n); }

void der_put_octet_string(der_buf *b, const void *p, size_t n)
{
    der_put_tlv(b, DER_OCTET_STRING, p, n);
}

void der_put_bit_string(der_buf *b, const void *p, size_t n, unsigned unused)
{
    size_t mark = der_begin(b, DER_BIT_STRING);
    uint8_t u = (uint8_t)(unused & 7);
    der_put_bytes(b, &u, 1);
    der_put_bytes(b, p, n);
    der_end(b, mark);
}

static void put_time(der_buf *b, qpki_time t, qpki_time_form form)
{
    char text[QPKI_TIME_TEXT_MAX];
    size_t n = qpki_time_text(t, form, text);
    if (n == 0) {
        if (b->err == QPKI_OK)
            b->err = QPKI_ERR_BAD_TIME;
        return;
    }
    der_put_tlv(b, n == 15 ? DER_GENERALIZED_TIME : DER_UTC_TIME, text, n);
}

void der_put_generalized_time(der_buf *b, qpki_time t) { put_time(b, t, QPKI_TIME_GENERALIZED); }

/* RFC 5280 §4.1.2.5: "CAs conforming to this profile MUST always encode
 * certificate validity dates through the year 2049 as UTCTime; certificate
 * validity dates in 2050 or later MUST be encoded as GeneralizedTime." */
void der_put_x509_time(der_buf *b, qpki_time t) { put_time(b, t, QPKI_TIME_X509); }

void der_put_extension(der_buf *b, der_oid oid, bool critical, const void *value, size_t n)
{
    size_t ext = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, oid);
    if (critical)
        der_put_bool(b, true);
    der_put_octet_string(b, value, n);
    der_end(b, ext);
}
