#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/guide.sh - every command block of sections 2, 3 and 4 of
# OCSP-responder-guide.md, run as written (only file names adapted where the
# guide assumes files an earlier block did not create), each result checked
# with openssl.  `ocsp serve`/`ocsp stop` lines run when this qpki has them
# (on a free port instead of 8080); HSM lines belong to the PKCS#11 tests.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

has_cmd() { qpki "$1" "$2" --help >/dev/null 2>&1; }

# ---- set-up the guide assumes: a CA directory ./ca and ca.crt -------------------------
check "ca init (set-up)" qpki ca init --ca-dir ./ca --profile ec/root-ca --var cn="Guide Root CA"
cp ca/ca.crt ca.crt

# ---- §3 Option A: credential-based -----------------------------------------------------
check "§3A credential enroll ec/ocsp-responder" \
qpki credential enroll --ca-dir ./ca --cred-dir ./credentials \
    --profile ec/ocsp-responder --var cn=ocsp.example.com --id ocsp-responder
check "§3A credential certificate verifies (openssl verify)" \
    "$OPENSSL" verify -CAfile ca.crt ./credentials/ocsp-responder/ocsp-responder.crt
check "§3A credential key reads (openssl pkey)" \
    "$OPENSSL" pkey -in ./credentials/ocsp-responder/ocsp-responder.key -noout
expect_mode "§3A credential key" 600 ./credentials/ocsp-responder/ocsp-responder.key

# ML-DSA and Catalyst: supported when the library has them, else a clear
# "not yet supported" and exit 2 - never a crash.
rc=0
qpki credential enroll --ca-dir ./ca --cred-dir ./credentials \
    --profile ml/ocsp-responder --var cn=pqc-ocsp.example.com --id pqc-ocsp-responder \
    >"$TMP/.out" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
    ok "§3A credential enroll ml/ocsp-responder"
elif [ $rc -eq 2 ] && grep -q "not yet supported" "$TMP/.out"; then
    ok "§3A ml/ocsp-responder: not yet supported (exit 2)"
else
    fail "§3A ml/ocsp-responder: exit $rc"; out
fi
rc=0
qpki credential enroll --ca-dir ./ca --cred-dir ./credentials \
    --profile hybrid/catalyst/ocsp-responder --var cn=hybrid-ocsp.example.com --id hybrid-ocsp-responder \
    >"$TMP/.out" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
    ok "§3A credential enroll hybrid/catalyst/ocsp-responder"
elif [ $rc -eq 2 ] && grep -q "not yet supported" "$TMP/.out"; then
    ok "§3A hybrid/catalyst/ocsp-responder: not yet supported (exit 2)"
else
    fail "§3A hybrid/catalyst/ocsp-responder: exit $rc"; out
fi

# ---- §3 Option B: CSR-based ------------------------------------------------------------------
check "§3B key gen" qpki key gen --algo ecdsa-p256 --out ocsp-responder.key
expect_mode "§3B key" 600 ocsp-responder.key
check "§3B key reads (openssl pkey)" "$OPENSSL" pkey -in ocsp-responder.key -noout
check "§3B csr create" \
qpki csr create --key ocsp-responder.key --cn ocsp.example.com --out ocsp-responder.csr
check "§3B CSR self-signature (openssl req -verify)" \
    "$OPENSSL" req -in ocsp-responder.csr -verify -noout
check "§3B cert issue" \
qpki cert issue --ca-dir ./ca --profile ec/ocsp-responder --csr ocsp-responder.csr --out ocsp-responder.crt
check "§3B certificate verifies (openssl verify -purpose ocsphelper)" \
    "$OPENSSL" verify -CAfile ca.crt -purpose ocsphelper ocsp-responder.crt
"$OPENSSL" x509 -in ocsp-responder.crt -noout -text >"$TMP/x509.txt"
expect_grep "§3B responder certificate has OCSP Signing" "OCSP Signing" "$TMP/x509.txt"
expect_grep "§3B responder certificate has OCSP No Check" "OCSP No Check" "$TMP/x509.txt"
expect_grep "§3B certificate subject from the CSR" "Subject: CN ?= ?ocsp.example.com" "$TMP/x509.txt"

