/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ca/store.c - the CA directory store (qpki/ca.h): index.txt rows, the
 * serial file and certs/, each change made under a lock and written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qpki/ca.h>
#include <qpki/crl.h>
#include <qpki/db.h>
#include <qpki/limits.h>

#include "internal.h"
#include "db/index_row.h"
#include "der/pem.h"

#define CA_PATH_MAX 4096
#define CA_ERR_MAX 512

struct qpki_ca_store {
    char *dir;
    char err[CA_ERR_MAX];
};

/* ---- small helpers ------------------------------------------------------------ */

static qpki_status status_from_errno(int e)
{
    switch (e) {
    case ENOENT: return QPKI_ERR_NOT_FOUND;
    case EEXIST: return QPKI_ERR_EXISTS;
    case ENOMEM: return QPKI_ERR_NOMEM;
    default: return QPKI_ERR_IO;
    }
}

static qpki_status join_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    QPKI_ENSURE(n > 0 && (size_t)n < size, QPKI_ERR_INVALID_ARG);
    return QPKI_OK;
}

static bool path_exists(const char *dir, const char *name)
{
    char path[CA_PATH_MAX];
    struct stat st;
    if (join_path(path, sizeof(path), dir, name) != QPKI_OK)
        return false;
    return lstat(path, &st) == 0;
}

static qpki_status fail_errno(qpki_ca_store *s, const char *what, const char *path, int e)
{
    if (s)
        qpki_fmt(s->err, sizeof(s->err), "%s %s: %s", what, path, strerror(e));
    return status_from_errno(e);
}

/* Read a whole file into a NUL-terminated qpki_malloc'd buffer. */
static qpki_status read_all(const char *path, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return status_from_errno(errno);
    qpki_status rc = QPKI_OK;
    struct stat st;
    char *buf = NULL;
    size_t cap, len = 0;
    if (fstat(fd, &st) != 0)
        QPKI_FAIL(status_from_errno(errno));
    cap = (size_t)st.st_size + 1;
    buf = qpki_malloc(cap);
    if (!buf)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    for (;;) {
        if (len + 1 == cap) {
            /* The file grew while we read it. */
            char *bigger = qpki_realloc(buf, cap * 2);
            if (!bigger)
                QPKI_FAIL(QPKI_ERR_NOMEM);
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            QPKI_FAIL(status_from_errno(errno));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    qpki_free(buf);
    close(fd);
    return rc;
}

static qpki_status write_fd_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return status_from_errno(errno);
        }
        data += n;
        len -= (size_t)n;
    }
    return QPKI_OK;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write dir/name atomically: temporary file in dir, fsync, then rename (or,
 * when exclusive, link(2), which fails instead of replacing), fsync of dir. */
static qpki_status write_atomic(qpki_ca_store *s, const char *dir, const char *name,
                                const uint8_t *data, size_t len, mode_t mode, bool exclusive)
{
    char path[CA_PATH_MAX], tmp[CA_PATH_MAX], parent[CA_PATH_MAX];
    QPKI_GUARD(join_path(path, sizeof(path), dir, name));
    /* The temporary file goes in the target's own directory (rename is atomic
     * only within one file system); name may contain a '/' ("certs/X.pem"). */
    snprintf(parent, sizeof(parent), "%s", path);
    char *cut = strrchr(parent, '/');
    QPKI_ENSURE(cut, QPKI_ERR_INVALID_ARG);
    *cut = '\0';
    int n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", parent, cut + 1);
    QPKI_ENSURE(n > 0 && (size_t)n < sizeof(tmp), QPKI_ERR_INVALID_ARG);

    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail_errno(s, "cannot create a temporary file next to", path, errno);
    qpki_status rc = QPKI_OK;
    if (fchmod(fd, mode) != 0) {
        rc = fail_errno(s, "cannot set the mode of", tmp, errno);
        goto fail;
    }
    rc = write_fd_all(fd, data, len);
    if (rc != QPKI_OK) {
        (void)fail_errno(s, "cannot write", tmp, errno);
        goto fail;
    }
    if (fsync(fd) != 0) {
        rc = fail_errno(s, "cannot sync", tmp, errno);
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = fail_errno(s, "cannot close", tmp, errno);
        goto fail;
    }
    fd = -1;
    if (exclusive) {
        if (link(tmp, path) != 0) {
            int e = errno;
            rc = e == EEXIST ? QPKI_ERR_EXISTS : fail_errno(s, "cannot create", path, e);
            if (e == EEXIST && s)
                qpki_fmt(s->err, sizeof(s->err), "%s already exists", path);
            goto fail;
        }
        (void)unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = fail_errno(s, "cannot replace", path, errno);
        goto fail;
    }
    fsync_dir(parent);
    return QPKI_OK;
fail:
    if (fd >= 0)
        close(fd);
    (void)unlink(tmp);
    return rc;
}

