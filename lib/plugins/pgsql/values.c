/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/values.c - connection-string checks and rows in COPY text
 * format (values.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "values.h"

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static const char secret_advice[] =
    "the connection string carries a password: keep secrets out of the command line and of "
    "configuration files; put the password in a password file (PGPASSFILE, default "
    "~/.pgpass), a service file (PGSERVICEFILE with service=NAME in the URL) or the "
    "PGPASSWORD environment variable";

/* URI user information "user:secret@" (RFC 3986 §3.2.1, as libpq reads it). */
static bool uri_has_password(const char *url)
{
    static const char *const schemes[] = {"postgresql://", "postgres://"};
    const char *p = NULL;
    for (size_t i = 0; i < 2 && !p; i++)
        if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
            p = url + strlen(schemes[i]);
    if (!p)
        return false;
    size_t authority = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < authority; i++)
        if (p[i] == '@')
            at = p + i; /* the last '@' ends the user information */
    if (!at)
        return false;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    return colon && colon + 1 < at;
}

qpki_status pg_url_check(const char *url, char *err, size_t errlen)
{
    set_err(err, errlen, "");
    if (!url || !url[0]) {
        set_err(err, errlen, "empty connection string");
        return QPKI_ERR_INVALID_ARG;
    }
    if (uri_has_password(url)) {
        set_err(err, errlen, secret_advice);
        return QPKI_ERR_INVALID_ARG;
    }
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &why);
    if (!opts) {
        char msg[512];
        snprintf(msg, sizeof(msg), "malformed connection string: %s",
                 why ? why : "out of memory");
        /* libpq's message ends with a line break */
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        set_err(err, errlen, msg);
        PQfreemem(why);
        return QPKI_ERR_INVALID_ARG;
    }
    qpki_status rc = QPKI_OK;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0]) {
            set_err(err, errlen, secret_advice);
            rc = QPKI_ERR_INVALID_ARG;
        }
    }
    PQconninfoFree(opts);
    return rc;
}

void pg_url_server(const char *url, char *buf, size_t size)
{
    if (!buf || !size)
        return;
    snprintf(buf, size, "the server");
    PQconninfoOption *opts = url ? PQconninfoParse(url, NULL) : NULL;
    if (!opts)
        return;
    const char *host = NULL, *hostaddr = NULL, *port = NULL, *service = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !o->val[0])
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "service") == 0)
            service = o->val;
    }
    if (!host)
        host = hostaddr;
    if (!host) {
        host = getenv("PGHOST");
        if (!port)
            port = getenv("PGPORT");
    }
    if (service && !host)
        snprintf(buf, size, "service %s", service);
    else if (!host || !host[0])
        snprintf(buf, size, "the default Unix socket (port %s)", port ? port : "5432");
    else if (host[0] == '/')
        snprintf(buf, size, "%s (port %s)", host, port ? port : "5432");
    else
        snprintf(buf, size, "%s:%s", host, port ? port : "5432");
    PQconninfoFree(opts);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pg_copy_split(char *line, char **fields, int max)
{
    int n = 0;
    char *r = line;
    for (;;) {
        if (n == max)
            return -1;
        char *start = r, *w = r;
        bool is_null = false;
        while (*r && *r != '\t') {
            if (*r != '\\') {
                *w++ = *r++;
                continue;
            }
            r++;
            char c = *r++;
            switch (c) {
            case 'b': *w++ = '\b'; break;
            case 'f': *w++ = '\f'; break;
            case 'n': *w++ = '\n'; break;
            case 'r': *w++ = '\r'; break;
            case 't': *w++ = '\t'; break;
            case 'v': *w++ = '\v'; break;
            case 'N':
                /* \N alone is NULL; inside a field it is malformed */
                if (w != start || (*r && *r != '\t'))
                    return -1;
                is_null = true;
                break;
            case 'x': {
                int h1 = hex_value(*r), v = 0;
                if (h1 < 0)
                    return -1;
                v = h1;
                r++;
                int h2 = hex_value(*r);
                if (h2 >= 0) {
                    v = v * 16 + h2;
                    r++;
                }
                *w++ = (char)v;
                break;
            }
            case '\0':
                return -1;
            default:
                if (c >= '0' && c <= '7') {
                    int v = c - '0';
                    for (int k = 0; k < 2 && *r >= '0' && *r <= '7'; k++)
                        v = v * 8 + (*r++ - '0');
                    *w++ = (char)v;
                } else {
                    *w++ = c; /* \\ and any other escaped character */
                }
                break;
            }
        }
        bool last = *r == '\0';
        *w = '\0';
        fields[n++] = is_null ? NULL : start;
        if (last)
            return n;
        r++;
    }
}

