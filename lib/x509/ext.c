/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/ext.c - extension lists for the builders, GeneralName encoders,
 * key identifiers. */
#include <arpa/inet.h>
#include <string.h>

#include "../crypto/crypto.h"
#include "../der/oid.h"
#include "../internal.h"
#include "x509.h"

/* ---- key identifiers ------------------------------------------------------------ */

/* RFC 5280 §4.2.1.2 method (1): "The keyIdentifier is composed of the 160-bit
 * SHA-1 hash of the value of the BIT STRING subjectPublicKey (excluding the tag,
 * length, and number of unused bits)." */
qpki_status x509_key_id(der_view key_bits, uint8_t out[20])
{
    uint8_t h[CRYPTO_MAX_HASH_LEN];
    QPKI_GUARD(crypto_hash(QPKI_HASH_SHA1, key_bits.p, key_bits.n, h));
    memcpy(out, h, 20);
    return QPKI_OK;
}

/* ---- GeneralName ------------------------------------------------------------------ */

/* RFC 5280 §4.2.1.6:
 *   GeneralName ::= CHOICE {
 *       otherName                 [0] OtherName,
 *       rfc822Name                [1] IA5String,
 *       dNSName                   [2] IA5String,
 *       x400Address               [3] ORAddress,
 *       directoryName             [4] Name,
 *       ediPartyName              [5] EDIPartyName,
 *       uniformResourceIdentifier [6] IA5String,
 *       iPAddress                 [7] OCTET STRING,
 *       registeredID              [8] OBJECT IDENTIFIER }
 * (implicitly tagged, so [0] [3] [4] [5] are constructed, the others primitive). */
enum {
    GN_RFC822 = 0x81,
    GN_DNS = 0x82,
    GN_URI = 0x86,
    GN_IP = 0x87,
};

qpki_status x509_general_names_check(const uint8_t *der, size_t len, der_view *contents)
{
    der_cursor c = der_cursor_init(der, len), seq;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    /* GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
    QPKI_ENSURE(!der_at_end(&seq), QPKI_ERR_DECODE);
    *contents = der_cursor_view(&seq);
    while (!der_at_end(&seq)) {
        uint8_t tag;
        der_cursor v;
        QPKI_GUARD(der_read_any(&seq, &tag, &v, NULL));
        unsigned num = tag & 0x1fu;
        bool cons = (tag & 0x20u) != 0;
        QPKI_ENSURE((tag & 0xc0u) == 0x80u && num <= 8, QPKI_ERR_UNEXPECTED_TAG);
        bool want_cons = num == 0 || num == 3 || num == 4 || num == 5;
        QPKI_ENSURE(cons == want_cons, QPKI_ERR_UNEXPECTED_TAG);
        /* RFC 5280 §4.2.1.6: "the octet string MUST contain exactly four octets"
         * (IPv4) or "exactly sixteen octets" (IPv6). */
        if (tag == GN_IP)
            QPKI_ENSURE(v.left == 4 || v.left == 16, QPKI_ERR_DECODE);
    }
    return QPKI_OK;
}

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* RFC 5280 §4.2.1.6: dNSName "MUST be in the 'preferred name syntax', as
 * specified by Section 3.5 of [RFC1034] and as modified by Section 2.1 of
 * [RFC1123]" - labels of letters, digits and inner hyphens, at most 63 octets,
 * 253 in all.  We also accept '_' (service names) and a leading "*." wildcard. */
static bool dns_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    size_t i = 0;
    if (n > 2 && s[0] == '*' && s[1] == '.')
        i = 2;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
                return false;
            i++;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        if (i < n)
            i++; /* the dot */
        if (i == n && s[n - 1] == '.')
            return false;
    }
    return true;
}

qpki_status x509_gn_dns(der_buf *b, const char *name)
{
    QPKI_ENSURE(name && dns_name_ok(name), QPKI_ERR_INVALID_ARG);
    der_put_tlv(b, GN_DNS, name, strlen(name));
    return b->err;
}

