#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cluster/presign.sh - `qpki ocsp serve --db ... --presign` on a real
# PostgreSQL 15: the node lists the rows it holds in memory (the plugin's
# list_serials, QPKI_DB_ABI_V4) and pre-signs every one before any request;
# openssl (the independent client) then asks about serials nobody asked about
# before and gets answers from pre-signed bytes (no live signature; cache hits),
# which it verifies; a `qpki cert revoke --db` is answered revoked within 2 s
# and re-signed by the pre-signer, while the other serials stay pre-signed.
#
# usage: presign.sh QPKI PLUGIN_DIR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../server/lib.sh"
. "$here/lib.sh"
use_plugin_dir "${2:?usage: $0 QPKI PLUGIN_DIR}"

ROWS=3000
pg_init p
pg_start p
pg_qpki_db p
WRITER=$(pg_url p ca_writer)
NODE=$(pg_url p ocsp_node)

make_pki ca
# 3,000 more rows as `openssl ca` writes them (random 16-octet serials), every
# tenth revoked superseded
python3 - "$ROWS" >>ca/index.txt <<'EOF'
import os, sys
for i in range(int(sys.argv[1])):
    s = os.urandom(16).hex().upper()
    if s[0] in "89ABCDEF":
        s = "1" + s[1:]  # a positive serial without a leading 00
    if i % 10 == 0:
        print("R\t351231235959Z\t250101000000Z,superseded\t%s\tunknown\t/CN=row%d.example" % (s, i))
    else:
        print("V\t351231235959Z\t\t%s\tunknown\t/CN=row%d.example" % (s, i))
EOF
tail -n "$ROWS" ca/index.txt | awk -F'\t' '$1 == "V" {print $4}' >good.serials
tail -n "$ROWS" ca/index.txt | awk -F'\t' '$1 == "R" {print $4}' >revoked.serials
total=$(grep -c . ca/index.txt)
out=$("$QPKI" db import --db "$WRITER" --ca-dir ca)
expect_match "import" "$out" "^Imported $total rows .*: $total inserted, 0 updated, 0 unchanged$"
# index.txt is not what the node reads: empty it, so that only the database
# can be the source of what is pre-signed
: >ca/index.txt

APORT=$(free_port)
start_server node --ca-dir ca --credential ocsp-ca --cred-dir credentials --validity 30m \
    --db "$NODE" --db-poll 500ms --admin-addr "127.0.0.1:$APORT" --presign
ADMIN="http://127.0.0.1:$APORT"

metric() { # metric NAME: its value in /metrics (the first series of that name)
    curl -sf "$ADMIN/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { print $2; exit }'
}
passes_done() { [ "$(metric qpki_ocsp_presign_passes_total)" -ge 1 ]; }
wait_for "the first pre-signing pass did not finish" 120 passes_done

expect_eq "rows held by the node" "$(metric qpki_ocsp_db_rows)" "$total"
expect_eq "pre-signed responses" "$(metric qpki_ocsp_presigned_total)" "$total"
expect_eq "cache entries" "$(metric qpki_ocsp_cache_entries)" "$total"
expect_eq "live signatures" "$(metric qpki_ocsp_signatures_total)" 0
expect_eq "rows left to live signing" "$(metric qpki_ocsp_presign_skipped_full_total)" 0
expect_eq "pre-signing failures" "$(metric qpki_ocsp_presign_failures_total)" 0
grep -q 'pre-signing: first pass over every row done' node.log ||
    fail "no log line for the first pass"
if grep -q 'cannot list its rows' node.log; then fail "the node says it cannot list its rows"; fi
ok "--db --presign: all $total rows of the PostgreSQL node pre-signed, no request yet"

# serials nobody asked about: answered from the pre-signed responses
hits0=$(metric qpki_ocsp_cache_hits_total)
for s in $(shuf -n 20 good.serials); do
    expect_eq "never-asked serial $s" "$(serial_status "$s")" "good"
done
for s in $(shuf -n 5 revoked.serials); do
    expect_eq "never-asked revoked serial $s" "$(serial_status "$s")" "revoked"
    reason=$(openssl ocsp -respin s.der -issuer ca/ca.crt -serial "0x$s" -CAfile ca/ca.crt \
        -no_nonce 2>/dev/null | sed -n 's/^[[:space:]]*Reason: //p')
    expect_eq "its reason" "$reason" "superseded"
done
expect_eq "live signatures after 25 new serials" "$(metric qpki_ocsp_signatures_total)" 0
hits1=$(metric qpki_ocsp_cache_hits_total)
expect_eq "cache hits for 25 new serials" "$((hits1 - hits0))" 25
# a serial the database does not hold is not pre-signed: signed live
expect_eq "unknown serial" "$(serial_status 0DEADBEEF01)" "unknown"
expect_eq "one live signature for it" "$(metric qpki_ocsp_signatures_total)" 1
ok "openssl: 20 good and 5 revoked (superseded) never-asked serials answered from pre-signed bytes (cache hits $hits0 -> $hits1, 0 live signatures), an unknown serial signed live; signatures verified"

# ---- a revocation through the database while serving -------------------------------------
victim=$(shuf -n 1 good.serials)
presigned0=$(metric qpki_ocsp_presigned_total)
"$QPKI" cert revoke --ca-dir ca --serial "$victim" --reason keyCompromise --db "$WRITER" >/dev/null
t0=$(date +%s%N)
answered=""
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ]; do
    if [ "$(serial_status "$victim")" = revoked ]; then
        answered=$(( ($(date +%s%N) - t0) / 1000000 ))
        break
    fi
    sleep 0.05
done
[ -n "$answered" ] || fail "the revoked serial was not answered revoked within 10 s"
[ "$answered" -le 2000 ] || fail "the revoked serial was answered revoked only after ${answered} ms"
changed_done() { [ "$(metric qpki_ocsp_presign_changed_total)" -ge 1 ]; }
wait_for "the revoked row was not pre-signed again" 5 changed_done
sleep 1.1 # past the HTTP answer cache's second
sigs=$(metric qpki_ocsp_signatures_total)
expect_eq "revoked serial, pre-signed again" "$(serial_status "$victim")" "revoked"
reason=$(openssl ocsp -respin s.der -issuer ca/ca.crt -serial "0x$victim" -CAfile ca/ca.crt \
    -no_nonce 2>/dev/null | sed -n 's/^[[:space:]]*Reason: //p')
expect_eq "its reason" "$reason" "keyCompromise"
expect_eq "no live signature for it now" "$(metric qpki_ocsp_signatures_total)" "$sigs"
# the others stay pre-signed: hits, no signature, nothing flushed or re-signed in bulk
hits2=$(metric qpki_ocsp_cache_hits_total)
for s in $(grep -v "^$victim\$" good.serials | shuf -n 10); do
    expect_eq "other serial $s" "$(serial_status "$s")" "good"
done
expect_eq "no live signature for the others" "$(metric qpki_ocsp_signatures_total)" "$sigs"
expect_eq "the others are cache hits" "$(( $(metric qpki_ocsp_cache_hits_total) - hits2 ))" 10
expect_eq "whole-cache flushes" "$(metric qpki_ocsp_cache_flushes_total)" 0
presigned1=$(metric qpki_ocsp_presigned_total)
[ $((presigned1 - presigned0)) -ge 1 ] && [ $((presigned1 - presigned0)) -le 2 ] ||
    fail "a one-row change re-signed $((presigned1 - presigned0)) responses"
ok "qpki cert revoke --db while serving: answered revoked (keyCompromise) after ${answered} ms, pre-signed again ($presigned0 -> $presigned1 responses), the other serials still pre-signed"
