#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/pickup.py - how soon `qpki ocsp serve` answers with a credential version
after `qpki credential activate` returns, while index.txt changes.

usage: pickup.py --qpki QPKI --work DIR [--rotations N] [--rows N] [--shuffle]
                 [--period SECONDS]

Makes a Catalyst CA (ECDSA P-384 + ML-DSA-65) with a delegated responder
credential and --rows synthetic index.txt rows (bench/soak.py's Index), starts
the server for it, and while index.txt changes every --period seconds (two rows
revoked and two added, or with --shuffle every row in a new order plus one: a
full reload each time) rotates and activates the credential --rotations times,
1 s apart or so.  For each it prints the time from activate's return to the
first answer (a cached GET, asked every 10 ms) whose responder certificate is
the new version's, then min / max.  Not a test: a figure for
docs/PERFORMANCE.md (the soak's credential pick-up).
"""
import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402  (Index, Model, the request helpers)

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--qpki', required=True)
    p.add_argument('--work', required=True)
    p.add_argument('--rotations', type=int, default=5)
    p.add_argument('--rows', type=int, default=2000)
    p.add_argument('--shuffle', action='store_true')
    p.add_argument('--period', type=float, default=0.3)
    a = p.parse_args()
    qpki = os.path.abspath(a.qpki)
    os.makedirs(a.work, exist_ok=True)
    os.chdir(a.work)

    def q(*args):
        r = subprocess.run([qpki] + list(args), capture_output=True, text=True)
        if r.returncode:
            raise SystemExit('qpki %s: %s%s' % (' '.join(args), r.stdout, r.stderr))
        return r.stdout

    q('ca', 'init', '--ca-dir', 'cat', '--profile', 'hybrid/catalyst/root-ca',
      '--var', 'cn=Pick-up CA')
    q('credential', 'enroll', '--ca-dir', 'cat', '--cred-dir', 'credentials', '--profile',
      'hybrid/catalyst/ocsp-responder', '--var', 'cn=ocsp.pickup', '--id', 'ocsp-cat')
    model, rng = soak.Model(), random.Random(1)
    idx = soak.Index('cat', 'cat', model, rng)
    idx.populate(a.rows)
    cert = x509.load_pem_x509_certificate(open('cat/ca.crt', 'rb').read())
    ca = dict(cert=cert, key_bits=soak.spki_bits(cert))
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    log = open('server.log', 'w')
    srv = subprocess.Popen([qpki, 'ocsp', 'serve', '--addr', '127.0.0.1:%d' % port, '--quiet',
                            '--pid-file', 'serve.pid', '--ca-dir', 'cat', '--credential',
                            'ocsp-cat'], stdout=log, stderr=subprocess.STDOUT)
    while 'msg=listening' not in open('server.log').read():
        if srv.poll() is not None:
            raise SystemExit(open('server.log').read())
        time.sleep(0.05)
    stop = threading.Event()

    def shuffle(lines):
        lines = list(lines)
        rng.shuffle(lines)
        return lines + [idx._row(idx.new_serial(), ('good',))]

    def changer():
        while not stop.wait(a.period):
            if a.shuffle:
                idx._locked(shuffle)
            else:
                idx.change()

    th = threading.Thread(target=changer)
    th.start()
    path = soak.get_path(soak.ocsp_request(ca, model.serials['cat'][5], 'sha1', None))
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)

    def signer():
        conn.request('GET', path)
        body = conn.getresponse().read()
        return ocsp.load_der_ocsp_response(body).certificates[0].fingerprint(hashes.SHA256())

    def active():
        pem = open('credentials/ocsp-cat/ocsp-cat.crt', 'rb').read()
        return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())

    res = []
    try:
        for _ in range(a.rotations):
            time.sleep(random.uniform(0.5, 1.5))
            v = re.search(r'Version (v\d+)',
                          q('credential', 'rotate', 'ocsp-cat', '--cred-dir', 'credentials')).group(1)
            q('credential', 'activate', 'ocsp-cat', '--version', v, '--cred-dir', 'credentials')
            t = time.time()
            fp = active()
            while signer() != fp and time.time() - t < 30:
                time.sleep(0.01)
            res.append(time.time() - t)
            print('%s: first answer from it %.2f s after activate returned' % (v, res[-1]),
                  flush=True)
    finally:
        stop.set()
        th.join()
        srv.terminate()
        srv.wait()
    print('%d activations, %d rows%s: pick-up min %.2f s, max %.2f s' % (
        len(res), a.rows, ' reshuffled' if a.shuffle else '', min(res), max(res)))


if __name__ == '__main__':
    main()
