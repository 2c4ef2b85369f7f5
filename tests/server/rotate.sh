#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/rotate.sh - zero-downtime rotation (the guide's "Server Mode with
# Credentials"): while a client loop sends requests without pause (cached GETs
# and live-signed nonce POSTs, each response verified by openssl), `qpki
# credential rotate` + `activate` switch the server to the new responder key and
# certificate with no failed request; activating v1 again rolls back.
. "$(dirname "$0")/lib.sh"

make_pki ca
start_server main --ca-dir ca --credential ocsp-ca

openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -no_nonce -reqout good.req 2>/dev/null
openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -reqout nonce.req 2>/dev/null
G=$(b64 good.req)

# responder_serial RESPONSE: serial of the certificate carried in the response
responder_serial() {
    openssl ocsp -respin "$1" -resp_text -noverify 2>/dev/null |
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' |
        openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}

client_loop() {
    i=0
    while [ ! -e stop.flag ]; do
        i=$((i + 1))
        if [ $((i % 2)) -eq 0 ]; then
            curl -fsS -o "loop.der" --data-binary @nonce.req "$URL/" 2>loop.err
        else
            curl -fsS -o "loop.der" "$URL/$G" 2>loop.err
        fi
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "FAIL $i curl $rc $(cat loop.err)" >>results
            continue
        fi
        out=$(openssl ocsp -respin loop.der -CAfile ca/ca.crt -issuer ca/ca.crt \
            -cert ca-good.crt -no_nonce 2>&1)
        case "$out" in
        *"Response verify OK"*"ca-good.crt: good"*)
            echo "ok $i $(responder_serial loop.der)" >>results ;;
        *)
            cp loop.der "failed-$i.der"
            echo "FAIL $i $(printf '%s' "$out" | tr '\n' ' ')" >>results ;;
        esac
    done
}

# A second, fast client: one keep-alive connection, no pause; every answer must
# be HTTP 200 with responseStatus successful (30 82 LL LL 0a 01 00).
fast_loop() {
    /usr/bin/python3 - "$PORT" "$G" <<'PYEOF'
import http.client, sys, os
port, path = int(sys.argv[1]), "/" + sys.argv[2]
body = open("nonce.req", "rb").read()
ok = bad = 0
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
i = 0
while not os.path.exists("stop.flag"):
    i += 1
    try:
        if i % 2:
            conn.request("GET", path)
        else:
            conn.request("POST", "/", body, {"Content-Type": "application/ocsp-request"})
        r = conn.getresponse()
        data = r.read()
        if r.status == 200 and len(data) > 7 and data[4:7] == b"\x0a\x01\x00":
            ok += 1
        else:
            bad += 1
            print("bad", i, r.status, data[:8].hex(), file=sys.stderr)
    except Exception as e:
        bad += 1
        print("error", i, e, file=sys.stderr)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
open("fast.results", "w").write("%d %d\n" % (ok, bad))
PYEOF
}

old=$(openssl x509 -in credentials/ocsp-ca/ocsp-ca.crt -noout -serial | cut -d= -f2)
: >results
set +e
client_loop &
loop_pid=$!
fast_loop 2>fast.log &
fast_pid=$!
set -e
count_ok() { grep -c "^ok .* $1\$" results || true; }
has_old() { [ "$(count_ok "$old")" -ge 5 ]; }
wait_for "client loop does not get answers" 30 has_old

"$QPKI" credential rotate ocsp-ca --cred-dir credentials --ca-dir ca >rotate.out 2>&1 ||
    fail "rotate: $(cat rotate.out)"
"$QPKI" credential versions ocsp-ca --cred-dir credentials >versions.out 2>&1
expect_match "versions" "$(cat versions.out)" "v2"
# rotate alone does not change what is served
sleep 1.2
expect_eq "still the old responder" "$(tail -1 results | awk '{print $3}')" "$old"
"$QPKI" credential activate ocsp-ca --version v2 --cred-dir credentials >activate.out 2>&1 ||
    fail "activate: $(cat activate.out)"
new=$(openssl x509 -in credentials/ocsp-ca/ocsp-ca.crt -noout -serial | cut -d= -f2)
[ "$new" != "$old" ] || fail "activate did not change the certificate"
switched() { grep -q 'msg="responder key and certificate switched"' main.log; }
wait_for "server did not switch" 10 switched
has_new() { [ "$(count_ok "$new")" -ge 10 ]; }
wait_for "no answers from the new responder" 30 has_new

# roll back to v1
"$QPKI" credential activate ocsp-ca --version v1 --cred-dir credentials >rollback.out 2>&1 ||
    fail "rollback: $(cat rollback.out)"
back() { [ "$(grep -c 'msg="responder key and certificate switched"' main.log)" -ge 2 ]; }
wait_for "server did not switch back" 10 back
n_before=$(count_ok "$old")
more_old() { [ "$(count_ok "$old")" -ge $((n_before + 10)) ]; }
wait_for "no answers from the old responder after rollback" 30 more_old

touch stop.flag
wait "$loop_pid" || true
wait "$fast_pid" || true
read fast_ok fast_bad <fast.results || fail "fast client gave no result: $(cat fast.log)"
[ "$fast_bad" -eq 0 ] || fail "fast client: $fast_bad failed requests: $(head -3 fast.log)"
[ "$fast_ok" -ge 100 ] || fail "fast client made only $fast_ok requests"

total=$(wc -l <results)
fails=$(grep -c '^FAIL' results || true)
[ "$fails" -eq 0 ] || fail "$fails of $total requests failed: $(grep '^FAIL' results | head -3)"
# after each switch the answers come from the new key only (the cache was
# invalidated): the sequence of responder serials changes exactly twice
changes=$(awk '{print $3}' results | uniq | wc -l)
expect_eq "responder sequence old -> new -> old" "$changes" "3"
line=$(grep 'msg="responder key and certificate switched"' main.log | head -1)
expect_match "switch log" "$line" "ca=ca subject=\"CN=ocsp.ca.example\" serial=$new previous_serial=$old"
ok "rotate + activate under load: $total verified + $fast_ok fast requests, 0 failed; switched to $new and back to $old"

"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
ok "stopped"
