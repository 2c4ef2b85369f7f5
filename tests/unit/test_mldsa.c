/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_mldsa.c - ML-DSA-44/65/87 (FIPS 204): arithmetic checked against
 * the definitions, API contract, and every NIST ACVP keyGen / sigGen / sigVer case
 * (pure and pre-hash, internal, external and externalMu interfaces, deterministic
 * and hedged, with and without context).  The differential test against
 * @noble/post-quantum is tests/interop/mldsa_noble.sh. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha3.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qpki_config.h"
#include "testutil.h"
#include "crypto/keccak.h"
#include "crypto/mldsa/mldsa.h"
#include "internal.h"
#include "safety.h"

/* With -Dmldsa=wolfssl the internal interfaces (M', mu, the arithmetic) are not
 * available: those checks are skipped and counted. */
#if QPKI_MLDSA_BUILTIN
#include "crypto/mldsa/mldsa_internal.h"
#define HAVE_INTERNAL 1
#else
#define HAVE_INTERNAL 0
static int mldsa_sign_mu(mldsa_level l, const uint8_t *sk, const uint8_t *mu, const uint8_t *rnd,
                         uint8_t *sig)
{
    (void)l, (void)sk, (void)mu, (void)rnd, (void)sig;
    return -1;
}
static int mldsa_verify_mu(mldsa_level l, const uint8_t *pk, const uint8_t *mu, const uint8_t *sig,
                           size_t n)
{
    (void)l, (void)pk, (void)mu, (void)sig, (void)n;
    return -1;
}
#endif

static const mldsa_level levels[3] = {MLDSA_44, MLDSA_65, MLDSA_87};

/* The ACVP and round-trip tests run twice: on the AVX2 path (when the CPU has it)
 * and on the portable path; state points at 1 or 0. */
static int path_portable = 0, path_avx2 = 1;

static const char *select_path(void **state)
{
#if QPKI_MLDSA_BUILTIN
    int want = state && *state ? *(int *)*state : 0;
    mldsa_set_avx2(want);
    if (want && !mldsa_avx2_active())
        return NULL; /* no AVX2 on this CPU */
    return mldsa_avx2_active() ? "avx2" : "portable";
#else
    (void)state;
    return "wolfssl";
#endif
}

#define SELECT_PATH_OR_SKIP(state, name)                                   \
    const char *name = select_path(state);                                 \
    if (!name) {                                                           \
        printf("AVX2 not available on this CPU: skipped\n");              \
        skip();                                                            \
    }

static mldsa_level level_of(const char *name)
{
    if (strcmp(name, "ML-DSA-44") == 0)
        return MLDSA_44;
    if (strcmp(name, "ML-DSA-65") == 0)
        return MLDSA_65;
    assert_string_equal(name, "ML-DSA-87");
    return MLDSA_87;
}

static void test_sizes_match_fips204_table2(void **state)
{
    (void)state;
    assert_int_equal(mldsa_pk_bytes(MLDSA_44), 1312);
    assert_int_equal(mldsa_sk_bytes(MLDSA_44), 2560);
    assert_int_equal(mldsa_sig_bytes(MLDSA_44), 2420);
    assert_int_equal(mldsa_pk_bytes(MLDSA_65), 1952);
    assert_int_equal(mldsa_sk_bytes(MLDSA_65), 4032);
    assert_int_equal(mldsa_sig_bytes(MLDSA_65), 3309);
    assert_int_equal(mldsa_pk_bytes(MLDSA_87), 2592);
    assert_int_equal(mldsa_sk_bytes(MLDSA_87), 4896);
    assert_int_equal(mldsa_sig_bytes(MLDSA_87), 4627);
    assert_int_equal(mldsa_pk_bytes((mldsa_level)42), 0);
    assert_int_equal(mldsa_sig_bytes((mldsa_level)42), 0);
}

#if QPKI_MLDSA_BUILTIN
/* Decompose against FIPS 204 Algorithm 36 written literally, for every r in [0, q). */
static void test_decompose_matches_definition_for_every_residue(void **state)
{
    (void)state;
    const int32_t g2s[2] = {(MLDSA_Q - 1) / 88, (MLDSA_Q - 1) / 32};
    for (int g = 0; g < 2; g++) {
        int32_t g2 = g2s[g];
        for (int32_t r = 0; r < MLDSA_Q; r++) {
            int32_t r0 = r % (2 * g2);
            if (r0 > g2)
                r0 -= 2 * g2;
            int32_t r1;
            if (r - r0 == MLDSA_Q - 1) {
                r1 = 0;
                r0 -= 1;
            } else {
                r1 = (r - r0) / (2 * g2);
            }
            int32_t a1, a0;
            mldsa_decompose(g2, r, &a1, &a0);
            if (a1 != r1 || a0 != r0)
                fail_msg("decompose(%d) gamma2 %d: got (%d,%d) want (%d,%d)", r, g2, a1, a0, r1,
                         r0);
        }
        /* mldsa_poly_decompose on both paths, on every residue as w in [0, q) and as
         * w - q in (-q, 0) (its inputs come from the inverse NTT) */
        for (int path = 0; path < 2; path++) {
            mldsa_set_avx2(path);
            mldsa_poly w0, w1;
            for (int32_t base = 0; base < 2 * MLDSA_Q; base += MLDSA_N) {
                for (int i = 0; i < MLDSA_N; i++) {
                    int32_t v = (base + i) % (2 * MLDSA_Q);
                    w0.c[i] = v < MLDSA_Q ? v : v - 2 * MLDSA_Q + 1; /* [0, q), then (-q, 0) */
                }
                mldsa_poly in = w0;
                mldsa_poly_decompose(&w0, &w1, g2);
                for (int i = 0; i < MLDSA_N; i++) {
                    int32_t a1, a0;
                    mldsa_decompose(g2, mldsa_freeze(in.c[i]), &a1, &a0);
                    if (w1.c[i] != a1 || w0.c[i] != a0)
                        fail_msg("%s decompose(%d) gamma2 %d: got (%d,%d) want (%d,%d)",
                                 path ? "avx2" : "portable", in.c[i], g2, w1.c[i], w0.c[i], a1,
                                 a0);
                }
            }
        }
        mldsa_set_avx2(1);
    }
}

/* FIPS 204 Algorithm 36 Decompose, HighBits, LowBits and Algorithm 39 MakeHint
 * written out literally (test oracle). */
static void fips_decompose(int32_t g2, int64_t r, int32_t *r1, int32_t *r0)
{
    int64_t rp = ((r % MLDSA_Q) + MLDSA_Q) % MLDSA_Q; /* r+ <- r mod q */
    int64_t lo = rp % (2 * g2);                        /* r0 <- r+ mod+- 2 gamma2 */
    if (lo > g2)
        lo -= 2 * g2;
    if (rp - lo == MLDSA_Q - 1) {
        *r1 = 0;
        *r0 = (int32_t)lo - 1;
    } else {
        *r1 = (int32_t)((rp - lo) / (2 * g2));
        *r0 = (int32_t)lo;
    }
}

