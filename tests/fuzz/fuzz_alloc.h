/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_alloc.h - allocation-failure injection for the fuzz targets
 * (STYLE.md §4; libfido2 does the same).
 *
 * FUZZ_CALL(rc, expr, out) runs a library call once with one of its qpki_*alloc
 * calls failing: the k-th, k drawn from the input's bytes (small k often, up to
 * 4095 now and then), either that one allocation only or every allocation from
 * it on.  When an allocation was refused the call must either return
 * QPKI_ERR_NOMEM and leave `out` NULL (nothing half-built), or cope with the
 * failure and return what it returns without it (a failed shrinking realloc is
 * harmless, for instance): success, whose result the target goes on using, or
 * the same error.  Leaks are LeakSanitizer's to find (it checks every input).
 * After a QPKI_ERR_NOMEM the call runs again without failures and that result
 * is the one the target goes on with.  When k is past the call's last
 * allocation nothing was refused and the first run's result is kept, so an input
 * costs at most twice its normal run.
 *
 * k follows from the input alone (FNV-1a of the bytes, then a splitmix64 step
 * per call), so a crash reproduces from its artifact.  At exit the target prints
 * how many calls had an allocation refused ("alloc-fail: ...", read by
 * tests/fuzz/campaign.sh). */
#ifndef QPKI_FUZZ_ALLOC_H
#define QPKI_FUZZ_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <qpki/status.h>

#include <qpki/status.h>

#include "internal.h"

static uint64_t fuzz_alloc_seed;
static unsigned long long fuzz_alloc_calls, fuzz_alloc_refusals;

static void fuzz_alloc_report(void)
{
    fprintf(stderr, "alloc-fail: %llu calls with an allocation refused, %llu calls armed\n",
            fuzz_alloc_refusals, fuzz_alloc_calls);
}

/* Start of an input: the seed of its k values. */
static inline void fuzz_alloc_input(const uint8_t *data, size_t size)
{
    static bool registered;
    if (!registered) {
        atexit(fuzz_alloc_report);
        registered = true;
    }
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    fuzz_alloc_seed = h;
}

static inline uint64_t fuzz_alloc_next(void)
{
    uint64_t z = (fuzz_alloc_seed += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Arm the failure for one call. */
static inline void fuzz_alloc_arm(void)
{
    uint64_t r = fuzz_alloc_next();
    unsigned bits = (unsigned)(r % 13);             /* k < 2^bits: 1 .. 4096 */
    long k = (long)((r >> 8) % ((uint64_t)1 << bits));
    fuzz_alloc_calls++;
    if ((r >> 40) & 1)
        qpki_test_fail_alloc_once(k);
    else
        (void)qpki_test_fail_alloc_after(k);
}

/* Disarm; true when an allocation was refused during the call. */
static inline bool fuzz_alloc_disarm(void)
{
    bool refused = qpki_test_alloc_refused() > 0;
    (void)qpki_test_fail_alloc_after(-1);
    if (refused)
        fuzz_alloc_refusals++;
    return refused;
}

static inline void fuzz_alloc_expect_nomem(qpki_status rc, bool out_null, const char *what)
{
    if (rc != QPKI_ERR_NOMEM || !out_null) {
        fprintf(stderr, "alloc-fail: %s returned %d (%s)%s after an allocation was refused\n",
                what, (int)rc, qpki_strerror(rc), out_null ? "" : " and left its output set");
        abort();
    }
}

/* An error other than QPKI_ERR_NOMEM after a refused allocation: the call
 * coped with the failure, so it must fail the same way without it. */
static inline void fuzz_alloc_expect_same(qpki_status with, qpki_status without, const char *what)
{
    if (with != without) {
        fprintf(stderr, "alloc-fail: %s returned %d (%s) after an allocation was refused, "
                "%d (%s) without\n", what, (int)with, qpki_strerror(with), (int)without,
                qpki_strerror(without));
        abort();
    }
}

/* out: the pointer the call fills (NULL when it has none). */
#define FUZZ_CALL(rc, expr, out)                                                   \
    do {                                                                           \
        fuzz_alloc_arm();                                                          \
        (rc) = (expr);                                                             \
        if (fuzz_alloc_disarm() && (rc) != QPKI_OK) {                              \
            qpki_status failed_rc_ = (rc);                                         \
            if (failed_rc_ == QPKI_ERR_NOMEM)                                      \
                fuzz_alloc_expect_nomem(failed_rc_, (out) == NULL, #expr);         \
            (rc) = (expr);                                                         \
            if (failed_rc_ != QPKI_ERR_NOMEM)                                      \
                fuzz_alloc_expect_same(failed_rc_, (rc), #expr);                   \
        }                                                                          \
    } while (0)

/* The line of a qpki_*_err call (docs/CONFORMANCE.md "Error messages"): one
 * printable, bounded line; on success nothing (a failure the parser tolerated
 * left no message behind); on failure a line, when the parser describes every
 * failure (describes_all) -- out of memory aside. */
static inline void fuzz_check_message(const char *what, const char *msg, size_t cap,
                                      qpki_status rc, bool describes_all)
{
    size_t n = 0;
    while (n < cap && msg[n])
        n++;
    if (n == cap) {
        fprintf(stderr, "%s: message not terminated\n", what);
        abort();
    }
    for (size_t i = 0; i < n; i++)
        if (msg[i] < 0x20 || msg[i] > 0x7e) {
            fprintf(stderr, "%s: byte 0x%02x in the message\n", what, (unsigned char)msg[i]);
            abort();
        }
    if (rc == QPKI_OK && n) {
        fprintf(stderr, "%s: success with a message: %s\n", what, msg);
        abort();
    }
    if (rc != QPKI_OK && rc != QPKI_ERR_NOMEM && describes_all && !n) {
        fprintf(stderr, "%s: failure %d without a message\n", what, rc);
        abort();
    }
}

#endif
