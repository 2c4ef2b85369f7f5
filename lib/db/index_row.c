/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/index_row.c - one row of index.txt, read and written (index_row.h).
 *
 * index_row_parse runs once per row when the responder loads a CA's database
 * (10 million rows in a few seconds): no allocation, no copies beyond the
 * serial, a table for hex digits. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/index_row.h"

bool index_line_has_row(const char *line, size_t *len)
{
    size_t n = *len;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    *len = n;
    /* TXT_DB_read skips lines starting with '#'; we also skip empty lines. */
    return n > 0 && line[0] != '#';
}

static bool fail(index_row_fault *fault, index_row_error error, const char *p, size_t n)
{
    fault->error = error;
    fault->text = (index_span){p, n};
    return false;
}

/* Six tab-separated fields; "\<TAB>" is a tab inside a field (TXT_DB_read).
 * Returns how many fields the line has; the first six are stored. */
static size_t split(const char *line, size_t len, index_span f[INDEX_ROW_FIELDS])
{
    size_t nf = 0;
    const char *end = line + len, *start = line, *p = line;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        if (!tab)
            break;
        p = tab + 1;
        if (tab > line && tab[-1] == '\\')
            continue;
        if (nf < INDEX_ROW_FIELDS)
            f[nf] = (index_span){start, (size_t)(tab - start)};
        nf++;
        start = p;
    }
    if (nf < INDEX_ROW_FIELDS)
        f[nf] = (index_span){start, (size_t)(end - start)};
    return nf + 1;
}

/* YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, as `openssl ca` writes them (the text of
 * the certificate's UTCTime or GeneralizedTime). */
static bool parse_time(const char *s, size_t n, qpki_time *out)
{
    if ((n != 13 && n != 15) || s[n - 1] != 'Z')
        return false;
    return qpki_time_from_digits(s, n - 11, out) == QPKI_OK;
}

/* Hex digit value + 1; 0 for anything else (a table: serial digits are random,
 * so branching on digit-or-letter would mispredict half the time). */
static const uint8_t hex_plus_one[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,
    ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14,
    ['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
    ['f'] = 16,
};

static bool all_hex(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!hex_plus_one[(uint8_t)s[k]])
            return false;
    return true;
}

