#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/pgsql.sh - several nodes on PostgreSQL at scale (issue figures for
# docs/PERFORMANCE.md; never a test).  Starts its own PostgreSQL 15 primary and
# replica with tests/cluster/lib.sh, then measures:
#   1. `qpki db import` of ROWS rows (10 million by default): time;
#   2. a node's cold start (exec -> listening, every row loaded from PostgreSQL)
#      and its RSS; bench_pgsql: the plugin's load alone and lookups/s;
#   3. cached answers/s of one node on PostgreSQL and one on the same CA's
#      index.txt, in one run, alternating (REPS runs of DUR each, medians);
#   4. propagation: RATE revocations/s (one transaction each) for PROP seconds,
#      the delay from commit to the first revoked answer on a node on the primary
#      (NOTIFY) and on one on the replica (polling, --db-poll 1s): p50/p99.
#
# Usage: bench/pgsql.sh [BUILD]     (BUILD: a release build dir, default build-bench)
# Knobs: ROWS=10000000 DUR=10s REPS=3 CONNS=32 RATE=1000 PROP=30
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac   # the tests' lib.sh moves to a work directory
ROWS=${ROWS:-10000000}
DUR=${DUR:-10s}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
RATE=${RATE:-1000}
PROP=${PROP:-30}
if [ ! -x "$BUILD/cli/qpki" ]; then
    meson setup "$BUILD" "$ROOT" -Dbuildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$BUILD" >/dev/null
export QPKI_PLUGIN_DIR=$BUILD/lib/plugins/pgsql
here=$ROOT/tests/cluster
. "$ROOT/tests/server/lib.sh" "$BUILD/cli/qpki"
. "$here/lib.sh"
now_ms() { date +%s%3N; }
say() { printf '%s\n' "$*" | tee -a "$WORK/summary.txt"; }
say "bench/pgsql.sh $(date -u +%Y-%m-%dT%H:%MZ) ROWS=$ROWS DUR=$DUR REPS=$REPS CONNS=$CONNS RATE=$RATE PROP=$PROP"
say "machine: $(nproc) CPUs, $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1), PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU seconds (user + system) a process has used so far
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# CPU seconds the PostgreSQL server NAME has used so far: the postmaster, the
# children it reaped (cutime, cstime) and those still running
pg_cpu() {
    local pm
    pm=$(head -1 "$(pg_dir "$1")/postmaster.pid")
    { cat "/proc/$pm/stat"; for c in $(ps -o pid= --ppid "$pm"); do cat "/proc/$c/stat" 2>/dev/null; done; } |
        awk -v hz="$(getconf CLK_TCK)" -v pm="$pm" \
            '{t += $14 + $15; if ($1 == pm) t += $16 + $17} END {printf "%.1f", t / hz}'
}

pg_init p
# a database of this size wants more than the test's 64 MB
echo "shared_buffers = 1GB" >>"$(pg_dir p)/postgresql.conf"
echo "max_wal_size = 8GB" >>"$(pg_dir p)/postgresql.conf"
pg_start p
pg_qpki_db p

"$QPKI" ca init --ca-dir ca --var cn="Bench CA" >/dev/null
"$QPKI" credential enroll --ca-dir ca --cred-dir credentials --profile ec/ocsp-responder \
    --var cn=ocsp.bench.example --id ocsp-ca >/dev/null
t=$(now_ms)
/usr/bin/python3 "$ROOT/bench/pgsql.py" gen "$ROWS" ca/index.txt
say "generated index.txt: $(wc -l <ca/index.txt) rows, $(du -m ca/index.txt | cut -f1) MB in $(($(now_ms) - t)) ms"

# ---- 1. import -------------------------------------------------------------------------------
t=$(now_ms)
c0=$(pg_cpu p)
/usr/bin/time -f '%U %S' -o "$WORK/import.cpu" "$QPKI" db import --db "$(pg_url p ca_writer)" --ca-dir ca >"$WORK/import.out"
out=$(cat "$WORK/import.out")
ms=$(($(now_ms) - t))
say "1. qpki db import: $out"
say "   time: $ms ms ($(awk -v r="$ROWS" -v m="$ms" 'BEGIN {printf "%.0f", r / m * 1000}') rows/s);" \
    "CPU: $(awk '{printf "%.1f", $1 + $2}' "$WORK/import.cpu") s in qpki, $(awk -v a="$c0" -v b="$(pg_cpu p)" 'BEGIN {printf "%.1f", b - a}') s in PostgreSQL;" \
    "load average $(cut -d' ' -f1 /proc/loadavg)"
id=$(printf '%s\n' "$out" | sed -n 's/.*ca_id \([0-9a-f]*\)).*/\1/p')
pg_sql p -c 'VACUUM ANALYZE qpki.cert_status'

pg_replica r p
pg_catch_up r p