/* ---- the lock ------------------------------------------------------------------ */

static qpki_status lock_store(qpki_ca_store *s, int *fd_out)
{
    char path[CA_PATH_MAX];
    QPKI_GUARD(join_path(path, sizeof(path), s->dir, QPKI_CA_LOCK_FILE));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail_errno(s, "cannot open lock file", path, errno);
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return fail_errno(s, "cannot lock", path, e);
        }
    }
    *fd_out = fd;
    return QPKI_OK;
}

static void unlock_store(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* ---- serial numbers ------------------------------------------------------------- */

/* Magnitude without leading zero octets. */
static void strip_zeros(const uint8_t **p, size_t *len)
{
    while (*len > 0 && (*p)[0] == 0) {
        (*p)++;
        (*len)--;
    }
}

/* ---- rows ---------------------------------------------------------------------------- */

struct parsed_row {
    index_span field[INDEX_ROW_FIELDS];
    index_span line; /* without the line break */
    index_row values;
    qpki_ca_row row;
};

/* qpki_ca_store_last_error's words for a row the codec refuses. */
static const char *row_problem(index_row_error e)
{
    switch (e) {
    case INDEX_ROW_FIELD_COUNT: return "expected six tab-separated fields";
    case INDEX_ROW_STATUS: return "bad status (want V, R or E)";
    case INDEX_ROW_EXPIRY: return "bad expiry date";
    case INDEX_ROW_REVOCATION_MISSING:
    case INDEX_ROW_REVOCATION_TIME: return "bad revocation date";
    case INDEX_ROW_NOT_REVOKED: return "revocation field set on a row that is not revoked";
    case INDEX_ROW_REASON:
    case INDEX_ROW_HOLD_MISSING:
    case INDEX_ROW_HOLD_UNKNOWN:
    case INDEX_ROW_KEY_TIME_MISSING:
    case INDEX_ROW_CA_KEY_TIME_MISSING:
    case INDEX_ROW_COMPROMISE_TIME:
    case INDEX_ROW_REASON_EXTRA: return "bad revocation reason";
    case INDEX_ROW_SERIAL_MISSING:
    case INDEX_ROW_SERIAL_NEGATIVE:
    case INDEX_ROW_SERIAL_BAD:
    case INDEX_ROW_SERIAL_TOO_LONG: return "bad serial";
    }
    return "malformed row";
}

static qpki_status parse_row(qpki_ca_store *s, size_t lineno, struct parsed_row *r)
{
    index_row_fault fault;
    if (!index_row_parse(r->line.p, r->line.n, r->field, &r->values, &fault)) {
        if (s)
            qpki_fmt(s->err, sizeof(s->err), "%s:%zu: %s", QPKI_CA_INDEX_FILE, lineno,
                     row_problem(fault.error));
        return QPKI_ERR_PARSE;
    }
    memset(&r->row, 0, sizeof(r->row));
    r->row.struct_size = (uint32_t)sizeof(r->row);
    r->row.line = lineno;
    r->row.status = r->values.status;
    r->row.expiry = r->values.expiry;
    r->row.revocation_time = r->values.revocation_time;
    r->row.reason = r->values.reason;
    r->row.serial = r->values.serial;
    r->row.serial_len = r->values.serial_len;
    r->row.hold_instruction = r->values.hold;
    r->row.invalidity_date = r->values.has_invalidity ? r->values.invalidity_date : 0;
    return QPKI_OK;
}

/* Walk the rows of an index held in memory.  cb returns true to stop. */
typedef bool (*row_cb)(void *user, struct parsed_row *r);

static qpki_status walk_rows(qpki_ca_store *s, const char *text, size_t len, row_cb cb,
                             void *user)
{
    struct parsed_row r;
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (!index_line_has_row(line, &n))
            continue;
        r.line.p = line;
        r.line.n = n;
        QPKI_GUARD(parse_row(s, lineno, &r));
        if (cb(user, &r))
            break;
    }
    return QPKI_OK;
}