/* rfc822Name: an RFC 5322 addr-spec (local-part "@" domain), ASCII only here. */
qpki_status x509_gn_email(der_buf *b, const char *addr)
{
    QPKI_ENSURE(addr, QPKI_ERR_INVALID_ARG);
    size_t n = strlen(addr), at = n;
    QPKI_ENSURE(n > 0 && n <= 255, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < n; i++) {
        QPKI_ENSURE(addr[i] > 0x20 && addr[i] < 0x7f, QPKI_ERR_INVALID_ARG);
        if (addr[i] == '@') {
            QPKI_ENSURE(at == n, QPKI_ERR_INVALID_ARG);
            at = i;
        }
    }
    QPKI_ENSURE(at > 0 && at + 1 < n && dns_name_ok(addr + at + 1), QPKI_ERR_INVALID_ARG);
    der_put_tlv(b, GN_RFC822, addr, n);
    return b->err;
}

/* uniformResourceIdentifier: RFC 5280 §4.2.1.6 "The name MUST NOT be a relative
 * URI" - a scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ))
 * and ':' come first. */
qpki_status x509_gn_uri(der_buf *b, const char *uri)
{
    QPKI_ENSURE(uri, QPKI_ERR_INVALID_ARG);
    size_t n = strlen(uri);
    QPKI_ENSURE(n > 0 && n <= 4096, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < n; i++)
        QPKI_ENSURE(uri[i] > 0x20 && uri[i] < 0x7f, QPKI_ERR_INVALID_ARG);
    size_t i = 0;
    QPKI_ENSURE((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z'),
                QPKI_ERR_INVALID_ARG);
    while (i < n && (is_alnum(uri[i]) || uri[i] == '+' || uri[i] == '-' || uri[i] == '.'))
        i++;
    QPKI_ENSURE(i < n && uri[i] == ':' && i + 1 < n, QPKI_ERR_INVALID_ARG);
    der_put_tlv(b, GN_URI, uri, n);
    return b->err;
}

/* iPAddress: "four octets" for IPv4, "sixteen octets" for IPv6, network order. */
qpki_status x509_gn_ip(der_buf *b, const char *text)
{
    QPKI_ENSURE(text, QPKI_ERR_INVALID_ARG);
    uint8_t a[16];
    if (inet_pton(AF_INET, text, a) == 1)
        der_put_tlv(b, GN_IP, a, 4);
    else if (inet_pton(AF_INET6, text, a) == 1)
        der_put_tlv(b, GN_IP, a, 16);
    else
        return QPKI_ERR_INVALID_ARG;
    return b->err;
}

/* ---- extension lists ------------------------------------------------------------------ */

void x509_ext_list_free(x509_ext_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        qpki_free(l->items[i].value);
    qpki_free(l->items);
    qpki_free(l->san);
    memset(l, 0, sizeof(*l));
}

static x509_ext_item *find_item(x509_ext_list *l, der_oid oid)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].oid_len == oid.n && memcmp(l->items[i].oid, oid.p, oid.n) == 0)
            return &l->items[i];
    return NULL;
}

qpki_status x509_ext_list_put(x509_ext_list *l, der_oid oid, bool critical,
                              enum x509_ext_kind kind, const uint8_t *value, size_t value_len,
                              bool replace)
{
    QPKI_ENSURE(oid.n > 0 && oid.n <= sizeof(l->items[0].oid), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(value || value_len == 0, QPKI_ERR_INVALID_ARG);
    x509_ext_item *it = find_item(l, oid);
    QPKI_ENSURE(!it || replace, QPKI_ERR_EXISTS);
    uint8_t *copy = NULL;
    if (kind == X509_EXT_RAW) {
        copy = qpki_malloc(value_len ? value_len : 1);
        QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
        if (value_len)
            memcpy(copy, value, value_len);
    }
    if (!it) {
        if (l->n >= QPKI_CERT_MAX_EXTENSIONS) {
            qpki_free(copy);
            return QPKI_ERR_LIMIT;
        }
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 8;
            x509_ext_item *items = qpki_realloc(l->items, cap * sizeof(*items));
            if (!items) {
                qpki_free(copy);
                return QPKI_ERR_NOMEM;
            }
            l->items = items;
            l->cap = cap;
        }
        it = &l->items[l->n++];
        memset(it, 0, sizeof(*it));
        memcpy(it->oid, oid.p, oid.n);
        it->oid_len = oid.n;
    }
    qpki_free(it->value);
    it->critical = critical;
    it->kind = kind;
    it->value = copy;
    it->value_len = kind == X509_EXT_RAW ? value_len : 0;
    return QPKI_OK;
}

