#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/hsm_errors.sh - HSM error cases at the command line, on a fresh
# SoftHSM2 token: wrong PIN, missing PIN variable, unknown label, duplicate
# label, missing module (and a file that is no PKCS#11 module), unknown token,
# and a module that lacks the mechanism (tests/plugin/faulty_p11.so forwarding to
# SoftHSM2 with FAULTY_P11_HIDE).  Each case is run with `ocsp sign`, `ocsp
# serve` (which must refuse to start, never listen with a broken key) and, where
# it applies, `csr create` / `key gen`; each must print one clear message on
# standard error and exit 2 (a crash would be 134/139, a hang ends in
# timeout's 124), write no output file, and never show the PIN.  Every error
# case has a passing twin (right PIN, --key-id for the duplicate, the module
# with the mechanism) so the failure is known to come from what was changed.
# hsm.sh already covers the guide's lines, the missing plugin and the key that
# does not match the certificate.
# Needs $QPKI_FAULTY_P11 (set by meson) for the mechanism cases.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/hsm_lib.sh"

PIN=27182818
hsm_setup qpki-errors "$PIN"
FAULTY=${QPKI_FAULTY_P11:-}
[ -f "$FAULTY" ] || { echo "FAIL: QPKI_FAULTY_P11 (tests/plugin/faulty_p11.so) is not set"; exit 1; }

check "ca init" qpki ca init --ca-dir ca --var cn="HSM errors CA"
cp ca/ca.crt ca.crt

# Keys and their responder certificates:
#   ocsp-key  P-256 (qpki key gen)      rsa-key  RSA-2048 (pkcs11-tool, id 41)
#   ed-key    Ed25519 (pkcs11-tool, 42) dup      two P-256 keys (pkcs11-tool, ids 31, 32)
check "key gen ocsp-key" qpki key gen --hsm-config ./hsm.yaml --key-label ocsp-key --out ocsp-key.pub
check "pkcs11-tool rsa-key" p11tool --keypairgen --key-type rsa:2048 --label rsa-key --id 41
check "pkcs11-tool ed-key" p11tool --keypairgen --key-type EC:edwards25519 --label ed-key --id 42
check "pkcs11-tool dup (id 31)" p11tool --keypairgen --key-type EC:prime256v1 --label dup --id 31
check "pkcs11-tool dup (id 32)" p11tool --keypairgen --key-type EC:prime256v1 --label dup --id 32
for spec in "ocsp-key ec --key-label ocsp-key" "rsa-key rsa --key-label rsa-key" \
            "ed-key ed --key-label ed-key" "dup ec --key-id 31"; do
    read -r name fam selopt selval <<<"$spec"
    check "$name: csr create + cert issue $fam/ocsp-responder" bash -c "
        qpki csr create --hsm-config ./hsm.yaml $selopt $selval --cn $name.example.com \
            --out $name.csr &&
        qpki cert issue --ca-dir ca --profile $fam/ocsp-responder --csr $name.csr --out $name.crt"
done

# Variants of hsm.yaml.
sed "s|^  lib: .*|  lib: $TMP/no/such/libpkcs11.so|" hsm.yaml >nomodule.yaml
zlib=$(ls /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1 \
    /usr/lib64/libz.so.1 2>/dev/null | head -n 1 || true)
sed "s|^  lib: .*|  lib: ${zlib:-/bin/true}|" hsm.yaml >notpkcs11.yaml
sed "s|^  lib: .*|  lib: $FAULTY|" hsm.yaml >faulty.yaml
sed 's|^  token: .*|  token: "no-such-token"|' hsm.yaml >notoken.yaml
sed 's|^  pin_env: .*|  pin_env: OCSP_TOKEN_PIN|' hsm.yaml >pinenv.yaml
export FAULTY_P11_TARGET=$MODULE

