/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa.c - ML-DSA key generation, signing and verification
 * (FIPS 204, August 2024), the builtin implementation of crypto/mldsa/mldsa.h.
 *
 * Constant time: secret data (seed, rho', K, s1, s2, t0, rnd, rho'', y, and every
 * intermediate of a rejected candidate) never selects a branch or a memory index.
 * The only values made public before the end (MLDSA_DECLASSIFY) are:
 *  - rho and tr: they are part of, or a hash of, the public key;
 *  - the accept/reject bit of each half-byte in RejBoundedPoly and of each byte in
 *    SampleInBall (see mldsa_poly.c): discarded XOF output;
 *  - the outcome of each rejection check in the signing loop (z norm, r0 norm,
 *    ct0 norm + hint count): FIPS 204 §6.2 repeats until a candidate passes, and
 *    only the fact that a candidate was rejected is revealed, never its values;
 *  - the outputs: pk, and the signature (c~, z, h) once accepted;
 *  - whether an expanded sk holds together (mldsa_pk_from_sk), once per key load.
 * tests/ct/run.sh checks this with valgrind memcheck on poisoned inputs. */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mldsa/mldsa_internal.h"
#include "internal.h"

#define Q MLDSA_Q
#define N MLDSA_N
#define KMAX MLDSA_K_MAX
#define LMAX MLDSA_L_MAX

/* FIPS 204 §6.2 allows the signing loop to be bounded; the expected number of
 * iterations is at most 5.1 (Table 1), so 1000 fails with negligible probability and
 * guarantees termination even on a malformed private key. */
#define SIGN_MAX_ITERATIONS 1000

size_t mldsa_pk_bytes(mldsa_level level)
{
    const mldsa_params *p = mldsa_params_get(level);
    return p ? p->pk_bytes : 0;
}

size_t mldsa_sk_bytes(mldsa_level level)
{
    const mldsa_params *p = mldsa_params_get(level);
    return p ? p->sk_bytes : 0;
}

size_t mldsa_sig_bytes(mldsa_level level)
{
    const mldsa_params *p = mldsa_params_get(level);
    return p ? p->sig_bytes : 0;
}

/* Offsets inside pk / sk (FIPS 204 Algorithms 22 and 24). */
#define PK_T1_BYTES 320 /* 32 * (bitlen(q-1) - d) = 32 * 10 */
#define SK_T0_BYTES 416 /* 32 * d */

static size_t eta_poly_bytes(const mldsa_params *p) { return 32u * p->eta_bits; }
static size_t z_poly_bytes(const mldsa_params *p) { return 32u * p->gamma1_bits; }

/* FIPS 204 Algorithm 32 ExpandA(rho): A_hat[r, s] <- RejNTTPoly(rho || s || r).
 * A is k x l, row-major: A_hat[r, s] is A[r * l + s]. */
static void expand_a(mldsa_poly *A, const uint8_t rho[32], const mldsa_params *p)
{
    unsigned n = p->k * p->l, i = 0;
    if (mldsa_avx2_active()) { /* four entries at a time with 4-way SHAKE128 */
        mldsa_poly spare; /* receives the unused lanes of the last batch */
        for (; i < n; i += 4) {
            mldsa_poly *a[4];
            uint8_t s[4], r[4];
            for (unsigned t = 0; t < 4; t++) {
                unsigned e = i + t < n ? i + t : n - 1;
                r[t] = (uint8_t)(e / p->l);
                s[t] = (uint8_t)(e % p->l);
                a[t] = i + t < n ? &A[e] : &spare;
            }
            mldsa_rej_ntt_poly_x4(a, rho, s, r);
        }
        return;
    }
    for (; i < n; i++)
        mldsa_rej_ntt_poly(&A[i], rho, (uint8_t)(i % p->l), (uint8_t)(i / p->l));
}

/* ExpandMask output for the AVX2 path: rows are generated four consecutive nonces
 * at a time (nonces 4g .. 4g+3), straight into y where they belong to this
 * iteration; the rows of the group that straddles two signing iterations which
 * belong to the next one are kept here.  Holds y values: lives in the (wiped)
 * workspace. */
struct mask_cache {
    mldsa_poly y[4];
    unsigned group; /* nonce group whose later rows are held, UINT_MAX for none */
};

/* FIPS 204 Algorithm 34 ExpandMask(rho'', kappa): y[r] for r < l with nonce kappa + r. */
static void expand_mask(mldsa_poly *y, const uint8_t rhopp[64], unsigned kappa,
                        const mldsa_params *p, struct mask_cache *mc)
{
    if (mldsa_avx2_active()) {
        const unsigned end = kappa + p->l;
        for (unsigned g = kappa / 4; g <= (end - 1) / 4; g++) {
            if (mc->group == g) { /* generated last time: its rows from kappa on */
                for (unsigned t = 0; t < 4; t++)
                    if (4 * g + t >= kappa && 4 * g + t < end)
                        y[4 * g + t - kappa] = mc->y[t];
                continue;
            }
            mldsa_poly *yy[4];
            uint16_t nonce[4];
            for (unsigned t = 0; t < 4; t++) {
                nonce[t] = (uint16_t)(4 * g + t);
                yy[t] = nonce[t] < end ? &y[nonce[t] - kappa] : &mc->y[t];
            }
            mldsa_expand_mask_x4(yy, rhopp, nonce, p);
            mc->group = g;
        }
        return;
    }
    for (unsigned r = 0; r < p->l; r++)
        mldsa_expand_mask_poly(&y[r], rhopp, (uint16_t)(kappa + r), p);
}