/* The signing loop's steps 21-27 as computed (mldsa_poly_decompose, then
 * mldsa_poly_low_check on w0 - <<cs2>>, then mldsa_poly_make_hint from w0 - cs2,
 * ct0 and w1) decide exactly as FIPS 204 writes them (reject iff ||LowBits(w - cs2)||
 * >= gamma2 - beta; h = MakeHint(-ct0, w - cs2 + ct0)), on both paths: every w0 near
 * the edges of the low-bits range and a spread of the others, for high bits 0, 1,
 * m - 2 and m - 1 (the wrap of Decompose at q - 1), with cs2 at +-beta, +-(beta - 1),
 * 0, +-1 (also as cs2 -+ q, as the inverse NTT may return it) and ct0 across
 * (-gamma2, gamma2) including the values putting w0 - cs2 + ct0 at -gamma2 - 1,
 * -gamma2 and gamma2.  Checked per coefficient, 256 cases per call. */
struct loop_case { int32_t w, cs2, ct0; };

static void check_loop_batch(const struct loop_case *cs, unsigned n, int32_t g2, int32_t beta,
                             unsigned long *rejects, unsigned long *hints)
{
    mldsa_poly w0, w1, cs2, ct0, h;
    memset(&w0, 0, sizeof(w0)); /* unused coefficients: w = cs2 = ct0 = 0, no reject, no hint */
    memset(&cs2, 0, sizeof(cs2));
    memset(&ct0, 0, sizeof(ct0));
    for (unsigned i = 0; i < n; i++) {
        w0.c[i] = cs[i].w;
        cs2.c[i] = cs[i].cs2;
        ct0.c[i] = cs[i].ct0;
    }
    mldsa_poly_decompose(&w0, &w1, g2);
    uint32_t any_reject = 0, want_ones = 0;
    int want_h[MLDSA_N] = {0};
    for (unsigned i = 0; i < n; i++) {
        int32_t sc2 = mldsa_reduce32(cs[i].cs2), r1, r0, x1, x0;
        fips_decompose(g2, (int64_t)cs[i].w - sc2, &r1, &r0);
        int reject = (r0 < 0 ? -r0 : r0) >= g2 - beta;
        any_reject |= (uint32_t)reject;
        *rejects += (unsigned long)reject;
        /* the value low_check leaves, and its own test of it */
        int32_t u = w0.c[i] - sc2;
        assert_int_equal((u < 0 ? -u : u) >= g2 - beta, reject);
        fips_decompose(g2, (int64_t)cs[i].w - sc2 + cs[i].ct0, &x1, &x0);
        want_h[i] = !reject && x1 != r1; /* MakeHint(-ct0, w - cs2 + ct0) */
        want_ones += (uint32_t)want_h[i];
    }
    assert_int_equal(mldsa_poly_low_check(&w0, &cs2, g2 - beta), any_reject);
    uint32_t ones = 0;
    assert_int_equal(mldsa_poly_make_hint(&h, &w0, &ct0, &w1, g2, &ones), 0); /* |ct0| < g2 */
    uint32_t got_ones = 0;
    for (unsigned i = 0; i < n; i++) {
        int32_t sc2 = mldsa_reduce32(cs[i].cs2), r1, r0;
        fips_decompose(g2, (int64_t)cs[i].w - sc2, &r1, &r0);
        if ((r0 < 0 ? -r0 : r0) >= g2 - beta)
            continue; /* rejected: the hint is never used */
        if (h.c[i] != want_h[i])
            fail_msg("gamma2 %d beta %d: w %d cs2 %d ct0 %d: hint %d, FIPS 204 gives %d", g2,
                     beta, cs[i].w, cs[i].cs2, cs[i].ct0, h.c[i], want_h[i]);
        got_ones += (uint32_t)h.c[i];
    }
    assert_int_equal(got_ones, want_ones);
    *hints += want_ones;
    if (!any_reject)
        assert_int_equal(ones, want_ones);
}

static void test_sign_loop_checks_match_fips204_lowbits_and_makehint(void **state)
{
    (void)state;
    static const struct { int32_t g2, beta; } sets[] = {
        {(MLDSA_Q - 1) / 88, 78}, {(MLDSA_Q - 1) / 32, 196}, {(MLDSA_Q - 1) / 32, 120},
    };
    static struct loop_case batch[MLDSA_N];
    unsigned long rejects = 0, hints = 0, cases = 0;
    for (int path = 0; path < 2; path++) {
        mldsa_set_avx2(path);
        for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
            const int32_t g2 = sets[k].g2, beta = sets[k].beta, m = (MLDSA_Q - 1) / (2 * g2);
            const int32_t highs[4] = {0, 1, m - 2, m - 1};
            const int32_t cs2s[9] = {-beta, -beta + 1, -1, 0, 1, beta - 1, beta,
                                     beta - MLDSA_Q, -beta + MLDSA_Q};
            unsigned n = 0;
            for (int hi = 0; hi < 4; hi++)
                for (int32_t lo = -g2; lo <= g2; lo++) {
                    int32_t a = lo < 0 ? -lo : lo;
                    if (a > 2 * beta + 2 && a < g2 - 2 * beta - 2 && lo % 997 != 0)
                        continue; /* a spread of the middle */
                    if (lo == -g2 && highs[hi] != 0)
                        continue; /* not a Decompose output */
                    int64_t wv = ((int64_t)2 * g2 * highs[hi] + lo + MLDSA_Q) % MLDSA_Q;
                    for (int c = 0; c < 9; c++) {
                        int32_t u = lo - mldsa_reduce32(cs2s[c]);
                        const int32_t t0s[14] = {-g2 + 1, -g2 + 2, -g2 + beta, -beta, -1, 0, 1,
                                                 beta, g2 - beta, g2 - 2, g2 - 1, g2 - u,
                                                 -g2 - u - 1, -g2 - u};
                        for (int t = 0; t < 14; t++) {
                            if (t0s[t] <= -g2 || t0s[t] >= g2)
                                continue;
                            /* w as the inverse NTT may give it: in [0, q) or (-q, 0) */
                            batch[n].w = (int32_t)((cases & 1) && wv ? wv - MLDSA_Q : wv);
                            batch[n].cs2 = cs2s[c];
                            batch[n].ct0 = t0s[t];
                            cases++;
                            if (++n == MLDSA_N) {
                                check_loop_batch(batch, n, g2, beta, &rejects, &hints);
                                n = 0;
                            }
                        }
                    }
                }
            if (n)
                check_loop_batch(batch, n, g2, beta, &rejects, &hints);
        }
    }
    mldsa_set_avx2(1);
    /* the cases exercise both outcomes of both checks */
    assert_true(rejects > 10000 && hints > 10000 && cases > 500000);
}

