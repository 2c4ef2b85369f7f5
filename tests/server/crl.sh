#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/crl.sh - `qpki ocsp serve --crl`: a CA that publishes only CRLs
# (made by `openssl ca -gencrl`, served over HTTP by `python3 -m http.server`
# started here) answered over OCSP, every answer checked by `openssl ocsp`:
#   - reasons, certificateHold with its hold instruction, invalidity dates (the
#     CRL entry extensions carried into the answer), a serial on no CRL = good;
#   - a delta CRL (RFC 5280 §5.2.4): a revocation after the base, and
#     removeFromCRL for a certificate released from hold;
#   - a new CRL picked up within the refresh interval (the server's log time of
#     loading it at most --crl-refresh + 0.5 s after its publication); conditional GETs (304);
#   - a CRL with a bad signature, one from another CA and one with an older
#     number: refused (log line, qpki_crl_refused_total), the previous one kept;
#   - past nextUpdate: tryLater (and /healthz 503), back to answers with a new CRL;
#   - --crl-unknown-as unknown with --issued; --crl-max-size;
#   - a partitioned CRL (two --crl, issuingDistributionPoint) both used; each
#     CRL's thisUpdate, nextUpdate and age in /healthz and /metrics;
#   - round trip: a CRL made by `qpki crl gen` answers exactly as the responder
#     answers from the CA's index.txt (status, time, reason, hold, invalidity);
#   - --publish-crl: the CA's CRL at a URL path (headers, 304, remade on a
#     revocation, no sooner than --crl-min-interval), checked by openssl and Python;
#   - the response cache on: a CRL revoking one serial drops that serial's
#     answers only (log field cache=, qpki_ocsp_cache_invalidated_total, no flush).
TESTS=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

# python's http.server answers If-Modified-Since by the file's mtime in whole
# seconds: each published file gets a later mtime than the one before it.
STAMP=$(( $(date +%s) + 100 ))
stamp() {
    STAMP=$((STAMP + 1))
    touch -d "@$STAMP" "$1"
}