# ---- §3 Server mode: rotate -> versions -> activate ----------------------------------------------
check "§3 credential rotate" qpki credential rotate ocsp-responder
check "§3 credential versions" qpki credential versions ocsp-responder
expect_grep "§3 versions: v1 active" "^v1 +active" "$last_out"
expect_grep "§3 versions: v2 pending" "^v2 +pending" "$last_out"
old_serial=$("$OPENSSL" x509 -in credentials/ocsp-responder/ocsp-responder.crt -noout -serial)
check "§3 credential activate --version v2" qpki credential activate ocsp-responder --version v2
new_serial=$("$OPENSSL" x509 -in credentials/ocsp-responder/ocsp-responder.crt -noout -serial)
if [ "$old_serial" != "$new_serial" ]; then ok "§3 <id>.crt now the v2 certificate"; else fail "§3 <id>.crt unchanged"; fi
check "§3 v2 key matches v2 certificate" bash -c \
    "cmp <($OPENSSL x509 -in credentials/ocsp-responder/ocsp-responder.crt -noout -pubkey) \
         <($OPENSSL pkey -in credentials/ocsp-responder/ocsp-responder.key -pubout)"

# ---- §2 ocsp sign ----------------------------------------------------------------------------
cp ocsp-responder.crt responder.crt
cp ocsp-responder.key responder.key
check "§2 sign with credential" \
qpki ocsp sign --serial 0A1B2C3D --status good \
  --ca ca.crt --credential ocsp-responder --out response.ocsp
ossl_ocsp response.ocsp ca.crt 0A1B2C3D || true
expect_grep "§2 credential response: openssl Response verify OK" "^Response verify OK" "$TMP/.ossl"
expect_grep "§2 credential response: good" "^0x0A1B2C3D: good" "$TMP/.ossl"

check "§2 sign with --cert/--key" \
qpki ocsp sign --serial 0A1B2C3D --status good \
  --ca ca.crt --cert responder.crt --key responder.key --out response.ocsp
ossl_ocsp response.ocsp ca.crt 0A1B2C3D || true
expect_grep "§2 cert/key response: openssl Response verify OK" "^Response verify OK" "$TMP/.ossl"
expect_grep "§2 cert/key response: good" "^0x0A1B2C3D: good" "$TMP/.ossl"

check "§2 sign revoked" \
qpki ocsp sign --serial 0A1B2C3D --status revoked \
  --revocation-time "2024-01-15T10:00:00Z" \
  --revocation-reason keyCompromise \
  --ca ca.crt --cert responder.crt --key responder.key --out response.ocsp
ossl_ocsp response.ocsp ca.crt 0A1B2C3D || true
expect_grep "§2 revoked response: openssl Response verify OK" "^Response verify OK" "$TMP/.ossl"
expect_grep "§2 revoked response: revoked" "^0x0A1B2C3D: revoked" "$TMP/.ossl"
expect_grep "§2 revoked response: reason keyCompromise" "Reason: keyCompromise" "$TMP/.ossl"
expect_grep "§2 revoked response: time" "Revocation Time: Jan 15 10:00:00 2024 GMT" "$TMP/.ossl"
cp response.ocsp revoked.ocsp

check "§2 sign unknown" \
qpki ocsp sign --serial 0A1B2C3D --status unknown \
  --ca ca.crt --cert responder.crt --key responder.key --out response.ocsp
ossl_ocsp response.ocsp ca.crt 0A1B2C3D || true
expect_grep "§2 unknown response: openssl Response verify OK" "^Response verify OK" "$TMP/.ossl"
expect_grep "§2 unknown response: unknown" "^0x0A1B2C3D: unknown" "$TMP/.ossl"

# ---- §2 ocsp verify ---------------------------------------------------------------------------
check "§2 verify (basic)" \
qpki ocsp verify --response response.ocsp --ca ca.crt
expect_grep "§2 verify prints the status" "^0A1B2C3D: unknown" "$last_out"

# server.crt: a TLS server certificate from the CA, and a response for it.
check "server key" qpki key gen --algo ecdsa-p256 --out server.key
check "server csr" qpki csr create --key server.key --cn www.example.com --san www.example.com --out server.csr
check "server cert issue" qpki cert issue --ca-dir ./ca --profile ec/tls-server --csr server.csr --out server.crt
check "server cert verifies (openssl verify -purpose sslserver)" \
    "$OPENSSL" verify -CAfile ca.crt -purpose sslserver server.crt
server_serial=$("$OPENSSL" x509 -in server.crt -noout -serial | cut -d= -f2)
check "response for server.crt" \
    qpki ocsp sign --serial "$server_serial" --status good --ca ca.crt \
    --cert responder.crt --key responder.key --out response.ocsp
check "§2 verify --cert server.crt" \
qpki ocsp verify --response response.ocsp --ca ca.crt --cert server.crt
check "response with nonce 0102030405060708" \
    qpki ocsp sign --serial "$server_serial" --status good --ca ca.crt \
    --cert responder.crt --key responder.key --nonce 0102030405060708 --out response.ocsp
