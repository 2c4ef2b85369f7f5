#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/keys.sh - keys that do not hold together (tests/data/keys/bad/, made by
# make.py there) are refused by every command that loads a key: exit 2 and a
# message naming the part; the consistent *-good files of the same forms load.
# csr create, ocsp sign and ocsp serve each read the key through the library's
# checks (issue 13 item 1; the messages themselves are asserted in test_crypto.c).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BAD=$HERE/../data/keys/bad
. "$HERE/lib.sh"

# file -> a fragment of the message that names the part
while read -r f part; do
    expect_rc 2 "csr create --key $f" qpki csr create --key "$BAD/$f" --cn x.example --out x.csr
    expect_grep "  ... names $part" "cannot load private key .*$f: .*$part" "$last_out"
done <<'EOF'
rsa-n.der modulus n is not prime1 \* prime2
rsa-d.der privateExponent d is not the inverse
rsa-dp.der exponent1 \(dP\)
rsa-dq.der exponent2 \(dQ\)
rsa-qinv.der coefficient \(qInv\)
ec-p256-pub.der publicKey is not d\*G
ec-p384-compressed-pub.der publicKey is not d\*G
ec-p256-d-order.der privateKey d is not in \[1, n-1\]
ed25519-v2-pub.der Ed25519 private key: the publicKey in the file
ed448-v2-pub.der Ed448 private key: the publicKey in the file
mldsa44-s1-range.der an s1 coefficient lies outside \[-2, 2\]
mldsa65-s2-range.der an s2 coefficient lies outside \[-4, 4\]
mldsa87-s1-range.der an s1 coefficient lies outside \[-2, 2\]
mldsa44-t0.der t0 is not the low part
mldsa44-tr.der tr is not H\(pk\)
mldsa65-both.der the expandedKey is not the one the seed gives
mldsa44-v2-pub.der ML-DSA-44 private key: the publicKey in the file
EOF
for f in rsa-good.der ec-p384-compressed-good.der ed448-v2-good.der; do
    check "csr create --key $f (consistent)" qpki csr create --key "$BAD/$f" --cn x.example --out "$f.csr"
    check "  ... openssl verifies the CSR" "$OPENSSL" req -in "$f.csr" -verify -noout
done
for f in mldsa65-expanded-good.der mldsa65-both-good.der mldsa44-v2-good.der; do # (OpenSSL 3.0: no ML-DSA)
    check "csr create --key $f (consistent)" qpki csr create --key "$BAD/$f" --cn x.example --out "$f.csr"
done

# ocsp sign and ocsp serve refuse them before answering anything
check "ca init" qpki ca init --ca-dir ca --var cn="Keys CA"
for f in rsa-dp.der mldsa65-s2-range.der ec-p256-pub.der; do
    expect_rc 2 "ocsp sign --key $f" qpki ocsp sign --serial 01 --status good --ca ca/ca.crt \
        --cert ca/ca.crt --key "$BAD/$f" --out never.der
    expect_grep "  ... names the part" "cannot load private key .*$f: " "$last_out"
    [ ! -e never.der ] && ok "  ... writes nothing" || fail "  ... never.der was written"
    expect_rc 2 "ocsp serve --key $f" timeout 20 qpki ocsp serve --port 0 --ca-dir ca \
        --cert ca/ca.crt --key "$BAD/$f"
    expect_grep "  ... names the part" "cannot load private key .*$f: " "$last_out"
done
finish