static void test_ntt_product_equals_schoolbook_negacyclic_product(void **state)
{
    (void)state;
    uint32_t x = 12345;
    for (int trial = 0; trial < 20; trial++) {
        mldsa_poly a, b, ah, bh, r;
        for (int i = 0; i < MLDSA_N; i++) {
            x = x * 1103515245u + 12345u;
            a.c[i] = (int32_t)(x % MLDSA_Q) - (trial & 1 ? MLDSA_Q / 2 : 0);
            x = x * 1103515245u + 12345u;
            b.c[i] = (int32_t)(x % MLDSA_Q);
        }
        ah = a;
        bh = b;
        mldsa_set_avx2(trial % 2); /* both paths */
        mldsa_poly_ntt(&ah);
        mldsa_poly_ntt(&bh);
        mldsa_poly_pointwise(&r, &ah, &bh);
        mldsa_poly_invntt(&r);
        mldsa_set_avx2(1);
        for (int k = 0; k < MLDSA_N; k++) {
            int64_t acc = 0;
            for (int i = 0; i < MLDSA_N; i++) {
                int j = k - i;
                int64_t prod = (int64_t)a.c[i] * b.c[j < 0 ? j + MLDSA_N : j] % MLDSA_Q;
                acc += j < 0 ? -prod : prod;
            }
            int64_t want = ((acc % MLDSA_Q) + MLDSA_Q) % MLDSA_Q;
            assert_int_equal(mldsa_freeze(r.c[k]), want);
        }
    }
}


/* The fused products (mldsa_poly_product_invntt, the portable
 * mldsa_poly_dot_invntt and the AVX2 mldsa_poly_dot_invntt_avx2 used for
 * MatrixVectorNTT and for verification's A z - c t1) equal MultiplyNTT / AddNTT
 * followed by NTT^-1, coefficient by coefficient mod q and within (-q, q), also
 * at the largest inputs they are specified for (|a| = q - 1, |b| = 9q - 1, seven
 * terms, and for the AVX2 one a subtracted term with both factors 9q - 1). */
static void test_fused_products_equal_multiply_then_inverse_ntt(void **state)
{
    (void)state;
    uint32_t x = 777;
    static mldsa_poly a[7], b[7], c, d;
    for (int trial = 0; trial < 12; trial++) {
        for (int j = 0; j < 7; j++)
            for (int i = 0; i < MLDSA_N; i++) {
                x = x * 1103515245u + 12345u;
                a[j].c[i] = (int32_t)(x % MLDSA_Q);
                x = x * 1103515245u + 12345u;
                b[j].c[i] = (int32_t)(x % (18u * MLDSA_Q - 1)) - (9 * MLDSA_Q - 1);
                if (trial >= 10) { /* extremes */
                    a[j].c[i] = trial == 10 ? MLDSA_Q - 1 : -(MLDSA_Q - 1);
                    b[j].c[i] = 9 * MLDSA_Q - 1;
                }
            }
        for (int i = 0; i < MLDSA_N; i++) {
            x = x * 1103515245u + 12345u;
            c.c[i] = (int32_t)(x % (18u * MLDSA_Q - 1)) - (9 * MLDSA_Q - 1);
            x = x * 1103515245u + 12345u;
            d.c[i] = (int32_t)(x % (18u * MLDSA_Q - 1)) - (9 * MLDSA_Q - 1);
            if (trial >= 10) { /* the subtracted term with the sign that adds up */
                c.c[i] = trial == 10 ? -(9 * MLDSA_Q - 1) : 9 * MLDSA_Q - 1;
                d.c[i] = 9 * MLDSA_Q - 1;
            }
        }
        for (unsigned n = 1; n <= 7; n++) {
            /* reference: products one by one (64-bit, exact) reduced mod q, then the
             * inverse NTT of the canonical values times 2^-32 (Montgomery) */
            mldsa_poly want, want_cd, got;
            for (int i = 0; i < MLDSA_N; i++) {
                int64_t acc = 0;
                for (unsigned j = 0; j < n; j++)
                    acc = (acc + (int64_t)a[j].c[i] * b[j].c[i]) % MLDSA_Q;
                want.c[i] = mldsa_montgomery_reduce(acc); /* a b 2^-32, |.| < q */
                acc = (acc - (int64_t)c.c[i] * d.c[i]) % MLDSA_Q;
                want_cd.c[i] = mldsa_montgomery_reduce(acc);
            }
            mldsa_set_avx2(0);
            mldsa_poly_invntt(&want);
            mldsa_poly_invntt(&want_cd);
            mldsa_poly_dot_invntt(&got, a, b, n);
            for (int i = 0; i < MLDSA_N; i++) {
                assert_true(got.c[i] > -MLDSA_Q && got.c[i] < MLDSA_Q);
                assert_int_equal(mldsa_freeze(got.c[i]), mldsa_freeze(want.c[i]));
            }
#if MLDSA_HAVE_AVX2
            mldsa_set_avx2(1);
            if (mldsa_avx2_active()) { /* the AVX2 row products */
                for (int minus = 0; minus < 2; minus++) {
                    const mldsa_poly *w = minus ? &want_cd : &want;
                    mldsa_poly_dot_invntt_avx2(got.c, a, b, n, minus ? &c : NULL,
                                               minus ? &d : NULL);
                    for (int i = 0; i < MLDSA_N; i++) {
                        assert_true(got.c[i] > -MLDSA_Q && got.c[i] < MLDSA_Q);
                        assert_int_equal(mldsa_freeze(got.c[i]), mldsa_freeze(w->c[i]));
                    }
                }
            }
#endif
            if (n == 1) {
                for (int path = 0; path < 2; path++) {
                    mldsa_set_avx2(path);
                    mldsa_poly_product_invntt(&got, &a[0], &b[0]);
                    for (int i = 0; i < MLDSA_N; i++) {
                        assert_true(got.c[i] > -MLDSA_Q && got.c[i] < MLDSA_Q);
                        assert_int_equal(mldsa_freeze(got.c[i]), mldsa_freeze(want.c[i]));
                    }
                }
            }
        }
        mldsa_set_avx2(1);
    }
}

/* BitPack / BitUnpack (FIPS 204 Algorithms 16-19) invert each other for every width
 * the standard uses, on both paths, at both ends of each range; the bytes of a known pattern are
 * checked against the bit order of the definition (least significant bit first). */
static void test_bit_packing_round_trips_every_width(void **state)
{
    (void)state;
    static const struct { unsigned bits; int32_t off, lo, hi; } w[] = {
        {3, 2, -2, 2}, {4, 4, -4, 4}, {4, 0, 0, 15}, {6, 0, 0, 43}, {10, 0, 0, 1023},
        {13, 4096, -4095, 4096}, {18, 1 << 17, -(1 << 17) + 1, 1 << 17},
        {20, 1 << 19, -(1 << 19) + 1, 1 << 19},
    };
    uint32_t x = 99;
    for (size_t kk = 0; kk < 2 * sizeof(w) / sizeof(w[0]); kk++) {
        const size_t k = kk % (sizeof(w) / sizeof(w[0]));
        mldsa_set_avx2(kk < sizeof(w) / sizeof(w[0])); /* both paths */
        mldsa_poly p, back;
        uint8_t buf[32 * 24 + 8];
        for (int i = 0; i < MLDSA_N; i++) {
            x = x * 1103515245u + 12345u;
            p.c[i] = i < 2 ? (i ? w[k].hi : w[k].lo)
                           : w[k].lo + (int32_t)(x % (uint32_t)(w[k].hi - w[k].lo + 1));
        }
        memset(buf, 0xee, sizeof(buf));
        mldsa_pack(buf, &p, w[k].bits, w[k].off);
        for (size_t i = 32 * w[k].bits; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xee); /* nothing written past 32 * bits bytes */
        /* bit j of the output is bit (j mod bits) of coefficient j / bits */
        for (unsigned j = 0; j < 32 * 8 * w[k].bits; j += 7) {
            uint32_t v = (uint32_t)(w[k].off ? w[k].off - p.c[j / w[k].bits] : p.c[j / w[k].bits]);
            assert_int_equal((buf[j / 8] >> (j % 8)) & 1, (v >> (j % w[k].bits)) & 1);
        }
        mldsa_unpack(&back, buf, w[k].bits, w[k].off);
        assert_memory_equal(back.c, p.c, sizeof(p.c));
    }
    mldsa_set_avx2(1);
}
#endif

