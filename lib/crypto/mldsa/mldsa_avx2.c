/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa_avx2.c - AVX2 versions of the ML-DSA NTT (FIPS 204
 * Algorithm 41), inverse NTT (Algorithm 42) and pointwise products, selected at run
 * time when the CPU has AVX2 (mldsa_poly.c).  They compute exactly the same values
 * as the portable code (test_mldsa runs the ACVP vectors on both paths).
 *
 * Eight coefficients per 256-bit vector; a polynomial is 32 vectors.  Montgomery
 * multiplication of 8 lanes uses vpmuldq on the even and the odd lanes
 * separately: t = (a b mod 2^32) q^-1 mod 2^32, r = (a b - t q) / 2^32.
 * The NTT levels with len >= 8 pair whole vectors; for len = 4, 2, 1 each block of
 * 8 vectors is transposed (8x8) so that those butterflies also pair whole vectors,
 * with one zeta per lane (tables below), and transposed back.  No data-dependent
 * branch or index: constant time like the portable code. */
#include "crypto/mldsa/mldsa_internal.h"
#include "safety.h"

#if MLDSA_HAVE_AVX2
#include <immintrin.h>
#include <string.h>

#define Q MLDSA_Q
#define QINV 58728449
#define AVX2 __attribute__((target("avx2")))

/* Zeta tables (mldsa_avx2_zetas.h): the values of zetas[] in mldsa_poly.c (same
 * Montgomery form), broadcast for the levels with len >= 8 and one per lane for
 * len = 4, 2, 1 in the transposed layout described below, each with its
 * precomputed Montgomery factor zeta q^-1 mod 2^32 (the _q tables). */
#include "mldsa_avx2_zetas.h"

/* a z 2^-32 mod q for 8 lanes, given zq = z q^-1 mod 2^32: t = a zq mod 2^32 (one
 * vpmulld for all lanes), then for each of the even and the odd lanes (vpmuldq uses
 * the low half of each 64-bit lane) a z - t q, which is divisible by 2^32; its high
 * half is the result.  The chain is two multiplications long.  |a| < 2^31 and
 * |z| < q/2 give a result in (-q, q), the value mont() computes. */
static inline AVX2 __m256i mulz(__m256i a, __m256i z, __m256i zq)
{
    const __m256i qv = _mm256_set1_epi32(Q);
    __m256i ao = _mm256_castps_si256(_mm256_movehdup_ps(_mm256_castsi256_ps(a)));
    __m256i zo = _mm256_castps_si256(_mm256_movehdup_ps(_mm256_castsi256_ps(z)));
    __m256i t = _mm256_mullo_epi32(a, zq);
    __m256i to = _mm256_castps_si256(_mm256_movehdup_ps(_mm256_castsi256_ps(t)));
    __m256i pe = _mm256_sub_epi64(_mm256_mul_epi32(a, z), _mm256_mul_epi32(t, qv));
    __m256i po = _mm256_sub_epi64(_mm256_mul_epi32(ao, zo), _mm256_mul_epi32(to, qv));
    return _mm256_blend_epi32(_mm256_castps_si256(_mm256_movehdup_ps(_mm256_castsi256_ps(pe))), po,
                              0xAA);
}

/* Montgomery reduction of 64-bit sums held in the even (se) and odd (so) lanes:
 * (s - t q) / 2^32 with t = s q^-1 mod 2^32, as mont() in mldsa_poly.c. */
static inline AVX2 __m256i reduce64(__m256i se, __m256i so)
{
    const __m256i qv = _mm256_set1_epi32(Q), qinv = _mm256_set1_epi32(QINV);
    se = _mm256_sub_epi64(se, _mm256_mul_epi32(_mm256_mul_epi32(se, qinv), qv));
    so = _mm256_sub_epi64(so, _mm256_mul_epi32(_mm256_mul_epi32(so, qinv), qv));
    return _mm256_blend_epi32(_mm256_castps_si256(_mm256_movehdup_ps(_mm256_castsi256_ps(se))), so,
                              0xAA);
}

