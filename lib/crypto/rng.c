/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/rng.c - wolfCrypt initialisation and the random number generator.
 *
 * wolfCrypt's WC_RNG (a Hash_DRBG, NIST SP 800-90A) is not safe for concurrent
 * use.  Each thread gets its own, created on first use and freed by a thread-exit
 * destructor, so crypto_random and signing never share generator state or take a
 * lock.  After fork() the child must not reuse the parent's DRBG state (both
 * would produce the same ECDSA nonces): a pthread_atfork child handler bumps a
 * generation counter and a thread's DRBG is re-instantiated when its recorded
 * generation differs. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include <limits.h>

#include "crypto_internal.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static pthread_key_t rng_tls_key;
static atomic_ulong fork_generation = 1;

struct thread_rng {
    WC_RNG rng;
    unsigned long generation;
};

static _Thread_local struct thread_rng *tls_rng;
static _Thread_local bool tls_registered;
/* Value of the thread key for threads that have no DRBG (yet). */
static char thread_marker;

/* Runs in each exiting thread that used lib/crypto: frees its DRBG and the
 * thread's fixed-point ECC cache (FP_ECC with HAVE_THREAD_LS keeps one per
 * thread, which wolfCrypt only frees when the thread calls wc_ecc_fp_free). */
static void thread_cleanup(void *p)
{
    if (p && p != &thread_marker) {
        struct thread_rng *t = p;
        (void)wc_FreeRng(&t->rng);
        qpki_free_secret(t, sizeof(*t));
    }
    tls_rng = NULL;
    tls_registered = false;
#ifdef FP_ECC
    wc_ecc_fp_free();
#endif
}

static void after_fork_in_child(void) { atomic_fetch_add(&fork_generation, 1); }

static void init_crypto(void)
{
    init_result = wolfCrypt_Init();
    if (init_result != 0)
        return;
    if (pthread_key_create(&rng_tls_key, thread_cleanup) != 0) {
        init_result = -1;
        return;
    }
    if (pthread_atfork(NULL, NULL, after_fork_in_child) != 0)
        init_result = -1;
}

qpki_status qpki_crypto_init(void)
{
    if (pthread_once(&init_once, init_crypto) != 0)
        return QPKI_ERR_CRYPTO;
    return init_result == 0 ? QPKI_OK : QPKI_ERR_CRYPTO;
}

qpki_status crypto_thread_enter(void)
{
    QPKI_GUARD(qpki_crypto_init());
    if (!tls_registered) {
        void *value = tls_rng ? (void *)tls_rng : (void *)&thread_marker;
        QPKI_ENSURE(pthread_setspecific(rng_tls_key, value) == 0, QPKI_ERR_NOMEM);
        tls_registered = true;
    }
    return QPKI_OK;
}

qpki_status crypto_wolf_status(int ret)
{
    if (ret == 0)
        return QPKI_OK;
    if (ret == MEMORY_E)
        return QPKI_ERR_NOMEM;
    if (ret == RNG_FAILURE_E || ret == DRBG_CONT_FIPS_E)
        return QPKI_ERR_RNG;
    return QPKI_ERR_CRYPTO;
}

qpki_status crypto_thread_rng(WC_RNG **out)
{
    QPKI_GUARD(crypto_thread_enter());
    unsigned long gen = atomic_load(&fork_generation);
    struct thread_rng *t = tls_rng;
    if (t && t->generation == gen) {
        *out = &t->rng;
        return QPKI_OK;
    }
    if (t) {
        /* A fork happened since this DRBG was seeded: start a fresh one. */
        (void)wc_FreeRng(&t->rng);
        qpki_wipe(&t->rng, sizeof(t->rng));
    } else {
        t = qpki_calloc(1, sizeof(*t));
        QPKI_ENSURE(t, QPKI_ERR_NOMEM);
        if (pthread_setspecific(rng_tls_key, t) != 0) {
            qpki_free_secret(t, sizeof(*t));
            return QPKI_ERR_NOMEM;
        }
        tls_rng = t;
        tls_registered = true;
    }
    int ret = wc_InitRng(&t->rng);
    if (ret != 0) {
        /* Leave the slot allocated but unusable; the next call retries. */
        t->generation = 0;
        return ret == MEMORY_E ? QPKI_ERR_NOMEM : QPKI_ERR_RNG;
    }
    t->generation = gen;
    *out = &t->rng;
    return QPKI_OK;
}

qpki_status crypto_random(uint8_t *out, size_t n)
{
    QPKI_ENSURE(out || n == 0, QPKI_ERR_INVALID_ARG);
    WC_RNG *rng;
    QPKI_GUARD(crypto_thread_rng(&rng));
    /* wc_RNG_GenerateBlock is limited to RNG_MAX_BLOCK_LEN per call. */
    while (n > 0) {
        size_t k = n < (size_t)RNG_MAX_BLOCK_LEN ? n : (size_t)RNG_MAX_BLOCK_LEN;
        if (wc_RNG_GenerateBlock(rng, out, (word32)k) != 0)
            return QPKI_ERR_RNG;
        out += k;
        n -= k;
    }
    return QPKI_OK;
}