/* w_hat = A_hat o v_hat (Algorithm 48 MatrixVectorNTT), then NTT^-1.  v_hat is an
 * NTT output (|v_hat| < 9q). */
static void matrix_vector(mldsa_poly *w, const mldsa_poly *A, const mldsa_poly *vhat,
                          const mldsa_params *p)
{
    for (unsigned i = 0; i < p->k; i++) {
        const mldsa_poly *row = A + i * p->l;
        if (mldsa_avx2_active()) {
            mldsa_poly_dot_invntt_avx2(w[i].c, row, vhat, p->l, NULL, NULL);
        } else {
            mldsa_poly_dot_invntt(&w[i], row, vhat, p->l);
        }
    }
}

/* 1 iff some |a_i| >= bound, for centred coefficients, without branches. */
static uint32_t norm_at_least(const mldsa_poly *a, int32_t bound)
{
    uint32_t bad = 0;
    for (unsigned i = 0; i < N; i++) {
        int32_t v = a->c[i];
        int32_t m = v >> 31;
        int32_t abs = (v ^ m) - m;
        bad |= (uint32_t)(bound - 1 - abs) >> 31;
    }
    return bad;
}

/* mu <- H(BytesToBits(tr) || M', 64) with M' = prefix || msg (Algorithm 7 step 6). */
static void compute_mu(uint8_t mu[MLDSA_MU_BYTES], const uint8_t tr[MLDSA_TR_BYTES],
                       const uint8_t *prefix, size_t prefix_len, const uint8_t *msg,
                       size_t msg_len)
{
    keccak_state h;
    shake256_init(&h);
    shake256_absorb(&h, tr, MLDSA_TR_BYTES);
    if (prefix_len)
        shake256_absorb(&h, prefix, prefix_len);
    if (msg_len)
        shake256_absorb(&h, msg, msg_len);
    shake256_finalize(&h);
    shake256_squeeze(&h, mu, MLDSA_MU_BYTES);
}

/* ---------------------------------------------------------------- key generation */

struct keygen_ws {
    mldsa_poly A[KMAX * LMAX];
    mldsa_poly s1[LMAX], s1hat[LMAX], s2[KMAX], t[KMAX], t1[KMAX], t0[KMAX];
    uint8_t seed_in[34], expanded[128];
};

/* t = NTT^-1(A_hat o NTT(s1)) + s2, then (t1, t0) <- Power2Round(t) and the
 * encodings; shared by KeyGen_internal and mldsa_pk_from_sk. */
static void compute_t(struct keygen_ws *ws, const mldsa_params *p)
{
    for (unsigned j = 0; j < p->l; j++) {
        ws->s1hat[j] = ws->s1[j];
        mldsa_poly_ntt(&ws->s1hat[j]);
    }
    matrix_vector(ws->t, ws->A, ws->s1hat, p);
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned n = 0; n < N; n++) {
            int32_t r = mldsa_freeze(ws->t[i].c[n] + ws->s2[i].c[n]);
            /* FIPS 204 Algorithm 35 Power2Round(r): r+ <- r mod q;
             * r0 <- r+ mod+- 2^d; return ((r+ - r0)/2^d, r0).  Rounding
             * (r + 2^(d-1) - 1) >> d picks r0 in (-2^(d-1), 2^(d-1)]. */
            int32_t r1 = (r + (1 << (MLDSA_D - 1)) - 1) >> MLDSA_D;
            ws->t1[i].c[n] = r1;
            ws->t0[i].c[n] = r - (r1 << MLDSA_D);
        }
    }
}

/* FIPS 204 Algorithm 22 pkEncode(rho, t1): rho || SimpleBitPack(t1[i], 2^10 - 1). */
static void pk_encode(uint8_t *pk, const uint8_t rho[32], const mldsa_poly *t1,
                      const mldsa_params *p)
{
    memcpy(pk, rho, 32);
    for (unsigned i = 0; i < p->k; i++)
        mldsa_pack(pk + 32 + i * PK_T1_BYTES, &t1[i], 10, 0);
}