qpki_status x509_ext_list_remove(x509_ext_list *l, der_oid oid)
{
    x509_ext_item *it = find_item(l, oid);
    QPKI_ENSURE(it, QPKI_ERR_NOT_FOUND);
    if (it->kind == X509_EXT_SAN) {
        qpki_free(l->san);
        l->san = NULL;
        l->san_len = l->san_count = 0;
    }
    qpki_free(it->value);
    size_t idx = (size_t)(it - l->items);
    memmove(it, it + 1, (l->n - idx - 1) * sizeof(*it));
    l->n--;
    return QPKI_OK;
}

qpki_status x509_ext_list_add_san(x509_ext_list *l, const uint8_t *gn, size_t gn_len)
{
    QPKI_ENSURE(gn && gn_len > 0, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(l->san_len + gn_len <= QPKI_CERT_MAX_SIZE, QPKI_ERR_TOO_LARGE);
    x509_ext_item *it = find_item(l, OID_CE_SUBJECT_ALT_NAME);
    /* A SAN set earlier as a raw extension cannot be appended to. */
    QPKI_ENSURE(!it || it->kind == X509_EXT_SAN, QPKI_ERR_EXISTS);
    uint8_t *p = qpki_realloc(l->san, l->san_len + gn_len);
    QPKI_ENSURE(p, QPKI_ERR_NOMEM);
    memcpy(p + l->san_len, gn, gn_len);
    l->san = p;
    l->san_len += gn_len;
    l->san_count++;
    if (!it) {
        qpki_status rc = x509_ext_list_put(l, OID_CE_SUBJECT_ALT_NAME, false, X509_EXT_SAN,
                                           NULL, 0, false);
        if (rc != QPKI_OK) {
            l->san_len -= gn_len;
            l->san_count--;
            return rc;
        }
    }
    return QPKI_OK;
}

size_t x509_ext_list_count(const x509_ext_list *l, der_oid skip_oid)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!(skip_oid.n && l->items[i].oid_len == skip_oid.n &&
              memcmp(l->items[i].oid, skip_oid.p, skip_oid.n) == 0))
            n++;
    return n;
}

static void put_key_id(der_buf *b, der_view key_bits)
{
    uint8_t id[20];
    if (key_bits.n == 0) {
        if (b->err == QPKI_OK)
            b->err = QPKI_ERR_INVALID_ARG;
        return;
    }
    qpki_status rc = x509_key_id(key_bits, id);
    if (rc != QPKI_OK) {
        if (b->err == QPKI_OK)
            b->err = rc;
        return;
    }
    der_put_octet_string(b, id, sizeof(id));
}

void x509_ext_list_encode(const x509_ext_list *l, der_buf *b, der_oid skip_oid,
                          der_view spki_key_bits, der_view signer_key_bits, der_view extra)
{
    size_t seq = der_begin(b, DER_SEQUENCE);
    for (size_t i = 0; i < l->n; i++) {
        const x509_ext_item *it = &l->items[i];
        if (skip_oid.n && it->oid_len == skip_oid.n && memcmp(it->oid, skip_oid.p, skip_oid.n) == 0)
            continue;
        size_t ext = der_begin(b, DER_SEQUENCE);
        der_put_oid(b, (der_oid){it->oid, it->oid_len});
        /* critical BOOLEAN DEFAULT FALSE: written only when true (X.690 §11.5). */
        if (it->critical)
            der_put_bool(b, true);
        size_t os = der_begin(b, DER_OCTET_STRING);
        switch (it->kind) {
        case X509_EXT_RAW:
            der_put_bytes(b, it->value, it->value_len);
            break;
        case X509_EXT_SAN: {
            size_t gns = der_begin(b, DER_SEQUENCE);
            der_put_bytes(b, l->san, l->san_len);
            der_end(b, gns);
            break;
        }
        case X509_EXT_SKI_AUTO:
            put_key_id(b, spki_key_bits);
            break;
        case X509_EXT_AKI_SIGNER: {
            /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] ... } */
            size_t aki = der_begin(b, DER_SEQUENCE);
            size_t mark = b->len;
            put_key_id(b, signer_key_bits);
            if (b->err == QPKI_OK)
                b->p[mark] = DER_CTX(0); /* [0] IMPLICIT OCTET STRING */
            der_end(b, aki);
            break;
        }
        }
        der_end(b, os);
        der_end(b, ext);
    }
    der_put_bytes(b, extra.p, extra.n);
    der_end(b, seq);
}
