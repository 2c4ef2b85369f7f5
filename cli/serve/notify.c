/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/notify.c - readiness for systemd's Type=notify without libsystemd:
 * the sd_notify(3) datagram written to $NOTIFY_SOCKET ourselves.
 *
 * sd_notify(3): "the notification is sent as a datagram to the AF_UNIX socket
 * named in $NOTIFY_SOCKET ... If the first character of $NOTIFY_SOCKET is '@',
 * the string is understood as Linux abstract namespace socket."  The state is
 * newline-separated VARIABLE=value assignments.  Without NOTIFY_SOCKET (not
 * started by systemd, or Type=simple) every call does nothing. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "serve.h"

/* One warning per process when the socket is unusable; the server keeps serving. */
static bool warned;

static void warn_once(const char *why, const char *detail)
{
    if (warned)
        return;
    warned = true;
    serve_log("warn", "cannot notify systemd (NOTIFY_SOCKET)", "error", why, "detail", detail,
              (const char *)NULL);
}

void serve_notify(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !name[0])
        return;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(name);
    if ((name[0] != '/' && name[0] != '@') || len >= sizeof sa.sun_path) {
        warn_once("unsupported address (an absolute path or @abstract name is expected)",
                  name);
        return;
    }
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the length below, not a NUL, ends the name */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                                  (name[0] == '/' ? 1 : 0));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        warn_once("socket", strerror(errno));
        return;
    }
    ssize_t n;
    do
        n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        warn_once("sendto", strerror(errno));
    close(fd);
}

void serve_notify_reloading(void)
{
    /* sd_notify(3): "MONOTONIC_USEC=... typically used in combination with
     * RELOADING=1, to allow the service manager to properly synchronize reload
     * cycles." */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char state[96];
    snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u);
    serve_notify(state);
}
