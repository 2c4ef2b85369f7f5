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

#if MLDSA_HAVE_AVX2
#include <immintrin.h>

#define Q MLDSA_Q
#define QINV 58728449
#define AVX2 __attribute__((target("avx2")))

/* Per-lane zetas for the small levels in the transposed layout, reordered from the
 * zetas[] table of mldsa_poly.c (same Montgomery values) by a short script:
 *   zeta_fwd4[8b + r]       = zetas[32 + 8b + r]
 *   zeta_fwd2[16b + 8h + r] = zetas[64 + 2(8b + r) + h]
 *   zeta_fwd1[32b + 8k + r] = zetas[128 + 4(8b + r) + k]
 *   zeta_inv1[32b + 8k + r] = -zetas[255 - (4(8b + r) + k)]
 *   zeta_inv2[16b + 8h + r] = -zetas[127 - (2(8b + r) + h)]
 *   zeta_inv4[8b + r]       = -zetas[63 - (8b + r)]
 * for block b (8 vectors), row r, and the butterfly index h / k inside a row. */
#include "mldsa_avx2_zetas.h"

static inline AVX2 __m256i montmul(__m256i a, __m256i b)
{
    const __m256i qv = _mm256_set1_epi32(Q), qinv = _mm256_set1_epi32(QINV);
    __m256i pe = _mm256_mul_epi32(a, b);
    __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
    __m256i te = _mm256_mul_epi32(_mm256_mul_epi32(pe, qinv), qv);
    __m256i to = _mm256_mul_epi32(_mm256_mul_epi32(po, qinv), qv);
    pe = _mm256_sub_epi64(pe, te);
    po = _mm256_sub_epi64(po, to);
    return _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
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

static inline AVX2 void load_poly(__m256i *v, const int32_t *a)
{
    for (unsigned i = 0; i < 32; i++)
        v[i] = _mm256_loadu_si256((const __m256i *)(const void *)(a + 8 * i));
}

static inline AVX2 void store_poly(int32_t *a, const __m256i *v)
{
    for (unsigned i = 0; i < 32; i++)
        _mm256_storeu_si256((__m256i *)(void *)(a + 8 * i), v[i]);
}

/* Forward butterfly: (x, y) <- (x + z y, x - z y). */
#define FWD(x, y, z)                              \
    do {                                          \
        __m256i t_ = montmul((z), (y));           \
        (y) = _mm256_sub_epi32((x), t_);          \
        (x) = _mm256_add_epi32((x), t_);          \
    } while (0)

/* Inverse butterfly: (x, y) <- (x + y, z (x - y)). */
#define INV(x, y, z)                                              \
    do {                                                          \
        __m256i t_ = (x);                                         \
        (x) = _mm256_add_epi32(t_, (y));                          \
        (y) = montmul((z), _mm256_sub_epi32(t_, (y)));            \
    } while (0)

AVX2 void mldsa_poly_ntt_avx2(int32_t *a, const int32_t *zetas)
{
    __m256i v[32];
    load_poly(v, a);
    unsigned m = 0;
    for (unsigned len = 128; len >= 8; len >>= 1) {
        const unsigned vl = len / 8;
        for (unsigned start = 0; start < 32; start += 2 * vl) {
            const __m256i z = _mm256_set1_epi32(zetas[++m]);
            for (unsigned j = start; j < start + vl; j++)
                FWD(v[j], v[j + vl], z);
        }
    }
    for (unsigned b = 0; b < 4; b++) {
        __m256i *t = v + 8 * b;
        transpose8(t);
        const __m256i z4 = _mm256_load_si256((const __m256i *)(const void *)(zeta_fwd4 + 8 * b));
        for (unsigned c = 0; c < 4; c++)
            FWD(t[c], t[c + 4], z4);
        for (unsigned h = 0; h < 2; h++) {
            const __m256i z2 =
                _mm256_load_si256((const __m256i *)(const void *)(zeta_fwd2 + 16 * b + 8 * h));
            FWD(t[4 * h], t[4 * h + 2], z2);
            FWD(t[4 * h + 1], t[4 * h + 3], z2);
        }
        for (unsigned k = 0; k < 4; k++) {
            const __m256i z1 =
                _mm256_load_si256((const __m256i *)(const void *)(zeta_fwd1 + 32 * b + 8 * k));
            FWD(t[2 * k], t[2 * k + 1], z1);
        }
        transpose8(t);
    }
    store_poly(a, v);
}

AVX2 void mldsa_poly_invntt_avx2(int32_t *a, const int32_t *zetas)
{
    __m256i v[32];
    load_poly(v, a);
    for (unsigned b = 0; b < 4; b++) {
        __m256i *t = v + 8 * b;
        transpose8(t);
        for (unsigned k = 0; k < 4; k++) {
            const __m256i z1 =
                _mm256_load_si256((const __m256i *)(const void *)(zeta_inv1 + 32 * b + 8 * k));
            INV(t[2 * k], t[2 * k + 1], z1);
        }
        for (unsigned h = 0; h < 2; h++) {
            const __m256i z2 =
                _mm256_load_si256((const __m256i *)(const void *)(zeta_inv2 + 16 * b + 8 * h));
            INV(t[4 * h], t[4 * h + 2], z2);
            INV(t[4 * h + 1], t[4 * h + 3], z2);
        }
        const __m256i z4 = _mm256_load_si256((const __m256i *)(const void *)(zeta_inv4 + 8 * b));
        for (unsigned c = 0; c < 4; c++)
            INV(t[c], t[c + 4], z4);
        transpose8(t);
    }
    unsigned m = 32;
    for (unsigned len = 8; len < 128; len <<= 1) {
        const unsigned vl = len / 8;
        for (unsigned start = 0; start < 32; start += 2 * vl) {
            const __m256i z = _mm256_set1_epi32(-zetas[--m]);
            for (unsigned j = start; j < start + vl; j++)
                INV(v[j], v[j + vl], z);
        }
    }
    /* Last level folded with the final factor (see mldsa_poly_invntt). */
    const __m256i f = _mm256_set1_epi32(41978), fz = _mm256_set1_epi32(3975713);
    for (unsigned j = 0; j < 16; j++) {
        __m256i t = v[j], u = v[j + 16];
        v[j] = montmul(f, _mm256_add_epi32(t, u));
        v[j + 16] = montmul(fz, _mm256_sub_epi32(t, u));
    }
    store_poly(a, v);
}

AVX2 void mldsa_poly_pointwise_avx2(int32_t *r, const int32_t *a, const int32_t *b, int acc)
{
    for (unsigned i = 0; i < 32; i++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a + 8 * i));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b + 8 * i));
        __m256i p = montmul(x, y);
        if (acc) /* public flag */
            p = _mm256_add_epi32(p, _mm256_loadu_si256((const __m256i *)(const void *)(r + 8 * i)));
        _mm256_storeu_si256((__m256i *)(void *)(r + 8 * i), p);
    }
}

