#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/interop/pq_x509_noble.sh - ML-DSA and Catalyst certificates, responses and
# CRLs made through the qpki CLI, for ML-DSA-44, -65 and -87, checked by independent code:
#   - @noble/post-quantum with its own DER walker (pq_x509_noble.mjs): ML-DSA
#     certificate signatures over the TBSCertificate, Catalyst alternative signatures
#     over the TBSCertificate re-encoded without `signature` and 2.5.29.74, pure
#     ML-DSA response signatures over tbsResponseData, Catalyst response alternative
#     signatures; tampered copies must fail;
#   - openssl (which knows no ML-DSA): `openssl verify` and `openssl x509` accept the
#     classical side of the Catalyst certificates, `openssl ocsp -respin ... -CAfile`
#     says "Response verify OK" for the Catalyst responses, `openssl crl -CAfile` says
#     "verify OK" for the Catalyst CRLs.
#   pq_x509_noble.sh PATH/TO/qpki
set -euo pipefail
qpki=$(realpath "${1:?usage: pq_x509_noble.sh PATH/TO/qpki}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NOBLE=$(sh "$here/noble.sh") # the pinned @noble/post-quantum
export NOBLE
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

pass=0
fails=0
ok() { pass=$((pass + 1)); echo "ok $pass - $*"; }
fail() { fails=$((fails + 1)); echo "FAIL - $*"; }
run() { # run "description" command... (must succeed)
  local what=$1; shift
  if "$@" >.out 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    | /' .out; fi
}
expect_rc() {
  local want=$1 what=$2 rc=0; shift 2
  "$@" >.out 2>&1 || rc=$?
  if [[ $rc == "$want" ]]; then ok "$what (exit $rc)"; else fail "$what: exit $rc, want $want"; sed 's/^/    | /' .out; fi
}
has() { # has "description" PATTERN (grep -E in .out)
  if grep -Eq -- "$2" .out; then ok "$1"; else fail "$1: /$2/ not in the output"; sed 's/^/    | /' .out; fi
}

# Flip one digit of the first time value (GeneralizedTime 18 0f, else UTCTime 17 0d):
# the encoding stays valid DER, the signed bytes change.
tamper() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
if data[:5] == b'-----':
    import base64, re
    data = bytearray(base64.b64decode(b''.join(re.findall(rb'^[A-Za-z0-9+/=]+$', bytes(data), re.M))))
# The first time in the encoding (notBefore, thisUpdate, producedAt: early in
# what both signatures cover).  Not the first GeneralizedTime tag anywhere: in a
# certificate with UTCTime validity that could be two random octets inside the
# altSignatureValue, which the alternative signature does not cover.
hits = [i for i in (data.find(b'\x18\x0f'), data.find(b'\x17\x0d')) if i >= 0]
i = min(hits)
z = i + 2 + data[i + 1] - 2   # the last seconds digit, before 'Z'
data[z] = ord('1') if data[z] == ord('0') else ord('0')
open(sys.argv[2], 'wb').write(bytes(data))
EOF
}

# Minimal profiles with the parameter set under test.
profile() { # profile FILE NAME ALGORITHM ALT(or -) ca|responder|server
  {
    echo "name: $2"
    echo "algorithm: $3"
    [[ $4 != - ]] && echo "alt_algorithm: $4"
    echo "validity: 30d"
    echo "variables:"
    echo "  cn: {type: string, required: true}"
    echo "subject:"
    echo "  cn: \"{{ cn }}\""
    echo "extensions:"
    case $5 in
    ca)
      echo "  basicConstraints: {critical: true, ca: true}"
      echo "  keyUsage: {critical: true, values: [keyCertSign, cRLSign, digitalSignature]}" ;;
    responder)
      echo "  basicConstraints: {critical: true, ca: false}"
      echo "  keyUsage: {critical: true, values: [digitalSignature]}"
      echo "  extKeyUsage: {values: [ocspSigning]}"
      echo "  ocspNoCheck: true" ;;
    server)
      echo "  basicConstraints: {critical: true, ca: false}"
      echo "  keyUsage: {critical: true, values: [digitalSignature]}"
      echo "  extKeyUsage: {values: [serverAuth]}" ;;
    esac
    echo "  subjectKeyIdentifier: true"
    echo "  authorityKeyIdentifier: true"
  } >"$1"
}

