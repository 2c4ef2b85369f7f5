/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/crypto.h - the library's cryptography, private interface.
 *
 * wolfSSL glue (hashes, ECDSA, RSA PKCS#1 v1.5 and PSS, Ed25519, Ed448, RNG, key
 * files) and dispatch to our own ML-DSA (lib/crypto/mldsa/).  Knows no protocol.
 *
 * Thread safety: crypto_pubkey and crypto_privkey objects are immutable after
 * creation and may be used from many threads at once; crypto_sign on one key
 * from several threads scales across cores (no single global lock). */
#ifndef QPKI_CRYPTO_H
#define QPKI_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/types.h>
#include "../der/der.h"
#include "../internal.h"

#define CRYPTO_MAX_HASH_LEN 64

/* ---- hashes ---------------------------------------------------------------- */

size_t crypto_hash_len(qpki_hash_alg alg);            /* 0 for unknown */
QPKI_MUST_USE qpki_status crypto_hash(qpki_hash_alg alg, const uint8_t *in, size_t n,
                                      uint8_t out[CRYPTO_MAX_HASH_LEN]);
der_oid crypto_hash_oid(qpki_hash_alg alg);            /* {NULL,0} for unknown */
qpki_hash_alg crypto_hash_from_oid(der_view oid);      /* QPKI_HASH_NONE if unknown */

/* Incremental hashing (for large inputs); ctx is opaque storage. */
typedef struct crypto_hash_ctx {
    qpki_hash_alg alg;
    _Alignas(16) uint8_t state[512];
} crypto_hash_ctx;
QPKI_MUST_USE qpki_status crypto_hash_init(crypto_hash_ctx *ctx, qpki_hash_alg alg);
QPKI_MUST_USE qpki_status crypto_hash_update(crypto_hash_ctx *ctx, const uint8_t *in, size_t n);
QPKI_MUST_USE qpki_status crypto_hash_final(crypto_hash_ctx *ctx, uint8_t out[CRYPTO_MAX_HASH_LEN]);

/* ---- signature AlgorithmIdentifiers ------------------------------------------ */

/* Parse a whole AlgorithmIdentifier TLV (SEQUENCE { OID, params }).
 * RFC 4055 §5: sha*WithRSAEncryption params MUST be NULL - we accept NULL or
 * absent on input; RFC 5758 §3.2: ecdsa-with-SHA* params MUST be absent;
 * RFC 8410 §3 Ed25519/Ed448 and RFC 9881 ML-DSA: params absent; RSASSA-PSS:
 * full RSASSA-PSS-params matching one of the QPKI_SIG_RSA_PSS_* sets.
 * Unknown OID or parameters -> QPKI_ERR_UNSUPPORTED_ALGORITHM. */
QPKI_MUST_USE qpki_status crypto_sig_alg_parse(der_view alg_id_tlv, qpki_sig_alg *out);
/* Canonical DER AlgorithmIdentifier of alg (static storage; NULL if unknown). RSA
 * PKCS#1 with the NULL parameter, PSS with full parameters. */
const uint8_t *crypto_sig_alg_der(qpki_sig_alg alg, size_t *len);
qpki_hash_alg crypto_sig_alg_hash(qpki_sig_alg alg);  /* NONE for EdDSA/ML-DSA */
/* Key algorithm a signature algorithm needs (RSA for any RSA/PSS). */
bool crypto_sig_alg_fits_key(qpki_sig_alg sig, qpki_key_alg key);
/* A key's default signature algorithm: qpki_default_sig_alg (internal.h). */

/* ---- public keys ------------------------------------------------------------ */

typedef struct crypto_pubkey crypto_pubkey;

/* Parse a SubjectPublicKeyInfo (whole TLV).  QPKI_ERR_UNSUPPORTED_ALGORITHM for
 * algorithms we do not know (the caller may keep the certificate anyway). */