check "§2 verify --nonce" \
qpki ocsp verify --response response.ocsp --ca ca.crt --nonce 0102030405060708

# ---- §2 ocsp request ----------------------------------------------------------------------------
check "§2 request --cert" \
qpki ocsp request --ca ca.crt --cert server.crt --out request.ocsp
"$OPENSSL" ocsp -reqin request.ocsp -req_text >"$TMP/req.txt" 2>&1
expect_grep "§2 request parsed by openssl, serial" "Serial Number: $server_serial" "$TMP/req.txt"
expect_no_grep "§2 request without nonce" "Nonce" "$TMP/req.txt"
check "§2 request --nonce" \
qpki ocsp request --ca ca.crt --cert server.crt --nonce --out request.ocsp
"$OPENSSL" ocsp -reqin request.ocsp -req_text >"$TMP/req.txt" 2>&1
expect_grep "§2 request with nonce (openssl)" "OCSP Nonce" "$TMP/req.txt"
check "§2 request --serial" \
qpki ocsp request --ca ca.crt --serial 0A1B2C3D --out request.ocsp
"$OPENSSL" ocsp -reqin request.ocsp -req_text >"$TMP/req.txt" 2>&1
expect_grep "§2 request for serial 0A1B2C3D (openssl)" "Serial Number: 0A1B2C3D" "$TMP/req.txt"

# ---- §2 ocsp info ------------------------------------------------------------------------------
cp revoked.ocsp response.ocsp
check "§2 ocsp info" \
qpki ocsp info response.ocsp
expect_grep "§2 info: status line" "OCSP Response Status: successful" "$last_out"
expect_grep "§2 info: revoked" "Cert Status: revoked" "$last_out"
expect_grep "§2 info: reason" "Revocation Reason: keyCompromise" "$last_out"
expect_grep "§2 info: size" "Response size: [0-9]+ bytes" "$last_out"

