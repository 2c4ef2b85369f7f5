#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tests/server/hsm_fault.py - request loop against `qpki ocsp serve` whose key
sits behind tests/plugin/faulty_p11.so, while this script switches faults on
and off through the module's control file (FAULTY_P11_CONTROL).

  hsm_fault.py URL ADMIN_URL CONTROL_FILE CA_CERT RESPONDER_CERT OUT_DIR
               LEAF_CERT:STATUS...

Two client threads send, in turn, a POST with a fresh RFC 9654 nonce (never
cached: each answer is signed live by the token) and a GET without nonce (the
server's cached answer), over keep-alive connections; a third thread polls
ADMIN_URL/healthz.  Every answer is classified and checked with Python
`cryptography` (an independent implementation):

  successful  HTTP 200, responseStatus successful, a BasicOCSPResponse whose
              signature (ecdsa-with-SHA256) verifies with RESPONDER_CERT's key,
              that carries RESPONDER_CERT, answers the CertID asked (hash,
              serial) with the expected status, echoes exactly our nonce (or
              none), and whose thisUpdate/nextUpdate bracket now;
  tryLater    HTTP 200, responseStatus tryLater (3) and no responseBytes;
  bad         a successful answer failing any check above (wrong or missing
              signature, nonce, serial...) - must never happen;
  other       anything else (other statuses, HTTP errors, connection errors).

Phases (each bounded by generous timeouts, ended by counts, never by timing
assertions):
  baseline    until >= 40 live and >= 40 cached successful answers, /healthz 200;
  per fault   ("token": the token is gone, every session call fails with
              CKR_DEVICE_REMOVED; "sign 0xB3": C_SignInit/C_Sign fail with
              CKR_SESSION_HANDLE_INVALID): the control file is written, held for
              at least 3 s and until >= 100 live answers and >= 5 health polls
              were made entirely inside the fault, then removed;
  recovery    until >= 40 live successful answers and /healthz 200 started
              after the fault was removed.
Assertions: bad == 0 and other == 0 overall; inside each fault window every
live answer is tryLater, every cached answer successful (served from the
cache), every /healthz 503; after each fault live answers succeed again.
Successful answers are written to OUT_DIR (live ones all, cached ones once per
distinct body) for the shell script to check with openssl.  Prints the counts;
exit 0 when all assertions hold, 1 otherwise.
"""
import base64
import hashlib
import http.client
import os
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

PHASE_TIMEOUT = 120.0  # seconds; a loaded 2-core machine is far faster
FAULTS = [("token", "token removed (CKR_TOKEN_NOT_PRESENT / CKR_DEVICE_REMOVED)"),
          ("sign 0xB3", "session handle invalid (CKR_SESSION_HANDLE_INVALID)")]


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


class Result:
    __slots__ = ("t0", "t1", "kind", "outcome", "why")

    def __init__(self, t0, t1, kind, outcome, why=""):
        self.t0, self.t1, self.kind, self.outcome, self.why = t0, t1, kind, outcome, why


class Loop:
    def __init__(self, url, admin, ca, responder, leaves, out_dir):
        self.url = urllib.parse.urlsplit(url)
        self.admin = urllib.parse.urlsplit(admin)
        self.ca, self.responder, self.leaves, self.out_dir = ca, responder, leaves, out_dir
        self.responder_der = responder.public_bytes(serialization.Encoding.DER)
        self.lock = threading.Lock()
        self.results = []
        self.health = []  # (t0, t1, http code)
        self.stop = threading.Event()
        self.saved = set()
        self.nsaved = 0
        self.bad_examples = []
        # GET requests (no nonce) are made once: identical bytes -> cached answers.
        self.get_paths = []
        for cert, _status in leaves:
            der = (ocsp.OCSPRequestBuilder().add_certificate(cert, ca, hashes.SHA1())
                   .build().public_bytes(serialization.Encoding.DER))
            self.get_paths.append("/" + urllib.parse.quote(base64.b64encode(der).decode(), safe=""))

    # ---- checks ----------------------------------------------------------------------
    def check(self, body, leaf, want_status, nonce):
        """(outcome, why) for one answer body."""
        try:
            resp = ocsp.load_der_ocsp_response(body)
        except Exception as e:  # not even an OCSPResponse
            return "other", "unparsable: %s" % e
        st = resp.response_status
        if st == ocsp.OCSPResponseStatus.TRY_LATER:
            # RFC 6960 §4.2.1: responseBytes only for successful
            return ("tryLater", "") if body == bytes.fromhex("30030a0103") else (
                "other", "tryLater with extra bytes %s" % body.hex())
        if st != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return "other", "responseStatus %s" % st.name
        try:
            sig = resp.signature
            if not sig:
                return "bad", "successful but empty signature"
            if resp.signature_algorithm_oid != x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256:
                return "bad", "signature algorithm %s" % resp.signature_algorithm_oid.dotted_string
            try:
                self.responder.public_key().verify(sig, resp.tbs_response_bytes,
                                                   ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return "bad", "signature does not verify with the responder key"
            certs = [c.public_bytes(serialization.Encoding.DER) for c in resp.certificates]
            if certs != [self.responder_der]:
                return "bad", "certs field is not the responder certificate"
            if resp.responder_key_hash is None and resp.responder_name is None:
                return "bad", "no responderID"
            if resp.serial_number != leaf.serial_number:
                return "bad", "serial %x, asked %x" % (resp.serial_number, leaf.serial_number)
            if resp.certificate_status != want_status:
                return "bad", "status %s, expected %s" % (resp.certificate_status, want_status)
            try:
                got = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            except x509.ExtensionNotFound:
                got = None
            if got != nonce:
                return "bad", "nonce %r, sent %r" % (got, nonce)
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            skew = timedelta(minutes=5)
            if resp.this_update > now + skew or (resp.next_update and resp.next_update < now - skew):
                return "bad", "thisUpdate/nextUpdate %s/%s vs now %s" % (
                    resp.this_update, resp.next_update, now)
        except Exception as e:
            return "bad", "check failed: %r" % e
        return "successful", ""

    def save(self, kind, body):
        h = hashlib.sha256(body).hexdigest()
        with self.lock:
            if h in self.saved:
                return
            self.saved.add(h)
            self.nsaved += 1
            n = self.nsaved
        with open(os.path.join(self.out_dir, "%s-%05d.der" % (kind, n)), "wb") as f:
            f.write(body)

    # ---- client threads ----------------------------------------------------------------
    def worker(self, wid):
        conn = None
        i = wid
        while not self.stop.is_set():
            i += 1
            li = i % len(self.leaves)
            leaf, want = self.leaves[li]
            live = i % 2 == 0
            kind = "live" if live else "cached"
            nonce = os.urandom(16) if live else None
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
                if live:
                    req = (ocsp.OCSPRequestBuilder().add_certificate(leaf, self.ca, hashes.SHA1())
                           .add_extension(x509.OCSPNonce(nonce), critical=False).build()
                           .public_bytes(serialization.Encoding.DER))
                    conn.request("POST", "/", body=req,
                                 headers={"Content-Type": "application/ocsp-request"})
                else:
                    conn.request("GET", self.get_paths[li])
                r = conn.getresponse()
                body = r.read()
                code = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:
                if conn is not None:
                    conn.close()
                conn = None
                self.add(Result(t0, time.monotonic(), kind, "other", "connection: %r" % e))
                time.sleep(0.05)
                continue
            t1 = time.monotonic()
            if code != 200:
                self.add(Result(t0, t1, kind, "other", "HTTP %d" % code))
            else:
                outcome, why = self.check(body, leaf, want, nonce)
                if outcome == "successful":
                    self.save(kind, body)
                elif outcome == "bad":
                    with open(os.path.join(self.out_dir, "BAD-%d.der" % len(self.bad_examples)),
                              "wb") as f:
                        f.write(body)
                    self.bad_examples.append(why)
                self.add(Result(t0, t1, kind, outcome, why))
            # keep the two cores for the server and the token: about 100 requests
            # per second per thread at most
            time.sleep(0.01)
        if conn is not None:
            conn.close()

    def add(self, r):
        with self.lock:
            self.results.append(r)

    def health_poller(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection(self.admin.hostname, self.admin.port, timeout=30)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                code = r.status
                c.close()
            except Exception:
                code = -1
            with self.lock:
                self.health.append((t0, time.monotonic(), code))
            time.sleep(0.2)

    # ---- counting --------------------------------------------------------------------------
    def count(self, kind=None, outcome=None, after=None, before=None):
        with self.lock:
            rs = list(self.results)
        return sum(1 for r in rs
                   if (kind is None or r.kind == kind) and (outcome is None or r.outcome == outcome)
                   and (after is None or r.t0 > after) and (before is None or r.t1 < before))

    def health_codes(self, after=None, before=None):
        with self.lock:
            hs = list(self.health)
        return [c for (t0, t1, c) in hs
                if (after is None or t0 > after) and (before is None or t1 < before)]


def wait_until(what, cond, failures):
    deadline = time.monotonic() + PHASE_TIMEOUT
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    failures.append("timed out (%ds) waiting for %s" % (PHASE_TIMEOUT, what))
    return False


def main():
    url, admin, control, ca_path, resp_path, out_dir = sys.argv[1:7]
    statuses = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED}
    leaves = []
    for spec in sys.argv[7:]:
        path, st = spec.rsplit(":", 1)
        leaves.append((load_cert(path), statuses[st]))
    loop = Loop(url, admin, load_cert(ca_path), load_cert(resp_path), leaves, out_dir)
    failures = []
    if os.path.exists(control):
        os.unlink(control)

    threads = [threading.Thread(target=loop.worker, args=(w,)) for w in range(2)]
    threads.append(threading.Thread(target=loop.health_poller))
    for t in threads:
        t.start()
    t_start = time.monotonic()
    try:
        wait_until("the baseline (40 live + 40 cached successful answers, /healthz 200)",
                   lambda: loop.count("live", "successful") >= 40
                   and loop.count("cached", "successful") >= 40 and 200 in loop.health_codes(),
                   failures)
        print("baseline: %d live and %d cached successful answers, /healthz 200" % (
            loop.count("live", "successful"), loop.count("cached", "successful")))
        for mode, name in FAULTS:
            if failures:
                break
            tmp = control + ".tmp"
            with open(tmp, "w") as f:
                f.write(mode + "\n")
            os.rename(tmp, control)  # the module sees the whole file or none
            # The window starts once the fault is in place and ends before it is
            # removed: an answer counted inside it was asked and answered while
            # every PKCS#11 call failed.
            t_on = time.monotonic()
            held = lambda: (time.monotonic() - t_on >= 3.0
                            and loop.count("live", after=t_on) >= 100
                            and len(loop.health_codes(after=t_on)) >= 5)
            wait_until("100 live requests and 5 health polls during the fault", held, failures)
            t_off = time.monotonic()
            os.unlink(control)
            inside = lambda kind, outcome=None: loop.count(kind, outcome, after=t_on, before=t_off)
            codes = loop.health_codes(after=t_on, before=t_off)
            print("fault '%s' (%s) for %.1f s: live %d (tryLater %d, successful %d), "
                  "cached %d (successful %d), /healthz %s" % (
                      mode, name, t_off - t_on, inside("live"), inside("live", "tryLater"),
                      inside("live", "successful"), inside("cached"),
                      inside("cached", "successful"),
                      ",".join(str(c) for c in sorted(set(codes)))))
            if inside("live") == 0 or inside("live", "tryLater") != inside("live"):
                failures.append("fault %s: live answers inside the fault window are not all "
                                "tryLater" % mode)
            if inside("cached", "successful") != inside("cached"):
                failures.append("fault %s: cached answers inside the fault window are not all "
                                "successful" % mode)
            if not codes or any(c != 503 for c in codes):
                failures.append("fault %s: /healthz inside the fault window: %s (want 503)" % (
                    mode, codes))
            ok = wait_until("live successful answers and /healthz 200 after the fault",
                            lambda: loop.count("live", "successful", after=t_off) >= 40
                            and 200 in loop.health_codes(after=t_off), failures)
            if ok:
                first = min((r.t1 for r in loop.results
                             if r.kind == "live" and r.outcome == "successful" and r.t0 > t_off),
                            default=t_off)
                print("recovered: first live signature %.2f s after the fault was removed; "
                      "%d live successful answers since, /healthz 200" % (
                          first - t_off, loop.count("live", "successful", after=t_off)))
    finally:
        if os.path.exists(control):
            os.unlink(control)
        loop.stop.set()
        for t in threads:
            t.join()

    total = lambda outcome: loop.count(outcome=outcome)
    print("counts over %.1f s: successful %d (live %d, cached %d), tryLater %d (live %d, "
          "cached %d), other %d, bad %d; /healthz polls %d (200: %d, 503: %d)" % (
              time.monotonic() - t_start, total("successful"), loop.count("live", "successful"),
              loop.count("cached", "successful"), total("tryLater"),
              loop.count("live", "tryLater"), loop.count("cached", "tryLater"), total("other"),
              total("bad"), len(loop.health), loop.health_codes().count(200),
              loop.health_codes().count(503)))
    print("COUNTS successful=%d tryLater=%d other=%d bad=%d saved=%d" % (
        total("successful"), total("tryLater"), total("other"), total("bad"), loop.nsaved))
    if total("bad"):
        failures.append("%d successful answers failed the checks, e.g. %s" % (
            total("bad"), loop.bad_examples[:3]))
    if total("other"):
        whys = sorted({r.why for r in loop.results if r.outcome == "other"})
        failures.append("%d answers neither successful nor tryLater: %s" % (
            total("other"), whys[:5]))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