/* FIPS 204 Algorithm 6 ML-DSA.KeyGen_internal(xi). */
int mldsa_keygen(mldsa_level level, const uint8_t seed[MLDSA_SEED_BYTES], uint8_t *pk,
                 uint8_t *sk)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !seed || !pk || !sk)
        return -1;
    struct keygen_ws *ws = qpki_malloc(sizeof(*ws));
    if (!ws)
        return -1;

    /* Step 1: (rho, rho', K) <- H(xi || IntegerToBytes(k, 1) || IntegerToBytes(l, 1), 128). */
    memcpy(ws->seed_in, seed, 32);
    ws->seed_in[32] = (uint8_t)p->k;
    ws->seed_in[33] = (uint8_t)p->l;
    shake256(ws->expanded, sizeof(ws->expanded), ws->seed_in, sizeof(ws->seed_in));
    uint8_t *rho = ws->expanded, *rhop = ws->expanded + 32, *key = ws->expanded + 96;
    MLDSA_DECLASSIFY(rho, 32); /* rho is the first field of pk */

    /* Step 3: A_hat <- ExpandA(rho).  Step 4: (s1, s2) <- ExpandS(rho') (Algorithm
     * 33: s1[r] <- RejBoundedPoly(rho' || IntegerToBytes(r, 2)), s2[r] with r + l). */
    expand_a(ws->A, rho, p);
    for (unsigned r = 0; r < p->l; r++)
        mldsa_rej_bounded_poly(&ws->s1[r], rhop, (uint16_t)r, p->eta);
    for (unsigned r = 0; r < p->k; r++)
        mldsa_rej_bounded_poly(&ws->s2[r], rhop, (uint16_t)(r + p->l), p->eta);

    /* Steps 5-6: t <- NTT^-1(A_hat o NTT(s1)) + s2; (t1, t0) <- Power2Round(t). */
    compute_t(ws, p);

    /* Step 8: pk <- pkEncode(rho, t1).  t1 is public. */
    for (unsigned i = 0; i < p->k; i++)
        MLDSA_DECLASSIFY(ws->t1[i].c, sizeof(ws->t1[i].c));
    pk_encode(pk, rho, ws->t1, p);

    /* Step 9: tr <- H(pk, 64).  Step 10: sk <- skEncode(rho, K, tr, s1, s2, t0)
     * (Algorithm 24: rho || K || tr || BitPack(s1[i], eta, eta) ||
     * BitPack(s2[i], eta, eta) || BitPack(t0[i], 2^(d-1) - 1, 2^(d-1))). */
    uint8_t *o = sk;
    memcpy(o, rho, 32);
    memcpy(o + 32, key, 32);
    shake256(o + 64, MLDSA_TR_BYTES, pk, p->pk_bytes);
    o += 128;
    for (unsigned r = 0; r < p->l; r++, o += eta_poly_bytes(p))
        mldsa_pack(o, &ws->s1[r], p->eta_bits, (int32_t)p->eta);
    for (unsigned r = 0; r < p->k; r++, o += eta_poly_bytes(p))
        mldsa_pack(o, &ws->s2[r], p->eta_bits, (int32_t)p->eta);
    for (unsigned r = 0; r < p->k; r++, o += SK_T0_BYTES)
        mldsa_pack(o, &ws->t0[r], MLDSA_D, 1 << (MLDSA_D - 1));

    /* rho', K, s1, s2, t0 wiped; A (public, from rho) is not. */
    qpki_wipe(&ws->s1, sizeof(*ws) - offsetof(struct keygen_ws, s1));
    qpki_free(ws);
    return 0;
}

/* FIPS 204 Algorithm 25 skDecode, the parts shared by signing and pk_from_sk. */
static void sk_decode_s(const uint8_t *sk, mldsa_poly *s1, mldsa_poly *s2, mldsa_poly *t0,
                        const mldsa_params *p)
{
    const uint8_t *o = sk + 128;
    for (unsigned r = 0; r < p->l; r++, o += eta_poly_bytes(p))
        mldsa_unpack(&s1[r], o, p->eta_bits, (int32_t)p->eta);
    for (unsigned r = 0; r < p->k; r++, o += eta_poly_bytes(p))
        mldsa_unpack(&s2[r], o, p->eta_bits, (int32_t)p->eta);
    if (t0)
        for (unsigned r = 0; r < p->k; r++, o += SK_T0_BYTES)
            mldsa_unpack(&t0[r], o, MLDSA_D, 1 << (MLDSA_D - 1));
}

/* Bit set when any coefficient of the l or k polynomials lies below -eta.  An
 * eta-bit field decodes to eta - e with e in [0, 2^bits - 1], so only the lower
 * bound can fail: FIPS 204 §7.2 (skDecode): "the coefficients of s1 and s2 ... are
 * in [-eta, eta]" holds for keys from KeyGen and must be checked for any other
 * sk.  Branch-free over secret coefficients. */
static uint32_t below_eta(const mldsa_poly *s, unsigned count, int32_t eta)
{
    uint32_t bad = 0;
    for (unsigned r = 0; r < count; r++)
        for (unsigned n = 0; n < N; n++)
            bad |= (uint32_t)(s[r].c[n] + eta) >> 31;
    return bad;
}

