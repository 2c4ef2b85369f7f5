#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cluster/cluster.sh - several responder nodes on one PostgreSQL status
# database (DESIGN §11), all real: a PostgreSQL 15 primary, a streaming replica
# made with pg_basebackup, three `qpki ocsp serve --db` nodes (A on the primary,
# B and C on the replica) behind HAProxy with health checks on /healthz, and a
# fourth node D on the primary with --db-max-staleness 5s.  Every answer is
# checked with `openssl ocsp` (signature, status, reason).  It shows:
#   - 100,000 rows imported; good / revoked with reason / unknown on every node;
#   - `qpki cert revoke --db`: revoked on every node, the delay printed (<= 2 s);
#   - 1,000 revocations in one transaction: on every node within 3 s, and the
#     cache-hit counters show the other answers stayed cached;
#   - a row inserted and one revoked with plain psql (a foreign CA);
#   - kill -9 of a node under wrk through HAProxy: 0 failed or wrong answers;
#     the node restarts and rejoins;
#   - the primary stopped 10 s under load: 0 failed answers, /healthz degraded,
#     then recovery, and a revocation after the restart visible everywhere <= 2 s;
#   - --db-max-staleness 5s: tryLater after 5 s without the database, normal
#     answers once it is back;
#   - a password in the URL, a wrong role, a missing table, a schema too new, an
#     unreachable server, --publish-crl with --db: exit 2 with the cause;
#   - two CAs in one database answered by one node.
# examples/cluster/README.md walks through the same set-up.
#
# usage: cluster.sh QPKI PLUGIN_DIR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../server/lib.sh"
. "$here/lib.sh"
use_plugin_dir "${2:?usage: $0 QPKI PLUGIN_DIR}"
command -v wrk >/dev/null 2>&1 || fail "wrk not found (scripts/install-deps.sh)"
T0=$(date +%s)

now_ms() { date +%s%3N; }

# ---- the database: primary, schema, roles, 100,000 rows, replica -----------------------------
pg_init p
pg_start p
pg_qpki_db p
WRITER=$(pg_url p ca_writer)

make_pki ca
good_serial=$(openssl x509 -in ca-good.crt -noout -serial | cut -d= -f2)
revoked_serial=$(openssl x509 -in ca-revoked.crt -noout -serial | cut -d= -f2)
# 100,000 more rows: serials 0x1000000 + i, every 10th revoked (superseded)
python3 - ca/index.txt <<'EOF'
import sys
with open(sys.argv[1], 'a') as f:
    for i in range(100000):
        s = '%08X' % (0x1000000 + i)
        if i % 10 == 0:
            f.write('R\t301231235959Z\t250101000000Z,superseded\t%s\tunknown\t/CN=gen-%d\n' % (s, i))
        else:
            f.write('V\t301231235959Z\t\t%s\tunknown\t/CN=gen-%d\n' % (s, i))
EOF
t=$(now_ms)
out=$("$QPKI" db import --db "$WRITER" --ca-dir ca)
expect_match "import" "$out" "^Imported 100003 rows .*: 100003 inserted, 0 updated, 0 unchanged$"
ok "imported 100,003 rows in $(($(now_ms) - t)) ms"

pg_replica r p
pg_catch_up r p
expect_eq "rows on the replica" "$(pg_sql r -c 'SELECT count(*) FROM qpki.cert_status')" 100003

