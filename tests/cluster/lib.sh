# SPDX-License-Identifier: Apache-2.0
# tests/cluster/lib.sh - real PostgreSQL 15 servers (Debian's `postgresql`), a
# streaming replica and HAProxy for the tests of several responder nodes on one
# status database.  Sourced after tests/server/lib.sh ("$1" is the qpki binary;
# it provides WORK, start_server, wait_for, fail, ok ...).
#
# Everything lives under $WORK and is torn down at exit, also after a failure:
#   pg_init NAME             initdb a primary (data in $WORK/pg-NAME), not started
#   pg_start NAME            start it (or a replica) and wait until it accepts connections
#   pg_stop NAME [MODE]      pg_ctl stop -m MODE (fast by default; immediate = crash)
#   pg_replica NAME PRIMARY  pg_basebackup of PRIMARY, started as a hot standby
#   pg_catch_up NAME PRIMARY wait until the replica has replayed the primary's WAL
#   pg_sql NAME SQL...       psql as the superuser over the Unix socket (-qAtX, stops on error)
#   pg_port NAME, pg_sock NAME
#   pg_qpki_db NAME          database qpki on NAME with the schema; login roles
#                            ca_writer and ocsp_node; sets ADMIN
#   use_plugin_dir DIR       export QPKI_PLUGIN_DIR (relative: to where the test started)
#   haproxy_start CFG        HAProxy in the foreground (background job), stopped at exit
#
# initdb refuses to run as root: as root (CI in a fresh container) the servers run
# as the system user qpki-pgtest (created with useradd when missing); as any other
# user they run as that user.  Servers listen on 127.0.0.1 on a free port and on a
# Unix socket in their own directory under $WORK.

PG_BIN=${PG_BIN:-}
if [ -z "$PG_BIN" ]; then
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && PG_BIN=$d && break
    done
fi
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
    fail "PostgreSQL server binaries not found (Debian package postgresql; scripts/install-deps.sh)"
# Debian installs haproxy in /usr/sbin, which is not on an ordinary user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
command -v haproxy >/dev/null 2>&1 || fail "haproxy not found (scripts/install-deps.sh)"

PG_SUPERUSER=qpki_admin
PG_NAMES=""
HAPROXY_PID=""
if [ "$(id -u)" = 0 ]; then
    PG_OS_USER=qpki-pgtest
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$PG_OS_USER" 2>/dev/null ||
            id -u "$PG_OS_USER" >/dev/null 2>&1 || fail "cannot create the user $PG_OS_USER"
    fi
    # the server user must reach its directories below $WORK
    chmod 0711 "$WORK"
else
    PG_OS_USER=""
fi

