#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/soak.py - the soak run of bench/soak.sh (read that first).

usage: soak.py --qpki QPKI --work DIR --duration SECONDS --lua bench/ocsp.lua
               --noble tests/interop/catalyst_noble.mjs [--report FILE]

Builds three CAs with the qpki CLI (ECDSA P-256, Ed25519, Catalyst ECDSA P-384 +
ML-DSA-65), each with a delegated responder credential and 2,000 synthetic
index.txt rows, starts `qpki ocsp serve` for the three (signed-response cache
capped at 5,000 so that it is full from the warm-up on), asks once for every
serial (warm-up), measures its capacity with the soak's request mix (wrk,
unpaced, a few seconds), then for DURATION:

  load      wrk at about half that capacity (OCSP_DELAY_MS pacing, the number
            of connections re-tuned each interval within a factor of two of
            the first estimate, so the load stays bounded when the machine is
            busy with something else), every answer checked for
            HTTP 200 + responseStatus successful; one wrk run per interval
            gives the p99 over time
  index     every 10 s one CA's index.txt changes (2 rows revoked, 2 added),
            written as `openssl ca` or `qpki cert` would: under the CA's lock
            (index.txt.lock), to a temporary file, then renamed
  rotation  every ROT s a credential is rotated and activated (CA in turn)
  SIGHUP    every HUP s
  checker   about 20 requests a second of its own (random CA, serial -
            revoked, good, never issued -, nonce or not, GET or POST, SHA-1 or
            SHA-256 CertID), each verified with Python cryptography: signature
            of the responder certificate, that certificate issued by the CA for
            OCSP signing and the credential version active when the request
            was sent (a new version from the moment `activate` starts: the
            server may switch before the command has exited), CertID, status (and revocation time and reason) against
            index.txt as it was when the request was sent, nonce echoed; the
            Catalyst answers' ML-DSA-65 signatures, sampled, with
            @noble/post-quantum
  sampler   server RSS and descriptors every 5 s