# ---- nodes ------------------------------------------------------------------------------------
URL_P=$(pg_url p ocsp_node)
URL_R=$(pg_url r ocsp_node)
declare -A NODE_PORT NODE_ADMIN NODE_PID NODE_DB
# start_node NAME DB_URL [serve options...]: on fixed ports (kept across restarts)
start_node() {
    name=$1
    db=$2
    shift 2
    [ -n "${NODE_PORT[$name]:-}" ] || NODE_PORT[$name]=$(free_port)
    [ -n "${NODE_ADMIN[$name]:-}" ] || NODE_ADMIN[$name]=$(free_port)
    NODE_DB[$name]=$db
    # the example node configuration with this node's ports and database
    sed -e "s#@LISTEN@#127.0.0.1:${NODE_PORT[$name]}#" -e "s#@ADMIN@#127.0.0.1:${NODE_ADMIN[$name]}#" \
        -e "s#@CA_DIR@#$WORK/ca#" -e "s#@CRED_DIR@#$WORK/credentials#" -e "s#@DB_URL@#${db//&/\\&}#" \
        "$here/../../examples/cluster/node.yaml" >"node-$name.yaml"
    grep -q '@[A-Z_]*@' "node-$name.yaml" && fail "placeholder left in node-$name.yaml"
    "$QPKI" ocsp serve --config "node-$name.yaml" --pid-file "$WORK/node-$name.pid" --threads 2 \
        "$@" >>"$WORK/node-$name.log" 2>&1 &
    NODE_PID[$name]=$!
    SERVER_PIDS="$SERVER_PIDS ${NODE_PID[$name]}"
    for _ in $(seq 1 1200); do
        grep -q 'msg=listening' "$WORK/node-$name.log" 2>/dev/null && return 0
        kill -0 "${NODE_PID[$name]}" 2>/dev/null || fail "node $name exited: $(cat "$WORK/node-$name.log")"
        sleep 0.05
    done
    fail "node $name did not start listening"
}
t=$(now_ms)
start_node A "$URL_P"
ok "node A (primary): loaded 100,003 rows and listening $(($(now_ms) - t)) ms after start"
start_node B "$URL_R"
start_node C "$URL_R"
start_node D "$URL_P" --db-max-staleness 5s --db-poll 500ms

# check NODE CERT|0xSERIAL: ask NODE with openssl ocsp (no nonce: a cacheable
# request) and set ST to the status openssl verified (good / revoked / unknown),
# or to the error (tryLater, unverified); REASON to the revocation reason
check() {
    node=$1
    what=$2
    if [ "${what#0x}" != "$what" ]; then set -- -serial "$what"; else set -- -cert "$what"; fi
    text=$(openssl ocsp -issuer ca/ca.crt "$@" -url "http://127.0.0.1:${NODE_PORT[$node]}" \
        -CAfile ca/ca.crt -no_nonce 2>&1) || true
    REASON=$(printf '%s\n' "$text" | sed -n 's/^[[:space:]]*Reason: //p')
    if printf '%s\n' "$text" | grep -q '^Response verify OK'; then
        ST=$(printf '%s\n' "$text" | sed -n "s/^[^ ]*: \(good\|revoked\|unknown\)$/\1/p")
    else
        ST=$(printf '%s\n' "$text" | grep -m1 -Ei 'error|trylater|unauthorized' || echo unverified)
    fi
}
# status NODE CERT|0xSERIAL: check, printing ST
status() {
    check "$@"
    printf '%s' "$ST"
}
metric() { # metric NODE NAME
    curl -s "http://127.0.0.1:${NODE_ADMIN[$1]}/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {print $2; exit}'
}

for n in A B C D; do
    expect_eq "node $n good" "$(status $n ca-good.crt)" good
    check $n ca-revoked.crt
    expect_eq "node $n revoked" "$ST" revoked
    expect_eq "node $n revoked reason" "$REASON" keyCompromise
    expect_eq "node $n generated good" "$(status $n 0x1000001)" good
    check $n 0x1000014
    expect_eq "node $n generated revoked" "$ST" revoked
    expect_eq "node $n generated reason" "$REASON" superseded
    expect_eq "node $n unknown" "$(status $n 0xDEADBEEF01)" unknown
    expect_eq "node $n connected" "$(metric $n qpki_db_connected)" 1
done
ok "every node: good, revoked (keyCompromise), generated rows (good, revoked superseded), unknown; verified by openssl"

# ---- HAProxy in front of A, B, C ---------------------------------------------------------------
LB_PORT=$(free_port)
STATS_PORT=$(free_port)
# the example configuration, with this test's ports
sed -e "s/@LISTEN@/127.0.0.1:$LB_PORT/" -e "s/@STATS@/127.0.0.1:$STATS_PORT/" \
    -e "s/@NODE_A@/127.0.0.1:${NODE_PORT[A]}/" -e "s/@ADMIN_A@/${NODE_ADMIN[A]}/" \
    -e "s/@NODE_B@/127.0.0.1:${NODE_PORT[B]}/" -e "s/@ADMIN_B@/${NODE_ADMIN[B]}/" \
    -e "s/@NODE_C@/127.0.0.1:${NODE_PORT[C]}/" -e "s/@ADMIN_C@/${NODE_ADMIN[C]}/" \
    "$here/../../examples/cluster/haproxy.cfg" >haproxy.cfg
