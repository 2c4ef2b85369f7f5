/* SPDX-License-Identifier: Apache-2.0 */
/* cli/util.c - messages, option parsing, values and files shared by the
 * subcommands. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

const char *cli_prog = "qpki";

/* ---- messages ---------------------------------------------------------------- */

static void vmessage(const char *kind, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vmessage(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: %s", cli_prog, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("error: ", fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_error_st(qpki_status st, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: error: %s: %s\n", cli_prog, buf, qpki_strerror(st));
    return CLI_USAGE;
}

int cli_error_detail(qpki_status st, const char *detail, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (detail && detail[0])
        fprintf(stderr, "%s: error: %s: %s: %s\n", cli_prog, buf, qpki_strerror(st), detail);
    else
        fprintf(stderr, "%s: error: %s: %s\n", cli_prog, buf, qpki_strerror(st));
    return CLI_USAGE;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("warning: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("error: ", fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help'.\n", cli_prog);
    return CLI_USAGE;
}

int cli_help(const char *text)
{
    fputs(text, stdout);
    return CLI_OK;
}

/* ---- options ------------------------------------------------------------------ */

void cli_getopt_reset(void)
{
    optind = 0; /* glibc: 0 re-initialises getopt completely */
    opterr = 0;
}

bool cli_dump_options;

static void dump_options(const char *shortopts, const struct option *longopts)
{
    for (const struct option *o = longopts; o && o->name; o++)
        printf("--%s %d\n", o->name, o->has_arg);
    for (const char *p = shortopts; *p; p++) {
        if (*p == ':')
            continue;
        int arg = p[1] != ':' ? 0 : p[2] == ':' ? 2 : 1;
        printf("-%c %d\n", *p, arg);
    }
    exit(fflush(stdout) == 0 ? CLI_OK : CLI_USAGE);
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    if (cli_dump_options)
        dump_options(shortopts, longopts);
    char spec[128];
    /* A leading ':' makes getopt report a missing argument as ':'. */
    snprintf(spec, sizeof(spec), ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c == '?') {
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        if (optopt)
            cli_usage_error("unknown option '-%c'", optopt);
        else
            cli_usage_error("unknown option '%s'", arg);
        return '?';
    }
    if (c == ':') {
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        cli_usage_error("option '%s' needs a value", arg);
        return '?';
    }
    return c;
}

/* ---- values ------------------------------------------------------------------ */

bool cli_parse_duration(const char *text, int64_t *seconds)
{
    if (!text || !*text)
        return false;
    int64_t total = 0;
    const char *p = text;
    bool any_unit = false;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return false;
        int64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            if (v > INT64_MAX / 10 - 10)
                return false;
            v = v * 10 + (*p++ - '0');
        }
        int64_t mult;
        switch (*p) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        case 'w': mult = 7 * 86400; break;
        case 'y': mult = 365 * 86400; break;
        case '\0':
            if (any_unit)
                return false; /* "1h30" is ambiguous */
            mult = 1;
            break;
        default: return false;
        }
        if (*p) {
            p++;
            any_unit = true;
        }
        if (v > (INT64_MAX - total) / mult)
            return false;
        total += v * mult;
    }
    if (total <= 0)
        return false;
    *seconds = total;
    return true;
}

static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool cli_parse_time(const char *text, qpki_time *out)
{
    /* RFC 3339 §5.6:
     *   full-date = date-fullyear "-" date-month "-" date-mday
     *   date-time = full-date "T" full-time
     *   full-time = partial-time time-offset,  time-offset = "Z" / time-numoffset
     * "T" and "Z" may be lower case; a space instead of "T" is accepted (§5.6 NOTE). */
    if (!text)
        return false;
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) || *p++ != '-' ||
        !take_digits(&p, 2, &d))
        return false;
    long offset = 0;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return false;
        p++;
        if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi) ||
            *p++ != ':' || !take_digits(&p, 2, &s))
            return false;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!take_digits(&p, 2, &oh) || *p++ != ':' || !take_digits(&p, 2, &om) ||
                oh > 23 || om > 59)
                return false;
            offset = sign * (oh * 3600L + om * 60L);
        } else {
            return false;
        }
        if (*p)
            return false;
    }
    /* s == 60 (a leap second) is folded onto the next second, as timegm does. */
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    *out = (qpki_time)t - offset;
    return true;
}