The server takes a change of index.txt within 2 s and an activated credential at
its key watcher's next pass, every 0.25 s (docs/OPERATIONS.md); an answer may
reflect any state current between LAG = 3 s before the request was sent and the
moment it was received.  The report gives the credential pick-up times (activate
returned -> the server's switch line, which names the version).

ROT = min(60, DURATION / 3), HUP = min(300, DURATION / 2), so a short run sees
every event.  Exit status 0 when failed = 0, wrong = 0, the RSS at the end is
less than 5 % above the highest of the first quarter of the run (after the
first interval; a SIGHUP empties the cache, which fills again, so the size
saw-tooths), no descriptor other than the connections' was gained, every event
happened and the server logged no error.

QPKI_SOAK_WRAP runs the server under a command (e.g. "heaptrack -o FILE").
"""
import argparse
import base64
import datetime
import fcntl
import hashlib
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

LAG = 3.0
CAS = [  # name, CA profile, responder profile
    ('ec', 'ec/root-ca', 'ec/ocsp-responder'),
    ('ed', 'ed/root-ca', 'ed/ocsp-responder'),
    ('cat', 'hybrid/catalyst/root-ca', 'hybrid/catalyst/ocsp-responder'),
]
ROWS = 2000
# The signed-response cache is kept below the soak's 6,000 serials, so it is full
# (and evicting) from the warm-up on: the resident size then shows leaks, not
# the cache growing with every new serial the run adds.
CACHE_SIZE = 5000
UNKNOWN = 100   # never-issued serials per CA the checker asks about
REASONS = ['keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged']
REASON_FLAGS = {'keyCompromise': x509.ReasonFlags.key_compromise,
                'superseded': x509.ReasonFlags.superseded,
                'cessationOfOperation': x509.ReasonFlags.cessation_of_operation,
                'affiliationChanged': x509.ReasonFlags.affiliation_changed}
NONCE_OID = '1.3.6.1.5.5.7.48.1.2'
ALT_SPKI_OID = ObjectIdentifier('2.5.29.72')


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


# ---- DER for requests (CertID by hash: the serials have no certificates) ---------------

def der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        head = bytes([tag, 0x80 | len(b)]) + b
    return head + body


def der_int(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, 'big')
    return der(0x02, b)


ALG = {'sha1': der(0x30, der(0x06, bytes.fromhex('2b0e03021a')) + b'\x05\x00'),
       'sha256': der(0x30, der(0x06, bytes.fromhex('608648016503040201')) + b'\x05\x00')}


def spki_bits(cert):
    """subjectPublicKey BIT STRING value (what issuerKeyHash hashes)."""
    from cryptography.hazmat.primitives import serialization
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    # SEQUENCE { AlgorithmIdentifier, BIT STRING }: skip the outer header, the algorithm
    def skip(buf, i):
        n = buf[i + 1]
        if n < 0x80:
            return i + 2, n
        k = n & 0x7f
        return i + 2 + k, int.from_bytes(buf[i + 2:i + 2 + k], 'big')
    i, _ = skip(spki, 0)
    j, n = skip(spki, i)
    k, n = skip(spki, j + n)
    return spki[k + 1:k + n]   # after the unused-bits octet


def ocsp_request(ca, serial, alg, nonce):
    h = hashlib.new(alg)
    name_hash = hashlib.new(alg, ca['cert'].subject.public_bytes()).digest()
    h.update(ca['key_bits'])
    certid = der(0x30, ALG[alg] + der(0x04, name_hash) + der(0x04, h.digest()) + der_int(serial))
    request_list = der(0x30, der(0x30, certid))       # SEQUENCE OF Request { reqCert }
    exts = b''
    if nonce is not None:                              # RFC 8954: id-pkix-ocsp-nonce
        ext = der(0x30, der(0x06, bytes.fromhex('2b0601050507300102')) +
                  der(0x04, der(0x04, nonce)))
        exts = der(0xa2, der(0x30, ext))               # requestExtensions [2] EXPLICIT
    return der(0x30, der(0x30, request_list + exts))


def get_path(req):
    b64 = base64.b64encode(req).decode()
    return '/' + b64.replace('+', '%2B').replace('/', '%2F').replace('=', '%3D')


# ---- the status model: index.txt as it was at every moment ----------------------------

class Model:
    """Per CA: serial -> list of (t_from, state); state = ('good',) or
    ('revoked', time, reason); a serial absent before its first entry is unknown."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hist = {}    # (ca, serial) -> [(t, state)]
        self.serials = {}  # ca -> list of synthetic serials

    def set(self, ca, serial, t, state):
        with self.lock:
            self.hist.setdefault((ca, serial), []).append((t, state))
            if len(self.hist[(ca, serial)]) == 1:
                self.serials.setdefault(ca, []).append(serial)

    def states(self, ca, serial, t0, t1):
        """Every state current at some moment in [t0, t1]."""
        with self.lock:
            h = list(self.hist.get((ca, serial), []))
        out = []
        if not h or h[0][0] > t0:
            out.append(('unknown',))
        for i, (t, st) in enumerate(h):
            end = h[i + 1][0] if i + 1 < len(h) else float('inf')
            if t <= t1 and end >= t0:
                out.append(st)
        return out

    def pick(self, ca, rng):
        with self.lock:
            return rng.choice(self.serials[ca])


def ts_index(t):
    return time.strftime('%y%m%d%H%M%SZ', time.gmtime(t))


class Index:
    """Writes a CA's index.txt the way a CA does: under index.txt.lock, to a
    temporary file, fsync, rename."""

    def __init__(self, ca_dir, name, model, rng):
        self.dir, self.name, self.model, self.rng = ca_dir, name, model, rng
        self.good = []
        self.next = 1

    def _locked(self, edit):
        with open(os.path.join(self.dir, 'index.txt.lock'), 'a+') as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            path = os.path.join(self.dir, 'index.txt')
            lines = open(path).read().splitlines()
            lines = edit(lines)
            tmp = path + '.soak-tmp'
            with open(tmp, 'w') as f:
                f.write(''.join(l + '\n' for l in lines))
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, path)
            return time.time()

    def _row(self, serial, state):
        exp = ts_index(time.time() + 365 * 86400)
        rev = '' if state[0] == 'good' else '%s,%s' % (ts_index(state[1]), state[2])
        return '%s\t%s\t%s\t%X\tunknown\t/CN=soak-%s-%X' % (
            'V' if state[0] == 'good' else 'R', exp, rev, serial, self.name, serial)

    def new_serial(self):
        self.next += 1
        return (0x50 << 56) | (self.rng.getrandbits(40) << 16) | self.next

    def populate(self, n):
        rows, states = [], []
        for i in range(n):
            s = self.new_serial()
            if i % 10 == 0:
                st = ('revoked', int(time.time()) - 3600 - i, self.rng.choice(REASONS))
            else:
                st = ('good',)
                self.good.append(s)
            rows.append(self._row(s, st))
            states.append((s, st))
        t = self._locked(lambda lines: lines + rows)
        for s, st in states:
            self.model.set(self.name, s, 0.0, st)
        return t

    def change(self, k=2):
        """Revoke k good rows, add k new ones."""
        revoke = [self.good.pop(self.rng.randrange(len(self.good))) for _ in range(k)]
        now = int(time.time())
        rstate = {s: ('revoked', now - self.rng.randrange(0, 600), self.rng.choice(REASONS))
                  for s in revoke}
        added = [self.new_serial() for _ in range(k)]

        def edit(lines):
            out = []
            for l in lines:
                f = l.split('\t')
                s = int(f[3], 16) if len(f) > 3 else None
                out.append(self._row(s, rstate[s]) if s in rstate else l)
            return out + [self._row(s, ('good',)) for s in added]
        t = self._locked(edit)
        for s in revoke:
            self.model.set(self.name, s, t, rstate[s])
        for s in added:
            self.model.set(self.name, s, t, ('good',))
            self.good.append(s)