/* r[i] lane j <-> r[j] lane i. */
static inline AVX2 void transpose8(__m256i *r)
{
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define LDA(p) _mm256_load_si256((const __m256i *)(const void *)(p))
#define BC(t, m) _mm256_set1_epi32((t)[m])

/* The 8 vectors a pass works on: vectors o, o + 4, ..., o + 28 (stride) or the block
 * of vectors 8b .. 8b + 7. */
static inline AVX2 void load8(__m256i *v, const int32_t *a, unsigned first, unsigned step)
{
    MLDSA_UNROLL
    for (unsigned j = 0; j < 8; j++)
        v[j] = LD(a + 8 * (first + step * j));
}

static inline AVX2 void store8(int32_t *a, const __m256i *v, unsigned first, unsigned step)
{
    MLDSA_UNROLL
    for (unsigned j = 0; j < 8; j++)
        ST(a + 8 * (first + step * j), v[j]);
}

/* Forward butterfly: (x, y) <- (x + z y, x - z y). */
#define FWD(x, y, z, zq)                          \
    do {                                          \
        __m256i t_ = mulz((y), (z), (zq));        \
        (y) = _mm256_sub_epi32((x), t_);          \
        (x) = _mm256_add_epi32((x), t_);          \
    } while (0)

/* Inverse butterfly: (x, y) <- (x + y, z (x - y)). */
#define INV(x, y, z, zq)                                          \
    do {                                                          \
        __m256i t_ = (x);                                         \
        (x) = _mm256_add_epi32(t_, (y));                          \
        (y) = mulz(_mm256_sub_epi32(t_, (y)), (z), (zq));         \
    } while (0)

/* Levels len = 4, 2, 1 of the forward transform on a block of 8 vectors (64
 * coefficients) b: after an 8x8 transposition vector r holds coefficients 8i + r,
 * so these butterflies also pair whole vectors, with one zeta per lane. */
static inline AVX2 void ntt_small_levels(__m256i *t, unsigned b)
{
    transpose8(t);
    const __m256i z4 = LDA(zeta_fwd4 + 8 * b), z4q = LDA(zeta_fwd4_q + 8 * b);
    MLDSA_UNROLL
    for (unsigned c = 0; c < 4; c++)
        FWD(t[c], t[c + 4], z4, z4q);
    MLDSA_UNROLL
    for (unsigned h = 0; h < 2; h++) {
        const __m256i z2 = LDA(zeta_fwd2 + 16 * b + 8 * h), z2q = LDA(zeta_fwd2_q + 16 * b + 8 * h);
        FWD(t[4 * h], t[4 * h + 2], z2, z2q);
        FWD(t[4 * h + 1], t[4 * h + 3], z2, z2q);
    }
    MLDSA_UNROLL
    for (unsigned k = 0; k < 4; k++) {
        const __m256i z1 = LDA(zeta_fwd1 + 32 * b + 8 * k), z1q = LDA(zeta_fwd1_q + 32 * b + 8 * k);
        FWD(t[2 * k], t[2 * k + 1], z1, z1q);
    }
    transpose8(t);
}

/* FIPS 204 Algorithm 41 NTT (see mldsa_poly_ntt), in two passes over the polynomial
 * with 8 vectors in registers each time:
 *  1. levels len = 128, 64, 32 on the vectors o, o + 4, ..., o + 28 (o < 4): vector
 *     o + 4j holds coefficients 8(o + 4j) .. + 7, and these 8 vectors pair only
 *     among themselves on those levels;
 *  2. levels len = 16, 8 (whole vectors) and 4, 2, 1 (transposed) on each block of
 *     8 consecutive vectors.
 * The butterflies are those of the scalar code, in another order: the same values.
 * The input is read from in (which may be a) and the output written to a. */
AVX2 void mldsa_poly_ntt_avx2(int32_t *a, const int32_t *in)
{
    for (unsigned o = 0; o < 4; o++) {
        __m256i v[8];
        load8(v, in, o, 4);
        MLDSA_UNROLL
        for (unsigned j = 0; j < 4; j++)
            FWD(v[j], v[j + 4], BC(zeta_bc, 1), BC(zeta_bc_q, 1));
        MLDSA_UNROLL
        for (unsigned h = 0; h < 2; h++) {
            FWD(v[4 * h], v[4 * h + 2], BC(zeta_bc, 2 + h), BC(zeta_bc_q, 2 + h));
            FWD(v[4 * h + 1], v[4 * h + 3], BC(zeta_bc, 2 + h), BC(zeta_bc_q, 2 + h));
        }
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++)
            FWD(v[2 * k], v[2 * k + 1], BC(zeta_bc, 4 + k), BC(zeta_bc_q, 4 + k));
        store8(a, v, o, 4);
    }
    for (unsigned b = 0; b < 4; b++) {
        __m256i v[8];
        load8(v, a, 8 * b, 1);
        MLDSA_UNROLL
        for (unsigned h = 0; h < 2; h++) {
            FWD(v[4 * h], v[4 * h + 2], BC(zeta_bc, 8 + 2 * b + h), BC(zeta_bc_q, 8 + 2 * b + h));
            FWD(v[4 * h + 1], v[4 * h + 3], BC(zeta_bc, 8 + 2 * b + h),
                BC(zeta_bc_q, 8 + 2 * b + h));
        }
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++)
            FWD(v[2 * k], v[2 * k + 1], BC(zeta_bc, 16 + 4 * b + k), BC(zeta_bc_q, 16 + 4 * b + k));
        ntt_small_levels(v, b);
        store8(a, v, 8 * b, 1);
    }
}

