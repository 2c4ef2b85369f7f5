#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/stopstart.sh - the guide's `ocsp serve --port` / `ocsp stop
# --port | --pid-file`: default PID file /tmp/qpki-ocsp-{port}.pid, a second
# server on a live PID file fails clearly, a stale one is replaced, SIGTERM
# drains a request in flight.
. "$(dirname "$0")/lib.sh"

make_pki ca
openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -no_nonce -reqout good.req 2>/dev/null

# launch NAME ARGS...: start a server in the background, wait for "listening"
launch() {
    name=$1
    shift
    "$QPKI" ocsp serve "$@" >"$WORK/$name.log" 2>&1 &
    pid=$!
    SERVER_PIDS="$SERVER_PIDS $pid"
    for _ in $(seq 1 1200); do
        grep -q 'msg=listening' "$WORK/$name.log" && return 0
        kill -0 "$pid" 2>/dev/null || fail "$name exited: $(cat "$WORK/$name.log")"
        sleep 0.05
    done
    fail "$name did not start"
}

# ---- --port with the default PID file; stop --port ----------------------------------
PORT=$(free_port)
DEFPID=/tmp/qpki-ocsp-$PORT.pid
rm -f "$DEFPID"
launch first --port "$PORT" --ca-dir ca --credential ocsp-ca
first_pid=$pid
expect_eq "default PID file" "$(cat "$DEFPID")" "$first_pid"
URL="http://127.0.0.1:$PORT"
expect_match "answers" "$(ocsp_status ca-good.crt ca/ca.crt)" "ca-good.crt: good"

# a second server on the same PID file: refused before it binds anything
set +e
out=$("$QPKI" ocsp serve --port "$PORT" --ca-dir ca --credential ocsp-ca 2>&1)
rc=$?
set -e
expect_eq "second serve exit code" "$rc" "2"
expect_match "second serve message" "$out" "another server is running \(PID $first_pid"
expect_eq "PID file untouched" "$(cat "$DEFPID")" "$first_pid"

out=$("$QPKI" ocsp stop --port "$PORT")
expect_eq "stop --port" "$out" "server (PID $first_pid) stopped"
[ ! -e "$DEFPID" ] || fail "PID file not removed"
kill -0 "$first_pid" 2>/dev/null && fail "process still running"
expect_match "stop logged" "$(tail -1 first.log)" "msg=stopped"
ok "serve --port: PID file $DEFPID; a second serve fails clearly; stop --port"

# ---- --addr HOST:PORT derives the same default; stop --pid-file ----------------------------
launch second --addr "127.0.0.1:$PORT" --ca-dir ca --credential ocsp-ca
expect_eq "PID file from --addr" "$(cat "$DEFPID")" "$pid"
out=$("$QPKI" ocsp stop --pid-file "$DEFPID")
expect_eq "stop --pid-file" "$out" "server (PID $pid) stopped"
[ ! -e "$DEFPID" ] || fail "PID file not removed"
ok "serve --addr 127.0.0.1:PORT; stop --pid-file"

# ---- stale PID file ----------------------------------------------------------------------------
PIDFILE="$WORK/custom.pid"
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
echo "$dead" >"$PIDFILE"
launch third --addr "127.0.0.1:$PORT" --pid-file "$PIDFILE" --ca-dir ca --credential ocsp-ca
expect_eq "stale PID file replaced" "$(cat "$PIDFILE")" "$pid"
expect_match "stale warning" "$(cat third.log)" "removing stale PID file"
ok "a stale PID file (dead process) is replaced"

# ---- SIGTERM drains a request in flight --------------------------------------------------------
/usr/bin/python3 - "$PORT" "$QPKI" "$PIDFILE" "$WORK/third.log" <<'EOF' || fail "drain check failed"
import socket, subprocess, sys, time
port, qpki, pidfile, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = open("good.req", "rb").read()


def until(what, cond, limit=30.0):
    """Wait for an event (a loaded machine may take long), not for a fixed time."""
    end = time.time() + limit
    while not cond():
        assert time.time() < end, "waited %.0f s for %s" % (limit, what)
        time.sleep(0.02)


def backlog():
    """Connections waiting in the listening socket's accept queue (/proc/net/tcp:
    state 0A, rx_queue), None when it is not found."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(name).read().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                return int(f[4].split(":")[1], 16)
    return None


s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
# the server has accepted the connection: the request is in flight
until("the server to accept the connection", lambda: backlog() == 0)
time.sleep(0.2)
stop = subprocess.Popen([qpki, "ocsp", "stop", "--pid-file", pidfile, "--timeout", "60s"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
until("SIGTERM to be taken", lambda: "SIGTERM: draining" in open(log).read())
assert stop.poll() is None, "server exited with a request in flight"
# a new connection is refused while draining (the listener closes right after
# the log line)


def refused():
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


end = time.time() + 10
new_refused = refused()
while not new_refused and time.time() < end:
    time.sleep(0.05)
    new_refused = refused()
assert stop.poll() is None, "server exited with a request in flight"
s.sendall(body[10:])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, resp = data.partition(b"\r\n\r\n")
assert head.startswith(b"HTTP/1.1 200"), head[:40]
assert b"Connection: close" in head, head
assert resp[4:7] == b"\x0a\x01\x00", resp[:8].hex()
out = stop.communicate(timeout=90)[0].decode()
assert stop.returncode == 0 and "stopped" in out, out
assert new_refused, "new connections accepted while draining"
print("in-flight request answered after SIGTERM; new connections refused; then stopped")
EOF
[ ! -e "$PIDFILE" ] || fail "PID file not removed after drain"
ok "SIGTERM drains the request in flight, then the server exits"

# ---- stop without a server --------------------------------------------------------------------------
set +e
out=$("$QPKI" ocsp stop --pid-file "$WORK/none.pid" 2>&1)
rc=$?
set -e
expect_eq "stop without PID file" "$rc" "2"
expect_match "stop without PID file" "$out" "no PID file"
echo "$dead" >"$WORK/stale.pid"
out=$("$QPKI" ocsp stop --pid-file "$WORK/stale.pid" 2>&1)
expect_match "stop on a stale PID file" "$out" "was not running"
[ ! -e "$WORK/stale.pid" ] || fail "stale PID file not removed by stop"
ok "stop: missing PID file -> exit 2; stale PID file -> removed"
