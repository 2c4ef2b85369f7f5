#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/campaign.sh - a fuzzing campaign (not part of CI; tests/fuzz/run.sh is
# the CI smoke run): every libFuzzer target for N executions or a time budget,
# starting from the committed corpus tests/fuzz/corpus/<target>/, each input also
# run with one allocation failing (tests/fuzz/fuzz_alloc.h).  Prints a table:
# target, executions, coverage, corpus size, allocation failures injected, crashes.
#
#   tests/fuzz/campaign.sh [-n RUNS] [-t SECONDS] [-u] [-b BUILD_DIR] [TARGET...]
#
#   -n RUNS     executions per target (default 10000000)
#   -t SECONDS  time budget per target instead (with -n too: whichever comes first)
#   -u          merge the inputs that add coverage into tests/fuzz/corpus/<target>/
#               (libFuzzer -merge=1: only inputs with new features are added)
#   -b DIR      the build (default build-fuzz; configured when missing: clang,
#               -O2, AddressSanitizer + UndefinedBehaviorSanitizer, -Dfuzzing=true)
#   TARGET      der cert crl request response index key http (default: every
#               tests/fuzz/fuzz_*.c)
#
# Environment: NICE (default 10), OUT (work directory, default a new one in /tmp),
# MAX_CRASHES per target (default 5; after a crash the target starts again from
# its corpus with the executions left).  Exit status 1 when anything crashed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
runs=10000000
budget=
update=false
runs_given=false
build=$top/build-fuzz
while getopts 'n:t:ub:h' opt; do
  case $opt in
    n) runs=$OPTARG; runs_given=true ;;
    t) budget=$OPTARG ;;
    u) update=true ;;
    b) build=$(cd "$OPTARG" 2>/dev/null && pwd || echo "$OPTARG") ;;
    h) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
# -t alone: the time budget only; -t with -n: whichever comes first
[[ -n $budget && $runs_given == false ]] && runs=-1
targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in "$here"/fuzz_*.c; do
    t=${src##*/fuzz_}
    targets+=("${t%.c}")
  done
fi
nice_level=${NICE:-10}
max_crashes=${MAX_CRASHES:-5}
out=${OUT:-$(mktemp -d /tmp/qpki-fuzz-campaign.XXXXXX)}
mkdir -p "$out"
export QPKI_TEST_DATA=$top/tests/data

if [[ ! -f $build/build.ninja ]]; then
  echo "configuring $build (clang, -O2, ASan + UBSan, fuzzing)"
  CC=clang meson setup "$build" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false -Dfuzzing=true >/dev/null
fi
nice -n "$nice_level" ninja -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
common=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)

echo "campaign: ${targets[*]}; runs per target: $([[ $runs == -1 ]] && echo unbounded || echo "$runs")" \
     "$([[ -n $budget ]] && echo "time budget ${budget}s per target")"
echo "build: $build ($(clang --version | head -1)); nice -n $nice_level; work: $out"
echo "started: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(nproc) CPUs ($(uname -m))"

rows=()
status=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/fuzz_$t
  seeds=$here/corpus/$t
  [[ -x $bin ]] || { echo "no $bin"; exit 2; }
  work=$out/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  done_runs=0 secs=0 crashes=0 injected=0 cov=0 ft=0 edges=0 part=0
  start=$SECONDS
  while :; do
    part=$((part + 1))
    log=$work/run$part.log
    args=("${common[@]}" -artifact_prefix="$work/artifacts/")
    if [[ $runs != -1 ]]; then
      args+=(-runs=$((runs - done_runs)))
    fi
    if [[ -n $budget ]]; then
      left=$((budget - (SECONDS - start)))
      ((left > 0)) || break
      args+=(-max_total_time="$left")
    fi
    rc=0
    nice -n "$nice_level" "$bin" "${args[@]}" "$work/corpus" "$seeds" >"$log" 2>&1 || rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $n ]] || n=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    done_runs=$((done_runs + ${n:-0}))
    i=$(sed -n 's/^alloc-fail: \([0-9]*\) calls with an allocation refused.*/\1/p' "$log" | tail -1)
    injected=$((injected + ${i:-0}))
    e=$(sed -n 's/.*Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
    [[ -n $e ]] && edges=$e
    line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    if [[ -n $line ]]; then
      c=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$line")
      f=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$line")
      ((c > cov)) && cov=$c
      ((f > ft)) && ft=$f
    fi
    if ((rc == 0)); then
      break
    fi
    crashes=$((crashes + 1))
    status=1
    echo "fuzz_$t: crash $crashes (exit $rc), log $log:"
    grep -E 'ERROR|alloc-fail:.*returned|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/  /'
    ((crashes < max_crashes)) || break
    [[ $runs == -1 || $done_runs -lt $runs ]] || break
  done
  secs=$((SECONDS - start))
  # the minimised corpus: the committed one plus the inputs that add coverage
  # (libFuzzer -merge=1); -u copies those additions into tests/fuzz/corpus/
  rm -rf "$work/min"
  cp -r "$seeds" "$work/min"
  nice -n "$nice_level" "$bin" -merge=1 -rss_limit_mb=2048 -timeout=20 \
    "$work/min" "$work/corpus" >"$work/merge.log" 2>&1 || echo "fuzz_$t: merge failed ($work/merge.log)"
  if $update; then
    cp -n "$work/min"/* "$seeds"/
  fi
  files=$(find "$work/min" -type f | wc -l)
  kib=$(( ($(find "$work/min" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}') + 1023) / 1024 ))
  rate=$((secs > 0 ? done_runs / secs : done_runs))
  pct=$(awk -v c="$cov" -v e="$edges" 'BEGIN { if (e > 0) printf "%.1f", 100 * c / e; else print "?" }')
  rows+=("$(printf '| fuzz_%s | %d | %d | %d | %d of %d (%s %%) | %d | %d files, %d KiB | %d | %d |' \
    "$t" "$done_runs" "$secs" "$rate" "$cov" "$edges" "$pct" "$ft" "$files" "$kib" "$injected" "$crashes")")
  echo "${rows[-1]}"
done

echo
echo "finished: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo
echo "| target | executions | seconds | exec/s | coverage (edges) | features | minimised corpus | allocation failures injected | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
[[ $status == 0 ]] || echo "crash artifacts: $out/*/artifacts/"
exit $status
