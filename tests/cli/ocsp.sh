#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/ocsp.sh - qpki ocsp sign | verify | request | info: every signer
# mode and status checked by openssl and Python cryptography, the flag forms,
# and every error path with its exit code.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ORACLE="$PY $HERE/pyoracle.py"

field() { grep -E "^$1=" "$TMP/.py" | head -1 | cut -d= -f2-; }
pycheck() { # pycheck DESC RESP CA KEY VALUE
    $ORACLE response "$2" "$3" >"$TMP/.py" 2>&1 || true
    local got
    got=$(field "$4")
    if [ "$got" = "$5" ]; then ok "$1 ($4=$5)"; else fail "$1: $4='$got', expected '$5'"; sed 's/^/    | /' "$TMP/.py"; fi
}

# ---- a PKI: root CA, delegated responder (credential and files), a TLS server ---
check "ca init" qpki ca init --ca-dir ca --var cn="OCSP Test CA"
cp ca/ca.crt ca.crt
check "responder credential" qpki credential enroll --ca-dir ca --cred-dir creds \
    --profile ec/ocsp-responder --var cn=ocsp.test --id resp
cp creds/resp/resp.crt responder.crt
cp creds/resp/resp.key responder.key
check "server key" qpki key gen --algo ecdsa-p256 --out server.key
check "server csr" qpki csr create --key server.key --cn www.test --out server.csr
check "server cert" qpki cert issue --ca-dir ca --profile ec/tls-server --csr server.csr --out server.crt
SERVER=$("$OPENSSL" x509 -in server.crt -noout -serial | cut -d= -f2)
RSERIAL=$("$OPENSSL" x509 -in responder.crt -noout -serial | cut -d= -f2)

# ---- sign: three signer modes x three statuses, openssl + python oracles ---------
for mode in credential certkey casigned; do
    case $mode in
    credential) signer=(--credential resp --cred-dir creds) ;;
    certkey) signer=(--cert responder.crt --key responder.key) ;;
    casigned) signer=(--cert ca.crt --key ca/ca.key) ;;
    esac
    for status in good revoked unknown; do
        extra=()
        [ $status = revoked ] && extra=(--revocation-time 2024-01-15T10:00:00Z --revocation-reason keyCompromise)
        check "sign $mode $status" qpki ocsp sign --serial 0A1B2C3D --status $status --ca ca.crt \
            "${signer[@]}" "${extra[@]}" --out "r-$mode-$status.der"
        ossl_ocsp "r-$mode-$status.der" ca.crt 0A1B2C3D || true
        expect_grep "openssl: $mode $status response verifies" "^Response verify OK" "$TMP/.ossl"
        expect_grep "openssl: $mode $status status" "^0x0A1B2C3D: $status" "$TMP/.ossl"
        pycheck "python: $mode $status signature" "r-$mode-$status.der" ca.crt signature ok
        pycheck "python: $mode $status status" "r-$mode-$status.der" ca.crt cert_status "$(echo $status | tr a-z A-Z)"
    done
done
ossl_ocsp r-certkey-revoked.der ca.crt 0A1B2C3D || true
expect_grep "openssl: revocation reason" "Reason: keyCompromise" "$TMP/.ossl"
expect_grep "openssl: revocation time" "Revocation Time: Jan 15 10:00:00 2024 GMT" "$TMP/.ossl"
pycheck "python: revocation time" r-certkey-revoked.der ca.crt revocation_time 2024-01-15T10:00:00Z
pycheck "python: revocation reason" r-certkey-revoked.der ca.crt revocation_reason key_compromise
pycheck "python: delegated response carries the responder cert" r-certkey-good.der ca.crt certificates 1
pycheck "python: the responder cert is issued by the CA" r-certkey-good.der ca.crt responder_cert_issued_by_ca ok
pycheck "python: CA-signed response carries no certificate" r-casigned-good.der ca.crt certificates 0
pycheck "python: responder ID byKey" r-certkey-good.der ca.crt responder_id by_key
pycheck "python: responder key hash" r-certkey-good.der ca.crt responder_key_hash_ok True
pycheck "python: CA-signed responder ID byName (default)" r-casigned-good.der ca.crt responder_id by_name
pycheck "python: ... the CA's name" r-casigned-good.der ca.crt responder_name_ok True
check "sign CA-signed --responder-id key" qpki ocsp sign --serial 0A1B2C3D --status good --ca ca.crt \
    --cert ca.crt --key ca/ca.key --responder-id key --out r-casigned-bykey.der