# no_crash_2 DESC REGEX OUTFILE command...: exit 2, REGEX in the output, a
# "qpki ...: error:" line, the PIN nowhere, OUTFILE (if not "-") not created.
no_crash_2() {
    local what=$1 re=$2 outfile=$3
    shift 3
    rm -f "$outfile"
    expect_rc 2 "$what" "$@"
    cp "$last_out" "$TMP/.err"
    expect_grep "  ... says: $re" "$re" "$TMP/.err"
    expect_grep "  ... one 'qpki ...: error:' line" "^qpki [a-z ]+: error: " "$TMP/.err"
    expect_no_grep "  ... the PIN is not shown" "$PIN|00000000" "$TMP/.err"
    if [ "$outfile" != - ]; then
        if [ -e "$outfile" ]; then fail "  ... $outfile was written"; else ok "  ... no $outfile"; fi
    fi
}

# with_pin PIN command... / without_pin command...: HSM_PIN changed for one command
with_pin() { ( export HSM_PIN=$1; shift; "$@" ) }
without_pin() { ( unset HSM_PIN; "$@" ) }

# sign_with CERT CONFIG [selector...]: ocsp sign into out.ocsp
sign_with() {
    local cert=$1 cfg=$2
    shift 2
    qpki ocsp sign --serial 0A0B0C --status good --ca ca.crt --cert "$cert" \
        --hsm-config "$cfg" "$@" --out out.ocsp
}
# serve_with CERT CONFIG [selector...]: ocsp serve, which must exit on its own
serve_with() {
    local cert=$1 cfg=$2 port
    shift 2
    port=$(free_port)
    timeout 60 qpki ocsp serve --addr "127.0.0.1:$port" --pid-file "$TMP/err-$port.pid" \
        --ca-dir ca --cert "$cert" --hsm-config "$cfg" "$@"
}
# signed_ok DESC: out.ocsp verifies with openssl and with qpki
signed_ok() {
    "$OPENSSL" ocsp -respin out.ocsp -CAfile ca.crt -issuer ca.crt -serial 0x0A0B0C \
        >"$TMP/.ossl.txt" 2>"$TMP/.ossl"
    expect_grep "$1: openssl: Response verify OK" "^Response verify OK" "$TMP/.ossl"
    check "$1: qpki ocsp verify" qpki ocsp verify --response out.ocsp --ca ca.crt --serial 0A0B0C
}

# ---- wrong PIN ------------------------------------------------------------------------
no_crash_2 "wrong PIN: ocsp sign" "login to the token failed: CKR_PIN_INCORRECT" out.ocsp \
    with_pin 00000000 sign_with ocsp-key.crt ./hsm.yaml --key-label ocsp-key
no_crash_2 "wrong PIN: ocsp serve" "CKR_PIN_INCORRECT" - \
    with_pin 00000000 serve_with ocsp-key.crt ./hsm.yaml --key-label ocsp-key
no_crash_2 "wrong PIN: csr create" "CKR_PIN_INCORRECT" x.csr \
    with_pin 00000000 qpki csr create --hsm-config ./hsm.yaml --key-label ocsp-key --cn x --out x.csr
no_crash_2 "wrong PIN: key gen" "CKR_PIN_INCORRECT" x.pub \
    with_pin 00000000 qpki key gen --hsm-config ./hsm.yaml --key-label new-key --out x.pub
check "right PIN: ocsp sign" sign_with ocsp-key.crt ./hsm.yaml --key-label ocsp-key
signed_ok "right PIN"

# ---- missing PIN variable -----------------------------------------------------------------
no_crash_2 "HSM_PIN unset: ocsp sign" "set the environment variable HSM_PIN" out.ocsp \
    without_pin sign_with ocsp-key.crt ./hsm.yaml --key-label ocsp-key
no_crash_2 "HSM_PIN unset: ocsp serve" "set the environment variable HSM_PIN" - \
    without_pin serve_with ocsp-key.crt ./hsm.yaml --key-label ocsp-key
no_crash_2 "HSM_PIN unset: csr create" "set the environment variable HSM_PIN" x.csr \
    without_pin qpki csr create --hsm-config ./hsm.yaml --key-label ocsp-key --cn x --out x.csr