static bool put(char *buf, size_t *len, size_t cap, const char *s, size_t n)
{
    if (n >= cap - *len)
        return false;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
    return true;
}

bool pg_copy_put_text(char *buf, size_t *len, size_t cap, const char *text)
{
    if (!text)
        return put(buf, len, cap, "\\N", 2);
    for (const char *p = text; *p; p++) {
        char esc[2] = {'\\', 0};
        switch (*p) {
        case '\\': esc[1] = '\\'; break;
        case '\t': esc[1] = 't'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        default: break;
        }
        if (!(esc[1] ? put(buf, len, cap, esc, 2) : put(buf, len, cap, p, 1)))
            return false;
    }
    return true;
}

bool pg_parse_i64(const char *text, int64_t *out)
{
    if (!text || !*text)
        return false;
    const char *p = text;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!*p)
        return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

void pg_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

static bool reason_assigned(int64_t r)
{
    return r >= 0 && r <= 10 && r != 7;
}

qpki_status pg_entry_check(const qpki_db_entry *e)
{
    if (e->row_status != 'V' && e->row_status != 'R' && e->row_status != 'E')
        return QPKI_ERR_INVALID_ARG;
    if (e->row_status != 'R') {
        if (e->reason != QPKI_REASON_NONE || e->hold_instruction != QPKI_HOLD_INSTRUCTION_ABSENT ||
            e->invalidity_date != 0)
            return QPKI_ERR_INVALID_ARG;
        return QPKI_OK;
    }
    if (e->reason != QPKI_REASON_NONE && !reason_assigned(e->reason))
        return QPKI_ERR_INVALID_ARG;
    if (e->hold_instruction != QPKI_HOLD_INSTRUCTION_ABSENT &&
        (e->reason != QPKI_REASON_CERTIFICATE_HOLD || e->hold_instruction < 1 ||
         e->hold_instruction > 3))
        return QPKI_ERR_INVALID_ARG;
    if (e->invalidity_date != 0 && e->reason != QPKI_REASON_KEY_COMPROMISE &&
        e->reason != QPKI_REASON_CA_COMPROMISE)
        return QPKI_ERR_INVALID_ARG;
    return QPKI_OK;
}

qpki_status pg_row_format(const uint8_t *serial, size_t serial_len, const qpki_db_entry *e,
                          char *buf, size_t *len, size_t cap)
{
    if (serial_len > QPKI_SERIAL_MAX || pg_entry_check(e) != QPKI_OK)
        return QPKI_ERR_INVALID_ARG;
    char hex[2 * QPKI_SERIAL_MAX + 1];
    pg_hex(serial, serial_len, hex);
    char text[256];
    int n;
    if (e->row_status == 'R') {
        char reason[8] = "\\N", hold[8] = "\\N", invalid[24] = "\\N";
        if (e->reason != QPKI_REASON_NONE)
            snprintf(reason, sizeof(reason), "%d", (int)e->reason);
        if (e->hold_instruction != QPKI_HOLD_INSTRUCTION_ABSENT)
            snprintf(hold, sizeof(hold), "%d", (int)e->hold_instruction);
        if (e->invalidity_date != 0)
            snprintf(invalid, sizeof(invalid), "%lld", (long long)e->invalidity_date);
        n = snprintf(text, sizeof(text), "%s\tR\t%lld\t%lld\t%s\t%s\t%s", hex,
                     (long long)e->expiry, (long long)e->revocation_time, reason, hold, invalid);
    } else {
        n = snprintf(text, sizeof(text), "%s\t%c\t%lld\t\\N\t\\N\t\\N\t\\N", hex, e->row_status,
                     (long long)e->expiry);
    }
    if (n < 0 || (size_t)n >= sizeof(text))
        return QPKI_ERR_INTERNAL;
    return put(buf, len, cap, text, (size_t)n) ? QPKI_OK : QPKI_ERR_BUFFER_TOO_SMALL;
}