int mldsa_pk_from_sk(mldsa_level level, const uint8_t *sk, uint8_t *pk)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !sk || !pk)
        return -1;
    struct keygen_ws *ws = qpki_malloc(sizeof(*ws));
    if (!ws)
        return MLDSA_ERR_NOMEM;
    uint8_t rho[32], tr[MLDSA_TR_BYTES];
    memcpy(rho, sk, 32);
    MLDSA_DECLASSIFY(rho, 32);
    sk_decode_s(sk, ws->s1, ws->s2, NULL, p);
    uint32_t s1_bad = below_eta(ws->s1, p->l, (int32_t)p->eta);
    uint32_t s2_bad = below_eta(ws->s2, p->k, (int32_t)p->eta);
    expand_a(ws->A, rho, p);
    compute_t(ws, p);
    for (unsigned i = 0; i < p->k; i++)
        MLDSA_DECLASSIFY(ws->t1[i].c, sizeof(ws->t1[i].c));
    pk_encode(pk, rho, ws->t1, p);
    /* t0 is not part of pk, so tr does not cover it: the sk's t0 must be the low
     * part of t = A s1 + s2 (Power2Round) that KeyGen stored.  Compared encoded,
     * without a branch. */
    const uint8_t *sk_t0 = sk + 128 + (size_t)(p->l + p->k) * eta_poly_bytes(p);
    uint8_t enc[SK_T0_BYTES], t0_diff = 0;
    for (unsigned r = 0; r < p->k; r++) {
        mldsa_pack(enc, &ws->t0[r], MLDSA_D, 1 << (MLDSA_D - 1));
        for (size_t i = 0; i < SK_T0_BYTES; i++)
            t0_diff |= (uint8_t)(enc[i] ^ sk_t0[r * SK_T0_BYTES + i]);
    }
    qpki_wipe(enc, sizeof(enc));
    qpki_wipe(&ws->s1, sizeof(*ws) - offsetof(struct keygen_ws, s1));
    qpki_free(ws);
    /* The verdicts are public: the key is refused or used whole. */
    MLDSA_DECLASSIFY(&s1_bad, sizeof(s1_bad));
    MLDSA_DECLASSIFY(&s2_bad, sizeof(s2_bad));
    MLDSA_DECLASSIFY(&t0_diff, sizeof(t0_diff));
    if (s1_bad)
        return MLDSA_SK_S1_RANGE;
    if (s2_bad)
        return MLDSA_SK_S2_RANGE;
    /* The sk carries tr = H(pk): a mismatch means rho, s1 or s2 belong to
     * another key than the one tr was made for. */
    shake256(tr, sizeof(tr), pk, p->pk_bytes);
    uint8_t sk_tr[MLDSA_TR_BYTES];
    memcpy(sk_tr, sk + 64, sizeof(sk_tr));
    MLDSA_DECLASSIFY(sk_tr, sizeof(sk_tr));
    if (memcmp(tr, sk_tr, sizeof(tr)) != 0)
        return MLDSA_SK_TR;
    return t0_diff ? MLDSA_SK_T0 : 0;
}

/* ---------------------------------------------------------------------- signing */

/* A private key prepared for signing (mldsa.h): FIPS 204 Algorithm 7 steps 1-5 and
 * the K and tr it needs, done once.  Everything in it is only read while signing,
 * so one context may serve any number of threads at once.  The secret parts (K,
 * s1_hat, s2_hat, t0_hat) are wiped by mldsa_sign_ctx_free; A_hat, rho and tr are
 * public (derived from pk). */
struct mldsa_sign_ctx {
    const mldsa_params *p;
    uint8_t key[32];                  /* K */
    uint8_t tr[MLDSA_TR_BYTES];       /* tr = H(pk, 64) */
    mldsa_poly *s1, *s2, *t0;         /* s1_hat (l), s2_hat (k), t0_hat (k) */
    mldsa_poly *A;                    /* A_hat, k x l row-major */
    mldsa_poly poly[];                /* storage for the four above */
};

/* Per-signature workspace: y, z, w and the rest of a candidate (all secret until
 * accepted), one allocation sized for the parameter set and wiped whole at the
 * end.  z also holds NTT(y) until z itself is computed; w holds w, then its low
 * bits w0, then w0 - <<cs2>>. */
struct sign_ws {
    size_t size;                            /* bytes allocated */
    mldsa_poly *y, *z, *w, *w1, *h;         /* l, l, k, k, k polynomials in poly[] */
    mldsa_poly c, tmp;
    struct mask_cache mc;
    uint8_t rhopp[64], kbuf[32 + 32 + 64];
    uint8_t w1enc[KMAX * 32 * 6];
    uint8_t ctilde[MLDSA_CTILDE_MAX];
    mldsa_poly poly[];
};

int mldsa_sign_ctx_new(mldsa_level level, const uint8_t *sk, mldsa_sign_ctx **out)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!out)
        return -1;
    *out = NULL;
    if (!p || !sk)
        return -1;
    size_t npoly = (size_t)p->l + 2u * p->k + (size_t)p->k * p->l;
    size_t size = sizeof(mldsa_sign_ctx) + npoly * sizeof(mldsa_poly);
    mldsa_sign_ctx *c = qpki_malloc(size);
    if (!c)
        return MLDSA_ERR_NOMEM;
    c->p = p;
    c->s1 = c->poly;
    c->s2 = c->s1 + p->l;
    c->t0 = c->s2 + p->k;
    c->A = c->t0 + p->k;

    /* Step 1: (rho, K, tr, s1, s2, t0) <- skDecode(sk) (Algorithm 25).  rho is
     * public (the first field of pk) and tr = H(pk). */
    uint8_t rho[32];
    memcpy(rho, sk, 32);
    MLDSA_DECLASSIFY(rho, 32);
    memcpy(c->key, sk + 32, 32);
    memcpy(c->tr, sk + 64, MLDSA_TR_BYTES);
    MLDSA_DECLASSIFY(c->tr, MLDSA_TR_BYTES);
    sk_decode_s(sk, c->s1, c->s2, c->t0, p);
    /* Steps 2-4: s1_hat <- NTT(s1), s2_hat <- NTT(s2), t0_hat <- NTT(t0). */
    for (unsigned r = 0; r < p->l; r++)
        mldsa_poly_ntt(&c->s1[r]);
    for (unsigned r = 0; r < p->k; r++) {
        mldsa_poly_ntt(&c->s2[r]);
        mldsa_poly_ntt(&c->t0[r]);
    }
    /* Step 5: A_hat <- ExpandA(rho). */
    expand_a(c->A, rho, p);
    *out = c;
    return 0;
}

