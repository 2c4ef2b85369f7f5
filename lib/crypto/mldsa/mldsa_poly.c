/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa_poly.c - ML-DSA (FIPS 204) polynomial arithmetic, NTT,
 * rounding, sampling and bit packing, written from the FIPS 204 text.
 *
 * Representation: a polynomial is 256 int32 coefficients; values are kept small
 * by lazy reduction and are only brought to a canonical range where the standard
 * needs one (rounding, packing, norms).  No function here branches on, or indexes
 * memory with, coefficient values; the sampling loops branch only on rejection
 * decisions about discarded XOF output, which MLDSA_DECLASSIFY marks (see the
 * comments there). */
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mldsa/mldsa_internal.h"
#include "safety.h"

#define Q MLDSA_Q
#define QINV 58728449 /* q^-1 mod 2^32 */

/* FIPS 204 Table 1. */
static const mldsa_params params_table[3] = {
    {MLDSA_44, 4, 4, 2, 39, 78, 80, 1 << 17, 18, (Q - 1) / 88, 32, 3, 6, 1312, 2560, 2420},
    {MLDSA_65, 6, 5, 4, 49, 196, 55, 1 << 19, 20, (Q - 1) / 32, 48, 4, 4, 1952, 4032, 3309},
    {MLDSA_87, 8, 7, 2, 60, 120, 75, 1 << 19, 20, (Q - 1) / 32, 64, 3, 4, 2592, 4896, 4627},
};

const mldsa_params *mldsa_params_get(mldsa_level level)
{
    for (size_t i = 0; i < 3; i++)
        if (params_table[i].level == level)
            return &params_table[i];
    return NULL;
}

/* Montgomery reduction: for |a| < 2^31 q returns a * 2^-32 mod q in (-q, q).
 * t = a * q^-1 mod 2^32 (as a signed 32-bit value) makes a - t q divisible by 2^32. */
static inline int32_t mont(int64_t a)
{
    int32_t t = (int32_t)(uint32_t)((uint64_t)a * (uint64_t)QINV);
    return (int32_t)((a - (int64_t)t * Q) >> 32);
}

/* The same with q in a register: gcc otherwise expands t * q into a shift/subtract
 * chain (q = 2^23 - 2^13 + 1) that costs more than one imul in the NTT loops. */
#if defined(__GNUC__) || defined(__clang__)
#define Q_IN_REGISTER(name)             \
    int64_t name = Q;                   \
    __asm__("" : "+r"(name))
#else
#define Q_IN_REGISTER(name) const int64_t name = Q
#endif

static inline int32_t mont_q(int64_t a, int64_t q)
{
    int32_t t = (int32_t)(uint32_t)((uint64_t)a * (uint64_t)QINV);
    return (int32_t)((a - (int64_t)t * q) >> 32);
}

int32_t mldsa_montgomery_reduce(int64_t a)
{
    return mont(a);
}

/* Hides a value from the optimiser so that mask selections stay arithmetic: gcc -O2
 * otherwise turns "OR over w of (x[w] & (w == j ? ~0 : 0))" into the load x[j],
 * a secret memory index (found by tests/ct/run.sh). */
static inline uint64_t value_barrier_u64(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(v));
    return v;
#else
    volatile uint64_t t = v;
    return t;
#endif
}

/* zetas[m] = zeta^BitRev8(m) * 2^32 mod q (centred), zeta = 1753 (FIPS 204 §7.5,
 * Appendix B lists zeta^BitRev8(m) mod q; the factor 2^32 is our Montgomery form).
 * Computed with a short script from that definition. */
