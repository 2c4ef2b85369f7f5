/* SPDX-License-Identifier: Apache-2.0 */
/* lib/util.c - small shared helpers: hex, calendar, bounded formatting, limits. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <qpki/limits.h>
#include <qpki/version.h>

#include "internal.h"

const char *qpki_version_string(void) { return QPKI_VERSION_STRING; }

unsigned qpki_version_number(void)
{
    return (QPKI_VERSION_MAJOR << 16) | (QPKI_VERSION_MINOR << 8) | QPKI_VERSION_PATCH;
}

void qpki_limits_init(qpki_limits *limits)
{
    if (!limits)
        return;
    memset(limits, 0, sizeof(*limits));
    limits->struct_size = (uint32_t)sizeof(*limits);
    limits->max_certids = QPKI_DEFAULT_MAX_CERTIDS;
    limits->max_request_size = QPKI_DEFAULT_MAX_REQUEST_SIZE;
}

void qpki_fmt(char *buf, size_t size, const char *fmt, ...)
{
    if (!buf || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[0] = '\0';
}

void detail_init(qpki_detail *d, char *buf, size_t cap)
{
    d->msg = cap ? buf : NULL;
    d->cap = buf ? cap : 0;
    if (d->msg)
        d->msg[0] = '\0';
}

qpki_status detail_fail(qpki_detail *d, qpki_status st, const char *fmt, ...)
{
    if (!d || !d->msg || d->msg[0])
        return st;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->msg, d->cap, fmt, ap);
    va_end(ap);
    if (n < 0)
        d->msg[0] = '\0';
    return st;
}

void detail_vprefix(qpki_detail *d, const char *sep, const char *fmt, va_list ap)
{
    if (!d || !d->msg || !d->msg[0])
        return;
    char head[160];
    int n = vsnprintf(head, sizeof(head), fmt, ap);
    if (n <= 0)
        return;
    size_t h = (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1;
    size_t s = strlen(sep);
    if (s > sizeof(head) - 1 - h)
        s = sizeof(head) - 1 - h;
    memcpy(head + h, sep, s);
    h += s;
    size_t m = strlen(d->msg);
    if (h >= d->cap)
        return;
    if (h + m >= d->cap)
        m = d->cap - 1 - h; /* the end of the old message is cut */
    memmove(d->msg + h, d->msg, m);
    memcpy(d->msg, head, h);
    d->msg[h + m] = '\0';
}

void detail_prefix(qpki_detail *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    detail_vprefix(d, "", fmt, ap);
    va_end(ap);
}

static void hex_encode(const uint8_t *in, size_t n, char *out, const char digits[16])
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void qpki_hex_encode(const uint8_t *in, size_t n, char *out)
{
    hex_encode(in, n, out, "0123456789abcdef");
}

void qpki_serial_hex(const uint8_t *magnitude, size_t n, char *out)
{
    /* apps/ca.c writes BN_bn2hex(serial) (upper case, whole octets) and "00"
     * for serial zero, which BN_bn2hex would print as "0". */
    static const uint8_t zero = 0;
    if (n == 0) {
        magnitude = &zero;
        n = 1;
    }
    hex_encode(magnitude, n, out, "0123456789ABCDEF");
}

int qpki_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

