/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_sign_hsm.c - the raw signing rate of a PKCS#11 key through the
 * qpki-pkcs11.so plugin (qpki_signer_plugin_load, public API only): the ceiling
 * for live-signed OCSP responses with an HSM key.
 *
 *   bench_sign_hsm HSM_YAML KEY_LABEL [THREADS] [SECONDS] [TBS_BYTES]
 *
 * Built by bench/hsm.sh like any consumer of the library (pkg-config, here the
 * build tree's uninstalled .pc).  The PIN comes from the variable hsm.yaml names.
 * Each thread signs a TBS_BYTES message (default 200) for SECONDS (default 5);
 * prints one line
 *   RESULT sign_per_s=... cpu_us_per_sign=... cpu_util=... threads=... alg=...
 * cpu_us_per_sign is process CPU time (the token's work included: a software
 * token such as SoftHSM2 runs in this process) per signature; cpu_util is CPU
 * seconds per wall-clock second, which shows whether THREADS threads really sign
 * in parallel. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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
    unsigned seed = (unsigned)(size_t)arg;
    uint8_t tbs[4096];
    memset(tbs, (int)(0x30 + seed), sizeof(tbs));
    size_t cap = qpki_signer_max_signature_size(signer);
    uint8_t *sig = malloc(cap ? cap : 1);
    unsigned long long n = 0;
    while (sig && !atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t len = cap;
        tbs[n % tbs_len] ^= 1; /* a different message each time */
        qpki_status st = qpki_signer_sign(signer, tbs, tbs_len, sig, &len);
        if (st != QPKI_OK) {
            fprintf(stderr, "bench_sign_hsm: signing failed: %s\n", qpki_strerror(st));
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
    if (argc < 3) {
        fprintf(stderr, "usage: %s HSM_YAML KEY_LABEL [THREADS] [SECONDS] [TBS_BYTES]\n",
                argv[0]);
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    double seconds = argc > 4 ? atof(argv[4]) : 5.0;
    if (argc > 5)
        tbs_len = (size_t)atol(argv[5]);
    if (threads < 1 || threads > 256 || seconds <= 0 || tbs_len < 1 || tbs_len > 4096) {
        fprintf(stderr, "bench_sign_hsm: bad arguments\n");
        return 2;
    }
    char err[512] = "";
    qpki_status st = qpki_signer_plugin_load(NULL, argv[1], argv[2], NULL, NULL, 0, &signer, err,
                                             sizeof(err));
    if (st != QPKI_OK) {
        fprintf(stderr, "bench_sign_hsm: %s: %s\n", err[0] ? err : argv[1], qpki_strerror(st));
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