/* Vector i of the inverse transform's input when it is a sum of products (see
 * invntt_avx2). */
static inline AVX2 __attribute__((always_inline)) __m256i
invntt_input(unsigned i, const mldsa_poly *a, const mldsa_poly *b, const unsigned n,
             const mldsa_poly *c, const mldsa_poly *d)
{
    __m256i se = _mm256_setzero_si256(), so = _mm256_setzero_si256();
    MLDSA_UNROLL
    for (unsigned j = 0; j < n; j++) {
        __m256i x = LD(a[j].c + 8 * i), y = LD(b[j].c + 8 * i);
        se = _mm256_add_epi64(se, _mm256_mul_epi32(x, y));
        /* odd lanes: one shift and one shuffle (two kinds of execution port) */
        so = _mm256_add_epi64(so, _mm256_mul_epi32(_mm256_srli_epi64(x, 32),
                                                   _mm256_castps_si256(_mm256_movehdup_ps(
                                                       _mm256_castsi256_ps(y)))));
    }
    if (c) {
        __m256i x = LD(c->c + 8 * i), y = LD(d->c + 8 * i);
        se = _mm256_sub_epi64(se, _mm256_mul_epi32(x, y));
        so = _mm256_sub_epi64(so, _mm256_mul_epi32(_mm256_srli_epi64(x, 32),
                                                   _mm256_srli_epi64(y, 32)));
    }
    return reduce64(se, so);
}

/* FIPS 204 Algorithm 42 NTT^-1 (see mldsa_poly_invntt) of w itself (n = 0) or of
 * sum over j < n of a[j] o b[j], minus c o d when c is given (MultiplyNTT and AddNTT
 * of Algorithm 48 with one Montgomery reduction per coefficient).  Two passes, the reverse of the forward transform's:
 *  1. on each block of 8 vectors: levels 1, 2, 4 (transposed), 8, 16;
 *  2. on the vectors o, o + 4, ..., o + 28: levels 32, 64 and 128 folded with the
 *     final factor (f = 41978 on the lower half, f zeta' = 3975713 on the upper).
 * Input bounds: |a| < 9q, |b| < 9q and n <= 8 terms (with c o d) keep the sums
 * below 2^63 and the reduced value inside (-q, q); inputs in (-q, q) stay below
 * 256 q < 2^31 through the levels.  Output in (-q, q). */