void mldsa_sign_ctx_free(mldsa_sign_ctx **pctx)
{
    if (!pctx || !*pctx)
        return;
    mldsa_sign_ctx *ctx = *pctx;
    *pctx = NULL;
    /* K, s1_hat, s2_hat, t0_hat (everything before A_hat, which is public). */
    size_t secret = (size_t)((const uint8_t *)ctx->A - (const uint8_t *)ctx);
    qpki_free_secret(ctx, secret);
}

/* FIPS 204 Algorithm 26 sigEncode(c~, z mod+- q, h):
 * c~ || BitPack(z[i], gamma1 - 1, gamma1) || HintBitPack(h)
 * Algorithm 20 HintBitPack(h): y <- 0^(omega + k); index <- 0
 *   for i < k: for j < 256: if h[i]_j != 0: y[index] <- j; index++
 *              y[omega + i] <- index
 * All inputs are the accepted, public signature. */
static void sig_encode(uint8_t *sig, const struct sign_ws *ws, const mldsa_params *p)
{
    memcpy(sig, ws->ctilde, p->ctilde_bytes);
    uint8_t *o = sig + p->ctilde_bytes;
    for (unsigned r = 0; r < p->l; r++, o += z_poly_bytes(p))
        mldsa_pack(o, &ws->z[r], p->gamma1_bits, p->gamma1);
    /* Without a branch per coefficient (the 1's are few and scattered, and a
     * mispredicted branch per 1 costs more than the loop): j is written at y[index]
     * for every j and index advances past it only for a 1.  The accepted h has at
     * most omega 1's, so index <= omega: y has one spare byte, and the bytes from the
     * final index on are zeroed afterwards. */
    uint8_t y[80 + 1]; /* omega <= 80 */
    unsigned index = 0;
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned j = 0; j < N; j++) {
            y[index] = (uint8_t)j;
            index += (unsigned)ws->h[i].c[j]; /* 0 or 1 */
        }
        o[p->omega + i] = (uint8_t)index;
    }
    memcpy(o, y, index);
    memset(o + index, 0, p->omega - index);
}

/* FIPS 204 Algorithm 7 ML-DSA.Sign_internal(sk, M', rnd), from step 7 on (mu
 * given); steps 1-5 are in the context.  The context is only read. */