pycheck "python: --responder-id key" r-casigned-bykey.der ca.crt responder_id by_key
pycheck "python: CA-signed key hash" r-casigned-bykey.der ca.crt responder_key_hash_ok True
check "sign delegated --responder-id name" qpki ocsp sign --serial 0A1B2C3D --status good --ca ca.crt \
    --cert responder.crt --key responder.key --responder-id name --out r-certkey-byname.der
pycheck "python: --responder-id name" r-certkey-byname.der ca.crt responder_name_ok True
expect_rc 2 "--responder-id other" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert ca.crt --key ca/ca.key --responder-id other
pycheck "python: issuerNameHash" r-certkey-good.der ca.crt issuer_name_hash_ok True
pycheck "python: issuerKeyHash" r-certkey-good.der ca.crt issuer_key_hash_ok True
pycheck "python: default CertID hash sha1" r-certkey-good.der ca.crt hash_algorithm sha1
pycheck "python: default validity 1h" r-certkey-good.der ca.crt validity_seconds 3600
pycheck "python: nextUpdate always present" r-certkey-good.der ca.crt validity_seconds 3600

# every RFC 5280 reason, names case-insensitive
i=0
for r in unspecified keyCompromise CACOMPROMISE affiliationchanged superseded cessationOfOperation \
         certificateHold removeFromCRL privilegeWithdrawn aACompromise; do
    case $r in
    unspecified) want=unspecified ;; keyCompromise) want=key_compromise ;;
    CACOMPROMISE) want=ca_compromise ;; affiliationchanged) want=affiliation_changed ;;
    superseded) want=superseded ;; cessationOfOperation) want=cessation_of_operation ;;
    certificateHold) want=certificate_hold ;; removeFromCRL) want=remove_from_crl ;;
    privilegeWithdrawn) want=privilege_withdrawn ;; aACompromise) want=aa_compromise ;;
    esac
    check "sign reason $r" qpki ocsp sign --serial 0A1B2C3D --status revoked --revocation-reason "$r" \
        --ca ca.crt --cert responder.crt --key responder.key --out reason.der
    pycheck "python: reason $r" reason.der ca.crt revocation_reason "$want"
    i=$((i + 1))
done
check "sign revoked without reason" qpki ocsp sign --serial 0A1B2C3D --status revoked \
    --ca ca.crt --cert responder.crt --key responder.key --out noreason.der
pycheck "python: no reason given" noreason.der ca.crt revocation_reason none

# serial forms: leading zeros, 0x, either case -> the same CertID serial
for s in 0A1B2C3D 000a1b2c3d 0x0A1B2C3D 0XA1B2C3D a1b2c3d 0a:1b:2c:3d; do
    check "sign --serial $s" qpki ocsp sign --serial "$s" --status good --ca ca.crt \
        --cert responder.crt --key responder.key --out serial.der
    pycheck "python: serial from '$s'" serial.der ca.crt serial A1B2C3D
done
# a serial with the high bit set is a positive INTEGER with a leading 00
check "sign --serial 80FF" qpki ocsp sign --serial 80FF --status good --ca ca.crt \
    --cert responder.crt --key responder.key --out serial.der
ossl_ocsp serial.der ca.crt 80FF || true
expect_grep "openssl: serial 80FF (positive)" "^0x80FF: good" "$TMP/.ossl"

# durations
for v in 30s:30 15m:900 1h30m:5400 7d:604800 2w:1209600; do
    check "sign --validity ${v%%:*}" qpki ocsp sign --serial 01 --status good --validity "${v%%:*}" \
        --ca ca.crt --cert responder.crt --key responder.key --out v.der
    pycheck "python: validity ${v%%:*}" v.der ca.crt validity_seconds "${v##*:}"
done

# --hash, --nonce, --no-certs, stdout output
check "sign --hash sha256" qpki ocsp sign --serial 01 --status good --hash sha256 \
    --ca ca.crt --cert responder.crt --key responder.key --out h.der
pycheck "python: CertID hash sha256" h.der ca.crt hash_algorithm sha256
pycheck "python: sha256 issuer key hash" h.der ca.crt issuer_key_hash_ok True
check "sign --nonce" qpki ocsp sign --serial 01 --status good --nonce 0102030405060708 \
    --ca ca.crt --cert responder.crt --key responder.key --out n.der
