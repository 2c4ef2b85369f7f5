/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_mldsa.c - ML-DSA-44/65/87 keygen/sign/verify per second on one core,
 * next to ECDSA P-256 sign/verify through wolfSSL (wc_ecc_*), in one run.
 *
 *   bench_mldsa [seconds-per-measurement [avx2|portable]]   (default 1.0, both paths)
 *
 * Single-threaded and timed in thread CPU time, so the figures are "per core".
 * ML-DSA rows are given for the AVX2 path (when the CPU has it) and the portable
 * path.  "sign/s" signs with a prepared key (mldsa_sign_with_ctx, as lib/crypto's
 * private keys do: ExpandA and the NTTs of s1, s2, t0 done once per key); "sign-sk/s"
 * is the stateless mldsa_sign(sk, ...), which prepares the key for every signature.
 * Signing is over a 64-byte
 * message (the size of an OCSP tbsResponseData hash input is larger, but ML-DSA
 * cost is dominated by the lattice part, not the message hash); ML-DSA signs
 * hedged with a fixed rnd, as a responder would with fresh random bytes.
 *
 *   bench_mldsa --count LEVEL PATH N [stateless|verify|dump]
 *
 * runs one key generation (fixed seed), prepares the key, and makes N signatures
 * (new message each time, fixed rnd) on PATH (avx2 or portable), printing nothing:
 * for instruction counts, e.g. with valgrind --tool=callgrind, where the count for
 * N = 0 subtracted from the count for N = 50, divided by 50, is the cost of one
 * signature.  "stateless" signs with mldsa_sign(sk, ...) instead; "verify" makes one
 * signature and verifies it N times.  The key (seed 0x01 * 32), the messages (64
 * bytes, zero but for the counter in the first two) and rnd (0x5a * 32) are those
 * of the pq-crystals anchor's counting driver (docs/ML-DSA.md), so both sides make
 * the same signatures and run the same rejection iterations; "dump" signs as
 * "stateless" and writes the last signature to standard output (to check that). */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/version.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/mldsa/mldsa.h"
#include "crypto/mldsa/mldsa_internal.h"

