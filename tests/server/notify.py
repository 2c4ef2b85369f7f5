#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tests/server/notify.py - the sd_notify readiness protocol of `qpki ocsp serve`,
without systemd: this script plays the service manager.  It binds a datagram
socket, starts the server with NOTIFY_SOCKET naming it, and checks each message
and the order: READY=1 only once the OCSP port answers (openssl ocsp gets a
verified `good`), RELOADING=1 (MONOTONIC_USEC between our clock readings around
the SIGHUP) then READY=1 around a reload, READY=1 with a failure status after a
broken configuration, STOPPING=1 on SIGTERM and nothing after it.

usage: notify.py QPKI WORKDIR path|abstract
WORKDIR holds ca/ (with credentials/ocsp-ca) and ca-good.crt made by make_pki."""
import os, signal, socket, subprocess, sys, time

qpki, work, kind = sys.argv[1:4]
os.chdir(work)


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print(f"ok - {msg}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if kind == "abstract":
    name = f"@qpki-notify-test-{os.getpid()}"
    sock.bind("\0" + name[1:])
else:
    name = os.path.join(work, "notify.sock")
    sock.bind(name)
sock.settimeout(20)

port = free_port()
url = f"http://127.0.0.1:{port}"
with open("notify.yaml", "w") as f:
    f.write("validity: 30m\ncas:\n  - dir: ca\n    credential: ocsp-ca\n")
log = open(f"notify-{kind}.log", "w")
env = dict(os.environ, NOTIFY_SOCKET=name)
proc = subprocess.Popen([qpki, "ocsp", "serve", "--config", "notify.yaml", "--addr",
                         f"127.0.0.1:{port}", "--pid-file", os.path.join(work, f"{kind}.pid")],
                        stdout=log, stderr=subprocess.STDOUT, env=env)
messages = []


def receive(what):
    try:
        data = sock.recv(4096)
    except socket.timeout:
        fail(f"no notification ({what}) within 20 s; got so far: {messages}")
    fields = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
    messages.append(fields)
    return fields


def ocsp_good():
    r = subprocess.run(["openssl", "ocsp", "-issuer", "ca/ca.crt", "-cert", "ca-good.crt",
                        "-url", url, "-CAfile", "ca/ca.crt", "-timeout", "5"],
                       capture_output=True, text=True)
    return r.returncode == 0 and "ca-good.crt: good" in r.stdout and \
        "Response verify OK" in r.stderr


try:
    m = receive("start")
    if m.get("READY") != "1":
        fail(f"first message is not READY=1: {m}")
    if not m.get("STATUS", "").startswith(f"answering on 127.0.0.1:{port}"):
        fail(f"READY=1 status: {m}")
    # the manager may start dependants right now: the port must already answer
    if not ocsp_good():
        fail("READY=1 sent, but openssl ocsp did not get a verified good answer")
    ok(f"{kind} socket: READY=1 ({m['STATUS']}); openssl ocsp verifies 'good' at that moment")

    for attempt, broken in (("reload", False), ("broken reload", True)):
        if broken:
            with open("notify.yaml", "w") as f:
                f.write("validity: 30m\nno_such_key: 1\ncas:\n  - dir: ca\n")
        before = time.monotonic_ns() // 1000
        proc.send_signal(signal.SIGHUP)
        m = receive(f"{attempt}: RELOADING")
        after = time.monotonic_ns() // 1000
        if m.get("RELOADING") != "1":
            fail(f"{attempt}: expected RELOADING=1 first, got {m}")
        usec = int(m.get("MONOTONIC_USEC", "-1"))
        if not before <= usec <= after:
            fail(f"{attempt}: MONOTONIC_USEC {usec} not within [{before}, {after}]")
        m = receive(f"{attempt}: READY")
        if m.get("READY") != "1":
            fail(f"{attempt}: expected READY=1 after RELOADING=1, got {m}")
        want = "reload failed" if broken else "reloaded"
        if not m.get("STATUS", "").startswith(want):
            fail(f"{attempt}: READY=1 status {m.get('STATUS')!r}, expected {want!r}")
        if not ocsp_good():
            fail(f"{attempt}: no verified good answer after READY=1")
        ok(f"{kind} socket: {attempt}: RELOADING=1 (MONOTONIC_USEC within the SIGHUP window), "
           f"then READY=1 ({m['STATUS']}); still answering")

    proc.send_signal(signal.SIGTERM)
    m = receive("stop")
    if m.get("STOPPING") != "1":
        fail(f"expected STOPPING=1 on SIGTERM, got {m}")
    rc = proc.wait(timeout=20)
    if rc != 0:
        fail(f"server exit status {rc}")
    sock.settimeout(0.2)
    try:
        extra = sock.recv(4096)
        fail(f"a message after STOPPING=1: {extra!r}")
    except socket.timeout:
        pass
    order = [next(k for k in ("READY", "RELOADING", "STOPPING") if k in x) for x in messages]
    if order != ["READY", "RELOADING", "READY", "RELOADING", "READY", "STOPPING"]:
        fail(f"order {order}")
    ok(f"{kind} socket: STOPPING=1 on SIGTERM, exit 0, nothing after; order {' '.join(order)}")
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
