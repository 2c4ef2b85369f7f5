/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/key.h - private keys: generate, load, export, write.
 *
 * For `qpki key gen`, CSR creation and tools that manage key files.  Key files
 * are PKCS#8 (RFC 5958), optionally encrypted with PBES2 (PBKDF2-HMAC-SHA256 and
 * AES-256-CBC, RFC 8018) - the format `openssl pkey` reads.  ML-DSA keys are
 * written in the RFC 9881 seed form.  Loading also accepts SEC1 "EC PRIVATE KEY",
 * PKCS#1 "RSA PRIVATE KEY", RFC 9881 expandedKey/both forms and QPKI's
 * "ML-DSA-NN PRIVATE KEY" PEM.
 *
 * Secrets: every buffer the library used for key material is wiped before it is
 * freed; buffers handed to the caller hold secrets too - release them with
 * qpki_key_buffer_free.  Passphrases are never copied or logged.
 *
 * Thread safety: a qpki_key is immutable after creation and may be used from
 * many threads at once. */
#ifndef QPKI_KEY_H
#define QPKI_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_key qpki_key;

typedef enum qpki_key_format {
    QPKI_KEY_FORMAT_PEM = 0, /* "PRIVATE KEY" / "ENCRYPTED PRIVATE KEY" PEM text */
    QPKI_KEY_FORMAT_DER = 1  /* PKCS#8 DER */
} qpki_key_format;

/* Flags for qpki_key_write_file. */
#define QPKI_KEY_WRITE_NO_OVERWRITE 0x1u /* fail with QPKI_ERR_EXISTS if path exists */

/* Parse an algorithm name, case-insensitive: "ecdsa-p256" "ecdsa-p384"
 * "ecdsa-p521" "rsa-2048" "rsa-3072" "rsa-4096" ("rsa" = 2048) "ed25519" "ed448"
 * "ml-dsa-44" "ml-dsa-65" "ml-dsa-87".  *rsa_bits (may be NULL) gets the RSA
 * modulus size, 0 for other algorithms.  QPKI_ERR_PARSE for unknown names. */
QPKI_API qpki_status qpki_key_alg_from_name(const char *name, qpki_key_alg *alg,
                                            unsigned *rsa_bits);

/* Generate a key.  rsa_bits (2048, 3072 or 4096) is used for QPKI_KEY_RSA only. */
QPKI_API qpki_status qpki_key_generate(qpki_key_alg alg, unsigned rsa_bits, qpki_key **out);

/* Load a private key from a file or from bytes (PEM or DER).  passphrase may be
 * NULL; an encrypted key then fails with QPKI_ERR_PASSPHRASE_REQUIRED, a wrong
 * passphrase with QPKI_ERR_BAD_PASSPHRASE. */
QPKI_API qpki_status qpki_key_load(const char *path, const char *passphrase, qpki_key **out);
QPKI_API qpki_status qpki_key_from_bytes(const uint8_t *data, size_t len,
                                         const char *passphrase, qpki_key **out);
/* The same, and on failure error (may be NULL) receives one line that names what
 * is wrong, e.g. "ML-DSA-65 expandedKey: an s1 coefficient lies outside [-4, 4]
 * (FIPS 204 skDecode)", "RSA private key: exponent1 (dP) is not d mod (prime1 -
 * 1)", "EC P-256 private key: publicKey is not d*G for its privateKey d ...".
 * Every key is checked to hold together before it is returned: EC d in [1, n-1]
 * and an embedded public point equal to d*G; RSA n = p*q and the CRT values; an
 * RFC 5958 v2 publicKey equal to the one the private key gives; ML-DSA s1, s2, t0
 * and tr of an expandedKey, or the seed regenerating the expandedKey exactly (the
 * `both` form).  Since QPKI_1.1. */
QPKI_API qpki_status qpki_key_load_err(const char *path, const char *passphrase, char *error,
                                       size_t error_size, qpki_key **out);
QPKI_API qpki_status qpki_key_from_bytes_err(const uint8_t *data, size_t len,
                                             const char *passphrase, char *error,
                                             size_t error_size, qpki_key **out);

QPKI_API void qpki_key_free(qpki_key **key);

QPKI_API qpki_key_alg qpki_key_algorithm(const qpki_key *key);
/* Key size in bits: the curve size (256/384/521), the RSA modulus size; for
 * EdDSA and ML-DSA the size of the raw public key in bits. */
QPKI_API unsigned qpki_key_bits(const qpki_key *key);
/* DER SubjectPublicKeyInfo of the public half (borrowed, valid until the key is
 * freed). */
QPKI_API qpki_status qpki_key_public_key(const qpki_key *key, const uint8_t **spki,
                                         size_t *spki_len);

/* PKCS#8 encoding, encrypted when passphrase is non-NULL.  PEM output is
 * NUL-terminated text (*out_len excludes the NUL).  Free with
 * qpki_key_buffer_free(*out, *out_len). */
QPKI_API qpki_status qpki_key_export(const qpki_key *key, qpki_key_format format,
                                     const char *passphrase, uint8_t **out, size_t *out_len);
/* Wipe and free a buffer from qpki_key_export.  NULL is fine. */
QPKI_API void qpki_key_buffer_free(uint8_t *buf, size_t len);

/* Write the key to path atomically with mode 0600: a temporary file is created
 * in the same directory (O_EXCL, 0600), written, fsync'ed and renamed over path
 * (or linked, with QPKI_KEY_WRITE_NO_OVERWRITE), then the directory is synced. */
QPKI_API qpki_status qpki_key_write_file(const qpki_key *key, const char *path,
                                         qpki_key_format format, const char *passphrase,
                                         unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
