#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/interop/mldsa_noble.sh - differential test of our ML-DSA (FIPS 204) against
# @noble/post-quantum: random seeds, messages, contexts and rnd for ML-DSA-44/65/87;
# keys byte-identical, signatures cross-verify and are byte-identical for the same rnd;
# on the default (AVX2 when available) and on the portable code path.
#
#   tests/interop/mldsa_noble.sh [BUILD_DIR] [CASES_PER_LEVEL]
#
# Needs node >= 20.19 and npm (the pinned noble version is installed into
# tests/interop/node_modules on first use).  Exit 0 when everything agrees.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
cases=${2:-20}
tool="$build/tests/tools/mldsa_tool"
if [ ! -x "$tool" ]; then
    echo "mldsa_noble: $tool not found (build the tree first: ninja -C $build tests/tools/mldsa_tool)" >&2
    exit 2
fi
sh "$here/noble.sh" >/dev/null # the pinned @noble/post-quantum
# Once on the default code path (AVX2 when the CPU has it), once on the portable one.
echo "mldsa_noble: default path"
node "$here/mldsa_noble.mjs" "$tool" "$cases"
echo "mldsa_noble: portable path"
QPKI_MLDSA_PATH=portable node "$here/mldsa_noble.mjs" "$tool" "$cases"