static qpki_status fail(char *err, size_t errlen, const char *what, const char *value)
{
    /* the value as one printable ASCII line of at most 64 characters (it comes
     * from the database: any byte) */
    char shown[72];
    size_t n = 0;
    for (const char *p = value ? value : "NULL"; *p && n < 64; p++)
        shown[n++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
    shown[n] = '\0';
    if (err && errlen)
        snprintf(err, errlen, "bad %s '%s%s'", what, shown, value && strlen(value) > 64 ? "..." : "");
    return QPKI_ERR_PARSE;
}

qpki_status pg_row_parse(char *const *f, uint8_t serial[QPKI_SERIAL_MAX], size_t *serial_len,
                         qpki_db_entry *e, char *err, size_t errlen)
{
    const char *hex = f[PG_COL_SERIAL];
    size_t digits = hex ? strlen(hex) : 0;
    if (!hex || digits % 2 || digits / 2 > QPKI_SERIAL_MAX)
        return fail(err, errlen, "serial", hex);
    for (size_t i = 0; i < digits / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(err, errlen, "serial", hex);
        serial[i] = (uint8_t)(hi * 16 + lo);
    }
    *serial_len = digits / 2;
    /* the trigger strips leading zero octets; a row written before it (or by
     * hand with the trigger disabled) still names the same number */
    size_t skip = 0;
    while (skip < *serial_len && serial[skip] == 0)
        skip++;
    if (skip) {
        memmove(serial, serial + skip, *serial_len - skip);
        *serial_len -= skip;
    }
    const char *st = f[PG_COL_STATUS];
    if (!st || strlen(st) != 1 || !strchr("VRE", st[0]))
        return fail(err, errlen, "status", st);
    e->row_status = st[0];
    int64_t v;
    if (!pg_parse_i64(f[PG_COL_NOT_AFTER], &v))
        return fail(err, errlen, "not_after", f[PG_COL_NOT_AFTER]);
    e->expiry = v;
    e->revocation_time = 0;
    e->reason = QPKI_REASON_NONE;
    e->hold_instruction = QPKI_HOLD_INSTRUCTION_ABSENT;
    e->invalidity_date = 0;
    if (f[PG_COL_REVOCATION_TIME]) {
        if (!pg_parse_i64(f[PG_COL_REVOCATION_TIME], &v))
            return fail(err, errlen, "revocation_time", f[PG_COL_REVOCATION_TIME]);
        e->revocation_time = v;
    } else if (e->row_status == 'R') {
        return fail(err, errlen, "revocation_time of an R row", NULL);
    }
    if (f[PG_COL_REASON]) {
        if (!pg_parse_i64(f[PG_COL_REASON], &v) || !reason_assigned(v))
            return fail(err, errlen, "reason", f[PG_COL_REASON]);
        e->reason = (qpki_crl_reason)v;
    }
    if (f[PG_COL_HOLD]) {
        if (!pg_parse_i64(f[PG_COL_HOLD], &v) || v < 1 || v > 3)
            return fail(err, errlen, "hold_instruction", f[PG_COL_HOLD]);
        e->hold_instruction = (qpki_hold_instruction)v;
    }
    if (f[PG_COL_INVALIDITY]) {
        if (!pg_parse_i64(f[PG_COL_INVALIDITY], &v))
            return fail(err, errlen, "invalidity_date", f[PG_COL_INVALIDITY]);
        e->invalidity_date = v;
    }
    if (pg_entry_check(e) != QPKI_OK) {
        if (err && errlen)
            snprintf(err, errlen, "row of serial %s breaks the schema's rules (status %c with "
                                  "these revocation details)", hex, e->row_status);
        return QPKI_ERR_PARSE;
    }
    return QPKI_OK;
}

/* ---- binary COPY ------------------------------------------------------------------- */

static const uint8_t copy_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
/* 2000-01-01 00:00:00 UTC, PostgreSQL's epoch, in Unix seconds */
#define PG_EPOCH_UNIX 946684800

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static qpki_status bin_fail(char *err, size_t errlen, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "malformed binary row from the database: %s", what);
    return QPKI_ERR_PARSE;
}

/* A timestamptz (int64 microseconds since 2000-01-01) as Unix seconds, rounded
 * down as floor(extract(epoch ...)) does; false for +-infinity and values no
 * certificate carries. */
static bool bin_time(const uint8_t *p, size_t n, int64_t *out)
{
    if (n != 8)
        return false;
    uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
    int64_t us = (int64_t)u;
    if (us == INT64_MAX || us == INT64_MIN)
        return false;
    int64_t s = us / 1000000;
    if (us % 1000000 < 0)
        s--;
    *out = s + PG_EPOCH_UNIX;
    return true;
}