static void test_keygen_sign_verify_round_trip_all_levels(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    uint8_t pk[MLDSA_MAX_PK_BYTES], pk2[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES];
    uint8_t sig[MLDSA_MAX_SIG_BYTES], sig2[MLDSA_MAX_SIG_BYTES], seed[32], rnd[32];
    const uint8_t msg[] = "OCSP response to be signed";
    const uint8_t ctx[] = "qpki";
    for (int i = 0; i < 32; i++) {
        seed[i] = (uint8_t)i;
        rnd[i] = (uint8_t)(0xa0 + i);
    }
    for (int li = 0; li < 3; li++) {
        mldsa_level lv = levels[li];
        size_t siglen = mldsa_sig_bytes(lv);
        assert_int_equal(mldsa_keygen(lv, seed, pk, sk), 0);
        if (HAVE_INTERNAL) {
            assert_int_equal(mldsa_pk_from_sk(lv, sk, pk2), 0);
            assert_memory_equal(pk, pk2, mldsa_pk_bytes(lv));
        }
        /* deterministic: same signature twice; hedged: a different one */
        assert_int_equal(mldsa_sign(lv, sk, msg, sizeof(msg), ctx, 4, NULL, sig), 0);
        assert_int_equal(mldsa_sign(lv, sk, msg, sizeof(msg), ctx, 4, NULL, sig2), 0);
        assert_memory_equal(sig, sig2, siglen);
        assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg), ctx, 4, sig, siglen), 0);
        assert_int_equal(mldsa_sign(lv, sk, msg, sizeof(msg), ctx, 4, rnd, sig2), 0);
        assert_memory_not_equal(sig, sig2, siglen);
        assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg), ctx, 4, sig2, siglen), 0);
        /* wrong context, message, length, or a flipped bit: rejected */
        assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg), ctx, 3, sig, siglen), -1);
        assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg) - 1, ctx, 4, sig, siglen), -1);
        assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg), ctx, 4, sig, siglen - 1), -1);
        for (size_t pos = 0; pos < siglen; pos += siglen / 7) {
            sig[pos] ^= 0x10;
            assert_int_equal(mldsa_verify(lv, pk, msg, sizeof(msg), ctx, 4, sig, siglen), -1);
            sig[pos] ^= 0x10;
        }
        /* empty message and empty context are fine */
        assert_int_equal(mldsa_sign(lv, sk, NULL, 0, NULL, 0, rnd, sig), 0);
        assert_int_equal(mldsa_verify(lv, pk, NULL, 0, NULL, 0, sig, siglen), 0);
    }
}

static void test_context_longer_than_255_bytes_is_rejected(void **state)
{
    (void)state;
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    uint8_t seed[32] = {1}, ctx[256] = {0};
    assert_int_equal(mldsa_keygen(MLDSA_44, seed, pk, sk), 0);
    assert_int_equal(mldsa_sign(MLDSA_44, sk, seed, 32, ctx, 256, NULL, sig), -1);
    assert_int_equal(mldsa_sign(MLDSA_44, sk, seed, 32, ctx, 255, NULL, sig), 0);
    assert_int_equal(mldsa_verify(MLDSA_44, pk, seed, 32, ctx, 255, sig, 2420), 0);
    assert_int_equal(mldsa_verify(MLDSA_44, pk, seed, 32, ctx, 256, sig, 2420), -1);
    assert_int_equal(mldsa_keygen((mldsa_level)1, seed, pk, sk), -1);
}

/* A prepared signing context gives exactly mldsa_sign's signatures: every level,
 * deterministic and hedged, empty and non-empty message and context string, and
 * (builtin) a context prepared on one code path used on the other. */
static void test_signing_context_gives_the_signatures_of_mldsa_sign(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    (void)path;
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], seed[32], rnd[32], msg[300];
    uint8_t sig[MLDSA_MAX_SIG_BYTES], sig2[MLDSA_MAX_SIG_BYTES];
    const uint8_t context[] = "signing context test";
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(3 * i + 1);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 11);
    for (int li = 0; li < 3; li++) {
        mldsa_level lv = levels[li];
        size_t siglen = mldsa_sig_bytes(lv);
        seed[0] = (uint8_t)li;
        assert_int_equal(mldsa_keygen(lv, seed, pk, sk), 0);
        mldsa_sign_ctx *sc = NULL;
        assert_int_equal(mldsa_sign_ctx_new(lv, sk, &sc), 0);
        assert_non_null(sc);
        for (int m = 0; m < 12; m++) {
            size_t ml = m % 3 == 0 ? 0 : (size_t)(37 * m) % sizeof(msg);
            size_t cl = m % 4 == 1 ? sizeof(context) : 0;
            for (int i = 0; i < 32; i++)
                rnd[i] = (uint8_t)(m * 17 + i);
            const uint8_t *r = m % 2 ? rnd : NULL;
            assert_int_equal(mldsa_sign(lv, sk, ml ? msg : NULL, ml, cl ? context : NULL, cl, r,
                                        sig), 0);
            assert_int_equal(mldsa_sign_with_ctx(sc, ml ? msg : NULL, ml, cl ? context : NULL,
                                                 cl, r, sig2), 0);
            assert_memory_equal(sig, sig2, siglen);
            assert_int_equal(mldsa_verify(lv, pk, msg, ml, context, cl, sig2, siglen), 0);
        }
#if HAVE_INTERNAL
        /* NTT-domain values are the same on both paths: a context prepared on one
         * path signs identically on the other. */
        int here = mldsa_avx2_active();
        mldsa_set_avx2(!here);
        assert_int_equal(mldsa_sign_with_ctx(sc, msg, 99, context, 5, rnd, sig2), 0);
        mldsa_set_avx2(here);
        assert_int_equal(mldsa_sign(lv, sk, msg, 99, context, 5, rnd, sig), 0);
        assert_memory_equal(sig, sig2, siglen);
#endif
        mldsa_sign_ctx_free(&sc);
        assert_null(sc);
    }
}

struct ctx_thread {
    const mldsa_sign_ctx *sc;
    int index;
    uint8_t sig[8][MLDSA_MAX_SIG_BYTES];
    int rc;
};

