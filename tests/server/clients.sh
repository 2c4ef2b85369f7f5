#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/clients.sh - three independent OCSP clients (openssl ocsp, GnuTLS
# ocsptool, qpki ocsp request) against one server serving two CAs: a delegated
# responder credential for the first, the CA key itself for the second.
. "$(dirname "$0")/lib.sh"

make_pki ca
make_pki ca2
# a CA the server does not know
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
    -subj "/CN=Other CA" -days 30 -out other.crt 2>/dev/null

start_server main --ca-dir ca --credential ocsp-ca --ca-dir ca2

# ---- openssl ocsp: POST with and without nonce --------------------------------
out=$(ocsp_status ca-good.crt ca/ca.crt)
expect_match "openssl nonce good" "$out" "Response verify OK"
expect_match "openssl nonce good" "$out" "ca-good.crt: good"
out=$(ocsp_status ca-good.crt ca/ca.crt -no_nonce)
expect_match "openssl no-nonce good" "$out" "Response verify OK"
expect_match "openssl no-nonce good" "$out" "ca-good.crt: good"
out=$(ocsp_status ca-revoked.crt ca/ca.crt)
expect_match "openssl revoked" "$out" "Response verify OK"
expect_match "openssl revoked" "$out" "ca-revoked.crt: revoked"
expect_match "openssl revoked reason" "$out" "Reason: keyCompromise"
out=$(openssl ocsp -issuer ca/ca.crt -serial 0x0102030405 -url "$URL" -CAfile ca/ca.crt 2>&1)
expect_match "openssl unknown serial" "$out" "Response verify OK"
expect_match "openssl unknown serial" "$out" "0x0102030405: unknown"
# the nonce is echoed: openssl checks it unless -no_nonce ("WARNING: no nonce in response" otherwise)
out=$(ocsp_status ca-good.crt ca/ca.crt -resp_text)
expect_match "nonce echoed" "$out" "OCSP Nonce"
if printf '%s' "$out" | grep -q "WARNING: no nonce"; then fail "nonce not echoed"; fi
# delegated responder: the responder certificate is in the response
expect_match "responder certificate included" "$out" "Subject: CN *= *ocsp.ca.example"
ok "openssl ocsp POST with and without nonce: good, revoked (keyCompromise), unknown"

# several CertIDs in one request, answered in order
out=$(openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -cert ca-revoked.crt -url "$URL" \
    -CAfile ca/ca.crt 2>&1)
expect_match "two CertIDs" "$out" "ca-good.crt: good"
expect_match "two CertIDs" "$out" "ca-revoked.crt: revoked"
ok "two CertIDs in one request"

# ---- the second CA, signed with its own key ---------------------------------------
out=$(ocsp_status ca2-good.crt ca2/ca.crt -resp_text)
expect_match "CA-signed good" "$out" "Response verify OK"
expect_match "CA-signed good" "$out" "ca2-good.crt: good"
if printf '%s' "$out" | grep -q "^Certificate:"; then fail "CA-signed response carries a certificate"; fi
out=$(ocsp_status ca2-revoked.crt ca2/ca.crt)
expect_match "CA-signed revoked" "$out" "ca2-revoked.crt: revoked"
ok "two CAs in one process (delegated and CA-signed)"

# ---- a CA the server does not serve: unsigned unauthorized ---------------------------
out=$(openssl ocsp -issuer other.crt -serial 0x01 -url "$URL" -CAfile other.crt 2>&1 || true)
expect_match "foreign CA" "$out" "Responder Error: unauthorized \(6\)"
# a certificate of CA 1 asked with CA 2 as issuer: also unknown to the server's CA 2
out=$(openssl ocsp -issuer ca2/ca.crt -cert ca-good.crt -url "$URL" -CAfile ca2/ca.crt 2>&1 || true)
expect_match "wrong issuer" "$out" "(unauthorized|unknown)"
ok "foreign CA -> unauthorized"

# ---- GnuTLS ocsptool -----------------------------------------------------------------
out=$(ocsptool --ask="$URL" --load-issuer ca/ca.crt --load-cert ca-good.crt \
    --outfile ocsptool.der 2>&1) || fail "ocsptool --ask: $out"
expect_match "ocsptool good" "$out" "Certificate Status: good"
out=$(ocsptool --ask="$URL" --load-issuer ca/ca.crt --load-cert ca-revoked.crt 2>&1 || true)
expect_match "ocsptool revoked" "$out" "Certificate Status: revoked"
# -e: verify the saved response against the CA as trust anchor
out=$(ocsptool -e --load-trust ca/ca.crt --infile ocsptool.der 2>&1) || fail "ocsptool -e: $out"
expect_match "ocsptool -e" "$out" "Verifying OCSP Response: Success"
out=$(ocsptool --ask="$URL" --load-issuer ca2/ca.crt --load-cert ca2-good.crt 2>&1) ||
    fail "ocsptool CA2: $out"
expect_match "ocsptool CA2" "$out" "Certificate Status: good"
ok "ocsptool --ask and -e"

# ---- qpki ocsp request --url (GET when it fits, POST with --post) ------------------------
out=$("$QPKI" ocsp request --ca ca/ca.crt --cert ca-good.crt --url "$URL" 2>&1) ||
    fail "qpki ocsp request GET: $out"
expect_match "qpki request good" "$out" "good"
out=$("$QPKI" ocsp request --ca ca/ca.crt --cert ca-good.crt --nonce --post --url "$URL" 2>&1) ||
    fail "qpki ocsp request POST nonce: $out"
expect_match "qpki request POST nonce" "$out" "good"
set +e
out=$("$QPKI" ocsp request --ca ca/ca.crt --cert ca-revoked.crt --url "$URL" 2>&1)
set -e
expect_match "qpki request revoked" "$out" "revoked"
out=$("$QPKI" ocsp request --ca ca2/ca.crt --cert ca2-good.crt --hash sha1 --url "$URL" 2>&1) ||
    fail "qpki ocsp request CA2: $out"
expect_match "qpki request CA2" "$out" "good"
ok "qpki ocsp request --url (GET, POST, nonce, SHA-1 and SHA-256 CertIDs)"

# ---- the log: one line per request with the fields operators need --------------------
line=$(grep 'msg=request' main.log | grep 'cert_status=revoked' | head -1)
expect_match "log line" "$line" "method=POST code=200 status=successful cert_status=revoked ca=ca serial=[0-9A-F]+ hash=sha1 nonce=y cache=miss sign_us=[0-9]+ us=[0-9]+ remote=127.0.0.1"
ok "request log lines"

"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
ok "stopped"
