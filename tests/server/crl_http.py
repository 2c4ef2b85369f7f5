#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# tests/server/crl_http.py - the CRL publisher of tests/server/crl_http.sh: serves
# DIR/NAME.crl at /NAME.crl with a strong ETag (its SHA-256) and answers a
# matching If-None-Match with 304; behaviour per file, read at each request:
#   DIR/NAME.redirects  (a number k): /NAME.crl answers with a chain of exactly k
#                       302 redirects (/NAME.crl?left=k-1 ... ?left=0) before the CRL
#   DIR/NAME.hang       accept the request and never answer
# Every request is logged to LOG as one line:
#   <unix time> <path> inm=<If-None-Match or -> <status or "hang">
#   crl_http.py PORT DIR LOG
import hashlib
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, DIR, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def log(path, inm, what):
    with lock, open(LOG, "a") as f:
        f.write(f"{time.time():.3f} {path} inm={inm} {what}\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        name = os.path.basename(url.path)
        base = os.path.join(DIR, name[:-4]) if name.endswith(".crl") else None
        inm = self.headers.get("If-None-Match", "-")
        if base is None or not os.path.exists(base + ".crl"):
            return self.answer(404, b"", inm)
        if os.path.exists(base + ".hang"):
            log(self.path, inm, "hang")
            time.sleep(3600)
            return
        left = parse_qs(url.query).get("left")
        if left is None and os.path.exists(base + ".redirects"):
            left = [open(base + ".redirects").read().strip()]
        if left is not None and int(left[0]) > 0:
            return self.answer(302, b"", inm, {"Location": f"/{name}?left={int(left[0]) - 1}"})
        body = open(base + ".crl", "rb").read()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if inm == etag:
            return self.answer(304, b"", inm, {"ETag": etag})
        self.answer(200, body, inm, {"ETag": etag, "Content-Type": "application/pkix-crl"})

    def answer(self, code, body, inm, headers=None):
        log(self.path, inm, str(code))
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
server.serve_forever()