static void ctx_thread_message(int thread, int i, uint8_t msg[32], uint8_t rnd[32])
{
    for (int k = 0; k < 32; k++) {
        msg[k] = (uint8_t)(thread * 31 + i * 7 + k);
        rnd[k] = (uint8_t)(thread * 5 + i * 3 + k * 9);
    }
}

static void *ctx_thread_main(void *arg)
{
    struct ctx_thread *t = arg;
    for (int i = 0; i < 8; i++) {
        uint8_t msg[32], rnd[32];
        ctx_thread_message(t->index, i, msg, rnd);
        t->rc |= mldsa_sign_with_ctx(t->sc, msg, sizeof(msg), NULL, 0, rnd, t->sig[i]);
    }
    return NULL;
}

/* mldsa_sign_with_ctx only reads the context: four threads signing with one context
 * at the same time get the signatures mldsa_sign gives for each message alone. */
static void test_one_signing_context_serves_four_threads_at_once(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    (void)path;
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], seed[32] = {9};
    assert_int_equal(mldsa_keygen(MLDSA_65, seed, pk, sk), 0);
    mldsa_sign_ctx *sc = NULL;
    assert_int_equal(mldsa_sign_ctx_new(MLDSA_65, sk, &sc), 0);
    static struct ctx_thread t[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct ctx_thread){.sc = sc, .index = i};
        assert_int_equal(pthread_create(&tid[i], NULL, ctx_thread_main, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int th = 0; th < 4; th++) {
        assert_int_equal(t[th].rc, 0);
        for (int i = 0; i < 8; i++) {
            uint8_t msg[32], rnd[32], want[MLDSA_MAX_SIG_BYTES];
            ctx_thread_message(th, i, msg, rnd);
            assert_int_equal(mldsa_sign(MLDSA_65, sk, msg, sizeof(msg), NULL, 0, rnd, want), 0);
            assert_memory_equal(t[th].sig[i], want, 3309);
        }
    }
    mldsa_sign_ctx_free(&sc);
}

static void test_signing_context_rejects_bad_arguments_and_reports_no_memory(void **state)
{
    (void)state;
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    uint8_t seed[32] = {4}, context[256] = {0};
    assert_int_equal(mldsa_keygen(MLDSA_44, seed, pk, sk), 0);
    mldsa_sign_ctx *sc = (mldsa_sign_ctx *)(void *)seed; /* must be reset to NULL */
    assert_int_equal(mldsa_sign_ctx_new((mldsa_level)66, sk, &sc), -1);
    assert_null(sc);
    assert_int_equal(mldsa_sign_ctx_new(MLDSA_44, NULL, &sc), -1);
    assert_null(sc);
    assert_int_equal(mldsa_sign_ctx_new(MLDSA_44, sk, NULL), -1);
    assert_int_equal(mldsa_sign_with_ctx(NULL, seed, 1, NULL, 0, NULL, sig), -1);
    mldsa_sign_ctx_free(NULL);
    mldsa_sign_ctx_free(&sc);
    /* out of memory while preparing, and while signing */
    qpki_test_fail_alloc_after(0);
    assert_int_equal(mldsa_sign_ctx_new(MLDSA_44, sk, &sc), MLDSA_ERR_NOMEM);
    qpki_test_fail_alloc_after(-1);
    assert_null(sc);
    assert_int_equal(mldsa_sign_ctx_new(MLDSA_44, sk, &sc), 0);
#if HAVE_INTERNAL /* wolfSSL's own allocations do not go through qpki_malloc */
    qpki_test_fail_alloc_after(0);
    int rc = mldsa_sign_with_ctx(sc, seed, 32, NULL, 0, NULL, sig);
    qpki_test_fail_alloc_after(-1);
    assert_int_equal(rc, MLDSA_ERR_NOMEM);
#endif
    /* FIPS 204 Algorithm 2: |ctx| > 255 is an error; NULL with a length is one too */
    assert_int_equal(mldsa_sign_with_ctx(sc, seed, 32, context, 256, NULL, sig), -1);
    assert_int_equal(mldsa_sign_with_ctx(sc, seed, 32, NULL, 1, NULL, sig), -1);
    assert_int_equal(mldsa_sign_with_ctx(sc, NULL, 1, NULL, 0, NULL, sig), -1);
    assert_int_equal(mldsa_sign_with_ctx(sc, seed, 32, NULL, 0, NULL, NULL), -1);
    assert_int_equal(mldsa_sign_with_ctx(sc, seed, 32, context, 255, NULL, sig), 0);
    assert_int_equal(mldsa_verify(MLDSA_44, pk, seed, 32, context, 255, sig, 2420), 0);
    mldsa_sign_ctx_free(&sc);
    assert_null(sc);
}

/* FIPS 204 Algorithm 21 HintBitUnpack returns bot (and Verify fails) for counts that
 * decrease or exceed omega, indices that do not increase, and non-zero padding. */
static void test_malformed_hint_encodings_are_rejected(void **state)
{
    (void)state;
    static const struct { mldsa_level lv; size_t hint_off, omega, k; } sets[3] = {
        {MLDSA_44, 32 + 4 * 576, 80, 4},
        {MLDSA_65, 48 + 5 * 640, 55, 6},
        {MLDSA_87, 64 + 7 * 640, 75, 8},
    };
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    uint8_t bad[MLDSA_MAX_SIG_BYTES], seed[32] = {7};
    const uint8_t msg[] = "hint";
    for (int si = 0; si < 3; si++) {
        mldsa_level lv = sets[si].lv;
        size_t n = mldsa_sig_bytes(lv), om = sets[si].omega, k = sets[si].k;
        assert_int_equal(sets[si].hint_off + om + k, n);
        assert_int_equal(mldsa_keygen(lv, seed, pk, sk), 0);
        /* find a message whose signature has a row with >= 2 hints and spare room */
        int row = -1;
        uint8_t m2[sizeof(msg) + 1];
        memcpy(m2, msg, sizeof(msg));
        for (int t = 0; t < 256 && row < 0; t++) {
            m2[sizeof(msg)] = (uint8_t)t;
            assert_int_equal(mldsa_sign(lv, sk, m2, sizeof(m2), NULL, 0, NULL, sig), 0);
            const uint8_t *y = sig + sets[si].hint_off;
            if (y[om + k - 1] >= om)
                continue;
            for (size_t i = 0, prev = 0; i < k; prev = y[om + i], i++)
                if (y[om + i] >= prev + 2) {
                    row = (int)i;
                    break;
                }
        }
        assert_true(row >= 0);
        assert_int_equal(mldsa_verify(lv, pk, m2, sizeof(m2), NULL, 0, sig, n), 0);
        uint8_t *y = bad + sets[si].hint_off;
        /* a count above omega */
        memcpy(bad, sig, n);
        y[om + k - 1] = (uint8_t)(om + 1);
        assert_int_equal(mldsa_verify(lv, pk, m2, sizeof(m2), NULL, 0, bad, n), -1);
        /* a decreasing count */
        memcpy(bad, sig, n);
        y[om + k - 1] = (uint8_t)(y[om + k - 2] - 1);
        if (y[om + k - 2] > 0)
            assert_int_equal(mldsa_verify(lv, pk, m2, sizeof(m2), NULL, 0, bad, n), -1);
        /* indices of one row not strictly increasing */
        memcpy(bad, sig, n);
        size_t first = row ? y[om + (size_t)row - 1] : 0;
        uint8_t tmp = y[first];
        y[first] = y[first + 1];
        y[first + 1] = tmp;
        assert_int_equal(mldsa_verify(lv, pk, m2, sizeof(m2), NULL, 0, bad, n), -1);
        /* non-zero padding after the last index */
        memcpy(bad, sig, n);
        y[om - 1] = 1;
        assert_int_equal(mldsa_verify(lv, pk, m2, sizeof(m2), NULL, 0, bad, n), -1);
    }
}

