#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/crl.sh - qpki crl gen for EC, RSA and Ed25519 CAs (ML-DSA and Catalyst:
# tests/interop/pq_x509_noble.sh), checked by independent implementations:
#   - openssl crl -CAfile ("verify OK") and the entries it prints;
#   - GnuTLS certtool --verify-crl;
#   - Python cryptography (crl_check.py): the signature, and every entry against
#     index.txt read by Python (reasons, hold instructions, invalidity dates,
#     expired rows left out), for the complete and the delta CRL;
#   - openssl verify -crl_check -extended_crl -use_deltas with the base and the
#     delta: revoked in the base, revoked in the delta, released from hold
#     (removeFromCRL), never revoked;
# and crlnumber (QPKI's layout), crl/ca.crl, --der, and the error cases.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
CHECK="$PY $HERE/crl_check.py"

# issue CA N: N certificates from one CSR; their serials in serials-CA.txt
issue() {
    local ca=$1 n=$2 i
    : >"serials-$ca.txt"
    for i in $(seq 1 "$n"); do
        qpki cert issue --ca-dir "$ca" --profile ec/tls-server --csr leaf.csr \
            --var dns_names=leaf.example --out "$ca-$i.crt" >/dev/null 2>&1
        "$OPENSSL" x509 -in "$ca-$i.crt" -noout -serial | cut -d= -f2 >>"serials-$ca.txt"
    done
}
serial() { sed -n "${2}p" "serials-$1.txt"; }
# set the revocation field of a row (index.txt rewritten in place, as an operator
# of `openssl ca` would; `qpki cert revoke` has no hold-instruction option)
set_revocation() { # CA SERIAL STATUS FIELD
    "$PY" - "$1/index.txt" "$2" "$3" "$4" <<'EOF'
import sys
path, serial, status, field = sys.argv[1:]
lines = open(path).read().splitlines()
for i, l in enumerate(lines):
    f = l.split("\t")
    if f[3].upper() == serial.upper():
        f[0], f[2] = status, field
        lines[i] = "\t".join(f)
open(path, "w").write("\n".join(lines) + "\n")
EOF
}

check "key gen" qpki key gen --out leaf.key
check "csr create" qpki csr create --key leaf.key --cn leaf.example --out leaf.csr

for kind in ec rsa ed; do
    ca=ca-$kind
    check "$kind: ca init" qpki ca init --ca-dir "$ca" --profile "$kind/root-ca" --var cn="CRL Test $kind CA"
    issue "$ca" 7
    check "$kind: revoke keyCompromise" qpki cert revoke --ca-dir "$ca" --serial "$(serial $ca 1)" \
        --reason keyCompromise --time 2026-03-01T12:00:00Z
    check "$kind: revoke certificateHold" qpki cert revoke --ca-dir "$ca" --serial "$(serial $ca 2)" \
        --reason certificateHold --time 2026-03-02T12:00:00Z
    check "$kind: revoke without reason" qpki cert revoke --ca-dir "$ca" --serial "$(serial $ca 3)"
    check "$kind: revoke unspecified" qpki cert revoke --ca-dir "$ca" --serial "$(serial $ca 6)" \
        --reason unspecified
    # a hold instruction and an invalidity date as `openssl ca -crl_hold/-crl_compromise` write them
    set_revocation "$ca" "$(serial $ca 2)" R "260302120000Z,holdInstruction,holdInstructionCallIssuer"
    set_revocation "$ca" "$(serial $ca 4)" R "260304120000Z,keyTime,20260201000000Z"
    # revoked, but expired: not listed
    "$PY" - "$ca/index.txt" "$(serial $ca 7)" <<'EOF'
import sys
path, serial = sys.argv[1:]
lines = open(path).read().splitlines()
for i, l in enumerate(lines):
    f = l.split("\t")
    if f[3].upper() == serial.upper():
        f[0], f[1], f[2] = "R", "200101000000Z", "191231000000Z,superseded"
        lines[i] = "\t".join(f)