struct find_ctx {
    const uint8_t *serial;
    size_t len;
    bool found;
    char status;
    index_span line;
    index_span field[INDEX_ROW_FIELDS];
};

static bool find_cb(void *user, struct parsed_row *r)
{
    struct find_ctx *f = user;
    if (r->row.serial_len == f->len && memcmp(r->row.serial, f->serial, f->len) == 0) {
        f->found = true;
        f->status = r->row.status;
        f->line = r->line;
        memcpy(f->field, r->field, sizeof(f->field));
        return true;
    }
    return false;
}

static qpki_status find_serial(qpki_ca_store *s, const char *text, size_t len,
                               const uint8_t *serial, size_t serial_len, struct find_ctx *f)
{
    memset(f, 0, sizeof(*f));
    f->serial = serial;
    f->len = serial_len;
    return walk_rows(s, text, len, find_cb, f);
}

/* QPKI_ERR_EXISTS, with the message, when the index already has a row for the
 * serial (in any spelling). */
static qpki_status refuse_known_serial(qpki_ca_store *s, const char *index, size_t index_len,
                                       const uint8_t *serial, size_t len)
{
    struct find_ctx f;
    QPKI_GUARD(find_serial(s, index, index_len, serial, len, &f));
    if (f.found) {
        char hex[2 * QPKI_SERIAL_MAX + 1];
        qpki_serial_hex(serial, len, hex);
        qpki_fmt(s->err, sizeof(s->err), "serial %s is already in %s", hex,
                 QPKI_CA_INDEX_FILE);
        return QPKI_ERR_EXISTS;
    }
    return QPKI_OK;
}

static qpki_status read_index(qpki_ca_store *s, char **text, size_t *len, mode_t *mode)
{
    char path[CA_PATH_MAX];
    QPKI_GUARD(join_path(path, sizeof(path), s->dir, QPKI_CA_INDEX_FILE));
    qpki_status rc = read_all(path, text, len);
    if (rc != QPKI_OK) {
        qpki_fmt(s->err, sizeof(s->err), "cannot read %s: %s", path,
                 rc == QPKI_ERR_NOT_FOUND ? "no such file" : qpki_strerror(rc));
        return rc;
    }
    if (mode) {
        struct stat st;
        *mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    }
    return QPKI_OK;
}

/* ---- public API ------------------------------------------------------------------------ */

qpki_status qpki_ca_store_create(const char *dir, const uint8_t *first_serial, size_t len)
{
    QPKI_ENSURE(dir && *dir && first_serial, QPKI_ERR_INVALID_ARG);
    strip_zeros(&first_serial, &len);
    QPKI_ENSURE(len > 0 && len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);

    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return status_from_errno(errno);
    struct stat st;
    QPKI_ENSURE(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), QPKI_ERR_INVALID_ARG);
    const char *taken[] = { QPKI_CA_INDEX_FILE, QPKI_CA_SERIAL_FILE, QPKI_CA_CERT_FILE,
                            QPKI_CA_KEY_FILE };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(taken); i++)
        QPKI_ENSURE(!path_exists(dir, taken[i]), QPKI_ERR_EXISTS);

    /* index.txt first: creating it (link(2), exclusive) claims the directory,
     * so of two concurrent creators exactly one proceeds. */
    QPKI_GUARD(write_atomic(NULL, dir, QPKI_CA_INDEX_FILE, (const uint8_t *)"", 0, 0644, true));

    char hex[2 * QPKI_SERIAL_MAX + 4];
    qpki_serial_hex(first_serial, len, hex);
    strcat(hex, "\n");
    QPKI_GUARD(write_atomic(NULL, dir, QPKI_CA_SERIAL_FILE, (const uint8_t *)hex, strlen(hex),
                            0644, true));
    /* `openssl ca` reads this file; without it every subject must be unique. */
    static const char attr[] = "unique_subject = no\n";
    QPKI_GUARD(write_atomic(NULL, dir, QPKI_CA_INDEX_ATTR_FILE, (const uint8_t *)attr,
                            sizeof(attr) - 1, 0644, false));
    char certs[CA_PATH_MAX];
    QPKI_GUARD(join_path(certs, sizeof(certs), dir, QPKI_CA_CERTS_DIR));
    if (mkdir(certs, 0755) != 0 && errno != EEXIST)
        return status_from_errno(errno);
    fsync_dir(dir);
    return QPKI_OK;
}

