#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/hsm.sh - the HSM lines of the guide (§6) against a SoftHSM2 token
# made for this run: key gen and csr create inside the token, the responder
# certificate from qpki cert issue, ocsp sign with --hsm-config --key-label /
# --key-id (checked by openssl), ocsp serve with the HSM key when available,
# and the error paths (wrong PIN, unknown key, missing plugin).
# Skipped (exit 77) without SoftHSM2 or the qpki-pkcs11.so plugin
# ($QPKI_PLUGIN_DIR, set by meson).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [ -f "$m" ] && { module=$m; break; }
done
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null; then
    echo "SKIP: SoftHSM2 is not installed"; exit 77
fi
if [ -z "${QPKI_PLUGIN_DIR:-}" ] || [ ! -f "$QPKI_PLUGIN_DIR/qpki-pkcs11.so" ]; then
    echo "SKIP: qpki-pkcs11.so not built (QPKI_PLUGIN_DIR)"; exit 77
fi
mkdir tokens
cat >softhsm2.conf <<EOF2
directories.tokendir = $TMP/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF2
export SOFTHSM2_CONF="$TMP/softhsm2.conf"
softhsm2-util --init-token --free --label qpki-cli --pin 11223344 --so-pin 55667788 >/dev/null
cat >hsm.yaml <<EOF2
type: pkcs11
pkcs11:
  lib: $module
  token: "qpki-cli"
  pin_env: HSM_PIN
EOF2

check "ca init" qpki ca init --ca-dir ca --var cn="HSM test CA"
cp ca/ca.crt ca.crt
expect_rc 2 "key gen in the HSM without a PIN" env -u HSM_PIN qpki key gen --hsm-config ./hsm.yaml --key-label ocsp-key --out ocsp-key.pub

# The guide: export HSM_PIN="****"
export HSM_PIN=11223344
check "key gen --hsm-config (P-256 in the token)" qpki key gen --algo ecdsa-p256 --hsm-config ./hsm.yaml \
    --key-label ocsp-key --key-id 0a0b --out ocsp-key.pub
check "openssl reads the public key" "$OPENSSL" pkey -pubin -in ocsp-key.pub -noout
expect_rc 2 "the same label again is refused" qpki key gen --hsm-config ./hsm.yaml --key-label ocsp-key --out x.pub
check "csr create with the HSM key" qpki csr create --hsm-config ./hsm.yaml --key-label ocsp-key \
    --cn ocsp-hsm.example.com --out responder.csr
check "openssl req -verify" "$OPENSSL" req -in responder.csr -verify -noout
check "the CSR carries the token's public key" bash -c \
    "cmp <($OPENSSL req -in responder.csr -noout -pubkey) <($OPENSSL pkey -pubin -in ocsp-key.pub)"
check "cert issue ec/ocsp-responder" qpki cert issue --ca-dir ca --profile ec/ocsp-responder --csr responder.csr --out responder.crt

# §6: Sign OCSP response with HSM key
check "§6 ocsp sign --hsm-config --key-label" \
qpki ocsp sign --serial 0A1B2C3D --status good \
  --ca ca.crt --cert responder.crt \
  --hsm-config ./hsm.yaml --key-label "ocsp-key" --out response.ocsp
ossl_ocsp response.ocsp ca.crt 0A1B2C3D || true
expect_grep "openssl: HSM-signed response verifies" "^Response verify OK" "$TMP/.ossl"
expect_grep "openssl: good" "^0x0A1B2C3D: good" "$TMP/.ossl"
check "ocsp sign --key-id" qpki ocsp sign --serial 0A1B2C3D --status revoked --revocation-reason keyCompromise \
    --ca ca.crt --cert responder.crt --hsm-config ./hsm.yaml --key-id 0a0b --out r2.ocsp
check "qpki verifies it" qpki ocsp verify --response r2.ocsp --ca ca.crt
expect_grep "  ... revoked" "^0A1B2C3D: revoked" "$last_out"

expect_rc 2 "wrong PIN" env HSM_PIN=00000000 qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert responder.crt --hsm-config ./hsm.yaml --key-label ocsp-key
expect_rc 2 "unknown key label" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert responder.crt --hsm-config ./hsm.yaml --key-label nosuch
check "a second key in the token" qpki key gen --hsm-config ./hsm.yaml --key-label other --out other.pub
expect_rc 2 "HSM key not matching the certificate" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert responder.crt --hsm-config ./hsm.yaml --key-label other
expect_grep "  ... names the mismatch" "key .*does not match|does not belong to the certificate" "$last_out"
if qpki ocsp serve --help >/dev/null 2>&1; then
    expect_rc 2 "ocsp serve refuses an HSM key not matching --cert" timeout 20 qpki ocsp serve --port 0 \
        --ca-dir ./ca --cert responder.crt --hsm-config ./hsm.yaml --key-label other
    expect_grep "  ... names the mismatch" "key .*does not match|does not belong to the certificate" "$last_out"
fi
# A token key without a public key object: the plugin cannot compare keys, so a
# probe signature must verify with the certificate's key.
check "key gen (third key)" qpki key gen --hsm-config ./hsm.yaml --key-label nopub --out nopub.pub
check "delete its public key object" pkcs11-tool --module "$module" --token-label qpki-cli --login \
    --pin "$HSM_PIN" --delete-object --type pubkey --label nopub
expect_rc 2 "ocsp sign refuses a token key without public object that is not --cert's" qpki ocsp sign \
    --serial 01 --status good --ca ca.crt --cert responder.crt --hsm-config ./hsm.yaml --key-label nopub
expect_grep "  ... found by a test signature" "test signature by the token's key does not verify" "$last_out"
if qpki ocsp serve --help >/dev/null 2>&1; then
    expect_rc 2 "ocsp serve refuses it too" timeout 20 qpki ocsp serve --port 0 --ca-dir ./ca \
        --cert responder.crt --hsm-config ./hsm.yaml --key-label nopub
    expect_grep "  ... found by a test signature" "test signature by the token's key does not verify" "$last_out"
fi
expect_rc 2 "missing plugin" env QPKI_PLUGIN_DIR="$TMP/nowhere" qpki ocsp sign --serial 01 --status good \
    --ca ca.crt --cert responder.crt --hsm-config ./hsm.yaml --key-label ocsp-key
expect_rc 2 "--hsm-config and --key together" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --cert responder.crt --key x.key --hsm-config ./hsm.yaml --key-label ocsp-key

# §6: Start OCSP server with HSM key (when this build has ocsp serve)
if qpki ocsp serve --help >/dev/null 2>&1; then
    P=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    qpki ocsp serve --port "$P" --ca-dir ./ca --cert responder.crt \
      --hsm-config ./hsm.yaml --key-label "ocsp-key" >serve.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do
        qpki ocsp request --ca ca.crt --cert responder.crt --url "http://127.0.0.1:$P" >req.out 2>&1 && break
        sleep 0.1
    done
    check "§6 ocsp serve with the HSM key answers (qpki ocsp request --url)" \
        qpki ocsp request --ca ca.crt --cert responder.crt --nonce --url "http://127.0.0.1:$P"
    check "ocsp stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
fi

finish
