/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/serve.c - `qpki ocsp serve`: an HTTP OCSP responder.
 *
 * The main thread owns the process: it builds the first generation (CAs,
 * databases, signers), writes the PID file, starts the listeners and then waits
 * for signals with a 100 ms timeout.  Every 500 ms it runs the maintenance tick
 * (index.txt reload; the credential files have a thread of their own, state.c);
 * SIGHUP rebuilds everything from the configuration and swaps it in under the
 * write lock, so requests in flight finish on the old generation; SIGTERM/SIGINT
 * stop accepting, drain the requests in flight and exit.  Under systemd
 * (Type=notify) it says READY=1 once listening, RELOADING=1 then READY=1 around a
 * SIGHUP reload, STOPPING=1 when it starts draining (notify.c).  See
 * docs/OPERATIONS.md. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

/* The configuration: the file (re-read on SIGHUP) under the command line. */
static bool build_config(const struct serve_config *cli, const char *config_path,
                         struct serve_config *out)
{
    struct serve_config file;
    serve_config_init(&file);
    if (config_path && !serve_config_load_yaml(config_path, &file)) {
        serve_config_free(&file);
        return false;
    }
    bool ok = serve_config_merge(&file, cli, out);
    serve_config_free(&file);
    if (!ok)
        return false;
    if (!serve_config_finish(out)) {
        serve_config_free(out);
        return false;
    }
    return true;
}

static const char *signer_kind(const struct serve_ca_config *ca, char *buf, size_t size)
{
    if (ca->credential)
        snprintf(buf, size, "credential %s (%s)", ca->credential, ca->cred_dir);
    else if (ca->hsm_config)
        snprintf(buf, size, "HSM key (%s)", ca->hsm_config);
    else if (ca->cert)
        snprintf(buf, size, "delegated %s", ca->cert);
    else
        snprintf(buf, size, "CA key");
    return buf;
}

static void log_generation(const struct serve_gen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct serve_issuer *is = &g->issuers[i];
        char subject[256] = "", kind[512], rows[24], validity[24];
        (void)qpki_cert_subject_text(is->ca, subject, sizeof(subject));
        snprintf(rows, sizeof(rows), "%zu", qpki_db_count(is->db));
        snprintf(validity, sizeof(validity), "%llds", (long long)g->conf.cas[i].validity);
        serve_log("info", "serving CA", "ca", is->name, "dir", g->conf.cas[i].dir, "subject",
                  subject, "signer", signer_kind(&g->conf.cas[i], kind, sizeof(kind)), "rows",
                  rows, "validity", validity, (const char *)NULL);
    }
}

