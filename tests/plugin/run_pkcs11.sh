#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/plugin/run_pkcs11.sh TEST_BINARY PLUGIN_SO FAULTY_MODULE_SO
#
# Runs the PKCS#11 plugin tests against a fresh SoftHSM2 token made for this run
# (its own SOFTHSM2_CONF and token directory in a temporary directory, removed at
# the end).  Keys are created with OpenSC's pkcs11-tool:
#   ec-p256 (id 01), ec-p384 (02), rsa-2048 (03), ed25519 (04), and two P-256 keys
#   both labelled "dup" (10, 11).
# Exit 77 (skipped) only when SoftHSM2 is not installed.
set -eu

test_bin=$1
plugin=$2
faulty=$3

module=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
         /usr/lib64/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -f "$m" ]; then module=$m; break; fi
done
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null 2>&1; then
    echo "SKIP: SoftHSM2 is not installed (apt-get install softhsm2)"
    exit 77
fi
if ! command -v pkcs11-tool >/dev/null 2>&1; then
    echo "FAIL: pkcs11-tool is missing (apt-get install opensc)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qpki-p11-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/tokens"
cat >"$work/softhsm2.conf" <<CONF
directories.tokendir = $work/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$work/softhsm2.conf"

token=qpki-test
pin=24681357
softhsm2-util --init-token --free --label "$token" --pin "$pin" --so-pin 1357924680 >/dev/null

p11() { pkcs11-tool --module "$module" --token-label "$token" --login --pin "$pin" "$@" >/dev/null 2>&1; }
p11 --keypairgen --key-type EC:prime256v1 --label ec-p256 --id 01
p11 --keypairgen --key-type EC:secp384r1 --label ec-p384 --id 02
p11 --keypairgen --key-type rsa:2048 --label rsa-2048 --id 03
p11 --keypairgen --key-type EC:edwards25519 --label ed25519 --id 04
p11 --keypairgen --key-type EC:prime256v1 --label dup --id 10
p11 --keypairgen --key-type EC:prime256v1 --label dup --id 11

# The token's slot id and serial, for the selection tests.
info=$(pkcs11-tool --module "$module" --list-token-slots 2>/dev/null)
slot_hex=$(printf '%s\n' "$info" | sed -n 's/^Slot [0-9]* (\(0x[0-9a-fA-F]*\)).*/\1/p' | head -n 1)
serial=$(printf '%s\n' "$info" | sed -n 's/^ *serial num *: *\([^ ]*\).*/\1/p' | head -n 1)
if [ -z "$slot_hex" ] || [ -z "$serial" ]; then
    echo "FAIL: cannot read the slot id and serial from pkcs11-tool" >&2
    exit 1
fi

# Under AddressSanitizer: ignore SoftHSM2's own leaks.
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(cd "$(dirname "$0")" && pwd)/lsan-softhsm.supp"
export LSAN_OPTIONS

export P11T_DIR="$work" P11T_MODULE="$module" P11T_FAULTY="$faulty" P11T_TOKEN="$token" \
       P11T_PIN="$pin" P11T_SLOT="$(printf '%d' "$slot_hex")" P11T_SERIAL="$serial" \
       HSM_PIN="$pin" QPKI_PLUGIN_DIR="$(dirname "$plugin")"
"$test_bin"
