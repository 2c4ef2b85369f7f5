#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/presign.sh - `qpki ocsp serve --presign` at scale (never a test: the
# figures go to docs/PERFORMANCE.md with the machine and this command).
#
# For a CA with an ECDSA P-256 key and one with an Ed25519 key, each signing its
# own responses (no certificate in them: a few hundred bytes each), with NROWS
# synthetic rows:
#   1. time from the server's start until the pre-signing thread has signed
#      every row (its log line), the server's CPU time meanwhile, RSS after the
#      load and after pre-signing, the pre-signed blocks
#      (qpki_ocsp_presign_bytes) and the size of one response (checked by
#      openssl);
#   2. cached answers/s over HTTP POST, each request for a serial drawn at
#      random from all NROWS (bench/presign.lua): every answer must be a cache
#      hit (qpki_ocsp_cache_hits_total) and the live signatures during the run
#      are reported; then RSS again.
# The pre-signing thread is one thread at SCHED_IDLE: it uses at most one of
# the cores (the other idles here).
#
# With DB_URL (a libpq URL of a qpki status database whose role may write, e.g.
# from bench/presign_pgsql.sh, which starts a PostgreSQL of its own), the rows
# are imported there (`qpki db import`, timed) and the server is a PostgreSQL
# node (`--db DB_NODE_URL`, default DB_URL) that pre-signs the rows it holds in
# memory; index.txt is not read by the server then.
#
# Usage: bench/presign.sh        (NROWS=1000000: a few minutes per algorithm)
# Knobs: BUILD=build-bench WORK=/tmp/qpki-presign-bench NROWS=1000000 DUR=10s
#        CONNS=64 THREADS=2 ALGS="ec ed" DB_URL= DB_NODE_URL=
# Needs: meson/ninja (builds BUILD in release mode if missing), wrk, openssl,
#        python3, curl.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
WORK=${WORK:-/tmp/qpki-presign-bench}
NROWS=${NROWS:-1000000}
DUR=${DUR:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
ALGS=${ALGS:-ec ed}
DB_URL=${DB_URL:-}
DB_NODE_URL=${DB_NODE_URL:-$DB_URL}
LUA=$HERE/presign.lua
PIDS=()
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
need wrk openssl python3 curl

if [[ ! -f $BUILD/build.ninja ]]; then
    log "meson setup $BUILD (release)"
    meson setup "$BUILD" "$ROOT" -Dbuildtype=release >/dev/null
fi
ninja -C "$BUILD" cli/qpki >/dev/null
SOURCE=index.txt
SERVE_DB=()
if [[ -n $DB_URL ]]; then
    ninja -C "$BUILD" lib/plugins/pgsql/qpki-db-pgsql.so >/dev/null
    export QPKI_PLUGIN_DIR=${QPKI_PLUGIN_DIR:-$BUILD/lib/plugins/pgsql}
    SOURCE=PostgreSQL
    SERVE_DB=(--db "$DB_NODE_URL")
fi
QPKI=$BUILD/cli/qpki
rm -rf "$WORK"
mkdir -p "$WORK"
RESULTS=$WORK/results.md
: >"$RESULTS"

metric() { curl -sf "http://127.0.0.1:$APORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
rss_now_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

for alg in $ALGS; do
    d=$WORK/$alg
    mkdir -p "$d"
    # the built-in ec/root-ca is P-384: the same profile with a P-256 key
    sed 's/^algorithm: .*/algorithm: ecdsa-p256/' "$ROOT/cli/profiles/ec/root-ca.yaml" \
        >"$WORK/ec-p256-root.yaml"
    profile=$alg/root-ca
    [[ $alg == ec ]] && profile=$WORK/ec-p256-root.yaml
    "$QPKI" ca init --ca-dir "$d/ca" --profile "$profile" --var cn="Presign $alg CA" >/dev/null
    # NROWS rows (10% revoked), distinct serials of 16 octets, high bit clear
    python3 - "$d/ca/index.txt" "$NROWS" "$d/serials.bin" <<'PY'
import random, sys
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20261207)
seen = set()
with open(path, "a") as f, open(out, "wb") as o:
    while len(seen) < n:
        s = bytes([rnd.randrange(0x10, 0x80)]) + rnd.getrandbits(120).to_bytes(15, "big")
        if s in seen:
            continue
        seen.add(s)
        h = s.hex().upper()
        if rnd.random() < 0.10:
            f.write("R\t301231235959Z\t250101000000Z,keyCompromise\t%s\tunknown\t/CN=l%d\n"
                    % (h, len(seen)))
        else:
            f.write("V\t301231235959Z\t\t%s\tunknown\t/CN=l%d\n" % (h, len(seen)))
        o.write(s)
PY
    first=$(head -c 16 "$d/serials.bin" | od -An -tx1 | tr -d ' \n')
    openssl ocsp -issuer "$d/ca/ca.crt" -serial "0x$first" -no_nonce -reqout "$d/template.der" \
        2>/dev/null
    log "$alg: CA with $NROWS rows"
    if [[ -n $DB_URL ]]; then
        t0=$(date +%s%N)
        out=$("$QPKI" db import --db "$DB_URL" --ca-dir "$d/ca")
        log "$alg: $out in $((($(date +%s%N) - t0) / 1000000)) ms"
        : >"$d/ca/index.txt" # the node reads the database, nothing else
    fi

    PORT=$(free_port)
    APORT=$(free_port)
    "$QPKI" ocsp serve --addr "127.0.0.1:$PORT" --admin-addr "127.0.0.1:$APORT" \
        --pid-file "$d/serve.pid" --quiet --threads "$THREADS" \
        --cache-size $((NROWS * 8 / 7 + 4096)) \
        --ca-dir "$d/ca" "${SERVE_DB[@]}" --presign \
        >"$d/serve.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    until grep -q 'msg=listening' "$d/serve.log" 2>/dev/null; do # after the rows are loaded
        kill -0 "$pid" 2>/dev/null || die "server exited: $(tail -5 "$d/serve.log")"
        sleep 0.1
    done
    loaded_kb=$(rss_now_kb "$pid")
    until grep -q 'first pass over every row done' "$d/serve.log"; do
        kill -0 "$pid" 2>/dev/null || die "server exited: $(tail -5 "$d/serve.log")"
        sleep 0.5
    done
    cpu_s=$(awk -v t="$(ticks "$pid")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
    secs=$(sed -n 's/.*first pass over every row done.* seconds=\([0-9.]*\).*/\1/p' "$d/serve.log")
    signed=$(metric qpki_ocsp_presigned_total)
    bytes=$(metric qpki_ocsp_presign_bytes)
    rss_kb=$(rss_now_kb "$pid")
    curl -s -o "$d/one.der" --data-binary @"$d/template.der" \
        -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$PORT/"
    openssl ocsp -respin "$d/one.der" -issuer "$d/ca/ca.crt" -serial "0x$first" \
        -CAfile "$d/ca/ca.crt" -no_nonce 2>&1 | grep -q 'Response verify OK' ||
        die "$alg: the pre-signed response does not verify"
    size=$(stat -c %s "$d/one.der")
    log "$alg ($SOURCE): $signed pre-signed in ${secs}s (server CPU ${cpu_s}s), RSS $((rss_kb / 1024)) MiB (after load $((loaded_kb / 1024)) MiB), blocks $((bytes / 1048576)) MiB, response $size B"

    sigs0=$(metric qpki_ocsp_signatures_total)
    hits0=$(metric qpki_ocsp_cache_hits_total)
    c0=$(ticks "$pid")
    out=$(timeout 120 wrk -t2 -c"$CONNS" -d"$DUR" -s "$LUA" "http://127.0.0.1:$PORT" -- \
        "$d/template.der" "$d/serials.bin" | grep '^RESULT')
    c1=$(ticks "$pid")
    sigs1=$(metric qpki_ocsp_signatures_total)
    hits1=$(metric qpki_ocsp_cache_hits_total)
    req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
    rps=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$out")
    [[ $((hits1 - hits0)) -ge $req ]] ||
        die "$alg: only $((hits1 - hits0)) of $req answers were cache hits"
    cpu_us=$(awk -v t=$((c1 - c0)) -v r="$req" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.1f", t * 1e6 / hz / r }')
    rss2_kb=$(rss_now_kb "$pid")
    log "$alg: $out; live signatures during the run: $((sigs1 - sigs0)); server CPU ${cpu_us} us/req"
    printf '| %s (%s) | %d | %s | %s | %d | %d | %d | %d | %.0f | %s | %d | %d |\n' "$alg" "$SOURCE" "$NROWS" \
        "$secs" "$cpu_s" $((loaded_kb / 1024)) $((rss_kb / 1024)) $((bytes / 1048576)) "$size" \
        "$rps" "$cpu_us" $((sigs1 - sigs0)) $((rss2_kb / 1024)) >>"$RESULTS"
    stop_pid "$pid"
done
{
    echo "| CA key | rows | pre-sign time s | server CPU s | RSS loaded MiB | RSS pre-signed MiB | blocks MiB | response B | cached answers/s (random over all rows) | server CPU us/answer | live signatures in the run | RSS after MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$RESULTS"
} | tee "$WORK/summary.md"
