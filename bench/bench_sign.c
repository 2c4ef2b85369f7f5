/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_sign.c - the raw signing rate of a key through the library's
 * software signer: the ceiling for live-signed OCSP responses (nonces).
 *
 *   bench_sign KEY.pem [THREADS] [SECONDS] [TBS_BYTES]
 *
 * Each thread signs a TBS_BYTES message (default 200, the size of a
 * tbsResponseData with one SingleResponse and a nonce) as fast as it can for
 * SECONDS (default 5); prints one line
 *   RESULT sign_per_s=... cpu_us_per_sign=... threads=... alg=...
 * cpu_us_per_sign (process CPU time / signatures) stays meaningful on a machine
 * shared with other work, where the wall-clock rate does not. */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <qpki/signer.h>
#include <qpki/types.h>

static qpki_signer *signer;
static size_t tbs_len = 200;
static atomic_bool stop;
static atomic_ullong total;

static void *worker(void *arg)
{
    (void)arg;
    uint8_t tbs[4096];
    memset(tbs, 0x5a, sizeof(tbs));
    size_t cap = qpki_signer_max_signature_size(signer);
    uint8_t *sig = malloc(cap ? cap : 1);
    unsigned long long n = 0;
    while (sig && !atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t len = cap;
        tbs[n % tbs_len] ^= 1; /* a different message each time */
        if (qpki_signer_sign(signer, tbs, tbs_len, sig, &len) != QPKI_OK) {
            fprintf(stderr, "bench_sign: signing failed\n");
            break;
        }
        n++;
    }
    free(sig);
    atomic_fetch_add(&total, n);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s KEY.pem [THREADS] [SECONDS] [TBS_BYTES]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    double seconds = argc > 3 ? atof(argv[3]) : 5.0;
    if (argc > 4)
        tbs_len = (size_t)atol(argv[4]);
    if (threads < 1 || threads > 256 || seconds <= 0 || tbs_len < 1 || tbs_len > 4096) {
        fprintf(stderr, "bench_sign: bad arguments\n");
        return 2;
    }
    qpki_status st = qpki_signer_software_load(argv[1], NULL, &signer);
    if (st != QPKI_OK) {
        fprintf(stderr, "bench_sign: %s: %s\n", argv[1], qpki_strerror(st));
        return 1;
    }
    pthread_t tid[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, NULL);
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&nap, NULL);
    atomic_store(&stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    unsigned long long n = atomic_load(&total);
    printf("RESULT sign_per_s=%.1f cpu_us_per_sign=%.2f threads=%d seconds=%.2f alg=%s\n",
           (double)n / elapsed, n ? cpu * 1e6 / (double)n : 0.0, threads, elapsed,
           qpki_sig_alg_name(qpki_signer_sig_alg(signer)));
    qpki_signer_free(&signer);
    return 0;
}
