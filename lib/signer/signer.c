/* SPDX-License-Identifier: Apache-2.0 */
/* lib/signer/signer.c - the signer object: vtable checks, dispatch, reference
 * counting.
 *
 * qpki_signer_new copies the part of the caller's vtable it knows (never reading
 * past struct_size), so a plugin built against an older header is safe as long as
 * it provides the V1 methods.  References are counted with atomics; close runs
 * once, in the thread that drops the last reference. */
#include <qpki/signer.h>

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "crypto/crypto.h"
#include "internal.h"

struct qpki_signer {
    _Atomic unsigned long refs;
    qpki_signer_ops ops;
    void *self;
};

/* Bytes of qpki_signer_ops that a V1 implementation must provide: up to and
 * including close, the last V1 method. */
#define SIGNER_OPS_V1_SIZE (offsetof(qpki_signer_ops, close) + sizeof(((qpki_signer_ops *)0)->close))

qpki_status qpki_signer_new(const qpki_signer_ops *ops, void *self, qpki_signer **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(ops, QPKI_ERR_INVALID_ARG);
    /* Checked before anything else is read from the vtable. */
    QPKI_ENSURE(ops->abi_version != 0 && ops->abi_version <= QPKI_SIGNER_ABI_V1,
                QPKI_ERR_PLUGIN_ABI);
    QPKI_ENSURE(ops->struct_size >= SIGNER_OPS_V1_SIZE, QPKI_ERR_PLUGIN_ABI);
    /* health may be NULL; every other V1 method is required. */
    QPKI_ENSURE(ops->algorithm && ops->public_key && ops->max_signature_size && ops->sign &&
                    ops->close,
                QPKI_ERR_PLUGIN_ABI);
    qpki_signer *s = qpki_calloc(1, sizeof(*s));
    QPKI_ENSURE(s, QPKI_ERR_NOMEM);
    size_t n = ops->struct_size < sizeof(s->ops) ? ops->struct_size : sizeof(s->ops);
    memcpy(&s->ops, ops, n);
    s->ops.struct_size = (uint32_t)sizeof(s->ops);
    s->self = self;
    atomic_init(&s->refs, 1);
    *out = s;
    return QPKI_OK;
}

qpki_signer *qpki_signer_ref(qpki_signer *signer)
{
    if (signer)
        atomic_fetch_add_explicit(&signer->refs, 1, memory_order_relaxed);
    return signer;
}

void qpki_signer_free(qpki_signer **signer)
{
    if (!signer || !*signer)
        return;
    qpki_signer *s = *signer;
    *signer = NULL;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    s->ops.close(s->self);
    qpki_free(s);
}

qpki_status qpki_signer_algorithm(qpki_signer *signer, const uint8_t **alg_der, size_t *alg_len)
{
    QPKI_ENSURE(signer && alg_der && alg_len, QPKI_ERR_INVALID_ARG);
    *alg_der = NULL;
    *alg_len = 0;
    qpki_status rc = signer->ops.algorithm(signer->self, alg_der, alg_len);
    if (rc == QPKI_OK && (!*alg_der || *alg_len == 0))
        rc = QPKI_ERR_INTERNAL;  /* an implementation that reports nothing */
    return rc;
}

qpki_status qpki_signer_public_key(qpki_signer *signer, const uint8_t **spki_der,
                                   size_t *spki_len)
{
    QPKI_ENSURE(signer && spki_der && spki_len, QPKI_ERR_INVALID_ARG);
    *spki_der = NULL;
    *spki_len = 0;
    qpki_status rc = signer->ops.public_key(signer->self, spki_der, spki_len);
    if (rc == QPKI_OK && (!*spki_der || *spki_len == 0))
        rc = QPKI_ERR_INTERNAL;
    return rc;
}

size_t qpki_signer_max_signature_size(qpki_signer *signer)
{
    return signer ? signer->ops.max_signature_size(signer->self) : 0;
}

qpki_status qpki_signer_sign(qpki_signer *signer, const uint8_t *tbs, size_t tbs_len,
                             uint8_t *sig, size_t *sig_len)
{
    QPKI_ENSURE(signer && (tbs || tbs_len == 0) && sig && sig_len, QPKI_ERR_INVALID_ARG);
    size_t cap = *sig_len;
    qpki_status rc = signer->ops.sign(signer->self, tbs, tbs_len, sig, sig_len);
    /* Never hand on a length past the caller's buffer, whatever the plugin says. */
    if (rc == QPKI_OK && (*sig_len == 0 || *sig_len > cap))
        rc = QPKI_ERR_INTERNAL;
    return rc;
}

qpki_status qpki_signer_health(qpki_signer *signer)
{
    QPKI_ENSURE(signer, QPKI_ERR_INVALID_ARG);
    return signer->ops.health ? signer->ops.health(signer->self) : QPKI_OK;
}

qpki_sig_alg qpki_signer_sig_alg(qpki_signer *signer)
{
    const uint8_t *der = NULL;
    size_t len = 0;
    qpki_sig_alg alg = QPKI_SIG_UNKNOWN;
    if (qpki_signer_algorithm(signer, &der, &len) != QPKI_OK)
        return QPKI_SIG_UNKNOWN;
    if (crypto_sig_alg_parse((der_view){der, len}, &alg) != QPKI_OK)
        return QPKI_SIG_UNKNOWN;
    return alg;
}