static const int32_t zetas[MLDSA_N] = {
    -4186625, 25847, -2608894, -518909, 237124, -777960, -876248, 466468,
    1826347, 2353451, -359251, -2091905, 3119733, -2884855, 3111497, 2680103,
    2725464, 1024112, -1079900, 3585928, -549488, -1119584, 2619752, -2108549,
    -2118186, -3859737, -1399561, -3277672, 1757237, -19422, 4010497, 280005,
    2706023, 95776, 3077325, 3530437, -1661693, -3592148, -2537516, 3915439,
    -3861115, -3043716, 3574422, -2867647, 3539968, -300467, 2348700, -539299,
    -1699267, -1643818, 3505694, -3821735, 3507263, -2140649, -1600420, 3699596,
    811944, 531354, 954230, 3881043, 3900724, -2556880, 2071892, -2797779,
    -3930395, -1528703, -3677745, -3041255, -1452451, 3475950, 2176455, -1585221,
    -1257611, 1939314, -4083598, -1000202, -3190144, -3157330, -3632928, 126922,
    3412210, -983419, 2147896, 2715295, -2967645, -3693493, -411027, -2477047,
    -671102, -1228525, -22981, -1308169, -381987, 1349076, 1852771, -1430430,
    -3343383, 264944, 508951, 3097992, 44288, -1100098, 904516, 3958618,
    -3724342, -8578, 1653064, -3249728, 2389356, -210977, 759969, -1316856,
    189548, -3553272, 3159746, -1851402, -2409325, -177440, 1315589, 1341330,
    1285669, -1584928, -812732, -1439742, -3019102, -3881060, -3628969, 3839961,
    2091667, 3407706, 2316500, 3817976, -3342478, 2244091, -2446433, -3562462,
    266997, 2434439, -1235728, 3513181, -3520352, -3759364, -1197226, -3193378,
    900702, 1859098, 909542, 819034, 495491, -1613174, -43260, -522500,
    -655327, -3122442, 2031748, 3207046, -3556995, -525098, -768622, -3595838,
    342297, 286988, -2437823, 4108315, 3437287, -3342277, 1735879, 203044,
    2842341, 2691481, -2590150, 1265009, 4055324, 1247620, 2486353, 1595974,
    -3767016, 1250494, 2635921, -3548272, -2994039, 1869119, 1903435, -1050970,
    -1333058, 1237275, -3318210, -1430225, -451100, 1312455, 3306115, -1962642,
    -1279661, 1917081, -2546312, -1374803, 1500165, 777191, 2235880, 3406031,
    -542412, -2831860, -1671176, -1846953, -2584293, -3724270, 594136, -3776993,
    -2013608, 2432395, 2454455, -164721, 1957272, 3369112, 185531, -1207385,
    -3183426, 162844, 1616392, 3014001, 810149, 1652634, -3694233, -1799107,
    -3038916, 3523897, 3866901, 269760, 2213111, -975884, 1717735, 472078,
    -426683, 1723600, -1803090, 1910376, -1667432, -1104333, -260646, -3833893,
    -2939036, -2235985, -420899, -2286327, 183443, -976891, 1612842, -3545687,
    -554416, 3919660, -48306, -1362209, 3937738, 1400424, -846154, 1976782,
};

static int avx2_allowed = 1;

void mldsa_set_avx2(int enable)
{
    avx2_allowed = enable;
}

int mldsa_avx2_active(void)
{
#if MLDSA_HAVE_AVX2
    return avx2_allowed && __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

/* Passes of the NTT loops, inlined with a constant len so that each pass gets its
 * own loop with the trip counts and table offsets known at compile time (the
 * passes with len = 2 and len = 1 otherwise spend more on loop control than on the
 * butterflies). */
#if defined(__GNUC__) || defined(__clang__)
#define NTT_INLINE static inline __attribute__((always_inline))
#else
#define NTT_INLINE static inline
#endif

/* Forward levels len and len/2 over each group of 2 len coefficients: the same
 * butterflies in the same order for each coefficient as level by level, with four
 * values kept in registers.  Level len, group g uses m = 128/len + g. */
NTT_INLINE void ntt_two_levels(int32_t *w, const unsigned len, int64_t q)
{
    const unsigned h = len / 2;
    for (unsigned g = 0; g < MLDSA_N / (2 * len); g++) {
        int32_t *x = w + 2 * len * g;
        const int64_t z1 = zetas[128 / len + g];
        const int64_t z2a = zetas[256 / len + 2 * g], z2b = zetas[256 / len + 2 * g + 1];
        for (unsigned j = 0; j < h; j++) {
            int32_t a = x[j], b = x[j + h], c = x[j + len], d = x[j + len + h];
            int32_t t = mont_q(z1 * c, q);
            c = a - t;
            a = a + t;
            t = mont_q(z1 * d, q);
            d = b - t;
            b = b + t;
            t = mont_q(z2a * b, q);
            x[j + h] = a - t;
            x[j] = a + t;
            t = mont_q(z2b * d, q);
            x[j + len + h] = c - t;
            x[j + len] = c + t;
        }
    }
}

/* FIPS 204 Algorithm 41 NTT(w):
 *   m <- 0; len <- 128
 *   while len >= 1: start <- 0
 *     while start < 256: m <- m + 1; z <- zetas[m]
 *       for j from start to start + len - 1:
 *         t <- z * w_hat[j + len]; w_hat[j + len] <- w_hat[j] - t; w_hat[j] <- w_hat[j] + t
 *       start <- start + 2 len
 *     len <- floor(len / 2)
 * Inputs |w| < q give outputs |w_hat| < 9q (one q per level, no reduction). */
void mldsa_poly_ntt(mldsa_poly *p)
{
    int32_t *w = p->c;
    if (mldsa_avx2_active()) {
        mldsa_poly_ntt_avx2(w, w);
        return;
    }
    Q_IN_REGISTER(q);
    ntt_two_levels(w, 128, q);
    ntt_two_levels(w, 32, q);
    ntt_two_levels(w, 8, q);
    ntt_two_levels(w, 2, q);
}

void mldsa_poly_ntt_from(mldsa_poly *r, const mldsa_poly *a)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active()) {
        mldsa_poly_ntt_avx2(r->c, a->c);
        return;
    }
#endif
    *r = *a;
    mldsa_poly_ntt(r);
}

