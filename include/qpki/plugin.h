/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/plugin.h - signer plugins loaded at run time (dlopen), e.g. the PKCS#11
 * plugin qpki-pkcs11.so.
 *
 * Two sides live here:
 *
 *  1. The loader API an application calls (the qpki CLI for `--hsm-config`):
 *     qpki_signer_plugin_load() opens a key and returns an ordinary qpki_signer
 *     (qpki/signer.h); qpki_signer_plugin_generate_key() creates a key pair on
 *     the token (`qpki key gen --hsm-config`).  Applications never link a plugin.
 *
 *  2. The plugin ABI a plugin implements: one exported function named
 *     QPKI_SIGNER_PLUGIN_ENTRY returning a qpki_signer_plugin descriptor.  The
 *     loader checks the descriptor's abi_version and struct_size, calls open(),
 *     then checks the returned qpki_signer_ops the same way before using it.
 *     Structures are only ever extended at the end; a plugin reads a field of a
 *     parameter struct only when params->struct_size covers it.
 *
 * Errors: every function takes an optional (err, errlen) buffer that receives a
 * one-line English explanation ("hsm.yaml:7: unknown key pkcs11.pin"); it never
 * contains a PIN.  Status codes: QPKI_ERR_PLUGIN_LOAD (plugin file missing or not
 * loadable), QPKI_ERR_PLUGIN_SYMBOL (entry symbol missing), QPKI_ERR_PLUGIN_ABI
 * (plugin built for a newer ABI or with a truncated descriptor/vtable), and what
 * the plugin reports (QPKI_ERR_PARSE for a bad hsm.yaml, QPKI_ERR_PIN,
 * QPKI_ERR_NOT_FOUND for an unknown token or key, ...).
 *
 * Thread safety: the load/generate functions may be called from several threads;
 * the signer they return follows qpki/signer.h (safe for concurrent use). */
#ifndef QPKI_PLUGIN_H
#define QPKI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/signer.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- loader API -------------------------------------------------------------- */

/* File name of the PKCS#11 plugin inside the plugin directory. */
#define QPKI_PLUGIN_PKCS11_NAME "qpki-pkcs11.so"
/* Environment variable that overrides the built-in plugin directory (ignored in
 * set-uid/set-gid processes). */
#define QPKI_PLUGIN_DIR_ENV "QPKI_PLUGIN_DIR"
/* Longest CKA_ID accepted, in bytes. */
#define QPKI_PLUGIN_MAX_KEY_ID 128

/* Open a signing key through a plugin.
 *  plugin_path      the plugin file; NULL = $QPKI_PLUGIN_DIR/qpki-pkcs11.so, or the
 *                   library's built-in plugin directory when the variable is unset.
 *  hsm_config_path  the plugin's configuration (hsm.yaml for PKCS#11).
 *  key_label        CKA_LABEL of the private key, or NULL.
 *  key_id_hex       CKA_ID in hex ("0102", "0x0102", "01:02"), or NULL.  At least
 *                   one of key_label and key_id_hex is required; with both, the
 *                   key must match both.
 *  cert_spki        DER SubjectPublicKeyInfo of the certificate the key signs for
 *                   (optional, spki_len 0).  When given it is the signer's public
 *                   key, and it must equal the token's public key when the token
 *                   exposes one (else QPKI_ERR_KEY_MISMATCH).
 * The signature algorithm is the key's default (ECDSA with the curve's hash, RSA
 * PKCS#1 v1.5 SHA-256, Ed25519, Ed448, ML-DSA-nn).  The PIN is read by the plugin
 * from the environment variable its configuration names (pkcs11.pin_env,
 * default HSM_PIN); keep that variable set while the signer lives, since the
 * plugin reads it again to log in after a lost token comes back.  PKCS#11 login
 * state belongs to the process: a key opened on a token this process is already
 * logged in to (through another signer) is not checked against the PIN again.
 *
 * The signer signs concurrently on a pool of sessions.  When the token, a session
 * or the login is lost, sign() returns QPKI_ERR_SIGNER_UNAVAILABLE and health()
 * reports it until the plugin has reconnected (retried with backoff, 50 ms
 * doubling to 5 s, on the calling threads) and signed again; a reconnected token
 * whose key differs from the one first opened stays unavailable. */
QPKI_API qpki_status qpki_signer_plugin_load(const char *plugin_path, const char *hsm_config_path,
                                             const char *key_label, const char *key_id_hex,
                                             const uint8_t *cert_spki, size_t spki_len,
                                             qpki_signer **out, char *err, size_t errlen);
/* Same with an explicit signature algorithm (e.g. QPKI_SIG_RSA_PSS_SHA256 for an
 * RSA key); QPKI_SIG_UNKNOWN means the key's default.  An algorithm that does
 * not fit the key, or that the token has no mechanism for, fails with
 * QPKI_ERR_UNSUPPORTED_ALGORITHM. */
