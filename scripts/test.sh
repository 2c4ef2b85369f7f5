#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test
# (unit, CLI, interop, server, PKCS#11, ABI, constant time), a 2-minute soak of the
# server, builds the Debian packages and uses them installed (tests/package/run.sh),
# then every suite again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# each fuzzer briefly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$PWD
jobs=$(nproc)
log() { printf '\n=== %s ===\n' "$*"; }

log "dependencies"
bash scripts/install-deps.sh

log "build (warnings are errors)"
rm -rf build-ci
meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
ninja -C build-ci

log "release build (-O3, hardening flags; what scripts/demo.sh builds), warnings as errors"
rm -rf build-rel
meson setup build-rel -Dwerror=true -Dbuildtype=release -Dtests=disabled >/dev/null
ninja -C build-rel

log "tests: unit, cli, interop, server, pkcs11, abi, constant time"
meson test -C build-ci --print-errorlogs --num-processes "$jobs"

log "soak: 2 minutes of bench/soak.sh (mixed load at half capacity, index changes, key rotations, SIGHUP; every sampled answer checked)"
DURATION=${QPKI_SOAK_SECONDS:-120} BUILD=build-ci bash bench/soak.sh

log "install + pkg-config consumer (examples/parse_request.c built with pkg-config alone)"
stage=$(mktemp -d)
DESTDIR=$stage meson install -C build-ci --quiet >/dev/null
pcdir=$(dirname "$(find "$stage" -name libqpki-ocsp.pc | head -1)")
libdir=$(dirname "$pcdir")
prefix=$stage$(meson introspect build-ci --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
cc -std=c11 -Wall -Wextra -Werror -o "$stage/parse_request" examples/parse_request.c \
  $(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$prefix" --cflags --libs libqpki-ocsp)
LD_LIBRARY_PATH=$libdir "$stage/parse_request" tests/data/ocsp/req-two.der \
  tests/data/ocsp/responder.crt tests/data/ocsp/responder.key > "$stage/resp.der"
openssl ocsp -respin "$stage/resp.der" -CAfile tests/data/ocsp/ca.crt -issuer tests/data/ocsp/ca.crt \
  -serial 0x1001 -serial 0x1002 -no_nonce | tee "$stage/out.txt"
grep -q "0x1001: good" "$stage/out.txt" && grep -q "0x1002: good" "$stage/out.txt"
rm -rf "$stage"

log "Debian packages: dpkg-buildpackage, lintian, installed, then the installed qpki and -dev used"
bash tests/package/run.sh

log "AddressSanitizer + UndefinedBehaviorSanitizer: every suite (ct has its own valgrind build)"
rm -rf build-asan
CC=clang meson setup build-asan -Dwerror=true -Dbuildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true >/dev/null
ninja -C build-asan
# SoftHSM2 itself leaks OpenSSL objects; nothing of ours uses OpenSSL's libcrypto.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$top/tests/plugin/lsan-softhsm.supp \
  meson test -C build-asan --no-suite ct --print-errorlogs --num-processes "$jobs"

log "fuzz smoke runs"
bash tests/fuzz/run.sh build-asan "${QPKI_FUZZ_SECONDS:-20}"

log "all tests passed"