manifest=checks.txt
: >"$manifest"
want() { echo "$*" >>"$manifest"; }

for n in 44 65 87; do
  ml=ml-dsa-$n
  # ---- pure ML-DSA: CA, delegated responder (credential), server from a CSR, responses
  profile ml-ca-$n.yaml "test/ml-ca-$n" "$ml" - ca
  profile ml-resp-$n.yaml "test/ml-resp-$n" "$ml" - responder
  profile ml-srv-$n.yaml "test/ml-srv-$n" "$ml" - server
  run "$ml: ca init" "$qpki" ca init --ca-dir ml$n --profile ml-ca-$n.yaml --var cn="ML-DSA-$n CA"
  run "$ml: credential enroll" "$qpki" credential enroll --ca-dir ml$n --cred-dir creds \
    --profile ml-resp-$n.yaml --var cn=ocsp$n.example --id ml$n
  run "$ml: key gen" "$qpki" key gen --algo "$ml" --out srv$n.key
  run "$ml: csr create" "$qpki" csr create --key srv$n.key --cn srv$n.example --out srv$n.csr
  run "$ml: cert issue" "$qpki" cert issue --ca-dir ml$n --profile ml-srv-$n.yaml --csr srv$n.csr \
    --out srv$n.crt
  run "$ml: delegated response" "$qpki" ocsp sign --serial 0A --status revoked \
    --revocation-reason keyCompromise --revocation-time 2024-01-15T10:00:00Z --ca ml$n/ca.crt \
    --credential ml$n --cred-dir creds --out ml$n.der
  run "$ml: CA-signed response" "$qpki" ocsp sign --serial 0B --status good --ca ml$n/ca.crt \
    --cert ml$n/ca.crt --key ml$n/ca.key --out ml$n-ca.der
  run "$ml: qpki verify --require-pq" "$qpki" ocsp verify --response ml$n.der --ca ml$n/ca.crt --require-pq
  has "$ml: ... post-quantum: OK" "^Signatures: post-quantum: OK \(ML-DSA-$n\)"
  tamper ml$n.der ml$n-bad.der
  tamper srv$n.crt srv$n-bad.crt
  expect_rc 1 "$ml: qpki rejects the tampered response" "$qpki" ocsp verify --response ml$n-bad.der \
    --ca ml$n/ca.crt
  want cert ml$n/ca.crt ml$n/ca.crt valid
  want cert creds/ml$n/ml$n.crt ml$n/ca.crt valid
  want cert srv$n.crt ml$n/ca.crt valid
  want cert srv$n-bad.crt ml$n/ca.crt invalid
  want resp ml$n.der - valid
  want resp ml$n-ca.der ml$n/ca.crt valid
  want resp ml$n-bad.der - invalid
  # CRLs: complete (the server certificate revoked), then a delta
  run "$ml: cert revoke" "$qpki" cert revoke --ca-dir ml$n --serial "$(openssl x509 -in srv$n.crt -noout -serial | cut -d= -f2)" \
    --reason keyCompromise
  run "$ml: crl gen" "$qpki" crl gen --ca-dir ml$n --out ml$n.crl
  run "$ml: crl gen --delta --der" "$qpki" crl gen --ca-dir ml$n --delta --der --out ml$n-delta.crl
  tamper ml$n.crl ml$n-bad.crl
  want crl ml$n.crl ml$n/ca.crt valid
  want crl ml$n-delta.crl ml$n/ca.crt valid
  want crl ml$n-bad.crl ml$n/ca.crt invalid
  want crl ml$n.crl creds/ml$n/ml$n.crt invalid

  # ---- Catalyst: ECDSA P-384 + ML-DSA-n CA, responder, CSR-issued server, responses
  profile cat-ca-$n.yaml "test/cat-ca-$n" ecdsa-p384 "$ml" ca
  profile cat-resp-$n.yaml "test/cat-resp-$n" ecdsa-p384 "$ml" responder
  profile cat-srv-$n.yaml "test/cat-srv-$n" ecdsa-p256 "$ml" server
  run "Catalyst $ml: ca init" "$qpki" ca init --ca-dir cat$n --profile cat-ca-$n.yaml --var cn="Catalyst $n CA"
  run "Catalyst $ml: credential enroll" "$qpki" credential enroll --ca-dir cat$n --cred-dir creds \
    --profile cat-resp-$n.yaml --var cn=hybrid$n.example --id cat$n
  run "Catalyst $ml: keys" bash -c "'$qpki' key gen --algo ecdsa-p256 --out hs$n.key && '$qpki' key gen --algo $ml --out hs$n.alt.key"
  run "Catalyst $ml: csr create --alt-key" "$qpki" csr create --key hs$n.key --alt-key hs$n.alt.key \
    --cn hs$n.example --out hs$n.csr
  run "Catalyst $ml: cert issue from the hybrid CSR" "$qpki" cert issue --ca-dir cat$n \
    --profile cat-srv-$n.yaml --csr hs$n.csr --out hs$n.crt
  run "Catalyst $ml: response" "$qpki" ocsp sign --serial 0C --status good --ca cat$n/ca.crt \
    --credential cat$n --cred-dir creds --out cat$n.der
  run "Catalyst $ml: CA-signed response" "$qpki" ocsp sign --serial 0D --status revoked \
    --revocation-reason superseded --ca cat$n/ca.crt --cert cat$n/ca.crt --key cat$n/ca.key \
    --alt-key cat$n/ca.alt.key --out cat$n-ca.der
  run "Catalyst $ml: qpki verify --require-pq" "$qpki" ocsp verify --response cat$n.der \
    --ca cat$n/ca.crt --require-pq
  has "Catalyst $ml: ... both signatures" "classical: OK, post-quantum: OK \(ecdsa-with-SHA384 \+ ML-DSA-$n\)"
  has "Catalyst $ml: ... and the responder certificate's" "Responder certificate: post-quantum signature by the CA: OK"
  for f in cat$n.der cat$n-ca.der; do
    openssl ocsp -respin "$f" -CAfile cat$n/ca.crt -issuer cat$n/ca.crt -no_nonce >.out 2>&1 || true
    has "Catalyst $ml: openssl ocsp -respin $f" "^Response verify OK"
  done
  run "Catalyst $ml: openssl verify (classical chain)" openssl verify -CAfile cat$n/ca.crt \
    creds/cat$n/cat$n.crt hs$n.crt
  openssl x509 -in hs$n.crt -noout -text >.out 2>&1 || true
  has "Catalyst $ml: openssl x509 shows the three extensions" "2\.5\.29\.74"
  tamper hs$n.crt hs$n-bad.crt
  tamper cat$n.der cat$n-bad.der
  expect_rc 1 "Catalyst $ml: qpki rejects the tampered response" "$qpki" ocsp verify \
    --response cat$n-bad.der --ca cat$n/ca.crt
  want alt-cert cat$n/ca.crt cat$n/ca.crt valid
  want alt-cert creds/cat$n/cat$n.crt cat$n/ca.crt valid
  want alt-cert hs$n.crt cat$n/ca.crt valid
  want alt-cert hs$n-bad.crt cat$n/ca.crt invalid
  want alt-cert creds/cat$n/cat$n.crt ml$n/ca.crt invalid
  want alt-resp cat$n.der - valid
  want alt-resp cat$n-ca.der cat$n/ca.crt valid
  want alt-resp cat$n-bad.der - invalid
  # Catalyst CRLs: both signatures
  run "Catalyst $ml: cert revoke" "$qpki" cert revoke --ca-dir cat$n \
    --serial "$(openssl x509 -in hs$n.crt -noout -serial | cut -d= -f2)" --reason superseded
  run "Catalyst $ml: crl gen" "$qpki" crl gen --ca-dir cat$n --out cat$n.crl
  has "Catalyst $ml: ... two signatures" "Catalyst: two signatures"
  openssl crl -in cat$n.crl -CAfile cat$n/ca.crt -noout >.out 2>&1 || true
  has "Catalyst $ml: openssl crl -CAfile (classical signature)" "^verify OK"
  tamper cat$n.crl cat$n-bad.crl
  want alt-crl cat$n.crl cat$n/ca.crt valid
  want alt-crl cat$n-bad.crl cat$n/ca.crt invalid
  want alt-crl cat$n.crl creds/cat$n/cat$n.crt invalid
done

node "$here/pq_x509_noble.mjs" "$manifest" && ok "noble: every signature as expected" ||
  fail "noble: some signatures were not as expected"
echo "# $pass passed, $fails failed"
[[ $fails == 0 ]]
