#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/crl_algs.sh - `qpki ocsp serve --crl FILE` for CAs that sign with
# RSA, Ed25519, ML-DSA-65 and Catalyst (ECDSA P-384 + ML-DSA-65), their CRLs made
# by `qpki crl gen`, one server for the four CAs:
#   - each CA's revoked and good certificate answered from its CRL; RSA and
#     Ed25519 answers checked by `openssl ocsp`, ML-DSA-65 ones by `qpki ocsp
#     verify` and @noble/post-quantum (tests/interop/pq_x509_noble.mjs), the
#     Catalyst ones by openssl (classical signature), `qpki ocsp verify
#     --require-pq` and noble (alternative signature);
#   - a newer ML-DSA CRL with one byte of its signature changed, and a newer
#     Catalyst CRL whose alternative signature alone is wrong (its classical
#     signature made again over the changed TBSCertList: `openssl crl -CAfile`
#     says verify OK, noble says the alternative signature is invalid): both
#     refused (log line, qpki_crl_refused_total), the previous CRL kept.
TESTS=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
NOBLE=$(sh "$TESTS/interop/noble.sh")
export NOBLE

sed 's/^algorithm: ml-dsa-87$/algorithm: ml-dsa-65/' "$TESTS/../cli/profiles/ml/root-ca.yaml" > ml65.yaml
grep -q '^algorithm: ml-dsa-65$' ml65.yaml || fail "no ML-DSA-65 profile"
"$QPKI" key gen --algo ecdsa-p256 --out leaf.key >/dev/null 2>&1
"$QPKI" csr create --key leaf.key --cn leaf.example --out leaf.csr >/dev/null 2>&1
set -- rsa rsa/root-ca ed ed/root-ca ml ml65.yaml cat hybrid/catalyst/root-ca
args=""
while [ $# -gt 0 ]; do
    ca=$1
    "$QPKI" ca init --ca-dir "$ca" --profile "$2" --var cn="CRL $ca CA" >/dev/null ||
        fail "$ca: ca init"
    for i in 1 2; do
        "$QPKI" cert issue --ca-dir "$ca" --profile ec/tls-server --csr leaf.csr \
            --var dns_names=leaf.example --out "$ca-$i.crt" >/dev/null 2>&1 || fail "$ca: cert issue"
    done
    "$QPKI" cert revoke --ca-dir "$ca" --serial "$(openssl x509 -in "$ca-1.crt" -noout -serial | cut -d= -f2)" \
        --reason keyCompromise >/dev/null || fail "$ca: revoke"
    "$QPKI" crl gen --ca-dir "$ca" --der --out "$ca.crl" >/dev/null 2>&1 || fail "$ca: crl gen"
    args="$args --ca-dir $ca --crl $ca.crl"
    shift 2
done
# the Catalyst CA's answers signed by a Catalyst delegated responder (a CA
# without signer options signs with ca.key alone)
"$QPKI" credential enroll --ca-dir cat --cred-dir creds --profile hybrid/catalyst/ocsp-responder \
    --var cn=ocsp.cat.example --id cat >/dev/null || fail "cat: credential enroll"
args="$args --credential cat --cred-dir creds"
ADMIN_PORT=$(free_port)
# shellcheck disable=SC2086
start_server algs $args --crl-refresh 1s --admin-addr "127.0.0.1:$ADMIN_PORT" --cache-size 0
ADMIN="http://127.0.0.1:$ADMIN_PORT"
for ca in rsa ed ml cat; do
    expect_match "$ca: CRL 01 in use" "$(curl -s "$ADMIN/healthz")" "crl ca=$ca source=$ca.crl kind=complete state=ok number=01 "
done

# RSA, Ed25519: openssl ocsp
for ca in rsa ed; do
    out=$(ocsp_status "$ca-1.crt" "$ca/ca.crt" -no_nonce -resp_text || true)
    expect_match "$ca: revoked" "$out" "$ca-1.crt: revoked"
    expect_match "$ca: ... keyCompromise" "$out" "Reason: keyCompromise"
    expect_match "$ca: ... verified by openssl" "$out" "Response verify OK"
    expect_match "$ca: ... signed by the CA's key" "$out" "Signature Algorithm: $( [ $ca = rsa ] && echo sha256WithRSAEncryption || echo ED25519)"
    expect_match "$ca: on no CRL: good" "$(ocsp_status "$ca-2.crt" "$ca/ca.crt" -no_nonce || true)" "$ca-2.crt: good"
done
ok "RSA and Ed25519 CRLs: answers checked by openssl ocsp"

# ML-DSA-65 and Catalyst: qpki ocsp verify, openssl for Catalyst's classical
# signature, noble for the ML-DSA ones
: > manifest.txt
for ca in ml cat; do
    for i in 1 2; do
        "$QPKI" ocsp request --ca "$ca/ca.crt" --cert "$ca-$i.crt" --url "$URL" --post \
            --out "$ca-$i.der" >/dev/null 2>&1 || fail "$ca-$i: no answer"
        pq=--require-pq
        out=$("$QPKI" ocsp verify --response "$ca-$i.der" --ca "$ca/ca.crt" --cert "$ca-$i.crt" $pq 2>&1) ||
            fail "$ca-$i: qpki ocsp verify: $out"
        if [ "$i" = 1 ]; then
            expect_match "$ca: revoked" "$out" ": revoked$"
            expect_match "$ca: ... keyCompromise" "$out" "Reason: keyCompromise"
        else
            expect_match "$ca: good" "$out" ": good"
        fi
        if [ "$ca" = ml ]; then
            expect_match "$ca: ... ML-DSA-65" "$out" "post-quantum: OK \(ML-DSA-65\)"
            echo "resp $ca-$i.der $ca/ca.crt valid" >> manifest.txt
        else
            expect_match "$ca: ... both signatures" "$out" "classical: OK, post-quantum: OK \(ecdsa-with-SHA384 \+ ML-DSA-65\)"
            o=$(openssl ocsp -respin "$ca-$i.der" -issuer "$ca/ca.crt" -sha256 -cert "$ca-$i.crt" -CAfile "$ca/ca.crt" -no_nonce 2>&1 || true)
            expect_match "$ca-$i: openssl: classical signature" "$o" "Response verify OK"
            expect_match "$ca-$i: openssl: status" "$o" "$ca-$i.crt: $( [ $i = 1 ] && echo revoked || echo good)"
            echo "alt-resp $ca-$i.der - valid" >> manifest.txt
        fi
    done
done
# the checker must see a wrong one as wrong: one response with a changed byte
/usr/bin/python3 -c "import sys; d=bytearray(open('ml-1.der','rb').read()); d[-100]^=1; open('ml-bad.der','wb').write(d)"
echo "resp ml-bad.der ml/ca.crt invalid" >> manifest.txt
node "$TESTS/interop/pq_x509_noble.mjs" manifest.txt > noble.log 2>&1 || fail "noble: $(cat noble.log)"
ok "ML-DSA-65 and Catalyst CRLs: answers checked by qpki ocsp verify, openssl and noble"

refused() {
    curl -s "$ADMIN/metrics" | sed -n "s|^qpki_crl_refused_total{ca=\"$1\",source=\"$1.crl\"} ||p"
}
expect_eq "no refusal yet (ml)" "$(refused ml)" 0
expect_eq "no refusal yet (cat)" "$(refused cat)" 0
# newer CRLs (number 02) revoking certificate 2
for ca in ml cat; do
    "$QPKI" cert revoke --ca-dir "$ca" --serial "$(openssl x509 -in "$ca-2.crt" -noout -serial | cut -d= -f2)" \
        --reason superseded >/dev/null || fail "$ca: revoke 2"
    "$QPKI" crl gen --ca-dir "$ca" --der --out "$ca-02.crl" >/dev/null 2>&1 || fail "$ca: crl gen 02"
done
# ML-DSA: one byte of the signature changed
/usr/bin/python3 -c "import sys; d=bytearray(open('ml-02.crl','rb').read()); d[-20]^=1; open('ml.crl.tmp','wb').write(d)"
# Catalyst: the last octet of the altSignatureValue (the end of the TBSCertList)
# changed, the classical ECDSA P-384 signature made again over it
/usr/bin/python3 - cat-02.crl cat/ca.key cat.crl.tmp <<'PY'
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
src, keyfile, out = sys.argv[1:]
d = open(src, 'rb').read()
def tlv(b, i):  # (start of value, end) of the TLV at i
    n = b[i + 1]
    if n < 0x80:
        return i + 2, i + 2 + n
    k = n & 0x7f
    return i + 2 + k, i + 2 + k + int.from_bytes(b[i + 2:i + 2 + k], 'big')
def enc(tag, v):
    n = len(v)
    if n < 0x80:
        return bytes([tag, n]) + v
    ln = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([tag, 0x80 | len(ln)]) + ln + v
_, end = tlv(d, 0)
vs, _ = tlv(d, 0)
_, tbs_end = tlv(d, vs)
tbs = bytearray(d[vs:tbs_end])
_, alg_end = tlv(d, tbs_end)
alg = d[tbs_end:alg_end]
assert alg == bytes.fromhex('300a06082a8648ce3d040303'), alg.hex()  # ecdsa-with-SHA384
tbs[-1] ^= 1
key = serialization.load_pem_private_key(open(keyfile, 'rb').read(), None)
sig = key.sign(bytes(tbs), ec.ECDSA(hashes.SHA384()))
open(out, 'wb').write(enc(0x30, bytes(tbs) + alg + enc(0x03, b'\0' + sig)))
PY
o=$(openssl crl -inform DER -in cat.crl.tmp -CAfile cat/ca.crt -noout 2>&1 || true)
expect_match "the changed Catalyst CRL: its classical signature verifies (openssl)" "$o" "^verify OK"
printf 'alt-crl cat.crl.tmp cat/ca.crt invalid\nalt-crl cat-02.crl cat/ca.crt valid\ncrl ml.crl.tmp ml/ca.crt invalid\ncrl ml-02.crl ml/ca.crt valid\n' > manifest2.txt
node "$TESTS/interop/pq_x509_noble.mjs" manifest2.txt > noble2.log 2>&1 || fail "noble: $(cat noble2.log)"
mv ml.crl.tmp ml.crl
mv cat.crl.tmp cat.crl
wait_for "the ML-DSA CRL with a bad signature refused" 10 sh -c \
    "grep -q 'msg=\"CRL refused\" ca=ml .*signature does not verify.*action=\"previous CRL kept\"' '$WORK/algs.log'"
wait_for "the Catalyst CRL with a bad alternative signature refused" 10 sh -c \
    "grep -q 'msg=\"CRL refused\" ca=cat .*alternative (Catalyst) signature does not verify.*action=\"previous CRL kept\"' '$WORK/algs.log'"
expect_eq "qpki_crl_refused_total (ml)" "$(refused ml)" 1
expect_eq "qpki_crl_refused_total (cat)" "$(refused cat)" 1
for ca in ml cat; do
    expect_match "$ca: CRL 01 still in use" "$(curl -s "$ADMIN/healthz")" "crl ca=$ca source=$ca.crl kind=complete state=ok number=01 "
    out=$("$QPKI" ocsp request --ca "$ca/ca.crt" --cert "$ca-2.crt" --url "$URL" --post 2>&1) ||
        fail "$ca-2: $out"
    expect_match "$ca: certificate 2 still good (the refused CRL revokes it)" "$out" ": good"
done
# the good CRLs 02: taken
cp ml-02.crl ml.crl
cp cat-02.crl cat.crl
for ca in ml cat; do
    wait_for "$ca: CRL 02 taken" 10 sh -c "curl -s '$ADMIN/healthz' | grep -q 'crl ca=$ca source=$ca.crl kind=complete state=ok number=02 '"
    out=$("$QPKI" ocsp request --ca "$ca/ca.crt" --cert "$ca-2.crt" --url "$URL" --post 2>&1) || true
    expect_match "$ca: certificate 2 revoked from CRL 02" "$out" ": revoked$"
    expect_match "$ca: ... superseded" "$out" "Reason: superseded"
done
"$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null 2>&1 || true
ok "a wrong ML-DSA signature and a wrong Catalyst alternative signature: refused, the previous CRL kept"
echo "all CRL algorithm checks passed"