# ---- an OpenSSL CA ------------------------------------------------------------------
mkdir -p ossl/newcerts pub
cd ossl
: > index.txt
echo 01 > serial
echo 10 > crlnumber
cat > ca.cnf <<'EOF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 7
policy = policy_any
unique_subject = no
crl_extensions = crl_ext
[ policy_any ]
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
q() { "$@" >/dev/null 2>&1 || fail "$*"; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.crt -subj "/CN=CRL-only CA" -days 3650 -config ca.cnf -extensions v3_ca
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
    -out leaf.csr -subj "/CN=leaf"
for i in 1 2 3 4 5 6 7 8; do
    q openssl ca -batch -config ca.cnf -notext -in leaf.csr -out "c$i.pem"
done
q openssl ca -config ca.cnf -revoke c1.pem -crl_reason keyCompromise
q openssl ca -config ca.cnf -revoke c2.pem -crl_hold holdInstructionCallIssuer
q openssl ca -config ca.cnf -revoke c3.pem -crl_compromise 20260101120000Z
q openssl ca -config ca.cnf -revoke c4.pem -crl_reason superseded
# complete CRL (number 10); gencrl FILE [options]: DER, published by rename
gencrl() {
    out=$1
    shift
    q openssl ca -config ca.cnf -gencrl -out gen.pem "$@"
    openssl crl -in gen.pem -outform DER -out "../pub/$out.tmp" && stamp "../pub/$out.tmp" &&
        PUBLISHED=$(date +%s.%N) && mv "../pub/$out.tmp" "../pub/$out"
}
# a delta CRL against the complete CRL numbered $1
gendelta() {
    printf '[ delta_ext ]\nauthorityKeyIdentifier = keyid\ndeltaCRL = critical, ASN1:INTEGER:%d\n' \
        "$1" > delta.cnf
    cat ca.cnf delta.cnf > ca-delta.cnf
    shift
    q openssl ca -config ca-delta.cnf -gencrl -crlexts delta_ext -out gen.pem "$@"
    openssl crl -in gen.pem -outform DER -out ../pub/delta.crl.tmp && stamp ../pub/delta.crl.tmp &&
        PUBLISHED=$(date +%s.%N) && mv ../pub/delta.crl.tmp ../pub/delta.crl
}
gencrl full.crl                  # number 0x10
cp ../pub/full.crl ../full-10.crl
q openssl ca -config ca.cnf -revoke c5.pem -crl_reason cessationOfOperation
gendelta 16                      # number 0x11, base 0x10: c5 revoked
cd ..
# picked_up WHAT PATTERN: the server's log line PATTERN (a CRL loaded) came at
# most --crl-refresh (1 s) + 0.5 s after the last publication began (PUBLISHED,
# taken before the rename).  The 0.5 s slack: the refresher wakes once a second
# and then fetches every source in turn; the times are the server's own log
# times, so a slow test machine does not make the check pass or fail by itself
# (only a server slower than that to fetch and load a few-hundred-octet CRL).
picked_up() {
    wait_for "$1" 10 grep -q "$2" "$WORK/crl.log"
    ts=$(grep "$2" "$WORK/crl.log" | head -1 | sed 's/^ts=\([^ ]*\) .*/\1/')
    /usr/bin/python3 - "$PUBLISHED" "$(date -u -d "$ts" +%s.%N)" "$1" <<'PY' || exit 1
import sys
published, loaded, what = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
d = loaded - published
print(f"  {what}: loaded {d:.3f} s after its publication began")
if not 0 <= d <= 1.5:
    sys.exit(f"FAIL: {what}: {d:.3f} s, not within --crl-refresh 1s + 0.5 s")
PY
}
serial_of() { openssl x509 -in "ossl/$1.pem" -noout -serial | cut -d= -f2; }

HTTP_PORT=$(free_port)
/usr/bin/python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory pub >"$WORK/http.log" 2>&1 &
HTTP_PID=$!
SERVER_PIDS="$SERVER_PIDS $HTTP_PID"
wait_for "the HTTP server" 10 curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/full.crl"
CRL_URL="http://127.0.0.1:$HTTP_PORT"

# The CA directory of the responder: ca.crt and ca.key only (no index.txt).
mkdir -p cadir && cp ossl/ca.crt ossl/ca.key cadir/
ADMIN_PORT=$(free_port)
start_server crl --ca-dir cadir --crl "$CRL_URL/full.crl" --delta-crl "$CRL_URL/delta.crl" \
    --crl-refresh 1s --admin-addr "127.0.0.1:$ADMIN_PORT" --cache-size 0
ADMIN="http://127.0.0.1:$ADMIN_PORT"

# status SERIAL-OF-CERT: the openssl ocsp text for it (verified against the CA)
status() { ocsp_status "ossl/$1.pem" ossl/ca.crt -no_nonce -resp_text || true; }
out=$(status c1)
expect_match "keyCompromise" "$out" "c1.pem: revoked"
expect_match "... reason" "$out" "Reason: keyCompromise"
expect_match "... verified by openssl" "$out" "Response verify OK"
out=$(status c2)
expect_match "certificateHold" "$out" "Reason: certificateHold"
expect_match "... with its hold instruction" "$out" "Hold Instruction Call Issuer"
out=$(status c3)
expect_match "-crl_compromise: keyCompromise" "$out" "Reason: keyCompromise"
expect_match "... with the invalidity date" "$out" "Invalidity Date"
expect_match "... of -crl_compromise" "$out" "Jan  1 12:00:00 2026 GMT"
expect_match "superseded" "$(status c4)" "Reason: superseded"
expect_match "revoked in the delta CRL" "$(status c5)" "Reason: cessationOfOperation"
expect_match "on no CRL: good" "$(status c6)" "c6.pem: good"
out=$(openssl ocsp -issuer ossl/ca.crt -serial 0x7777 -url "$URL" -CAfile ossl/ca.crt -no_nonce 2>&1)
expect_match "a serial never issued: good (a CRL cannot tell)" "$out" "0x7777: good"
ok "openssl ocsp: reasons, hold instruction, invalidity date, delta, good"

health=$(curl -s "$ADMIN/healthz")
expect_match "/healthz lists the complete CRL" "$health" "crl ca=cadir source=$CRL_URL/full.crl kind=complete state=ok number=10 "
expect_match "/healthz lists the delta CRL" "$health" "kind=delta state=ok number=11 "
metrics=$(curl -s "$ADMIN/metrics")
expect_match "/metrics: qpki_crl_number" "$metrics" "qpki_crl_number\{ca=\"cadir\",source=\"$CRL_URL/full.crl\"\} 16"
expect_match "/metrics: qpki_crl_entries" "$metrics" "qpki_crl_entries\{ca=\"cadir\",source=\"$CRL_URL/delta.crl\"\} 5"
expect_match "/metrics: qpki_crl_stale" "$metrics" "qpki_crl_stale\{ca=\"cadir\"\} 0"
ok "/healthz and /metrics per CRL"
# the unchanged files come back as 304 (python's http.server honours If-Modified-Since)
wait_for "a conditional GET answered 304" 5 sh -c \
    "curl -s '$ADMIN/metrics' | grep -Eq 'qpki_crl_not_modified_total\{ca=\"cadir\",source=\"$CRL_URL/full.crl\"\} [1-9]'"
grep -q '"GET /full.crl HTTP/1.1" 304' "$WORK/http.log" || fail "no 304 in the HTTP server's log"
ok "If-Modified-Since: 304 Not Modified"

# ---- a new CRL is picked up within the refresh interval; the delta removes from hold
cd ossl
q openssl ca -config ca.cnf -revoke c6.pem -crl_reason affiliationChanged
# c2 released from hold: OpenSSL cannot write that itself; its index row says
# removeFromCRL, which `openssl ca -gencrl` turns into a removeFromCRL entry
sed -i "s/^R\(\t[0-9Z]*\t[0-9Z]*\),holdInstruction,holdInstructionCallIssuer\t/R\1,removeFromCRL\t/" index.txt
grep -q ",removeFromCRL" index.txt || fail "index.txt not edited"
gendelta 16                      # number 0x12, base 0x10: c5, c6 revoked; c2 removed
cd ..
picked_up "the delta CRL 12" 'msg="delta CRL loaded" .*number=12 '
expect_match "revoked in the new delta" "$(status c6)" "c6.pem: revoked"
expect_match "removeFromCRL in the delta: good again" "$(status c2)" "c2.pem: good"
expect_match "... the base's entries stay" "$(status c1)" "Reason: keyCompromise"
ok "a new delta CRL within the 1 s refresh: revoked after the base, removeFromCRL"

refused() {
    curl -s "$ADMIN/metrics" | sed -n "s|^qpki_crl_refused_total{ca=\"cadir\",source=\"$CRL_URL/full.crl\"} ||p"
}
# ---- refused CRLs: the previous one stays in use
cd ossl && gencrl full.crl && cd .. # number 0x13: c1..c6 revoked, c2 with removeFromCRL
picked_up "the complete CRL 13" 'msg="CRL loaded" .*number=13 '
expect_match "... in /healthz" "$(curl -s "$ADMIN/healthz")" "kind=complete state=ok number=13 "
before=$(refused)
# (1) a bad signature: the last byte of the ECDSA signature changed
cd ossl && q openssl ca -config ca.cnf -gencrl -out gen.pem && cd ..
openssl crl -in ossl/gen.pem -outform DER -out bad.crl
/usr/bin/python3 -c "import sys; d=bytearray(open('bad.crl','rb').read()); d[-1]^=1; open('pub/full.crl.tmp','wb').write(d)"
stamp pub/full.crl.tmp && mv pub/full.crl.tmp pub/full.crl
wait_for "the CRL with a bad signature refused" 5 sh -c "grep -q 'msg=\"CRL refused\".*signature does not verify.*action=\"previous CRL kept\"' '$WORK/crl.log'"
expect_eq "refused_total after a bad signature" "$(refused)" "$((before + 1))"
expect_match "... number 13 still in use" "$(curl -s "$ADMIN/healthz")" "kind=complete state=ok number=13 "
# the source keeps serving it (304 to the next refreshes): still said refused
sleep 2.5
expect_match "... /healthz still names the refusal after 304s" "$(curl -s "$ADMIN/healthz")" \
    "number=13 .*last_error=refused: .*signature does not verify"
# (2) a CRL of another CA
mkdir -p other && cd other
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.crt -subj "/CN=Another CA" -days 3650
: > index.txt && echo 99 > crlnumber
sed -e 's/^crl_extensions = crl_ext$//' ../ossl/ca.cnf > ca.cnf
q openssl ca -config ca.cnf -gencrl -out other.pem
openssl crl -in other.pem -outform DER -out ../pub/full.crl.tmp && stamp ../pub/full.crl.tmp &&
    mv ../pub/full.crl.tmp ../pub/full.crl
cd ..
wait_for "another CA's CRL refused" 5 sh -c "grep -q 'msg=\"CRL refused\".*another CA' '$WORK/crl.log'"
expect_eq "refused_total after another CA's CRL" "$(refused)" "$((before + 2))"
# (3) an older CRL number (the first complete CRL, number 0x10)
cp full-10.crl pub/full.crl.tmp && stamp pub/full.crl.tmp && mv pub/full.crl.tmp pub/full.crl
wait_for "the older CRL refused" 5 sh -c "grep -q 'msg=\"CRL refused\".*CRL number 10 is not above 13' '$WORK/crl.log'"
expect_eq "refused_total after an older number" "$(refused)" "$((before + 3))"
expect_match "answers from CRL 13 still" "$(status c6)" "Reason: affiliationChanged"
# OpenSSL wrote c2's removeFromCRL row into the complete CRL as an entry: kept
# as a revocation with that reason, as the index-based responder answers it
expect_match "... c2: removeFromCRL in a complete CRL" "$(status c2)" "Reason: removeFromCRL"
ok "bad signature, another CA, older number: refused, the previous CRL kept"

# ---- past nextUpdate: tryLater; a new CRL: answers again
now=$(date -u +%s)
next=$(date -u -d "@$((now + 4))" +%Y%m%d%H%M%SZ)
cd ossl && gencrl full.crl -crl_nextupdate "$next" && cd .. # number 0x15 (0x14 was the bad one)
wait_for "the short-lived CRL 15" 5 sh -c "curl -s '$ADMIN/healthz' | grep -q 'kind=complete state=ok number=15'"
expect_match "answers before its nextUpdate" "$(status c6)" "c6.pem: revoked"
wait_for "tryLater past nextUpdate" 10 sh -c "openssl ocsp -issuer ossl/ca.crt -cert ossl/c7.pem -url '$URL' -CAfile ossl/ca.crt -no_nonce 2>&1 | grep -q 'trylater'"
out=$(status c1)
expect_match "a revoked serial: tryLater too (never an answer from an expired CRL)" "$out" "Responder Error: trylater"
code=$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/healthz")
expect_eq "/healthz while stale" "$code" "503"
expect_match "/healthz says which" "$(curl -s "$ADMIN/healthz")" "kind=complete state=stale number=15 "
expect_match "qpki_crl_stale 1" "$(curl -s "$ADMIN/metrics")" "qpki_crl_stale\{ca=\"cadir\"\} 1"
cd ossl && gencrl full.crl && cd ..
wait_for "answers again with a new CRL" 10 sh -c "openssl ocsp -issuer ossl/ca.crt -cert ossl/c7.pem -url '$URL' -CAfile ossl/ca.crt -no_nonce 2>&1 | grep -q 'c7.pem: good'"
expect_eq "/healthz back to 200" "$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/healthz")" "200"
ok "past nextUpdate: tryLater and 503; a new CRL: answers and 200"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true

