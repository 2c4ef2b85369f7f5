/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/key.c - the public key API (qpki/key.h) over crypto_privkey. */
#include <qpki/key.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

struct qpki_key {
    crypto_privkey *priv;
};

crypto_privkey *qpki_key_privkey(const qpki_key *key) { return key ? key->priv : NULL; }

qpki_status qpki_key_alg_from_name(const char *name, qpki_key_alg *alg, unsigned *rsa_bits)
{
    static const struct {
        const char *name;
        qpki_key_alg alg;
        unsigned bits;
    } names[] = {
        {"ecdsa-p256", QPKI_KEY_EC_P256, 0}, {"ecdsa-p384", QPKI_KEY_EC_P384, 0},
        {"ecdsa-p521", QPKI_KEY_EC_P521, 0}, {"rsa", QPKI_KEY_RSA, 2048},
        {"rsa-2048", QPKI_KEY_RSA, 2048},    {"rsa-3072", QPKI_KEY_RSA, 3072},
        {"rsa-4096", QPKI_KEY_RSA, 4096},    {"ed25519", QPKI_KEY_ED25519, 0},
        {"ed448", QPKI_KEY_ED448, 0},        {"ml-dsa-44", QPKI_KEY_ML_DSA_44, 0},
        {"ml-dsa-65", QPKI_KEY_ML_DSA_65, 0}, {"ml-dsa-87", QPKI_KEY_ML_DSA_87, 0},
    };
    QPKI_ENSURE(name && alg, QPKI_ERR_INVALID_ARG);
    for (size_t i = 0; i < QPKI_ARRAY_LEN(names); i++) {
        if (!strcasecmp(name, names[i].name)) {
            *alg = names[i].alg;
            if (rsa_bits)
                *rsa_bits = names[i].bits;
            return QPKI_OK;
        }
    }
    return QPKI_ERR_PARSE;
}

static qpki_status wrap(crypto_privkey *priv, qpki_key **out)
{
    qpki_key *k = qpki_calloc(1, sizeof(*k));
    if (!k) {
        crypto_privkey_free(&priv);
        return QPKI_ERR_NOMEM;
    }
    k->priv = priv;
    *out = k;
    return QPKI_OK;
}

qpki_status qpki_key_generate(qpki_key_alg alg, unsigned rsa_bits, qpki_key **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    crypto_privkey *priv = NULL;
    QPKI_GUARD(crypto_privkey_generate(alg, rsa_bits, &priv));
    return wrap(priv, out);
}

static qpki_status from_bytes(const uint8_t *data, size_t len, const char *passphrase,
                              qpki_detail *d, qpki_key **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data && len, QPKI_ERR_INVALID_ARG);
    crypto_privkey *priv = NULL;
    QPKI_GUARD(crypto_privkey_load_detail(data, len, passphrase, d, &priv));
    return wrap(priv, out);
}

static qpki_status load(const char *path, const char *passphrase, qpki_detail *d,
                        qpki_key **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(path, QPKI_ERR_INVALID_ARG);
    uint8_t *buf = NULL;
    size_t len = 0;
    QPKI_GUARD(crypto_read_key_file(path, &buf, &len));
    qpki_status rc = from_bytes(buf, len, passphrase, d, out);
    qpki_free_secret(buf, len);
    return rc;
}

/* The _err variants: the detail, or the status text when nothing more precise
 * was said. */
static qpki_status with_error(qpki_status rc, qpki_detail *d)
{
    if (rc != QPKI_OK)
        detail_fail(d, rc, "%s", qpki_strerror(rc));
    return rc;
}

qpki_status qpki_key_from_bytes(const uint8_t *data, size_t len, const char *passphrase,
                                qpki_key **out)
{
    return from_bytes(data, len, passphrase, NULL, out);
}

qpki_status qpki_key_from_bytes_err(const uint8_t *data, size_t len, const char *passphrase,
                                    char *error, size_t error_size, qpki_key **out)
{
    qpki_detail d;
    detail_init(&d, error, error_size);
    return with_error(from_bytes(data, len, passphrase, &d, out), &d);
}

qpki_status qpki_key_load(const char *path, const char *passphrase, qpki_key **out)
{
    return load(path, passphrase, NULL, out);
}

qpki_status qpki_key_load_err(const char *path, const char *passphrase, char *error,
                              size_t error_size, qpki_key **out)
{
    qpki_detail d;
    detail_init(&d, error, error_size);
    return with_error(load(path, passphrase, &d, out), &d);
}

