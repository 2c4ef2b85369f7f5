#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Connection floods and a normal client, for tests/server/floods.sh.

usage:
  flood.py flood PORT MODE COUNT [SOURCE_IP]
      Open COUNT connections to 127.0.0.1:PORT and hold them; print "ready N"
      (N connections open) once they are, then hold until stdin closes; print
      "closed-by-server M" (connections the server closed meanwhile) and exit.
      MODE: idle        connect, send nothing
            keepalive   one complete GET answered, then idle (HTTP/1.1 keep-alive)
            slowloris   one byte of a request header per second per connection
            halfclosed  half a request, then shutdown(SHUT_WR) (FIN, never more)
            nonreading  256 pipelined GETs, answers never read (the server's
                        writes block once the socket buffers are full)
  probe PORT CA.pem REQ.der SERIAL_HEX COUNT LIMIT_S [PAUSE_MS]
      COUNT requests of a normal client, each on a new connection, GET and POST
      in turn, PAUSE_MS apart (default 0); every answer must arrive within LIMIT_S seconds, be HTTP 200 with
      a successful OCSP response saying "good" for SERIAL_HEX, signed by the
      embedded responder certificate, itself signed by CA.pem (checked with
      Python cryptography after the timing).  Prints
      "probe n=COUNT p50_ms=.. p99_ms=.. max_ms=..".
  expect-refused PORT LIMIT_S
      One request must fail (connection refused, reset or closed without an
      answer, or no answer within LIMIT_S): the server is out of descriptors.
