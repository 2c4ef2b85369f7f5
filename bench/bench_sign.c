/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_sign.c - the raw signing rate of a key through the library: the
 * ceiling for live-signed OCSP responses (nonces).
 *
 *   bench_sign KEY.pem [THREADS] [SECONDS] [TBS_BYTES]
 *   bench_sign --hsm HSM_YAML KEY_LABEL [THREADS] [SECONDS] [TBS_BYTES]
 *
 * The first form signs with the software signer, the second with a PKCS#11 key
 * through the qpki-pkcs11.so plugin (qpki_signer_plugin_load; the PIN comes from
 * the variable hsm.yaml names).  Public API only.  Each thread signs a TBS_BYTES
 * message (default 200, the size of a tbsResponseData with one SingleResponse
 * and a nonce) as fast as it can for SECONDS (default 5); prints one line
 *   RESULT sign_per_s=... cpu_us_per_sign=... cpu_util=... threads=... alg=...
 * cpu_us_per_sign (process CPU time / signatures; a software token such as
 * SoftHSM2 runs in this process, so its work counts) stays meaningful on a
 * machine shared with other work, where the wall-clock rate does not; cpu_util
 * is CPU seconds per wall-clock second, which shows whether THREADS threads
 * really sign in parallel.  Exit status 1 when a signature fails. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <qpki/plugin.h>
#include <qpki/signer.h>
#include <qpki/types.h>

static qpki_signer *signer;
static size_t tbs_len = 200;
static atomic_bool stop;
static atomic_bool failed;
static atomic_ullong total;

static void *worker(void *arg)
{
    uint8_t tbs[4096];
    memset(tbs, (int)(0x30 + (size_t)arg), sizeof(tbs)); /* a different message per thread */
    size_t cap = qpki_signer_max_signature_size(signer);
    uint8_t *sig = malloc(cap ? cap : 1);
    unsigned long long n = 0;
    while (sig && !atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t len = cap;
        tbs[n % tbs_len] ^= 1; /* and each time */
        qpki_status st = qpki_signer_sign(signer, tbs, tbs_len, sig, &len);
        if (st != QPKI_OK) {
            fprintf(stderr, "bench_sign: signing failed: %s\n", qpki_strerror(st));
            atomic_store(&failed, true);
            break;
        }
        n++;
    }
    free(sig);
    atomic_fetch_add(&total, n);
    return NULL;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    bool hsm = argc > 1 && !strcmp(argv[1], "--hsm");
    int a = hsm ? 3 : 1; /* the first argument after the key */
    if (argc <= a) {
        fprintf(stderr,
                "usage: %s KEY.pem [THREADS] [SECONDS] [TBS_BYTES]\n"
                "       %s --hsm HSM_YAML KEY_LABEL [THREADS] [SECONDS] [TBS_BYTES]\n",
                argv[0], argv[0]);
        return 2;
    }
    int threads = argc > a + 1 ? atoi(argv[a + 1]) : 1;
    double seconds = argc > a + 2 ? atof(argv[a + 2]) : 5.0;
    if (argc > a + 3)
        tbs_len = (size_t)atol(argv[a + 3]);
    if (threads < 1 || threads > 256 || seconds <= 0 || tbs_len < 1 || tbs_len > 4096) {
        fprintf(stderr, "bench_sign: bad arguments\n");
        return 2;
    }
    char err[512] = "";
    qpki_status st = hsm ? qpki_signer_plugin_load(NULL, argv[2], argv[3], NULL, NULL, 0,
                                                   &signer, err, sizeof(err))
                         : qpki_signer_software_load(argv[1], NULL, &signer);
    if (st != QPKI_OK) {
        fprintf(stderr, "bench_sign: %s: %s\n", err[0] ? err : argv[hsm ? 2 : 1],
                qpki_strerror(st));
        return 1;
    }
    pthread_t tid[256];
    struct timespec t0, t1;
    double c0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, (void *)(size_t)i);
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double cpu = cpu_seconds() - c0;
    double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    unsigned long long n = atomic_load(&total);
    printf("RESULT sign_per_s=%.1f cpu_us_per_sign=%.2f cpu_util=%.2f threads=%d seconds=%.2f "
           "alg=%s\n",
           (double)n / elapsed, n ? cpu * 1e6 / (double)n : 0.0, cpu / elapsed, threads, elapsed,
           qpki_sig_alg_name(qpki_signer_sig_alg(signer)));
    qpki_signer_free(&signer);
    return atomic_load(&failed) ? 1 : 0;
}