static void test_null_arguments_and_unknown_levels_fail(void **state)
{
    (void)state;
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    uint8_t seed[32] = {0};
    assert_int_equal(mldsa_keygen(MLDSA_65, NULL, pk, sk), -1);
    assert_int_equal(mldsa_keygen(MLDSA_65, seed, NULL, sk), -1);
    assert_int_equal(mldsa_keygen(MLDSA_65, seed, pk, NULL), -1);
    assert_int_equal(mldsa_keygen(MLDSA_65, seed, pk, sk), 0);
    assert_int_equal(mldsa_sign(MLDSA_65, NULL, seed, 1, NULL, 0, NULL, sig), -1);
    assert_int_equal(mldsa_sign(MLDSA_65, sk, NULL, 1, NULL, 0, NULL, sig), -1);
    assert_int_equal(mldsa_sign(MLDSA_65, sk, seed, 1, NULL, 1, NULL, sig), -1);
    assert_int_equal(mldsa_sign((mldsa_level)66, sk, seed, 1, NULL, 0, NULL, sig), -1);
    assert_int_equal(mldsa_sign(MLDSA_65, sk, seed, 1, NULL, 0, NULL, sig), 0);
    assert_int_equal(mldsa_verify(MLDSA_65, NULL, seed, 1, NULL, 0, sig, 3309), -1);
    assert_int_equal(mldsa_verify(MLDSA_65, pk, seed, 1, NULL, 0, NULL, 3309), -1);
    assert_int_equal(mldsa_verify(MLDSA_44, pk, seed, 1, NULL, 0, sig, 3309), -1);
    assert_int_equal(mldsa_verify(MLDSA_65, pk, seed, 1, NULL, 0, sig, 3309), 0);
    assert_int_equal(mldsa_pk_from_sk((mldsa_level)0, sk, pk), -1);
}

/* ------------------------------------------------------------------- ACVP */

static void test_acvp_keygen_all_cases_pass(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    json *root = json_load_gz(tu_vector_path("acvp/ML-DSA-keyGen-FIPS204/internalProjection.json.gz"));
    assert_non_null(root);
    const json *groups = json_get(root, "testGroups");
    size_t total = 0, ok = 0;
    for (size_t g = 0; g < json_len(groups); g++) {
        const json *grp = json_at(groups, g);
        mldsa_level lv = level_of(json_str(json_get(grp, "parameterSet")));
        const json *tests = json_get(grp, "tests");
        for (size_t t = 0; t < json_len(tests); t++) {
            const json *tc = json_at(tests, t);
            size_t sl, pl, kl;
            uint8_t *seed = json_hex(tc, "seed", &sl), *pk = json_hex(tc, "pk", &pl),
                    *sk = json_hex(tc, "sk", &kl);
            assert_true(seed && pk && sk && sl == 32);
            assert_int_equal(pl, mldsa_pk_bytes(lv));
            assert_int_equal(kl, mldsa_sk_bytes(lv));
            uint8_t gpk[MLDSA_MAX_PK_BYTES], gsk[MLDSA_MAX_SK_BYTES];
            assert_int_equal(mldsa_keygen(lv, seed, gpk, gsk), 0);
            int good = memcmp(gpk, pk, pl) == 0 && memcmp(gsk, sk, kl) == 0;
            uint8_t pk2[MLDSA_MAX_PK_BYTES];
            if (HAVE_INTERNAL)
                good = good && mldsa_pk_from_sk(lv, sk, pk2) == 0 && memcmp(pk2, pk, pl) == 0;
            if (!good)
                printf("keyGen tcId %lld failed\n", json_int(json_get(tc, "tcId"), -1));
            total++;
            ok += (size_t)good;
            free(seed);
            free(pk);
            free(sk);
        }
    }
    printf("ML-DSA keyGen [%s]: %zu passed of %zu (pk, sk and pk_from_sk)\n", path, ok, total);
    assert_int_equal(ok, total);
    assert_int_equal(total, 75);
    json_free(root);
}

/* FIPS 204 §5.4.1 HashML-DSA: PH_M <- PH(M) and the DER OID of PH (Algorithm 4
 * step 10-22: 2.16.840.1.101.3.4.2.{1,2,3,4,5,6,7,8,9,10,11,12} for SHA-256,
 * SHA-384, SHA-512, SHA-224, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256,
 * SHA3-384, SHA3-512, SHAKE128 (256-bit output), SHAKE256 (512-bit output)).
 * The SHA-2 family and SHA3-224/384 come from wolfSSL, SHA3-256/512 and SHAKE
 * from our keccak.  Returns the length of OID || PH_M written to out, 0 if the
 * algorithm is unknown. */
static size_t prehash(const char *alg, const uint8_t *m, size_t mlen, uint8_t *out)
{
    static const uint8_t oid_prefix[10] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                           0x65, 0x03, 0x04, 0x02};
    uint8_t arc = 0;
    size_t hlen = 0;
    uint8_t *h = out + 11;
    word32 wl = (word32)mlen;
    int rc = 0;
    if (strcmp(alg, "SHA2-256") == 0) {
        arc = 1, hlen = 32, rc = wc_Sha256Hash(m, wl, h);
    } else if (strcmp(alg, "SHA2-384") == 0) {
        arc = 2, hlen = 48, rc = wc_Sha384Hash(m, wl, h);
    } else if (strcmp(alg, "SHA2-512") == 0) {
        arc = 3, hlen = 64, rc = wc_Sha512Hash(m, wl, h);
    } else if (strcmp(alg, "SHA2-224") == 0) {
        arc = 4, hlen = 28, rc = wc_Sha224Hash(m, wl, h);
    } else if (strcmp(alg, "SHA2-512/224") == 0) {
        arc = 5, hlen = 28, rc = wc_Sha512_224Hash(m, wl, h);
    } else if (strcmp(alg, "SHA2-512/256") == 0) {
        arc = 6, hlen = 32, rc = wc_Sha512_256Hash(m, wl, h);
    } else if (strcmp(alg, "SHA3-224") == 0) {
        arc = 7, hlen = 28, rc = wc_Sha3_224Hash(m, wl, h);
    } else if (strcmp(alg, "SHA3-256") == 0) {
        arc = 8, hlen = 32;
        sha3_256(h, m, mlen);
    } else if (strcmp(alg, "SHA3-384") == 0) {
        arc = 9, hlen = 48, rc = wc_Sha3_384Hash(m, wl, h);
    } else if (strcmp(alg, "SHA3-512") == 0) {
        arc = 10, hlen = 64;
        sha3_512(h, m, mlen);
    } else if (strcmp(alg, "SHAKE-128") == 0) {
        arc = 11, hlen = 32;
        shake128(h, 32, m, mlen);
    } else if (strcmp(alg, "SHAKE-256") == 0) {
        arc = 12, hlen = 64;
        shake256(h, 64, m, mlen);
    } else {
        return 0;
    }
    assert_int_equal(rc, 0);
    memcpy(out, oid_prefix, 10);
    out[10] = arc;
    return 11 + hlen;
}