QPKI_MUST_USE qpki_status crypto_pubkey_parse(der_view spki_tlv, crypto_pubkey **out);
void crypto_pubkey_free(crypto_pubkey **key);
qpki_key_alg crypto_pubkey_alg(const crypto_pubkey *key);
unsigned crypto_pubkey_bits(const crypto_pubkey *key);
/* QPKI_OK when sig is a valid signature by key over msg with alg;
 * QPKI_ERR_BAD_SIGNATURE when it is not; QPKI_ERR_UNSUPPORTED_ALGORITHM when alg
 * does not fit the key.  ML-DSA: pure, empty context. */
QPKI_MUST_USE qpki_status crypto_verify(const crypto_pubkey *key, qpki_sig_alg alg,
                                        const uint8_t *msg, size_t msg_len,
                                        const uint8_t *sig, size_t sig_len);
/* Convenience: parse spki and AlgorithmIdentifier, then verify. */
QPKI_MUST_USE qpki_status crypto_verify_spki(der_view spki_tlv, der_view sig_alg_tlv,
                                             const uint8_t *msg, size_t msg_len,
                                             const uint8_t *sig, size_t sig_len);

/* ---- private keys ----------------------------------------------------------- */

typedef struct crypto_privkey crypto_privkey;

/* Load a private key from PEM or DER: PKCS#8 ("PRIVATE KEY"), encrypted PKCS#8
 * ("ENCRYPTED PRIVATE KEY", needs passphrase; wrong one -> QPKI_ERR_BAD_PASSPHRASE),
 * SEC1 ("EC PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"), RFC 9881 ML-DSA PKCS#8
 * (seed, expandedKey or both) and QPKI's "ML-DSA-NN PRIVATE KEY" raw PEM.
 * passphrase may be NULL.  Intermediate copies of secrets are wiped. */
QPKI_MUST_USE qpki_status crypto_privkey_load(const uint8_t *data, size_t len,
                                              const char *passphrase, crypto_privkey **out);
/* The same; a key that does not hold together (or a malformed field) is named in
 * detail (may be NULL). */
QPKI_MUST_USE qpki_status crypto_privkey_load_detail(const uint8_t *data, size_t len,
                                                     const char *passphrase, qpki_detail *detail,
                                                     crypto_privkey **out);
/* Generate a key.  rsa_bits is used for QPKI_KEY_RSA only (2048, 3072, 4096). */
QPKI_MUST_USE qpki_status crypto_privkey_generate(qpki_key_alg alg, unsigned rsa_bits,
                                                  crypto_privkey **out);
void crypto_privkey_free(crypto_privkey **key);   /* wipes */
qpki_key_alg crypto_privkey_alg(const crypto_privkey *key);
/* SubjectPublicKeyInfo DER of the public half (owned by the key, valid until free). */
der_view crypto_privkey_spki(const crypto_privkey *key);
/* Upper bound of a signature's length for any algorithm that fits the key. */
size_t crypto_privkey_max_sig_len(const crypto_privkey *key);
/* Sign msg (the whole message; hashing happens inside).  ECDSA signatures are the
 * DER Ecdsa-Sig-Value; on entry *sig_len is the capacity of sig. */
QPKI_MUST_USE qpki_status crypto_sign(const crypto_privkey *key, qpki_sig_alg alg,
                                      const uint8_t *msg, size_t msg_len,
                                      uint8_t *sig, size_t *sig_len);
/* PKCS#8 encoding (DER, or PEM text when pem is true), encrypted with PBES2
 * (PBKDF2-HMAC-SHA256, AES-256-CBC) when passphrase is non-NULL.  ML-DSA keys are
 * written in the RFC 9881 seed form.  Free with qpki_free_secret(out, len). */
QPKI_MUST_USE qpki_status crypto_privkey_export(const crypto_privkey *key, bool pem,
                                                const char *passphrase, uint8_t **out,
                                                size_t *out_len);

/* ---- randomness ------------------------------------------------------------- */

/* Cryptographically secure random bytes (thread-safe). */
QPKI_MUST_USE qpki_status crypto_random(uint8_t *out, size_t n);

#endif