void cli_format_time(qpki_time t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, size, "(invalid time)");
        return;
    }
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_format_time_openssl(qpki_time t, char *buf, size_t size)
{
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, size, "(invalid time)");
        return;
    }
    snprintf(buf, size, "%s %2d %02d:%02d:%02d %d GMT", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
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

/* Hex digits (':' separators skipped) into out; odd counts get a leading 0. */
static bool decode_hex_digits(const char *p, bool allow_odd, uint8_t *out, size_t cap,
                              size_t *len)
{
    size_t ndig = 0;
    for (const char *q = p; *q; q++) {
        if (*q == ':')
            continue;
        if (hexval((unsigned char)*q) < 0)
            return false;
        ndig++;
    }
    if (ndig == 0 || (!allow_odd && ndig % 2))
        return false;
    size_t n = (ndig + 1) / 2;
    if (n > cap)
        return false;
    size_t i = 0;
    bool high = ndig % 2 == 0;
    uint8_t cur = 0;
    for (const char *q = p; *q; q++) {
        if (*q == ':')
            continue;
        int v = hexval((unsigned char)*q);
        if (high) {
            cur = (uint8_t)(v << 4);
            high = false;
        } else {
            out[i++] = (uint8_t)(cur | v);
            cur = 0;
            high = true;
        }
    }
    *len = n;
    return true;
}

bool cli_parse_serial(const char *text, uint8_t *out, size_t cap, size_t *len)
{
    if (!text || !*text)
        return false;
    const char *p = text;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    /* Leading zeros carry no value: drop them before sizing. */
    while (p[0] == '0' && p[1] != '\0' && p[1] != ':')
        p++;
    uint8_t tmp[256];
    size_t n;
    if (!decode_hex_digits(p, true, tmp, sizeof(tmp), &n))
        return false;
    size_t skip = 0;
    while (skip + 1 < n && tmp[skip] == 0)
        skip++;
    if (n - skip > cap)
        return false;
    memcpy(out, tmp + skip, n - skip);
    *len = n - skip;
    return true;
}

bool cli_parse_hex(const char *text, uint8_t *out, size_t cap, size_t *len)
{
    if (!text)
        return false;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text += 2;
    return decode_hex_digits(text, false, out, cap, len);
}

void cli_hex_upper(const uint8_t *p, size_t len, char *buf)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        buf[2 * i] = d[p[i] >> 4];
        buf[2 * i + 1] = d[p[i] & 15];
    }
    buf[2 * len] = '\0';
}

void cli_hex_colons(const uint8_t *p, size_t len, char *buf)
{
    static const char d[] = "0123456789ABCDEF";
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (i)
            buf[k++] = ':';
        buf[k++] = d[p[i] >> 4];
        buf[k++] = d[p[i] & 15];
    }
    buf[k] = '\0';
}

/* ---- files ----------------------------------------------------------------------- */

bool cli_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        cli_error("path too long");
        return false;
    }
    return true;
}

bool cli_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

