#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/interop/gnutls_clients.sh QPKI STAPLE_SERVER [QPKI_PKCS11_PLUGIN]
#
# GnuTLS clients, as a new user runs them, accept what we answer for every signer
# form (docs/CONFORMANCE.md, "Responses"):
#   ca         the CA signs its own responses (ca.key)
#   delegated  an ECDSA responder credential (EKU id-kp-OCSPSigning)
#   catalyst   a Catalyst responder credential under a Catalyst CA (ECDSA + ML-DSA)
#   hsm        a responder key in a SoftHSM2 token, through qpki-pkcs11.so
# and for each of them:
#   - `ocsptool --ask` against `qpki ocsp serve`, verifying with a trust list
#     (--load-trust ca.crt, never --load-signer): the cached path (no nonce, asked
#     twice, the second a cache hit) and the live path (--nonce, echoed, signed live),
#     for a good and a revoked certificate;
#   - `gnutls-cli --ocsp` against examples/staple_server signing with the same key:
#     the staple is accepted ("The certificate is trusted", OCSP status request not
#     ignored), the saved staple verifies with ocsptool against the trust list, and
#     after `qpki cert revoke` the next handshake reports the certificate revoked;
#   - `openssl s_client -status` against the same server reads the same staple.
# The hsm form needs the plugin (third argument) and SoftHSM2 (installed by
# scripts/install-deps.sh); without the plugin it is reported as not run.
set -eu
STAPLE_SERVER=$(realpath "${2:?usage: gnutls_clients.sh QPKI STAPLE_SERVER [PLUGIN]}")
PLUGIN=${3:+$(realpath "$3")}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../server/lib.sh"
command -v ocsptool >/dev/null && command -v gnutls-cli >/dev/null ||
    fail "ocsptool / gnutls-cli missing: install gnutls-bin (scripts/install-deps.sh)"

# ---- the PKIs ------------------------------------------------------------------------------
# leaf CA NAME CN: NAME.key, NAME.crt (ec/tls-server) issued by the CA in directory CA
leaf() {
    "$QPKI" key gen --algo ecdsa-p256 --out "$2.key" >/dev/null 2>&1
    "$QPKI" csr create --key "$2.key" --cn "$3" --out "$2.csr" >/dev/null 2>&1
    "$QPKI" cert issue --ca-dir "$1" --profile ec/tls-server --csr "$2.csr" \
        --out "$2.crt" >/dev/null 2>&1 || fail "cert issue $1 $2"
}
# leaves CA: CA-good.crt and CA-revoked.crt (keyCompromise) for the ocsptool checks
leaves() {
    leaf "$1" "$1-good" "good.$1.example"
    leaf "$1" "$1-revoked" "revoked.$1.example"
    revoke "$1" "$1-revoked.crt"
}
revoke() {
    "$QPKI" cert revoke --ca-dir "$1" --reason keyCompromise \
        --serial "$(openssl x509 -in "$2" -noout -serial | cut -d= -f2)" >/dev/null
}

"$QPKI" ca init --ca-dir ca --var cn="GnuTLS Interop CA" >/dev/null
leaves ca
"$QPKI" credential enroll --ca-dir ca --cred-dir credentials --profile ec/ocsp-responder \
    --var cn=ocsp.gnutls.example --id ocsp-ec >/dev/null
"$QPKI" ca init --ca-dir hca --profile hybrid/catalyst/root-ca --var cn="GnuTLS Catalyst CA" \
    >/dev/null
leaves hca
"$QPKI" credential enroll --ca-dir hca --cred-dir credentials \
    --profile hybrid/catalyst/ocsp-responder --var cn=ocsp.hybrid.example --id ocsp-hyb >/dev/null

forms="ca delegated catalyst"
if [ -n "$PLUGIN" ]; then
    TMP=$WORK PY=/usr/bin/python3 QPKI_PLUGIN_DIR=$(dirname "$PLUGIN")
    export QPKI_PLUGIN_DIR
    . "$HERE/../cli/hsm_lib.sh"
    hsm_setup qpki-gnutls 24681357
    "$QPKI" key gen --algo ecdsa-p256 --hsm-config hsm.yaml --key-label ocsp-hsm \
        --out hsm.pub >/dev/null 2>&1 || fail "key gen in SoftHSM2"
    "$QPKI" csr create --hsm-config hsm.yaml --key-label ocsp-hsm --cn ocsp-hsm.example \
        --out hsm.csr >/dev/null 2>&1 || fail "csr create with the HSM key"
    "$QPKI" cert issue --ca-dir ca --profile ec/ocsp-responder --csr hsm.csr \
        --out hsm.crt >/dev/null 2>&1 || fail "cert issue for the HSM key"
    forms="$forms hsm"
else
    echo "NOTE: the hsm form is not run: built without the PKCS#11 plugin"
fi

