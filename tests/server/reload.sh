#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/reload.sh - changes while the server runs: `qpki cert revoke`
# shows in the next fresh response (live and cached) within seconds; a corrupt
# index.txt keeps the previous table serving and is logged; SIGHUP re-reads the
# YAML configuration (a CA added), and a broken configuration keeps the old one.
. "$(dirname "$0")/lib.sh"

make_pki ca
make_pki ca2
APORT=$(free_port)
cat >serve.yaml <<EOF
# the configuration file: one CA at first
validity: 30m
log_format: logfmt
cas:
  - dir: ca
    credential: ocsp-ca
EOF
start_server main --config serve.yaml --admin-addr "127.0.0.1:$APORT"
ADMIN="http://127.0.0.1:$APORT"

status_of() { # status_of CERT ISSUER [-no_nonce]: good/revoked/unknown
    openssl ocsp -issuer "$2" -cert "$1" -url "$URL" -CAfile "$2" ${3:-} 2>/dev/null |
        sed -n "s/^$1: //p"
}
get_status() { # cached GET answer for CERT
    openssl ocsp -issuer ca/ca.crt -cert "$1" -no_nonce -reqout g.req 2>/dev/null
    curl -s -o g.der "$URL/$(b64 g.req)"
    openssl ocsp -respin g.der -issuer ca/ca.crt -cert "$1" -CAfile ca/ca.crt -no_nonce 2>/dev/null |
        sed -n "s/^$1: //p"
}

expect_eq "before" "$(status_of ca-good.crt ca/ca.crt)" "good"
expect_eq "before (cached GET)" "$(get_status ca-good.crt)" "good"
expect_eq "validity from the file" \
    "$(grep 'msg="serving CA"' main.log | head -1 | sed 's/.*validity=\([0-9]*s\).*/\1/')" "1800s"

# ---- revoke while running -------------------------------------------------------------
serial=$(openssl x509 -in ca-good.crt -noout -serial | cut -d= -f2)
start=$(date +%s%N)
"$QPKI" cert revoke --ca-dir ca --serial "$serial" --reason superseded >/dev/null
is_revoked() { [ "$(status_of ca-good.crt ca/ca.crt)" = revoked ]; }
# DESIGN §8: within 2 s (the server polls every 0.5 s); 4 s leaves room for a
# loaded machine.
wait_for "revocation not visible" 4 is_revoked
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "cached GET after revoke" "$(get_status ca-good.crt)" "revoked"
ok "qpki cert revoke while running -> revoked after ${ms} ms (live and cached answers)"

# ---- corrupt index.txt: the previous table keeps serving ----------------------------------
cp ca/index.txt index.good
printf 'V\tnot-a-date\t\tZZ\tunknown\t/CN=broken\n' >index.bad
mv index.bad ca/index.txt
logged() { grep -q 'level=error msg=".*index.txt:1:' main.log; }
wait_for "corrupt index.txt not logged" 4 logged
line=$(grep 'level=error msg=".*index.txt:1:' main.log | head -1)
expect_match "error context" "$line" 'ca=ca action="previous table kept"'
for _ in 1 2 3; do
    expect_eq "old table, revoked" "$(status_of ca-good.crt ca/ca.crt)" "revoked"
    expect_eq "old table, still revoked" "$(status_of ca-revoked.crt ca/ca.crt)" "revoked"
    sleep 0.3
done
[ "$(curl -s "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_reload_failures_total //p')" -ge 1 ] ||
    fail "db reload failure not counted"
mv index.good ca/index.txt
touch ca/index.txt
valid() { grep -q 'msg="status database .*valid again\|msg="status database reloaded' main.log; }
wait_for "valid index not picked up again" 4 valid
ok "corrupt index.txt -> error logged (file:line), previous answers continue, recovery"

# ---- SIGHUP: configuration re-read -------------------------------------------------------------
expect_match "CA2 not served yet" "$(openssl ocsp -issuer ca2/ca.crt -cert ca2-good.crt \
    -url "$URL" -CAfile ca2/ca.crt 2>&1 || true)" "unauthorized"
cat >>serve.yaml <<EOF
  - dir: ca2
    name: second
EOF
kill -HUP "$(cat "$PIDFILE")"
reloaded() { grep -q 'msg=reloaded' main.log; }
wait_for "SIGHUP reload" 10 reloaded
expect_eq "CA2 after SIGHUP" "$(status_of ca2-good.crt ca2/ca.crt)" "good"
expect_eq "CA1 after SIGHUP" "$(status_of ca-good.crt ca/ca.crt)" "revoked"
expect_match "CA2 named" "$(grep 'msg="serving CA" ca=second' main.log | tail -1)" "signer=\"CA key\""
# broken configuration: the running one stays
printf 'cas: [\n' >serve.yaml
kill -HUP "$(cat "$PIDFILE")"
failed() { grep -q 'msg="reload failed' main.log; }
wait_for "failed reload not logged" 10 failed
expect_eq "CA2 after failed reload" "$(status_of ca2-good.crt ca2/ca.crt)" "good"
m=$(curl -s "$ADMIN/metrics")
expect_match "reloads counted" "$m" "qpki_ocsp_reloads_total 1"
expect_match "failed reloads counted" "$m" "qpki_ocsp_reload_failures_total 1"
ok "SIGHUP re-reads the configuration; a broken one keeps the running state"

"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
ok "stopped"
