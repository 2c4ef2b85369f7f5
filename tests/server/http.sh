#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/http.sh - the HTTP side of `qpki ocsp serve` with curl and raw
# sockets: every GET encoding of RFC 6960 Appendix A / DESIGN §8, each response
# header (RFC 9919 §6.2), 304, 405, 413, 414, malformed requests (the server
# keeps answering), and the admin listener's /healthz and /metrics.
VECTORS=$(cd "$(dirname "$0")/../vectors" && pwd)
. "$(dirname "$0")/lib.sh"

make_pki ca
APORT=$(free_port)
start_server main --ca-dir ca --credential ocsp-ca --admin-addr "127.0.0.1:$APORT"
ADMIN="http://127.0.0.1:$APORT"

# raw_http HOST PORT FILE: send FILE's bytes as they are, print the response
raw_http() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'EOF'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(open(sys.argv[3], "rb").read())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    head, sep, body = data.partition(b"\r\n\r\n")
    if sep:
        length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if length and len(body) >= int(length[0].split(b":")[1]):
            break
sys.stdout.buffer.write(data)
EOF
}

header() { # header FILE NAME: the value of a response header (last one)
    grep -i "^$2:" "$1" | tail -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

http_date() { # http_date "Nov 26 13:29:18 2026 GMT" -> IMF-fixdate
    LC_ALL=C date -u -d "$1" '+%a, %d %b %Y %H:%M:%S GMT'
}

# check_ocsp_body FILE STATUS: the body verifies against the CA and says STATUS
check_ocsp_body() {
    out=$(openssl ocsp -respin "$1" -CAfile ca/ca.crt -issuer ca/ca.crt -cert ca-good.crt \
        -no_nonce 2>&1 || true)
    expect_match "body $1" "$out" "Response verify OK"
    expect_match "body $1" "$out" "ca-good.crt: $2"
}

# ---- GET: every encoding ----------------------------------------------------------------
# A request whose base64 has '+', '/' and '=' padding: the nonce is random, retry.
for i in $(seq 1 300); do
    openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -reqout nonce.req 2>/dev/null
    B=$(b64 nonce.req)
    case "$B" in *+*/*=|*/*+*=) break ;; esac
done
case "$B" in *+*/*=|*/*+*=) ;; *) fail "no request with + / and = in 300 tries" ;; esac

get_variant() { # get_variant NAME PATH: GET PATH, check the answer
    code=$(curl -s -o "get-$1.der" -w '%{http_code}' "$URL$2")
    expect_eq "GET $1 code" "$code" "200"
    check_ocsp_body "get-$1.der" good
}
get_variant plain "/$B"
get_variant upper "/$(printf '%s' "$B" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')"
get_variant lower "/ocsp/$(printf '%s' "$B" | sed 's/+/%2b/g; s|/|%2f|g; s/=/%3d/g')"
get_variant space20 "/$(printf '%s' "$B" | sed 's/+/%20/g')"
get_variant nopad "/$(printf '%s' "$B" | sed 's/=*$//')"
get_variant prefix "/a/b/ocsp/$B"
get_variant doubleslash "//$B"
get_variant query "/$B?x=1"
# a literal space for '+' (some clients form-encode); sent raw
printf 'GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' \
    "$(printf '%s' "$B" | sed 's/+/ /g')" >space.req
raw_http 127.0.0.1 "$PORT" space.req >space.resp
expect_match "GET literal space" "$(head -1 space.resp)" "^HTTP/1.1 200"
ok "GET: plain, %2B/%2F/%3D (both cases), %20 and space for +, no padding, prefixes, //, query"

# ---- headers of a cacheable answer ---------------------------------------------------------
openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -no_nonce -reqout good.req 2>/dev/null
G=$(b64 good.req)
curl -s -D get.h -o get.der "$URL/$G"
now=$(date +%s)
expect_match "status line" "$(head -1 get.h)" "^HTTP/1.1 200"
expect_eq "Content-Type" "$(header get.h Content-Type)" "application/ocsp-response"
expect_eq "Content-Length" "$(header get.h Content-Length)" "$(stat -c %s get.der)"
expect_eq "ETag" "$(header get.h ETag)" "\"$(sha256sum get.der | cut -d' ' -f1)\""
text=$(openssl ocsp -respin get.der -resp_text -noverify 2>/dev/null)
this=$(printf '%s\n' "$text" | sed -n 's/^ *This Update: //p' | head -1)
next=$(printf '%s\n' "$text" | sed -n 's/^ *Next Update: //p' | head -1)
expect_eq "Last-Modified = thisUpdate" "$(header get.h Last-Modified)" "$(http_date "$this")"
expect_eq "Expires = nextUpdate" "$(header get.h Expires)" "$(http_date "$next")"
cc=$(header get.h Cache-Control)
expect_match "Cache-Control" "$cc" "^max-age=[0-9]+, public, no-transform, must-revalidate$"
age=$(printf '%s' "$cc" | sed 's/^max-age=\([0-9]*\),.*/\1/')
left=$(($(date -u -d "$next" +%s) - now))
[ "$age" -le $((left + 1)) ] || fail "max-age $age is past nextUpdate ($left s left)"
[ "$age" -ge $((left - 5)) ] || fail "max-age $age is much shorter than nextUpdate ($left s)"
[ -n "$(header get.h Date)" ] || fail "no Date header"
check_ocsp_body get.der good
# POST gives the same cached bytes and headers
curl -s -D post.h -o post.der --data-binary @good.req -H 'Content-Type: application/ocsp-request' "$URL/"
cmp -s get.der post.der || fail "POST and GET answers differ"
expect_eq "POST ETag" "$(header post.h ETag)" "$(header get.h ETag)"
# POST without Content-Type
curl -s -o post2.der --data-binary @good.req -H 'Content-Type:' "$URL/"
cmp -s get.der post2.der || fail "POST without Content-Type differs"
ok "headers: Content-Type, Content-Length, ETag = SHA-256, Last-Modified, Expires, max-age <= nextUpdate - now, Date"