# ---- --crl-unknown-as unknown with --issued; --crl-max-size
for c in c1 c6 c7 c8; do serial_of "$c"; done > issued.txt
echo "# a comment" >> issued.txt
start_server issued --ca-dir cadir --crl pub/full.crl --crl-unknown-as unknown --issued issued.txt
out=$(openssl ocsp -issuer ossl/ca.crt -serial 0x7777 -url "$URL" -CAfile ossl/ca.crt -no_nonce 2>&1)
expect_match "never issued: unknown" "$out" "0x7777: unknown"
expect_match "issued, on no CRL: good" "$(status c8)" "c8.pem: good"
expect_match "issued and revoked: revoked" "$(status c1)" "c1.pem: revoked"
expect_match "revoked, not in the list: revoked (the CRL wins)" "$(status c3)" "c3.pem: revoked"
echo 7777 >> issued.txt
wait_for "the issued list reloaded" 5 sh -c "openssl ocsp -issuer ossl/ca.crt -serial 0x7777 -url '$URL' -CAfile ossl/ca.crt -no_nonce 2>&1 | grep -q '0x7777: good'"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "--crl-unknown-as unknown --issued"
# the same from the configuration file
cat > serve.yaml <<EOF
crl_refresh: 1s
crl_unknown_as: unknown
cas:
  - dir: cadir
    crl:
      - pub/full.crl
    issued: issued.txt
