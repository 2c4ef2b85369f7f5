#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/hsm_fault.sh QPKI PLUGIN_SO FAULTY_P11_SO - `qpki ocsp serve`
# with a token key that goes away and comes back, under a continuous request
# loop.
#
# The key is a P-256 key generated in a fresh SoftHSM2 token by `qpki key gen
# --hsm-config`; its responder certificate comes from `qpki csr create` (with the
# token key) and `qpki cert issue`.  hsm.yaml names tests/plugin/faulty_p11.so,
# which forwards to SoftHSM2 and fails while its control file exists.  The
# server runs with --admin-addr; hsm_fault.py drives the loop (live nonce POSTs
# and cached GETs from two threads, /healthz polls), switches two faults on and
# off (token removed; session handle invalid) and checks every answer (see its
# header).  This script then checks, with the server still running:
#   - it is the same process throughout (never restarted) and still answers;
#   - /metrics counted exactly the successful and tryLater answers the client saw;
#   - openssl ocsp -respin -CAfile says "Response verify OK" for every distinct
#     successful answer the loop received (live ones all);
#   - the log has the signer's warnings and no crash; ocsp stop ends it with 0.
# Skipped (77) without SoftHSM2.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PLUGIN=${2:?usage: $0 QPKI PLUGIN_SO FAULTY_P11_SO}
FAULTY=${3:?usage: $0 QPKI PLUGIN_SO FAULTY_P11_SO}
case "$PLUGIN" in /*) ;; *) PLUGIN="$OLDPWD/$PLUGIN" ;; esac
case "$FAULTY" in /*) ;; *) FAULTY="$OLDPWD/$FAULTY" ;; esac

module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
         /usr/lib64/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -f "$m" ]; then module=$m; break; fi
done
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "SKIP: SoftHSM2 is not installed (apt-get install softhsm2)"
    exit 77
fi
[ -f "$PLUGIN" ] || fail "no plugin $PLUGIN"
[ -f "$FAULTY" ] || fail "no fault-injecting module $FAULTY"

# ---- a fresh token, the key and its certificate, made with qpki alone --------------------
mkdir tokens
cat >softhsm2.conf <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
softhsm2-util --init-token --free --label qpki-fault --pin 16180339 --so-pin 14142135 >/dev/null
export HSM_PIN=16180339
export QPKI_PLUGIN_DIR="$(dirname "$PLUGIN")"
export FAULTY_P11_TARGET="$module" FAULTY_P11_CONTROL="$WORK/fault"
cat >hsm.yaml <<EOF
type: pkcs11
pkcs11:
  lib: $FAULTY
  token: "qpki-fault"
  pin_env: HSM_PIN
EOF

"$QPKI" ca init --ca-dir ca --var cn="HSM fault CA" >/dev/null
"$QPKI" key gen --algo ecdsa-p256 --hsm-config hsm.yaml --key-label ocsp-key --out ocsp-key.pub \
    >/dev/null 2>&1 || fail "qpki key gen --hsm-config"
"$QPKI" csr create --hsm-config hsm.yaml --key-label ocsp-key --cn ocsp-hsm.example \
    --out responder.csr >/dev/null 2>&1 || fail "qpki csr create with the token key"
"$QPKI" cert issue --ca-dir ca --profile ec/ocsp-responder --csr responder.csr \
    --out responder.crt >/dev/null 2>&1 || fail "qpki cert issue"
for leaf in good revoked; do
    "$QPKI" key gen --algo ecdsa-p256 --out "$leaf.key" >/dev/null 2>&1
    "$QPKI" csr create --key "$leaf.key" --cn "$leaf.example" --out "$leaf.csr" >/dev/null 2>&1
    "$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr "$leaf.csr" --out "$leaf.crt" \
        >/dev/null 2>&1
done
serial=$(openssl x509 -in revoked.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca --serial "$serial" --reason keyCompromise >/dev/null
ok "token key, responder certificate (csr create + cert issue) and two leaves made with qpki"

# ---- the server ----------------------------------------------------------------------------
APORT=$(free_port)
ADMIN="http://127.0.0.1:$APORT"
start_server main --ca-dir ca --cert responder.crt --hsm-config hsm.yaml --key-label ocsp-key \
    --admin-addr "127.0.0.1:$APORT" --quiet
SPID=$(cat "$PIDFILE")
expect_eq "healthz before" "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/healthz")" 200
ok "ocsp serve with the token key behind faulty_p11.so (pid $SPID), /healthz 200"

# ---- the loop, the faults -------------------------------------------------------------------
mkdir answers
rc=0
/usr/bin/python3 "$HERE/hsm_fault.py" "$URL" "$ADMIN" "$FAULTY_P11_CONTROL" ca/ca.crt \
    responder.crt answers good.crt:good revoked.crt:revoked >loop.log 2>&1 || rc=$?
sed 's/^/    /' loop.log
[ "$rc" -eq 0 ] || fail "the request loop found errors (above)"
ok "request loop: tryLater and /healthz 503 during both faults, recovery after each, no bad answer"

# ---- the same process, still serving -----------------------------------------------------------
kill -0 "$SPID" 2>/dev/null || fail "the server (pid $SPID) is gone"
expect_eq "pid file" "$(cat "$PIDFILE")" "$SPID"
expect_eq "listening lines in the log (one start)" "$(grep -c 'msg=listening' main.log)" 1
st=$(openssl ocsp -issuer ca/ca.crt -cert good.crt -url "$URL" -CAfile ca/ca.crt 2>&1)
expect_match "openssl ocsp -url (nonce) after the faults" "$st" "Response verify OK"
expect_match "  ... good" "$st" "good.crt: good"
ok "the server was never restarted (pid $SPID) and signs again"

# ---- metrics agree with what the client saw -----------------------------------------------------
counts=$(grep '^COUNTS ' loop.log)
curl -s "$ADMIN/metrics" >metrics.txt
metric() { sed -n "s/^qpki_ocsp_responses_total{status=\"$1\"} //p" metrics.txt; }
# + 1: the openssl query just above
want_ok=$(($(echo "$counts" | sed 's/.*successful=\([0-9]*\).*/\1/') + 1))
want_later=$(echo "$counts" | sed 's/.*tryLater=\([0-9]*\).*/\1/')
expect_eq "metrics: successful answers" "$(metric successful)" "$want_ok"
expect_eq "metrics: tryLater answers" "$(metric tryLater)" "$want_later"
expect_eq "metrics: internalError answers" "$(metric internalError)" 0
ok "/metrics: successful $want_ok, tryLater $want_later, internalError 0 - the client's counts"