static inline AVX2 __attribute__((always_inline)) void
invntt_avx2(int32_t *w, const mldsa_poly *a, const mldsa_poly *b, const unsigned n,
            const mldsa_poly *c, const mldsa_poly *d)
{
    /* the products first, in a loop of their own: faster than feeding them to the
     * first pass (fewer values live at once) */
    if (n)
        for (unsigned i = 0; i < 32; i++)
            ST(w + 8 * i, invntt_input(i, a, b, n, c, d));
    for (unsigned bl = 0; bl < 4; bl++) {
        __m256i v[8];
        load8(v, w, 8 * bl, 1);
        transpose8(v);
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++) {
            const __m256i z1 = LDA(zeta_inv1 + 32 * bl + 8 * k),
                          z1q = LDA(zeta_inv1_q + 32 * bl + 8 * k);
            INV(v[2 * k], v[2 * k + 1], z1, z1q);
        }
        MLDSA_UNROLL
        for (unsigned h = 0; h < 2; h++) {
            const __m256i z2 = LDA(zeta_inv2 + 16 * bl + 8 * h),
                          z2q = LDA(zeta_inv2_q + 16 * bl + 8 * h);
            INV(v[4 * h], v[4 * h + 2], z2, z2q);
            INV(v[4 * h + 1], v[4 * h + 3], z2, z2q);
        }
        const __m256i z4 = LDA(zeta_inv4 + 8 * bl), z4q = LDA(zeta_inv4_q + 8 * bl);
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++)
            INV(v[k], v[k + 4], z4, z4q);
        transpose8(v);
        /* len = 8: group g = 4 bl + k uses -zetas[31 - g]; len = 16: g = 2 bl + h,
         * -zetas[15 - g] */
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++)
            INV(v[2 * k], v[2 * k + 1], BC(zeta_ibc, 31 - 4 * bl - k),
                BC(zeta_ibc_q, 31 - 4 * bl - k));
        MLDSA_UNROLL
        for (unsigned h = 0; h < 2; h++) {
            INV(v[4 * h], v[4 * h + 2], BC(zeta_ibc, 15 - 2 * bl - h),
                BC(zeta_ibc_q, 15 - 2 * bl - h));
            INV(v[4 * h + 1], v[4 * h + 3], BC(zeta_ibc, 15 - 2 * bl - h),
                BC(zeta_ibc_q, 15 - 2 * bl - h));
        }
        store8(w, v, 8 * bl, 1);
    }
    const __m256i f = _mm256_set1_epi32(41978), fq = _mm256_set1_epi32(-8395782);
    const __m256i fz = _mm256_set1_epi32(3975713), fzq = _mm256_set1_epi32(151046689);
    for (unsigned o = 0; o < 4; o++) {
        __m256i v[8];
        load8(v, w, o, 4);
        /* len = 32: -zetas[7 - g]; len = 64: -zetas[3 - g] */
        MLDSA_UNROLL
        for (unsigned k = 0; k < 4; k++)
            INV(v[2 * k], v[2 * k + 1], BC(zeta_ibc, 7 - k), BC(zeta_ibc_q, 7 - k));
        MLDSA_UNROLL
        for (unsigned h = 0; h < 2; h++) {
            INV(v[4 * h], v[4 * h + 2], BC(zeta_ibc, 3 - h), BC(zeta_ibc_q, 3 - h));
            INV(v[4 * h + 1], v[4 * h + 3], BC(zeta_ibc, 3 - h), BC(zeta_ibc_q, 3 - h));
        }
        MLDSA_UNROLL
        for (unsigned j = 0; j < 4; j++) {
            __m256i x = v[j], y = v[j + 4];
            v[j] = mulz(_mm256_add_epi32(x, y), f, fq);
            v[j + 4] = mulz(_mm256_sub_epi32(x, y), fz, fzq);
        }
        store8(w, v, o, 4);
    }
}

AVX2 void mldsa_poly_invntt_avx2(int32_t *w)
{
    invntt_avx2(w, NULL, NULL, 0, NULL, NULL);
}

/* r = NTT^-1(sum over j < n of a[j] o b[j] - c o d) (c, d may be NULL); n <= 7. */
AVX2 void mldsa_poly_dot_invntt_avx2(int32_t *r, const mldsa_poly *a, const mldsa_poly *b,
                                     unsigned n, const mldsa_poly *c, const mldsa_poly *d)
{
    switch (n) { /* constant trip counts for the parameter sets' l and the product */
    case 1: invntt_avx2(r, a, b, 1, c, d); break;
    case 4: invntt_avx2(r, a, b, 4, c, d); break;
    case 5: invntt_avx2(r, a, b, 5, c, d); break;
    case 7: invntt_avx2(r, a, b, 7, c, d); break;
    default: invntt_avx2(r, a, b, n, c, d); break;
    }
}

/* MultiplyNTT (Algorithm 45), or its sum with r (acc). */
AVX2 void mldsa_poly_pointwise_avx2(int32_t *r, const int32_t *a, const int32_t *b, int acc)
{
    for (unsigned i = 0; i < 32; i++) {
        __m256i x = LD(a + 8 * i), y = LD(b + 8 * i);
        __m256i xo = _mm256_srli_epi64(x, 32), yo = _mm256_srli_epi64(y, 32);
        __m256i p = reduce64(_mm256_mul_epi32(x, y), _mm256_mul_epi32(xo, yo));
        if (acc) /* public flag */
            p = _mm256_add_epi32(p, LD(r + 8 * i));
        ST(r + 8 * i, p);
    }
}

