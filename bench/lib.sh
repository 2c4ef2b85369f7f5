# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh - helpers shared by bench/run.sh and bench/hsm.sh (sourced).
# The caller sets PIDS=() and appends every process it starts; they are
# stopped on exit.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# nginx and haproxy live in /usr/sbin, which is not on an ordinary user's PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
need() { local b; for b in "$@"; do command -v "$b" >/dev/null || die "missing $b"; done; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port pid
    local i
    for i in $(seq 1 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null \
            && return 0
        kill -0 "$2" 2>/dev/null || die "server (pid $2) exited"
        sleep 0.1
    done
    die "port $1 not listening"
}

stop_pid() { # pid: TERM, wait, KILL - the process and its children (openssl
    # ocsp -multi children outlive their parent and may spin: kill them by PID)
    local i kids
    kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
    kill -TERM "$1" $kids 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$1" $kids 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" $kids 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
}
trap cleanup EXIT

tree() { echo "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); }

ticks() { # CPU clock ticks (utime + stime) of a process and its children
    local p t=0
    for p in $(tree "$1"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

rss_kb() { # peak RSS (VmHWM) of a process tree, kB
    local p t=0
    for p in $(tree "$1"); do
        t=$((t + $(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

report() { # machine-header: the header and the caller's summary() to $WORK/summary.md
    { echo "$1"; echo; summary; } | tee "$WORK/summary.md"
    log "results: $WORK/summary.md, raw runs: $TSV"
}