static bool bin_int16(const uint8_t *p, size_t n, int64_t *out)
{
    if (n != 2)
        return false;
    *out = (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
    return true;
}

qpki_status pg_bin_message(pg_bin_reader *rd, const uint8_t *msg, size_t len,
                           uint8_t serial[QPKI_SERIAL_MAX], size_t *serial_len,
                           qpki_db_entry *e, bool *have_row, char *err, size_t errlen)
{
    *have_row = false;
    size_t at = 0;
    if (!rd->header_done) {
        /* signature, int32 flags (bit 16: OIDs included, never asked for;
         * bits 0-15 must be zero), int32 length of the header extension */
        if (len < sizeof(copy_signature) + 8 ||
            memcmp(msg, copy_signature, sizeof(copy_signature)) != 0)
            return bin_fail(err, errlen, "no COPY binary header");
        uint32_t flags = be32(msg + 11), ext = be32(msg + 15);
        if (flags != 0)
            return bin_fail(err, errlen, "unexpected header flags");
        at = 19;
        if (ext > len - at)
            return bin_fail(err, errlen, "header extension past the message");
        at += ext;
        rd->header_done = true;
        if (at == len)
            return QPKI_OK;
    }
    if (rd->ended)
        return bin_fail(err, errlen, "data after the end of the rows");
    if (len - at < 2)
        return bin_fail(err, errlen, "truncated row");
    int16_t fields = (int16_t)(uint16_t)((unsigned)msg[at] << 8 | msg[at + 1]);
    at += 2;
    if (fields == -1) {
        rd->ended = true;
        return at == len ? QPKI_OK : bin_fail(err, errlen, "data after the end of the rows");
    }
    if (fields != PG_STATUS_COLUMNS)
        return bin_fail(err, errlen, "unexpected number of columns");
    const uint8_t *v[PG_STATUS_COLUMNS];
    size_t n[PG_STATUS_COLUMNS];
    for (int k = 0; k < PG_STATUS_COLUMNS; k++) {
        if (len - at < 4)
            return bin_fail(err, errlen, "truncated row");
        uint32_t l = be32(msg + at);
        at += 4;
        if (l == UINT32_MAX) {
            v[k] = NULL; /* NULL */
            n[k] = 0;
            continue;
        }
        if (l > len - at)
            return bin_fail(err, errlen, "value past the end of the row");
        v[k] = msg + at;
        n[k] = l;
        at += l;
    }
    if (at != len)
        return bin_fail(err, errlen, "bytes after the last column");
    if (!v[PG_COL_SERIAL] || n[PG_COL_SERIAL] > QPKI_SERIAL_MAX)
        return bin_fail(err, errlen, "bad serial");
    /* leading zero octets name the same number (see pg_row_parse) */
    const uint8_t *sp = v[PG_COL_SERIAL];
    size_t sn = n[PG_COL_SERIAL];
    while (sn && sp[0] == 0) {
        sp++;
        sn--;
    }
    memcpy(serial, sp, sn);
    *serial_len = sn;
    if (!v[PG_COL_STATUS] || n[PG_COL_STATUS] != 1 || !memchr("VRE", v[PG_COL_STATUS][0], 3))
        return bin_fail(err, errlen, "bad status");
    e->row_status = (char)v[PG_COL_STATUS][0];
    int64_t t;
    if (!v[PG_COL_NOT_AFTER] || !bin_time(v[PG_COL_NOT_AFTER], n[PG_COL_NOT_AFTER], &t))
        return bin_fail(err, errlen, "bad not_after");
    e->expiry = t;
    e->revocation_time = 0;
    e->reason = QPKI_REASON_NONE;
    e->hold_instruction = QPKI_HOLD_INSTRUCTION_ABSENT;
    e->invalidity_date = 0;
    if (v[PG_COL_REVOCATION_TIME]) {
        if (!bin_time(v[PG_COL_REVOCATION_TIME], n[PG_COL_REVOCATION_TIME], &t))
            return bin_fail(err, errlen, "bad revocation_time");
        e->revocation_time = t;
    } else if (e->row_status == 'R') {
        return bin_fail(err, errlen, "an R row without revocation_time");
    }
    if (v[PG_COL_REASON]) {
        if (!bin_int16(v[PG_COL_REASON], n[PG_COL_REASON], &t) || !reason_assigned(t))
            return bin_fail(err, errlen, "bad reason");
        e->reason = (qpki_crl_reason)t;
    }
    if (v[PG_COL_HOLD]) {
        if (!bin_int16(v[PG_COL_HOLD], n[PG_COL_HOLD], &t) || t < 1 || t > 3)
            return bin_fail(err, errlen, "bad hold_instruction");
        e->hold_instruction = (qpki_hold_instruction)t;
    }
    if (v[PG_COL_INVALIDITY]) {
        if (!bin_time(v[PG_COL_INVALIDITY], n[PG_COL_INVALIDITY], &t))
            return bin_fail(err, errlen, "bad invalidity_date");
        e->invalidity_date = t;
    }
    if (pg_entry_check(e) != QPKI_OK) {
        char hex[2 * QPKI_SERIAL_MAX + 1];
        pg_hex(serial, sn, hex);
        if (err && errlen)
            snprintf(err, errlen, "row of serial %s breaks the schema's rules (status %c with "
                                  "these revocation details)", hex, e->row_status);
        return QPKI_ERR_PARSE;
    }
    *have_row = true;
    return QPKI_OK;
}