qpki_status qpki_ca_store_open(const char *dir, qpki_ca_store **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(dir && *dir, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(strlen(dir) < CA_PATH_MAX - 64, QPKI_ERR_INVALID_ARG);
    char path[CA_PATH_MAX];
    QPKI_GUARD(join_path(path, sizeof(path), dir, QPKI_CA_INDEX_FILE));
    struct stat st;
    if (stat(path, &st) != 0)
        return status_from_errno(errno);
    QPKI_ENSURE(S_ISREG(st.st_mode), QPKI_ERR_INVALID_ARG);

    qpki_ca_store *s = qpki_calloc(1, sizeof(*s));
    QPKI_ENSURE(s, QPKI_ERR_NOMEM);
    s->dir = qpki_strdup(dir);
    if (!s->dir) {
        qpki_free(s);
        return QPKI_ERR_NOMEM;
    }
    *out = s;
    return QPKI_OK;
}

void qpki_ca_store_free(qpki_ca_store **store)
{
    if (!store || !*store)
        return;
    qpki_free((*store)->dir);
    qpki_free(*store);
    *store = NULL;
}

const char *qpki_ca_store_dir(const qpki_ca_store *store)
{
    return store ? store->dir : NULL;
}

const char *qpki_ca_store_last_error(const qpki_ca_store *store)
{
    return store ? store->err : "";
}

/* Add one to a big-endian magnitude held in buf[0..*len) with room for one more
 * octet in front (buf has cap octets). */
static qpki_status serial_increment(uint8_t *buf, size_t cap, size_t *len)
{
    for (size_t i = *len; i > 0; i--) {
        if (++buf[i - 1] != 0)
            return QPKI_OK;
    }
    /* Carried out of the top octet (or len was 0). */
    QPKI_ENSURE(*len < cap, QPKI_ERR_LIMIT);
    memmove(buf + 1, buf, *len);
    buf[0] = 1;
    (*len)++;
    return QPKI_OK;
}

/* Read the hex counter file dir/name (the serial file, crlnumber) into cur.
 * missing_ok: a file that does not exist reads as *missing = true. */
static qpki_status read_counter(qpki_ca_store *s, const char *name, bool missing_ok,
                                bool *missing, uint8_t *cur, size_t cap, size_t *cur_len)
{
    char path[CA_PATH_MAX];
    char *text = NULL;
    size_t text_len = 0;
    *missing = false;
    QPKI_GUARD(join_path(path, sizeof(path), s->dir, name));
    qpki_status rc = read_all(path, &text, &text_len);
    if (rc == QPKI_ERR_NOT_FOUND && missing_ok) {
        *missing = true;
        *cur_len = 0;
        return QPKI_OK;
    }
    if (rc != QPKI_OK) {
        qpki_fmt(s->err, sizeof(s->err), "cannot read %s: %s", path,
                 rc == QPKI_ERR_NOT_FOUND ? "no such file" : qpki_strerror(rc));
        return rc;
    }
    size_t n = text_len;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    text[n] = '\0';
    /* The file holds hex, as `openssl ca` writes it; CLI spellings ("0x", ':'
     * between digits) are accepted too. */
    rc = qpki_serial_from_hex(text, cur, cap, cur_len);
    qpki_free(text);
    if (rc != QPKI_OK) {
        qpki_fmt(s->err, sizeof(s->err), "%s: not a hexadecimal number", path);
        return QPKI_ERR_PARSE;
    }
    return QPKI_OK;
}

/* Write value + 1 to the counter file dir/name, upper-case hex, even digits. */
static qpki_status write_counter_next(qpki_ca_store *s, const char *name, const uint8_t *value,
                                      size_t len)
{
    uint8_t next[QPKI_SERIAL_MAX];
    size_t next_len = len;
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_LIMIT);
    memcpy(next, value, len);
    QPKI_GUARD(serial_increment(next, sizeof(next), &next_len));
    char hex[2 * QPKI_SERIAL_MAX + 4];
    qpki_serial_hex(next, next_len, hex);
    strcat(hex, "\n");
    return write_atomic(s, s->dir, name, (const uint8_t *)hex, strlen(hex), 0644, false);
}

