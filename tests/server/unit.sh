#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/unit.sh - the installed service files, checked in the build tree:
# qpki-ocsp@.service passes `systemd-analyze verify`, is Type=notify with a
# SIGHUP ExecReload, and is the unit docs/OPERATIONS.md section 2 shows; the commented example configuration
# (example.yaml) serves as it is once its paths point at a real PKI.
# usage: unit.sh QPKI UNIT EXAMPLE_YAML OPERATIONS_MD
. "$(dirname "$0")/lib.sh"
UNIT=$2
EXAMPLE=$3
OPS=$4

# ---- the unit ---------------------------------------------------------------------------
key() { sed -n "s/^$1=//p" "$UNIT"; }
expect_eq "Type" "$(key Type)" "notify"
expect_eq "ExecReload" "$(key ExecReload)" '/bin/kill -HUP $MAINPID'
expect_match "ExecStart serves the instance's configuration" "$(key ExecStart)" \
    '/qpki ocsp serve --config /.*/qpki/ocsp/%i\.yaml --pid-file /run/qpki-ocsp/%i/ocsp\.pid$'
expect_eq "User" "$(key User)" "qpki-ocsp"
expect_eq "RuntimeDirectory" "$(key RuntimeDirectory)" "qpki-ocsp/%i"
# OPERATIONS.md section 2 shows the unit as installed: the same lines, comments aside
# (paths as a /usr package installs them)
sed -n '/^\[Unit\]/,/^WantedBy=/p' "$OPS" | grep -v '^$' >doc.unit
[ "$(wc -l <doc.unit)" -ge 20 ] || fail "no unit block in OPERATIONS.md"
grep -v -e '^#' -e '^$' "$UNIT" | sed -E -e 's#^ExecStart=/[^ ]*/qpki #ExecStart=/usr/bin/qpki #' \
    -e 's#(=-?|--config )/([^ ]*/)?etc/qpki/#\1/etc/qpki/#g' >built.unit
diff -u doc.unit built.unit >unit.diff || fail "OPERATIONS.md's unit differs from the installed one: $(cat unit.diff)"
n=$(grep -cE '^(No|Protect|Private|Restrict|Capability|Lock|SystemCall|UMask)' built.unit)
ok "unit: Type=notify, ExecReload SIGHUP, user qpki-ocsp, $n sandboxing lines; the same as OPERATIONS.md shows"
if command -v systemd-analyze >/dev/null 2>&1; then
    # the build's qpki in place of the installed path, so that the check can see it
    sed "s|^ExecStart=[^ ]*/qpki |ExecStart=$QPKI |" "$UNIT" >"$WORK/qpki-ocsp@.service"
    out=$(systemd-analyze verify --man=no "$WORK/qpki-ocsp@.service" 2>&1) ||
        fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
    ok "systemd-analyze verify: no error, no warning"
else
    fail "systemd-analyze is missing (install-deps.sh installs systemd)"
fi

# ---- the example configuration ------------------------------------------------------------
"$QPKI" ca init --ca-dir ca --var cn="Example CA" >/dev/null
"$QPKI" credential enroll --ca-dir ca --cred-dir credentials --profile ec/ocsp-responder \
    --var cn=ocsp.example --id ocsp-responder >/dev/null
"$QPKI" key gen --algo ecdsa-p256 --out leaf.key >/dev/null 2>&1
"$QPKI" csr create --key leaf.key --cn leaf.example --out leaf.csr >/dev/null 2>&1
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr leaf.csr --out leaf.crt >/dev/null 2>&1
sed "s|/var/lib/qpki|$WORK|g" "$EXAMPLE" >example.yaml
grep -q "^addr: \"127.0.0.1:8080\"" example.yaml || fail "example.yaml: addr line changed"
start_server example --config example.yaml
status=$(openssl ocsp -issuer ca/ca.crt -cert leaf.crt -url "$URL" -CAfile ca/ca.crt 2>&1)
expect_match "example.yaml serves: openssl ocsp" "$status" 'leaf.crt: good'
expect_match "  ... signed by the credential" "$status" 'Response verify OK'
grep -q 'msg="serving CA".*signer="credential ocsp-responder' example.log ||
    fail "example.yaml: the CA is not served with its credential: $(cat example.log)"
ok "example.yaml (paths pointed at a fresh PKI): openssl ocsp verifies 'good' from the credential"
