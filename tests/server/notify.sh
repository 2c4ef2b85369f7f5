#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/server/notify.sh - systemd readiness without systemd (notify.py plays the
# service manager on a datagram socket): READY=1 / RELOADING=1 / STOPPING=1 in
# order, on a socket path and on an abstract name ('@'); a NOTIFY_SOCKET nobody
# listens on costs one warning and nothing else.
. "$(dirname "$0")/lib.sh"

make_pki ca
HERE=$(cd "$(dirname "$0")" && pwd)
/usr/bin/python3 "$HERE/notify.py" "$QPKI" "$WORK" path
/usr/bin/python3 "$HERE/notify.py" "$QPKI" "$WORK" abstract

# nobody listens: the server still starts, answers, warns once, stops cleanly
NOTIFY_SOCKET="$WORK/nobody.sock" start_server nobody --ca-dir ca --credential ocsp-ca
status=$(openssl ocsp -issuer ca/ca.crt -cert ca-good.crt -url "$URL" -CAfile ca/ca.crt 2>/dev/null |
    sed -n 's/^ca-good.crt: //p')
expect_eq "answer with an unusable NOTIFY_SOCKET" "$status" "good"
kill -HUP "$(cat "$PIDFILE")"
wait_for "reload logged" 10 grep -q 'msg=reloaded' "$WORK/nobody.log"
kill -TERM "$(cat "$PIDFILE")"
wait_for "server stopped" 10 grep -q 'msg=stopped' "$WORK/nobody.log"
expect_eq "one warning" "$(grep -c 'cannot notify systemd' "$WORK/nobody.log")" "1"
expect_match "  ... naming the error" "$(grep 'cannot notify systemd' "$WORK/nobody.log")" \
    'error=sendto detail="No such file or directory"'
ok "unusable NOTIFY_SOCKET: answers 'good', one warning (sendto: No such file or directory), clean stop"