/* The value entering the inverse NTT at index i: w[i] itself (n = 0), or the
 * MultiplyNTT / AddNTT result sum over j < n of a[j]_i b[j]_i with one Montgomery
 * reduction (n >= 1), so that products feed the first pass without a round trip
 * through memory.  Bounds: with |a| < q (ExpandA output) or |a| < 9q (NTT output)
 * and |b| < 9q, each product is below 81 q^2 < 2^53, a sum of at most 7 products of
 * the first kind below 2^53 too, so the reduction (valid below 2^31 q) gives a value
 * in (-q, q). */
NTT_INLINE int32_t invntt_input(const int32_t *w, unsigned i, const mldsa_poly *a,
                                const mldsa_poly *b, const unsigned n, int64_t q)
{
    if (n == 0)
        return w[i];
    int64_t acc = 0;
    MLDSA_UNROLL
    for (unsigned j = 0; j < n; j++)
        acc += (int64_t)a[j].c[i] * b[j].c[i];
    return mont_q(acc, q);
}

/* Inverse levels len and 2 len over each group of 4 len coefficients (the same
 * butterflies per coefficient as level by level).  Level len, group g uses
 * m = 256/len - 1 - g.  Inputs come from invntt_input (a, b, n). */
NTT_INLINE void invntt_two_levels(int32_t *w, const unsigned len, int64_t q, const mldsa_poly *pa,
                                  const mldsa_poly *pb, const unsigned n)
{
    for (unsigned g = 0; g < MLDSA_N / (4 * len); g++) {
        const unsigned s = 4 * len * g;
        int32_t *x = w + s;
        const int64_t z0 = -(int64_t)zetas[256 / len - 1 - 2 * g];
        const int64_t z1 = -(int64_t)zetas[256 / len - 2 - 2 * g];
        const int64_t z2 = -(int64_t)zetas[128 / len - 1 - g];
        for (unsigned j = 0; j < len; j++) {
            int32_t a = invntt_input(w, s + j, pa, pb, n, q);
            int32_t b = invntt_input(w, s + j + len, pa, pb, n, q);
            int32_t c = invntt_input(w, s + j + 2 * len, pa, pb, n, q);
            int32_t d = invntt_input(w, s + j + 3 * len, pa, pb, n, q);
            int32_t a1 = a + b, b1 = mont_q(z0 * (a - b), q);
            int32_t c1 = c + d, d1 = mont_q(z1 * (c - d), q);
            x[j] = a1 + c1;
            x[j + 2 * len] = mont_q(z2 * (a1 - c1), q);
            x[j + len] = b1 + d1;
            x[j + 3 * len] = mont_q(z2 * (b1 - d1), q);
        }
    }
}

/* FIPS 204 Algorithm 42 NTT^-1(w_hat):
 *   m <- 256; len <- 1
 *   while len < 256: start <- 0
 *     while start < 256: m <- m - 1; z <- -zetas[m]
 *       for j from start to start + len - 1:
 *         t <- w[j]; w[j] <- t + w[j + len]; w[j + len] <- t - w[j + len];
 *         w[j + len] <- z * w[j + len]
 *       start <- start + 2 len
 *     len <- 2 len
 *   f <- 8347681 (256^-1 mod q); w[j] <- f * w[j]
 * Our inputs are Montgomery products (carrying a factor 2^-32), so the final
 * factor is f * 2^64 mod q = 41978, which also leaves the Montgomery domain; it is
 * folded into the last level (len = 128): the upper half uses the constant
 * -zetas[1] * 41978 * 2^-32 mod q = 3975713.
 * Bounds: inputs |w| < q (a single product) grow by at most 2x per level on the
 * "sum" side, so they stay below 256 q < 2^31; callers that add several products
 * reduce first (mldsa_reduce32).  Outputs lie in (-q, q).
 * The portable code: the input is w itself (n = 0) or the products of a and b
 * (invntt_input). */
NTT_INLINE void invntt_portable(int32_t *w, const mldsa_poly *pa, const mldsa_poly *pb,
                                const unsigned n)
{
    /* Levels (1, 2), (4, 8), (16, 32) two per pass, then 64 together with the
     * folded last level. */
    Q_IN_REGISTER(q);
    invntt_two_levels(w, 1, q, pa, pb, n);
    invntt_two_levels(w, 4, q, NULL, NULL, 0);
    invntt_two_levels(w, 16, q, NULL, NULL, 0);
    const int64_t z0 = -(int64_t)zetas[3], z1 = -(int64_t)zetas[2];
    const int64_t f = 41978, fz = 3975713;
    for (unsigned j = 0; j < 64; j++) {
        int32_t a = w[j], b = w[j + 64], c = w[j + 128], d = w[j + 192];
        int32_t a1 = a + b, b1 = mont_q(z0 * (a - b), q);
        int32_t c1 = c + d, d1 = mont_q(z1 * (c - d), q);
        w[j] = mont_q(f * (a1 + c1), q);
        w[j + 128] = mont_q(fz * (a1 - c1), q);
        w[j + 64] = mont_q(f * (b1 + d1), q);
        w[j + 192] = mont_q(fz * (b1 - d1), q);
    }
}

