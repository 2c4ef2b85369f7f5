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

# ---- §2 ocsp serve / stop, §3 serve lines, §4 -url (when this build has them) ---------------------
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if has_cmd ocsp serve && has_cmd ocsp stop; then
    qpki ocsp serve --port "$PORT" --ca-dir ./ca --credential ocsp-responder >"$TMP/serve.log" 2>&1 &
    for _ in $(seq 50); do
        "$OPENSSL" ocsp -issuer ca.crt -cert server.crt -url "http://127.0.0.1:$PORT" \
            -resp_text >"$TMP/url.txt" 2>&1 && break
        sleep 0.2
    done
    "$OPENSSL" ocsp -issuer ca.crt -cert server.crt \
      -url "http://localhost:$PORT" -resp_text >"$TMP/url.txt" 2>&1 || true
    expect_grep "§4 openssl ocsp -url against qpki ocsp serve: verify OK" "^Response verify OK" "$TMP/url.txt"
    expect_grep "§4 openssl ocsp -url: server.crt good" "server.crt: good" "$TMP/url.txt"
    check "§2 ocsp stop --port" \
    qpki ocsp stop --port "$PORT"
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