no_crash_2 "pkcs11.pin_env: OCSP_TOKEN_PIN unset (HSM_PIN set): ocsp sign" \
    "set the environment variable OCSP_TOKEN_PIN \(named by pkcs11.pin_env\)" out.ocsp \
    sign_with ocsp-key.crt ./pinenv.yaml --key-label ocsp-key
check "pkcs11.pin_env: OCSP_TOKEN_PIN set (HSM_PIN unset): ocsp sign" \
    without_pin env OCSP_TOKEN_PIN="$PIN" qpki ocsp sign --serial 0A0B0C --status good --ca ca.crt \
    --cert ocsp-key.crt --hsm-config ./pinenv.yaml --key-label ocsp-key --out out.ocsp
signed_ok "pkcs11.pin_env"

# ---- unknown label ----------------------------------------------------------------------------
no_crash_2 "unknown label: ocsp sign" \
    'no private key with label "nosuch" on the token; private keys present: .*"ocsp-key"' out.ocsp \
    sign_with ocsp-key.crt ./hsm.yaml --key-label nosuch
no_crash_2 "unknown label: ocsp serve" 'no private key with label "nosuch"' - \
    serve_with ocsp-key.crt ./hsm.yaml --key-label nosuch
no_crash_2 "unknown id: ocsp sign" 'no private key with id 99' out.ocsp \
    sign_with ocsp-key.crt ./hsm.yaml --key-id 99
no_crash_2 "unknown label: csr create" 'no private key with label "nosuch"' x.csr \
    qpki csr create --hsm-config ./hsm.yaml --key-label nosuch --cn x --out x.csr

# ---- duplicate label -------------------------------------------------------------------------
no_crash_2 "duplicate label: ocsp sign" \
    '2 private keys match label "dup": "dup" \(id 3[12]\), "dup" \(id 3[12]\); select one with --key-id' \
    out.ocsp sign_with dup.crt ./hsm.yaml --key-label dup
no_crash_2 "duplicate label: ocsp serve" '2 private keys match label "dup"' - \
    serve_with dup.crt ./hsm.yaml --key-label dup
no_crash_2 "duplicate label: csr create" '2 private keys match label "dup"' x.csr \
    qpki csr create --hsm-config ./hsm.yaml --key-label dup --cn x --out x.csr
no_crash_2 "duplicate label: key gen refuses a third" 'dup' x.pub \
    qpki key gen --hsm-config ./hsm.yaml --key-label dup --out x.pub
check "duplicate label + --key-id 31: ocsp sign" sign_with dup.crt ./hsm.yaml --key-label dup --key-id 31
signed_ok "label + id"
no_crash_2 "duplicate label + --key-id 32 (the other key): not the certificate's key" \
    "does not match" out.ocsp sign_with dup.crt ./hsm.yaml --key-label dup --key-id 32

# ---- missing module, not a module, unknown token -------------------------------------------------
no_crash_2 "missing module: ocsp sign" \
    "cannot load PKCS#11 module $TMP/no/such/libpkcs11.so \(pkcs11.lib\)" out.ocsp \
    sign_with ocsp-key.crt ./nomodule.yaml --key-label ocsp-key
no_crash_2 "missing module: ocsp serve" "cannot load PKCS#11 module" - \
    serve_with ocsp-key.crt ./nomodule.yaml --key-label ocsp-key
no_crash_2 "missing module: csr create" "cannot load PKCS#11 module" x.csr \
    qpki csr create --hsm-config ./nomodule.yaml --key-label ocsp-key --cn x --out x.csr
no_crash_2 "missing module: key gen" "cannot load PKCS#11 module" x.pub \
    qpki key gen --hsm-config ./nomodule.yaml --key-label new-key --out x.pub
no_crash_2 "a library that is no PKCS#11 module: ocsp sign" "is not a PKCS#11 module" out.ocsp \
    sign_with ocsp-key.crt ./notpkcs11.yaml --key-label ocsp-key