# ---- 304 ---------------------------------------------------------------------------------------
etag=$(header get.h ETag)
rm -f inm.body
curl -s -D inm.h -o inm.body -H "If-None-Match: $etag" "$URL/$G"
expect_match "304 status" "$(head -1 inm.h)" "^HTTP/1.1 304"
[ ! -s inm.body ] || fail "304 with a body"
[ -z "$(header inm.h Content-Type)" ] || fail "304 with Content-Type"
expect_eq "304 ETag" "$(header inm.h ETag)" "$etag"
expect_match "304 Cache-Control" "$(header inm.h Cache-Control)" "^max-age=[0-9]+, public"
curl -s -D inm2.h -o /dev/null -H "If-None-Match: W/$etag" "$URL/$G"
expect_match "304 weak" "$(head -1 inm2.h)" "^HTTP/1.1 304"
curl -s -D inm3.h -o inm3.der -H 'If-None-Match: "0123"' "$URL/$G"
expect_match "other tag" "$(head -1 inm3.h)" "^HTTP/1.1 200"
ok "If-None-Match -> 304 (strong, weak), other tag -> 200"

# ---- nonce: no-store ------------------------------------------------------------------------
curl -s -D nonce.h -o nonce.der --data-binary @nonce.req "$URL/"
expect_eq "nonce Cache-Control" "$(header nonce.h Cache-Control)" "no-store"
[ -z "$(header nonce.h ETag)" ] || fail "nonce answer has an ETag"
ok "echoed nonce -> Cache-Control: no-store"

# ---- 405, 413, 414 -------------------------------------------------------------------------
for m in PUT DELETE PATCH OPTIONS; do
    curl -s -D m.h -o m.body -X "$m" "$URL/$G"
    expect_match "$m status" "$(head -1 m.h)" "^HTTP/1.1 405"
    expect_eq "$m Allow" "$(header m.h Allow)" "GET, POST"
done
head -c 70000 /dev/zero >big.bin
curl -s -D big.h -o /dev/null --data-binary @big.bin "$URL/"
expect_match "413 (Content-Length)" "$(head -1 big.h)" "^HTTP/1.1 413"
curl -s -D chunk.h -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @big.bin "$URL/"
expect_match "413 (chunked)" "$(head -1 chunk.h)" "^HTTP/1.1 413"
head -c 65536 /dev/zero >limit.bin
curl -s -D limit.h -o limit.der --data-binary @limit.bin "$URL/"
expect_match "64 KiB body is read" "$(head -1 limit.h)" "^HTTP/1.1 200"
expect_eq "64 KiB zeros -> malformedRequest" "$(hexof limit.der)" "30030a0101"
long=$(head -c 9000 /dev/zero | tr '\0' 'A')
curl -s -D long.h -o /dev/null "$URL/$long"
expect_match "414" "$(head -1 long.h)" "^HTTP/1.1 414"
huge=$(head -c 60000 /dev/zero | tr '\0' 'A')
curl -s -D huge.h -o /dev/null "$URL/$huge"
expect_match "414 (over the connection memory)" "$(head -1 huge.h)" "^HTTP/1.1 (414|431)"
ok "405 with Allow, 413 (announced and chunked), 414"

# ---- malformed requests: malformedRequest, the server keeps answering -------------------
i=0
for body in "" "hello" "$(printf '\060\202\377\377')" "$(head -c 2000 /dev/urandom | tr -d '\0')"; do
    i=$((i + 1))
    printf '%s' "$body" >bad$i.bin
    curl -s -D bad.h -o bad.der --data-binary @bad$i.bin "$URL/"
    expect_match "malformed $i status" "$(head -1 bad.h)" "^HTTP/1.1 200"
    expect_eq "malformed $i body" "$(hexof bad.der)" "30030a0101"
    expect_eq "malformed $i Cache-Control" "$(header bad.h Cache-Control)" "no-cache"
done
head -c 60 good.req >trunc.req
curl -s -o bad.der --data-binary @trunc.req "$URL/"
expect_eq "truncated request" "$(hexof bad.der)" "30030a0101"
for path in / /favicon.ico "/%zz" "/$(printf '%s' "$G" | cut -c1-20)"; do
    curl -s -o bad.der "$URL$path"
    expect_eq "GET $path" "$(hexof bad.der)" "30030a0101"