pycheck "python: nonce echoed" n.der ca.crt nonce 0102030405060708
check "sign --no-certs" qpki ocsp sign --serial 01 --status good --no-certs \
    --ca ca.crt --cert responder.crt --key responder.key --out nc.der
pycheck "python: --no-certs" nc.der ca.crt certificates 0
qpki ocsp sign --serial 01 --status good --ca ca.crt --cert responder.crt --key responder.key >stdout.der
pycheck "sign writes DER to stdout without --out" stdout.der ca.crt cert_status GOOD

# other key types as responders (and CA-signed by an RSA / Ed25519 CA)
for fam in rsa ed; do
    check "$fam CA" qpki ca init --ca-dir "ca-$fam" --profile "$fam/root-ca" --var cn="$fam CA"
    check "$fam responder" qpki credential enroll --ca-dir "ca-$fam" --cred-dir creds \
        --profile "$fam/ocsp-responder" --var cn="$fam-ocsp" --id "resp-$fam"
    check "$fam sign" qpki ocsp sign --serial 0A --status revoked --revocation-reason superseded \
        --ca "ca-$fam/ca.crt" --credential "resp-$fam" --cred-dir creds --out "r-$fam.der"
    ossl_ocsp "r-$fam.der" "ca-$fam/ca.crt" 0A || true
    expect_grep "openssl: $fam response verifies" "^Response verify OK" "$TMP/.ossl"
    expect_grep "openssl: $fam revoked superseded" "Reason: superseded" "$TMP/.ossl"
    pycheck "python: $fam signature" "r-$fam.der" "ca-$fam/ca.crt" signature ok
    check "$fam CA-signed" qpki ocsp sign --serial 0A --status good --ca "ca-$fam/ca.crt" \
        --cert "ca-$fam/ca.crt" --key "ca-$fam/ca.key" --out "rc-$fam.der"
    ossl_ocsp "rc-$fam.der" "ca-$fam/ca.crt" 0A || true
    expect_grep "openssl: $fam CA-signed verifies" "^Response verify OK" "$TMP/.ossl"
    check "qpki verify $fam" qpki ocsp verify --response "r-$fam.der" --ca "ca-$fam/ca.crt"
done
"$OPENSSL" ocsp -respin r-rsa.der -resp_text -noverify 2>/dev/null >"$TMP/rsa.txt"
expect_grep "RSA responses use sha256WithRSAEncryption" "Signature Algorithm: sha256WithRSAEncryption" "$TMP/rsa.txt"

# ---- sign: usage errors (exit 2) --------------------------------------------------------
K=(--cert responder.crt --key responder.key)
expect_rc 2 "sign without --serial" qpki ocsp sign --status good --ca ca.crt "${K[@]}"
expect_rc 2 "sign without --status" qpki ocsp sign --serial 01 --ca ca.crt "${K[@]}"
expect_rc 2 "sign without --ca" qpki ocsp sign --serial 01 --status good "${K[@]}"
expect_rc 2 "sign bad status" qpki ocsp sign --serial 01 --status fine --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad serial" qpki ocsp sign --serial XYZ --status good --ca ca.crt "${K[@]}"
expect_rc 2 "sign empty serial" qpki ocsp sign --serial "" --status good --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad revocation time" qpki ocsp sign --serial 01 --status revoked \
    --revocation-time 2024-13-01T00:00:00Z --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad revocation time format" qpki ocsp sign --serial 01 --status revoked \
    --revocation-time yesterday --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad reason" qpki ocsp sign --serial 01 --status revoked \
    --revocation-reason stolen --ca ca.crt "${K[@]}"
expect_rc 2 "sign reason with status good" qpki ocsp sign --serial 01 --status good \
    --revocation-reason keyCompromise --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad validity" qpki ocsp sign --serial 01 --status good --validity 1x --ca ca.crt "${K[@]}"