void mldsa_poly_invntt(mldsa_poly *p)
{
    if (mldsa_avx2_active()) {
        mldsa_poly_invntt_avx2(p->c);
        return;
    }
    invntt_portable(p->c, NULL, NULL, 0);
}

/* r <- NTT^-1(a_hat o b_hat): Algorithm 45 MultiplyNTT then Algorithm 42. */
void mldsa_poly_product_invntt(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    if (mldsa_avx2_active()) {
        mldsa_poly_dot_invntt_avx2(r->c, a, b, 1, NULL, NULL);
        return;
    }
    invntt_portable(r->c, a, b, 1);
}

/* Portable: r <- NTT^-1(sum over j < n of a[j] o b[j]): one row of Algorithm 48
 * MatrixVectorNTT (MultiplyNTT and AddNTT) with one Montgomery reduction per
 * coefficient for the whole sum, then Algorithm 42.  |a| < q, |b| < 9q, n <= 7. */
void mldsa_poly_dot_invntt(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b, unsigned n)
{
    switch (n) { /* l of each parameter set: loops with a constant trip count */
    case 4: invntt_portable(r->c, a, b, 4); break;
    case 5: invntt_portable(r->c, a, b, 5); break;
    case 7: invntt_portable(r->c, a, b, 7); break;
    default: invntt_portable(r->c, a, b, n); break;
    }
}

/* FIPS 204 Algorithm 45 MultiplyNTT: c_hat[i] = a_hat[i] * b_hat[i] (times 2^-32). */
void mldsa_poly_pointwise(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    if (mldsa_avx2_active()) {
        mldsa_poly_pointwise_avx2(r->c, a->c, b->c, 0);
        return;
    }
    Q_IN_REGISTER(q);
    for (unsigned i = 0; i < MLDSA_N; i++)
        r->c[i] = mont_q((int64_t)a->c[i] * b->c[i], q);
}

/* r += a o b (AddNTT of MultiplyNTT, used by the matrix-vector product). */
void mldsa_poly_pointwise_acc(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    if (mldsa_avx2_active()) {
        mldsa_poly_pointwise_avx2(r->c, a->c, b->c, 1);
        return;
    }
    Q_IN_REGISTER(q);
    for (unsigned i = 0; i < MLDSA_N; i++)
        r->c[i] += mont_q((int64_t)a->c[i] * b->c[i], q);
}

/* ---- element-wise steps of the signing loop (FIPS 204 Algorithm 7).  No branch
 * on data: the norm checks accumulate a flag (1 iff some coefficient is too big),
 * which the caller declassifies.  Portable loops (restrict lets the compiler
 * vectorise them) or the AVX2 versions in mldsa_avx2.c. */

/* 1 iff |v| >= bound, without a branch. */
static inline uint32_t at_least(int32_t v, int32_t bound)
{
    int32_t m = v >> 31;
    return (uint32_t)(bound - 1 - ((v ^ m) - m)) >> 31;
}

/* Step 13 with the low part kept for steps 21 and 26: for w0 = w in (-q, q) on
 * input, (w1, w0) <- Decompose(w mod q) (w1 = HighBits, w0 = LowBits). */
void mldsa_poly_decompose(mldsa_poly *w0, mldsa_poly *w1, int32_t gamma2)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active()) {
        mldsa_avx2_decompose(w0->c, w1->c, gamma2);
        return;
    }
#endif
    int32_t *restrict lo = w0->c, *restrict hi = w1->c;
    for (unsigned n = 0; n < MLDSA_N; n++)
        mldsa_decompose(gamma2, mldsa_freeze(lo[n]), &hi[n], &lo[n]);
}

/* Step 20: z <- y + <<cs1>> (cs1 in (-q, q), reduced to its small representative);
 * returns 1 iff some |z_i| >= bound (step 23, first half). */
uint32_t mldsa_poly_make_z(mldsa_poly *z, const mldsa_poly *y, const mldsa_poly *cs1, int32_t bound)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active())
        return mldsa_avx2_make_z(z->c, y->c, cs1->c, bound);
#endif
    int32_t *restrict zz = z->c;
    const int32_t *restrict yy = y->c, *restrict cc = cs1->c;
    uint32_t bad = 0;
    for (unsigned n = 0; n < MLDSA_N; n++) {
        zz[n] = yy[n] + mldsa_reduce32(cc[n]);
        bad |= at_least(zz[n], bound);
    }
    return bad;
}

/* Steps 21 and 23 (second half): reject if ||r0||inf >= gamma2 - beta with
 * r0 = LowBits(w - <<cs2>>).  Computed as u = w0 - <<cs2>> (w0 = LowBits(w), cs2
 * reduced to its small representative, |cs2| <= beta): u <- w0 - cs2 in place,
 * returns 1 iff some |u_i| >= bound = gamma2 - beta.  The same test: writing w as
 * 2 gamma2 w1 + w0 (mod q), w - cs2 = 2 gamma2 w1 + u; if |u| < gamma2 - beta then
 * (w1, u) is the Decompose of w - cs2 (u is inside (-gamma2, gamma2]), so r0 = u;
 * otherwise r0 is u or u -+ 2 gamma2, or at the wrap of Decompose (q - 1 = 2 gamma2
 * m) u -+ (2 gamma2 + 1), all of magnitude >= gamma2 - beta, so both reject.  And
 * when accepted, HighBits(w - cs2) = w1 (used by make_hint). */