open(path, "w").write("\n".join(lines) + "\n")
EOF
    check "$kind: crl gen" qpki crl gen --ca-dir "$ca" --out "$kind.crl" --next-update 2d \
        --freshest-crl "http://crl.example/$kind-delta.crl"
    expect_grep "$kind: ... summary" "^Complete CRL number 01: 5 entries" "$last_out"
    expect_grep "$kind: crlnumber holds the next number" "^02$" "$ca/crlnumber"
    check "$kind: crl/ca.crl is kept" cmp <("$OPENSSL" crl -in "$ca/crl/ca.crl" -outform DER) \
        <("$OPENSSL" crl -in "$kind.crl" -outform DER)
    check "$kind: crl/ca.crl.der is kept" cmp "$ca/crl/ca.crl.der" <("$OPENSSL" crl -in "$kind.crl" -outform DER)
    "$OPENSSL" crl -in "$kind.crl" -CAfile "$ca/ca.crt" -noout -text >"$TMP/o.txt" 2>&1 || true
    expect_grep "$kind: openssl crl -CAfile: verify OK" "^verify OK" "$TMP/o.txt"
    check "$kind: ... CRL Number 1" bash -c "grep -A1 'X509v3 CRL Number' '$TMP/o.txt' | grep -qx ' *1'"
    expect_grep "$kind: ... Hold Instruction Call Issuer" "Hold Instruction Call Issuer" "$TMP/o.txt"
    expect_grep "$kind: ... Invalidity Date" "Invalidity Date" "$TMP/o.txt"
    expect_grep "$kind: ... Freshest CRL" "URI:http://crl.example/$kind-delta.crl" "$TMP/o.txt"
    expect_no_grep "$kind: ... the expired certificate is not listed" "Serial Number: $(serial $ca 7)" "$TMP/o.txt"
    check "$kind: certtool --verify-crl" certtool --verify-crl --load-ca-certificate "$ca/ca.crt" \
        --infile "$kind.crl"
    expect_grep "$kind: ... Verified" "Verified" "$last_out"
    check "$kind: Python cryptography: signature and entries" $CHECK "$kind.crl" "$ca/ca.crt" "$ca/index.txt"
    expect_grep "$kind: ... 5 entries" "^match: 5 entries, cRLNumber 1$" "$last_out"

    # ---- delta: one more revoked, the hold released, one entry changed
    check "$kind: revoke cessationOfOperation" qpki cert revoke --ca-dir "$ca" --serial "$(serial $ca 5)" \
        --reason cessationOfOperation
    set_revocation "$ca" "$(serial $ca 2)" V ""
    when=$(awk -F'\t' -v s="$(serial $ca 3)" '$4 == s {print $3}' "$ca/index.txt")
    set_revocation "$ca" "$(serial $ca 3)" R "$when,superseded"
    check "$kind: crl gen --delta --der" qpki crl gen --ca-dir "$ca" --delta --der --out "$kind-delta.crl"
    expect_grep "$kind: ... summary" "^Delta CRL number 02: 3 entries" "$last_out"
    check "$kind: crl/ca-delta.crl.der is kept" cmp "$ca/crl/ca-delta.crl.der" "$kind-delta.crl"
    "$OPENSSL" crl -inform DER -in "$kind-delta.crl" -CAfile "$ca/ca.crt" -noout -text >"$TMP/d.txt" 2>&1 || true
    expect_grep "$kind: delta: openssl crl -CAfile: verify OK" "^verify OK" "$TMP/d.txt"
    expect_grep "$kind: ... Delta CRL Indicator: critical" "Delta CRL Indicator: critical" "$TMP/d.txt"
    expect_grep "$kind: ... Remove From CRL" "Remove From CRL" "$TMP/d.txt"
    check "$kind: delta: Python cryptography against the base and index.txt" \
        $CHECK "$kind-delta.crl" "$ca/ca.crt" "$ca/index.txt" --base "$kind.crl"
    expect_grep "$kind: ... 3 entries, number 2" "^match: 3 entries, cRLNumber 2$" "$last_out"
    "$OPENSSL" crl -inform DER -in "$kind-delta.crl" -out "$kind-delta.pem"
    # openssl with the base and the delta (-extended_crl: a delta is not taken for a complete CRL)
    for i in 1 2 3 4 5 6; do
        "$OPENSSL" verify -crl_check -extended_crl -use_deltas -CAfile "$ca/ca.crt" \
            -CRLfile "$kind.crl" -CRLfile "$kind-delta.pem" "$ca-$i.crt" >"$TMP/v.txt" 2>&1 || true
        case $i in
        2) expect_grep "$kind: openssl verify base+delta: #$i released from hold is OK" ": OK$" "$TMP/v.txt" ;;
        *) expect_grep "$kind: openssl verify base+delta: #$i is revoked" "certificate revoked" "$TMP/v.txt" ;;
        esac
    done
    "$OPENSSL" verify -crl_check -CAfile "$ca/ca.crt" -CRLfile "$kind.crl" "$ca-5.crt" >"$TMP/v.txt" 2>&1 || true
    expect_grep "$kind: ... #5 without the delta is OK (the delta carries it)" ": OK$" "$TMP/v.txt"
done

# ---- numbering, output forms, errors
check "a second complete CRL" qpki crl gen --ca-dir ca-ec --out ec2.crl
expect_grep "... takes number 03" "^Complete CRL number 03:" "$last_out"
expect_grep "... crlnumber is 04" "^04$" ca-ec/crlnumber
check "PEM to standard output" bash -c "qpki crl gen --ca-dir ca-ec > stdout.crl 2>stderr.txt"
expect_grep "... PEM" "^-----BEGIN X509 CRL-----" stdout.crl
expect_grep "... the summary on standard error" "^Complete CRL number 04:" stderr.txt
mkdir -p nocrl && cp -r ca-rsa/. nocrl/ && rm -rf nocrl/crl
expect_rc 2 "--delta without a complete CRL" qpki crl gen --ca-dir nocrl --delta --out x.crl
expect_grep "... says so" "needs a complete CRL first" "$last_out"
mkdir -p nocrl/crl && cp ca-ec/crl/ca.crl nocrl/crl/ca.crl
expect_rc 2 "--delta against another CA's CRL" qpki crl gen --ca-dir nocrl --delta --out x.crl
expect_grep "... says so" "not signed by the CA certificate" "$last_out"
expect_rc 2 "--next-update 0s" qpki crl gen --ca-dir ca-ec --next-update 0s
expect_rc 2 "--freshest-crl with --delta" qpki crl gen --ca-dir ca-ec --delta --freshest-crl http://x/
expect_rc 2 "--freshest-crl that is not a URI" qpki crl gen --ca-dir ca-ec --freshest-crl 'no uri'
expect_rc 2 "not a CA directory" qpki crl gen --ca-dir /nonexistent
echo "zz" >nocrl/crlnumber
expect_rc 2 "a crlnumber that is not hex" qpki crl gen --ca-dir nocrl --out x.crl
expect_grep "... says so" "crlnumber" "$last_out"

finish
