/* SPDX-License-Identifier: Apache-2.0 */
/* lib/der/pem.c - base64 and PEM framing. */
#include <stdio.h>
#include <string.h>

#include "../internal.h"
#include "pem.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

qpki_status b64_decode(const char *in, size_t n, unsigned flags, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    uint32_t acc = 0;
    unsigned have = 0;   /* sextets in acc */
    size_t o = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if ((flags & B64_SKIP_SPACE) && is_space(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        QPKI_ENSURE(pad == 0, QPKI_ERR_DECODE); /* data after padding */
        int v = b64_value(c);
        QPKI_ENSURE(v >= 0, QPKI_ERR_DECODE);
        acc = (acc << 6) | (uint32_t)v;
        if (++have == 4) {
            QPKI_ENSURE(o + 3 <= cap, QPKI_ERR_BUFFER_TOO_SMALL);
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
            have = 0;
        }
    }
    /* RFC 4648 §3.5: the pad bits of the last group must be zero (canonical). */
    switch (have) {
    case 0:
        QPKI_ENSURE(pad == 0, QPKI_ERR_DECODE);
        break;
    case 2:
        QPKI_ENSURE(pad == 2 || (pad == 0 && (flags & B64_OPTIONAL_PAD)), QPKI_ERR_DECODE);
        QPKI_ENSURE((acc & 0xf) == 0, QPKI_ERR_DECODE);
        QPKI_ENSURE(o + 1 <= cap, QPKI_ERR_BUFFER_TOO_SMALL);
        out[o++] = (uint8_t)(acc >> 4);
        break;
    case 3:
        QPKI_ENSURE(pad == 1 || (pad == 0 && (flags & B64_OPTIONAL_PAD)), QPKI_ERR_DECODE);
        QPKI_ENSURE((acc & 0x3) == 0, QPKI_ERR_DECODE);
        QPKI_ENSURE(o + 2 <= cap, QPKI_ERR_BUFFER_TOO_SMALL);
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
        break;
    default:
        return QPKI_ERR_DECODE;
    }
    *out_len = o;
    return QPKI_OK;
}

static const char *find(const uint8_t *hay, size_t n, size_t from, const char *needle)
{
    if (from > n)
        return NULL;
    return memmem(hay + from, n - from, needle, strlen(needle));
}

bool pem_detect(const uint8_t *data, size_t n)
{
    return find(data, n, 0, "-----BEGIN ") != NULL;
}

qpki_status pem_next(const uint8_t *text, size_t n, size_t *offset, char *label,
                     size_t label_cap, uint8_t **der, size_t *der_len)
{
    QPKI_ENSURE(text && offset && label && label_cap && der && der_len, QPKI_ERR_INVALID_ARG);
    const char *begin = find(text, n, *offset, "-----BEGIN ");
    if (!begin)
        return QPKI_ERR_NOT_FOUND;
    const char *end_of_text = (const char *)text + n;
    const char *lab = begin + 11;
    const char *lab_end = find(text, n, (size_t)(lab - (const char *)text), "-----");
    QPKI_ENSURE(lab_end, QPKI_ERR_BAD_PEM);
    size_t lab_len = (size_t)(lab_end - lab);
    QPKI_ENSURE(lab_len < label_cap && lab_len < 64, QPKI_ERR_BAD_PEM);
    for (size_t i = 0; i < lab_len; i++)
        QPKI_ENSURE(lab[i] >= 0x20 && lab[i] < 0x7f, QPKI_ERR_BAD_PEM);
    memcpy(label, lab, lab_len);
    label[lab_len] = '\0';
    const char *body = lab_end + 5;
    char endline[96];
    qpki_fmt(endline, sizeof(endline), "-----END %s-----", label);
    const char *end = find(text, n, (size_t)(body - (const char *)text), endline);
    QPKI_ENSURE(end, QPKI_ERR_BAD_PEM);
    size_t body_len = (size_t)(end - body);
    /* RFC 7468 §2: parsers may reject headers; encrypted legacy PEM (RFC 1421
     * "Proc-Type:") is not supported - use encrypted PKCS#8. */
    for (size_t i = 0; i < body_len; i++)
        if (body[i] == ':')
            return QPKI_ERR_UNSUPPORTED;
    size_t cap = body_len / 4 * 3 + 3;
    uint8_t *buf = qpki_malloc(cap);
    QPKI_ENSURE(buf, QPKI_ERR_NOMEM);
    size_t len = 0;
    qpki_status rc = b64_decode(body, body_len, B64_SKIP_SPACE, buf, cap, &len);
    if (rc != QPKI_OK || len == 0) {
        qpki_free_secret(buf, cap);
        return QPKI_ERR_BAD_PEM;
    }
    *der = buf;
    *der_len = len;
    const char *after = end + strlen(endline);
    *offset = (size_t)((after <= end_of_text ? after : end_of_text) - (const char *)text);
    return QPKI_OK;
}

qpki_status pem_encode(const char *label, const uint8_t *der, size_t n, char **out,
                       size_t *out_len)
{
    QPKI_ENSURE(label && out && out_len && (der || n == 0), QPKI_ERR_INVALID_ARG);
    size_t b64 = b64_encoded_len(n);
    size_t lines = (b64 + 63) / 64;
    size_t cap = 2 * (strlen(label) + 20) + b64 + lines + 1;
    char *tmp = qpki_malloc(b64 + 1);
    char *buf = qpki_malloc(cap);
    if (!tmp || !buf) {
        qpki_free(tmp);
        qpki_free(buf);
        return QPKI_ERR_NOMEM;
    }
    b64_encode(der, n, tmp);
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64; i += 64) {
        size_t k = b64 - i < 64 ? b64 - i : 64;
        memcpy(buf + o, tmp + i, k);
        o += k;
        buf[o++] = '\n';
    }
    o += (size_t)snprintf(buf + o, cap - o, "-----END %s-----\n", label);
    qpki_free_secret(tmp, b64 + 1);
    *out = buf;
    *out_len = o;
    return QPKI_OK;
}