grep -q '@[A-Z_]*@' haproxy.cfg && fail "placeholder left in haproxy.cfg"
haproxy_start haproxy.cfg
lb_up() { # the number of nodes HAProxy has UP
    curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" | awk -F, '$1 == "ocsp_nodes" && $2 != "BACKEND" && $18 == "UP"' | wc -l
}
all_up() { [ "$(lb_up)" = 3 ]; }
wait_for "HAProxy sees 3 nodes up" 10 all_up
ok "HAProxy: 3 nodes up (health checks on /healthz)"

# ---- one revocation: every node, with the delay ------------------------------------------------
# until_all CHECK_CMD LIMIT_MS T0: run "CHECK_CMD NODE" for each of the nodes
# A B C D, the four at once (one poller per node, so that one node's checks do
# not wait for another's), until each has succeeded once; DELAYS gets each
# node's delay since T0 (ms), which must be within LIMIT_MS
until_all() {
    pollers=""
    for n in A B C D; do
        (
            while :; do
                if "$1" "$n"; then
                    echo $(($(now_ms) - $3)) >"delay.$n"
                    exit 0
                fi
                [ $(($(now_ms) - $3)) -lt $(($2 + 3000)) ] || exit 1
            done
        ) &
        pollers="$pollers $!"
    done
    for p in $pollers; do wait "$p" || true; done
    DELAYS=""
    for n in A B C D; do
        [ -s "delay.$n" ] || fail "node $n: not after $(($2 + 3000)) ms"
        d=$(cat "delay.$n")
        rm -f "delay.$n"
        DELAYS="$DELAYS $n=${d}ms"
        [ "$d" -le "$2" ] || fail "node $n: $d ms (limit $2 ms)"
    done
    echo "  delays:$DELAYS"
}
# revoke_and_time SERIAL CERT|0xSERIAL LIMIT_MS: revoke with the CA command, then
# ask every node until it answers revoked; print each delay from the commit (the
# command's return)
revoke_and_time() {
    REVOKED_WHAT=$2
    "$QPKI" cert revoke --ca-dir ca --serial "$1" --reason keyCompromise --db "$WRITER" >/dev/null
    until_all is_revoked "$3" "$(now_ms)"
}
is_revoked() { [ "$(status "$1" "$REVOKED_WHAT")" = revoked ]; }
revoke_and_time "$good_serial" ca-good.crt 2000
ok "qpki cert revoke --db: revoked on every node (A, D on the primary; B, C on the replica) within 2 s"

# ---- 1,000 revocations in one transaction; the other answers stay cached -------------------------
# warm the caches: 20 serials that stay good, twice on every node
warm=$(seq 2 21 | awk '{printf "0x%08X ", 16777216 + $1 * 10 + 1}')
for n in A B C D; do
    for s in $warm; do expect_eq "warm $n $s" "$(status $n "$s")" good; done
done
declare -A HITS FLUSHES
for n in A B C D; do
    HITS[$n]=$(metric $n qpki_ocsp_cache_hits_total)
    FLUSHES[$n]=$(metric $n qpki_ocsp_cache_flushes_total)
done
pg_sql p -c "UPDATE qpki.cert_status SET status = 'R', revocation_time = now(), reason = 1
             WHERE serial IN (SELECT decode(lpad(to_hex(16777216 + 10 * g + 3), 8, '0'), 'hex')
                              FROM generate_series(0, 999) g)"
t=$(now_ms) # committed
batch_visible() { [ "$(status "$1" 0x01000003)" = revoked ] && [ "$(status "$1" 0x010026F5)" = revoked ]; }
until_all batch_visible 3000 "$t"
for n in A B C D; do
    for s in $warm; do expect_eq "still good $n $s" "$(status $n "$s")" good; done
    hits=$(metric $n qpki_ocsp_cache_hits_total)
    [ $((hits - HITS[$n])) -ge 20 ] || fail "node $n: $((hits - HITS[$n])) cache hits for the 20 unchanged serials (the change dropped them)"
    HITS_LINE="${HITS_LINE:-} $n=+$((hits - HITS[$n]))"
    expect_eq "node $n: no whole-cache flush" "$(metric $n qpki_ocsp_cache_flushes_total)" "${FLUSHES[$n]}"
    expect_eq "node $n: a revoked serial of the batch" "$(status $n 0x01001F43)" revoked