# ---- openssl checks every distinct successful answer -----------------------------------------------
n=0
for f in answers/*.der; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if ! openssl ocsp -respin "$f" -CAfile ca/ca.crt 2>&1 >/dev/null |
        grep -q '^Response verify OK'; then
        openssl ocsp -respin "$f" -CAfile ca/ca.crt -resp_text >&2 || true
        fail "openssl does not verify $f"
    fi
done
saved=$(echo "$counts" | sed 's/.*saved=\([0-9]*\).*/\1/')
expect_eq "answers checked by openssl" "$n" "$saved"
[ "$n" -gt 0 ] || fail "no answer to check"
ok "openssl ocsp -respin -CAfile: Response verify OK for all $n distinct successful answers"

# ---- log, stop ---------------------------------------------------------------------------------------
grep -q 'level=warn msg="issuer 0: signing failed: signer unavailable"' main.log ||
    fail "no 'signing failed: signer unavailable' warning in the log"
if grep -Eqi 'segmentation|abort|assert|sanitizer' main.log; then fail "crash in the log"; fi
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null || fail "ocsp stop"
src=0
wait "$SPID" 2>/dev/null || src=$?
# the server is not our child when started through a subshell: the pid must be gone
kill -0 "$SPID" 2>/dev/null && fail "the server still runs after ocsp stop"
[ "$src" -eq 0 ] || [ "$src" -eq 127 ] || fail "the server exited $src"
ok "ocsp stop: the server drained and exited"
