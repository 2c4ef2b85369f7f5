/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_hash.c - SHA-256 throughput: our code on the x86 SHA extensions, our
 * portable C, and Debian's wolfSSL, on the message sizes the responder hashes (a
 * 64-byte block, a ~300-byte tbsResponseData, a 1 KiB response for its ETag) and
 * 16 KiB, plus one HMAC-SHA-256 (key setup + 97-byte message, as in one RFC 6979
 * step).  One thread, thread CPU time, best of 5 rounds.
 *
 *   bench/bench_hash [SECONDS_PER_ROUND]      (default 0.2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "crypto/sha256.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum impl { OURS_SHANI, OURS_PORTABLE, WOLFSSL };
static const char *const impl_name[] = {"ours, SHA extensions", "ours, portable C",
                                        "wolfSSL 5.5.4 (Debian)"};

static uint8_t msg[16384];
static volatile uint8_t sink;

/* ns per call of one hash (len >= 0) or one HMAC (len < 0) */
static double time_one(enum impl im, long len, double seconds)
{
    uint8_t out[32];
    static const uint8_t key[32] = {1, 2, 3};
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        unsigned long n = 0;
        double t0 = cpu_now(), t;
        do {
            for (int i = 0; i < 64; i++, n++) {
                msg[0] = (uint8_t)n;
                if (len >= 0 && im != WOLFSSL) {
                    sha256(msg, (size_t)len, out);
                } else if (len >= 0) {
                    (void)wc_Sha256Hash(msg, (word32)len, out);
                } else if (im != WOLFSSL) {
                    hmac_sha256_ctx m;
                    hmac_sha256_init(&m, key, sizeof(key));
                    hmac_sha256_update(&m, msg, 97);
                    hmac_sha256_final(&m, out);
                } else {
                    Hmac h;
                    (void)wc_HmacInit(&h, NULL, INVALID_DEVID);
                    (void)wc_HmacSetKey(&h, WC_SHA256, key, sizeof(key));
                    (void)wc_HmacUpdate(&h, msg, 97);
                    (void)wc_HmacFinal(&h, out);
                    wc_HmacFree(&h);
                }
                sink ^= out[0];
            }
            t = cpu_now() - t0;
        } while (t < seconds);
        if (t * 1e9 / (double)n < best)
            best = t * 1e9 / (double)n;
    }
    return best;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.2;
    if (seconds <= 0) {
        fprintf(stderr, "usage: %s [SECONDS_PER_ROUND]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    static const long lens[] = {64, 300, 1024, 16384, -1};
    printf("| implementation | 64 B | 300 B | 1 KiB | 16 KiB | HMAC (32-byte key, 97 B) | MB/s at 16 KiB |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (int im = OURS_SHANI; im <= WOLFSSL; im++) {
        sha256_set_shani(im == OURS_SHANI);
        if (im == OURS_SHANI && !sha256_shani_active()) {
            printf("| %s | (this CPU has none) | | | | | |\n", impl_name[im]);
            continue;
        }
        double ns[5];
        for (int i = 0; i < 5; i++)
            ns[i] = time_one((enum impl)im, lens[i], seconds);
        printf("| %s | %.0f ns | %.0f ns | %.0f ns | %.1f µs | %.0f ns | %.0f |\n", impl_name[im],
               ns[0], ns[1], ns[2], ns[3] / 1000, ns[4], 16384.0 / ns[3] * 1000);
    }
    sha256_set_shani(1);
    return 0;
}