expect_rc 2 "sign zero validity" qpki ocsp sign --serial 01 --status good --validity 0s --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad nonce" qpki ocsp sign --serial 01 --status good --nonce 0g --ca ca.crt "${K[@]}"
expect_rc 2 "sign bad hash" qpki ocsp sign --serial 01 --status good --hash md5 --ca ca.crt "${K[@]}"
expect_rc 2 "sign --cert without --key" qpki ocsp sign --serial 01 --status good --ca ca.crt --cert responder.crt
expect_grep "  ... says so" "needs --key" "$last_out"
expect_rc 2 "sign --key without --cert" qpki ocsp sign --serial 01 --status good --ca ca.crt --key responder.key
expect_rc 2 "sign without any key" qpki ocsp sign --serial 01 --status good --ca ca.crt
expect_rc 2 "sign --credential with --cert" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --credential resp --cred-dir creds --cert responder.crt
expect_rc 2 "sign unknown credential" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --credential nosuch --cred-dir creds
expect_rc 2 "sign unreadable CA" qpki ocsp sign --serial 01 --status good --ca nosuch.crt "${K[@]}"
expect_rc 2 "sign unreadable key" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert responder.crt --key nosuch.key
expect_rc 2 "sign key not matching the certificate" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert responder.crt --key server.key
expect_rc 2 "sign with a responder of another CA" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --credential resp-rsa --cred-dir creds
expect_rc 2 "sign --key-label without --hsm-config" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert responder.crt --key-label x
expect_rc 2 "sign --hsm-config without key label/id" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert responder.crt --hsm-config hsm.yaml
expect_rc 2 "sign unknown option" qpki ocsp sign --serial 01 --status good --ca ca.crt "${K[@]}" --bogus
expect_rc 0 "sign --help" qpki ocsp sign --help
expect_grep "help lists --revocation-reason" "--revocation-reason" "$last_out"

# encrypted responder key
check "encrypted key" env PW=s3cret qpki key gen --algo ecdsa-p256 --passphrase-env PW --out enc.key
check "encrypted key csr" env PW=s3cret qpki csr create --key enc.key --passphrase-env PW --cn enc-ocsp --out enc.csr
check "encrypted key cert" qpki cert issue --ca-dir ca --profile ec/ocsp-responder --csr enc.csr --out enc.crt
expect_rc 2 "sign with an encrypted key and no passphrase" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert enc.crt --key enc.key
expect_grep "  ... asks for a passphrase" "passphrase" "$last_out"
expect_rc 2 "sign with a wrong passphrase" env PW=wrong qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert enc.crt --key enc.key --passphrase-env PW
printf 's3cret\n' >pw.txt
check "sign with --passphrase-file" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert enc.crt --key enc.key --passphrase-file pw.txt --out enc.der
ossl_ocsp enc.der ca.crt 01 || true
expect_grep "openssl: response signed with the encrypted key" "^Response verify OK" "$TMP/.ossl"

# ---- verify ------------------------------------------------------------------------------
check "verify good" qpki ocsp verify --response r-certkey-good.der --ca ca.crt
expect_grep "verify prints OK and the signer" "Response verify OK \(signed by delegated responder" "$last_out"
check "verify CA-signed" qpki ocsp verify --response r-casigned-revoked.der --ca ca.crt
expect_grep "verify prints revoked, reason, time" "Reason: keyCompromise" "$last_out"
check "verify --serial" qpki ocsp verify --response r-certkey-good.der --ca ca.crt --serial 0a1b2c3d
check "verify --nonce" qpki ocsp verify --response n.der --ca ca.crt --nonce 0102030405060708
check "verify PEM input" bash -c "$OPENSSL base64 -in r-certkey-good.der | \
    { echo '-----BEGIN OCSP RESPONSE-----'; cat; echo '-----END OCSP RESPONSE-----'; } >r.pem"
check "verify reads PEM" qpki ocsp verify --response r.pem --ca ca.crt
check "verify --quiet prints nothing" bash -c "test -z \"\$(qpki ocsp verify -q --response r-certkey-good.der --ca ca.crt)\""

expect_rc 2 "verify without --ca refuses" qpki ocsp verify --response r-certkey-good.der
expect_rc 2 "verify without --response" qpki ocsp verify --ca ca.crt
expect_rc 2 "verify unreadable response" qpki ocsp verify --response nosuch.der --ca ca.crt
head -c 100 /dev/urandom >garbage.der
expect_rc 2 "verify garbage" qpki ocsp verify --response garbage.der --ca ca.crt
expect_rc 2 "verify bad nonce syntax" qpki ocsp verify --response n.der --ca ca.crt --nonce xyz