/* Builds M' for the pure (domain 0) or pre-hash (domain 1) external interface:
 * IntegerToBytes(domain, 1) || IntegerToBytes(|ctx|, 1) || ctx || (M or OID || PH(M)). */
static uint8_t *external_mprime(int pre, const char *hash_alg, const uint8_t *ctx, size_t ctx_len,
                                const uint8_t *m, size_t mlen, size_t *out_len)
{
    uint8_t *mp = malloc(2 + ctx_len + mlen + 11 + 64);
    assert_non_null(mp);
    mp[0] = (uint8_t)pre;
    mp[1] = (uint8_t)ctx_len;
    memcpy(mp + 2, ctx, ctx_len);
    if (pre) {
        size_t n = prehash(hash_alg, m, mlen, mp + 2 + ctx_len);
        assert_true(n > 0);
        *out_len = 2 + ctx_len + n;
    } else {
        memcpy(mp + 2 + ctx_len, m, mlen);
        *out_len = 2 + ctx_len + mlen;
    }
    return mp;
}

struct sig_counts {
    size_t total, ok;
    size_t by_kind[5][2]; /* pure-external, prehash, internal, externalMu, (unused) x total/ok */
};

static const char *kind_names[4] = {"external pure", "external pre-hash (HashML-DSA)",
                                    "internal (M')", "internal externalMu (mu given)"};

static void test_acvp_siggen_all_cases_pass(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    json *prompt = json_load_gz(tu_vector_path("acvp/ML-DSA-sigGen-FIPS204/prompt.json.gz"));
    json *expect = json_load_gz(tu_vector_path("acvp/ML-DSA-sigGen-FIPS204/expectedResults.json.gz"));
    assert_non_null(prompt);
    assert_non_null(expect);
    const json *pg = json_get(prompt, "testGroups"), *eg = json_get(expect, "testGroups");
    struct sig_counts c = {0};
    size_t det = 0, hedged = 0, with_ctx = 0, skipped = 0, via_ctx[2] = {0, 0};
    for (size_t g = 0; g < json_len(pg); g++) {
        const json *grp = json_at(pg, g);
        long long tg = json_int(json_get(grp, "tgId"), -1);
        const json *egrp = NULL;
        for (size_t e = 0; e < json_len(eg); e++)
            if (json_int(json_get(json_at(eg, e), "tgId"), -2) == tg)
                egrp = json_at(eg, e);
        assert_non_null(egrp);
        mldsa_level lv = level_of(json_str(json_get(grp, "parameterSet")));
        int deterministic = json_bool(json_get(grp, "deterministic"), -1);
        assert_true(deterministic == 0 || deterministic == 1);
        const char *iface = json_str(json_get(grp, "signatureInterface"));
        const char *pre = json_str(json_get(grp, "preHash"));
        int ext_mu = json_bool(json_get(grp, "externalMu"), 0);
        int kind = strcmp(iface, "external") == 0 ? (pre && strcmp(pre, "preHash") == 0 ? 1 : 0)
                                                   : (ext_mu ? 3 : 2);
        const json *tests = json_get(grp, "tests"), *etests = json_get(egrp, "tests");
        for (size_t t = 0; t < json_len(tests); t++) {
            const json *tc = json_at(tests, t);
            long long id = json_int(json_get(tc, "tcId"), -1);
            const json *etc = NULL;
            for (size_t e = 0; e < json_len(etests); e++)
                if (json_int(json_get(json_at(etests, e), "tcId"), -2) == id)
                    etc = json_at(etests, e);
            assert_non_null(etc);
            if (!HAVE_INTERNAL && kind != 0) {
                skipped++;
                continue;
            }
            size_t skl, wl, rl = 0, ml = 0, cl = 0;
            uint8_t *sk = json_hex(tc, "sk", &skl), *want = json_hex(etc, "signature", &wl);
            uint8_t *rnd = deterministic ? NULL : json_hex(tc, "rnd", &rl);
            assert_true(sk && want && skl == mldsa_sk_bytes(lv) && wl == mldsa_sig_bytes(lv));
            assert_true(deterministic || (rnd && rl == 32));
            uint8_t sig[MLDSA_MAX_SIG_BYTES];
            int rc;
            if (kind == 3) {
                uint8_t *mu = json_hex(tc, "mu", &ml);
                assert_true(mu && ml == 64);
                rc = mldsa_sign_mu(lv, sk, mu, rnd, sig);
                free(mu);
            } else {
                uint8_t *msg = json_hex(tc, "message", &ml);
                assert_non_null(msg);
                if (kind == 2) {
                    rc = mldsa_sign_internal(lv, sk, msg, ml, rnd, sig);
                } else {
                    uint8_t *ctx = json_hex(tc, "context", &cl);
                    assert_non_null(ctx);
                    with_ctx += cl > 0;
                    if (kind == 0) {
                        rc = mldsa_sign(lv, sk, msg, ml, ctx, cl, rnd, sig);
                        /* the same case through a prepared signing context */
                        mldsa_sign_ctx *sc = NULL;
                        uint8_t sig2[MLDSA_MAX_SIG_BYTES];
                        assert_int_equal(mldsa_sign_ctx_new(lv, sk, &sc), 0);
                        int rc2 = mldsa_sign_with_ctx(sc, msg, ml, ctx, cl, rnd, sig2);
                        mldsa_sign_ctx_free(&sc);
                        assert_null(sc);
                        int good2 = rc2 == 0 && memcmp(sig2, want, wl) == 0;
                        if (!good2)
                            printf("sigGen tgId %lld tcId %lld with a signing context failed\n",
                                   tg, id);
                        via_ctx[0]++;
                        via_ctx[1] += (size_t)good2;
                    } else {
                        size_t mpl;
                        uint8_t *mp = external_mprime(1, json_str(json_get(tc, "hashAlg")), ctx,
                                                      cl, msg, ml, &mpl);
                        rc = mldsa_sign_internal(lv, sk, mp, mpl, rnd, sig);
                        free(mp);
                    }
                    free(ctx);
                }
                free(msg);
            }
            int good = rc == 0 && memcmp(sig, want, wl) == 0;
            if (!good)
                printf("sigGen tgId %lld tcId %lld (%s) failed\n", tg, id, kind_names[kind]);
            c.total++;
            c.ok += (size_t)good;
            c.by_kind[kind][0]++;
            c.by_kind[kind][1] += (size_t)good;
            det += (size_t)deterministic;
            hedged += (size_t)!deterministic;
            free(sk);
            free(want);
            free(rnd);
        }
    }
    for (int k = 0; k < 4; k++)
        printf("ML-DSA sigGen [%s] %s: %zu passed of %zu\n", path, kind_names[k], c.by_kind[k][1],
               c.by_kind[k][0]);
    printf("ML-DSA sigGen [%s]: %zu passed of %zu (%zu deterministic, %zu hedged, %zu with a "
           "non-empty context)\n", path, c.ok, c.total, det, hedged, with_ctx);
    printf("ML-DSA sigGen [%s] external pure with a prepared signing context: %zu passed of %zu\n",
           path, via_ctx[1], via_ctx[0]);
    if (skipped)
        printf("ML-DSA sigGen: %zu skipped (wolfSSL backend: no internal/pre-hash/mu entry points)\n",
               skipped);
    assert_int_equal(c.ok, c.total);
    assert_int_equal(c.total + skipped, 360);
    assert_int_equal(via_ctx[0], 90);
    assert_int_equal(via_ctx[1], via_ctx[0]);
    json_free(prompt);
    json_free(expect);
}