EOF
start_server yaml --config serve.yaml
expect_match "YAML: never issued: unknown" "$(openssl ocsp -issuer ossl/ca.crt -serial 0x7778 -url "$URL" -CAfile ossl/ca.crt -no_nonce 2>&1)" "0x7778: unknown"
expect_match "YAML: revoked" "$(status c1)" "Reason: keyCompromise"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "crl, crl_refresh, crl_unknown_as, issued in the configuration file"
# (each bounded in time: a server that wrongly starts is stopped, and fails)
size=$(stat -c %s pub/full.crl)
rc=0
timeout 30 "$QPKI" ocsp serve --addr "127.0.0.1:$(free_port)" --pid-file "$WORK/x.pid" --ca-dir cadir \
    --crl "$CRL_URL/full.crl" --crl-max-size $((size - 1)) >x.log 2>&1 || rc=$?
expect_eq "a CRL above --crl-max-size: no start" "$rc" "2"
grep -q "larger than --crl-max-size" x.log || fail "no size message: $(cat x.log)"
rc=0
timeout 30 "$QPKI" ocsp serve --addr "127.0.0.1:$(free_port)" --pid-file "$WORK/x.pid" --ca-dir cadir \
    --crl other/other.pem >x.log 2>&1 || rc=$?
expect_eq "another CA's CRL at start: no start" "$rc" "2"
grep -q "issued by another CA" x.log || fail "no issuer message: $(cat x.log)"
rc=0
timeout 30 "$QPKI" ocsp serve --ca-dir cadir --issued issued.txt --crl pub/full.crl >x.log 2>&1 || rc=$?
expect_eq "--issued without --crl-unknown-as unknown" "$rc" "2"
ok "--crl-max-size, another CA at start, option checks"