/* CPU time of this thread: "per core" figures that do not depend on what else the
 * machine runs (wall-clock rates on a shared, loaded machine would). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef int (*op_fn)(void *arg, unsigned i);

/* Runs op until `secs` have passed; returns operations per second. */
static double rate(op_fn op, void *arg, double secs)
{
    unsigned n = 0;
    double t0 = now(), t;
    do {
        for (unsigned k = 0; k < 8; k++, n++)
            if (op(arg, n) != 0) {
                fprintf(stderr, "operation failed\n");
                exit(1);
            }
        t = now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

struct mldsa_arg {
    mldsa_level lv;
    uint8_t seed[32], rnd[32], msg[64];
    uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    mldsa_sign_ctx *ctx;
};

static int op_keygen(void *a, unsigned i)
{
    struct mldsa_arg *m = a;
    m->seed[0] = (uint8_t)i;
    m->seed[1] = (uint8_t)(i >> 8);
    return mldsa_keygen(m->lv, m->seed, m->pk, m->sk);
}

static int op_sign(void *a, unsigned i)
{
    struct mldsa_arg *m = a;
    m->msg[0] = (uint8_t)i; /* a new message each time: a fair mix of iterations */
    m->msg[1] = (uint8_t)(i >> 8);
    return mldsa_sign(m->lv, m->sk, m->msg, sizeof(m->msg), NULL, 0, m->rnd, m->sig);
}

static int op_sign_ctx(void *a, unsigned i)
{
    struct mldsa_arg *m = a;
    m->msg[0] = (uint8_t)i;
    m->msg[1] = (uint8_t)(i >> 8);
    return mldsa_sign_with_ctx(m->ctx, m->msg, sizeof(m->msg), NULL, 0, m->rnd, m->sig);
}

static int op_verify(void *a, unsigned i)
{
    struct mldsa_arg *m = a;
    (void)i;
    return mldsa_verify(m->lv, m->pk, m->msg, sizeof(m->msg), NULL, 0, m->sig,
                        mldsa_sig_bytes(m->lv));
}

struct ecc_arg {
    ecc_key key;
    WC_RNG rng;
    uint8_t hash[32], sig[80];
    word32 siglen;
};

static int op_ecc_sign(void *a, unsigned i)
{
    struct ecc_arg *e = a;
    e->hash[0] = (uint8_t)i;
    e->siglen = sizeof(e->sig);
    return wc_ecc_sign_hash(e->hash, sizeof(e->hash), e->sig, &e->siglen, &e->rng, &e->key);
}

static int op_ecc_verify(void *a, unsigned i)
{
    struct ecc_arg *e = a;
    (void)i;
    int res = 0;
    int rc = wc_ecc_verify_hash(e->sig, e->siglen, e->hash, sizeof(e->hash), &res, &e->key);
    return rc == 0 && res == 1 ? 0 : -1;
}

/* bench_mldsa --count LEVEL PATH N [stateless] (see the top of the file). */
static int count_mode(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct mldsa_arg *m = calloc(1, sizeof(*m));
    if (!m)
        return 1;
    m->lv = (mldsa_level)atoi(argv[2]);
    mldsa_set_avx2(strcmp(argv[3], "avx2") == 0);
    long n = atol(argv[4]);
    int dump = argc > 5 && strcmp(argv[5], "dump") == 0;
    int stateless = dump || (argc > 5 && strcmp(argv[5], "stateless") == 0);
    int verify = argc > 5 && strcmp(argv[5], "verify") == 0;
    memset(m->seed, 1, sizeof(m->seed));
    memset(m->rnd, 0x5a, sizeof(m->rnd));
    if (mldsa_keygen(m->lv, m->seed, m->pk, m->sk) != 0 ||
        (!stateless && mldsa_sign_ctx_new(m->lv, m->sk, &m->ctx) != 0))
        return 1;
    if (verify) {
        if (op_sign_ctx(m, 0) != 0)
            return 1;
        for (long i = 0; i < n; i++)
            if (op_verify(m, (unsigned)i) != 0)
                return 1;
    } else {
        for (long i = 0; i < n; i++)
            if ((stateless ? op_sign(m, (unsigned)i) : op_sign_ctx(m, (unsigned)i)) != 0)
                return 1;
    }
    if (dump && fwrite(m->sig, 1, mldsa_sig_bytes(m->lv), stdout) != mldsa_sig_bytes(m->lv))
        return 1;
    mldsa_sign_ctx_free(&m->ctx);
    free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--count") == 0)
        return count_mode(argc, argv);
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    if (secs <= 0)
        secs = 1.0;
    const char *only = argc > 2 ? argv[2] : NULL; /* one path only */
    printf("# one core, %.1f s per figure; ops/s (higher is better)\n", secs);
    printf("%-18s %10s %12s %12s %12s\n", "algorithm", "keygen/s", "sign/s", "verify/s",
           "sign-sk/s");
    static const mldsa_level lv[3] = {MLDSA_44, MLDSA_65, MLDSA_87};
    for (int path = 1; path >= 0; path--) {
        mldsa_set_avx2(path);
        if ((path && !mldsa_avx2_active()) ||
            (only && strcmp(only, path ? "avx2" : "portable") != 0))
            continue;
        for (int i = 0; i < 3; i++) {
            struct mldsa_arg *m = calloc(1, sizeof(*m));
            if (!m)
                return 1;
            m->lv = lv[i];
            memset(m->rnd, 0x5a, sizeof(m->rnd));
            double kg = rate(op_keygen, m, secs);
            if (mldsa_keygen(m->lv, m->seed, m->pk, m->sk) != 0)
                return 1;
            if (mldsa_sign_ctx_new(m->lv, m->sk, &m->ctx) != 0)
                return 1;
            double sg = rate(op_sign_ctx, m, secs);
            double s1 = rate(op_sign, m, secs);
            if (op_sign(m, 7) != 0)
                return 1;
            double vf = rate(op_verify, m, secs);
            printf("ML-DSA-%d %-8s %10.0f %12.0f %12.0f %12.0f\n", (int)lv[i],
                   path ? "avx2" : "portable", kg, sg, vf, s1);
            mldsa_sign_ctx_free(&m->ctx);
            free(m);
        }
    }
    mldsa_set_avx2(1);
    struct ecc_arg *e = calloc(1, sizeof(*e));
    if (!e || wolfCrypt_Init() != 0 || wc_InitRng(&e->rng) != 0 || wc_ecc_init(&e->key) != 0 ||
        wc_ecc_make_key_ex(&e->rng, 32, &e->key, ECC_SECP256R1) != 0)
        return 1;
#ifdef ECC_TIMING_RESISTANT
    wc_ecc_set_rng(&e->key, &e->rng);
#endif
    wc_Sha256Hash((const byte *)"bench", 5, e->hash);
    double es = rate(op_ecc_sign, e, secs);
    double ev = rate(op_ecc_verify, e, secs);
    printf("%-18s %10s %12.0f %12.0f %12s   (wolfSSL %s)\n", "ECDSA P-256", "-", es, ev, "-",
           LIBWOLFSSL_VERSION_STRING);
    wc_ecc_free(&e->key);
    wc_FreeRng(&e->rng);
    free(e);
    wolfCrypt_Cleanup();
    return 0;
}