/* ---- element-wise steps of the signing loop (FIPS 204 Algorithm 7), 8 lanes at a
 * time; the same arithmetic as the portable code in mldsa_poly.c. */

static inline AVX2 __m256i reduce32_v(__m256i a)
{
    __m256i t = _mm256_srai_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(1 << 22)), 23);
    return _mm256_sub_epi32(a, _mm256_mullo_epi32(t, _mm256_set1_epi32(Q)));
}

/* Decompose (Algorithm 36) of r in [0, q), as mldsa_decompose: hi = floor((r + gamma2 -
 * 1) / (2 gamma2)), where 2 gamma2 = 2^9 * 1023 or 2^11 * 93: the power of two is a
 * shift, the division by 1023 or 93 a 16-bit multiply-high (exact over the whole
 * range, checked for every residue by test_mldsa). */
static inline AVX2 void decompose_v(int32_t gamma2, __m256i r, __m256i *r1, __m256i *r0)
{
    __m256i x = _mm256_add_epi32(r, _mm256_set1_epi32(gamma2 - 1)), hi;
    int32_t m;
    if (gamma2 == (Q - 1) / 32) { /* floor(x' / 1023) = ((x' + 1) 1025) >> 20, x' < 2^15 */
        x = _mm256_add_epi32(_mm256_srli_epi32(x, 9), _mm256_set1_epi32(1));
        hi = _mm256_srli_epi32(_mm256_mulhi_epu16(x, _mm256_set1_epi32(1025)), 4);
        m = 16;
    } else { /* floor(x' / 93) = (x' 2819) >> 18, x' < 2^13 */
        x = _mm256_srli_epi32(x, 11);
        hi = _mm256_srli_epi32(_mm256_mulhi_epu16(x, _mm256_set1_epi32(2819)), 2);
        m = 44;
    }
    __m256i lo = _mm256_sub_epi32(r, _mm256_mullo_epi32(hi, _mm256_set1_epi32(2 * gamma2)));
    /* hi = m, i.e. r+ - r0 = q - 1: r1 <- 0, r0 <- r0 - 1 */
    __m256i wrap = _mm256_cmpeq_epi32(hi, _mm256_set1_epi32(m));
    *r1 = _mm256_andnot_si256(wrap, hi);
    *r0 = _mm256_add_epi32(lo, wrap);
}

/* all-ones lanes where |v| >= bound */
static inline AVX2 __m256i too_big(__m256i v, int32_t bound)
{
    return _mm256_cmpgt_epi32(_mm256_abs_epi32(v), _mm256_set1_epi32(bound - 1));
}

static inline AVX2 uint32_t any_lane(__m256i m)
{
    return (uint32_t)_mm256_movemask_epi8(m) != 0;
}

/* See mldsa_poly_decompose: w in (-q, q) -> (w0, w1) of w mod q. */
AVX2 void mldsa_avx2_decompose(int32_t *w0, int32_t *w1, int32_t gamma2)
{
    const __m256i qv = _mm256_set1_epi32(Q);
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i v = LD(w0 + i), r1, r0;
        v = _mm256_add_epi32(v, _mm256_and_si256(_mm256_srai_epi32(v, 31), qv));
        decompose_v(gamma2, v, &r1, &r0);
        ST(w0 + i, r0);
        ST(w1 + i, r1);
    }
}

/* See mldsa_poly_make_z. */
AVX2 uint32_t mldsa_avx2_make_z(int32_t *z, const int32_t *y, const int32_t *cs1, int32_t bound)
{
    __m256i bad = _mm256_setzero_si256();
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i v = _mm256_add_epi32(LD(y + i), reduce32_v(LD(cs1 + i)));
        ST(z + i, v);
        bad = _mm256_or_si256(bad, too_big(v, bound));
    }
    return any_lane(bad);
}

