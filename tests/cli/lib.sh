# SPDX-License-Identifier: Apache-2.0
# tests/cli/lib.sh - helpers for the qpki black-box tests (sourced).
#
# Each test script is run as:  bash tests/cli/<name>.sh /path/to/qpki
# It gets its own temporary directory (removed on exit unless KEEP_TMP=1), runs
# the commands there and checks the results with independent tools (openssl,
# Python cryptography).  Every check prints one "ok"/"FAIL" line; the script
# exits non-zero when any check failed.

QPKI="${1:?usage: $0 /path/to/qpki}"
case "$QPKI" in /*) ;; *) QPKI="$PWD/$QPKI" ;; esac
[ -x "$QPKI" ] || { echo "not executable: $QPKI" >&2; exit 2; }
PY=/usr/bin/python3
OPENSSL=${OPENSSL:-openssl}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/qpki-cli-test.XXXXXX")
cleanup() {
    # Servers this script started in the background and did not stop (a failed
    # check): end them by their process id.
    local p
    for p in $(jobs -pr); do kill "$p" 2>/dev/null || true; done
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
cd "$TMP"

# The guide writes `qpki ...`: make that name run the binary under test.
mkdir -p "$TMP/.bin"
ln -s "$QPKI" "$TMP/.bin/qpki"
export PATH="$TMP/.bin:$PATH"

PASS=0
FAILS=0
ok() { PASS=$((PASS + 1)); echo "ok $PASS - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check "description" command...   (passes when the command succeeds)
check() {
    local what=$1; shift
    if "$@" >"$TMP/.out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    | /' "$TMP/.out"; fi
}

# expect_rc N "description" command...   (the exit status must be N)
expect_rc() {
    local want=$1 what=$2; shift 2
    local rc=0
    "$@" >"$TMP/.out" 2>&1 || rc=$?
    if [ "$rc" -eq "$want" ]; then
        ok "$what (exit $rc)"
    else
        fail "$what: exit $rc, expected $want"
        sed 's/^/    | /' "$TMP/.out"
    fi
}

# expect_grep "description" PATTERN FILE   (grep -E on a file)
expect_grep() {
    if grep -Eq -- "$2" "$3"; then ok "$1"; else fail "$1: /$2/ not in $3"; sed 's/^/    | /' "$3"; fi
}
expect_no_grep() {
    if grep -Eq -- "$2" "$3"; then fail "$1: /$2/ found in $3"; sed 's/^/    | /' "$3"; else ok "$1"; fi
}

# The output of the last check/expect_rc.
out() { cat "$TMP/.out"; }
last_out="$TMP/.out"

# expect_mode "description" MODE FILE   (stat -L: links are followed)
expect_mode() {
    local m
    m=$(stat -L -c %a "$3")
    if [ "$m" = "$2" ]; then ok "$1 (mode $m)"; else fail "$1: mode $m, expected $2"; fi
}

# openssl ocsp oracle: the response must verify against CA and carry, for
# serial, the status line given (e.g. "good", "revoked").
# ossl_ocsp RESP CA SERIAL_HEX -> writes the text to $TMP/.ossl
ossl_ocsp() {
    "$OPENSSL" ocsp -respin "$1" -CAfile "$2" -issuer "$2" -serial "0x$3" -resp_text \
        >"$TMP/.ossl" 2>&1
}

finish() {
    echo "# $PASS passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