# ---- a partitioned CRL: two --crl for one CA (issuingDistributionPoint), each
# listing part of the revoked serials, both used; /healthz and /metrics give
# each one's thisUpdate, nextUpdate and age
now=$(date -u +%s)
last=$(date -u -d "@$((now - 3600))" +%Y%m%d%H%M%SZ)
s7=$(serial_of c7)
s8=$(serial_of c8)
cd ossl
for p in 1 2; do
    sed -e "s|^database = .*|database = \$dir/part$p.txt|" -e "s|^crlnumber = .*|crlnumber = \$dir/part$p.num|" \
        -e "s|^crl_extensions = crl_ext$|crl_extensions = crl_part|" ca.cnf > part$p.cnf
    printf '[ crl_part ]\nauthorityKeyIdentifier = keyid\nissuingDistributionPoint = critical, @idp\n[ idp ]\nfullname = URI:http://crl.example/part%s.crl\n' \
        "$p" >> part$p.cnf
    echo 0$p > part$p.num
done
# partition 1 lists c7 (keyCompromise), partition 2 lists c8 (superseded)
row() { printf 'R\t351231000000Z\t%s,%s\t%s\tunknown\t/CN=leaf\n' "$(date -u -d "@$((now - 7200))" +%y%m%d%H%M%SZ)" "$2" "$1"; }
row "$s7" keyCompromise > part1.txt
row "$s8" superseded > part2.txt
for p in 1 2; do
    q openssl ca -config part$p.cnf -gencrl -crl_lastupdate "$last" \
        -crl_nextupdate "$(date -u -d "@$((now + (p + 1) * 86400))" +%Y%m%d%H%M%SZ)" -out part$p.pem
done
cd ..
openssl crl -in ossl/part1.pem -noout -text | grep -q "URI:http://crl.example/part1.crl" ||
    fail "no issuingDistributionPoint in partition 1"