# tampered: flip the last byte (inside the signature / certificate) and a byte of tbsResponseData
$PY - <<'EOF'
d = bytearray(open('r-casigned-good.der', 'rb').read())
d[-1] ^= 0x01
open('tampered-sig.der', 'wb').write(d)
d = bytearray(open('r-casigned-good.der', 'rb').read())
i = d.find(bytes.fromhex('0a1b2c3d'))
d[i + 3] ^= 0x01
open('tampered-tbs.der', 'wb').write(d)
EOF
expect_rc 1 "verify tampered signature" qpki ocsp verify --response tampered-sig.der --ca ca.crt
expect_rc 1 "verify tampered tbsResponseData" qpki ocsp verify --response tampered-tbs.der --ca ca.crt
expect_rc 1 "verify against the wrong CA" qpki ocsp verify --response r-certkey-good.der --ca ca-rsa/ca.crt
expect_rc 1 "verify expired (nextUpdate past)" qpki ocsp verify --response r-certkey-good.der --ca ca.crt \
    --at "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)"
expect_grep "  ... says stale" "stale|past" "$last_out"
expect_rc 1 "verify not yet valid (thisUpdate future)" qpki ocsp verify --response r-certkey-good.der --ca ca.crt \
    --at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect_rc 1 "verify nonce mismatch" qpki ocsp verify --response n.der --ca ca.crt --nonce 0102030405060709
expect_rc 1 "verify nonce missing" qpki ocsp verify --response r-certkey-good.der --ca ca.crt --nonce 01
expect_rc 1 "verify certificate mismatch (--cert)" qpki ocsp verify --response r-certkey-good.der --ca ca.crt --cert server.crt
expect_rc 1 "verify serial mismatch" qpki ocsp verify --response r-certkey-good.der --ca ca.crt --serial 0B
expect_rc 1 "verify --max-age" qpki ocsp verify --response r-certkey-good.der --ca ca.crt --max-age 1s \
    --at "$(date -u -d '+30 minutes' +%Y-%m-%dT%H:%M:%SZ)"
printf '\x30\x03\x0a\x01\x06' >unauthorized.der
expect_rc 1 "verify an unauthorized (unsigned) response" qpki ocsp verify --response unauthorized.der --ca ca.crt
# signed by a certificate without id-kp-OCSPSigning: sign warns, verify refuses
check "sign with the TLS server cert (warns)" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert server.crt --key server.key --out notocsp.der
expect_grep "  ... warns about id-kp-OCSPSigning" "OCSPSigning" "$last_out"
expect_rc 1 "verify refuses a responder without OCSPSigning" qpki ocsp verify --response notocsp.der --ca ca.crt
ossl_ocsp notocsp.der ca.crt 01 || true
expect_no_grep "openssl refuses it too" "^Response verify OK" "$TMP/.ossl"

# ---- info ------------------------------------------------------------------------------
check "info" qpki ocsp info r-certkey-revoked.der
for f in "OCSP Response Status: successful" "Responder Id: [0-9A-F]{40}" "Produced At:" \
         "Hash Algorithm: sha1" "Issuer Name Hash: [0-9A-F]{40}" "Serial Number: 0A1B2C3D" \
         "Cert Status: revoked" "Revocation Time: Jan 15 10:00:00 2024 GMT" \
         "Revocation Reason: keyCompromise" "This Update:" "Next Update:" \
         "Signature Algorithm: ecdsa-with-SHA256" "Subject: CN=ocsp.test" "Response size: [0-9]+ bytes"; do
    expect_grep "info shows /$f/" "$f" "$last_out"
done
check "info --json" bash -c "qpki ocsp info --json n.der >info.json"
check "info --json parses and matches" $PY -c '
import json
j = json.load(open("info.json"))
assert j["response_status"] == "successful", j
r = j["responses"][0]
assert r["serial"] == "01" and r["cert_status"] == "good" and r["hash_algorithm"] == "sha1", r
assert j["nonce"] == "0102030405060708", j
assert j["signature_algorithm"] == "ecdsa-with-SHA256", j
assert j["size"] == len(open("n.der","rb").read()), j
assert j["certificates"][0]["ocsp_signing"] is True
'
check "info reads PEM" qpki ocsp info r.pem
check "info on an error response" qpki ocsp info unauthorized.der
expect_grep "info: unauthorized" "unauthorized \(0x6\)" "$last_out"
expect_rc 2 "info garbage" qpki ocsp info garbage.der
expect_rc 2 "info without a file" qpki ocsp info
expect_rc 2 "info unreadable file" qpki ocsp info nosuch.der

