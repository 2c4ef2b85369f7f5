/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa_internal.h - private pieces of the builtin ML-DSA (FIPS 204):
 * parameter sets, polynomial arithmetic, sampling, encodings.  Used by mldsa.c,
 * the unit tests and the constant-time test; never installed. */
#ifndef QPKI_MLDSA_INTERNAL_H
#define QPKI_MLDSA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mldsa/mldsa.h"

/* FIPS 204 §4 Table 1 / §2.3: q = 2^23 - 2^13 + 1, n = 256, d = 13. */
#define MLDSA_Q 8380417
#define MLDSA_N 256
#define MLDSA_D 13
#define MLDSA_K_MAX 8
#define MLDSA_L_MAX 7
#define MLDSA_CTILDE_MAX 64
#define MLDSA_TR_BYTES 64
#define MLDSA_MU_BYTES 64

/* Constant-time verification hook.  The library never branches on, or indexes
 * memory with, secret data except on values passed through MLDSA_DECLASSIFY, each
 * with its FIPS 204 justification at the call site.  tests/ct/ builds these sources
 * with QPKI_MLDSA_CT_TEST, which turns the hook into a valgrind client request that
 * marks the bytes as defined (public); memcheck then reports any other use of the
 * (poisoned) secret seed, key or rnd in a branch or an address. */
#ifdef QPKI_MLDSA_CT_TEST
#include <valgrind/memcheck.h>
#define MLDSA_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define MLDSA_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/* FIPS 204 Table 1 (parameter sets) and Table 2 (sizes). */
typedef struct mldsa_params {
    mldsa_level level;
    unsigned k, l;          /* dimensions of A */
    unsigned eta;           /* private key range */
    unsigned tau;           /* # of +-1's in c */
    unsigned beta;          /* tau * eta */
    unsigned omega;         /* max # of 1's in the hint h */
    int32_t gamma1;         /* coefficient range of y: 2^17 or 2^19 */
    unsigned gamma1_bits;   /* 1 + bitlen(gamma1 - 1): 18 or 20 */
    int32_t gamma2;         /* low-order rounding range: (q-1)/88 or (q-1)/32 */
    unsigned ctilde_bytes;  /* lambda / 4: 32, 48, 64 */
    unsigned eta_bits;      /* bitlen(2 eta): 3 or 4 */
    unsigned w1_bits;       /* bitlen((q-1)/(2 gamma2) - 1): 6 or 4 */
    size_t pk_bytes, sk_bytes, sig_bytes;
} mldsa_params;

/* NULL for an unknown level. */
const mldsa_params *mldsa_params_get(mldsa_level level);

typedef struct mldsa_poly {
    int32_t c[MLDSA_N];
} mldsa_poly;

