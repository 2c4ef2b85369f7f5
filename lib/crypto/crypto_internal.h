/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/crypto_internal.h - shared by the files of lib/crypto (never installed).
 *
 * Layout of the key objects, the thread-local RNG, and helpers that more than one
 * crypto file needs.  wolfSSL headers are included here, always after
 * <wolfssl/options.h> so the library's build configuration is seen. */
#ifndef QPKI_CRYPTO_INTERNAL_H
#define QPKI_CRYPTO_INTERNAL_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/ed448.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <pthread.h>
#include <stdatomic.h>

#include <qpki/key.h>

#include "crypto.h"
#include "../internal.h"

/* wolfSSL caps RSA at RSA_MAX_SIZE bits (4096 in Debian 12's build). */
#define CRYPTO_RSA_MIN_BITS 1024u
#define CRYPTO_RSA_MAX_BITS 4096u
#define CRYPTO_EC_MAX_BYTES 66u          /* P-521 field/scalar length */
#define CRYPTO_EC_MAX_POINT (1u + 2u * CRYPTO_EC_MAX_BYTES)
/* Largest key file we read (an RSA-4096 or ML-DSA-87 "both" PEM is < 16 KiB). */
#define CRYPTO_MAX_KEY_FILE ((size_t)1 << 20)
/* PBKDF2 iterations for keys we encrypt (OWASP 2023 for PBKDF2-HMAC-SHA256). */
#define CRYPTO_PBKDF2_DEFAULT_ITERATIONS 600000u
/* Upper bound accepted when reading an encrypted key (denial-of-service cap). */
#define CRYPTO_PBKDF2_MAX_ITERATIONS 10000000u

/* ---- wolfSSL glue ------------------------------------------------------------- */

/* Map a wolfCrypt return code (< 0) to a library status. */
qpki_status crypto_wolf_status(int ret);
/* wolfCrypt curve id and the curve's field size in bytes for an EC key algorithm. */
int crypto_ec_curve_id(qpki_key_alg alg);
size_t crypto_ec_size(qpki_key_alg alg);
der_oid crypto_ec_curve_oid(qpki_key_alg alg);
/* Note that this thread uses lib/crypto, so its per-thread state (DRBG, wolfCrypt
 * ECC cache) is released when it exits.  Cheap after the first call. */
QPKI_MUST_USE qpki_status crypto_thread_enter(void);
/* The thread's own DRBG (created on first use, re-seeded after fork). */
QPKI_MUST_USE qpki_status crypto_thread_rng(WC_RNG **out);
/* wolfCrypt hash type of a hash algorithm. */
int crypto_wc_hash_type(qpki_hash_alg alg);
/* RFC 8017 §9.2 step 2: DigestInfo ::= SEQUENCE { digestAlgorithm (with NULL
 * parameters), digest OCTET STRING } for EMSA-PKCS1-v1_5.  out needs 19 + 64. */
#define CRYPTO_DIGEST_INFO_MAX (19u + CRYPTO_MAX_HASH_LEN)
QPKI_MUST_USE qpki_status crypto_digest_info(qpki_hash_alg alg, const uint8_t *digest,
                                             uint8_t *out, size_t *out_len);

/* A SEC1 / RFC 5480 EC point or scalar in [1, n-1] check: returns true when the
 * uncompressed point (0x04 || X || Y) lies on the curve with X, Y < p. */
QPKI_MUST_USE qpki_status crypto_ec_point_check(qpki_key_alg alg, const uint8_t *point,
                                                size_t len);

/* Encode a SubjectPublicKeyInfo.  raw: EC uncompressed point, Ed25519/Ed448/ML-DSA
 * raw key; for RSA pass the RSAPublicKey DER. */
QPKI_MUST_USE qpki_status crypto_spki_encode(qpki_key_alg alg, const uint8_t *raw, size_t n,
                                             uint8_t **out, size_t *out_len);

/* A der_buf that never reallocates (so secrets are not left behind in freed
 * blocks): cap bytes are allocated up front and are also the hard limit. */
QPKI_MUST_USE qpki_status crypto_secret_buf_init(der_buf *b, size_t cap);
/* Wipe and free a buffer from crypto_secret_buf_init that was not finished. */
void crypto_secret_buf_wipe(der_buf *b);

/* ---- public keys ------------------------------------------------------------ */

struct crypto_pubkey {
    qpki_key_alg alg;
    unsigned bits;
    /* EC: uncompressed point; Ed25519/Ed448/ML-DSA: raw key; RSA: unused. */
    uint8_t *raw;
    size_t raw_len;
    /* RSA: big-endian magnitudes of n and e (point into raw's allocation). */
    const uint8_t *rsa_n;
    size_t rsa_n_len;
    const uint8_t *rsa_e;
    size_t rsa_e_len;
};