int mldsa_sign_ctx_mu(const mldsa_sign_ctx *ctx, const uint8_t mu[MLDSA_MU_BYTES],
                      const uint8_t *rnd, uint8_t *sig)
{
    if (!ctx || !mu || !sig)
        return -1;
    const mldsa_params *p = ctx->p;
    size_t size = sizeof(struct sign_ws) + (2u * p->l + 3u * p->k) * sizeof(mldsa_poly);
    struct sign_ws *ws = qpki_malloc(size);
    if (!ws)
        return MLDSA_ERR_NOMEM;
    ws->size = size;
    ws->y = ws->poly;
    ws->z = ws->y + p->l;
    ws->w = ws->z + p->l;
    ws->w1 = ws->w + p->k;
    ws->h = ws->w1 + p->k;
    int rc = -1;

    /* Step 7: rho'' <- H(K || rnd || mu, 64); rnd = 0^32 for the deterministic variant. */
    memcpy(ws->kbuf, ctx->key, 32);
    if (rnd)
        memcpy(ws->kbuf + 32, rnd, 32);
    else
        memset(ws->kbuf + 32, 0, 32);
    memcpy(ws->kbuf + 64, mu, MLDSA_MU_BYTES);
    shake256(ws->rhopp, 64, ws->kbuf, sizeof(ws->kbuf));

    /* Steps 8-31: kappa <- 0; repeat until (z, h) != bot, kappa <- kappa + l. */
    unsigned kappa = 0;
    ws->mc.group = UINT_MAX;
    for (unsigned iter = 0; iter < SIGN_MAX_ITERATIONS; iter++, kappa += p->l) {
        /* Step 11: y <- ExpandMask(rho'', kappa). */
        expand_mask(ws->y, ws->rhopp, kappa, p, &ws->mc);
        mldsa_poly *yhat = ws->z;
        for (unsigned r = 0; r < p->l; r++)
            mldsa_poly_ntt_from(&yhat[r], &ws->y[r]);
        /* Step 12: w <- NTT^-1(A_hat o NTT(y)).  Step 13: w1 <- HighBits(w) (the low
         * bits w0 kept for steps 21 and 26), encoded right away (Algorithm 28
         * w1Encode: SimpleBitPack(w1[i], (q-1)/(2 gamma2) - 1) for each i). */
        matrix_vector(ws->w, ctx->A, yhat, p);
        const size_t w1_poly_bytes = 32u * p->w1_bits;
        for (unsigned i = 0; i < p->k; i++) {
            mldsa_poly_decompose(&ws->w[i], &ws->w1[i], p->gamma2);
            mldsa_pack(ws->w1enc + i * w1_poly_bytes, &ws->w1[i], p->w1_bits, 0);
        }
        /* Step 15: c~ <- H(mu || w1Encode(w1), lambda/4). */
        size_t w1len = w1_poly_bytes * p->k;
        keccak_state hs;
        shake256_init(&hs);
        shake256_absorb(&hs, mu, MLDSA_MU_BYTES);
        shake256_absorb(&hs, ws->w1enc, w1len);
        shake256_finalize(&hs);
        shake256_squeeze(&hs, ws->ctilde, p->ctilde_bytes);
        qpki_wipe(&hs, sizeof(hs));
        /* Steps 16-17: c <- SampleInBall(c~); c_hat <- NTT(c). */
        mldsa_sample_in_ball(&ws->c, ws->ctilde, p->ctilde_bytes, p->tau);
        mldsa_poly_ntt(&ws->c);

        /* Steps 18, 20: <<cs1>> <- NTT^-1(c_hat o s1_hat); z <- y + <<cs1>>.
         * Step 23 (first half): reject if ||z||inf >= gamma1 - beta. */
        uint32_t bad = 0;
        for (unsigned r = 0; r < p->l; r++) {
            mldsa_poly_product_invntt(&ws->tmp, &ws->c, &ctx->s1[r]);
            bad |= mldsa_poly_make_z(&ws->z[r], &ws->y[r], &ws->tmp, p->gamma1 - (int32_t)p->beta);
        }
        MLDSA_DECLASSIFY(&bad, sizeof(bad)); /* rejection outcome only */
        if (bad)
            continue;

        /* Steps 19, 21: <<cs2>> <- NTT^-1(c_hat o s2_hat); r0 <- LowBits(w - <<cs2>>).
         * Step 23 (second half): reject if ||r0||inf >= gamma2 - beta (tested on
         * w0 - <<cs2>>, see mldsa_poly_low_check). */
        for (unsigned i = 0; i < p->k; i++) {
            mldsa_poly_product_invntt(&ws->tmp, &ws->c, &ctx->s2[i]);
            bad |= mldsa_poly_low_check(&ws->w[i], &ws->tmp, p->gamma2 - (int32_t)p->beta);
        }
        MLDSA_DECLASSIFY(&bad, sizeof(bad));
        if (bad)
            continue;

        /* Step 25: <<ct0>> <- NTT^-1(c_hat o t0_hat).
         * Step 26: h <- MakeHint(-<<ct0>>, w - <<cs2>> + <<ct0>>); Algorithm 39
         * MakeHint(z, r): r1 <- HighBits(r); v1 <- HighBits(r + z); return [[r1 != v1]]
         * (from w0 - <<cs2>>, ct0 and w1, see mldsa_poly_make_hint).
         * Step 27: reject if ||<<ct0>>||inf >= gamma2 or the number of 1's in h > omega. */
        uint32_t ones = 0;
        for (unsigned i = 0; i < p->k; i++) {
            mldsa_poly_product_invntt(&ws->tmp, &ws->c, &ctx->t0[i]);
            bad |= mldsa_poly_make_hint(&ws->h[i], &ws->w[i], &ws->tmp, &ws->w1[i], p->gamma2,
                                        &ones);
        }
        bad |= (uint32_t)(p->omega - ones) >> 31; /* ones > omega */
        MLDSA_DECLASSIFY(&bad, sizeof(bad));
        if (bad)
            continue;

        /* Accepted: (c~, z, h) is the signature and is public from here on. */
        MLDSA_DECLASSIFY(ws->ctilde, sizeof(ws->ctilde));
        for (unsigned r = 0; r < p->l; r++)
            MLDSA_DECLASSIFY(ws->z[r].c, sizeof(ws->z[r].c));
        for (unsigned i = 0; i < p->k; i++)
            MLDSA_DECLASSIFY(ws->h[i].c, sizeof(ws->h[i].c));
        /* Step 33: sigma <- sigEncode(c~, z mod+- q, h). */
        sig_encode(sig, ws, p);
        rc = 0;
        break;
    }
    /* K, rho'', y, z, w and the rest of every candidate wiped. */
    qpki_free_secret(ws, ws->size);
    return rc;
}

/* FIPS 204 Algorithm 2 ML-DSA.Sign(sk, M, ctx):
 *   if |ctx| > 255 return error
 *   M' <- BytesToBits(IntegerToBytes(0, 1) || IntegerToBytes(|ctx|, 1) || ctx) || M
 *   sigma <- ML-DSA.Sign_internal(sk, M', rnd)
 * with Algorithm 7 step 6: mu <- H(BytesToBits(tr) || M', 64). */
int mldsa_sign_with_ctx(const mldsa_sign_ctx *ctx, const uint8_t *msg, size_t msg_len,
                        const uint8_t *context, size_t context_len, const uint8_t *rnd,
                        uint8_t *sig)
{
    if (!ctx || context_len > MLDSA_MAX_CTX_BYTES || (!context && context_len) ||
        (!msg && msg_len))
        return -1;
    uint8_t prefix[2 + MLDSA_MAX_CTX_BYTES], mu[MLDSA_MU_BYTES];
    prefix[0] = 0;
    prefix[1] = (uint8_t)context_len;
    if (context_len)
        memcpy(prefix + 2, context, context_len);
    compute_mu(mu, ctx->tr, prefix, 2 + context_len, msg, msg_len);
    return mldsa_sign_ctx_mu(ctx, mu, rnd, sig);
}