qpki_status qpki_ca_store_next_serial(qpki_ca_store *s, uint8_t *serial, size_t cap,
                                      size_t *len)
{
    QPKI_ENSURE(s && serial && len, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    int lock = -1;
    QPKI_GUARD(lock_store(s, &lock));

    qpki_status rc = QPKI_OK;
    char *index = NULL;
    size_t index_len = 0;
    uint8_t cur[QPKI_SERIAL_MAX];
    size_t cur_len = 0;
    bool missing;

    QPKI_CHECK(read_counter(s, QPKI_CA_SERIAL_FILE, false, &missing, cur, sizeof(cur), &cur_len));
    if (cur_len == 0) /* serial 0 is not allowed (RFC 5280 §4.1.2.2: positive) */
        QPKI_CHECK(serial_increment(cur, sizeof(cur), &cur_len));

    QPKI_CHECK(read_index(s, &index, &index_len, NULL));
    for (;;) {
        struct find_ctx f;
        QPKI_CHECK(find_serial(s, index, index_len, cur, cur_len, &f));
        if (!f.found)
            break;
        QPKI_CHECK(serial_increment(cur, sizeof(cur), &cur_len));
    }
    if (cur_len > cap)
        QPKI_FAIL(QPKI_ERR_BUFFER_TOO_SMALL);
    memcpy(serial, cur, cur_len);
    *len = cur_len;
    QPKI_CHECK(write_counter_next(s, QPKI_CA_SERIAL_FILE, cur, cur_len));
out:
    qpki_free(index);
    unlock_store(lock);
    return rc;
}

qpki_status qpki_ca_store_next_crl_number(qpki_ca_store *s, uint8_t *number, size_t cap,
                                          size_t *len)
{
    QPKI_ENSURE(s && number && len, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    int lock = -1;
    QPKI_GUARD(lock_store(s, &lock));
    qpki_status rc = QPKI_OK;
    /* RFC 5280 §5.2.3: "CRL issuers MUST NOT use CRLNumber values longer than 20
     * octets" - the value after this one must fit too. */
    uint8_t cur[QPKI_CRL_NUMBER_MAX];
    size_t cur_len = 0;
    bool missing;
    QPKI_CHECK(read_counter(s, QPKI_CA_CRLNUMBER_FILE, true, &missing, cur, sizeof(cur),
                            &cur_len));
    if (missing) {
        /* QPKI's FileStore.NextCRLNumber starts a new file at 01. */
        cur[0] = 1;
        cur_len = 1;
    }
    {
        uint8_t next[QPKI_CRL_NUMBER_MAX + 1];
        size_t next_len = cur_len;
        memcpy(next, cur, cur_len);
        QPKI_CHECK(serial_increment(next, sizeof(next), &next_len));
        if (next_len + ((next[0] & 0x80) ? 1 : 0) > QPKI_CRL_NUMBER_MAX) {
            qpki_fmt(s->err, sizeof(s->err), "%s: the next CRL number would exceed 20 octets",
                     QPKI_CA_CRLNUMBER_FILE);
            QPKI_FAIL(QPKI_ERR_LIMIT);
        }
    }
    if (cur_len > cap)
        QPKI_FAIL(QPKI_ERR_BUFFER_TOO_SMALL);
    memcpy(number, cur, cur_len);
    *len = cur_len;
    QPKI_CHECK(write_counter_next(s, QPKI_CA_CRLNUMBER_FILE, cur, cur_len));
out:
    unlock_store(lock);
    return rc;
}

qpki_status qpki_ca_store_save_crl(qpki_ca_store *s, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(s && der, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    qpki_crl *crl = NULL;
    qpki_status rc = qpki_crl_parse(der, len, &crl);
    if (rc != QPKI_OK) {
        qpki_fmt(s->err, sizeof(s->err), "not a CRL: %s", qpki_strerror(rc));
        return rc;
    }
    bool delta = qpki_crl_is_delta(crl);
    qpki_crl_free(&crl);
    char dir[CA_PATH_MAX];
    QPKI_GUARD(join_path(dir, sizeof(dir), s->dir, QPKI_CA_CRL_DIR));
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return fail_errno(s, "cannot create", dir, errno);
    char *pem = NULL;
    size_t pem_len = 0;
    QPKI_GUARD(pem_encode("X509 CRL", der, len, &pem, &pem_len));
    int lock = -1;
    rc = lock_store(s, &lock);
    if (rc == QPKI_OK)
        rc = write_atomic(s, s->dir, delta ? QPKI_CA_DELTA_CRL_FILE : QPKI_CA_CRL_FILE,
                          (const uint8_t *)pem, pem_len, 0644, false);
    if (rc == QPKI_OK)
        rc = write_atomic(s, s->dir, delta ? QPKI_CA_DELTA_CRL_DER_FILE : QPKI_CA_CRL_DER_FILE,
                          der, len, 0644, false);
    unlock_store(lock);
    qpki_free(pem);
    return rc;
}

static bool text_ok(const char *t)
{
    for (; *t; t++)
        if (*t == '\t' || *t == '\n' || *t == '\r')
            return false;
    return true;
}

/* Append a row to the index text; caller holds the lock. */
static qpki_status append_row_locked(qpki_ca_store *s, const uint8_t *serial, size_t len,
                                     qpki_time expiry, const char *filename,
                                     const char *subject)
{
    char *index = NULL, *out_text = NULL;
    size_t index_len = 0;
    mode_t mode = 0644;
    qpki_status rc = QPKI_OK;
    index_row v = { .status = 'V', .expiry = expiry, .reason = QPKI_REASON_NONE,
                    .serial_len = len };
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    memcpy(v.serial, serial, len);
    QPKI_CHECK(read_index(s, &index, &index_len, &mode));
    QPKI_CHECK(refuse_known_serial(s, index, index_len, serial, len));
    {
        size_t row_max = strlen(filename) + strlen(subject) + 2 * QPKI_SERIAL_MAX +
                         QPKI_TIME_TEXT_MAX + 16;
        bool need_nl = index_len > 0 && index[index_len - 1] != '\n';
        size_t total = index_len + (need_nl ? 1 : 0) + row_max + 1;
        out_text = qpki_malloc(total);
        if (!out_text)
            QPKI_FAIL(QPKI_ERR_NOMEM);
        memcpy(out_text, index, index_len);
        size_t pos = index_len, n = 0;
        if (need_nl)
            out_text[pos++] = '\n';
        QPKI_CHECK(index_row_format(&v, filename, subject, out_text + pos, total - pos, &n));
        pos += n;
        out_text[pos++] = '\n';
        QPKI_CHECK(write_atomic(s, s->dir, QPKI_CA_INDEX_FILE, (const uint8_t *)out_text, pos,
                                mode, false));
    }
out:
    qpki_free(index);
    qpki_free(out_text);
    return rc;
}

qpki_status qpki_ca_store_add_row(qpki_ca_store *s, const uint8_t *serial, size_t len,
                                  qpki_time expiry, const char *filename, const char *subject)
{
    QPKI_ENSURE(s && serial && subject, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    if (!filename)
        filename = "unknown";
    QPKI_ENSURE(text_ok(filename) && text_ok(subject) && *filename, QPKI_ERR_INVALID_ARG);
    strip_zeros(&serial, &len);
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    int lock = -1;
    QPKI_GUARD(lock_store(s, &lock));
    qpki_status rc = append_row_locked(s, serial, len, expiry, filename, subject);
    unlock_store(lock);
    return rc;
}

/* RFC 4514 text ("CN=x,O=Acme\, Inc.,C=FR", last RDN first) to OpenSSL's
 * one-line form ("/C=FR/O=Acme, Inc./CN=x", first RDN first).  Escapes of
 * single characters are undone; \XX hex escapes stay as they are, so control
 * characters never reach the tab-separated file. */
static qpki_status rfc4514_to_oneline(const char *in, char *out, size_t size)
{
    size_t n = strlen(in);
    size_t starts[QPKI_CERT_MAX_EXTENSIONS * 4];
    size_t count = 0;
    QPKI_ENSURE(n > 0, QPKI_ERR_INVALID_ARG);
    starts[count++] = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (in[i] == ',') {
            QPKI_ENSURE(count < QPKI_ARRAY_LEN(starts), QPKI_ERR_LIMIT);
            starts[count++] = i + 1;
        }
    }
    size_t pos = 0;
    for (size_t k = count; k > 0; k--) {
        size_t b = starts[k - 1];
        size_t e = k < count ? starts[k] - 1 : n;
        QPKI_ENSURE(pos + 1 < size, QPKI_ERR_BUFFER_TOO_SMALL);
        out[pos++] = '/';
        for (size_t i = b; i < e; i++) {
            char c = in[i];
            if (c == '\\' && i + 1 < e) {
                bool hex = i + 2 < e && strchr("0123456789ABCDEFabcdef", in[i + 1]) &&
                           strchr("0123456789ABCDEFabcdef", in[i + 2]);
                if (!hex) {
                    c = in[++i];
                }
            }
            QPKI_ENSURE(pos + 1 < size, QPKI_ERR_BUFFER_TOO_SMALL);
            out[pos++] = c;
        }
    }
    out[pos] = '\0';
    return QPKI_OK;
}

qpki_status qpki_ca_subject_oneline(const qpki_cert *cert, char *buf, size_t size)
{
    QPKI_ENSURE(cert && buf && size, QPKI_ERR_INVALID_ARG);
    char subject_text[2048];
    QPKI_GUARD(qpki_cert_subject_text(cert, subject_text, sizeof(subject_text)));
    if (subject_text[0] == '\0') {
        QPKI_ENSURE(size >= 2, QPKI_ERR_BUFFER_TOO_SMALL);
        strcpy(buf, "/");
        return QPKI_OK;
    }
    return rfc4514_to_oneline(subject_text, buf, size);
}

qpki_status qpki_ca_store_add_cert(qpki_ca_store *s, const qpki_cert *cert)
{
    QPKI_ENSURE(s && cert, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    const uint8_t *serial, *der;
    size_t len, der_len;
    qpki_cert_serial(cert, &serial, &len);
    /* RFC 5280 §4.1.2.2: "The serial number MUST be a positive integer". */
    QPKI_ENSURE(len > 0 && (serial[0] & 0x80) == 0, QPKI_ERR_INVALID_ARG);
    strip_zeros(&serial, &len);
    QPKI_ENSURE(len > 0 && len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);

    char oneline[2048];
    QPKI_GUARD(qpki_ca_subject_oneline(cert, oneline, sizeof(oneline)));
    QPKI_ENSURE(text_ok(oneline), QPKI_ERR_INVALID_ARG);

    char hex[2 * QPKI_SERIAL_MAX + 4], filename[2 * QPKI_SERIAL_MAX + 32];
    qpki_serial_hex(serial, len, hex);
    snprintf(filename, sizeof(filename), "%s/%s.pem", QPKI_CA_CERTS_DIR, hex);

    char *pem = NULL;
    size_t pem_len = 0;
    qpki_cert_der(cert, &der, &der_len);
    QPKI_GUARD(pem_encode("CERTIFICATE", der, der_len, &pem, &pem_len));

    int lock = -1;
    qpki_status rc = lock_store(s, &lock);
    if (rc != QPKI_OK) {
        qpki_free(pem);
        return rc;
    }
    char *index = NULL;
    size_t index_len = 0;
    QPKI_CHECK(read_index(s, &index, &index_len, NULL));
    QPKI_CHECK(refuse_known_serial(s, index, index_len, serial, len));
    {
        char certs[CA_PATH_MAX];
        QPKI_CHECK(join_path(certs, sizeof(certs), s->dir, QPKI_CA_CERTS_DIR));
        if (mkdir(certs, 0755) != 0 && errno != EEXIST)
            QPKI_FAIL(fail_errno(s, "cannot create", certs, errno));
    }
    QPKI_CHECK(write_atomic(s, s->dir, filename, (const uint8_t *)pem, pem_len, 0644, true));
    rc = append_row_locked(s, serial, len, qpki_cert_not_after(cert), filename, oneline);
    if (rc != QPKI_OK) {
        char path[CA_PATH_MAX];
        if (join_path(path, sizeof(path), s->dir, filename) == QPKI_OK)
            (void)unlink(path);
    }
out:
    qpki_free(index);
    qpki_free(pem);
    unlock_store(lock);
    return rc;
}

qpki_status qpki_ca_store_revoke(qpki_ca_store *s, const uint8_t *serial, size_t len,
                                 qpki_time revocation_time, qpki_crl_reason reason)
{
    QPKI_ENSURE(s && serial, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    strip_zeros(&serial, &len);
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    /* An unassigned reason or a time outside 0000-9999 is QPKI_ERR_INVALID_ARG. */
    index_row revoked = { .status = 'R', .revocation_time = revocation_time, .reason = reason };
    char revocation[INDEX_REVOCATION_MAX];
    QPKI_GUARD(index_revocation_format(&revoked, revocation, sizeof(revocation)));

    int lock = -1;
    QPKI_GUARD(lock_store(s, &lock));
    qpki_status rc = QPKI_OK;
    char *index = NULL, *out_text = NULL;
    size_t index_len = 0;
    mode_t mode = 0644;
    char hex[2 * QPKI_SERIAL_MAX + 4];
    qpki_serial_hex(serial, len, hex);

    QPKI_CHECK(read_index(s, &index, &index_len, &mode));
    struct find_ctx f;
    QPKI_CHECK(find_serial(s, index, index_len, serial, len, &f));
    if (!f.found) {
        qpki_fmt(s->err, sizeof(s->err), "serial %s is not in %s", hex, QPKI_CA_INDEX_FILE);
        QPKI_FAIL(QPKI_ERR_NOT_FOUND);
    }
    if (f.status == 'R') {
        qpki_fmt(s->err, sizeof(s->err), "serial %s is already revoked", hex);
        QPKI_FAIL(QPKI_ERR_EXISTS);
    }
    {
        /* The new row keeps every field but status and revocation as written. */
        size_t prefix = (size_t)(f.line.p - index);
        size_t suffix_at = prefix + f.line.n;
        /* serial, filename, subject */
        size_t rest_at = (size_t)(f.field[INDEX_FIELD_SERIAL].p - index);
        size_t total = index_len + INDEX_REVOCATION_MAX;
        out_text = qpki_malloc(total);
        if (!out_text)
            QPKI_FAIL(QPKI_ERR_NOMEM);
        memcpy(out_text, index, prefix);
        size_t pos = prefix;
        const index_span *expiry = &f.field[INDEX_FIELD_EXPIRY];
        int n = snprintf(out_text + pos, total - pos, "R\t%.*s\t%s\t", (int)expiry->n,
                         expiry->p, revocation);
        if (n < 0 || (size_t)n >= total - pos)
            QPKI_FAIL(QPKI_ERR_INTERNAL);
        pos += (size_t)n;
        memcpy(out_text + pos, index + rest_at, suffix_at - rest_at);
        pos += suffix_at - rest_at;
        memcpy(out_text + pos, index + suffix_at, index_len - suffix_at);
        pos += index_len - suffix_at;
        QPKI_CHECK(write_atomic(s, s->dir, QPKI_CA_INDEX_FILE, (const uint8_t *)out_text, pos,
                                mode, false));
    }
out:
    qpki_free(index);
    qpki_free(out_text);
    unlock_store(lock);
    return rc;
}

struct foreach_ctx {
    qpki_ca_row_fn fn;
    void *user;
    char *scratch;
    size_t scratch_cap;
    qpki_status rc;
};

static bool foreach_cb(void *user, struct parsed_row *r)
{
    struct foreach_ctx *c = user;
    /* NUL-terminated copies of the text fields. */
    size_t need = r->line.n + INDEX_ROW_FIELDS + 1;
    if (need > c->scratch_cap) {
        char *bigger = qpki_realloc(c->scratch, need);
        if (!bigger) {
            c->rc = QPKI_ERR_NOMEM;
            return true;
        }
        c->scratch = bigger;
        c->scratch_cap = need;
    }
    char *p = c->scratch;
    const char *fields[INDEX_ROW_FIELDS];
    for (size_t i = 0; i < INDEX_ROW_FIELDS; i++) {
        memcpy(p, r->field[i].p, r->field[i].n);
        p[r->field[i].n] = '\0';
        fields[i] = p;
        p += r->field[i].n + 1;
    }
    r->row.revocation = fields[INDEX_FIELD_REVOCATION];
    r->row.serial_hex = fields[INDEX_FIELD_SERIAL];
    r->row.filename = fields[INDEX_FIELD_FILENAME];
    r->row.subject = fields[INDEX_FIELD_SUBJECT];
    return c->fn(c->user, &r->row) != 0;
}

qpki_status qpki_ca_store_foreach(qpki_ca_store *s, qpki_ca_row_fn fn, void *user)
{
    QPKI_ENSURE(s && fn, QPKI_ERR_INVALID_ARG);
    s->err[0] = '\0';
    char *index = NULL;
    size_t index_len = 0;
    QPKI_GUARD(read_index(s, &index, &index_len, NULL));
    struct foreach_ctx c = { fn, user, NULL, 0, QPKI_OK };
    qpki_status rc = walk_rows(s, index, index_len, foreach_cb, &c);
    if (rc == QPKI_OK)
        rc = c.rc;
    qpki_free(c.scratch);
    qpki_free(index);
    return rc;
}
