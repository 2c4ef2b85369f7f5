/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/signer.h - pluggable signers.
 *
 * A signer is a vtable (qpki_signer_ops) plus an implementation pointer.  The
 * library ships the software signer (keys from files) and loads others, such as
 * the PKCS#11 plugin, with qpki_signer_plugin_load (qpki/plugin.h).
 *
 * Thread safety: a qpki_signer may be used by many threads at once; every method
 * of an implementation must be safe to call concurrently, except close, which the
 * library calls once when the last reference is dropped. */
#ifndef QPKI_SIGNER_H
#define QPKI_SIGNER_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QPKI_SIGNER_ABI_V1 1u

/* The vtable.  Methods are only ever appended; abi_version and struct_size are
 * checked before any method is called. */
typedef struct qpki_signer_ops {
    uint32_t abi_version;            /* QPKI_SIGNER_ABI_V1 */
    uint32_t struct_size;            /* sizeof(qpki_signer_ops) as the implementation was built */
    /* DER AlgorithmIdentifier of the signatures this signer produces (borrowed,
     * valid until close). */
    qpki_status (*algorithm)(void *self, const uint8_t **alg_der, size_t *alg_len);
    /* DER SubjectPublicKeyInfo of the signing key (borrowed, valid until close). */
    qpki_status (*public_key)(void *self, const uint8_t **spki_der, size_t *spki_len);
    /* Upper bound of a signature's length in bytes. */
    size_t (*max_signature_size)(void *self);
    /* Sign the whole message tbs (the signer hashes as its algorithm requires).
     * On entry *sig_len is the capacity of sig; on success the length written.
     * The signature is the BIT STRING contents as they go on the wire (ECDSA:
     * DER Ecdsa-Sig-Value).  QPKI_ERR_SIGNER_UNAVAILABLE when the key is
     * temporarily unreachable (the responder answers tryLater). */
    qpki_status (*sign)(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                        size_t *sig_len);
    /* QPKI_OK when the signer can sign right now; may be NULL. */
    qpki_status (*health)(void *self);
    /* Release self. */
    void (*close)(void *self);
} qpki_signer_ops;

typedef struct qpki_signer qpki_signer;

/* Wrap an implementation.  Checks abi_version (must be <= QPKI_SIGNER_ABI_V1 and
 * non-zero) and struct_size (must cover every V1 method), and that the required
 * methods are set; on success the signer owns self and calls ops->close when the
 * last reference is released.  On failure self is NOT closed. */
QPKI_API qpki_status qpki_signer_new(const qpki_signer_ops *ops, void *self,
                                     qpki_signer **out);

/* Software signer from a private key file (PEM or DER: PKCS#8, encrypted PKCS#8,
 * SEC1, PKCS#1, ML-DSA forms).  passphrase may be NULL.  The signature algorithm
 * is the key's default (ECDSA with the curve's hash, RSA PKCS#1 v1.5 SHA-256,
 * Ed25519, Ed448, ML-DSA); use qpki_signer_software_load_alg to choose another
 * (e.g. QPKI_SIG_RSA_PSS_SHA256). */
QPKI_API qpki_status qpki_signer_software_load(const char *path, const char *passphrase,
                                               qpki_signer **out);
QPKI_API qpki_status qpki_signer_software_load_alg(const char *path, const char *passphrase,
                                                   qpki_sig_alg alg, qpki_signer **out);
/* Same from bytes in memory. */
QPKI_API qpki_status qpki_signer_software_from_bytes(const uint8_t *data, size_t len,
                                                     const char *passphrase, qpki_sig_alg alg,
                                                     qpki_signer **out);

/* Reference counting: ref returns the same pointer; free drops one reference,
 * accepts NULL and sets *signer = NULL. */
QPKI_API qpki_signer *qpki_signer_ref(qpki_signer *signer);
QPKI_API void qpki_signer_free(qpki_signer **signer);

/* Dispatch to the vtable (argument checks done here). */
QPKI_API qpki_status qpki_signer_algorithm(qpki_signer *signer, const uint8_t **alg_der,
                                           size_t *alg_len);
QPKI_API qpki_status qpki_signer_public_key(qpki_signer *signer, const uint8_t **spki_der,
                                            size_t *spki_len);
QPKI_API size_t qpki_signer_max_signature_size(qpki_signer *signer);
QPKI_API qpki_status qpki_signer_sign(qpki_signer *signer, const uint8_t *tbs, size_t tbs_len,
                                      uint8_t *sig, size_t *sig_len);
/* QPKI_OK when healthy; signers without a health method are always healthy. */
QPKI_API qpki_status qpki_signer_health(qpki_signer *signer);
/* The signature algorithm as an enum (QPKI_SIG_UNKNOWN for ones we do not know). */
QPKI_API qpki_sig_alg qpki_signer_sig_alg(qpki_signer *signer);

#ifdef __cplusplus
}
#endif
#endif