QPKI_API qpki_status qpki_signer_plugin_load_alg(const char *plugin_path,
                                                 const char *hsm_config_path,
                                                 const char *key_label, const char *key_id_hex,
                                                 const uint8_t *cert_spki, size_t spki_len,
                                                 qpki_sig_alg alg, qpki_signer **out, char *err,
                                                 size_t errlen);

/* Generate a key pair on the token (persistent, private key sensitive and not
 * extractable) labelled key_label (required) with CKA_ID key_id_hex (optional).
 * alg: QPKI_KEY_EC_P256/P384/P521, QPKI_KEY_RSA (rsa_bits 2048..8192, multiple
 * of 8; 0 = 3072), QPKI_KEY_ED25519, QPKI_KEY_ED448, QPKI_KEY_ML_DSA_44/65/87
 * (PKCS#11 3.2 tokens only).  Refuses with QPKI_ERR_EXISTS when a private key
 * with that label (and id) is already on the token.  On success *spki_der is the
 * new public key's SubjectPublicKeyInfo (free with qpki_free). */
QPKI_API qpki_status qpki_signer_plugin_generate_key(const char *plugin_path,
                                                     const char *hsm_config_path,
                                                     const char *key_label,
                                                     const char *key_id_hex, qpki_key_alg alg,
                                                     unsigned rsa_bits, uint8_t **spki_der,
                                                     size_t *spki_len, char *err, size_t errlen);

/* Check that the plugin file at path loads: dlopen, the entry symbol, the
 * descriptor's ABI version and size (no key is opened, no configuration read).
 * QPKI_OK: info receives "signer plugin NAME VERSION" (or, for a status
 * database plugin of qpki/db_plugin.h, "status database plugin NAME VERSION").  Otherwise the status of
 * qpki_signer_plugin_load (QPKI_ERR_PLUGIN_LOAD, _SYMBOL, _ABI) and info receives
 * the reason.  info may be NULL when infolen is 0.  The plugin is unloaded again. */
QPKI_API qpki_status qpki_plugin_probe(const char *path, char *info, size_t infolen);

/* ---- plugin ABI (what a plugin implements) ------------------------------------ */

/* Name of the one symbol a plugin exports: a qpki_signer_plugin_entry_fn. */
#define QPKI_SIGNER_PLUGIN_ENTRY "qpki_signer_plugin_v1"
#define QPKI_PLUGIN_ABI_V1 1u

/* Which key to open.  All pointers are borrowed for the duration of open(). */
typedef struct qpki_plugin_key_params {
    uint32_t struct_size;          /* sizeof(qpki_plugin_key_params) of the caller */
    const char *config_path;       /* plugin configuration file (hsm.yaml) */
    const char *key_label;         /* CKA_LABEL or NULL */
    const uint8_t *key_id;         /* CKA_ID bytes or NULL */
    size_t key_id_len;
    const uint8_t *cert_spki;      /* expected SubjectPublicKeyInfo or NULL */
    size_t cert_spki_len;
    qpki_sig_alg sig_alg;          /* QPKI_SIG_UNKNOWN = the key's default */
} qpki_plugin_key_params;

/* Which key to create. */
typedef struct qpki_plugin_keygen_params {
    uint32_t struct_size;          /* sizeof(qpki_plugin_keygen_params) of the caller */
    const char *config_path;
    const char *key_label;         /* required */
    const uint8_t *key_id;         /* optional */
    size_t key_id_len;
    qpki_key_alg key_alg;
    unsigned rsa_bits;             /* QPKI_KEY_RSA only; 0 = plugin default */
} qpki_plugin_keygen_params;

/* The descriptor the entry function returns (static storage in the plugin). */
typedef struct qpki_signer_plugin {
    uint32_t abi_version;          /* QPKI_PLUGIN_ABI_V1 */
    uint32_t struct_size;          /* sizeof(qpki_signer_plugin) as the plugin was built */
    const char *name;              /* "pkcs11" */
    const char *version;           /* plugin version text */
    /* Open a key: on success *ops (static, QPKI_SIGNER_ABI_V1) and *self, which
     * the caller releases with (*ops)->close(*self).  On failure a message in err
     * (may be NULL when errlen is 0) and nothing to release. */
    qpki_status (*open)(const qpki_plugin_key_params *params, const qpki_signer_ops **ops,
                        void **self, char *err, size_t errlen);
    /* Create a key pair; may be NULL (QPKI_ERR_UNSUPPORTED).  On entry *spki_len
     * is the capacity of spki; on success the DER SubjectPublicKeyInfo length. */
    qpki_status (*generate_key)(const qpki_plugin_keygen_params *params, uint8_t *spki,
                                size_t *spki_len, char *err, size_t errlen);
} qpki_signer_plugin;

/* Type of the entry symbol.  Returns NULL only if the plugin cannot work at all. */
typedef const qpki_signer_plugin *(*qpki_signer_plugin_entry_fn)(void);

/* Capacity a generate_key caller must offer: large enough for an ML-DSA-87
 * or RSA-8192 SubjectPublicKeyInfo. */
#define QPKI_PLUGIN_MAX_SPKI 4096

#ifdef __cplusplus
}
#endif
#endif
