#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/ct/run.sh - constant-time check of the builtin ML-DSA (and the Keccak it
# uses) with valgrind memcheck on poisoned secrets; see tests/ct/ct_mldsa.c for the
# method.  Builds the ML-DSA sources with -DQPKI_MLDSA_CT_TEST at -O2 (the build
# type the library ships with) and at -O3 and -O1 (other code generation), runs each
# under `valgrind --error-exitcode=1`, and fails on any memcheck error.
#
#   tests/ct/run.sh [CC]        needs valgrind (Debian: apt-get install valgrind)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cc=${1:-${CC:-cc}}
command -v valgrind >/dev/null || { echo "ct: valgrind not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
srcs="$here/ct_mldsa.c $root/lib/crypto/keccak.c $root/lib/crypto/mldsa/mldsa.c
      $root/lib/crypto/mldsa/mldsa_poly.c $root/lib/crypto/mldsa/mldsa_avx2.c
      $root/lib/crypto/mldsa/mldsa_keccakx4.c $root/lib/alloc.c $root/lib/util.c"
status=0
for opt in -O2 -O3 -O1; do
    # shellcheck disable=SC2086
    "$cc" -std=c11 $opt -g -D_GNU_SOURCE -DQPKI_BUILDING_LIBRARY -DQPKI_MLDSA_CT_TEST \
        -I"$root/lib" -I"$root/include" -o "$tmp/ct_mldsa" $srcs -lwolfssl
    if valgrind -q --error-exitcode=1 --track-origins=yes "$tmp/ct_mldsa"; then
        echo "ct $opt: valgrind memcheck 0 errors"
    else
        echo "ct $opt: valgrind memcheck reported secret-dependent branches or addresses" >&2
        status=1
    fi
done
if [ $status -eq 0 ]; then
    echo "3 passed, 0 failed"
else
    echo "0 passed, 3 failed"
fi
exit $status