# ---- errors that name the field and the byte (docs/CONFORMANCE.md "Error messages") ----
MAL="$HERE/../vectors/malformed"
MALO="$HERE/../vectors/malformed-other"
expect_rc 2 "info: a request with two nonces" qpki ocsp info "$MAL/duplicate-nonce.der"
expect_grep "info names the extension and its offset" \
    "requestExtensions: extensions\[1\]: duplicate extension 1\.3\.6\.1\.5\.5\.7\.48\.1\.2 \(nonce\) at byte 108" "$last_out"
expect_rc 2 "info: a response cut in half" qpki ocsp info "$MALO/resp-truncated-half.der"
expect_grep "info says where it ends" "OCSPResponse: truncated at byte 374 of 748" "$last_out"
check "info: a responseType that is not basic" qpki ocsp info "$MALO/resp-unknown-type.der"
expect_grep "info prints its OID" "Response Type: 1\.3\.6\.1\.5\.5\.7\.48\.1\.99 \(not" "$last_out"
expect_rc 1 "verify: a responseType that is not basic" \
    qpki ocsp verify --response "$MALO/resp-unknown-type.der" --ca ca.crt
expect_grep "verify names the OID" "responseType 1\.3\.6\.1\.5\.5\.7\.48\.1\.99 is not id-pkix-ocsp-basic" "$last_out"
expect_rc 2 "verify: a certStatus [3]" qpki ocsp verify --response "$MALO/resp-cert-status-3.der" --ca ca.crt
expect_grep "verify names the field and offset" \
    "responses\[0\]: certStatus: tag 0x83 is none of good \[0\], revoked \[1\], unknown \[2\] at byte 153" "$last_out"
expect_rc 2 "verify: a CA certificate whose notAfter is not DER" \
    qpki ocsp verify --response r.pem --ca "$MALO/cert-not-after-lowercase-z.der"
expect_grep "the certificate's field is named" "tbsCertificate: validity: notAfter: .*not in DER form .*at byte [0-9]+" "$last_out"

# ---- openssl's responder as the peer: its responses read by qpki, qpki's requests sent to it ----
cat ca/index.txt >/dev/null
check "revoke the server certificate in the CA directory" qpki cert revoke --ca-dir ca --serial "$SERVER" \
    --reason keyCompromise --time 2025-02-03T04:05:06Z
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# big "other" certificates make openssl's answer larger than 16 KiB: ML-DSA-87
# certificates when this build makes them (7.5 KB each), else RSA ones
if qpki ca init --ca-dir ca-ml --profile ml/root-ca --var cn="ML-DSA CA" >/dev/null 2>&1; then
    for n in 1 2 3; do cat ca-ml/ca.crt; done >bigother.pem
else
    for n in 1 2 3 4 5 6 7; do cat ca-rsa/ca.crt creds/resp-rsa/resp-rsa.crt; done >bigother.pem
fi
"$OPENSSL" ocsp -index ca/index.txt -port "$PORT" -rsigner responder.crt -rkey responder.key \
    -CA ca.crt -nmin 5 -ignore_err >"$TMP/osslserver.log" 2>&1 &
OSSL_PID=$!
# openssl is ready once it says so (up to 60 s on a loaded machine)
end=$(($(date +%s) + 60))
until grep -q "Waiting" "$TMP/osslserver.log" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
check "request --url (GET) to openssl ocsp" qpki ocsp request --ca ca.crt --cert server.crt \
    --url "http://127.0.0.1:$PORT" --out fromossl.der
expect_grep "request: GET used for a short URL" "^GET " "$last_out"
expect_grep "request: openssl's response verifies" "^Response verify OK" "$last_out"
expect_grep "request: revoked per our index.txt" "^$SERVER: revoked" "$last_out"
expect_grep "request: reason from our index.txt" "Reason: keyCompromise" "$last_out"
expect_grep "request: time from our index.txt" "Revocation Time: 2025-02-03T04:05:06Z" "$last_out"
check "info reads openssl's response" qpki ocsp info fromossl.der
expect_grep "info: openssl response revoked" "Cert Status: revoked" "$last_out"
check "request --post --nonce (nonce echoed by openssl)" qpki ocsp request --ca ca.crt --cert server.crt \
    --nonce --post --url "http://127.0.0.1:$PORT"
expect_grep "request: POST" "^POST " "$last_out"
check "request for the responder's own serial: good" qpki ocsp request --ca ca.crt --serial "$RSERIAL" \
    --hash sha1 --url "http://127.0.0.1:$PORT"
