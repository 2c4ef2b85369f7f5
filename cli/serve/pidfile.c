/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/pidfile.c - the PID file of `ocsp serve`, read by `ocsp stop`.
 *
 * Created with O_CREAT|O_EXCL so that two servers can never both believe they
 * own it.  A file left by a process that no longer exists (kill(pid, 0) fails
 * with ESRCH) is stale: it is removed and creation retried once.  A file naming
 * a live process is an error.  On exit the file is removed only if it still
 * names this process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

void serve_default_pid_file(long port, char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/qpki-ocsp-%ld.pid", port);
}

int serve_pidfile_read(const char *path, pid_t *pid)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        cli_error("cannot read PID file %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        cli_error("PID file %s is empty", path);
        return -1;
    }
    buf[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    while (*end == '\n' || *end == '\r' || *end == ' ')
        end++;
    if (errno || *end || v <= 1 || v > 0x7fffffffL) {
        cli_error("PID file %s does not hold a process ID", path);
        return -1;
    }
    *pid = (pid_t)v;
    return 1;
}

static bool process_alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

bool serve_pidfile_create(const char *path)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) {
            char buf[32];
            int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
            bool ok = write(fd, buf, (size_t)n) == n;
            ok = close(fd) == 0 && ok;
            if (!ok) {
                cli_error("cannot write PID file %s: %s", path, strerror(errno));
                unlink(path);
            }
            return ok;
        }
        if (errno != EEXIST) {
            cli_error("cannot create PID file %s: %s", path, strerror(errno));
            return false;
        }
        pid_t pid = 0;
        int r = serve_pidfile_read(path, &pid);
        if (r == 0)
            continue; /* removed in between: try again */
        if (r > 0 && process_alive(pid)) {
            cli_error("another server is running (PID %ld, from %s); stop it with "
                      "'qpki ocsp stop --pid-file %s'",
                      (long)pid, path, path);
            return false;
        }
        if (r < 0) {
            cli_error("refusing to replace %s: remove it if no server uses it", path);
            return false;
        }
        cli_warn("removing stale PID file %s (process %ld is gone)", path, (long)pid);
        if (unlink(path) != 0 && errno != ENOENT) {
            cli_error("cannot remove stale PID file %s: %s", path, strerror(errno));
            return false;
        }
    }
    cli_error("cannot create PID file %s: it keeps reappearing", path);
    return false;
}

void serve_pidfile_remove(const char *path)
{
    pid_t pid = 0;
    if (serve_pidfile_read(path, &pid) == 1 && pid == getpid())
        unlink(path);
}