# ---- ocsp serve / stop lines of §2 and §3, §4 -url (when this build has them) ------------
# Each serve line runs as written with its port (and PID file) moved to free
# ones; openssl ocsp -url queries it and `qpki ocsp stop` stops it.
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_answer() { # wait_answer PORT: until the responder answers
    for _ in $(seq 100); do
        "$OPENSSL" ocsp -issuer ca.crt -cert server.crt -CAfile ca.crt -url "http://127.0.0.1:$1" \
            >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
# serve_line DESC STOP-ARGS -- serve arguments...
serve_line() {
    local desc=$1 stop=$2
    shift 3
    qpki ocsp serve "$@" >"$TMP/serve.log" 2>&1 &
    local pid=$! port
    port=$(printf '%s\n' "$@" | awk 'prev == "--port" {print} {prev = $0}')
    if wait_answer "$port"; then
        "$OPENSSL" ocsp -issuer ca.crt -cert server.crt -CAfile ca.crt -url "http://127.0.0.1:$port" \
            -resp_text >"$TMP/url.txt" 2>&1 || true
        expect_grep "$desc: openssl verifies the answer" "^Response verify OK" "$TMP/url.txt"
        expect_grep "$desc: server.crt good" "server.crt: good" "$TMP/url.txt"
    else
        fail "$desc: no answer"; sed 's/^/    | /' "$TMP/serve.log"
    fi
    # shellcheck disable=SC2086
    check "$desc: qpki ocsp stop $stop" qpki ocsp stop $stop
    wait "$pid" 2>/dev/null || true
}
if has_cmd ocsp serve && has_cmd ocsp stop; then
    P=$(free_port)
    serve_line "§2 serve --credential" "--port $P" -- \
    --port "$P" --ca-dir ./ca --credential ocsp-responder
    P=$(free_port)
    serve_line "§2 serve --cert/--key" "--port $P" -- \
    --port "$P" --ca-dir ./ca \
      --cert responder.crt --key responder.key
    P=$(free_port)
    serve_line "§2 serve --validity 24h" "--port $P" -- \
    --port "$P" --ca-dir ./ca \
      --cert responder.crt --key responder.key --validity 24h
    tu=$(sed -n 's/^ *This Update: //p' "$TMP/url.txt" | head -1)
    nu=$(sed -n 's/^ *Next Update: //p' "$TMP/url.txt" | head -1)
    span=$(( $(date -u -d "$nu" +%s) - $(date -u -d "$tu" +%s) ))
    [ "$span" -ge 86400 ] && [ "$span" -le 86520 ] && ok "§2 --validity 24h: nextUpdate - thisUpdate = ${span}s" \
        || fail "§2 --validity 24h: span ${span}s"
    P=$(free_port)
    serve_line "§2 serve --pid-file" "--pid-file $TMP/ocsp.pid" -- \
    --port "$P" --ca-dir ./ca \
      --cert responder.crt --key responder.key --pid-file "$TMP/ocsp.pid"
    P=$(free_port)
    serve_line "§3A serve with the credential's files" "--port $P" -- \
    --port "$P" --ca-dir ./ca \
        --cert ./credentials/ocsp-responder/ocsp-responder.crt \
        --key ./credentials/ocsp-responder/ocsp-responder.key
    P=$(free_port)
    serve_line "§3B serve with the CSR-issued files" "--port $P" -- \
    --port "$P" --ca-dir ./ca \
        --cert ocsp-responder.crt --key ocsp-responder.key

    # §3 server mode: serve a credential, rotate, activate -> new key without restart
    P=$(free_port)
    qpki ocsp serve --port "$P" --ca-dir ./ca --credential ocsp-responder >"$TMP/serve.log" 2>&1 &
    SPID=$!
    if wait_answer "$P"; then
        "$OPENSSL" ocsp -issuer ca.crt -cert server.crt -CAfile ca.crt -url "http://127.0.0.1:$P" \
            -resp_text >"$TMP/before.txt" 2>&1 || true
        check "§3 rotate while serving" qpki credential rotate ocsp-responder
        check "§3 versions while serving" qpki credential versions ocsp-responder
        vnew=$(awk '$2 == "pending" {v = $1} END {print v}' "$last_out")
        check "§3 activate $vnew while serving" qpki credential activate ocsp-responder --version "$vnew"
        want=$("$OPENSSL" x509 -in credentials/ocsp-responder/ocsp-responder.crt -noout -serial | cut -d= -f2)
        switched=0
        for _ in $(seq 100); do
            "$OPENSSL" ocsp -issuer ca.crt -cert server.crt -CAfile ca.crt -url "http://127.0.0.1:$P" \
                -resp_text >"$TMP/after.txt" 2>&1 || true
            if grep -q "Serial Number: .*(0x$(echo "$want" | tr A-F a-f | sed 's/^0*//'))" "$TMP/after.txt"; then
                switched=1; break
            fi
            sleep 0.1
        done
        [ $switched = 1 ] && ok "§3 the running server signs with the activated version" \
            || { fail "§3 the server did not switch to $vnew"; sed 's/^/    | /' "$TMP/serve.log"; }
        expect_grep "§3 answers after the switch verify" "^Response verify OK" "$TMP/after.txt"
    else
        fail "§3 server mode: no answer"; sed 's/^/    | /' "$TMP/serve.log"
    fi

    # §4: the guide's -url line (no -CAfile: the CA is in the default trust
    # store, which SSL_CERT_FILE points at here)
    SSL_CERT_FILE=ca.crt \
    "$OPENSSL" ocsp -issuer ca.crt -cert server.crt \
      -url "http://localhost:$P" -resp_text >"$TMP/url.txt" 2>&1 || true
    expect_grep "§4 openssl ocsp -url: Response verify OK" "^Response verify OK" "$TMP/url.txt"
    expect_grep "§4 openssl ocsp -url: server.crt good" "server.crt: good" "$TMP/url.txt"
    check "§2 ocsp stop --port" \
    qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
    # qpki's own client against qpki's server
    P=$(free_port)
    qpki ocsp serve --port "$P" --ca-dir ./ca --credential ocsp-responder >"$TMP/serve.log" 2>&1 &
    SPID=$!
    wait_answer "$P" || true
    check "ocsp request --url --nonce against ocsp serve" qpki ocsp request --ca ca.crt --cert server.crt \
        --nonce --url "http://127.0.0.1:$P"
    expect_grep "  ... good, nonce echoed and verified" "^$server_serial: good" "$last_out"
    check "ocsp stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
else
    echo "# ocsp serve/stop not in this build: serve lines skipped"
fi

# ---- §4 OpenSSL interoperability -------------------------------------------------------------------
check "§4 openssl makes a request" \
"$OPENSSL" ocsp -issuer ca.crt -cert server.crt -reqout request.ocsp -no_nonce
check "§4 qpki ocsp info reads openssl's request" qpki ocsp info request.ocsp
expect_grep "§4 request serial seen by qpki" "Serial Number: $server_serial" "$last_out"
check "response for openssl's request" \
    qpki ocsp sign --serial "$server_serial" --status good --ca ca.crt \
    --credential ocsp-responder --out response.ocsp
check "§4 openssl -respin -CAfile -resp_text" \
"$OPENSSL" ocsp -respin response.ocsp -CAfile ca.crt -resp_text
expect_grep "§4 Response verify OK" "^Response verify OK" "$last_out"

finish