/* Build a public key from the parts of an SPKI (used by the private-key code to
 * verify its pairwise-consistency signature). */
QPKI_MUST_USE qpki_status crypto_pubkey_from_raw(qpki_key_alg alg, const uint8_t *raw,
                                                 size_t n, crypto_pubkey **out);

/* ---- private keys ----------------------------------------------------------- */

/* One instantiated wolfSSL key.  wolfSSL key structs carry internal state and are
 * not safe for concurrent use, so a private key owns a small pool of them, each
 * behind its own mutex; signing threads spread over the pool (no global lock). */
typedef struct crypto_key_slot {
    pthread_mutex_t lock;
    bool ready;
    union {
        ecc_key ecc;
        RsaKey rsa;
        ed25519_key ed25519;
        ed448_key ed448;
    } k;
} crypto_key_slot;

struct crypto_privkey {
    _Atomic unsigned long refs;
    qpki_key_alg alg;
    unsigned bits;
    /* Canonical secret: EC: d (field length); RSA: RSAPrivateKey (PKCS#1) DER;
     * Ed25519/Ed448: the seed; ML-DSA: the expanded secret key. */
    uint8_t *secret;
    size_t secret_len;
    /* ML-DSA: the 32-byte seed xi when known (has_seed). */
    uint8_t seed[32];
    bool has_seed;
    /* ML-DSA: the key prepared for signing (mldsa_sign_ctx_new), built once with the
     * key; signing only reads it, so all threads share it. */
    struct mldsa_sign_ctx *mldsa_ctx;
    /* Raw public key: EC uncompressed point; Ed/ML-DSA raw; RSA: RSAPublicKey DER. */
    uint8_t *pub;
    size_t pub_len;
    uint8_t *spki;
    size_t spki_len;
    size_t nslots;
    crypto_key_slot *slots;
};

/* Parsed parts of a private key, before it becomes a crypto_privkey.  Buffers are
 * borrowed from the caller (who wipes them). */
typedef struct crypto_key_parts {
    qpki_key_alg alg;
    const uint8_t *secret;  /* as in struct crypto_privkey.secret */
    size_t secret_len;
    const uint8_t *pub;     /* optional public key found in the file (raw) */
    size_t pub_len;
    const uint8_t *seed;    /* ML-DSA seed, optional */
    qpki_detail *detail;    /* receives what does not hold together (may be NULL) */
} crypto_key_parts;

/* Build and validate a private key from its parts: derives the public key and
 * checks it against a public key given in the file; EC: d in [1, n-1]; RSA: the
 * CRT values against n, d (and a pairwise test); ML-DSA: the expanded key's
 * ranges, t0 and tr, or that the seed gives exactly the expanded key.  A key
 * that does not hold together fails with QPKI_ERR_BAD_KEY and parts->detail
 * naming the part. */
QPKI_MUST_USE qpki_status crypto_privkey_from_parts(const crypto_key_parts *parts,
                                                    crypto_privkey **out);
/* Key size in bits (EC: curve bits; RSA: modulus bits; EdDSA/ML-DSA: raw key bits). */
unsigned crypto_privkey_bits(const crypto_privkey *key);
/* MLDSA_44/65/87 for an ML-DSA key algorithm, 0 otherwise. */
int crypto_mldsa_level(qpki_key_alg alg);
/* Take another reference (crypto_privkey_free drops one). */
crypto_privkey *crypto_privkey_ref(crypto_privkey *key);
/* Import PKCS#1 RSAPrivateKey DER into an initialised RsaKey (two-prime only). */
QPKI_MUST_USE qpki_status crypto_rsa_import_private(const uint8_t *der, size_t n, RsaKey *key,
                                                    der_view *modulus, der_view *exponent);

/* The crypto_privkey behind a public qpki_key (borrowed). */
crypto_privkey *qpki_key_privkey(const qpki_key *key);

/* PKCS#8 export with an explicit PBKDF2 iteration count (tests use small ones). */
QPKI_MUST_USE qpki_status crypto_privkey_export_iter(const crypto_privkey *key, bool pem,
                                                     const char *passphrase,
                                                     uint32_t iterations, uint8_t **out,
                                                     size_t *out_len);

/* Read a whole key file (at most CRYPTO_MAX_KEY_FILE bytes); free the buffer
 * with qpki_free_secret(buf, len). */
QPKI_MUST_USE qpki_status crypto_read_key_file(const char *path, uint8_t **out,
                                               size_t *out_len);

#endif