ADMIN_PORT=$(free_port)
start_server part --ca-dir cadir --crl ossl/part1.pem --crl ossl/part2.pem --admin-addr "127.0.0.1:$ADMIN_PORT"
ADMIN_PART="http://127.0.0.1:$ADMIN_PORT"
out=$(status c7)
expect_match "partition 1: c7 revoked" "$out" "c7.pem: revoked"
expect_match "... keyCompromise" "$out" "Reason: keyCompromise"
out=$(status c8)
expect_match "partition 2: c8 revoked" "$out" "c8.pem: revoked"
expect_match "... superseded" "$out" "Reason: superseded"
expect_match "on neither partition: good" "$(status c1)" "c1.pem: good"
t0=$(date -u +%s)
health=$(curl -s "$ADMIN_PART/healthz")
metrics=$(curl -s "$ADMIN_PART/metrics")
t1=$(date -u +%s)
for p in 1 2; do
    this=$(date -u -d "$(openssl crl -in ossl/part$p.pem -noout -lastupdate | cut -d= -f2)" +%s)
    next=$(date -u -d "$(openssl crl -in ossl/part$p.pem -noout -nextupdate | cut -d= -f2)" +%s)
    expect_eq "partition $p: thisUpdate 1 h ago" "$this" "$((now - 3600))"
    expect_eq "partition $p: nextUpdate $((p + 1)) days after now" "$next" "$((now + (p + 1) * 86400))"
    line=$(printf '%s\n' "$health" | grep "^crl ca=cadir source=ossl/part$p.pem ")
    expect_match "/healthz partition $p: number, thisUpdate, nextUpdate" "$line" \
        "kind=complete state=ok number=0$p this_update=$(date -u -d "@$this" +%Y-%m-%dT%H:%M:%SZ) next_update=$(date -u -d "@$next" +%Y-%m-%dT%H:%M:%SZ) age=[0-9]+s entries=1$"
    age=$(printf '%s\n' "$line" | sed 's/.* age=\([0-9]*\)s .*/\1/')
    [ "$age" -ge $((t0 - this)) ] && [ "$age" -le $((t1 - this)) ] ||
        fail "/healthz partition $p: age=${age}s, not between $((t0 - this)) and $((t1 - this))"
    m() { printf '%s\n' "$metrics" | sed -n "s|^$1{ca=\"cadir\",source=\"ossl/part$p.pem\"} ||p"; }
    expect_eq "/metrics partition $p: qpki_crl_this_update_seconds" "$(m qpki_crl_this_update_seconds)" "$this"
    expect_eq "/metrics partition $p: qpki_crl_next_update_seconds" "$(m qpki_crl_next_update_seconds)" "$next"
    age=$(m qpki_crl_age_seconds)
    [ "$age" -ge $((t0 - this)) ] && [ "$age" -le $((t1 - this)) ] ||
        fail "/metrics partition $p: qpki_crl_age_seconds $age, not between $((t0 - this)) and $((t1 - this))"
    expect_eq "/metrics partition $p: qpki_crl_number" "$(m qpki_crl_number)" "$p"
done
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "a partitioned CRL: both partitions used; /healthz and /metrics: thisUpdate, nextUpdate, age of each"

# ---- round trip: qpki crl gen, fed back, answers as index.txt does
"$QPKI" ca init --ca-dir rt --var cn="Round Trip CA" >/dev/null
"$QPKI" key gen --out rt.key >/dev/null 2>&1
"$QPKI" csr create --key rt.key --cn rt.example --out rt.csr >/dev/null 2>&1
for i in 1 2 3 4 5 6; do
    "$QPKI" cert issue --ca-dir rt --profile ec/tls-server --csr rt.csr --out "rt$i.crt" >/dev/null 2>&1
done
rts() { openssl x509 -in "rt$1.crt" -noout -serial | cut -d= -f2; }
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 1)" --reason keyCompromise >/dev/null
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 2)" --reason certificateHold >/dev/null
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 3)" >/dev/null
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 4)" --reason unspecified >/dev/null
/usr/bin/python3 - rt/index.txt "$(rts 2)" "$(rts 5)" <<'EOF'
import sys
path, hold, compromise = sys.argv[1:]
lines = open(path).read().splitlines()
for i, l in enumerate(lines):
    f = l.split("\t")
    if f[3] == hold:
        f[2] = f[2].split(",")[0] + ",holdInstruction,holdInstructionReject"
    if f[3] == compromise:
        f[0], f[2] = "R", "260301120000Z,keyTime,20260215000000Z"
    lines[i] = "\t".join(f)
open(path, "w").write("\n".join(lines) + "\n")
EOF
"$QPKI" crl gen --ca-dir rt --out rt.crl >/dev/null 2>&1 || fail "crl gen"
start_server rt-index --ca-dir rt --cache-size 0
URL_INDEX=$URL
PID_INDEX=$PIDFILE
start_server rt-crl --ca-dir rt --crl rt.crl --cache-size 0
URL_CRL=$URL
# openssl's text without the times that differ between two answers
answer() {
    openssl ocsp -issuer rt/ca.crt -cert "rt$2.crt" -url "$1" -CAfile rt/ca.crt -no_nonce \
        -resp_text 2>&1 | grep -Ev 'Produced At|This Update|Next Update|^ +[0-9a-f]{2}:|Signature' |
        sed -n '/Responses:/,$p'
}
for i in 1 2 3 4 5 6; do
    a=$(answer "$URL_INDEX" "$i")
    b=$(answer "$URL_CRL" "$i")
    [ -n "$a" ] || fail "no answer for rt$i"
    [ "$a" = "$b" ] || fail "rt$i: from index.txt:
