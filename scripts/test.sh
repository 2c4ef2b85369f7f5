#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test
# (unit, CLI, interop, PKCS#11, ABI), then the whole unit suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then each fuzzer briefly.
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

log "tests: unit, cli, interop, pkcs11, abi"
meson test -C build-ci --print-errorlogs --num-processes "$jobs"

log "AddressSanitizer + UndefinedBehaviorSanitizer: unit suite"
rm -rf build-asan
CC=clang meson setup build-asan -Dwerror=true -Dbuildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --print-errorlogs --num-processes "$jobs"

log "fuzz smoke runs"
bash tests/fuzz/run.sh build-asan "${QPKI_FUZZ_SECONDS:-20}"

log "all tests passed"
