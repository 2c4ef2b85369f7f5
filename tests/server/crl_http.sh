#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/crl_http.sh - the HTTP fetch of `qpki ocsp serve --crl URL`
# (libcurl) against tests/server/crl_http.py, started here, whose request log
# says what the refresher sent; one responder, one CA per case, --crl-refresh 1s:
#   - ETag: the publisher sends one, the next fetch carries it in If-None-Match
#     and gets 304; a new CRL (new ETag) is loaded and its ETag sent next;
#   - redirects: a chain of 5 is followed (at start and on a refresh), a chain
#     of 6 is refused ("CRL fetch failed"), the previous CRL kept;
#   - a publisher that accepts and never answers: the fetch fails after
#     --crl-timeout (2 s; not earlier, by the publisher's own log), the previous
#     CRL kept, OCSP answered meanwhile;
#   - --crl-max-size on a refresh after start: the larger CRL refused, the
#     previous one kept.
TESTS=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

mkdir pub
"$QPKI" key gen --algo ecdsa-p256 --out leaf.key >/dev/null 2>&1
"$QPKI" csr create --key leaf.key --cn leaf.example --out leaf.csr >/dev/null 2>&1
# ca NAME: a CA with 8 certificates, the first revoked; CRL 01 published as pub/NAME.crl
ca() {
    "$QPKI" ca init --ca-dir "$1" --var cn="CRL HTTP $1 CA" >/dev/null || fail "$1: ca init"
    : > "$1.serials"
    for i in 1 2 3 4 5 6 7 8; do
        "$QPKI" cert issue --ca-dir "$1" --profile ec/tls-server --csr leaf.csr \
            --var dns_names=leaf.example --out "$1-$i.crt" >/dev/null 2>&1 || fail "$1: cert issue"
        openssl x509 -in "$1-$i.crt" -noout -serial | cut -d= -f2 >> "$1.serials"
    done
    revoke "$1" 1
    publish "$1" pub/"$1".crl
}
sn() { sed -n "${2}p" "$1.serials"; }
revoke() { "$QPKI" cert revoke --ca-dir "$1" --serial "$(sn "$1" "$2")" --reason superseded >/dev/null; }
# publish CA FILE: the CA's next CRL, DER, written to FILE by rename
publish() {
    "$QPKI" crl gen --ca-dir "$1" --der --out "$2.tmp" >/dev/null 2>&1 && mv "$2.tmp" "$2" ||
        fail "$1: crl gen"
}
for c in et rd hg bg; do ca "$c"; done
echo 5 > pub/rd.redirects

HTTP_PORT=$(free_port)
/usr/bin/python3 "$TESTS/server/crl_http.py" "$HTTP_PORT" pub "$WORK/requests.log" >"$WORK/http.log" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
wait_for "the CRL publisher" 10 sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HTTP_PORT/none.crl | grep -qx 404"
CRL_URL="http://127.0.0.1:$HTTP_PORT"
# the largest CRL accepted: CRL 01 of bg + 100 octets (its CRL 02, with 5 more
# entries, is larger; the CRLs 02 of the others, with one more, are not)
max=$(( $(stat -c %s pub/bg.crl) + 100 ))
ADMIN_PORT=$(free_port)
start_server crl --ca-dir et --crl "$CRL_URL/et.crl" --ca-dir rd --crl "$CRL_URL/rd.crl" \
    --ca-dir hg --crl "$CRL_URL/hg.crl" --ca-dir bg --crl "$CRL_URL/bg.crl" \
    --crl-refresh 1s --crl-timeout 2s --crl-max-size "$max" --admin-addr "127.0.0.1:$ADMIN_PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
LOG=$WORK/crl.log
number() { # number CA: the cRLNumber /healthz says is in use
    curl -s "$ADMIN/healthz" | sed -n "s|^crl ca=$1 source=[^ ]* kind=complete state=[a-z]* number=\([0-9A-F]*\) .*|\1|p"
}
metric() { # metric NAME CA
    curl -s "$ADMIN/metrics" | sed -n "s|^$1{ca=\"$2\",source=\"$CRL_URL/$2.crl\"} ||p"
}
# status CA N: the verified status of certificate N of CA (openssl ocsp)
status() {
    out=$(openssl ocsp -issuer "$1/ca.crt" -cert "$1-$2.crt" -url "$URL" -CAfile "$1/ca.crt" -no_nonce 2>&1)
    echo "$out" | grep -q '^Response verify OK' || { echo "verify failed: $out"; return; }
    echo "$out" | sed -n "s/^$1-$2.crt: //p"
}
for c in et rd hg bg; do
    expect_eq "$c: CRL 01 in use" "$(number "$c")" 01
    expect_eq "$c: certificate 1 revoked" "$(status "$c" 1)" revoked
done