bool cli_read_file(const char *path, const char *what, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("cannot read %s %s: %s", what, path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (!buf)
        goto nomem;
    for (;;) {
        if (n == cap) {
            if (cap >= CLI_MAX_INPUT) {
                cli_error("%s %s is larger than %u bytes", what, path, CLI_MAX_INPUT);
                goto fail;
            }
            cap *= 2;
            uint8_t *bigger = realloc(buf, cap + 1);
            if (!bigger)
                goto nomem;
            buf = bigger;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            cli_error("cannot read %s %s: %s", what, path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (!is_stdin)
        close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return true;
nomem:
    cli_error("out of memory reading %s", path);
fail:
    free(buf);
    if (!is_stdin)
        close(fd);
    return false;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool cli_out_open(const char *path, unsigned mode, bool exclusive, struct cli_out *out)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    if (!path || strcmp(path, "-") == 0) {
        out->fd = STDOUT_FILENO;
        out->to_stdout = true;
        return true;
    }
    if (!cli_path(out->path, sizeof(out->path), "%s", path) ||
        !cli_path(out->dir, sizeof(out->dir), "%s", path))
        return false;
    char *slash = strrchr(out->dir, '/');
    const char *base = path;
    if (slash) {
        base = path + (slash - out->dir) + 1;
        if (slash == out->dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    } else {
        strcpy(out->dir, ".");
    }
    if (!*base) {
        cli_error("'%s' is a directory name, not a file name", path);
        return false;
    }
    if (!cli_path(out->tmp, sizeof(out->tmp), "%s/.%s.tmp.XXXXXX", out->dir, base))
        return false;
    if (exclusive && cli_path_exists(path)) {
        cli_error("%s already exists (not overwritten)", path);
        return false;
    }
    /* mkostemp creates the file 0600, so a key never exists with wider modes. */
    out->fd = mkostemp(out->tmp, O_CLOEXEC);
    if (out->fd < 0) {
        cli_error("cannot create a file in %s: %s", out->dir, strerror(errno));
        return false;
    }
    if (fchmod(out->fd, (mode_t)mode) != 0) {
        cli_error("cannot write %s: %s", path, strerror(errno));
        cli_out_abort(out);
        return false;
    }
    out->exclusive = exclusive;
    return true;
}

bool cli_out_write(struct cli_out *out, const void *data, size_t len)
{
    if (write_all(out->fd, data, len))
        return true;
    if (out->to_stdout)
        cli_error("cannot write to standard output: %s", strerror(errno));
    else
        cli_error("cannot write %s: %s", out->path, strerror(errno));
    cli_out_abort(out);
    return false;
}

void cli_out_abort(struct cli_out *out)
{
    if (out->to_stdout || out->fd < 0)
        return;
    close(out->fd);
    out->fd = -1;
    unlink(out->tmp);
}

bool cli_out_commit(struct cli_out *out)
{
    if (out->to_stdout)
        return true;
    if (out->fd < 0)
        return false;
    const char *step = "sync";
    if (fsync(out->fd) != 0)
        goto fail;
    step = "close";
    int fd = out->fd;
    out->fd = -1;
    if (close(fd) != 0)
        goto fail;
    step = "create";
    if (out->exclusive) {
        if (link(out->tmp, out->path) != 0) {
            if (errno == EEXIST) {
                unlink(out->tmp);
                cli_error("%s already exists (not overwritten)", out->path);
                return false;
            }
            goto fail;
        }
        unlink(out->tmp);
    } else if (rename(out->tmp, out->path) != 0) {
        goto fail;
    }
    int dfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return true;
fail:
    cli_error("cannot %s %s: %s", step, out->path, strerror(errno));
    if (out->fd >= 0)
        close(out->fd);
    out->fd = -1;
    unlink(out->tmp);
    return false;
}

bool cli_write_file(const char *path, const uint8_t *data, size_t len, unsigned mode,
                    bool exclusive)
{
    struct cli_out out;
    return cli_out_open(path, mode, exclusive, &out) && cli_out_write(&out, data, len) &&
           cli_out_commit(&out);
}

bool cli_mkdirs(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    if (!cli_path(buf, sizeof(buf), "%s", path))
        return false;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST) {
            cli_error("cannot create directory %s: %s", buf, strerror(errno));
            return false;
        }
        *p = '/';
    }
    if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST) {
        cli_error("cannot create directory %s: %s", buf, strerror(errno));
        return false;
    }
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s is not a directory", buf);
        return false;
    }
    return true;
}

/* ---- base64 and PEM ------------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cli_base64(const uint8_t *data, size_t len)
{
    size_t out_len = 4 * ((len + 2) / 3);
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[k++] = b64_alphabet[(v >> 18) & 63];
        out[k++] = b64_alphabet[(v >> 12) & 63];
        out[k++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    out[k] = '\0';
    return out;
}

char *cli_pem(const char *label, const uint8_t *der, size_t len)
{
    char *b64 = cli_base64(der, len);
    if (!b64)
        return NULL;
    size_t blen = strlen(b64);
    size_t cap = blen + blen / 64 + 2 * strlen(label) + 64;
    char *out = malloc(cap);
    if (!out) {
        free(b64);
        return NULL;
    }
    size_t k = (size_t)snprintf(out, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < blen; i += 64) {
        size_t n = blen - i < 64 ? blen - i : 64;
        memcpy(out + k, b64 + i, n);
        k += n;
        out[k++] = '\n';
    }
    snprintf(out + k, cap - k, "-----END %s-----\n", label);
    free(b64);
    return out;
}

/* Decode the body of the first PEM block labelled `label`. */
static bool pem_decode(const char *text, const char *label, uint8_t **der, size_t *len)
{
    char begin[96], end[96];
    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(end, sizeof(end), "-----END %s-----", label);
    const char *b = strstr(text, begin);
    if (!b)
        return false;
    b += strlen(begin);
    const char *e = strstr(b, end);
    if (!e)
        return false;
    uint8_t *out = malloc((size_t)(e - b) / 4 * 3 + 3);
    if (!out)
        return false;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0;
    for (const char *p = b; p < e; p++) {
        if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
            continue;
        if (*p == '=') {
            pad++;
            continue;
        }
        const char *q = strchr(b64_alphabet, *p);
        if (!q || !*p || pad) {
            free(out);
            return false;
        }
        acc = (acc << 6) | (uint32_t)(q - b64_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *der = out;
    *len = n;
    return true;
}

bool cli_read_ocsp_file(const char *path, const char *what, const char *pem_label,
                        uint8_t **der, size_t *len)
{
    uint8_t *data;
    size_t n;
    if (!cli_read_file(path, what, &data, &n))
        return false;
    if (n > 0 && data[0] != 0x30 && strstr((const char *)data, "-----BEGIN ")) {
        uint8_t *body;
        size_t body_len;
        if (!pem_decode((const char *)data, pem_label, &body, &body_len)) {
            cli_error("%s %s: no valid PEM block \"%s\"", what, path, pem_label);
            free(data);
            return false;
        }
        free(data);
        *der = body;
        *len = body_len;
        return true;
    }
    *der = data;
    *len = n;
    return true;
}

bool cli_load_cert(const char *path, const char *what, qpki_cert **out)
{
    uint8_t *data;
    size_t n;
    *out = NULL;
    if (!cli_read_file(path, what, &data, &n))
        return false;
    free(data);
    char why[256];
    qpki_status st = qpki_cert_load_file_err(path, why, sizeof(why), out);
    if (st != QPKI_OK) {
        cli_error_detail(st, why, "cannot load %s %s", what, path);
        return false;
    }
    return true;
}

bool cli_cert_equal(const qpki_cert *a, const qpki_cert *b)
{
    const uint8_t *da, *db;
    size_t la, lb;
    qpki_cert_der(a, &da, &la);
    qpki_cert_der(b, &db, &lb);
    return la == lb && memcmp(da, db, la) == 0;
}

bool cli_random(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cli_error("getrandom: %s", strerror(errno));
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

/* ---- secrets ------------------------------------------------------------------------ */

void cli_secret_free(char *secret)
{
    if (!secret)
        return;
    size_t n = strlen(secret);
    volatile char *p = secret;
    for (size_t i = 0; i < n; i++)
        p[i] = 0;
    free(secret);
}

bool cli_get_passphrase(const char *env_name, const char *file, char **out)
{
    *out = NULL;
    if (env_name && file) {
        cli_usage_error("--passphrase-env and --passphrase-file are mutually exclusive");
        return false;
    }
    if (env_name) {
        const char *v = getenv(env_name);
        if (!v) {
            cli_error("environment variable %s (--passphrase-env) is not set", env_name);
            return false;
        }
        if (!*v) {
            cli_error("environment variable %s (--passphrase-env) is empty", env_name);
            return false;
        }
        *out = strdup(v);
        if (!*out) {
            cli_error("out of memory");
            return false;
        }
        return true;
    }
    if (file) {
        uint8_t *data;
        size_t n;
        if (!cli_read_file(file, "passphrase file", &data, &n))
            return false;
        size_t k = 0;
        while (k < n && data[k] != '\n' && data[k] != '\r' && data[k] != '\0')
            k++;
        if (k == 0) {
            cli_secret_free((char *)data);
            cli_error("passphrase file %s is empty", file);
            return false;
        }
        /* Keep the first line only; wipe the rest before freeing. */
        memset(data + k, 0, n - k);
        *out = (char *)data;
        return true;
    }
    return true;
}