/* The stateless entry points prepare a context for this one signature. */
int mldsa_sign_mu(mldsa_level level, const uint8_t *sk, const uint8_t mu[MLDSA_MU_BYTES],
                  const uint8_t *rnd, uint8_t *sig)
{
    mldsa_sign_ctx *ctx;
    if (!mu || !sig)
        return -1;
    int rc = mldsa_sign_ctx_new(level, sk, &ctx);
    if (rc != 0)
        return rc;
    rc = mldsa_sign_ctx_mu(ctx, mu, rnd, sig);
    mldsa_sign_ctx_free(&ctx);
    return rc;
}

int mldsa_sign_internal(mldsa_level level, const uint8_t *sk, const uint8_t *mprime,
                        size_t mprime_len, const uint8_t *rnd, uint8_t *sig)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !sk || (!mprime && mprime_len))
        return -1;
    uint8_t tr[MLDSA_TR_BYTES], mu[MLDSA_MU_BYTES];
    memcpy(tr, sk + 64, sizeof(tr));
    MLDSA_DECLASSIFY(tr, sizeof(tr)); /* tr = H(pk) */
    /* Algorithm 7 step 6: mu <- H(BytesToBits(tr) || M', 64). */
    compute_mu(mu, tr, NULL, 0, mprime, mprime_len);
    return mldsa_sign_mu(level, sk, mu, rnd, sig);
}

int mldsa_sign(mldsa_level level, const uint8_t *sk, const uint8_t *msg, size_t msg_len,
               const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, uint8_t *sig)
{
    mldsa_sign_ctx *sc;
    if (!sig || ctx_len > MLDSA_MAX_CTX_BYTES || (!ctx && ctx_len) || (!msg && msg_len))
        return -1;
    int rc = mldsa_sign_ctx_new(level, sk, &sc);
    if (rc != 0)
        return rc;
    rc = mldsa_sign_with_ctx(sc, msg, msg_len, ctx, ctx_len, rnd, sig);
    mldsa_sign_ctx_free(&sc);
    return rc;
}

/* ------------------------------------------------------------------ verification */

struct verify_ws {
    mldsa_poly A[KMAX * LMAX];
    mldsa_poly z[LMAX], t1[KMAX], h[KMAX], w[KMAX], c, tmp;
    uint8_t w1enc[KMAX * 32 * 6];
};

/* FIPS 204 Algorithm 21 HintBitUnpack(y): 0 on success, -1 for bot.
 *   index <- 0
 *   for i < k: if y[omega + i] < index or y[omega + i] > omega return bot
 *     first <- index
 *     while index < y[omega + i]:
 *       if index > first and y[index - 1] >= y[index] return bot
 *       h[i]_{y[index]} <- 1; index++
 *   for i from index to omega - 1: if y[i] != 0 return bot */
static int hint_unpack(mldsa_poly *h, const uint8_t *y, const mldsa_params *p)
{
    unsigned index = 0;
    for (unsigned i = 0; i < p->k; i++) {
        memset(h[i].c, 0, sizeof(h[i].c));
        unsigned end = y[p->omega + i];
        if (end < index || end > p->omega)
            return -1;
        unsigned first = index;
        while (index < end) {
            if (index > first && y[index - 1] >= y[index])
                return -1;
            h[i].c[y[index]] = 1;
            index++;
        }
    }
    for (unsigned i = index; i < p->omega; i++)
        if (y[i] != 0)
            return -1;
    return 0;
}

/* FIPS 204 Algorithm 8 ML-DSA.Verify_internal(pk, M', sigma), from step 8 on (mu
 * given).  Everything here is public. */
