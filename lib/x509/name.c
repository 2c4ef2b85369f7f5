/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/name.c - X.501 Names: shape check, RFC 4514 text, and the builder. */
#include <string.h>
#include <strings.h>

#include "../der/oid.h"
#include "../internal.h"
#include "x509.h"

/* Universal string tags not named in der.h. */
enum {
    TAG_NUMERIC_STRING = 0x12,
    TAG_VISIBLE_STRING = 0x1a,
    TAG_UNIVERSAL_STRING = 0x1c,
};

/* ---- shape ----------------------------------------------------------------- */

/* RFC 5280 §4.1.2.4:
 *   Name ::= CHOICE { rdnSequence RDNSequence }
 *   RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 *   RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } */
qpki_status x509_read_name(der_cursor *c, der_view *whole)
{
    der_cursor save = *c, seq;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &seq));
    while (!der_at_end(&seq)) {
        der_cursor set;
        QPKI_GUARD(der_read_tlv(&seq, DER_SET, &set));
        QPKI_ENSURE(!der_at_end(&set), QPKI_ERR_DECODE);
        while (!der_at_end(&set)) {
            der_cursor atv;
            der_view oid;
            QPKI_GUARD(der_read_tlv(&set, DER_SEQUENCE, &atv));
            QPKI_GUARD(der_read_oid(&atv, &oid));
            QPKI_GUARD(der_skip(&atv));
            QPKI_GUARD(der_expect_end(&atv));
        }
    }
    *whole = (der_view){save.p, (size_t)(c->p - save.p)};
    return QPKI_OK;
}

/* ---- text ------------------------------------------------------------------ */

typedef struct text_out {
    char *buf;
    size_t size, used;
} text_out;

static void out_c(text_out *w, char ch)
{
    if (w->used + 1 < w->size)
        w->buf[w->used] = ch;
    w->used++;
}

static void out_s(text_out *w, const char *s)
{
    while (*s)
        out_c(w, *s++);
}

static const char hex_upper[] = "0123456789ABCDEF";

static void out_hex_byte(text_out *w, uint8_t b)
{
    out_c(w, hex_upper[b >> 4]);
    out_c(w, hex_upper[b & 15]);
}

