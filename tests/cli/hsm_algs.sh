#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/hsm_algs.sh - `qpki ocsp sign` and `qpki ocsp serve` with token keys
# of every classical algorithm SoftHSM2 offers: P-256, P-384, RSA-2048 and
# Ed25519, each made twice - once with OpenSC's `pkcs11-tool --keypairgen` and
# once with `qpki key gen --hsm-config` - on a fresh SoftHSM2 token.
#
# For each of the 8 keys, with qpki alone: csr create with the token key,
# cert issue (the profile of the key's family), then
#   - ocsp sign good and revoked: openssl ocsp -respin -CAfile ("Response
#     verify OK", the status, the signature algorithm) and qpki ocsp verify;
#   - ocsp serve with the key: openssl ocsp -url with a nonce (answer signed
#     live, nonce echoed, checked again by qpki ocsp verify --nonce) and without
#     (the cached answer), for a good and a revoked certificate; the server is
#     stopped with qpki ocsp stop and must exit 0.
# Keys made by pkcs11-tool are selected by --key-id in `csr create`/`ocsp sign`
# and by --key-label in `ocsp serve`; qpki's keys the other way round, so both
# selectors are used with both origins.  hsm.sh covers the guide's lines.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/hsm_lib.sh"

hsm_setup qpki-algs 31415926

check "ca init" qpki ca init --ca-dir ca --var cn="HSM algorithms CA"
cp ca/ca.crt ca.crt
# Two leaf certificates to ask about: one good, one revoked (software keys).
for leaf in good revoked; do
    check "leaf $leaf: key gen + csr create + cert issue" bash -c "
        qpki key gen --algo ecdsa-p256 --out $leaf.key &&
        qpki csr create --key $leaf.key --cn $leaf.example.com --out $leaf.csr &&
        qpki cert issue --ca-dir ca --profile ec/tls-server --csr $leaf.csr --out $leaf.crt"
done
GOOD=$("$OPENSSL" x509 -in good.crt -noout -serial | cut -d= -f2)
REVOKED=$("$OPENSSL" x509 -in revoked.crt -noout -serial | cut -d= -f2)
check "cert revoke" qpki cert revoke --ca-dir ca --serial "$REVOKED" --reason keyCompromise

# name  pkcs11-tool key type  qpki --algo  profile family  signature algorithm (openssl's name)
KEYS="p256 EC:prime256v1 ecdsa-p256 ec ecdsa-with-SHA256
p384 EC:secp384r1 ecdsa-p384 ec ecdsa-with-SHA384
rsa2048 rsa:2048 rsa-2048 rsa sha256WithRSAEncryption
ed25519 EC:edwards25519 ed25519 ed ED25519"

# Keys: ids 1N from pkcs11-tool, 2N from qpki key gen.
n=0
while read -r name p11type algo fam sigalg <&3; do
    n=$((n + 1))
    check "pkcs11-tool --keypairgen $p11type (label tool-$name, id 1$n)" \
        p11tool --keypairgen --key-type "$p11type" --label "tool-$name" --id "1$n"
    check "qpki key gen --algo $algo --hsm-config (label qpki-$name, id 2$n)" \
        qpki key gen --algo "$algo" --hsm-config ./hsm.yaml --key-label "qpki-$name" \
        --key-id "2$n" --out "qpki-$name.pub"
done 3<<<"$KEYS"

# openssl ocsp -respin FILE -CAfile ca.crt, standard output (the text) in
# FILE.txt and standard error ("Response verify OK") in FILE.err, kept apart:
# interleaved, a long -resp_text can split the verify line.
ossl_respin() { # FILE SERIAL
    "$OPENSSL" ocsp -respin "$1" -CAfile ca.crt -issuer ca.crt -serial "0x$2" -resp_text \
        >"$1.txt" 2>"$1.err"
}

# expect_sigalg DESC ALG FILE: the response's own signatureAlgorithm in openssl's
# -resp_text output (the part before the responder certificate's text) is ALG.
expect_sigalg() {
    sed '/^Certificate:/,$d' "$3" >"$3.head"
    expect_grep "$1" "^ +Signature Algorithm: $2\$" "$3.head"
}

# Responder certificates and ocsp sign.
n=0
while read -r name p11type algo fam sigalg <&3; do
    n=$((n + 1))
    for origin in tool qpki; do
        k=$origin-$name
        if [ "$origin" = tool ]; then sel=(--key-id "1$n"); else sel=(--key-label "$k"); fi
        check "$k: csr create ${sel[*]}" qpki csr create --hsm-config ./hsm.yaml "${sel[@]}" \
            --cn "$k.ocsp.example.com" --out "$k.csr"
        check "$k: openssl req -verify" "$OPENSSL" req -in "$k.csr" -verify -noout
        if [ "$origin" = qpki ]; then
            check "$k: the CSR carries the key qpki key gen printed" bash -c \
                "cmp <($OPENSSL req -in $k.csr -noout -pubkey) <($OPENSSL pkey -pubin -in $k.pub)"
        fi
        check "$k: cert issue $fam/ocsp-responder" qpki cert issue --ca-dir ca \
            --profile "$fam/ocsp-responder" --csr "$k.csr" --out "$k.crt"

        check "$k: ocsp sign good" qpki ocsp sign --serial "$GOOD" --status good --ca ca.crt \
            --cert "$k.crt" --hsm-config ./hsm.yaml "${sel[@]}" --out "$k-good.ocsp"
        ossl_respin "$k-good.ocsp" "$GOOD" || true
        expect_grep "$k: openssl: Response verify OK" "^Response verify OK" "$k-good.ocsp.err"
        expect_grep "$k: openssl: good" "^0x$GOOD: good" "$k-good.ocsp.txt"
        expect_sigalg "$k: openssl: signed with $sigalg" "$sigalg" "$k-good.ocsp.txt"
        check "$k: qpki ocsp verify (good)" qpki ocsp verify --response "$k-good.ocsp" --ca ca.crt \
            --serial "$GOOD"
        expect_grep "$k: qpki ocsp verify says good" "^$GOOD: good" "$last_out"

        check "$k: ocsp sign revoked" qpki ocsp sign --serial "$REVOKED" --status revoked \
            --revocation-reason keyCompromise --ca ca.crt --cert "$k.crt" \
            --hsm-config ./hsm.yaml "${sel[@]}" --out "$k-revoked.ocsp"
        ossl_respin "$k-revoked.ocsp" "$REVOKED" || true
        expect_grep "$k: openssl: Response verify OK (revoked)" "^Response verify OK" \
            "$k-revoked.ocsp.err"
        expect_grep "$k: openssl: revoked" "^0x$REVOKED: revoked" "$k-revoked.ocsp.txt"
        expect_grep "$k: openssl: ... keyCompromise" "Reason: keyCompromise" "$k-revoked.ocsp.txt"
        check "$k: qpki ocsp verify (revoked)" qpki ocsp verify --response "$k-revoked.ocsp" \
            --ca ca.crt --serial "$REVOKED"
        expect_grep "$k: qpki ocsp verify says revoked" "^$REVOKED: revoked" "$last_out"
    done
