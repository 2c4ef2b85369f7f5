/* SPDX-License-Identifier: Apache-2.0 */
/* lib/alloc.c - allocation wrappers with an allocation-failure hook for tests. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Remaining successful allocations before failure; negative = never fail.  The
 * production path reads it once per allocation (always -1 there). */
static _Atomic long alloc_budget = -1;
/* Test hooks only: fail one allocation and then succeed again; allocations
 * refused since the budget was last set. */
static _Atomic bool alloc_fail_once;
static _Atomic long alloc_refused;

long qpki_test_fail_alloc_after(long n)
{
    atomic_store(&alloc_fail_once, false);
    atomic_store(&alloc_refused, 0);
    return atomic_exchange(&alloc_budget, n);
}

void qpki_test_fail_alloc_once(long n)
{
    (void)qpki_test_fail_alloc_after(-1);
    atomic_store(&alloc_fail_once, true);
    atomic_store(&alloc_budget, n);
}

long qpki_test_alloc_refused(void) { return atomic_load(&alloc_refused); }

static int alloc_allowed(void)
{
    long b = atomic_load(&alloc_budget);
    while (b >= 0) {
        if (b == 0) {
            atomic_fetch_add(&alloc_refused, 1);
            if (atomic_load(&alloc_fail_once))
                atomic_store(&alloc_budget, -1);
            return 0;
        }
        if (atomic_compare_exchange_weak(&alloc_budget, &b, b - 1))
            return 1;
    }
    return 1;
}

void *qpki_malloc(size_t n)
{
    if (!alloc_allowed())
        return NULL;
    return malloc(n ? n : 1);
}

void *qpki_calloc(size_t count, size_t size)
{
    if (!alloc_allowed())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *qpki_realloc(void *p, size_t n)
{
    if (!alloc_allowed())
        return NULL;
    return realloc(p, n ? n : 1);
}

char *qpki_strdup(const char *s)
{
    return s ? qpki_memdup(s, strlen(s) + 1) : NULL;
}

void *qpki_memdup(const void *p, size_t n)
{
    void *q = qpki_malloc(n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

void qpki_free(void *ptr) { free(ptr); }

void qpki_free_secret(void *p, size_t n)
{
    if (!p)
        return;
    qpki_wipe(p, n);
    free(p);
}

void qpki_wipe(void *p, size_t n)
{
    if (!p || !n)
        return;
    /* explicit_bzero cannot be optimised away (glibc >= 2.25). */
    explicit_bzero(p, n);
}

int qpki_ct_memcmp(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d = (uint8_t)(d | (x[i] ^ y[i]));
    return d != 0;
}