uint32_t mldsa_poly_low_check(mldsa_poly *w0, const mldsa_poly *cs2, int32_t bound)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active())
        return mldsa_avx2_low_check(w0->c, cs2->c, bound);
#endif
    int32_t *restrict u = w0->c;
    const int32_t *restrict cc = cs2->c;
    uint32_t bad = 0;
    for (unsigned n = 0; n < MLDSA_N; n++) {
        u[n] -= mldsa_reduce32(cc[n]);
        bad |= at_least(u[n], bound);
    }
    return bad;
}

/* Steps 25-27 after mldsa_poly_low_check accepted: ct0 <- <<ct0>> (small
 * representative); h <- MakeHint(-ct0, w - cs2 + ct0) (Algorithm 39: [[HighBits(r) !=
 * HighBits(r + z)]]), i.e. [[HighBits(w - cs2 + ct0) != w1]]; *ones += number of 1's;
 * returns 1 iff some |ct0_i| >= gamma2.  With v = u + ct0 (|v| < 2 gamma2 - beta),
 * w - cs2 + ct0 = 2 gamma2 w1 + v: the high bits stay w1 exactly when v is a valid
 * low part for w1, that is v in (-gamma2, gamma2], or v = -gamma2 with w1 = 0 (the
 * wrap of Decompose gives r1 = 0, r0 = -gamma2 for q - gamma2); otherwise they become
 * w1 +- 1 mod m, never w1.  So h = [[v > gamma2 or v < -gamma2 or (v = -gamma2 and
 * w1 != 0)]]. */
uint32_t mldsa_poly_make_hint(mldsa_poly *h, const mldsa_poly *u, const mldsa_poly *ct0,
                              const mldsa_poly *w1, int32_t gamma2, uint32_t *ones)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active())
        return mldsa_avx2_make_hint(h->c, u->c, ct0->c, w1->c, gamma2, ones);
#endif
    int32_t *restrict hh = h->c;
    const int32_t *restrict uu = u->c, *restrict tt = ct0->c, *restrict r1 = w1->c;
    uint32_t bad = 0, cnt = 0;
    for (unsigned n = 0; n < MLDSA_N; n++) {
        int32_t t = mldsa_reduce32(tt[n]);
        bad |= at_least(t, gamma2);
        int32_t v = uu[n] + t;
        uint32_t above = (uint32_t)(gamma2 - v) >> 31;      /* v > gamma2 */
        uint32_t lt = (uint32_t)(v + gamma2) >> 31;         /* v < -gamma2 */
        uint32_t e = (uint32_t)(v + gamma2);                /* 0 iff v = -gamma2 */
        uint32_t eq = ((e | (0u - e)) >> 31) ^ 1u;
        uint32_t nz = ((uint32_t)r1[n] | (0u - (uint32_t)r1[n])) >> 31; /* w1 != 0 */
        uint32_t hint = above | lt | (eq & nz);
        hh[n] = (int32_t)hint;
        cnt += hint;
    }
    *ones += cnt;
    return bad;
}

/* FIPS 204 Algorithm 40 UseHint(h, r) (verification only; all inputs public):
 *   m <- (q - 1)/(2 gamma2); (r1, r0) <- Decompose(r)
 *   if h = 1 and r0 > 0 return (r1 + 1) mod m
 *   if h = 1 and r0 <= 0 return (r1 - 1) mod m
 *   return r1 */
int32_t mldsa_use_hint(int32_t gamma2, int32_t h, int32_t r)
{
    int32_t m = (Q - 1) / (2 * gamma2), r1, r0;
    mldsa_decompose(gamma2, r, &r1, &r0);
    if (h == 0)
        return r1;
    if (r0 > 0)
        return (r1 + 1) % m;
    return (r1 - 1 + m) % m;
}

/* FIPS 204 Algorithm 30 RejNTTPoly(rho) with Algorithm 32's seed rho || s || r:
 *   ctx <- G.Init(); ctx <- G.Absorb(ctx, rho); j <- 0
 *   while j < 256: (ctx, s) <- G.Squeeze(ctx, 3);
 *     a_hat[j] <- CoeffFromThreeBytes(s[0], s[1], s[2]); if a_hat[j] != bot: j++
 * Algorithm 14 CoeffFromThreeBytes: b2' <- b2 mod 128; z <- 2^16 b2' + 2^8 b1 + b0;
 *   if z < q return z else bot.
 * rho is public (part of pk), so the branches here carry no secret. */
