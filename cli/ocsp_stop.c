/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_stop.c - `qpki ocsp stop`: SIGTERM to the server named by its PID
 * file, then wait (bounded) until the process has exited.  The server drains
 * the requests in flight and removes its PID file itself. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve/serve.h"

static const char stop_help[] =
    "Usage: qpki ocsp stop [--port N | --pid-file FILE] [--timeout DURATION]\n"
    "\n"
    "Stop a running `qpki ocsp serve`: send SIGTERM to the process named in its\n"
    "PID file and wait until it has exited (it finishes the requests in flight\n"
    "and removes the PID file).\n"
    "\n"
    "  --port N              port to derive the default PID file (default 8080)\n"
    "  --pid-file FILE       PID file (default /tmp/qpki-ocsp-{port}.pid)\n"
    "  --timeout DURATION    how long to wait (default 10s)\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 stopped (or was not running: a stale PID file is removed),\n"
    "1 the process did not exit in time, 2 usage error or no PID file.\n";

/* The process looks like a qpki server (Linux /proc; elsewhere assume yes). */
static bool looks_like_qpki(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
    FILE *f = fopen(path, "rb");
    if (!f)
        return true;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, "qpki") != NULL;
}

static bool exited(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return errno == ESRCH;
    /* a zombie (our own child, not yet reaped) has exited too */
    char path[64], state = 0;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512];
    if (fgets(line, sizeof(line), f)) {
        const char *close = strrchr(line, ')');
        if (close && close[1] == ' ')
            state = close[2];
    }
    fclose(f);
    return state == 'Z';
}

int cmd_ocsp_stop(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"pid-file", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long port = 8080;
    const char *pid_file = NULL;
    int64_t timeout = 10;
    int opt;
    while ((opt = cli_getopt(argc, argv, "h", options)) != -1) {
        switch (opt) {
        case 'h':
            return cli_help(stop_help);
        case 'p': {
            char *end;
            errno = 0;
            port = strtol(optarg, &end, 10);
            if (errno || *end || port < 0 || port > 65535)
                return cli_usage_error("--port must be 0..65535, not '%s'", optarg);
            break;
        }
        case 'f':
            pid_file = optarg;
            break;
        case 't':
            if (!cli_parse_duration(optarg, &timeout))
                return cli_usage_error("bad --timeout '%s' (examples: 5s 1m)", optarg);
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    char def[64];
    if (!pid_file) {
        serve_default_pid_file(port, def, sizeof(def));
        pid_file = def;
    }
    pid_t pid = 0;
    int r = serve_pidfile_read(pid_file, &pid);
    if (r == 0)
        return cli_error("no PID file %s: is the server running? (see --port, --pid-file)",
                         pid_file);
    if (r < 0)
        return CLI_USAGE;
    if (exited(pid)) {
        unlink(pid_file);
        printf("server (PID %ld) was not running; removed the stale PID file %s\n", (long)pid,
               pid_file);
        return CLI_OK;
    }
    if (!looks_like_qpki(pid))
        return cli_error("PID %ld from %s is not a qpki process: the PID file is stale; "
                         "remove it by hand",
                         (long)pid, pid_file);
    if (kill(pid, SIGTERM) != 0) {
        if (errno == ESRCH) {
            unlink(pid_file);
            printf("server (PID %ld) was not running; removed the stale PID file %s\n",
                   (long)pid, pid_file);
            return CLI_OK;
        }
        return cli_error("cannot signal PID %ld: %s", (long)pid, strerror(errno));
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (exited(pid)) {
            printf("server (PID %ld) stopped\n", (long)pid);
            return CLI_OK;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "%s: server (PID %ld) did not exit within %llds after SIGTERM\n", cli_prog,
            (long)pid, (long long)timeout);
    return CLI_VERIFY_FAILED;
}
