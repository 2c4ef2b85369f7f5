#!/usr/bin/env bash
# Runs every libFuzzer target briefly on its seed corpus (a smoke run for CI).
#   tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
build=${1:?build dir}
secs=${2:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export QPKI_TEST_DATA=$here/../data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz_*)
((${#targets[@]})) || { echo "no fuzz targets in $build/tests/fuzz (configure with -Dfuzzing=true and clang)"; exit 1; }
for bin in "${targets[@]}"; do
  [[ -x $bin && ! -d $bin ]] || continue
  name=${bin##*/fuzz_}
  seeds=$here/corpus/$name
  mkdir -p "$work/$name"
  args=("$work/$name")
  [[ -d $seeds ]] && args+=("$seeds")
  echo "fuzz_$name: ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
      "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=20 \
      -print_final_stats=1 -artifact_prefix="$work/$name-" "${args[@]}" > "$work/$name.log" 2>&1; then
    echo "fuzz_$name FAILED:"; tail -50 "$work/$name.log"; status=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