"""
import base64
import resource
import select
import socket
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # RST on close: thousands of TIME_WAIT sockets would eat the ephemeral ports
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    if source:
        s.bind((source, 0))
    s.settimeout(10)
    s.connect(('127.0.0.1', port))
    s.setblocking(False)
    return s


def flood(port, mode, count, source=None):
    raise_nofile(count + 64)
    get = b'GET /MEIwQDA%2BMDwwOjAJBgUrDgMCGgUABBQ HTTP/1.1\r\nHost: x\r\n\r\n'
    conns = []
    for i in range(count):
        try:
            conns.append(connect(port, source))
        except OSError as e:
            print('connect %d failed: %s' % (i, e), flush=True)
            break
    ep = select.epoll()
    if mode == 'keepalive':
        for s in conns:
            s.sendall(b'GET /healthz-not-here HTTP/1.1\r\nHost: x\r\n\r\n')
        # every connection gets its answer (400 or 200), then stays open idle
        for s in conns:
            s.setblocking(True)
            s.settimeout(10)
            data = s.recv(65536)
            if not data.startswith(b'HTTP/1.1 '):
                raise SystemExit('keepalive: no answer: %r' % data[:40])
            s.setblocking(False)
    elif mode == 'halfclosed':
        for s in conns:
            s.send(b'GET /MEIwQDA%2BMDw')
            s.shutdown(socket.SHUT_WR)
    elif mode == 'nonreading':
        batch = get * 256
        for s in conns:
            try:
                s.send(batch)
            except (BlockingIOError, InterruptedError):
                pass
    for s in conns:
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    by_fd = {s.fileno(): s for s in conns}
    closed = set()
    header = b'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowloris\r\nX-a: ' + b'b' * 4000
    sent = dict.fromkeys(by_fd, 0)
    print('ready %d' % len(conns), flush=True)
    ep.register(sys.stdin.fileno(), select.EPOLLIN | select.EPOLLHUP)
    next_tick = time.monotonic()
    while True:
        timeout = max(0.0, next_tick - time.monotonic()) if mode == 'slowloris' else -1
        events = ep.poll(timeout)
        for fd, ev in events:
            if fd == sys.stdin.fileno():
                if not sys.stdin.buffer.read1(100):
                    # closes the loop has not seen yet (their events may come
                    # after this one): every connection the server has shut
                    # down or reset by now counts
                    sweep = select.poll()
                    for other in by_fd:
                        if other not in closed:
                            sweep.register(other, select.POLLRDHUP | select.POLLHUP)
                    for other, ev in sweep.poll(0):
                        if ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR):
                            closed.add(other)
                    print('closed-by-server %d' % len(closed), flush=True)
                    return
                continue
            s = by_fd[fd]
            if mode == 'nonreading' and not (ev & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR)):
                continue      # answers arrive; they are not read
            try:
                data = s.recv(1, socket.MSG_PEEK)
            except OSError:
                data = b''
            if data == b'' and fd not in closed:
                closed.add(fd)
                ep.unregister(fd)
            elif mode != 'nonreading':
                # an answer (e.g. 400/408 before closing): read it to see the close
                try:
                    s.recv(65536)
                except OSError:
                    pass
        if mode == 'slowloris' and time.monotonic() >= next_tick:
            next_tick += 1.0
            for fd, s in by_fd.items():
                if fd in closed:
                    continue
                try:
                    i = sent[fd]
                    if s.send(header[i % len(header):i % len(header) + 1]) == 1:
                        sent[fd] = i + 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed.add(fd)
                    try:
                        ep.unregister(fd)
                    except OSError:
                        pass


def http_request(port, raw, limit):
    """Send raw on a new connection; return (seconds, status, headers, body)."""
    t0 = time.monotonic()
    deadline = t0 + limit
    s = socket.create_connection(('127.0.0.1', port), timeout=limit)
    try:
        s.sendall(raw)
        buf = b''
        while b'\r\n\r\n' not in buf:
            s.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError('closed before the headers')
            buf += chunk
        head, body = buf.split(b'\r\n\r\n', 1)
        lines = head.split(b'\r\n')
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(b':', 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get(b'content-length', b'0'))
        while len(body) < n:
            s.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError('closed in the body')
            body += chunk
        return time.monotonic() - t0, status, headers, body
    finally:
        s.close()


def check_answer(body, ca, serial):
    resp = ocsp.load_der_ocsp_response(body)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL, resp.response_status
    assert resp.serial_number == serial, hex(resp.serial_number)
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD, resp.certificate_status
    signer = resp.certificates[0] if resp.certificates else ca
    signer.public_key().verify(resp.signature, resp.tbs_response_bytes,
                               ec.ECDSA(resp.signature_hash_algorithm))
    if signer is not ca:
        ca.public_key().verify(signer.signature, signer.tbs_certificate_bytes,
                               ec.ECDSA(signer.signature_hash_algorithm))


def probe(port, ca_path, req_path, serial_hex, count, limit, pause=0.0):
    ca = x509.load_pem_x509_certificate(open(ca_path, 'rb').read())
    der = open(req_path, 'rb').read()
    b64 = base64.b64encode(der).decode().replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')
    get = ('GET /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' % b64).encode()
    post = (b'POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'
            b'Content-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n' % len(der)) + der
    times, bodies = [], []
    for i in range(count):
        secs, status, headers, body = http_request(port, get if i % 2 == 0 else post, limit)
        assert status == 200, 'request %d: HTTP %d' % (i, status)
        assert headers.get(b'content-type') == b'application/ocsp-response', headers
        times.append(secs)
        bodies.append(body)
        if pause:
            time.sleep(pause)
    serial = int(serial_hex, 16)
    for body in set(bodies):          # answers repeat within a second: check each once
        check_answer(body, ca, serial)
    times.sort()
    pct = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000
    print('probe n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f distinct_answers_verified=%d' %
          (count, pct(0.50), pct(0.99), times[-1] * 1000, len(set(bodies))), flush=True)


def expect_refused(port, limit):
    get = b'GET /MEIwQDA HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    try:
        secs, status, _, _ = http_request(port, get, limit)
    except (OSError, ConnectionError) as e:
        print('refused: %s' % (e.__class__.__name__,), flush=True)
        return
    raise SystemExit('answered (HTTP %d in %.3f s) while out of descriptors' % (status, secs))


def main():
    cmd = sys.argv[1]
    if cmd == 'flood':
        flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
              sys.argv[5] if len(sys.argv) > 5 else None)
    elif cmd == 'probe':
        probe(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]),
              float(sys.argv[7]), float(sys.argv[8]) / 1000 if len(sys.argv) > 8 else 0.0)
    elif cmd == 'expect-refused':
        expect_refused(int(sys.argv[2]), float(sys.argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