qpki_status qpki_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len)
{
    QPKI_ENSURE(hex && out_len, QPKI_ERR_INVALID_ARG);
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t digits = 0;
    for (const char *p = hex; *p; p++) {
        if (*p == ':')
            continue;
        QPKI_ENSURE(qpki_hex_digit(*p) >= 0, QPKI_ERR_PARSE);
        digits++;
    }
    QPKI_ENSURE(digits > 0, QPKI_ERR_PARSE);
    size_t n = (digits + 1) / 2;
    QPKI_ENSURE(n <= out_cap, QPKI_ERR_BUFFER_TOO_SMALL);
    size_t i = 0;
    int half = (digits % 2) != 0; /* an odd count: the first byte gets one nibble */
    unsigned acc = 0;
    for (const char *p = hex; *p; p++) {
        if (*p == ':')
            continue;
        acc = (acc << 4) | (unsigned)qpki_hex_digit(*p);
        if (half) {
            out[i++] = (uint8_t)acc;
            acc = 0;
            half = 0;
        } else {
            half = 1;
        }
    }
    *out_len = n;
    return QPKI_OK;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's method. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

qpki_status qpki_time_from_fields(int year, int mon, int day, int hour, int min, int sec,
                                  qpki_time *out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(year >= 0 && year <= 9999 && mon >= 1 && mon <= 12, QPKI_ERR_BAD_TIME);
    QPKI_ENSURE(day >= 1 && day <= days_in_month(year, mon), QPKI_ERR_BAD_TIME);
    QPKI_ENSURE(hour >= 0 && hour <= 23 && min >= 0 && min <= 59, QPKI_ERR_BAD_TIME);
    QPKI_ENSURE(sec >= 0 && sec <= 59, QPKI_ERR_BAD_TIME);
    int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
    *out = days * 86400 + hour * 3600 + min * 60 + sec;
    return QPKI_OK;
}

void qpki_time_to_fields(qpki_time t, int *year, int *mon, int *day, int *hour, int *min,
                         int *sec)
{
    int64_t days = t / 86400;
    int64_t rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *hour = (int)(rem / 3600);
    *min = (int)(rem % 3600 / 60);
    *sec = (int)(rem % 60);
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *mon = (int)m;
    *day = (int)d;
}

/* n decimal digits at s; -1 when one is not a digit. */
static int decimal(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

qpki_status qpki_time_from_digits(const char *s, size_t year_digits, qpki_time *out)
{
    QPKI_ENSURE(s && out && (year_digits == 2 || year_digits == 4), QPKI_ERR_INVALID_ARG);
    int v[6]; /* year, month, day, hour, minute, second */
    for (size_t i = 0; i < 6; i++) {
        size_t width = i == 0 ? year_digits : 2;
        v[i] = decimal(s, width);
        QPKI_ENSURE(v[i] >= 0, QPKI_ERR_BAD_TIME); /* stops at the first non-digit */
        s += width;
    }
    /* RFC 5280 §4.1.2.5.1: "Where YY is greater than or equal to 50, the year
     * SHALL be interpreted as 19YY; and Where YY is less than 50, the year SHALL
     * be interpreted as 20YY." */
    if (year_digits == 2)
        v[0] += v[0] >= 50 ? 1900 : 2000;
    return qpki_time_from_fields(v[0], v[1], v[2], v[3], v[4], v[5], out);
}

static char *put_decimal(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

size_t qpki_time_text(qpki_time t, qpki_time_form form, char out[QPKI_TIME_TEXT_MAX])
{
    int y, mo, d, h, mi, s;
    qpki_time_to_fields(t, &y, &mo, &d, &h, &mi, &s);
    /* RFC 5280 §4.1.2.5: "CAs conforming to this profile MUST always encode
     * certificate validity dates through the year 2049 as UTCTime; certificate
     * validity dates in 2050 or later MUST be encoded as GeneralizedTime."
     * UTCTime cannot hold years before 1950 either. */
    bool utc_fits = y >= 1950 && y <= 2049;
    bool generalized = form == QPKI_TIME_GENERALIZED || (form == QPKI_TIME_X509 && !utc_fits);
    if (y < 0 || y > 9999 || (!generalized && !utc_fits)) {
        out[0] = '\0';
        return 0;
    }
    char *p = generalized ? put_decimal(out, y, 4) : put_decimal(out, y % 100, 2);
    p = put_decimal(p, mo, 2);
    p = put_decimal(p, d, 2);
    p = put_decimal(p, h, 2);
    p = put_decimal(p, mi, 2);
    p = put_decimal(p, s, 2);
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}
