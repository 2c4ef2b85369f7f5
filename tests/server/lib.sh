# SPDX-License-Identifier: Apache-2.0
# tests/server/lib.sh - shared by the black-box tests of `qpki ocsp serve`.
# Sourced by each test: "$1" is the qpki binary.  Every test makes its own PKI
# in a temporary directory with the guide's commands, starts the real server on
# a free loopback port and stops it on exit, even after a failure.

set -eu

QPKI=${1:?usage: $0 path/to/qpki}
case "$QPKI" in /*) ;; *) QPKI="$PWD/$QPKI" ;; esac
WORK=$(mktemp -d /tmp/qpki-server-test.XXXXXX)
SERVER_PIDS=""
cd "$WORK"

cleanup() {
    rc=$?
    for pid in $SERVER_PIDS; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    # background helpers (request loops, idle connections) of this test
    jobs -p | xargs -r kill 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
        for log in "$WORK"/*.log; do
            [ -f "$log" ] || continue
            echo "---- $(basename "$log") (last 40 lines) ----" >&2
            tail -n 40 "$log" >&2
        done
        echo "FAILED (work directory kept: $WORK)" >&2
    else
        [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() { echo "ok - $*"; }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# expect_match WHAT TEXT REGEX
expect_match() {
    printf '%s' "$2" | grep -Eq -- "$3" || fail "$1: '$2' does not match /$3/"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# make_pki [DIR]: CA in DIR (default ca), responder credential ocsp-responder,
# leaf certificates good.crt and revoked.crt (revoked, keyCompromise).
make_pki() {
    dir=${1:-ca}
    "$QPKI" ca init --ca-dir "$dir" --var cn="Test CA $dir" >/dev/null
    "$QPKI" credential enroll --ca-dir "$dir" --cred-dir credentials \
        --profile ec/ocsp-responder --var cn="ocsp.$dir.example" --id "ocsp-$dir" >/dev/null
    for leaf in good revoked; do
        "$QPKI" key gen --algo ecdsa-p256 --out "$dir-$leaf.key" >/dev/null 2>&1
        "$QPKI" csr create --key "$dir-$leaf.key" --cn "$leaf.$dir.example" \
            --out "$dir-$leaf.csr" >/dev/null 2>&1
        "$QPKI" cert issue --ca-dir "$dir" --profile ec/tls-server --csr "$dir-$leaf.csr" \
            --out "$dir-$leaf.crt" >/dev/null 2>&1
    done
    serial=$(openssl x509 -in "$dir-revoked.crt" -noout -serial | cut -d= -f2)
    "$QPKI" cert revoke --ca-dir "$dir" --serial "$serial" --reason keyCompromise >/dev/null
}

# start_server NAME ARGS...: start `qpki ocsp serve ARGS` on a free port with
# its log in NAME.log; sets PORT, URL and PIDFILE; waits until it listens.
start_server() {
    name=$1
    shift
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    PIDFILE="$WORK/$name.pid"
    "$QPKI" ocsp serve --addr "127.0.0.1:$PORT" --pid-file "$PIDFILE" "$@" \
        >"$WORK/$name.log" 2>&1 &
    pid=$!
    SERVER_PIDS="$SERVER_PIDS $pid"
    for _ in $(seq 1 1200); do
        grep -Eq 'msg=listening|"msg":"listening"' "$WORK/$name.log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || fail "server $name exited: $(cat "$WORK/$name.log")"
        sleep 0.05
    done
    fail "server $name did not start listening"
}

# ocsp_status CERT ISSUER [URL] [openssl options...]: the status line of openssl ocsp
ocsp_status() {
    cert=$1
    issuer=$2
    shift 2
    openssl ocsp -issuer "$issuer" -cert "$cert" -url "$URL" -CAfile "$issuer" "$@" 2>&1
}

# wait_for DESCRIPTION SECONDS COMMAND...: poll (every 0.1 s) until COMMAND succeeds
wait_for() {
    what=$1
    limit=$2
    shift 2
    n=$((limit * 10))
    for _ in $(seq 1 "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "$what (waited ${limit}s)"
}

# serial_status HEX [CADIR]: a cacheable GET (no nonce; openssl's default SHA-1
# CertID) for a bare serial of the CA in CADIR (default ca), the answer checked
# by openssl against the CA: good/revoked/unknown, or the verification failure.
# The response is left in s.der.
serial_status() {
    cadir=${2:-ca}
    openssl ocsp -issuer "$cadir/ca.crt" -serial "0x$1" -no_nonce -reqout s.req 2>/dev/null
    curl -sf -o s.der "$URL/$(b64 s.req)" || { echo "GET failed"; return; }
    out=$(openssl ocsp -respin s.der -issuer "$cadir/ca.crt" -serial "0x$1" \
        -CAfile "$cadir/ca.crt" -no_nonce 2>&1)
    echo "$out" | grep -q '^Response verify OK' || { echo "verify failed: $out"; return; }
    echo "$out" | sed -n "s/^0x$1: //p"
}

# b64url: base64 of a file, one line, standard alphabet
b64() { base64 -w0 "$1"; }

# hexof FILE: lower-case hex of the file's bytes, one line
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }
