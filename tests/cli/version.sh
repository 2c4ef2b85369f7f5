#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/version.sh - `qpki --version` and `qpki version --verbose` against what
# the system says: the project version (meson.build), the SONAME of the library
# actually loaded (readelf), the symbol nodes (the version script), wolfSSL's
# version (pkg-config), the CPU's avx2 / sha_ni flags (/proc/cpuinfo), the plugin
# directory and which plugins load.
# Environment: QPKI_BUILD_ROOT (qpki_config.h), QPKI_TEST_PKCS11_PLUGIN (optional).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
SRC="$HERE/../.."
CONFIG="${QPKI_BUILD_ROOT:?}/qpki_config.h"
unset QPKI_PLUGIN_DIR

version=$(sed -n "s/^  version: '\([0-9.]*\)',/\1/p" "$SRC/meson.build" | head -1)
nodes=$(awk '/^QPKI_[0-9.]+ \{/ {printf "%s%s", sep, $1; sep = " "}' "$SRC/lib/libqpki-ocsp.map")
wolfssl=$(pkg-config --modversion wolfssl)
flag() { grep -m1 '^flags' /proc/cpuinfo | grep -qw "$1"; }
config() { sed -n "s/^#define $1 //p" "$CONFIG" | tr -d '"'; }

check "qpki --version" qpki --version
cp "$last_out" v.txt
expect_grep "first line: qpki $version (libqpki-ocsp $version)" "^qpki $version \(libqpki-ocsp $version\)$" v.txt
[ "$(head -1 v.txt)" = "qpki $version (libqpki-ocsp $version)" ] && ok "  ... it is the first line" || fail "first line: $(head -1 v.txt)"
expect_grep "ABI: libqpki-ocsp.so.1 with the map's nodes ($nodes)" \
    "^library: +libqpki-ocsp $version, ABI libqpki-ocsp\.so\.1 \($nodes\)$" v.txt
expect_grep "wolfSSL $wolfssl (pkg-config)" "^wolfSSL: +$wolfssl$" v.txt
if [ "$(config QPKI_MLDSA_BUILTIN)" = 1 ]; then
    if flag avx2; then want="builtin AVX2"; else want="builtin portable"; fi
else
    want="wolfSSL"
fi
expect_grep "ML-DSA: $want (cpu flags)" "^ML-DSA: +$want$" v.txt
if [ "$(config QPKI_P256_BUILTIN)" = 1 ]; then
    if [ "$(uname -m)" = x86_64 ]; then want="builtin x86-64"; else want="builtin portable"; fi
else
    want="wolfSSL"
fi
expect_grep "P-256: $want" "^P-256: +$want \(signing" v.txt
if [ "$(uname -m)" = x86_64 ] && flag sha_ni && flag sse4_1 && flag ssse3; then
    want="builtin SHA extensions"
else
    want="builtin portable"
fi
expect_grep "SHA-256: $want (cpu flags)" "^SHA-256: +$want$" v.txt
builtin_dir=$(config QPKI_PLUGIN_DIR)
expect_grep "plugin dir: the built-in $builtin_dir" "^plugin dir: $builtin_dir$" v.txt
check "qpki version is qpki --version" bash -c "qpki version > v2.txt && cmp v.txt v2.txt"

# The plugin directory from the environment: one good plugin, one file that is
# not a shared object.
mkdir plugins empty
printf 'not an ELF file\n' > plugins/broken.so
printf 'ignored\n' > plugins/README
if [ -n "${QPKI_TEST_PKCS11_PLUGIN:-}" ]; then
    cp "$QPKI_TEST_PKCS11_PLUGIN" plugins/qpki-pkcs11.so
fi
check "QPKI_PLUGIN_DIR=plugins qpki version --verbose" env QPKI_PLUGIN_DIR="$TMP/plugins" qpki version --verbose
cp "$last_out" vv.txt
expect_grep "plugin dir from the environment" "^plugin dir: $TMP/plugins \(\\\$QPKI_PLUGIN_DIR\)$" vv.txt
expect_grep "broken.so does not load, with dlopen's reason" \
    "broken\.so does not load: cannot load signer plugin $TMP/plugins/broken\.so: .*(invalid ELF header|file too short)" vv.txt
expect_no_grep "README is not a plugin" "README" vv.txt
if [ -n "${QPKI_TEST_PKCS11_PLUGIN:-}" ]; then
    expect_grep "qpki-pkcs11.so loads, named and versioned by its descriptor" \
        "qpki-pkcs11\.so loads \(signer plugin pkcs11 $version\)$" vv.txt
else
    echo "note: the PKCS#11 plugin is not built; its line is not checked"
fi
lib=$(sed -n "s/^lib path: *//p" vv.txt)
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libqpki-ocsp.so.1 ] && ok "verbose: the library file $lib has SONAME $soname" \
    || fail "verbose: library '$lib' SONAME '$soname'"
[ "$lib" -ef "$(ldd "$QPKI" | awk '/libqpki-ocsp/ {print $3}')" ] && ok "  ... and is the one ldd resolves" \
    || fail "library $lib is not what ldd resolves"
expect_grep "verbose: machine" "^machine: +Linux .* $(uname -m)$" vv.txt
check "qpki --version (not verbose) names the broken plugin's status only" env QPKI_PLUGIN_DIR="$TMP/plugins" qpki --version
expect_grep "  ... with a pointer to --verbose" "broken\.so does not load \(.*; see qpki version --verbose\)" "$last_out"
check "empty plugin directory" env QPKI_PLUGIN_DIR="$TMP/empty" qpki version
expect_grep "  ... plugins: none" "^plugins: +none$" "$last_out"
check "missing plugin directory" env QPKI_PLUGIN_DIR="$TMP/nowhere" qpki version
expect_grep "  ... plugins: none (No such file or directory)" "^plugins: +none \(No such file or directory\)$" "$last_out"

check "qpki version --help" qpki version --help
expect_grep "  ... usage" "^Usage: qpki version \[--verbose\]" "$last_out"
expect_rc 2 "qpki version with an unknown option" qpki version --frobnicate
expect_rc 2 "qpki version with an argument" qpki version extra

finish