void qpki_key_free(qpki_key **key)
{
    if (!key || !*key)
        return;
    crypto_privkey_free(&(*key)->priv);
    qpki_free(*key);
    *key = NULL;
}

qpki_key_alg qpki_key_algorithm(const qpki_key *key)
{
    return key ? crypto_privkey_alg(key->priv) : QPKI_KEY_UNKNOWN;
}

unsigned qpki_key_bits(const qpki_key *key) { return key ? crypto_privkey_bits(key->priv) : 0; }

qpki_status qpki_key_public_key(const qpki_key *key, const uint8_t **spki, size_t *spki_len)
{
    QPKI_ENSURE(key && spki && spki_len, QPKI_ERR_INVALID_ARG);
    der_view v = crypto_privkey_spki(key->priv);
    *spki = v.p;
    *spki_len = v.n;
    return QPKI_OK;
}

qpki_status qpki_key_export(const qpki_key *key, qpki_key_format format, const char *passphrase,
                            uint8_t **out, size_t *out_len)
{
    QPKI_ENSURE(key && out && out_len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(format == QPKI_KEY_FORMAT_PEM || format == QPKI_KEY_FORMAT_DER,
                QPKI_ERR_INVALID_ARG);
    return crypto_privkey_export(key->priv, format == QPKI_KEY_FORMAT_PEM, passphrase, out,
                                 out_len);
}

void qpki_key_buffer_free(uint8_t *buf, size_t len) { qpki_free_secret(buf, len); }

static qpki_status write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return QPKI_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return QPKI_OK;
}

/* Create "<path>.tmp-<random>" exclusively with mode 0600. */
static qpki_status create_temp(const char *path, char **tmp_out, int *fd_out)
{
    size_t n = strlen(path) + 32;
    char *tmp = qpki_malloc(n);
    QPKI_ENSURE(tmp, QPKI_ERR_NOMEM);
    for (int attempt = 0; attempt < 16; attempt++) {
        uint8_t rnd[8];
        char hex[17];
        qpki_status rc = crypto_random(rnd, sizeof(rnd));
        if (rc != QPKI_OK) {
            qpki_free(tmp);
            return rc;
        }
        qpki_hex_encode(rnd, sizeof(rnd), hex);
        qpki_fmt(tmp, n, "%s.tmp-%s", path, hex);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            *tmp_out = tmp;
            *fd_out = fd;
            return QPKI_OK;
        }
        if (errno != EEXIST)
            break;
    }
    qpki_free(tmp);
    return QPKI_ERR_IO;
}

static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        qpki_fmt(dir, sizeof(dir), ".");
    else if (slash == path)
        qpki_fmt(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        qpki_fmt(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

qpki_status qpki_key_write_file(const qpki_key *key, const char *path, qpki_key_format format,
                                const char *passphrase, unsigned flags)
{
    QPKI_ENSURE(key && path && *path, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE((flags & ~QPKI_KEY_WRITE_NO_OVERWRITE) == 0, QPKI_ERR_INVALID_ARG);
    uint8_t *data = NULL;
    size_t len = 0;
    QPKI_GUARD(qpki_key_export(key, format, passphrase, &data, &len));
    char *tmp = NULL;
    int fd = -1;
    qpki_status rc = create_temp(path, &tmp, &fd);
    if (rc != QPKI_OK)
        goto out;
    /* The mode given to open() is reduced by the umask, never widened; make it
     * exactly 0600 whatever the umask. */
    if (fchmod(fd, 0600) != 0)
        rc = QPKI_ERR_IO;
    if (rc == QPKI_OK)
        rc = write_all(fd, data, len);
    if (rc == QPKI_OK && fsync(fd) != 0)
        rc = QPKI_ERR_IO;
    if (close(fd) != 0 && rc == QPKI_OK)
        rc = QPKI_ERR_IO;
    if (rc == QPKI_OK) {
        if (flags & QPKI_KEY_WRITE_NO_OVERWRITE) {
            /* link(2) fails with EEXIST instead of replacing the target. */
            if (link(tmp, path) != 0)
                rc = errno == EEXIST ? QPKI_ERR_EXISTS : QPKI_ERR_IO;
            (void)unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            rc = QPKI_ERR_IO;
        }
    }
    if (rc != QPKI_OK)
        (void)unlink(tmp);
    else
        sync_parent_dir(path);
out:
    qpki_free(tmp);
    qpki_key_buffer_free(data, len);
    return rc;
}