$a
from the CRL:
$b"
done
expect_match "the round trip covers a hold instruction" "$(answer "$URL_CRL" 2)" "Hold Instruction Reject"
expect_match "... and an invalidity date" "$(answer "$URL_CRL" 5)" "Invalidity Date"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
"$QPKI" ocsp stop --pid-file "$PID_INDEX" >/dev/null 2>&1 || true
ok "round trip: qpki crl gen fed back answers as index.txt does (6 certificates)"
# ---- --publish-crl: the CA's own CRL over HTTP (the round-trip CA, index.txt)
start_server pub --ca-dir rt --publish-crl /crl/rt.crl --crl-min-interval 4s \
    --publish-crl-validity 2d
curl -s -D pub.h -o pub1.crl "$URL/crl/rt.crl" || fail "GET /crl/rt.crl"
tr -d '\r' < pub.h > pub.headers
expect_match "Content-Type application/pkix-crl" "$(cat pub.headers)" "^Content-Type: application/pkix-crl$"
openssl crl -inform DER -in pub1.crl -CAfile rt/ca.crt -noout >pub.txt 2>&1 || true
expect_match "openssl: verify OK" "$(cat pub.txt)" "^verify OK"
last=$(openssl crl -inform DER -in pub1.crl -noout -lastupdate | cut -d= -f2)
next=$(openssl crl -inform DER -in pub1.crl -noout -nextupdate | cut -d= -f2)
expect_eq "Last-Modified = thisUpdate" "$(sed -n 's/^Last-Modified: //p' pub.headers)" \
    "$(date -u -d "$last" '+%a, %d %b %Y %H:%M:%S GMT')"
expect_eq "Expires = nextUpdate" "$(sed -n 's/^Expires: //p' pub.headers)" \
    "$(date -u -d "$next" '+%a, %d %b %Y %H:%M:%S GMT')"
expect_eq "nextUpdate = thisUpdate + 2d" "$(( $(date -u -d "$next" +%s) - $(date -u -d "$last" +%s) ))" 172800
etag=$(sed -n 's/^ETag: //p' pub.headers)
n1=$(openssl crl -inform DER -in pub1.crl -noout -crlnumber | cut -d= -f2)
expect_eq "ETag names the CRL number" "$etag" "\"crl-${n1#0x}\""
expect_eq "If-None-Match: 304" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/crl/rt.crl")" 304
/usr/bin/python3 "$TESTS/data/crl/crl_dump.py" --issuer rt/ca.crt pub1.crl > pub1.txt
expect_match "Python cryptography: signature" "$(cat pub1.txt)" "^signature ok$"
expect_match "... the 5 revoked rows" "$(cat pub1.txt)" "^entries 5$"
# a revocation: a new CRL (new number and ETag) within the minimum interval + 1 s
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 6)" --reason superseded >/dev/null
wait_for "the CRL remade after a revocation" 10 sh -c \
    "curl -s '$URL/crl/rt.crl' -o pub2.crl && openssl crl -inform DER -in pub2.crl -noout -text | grep -q 'Serial Number: $(rts 6)'"
n2=$(openssl crl -inform DER -in pub2.crl -noout -crlnumber | cut -d= -f2)
[ "$((n2))" -gt "$((n1))" ] || fail "CRL number $n2 not above $n1"
expect_match "a new ETag" "$(curl -s -D - -o /dev/null "$URL/crl/rt.crl" | tr -d '\r')" "^ETag: \"crl-${n2#0x}\"$"
expect_eq "the old ETag: 200 now" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/crl/rt.crl")" 200
# rate limit: a second change right after is published only after --crl-min-interval.
# The CRLs' own thisUpdate (whole seconds, the server's clock) are what is
# compared, so a slow machine cannot make the check pass or fail by itself: the
# CRL with the second change must be at least 4 s younger than the previous one,
# and while the previous one is less than 3 s old it must still be the one served.
"$QPKI" cert issue --ca-dir rt --profile ec/tls-server --csr rt.csr --out rt7.crt >/dev/null 2>&1
"$QPKI" cert revoke --ca-dir rt --serial "$(rts 7)" --reason keyCompromise >/dev/null
this2=$(date -u -d "$(openssl crl -inform DER -in pub2.crl -noout -lastupdate | cut -d= -f2)" +%s)
early=0
while [ $(($(date -u +%s) - this2)) -lt 3 ]; do
    curl -s "$URL/crl/rt.crl" -o pub3.crl
    [ $(($(date -u +%s) - this2)) -lt 4 ] || break  # the answer may have come later
    if openssl crl -inform DER -in pub3.crl -noout -text | grep -q "Serial Number: $(rts 7)"; then
        fail "the CRL was remade within --crl-min-interval"
    fi
    early=$((early + 1))
    sleep 0.2