# as_pg COMMAND...: run as the server's user
as_pg() {
    if [ -n "$PG_OS_USER" ]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

pg_dir() { echo "$WORK/pg-$1"; }
pg_sock() { echo "$WORK/pgs-$1"; }
pg_port() { cat "$WORK/pg-$1.port"; }
# the server log (in the socket directory: the server user writes it)
pg_log() { echo "$WORK/pgs-$1/server.log"; }

# pg_config_common NAME PORT: what every server of the test gets (appended, so it
# overrides what initdb or pg_basebackup wrote)
pg_config_common() {
    cat >>"$(pg_dir "$1")/postgresql.conf" <<EOF
# ---- tests/cluster/lib.sh ----
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$(pg_sock "$1")'
fsync = off
full_page_writes = off
synchronous_commit = off
wal_level = replica
max_wal_senders = 8
hot_standby = on
wal_receiver_status_interval = 1s
max_connections = 60
shared_buffers = 64MB
logging_collector = off
log_min_messages = warning
EOF
}

# pg_mkdirs NAME: the data directory (empty, 0700) and the socket directory,
# owned by the server's user
pg_mkdirs() {
    mkdir -p "$(pg_sock "$1")" "$(pg_dir "$1")"
    chmod 0700 "$(pg_dir "$1")"
    [ -z "$PG_OS_USER" ] || chown "$PG_OS_USER:" "$(pg_sock "$1")" "$(pg_dir "$1")"
}

pg_init() {
    name=$1
    dir=$(pg_dir "$name")
    port=$(free_port)
    echo "$port" >"$WORK/pg-$name.port"
    pg_mkdirs "$name"
    # local (Unix socket): trust, for the test's administration; TCP: passwords
    # (scram-sha-256), which the nodes and the CA commands read from PGPASSFILE.
    as_pg "$PG_BIN/initdb" -D "$dir" -U "$PG_SUPERUSER" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$WORK/pg-$name.initdb.log" 2>&1 ||
        fail "initdb failed: $(cat "$WORK/pg-$name.initdb.log")"
    rm -f "$WORK/pg-$name.initdb.log"
    pg_config_common "$name" "$port"
    PG_NAMES="$PG_NAMES $name"
}

pg_start() {
    name=$1
    as_pg "$PG_BIN/pg_ctl" -D "$(pg_dir "$name")" -l "$(pg_log "$name")" -w -t 60 start \
        >/dev/null 2>&1 || fail "PostgreSQL $name did not start: $(tail -20 "$(pg_log "$name")")"
}

pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$(pg_dir "$1")" -m "${2:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

pg_running() { [ -f "$(pg_dir "$1")/postmaster.pid" ]; }

# pg_sql NAME SQL...: as the superuser, database qpki (postgres for "-d postgres" first)
pg_sql() {
    name=$1
    shift
    db=qpki
    if [ "${1:-}" = "-d" ]; then
        db=$2
        shift 2
    fi
    psql -h "$(pg_sock "$name")" -p "$(pg_port "$name")" -U "$PG_SUPERUSER" -d "$db" \
        -v ON_ERROR_STOP=1 -qAtX "$@"
}

pg_replica() {
    name=$1
    primary=$2
    dir=$(pg_dir "$name")
    port=$(free_port)
    echo "$port" >"$WORK/pg-$name.port"
    pg_mkdirs "$name"
    # -R writes standby.signal and primary_conninfo (the primary's Unix socket)
    as_pg "$PG_BIN/pg_basebackup" -h "$(pg_sock "$primary")" -p "$(pg_port "$primary")" \
        -U "$PG_SUPERUSER" -D "$dir" -R -X stream -c fast --no-sync \
        >"$WORK/pg-$name.basebackup.log" 2>&1 ||
        fail "pg_basebackup failed: $(cat "$WORK/pg-$name.basebackup.log")"
    rm -f "$WORK/pg-$name.basebackup.log"
    pg_config_common "$name" "$port"
    PG_NAMES="$PG_NAMES $name"
    pg_start "$name"
    [ "$(pg_sql "$name" -d postgres -c 'SELECT pg_is_in_recovery()')" = t ] ||
        fail "replica $name is not in recovery"
}

# pg_catch_up REPLICA PRIMARY: wait (up to 60 s: a loaded machine) until the
# replica replayed the primary's current WAL position
pg_catch_up() {
    lsn=$(pg_sql "$2" -d postgres -c 'SELECT pg_current_wal_lsn()')
    for _ in $(seq 1 600); do
        [ "$(pg_sql "$1" -d postgres -c \
            "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
        sleep 0.1
    done
    fail "replica $1 did not replay up to $lsn"
}

# pg_passfile: PGPASSFILE for the test's login roles (pg_login adds lines)
PGPASSFILE="$WORK/pgpass"
export PGPASSFILE
: >"$PGPASSFILE"
chmod 0600 "$PGPASSFILE"

# pg_login NAME ROLE GROUP: a login role with a random password, member of GROUP
# (qpki_reader or qpki_writer, created by `qpki db init`), its password in
# PGPASSFILE for every server of the test
pg_login() {
    pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    pg_sql "$1" -c "CREATE ROLE $2 LOGIN PASSWORD '$pw' IN ROLE $3"
    echo "127.0.0.1:*:*:$2:$pw" >>"$PGPASSFILE"
}

# pg_url NAME ROLE: the libpq URL a node or a CA command uses (TCP, password
# from PGPASSFILE)
pg_url() {
    echo "postgresql://$2@127.0.0.1:$(pg_port "$1")/qpki?sslmode=disable&connect_timeout=5"
}

# pg_qpki_db NAME: on the started server NAME, the database qpki with the schema
# (`qpki db init` as the superuser: ADMIN is its connection string) and two login
# roles, ca_writer (qpki_writer) for the CA commands and ocsp_node (qpki_reader)
# for the nodes
pg_qpki_db() {
    pg_sql "$1" -d postgres -c 'CREATE DATABASE qpki'
    ADMIN="host=$(pg_sock "$1") port=$(pg_port "$1") user=$PG_SUPERUSER dbname=qpki"
    "$QPKI" db init --db "$ADMIN" >/dev/null
    pg_login "$1" ca_writer qpki_writer
    pg_login "$1" ocsp_node qpki_reader
}

# use_plugin_dir DIR: where qpki finds qpki-db-pgsql.so; a relative DIR is taken
# from the directory the test was started in (tests/server/lib.sh moved to WORK)
use_plugin_dir() {
    QPKI_PLUGIN_DIR=$1
    case "$QPKI_PLUGIN_DIR" in /*) ;; *) QPKI_PLUGIN_DIR="$OLDPWD/$QPKI_PLUGIN_DIR" ;; esac
    export QPKI_PLUGIN_DIR
}

haproxy_start() {
    haproxy -f "$1" -db >"$WORK/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    sleep 0.2
    kill -0 "$HAPROXY_PID" 2>/dev/null || fail "haproxy did not start: $(cat "$WORK/haproxy.log")"
}

cluster_cleanup() {
    rc=$?
    set +e
    if [ -n "$HAPROXY_PID" ]; then
        kill "$HAPROXY_PID" 2>/dev/null
        wait "$HAPROXY_PID" 2>/dev/null
    fi
    for name in $PG_NAMES; do
        if [ "$rc" -ne 0 ] && [ -f "$(pg_log "$name")" ]; then
            echo "---- PostgreSQL $name (last 20 lines) ----" >&2
            tail -n 20 "$(pg_log "$name")" >&2
        fi
        pg_running "$name" && pg_stop "$name" immediate
    done
    # then the nodes and the work directory (tests/server/lib.sh)
    (exit "$rc")
    cleanup
}
trap cluster_cleanup EXIT
