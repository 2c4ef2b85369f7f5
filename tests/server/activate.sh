#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/activate.sh - what the server guarantees after `qpki credential
# activate` returns, for a Catalyst (ECDSA P-384 + ML-DSA-65) credential while
# the CA's index.txt changes all the time (a full reload of 50,000 rows every
# few hundred ms, as in the soak where a switch once came 4.9 s late):
# activate writes credential.meta.json last, and the key-watching thread acts on
# it in its next pass.  So once the server's pass counter
# (qpki_ocsp_key_watch_passes_total) has moved by two after activate returned -
# a whole pass started after it - every answer MUST come from the new version.
# No clock is involved; the pick-up times are printed, not asserted.  Each
# answer is verified by openssl (signature, responder certificate issued by the
# CA, status), and its responder certificate must be the active one.
. "$(dirname "$0")/lib.sh"

"$QPKI" ca init --ca-dir cat --profile hybrid/catalyst/root-ca --var cn="Activate CA" >/dev/null
"$QPKI" credential enroll --ca-dir cat --cred-dir credentials \
    --profile hybrid/catalyst/ocsp-responder --var cn=ocsp.activate.example \
    --id ocsp-cat >/dev/null

# 50,000 synthetic rows (serials 0x7A000000 + i, every tenth revoked)
/usr/bin/python3 - <<'PYEOF'
rows = []
for i in range(50000):
    s = 0x7A000000 + i
    if i % 10 == 0:
        rows.append("R\t351231235959Z\t240101000000Z,keyCompromise\t%X\tunknown\t/CN=r%d" % (s, i))
    else:
        rows.append("V\t351231235959Z\t\t%X\tunknown\t/CN=g%d" % (s, i))
with open("cat/index.txt", "a") as f:
    f.write("".join(r + "\n" for r in rows))
PYEOF
GOOD=7A000001

ADMIN_PORT=$(free_port)
start_server main --ca-dir cat --credential ocsp-cat --admin-addr "127.0.0.1:$ADMIN_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
openssl ocsp -issuer cat/ca.crt -serial "0x$GOOD" -no_nonce -reqout good.req 2>/dev/null

# The churn: under the CA's lock (as qpki and openssl ca write it), the rows in
# a new random order plus one new row, renamed over index.txt.
churn() {
    n=0
    while [ ! -e stop.flag ]; do
        n=$((n + 1))
        flock cat/index.txt.lock sh -c '
            sort -R cat/index.txt >cat/index.churn &&
            printf "V\t351231235959Z\t\t%X\tunknown\t/CN=churn%d\n" $((0x7B000000 + $1)) "$1" \
                >>cat/index.churn && mv cat/index.churn cat/index.txt' churn "$n"
        sleep 0.2
    done
}
set +e
churn &
churn_pid=$!
set -e
generation() { curl -fsS "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_generation{ca="cat"} //p'; }
g0=$(generation)
churning() { [ "$(generation)" -ge $((g0 + 3)) ]; }
wait_for "index.txt changes are not picked up" 60 churning

passes() { curl -fsS "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_key_watch_passes_total //p'; }
now_ms() { date +%s%3N; }
# answer_serial: ask once, verify the answer with openssl, print the serial of
# the responder certificate it carries
answer_serial() {
    curl -fsS -o ans.der --data-binary @good.req -H 'Content-Type: application/ocsp-request' \
        "$URL/" || return 1
    out=$(openssl ocsp -respin ans.der -CAfile cat/ca.crt -issuer cat/ca.crt \
        -serial "0x$GOOD" -no_nonce 2>&1)
    case "$out" in
    *"Response verify OK"*"0x$GOOD: good"*) ;;
    *) echo "answer not verified: $out" >&2; return 1 ;;
    esac
    openssl ocsp -respin ans.der -resp_text -noverify 2>/dev/null |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
        openssl x509 -noout -serial | cut -d= -f2
}
active_serial() { openssl x509 -in credentials/ocsp-cat/ocsp-cat.crt -noout -serial | cut -d= -f2; }

first=$(active_serial)
got=$(answer_serial) || fail "first answer"
expect_eq "answer before any rotation" "$got" "$first"

times=""
for round in 1 2 3 4; do
    out=$("$QPKI" credential rotate ocsp-cat --cred-dir credentials --ca-dir cat 2>&1) ||
        fail "rotate: $out"
    v=$(printf '%s\n' "$out" | sed -n 's/^Version \(v[0-9]*\) .*/\1/p')
    [ -n "$v" ] || fail "rotate printed no version: $out"
    old=$(active_serial)
    "$QPKI" credential activate ocsp-cat --version "$v" --cred-dir credentials >act.out 2>&1 ||
        fail "activate $v: $(cat act.out)"
    t0=$(now_ms)
    c0=$(passes)
    new=$(active_serial)
    [ "$new" != "$old" ] || fail "activate $v did not change the certificate"
    # the first answer from the new version, however soon (for the figure)
    while :; do
        s=$(answer_serial) || fail "round $round: a request failed"
        [ "$s" = "$new" ] && break
        [ "$s" = "$old" ] || fail "round $round: answer signed by $s, neither $old nor $new"
        [ $(($(now_ms) - t0)) -lt 30000 ] || fail "round $round: $v never answered"
    done
    t1=$(now_ms)
    # the guarantee: a whole pass after activate returned, only the new version
    two_passes() { [ "$(passes)" -ge $((c0 + 2)) ]; }
    wait_for "the key watcher made no pass" 30 two_passes
    for _ in 1 2 3; do
        s=$(answer_serial) || fail "round $round: a request failed"
        expect_eq "round $round ($v): answer after two passes" "$s" "$new"
    done
    times="$times $((t1 - t0))"
done
touch stop.flag
wait "$churn_pid" || true
gen=$(generation)
[ "$gen" -ge $((g0 + 5)) ] || fail "index.txt generation moved only from $g0 to $gen"
n=$(grep -c 'msg="responder key and certificate switched" ca=cat' main.log || true)
expect_eq "switches logged" "$n" "4"
! grep -q 'level=error' main.log || fail "errors logged: $(grep 'level=error' main.log | head -3)"
ok "4 Catalyst activations during index.txt churn (generation $g0 -> $gen): each answered by the new version once two key-watch passes followed activate; first new answer after (ms):$times"

"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
ok "stopped"