void mldsa_rej_ntt_poly(mldsa_poly *a, const uint8_t rho[32], uint8_t s, uint8_t r)
{
    keccak_state g;
    uint8_t seed[34], buf[SHAKE128_RATE];
    memcpy(seed, rho, 32);
    seed[32] = s;
    seed[33] = r;
    shake128_init(&g);
    shake128_absorb(&g, seed, sizeof(seed));
    shake128_finalize(&g);
    unsigned j = 0;
    while (j < MLDSA_N) {
        keccak_squeeze_blocks(&g, buf, 1);
        for (unsigned i = 0; i + 3 <= SHAKE128_RATE && j < MLDSA_N; i += 3) {
            uint32_t z = (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8 |
                         (uint32_t)(buf[i + 2] & 0x7f) << 16;
            if (z < Q)
                a->c[j++] = (int32_t)z;
        }
    }
}

/* FIPS 204 Algorithm 31 RejBoundedPoly(rho) with Algorithm 33's seed
 * rho' || IntegerToBytes(r, 2):
 *   ctx <- H.Init(); ctx <- H.Absorb(ctx, rho); j <- 0
 *   while j < 256: z <- H.Squeeze(ctx, 1);
 *     z0 <- CoeffFromHalfByte(z mod 16, eta); z1 <- CoeffFromHalfByte(floor(z/16), eta)
 *     if z0 != bot: a_j <- z0; j++;  if z1 != bot and j < 256: a_j <- z1; j++
 * Algorithm 15 CoeffFromHalfByte(b, eta): if eta = 2 and b < 15 return 2 - (b mod 5);
 *   if eta = 4 and b < 9 return 4 - b; else bot.
 * rho' is secret.  Declassified: the accept/reject bit of each half-byte.  A
 * rejected half-byte is discarded and an accepted one is used whatever the
 * rejections around it were, so the pattern only tells which XOF output was thrown
 * away, not the value of any coefficient of s1 or s2.  The coefficient values are
 * computed without branches (b mod 5 as b - 5 floor(205 b / 1024), exact for
 * b < 15). */
void mldsa_rej_bounded_poly(mldsa_poly *a, const uint8_t rhop[64], uint16_t nonce, unsigned eta)
{
    keccak_state h;
    uint8_t seed[66], buf[SHAKE256_RATE];
    memcpy(seed, rhop, 64);
    seed[64] = (uint8_t)nonce;
    seed[65] = (uint8_t)(nonce >> 8);
    shake256_init(&h);
    shake256_absorb(&h, seed, sizeof(seed));
    shake256_finalize(&h);
    const uint32_t limit = eta == 2 ? 15 : 9;
    unsigned j = 0;
    while (j < MLDSA_N) {
        keccak_squeeze_blocks(&h, buf, 1);
        for (unsigned i = 0; i < SHAKE256_RATE && j < MLDSA_N; i++) {
            for (unsigned half = 0; half < 2 && j < MLDSA_N; half++) {
                uint32_t b = half ? (uint32_t)buf[i] >> 4 : (uint32_t)buf[i] & 15;
                int32_t v;
                if (eta == 2)
                    v = 2 - (int32_t)(b - 5 * ((205 * b) >> 10));
                else
                    v = 4 - (int32_t)b;
                uint32_t accept = (b - limit) >> 31; /* 1 iff b < limit */
                MLDSA_DECLASSIFY(&accept, sizeof(accept));
                if (accept)
                    a->c[j++] = v;
            }
        }
    }
    qpki_wipe(buf, sizeof(buf));
    qpki_wipe(seed, sizeof(seed));
    qpki_wipe(&h, sizeof(h));
}

/* FIPS 204 Algorithm 34 ExpandMask(rho'', mu), one row r with nonce mu + r:
 *   rho''' <- rho'' || IntegerToBytes(mu + r, 2); v <- H(rho''', 32c)
 *   y[r] <- BitUnpack(v, gamma1 - 1, gamma1), c = 1 + bitlen(gamma1 - 1). */
void mldsa_expand_mask_poly(mldsa_poly *y, const uint8_t rhopp[64], uint16_t nonce,
                            const mldsa_params *p)
{
    keccak_state h;
    uint8_t seed[66], buf[5 * SHAKE256_RATE]; /* >= 32 * 20 = 640 */
    memcpy(seed, rhopp, 64);
    seed[64] = (uint8_t)nonce;
    seed[65] = (uint8_t)(nonce >> 8);
    shake256_init(&h);
    shake256_absorb(&h, seed, sizeof(seed));
    shake256_finalize(&h);
    keccak_squeeze_blocks(&h, buf, 5);
    mldsa_unpack(y, buf, p->gamma1_bits, p->gamma1);
    qpki_wipe(buf, sizeof(buf));
    qpki_wipe(seed, sizeof(seed));
    qpki_wipe(&h, sizeof(h));
}

/* FIPS 204 Algorithm 29 SampleInBall(rho):
 *   c <- 0; ctx <- H.Init(); ctx <- H.Absorb(ctx, rho); (ctx, s) <- H.Squeeze(ctx, 8)
 *   h <- BytesToBits(s)
 *   for i from 256 - tau to 255:
 *     (ctx, j) <- H.Squeeze(ctx, 1); while j > i: (ctx, j) <- H.Squeeze(ctx, 1)
 *     c_i <- c_j; c_j <- (-1)^h[i + tau - 256]
 * c~ belongs to the signature once accepted, but c for a rejected candidate is an
 * intermediate value, so the swaps are done without a secret index or branch.
 * Declassified: only the comparison j > i of each squeezed byte (a rejected byte is
 * discarded; accepted ones are used whatever came before).  The accepted j are
 * collected first (js[t] for i = 256 - tau + t), then placed:
 *  - portable: c is kept as two 256-bit masks (nz: c_k != 0, neg: c_k = -1) in 4
 *    words each; bit j is read and written in all 4 words under a word mask (shifts
 *    by a secret count are constant time on the CPUs we target);
 *  - AVX2 (mldsa_avx2_place_signs): the position of each +-1 is tracked instead. */
void mldsa_sample_in_ball(mldsa_poly *c, const uint8_t *ctilde, size_t ctilde_len, unsigned tau)
{
    keccak_state h;
    uint8_t buf[SHAKE256_RATE], js[64];
    shake256_init(&h);
    shake256_absorb(&h, ctilde, ctilde_len);
    shake256_finalize(&h);
    keccak_squeeze_blocks(&h, buf, 1);
    uint64_t signs = 0;
    for (unsigned i = 0; i < 8; i++)
        signs |= (uint64_t)buf[i] << (8 * i);
    unsigned pos = 8;
    for (unsigned i = MLDSA_N - tau; i < MLDSA_N; i++) {
        uint32_t j;
        for (;;) {
            if (pos == SHAKE256_RATE) {
                keccak_squeeze_blocks(&h, buf, 1);
                pos = 0;
            }
            j = buf[pos++];
            uint32_t reject = (i - j) >> 31; /* 1 iff j > i */
            MLDSA_DECLASSIFY(&reject, sizeof(reject));
            if (!reject)
                break;
        }
        js[i - (MLDSA_N - tau)] = (uint8_t)j;
    }
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active()) {
        mldsa_avx2_place_signs(c->c, js, signs, tau);
        goto out;
    }
#endif
    uint64_t nz[4] = {0, 0, 0, 0}, neg[4] = {0, 0, 0, 0};
    for (unsigned i = MLDSA_N - tau; i < MLDSA_N; i++) {
        const uint32_t j = js[i - (MLDSA_N - tau)];
        uint64_t s = signs & 1; /* h[i + tau - 256]: 1 means c_j = -1 */
        signs >>= 1;
        const unsigned jb = j & 63;
        const uint32_t jw = j >> 6;
        uint64_t old_nz = 0, old_neg = 0;
        for (uint32_t w = 0; w < 4; w++) {
            /* all ones iff w == j/64 */
            uint64_t m = value_barrier_u64(0 - (uint64_t)(((w ^ jw) - 1) >> 31));
            old_nz |= (nz[w] >> jb) & 1 & m;
            old_neg |= (neg[w] >> jb) & 1 & m;
        }
        /* c_i <- c_j (i is public) */
        nz[i >> 6] = (nz[i >> 6] & ~(1ULL << (i & 63))) | old_nz << (i & 63);
        neg[i >> 6] = (neg[i >> 6] & ~(1ULL << (i & 63))) | old_neg << (i & 63);
        /* c_j <- (-1)^h */
        for (uint32_t w = 0; w < 4; w++) {
            uint64_t m = value_barrier_u64(0 - (uint64_t)(((w ^ jw) - 1) >> 31));
            uint64_t bit = (1ULL << jb) & m;
            nz[w] |= bit;
            neg[w] = (neg[w] & ~bit) | ((s << jb) & m);
        }
    }
    for (unsigned k = 0; k < MLDSA_N; k++) {
        int32_t n = (int32_t)((nz[k >> 6] >> (k & 63)) & 1);
        int32_t g = (int32_t)((neg[k >> 6] >> (k & 63)) & 1);
        c->c[k] = n * (1 - 2 * g);
    }
    qpki_wipe(nz, sizeof(nz));
    qpki_wipe(neg, sizeof(neg));
#if MLDSA_HAVE_AVX2
out:
#endif
    qpki_wipe(js, sizeof(js));
    qpki_wipe(buf, sizeof(buf));
    qpki_wipe(&h, sizeof(h));
}