/* See mldsa_poly_low_check. */
AVX2 uint32_t mldsa_avx2_low_check(int32_t *w0, const int32_t *cs2, int32_t bound)
{
    __m256i bad = _mm256_setzero_si256();
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i u = _mm256_sub_epi32(LD(w0 + i), reduce32_v(LD(cs2 + i)));
        ST(w0 + i, u);
        bad = _mm256_or_si256(bad, too_big(u, bound));
    }
    return any_lane(bad);
}

/* See mldsa_poly_make_hint. */
AVX2 uint32_t mldsa_avx2_make_hint(int32_t *h, const int32_t *u, const int32_t *ct0,
                                   const int32_t *w1, int32_t gamma2, uint32_t *ones)
{
    const __m256i g = _mm256_set1_epi32(gamma2), ng = _mm256_set1_epi32(-gamma2),
                  one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256();
    __m256i bad = _mm256_setzero_si256(), cnt = _mm256_setzero_si256();
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i t = reduce32_v(LD(ct0 + i));
        bad = _mm256_or_si256(bad, too_big(t, gamma2));
        __m256i v = _mm256_add_epi32(LD(u + i), t);
        __m256i hint = _mm256_or_si256(_mm256_cmpgt_epi32(v, g), _mm256_cmpgt_epi32(ng, v));
        hint = _mm256_or_si256(hint, _mm256_andnot_si256(_mm256_cmpeq_epi32(LD(w1 + i), zero),
                                                         _mm256_cmpeq_epi32(v, ng)));
        hint = _mm256_and_si256(hint, one);
        ST(h + i, hint);
        cnt = _mm256_add_epi32(cnt, hint);
    }
    int32_t lanes[8];
    ST(lanes, cnt);
    uint32_t sum = 0;
    for (unsigned i = 0; i < 8; i++)
        sum += (uint32_t)lanes[i];
    *ones += sum;
    return any_lane(bad);
}

/* ---- bit unpacking and packing (FIPS 204 Algorithms 16-19), the layouts of
 * mldsa_poly.c: coefficient k of a group of 8 occupies bits k bits .. k bits + bits - 1
 * of the group's `bits` bytes, least significant bit first. */

/* Byte i (< 4) of the 4-byte window holding coefficient k of a group: the window
 * starts at the coefficient's first byte, k bits / 8; lanes 4-7 read the high half of
 * the register, which holds the group's bytes from hb on. */
#define UB(k, i, bits, hb) ((char)((k) * (bits) / 8 - ((k) >= 4 ? (hb) : 0) + (i)))
#define UL(k, bits, hb) UB(k, 0, bits, hb), UB(k, 1, bits, hb), UB(k, 2, bits, hb), UB(k, 3, bits, hb)

/* Eight coefficients from the 32 bytes at g (the group's `bits` bytes, then any):
 * each lane takes its 4-byte window (one byte shuffle after a 64-bit word
 * permutation), shifts by k bits mod 8 and masks; off - value for BitUnpack. */
static inline AVX2 __attribute__((always_inline)) __m256i unpack8(const uint8_t *g,
                                                                const unsigned bits, int32_t off)
{
    const unsigned hb = (4 * bits / 8) & ~7u; /* 0 or 8: where the high half starts */
    const __m256i idx = _mm256_setr_epi8(UL(0, bits, hb), UL(1, bits, hb), UL(2, bits, hb),
                                         UL(3, bits, hb), UL(4, bits, hb), UL(5, bits, hb),
                                         UL(6, bits, hb), UL(7, bits, hb));
    const __m256i sh = _mm256_setr_epi32(0, (int)(bits % 8), (int)(2 * bits % 8), (int)(3 * bits % 8),
                                         (int)(4 * bits % 8), (int)(5 * bits % 8),
                                         (int)(6 * bits % 8), (int)(7 * bits % 8));
    __m256i v = LD(g);
    v = hb ? _mm256_permute4x64_epi64(v, 0x94) : _mm256_permute4x64_epi64(v, 0x44);
    v = _mm256_srlv_epi32(_mm256_shuffle_epi8(v, idx), sh);
    v = _mm256_and_si256(v, _mm256_set1_epi32((int)((1u << bits) - 1u)));
    return off ? _mm256_sub_epi32(_mm256_set1_epi32(off), v) : v;
}

/* The 32 groups: those whose 32-byte load stays inside the 32 bits input bytes
 * straight from it, the last few from a copy (no read past the input). */