# ---- 2. cold start, RSS, lookups/s -------------------------------------------------------------
PORT_DB=$(free_port); ADMIN_DB=$(free_port); PORT_IX=$(free_port)
c0=$(pg_cpu p)
t=$(now_ms)
"$QPKI" ocsp serve --ca-dir ca --credential ocsp-ca --db "$(pg_url p ocsp_node)" --quiet \
    --addr "127.0.0.1:$PORT_DB" --admin-addr "127.0.0.1:$ADMIN_DB" --pid-file "$WORK/db.pid" \
    >"$WORK/node-db.log" 2>&1 &
NODE_DB=$!
SERVER_PIDS="$SERVER_PIDS $NODE_DB"
until grep -q msg=listening "$WORK/node-db.log" 2>/dev/null; do
    kill -0 $NODE_DB 2>/dev/null || { cat "$WORK/node-db.log"; exit 1; }
    sleep 0.05
done
ms=$(($(now_ms) - t))
say "2. node cold start (exec -> listening, $ROWS rows loaded from the primary): $ms ms" \
    "($(cpu_of $NODE_DB) s CPU in the node, $(awk -v a="$c0" -v b="$(pg_cpu p)" 'BEGIN {printf "%.1f", b - a}') s in PostgreSQL," \
    "load average $(cut -d' ' -f1 /proc/loadavg));" \
    "RSS $(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$NODE_DB/status) MiB," \
    "peak $(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$NODE_DB/status) MiB"
"$BUILD/bench/bench_pgsql" "$(pg_url r ocsp_node)" "$id" "$ROWS" | sed 's/^/   bench_pgsql (replica): /' | tee -a "$WORK/summary.txt"

# ---- 3. cached answers/s: PostgreSQL vs index.txt, one run ---------------------------------------
t=$(now_ms)
"$QPKI" ocsp serve --ca-dir ca --credential ocsp-ca --quiet --addr "127.0.0.1:$PORT_IX" \
    --pid-file "$WORK/ix.pid" >"$WORK/node-ix.log" 2>&1 &
NODE_IX=$!
SERVER_PIDS="$SERVER_PIDS $NODE_IX"
until grep -q msg=listening "$WORK/node-ix.log"; do
    kill -0 $NODE_IX 2>/dev/null || { cat "$WORK/node-ix.log"; exit 1; }
    sleep 0.05
done
say "   the same node on index.txt: $(($(now_ms) - t)) ms to listening," \
    "RSS $(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$NODE_IX/status) MiB"
ser=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import pgsql; print('0x%032X' % pgsql.serial(5))")
openssl ocsp -issuer ca/ca.crt -serial "$ser" -no_nonce -reqout get.req 2>/dev/null
path="/$(base64 -w0 get.req)"
for port in $PORT_DB $PORT_IX; do
    st=$(openssl ocsp -issuer ca/ca.crt -serial "$ser" -url "http://127.0.0.1:$port" -CAfile ca/ca.crt \
        -no_nonce 2>&1 | grep -c -e 'Response verify OK' -e ': good$')
    [ "$st" = 2 ] || { echo "node on port $port does not answer good"; exit 1; }
done
rps() { wrk -t1 -c"$CONNS" -d"$DUR" "http://127.0.0.1:$1$path" | awk '/^Requests\/sec/ {print $2}'; }
DBS=() IXS=()
for rep in $(seq 1 "$REPS"); do
    DBS+=("$(rps $PORT_DB)")
    IXS+=("$(rps $PORT_IX)")
    say "   run $rep: PostgreSQL node ${DBS[-1]}/s, index.txt node ${IXS[-1]}/s"
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mdb=$(med "${DBS[@]}"); mix=$(med "${IXS[@]}")
say "3. cached answers/s (wrk -t1 -c$CONNS -d$DUR, median of $REPS): PostgreSQL $mdb, index.txt $mix," \
    "ratio $(awk -v a="$mdb" -v b="$mix" 'BEGIN {printf "%.3f", a / b}')"
kill -TERM $NODE_IX

# ---- 4. propagation at RATE revocations/s ------------------------------------------------------------
PORT_R=$(free_port)
"$QPKI" ocsp serve --ca-dir ca --credential ocsp-ca --db "$(pg_url r ocsp_node)" --quiet \
    --addr "127.0.0.1:$PORT_R" --pid-file "$WORK/r.pid" >"$WORK/node-r.log" 2>&1 &
SERVER_PIDS="$SERVER_PIDS $!"
until grep -q msg=listening "$WORK/node-r.log" 2>/dev/null; do sleep 0.05; done
zero=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import pgsql; print('0x%032X' % pgsql.serial(0))")
openssl ocsp -issuer ca/ca.crt -serial "$zero" -no_nonce -reqout template.der 2>/dev/null
say "4. propagation, $RATE revocations/s for $PROP s:"
/usr/bin/python3 "$ROOT/bench/pgsql.py" propagate \
    "host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=qpki" "$id" "$RATE" "$PROP" template.der \
    "primary=http://127.0.0.1:$PORT_DB" "replica=http://127.0.0.1:$PORT_R" | sed 's/^/   /' | tee -a "$WORK/summary.txt"
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$WORK/summary.txt" /tmp/qpki-bench-pgsql.txt
echo "summary in /tmp/qpki-bench-pgsql.txt"