/* FIPS 204 Algorithms 16-17: BitPack(w, a, b) stores each b - w_i as a
 * bitlen(a + b)-bit integer, least significant bit first (IntegerToBits then
 * BitsToBytes); SimpleBitPack(w, b) stores w_i itself.  `off` is BitPack's b, or
 * 0 for SimpleBitPack (off is a public parameter, never data).
 * Eight coefficients fill exactly `bits` bytes, so the polynomial is packed in 32
 * groups; with `bits` a constant (pack_fixed, inlined per width) the bit positions
 * inside a group are known at compile time and the loop is straight-line code. */
NTT_INLINE void pack_fixed(uint8_t *out, const mldsa_poly *p, const unsigned bits, int32_t off)
{
    const uint32_t mask = (uint32_t)((1u << bits) - 1u);
    for (unsigned g = 0; g < MLDSA_N / 8; g++) {
        const int32_t *c = p->c + 8 * g;
        uint8_t *o = out + bits * g;
        if (bits <= 8) { /* the group fits one 64-bit word */
            uint64_t word = 0;
            MLDSA_UNROLL
            for (unsigned k = 0; k < 8; k++) {
                uint32_t v = off ? (uint32_t)(off - c[k]) : (uint32_t)c[k];
                word |= (uint64_t)(v & mask) << (k * bits);
            }
            MLDSA_UNROLL
            for (unsigned b = 0; b < bits; b++)
                o[b] = (uint8_t)(word >> (8 * b));
            continue;
        }
        uint64_t acc = 0;
        unsigned nacc = 0;
        MLDSA_UNROLL
        for (unsigned k = 0; k < 8; k++) {
            uint32_t v = off ? (uint32_t)(off - c[k]) : (uint32_t)c[k];
            acc |= (uint64_t)(v & mask) << nacc;
            nacc += bits;
            MLDSA_UNROLL
            while (nacc >= 8) {
                *o++ = (uint8_t)acc;
                acc >>= 8;
                nacc -= 8;
            }
        }
    }
}

