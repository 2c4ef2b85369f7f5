#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/help.sh - every command listed by `qpki --help` answers --help with
# exit 0 on stdout, has a man page in docs/man/ that groff formats without
# warnings, and rejects unknown options and commands with exit 2.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
MAN="$HERE/../../docs/man"

check "qpki --help" qpki --help
cmds=$(awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1 " " $2}' "$last_out")
[ "$(echo "$cmds" | wc -l)" -ge 15 ] && ok "qpki --help lists $(echo "$cmds" | wc -l) commands" || fail "too few commands"
check "qpki --version" qpki --version
expect_grep "  ... prints the version" "^qpki [0-9]+\.[0-9]+\.[0-9]+" "$last_out"
while read -r g c; do
    check "qpki $g $c --help" bash -c "qpki $g $c --help >help.txt 2>help.err && test -s help.txt && ! test -s help.err"
    expect_grep "  ... starts with Usage" "^Usage: qpki $g $c" help.txt
    expect_rc 2 "qpki $g $c with an unknown option" qpki "$g" "$c" --no-such-option
    page="$MAN/qpki-$g-$c.1"
    [ "$g" = credential ] && page="$MAN/qpki-credential.1"
    [ "$g" = db ] && page="$MAN/qpki-db.1"
    if [ -f "$page" ]; then
        ok "man page $(basename "$page")"
        warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1 || true)
        [ -z "$warn" ] && ok "  ... formats without warnings" || { fail "  ... groff: $warn"; }
    else
        fail "no man page for $g $c ($page)"
    fi
done <<<"$cmds"
for page in qpki.1 qpki-ocsp.1 qpki-version.1; do
    [ -f "$MAN/$page" ] && ok "man page $page" || fail "man page $page missing"
done
expect_rc 2 "qpki without arguments" qpki
expect_rc 2 "unknown group" qpki frobnicate
expect_rc 2 "unknown command" qpki ocsp frobnicate
expect_rc 2 "group without command" qpki cert
check "group --help" qpki cert --help

finish