# ---- the run ---------------------------------------------------------------------------

class Soak:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(1)
        self.model = Model()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.t_start = None
        self.counts = dict(checked=0, check_failed=0, wrong=0, nonce_checked=0, revoked_seen=0,
                           unknown_seen=0, index_changes=0, rotations=0, sighups=0,
                           noble_verified=0, load_failed=0)
        self.by_ca = {c[0]: 0 for c in CAS}
        self.failures = []
        self.wrk = []      # (t, requests, rps, p99_us, max_us, bad, errors, conns)
        self.samples = []  # (t, rss_kib, fds, non_socket_fds)
        # ca -> [(activate started, activate returned, fingerprint)]: a version may
        # sign from the moment activate starts (the server acts on the links and
        # metadata activate writes before it exits); the one it replaces until
        # activate returned, plus LAG
        self.signers = {}
        self.check_lat = []  # (t, seconds)
        self.catalyst_samples = []
        self.hup_times = []
        self.activations = []  # (ca, version, time activate returned)

    def qpki(self, *args):
        r = subprocess.run([self.a.qpki] + list(args), cwd=self.a.work, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit('qpki %s: %s%s' % (' '.join(args), r.stdout, r.stderr))
        return r.stdout

    def fail(self, kind, msg):
        with self.lock:
            self.counts[kind] += 1
            if len(self.failures) < 50:
                self.failures.append('%s at +%.1fs: %s' % (kind, time.time() - self.t_start, msg))

    # -- setup
    def setup(self):
        w = self.a.work
        self.cas = {}
        for name, ca_prof, resp_prof in CAS:
            self.qpki('ca', 'init', '--ca-dir', name, '--profile', ca_prof,
                      '--var', 'cn=Soak CA %s' % name)
            self.qpki('credential', 'enroll', '--ca-dir', name, '--cred-dir', 'credentials',
                      '--profile', resp_prof, '--var', 'cn=ocsp.%s.soak' % name,
                      '--id', 'ocsp-' + name)
            cert = x509.load_pem_x509_certificate(open(os.path.join(w, name, 'ca.crt'), 'rb').read())
            idx = Index(os.path.join(w, name), name, self.model, self.rng)
            idx.populate(ROWS)
            self.cas[name] = dict(cert=cert, key_bits=spki_bits(cert), index=idx)
            self.signers[name] = [(0.0, 0.0, self.active_fingerprint(name))]
        self.unknown = {name: [(0x51 << 56) | self.rng.getrandbits(48) for _ in range(UNKNOWN)]
                        for name in self.cas}
        # the load: per CA 200 GET and 200 POST without nonce, 100 POST with one
        os.makedirs(os.path.join(w, 'req'), exist_ok=True)
        lines = []
        for name in self.cas:
            serials = self.rng.sample(self.model.serials[name], 300)
            for i, s in enumerate(serials):
                alg = 'sha1' if i % 4 else 'sha256'
                r = ocsp_request(self.cas[name], s, alg, None)
                if i < 200:
                    lines.append('GET ' + get_path(r)[1:])
                if i >= 100:
                    p = os.path.join(w, 'req', '%s-%d.der' % (name, i))
                    open(p, 'wb').write(r)
                    lines.append('POST ' + p)
                if i < 100:
                    p = os.path.join(w, 'req', '%s-%d-nonce.der' % (name, i))
                    open(p, 'wb').write(ocsp_request(self.cas[name], s, alg,
                                                     self.rng.randbytes(16)))
                    lines.append('POST ' + p)
        self.manifest = os.path.join(w, 'mixed.txt')
        open(self.manifest, 'w').write('\n'.join(lines) + '\n')
        n_nonce = sum(1 for l in lines if l.endswith('-nonce.der'))
        n_get = sum(1 for l in lines if l.startswith('GET'))
        log('mix: %d requests, %d GET, %d POST, %d with a nonce (live signing), 3 CAs' %
            (len(lines), n_get, len(lines) - n_get, n_nonce))

    def active_fingerprint(self, name):
        p = os.path.join(self.a.work, 'credentials', 'ocsp-' + name, 'ocsp-%s.crt' % name)
        c = x509.load_pem_x509_certificate(open(p, 'rb').read())
        return c.fingerprint(hashes.SHA256())

    def start_server(self):
        w = self.a.work
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        self.port = s.getsockname()[1]
        s.close()
        # QPKI_SOAK_WRAP: a command the server runs under ("heaptrack -o FILE")
        args = os.environ.get('QPKI_SOAK_WRAP', '').split() + [
            self.a.qpki, 'ocsp', 'serve', '--addr', '127.0.0.1:%d' % self.port,
            '--pid-file', os.path.join(w, 'serve.pid'), '--quiet', '--validity', self.a.validity,
            '--cache-size', str(CACHE_SIZE)]
        for name, _, _ in CAS:
            args += ['--ca-dir', name, '--credential', 'ocsp-' + name]
        self.server_log = open(os.path.join(w, 'server.log'), 'w')
        self.server = subprocess.Popen(args, cwd=w, stdout=self.server_log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if 'msg=listening' in open(os.path.join(w, 'server.log')).read():
                return
            if self.server.poll() is not None:
                raise SystemExit('server exited: ' + open(os.path.join(w, 'server.log')).read())
            time.sleep(0.05)
        raise SystemExit('server did not start')

    def run_wrk(self, seconds, conns, delay_ms):
        env = dict(os.environ, OCSP_CHECK='1', OCSP_DELAY_MS=str(delay_ms))
        cmd = ['wrk', '-t2', '-c%d' % conns, '-d%ds' % seconds, '--timeout', '5s',
               '-s', self.a.lua, 'http://127.0.0.1:%d' % self.port, '--', 'mixed', self.manifest]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        m = re.search(r'RESULT requests=(\d+) rps=([\d.]+) p50_us=(\d+) p90_us=(\d+) '
                      r'p99_us=(\d+) max_us=(\d+) bad=(\d+) errors=(\d+) (.*)', r.stdout)
        if not m:
            raise SystemExit('wrk: %s %s' % (r.stdout, r.stderr))
        v = [float(x) for x in m.groups()[:8]]
        return dict(requests=int(v[0]), rps=v[1], p50=v[2], p99=v[4], max=v[5], bad=int(v[6]),
                    errors=int(v[7]), kinds=m.group(9).strip(), t_end=time.time())

    # -- threads
    def every(self, period, fn, first=None):
        t = time.time() + (first if first is not None else period)
        while not self.stop.wait(max(0.0, t - time.time())):
            if time.time() > self.t_end:
                return
            fn()
            t += period

    def load(self):
        conns = self.conns
        t_next = self.t_start
        while time.time() + 1 < self.t_end:
            secs = int(min(self.a.interval, self.t_end - time.time()))
            if secs < 1:
                break
            t0 = time.time()
            r = self.run_wrk(secs, conns, self.delay)
            load1 = float(open('/proc/loadavg').read().split()[0])
            with self.lock:
                self.wrk.append((t0 - self.t_start, r['requests'], r['rps'], r['p99'], r['max'],
                                 r['bad'], r['errors'], conns, load1))
            if r['bad'] or r['errors']:
                # counted in failed through wrk_bad (report()), not check_failed.
                # Whether the server or the load generator stalled: the checker's
                # own requests in the same window, and how long wrk -d N took.
                a, b = t0 - self.t_start, r['t_end'] - self.t_start
                with self.lock:
                    seen = [x[1] for x in self.check_lat if a <= x[0] <= b]
                self.fail('load_failed', 'wrk interval +%.0f..+%.0f s: %d bad answers, %d errors (%s); '
                          'wrk -d %ds took %.1f s; the checker meanwhile: %d answers, max %.0f ms' %
                          (a, b, r['bad'], r['errors'], r['kinds'], secs, b - a, len(seen),
                           max(seen) * 1000 if seen else 0))
            # re-tune the connection count toward the target rate, within a
            # factor of two of the first estimate: the offered load stays
            # bounded when the machine is busy with something else
            if r['rps'] > 0:
                conns = max(max(2, self.conns // 2),
                            min(2 * self.conns, round(conns * self.target / r['rps'])))

    def change_index(self):
        name = CAS[self.counts['index_changes'] % len(CAS)][0]
        self.cas[name]['index'].change()
        with self.lock:
            self.counts['index_changes'] += 1

    def rotate(self):
        name = CAS[self.counts['rotations'] % len(CAS)][0]
        out = self.qpki('credential', 'rotate', 'ocsp-' + name, '--cred-dir', 'credentials')
        v = re.search(r'Version (v\d+)', out).group(1)
        t0 = time.time()
        self.qpki('credential', 'activate', 'ocsp-' + name, '--version', v,
                  '--cred-dir', 'credentials')
        t = time.time()
        with self.lock:
            self.signers[name].append((t0, t, self.active_fingerprint(name)))
            self.counts['rotations'] += 1
            self.activations.append((name, v, t))

    def sighup(self):
        os.kill(self.server_pid(), signal.SIGHUP)
        with self.lock:
            self.counts['sighups'] += 1
            self.hup_times.append(time.time() - self.t_start)

    def server_pid(self):
        try:
            return int(open(os.path.join(self.a.work, 'serve.pid')).read())
        except (OSError, ValueError):
            return self.server.pid

    def sample(self):
        pid = self.server_pid()
        rss = int(re.search(r'VmRSS:\s+(\d+)', open('/proc/%d/status' % pid).read()).group(1))
        fds = os.listdir('/proc/%d/fd' % pid)
        other = 0
        for fd in fds:
            try:
                if not os.readlink('/proc/%d/fd/%s' % (pid, fd)).startswith('socket:'):
                    other += 1
            except OSError:
                pass
        with self.lock:
            self.samples.append((time.time() - self.t_start, rss, len(fds), other))

    def checker(self):
        rng = random.Random(2)
        conn = None
        next_save = 0.0
        while time.time() < self.t_end and not self.stop.is_set():
            name = rng.choice(list(self.cas))
            ca = self.cas[name]
            if rng.random() < 0.1:
                serial = rng.choice(self.unknown[name])        # never issued
            else:
                serial = self.model.pick(name, rng)
            nonce = rng.randbytes(rng.choice([16, 32])) if rng.random() < 0.5 else None
            alg = 'sha1' if rng.random() < 0.8 else 'sha256'
            req = ocsp_request(ca, serial, alg, nonce)
            post = rng.random() < 0.5
            t_send = time.time()
            body = None
            for attempt in (0, 1):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
                    if post:
                        conn.request('POST', '/', req, {'Content-Type': 'application/ocsp-request'})
                    else:
                        conn.request('GET', get_path(req))
                    r = conn.getresponse()
                    body = r.read()
                    status = r.status
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn = None
                    if attempt == 1:   # a reused keep-alive connection may have been closed
                        self.fail('check_failed', 'no answer: %r' % e)
            t_recv = time.time()
            if body is None:
                continue
            with self.lock:
                self.check_lat.append((t_send - self.t_start, t_recv - t_send))
            if status != 200:
                self.fail('check_failed', 'HTTP %d' % status)
                continue
            save = name == 'cat' and t_recv >= next_save
            err = self.verify(name, serial, alg, nonce, body, t_send, t_recv, save)
            if save and err is None:
                next_save = t_recv + self.a.duration / 20
            with self.lock:
                self.counts['checked'] += 1
                self.by_ca[name] += 1
                if nonce is not None:
                    self.counts['nonce_checked'] += 1
            if err == 'not successful':
                self.fail('check_failed', 'serial %X of %s: not successful' % (serial, name))
            elif err:
                self.fail('wrong', 'serial %X of %s (%s, %s, nonce %s): %s' % (
                    serial, name, alg, 'POST' if post else 'GET', nonce is not None, err))
            time.sleep(0.05)

    def verify(self, name, serial, alg, nonce, body, t_send, t_recv, save):
        ca = self.cas[name]
        try:
            resp = ocsp.load_der_ocsp_response(body)
        except ValueError as e:
            return 'unparsable: %s' % e
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return 'not successful'
        # the signer: a certificate of this CA for OCSP signing, the credential
        # version active in the window, and the response signed by its key
        if not resp.certificates:
            return 'no responder certificate'
        signer = resp.certificates[0]
        fp = signer.fingerprint(hashes.SHA256())
        with self.lock:
            hist = list(self.signers[name])
        ok_fps = [f for i, (t0, _, f) in enumerate(hist)
                  if t0 <= t_recv and (i + 1 == len(hist) or hist[i + 1][1] >= t_send - LAG)]
        if fp not in ok_fps:
            return 'signed by %s, not the credential active then' % signer.serial_number
        try:
            eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                return 'responder certificate without id-kp-OCSPSigning'
            cakey = ca['cert'].public_key()
            if isinstance(cakey, ed25519.Ed25519PublicKey):
                cakey.verify(signer.signature, signer.tbs_certificate_bytes)
            else:
                cakey.verify(signer.signature, signer.tbs_certificate_bytes,
                             ec.ECDSA(signer.signature_hash_algorithm))
            key = signer.public_key()
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(resp.signature, resp.tbs_response_bytes)
            else:
                key.verify(resp.signature, resp.tbs_response_bytes,
                           ec.ECDSA(resp.signature_hash_algorithm))
        except Exception as e:  # noqa: BLE001 - any failure is a bad signature
            return 'signature: %r' % e
        # CertID
        h = hashlib.new(alg)
        h.update(ca['key_bits'])
        if (resp.serial_number != serial or resp.issuer_key_hash != h.digest() or
                resp.hash_algorithm.name != alg):
            return 'CertID differs'
        # status against the table of the window
        st = resp.certificate_status
        if st == ocsp.OCSPCertStatus.GOOD:
            got = ('good',)
        elif st == ocsp.OCSPCertStatus.UNKNOWN:
            got = ('unknown',)
        else:
            reason = next((k for k, v in REASON_FLAGS.items() if v == resp.revocation_reason), None)
            got = ('revoked', int(resp.revocation_time.replace(
                tzinfo=datetime.timezone.utc).timestamp()), reason)
        want = self.model.states(name, serial, t_send - LAG, t_recv)
        if got not in want:
            return 'status %s, the table said %s' % (got, want)
        with self.lock:
            if got[0] == 'revoked':
                self.counts['revoked_seen'] += 1
            elif got[0] == 'unknown':
                self.counts['unknown_seen'] += 1
        # nonce
        try:
            echoed = resp.extensions.get_extension_for_oid(x509.OCSPNonce.oid).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if echoed != nonce:
            return 'nonce %s, sent %s' % (echoed and echoed.hex(), nonce and nonce.hex())
        now = datetime.datetime.utcnow()
        if resp.next_update is None or resp.next_update < now or resp.this_update > now + datetime.timedelta(seconds=5):
            return 'thisUpdate %s nextUpdate %s' % (resp.this_update, resp.next_update)
        if save:
            i = len(self.catalyst_samples)
            d = os.path.join(self.a.work, 'noble')
            os.makedirs(d, exist_ok=True)
            rp, kp = os.path.join(d, 'resp-%d.der' % i), os.path.join(d, 'alt-%d.spki' % i)
            open(rp, 'wb').write(body)
            open(kp, 'wb').write(signer.extensions.get_extension_for_oid(ALT_SPKI_OID).value.value)
            self.catalyst_samples.append((rp, kp))
        return None

    def noble(self):
        if not self.catalyst_samples:
            self.fail('wrong', 'no Catalyst answer sampled for the ML-DSA check')
            return
        args = ['node', self.a.noble]
        for rp, kp in self.catalyst_samples:
            args += [rp, kp, 'valid']
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            self.fail('wrong', 'noble: %s%s' % (r.stdout[-2000:], r.stderr[-2000:]))
        else:
            self.counts['noble_verified'] = len(self.catalyst_samples)

    def warm(self):
        """Every serial once, so that the signed-response cache is full before
        the RSS at start is taken."""
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        n = 0
        for name in self.cas:
            for serial in list(self.model.serials[name]):
                for alg in ('sha1',):
                    conn.request('GET', get_path(ocsp_request(self.cas[name], serial, alg, None)))
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        raise SystemExit('warm-up: HTTP %d' % r.status)
                    n += 1
        conn.close()
        return n

    # -- the whole run
    def run(self):
        a = self.a
        self.setup()
        self.start_server()
        t = time.time()
        log('warm-up: %d answers cached in %.0f s' % (self.warm(), time.time() - t))
        log('capacity: wrk -t2 -c32, unpaced, %d s, the same mix' % a.capacity_seconds)
        self.run_wrk(2, 16, 0)   # warm the caches
        cap = self.run_wrk(a.capacity_seconds, 32, 0)
        self.capacity = cap['rps']
        self.target = self.capacity / 2
        self.delay = 2
        self.conns = max(2, round(self.target * (self.delay + cap['p50'] / 1000) / 1000))
        if cap['bad'] or cap['errors']:
            raise SystemExit('capacity run: %d bad answers, %d errors' % (cap['bad'], cap['errors']))
        log('capacity %.0f answers/s (p99 %.1f ms): load at %.0f/s (%d connections, %d ms apart each)' %
            (self.capacity, cap['p99'] / 1000, self.target, self.conns, self.delay))
        self.rot = min(60.0, a.duration / 3)
        self.hup = min(300.0, a.duration / 2)
        self.t_start = time.time()
        self.t_end = self.t_start + a.duration
        threads = [threading.Thread(target=self.load),
                   threading.Thread(target=self.checker),
                   threading.Thread(target=self.every, args=(10.0, self.change_index)),
                   threading.Thread(target=self.every, args=(self.rot, self.rotate)),
                   threading.Thread(target=self.every, args=(self.hup, self.sighup)),
                   threading.Thread(target=self.every, args=(5.0, self.sample, 0.0))]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if self.server.poll() is not None:
                self.stop.set()
                self.fail('check_failed', 'the server exited with %s' % self.server.returncode)
                break
        for t in threads:
            t.join()
        self.sample()
        if self.server.poll() is None:
            os.kill(self.server_pid(), signal.SIGTERM)
            try:
                rc = self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                rc = 'killed after 30 s'
            if rc != 0:
                self.fail('check_failed', 'server exit status %s' % rc)
        self.noble()
        return self.report()

    def report(self):
        a, c = self.a, self.counts
        slog = open(os.path.join(a.work, 'server.log')).read()
        errors = [l for l in slog.splitlines() if 'level=error' in l]
        reloads = slog.count('SIGHUP: reloading')
        key_switches = slog.count('responder key and certificate switched')
        wrk_req = sum(w[1] for w in self.wrk)
        wrk_bad = sum(w[5] + w[6] for w in self.wrk)
        failed = wrk_bad + c['check_failed']
        # RSS: after the first interval (caches warm), the highest in the first
        # quarter of the run (a SIGHUP drops the signed-response cache, which
        # then fills again: the size saw-tooths), and at the end.  A leak shows
        # as an end above what the first quarter reached.
        first = next((s for s in self.samples if s[0] >= self.wrk[0][0] + a.interval - 5),
                     self.samples[0]) if self.wrk else self.samples[0]
        quarter = [s for s in self.samples if first[0] <= s[0] <= max(first[0], a.duration / 4)]
        base = max(quarter, key=lambda s: s[1])
        last = self.samples[-1]
        top = max(self.samples, key=lambda s: s[1])
        growth = 100.0 * (last[1] - base[1]) / base[1]
        # credential pick-up: activate returned -> the server's switch line
        # (ts=... msg="responder key and certificate switched" ca=X ... version=vN)
        switched = {}
        for m in re.finditer(r'ts=(\S+)Z level=info msg="responder key and certificate switched" '
                             r'ca=(\S+) .*?version=(\S+)', slog):
            t = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%f').replace(
                tzinfo=datetime.timezone.utc).timestamp()
            switched.setdefault((m.group(2), m.group(3)), t)
        pickup = sorted(switched[(n, v)] - t for n, v, t in self.activations if (n, v) in switched)
        missed = sum(1 for n, v, t in self.activations if (n, v) not in switched)
        lat = sorted(x[1] for x in self.check_lat)
        p99c = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else 0
        ok = (failed == 0 and c['wrong'] == 0 and growth < 5.0 and last[3] <= first[3] and
              c['index_changes'] > 0 and c['rotations'] > 0 and c['sighups'] > 0 and
              reloads == c['sighups'] and c['noble_verified'] > 0 and not errors)
        out = []
        out.append('Soak of %d s (%s), %s UTC; capacity %.0f answers/s, load at %.0f/s' % (
            a.duration, 'qpki ocsp serve', time.strftime('%Y-%m-%d %H:%M', time.gmtime(self.t_start)),
            self.capacity, self.target))
        out.append('')
        out.append('| | |')
        out.append('|---|---|')
        out.append('| requests | %d (load %d, checker %d) |' % (wrk_req + len(lat), wrk_req, len(lat)))
        out.append('| failed | %d (load: %d non-successful or errors; checker: %d) |' % (
            failed, wrk_bad, c['check_failed']))
        out.append('| wrong | %d of %d checked (%d with a nonce, %d revoked, %d unknown; %s) |' % (
            c['wrong'], c['checked'], c['nonce_checked'], c['revoked_seen'], c['unknown_seen'],
            ', '.join('%s %d' % kv for kv in self.by_ca.items())))
        out.append('| ML-DSA-65 alternative signatures verified (noble) | %d |' % c['noble_verified'])
        out.append('| index.txt changes / credential rotations / SIGHUPs | %d / %d / %d (server: %d key switches, %d reloads) |' % (
            c['index_changes'], c['rotations'], c['sighups'], key_switches, reloads))
        if pickup:
            out.append('| credential pick-up (activate returned -> server switched) | %d: min %.2f s, median %.2f s, max %.2f s%s |' % (
                len(pickup), pickup[0], pickup[len(pickup) // 2], pickup[-1],
                '; %d without a switch line (a SIGHUP loaded them)' % missed if missed else ''))
        out.append('| RSS after the first interval / highest in the first quarter / at the end | '
                   '%d / %d / %d KiB (end %+.1f %% of the first quarter\'s highest; highest of all %d KiB at +%d s) |' % (
                       first[1], base[1], last[1], growth, top[1], top[0]))
        out.append('| descriptors after the first interval / at the end (not sockets) | %d / %d (%d / %d) |' % (
            first[2], last[2], first[3], last[3]))
        out.append('| checker latency p99 | %.2f ms |' % p99c)
        out.append('| server log errors | %d |' % len(errors))
        out.append('')
        out.append('| from (s) | answers/s | p99 | max | connections | failed | RSS (KiB) | load average |')
        out.append('|---:|---:|---:|---:|---:|---:|---:|---:|')
        for w in self.wrk:
            rss = next((s[1] for s in self.samples if s[0] >= w[0]), last[1])
            out.append('| %d | %.0f | %.2f ms | %.1f ms | %d | %d | %d | %.1f |' % (
                w[0], w[2], w[3] / 1000, w[4] / 1000, w[7], w[5] + w[6], rss, w[8]))
        if self.failures:
            out.append('')
            out.append('First problems:')
            out += ['- ' + f for f in self.failures]
        for e in errors[:10]:
            out.append('- server: ' + e)
        out.append('')
        out.append('RESULT %s' % ('ok' if ok else 'FAILED'))
        text = '\n'.join(out) + '\n'
        print(text, end='')
        if a.report:
            open(a.report, 'w').write(text)
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--qpki', required=True)
    p.add_argument('--work', required=True)
    p.add_argument('--duration', type=int, default=3600)
    p.add_argument('--interval', type=int, default=0, help='seconds per wrk run (default DURATION/60, at least 10)')
    p.add_argument('--capacity-seconds', type=int, default=0,
                   help='unpaced wrk run that measures capacity (default 10, 5 for runs under 10 min)')
    p.add_argument('--validity', default='')
    p.add_argument('--lua', required=True)
    p.add_argument('--noble', required=True)
    p.add_argument('--report')
    a = p.parse_args()
    if not a.interval:
        a.interval = max(10, a.duration // 60)
    if not a.capacity_seconds:
        a.capacity_seconds = 10 if a.duration >= 600 else 5
    if not a.validity:
        a.validity = '5m' if a.duration >= 600 else '1m'
    sys.exit(Soak(a).run())


if __name__ == '__main__':
    main()