static void out_cp(text_out *w, uint32_t cp)
{
    if (cp < 0x80) {
        out_c(w, (char)cp);
    } else if (cp < 0x800) {
        out_c(w, (char)(0xc0 | (cp >> 6)));
        out_c(w, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out_c(w, (char)(0xe0 | (cp >> 12)));
        out_c(w, (char)(0x80 | ((cp >> 6) & 0x3f)));
        out_c(w, (char)(0x80 | (cp & 0x3f)));
    } else {
        out_c(w, (char)(0xf0 | (cp >> 18)));
        out_c(w, (char)(0x80 | ((cp >> 12) & 0x3f)));
        out_c(w, (char)(0x80 | ((cp >> 6) & 0x3f)));
        out_c(w, (char)(0x80 | (cp & 0x3f)));
    }
}

/* Decode one UTF-8 sequence at p[*i] (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  false on an invalid sequence. */
static bool utf8_next(const uint8_t *p, size_t n, size_t *i, uint32_t *cp)
{
    uint8_t b = p[*i];
    size_t k;
    uint32_t v, min;
    if (b < 0x80) {
        *cp = b;
        (*i)++;
        return true;
    } else if ((b & 0xe0) == 0xc0) {
        k = 1, v = b & 0x1fu, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
        k = 2, v = b & 0x0fu, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
        k = 3, v = b & 0x07u, min = 0x10000;
    } else {
        return false;
    }
    if (n - *i <= k)
        return false;
    for (size_t j = 1; j <= k; j++) {
        uint8_t c = p[*i + j];
        if ((c & 0xc0) != 0x80)
            return false;
        v = (v << 6) | (c & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return false;
    *cp = v;
    *i += k + 1;
    return true;
}

static bool utf8_valid(const uint8_t *p, size_t n, size_t *chars)
{
    size_t i = 0, count = 0;
    uint32_t cp;
    while (i < n) {
        if (!utf8_next(p, n, &i, &cp))
            return false;
        count++;
    }
    if (chars)
        *chars = count;
    return true;
}

/* Next code point of a string value of type tag; false at the end.  The value
 * was validated by string_decodable() first. */
static bool string_next(uint8_t tag, der_view v, size_t *i, uint32_t *cp)
{
    if (*i >= v.n)
        return false;
    switch (tag) {
    case DER_UTF8_STRING:
        return utf8_next(v.p, v.n, i, cp);
    case DER_BMP_STRING:
        *cp = (uint32_t)v.p[*i] << 8 | v.p[*i + 1];
        *i += 2;
        return true;
    case TAG_UNIVERSAL_STRING:
        *cp = (uint32_t)v.p[*i] << 24 | (uint32_t)v.p[*i + 1] << 16 |
              (uint32_t)v.p[*i + 2] << 8 | v.p[*i + 3];
        *i += 4;
        return true;
    default: /* single-byte types; TeletexString read as Latin-1 like OpenSSL */
        *cp = v.p[(*i)++];
        return true;
    }
}

/* Whether a value of this string type can be shown as text (else #hex). */
static bool string_decodable(uint8_t tag, der_view v)
{
    switch (tag) {
    case DER_UTF8_STRING:
        return utf8_valid(v.p, v.n, NULL);
    case DER_PRINTABLE_STRING:
    case DER_IA5_STRING:
    case TAG_VISIBLE_STRING:
    case TAG_NUMERIC_STRING:
        for (size_t i = 0; i < v.n; i++)
            if (v.p[i] >= 0x80)
                return false;
        return true;
    case DER_T61_STRING:
        return true;
    case DER_BMP_STRING:
        if (v.n % 2)
            return false;
        for (size_t i = 0; i < v.n; i += 2)
            if (v.p[i] >= 0xd8 && v.p[i] <= 0xdf)
                return false;
        return true;
    case TAG_UNIVERSAL_STRING:
        if (v.n % 4)
            return false;
        for (size_t i = 0; i < v.n; i += 4) {
            uint32_t cp = (uint32_t)v.p[i] << 24 | (uint32_t)v.p[i + 1] << 16 |
                          (uint32_t)v.p[i + 2] << 8 | v.p[i + 3];
            if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
        }
        return true;
    default:
        return false;
    }
}

static const struct {
    der_oid oid;
    const char *name;
} attr_names[] = {
    {OID_AT_CN, "CN"},
    {OID_AT_SURNAME, "SN"},
    {OID_AT_SERIAL_NUMBER, "serialNumber"},
    {OID_AT_C, "C"},
    {OID_AT_L, "L"},
    {OID_AT_ST, "ST"},
    {OID_AT_STREET, "street"},
    {OID_AT_O, "O"},
    {OID_AT_OU, "OU"},
    {OID_AT_TITLE, "title"},
    {OID_AT_POSTAL_CODE, "postalCode"},
    {OID_AT_GIVEN_NAME, "GN"},
    {OID_AT_ORG_ID, "organizationIdentifier"},
    {OID_PKCS9_EMAIL, "emailAddress"},
    {OID_AT_DC, "DC"},
    {OID_AT_UID, "UID"},
};

static const char *attr_short_name(der_view oid)
{
    for (size_t i = 0; i < QPKI_ARRAY_LEN(attr_names); i++)
        if (der_oid_eq(oid, attr_names[i].oid))
            return attr_names[i].name;
    return NULL;
}

/* RFC 4514 §2.4: "#" followed by the hexadecimal encoding of each of the octets
 * of the BER encoding of the X.500 AttributeValue. */
static void out_hex_value(text_out *w, der_view whole)
{
    out_c(w, '#');
    for (size_t i = 0; i < whole.n; i++)
        out_hex_byte(w, whole.p[i]);
}

/* RFC 4514 §2.4: escape '"', '+', ',', ';', '<', '>', '\\'; a leading space or
 * '#'; a trailing space; NUL (and, here, every control character) as \XX. */
static void out_string_value(text_out *w, uint8_t tag, der_view v)
{
    size_t i = 0;
    uint32_t cp;
    bool first = true;
    while (string_next(tag, v, &i, &cp)) {
        bool last = i >= v.n;
        if (cp < 0x20 || cp == 0x7f) {
            out_c(w, '\\');
            out_hex_byte(w, (uint8_t)cp);
        } else if ((cp < 0x80 && strchr(",+\"\\<>;", (int)cp) != NULL) ||
                   (first && (cp == ' ' || cp == '#')) || (last && cp == ' ')) {
            out_c(w, '\\');
            out_c(w, (char)cp);
        } else {
            out_cp(w, cp);
        }
        first = false;
    }
}

qpki_status x509_name_text(der_view name, char *buf, size_t size)
{
    QPKI_ENSURE(buf && size > 0, QPKI_ERR_INVALID_ARG);
    text_out w = {buf, size, 0};
    /* Collect the AttributeTypeAndValue positions so they can be written last to
     * first (RFC 4514 §2.1 "starting with the last element of the sequence").
     * Within a multi-valued RDN the order is reversed too, as OpenSSL's RFC2253
     * output does; RFC 4514 gives that order no meaning. */
    enum { MAX_ATV = 128 };
    der_view atvs[MAX_ATV];
    bool rdn_end[MAX_ATV]; /* atv is the last of its RDN in encoding order */
    size_t count = 0;
    der_cursor c = der_cursor_init(name.p, name.n), seq;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    while (!der_at_end(&seq)) {
        der_cursor set;
        QPKI_GUARD(der_read_tlv(&seq, DER_SET, &set));
        while (!der_at_end(&set)) {
            QPKI_ENSURE(count < MAX_ATV, QPKI_ERR_LIMIT);
            QPKI_GUARD(der_read_any(&set, NULL, NULL, &atvs[count]));
            rdn_end[count] = der_at_end(&set);
            count++;
        }
    }
    for (size_t k = count; k-- > 0;) {
        if (k + 1 < count)
            out_c(&w, rdn_end[k] ? ',' : '+');
        der_cursor a = der_cursor_init(atvs[k].p, atvs[k].n), atv, vc;
        der_view oid, value;
        uint8_t tag;
        QPKI_GUARD(der_read_tlv(&a, DER_SEQUENCE, &atv));
        QPKI_GUARD(der_read_oid(&atv, &oid));
        QPKI_GUARD(der_read_any(&atv, &tag, &vc, &value));
        const char *sn = attr_short_name(oid);
        if (sn) {
            out_s(&w, sn);
        } else {
            char dotted[128];
            QPKI_GUARD(der_oid_to_text(oid, dotted, sizeof(dotted)));
            out_s(&w, dotted);
        }
        out_c(&w, '=');
        der_view contents = der_cursor_view(&vc);
        if (sn && string_decodable(tag, contents))
            out_string_value(&w, tag, contents);
        else
            out_hex_value(&w, value);
    }
    if (w.used >= size) {
        buf[size - 1] = '\0';
        return QPKI_ERR_BUFFER_TOO_SMALL;
    }
    buf[w.used] = '\0';
    return QPKI_OK;
}

qpki_status qpki_name_to_text(const uint8_t *der, size_t len, char *buf, size_t size)
{
    QPKI_ENSURE(der && buf && size > 0, QPKI_ERR_INVALID_ARG);
    buf[0] = '\0';
    der_cursor c = der_cursor_init(der, len);
    der_view name;
    QPKI_GUARD(x509_read_name(&c, &name));
    QPKI_GUARD(der_expect_end(&c));
    return x509_name_text(name, buf, size);
}

/* ---- builder --------------------------------------------------------------- */

struct qpki_name {
    der_buf rdns; /* concatenated RelativeDistinguishedName TLVs */
};

qpki_status qpki_name_new(qpki_name **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    qpki_name *n = qpki_calloc(1, sizeof(*n));
    QPKI_ENSURE(n, QPKI_ERR_NOMEM);
    der_buf_init(&n->rdns, QPKI_CERT_MAX_SIZE);
    *out = n;
    return QPKI_OK;
}

void qpki_name_free(qpki_name **name)
{
    if (!name || !*name)
        return;
    der_buf_free(&(*name)->rdns);
    qpki_free(*name);
    *name = NULL;
}

/* X.680 §41.4 PrintableString: A-Z a-z 0-9 space ' ( ) + , - . / : = ? */
static bool printable_char(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr(" '()+,-./:=?", ch) != NULL);
}

static qpki_status rdn_put(qpki_name *name, der_oid oid, uint8_t tag, const uint8_t *v, size_t n,
                           bool raw_value)
{
    der_buf *b = &name->rdns;
    size_t set = der_begin(b, DER_SET);
    size_t seq = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, oid);
    if (raw_value)
        der_put_bytes(b, v, n);
    else
        der_put_tlv(b, tag, v, n);
    der_end(b, seq);
    der_end(b, set);
    return b->err;
}

static const struct {
    qpki_name_attr attr;
    der_oid oid;
    uint8_t tag;
    size_t max_chars; /* RFC 5280 Appendix A upper bounds */
} attr_specs[] = {
    {QPKI_NAME_CN, OID_AT_CN, DER_UTF8_STRING, 64},
    {QPKI_NAME_O, OID_AT_O, DER_UTF8_STRING, 64},
    {QPKI_NAME_OU, OID_AT_OU, DER_UTF8_STRING, 64},
    {QPKI_NAME_C, OID_AT_C, DER_PRINTABLE_STRING, 2},
    {QPKI_NAME_L, OID_AT_L, DER_UTF8_STRING, 128},
    {QPKI_NAME_ST, OID_AT_ST, DER_UTF8_STRING, 128},
    {QPKI_NAME_SERIAL_NUMBER, OID_AT_SERIAL_NUMBER, DER_PRINTABLE_STRING, 64},
    {QPKI_NAME_EMAIL, OID_PKCS9_EMAIL, DER_IA5_STRING, 255},
};

/* Check value against the attribute's string type and bounds, then append. */
static qpki_status name_add_bytes(qpki_name *name, qpki_name_attr attr, const uint8_t *v,
                                  size_t n)
{
    size_t k = 0;
    while (k < QPKI_ARRAY_LEN(attr_specs) && attr_specs[k].attr != attr)
        k++;
    QPKI_ENSURE(k < QPKI_ARRAY_LEN(attr_specs), QPKI_ERR_INVALID_ARG);
    /* RFC 5280 Appendix A: every attribute value is SIZE (1..ub-...). */
    QPKI_ENSURE(n > 0, QPKI_ERR_INVALID_ARG);
    size_t chars = n;
    switch (attr_specs[k].tag) {
    case DER_PRINTABLE_STRING:
        for (size_t i = 0; i < n; i++)
            QPKI_ENSURE(printable_char(v[i]), QPKI_ERR_INVALID_ARG);
        break;
    case DER_IA5_STRING:
        for (size_t i = 0; i < n; i++)
            QPKI_ENSURE(v[i] >= 0x20 && v[i] < 0x7f, QPKI_ERR_INVALID_ARG);
        break;
    default:
        QPKI_ENSURE(utf8_valid(v, n, &chars), QPKI_ERR_INVALID_ARG);
        for (size_t i = 0; i < n; i++)
            QPKI_ENSURE(v[i] >= 0x20 && v[i] != 0x7f, QPKI_ERR_INVALID_ARG);
        break;
    }
    QPKI_ENSURE(chars <= attr_specs[k].max_chars, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 Appendix A: CountryName ::= PrintableString (SIZE (2)) holding an
     * ISO 3166 alpha-2 code. */
    if (attr == QPKI_NAME_C)
        QPKI_ENSURE(n == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z',
                    QPKI_ERR_INVALID_ARG);
    return rdn_put(name, attr_specs[k].oid, attr_specs[k].tag, v, n, false);
}

qpki_status qpki_name_add(qpki_name *name, qpki_name_attr attr, const char *value)
{
    QPKI_ENSURE(name && value, QPKI_ERR_INVALID_ARG);
    return name_add_bytes(name, attr, (const uint8_t *)value, strlen(value));
}

static qpki_status name_add_oid_bytes(qpki_name *name, der_view oid, const uint8_t *v, size_t n)
{
    QPKI_ENSURE(n > 0 && n <= 4096, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(utf8_valid(v, n, NULL), QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < n; i++)
        QPKI_ENSURE(v[i] >= 0x20 && v[i] != 0x7f, QPKI_ERR_INVALID_ARG);
    return rdn_put(name, (der_oid){oid.p, oid.n}, DER_UTF8_STRING, v, n, false);
}

qpki_status qpki_name_add_oid(qpki_name *name, const char *oid, const char *value)
{
    QPKI_ENSURE(name && oid && value, QPKI_ERR_INVALID_ARG);
    uint8_t o[64];
    size_t olen;
    QPKI_ENSURE(der_oid_from_text(oid, o, sizeof(o), &olen) == QPKI_OK, QPKI_ERR_INVALID_ARG);
    return name_add_oid_bytes(name, (der_view){o, olen}, (const uint8_t *)value, strlen(value));
}

qpki_status qpki_name_encode(const qpki_name *name, uint8_t **der, size_t *len)
{
    QPKI_ENSURE(name && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_GUARD(name->rdns.err);
    der_buf b;
    der_buf_init(&b, QPKI_CERT_MAX_SIZE);
    size_t m = der_begin(&b, DER_SEQUENCE);
    der_put_bytes(&b, name->rdns.p, name->rdns.len);
    der_end(&b, m);
    return der_buf_finish(&b, der, len);
}

/* ---- text to Name ------------------------------------------------------------- */

typedef struct text_attr {
    int attr;              /* qpki_name_attr, or 0 for a dotted OID */
    uint8_t oid[64];
    size_t oid_len;
    uint8_t *value;        /* decoded (escapes removed) */
    size_t value_len;
    bool hex;              /* value is DER from a #hex form */
} text_attr;

static const struct {
    const char *key;
    qpki_name_attr attr;
} text_keys[] = {
    {"CN", QPKI_NAME_CN},           {"O", QPKI_NAME_O},
    {"OU", QPKI_NAME_OU},           {"C", QPKI_NAME_C},
    {"L", QPKI_NAME_L},             {"ST", QPKI_NAME_ST},
    {"serialNumber", QPKI_NAME_SERIAL_NUMBER},
    {"emailAddress", QPKI_NAME_EMAIL},
};

static bool is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Parse "key=value" from s[0..n) into a. */
static qpki_status parse_component(const char *s, size_t n, text_attr *a)
{
    size_t eq = 0;
    while (eq < n && s[eq] != '=')
        eq++;
    QPKI_ENSURE(eq < n, QPKI_ERR_PARSE);
    size_t ks = 0, ke = eq;
    while (ks < ke && is_blank(s[ks]))
        ks++;
    while (ke > ks && is_blank(s[ke - 1]))
        ke--;
    QPKI_ENSURE(ke > ks && ke - ks < 64, QPKI_ERR_PARSE);
    char key[64];
    memcpy(key, s + ks, ke - ks);
    key[ke - ks] = '\0';
    a->attr = 0;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(text_keys); i++)
        if (strcasecmp(key, text_keys[i].key) == 0)
            a->attr = (int)text_keys[i].attr;
    if (a->attr == 0)
        QPKI_ENSURE(der_oid_from_text(key, a->oid, sizeof(a->oid), &a->oid_len) == QPKI_OK,
                    QPKI_ERR_PARSE);

    const char *v = s + eq + 1;
    size_t vn = n - eq - 1;
    size_t i = 0;
    while (i < vn && is_blank(v[i]))
        i++;
    a->value = qpki_malloc(vn + 1);
    QPKI_ENSURE(a->value, QPKI_ERR_NOMEM);
    size_t o = 0, keep = 0; /* keep: length up to the last escaped or non-blank byte */
    if (i < vn && v[i] == '#') {
        /* RFC 4514 §2.4 hexstring form: the value's BER (here: one DER TLV). */
        i++;
        while (i + 1 < vn && qpki_hex_digit(v[i]) >= 0 && qpki_hex_digit(v[i + 1]) >= 0) {
            a->value[o++] = (uint8_t)(qpki_hex_digit(v[i]) << 4 | qpki_hex_digit(v[i + 1]));
            i += 2;
        }
        while (i < vn && is_blank(v[i]))
            i++;
        QPKI_ENSURE(i == vn && o > 0, QPKI_ERR_PARSE);
        der_cursor c = der_cursor_init(a->value, o);
        QPKI_ENSURE(der_skip(&c) == QPKI_OK && der_at_end(&c), QPKI_ERR_PARSE);
        a->hex = true;
        a->value_len = o;
        return QPKI_OK;
    }
    for (; i < vn; i++) {
        if (v[i] == '\\') {
            QPKI_ENSURE(i + 1 < vn, QPKI_ERR_PARSE);
            int h1 = qpki_hex_digit(v[i + 1]), h2 = i + 2 < vn ? qpki_hex_digit(v[i + 2]) : -1;
            if (h1 >= 0 && h2 >= 0) {
                uint8_t byte = (uint8_t)(h1 << 4 | h2);
                QPKI_ENSURE(byte != 0, QPKI_ERR_PARSE);
                a->value[o++] = byte;
                i += 2;
            } else {
                a->value[o++] = (uint8_t)v[++i];
            }
            keep = o;
        } else {
            a->value[o++] = (uint8_t)v[i];
            if (!is_blank(v[i]))
                keep = o;
        }
    }
    a->value_len = keep;
    QPKI_ENSURE(keep > 0, QPKI_ERR_PARSE);
    return QPKI_OK;
}

qpki_status qpki_name_from_text(const char *text, uint8_t **der, size_t *len)
{
    QPKI_ENSURE(text && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    qpki_status rc = QPKI_OK;
    qpki_name *name = NULL;
    text_attr *attrs = NULL;
    size_t count = 0;
    size_t n = strlen(text);
    QPKI_ENSURE(n <= 65536, QPKI_ERR_TOO_LARGE);
    size_t start = 0;
    while (start < n && is_blank(text[start]))
        start++;
    bool slash = start < n && text[start] == '/';
    if (slash)
        start++;
    char sep = slash ? '/' : ',';
    attrs = qpki_calloc(n + 2, sizeof(*attrs));
    QPKI_ENSURE(attrs, QPKI_ERR_NOMEM);
    QPKI_CHECK(qpki_name_new(&name));
    if (start < n) {
        size_t i = start, comp = start;
        for (;; i++) {
            if (i < n && text[i] == '\\') {
                i++;
                if (i >= n)
                    QPKI_FAIL(QPKI_ERR_PARSE);
                continue;
            }
            /* Multi-valued RDNs are not built from text: in RFC 4514 form an
             * unescaped '+' is an error; in slash form it is an ordinary character. */
            if (i < n && text[i] == '+' && !slash)
                QPKI_FAIL(QPKI_ERR_PARSE);
            if (i == n || text[i] == sep) {
                /* a trailing separator in slash form ("/CN=x/") is tolerated */
                if (!(slash && i == n && i == comp && count > 0))
                    QPKI_CHECK(parse_component(text + comp, i - comp, &attrs[count++]));
                comp = i + 1;
                if (i == n)
                    break;
            }
        }
    }
    for (size_t k = 0; k < count; k++) {
        /* RFC 4514 §2.1: the string lists the RDNs last to first. */
        text_attr *a = &attrs[slash ? k : count - 1 - k];
        if (a->hex) {
            der_oid oid = a->oid_len ? (der_oid){a->oid, a->oid_len} : (der_oid){NULL, 0};
            if (a->attr) {
                for (size_t j = 0; j < QPKI_ARRAY_LEN(attr_specs); j++)
                    if ((int)attr_specs[j].attr == a->attr)
                        oid = attr_specs[j].oid;
            }
            QPKI_CHECK(rdn_put(name, oid, 0, a->value, a->value_len, true));
        } else if (a->attr) {
            rc = name_add_bytes(name, (qpki_name_attr)a->attr, a->value, a->value_len);
            if (rc == QPKI_ERR_INVALID_ARG)
                rc = QPKI_ERR_PARSE;
            QPKI_CHECK(rc);
        } else {
            rc = name_add_oid_bytes(name, (der_view){a->oid, a->oid_len}, a->value,
                                    a->value_len);
            if (rc == QPKI_ERR_INVALID_ARG)
                rc = QPKI_ERR_PARSE;
            QPKI_CHECK(rc);
        }
    }
    rc = qpki_name_encode(name, der, len);
out:
    if (attrs) {
        for (size_t k = 0; k < n + 2; k++)
            qpki_free(attrs[k].value);
        qpki_free(attrs);
    }
    qpki_name_free(&name);
    return rc;
}
