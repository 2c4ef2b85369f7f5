#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/abi/debian_symbols.sh - the Debian symbols file debian/gen-symbols derives
# from tests/abi/symbols.txt and lib/libqpki-ocsp.map matches the built library
# exactly, checked by dpkg-gensymbols -c4 as the package build does (a symbol added
# to the map and symbols.txt but missing from the .so, or the reverse, fails).
# usage: debian_symbols.sh SRCDIR LIBRARY.so VERSION
set -eu
src=$1 lib=$(realpath "$2") version=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pkg"
python3 "$src/debian/gen-symbols" "$src" "$work/symbols"
cd "$src"
if dpkg-gensymbols -plibqpki-ocsp1 -v"$version" -P"$work/pkg" -e"$lib" -I"$work/symbols" \
    -O"$work/out" -c4 >"$work/log" 2>&1; then
    echo "ok - debian/gen-symbols: $(grep -c '^ ' "$work/symbols") entries match $(basename "$lib") (dpkg-gensymbols -c4)"
else
    cat "$work/log"
    echo "FAIL - the generated symbols file does not match the library"
    exit 1
fi