static void test_acvp_sigver_all_cases_pass(void **state)
{
    SELECT_PATH_OR_SKIP(state, path);
    json *root = json_load_gz(tu_vector_path("acvp/ML-DSA-sigVer-FIPS204/internalProjection.json.gz"));
    assert_non_null(root);
    const json *groups = json_get(root, "testGroups");
    struct sig_counts c = {0};
    size_t valid = 0, invalid = 0, skipped = 0;
    for (size_t g = 0; g < json_len(groups); g++) {
        const json *grp = json_at(groups, g);
        mldsa_level lv = level_of(json_str(json_get(grp, "parameterSet")));
        const char *iface = json_str(json_get(grp, "signatureInterface"));
        const char *pre = json_str(json_get(grp, "preHash"));
        int ext_mu = json_bool(json_get(grp, "externalMu"), 0);
        int kind = strcmp(iface, "external") == 0 ? (pre && strcmp(pre, "preHash") == 0 ? 1 : 0)
                                                   : (ext_mu ? 3 : 2);
        const json *tests = json_get(grp, "tests");
        for (size_t t = 0; t < json_len(tests); t++) {
            const json *tc = json_at(tests, t);
            int expected = json_bool(json_get(tc, "testPassed"), -1);
            if (!HAVE_INTERNAL && kind != 0) {
                skipped++;
                continue;
            }
            assert_true(expected == 0 || expected == 1);
            size_t pkl, sl, ml = 0, cl = 0;
            uint8_t *pk = json_hex(tc, "pk", &pkl), *sig = json_hex(tc, "signature", &sl);
            assert_true(pk && sig && pkl == mldsa_pk_bytes(lv));
            int rc;
            if (kind == 3) {
                uint8_t *mu = json_hex(tc, "mu", &ml);
                assert_true(mu && ml == 64);
                rc = mldsa_verify_mu(lv, pk, mu, sig, sl);
                free(mu);
            } else {
                uint8_t *msg = json_hex(tc, "message", &ml);
                assert_non_null(msg);
                if (kind == 2) {
                    rc = mldsa_verify_internal(lv, pk, msg, ml, sig, sl);
                } else {
                    uint8_t *ctx = json_hex(tc, "context", &cl);
                    assert_non_null(ctx);
                    if (kind == 0) {
                        rc = mldsa_verify(lv, pk, msg, ml, ctx, cl, sig, sl);
                    } else {
                        size_t mpl;
                        uint8_t *mp = external_mprime(1, json_str(json_get(tc, "hashAlg")), ctx,
                                                      cl, msg, ml, &mpl);
                        rc = mldsa_verify_internal(lv, pk, mp, mpl, sig, sl);
                        free(mp);
                    }
                    free(ctx);
                }
                free(msg);
            }
            int good = (rc == 0) == (expected == 1);
            if (!good)
                printf("sigVer tcId %lld (%s, %s) failed\n", json_int(json_get(tc, "tcId"), -1),
                       kind_names[kind], json_str(json_get(tc, "reason")));
            valid += (size_t)(expected == 1);
            invalid += (size_t)(expected == 0);
            c.total++;
            c.ok += (size_t)good;
            c.by_kind[kind][0]++;
            c.by_kind[kind][1] += (size_t)good;
            free(pk);
            free(sig);
        }
    }
    for (int k = 0; k < 4; k++)
        printf("ML-DSA sigVer [%s] %s: %zu passed of %zu\n", path, kind_names[k], c.by_kind[k][1],
               c.by_kind[k][0]);
    printf("ML-DSA sigVer [%s]: %zu passed of %zu (%zu valid, %zu invalid signatures)\n", path, c.ok,
           c.total, valid, invalid);
    if (skipped)
        printf("ML-DSA sigVer: %zu skipped (wolfSSL backend: no internal/pre-hash/mu entry points)\n",
               skipped);
    assert_int_equal(c.ok, c.total);
    assert_int_equal(c.total + skipped, 180);
    json_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_match_fips204_table2),
#if QPKI_MLDSA_BUILTIN
        cmocka_unit_test(test_decompose_matches_definition_for_every_residue),
        cmocka_unit_test(test_sign_loop_checks_match_fips204_lowbits_and_makehint),
        cmocka_unit_test(test_ntt_product_equals_schoolbook_negacyclic_product),
        cmocka_unit_test(test_fused_products_equal_multiply_then_inverse_ntt),
        cmocka_unit_test(test_bit_packing_round_trips_every_width),
#endif
        cmocka_unit_test(test_context_longer_than_255_bytes_is_rejected),
        cmocka_unit_test(test_malformed_hint_encodings_are_rejected),
        cmocka_unit_test(test_null_arguments_and_unknown_levels_fail),
        cmocka_unit_test(test_signing_context_rejects_bad_arguments_and_reports_no_memory),
        cmocka_unit_test_prestate(test_keygen_sign_verify_round_trip_all_levels, &path_avx2),
        cmocka_unit_test_prestate(test_signing_context_gives_the_signatures_of_mldsa_sign, &path_avx2),
        cmocka_unit_test_prestate(test_one_signing_context_serves_four_threads_at_once, &path_avx2),
        cmocka_unit_test_prestate(test_acvp_keygen_all_cases_pass, &path_avx2),
        cmocka_unit_test_prestate(test_acvp_siggen_all_cases_pass, &path_avx2),
        cmocka_unit_test_prestate(test_acvp_sigver_all_cases_pass, &path_avx2),
        cmocka_unit_test_prestate(test_keygen_sign_verify_round_trip_all_levels, &path_portable),
        cmocka_unit_test_prestate(test_signing_context_gives_the_signatures_of_mldsa_sign,
                                  &path_portable),
        cmocka_unit_test_prestate(test_one_signing_context_serves_four_threads_at_once,
                                  &path_portable),
        cmocka_unit_test_prestate(test_acvp_keygen_all_cases_pass, &path_portable),
        cmocka_unit_test_prestate(test_acvp_siggen_all_cases_pass, &path_portable),
        cmocka_unit_test_prestate(test_acvp_sigver_all_cases_pass, &path_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
