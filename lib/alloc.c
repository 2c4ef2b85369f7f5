/* SPDX-License-Identifier: Apache-2.0 */
/* lib/alloc.c - allocation wrappers with an allocation-failure hook for tests. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Remaining successful allocations before failure; negative = never fail. */
static _Atomic long alloc_budget = -1;

void qpki_test_fail_alloc_after(long n) { atomic_store(&alloc_budget, n); }

static int alloc_allowed(void)
{
    long b = atomic_load(&alloc_budget);
    while (b >= 0) {
        if (b == 0)
            return 0;
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
