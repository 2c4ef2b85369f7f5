#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/interop/noble.sh - install the pinned @noble/post-quantum (the independent
# ML-DSA implementation the tests check our signatures with) into
# tests/interop/node_modules when it is missing, and print its directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
NOBLE_VERSION=0.5.4
pkg=$here/node_modules/@noble/post-quantum
if [ ! -f "$pkg/package.json" ] || ! grep -q "\"version\": \"$NOBLE_VERSION\"" "$pkg/package.json"; then
    npm install --prefix "$here" --no-save --no-audit --no-fund "@noble/post-quantum@$NOBLE_VERSION" >&2
fi
echo "$pkg"