int mldsa_verify_mu(mldsa_level level, const uint8_t *pk, const uint8_t mu[MLDSA_MU_BYTES],
                    const uint8_t *sig, size_t sig_len)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !pk || !mu || !sig || sig_len != p->sig_bytes)
        return -1;
    struct verify_ws *ws = qpki_malloc(sizeof(*ws));
    if (!ws)
        return MLDSA_ERR_NOMEM;
    int rc = -1;
    /* Step 1: (rho, t1) <- pkDecode(pk) (Algorithm 23). */
    for (unsigned i = 0; i < p->k; i++)
        mldsa_unpack(&ws->t1[i], pk + 32 + i * PK_T1_BYTES, 10, 0);
    /* Step 2: (c~, z, h) <- sigDecode(sigma) (Algorithm 27); step 3: h = bot fails. */
    const uint8_t *ctilde = sig, *o = sig + p->ctilde_bytes;
    for (unsigned r = 0; r < p->l; r++, o += z_poly_bytes(p))
        mldsa_unpack(&ws->z[r], o, p->gamma1_bits, p->gamma1);
    if (hint_unpack(ws->h, o, p) != 0)
        goto out;
    /* Step 13 (first term): ||z||inf < gamma1 - beta, checked early. */
    for (unsigned r = 0; r < p->l; r++)
        if (norm_at_least(&ws->z[r], p->gamma1 - (int32_t)p->beta))
            goto out;
    /* Step 5: A_hat <- ExpandA(rho).  Step 8: c <- SampleInBall(c~). */
    expand_a(ws->A, pk, p);
    mldsa_sample_in_ball(&ws->c, ctilde, p->ctilde_bytes, p->tau);
    mldsa_poly_ntt(&ws->c);
    /* Step 9: w'_Approx <- NTT^-1(A_hat o NTT(z) - NTT(c) o NTT(t1 * 2^d)).
     * Step 10: w1' <- UseHint(h, w'_Approx), encoded row by row (Algorithm 28
     * w1Encode: SimpleBitPack(w1[i], (q-1)/(2 gamma2) - 1) for each i). */
    const int avx2 = mldsa_avx2_active();
    for (unsigned r = 0; r < p->l; r++)
        mldsa_poly_ntt(&ws->z[r]);
    const size_t w1_poly_bytes = 32u * p->w1_bits;
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned n = 0; n < N; n++)
            ws->t1[i].c[n] <<= MLDSA_D;
        mldsa_poly_ntt(&ws->t1[i]);
        if (avx2) {
            mldsa_poly_dot_invntt_avx2(ws->w[i].c, &ws->A[i * p->l], ws->z, p->l, &ws->c,
                                       &ws->t1[i]);
            mldsa_avx2_use_hint(ws->tmp.c, ws->w[i].c, ws->h[i].c, p->gamma2);
        } else {
            mldsa_poly_pointwise(&ws->w[i], &ws->A[i * p->l], &ws->z[0]);
            for (unsigned j = 1; j < p->l; j++)
                mldsa_poly_pointwise_acc(&ws->w[i], &ws->A[i * p->l + j], &ws->z[j]);
            mldsa_poly_pointwise(&ws->tmp, &ws->c, &ws->t1[i]);
            for (unsigned n = 0; n < N; n++)
                ws->w[i].c[n] = mldsa_reduce32(ws->w[i].c[n] - ws->tmp.c[n]);
            mldsa_poly_invntt(&ws->w[i]);
            for (unsigned n = 0; n < N; n++)
                ws->tmp.c[n] =
                    mldsa_use_hint(p->gamma2, ws->h[i].c[n], mldsa_freeze(ws->w[i].c[n]));
        }
        mldsa_pack(ws->w1enc + i * w1_poly_bytes, &ws->tmp, p->w1_bits, 0);
    }
    /* Step 12: c~' <- H(mu || w1Encode(w1'), lambda/4).  Step 13: c~ = c~'. */
    size_t w1len = w1_poly_bytes * p->k;
    uint8_t ct2[MLDSA_CTILDE_MAX];
    keccak_state hs;
    shake256_init(&hs);
    shake256_absorb(&hs, mu, MLDSA_MU_BYTES);
    shake256_absorb(&hs, ws->w1enc, w1len);
    shake256_finalize(&hs);
    shake256_squeeze(&hs, ct2, p->ctilde_bytes);
    if (memcmp(ct2, ctilde, p->ctilde_bytes) == 0)
        rc = 0;
out:
    qpki_free(ws);
    return rc;
}

int mldsa_verify_internal(mldsa_level level, const uint8_t *pk, const uint8_t *mprime,
                          size_t mprime_len, const uint8_t *sig, size_t sig_len)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !pk || (!mprime && mprime_len))
        return -1;
    /* Algorithm 8 steps 6-7: tr <- H(pk, 64); mu <- H(BytesToBits(tr) || M', 64). */
    uint8_t tr[MLDSA_TR_BYTES], mu[MLDSA_MU_BYTES];
    shake256(tr, sizeof(tr), pk, p->pk_bytes);
    compute_mu(mu, tr, NULL, 0, mprime, mprime_len);
    return mldsa_verify_mu(level, pk, mu, sig, sig_len);
}

/* FIPS 204 Algorithm 3 ML-DSA.Verify(pk, M, sigma, ctx):
 *   if |ctx| > 255 return error
 *   M' <- BytesToBits(IntegerToBytes(0, 1) || IntegerToBytes(|ctx|, 1) || ctx) || M
 *   return ML-DSA.Verify_internal(pk, M', sigma) */
int mldsa_verify(mldsa_level level, const uint8_t *pk, const uint8_t *msg, size_t msg_len,
                 const uint8_t *ctx, size_t ctx_len, const uint8_t *sig, size_t sig_len)
{
    const mldsa_params *p = mldsa_params_get(level);
    if (!p || !pk || ctx_len > MLDSA_MAX_CTX_BYTES || (!ctx && ctx_len) || (!msg && msg_len))
        return -1;
    uint8_t prefix[2 + MLDSA_MAX_CTX_BYTES], tr[MLDSA_TR_BYTES], mu[MLDSA_MU_BYTES];
    prefix[0] = 0;
    prefix[1] = (uint8_t)ctx_len;
    if (ctx_len)
        memcpy(prefix + 2, ctx, ctx_len);
    shake256(tr, sizeof(tr), pk, p->pk_bytes);
    compute_mu(mu, tr, prefix, 2 + ctx_len, msg, msg_len);
    return mldsa_verify_mu(level, pk, mu, sig, sig_len);
}