expect_grep "request: good" "^$RSERIAL: good" "$last_out"
# 16 CertIDs: the GET URL would exceed 255 bytes, so POST is used
args=()
for s in 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F; do args+=(--serial "$s"); done
check "request 16 certificates (long URL -> POST)" qpki ocsp request --ca ca.crt --cert server.crt "${args[@]}" \
    --url "http://127.0.0.1:$PORT" --reqout many.req
expect_grep "request: POST for a long URL" "^POST " "$last_out"
expect_grep "request: unknown serials" "^0F: unknown" "$last_out"
check "request --reqout kept the request" "$OPENSSL" ocsp -reqin many.req -req_text
expect_rc 1 "request: response does not answer for another CA's serial" qpki ocsp request --ca ca-rsa/ca.crt \
    --serial 01 --url "http://127.0.0.1:$PORT"
kill "$OSSL_PID" 2>/dev/null || true
wait "$OSSL_PID" 2>/dev/null || true

# openssl responder with many extra certificates -> > 16 KiB, info warns
"$OPENSSL" ocsp -index ca/index.txt -rsigner responder.crt -rkey responder.key -CA ca.crt \
    -reqin many.req -rother bigother.pem -respout big.der >/dev/null 2>&1
if [ "$(stat -c %s big.der)" -gt 16384 ]; then
    check "info on a > 16 KiB response" qpki ocsp info big.der
    expect_grep "info warns above 16 KiB" "larger than 16 KiB|more than 16384" "$last_out"
    check "info --json flags the size" bash -c "qpki ocsp info --json big.der | grep -q '\"size_warning\": true'"
else
    echo "# no ML-DSA certificates in this build: 16 KiB warning not exercised"
fi

expect_rc 2 "request without --ca" qpki ocsp request --cert server.crt
expect_rc 2 "request without --cert/--serial" qpki ocsp request --ca ca.crt
expect_rc 2 "request bad serial" qpki ocsp request --ca ca.crt --serial 0xZZ
expect_rc 2 "request --post without --url" qpki ocsp request --ca ca.crt --serial 01 --post
expect_rc 2 "request bad URL scheme" qpki ocsp request --ca ca.crt --serial 01 --url ftp://x
expect_rc 2 "request to a closed port" qpki ocsp request --ca ca.crt --serial 01 \
    --url "http://127.0.0.1:$PORT" --timeout 2s
# qpki ocsp serve reads the index.txt that cert issue/revoke write (the status
# database parses our rows and reloads them)
if qpki ocsp serve --help >/dev/null 2>&1; then
    check "a fresh certificate to revoke while serving" qpki cert issue --ca-dir ca --profile ec/tls-server \
        --csr server.csr --out live.crt
    LIVE=$("$OPENSSL" x509 -in live.crt -noout -serial | cut -d= -f2)
    P=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    qpki ocsp serve --port "$P" --ca-dir ca --credential resp --cred-dir creds >serve.log 2>&1 &
    SPID=$!
    end=$(($(date +%s) + 60)) # deadlines, not counts: a loaded machine is slow
    until qpki ocsp request --ca ca.crt --cert live.crt --url "http://127.0.0.1:$P" >live.out 2>&1 ||
        [ "$(date +%s)" -ge "$end" ]; do
        sleep 0.1
    done
    expect_grep "serve: the new certificate is good" "^$LIVE: good" live.out
    check "revoke it while serving" qpki cert revoke --ca-dir ca --serial "$LIVE" --reason cessationOfOperation \
        --time 2026-01-02T03:04:05Z
    seen=0
    end=$(($(date +%s) + 60))
    while [ "$(date +%s)" -lt "$end" ]; do
        qpki ocsp request --ca ca.crt --cert live.crt --url "http://127.0.0.1:$P" >live.out 2>&1 || true
        grep -q "^$LIVE: revoked" live.out && { seen=1; break; }
        sleep 0.1
    done
    [ $seen = 1 ] && ok "serve: revoked after the index.txt change" || { fail "serve never answered revoked"; cat live.out; }
    expect_grep "serve: reason from our row" "Reason: cessationOfOperation" live.out
    expect_grep "serve: time from our row" "Revocation Time: 2026-01-02T03:04:05Z" live.out
    check "stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
fi
check "request to stdout" bash -c "qpki ocsp request --ca ca.crt --serial 01 >stdout.req"
check "openssl reads the request from stdout" "$OPENSSL" ocsp -reqin stdout.req -req_text

finish
