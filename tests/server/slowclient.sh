#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/slowclient.sh - idle and half-sent connections do not delay other
# clients (one worker thread on purpose); the idle timeout closes them; the
# connection cap refuses connections beyond it.  Nothing is timed against the
# machine's speed: the normal request must complete while the idle connections
# are still open.
. "$(dirname "$0")/lib.sh"

make_pki ca
openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -no_nonce -reqout good.req 2>/dev/null
G=$(b64 good.req)

# ---- 50 idle connections + half-sent requests, one worker thread ----------------------
start_server slow --ca-dir ca --credential ocsp-ca --threads 1 --timeout 30s
/usr/bin/python3 - "$PORT" "$G" <<'EOF' || fail "slow-client check failed"
import errno, http.client, socket, sys
port, path = int(sys.argv[1]), "/" + sys.argv[2]

def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=10)

idle = [connect() for _ in range(50)]
half_body = connect()
half_body.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n\x30\x82")
half_head = connect()
half_head.sendall(b"GET /" + path[1:11].encode())
slow = idle + [half_body, half_head]

# the normal client
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for method in ("GET", "POST"):
    if method == "GET":
        conn.request("GET", path)
    else:
        conn.request("POST", "/", open("good.req", "rb").read())
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, r.status
    assert body[4:7] == b"\x0a\x01\x00", body[:8].hex()

def still_open(s):
    s.setblocking(False)
    try:
        data = s.recv(1, socket.MSG_PEEK)
        return False if data == b"" else True
    except BlockingIOError:
        return True
    except OSError:
        return False

closed = [i for i, s in enumerate(slow) if not still_open(s)]
assert not closed, "connections closed before the normal request finished: %r" % closed
print("normal GET and POST answered while %d slow connections stayed open" % len(slow))
EOF
ok "50 idle + 2 half-sent connections do not delay a normal client (1 thread)"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null

# ---- idle timeout -------------------------------------------------------------------------------
start_server timeout --ca-dir ca --credential ocsp-ca --timeout 1s
/usr/bin/python3 - "$PORT" <<'EOF' || fail "idle timeout check failed"
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"GET /MEk")              # never finished
s.settimeout(30)
t = time.monotonic()
data = s.recv(100)                  # returns b"" when the server closes
assert data == b"", data
print("half-sent request closed by the server after %.1f s" % (time.monotonic() - t))
EOF
ok "--timeout closes an idle half-sent connection"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null

# ---- connection cap -------------------------------------------------------------------------------
start_server cap --ca-dir ca --credential ocsp-ca --max-connections 8
/usr/bin/python3 - "$PORT" "$G" <<'EOF' || fail "connection cap check failed"
import http.client, socket, sys, time
port, path = int(sys.argv[1]), "/" + sys.argv[2]
held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(8)]
time.sleep(0.3)
refused = False
try:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path)
    c.getresponse().read()
except (ConnectionError, http.client.RemoteDisconnected, socket.timeout, OSError):
    refused = True
assert refused, "a 9th connection was served"
for s in held:
    s.close()
for _ in range(50):                 # the server notices the closes
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        if r.status == 200:
            break
    except OSError:
        pass
    time.sleep(0.1)
else:
    raise SystemExit("not served after the held connections closed")
print("9th connection refused at the cap, served once the others closed")
EOF
ok "--max-connections refuses connections beyond the cap"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