/* ---- element-wise steps of the signing loop (FIPS 204 Algorithm 7), 8 lanes at a
 * time; the same arithmetic as the scalar code in mldsa.c / mldsa_internal.h. */

static inline AVX2 __m256i reduce32_v(__m256i a)
{
    __m256i t = _mm256_srai_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(1 << 22)), 23);
    return _mm256_sub_epi32(a, _mm256_mullo_epi32(t, _mm256_set1_epi32(Q)));
}

static inline AVX2 __m256i freeze_v(__m256i a)
{
    a = reduce32_v(a);
    return _mm256_add_epi32(a, _mm256_and_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(Q)));
}

/* Decompose (Algorithm 36) of r in [0, q): the scalar multiply-and-shift division
 * on the even and the odd lanes with vpmuludq. */
static inline AVX2 void decompose_v(int32_t gamma2, __m256i r, __m256i *r1, __m256i *r0)
{
    const int m = gamma2 == (Q - 1) / 88 ? 44 : 16;
    const __m256i mul = _mm256_set1_epi64x(gamma2 == (Q - 1) / 88 ? 2886403 : 8396809);
    const int sh = gamma2 == (Q - 1) / 88 ? 39 : 42;
    __m256i x = _mm256_add_epi32(r, _mm256_set1_epi32(gamma2 - 1));
    __m256i he = _mm256_srli_epi64(_mm256_mul_epu32(x, mul), sh);
    __m256i ho = _mm256_srli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), mul), sh);
    __m256i hi = _mm256_blend_epi32(he, _mm256_slli_epi64(ho, 32), 0xAA);
    __m256i lo = _mm256_sub_epi32(r, _mm256_mullo_epi32(hi, _mm256_set1_epi32(2 * gamma2)));
    __m256i wrap = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_set1_epi32(m - 1), hi), 31);
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

