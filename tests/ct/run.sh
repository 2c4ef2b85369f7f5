#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/ct/run.sh - constant-time check of the builtin ML-DSA (and the Keccak it
# uses) and of our ECDSA P-256 signing with valgrind memcheck on poisoned secrets;
# see tests/ct/ct_mldsa.c and tests/ct/ct_p256.c for the method.  Builds the
# sources with -DQPKI_MLDSA_CT_TEST / -DQPKI_P256_CT_TEST at -O2 (the build type
# the library ships with) and at -O3 and -O1 (other code generation), runs each
# under `valgrind --error-exitcode=1`, and fails on any memcheck error.
#
#   tests/ct/run.sh [CC]        needs valgrind (Debian: apt-get install valgrind)
#   CT_ONLY=mldsa|p256          runs one of the two checks (default: both)
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
only=${CT_ONLY:-all}
status=0
passed=0
failed=0
if [ "$only" = all ] || [ "$only" = mldsa ]; then
for opt in -O2 -O3 -O1; do
    # shellcheck disable=SC2086
    "$cc" -std=c11 $opt -g -D_GNU_SOURCE -DQPKI_BUILDING_LIBRARY -DQPKI_MLDSA_CT_TEST \
        -I"$root/lib" -I"$root/include" -o "$tmp/ct_mldsa" $srcs -lwolfssl
    if valgrind -q --error-exitcode=1 --track-origins=yes "$tmp/ct_mldsa"; then
        echo "ct $opt: valgrind memcheck 0 errors"
        passed=$((passed + 1))
    else
        echo "ct $opt: valgrind memcheck reported secret-dependent branches or addresses" >&2
        status=1
        failed=$((failed + 1))
    fi
done
fi
if [ "$only" = all ] || [ "$only" = p256 ]; then
p256_srcs="$here/ct_p256.c $root/lib/crypto/p256/p256.c $root/lib/crypto/sha256.c $root/lib/der/der.c
           $root/lib/alloc.c $root/lib/util.c $root/lib/names.c"
# the last run builds the portable C arithmetic instead of the x86-64 assembly
for opt in -O2 -O3 -O1 "-O2 -DQPKI_P256_PORTABLE"; do
    # shellcheck disable=SC2086
    "$cc" -std=c11 $opt -g -D_GNU_SOURCE -DQPKI_BUILDING_LIBRARY -DQPKI_P256_CT_TEST \
        -I"$root/lib" -I"$root/include" -o "$tmp/ct_p256" $p256_srcs -lwolfssl -lpthread
    if valgrind -q --error-exitcode=1 --track-origins=yes "$tmp/ct_p256"; then
        echo "ct p256 $opt: valgrind memcheck 0 errors"
        passed=$((passed + 1))
    else
        echo "ct p256 $opt: valgrind memcheck reported secret-dependent branches or addresses" >&2
        status=1
        failed=$((failed + 1))
    fi
done
fi
echo "$passed passed, $failed failed"
exit $status