done
echo "  $early fetches within 3 s of the previous CRL still served it"
wait_for "the second change published after the interval" 30 sh -c \
    "curl -s '$URL/crl/rt.crl' -o pub3.crl && openssl crl -inform DER -in pub3.crl -noout -text | grep -q 'Serial Number: $(rts 7)'"
this3=$(date -u -d "$(openssl crl -inform DER -in pub3.crl -noout -lastupdate | cut -d= -f2)" +%s)
[ $((this3 - this2)) -ge 4 ] ||
    fail "the CRL with the second change is $((this3 - this2)) s after the previous one (--crl-min-interval 4s)"
cmp -s rt/crl/ca.crl.der pub3.crl || fail "crl/ca.crl.der is not the published CRL"
# OCSP on the same listener still answers
expect_match "OCSP beside it" "$(openssl ocsp -issuer rt/ca.crt -cert rt7.crt -url "$URL" -CAfile rt/ca.crt -no_nonce 2>&1)" "rt7.crt: revoked"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "--publish-crl: application/pkix-crl, Last-Modified/Expires/ETag, 304, remade on change, rate-limited"
# ---- the response cache on: a changed CRL drops only the changed serial's answers
"$QPKI" ca init --ca-dir cc --var cn="Cache CA" >/dev/null
for i in 1 2 3; do
    "$QPKI" cert issue --ca-dir cc --profile ec/tls-server --csr rt.csr --out "cc$i.crt" >/dev/null 2>&1
done
ccs() { openssl x509 -in "cc$1.crt" -noout -serial | cut -d= -f2; }
"$QPKI" cert revoke --ca-dir cc --serial "$(ccs 3)" >/dev/null
"$QPKI" crl gen --ca-dir cc --der --out cc.crl >/dev/null 2>&1 || fail "crl gen (cc)"
ADMIN_PORT=$(free_port)
start_server cache --ca-dir cc --crl cc.crl --crl-refresh 1s --admin-addr "127.0.0.1:$ADMIN_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
cachelog() { # cachelog N: the cert_status and cache fields of the last answer for ccN
    grep "msg=request .*serial=$(ccs "$1") " "$WORK/cache.log" | tail -1 |
        sed 's/.* cert_status=\([a-z]*\) .* cache=\([a-z-]*\) .*/\1 \2/'
}
cmetric() { curl -s "$ADMIN/metrics" | sed -n "s/^$1 //p"; }
for i in 1 2; do
    expect_eq "cc$i: good" "$(serial_status "$(ccs "$i")" cc)" good
    expect_eq "cc$i: good again" "$(serial_status "$(ccs "$i")" cc)" good
    expect_eq "cc$i: ... from the cache" "$(cachelog "$i")" "good hit"
done
inv=$(cmetric qpki_ocsp_cache_invalidated_total)
flushes=$(cmetric qpki_ocsp_cache_flushes_total)
"$QPKI" cert revoke --ca-dir cc --serial "$(ccs 2)" --reason keyCompromise >/dev/null
"$QPKI" crl gen --ca-dir cc --der --out cc.crl.tmp >/dev/null 2>&1 && mv cc.crl.tmp cc.crl
wait_for "CRL 02 of cc loaded" 10 grep -q 'msg="CRL loaded" ca=cc .*number=02 ' "$WORK/cache.log"
# the first request after the load: revoked, signed anew
expect_eq "cc2 revoked at once" "$(serial_status "$(ccs 2)" cc)" revoked
expect_eq "... a new answer, not the cached one" "$(cachelog 2)" "revoked miss"
# the unchanged serial: still the cached answer (the per-second HTTP answer
# cache is dropped by the load, so this hit is the responder's per-serial cache)
expect_eq "cc1 still good" "$(serial_status "$(ccs 1)" cc)" good
expect_eq "... from the cache" "$(cachelog 1)" "good hit"
expect_eq "qpki_ocsp_cache_invalidated_total: cc2's one answer dropped" \
    "$(cmetric qpki_ocsp_cache_invalidated_total)" "$((inv + 1))"
expect_eq "qpki_ocsp_cache_flushes_total: no flush" "$(cmetric qpki_ocsp_cache_flushes_total)" "$flushes"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "cache on: a CRL revoking one serial changes its answer at once; the other stays cached (no flush)"
echo "all CRL responder checks passed"
