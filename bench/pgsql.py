#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers of bench/pgsql.sh.

  pgsql.py gen ROWS FILE
      Append ROWS index.txt rows to FILE: serial i is the 16-octet value
      (i * K mod 2^127) | 2^120 (bench/bench_pgsql.c computes the same), 3 % of
      them revoked (keyCompromise).
  pgsql.py propagate DSN CA_ID RATE SECONDS TEMPLATE.der NAME=URL...
      Revoke RATE rows per second for SECONDS seconds, one transaction each,
      through DSN (psycopg2, WRITERS connections); for one revocation in 100, ask every node (NAME=URL)
      every 20 ms with an OCSP POST until it answers revoked, and print the
      delay from the commit to the first revoked answer: p50, p90, p99, max per
      node.  TEMPLATE.der is a request for serial 0 (openssl ocsp -reqout); the
      16 serial octets are replaced per request.
"""
import http.client
import statistics
import sys
import threading
import time
import urllib.parse

K = 0x9E3779B97F4A7C15F39CC0605CEDC835
WRITERS = 4


def serial(i):
    return ((i * K) & ((1 << 127) - 1)) | (1 << 120)


def gen(rows, path):
    with open(path, 'a') as f:
        for i in range(rows):
            s = '%032X' % serial(i)
            if i % 33 == 0:
                f.write('R\t301231235959Z\t250101000000Z,keyCompromise\t%s\tunknown\t/CN=b%d\n' % (s, i))
            else:
                f.write('V\t301231235959Z\t\t%s\tunknown\t/CN=b%d\n' % (s, i))


def status_of(body, ser):
    """good / revoked / other: the certStatus that follows the serial INTEGER."""
    key = b'\x02\x10' + ser
    p = body.find(key)
    if p < 0 or body.find(b'\x0a\x01\x00') < 0:
        return 'other'
    tag = body[p + len(key):p + len(key) + 1]
    return {b'\x80': 'good', b'\xa1': 'revoked'}.get(tag, 'other')


class Prober(threading.Thread):
    def __init__(self, name, url, template, zero):
        super().__init__(daemon=True)
        self.name, self.template, self.zero = name, template, zero
        self.url = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=5)
        self.pending = {}  # serial bytes -> commit time
        self.lock = threading.Lock()
        self.delays = []
        self.errors = 0
        self.stop = False

    def add(self, ser, t):
        with self.lock:
            self.pending[ser] = t

    def ask(self, ser):
        req = self.template.replace(self.zero, ser)
        self.conn.request('POST', '/', req, {'Content-Type': 'application/ocsp-request'})
        r = self.conn.getresponse()
        return status_of(r.read(), ser)

    def run(self):
        while not self.stop or self.pending:
            with self.lock:
                items = list(self.pending.items())
            for ser, t in items:
                try:
                    st = self.ask(ser)
                except Exception:
                    # a connection the server closed: open another one
                    self.errors += 1
                    self.conn.close()
                    self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port,
                                                           timeout=5)
                    continue
                if st == 'revoked':
                    self.delays.append(time.time() - t)
                    with self.lock:
                        del self.pending[ser]
            time.sleep(0.02)
            if self.stop and time.time() > self.deadline:
                break


def propagate(dsn, ca_id, rate, seconds, template_path, nodes):
    import psycopg2
    template = open(template_path, 'rb').read()
    zero = serial(0).to_bytes(16, 'big')
    if template.count(zero) != 1:
        sys.exit('the template must hold the serial of row 0 once')
    probers = []
    for spec in nodes:
        name, url = spec.split('=', 1)
        probers.append(Prober(name, url, template, zero))
    for p in probers:
        p.start()
    n = int(rate * seconds)
    start = time.time() + 0.5
    counts = []

    def writer(tid, nthreads):
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        cur = conn.cursor()
        done = 0
        for k in range(tid, n, nthreads):
            i = 33 * (k // 32) + (k % 32) + 1  # rows that are V (i % 33 != 0)
            ser = serial(i).to_bytes(16, 'big')
            delay = start + k / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            cur.execute("UPDATE qpki.cert_status SET status = 'R', revocation_time = now(), "
                        "reason = 1 WHERE ca_id = %s AND serial = %s AND status = 'V'",
                        (bytes.fromhex(ca_id), ser))
            t = time.time()
            done += 1
            if k % 100 == 0:
                for p in probers:
                    p.add(ser, t)
        counts.append(done)
        conn.close()

    # four connections: one commit's round trip (a wake-up of a server process,
    # slow on a loaded machine) must not limit the rate; two reached 832/s of
    # 1,000 on the loaded machine (docs/PERFORMANCE.md)
    writers = [threading.Thread(target=writer, args=(t, WRITERS)) for t in range(WRITERS)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done = sum(counts)
    elapsed = time.time() - start
    for p in probers:
        p.deadline = time.time() + 10
        p.stop = True
    for p in probers:
        p.join()
    print('wrote %d revocations in %.1f s (%.0f/s), one transaction each' % (done, elapsed, done / elapsed))
    for p in probers:
        d = sorted(x * 1000 for x in p.delays)
        if not d:
            print('%s: no sample' % p.name)
            continue
        q = statistics.quantiles(d, n=100)
        print('%s: %d samples, delay commit -> revoked answer: p50 %.0f ms, p90 %.0f ms, '
              'p99 %.0f ms, max %.0f ms (%d still pending, %d request errors)'
              % (p.name, len(d), q[49], q[89], q[98], d[-1], len(p.pending), p.errors))


if __name__ == '__main__':
    if len(sys.argv) >= 4 and sys.argv[1] == 'gen':
        gen(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 8 and sys.argv[1] == 'propagate':
        propagate(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
                  sys.argv[7:])
    else:
        sys.exit(__doc__)