static void reload(const struct serve_config *cli, const char *config_path)
{
    serve_log("info", "SIGHUP: reloading configuration, CAs, databases and keys",
              (const char *)NULL);
    serve_notify_reloading();
    struct serve_config conf;
    struct serve_gen *g = NULL;
    if (!build_config(cli, config_path, &conf) || !serve_gen_build(&conf, &g)) {
        serve_metrics_reload(false);
        serve_log("error", "reload failed; the previous configuration keeps serving",
                  (const char *)NULL);
        serve_notify("READY=1\nSTATUS=reload failed; the previous configuration keeps serving");
        return;
    }
    serve_log_setup(g->conf.log_format, g->conf.quiet != 0);
    serve_http_set_max_body((size_t)g->conf.max_body);
    pthread_rwlock_wrlock(&serve_srv.lock);
    struct serve_gen *old = serve_srv.gen;
    serve_srv.gen = g;
    atomic_fetch_add(&serve_epoch, 1);
    pthread_rwlock_unlock(&serve_srv.lock);
    serve_gen_free(&old);
#ifdef __GLIBC__
    /* What the old generation held (its signed-response cache above all) goes
     * back to the system instead of staying in the allocator's free lists: the
     * new cache fills gradually, so without this the resident size only grows
     * with every SIGHUP (bench/soak.sh measures it). */
    (void)malloc_trim(0);
#endif
    serve_metrics_reload(true);
    log_generation(g);
    serve_log("info", "reloaded", (const char *)NULL);
    serve_notify("READY=1\nSTATUS=reloaded");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cmd_ocsp_serve(int argc, char **argv)
{
    struct serve_config cli, conf;
    serve_config_init(&cli);
    const char *config_path = NULL;
    int rc = serve_config_from_args(argc, argv, &cli, &config_path);
    if (rc != CLI_OK) {
        serve_config_free(&cli);
        return rc < 0 ? CLI_OK : rc;
    }
    if (!build_config(&cli, config_path, &conf)) {
        serve_config_free(&cli);
        return CLI_USAGE;
    }
    serve_log_setup(conf.log_format, conf.quiet != 0);
    serve_metrics_start();

    /* Signals are taken synchronously by this thread only: block them before
     * any other thread exists so that every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* what the listeners need outlives the configuration, which moves into the
     * generation */
    struct serve_config listen_conf;
    serve_config_init(&listen_conf);
    listen_conf = conf;
    listen_conf.addr = strdup(conf.addr);
    listen_conf.admin_addr = conf.admin_addr ? strdup(conf.admin_addr) : NULL;
    listen_conf.pid_file = strdup(conf.pid_file);
    listen_conf.defaults.dir = NULL;
    memset(&listen_conf.defaults, 0, sizeof(listen_conf.defaults));
    listen_conf.cas = NULL;
    listen_conf.n_cas = 0;
    if (!listen_conf.addr || !listen_conf.pid_file ||
        (conf.admin_addr && !listen_conf.admin_addr)) {
        serve_config_free(&conf);
        serve_config_free(&listen_conf);
        serve_config_free(&cli);
        return cli_error("out of memory");
    }

    struct serve_gen *g = NULL;
    struct serve_listener *ocsp = NULL, *admin = NULL;
    bool pid_created = false;
    rc = CLI_USAGE;
    if (!serve_gen_build(&conf, &g))
        goto out;
    serve_srv.gen = g;
    if (!serve_pidfile_create(listen_conf.pid_file))
        goto out;
    pid_created = true;
    if (!serve_http_start(&listen_conf, false, &ocsp))
        goto out;
    if (listen_conf.admin_addr && !serve_http_start(&listen_conf, true, &admin))
        goto out;

    log_generation(g);
    {
        char pid[24], threads[24];
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        snprintf(threads, sizeof(threads), "%ld", listen_conf.threads);
        serve_log("info", "listening", "addr", serve_http_address(ocsp), "admin",
                  admin ? serve_http_address(admin) : "off", "pid", pid, "pid_file",
                  listen_conf.pid_file, "threads", threads, (const char *)NULL);
        /* every listener is bound and accepting: systemd may start what depends on us */
        char state[320];
        snprintf(state, sizeof state, "READY=1\nSTATUS=answering on %s",
                 serve_http_address(ocsp));
        serve_notify(state);
    }

    uint64_t next_tick = now_ms() + 500;
    for (;;) {
        /* 100 ms: the 500 ms tick runs at most 100 ms late (a revocation is
         * answered within 0.6 s of the index.txt change) */
        struct timespec wait = {0, 100 * 1000 * 1000};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            serve_log("info", sig == SIGTERM ? "SIGTERM: draining and stopping"
                                             : "SIGINT: draining and stopping",
                      (const char *)NULL);
            break;
        }
        if (sig == SIGHUP)
            reload(&cli, config_path);
        if (now_ms() >= next_tick) {
            /* only this thread replaces the generation: no lock needed to use it */
            serve_gen_maintain(serve_srv.gen);
            serve_http_tick();
            next_tick = now_ms() + 500;
        }
    }
    serve_notify("STOPPING=1\nSTATUS=draining requests in flight");
    atomic_store(&serve_srv.draining, true);
    rc = CLI_OK;
out:
    serve_http_stop(&ocsp, listen_conf.drain_timeout);
    serve_http_stop(&admin, 0);
    pthread_rwlock_wrlock(&serve_srv.lock);
    g = serve_srv.gen;
    serve_srv.gen = NULL;
    pthread_rwlock_unlock(&serve_srv.lock);
    serve_gen_free(&g);
    if (pid_created)
        serve_pidfile_remove(listen_conf.pid_file);
    if (rc == CLI_OK)
        serve_log("info", "stopped", (const char *)NULL);
    serve_config_free(&conf);
    serve_config_free(&listen_conf);
    serve_config_free(&cli);
    return rc;
}