/* Serial field: hex, either case, any leading zeros. */
static bool parse_serial(const char *s, size_t n, index_row *r, index_row_fault *fault)
{
    if (n == 0)
        return fail(fault, INDEX_ROW_SERIAL_MISSING, s, 0);
    if (s[0] == '-')
        return fail(fault, INDEX_ROW_SERIAL_NEGATIVE, s, n);
    size_t i = 0;
    while (i < n && s[i] == '0')
        i++;
    size_t digits = n - i;
    if (digits > 2 * (size_t)QPKI_SERIAL_MAX)
        return fail(fault, all_hex(s + i, digits) ? INDEX_ROW_SERIAL_TOO_LONG : INDEX_ROW_SERIAL_BAD,
                    s, n);
    const uint8_t *u = (const uint8_t *)s;
    uint8_t *out = r->serial;
    unsigned bad = 0;
    size_t o = 0;
    if (digits % 2) {
        unsigned lo = hex_plus_one[u[i++]];
        bad |= lo == 0;
        out[o++] = (uint8_t)(lo - 1);
    }
    for (; i < n; i += 2) {
        unsigned hi = hex_plus_one[u[i]], lo = hex_plus_one[u[i + 1]];
        bad |= (hi == 0) | (lo == 0);
        out[o++] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    if (bad)
        return fail(fault, INDEX_ROW_SERIAL_BAD, s, n);
    r->serial_len = o;
    return true;
}

/* Copy a short field into a C string (no NULs inside). */
static bool field_text(const char *s, size_t n, char *buf, size_t size)
{
    if (n >= size || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* RFC 5280 §5.3.2: id-holdinstruction-none/callissuer/reject are
 * 1.2.840.10040.2.1/.2/.3.  `openssl ca -crl_hold` stores its argument as given:
 * OpenSSL's short name, long name or the dotted OID. */
static qpki_hold_instruction parse_hold(const char *s, size_t n)
{
    static const struct {
        const char *short_name, *long_name, *dotted;
        qpki_hold_instruction value;
    } holds[] = {
        {"holdInstructionNone", "Hold Instruction None", "1.2.840.10040.2.1",
         QPKI_HOLD_INSTRUCTION_NONE},
        {"holdInstructionCallIssuer", "Hold Instruction Call Issuer", "1.2.840.10040.2.2",
         QPKI_HOLD_INSTRUCTION_CALL_ISSUER},
        {"holdInstructionReject", "Hold Instruction Reject", "1.2.840.10040.2.3",
         QPKI_HOLD_INSTRUCTION_REJECT},
    };
    char name[48];
    if (!field_text(s, n, name, sizeof(name)))
        return QPKI_HOLD_INSTRUCTION_ABSENT;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(holds); i++) {
        if (!strcasecmp(name, holds[i].short_name) || !strcasecmp(name, holds[i].long_name) ||
            !strcmp(name, holds[i].dotted))
            return holds[i].value;
    }
    return QPKI_HOLD_INSTRUCTION_ABSENT;
}

/* Revocation field of an R row: "time[,reason[,extra]]" as apps/ca.c
 * make_revocation_str() writes it; reasons compared case-insensitively as its
 * unpack_revinfo() does. */
static bool parse_revocation(const char *s, size_t n, index_row *r, index_row_fault *fault)
{
    if (n == 0)
        return fail(fault, INDEX_ROW_REVOCATION_MISSING, s, 0);
    const char *end = s + n;
    const char *c1 = memchr(s, ',', n);
    const char *time_end = c1 ? c1 : end;
    if (!parse_time(s, (size_t)(time_end - s), &r->revocation_time))
        return fail(fault, INDEX_ROW_REVOCATION_TIME, s, (size_t)(time_end - s));
    if (!c1)
        return true;
    const char *reason = c1 + 1;
    const char *c2 = memchr(reason, ',', (size_t)(end - reason));
    size_t reason_len = (size_t)((c2 ? c2 : end) - reason);
    const char *extra = c2 ? c2 + 1 : NULL;
    size_t extra_len = c2 ? (size_t)(end - extra) : 0;
    char name[40];
    if (!field_text(reason, reason_len, name, sizeof(name)))
        return fail(fault, INDEX_ROW_REASON, reason, reason_len);
    if (!strcasecmp(name, "holdInstruction")) {
        /* certificateHold with the hold instruction OID in the third part. */
        if (!extra)
            return fail(fault, INDEX_ROW_HOLD_MISSING, reason, 0);
        r->hold = parse_hold(extra, extra_len);
        if (r->hold == QPKI_HOLD_INSTRUCTION_ABSENT)
            return fail(fault, INDEX_ROW_HOLD_UNKNOWN, extra, extra_len);
        r->reason = QPKI_REASON_CERTIFICATE_HOLD;
        return true;
    }
    if (!strcasecmp(name, "keyTime") || !strcasecmp(name, "CAkeyTime")) {
        /* keyCompromise / cACompromise with the compromise time, which becomes
         * the RFC 5280 §5.3.2 invalidityDate. */
        bool ca = (name[0] == 'C' || name[0] == 'c');
        if (!extra)
            return fail(fault, ca ? INDEX_ROW_CA_KEY_TIME_MISSING : INDEX_ROW_KEY_TIME_MISSING,
                        reason, 0);
        if (!parse_time(extra, extra_len, &r->invalidity_date))
            return fail(fault, INDEX_ROW_COMPROMISE_TIME, extra, extra_len);
        r->has_invalidity = true;
        r->reason = ca ? QPKI_REASON_CA_COMPROMISE : QPKI_REASON_KEY_COMPROMISE;
        return true;
    }
    qpki_crl_reason code;
    if (qpki_crl_reason_from_name(name, &code) != QPKI_OK)
        return fail(fault, INDEX_ROW_REASON, reason, reason_len);
    /* apps/ca.c ignores a third part after other reasons, but never writes one;
     * qpki/db.h admits it only after the three forms above. */
    if (extra)
        return fail(fault, INDEX_ROW_REASON_EXTRA, reason, reason_len);
    r->reason = code;
    return true;
}

bool index_row_parse(const char *line, size_t len, index_span f[INDEX_ROW_FIELDS],
                     index_row *r, index_row_fault *fault)
{
    size_t nf = split(line, len, f);
    if (nf != INDEX_ROW_FIELDS) {
        fault->fields = nf;
        return fail(fault, INDEX_ROW_FIELD_COUNT, line, 0);
    }
    r->status = f[0].n == 1 ? f[0].p[0] : '\0';
    r->revocation_time = 0;
    r->reason = QPKI_REASON_NONE;
    r->hold = QPKI_HOLD_INSTRUCTION_ABSENT;
    r->has_invalidity = false;
    r->invalidity_date = 0;
    if (r->status != 'V' && r->status != 'R' && r->status != 'E')
        return fail(fault, INDEX_ROW_STATUS, f[0].p, f[0].n);
    if (!parse_time(f[1].p, f[1].n, &r->expiry))
        return fail(fault, INDEX_ROW_EXPIRY, f[1].p, f[1].n);
    if (r->status == 'R') {
        if (!parse_revocation(f[2].p, f[2].n, r, fault))
            return false;
    } else if (f[2].n != 0) {
        /* apps/ca.c: "not revoked yet, but has a revocation date". */
        fault->status = r->status;
        return fail(fault, INDEX_ROW_NOT_REVOKED, f[2].p, f[2].n);
    }
    return parse_serial(f[3].p, f[3].n, r, fault);
}

/* A field for a message: at most 40 characters, non-printable ones as '?'. */
static const char *shown(const char *s, size_t n, char buf[48])
{
    size_t k = 0;
    for (; k < n && k < 40; k++)
        buf[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
    if (n > 40) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

void index_row_fault_text(const index_row_fault *fault, char *buf, size_t size)
{
    char b[48];
    const char *t = shown(fault->text.p, fault->text.n, b);
    switch (fault->error) {
    case INDEX_ROW_FIELD_COUNT:
        qpki_fmt(buf, size, "expected %d tab-separated fields, found %zu", INDEX_ROW_FIELDS,
                 fault->fields);
        return;
    case INDEX_ROW_STATUS: qpki_fmt(buf, size, "bad status '%s' (expected V, R or E)", t); return;
    case INDEX_ROW_EXPIRY: qpki_fmt(buf, size, "bad expiry date '%s'", t); return;
    case INDEX_ROW_REVOCATION_MISSING:
        qpki_fmt(buf, size, "revoked row without a revocation date");
        return;
    case INDEX_ROW_NOT_REVOKED:
        qpki_fmt(buf, size, "row with status %c has a revocation date", fault->status);
        return;
    case INDEX_ROW_REVOCATION_TIME: qpki_fmt(buf, size, "bad revocation date '%s'", t); return;
    case INDEX_ROW_REASON: qpki_fmt(buf, size, "unknown revocation reason '%s'", t); return;
    case INDEX_ROW_HOLD_MISSING:
        qpki_fmt(buf, size, "holdInstruction without a hold instruction");
        return;
    case INDEX_ROW_HOLD_UNKNOWN: qpki_fmt(buf, size, "unknown hold instruction '%s'", t); return;
    case INDEX_ROW_KEY_TIME_MISSING:
        qpki_fmt(buf, size, "keyTime without a compromise time");
        return;
    case INDEX_ROW_CA_KEY_TIME_MISSING:
        qpki_fmt(buf, size, "CAkeyTime without a compromise time");
        return;
    case INDEX_ROW_COMPROMISE_TIME: qpki_fmt(buf, size, "bad compromise time '%s'", t); return;
    case INDEX_ROW_REASON_EXTRA:
        qpki_fmt(buf, size, "unexpected text after revocation reason '%s'", t);
        return;
    case INDEX_ROW_SERIAL_MISSING: qpki_fmt(buf, size, "missing serial number"); return;
    case INDEX_ROW_SERIAL_NEGATIVE:
        qpki_fmt(buf, size, "negative serial number '%s' is not supported", t);
        return;
    case INDEX_ROW_SERIAL_BAD: qpki_fmt(buf, size, "bad serial number '%s'", t); return;
    case INDEX_ROW_SERIAL_TOO_LONG:
        qpki_fmt(buf, size, "serial number longer than %d octets", QPKI_SERIAL_MAX);
        return;
    }
    qpki_fmt(buf, size, "malformed row");
}

size_t index_time_format(qpki_time t, char out[QPKI_TIME_TEXT_MAX])
{
    return qpki_time_text(t, QPKI_TIME_X509, out);
}

const char *index_reason_name(qpki_crl_reason reason)
{
    if (reason == QPKI_REASON_NONE)
        return NULL;
    if (reason == QPKI_REASON_CA_COMPROMISE)
        return "CACompromise"; /* apps/ca.c crl_reasons[] */
    return qpki_crl_reason_name(reason); /* NULL for 7 and values out of range */
}

qpki_status index_revocation_format(const index_row *row, char *out, size_t size)
{
    QPKI_ENSURE(row && out && size, QPKI_ERR_INVALID_ARG);
    out[0] = '\0';
    char when[QPKI_TIME_TEXT_MAX], extra[QPKI_TIME_TEXT_MAX + 32];
    QPKI_ENSURE(index_time_format(row->revocation_time, when), QPKI_ERR_INVALID_ARG);
    const char *reason = NULL;
    extra[0] = '\0';
    if (row->hold != QPKI_HOLD_INSTRUCTION_ABSENT) {
        const char *hold = qpki_hold_instruction_name(row->hold);
        QPKI_ENSURE(hold && row->reason == QPKI_REASON_CERTIFICATE_HOLD && !row->has_invalidity,
                    QPKI_ERR_INVALID_ARG);
        reason = "holdInstruction";
        qpki_fmt(extra, sizeof(extra), ",%s", hold);
    } else if (row->has_invalidity) {
        QPKI_ENSURE(row->reason == QPKI_REASON_KEY_COMPROMISE ||
                        row->reason == QPKI_REASON_CA_COMPROMISE,
                    QPKI_ERR_INVALID_ARG);
        char invalid[QPKI_TIME_TEXT_MAX];
        QPKI_ENSURE(qpki_time_text(row->invalidity_date, QPKI_TIME_GENERALIZED, invalid),
                    QPKI_ERR_INVALID_ARG);
        reason = row->reason == QPKI_REASON_KEY_COMPROMISE ? "keyTime" : "CAkeyTime";
        qpki_fmt(extra, sizeof(extra), ",%s", invalid);
    } else if (row->reason != QPKI_REASON_NONE) {
        reason = index_reason_name(row->reason);
        QPKI_ENSURE(reason, QPKI_ERR_INVALID_ARG);
    }
    int n = snprintf(out, size, "%s%s%s%s", when, reason ? "," : "", reason ? reason : "", extra);
    if (n < 0 || (size_t)n >= size) {
        out[0] = '\0';
        return QPKI_ERR_BUFFER_TOO_SMALL;
    }
    return QPKI_OK;
}

static bool field_text_ok(const char *t)
{
    for (; *t; t++)
        if (*t == '\t' || *t == '\n' || *t == '\r')
            return false;
    return true;
}

qpki_status index_row_format(const index_row *row, const char *filename, const char *subject,
                             char *out, size_t size, size_t *len)
{
    QPKI_ENSURE(row && out && size, QPKI_ERR_INVALID_ARG);
    out[0] = '\0';
    if (len)
        *len = 0;
    if (!filename)
        filename = "unknown";
    if (!subject)
        subject = "";
    QPKI_ENSURE(row->status == 'V' || row->status == 'R' || row->status == 'E',
                QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(row->serial_len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(field_text_ok(filename) && field_text_ok(subject), QPKI_ERR_INVALID_ARG);
    char expiry[QPKI_TIME_TEXT_MAX], revocation[INDEX_REVOCATION_MAX] = "";
    char hex[2 * QPKI_SERIAL_MAX + 4];
    QPKI_ENSURE(index_time_format(row->expiry, expiry), QPKI_ERR_INVALID_ARG);
    if (row->status == 'R')
        QPKI_GUARD(index_revocation_format(row, revocation, sizeof(revocation)));
    qpki_serial_hex(row->serial, row->serial_len, hex);
    int n = snprintf(out, size, "%c\t%s\t%s\t%s\t%s\t%s", row->status, expiry, revocation, hex,
                     filename, subject);
    if (n < 0 || (size_t)n >= size) {
        out[0] = '\0';
        return QPKI_ERR_BUFFER_TOO_SMALL;
    }
    if (len)
        *len = (size_t)n;
    return QPKI_OK;
}
