/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/presign.c - `serve --presign`: the thread that pre-signs responses.
 *
 * One thread per generation calls qpki_responder_presign_step in a loop (the
 * library does the work and keeps the cache; see qpki/responder.h).  It runs
 * under SCHED_IDLE (or, where that is refused, at nice 19), so the kernel gives
 * it a core only when no request thread wants one, and the library stops a
 * step while any live signature is in flight: pre-signing takes at most one
 * core's worth of signing capacity, and only what live work leaves idle.  When
 * nothing is due it sleeps 50 ms between steps, so a changed row is re-signed
 * within about a database refresh tick (500 ms) plus 50 ms. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Sleep ms milliseconds or until serve_presign_stop wakes us. */
static void nap(struct serve_gen *g, unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&g->presign_wait);
    while (!atomic_load(&g->presign_stop) &&
           pthread_cond_timedwait(&g->presign_wake, &g->presign_wait, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&g->presign_wait);
}

static void lower_priority(void)
{
    struct sched_param sp = {0};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) == 0)
        return;
    /* nice applies per thread on Linux */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
}

static void *presigner(void *arg)
{
    struct serve_gen *g = arg;
    lower_priority();
    uint64_t started = mono_ms(), passes = 0;
    bool failing = false;
    while (!atomic_load(&g->presign_stop)) {
        unsigned n = 0;
        qpki_status st = qpki_responder_presign_step(g->r, 32, &n);
        if (st == QPKI_ERR_BUSY) {
            nap(g, 2); /* live signatures first */
            continue;
        }
        if (st != QPKI_OK) {
            if (!failing)
                serve_log("error", "pre-signing failed; retrying every second", "error",
                          qpki_strerror(st), (const char *)NULL);
            failing = true;
            nap(g, 1000);
            continue;
        }
        failing = false;
        qpki_presign_stats ps = {.struct_size = sizeof(ps)};
        if (qpki_responder_get_presign_stats(g->r, &ps) == QPKI_OK && ps.passes != passes) {
            if (passes == 0) {
                char rows[24], secs[32], done[24], full[24];
                snprintf(rows, sizeof(rows), "%llu", (unsigned long long)ps.last_pass_rows);
                snprintf(secs, sizeof(secs), "%.3f", (double)(mono_ms() - started) / 1000.0);
                snprintf(done, sizeof(done), "%llu", (unsigned long long)ps.signed_total);
                snprintf(full, sizeof(full), "%llu", (unsigned long long)ps.skipped_full);
                serve_log("info", "pre-signing: first pass over every row done", "rows", rows,
                          "signed", done, "left_to_live_cache_full", full, "seconds", secs,
                          (const char *)NULL);
            }
            passes = ps.passes;
        }
        if (n == 0)
            nap(g, 50);
    }
    return NULL;
}

bool serve_presign_start(struct serve_gen *g)
{
    if (!g->conf.presign || g->conf.cache_size <= 0)
        return true;
    qpki_status st = qpki_responder_set_presign(g->r, (unsigned)g->conf.presign_hash);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot turn pre-signing on");
        return false;
    }
    atomic_store(&g->presign_stop, false);
    if (pthread_create(&g->presign_thread, NULL, presigner, g) != 0) {
        cli_error("cannot start the pre-signing thread");
        return false;
    }
    g->presign_running = true;
    return true;
}

void serve_presign_stop(struct serve_gen *g)
{
    if (!g->presign_running)
        return;
    pthread_mutex_lock(&g->presign_wait);
    atomic_store(&g->presign_stop, true);
    pthread_cond_broadcast(&g->presign_wake);
    pthread_mutex_unlock(&g->presign_wait);
    pthread_join(g->presign_thread, NULL);
    g->presign_running = false;
}
