#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/soak.sh - a soak of `qpki ocsp serve`: a bounded mixed load at about half
# its capacity (cached GET and POST, nonce requests signed live; ECDSA P-256,
# Ed25519 and Catalyst ECDSA P-384 + ML-DSA-65 CAs) for DURATION seconds while
# index.txt changes every 10 s, a credential is rotated and activated every
# 60 s and SIGHUP arrives every 5 minutes (both scaled down for short runs so
# that each happens at least once), and a checker verifies a sample of answers
# with Python cryptography and @noble/post-quantum.  Prints requests, failed,
# wrong, RSS and descriptors at start and end, and the p99 of every interval;
# exits 1 when anything failed or was wrong, RSS grew by 5 % or more, or a
# descriptor leaked.  bench/soak.py has the details.
#
#   bench/soak.sh                  # one hour
#   DURATION=120 bench/soak.sh     # the 2-minute run of scripts/test.sh
#
# BUILD (default build) has cli/qpki; NICE (default 10) is the niceness of the
# whole run; WORK (default a new /tmp/qpki-soak.XXXXXX) keeps the PKI, the
# server log and report.md (removed after a successful run unless KEEP=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$PWD
. bench/lib.sh
BUILD=${BUILD:-build}
DURATION=${DURATION:-3600}
NICE=${NICE:-10}
qpki=$top/$BUILD/cli/qpki
[[ -x $qpki ]] || die "no $qpki (meson setup $BUILD && ninja -C $BUILD)"
need wrk node npm openssl /usr/bin/python3
noble=$top/tests/interop
NOBLE_VERSION=0.5.4   # as tests/interop/*_noble.sh
if [[ ! -f $noble/node_modules/@noble/post-quantum/package.json ]]; then
  npm install --prefix "$noble" --no-save --no-audit --no-fund "@noble/post-quantum@$NOBLE_VERSION" >&2
fi
WORK=${WORK:-$(mktemp -d /tmp/qpki-soak.XXXXXX)}
mkdir -p "$WORK"
log "soak: ${DURATION}s, nice $NICE, $qpki, work $WORK"
rc=0
nice -n "$NICE" /usr/bin/python3 bench/soak.py --qpki "$qpki" --work "$WORK" \
  --duration "$DURATION" --lua "$top/bench/ocsp.lua" --noble "$noble/catalyst_noble.mjs" \
  --report "$WORK/report.md" || rc=$?
if ((rc == 0)) && [[ -z ${KEEP:-} ]]; then
  rm -rf "$WORK"
else
  log "kept $WORK (report.md, server.log)"
fi
exit $rc
