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

/* ---- per-request arena --------------------------------------------------------- */

/* A heap block of an arena: the header, then the bytes handed out. */
struct arena_block {
    struct arena_block *next;
    size_t cap;
    max_align_t bytes[];
};

#define ARENA_ALIGN ((size_t)_Alignof(max_align_t))
#define ARENA_MIN_BLOCK ((size_t)4096)

static size_t arena_round(size_t n) { return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1); }

void arena_init(arena *a, void *first, size_t cap)
{
    /* the first block starts aligned: skip to the next boundary */
    uintptr_t p = (uintptr_t)first, q = (p + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    size_t skip = (size_t)(q - p);
    a->base = (uint8_t *)first + (skip <= cap ? skip : cap);
    a->cap = skip <= cap ? cap - skip : 0;
    a->used = 0;
    a->last = NULL;
    a->blocks = NULL;
}

void *arena_alloc(arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = arena_round(n ? n : 1);
    if (need > a->cap - a->used) {
        /* a new heap block, at least twice the last one, large enough for n */
        size_t cap = a->blocks ? 2 * a->blocks->cap : ARENA_MIN_BLOCK;
        if (cap < need)
            cap = need;
        struct arena_block *blk = qpki_malloc(sizeof(*blk) + cap);
        if (!blk)
            return NULL;
        blk->next = a->blocks;
        blk->cap = cap;
        a->blocks = blk;
        a->base = (uint8_t *)blk->bytes;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->base + a->used;
    a->used += need;
    a->last = p;
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / 2 / size)
        return NULL;
    void *p = arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *arena_realloc(arena *a, void *p, size_t old_n, size_t n)
{
    if (!p)
        return arena_alloc(a, n);
    if (n <= old_n)
        return p;
    /* the most recent allocation grows in place while its block has room */
    if (p == a->last && n <= SIZE_MAX / 2) {
        size_t off = (size_t)((uint8_t *)p - a->base);
        size_t need = arena_round(n);
        if (need <= a->cap - off) {
            a->used = off + need;
            return p;
        }
    }
    void *q = arena_alloc(a, n);
    if (q)
        memcpy(q, p, old_n);
    return q;
}

void arena_release(arena *a)
{
    struct arena_block *blk = a->blocks;
    while (blk) {
        struct arena_block *next = blk->next;
        qpki_free(blk);
        blk = next;
    }
    a->blocks = NULL;
    a->base = NULL;
    a->cap = a->used = 0;
    a->last = NULL;
}