no_crash_2 "unknown token label: ocsp sign" \
    'no PKCS#11 token matches token "no-such-token"; tokens present: .*"qpki-errors"' out.ocsp \
    sign_with ocsp-key.crt ./notoken.yaml --key-label ocsp-key
no_crash_2 "unknown token label: ocsp serve" 'no PKCS#11 token matches' - \
    serve_with ocsp-key.crt ./notoken.yaml --key-label ocsp-key

# ---- a module without the mechanism ------------------------------------------------------------
# The forwarding module with nothing hidden signs (the twin of every case below).
check "faulty_p11.so hiding nothing: ocsp sign P-256" sign_with ocsp-key.crt ./faulty.yaml --key-label ocsp-key
signed_ok "forwarding module"
hide() { # MECHS command...: run with FAULTY_P11_HIDE=MECHS
    local m=$1
    shift
    FAULTY_P11_HIDE=$m "$@"
}
# PKCS#11 v2.40 mechanism numbers: CKM_RSA_PKCS 0x1, CKM_SHA256_RSA_PKCS 0x40,
# CKM_EC_KEY_PAIR_GEN 0x1040, CKM_ECDSA 0x1041, CKM_EDDSA 0x1057.
no_crash_2 "no CKM_ECDSA: ocsp sign P-256" "the token does not offer CKM_ECDSA for ecdsa-with-SHA256" \
    out.ocsp hide 0x1041 sign_with ocsp-key.crt ./faulty.yaml --key-label ocsp-key
no_crash_2 "no CKM_ECDSA: ocsp serve P-256" "does not offer CKM_ECDSA" - \
    hide 0x1041 serve_with ocsp-key.crt ./faulty.yaml --key-label ocsp-key
no_crash_2 "no CKM_ECDSA: csr create P-256" "does not offer CKM_ECDSA" x.csr \
    hide 0x1041 qpki csr create --hsm-config ./faulty.yaml --key-label ocsp-key --cn x --out x.csr
no_crash_2 "no CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS: ocsp sign RSA" \
    "the token offers neither CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS for sha256WithRSAEncryption" \
    out.ocsp hide 0x1,0x40 sign_with rsa-key.crt ./faulty.yaml --key-label rsa-key
no_crash_2 "no RSA mechanism: ocsp serve RSA" "offers neither CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS" - \
    hide 0x1,0x40 serve_with rsa-key.crt ./faulty.yaml --key-label rsa-key
check "no CKM_SHA256_RSA_PKCS but CKM_RSA_PKCS: ocsp sign RSA (DigestInfo)" \
    hide 0x40 sign_with rsa-key.crt ./faulty.yaml --key-label rsa-key
signed_ok "CKM_RSA_PKCS over DigestInfo"
no_crash_2 "no CKM_EDDSA: ocsp sign Ed25519" "the token does not offer CKM_EDDSA for ED25519" \
    out.ocsp hide 0x1057 sign_with ed-key.crt ./faulty.yaml --key-label ed-key
no_crash_2 "no CKM_EDDSA: ocsp serve Ed25519" "does not offer CKM_EDDSA" - \
    hide 0x1057 serve_with ed-key.crt ./faulty.yaml --key-label ed-key
no_crash_2 "no CKM_EC_KEY_PAIR_GEN: key gen P-256" \
    "the token does not offer CKM_EC_KEY_PAIR_GEN to generate ecdsa-p256 keys" x.pub \
    hide 0x1040 qpki key gen --hsm-config ./faulty.yaml --key-label new-key --out x.pub

# Nothing above left a key behind: only the 5 keys made at the start.
check "pkcs11-tool --list-objects" p11tool --list-objects --type privkey
n=$(grep -c '^Private Key Object' "$TMP/.p11" || true)
if [ "$n" -eq 5 ]; then ok "the token holds the 5 private keys made at the start"; else
    fail "the token holds $n private keys, expected 5"; sed 's/^/    | /' "$TMP/.p11"; fi

finish