static inline AVX2 __attribute__((always_inline)) void unpack_avx2(int32_t *c, const uint8_t *in,
                                                                 const unsigned bits, int32_t off)
{
    const unsigned direct = (32 * bits - 32) / bits + 1; /* g bits + 32 <= 32 bits */
    for (unsigned g = 0; g < direct; g++)
        ST(c + 8 * g, unpack8(in + bits * g, bits, off));
    uint8_t tail[10 * 3 + 32] = {0}; /* at most 10 groups of 3 bytes */
    memcpy(tail, in + bits * direct, bits * (32 - direct));
    for (unsigned g = direct; g < 32; g++)
        ST(c + 8 * g, unpack8(tail + bits * (g - direct), bits, off));
    qpki_wipe(tail, sizeof(tail)); /* may hold secret key or y bytes */
}

/* BitUnpack / SimpleBitUnpack for 3 <= bits <= 20; 0 for another width (the caller
 * uses the portable code). */
AVX2 int mldsa_avx2_unpack(int32_t *c, const uint8_t *in, unsigned bits, int32_t off)
{
    switch (bits) {
    case 3: unpack_avx2(c, in, 3, off); return 1;
    case 4: unpack_avx2(c, in, 4, off); return 1;
    case 10: unpack_avx2(c, in, 10, off); return 1;
    case 13: unpack_avx2(c, in, 13, off); return 1;
    case 18: unpack_avx2(c, in, 18, off); return 1;
    case 20: unpack_avx2(c, in, 20, off); return 1;
    default: return 0;
    }
}

/* SimpleBitPack of w1 (Algorithm 28) with 4 or 6 bits: 32 coefficients (0 <= w1 <
 * 2^bits) at a time are narrowed to bytes (in order after the dword permutation that
 * undoes the lane interleaving of the packs), adjacent bytes combined to 16 bits
 * (a + 2^bits b), and for 6 bits adjacent 16-bit values to 32 (A + 2^12 B, three
 * bytes used), the bytes then gathered in order. */
AVX2 void mldsa_avx2_pack_w1(uint8_t *out, const int32_t *w1, unsigned bits)
{
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (unsigned i = 0; i < MLDSA_N; i += 32) {
        __m256i a = _mm256_packus_epi32(LD(w1 + i), LD(w1 + i + 8));
        __m256i b = _mm256_packus_epi32(LD(w1 + i + 16), LD(w1 + i + 24));
        __m256i v = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b), order);
        if (bits == 4) {
            v = _mm256_maddubs_epi16(v, _mm256_set1_epi16(0x1001)); /* a + 16 b */
            v = _mm256_packus_epi16(v, v);                          /* 8 bytes per half */
            v = _mm256_permute4x64_epi64(v, 0x08);                  /* qwords 0, 2 */
            _mm_storeu_si128((__m128i *)(void *)(out + i / 2), _mm256_castsi256_si128(v));
        } else {
            v = _mm256_maddubs_epi16(v, _mm256_set1_epi16(0x4001));   /* a + 64 b */
            v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x10000001)); /* A + 4096 B */
            v = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1,
                                                        -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12,
                                                        13, 14, -1, -1, -1, -1));
            v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
            uint8_t *o = out + i / 8 * 6;
            _mm_storeu_si128((__m128i *)(void *)o, _mm256_castsi256_si128(v));
            _mm_storel_epi64((__m128i *)(void *)(o + 16), _mm256_extracti128_si256(v, 1));
        }
    }
}

/* SampleInBall (FIPS 204 Algorithm 29) placement of the signs: for t < tau, with
 * i = 256 - tau + t and j = js[t] <= i, c_i <- c_j; c_j <- (-1)^(bit t of signs).
 * Instead of c, the position of each sign placed so far is tracked (pos[t], one
 * byte each, 64 in two registers): c_j is nonzero exactly when some pos[t'] = j,
 * and moving it to i is rewriting that entry (at most one matches, and none is i
 * yet); then pos[t] <- j.  Compare and blend over all 64 entries, no secret index
 * or branch.  At the end each (pos[t], sign t) sets one bit of the masks nz / neg
 * (4 x 64 bits, selected by compare, not by index), which are expanded to c. */
