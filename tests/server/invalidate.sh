#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/invalidate.sh - a revocation drops only that serial's cached
# response: `qpki cert revoke` while serving, then openssl (the independent
# client) sees the revoked serial as revoked, while another serial's answer is
# still served from the cache (no new signature; /metrics: cache hit counted,
# one entry invalidated, no whole-cache flush).  index.txt is rewritten by the
# CLI as `openssl ca` does; the server applies the one changed line.
. "$(dirname "$0")/lib.sh"

make_pki ca
# a third certificate, good, to stay cached while ca-good is revoked
"$QPKI" key gen --algo ecdsa-p256 --out ca-other.key >/dev/null 2>&1
"$QPKI" csr create --key ca-other.key --cn other.ca.example --out ca-other.csr >/dev/null 2>&1
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr ca-other.csr --out ca-other.crt \
    >/dev/null 2>&1
APORT=$(free_port)
start_server main --ca-dir ca --credential ocsp-ca --cred-dir credentials --validity 30m \
    --admin-addr "127.0.0.1:$APORT"
ADMIN="http://127.0.0.1:$APORT"

metric() { # metric NAME: its value in /metrics
    curl -sf "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# cached_status CERT: a GET without nonce (cacheable), the answer checked by
# openssl against the CA: good/revoked/unknown, or the verification failure
cached_status() {
    openssl ocsp -issuer ca/ca.crt -cert "$1" -no_nonce -reqout "$1.req" 2>/dev/null
    curl -sf -o "$1.der" "$URL/$(b64 "$1.req")" || { echo "GET failed"; return; }
    out=$(openssl ocsp -respin "$1.der" -issuer ca/ca.crt -cert "$1" -CAfile ca/ca.crt \
        -no_nonce 2>&1)
    echo "$out" | grep -q '^Response verify OK' || { echo "verify failed: $out"; return; }
    echo "$out" | sed -n "s/^$1: //p"
}

# Warm the cache: each answer signed once, then served from the cache.
for cert in ca-good.crt ca-other.crt ca-revoked.crt; do
    expect_eq "$cert first" "$(cached_status $cert)" \
        "$( [ $cert = ca-revoked.crt ] && echo revoked || echo good)"
done
sleep 1.1 # past the HTTP answer cache's second: the next answers come from the responder
expect_eq "ca-other cached" "$(cached_status ca-other.crt)" "good"
sigs0=$(metric qpki_ocsp_signatures_total)
hits0=$(metric qpki_ocsp_cache_hits_total)
expect_eq "signatures after warming" "$sigs0" 3
expect_eq "entries after warming" "$(metric qpki_ocsp_cache_entries)" 3
[ "$hits0" -ge 1 ] || fail "no cache hit while warming ($hits0)"

# ---- revoke ca-good while serving ----------------------------------------------------
gen0=$(curl -sf "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_generation{ca="[^"]*"} //p')
serial=$(openssl x509 -in ca-good.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca --serial "$serial" --reason keyCompromise >/dev/null
moved() { [ "$(curl -sf "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_generation{ca="[^"]*"} //p')" != "$gen0" ]; }
wait_for "index.txt change not picked up" 4 moved
sleep 1.1 # a new second: no HTTP-level reuse either

# the other serial: still the cached response, no signature
expect_eq "ca-other after the revocation" "$(cached_status ca-other.crt)" "good"
expect_eq "no signature for ca-other" "$(metric qpki_ocsp_signatures_total)" "$sigs0"
hits1=$(metric qpki_ocsp_cache_hits_total)
[ "$hits1" -gt "$hits0" ] || fail "ca-other was not a cache hit ($hits0 -> $hits1)"
expect_eq "ca-revoked still cached" "$(cached_status ca-revoked.crt)" "revoked"
expect_eq "no signature for ca-revoked" "$(metric qpki_ocsp_signatures_total)" "$sigs0"
# the revoked serial: re-signed, revoked (openssl checks the signature)
expect_eq "ca-good after the revocation" "$(cached_status ca-good.crt)" "revoked"
expect_eq "one new signature" "$(metric qpki_ocsp_signatures_total)" "$((sigs0 + 1))"
reason=$(openssl ocsp -respin ca-good.crt.der -issuer ca/ca.crt -cert ca-good.crt \
    -CAfile ca/ca.crt -no_nonce 2>/dev/null | sed -n 's/^[[:space:]]*Reason: //p')
expect_eq "revocation reason" "$reason" "keyCompromise"
expect_eq "invalidated entries" "$(metric qpki_ocsp_cache_invalidated_total)" 1
expect_eq "whole-cache flushes" "$(metric qpki_ocsp_cache_flushes_total)" 0
ok "qpki cert revoke while serving: the revoked serial re-signed (revoked), the other serials' answers stayed cached (hits $hits0 -> $hits1, signatures $sigs0 -> $((sigs0 + 1)))"

# ---- a new certificate: appended, the cached 'unknown' of its serial dropped --------
"$QPKI" key gen --algo ecdsa-p256 --out ca-new.key >/dev/null 2>&1
"$QPKI" csr create --key ca-new.key --cn new.ca.example --out ca-new.csr >/dev/null 2>&1
# the serial file names the serial the CA uses next: not in index.txt yet
next=$(cat ca/serial)
expect_eq "next serial before issuing" "$(serial_status "$next")" "unknown"
sleep 1.1
expect_eq "next serial again (cached)" "$(serial_status "$next")" "unknown"
sigs1=$(metric qpki_ocsp_signatures_total)
gen1=$(curl -sf "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_generation{ca="[^"]*"} //p')
"$QPKI" cert issue --ca-dir ca --profile ec/tls-server --csr ca-new.csr --out ca-new.crt \
    >/dev/null 2>&1
expect_eq "issued serial" "$(openssl x509 -in ca-new.crt -noout -serial | cut -d= -f2)" "$next"
moved1() { [ "$(curl -sf "$ADMIN/metrics" | sed -n 's/^qpki_ocsp_db_generation{ca="[^"]*"} //p')" != "$gen1" ]; }
wait_for "issued certificate not picked up" 4 moved1
sleep 1.1
expect_eq "ca-other still cached" "$(cached_status ca-other.crt)" "good"
expect_eq "no signature for ca-other" "$(metric qpki_ocsp_signatures_total)" "$sigs1"
expect_eq "the new serial" "$(serial_status "$next")" "good"
expect_eq "re-signed once" "$(metric qpki_ocsp_signatures_total)" "$((sigs1 + 1))"
expect_eq "invalidated entries" "$(metric qpki_ocsp_cache_invalidated_total)" 2
expect_eq "whole-cache flushes" "$(metric qpki_ocsp_cache_flushes_total)" 0
ok "qpki cert issue while serving: the new serial's cached 'unknown' dropped and answered good; the others still cached"
