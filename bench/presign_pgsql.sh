#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/presign_pgsql.sh - bench/presign.sh with the rows in PostgreSQL: starts
# its own PostgreSQL 15 (tests/cluster/lib.sh; torn down at the end) with the
# qpki schema, and runs bench/presign.sh with DB_URL set, so that each CA's rows
# are imported there and the server is a PostgreSQL node (`--db`) that
# pre-signs the rows it holds (never a test: figures for docs/PERFORMANCE.md).
#
# Usage: bench/presign_pgsql.sh [BUILD]   (BUILD: a release build dir, default build-bench)
# Knobs: those of bench/presign.sh (NROWS, ALGS, DUR, CONNS, THREADS)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac # the tests' lib.sh moves to a work directory
if [ ! -x "$BUILD/cli/qpki" ]; then
    meson setup "$BUILD" "$ROOT" -Dbuildtype=release -Dtests=disabled >/dev/null
fi
ninja -C "$BUILD" cli/qpki lib/plugins/pgsql/qpki-db-pgsql.so >/dev/null
export QPKI_PLUGIN_DIR=$BUILD/lib/plugins/pgsql
. "$ROOT/tests/server/lib.sh" "$BUILD/cli/qpki"
. "$ROOT/tests/cluster/lib.sh"
echo "bench/presign_pgsql.sh $(date -u +%Y-%m-%dT%H:%MZ) NROWS=${NROWS:-1000000} ALGS=${ALGS:-ec ed}; PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
pg_init p
# a million rows and more want more than the test's 64 MB
echo "shared_buffers = 512MB" >>"$(pg_dir p)/postgresql.conf"
echo "max_wal_size = 4GB" >>"$(pg_dir p)/postgresql.conf"
pg_start p
pg_qpki_db p
writer=$(pg_url p ca_writer)
reader=$(pg_url p ocsp_node)
BUILD=$BUILD WORK=$WORK/presign DB_URL=$writer DB_NODE_URL=$reader bash "$ROOT/bench/presign.sh"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