done 3<<<"$KEYS"

# ocsp serve with each key, queried by openssl ocsp -url.
# oquery NAME CERT [openssl options]: writes NAME.txt (standard output), NAME.err
# (standard error: "Response verify OK", warnings), NAME.req, NAME.resp
oquery() {
    local name=$1 cert=$2
    shift 2
    timeout 60 "$OPENSSL" ocsp -issuer ca.crt -cert "$cert" -url "$URL" -CAfile ca.crt \
        -reqout "$name.req" -respout "$name.resp" -resp_text "$@" >"$name.txt" 2>"$name.err"
}
n=0
while read -r name p11type algo fam sigalg <&3; do
    n=$((n + 1))
    for origin in tool qpki; do
        k=$origin-$name
        if [ "$origin" = tool ]; then sel=(--key-label "$k"); else sel=(--key-id "2$n"); fi
        if ! serve_start "$k-serve.log" --ca-dir ca --cert "$k.crt" --hsm-config ./hsm.yaml \
            "${sel[@]}"; then
            fail "$k: ocsp serve ${sel[*]} starts"
            sed 's/^/    | /' "$k-serve.log"
            continue
        fi
        ok "$k: ocsp serve ${sel[*]} listens"
        expect_grep "$k: the log names the HSM signer" 'signer="HSM key \(./hsm.yaml\)"' \
            "$k-serve.log"

        check "$k: openssl ocsp -url (nonce), good" oquery "$k-n-good" good.crt
        expect_grep "$k: ... Response verify OK" "^Response verify OK" "$k-n-good.err"
        expect_grep "$k: ... good" "^good.crt: good" "$k-n-good.txt"
        expect_grep "$k: ... the nonce is echoed" "OCSP Nonce" "$k-n-good.txt"
        expect_no_grep "$k: ... openssl has no nonce warning" "WARNING" "$k-n-good.err"
        expect_sigalg "$k: ... signed with $sigalg" "$sigalg" "$k-n-good.txt"
        nonce=$("$OPENSSL" ocsp -reqin "$k-n-good.req" -req_text |
            grep -A1 'OCSP Nonce' | tail -n 1 | tr -d ' \n')
        nonce=${nonce#0410}
        check "$k: qpki ocsp verify --nonce of the served answer" qpki ocsp verify \
            --response "$k-n-good.resp" --ca ca.crt --cert good.crt --nonce "$nonce"
        check "$k: openssl ocsp -url (nonce), revoked" oquery "$k-n-rev" revoked.crt
        expect_grep "$k: ... Response verify OK" "^Response verify OK" "$k-n-rev.err"
        expect_grep "$k: ... revoked" "^revoked.crt: revoked" "$k-n-rev.txt"

        check "$k: openssl ocsp -url -no_nonce, good" oquery "$k-c-good" good.crt -no_nonce
        expect_grep "$k: ... Response verify OK" "^Response verify OK" "$k-c-good.err"
        expect_grep "$k: ... good" "^good.crt: good" "$k-c-good.txt"
        # The same request again: the signed answer comes from the cache, same bytes.
        check "$k: openssl ocsp -url -no_nonce again" oquery "$k-c-good2" good.crt -no_nonce
        check "$k: ... the cached answer is the same response" cmp "$k-c-good.resp" "$k-c-good2.resp"
        check "$k: qpki ocsp verify of the cached answer" qpki ocsp verify \
            --response "$k-c-good2.resp" --ca ca.crt --cert good.crt
        check "$k: openssl ocsp -url -no_nonce, revoked" oquery "$k-c-rev" revoked.crt -no_nonce
        expect_grep "$k: ... Response verify OK" "^Response verify OK" "$k-c-rev.err"
        expect_grep "$k: ... revoked" "^revoked.crt: revoked" "$k-c-rev.txt"
        expect_grep "$k: the server signed live for the nonce requests" \
            "nonce=y cache=miss sign_us=" "$k-serve.log"
        expect_grep "$k: ... and answered the repeated request from its cache" \
            "nonce=n cache=hit" "$k-serve.log"
        rc=0
        serve_stop || rc=$?
        if [ "$rc" -eq 0 ]; then ok "$k: ocsp stop, the server exits 0"; else
            fail "$k: the server exited $rc"; sed 's/^/    | /' "$k-serve.log"; fi
    done
done 3<<<"$KEYS"

finish