done
echo "  cache hits for the 20 unchanged serials:$HITS_LINE (no whole-cache flush)"
ok "1,000 revocations in one UPDATE: on every node within 3 s; the 20 unchanged answers were served from the cache"

# ---- a foreign CA writes with psql -------------------------------------------------------------------
id=$(openssl x509 -in ca/ca.crt -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
psql "$(pg_url p ca_writer)" -v ON_ERROR_STOP=1 -q <<EOF
BEGIN;
INSERT INTO qpki.cert_status (ca_id, serial, status, not_after, subject)
    VALUES (decode('$id', 'hex'), '\x7a7a7a', 'V', '2031-01-01Z', '/CN=foreign');
UPDATE qpki.cert_status SET status = 'R', revocation_time = '2026-03-01 12:00:00Z', reason = 5
 WHERE ca_id = decode('$id', 'hex') AND serial = '\x01000005';
COMMIT;
EOF
t=$(now_ms) # committed
foreign_visible() { [ "$(status "$1" 0x7A7A7A)" = good ] && [ "$(status "$1" 0x01000005)" = revoked ]; }
until_all foreign_visible 4000 "$t"
for n in A B C D; do
    check $n 0x01000005
    expect_eq "node $n foreign reason" "$REASON" cessationOfOperation
done
ok "psql INSERT and UPDATE by a foreign writer: good and revoked (cessationOfOperation) on every node in $(($(now_ms) - t)) ms"

# ---- load through HAProxy ---------------------------------------------------------------------------------
openssl ocsp -issuer ca/ca.crt -serial 0x1000007 -no_nonce -reqout lb.req 2>/dev/null
LB_PATH="/$(base64 -w0 lb.req)"
# every answer must be 200 and a successful response stating "good" for that serial:
# the CertID's serial INTEGER (02 04 01 00 00 07) followed by certStatus good ([0] NULL: 80 00)
cat >check.lua <<'EOF'
local bad = 0
local want = "\2\4\1\0\0\7\128\0"
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "\10\1\0", 1, true) or not string.find(body, want, 1, true) then
    bad = bad + 1
  end
end
done = function(summary, latency, requests)
  io.write(string.format("checked=%d bad=%d\n", summary.requests, bad))
end
EOF
# run_load SECONDS OUT: bounded wrk (1 thread, 8 connections) through HAProxy
run_load() {
    wrk -t1 -c8 -d"$1"s --timeout 5s -s check.lua "http://127.0.0.1:$LB_PORT$LB_PATH" >"$2" 2>&1 &
    LOAD_PID=$!
}
# and, beside it, one openssl-verified answer every 100 ms through HAProxy
verify_loop() {
    : >"$1"
    while [ ! -f "$1.stop" ]; do
        r=$(openssl ocsp -issuer ca/ca.crt -serial 0x1000007 -url "http://127.0.0.1:$LB_PORT" \
            -CAfile ca/ca.crt -no_nonce 2>&1 | grep -c -e '^Response verify OK' -e ': good$')
        echo "$r" >>"$1"
        sleep 0.1
    done
}
check_load() { # check_load WRK_OUT VERIFY_OUT WHAT
    grep -q '^checked=' "$1" || fail "$3: wrk did not finish: $(cat "$1")"
    checked=$(sed -n 's/^checked=\([0-9]*\) bad=.*/\1/p' "$1")
    bad=$(sed -n 's/^checked=[0-9]* bad=\([0-9]*\)/\1/p' "$1")
    errs=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$1")
    non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\)/\1/p' "$1")
    verified=$(grep -c '^2$' "$2")
    failed=$(grep -vc '^2$' "$2" || true)
    [ "$bad" = 0 ] && [ -z "$errs" ] && [ -z "$non2xx" ] && [ "$failed" = 0 ] ||
        fail "$3: $bad wrong answers of $checked, socket errors '${errs}', non-2xx '${non2xx}', $failed openssl failures"
    [ "$checked" -gt 100 ] && [ "$verified" -gt 5 ] || fail "$3: too little load ($checked, $verified)"
    echo "  $checked answers checked (status 200, good for the serial), $verified verified by openssl, 0 failed"
}

