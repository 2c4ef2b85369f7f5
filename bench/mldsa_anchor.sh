#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/mldsa_anchor.sh - our ML-DSA (bench_mldsa, AVX2 path) against the pq-crystals
# AVX2 reference code, alternating run by run on one pinned CPU, and the ratio of each
# cell (ours / reference; > 1 means ours is faster).  The reference is built by the
# anchor in ../shared/bench-anchors/mldsa from a pq-crystals/dilithium tree unpacked
# OUTSIDE this repository (SRC); nothing of it enters the tree.
#
#   SRC=/path/to/dilithium bench/mldsa_anchor.sh [time|count]
#
#   time   (default) R rounds (default 3): the reference's speed binaries for modes
#          2, 3, 5 (-O3 -march=native, as the anchor's run.sh builds them), then
#          `bench_mldsa S avx2`; prints each round's figures, the load average before
#          each round, and per cell the min / median / max of the per-round ratios.
#          The reference signs statelessly (it has no prepared-key mode), so its one
#          signing figure is compared with both of ours.
#   count  instructions per operation under callgrind (repeatable on a busy machine):
#          a small driver (below) makes the reference sign and verify with the key,
#          messages and rnd of `bench_mldsa --count`, so both sides make the very same
#          signatures (checked) and run the same rejection iterations.  Built with
#          -mavx2 -mbmi2 -mpopcnt instead of -march=native: valgrind has no AVX-512.
#          Our signing count is also given without the wiping of secrets (explicit_bzero),
#          which the reference does not do and callgrind counts once per byte.
#
# Knobs: BUILD=build-rel (a release build of this tree, made if missing) R=3 S=2 CPU=1
#        N=40 (count: operations per measurement) ANCHOR=../shared/bench-anchors/mldsa
#        (../../shared/... from a git worktree)
#        OUT=${TMPDIR:-/tmp}/pqc-speed
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SRC=${SRC:?set SRC to the unpacked pq-crystals/dilithium tree (outside this repository)}
ANCHOR=${ANCHOR:-$ROOT/../shared/bench-anchors/mldsa}
[[ -d $ANCHOR ]] || ANCHOR=$ROOT/../../shared/bench-anchors/mldsa # from a git worktree
[[ -f $ANCHOR/speed.c ]] || { echo "no anchor at $ANCHOR (set ANCHOR)" >&2; exit 2; }
BUILD=${BUILD:-$ROOT/build-rel}
OUT=${OUT:-${TMPDIR:-/tmp}/pqc-speed}
R=${R:-3} S=${S:-2} CPU=${CPU:-1} N=${N:-40}
mode=${1:-time}

if [[ ! -f $BUILD/build.ninja ]]; then
    meson setup "$BUILD" "$ROOT" -Dbuildtype=release >/dev/null
fi
ninja -C "$BUILD" bench/bench_mldsa >/dev/null
OURS=$BUILD/bench/bench_mldsa
mkdir -p "$OUT"
d=$SRC/avx2
refsrc() { # the reference's sources but its randombytes.c
    local f
    for f in "$d"/*.c "$d"/*.S; do [[ $f == */randombytes.c ]] || echo "$f"; done
}

if [[ $mode == time ]]; then
    for m in 2 3 5; do # the anchor's build line (its run.sh builds and runs; we reuse the binary)
        # shellcheck disable=SC2046
        cc -O3 -march=native -fomit-frame-pointer -DDILITHIUM_MODE=$m -I"$d" -o "$OUT/speed-avx2-$m" \
            "$ANCHOR/speed.c" $(refsrc) "$d/randombytes.c"
    done
    log=$OUT/rounds.txt
    : >"$log"
    for r in $(seq "$R"); do
        echo "== round $r $(date -u +%FT%TZ) load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
        for m in 2 3 5; do taskset -c "$CPU" "$OUT/speed-avx2-$m" | tee -a "$log"; done
        taskset -c "$CPU" "$OURS" "$S" avx2 | grep '^ML-DSA' | tee -a "$log"
    done
    python3 - "$log" <<'EOF'
import re, statistics, sys
ref, ours = {}, {}
lv = {"2": 44, "3": 65, "5": 87}
for line in open(sys.argv[1]):
    m = re.match(r"pq-crystals ML-DSA mode (\d): sign/s (\d+) verify/s (\d+)", line)
    if m:
        ref.setdefault(lv[m[1]], []).append((int(m[2]), int(m[3])))
    m = re.match(r"ML-DSA-(\d+) avx2\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)", line)
    if m:  # keygen, sign (prepared), verify, sign-sk (stateless)
        ours.setdefault(int(m[1]), []).append((int(m[2]), int(m[4]), int(m[3])))