void mldsa_pack(uint8_t *out, const mldsa_poly *p, unsigned bits, int32_t off)
{
#if MLDSA_HAVE_AVX2
    if (off == 0 && (bits == 4 || bits == 6) && mldsa_avx2_active()) { /* w1 */
        mldsa_avx2_pack_w1(out, p->c, bits);
        return;
    }
#endif
    switch (bits) {
    case 3: pack_fixed(out, p, 3, off); break;       /* s1, s2 with eta = 2 */
    case 4: pack_fixed(out, p, 4, off); break;       /* eta = 4; w1 with gamma2 = (q-1)/32 */
    case 6: pack_fixed(out, p, 6, off); break;       /* w1 with gamma2 = (q-1)/88 */
    case 10: pack_fixed(out, p, 10, off); break;     /* t1 */
    case 13: pack_fixed(out, p, 13, off); break;     /* t0 */
    case 18: pack_fixed(out, p, 18, off); break;     /* z with gamma1 = 2^17 */
    case 20: pack_fixed(out, p, 20, off); break;     /* z with gamma1 = 2^19 */
    default: pack_fixed(out, p, bits, off); break;
    }
}

static inline uint32_t load32_le(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Eight coefficients from the `bits` bytes at g: coefficient k starts at bit
 * k * bits, and one 4-byte little-endian load from its first byte covers it (shift
 * <= 7, bits <= 24 + 1); the loads may read up to 3 bytes past the group. */
NTT_INLINE void unpack_group(int32_t *c, const uint8_t *g, const unsigned bits, int32_t off)
{
    const uint32_t mask = (uint32_t)((1u << bits) - 1u);
    MLDSA_UNROLL
    for (unsigned k = 0; k < 8; k++) {
        const unsigned bit = k * bits;
        int32_t v = (int32_t)((load32_le(g + bit / 8) >> (bit % 8)) & mask);
        c[k] = off ? off - v : v;
    }
}

NTT_INLINE void unpack_fixed(mldsa_poly *p, const uint8_t *in, const unsigned bits, int32_t off)
{
    /* Groups 0..30 have at least `bits` >= 3 bytes after them inside the input;
     * the last one is copied first so that no load reads past the input. */
    for (unsigned g = 0; g < MLDSA_N / 8 - 1; g++)
        unpack_group(p->c + 8 * g, in + bits * g, bits, off);
    uint8_t last[24 + 4] = {0};
    memcpy(last, in + bits * (MLDSA_N / 8 - 1), bits);
    unpack_group(p->c + MLDSA_N - 8, last, bits, off);
    qpki_wipe(last, sizeof(last)); /* may hold secret key or y bytes */
}

/* FIPS 204 Algorithms 18-19 SimpleBitUnpack / BitUnpack: w_i = b - (i-th
 * bits-bit integer), or the integer itself for SimpleBitUnpack (off = 0).
 * bits is at most 24. */
void mldsa_unpack(mldsa_poly *p, const uint8_t *in, unsigned bits, int32_t off)
{
#if MLDSA_HAVE_AVX2
    if (mldsa_avx2_active() && mldsa_avx2_unpack(p->c, in, bits, off))
        return;
#endif
    switch (bits) {
    case 3: unpack_fixed(p, in, 3, off); break;
    case 4: unpack_fixed(p, in, 4, off); break;
    case 10: unpack_fixed(p, in, 10, off); break;
    case 13: unpack_fixed(p, in, 13, off); break;
    case 18: unpack_fixed(p, in, 18, off); break;
    case 20: unpack_fixed(p, in, 20, off); break;
    default: unpack_fixed(p, in, bits, off); break;
    }
}
