# SPDX-License-Identifier: Apache-2.0
# tests/cli/hsm_lib.sh - a fresh SoftHSM2 token for the qpki HSM tests (sourced
# after lib.sh, in the test's temporary directory).
#
#   hsm_setup TOKEN_LABEL PIN
#     - skips the test (exit 77) when SoftHSM2 or the qpki-pkcs11.so plugin
#       ($QPKI_PLUGIN_DIR, set by meson) is missing; pkcs11-tool (opensc) is
#       required when SoftHSM2 is there: the README test command installs both;
#     - writes $TMP/softhsm2.conf with its own token directory and exports
#       SOFTHSM2_CONF, so the run never touches the machine's tokens;
#     - initialises the token, exports HSM_PIN and writes ./hsm.yaml;
#     - sets MODULE (SoftHSM2's PKCS#11 module) and TOKEN.
#   p11tool ARGS...   pkcs11-tool on that token, logged in (output in $TMP/.p11)

hsm_setup() {
    TOKEN=$1
    local pin=$2 m
    MODULE=
    for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
             /usr/lib64/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
        [ -f "$m" ] && { MODULE=$m; break; }
    done
    if [ -z "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
        echo "SKIP: SoftHSM2 is not installed (apt-get install softhsm2)"; exit 77
    fi
    if [ -z "${QPKI_PLUGIN_DIR:-}" ] || [ ! -f "$QPKI_PLUGIN_DIR/qpki-pkcs11.so" ]; then
        echo "SKIP: qpki-pkcs11.so not built (QPKI_PLUGIN_DIR)"; exit 77
    fi
    if ! command -v pkcs11-tool >/dev/null; then
        echo "FAIL: pkcs11-tool is missing (apt-get install opensc)"; exit 1
    fi
    mkdir -p "$TMP/tokens"
    cat >"$TMP/softhsm2.conf" <<EOF
directories.tokendir = $TMP/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
    export SOFTHSM2_CONF="$TMP/softhsm2.conf"
    softhsm2-util --init-token --free --label "$TOKEN" --pin "$pin" --so-pin 99887766 >/dev/null
    export HSM_PIN=$pin
    cat >"$TMP/hsm.yaml" <<EOF
type: pkcs11
pkcs11:
  lib: $MODULE
  token: "$TOKEN"
  pin_env: HSM_PIN
EOF
}

p11tool() {
    pkcs11-tool --module "$MODULE" --token-label "$TOKEN" --login --pin "$HSM_PIN" "$@" \
        >"$TMP/.p11" 2>&1
}

# A free TCP port on the loopback interface.
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# serve_start LOG ARGS...: start `qpki ocsp serve ARGS` on a free port with its
# log in LOG; sets PORT, URL and SPID; waits (bounded) until it listens.
# Returns 1 (the log tells why) when it exits or does not listen in 60 s.
serve_start() {
    local log=$1 i
    shift
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    qpki ocsp serve --addr "127.0.0.1:$PORT" --pid-file "$TMP/serve-$PORT.pid" "$@" \
        >"$log" 2>&1 &
    SPID=$!
    for i in $(seq 600); do
        grep -q 'msg=listening' "$log" 2>/dev/null && return 0
        kill -0 "$SPID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# serve_stop: `qpki ocsp stop` for the server started last; waits for it (60 s
# at most, then SIGKILL) and returns its exit status.
serve_stop() {
    local i rc=0
    qpki ocsp stop --pid-file "$TMP/serve-$PORT.pid" >/dev/null 2>&1 || kill "$SPID" 2>/dev/null
    for i in $(seq 600); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$SPID" || rc=$?
    return "$rc"
}