# ---- ETag and If-None-Match
etag1=\"$(sha256sum pub/et.crl | cut -c1-32)\"
expect_match "the first fetch: no If-None-Match, 200" "$(grep ' /et.crl ' requests.log | head -1)" " /et.crl inm=- 200$"
wait_for "a refresh with If-None-Match answered 304" 10 grep -q " /et.crl inm=$etag1 304$" requests.log
expect_match "... counted in qpki_crl_not_modified_total" "$(metric qpki_crl_not_modified_total et)" "^[1-9]"
revoke et 2
publish et pub/et.crl
etag2=\"$(sha256sum pub/et.crl | cut -c1-32)\"
wait_for "the changed CRL fetched (old ETag, 200)" 10 grep -q " /et.crl inm=$etag1 200$" requests.log
wait_for "CRL 02 loaded" 10 sh -c "[ \"\$(curl -s '$ADMIN/healthz' | grep -c 'crl ca=et .* number=02 ')\" = 1 ]"
wait_for "... then its ETag sent, 304" 10 grep -q " /et.crl inm=$etag2 304$" requests.log
expect_eq "et: certificate 2 revoked" "$(status et 2)" revoked
ok "ETag: If-None-Match sent and answered 304; a new CRL loaded and its ETag sent next"

# ---- redirects: 5 followed at start (a chain of 5 in the publisher's log), 6 refused
expect_match "a chain of 5 redirects at start" "$(grep ' /rd.crl' requests.log | head -6 | tr '\n' ' ')" \
    "^[0-9.]+ /rd.crl inm=- 302 [0-9.]+ /rd.crl\?left=4 inm=- 302 .*/rd.crl\?left=1 inm=- 302 [0-9.]+ /rd.crl\?left=0 inm=- 200 $"
echo 6 > pub/rd.redirects
revoke rd 2
publish rd pub/rd.crl
wait_for "6 redirects: the fetch fails" 10 sh -c \
    "grep -q 'msg=\"CRL fetch failed\" ca=rd source=$CRL_URL/rd.crl error=\"Maximum (5) redirects followed\" action=\"previous CRL kept\"' '$LOG'"
# the chain of 6 (it alone has left=5): followed up to the fifth redirect, not the sixth
six=$(sed -n '/ \/rd.crl?left=5 /,$p' requests.log | grep ' /rd.crl')
expect_match "... 5 redirects followed" "$six" "/rd.crl\?left=1 inm=[^ ]* 302$"
if printf '%s\n' "$six" | grep -q 'left=0 '; then fail "the sixth redirect was followed"; fi
expect_match "... counted in qpki_crl_fetch_failures_total" "$(metric qpki_crl_fetch_failures_total rd)" "^[1-9]"
expect_eq "... CRL 01 kept" "$(number rd)" 01
expect_eq "... certificate 2 still good" "$(status rd 2)" good
echo 5 > pub/rd.redirects
wait_for "5 redirects on a refresh: CRL 02 loaded" 10 sh -c "[ \"\$(curl -s '$ADMIN/healthz' | grep -c 'crl ca=rd .* number=02 ')\" = 1 ]"
expect_eq "rd: certificate 2 revoked" "$(status rd 2)" revoked
ok "redirects: 5 followed (at start and on a refresh), 6 refused with the previous CRL kept"

# ---- a publisher that accepts and never answers
touch pub/hg.hang
revoke hg 2
publish hg pub/hg.crl
wait_for "a fetch hanging" 10 grep -q ' /hg.crl inm=.* hang$' requests.log
# OCSP while the refresher waits for the publisher
expect_eq "OCSP answered during the hanging fetch: certificate 2 good (CRL 01)" "$(status hg 2)" good
expect_eq "... certificate 1 revoked" "$(status hg 1)" revoked
wait_for "the hanging fetch times out" 15 grep -q 'msg="CRL fetch failed" ca=hg .*action="previous CRL kept"' "$LOG"
line=$(grep 'msg="CRL fetch failed" ca=hg' "$LOG" | head -1)
expect_match "... a timeout" "$line" 'error="Operation timed out after [0-9]+ milliseconds'
# not before --crl-timeout: the failure's log time against the publisher's log of
# the request (libcurl's clock starts a little before the request arrives: 0.1 s slack)
asked=$(grep ' /hg.crl inm=.* hang$' requests.log | head -1 | cut -d' ' -f1)
failed=$(date -u -d "$(echo "$line" | sed 's/^ts=\([^ ]*\) .*/\1/')" +%s.%N)
/usr/bin/python3 -c "import sys; d=$failed-$asked; print(f'  timed out {d:.2f} s after the request'); sys.exit(0 if d >= 1.9 else 1)" ||
    fail "the fetch failed before --crl-timeout 2s"
expect_eq "... CRL 01 kept" "$(number hg)" 01
expect_eq "... certificate 2 still good" "$(status hg 2)" good
rm pub/hg.hang
ok "a publisher that never answers: refused after --crl-timeout, the previous CRL kept, OCSP answered"

# ---- --crl-max-size on a refresh
for i in 2 3 4 5 6; do revoke bg "$i"; done
publish bg pub/bg.crl
[ "$(stat -c %s pub/bg.crl)" -gt "$max" ] || fail "bg's CRL 02 is not above --crl-max-size"
wait_for "the larger CRL refused" 10 sh -c \
    "grep -q 'msg=\"CRL fetch failed\" ca=bg .*error=\"larger than --crl-max-size ($max bytes)\" action=\"previous CRL kept\"' '$LOG'"
expect_eq "... CRL 01 kept" "$(number bg)" 01
expect_eq "... certificate 2 still good" "$(status bg 2)" good
ok "--crl-max-size on a refresh: the larger CRL refused, the previous one kept"
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
echo "all CRL HTTP fetch checks passed"