# ---- kill -9 of a node under load ------------------------------------------------------------------------
run_load 6 wrk1.txt
verify_loop v1.txt &
VPID=$!
sleep 1.5
kill -9 "${NODE_PID[B]}"
wait "${NODE_PID[B]}" 2>/dev/null || true
b_down() { [ "$(lb_up)" = 2 ]; }
wait_for "HAProxy takes B out" 5 b_down
sleep 1
start_node B "$URL_R"
wait_for "B rejoins" 10 all_up
wait "$LOAD_PID" || true
touch v1.txt.stop
wait "$VPID" || true
check_load wrk1.txt v1.txt "kill -9 of node B"
expect_eq "node B after restart" "$(status B ca-revoked.crt)" revoked
ok "kill -9 of node B under load through HAProxy: 0 failed or wrong answers; B restarted and rejoined"

# ---- the primary stopped for 10 s under load; --db-max-staleness 5s on node D -----------------------------
health() { curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:${NODE_ADMIN[$1]}/healthz"; curl -s "http://127.0.0.1:${NODE_ADMIN[$1]}/healthz" | head -1; }
expect_eq "A healthy" "$(health A)" "200 ok"
run_load 15 wrk2.txt
verify_loop v2.txt &
VPID=$!
sleep 1
t_stop=$(now_ms)
pg_stop p fast
a_degraded() { [ "$(health A)" = "200 degraded" ]; }
wait_for "A reports degraded" 3 a_degraded
expect_eq "A connected metric" "$(metric A qpki_db_connected)" 0
expect_eq "D within its 5 s" "$(status D ca-revoked.crt)" revoked
d_later() { status D ca-revoked.crt | grep -qi trylater; }
# the wait ends 15 s after the stop, not 4 s after the lines above: on an idle
# machine they take well under a second, and a 4-s window then closed about when
# D's 5 s ran out (a CI run saw it close 5.5 s after the connection was lost)
wait_for "D answers tryLater after 5 s without the database" \
    $(((t_stop + 15000 - $(now_ms)) / 1000)) d_later
d_wait=$(($(now_ms) - t_stop))
# staleness counts from D's last successful check, at most one --db-poll (500 ms)
# before the stop
[ "$d_wait" -ge 4500 ] || fail "D answered tryLater after $d_wait ms, before its 5 s"
expect_eq "D healthz" "$(health D)" "503 stale"
for n in A B C; do expect_eq "node $n still answers" "$(status $n ca-revoked.crt)" revoked; done
staleness=$(metric A qpki_db_staleness_seconds)
echo "  A: /healthz degraded, staleness ${staleness}s; D: tryLater after ${d_wait} ms"
while [ $(($(now_ms) - t_stop)) -lt 10000 ]; do sleep 0.2; done
pg_start p
back() { [ "$(health A)" = "200 ok" ] && [ "$(health D)" = "200 ok" ]; }
wait_for "A and D recover" 10 back
expect_eq "D answers again" "$(status D ca-revoked.crt)" revoked
wait "$LOAD_PID" || true
touch v2.txt.stop
wait "$VPID" || true
check_load wrk2.txt v2.txt "primary stopped for 10 s"
streaming() { [ "$(pg_sql r -d postgres -c "SELECT status FROM pg_stat_wal_receiver")" = streaming ]; }
wait_for "the replica streams again" 15 streaming
revoke_and_time 01000009 0x01000009 2000
ok "primary stopped 10 s under load: 0 failed answers, /healthz degraded, D tryLater past 5 s, recovery, a later revocation everywhere within 2 s"

# ---- refusals at start: exit 2 with the cause ----------------------------------------------------------------
# serve_fail WHAT REGEX DB_URL: the node must not start
serve_fail() {
    set +e
    "$QPKI" ocsp serve --ca-dir ca --credential ocsp-ca --db "$3" --addr "127.0.0.1:$(free_port)" \
        --pid-file "$WORK/fail.pid" >fail.out 2>&1
    rc=$?
    set -e
    [ "$rc" = 2 ] || fail "$1: exit $rc, expected 2: $(cat fail.out)"
    grep -Eq -- "$2" fail.out || fail "$1: message '$(cat fail.out)' does not match /$2/"
}
serve_fail "password in the URL" "carries a password.*PGPASSFILE" \
    "postgresql://ocsp_node:secret123@127.0.0.1:$(pg_port p)/qpki"
grep -q secret123 fail.out && fail "the password was repeated"
pg_sql p -c "CREATE ROLE outsider LOGIN PASSWORD 'x'"
echo "127.0.0.1:*:*:outsider:x" >>"$PGPASSFILE"
serve_fail "wrong role" "role outsider may not use schema qpki .*qpki_reader" "$(pg_url p outsider)"
pg_sql p -d postgres -c 'CREATE DATABASE empty'
pg_sql p -d postgres -c 'GRANT CONNECT ON DATABASE empty TO ocsp_node'
serve_fail "missing table" "database empty at 127.0.0.1:$(pg_port p) has no qpki schema" \
    "postgresql://ocsp_node@127.0.0.1:$(pg_port p)/empty?sslmode=disable"
pg_sql p -d postgres -c 'CREATE DATABASE newer'
"$QPKI" db init --db "host=$(pg_sock p) port=$(pg_port p) user=$PG_SUPERUSER dbname=newer" >/dev/null
pg_sql p -d newer -c "INSERT INTO qpki.schema_version (version) VALUES (99); GRANT qpki_reader TO ocsp_node"
serve_fail "schema too new" "schema version 99, newer than this qpki knows" \
    "postgresql://ocsp_node@127.0.0.1:$(pg_port p)/newer?sslmode=disable"
serve_fail "unreachable" "cannot connect to the status database at 127.0.0.1:1: .*refused" \
    "postgresql://ocsp_node@127.0.0.1:1/qpki?sslmode=disable"
# --publish-crl makes the CRL from index.txt: not for a CA followed from the database
set +e
"$QPKI" ocsp serve --ca-dir ca --credential ocsp-ca --db "$(pg_url p ocsp_node)" --publish-crl /crl/ca.crl \
    --addr "127.0.0.1:$(free_port)" --pid-file "$WORK/fail.pid" >fail.out 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "--db with --publish-crl: exit $rc, expected 2: $(cat fail.out)"
grep -q -- "--publish-crl publishes the CRL made from index.txt; a CA followed from --db has none" fail.out ||
    fail "--db with --publish-crl: message '$(cat fail.out)'"
ok "serve refuses to start (exit 2, the cause named): password in URL, wrong role, missing table, schema too new, unreachable, --publish-crl with --db"

# ---- two CAs in one database, one node answering for both ------------------------------------------------
make_pki ca2
"$QPKI" db import --db "$WRITER" --ca-dir ca2 >/dev/null
cat >two.yaml <<EOF
quiet: true
db_poll: 1s
cas:
  - dir: $WORK/ca
    credential: ocsp-ca
    cred_dir: $WORK/credentials
    db: "$URL_P"
  - dir: $WORK/ca2
    credential: ocsp-ca2
    cred_dir: $WORK/credentials
    db: "$URL_P"
EOF
start_server two --config two.yaml
# ocsp2 CA CERT|0xSERIAL: the status openssl verified from the node "two"
ocsp2() {
    if [ "${2#0x}" != "$2" ]; then set -- "$1" -serial "$2"; else set -- "$1" -cert "$2"; fi
    openssl ocsp -issuer "$1/ca.crt" "$2" "$3" -url "$URL" -CAfile "$1/ca.crt" -no_nonce 2>&1 |
        awk '/^Response verify OK/ {v = 1} / (good|revoked|unknown)$/ {s = $NF} END {if (v) print s}'
}
expect_eq "two CAs: ca2 good" "$(ocsp2 ca2 ca2-good.crt)" good
expect_eq "two CAs: ca2 revoked" "$(ocsp2 ca2 ca2-revoked.crt)" revoked
expect_eq "two CAs: ca's revoked row" "$(ocsp2 ca ca-revoked.crt)" revoked
expect_eq "two CAs: ca's generated row" "$(ocsp2 ca 0x1000001)" good
expect_eq "two CAs: a serial of ca is unknown to ca2" "$(ocsp2 ca2 0x1000001)" unknown
ca2_good=$(openssl x509 -in ca2-good.crt -noout -serial | cut -d= -f2)
"$QPKI" cert revoke --ca-dir ca2 --serial "$ca2_good" --reason superseded --db "$WRITER" >/dev/null
ca2_revoked() { [ "$(ocsp2 ca2 ca2-good.crt)" = revoked ]; }
wait_for "ca2's revocation on the node" 5 ca2_revoked
expect_eq "two CAs: ca's rows unchanged" "$(ocsp2 ca 0x1000001)" good
ok "two CAs in one database, one node: each CA's rows answered (another CA's serial unknown), a revocation of one CA seen"

echo "cluster test: $(($(date +%s) - T0)) s"
