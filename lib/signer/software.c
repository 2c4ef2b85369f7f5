/* SPDX-License-Identifier: Apache-2.0 */
/* lib/signer/software.c - the software signer: a private key in memory behind the
 * signer vtable.
 *
 * Thread safety: crypto_sign on one key is safe and scales across threads (see
 * lib/crypto/privkey.c), so every method here may run concurrently. */
#include <qpki/signer.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "internal.h"

struct software_signer {
    crypto_privkey *key;
    qpki_sig_alg alg;
    const uint8_t *alg_der;
    size_t alg_len;
};

static qpki_status sw_algorithm(void *self, const uint8_t **alg_der, size_t *alg_len)
{
    struct software_signer *s = self;
    *alg_der = s->alg_der;
    *alg_len = s->alg_len;
    return QPKI_OK;
}

static qpki_status sw_public_key(void *self, const uint8_t **spki_der, size_t *spki_len)
{
    struct software_signer *s = self;
    der_view spki = crypto_privkey_spki(s->key);
    *spki_der = spki.p;
    *spki_len = spki.n;
    return QPKI_OK;
}

static size_t sw_max_signature_size(void *self)
{
    struct software_signer *s = self;
    return crypto_privkey_max_sig_len(s->key);
}

static qpki_status sw_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                           size_t *sig_len)
{
    struct software_signer *s = self;
    return crypto_sign(s->key, s->alg, tbs, tbs_len, sig, sig_len);
}

/* A key in memory is always available. */
static qpki_status sw_health(void *self)
{
    (void)self;
    return QPKI_OK;
}

static void sw_close(void *self)
{
    struct software_signer *s = self;
    crypto_privkey_free(&s->key);
    qpki_free(s);
}

static const qpki_signer_ops software_ops = {
    .abi_version = QPKI_SIGNER_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_signer_ops),
    .algorithm = sw_algorithm,
    .public_key = sw_public_key,
    .max_signature_size = sw_max_signature_size,
    .sign = sw_sign,
    .health = sw_health,
    .close = sw_close,
};

/* Takes over the reference `key`. */
static qpki_status software_new(crypto_privkey *key, qpki_sig_alg alg, qpki_signer **out)
{
    qpki_key_alg key_alg = crypto_privkey_alg(key);
    if (alg == QPKI_SIG_UNKNOWN)
        alg = qpki_default_sig_alg(key_alg);
    qpki_status rc = QPKI_OK;
    struct software_signer *s = NULL;
    if (!crypto_sig_alg_fits_key(alg, key_alg))
        QPKI_FAIL(QPKI_ERR_UNSUPPORTED_ALGORITHM);
    s = qpki_calloc(1, sizeof(*s));
    if (!s)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    s->alg = alg;
    s->alg_der = crypto_sig_alg_der(alg, &s->alg_len);
    if (!s->alg_der)
        QPKI_FAIL(QPKI_ERR_UNSUPPORTED_ALGORITHM);
    s->key = key;
    rc = qpki_signer_new(&software_ops, s, out);
    if (rc == QPKI_OK)
        return QPKI_OK;
    s->key = NULL;
out:
    qpki_free(s);
    crypto_privkey_free(&key);
    return rc;
}

qpki_status qpki_signer_software_from_bytes(const uint8_t *data, size_t len,
                                            const char *passphrase, qpki_sig_alg alg,
                                            qpki_signer **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(data && len, QPKI_ERR_INVALID_ARG);
    crypto_privkey *key = NULL;
    QPKI_GUARD(crypto_privkey_load(data, len, passphrase, &key));
    return software_new(key, alg, out);
}

qpki_status qpki_signer_software_load_alg(const char *path, const char *passphrase,
                                          qpki_sig_alg alg, qpki_signer **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(path, QPKI_ERR_INVALID_ARG);
    uint8_t *buf = NULL;
    size_t len = 0;
    QPKI_GUARD(crypto_read_key_file(path, &buf, &len));
    qpki_status rc = qpki_signer_software_from_bytes(buf, len, passphrase, alg, out);
    qpki_free_secret(buf, len);
    return rc;
}

qpki_status qpki_signer_software_load(const char *path, const char *passphrase,
                                      qpki_signer **out)
{
    return qpki_signer_software_load_alg(path, passphrase, QPKI_SIG_UNKNOWN, out);
}

qpki_status qpki_signer_software_from_key(const qpki_key *key, qpki_sig_alg alg,
                                          qpki_signer **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(key, QPKI_ERR_INVALID_ARG);
    crypto_privkey *priv = crypto_privkey_ref(qpki_key_privkey(key));
    QPKI_ENSURE(priv, QPKI_ERR_INVALID_ARG);
    return software_new(priv, alg, out);
}