done
printf 'GARBAGE\r\n\r\n' >garbage.req
raw_http 127.0.0.1 "$PORT" garbage.req >garbage.resp || true
printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' >badlen.req
raw_http 127.0.0.1 "$PORT" badlen.req >badlen.resp || true
out=$(ocsp_status ca-good.crt ca/ca.crt)
expect_match "still answering" "$out" "ca-good.crt: good"
kill -0 "$(cat "$PIDFILE")" || fail "server died"
ok "malformed bodies and targets -> malformedRequest (HTTP 200, no-cache); server keeps answering"

# ---- admin listener ---------------------------------------------------------------------------
expect_eq "/healthz" "$(curl -s -w ' %{http_code}' "$ADMIN/healthz")" "ok
 200"
m=$(curl -s "$ADMIN/metrics")
metric() { printf '%s\n' "$m" | grep "^$1 " | awk '{print $2}'; }
[ "$(metric 'qpki_ocsp_http_requests_total{code="200"}')" -ge 10 ] || fail "200 counter"
[ "$(metric 'qpki_ocsp_http_requests_total{code="304"}')" -ge 2 ] || fail "304 counter"
[ "$(metric 'qpki_ocsp_http_requests_total{code="405"}')" -ge 4 ] || fail "405 counter"
[ "$(metric 'qpki_ocsp_http_requests_total{code="413"}')" -ge 2 ] || fail "413 counter"
[ "$(metric 'qpki_ocsp_http_requests_total{code="414"}')" -ge 1 ] || fail "414 counter"
[ "$(metric 'qpki_ocsp_responses_total{status="malformedRequest"}')" -ge 9 ] || fail "malformed counter"
[ "$(metric 'qpki_ocsp_cache_hits_total')" -ge 2 ] || fail "cache hit counter"
[ "$(metric 'qpki_ocsp_signing_duration_seconds_count')" -ge 1 ] || fail "signing histogram"
expect_eq "db rows" "$(metric 'qpki_ocsp_db_rows{ca="ca"}')" "3"
[ "$(metric 'qpki_ocsp_db_generation{ca="ca"}')" -ge 1 ] || fail "db generation"
expect_match "queue depth gauge" "$m" "qpki_ocsp_signing_in_flight [0-9]+"
expect_eq "admin 404" "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/other")" "404"
ok "admin: /healthz 200, /metrics counters and gauges"

"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
[ ! -e "$PIDFILE" ] || fail "PID file left behind"
ok "stopped"

# ---- nonce policies and JSON logs ----------------------------------------------------------
start_server ignore --ca-dir ca --credential ocsp-ca --nonce-policy ignore --log-format json
out=$(ocsp_status ca-good.crt ca/ca.crt)
expect_match "policy ignore" "$out" "WARNING: no nonce in response"
expect_match "policy ignore" "$out" "ca-good.crt: good"
curl -s -D ign.h -o /dev/null --data-binary @nonce.req "$URL/"
expect_match "policy ignore: cacheable" "$(header ign.h Cache-Control)" "^max-age="
# a malformed request's log line names the field and the byte (docs/OPERATIONS.md "detail")
curl -s -o dup.der -H 'Content-Type: application/ocsp-request' \
    --data-binary @"$VECTORS/malformed/duplicate-nonce.der" "$URL/"
expect_eq "two nonces -> malformedRequest" "$(hexof dup.der)" "30030a0101"
for _ in $(seq 1 100); do grep -q 'duplicate extension' ignore.log && break; sleep 0.05; done
/usr/bin/python3 - ignore.log <<'EOF2' || fail "JSON log lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
reqs = [l for l in lines if l["msg"] == "request"]
assert reqs, "no request lines"
r = reqs[0]
for k in ("ts", "level", "method", "code", "status", "cert_status", "ca", "serial", "hash",
          "nonce", "cache", "sign_us", "us", "remote"):
    assert k in r, k
assert isinstance(r["code"], int) and r["code"] == 200 and isinstance(r["us"], int), r
assert r["nonce"] == "n" and r["ca"] == "ca" and r["hash"] == "sha1", r
assert any(l["msg"] == "listening" for l in lines)
bad = [l for l in reqs if l["status"] == "malformedRequest"]
assert bad and bad[0]["error"] == "malformed encoding", bad
assert bad[0]["detail"] == ("tbsRequest: requestExtensions: extensions[1]: duplicate extension "
                            "1.3.6.1.5.5.7.48.1.2 (nonce) at byte 108"), bad[0]
EOF2
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
start_server require --ca-dir ca --credential ocsp-ca --nonce-policy require
out=$(ocsp_status ca-good.crt ca/ca.crt -no_nonce || true)
expect_match "policy require without nonce" "$out" "Responder Error: malformedrequest \\(1\\)"
out=$(ocsp_status ca-good.crt ca/ca.crt)
expect_match "policy require with nonce" "$out" "ca-good.crt: good"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
ok "--nonce-policy ignore (no echo, cacheable) and require (malformedRequest without); JSON log lines"