print("\nratio ours / reference per round: min / median / max")
print("| | prepared sign | stateless sign | verify |")
print("|---|---:|---:|---:|")
for L in (44, 65, 87):
    cells = []
    for i, j in ((0, 0), (1, 0), (2, 1)):
        xs = [o[i] / r[j] for o, r in zip(ours[L], ref[L])]
        cells.append("%.2f / %.2f / %.2f" % (min(xs), statistics.median(xs), max(xs)))
    print("| ML-DSA-%d | %s |" % (L, " | ".join(cells)))
EOF
    exit 0
fi

[[ $mode == count ]] || { echo "usage: $0 [time|count]" >&2; exit 2; }
cat >"$OUT/count.c" <<'EOF'
/* reference driver: count sign|verify N [dump]; key seed 0x01 * 32, rnd 0x5a * 32,
 * 64-byte messages zero but for the counter in the first two bytes, empty context:
 * what bench_mldsa --count does */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "params.h"
#include "sign.h"
static int calls;
void randombytes(uint8_t *out, size_t outlen) { memset(out, calls++ ? 0x5a : 0x01, outlen); }
int main(int argc, char **argv)
{
    static uint8_t pk[CRYPTO_PUBLICKEYBYTES], sk[CRYPTO_SECRETKEYBYTES], sig[CRYPTO_BYTES], m[64];
    size_t siglen;
    long n = atol(argv[2]);
    crypto_sign_keypair(pk, sk);
    if (strcmp(argv[1], "sign") == 0) {
        for (long i = 0; i < n; i++) {
            m[0] = (uint8_t)i;
            m[1] = (uint8_t)(i >> 8);
            crypto_sign_signature(sig, &siglen, m, 64, NULL, 0, sk);
        }
    } else {
        crypto_sign_signature(sig, &siglen, m, 64, NULL, 0, sk);
        for (long i = 0; i < n; i++)
            if (crypto_sign_verify(sig, siglen, m, 64, NULL, 0, pk))
                return 1;
    }
    if (argc > 3)
        fwrite(sig, 1, siglen, stdout);
    return 0;
}
EOF
for m in 2 3 5; do
    # shellcheck disable=SC2046
    cc -O3 -mavx2 -mbmi2 -mpopcnt -fomit-frame-pointer -DDILITHIUM_MODE=$m -I"$d" \
        -o "$OUT/count-$m" "$OUT/count.c" $(refsrc)
done
# "TOTAL WIPE": instructions of the whole run, and of them those inside explicit_bzero
# (our wiping of secrets when a signature or key is done with; the reference wipes
# nothing).  glibc clears large blocks with `rep stosb`, which callgrind counts once
# per byte, although the CPU clears 32 or more bytes a cycle.
ir() {
    local f
    f=$(mktemp "$OUT/callgrind.XXXXXX")
    valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >/dev/null 2>&1
    callgrind_annotate --inclusive=yes "$f" | awk '
        /PROGRAM TOTALS/ { gsub(",", "", $1); t = $1 }
        /explicit_bzero/ { gsub(",", "", $1); if ($1 + 0 > w) w = $1 + 0 }
        END { print t, w + 0 }'
    rm -f "$f"
}
for lm in 44:2 65:3 87:5; do # the same signatures on both sides, or the counts mean nothing
    cmp -s <("$OUT/count-${lm#*:}" sign 3 dump) <("$OURS" --count "${lm%:*}" avx2 3 dump) ||
        { echo "ML-DSA-${lm%:*}: the reference's signatures differ from ours" >&2; exit 1; }
done
echo "instructions per operation (callgrind, N = $N; ours AVX2 path; signatures checked identical;"
echo "\"of which wiping\": ours inside explicit_bzero, rep stosb counted per byte; the reference wipes nothing)"
echo "| | sign (stateless), ours | of which wiping | reference | ref / ours | ref / ours without wiping | verify, ours | reference | ref / ours |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for lm in 44:2 65:3 87:5; do
    L=${lm%:*} M=${lm#*:} row="| ML-DSA-$L"
    for op in sign verify; do
        [[ $op == sign ]] && how=stateless || how=verify
        read -r r0 _ < <(ir "$OUT/count-$M" "$op" 0)
        read -r r1 _ < <(ir "$OUT/count-$M" "$op" "$N")
        read -r o0 w0 < <(ir "$OURS" --count "$L" avx2 0 "$how")
        read -r o1 w1 < <(ir "$OURS" --count "$L" avx2 "$N" "$how")
        o=$((o1 - o0)) r=$((r1 - r0)) w=$((w1 - w0))
        if [[ $op == sign ]]; then
            row+=" | $((o / N)) | $((w / N)) | $((r / N)) | $(ratio $r $o) | $(ratio $r $((o - w)))"
        else
            row+=" | $((o / N)) | $((r / N)) | $(ratio $r $o)"
        fi
    done
    echo "$row |"
done