#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))

/* r = sum over j < n of a[j] o b[j] (a row of MatrixVectorNTT): the products
 * of each lane are summed in 64 bits (even and odd lanes separately) and reduced
 * once, as mont() in mldsa_poly.c.  |a| < q, |b| < 9q, n <= 7: the sums stay below
 * 2^53, and the result lies in (-q, q). */
AVX2 void mldsa_poly_dot_avx2(int32_t *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n)
{
    const __m256i qv = _mm256_set1_epi32(Q), qinv = _mm256_set1_epi32(QINV);
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i se = _mm256_setzero_si256(), so = _mm256_setzero_si256();
        for (unsigned j = 0; j < n; j++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(a[j].c + i));
            __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(b[j].c + i));
            se = _mm256_add_epi64(se, _mm256_mul_epi32(x, y));
            so = _mm256_add_epi64(so, _mm256_mul_epi32(_mm256_srli_epi64(x, 32),
                                                       _mm256_srli_epi64(y, 32)));
        }
        __m256i te = _mm256_mul_epi32(_mm256_mul_epi32(se, qinv), qv);
        __m256i to = _mm256_mul_epi32(_mm256_mul_epi32(so, qinv), qv);
        se = _mm256_sub_epi64(se, te);
        so = _mm256_sub_epi64(so, to);
        _mm256_storeu_si256((__m256i *)(void *)(r + i),
                            _mm256_blend_epi32(_mm256_srli_epi64(se, 32), so, 0xAA));
    }
}

/* Steps 12-13: w <- w mod q in [0, q); w1 <- HighBits(w). */
AVX2 void mldsa_avx2_highbits(int32_t *w, int32_t *w1, int32_t gamma2)
{
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i v = freeze_v(LD(w + i)), r1, r0;
        decompose_v(gamma2, v, &r1, &r0);
        ST(w + i, v);
        ST(w1 + i, r1);
    }
}

/* Step 20: z <- y + <<cs1>>; returns 1 iff some |z_i| >= bound (no branch). */
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

/* Step 21: wcs2 <- (w - <<cs2>>) mod q; r0 <- LowBits(wcs2); returns 1 iff some
 * |r0_i| >= bound. */
AVX2 uint32_t mldsa_avx2_low_check(int32_t *wcs2, const int32_t *w, const int32_t *cs2,
                                   int32_t gamma2, int32_t bound)
{
    __m256i bad = _mm256_setzero_si256();
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i v = freeze_v(_mm256_sub_epi32(LD(w + i), reduce32_v(LD(cs2 + i)))), r1, r0;
        decompose_v(gamma2, v, &r1, &r0);
        ST(wcs2 + i, v);
        bad = _mm256_or_si256(bad, too_big(r0, bound));
    }
    return any_lane(bad);
}

/* Steps 25-27: ct0 <- reduce32(ct0); h_i <- [[HighBits(wcs2 + ct0) != HighBits(wcs2)]];
 * *ones += number of 1's; returns 1 iff some |ct0_i| >= bound. */
AVX2 uint32_t mldsa_avx2_hint(int32_t *h, const int32_t *wcs2, const int32_t *ct0,
                              int32_t gamma2, int32_t bound, uint32_t *ones)
{
    __m256i bad = _mm256_setzero_si256(), cnt = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi32(1);
    for (unsigned i = 0; i < MLDSA_N; i += 8) {
        __m256i t = reduce32_v(LD(ct0 + i)), a = LD(wcs2 + i), r1, v1, r0;
        bad = _mm256_or_si256(bad, too_big(t, bound));
        decompose_v(gamma2, freeze_v(_mm256_add_epi32(a, t)), &r1, &r0);
        decompose_v(gamma2, a, &v1, &r0);
        __m256i hint = _mm256_andnot_si256(_mm256_cmpeq_epi32(r1, v1), one);
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
#else
typedef int mldsa_avx2_unused; /* ISO C forbids an empty translation unit */
#endif