/* Arithmetic mod q (Montgomery, R = 2^32). */
int32_t mldsa_montgomery_reduce(int64_t a);
void mldsa_poly_ntt(mldsa_poly *p);                    /* FIPS 204 Algorithm 41 */
void mldsa_poly_ntt_from(mldsa_poly *r, const mldsa_poly *a); /* r <- NTT(a), a kept */
void mldsa_poly_invntt(mldsa_poly *p);                 /* Algorithm 42, on products */
void mldsa_poly_pointwise(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
void mldsa_poly_pointwise_acc(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
/* Portable: r = NTT^-1(sum_{j<n} a[j] o b[j]) for |a| < q, |b| < 9q, n <= 7 (one
 * Montgomery reduction per coefficient, the products fed to the first pass). */
void mldsa_poly_dot_invntt(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n);
/* r = NTT^-1(a o b) (both paths); |a|, |b| < 9q. */
void mldsa_poly_product_invntt(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);

/* Arithmetic mod q used per coefficient (inline). */
/* a - round(a / 2^23) q.  Since q = 2^23 - 2^13 + 1 the result lies in
 * [-6283009, 6283008] and equals a mod q.  (>> on a negative int32 is an
 * arithmetic shift with gcc and clang, which this code relies on.) */
static inline int32_t mldsa_reduce32(int32_t a)
{
    int32_t t = (a + (1 << 22)) >> 23;
    return a - t * MLDSA_Q;
}

/* -> [0, q) */
static inline int32_t mldsa_freeze(int32_t a)
{
    a = mldsa_reduce32(a);
    return a + ((a >> 31) & MLDSA_Q);
}

/* FIPS 204 Algorithm 36 Decompose(r):
 *   r+ <- r mod q; r0 <- r+ mod+- (2 gamma2)
 *   if r+ - r0 = q - 1 then r1 <- 0; r0 <- r0 - 1
 *   else r1 <- (r+ - r0) / (2 gamma2)
 * For r in [0, q): r1 = floor((r + gamma2 - 1) / (2 gamma2)) picks r0 in
 * (-gamma2, gamma2]; the division is a multiply and shift (exact for all
 * r < q + gamma2; checked exhaustively in test_mldsa).  The special case
 * r1 = (q-1)/(2 gamma2) is handled with a mask. */
static inline void mldsa_decompose(int32_t gamma2, int32_t r, int32_t *r1, int32_t *r0)
{
    uint64_t x = (uint64_t)(uint32_t)(r + gamma2 - 1);
    int32_t hi, m;
    if (gamma2 == (MLDSA_Q - 1) / 88) { /* public parameter, not data */
        hi = (int32_t)((x * 2886403u) >> 39);
        m = 44;
    } else {
        hi = (int32_t)((x * 8396809u) >> 42);
        m = 16;
    }
    int32_t lo = r - hi * 2 * gamma2;
    int32_t wrap = (m - 1 - hi) >> 31; /* -1 iff hi == m, i.e. r+ - r0 = q - 1 */
    *r1 = hi & ~wrap;
    *r0 = lo + wrap;
}

/* Short loops with a constant trip count are unrolled at -O2 too (gcc unrolls them
 * completely only at -O3): the bit positions in pack / unpack, the sums of
 * MatrixVectorNTT and the butterflies of the AVX2 NTT passes (whose 8 vectors
 * then stay in registers) become straight-line code. */
#if defined(__clang__)
#define MLDSA_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define MLDSA_UNROLL _Pragma("GCC unroll 8")
#else
#define MLDSA_UNROLL
#endif

/* AVX2 path (mldsa_avx2.c), chosen at run time with __builtin_cpu_supports. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MLDSA_HAVE_AVX2 1
#else
#define MLDSA_HAVE_AVX2 0
#endif
void mldsa_poly_ntt_avx2(int32_t *a, const int32_t *in); /* a <- NTT(in), in may be a */
void mldsa_poly_invntt_avx2(int32_t *a);
void mldsa_poly_pointwise_avx2(int32_t *r, const int32_t *a, const int32_t *b, int acc);
/* r = NTT^-1(sum over j < n of a[j] o b[j] - c o d), c and d optional (NULL): a row
 * of MatrixVectorNTT (and verification's A z - c t1) with one Montgomery reduction
 * per coefficient, fed to the inverse transform.  |a|, |b|, |c|, |d| < 9q, n <= 7. */
void mldsa_poly_dot_invntt_avx2(int32_t *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n,
                                const mldsa_poly *c, const mldsa_poly *d);
/* AVX2 element-wise steps of the signing loop (see the mldsa_poly_ versions). */
void mldsa_avx2_decompose(int32_t *w0, int32_t *w1, int32_t gamma2);
uint32_t mldsa_avx2_make_z(int32_t *z, const int32_t *y, const int32_t *cs1, int32_t bound);
uint32_t mldsa_avx2_low_check(int32_t *w0, const int32_t *cs2, int32_t bound);
uint32_t mldsa_avx2_make_hint(int32_t *h, const int32_t *u, const int32_t *ct0, const int32_t *w1,
                              int32_t gamma2, uint32_t *ones);
/* BitUnpack for 3, 4, 10, 13, 18 or 20 bits (returns 1), else 0 (not done); SimpleBitPack
 * of w1 with 4 or 6 bits. */
int mldsa_avx2_unpack(int32_t *c, const uint8_t *in, unsigned bits, int32_t off);
void mldsa_avx2_pack_w1(uint8_t *out, const int32_t *w1, unsigned bits);
/* SampleInBall's placement of the tau signs (mldsa_poly.c): c_i <- c_j; c_j <- +-1
 * for i = 256 - tau + t, j = js[t], sign bit t of signs. */
void mldsa_avx2_place_signs(int32_t *c, const uint8_t *js, uint64_t signs, unsigned tau);
/* Verification step 10 (UseHint) on one row, w in (-q, q), h in {0, 1}. */
void mldsa_avx2_use_hint(int32_t *w1, const int32_t *w, const int32_t *h, int32_t gamma2);
/* 4-way SHAKE (mldsa_keccakx4.c): four RejNTTPoly / ExpandMask rows at once. */
void mldsa_rej_ntt_poly_x4(mldsa_poly *const a[4], const uint8_t rho[32], const uint8_t s[4],
                           const uint8_t r[4]);
void mldsa_expand_mask_x4(mldsa_poly *const y[4], const uint8_t rhopp[64], const uint16_t nonce[4],
                          const struct mldsa_params *p);
/* Test hook: 0 forces the portable code, 1 (default) uses AVX2 when the CPU has it.
 * Not thread-safe: call before any concurrent use. */
void mldsa_set_avx2(int enable);
int mldsa_avx2_active(void);

/* Element-wise steps of the signing loop (FIPS 204 Algorithm 7, mldsa_poly.c; both
 * paths).  Each norm check returns 1 iff some coefficient is too big.
 *  decompose:  w0 = w in (-q, q) -> (w0, w1) = (LowBits, HighBits) of w mod q (step 13)
 *  make_z:     z <- y + <<cs1>>; ||z|| >= bound (steps 20, 23)
 *  low_check:  u <- w0 - <<cs2>> in place; ||u|| >= bound, the same test as
 *              ||LowBits(w - cs2)|| >= bound for bound = gamma2 - beta (steps 21, 23)
 *  make_hint:  h <- MakeHint(-ct0, w - cs2 + ct0) from u, ct0 and w1; ||ct0|| >=
 *              gamma2; *ones += number of 1's (steps 25-27) */
void mldsa_poly_decompose(mldsa_poly *w0, mldsa_poly *w1, int32_t gamma2);
uint32_t mldsa_poly_make_z(mldsa_poly *z, const mldsa_poly *y, const mldsa_poly *cs1, int32_t bound);
uint32_t mldsa_poly_low_check(mldsa_poly *w0, const mldsa_poly *cs2, int32_t bound);
uint32_t mldsa_poly_make_hint(mldsa_poly *h, const mldsa_poly *u, const mldsa_poly *ct0,
                              const mldsa_poly *w1, int32_t gamma2, uint32_t *ones);

/* Algorithm 40 UseHint(h, r). */
int32_t mldsa_use_hint(int32_t gamma2, int32_t h, int32_t r);

/* Sampling (Algorithms 29-34). */
void mldsa_rej_ntt_poly(mldsa_poly *a, const uint8_t rho[32], uint8_t s, uint8_t r);
void mldsa_rej_bounded_poly(mldsa_poly *a, const uint8_t rhop[64], uint16_t nonce, unsigned eta);
void mldsa_expand_mask_poly(mldsa_poly *y, const uint8_t rhopp[64], uint16_t nonce,
                            const mldsa_params *p);
void mldsa_sample_in_ball(mldsa_poly *c, const uint8_t *ctilde, size_t ctilde_len, unsigned tau);

/* BitPack / BitUnpack (Algorithms 16-19): coefficients b - w_i in `bits` bits,
 * little-endian bit order; SimpleBitPack is b = 0 with non-negative inputs. */
void mldsa_pack(uint8_t *out, const mldsa_poly *p, unsigned bits, int32_t b);
void mldsa_unpack(mldsa_poly *p, const uint8_t *in, unsigned bits, int32_t b); /* 3 <= bits <= 24 */

/* ML-DSA.Sign_internal / Verify_internal from step 7 on: mu given directly (the
 * ACVP "externalMu" interface; also used by mldsa_sign_internal). */
int mldsa_sign_mu(mldsa_level level, const uint8_t *sk, const uint8_t mu[MLDSA_MU_BYTES],
                  const uint8_t *rnd, uint8_t *sig);
int mldsa_sign_ctx_mu(const mldsa_sign_ctx *ctx, const uint8_t mu[MLDSA_MU_BYTES],
                      const uint8_t *rnd, uint8_t *sig);
int mldsa_verify_mu(mldsa_level level, const uint8_t *pk, const uint8_t mu[MLDSA_MU_BYTES],
                    const uint8_t *sig, size_t sig_len);

#endif