# form_setup FORM: sets CA (directory), SERVE (qpki ocsp serve signer options) and
# STAPLE (staple_server signer options) for the form.
form_setup() {
    case $1 in
    ca) CA=ca SERVE="" STAPLE="" ;;
    delegated)
        CA=ca SERVE="--credential ocsp-ec"
        STAPLE="--responder-cert credentials/ocsp-ec/ocsp-ec.crt --responder-key credentials/ocsp-ec/ocsp-ec.key" ;;
    catalyst)
        CA=hca SERVE="--credential ocsp-hyb"
        STAPLE="--responder-cert credentials/ocsp-hyb/ocsp-hyb.crt --responder-key credentials/ocsp-hyb/ocsp-hyb.key --alt-key credentials/ocsp-hyb/ocsp-hyb.alt.key" ;;
    hsm)
        CA=ca SERVE="--cert hsm.crt --hsm-config hsm.yaml --key-label ocsp-hsm"
        STAPLE="--responder-cert hsm.crt --pkcs11 $PLUGIN --hsm-config hsm.yaml --key-label ocsp-hsm" ;;
    esac
}

# ask FORM LEAF STATUS [--nonce]: ocsptool --ask against the server, trust list = the CA
ask() {
    form=$1 leaf=$2 want=$3
    shift 3
    out=$(ocsptool --ask="$URL/" "$@" --load-issuer "$CA/ca.crt" --load-cert "$CA-$leaf.crt" \
        --load-trust "$CA/ca.crt" 2>&1) || true
    expect_match "$form: ocsptool --load-trust $leaf $*" "$out" "Verifying OCSP Response: Success\."
    expect_match "$form: ocsptool $leaf status" "$out" "Certificate Status: $want"
    case " $* " in
    *" --nonce "*) expect_match "$form: ocsptool sees its nonce echoed" "$out" "Nonce: [0-9a-f]{2,}" ;;
    esac
    last_log=$(grep 'msg=request' "$WORK/serve-$form.log" | tail -n 1)
}

for form in $forms; do
    form_setup "$form"
    # ---- qpki ocsp serve, cached and live ------------------------------------------------
    # shellcheck disable=SC2086 # SERVE is a list of options
    start_server "serve-$form" --ca-dir "$CA" --cred-dir credentials $SERVE
    for leaf in good revoked; do
        ask "$form" "$leaf" "$leaf"
        expect_match "$form: first answer signed" "$last_log" "nonce=n cache=miss"
        ask "$form" "$leaf" "$leaf"
        expect_match "$form: cached path" "$last_log" "nonce=n cache=hit"
        ask "$form" "$leaf" "$leaf" --nonce
        expect_match "$form: live path" "$last_log" "nonce=y cache=miss"
    done
    "$QPKI" ocsp stop --pid-file "$PIDFILE" >/dev/null
    ok "$form: ocsptool --ask verifies against the trust list (cached and live, good and revoked)"

    # ---- examples/staple_server: gnutls-cli --ocsp, openssl s_client -status ------------
    leaf "$CA" "$form-tls" localhost # the TLS server's certificate, revoked below
    SPORT=$(free_port)
    # shellcheck disable=SC2086 # STAPLE is a list of options
    "$STAPLE_SERVER" $STAPLE "$SPORT" "$form-tls.crt" "$form-tls.key" "$CA" >"staple-$form.log" 2>&1 &
    SERVER_PIDS="$SERVER_PIDS $!"
    listening() { grep -q listening "staple-$form.log"; }
    wait_for "$form: staple_server did not start" 10 listening
    rm -f "staple-$form.der"
    out=$(gnutls-cli --ocsp --save-ocsp="staple-$form.der" --x509cafile "$CA/ca.crt" \
        --verify-hostname localhost -p "$SPORT" 127.0.0.1 </dev/null 2>&1) || true
    expect_match "$form: gnutls-cli --ocsp" "$out" "Status: The certificate is trusted\."
    expect_match "$form: gnutls-cli got the staple" "$out" "Options: OCSP status request,"
    case $out in *"[ignored]"* | *"OCSP status response is invalid"*) fail "$form: $out" ;; esac
    out=$(ocsptool --verify-response --load-trust "$CA/ca.crt" --infile "staple-$form.der" \
        --inder 2>&1) || true
    expect_match "$form: the staple gnutls-cli saved" "$out" "Verifying OCSP Response: Success\."
    expect_match "$form: the staple gnutls-cli saved" "$out" "Certificate Status: good"
    if [ "$form" = catalyst ]; then # the staple carries both signatures
        out=$("$QPKI" ocsp verify --response "staple-$form.der" --ca "$CA/ca.crt" --require-pq 2>&1) ||
            fail "catalyst: the staple's ML-DSA signature: $out"
        expect_match "catalyst: staple" "$out" "classical: OK, post-quantum: OK"
    fi
    out=$(openssl s_client -connect "127.0.0.1:$SPORT" -status -CAfile "$CA/ca.crt" \
        </dev/null 2>&1) || true
    expect_match "$form: s_client -status" "$out" "OCSP Response Status: successful"
    expect_match "$form: s_client -status" "$out" "Cert Status: good"
    expect_match "$form: s_client -status" "$out" "Verify return code: 0 \(ok\)"
    revoke "$CA" "$form-tls.crt"
    out=$(gnutls-cli --ocsp --x509cafile "$CA/ca.crt" --verify-hostname localhost \
        -p "$SPORT" 127.0.0.1 </dev/null 2>&1) || true
    expect_match "$form: gnutls-cli after revoke" "$out" "The certificate chain is revoked"
    ok "$form: gnutls-cli --ocsp accepts the staple (then sees the revocation); s_client reads it"
done
echo "gnutls clients: forms $forms passed"
