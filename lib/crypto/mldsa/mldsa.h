/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa.h - ML-DSA (FIPS 204), private interface.
 *
 * Parameter sets ML-DSA-44, -65, -87.  Sizes per FIPS 204 Table 2:
 *              pk     sk     sig
 *   ML-DSA-44  1312   2560   2420
 *   ML-DSA-65  1952   4032   3309
 *   ML-DSA-87  2592   4896   4627
 * All functions are constant time in secret data.  Return 0 on success, -1 on
 * failure (bad arguments, failed verification), MLDSA_ERR_NOMEM when a work space
 * cannot be allocated (a resource failure, not an invalid signature or key). */
#ifndef QPKI_MLDSA_H
#define QPKI_MLDSA_H

#include <stddef.h>
#include <stdint.h>

typedef enum mldsa_level { MLDSA_44 = 44, MLDSA_65 = 65, MLDSA_87 = 87 } mldsa_level;

#define MLDSA_SEED_BYTES 32
#define MLDSA_RND_BYTES 32
#define MLDSA_MAX_PK_BYTES 2592
#define MLDSA_MAX_SK_BYTES 4896
#define MLDSA_MAX_SIG_BYTES 4627
#define MLDSA_MAX_CTX_BYTES 255

size_t mldsa_pk_bytes(mldsa_level level);   /* 0 for an unknown level */
size_t mldsa_sk_bytes(mldsa_level level);
size_t mldsa_sig_bytes(mldsa_level level);

#define MLDSA_ERR_NOMEM (-2)

/* FIPS 204 Algorithm 6 ML-DSA.KeyGen_internal(xi): pk and sk from a 32-byte seed. */
int mldsa_keygen(mldsa_level level, const uint8_t seed[MLDSA_SEED_BYTES], uint8_t *pk,
                 uint8_t *sk);

/* FIPS 204 Algorithm 2 ML-DSA.Sign (pure, external interface): M' = 0 || |ctx| ||
 * ctx || M.  rnd: 32 random bytes (hedged) or NULL for the deterministic variant
 * (rnd = 0^32).  ctx_len <= 255. */
int mldsa_sign(mldsa_level level, const uint8_t *sk, const uint8_t *msg, size_t msg_len,
               const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, uint8_t *sig);

/* A private key prepared for signing many messages: skDecode, NTT(s1), NTT(s2),
 * NTT(t0) and ExpandA (FIPS 204 Algorithm 7 steps 1-5) done once, which is most of
 * the fixed cost of a signature.  mldsa_sign_with_ctx only reads it, so one context
 * may be used by several threads at once.  It holds secret values: free it with
 * mldsa_sign_ctx_free, which wipes them.  About 28 / 47 / 79 KiB for ML-DSA-44 /
 * 65 / 87. */
typedef struct mldsa_sign_ctx mldsa_sign_ctx;

/* 0 and *out set; -1 for a bad argument, MLDSA_ERR_NOMEM. */
int mldsa_sign_ctx_new(mldsa_level level, const uint8_t *sk, mldsa_sign_ctx **out);
/* Wipes and frees *ctx and sets it to NULL; NULL and *ctx == NULL are fine. */
void mldsa_sign_ctx_free(mldsa_sign_ctx **ctx);

/* The same as mldsa_sign with the key of ctx (byte-identical signatures for the same
 * message, context string and rnd). */
int mldsa_sign_with_ctx(const mldsa_sign_ctx *ctx, const uint8_t *msg, size_t msg_len,
                        const uint8_t *context, size_t context_len, const uint8_t *rnd,
                        uint8_t *sig);

/* FIPS 204 Algorithm 7 ML-DSA.Sign_internal on an already formatted M'
 * (used by the ACVP "internal" interface tests). rnd as above. */
int mldsa_sign_internal(mldsa_level level, const uint8_t *sk, const uint8_t *mprime,
                        size_t mprime_len, const uint8_t *rnd, uint8_t *sig);

/* FIPS 204 Algorithm 3 ML-DSA.Verify (pure, external interface). 0 = valid,
 * MLDSA_ERR_NOMEM, -1 otherwise. */
int mldsa_verify(mldsa_level level, const uint8_t *pk, const uint8_t *msg, size_t msg_len,
                 const uint8_t *ctx, size_t ctx_len, const uint8_t *sig, size_t sig_len);

/* FIPS 204 Algorithm 8 ML-DSA.Verify_internal on M'. 0 = valid. */
int mldsa_verify_internal(mldsa_level level, const uint8_t *pk, const uint8_t *mprime,
                          size_t mprime_len, const uint8_t *sig, size_t sig_len);

/* Recompute pk from an expanded sk (t1 from rho, s1, s2) - lets a key loaded in the
 * expandedKey form produce its SubjectPublicKeyInfo - and check that the sk holds
 * together.  0 on success; else the first part that does not: */
enum {
    MLDSA_SK_S1_RANGE = 1, /* an s1 coefficient outside [-eta, eta] */
    MLDSA_SK_S2_RANGE = 2, /* an s2 coefficient outside [-eta, eta] */
    MLDSA_SK_TR = 3,       /* tr is not H(pk) of the pk recomputed from rho, s1, s2 */
    MLDSA_SK_T0 = 4        /* t0 is not Power2Round's low part of t = A s1 + s2 */
};
/* -1 for a bad argument (or a backend that cannot do it), MLDSA_ERR_NOMEM. */
int mldsa_pk_from_sk(mldsa_level level, const uint8_t *sk, uint8_t *pk);

#endif
