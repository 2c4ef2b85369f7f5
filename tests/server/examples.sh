#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/examples.sh QPKI HTTP_RESPONDER STAPLE_SERVER - the two server
# examples: examples/http_responder answers openssl ocsp and curl GET;
# examples/staple_server staples in-process responses that openssl s_client
# -status reads (TLS 1.2 and 1.3), and a revocation shows in the next handshake.
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
HTTP_RESPONDER=$(abs "${2:?usage: $0 QPKI HTTP_RESPONDER STAPLE_SERVER}")
STAPLE_SERVER=$(abs "${3:?}")
. "$(dirname "$0")/lib.sh"

make_pki ca

# ---- examples/http_responder ------------------------------------------------------
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
"$HTTP_RESPONDER" "$PORT" ca credentials/ocsp-ca/ocsp-ca.crt credentials/ocsp-ca/ocsp-ca.key \
    >http_responder.log 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
up() { curl -s -o /dev/null "$URL/"; }
wait_for "http_responder did not start" 10 up
out=$(ocsp_status ca-good.crt ca/ca.crt)
expect_match "http_responder POST" "$out" "Response verify OK"
expect_match "http_responder POST" "$out" "ca-good.crt: good"
openssl ocsp -issuer ca/ca.crt -cert ca-revoked.crt -no_nonce -reqout r.req 2>/dev/null
curl -s -D r.h -o r.der "$URL/ocsp/$(b64 r.req | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')"
expect_match "http_responder GET" "$(grep -i '^Cache-Control' r.h)" "max-age=[0-9]+, public"
out=$(openssl ocsp -respin r.der -issuer ca/ca.crt -cert ca-revoked.crt -CAfile ca/ca.crt \
    -no_nonce 2>&1 || true)
expect_match "http_responder GET" "$out" "ca-revoked.crt: revoked"
ok "examples/http_responder: openssl POST and percent-encoded GET"

# ---- examples/staple_server ----------------------------------------------------------
"$QPKI" key gen --algo ecdsa-p256 --out tls.key >/dev/null 2>&1
"$QPKI" csr create --key tls.key --cn localhost --out tls.csr >/dev/null 2>&1
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr tls.csr --out tls.crt >/dev/null 2>&1
SPORT=$(free_port)
"$STAPLE_SERVER" "$SPORT" tls.crt tls.key ca >staple.log 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
listening() { grep -q listening staple.log; }
wait_for "staple_server did not start" 10 listening
for v in -tls1_2 -tls1_3; do
    out=$(openssl s_client -connect "127.0.0.1:$SPORT" -status -CAfile ca/ca.crt "$v" \
        </dev/null 2>&1 || true)
    expect_match "s_client $v" "$out" "OCSP Response Status: successful"
    expect_match "s_client $v" "$out" "Cert Status: good"
    expect_match "s_client $v" "$out" "Verify return code: 0 \(ok\)"
done
serial=$(openssl x509 -in tls.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca --serial "$serial" --reason keyCompromise >/dev/null
out=$(openssl s_client -connect "127.0.0.1:$SPORT" -status -CAfile ca/ca.crt </dev/null 2>&1 || true)
expect_match "stapled after revoke" "$out" "Cert Status: revoked"
expect_match "stapled after revoke" "$out" "Revocation Reason: keyCompromise"
ok "examples/staple_server: openssl s_client -status sees good (TLS 1.2, 1.3), then revoked"
