#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/presign.sh - `qpki ocsp serve --presign`: every row of a CA with
# 2,000 extra rows is signed ahead of time; openssl (the independent client)
# then asks about serials nobody asked about before and gets answers served from
# the cache (no live signature; qpki_ocsp_cache_hits_total), which it verifies;
# a `qpki cert revoke` while serving is loaded within a second (the reload line of
# the server log) and answered revoked, and re-signed by the pre-signer, while
# the other serials stay pre-signed (no whole-cache flush, no mass re-signing).
. "$(dirname "$0")/lib.sh"

ROWS=2000
make_pki ca
# 2,000 more valid rows, as `openssl ca` writes them (random 16-octet serials)
/usr/bin/python3 - "$ROWS" >>ca/index.txt <<'EOF'
import os, sys
for i in range(int(sys.argv[1])):
    s = os.urandom(16).hex().upper()
    if s[0] in "89ABCDEF":
        s = "1" + s[1:]  # a positive serial without a leading 00
    print("V\t351231235959Z\t\t%s\tunknown\t/CN=row%d.example" % (s, i))
EOF
tail -n "$ROWS" ca/index.txt | cut -f4 >extra.serials
APORT=$(free_port)
start_server main --ca-dir ca --credential ocsp-ca --cred-dir credentials --validity 30m \
    --admin-addr "127.0.0.1:$APORT" --presign
ADMIN="http://127.0.0.1:$APORT"

metric() { # metric NAME: its value in /metrics
    curl -sf "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
passes_done() { [ "$(metric qpki_ocsp_presign_passes_total)" -ge 1 ]; }
wait_for "the first pre-signing pass did not finish" 120 passes_done

rows=$(curl -sf "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_rows{ca="[^"]*"} //p')
[ "$rows" -ge "$ROWS" ] || fail "only $rows rows loaded"
expect_eq "pre-signed responses" "$(metric qpki_ocsp_presigned_total)" "$rows"
expect_eq "cache entries" "$(metric qpki_ocsp_cache_entries)" "$rows"
expect_eq "live signatures" "$(metric qpki_ocsp_signatures_total)" 0
expect_eq "rows left to live signing" "$(metric qpki_ocsp_presign_skipped_full_total)" 0
grep -q 'pre-signing: first pass over every row done' main.log ||
    fail "no log line for the first pass"
ok "--presign: all $rows rows pre-signed, no request yet"

# serials nobody asked about: answered from the pre-signed responses
hits0=$(metric qpki_ocsp_cache_hits_total)
for s in $(shuf -n 20 extra.serials); do
    expect_eq "never-asked serial $s" "$(serial_status "$s")" "good"
done
expect_eq "live signatures after 20 new serials" "$(metric qpki_ocsp_signatures_total)" 0
hits1=$(metric qpki_ocsp_cache_hits_total)
expect_eq "cache hits for 20 new serials" "$((hits1 - hits0))" 20
# a revoked row was pre-signed revoked, with its reason
revoked=$(openssl x509 -in ca-revoked.crt -noout -serial | cut -d= -f2)
expect_eq "revoked row" "$(serial_status "$revoked")" "revoked"
reason=$(openssl ocsp -respin s.der -issuer ca/ca.crt -serial "0x$revoked" -CAfile ca/ca.crt \
    -no_nonce 2>/dev/null | sed -n 's/^[[:space:]]*Reason: //p')
expect_eq "its reason" "$reason" "keyCompromise"
expect_eq "still no live signature" "$(metric qpki_ocsp_signatures_total)" 0
ok "openssl: 20 never-asked serials answered good from pre-signed bytes (cache hits $hits0 -> $hits1), the revoked row revoked; signatures verified"

# ---- a revocation while serving ------------------------------------------------------
victim=$(shuf -n 1 extra.serials)
presigned0=$(metric qpki_ocsp_presigned_total)
"$QPKI" cert revoke --ca-dir ca --serial "$victim" --reason keyCompromise >/dev/null
t0=$(date +%s%3N)
# When the server took the change is its own log's word (the reload line's
# timestamp), not the time this client needs to ask on a loaded machine; once it
# has, the next answer must be revoked.
reloaded() { grep -q 'msg="status database reloaded: [0-9]* rows, generation 2" ca=ca' "$WORK/main.log"; }
wait_for "the revocation was not loaded" 30 reloaded
ts=$(sed -n 's/^ts=\([^ ]*\)Z level=info msg="status database reloaded: [0-9]* rows, generation 2" ca=ca$/\1/p' \
    "$WORK/main.log" | head -1)
answered=$(( $(date -u -d "$ts" +%s%3N) - t0 ))
expect_eq "the revoked serial, once the server has loaded the change" "$(serial_status "$victim")" revoked
[ "$answered" -le 1000 ] || fail "the revocation was loaded only ${answered} ms after cert revoke returned"
changed_done() { [ "$(metric qpki_ocsp_presign_changed_total)" -ge 1 ]; }
wait_for "the revoked row was not pre-signed again" 5 changed_done
sleep 1.1 # past the HTTP answer cache's second
sigs=$(metric qpki_ocsp_signatures_total)
expect_eq "revoked serial, pre-signed again" "$(serial_status "$victim")" "revoked"
expect_eq "no live signature for it now" "$(metric qpki_ocsp_signatures_total)" "$sigs"
# the others stay pre-signed: hits, no signature, nothing flushed or re-signed in bulk
hits2=$(metric qpki_ocsp_cache_hits_total)
for s in $(grep -v "^$victim\$" extra.serials | shuf -n 10); do
    expect_eq "other serial $s" "$(serial_status "$s")" "good"
done
expect_eq "no live signature for the others" "$(metric qpki_ocsp_signatures_total)" "$sigs"
expect_eq "the others are cache hits" "$(( $(metric qpki_ocsp_cache_hits_total) - hits2 ))" 10
expect_eq "whole-cache flushes" "$(metric qpki_ocsp_cache_flushes_total)" 0
expect_eq "invalidated entries" "$(metric qpki_ocsp_cache_invalidated_total)" 1
presigned1=$(metric qpki_ocsp_presigned_total)
[ $((presigned1 - presigned0)) -le 2 ] ||
    fail "a one-row change re-signed $((presigned1 - presigned0)) responses"
ok "qpki cert revoke while serving: loaded ${answered} ms after the command returned and answered revoked, pre-signed again ($presigned0 -> $presigned1 responses), the other serials still pre-signed"