AVX2 void mldsa_avx2_place_signs(int32_t *c, const uint8_t *js, uint64_t signs, unsigned tau)
{
    const __m256i iota8 = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                           31);
    __m256i p0 = _mm256_setzero_si256(), p1 = _mm256_setzero_si256();
    for (unsigned t = 0; t < tau; t++) {
        const __m256i jv = _mm256_set1_epi8((char)js[t]);
        const __m256i iv = _mm256_set1_epi8((char)(MLDSA_N - tau + t));
        p0 = _mm256_blendv_epi8(p0, iv, _mm256_cmpeq_epi8(p0, jv));
        p1 = _mm256_blendv_epi8(p1, iv, _mm256_cmpeq_epi8(p1, jv));
        /* pos[t] <- j (t public) */
        const __m256i slot = _mm256_set1_epi8((char)(t & 31));
        if (t < 32)
            p0 = _mm256_blendv_epi8(p0, jv, _mm256_cmpeq_epi8(iota8, slot));
        else
            p1 = _mm256_blendv_epi8(p1, jv, _mm256_cmpeq_epi8(iota8, slot));
    }
    uint8_t pos[64];
    ST(pos, p0);
    ST(pos + 32, p1);
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3), one = _mm256_set1_epi64x(1);
    __m256i nz = _mm256_setzero_si256(), neg = _mm256_setzero_si256();
    for (unsigned t = 0; t < tau; t++) {
        const long long p = pos[t];
        __m256i bit = _mm256_and_si256(_mm256_sllv_epi64(one, _mm256_set1_epi64x(p & 63)),
                                       _mm256_cmpeq_epi64(lane, _mm256_set1_epi64x(p >> 6)));
        nz = _mm256_or_si256(nz, bit);
        neg = _mm256_or_si256(
            neg, _mm256_and_si256(bit, _mm256_set1_epi64x(-(long long)((signs >> t) & 1))));
    }
    uint8_t nzb[32], negb[32];
    ST(nzb, nz);
    ST(negb, neg);
    const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128), one32 = _mm256_set1_epi32(1);
    for (unsigned k = 0; k < 32; k++) { /* coefficients 8k .. 8k + 7 */
        __m256i n = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(nzb[k]), bits), bits);
        __m256i g = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(negb[k]), bits), bits);
        ST(c + 8 * k, _mm256_and_si256(n, _mm256_or_si256(g, one32))); /* 0, 1 or -1 */
    }
    qpki_wipe(pos, sizeof(pos));
    qpki_wipe(nzb, sizeof(nzb));
    qpki_wipe(negb, sizeof(negb));
}

/* Verification (FIPS 204 Algorithm 8) step 10 on one row: w1 <- UseHint(h, w) for w
 * in (-q, q) (brought to [0, q) first) and h in {0, 1} (Algorithm 40: with
 * (r1, r0) <- Decompose(r) and m = (q - 1)/(2 gamma2), r1 + 1 mod m if h = 1 and
 * r0 > 0, r1 - 1 mod m if h = 1 and r0 <= 0, else r1).  All values are public. */
AVX2 void mldsa_avx2_use_hint(int32_t *w1, const int32_t *w, const int32_t *h, int32_t gamma2)
{
    const int32_t m = (Q - 1) / (2 * gamma2);
    const __m256i qv = _mm256_set1_epi32(Q), one = _mm256_set1_epi32(1),
                  two = _mm256_set1_epi32(2), mv = _mm256_set1_epi32(m),
                  top = _mm256_set1_epi32(m - 1), zero = _mm256_setzero_si256();
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i v = LD(w + i), r1, r0;
        v = _mm256_add_epi32(v, _mm256_and_si256(_mm256_srai_epi32(v, 31), qv));
        decompose_v(gamma2, v, &r1, &r0);
        /* +1 where r0 > 0, else -1; kept where h = 1 */
        __m256i d = _mm256_sub_epi32(_mm256_and_si256(_mm256_cmpgt_epi32(r0, zero), two), one);
        r1 = _mm256_add_epi32(r1, _mm256_and_si256(d, _mm256_sub_epi32(zero, LD(h + i))));
        /* r1 in [-1, m]: -1 -> m - 1, m -> 0 */
        r1 = _mm256_add_epi32(r1, _mm256_and_si256(_mm256_srai_epi32(r1, 31), mv));
        r1 = _mm256_sub_epi32(r1, _mm256_and_si256(_mm256_cmpgt_epi32(r1, top), mv));
        ST(w1 + i, r1);
    }
}

#else
typedef int mldsa_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
