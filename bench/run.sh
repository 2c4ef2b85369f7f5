#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh - `qpki ocsp serve` side by side with its peers, in one run, on
# loopback, with bounded wrk runs (never a test: the figures go to
# docs/PERFORMANCE.md with the machine and this command).
#
#   cached GET and POST   qpki ocsp serve   vs  nginx serving the same response bytes
#                                               as a static file (the HTTP ceiling)
#   live nonce signing    qpki ocsp serve   vs  openssl ocsp -index ... -multi 2
#   (ECDSA P-256, Ed25519)                  vs  the raw signing rate of the same key
#                                               (bench_sign through the library, and
#                                               openssl speed)
#   live nonce signing    qpki ocsp serve   vs  the raw signing rate of the same key(s)
#   (ML-DSA-65; Catalyst                        (bench_sign; openssl 3.0 has no ML-DSA,
#   ECDSA P-384 + ML-DSA-65)                    so there is no openssl ocsp run)
#
# The PKI: one ECDSA, one Ed25519, one ML-DSA (ml/ profiles: ML-DSA-87 CA, ML-DSA-65
# responder) and one Catalyst CA (hybrid/catalyst/: ECDSA P-384 + ML-DSA-65) made
# with `qpki ca init`, a responder credential each (`qpki credential enroll`), and
# NROWS synthetic rows in each index.txt (10% revoked).  Requests are made by
# `openssl ocsp -reqout` (ECDSA, Ed25519) and `qpki ocsp request` (ML-DSA, Catalyst).
# For fairness under the noise of a shared machine, the two sides of each
# comparison alternate run by run; the summary keeps the median of REPS runs.
# Each timed run records wrk's RESULT line (bench/ocsp.lua) and the server's CPU
# time per request; RSS is the peak of the server's process tree.  Every server
# first answers a checked run (each response must be HTTP 200 + successful).
#
# Usage: bench/run.sh            (about 9 minutes on 2 cores)
#        ONLY=qpki bench/run.sh  qpki's own points only (cached POST, live nonce,
#                                bench_sign, bench_respond: what the live-answer
#                                ceiling ratio needs; no nginx, no openssl ocsp)
#        PIN=1 bench/run.sh      per-core variant (as ../shared/bench-anchors does):
#                                every server, signer and `openssl speed` on CPU 0
#                                with one thread / process, wrk -t1 on CPU 1, so
#                                the load generator never competes with the server
# Knobs: BUILD=build-bench WORK=/tmp/qpki-bench DUR=10s REPS=3 CONNS=64 THREADS=2
#        NROWS=100000 NREQ=1000 NNONCE=200 PIN=0 ONLY=
#        KEEP=1: reuse the PKI and requests a previous run left in WORK
# Needs: meson/ninja (builds BUILD in release mode if missing), wrk, nginx,
#        openssl 3, python3, curl.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
WORK=${WORK:-/tmp/qpki-bench}
DUR=${DUR:-10s}
REPS=${REPS:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
NROWS=${NROWS:-100000}
NREQ=${NREQ:-1000}
NNONCE=${NNONCE:-200}
LUA=$HERE/ocsp.lua
NCPU=$(nproc)
PIN=${PIN:-0}
ONLY=${ONLY:-}
[[ -z $ONLY || $ONLY == qpki ]] || { echo "ONLY=qpki or unset" >&2; exit 1; }
PIDS=()
# SRV: prefix for servers and signers; CLI: prefix for wrk.  SCPU: the CPUs the
# servers may use (threads / processes / nginx workers)
SRV=() CLI=()
SCPU=$NCPU
if [[ $PIN == 1 ]]; then
    ((NCPU >= 2)) || { echo "PIN=1 needs 2 CPUs" >&2; exit 1; }
    SRV=(taskset -c 0) CLI=(taskset -c 1) SCPU=1 THREADS=1
fi
# openssl ocsp: -multi N forks N children; pinned, one process serves
OSSL_MULTI=(-multi "$SCPU")
[[ $PIN == 1 ]] && OSSL_MULTI=()

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
need wrk nginx openssl python3 curl

# ---- build ------------------------------------------------------------------------
build() {
    if [[ ! -f $BUILD/build.ninja ]]; then
        log "meson setup $BUILD (release)"
        meson setup "$BUILD" "$ROOT" -Dbuildtype=release >/dev/null
    fi
    ninja -C "$BUILD" cli/qpki bench/bench_sign bench/bench_respond >/dev/null
    QPKI=$BUILD/cli/qpki
    BENCH_SIGN=$BUILD/bench/bench_sign
    BENCH_RESPOND=$BUILD/bench/bench_respond
}

# ---- PKI and requests ----------------------------------------------------------------
pki() {
    rm -rf "$WORK"
    mkdir -p "$WORK"/{ec,ed,ml,cat,www,nginx/tmp,nginx/logs,logs}
    local alg prof
    for alg in ec ed ml cat; do
        prof=$alg
        [[ $alg == cat ]] && prof=hybrid/catalyst
        "$QPKI" ca init --ca-dir "$WORK/$alg/ca" --profile "$prof/root-ca" \
            --var cn="Bench $alg CA" >/dev/null 2>&1
        "$QPKI" credential enroll --ca-dir "$WORK/$alg/ca" --cred-dir "$WORK/credentials" \
            --profile "$prof/ocsp-responder" --var cn="ocsp.$alg.bench" --id "ocsp-$alg" \
            >/dev/null 2>&1
        # NROWS synthetic rows in OpenSSL's format, 10% revoked
        python3 - "$WORK/$alg/ca/index.txt" "$NROWS" "$WORK/$alg/serials.txt" <<'EOF'
import random, sys
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20260101)
reasons = ["keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged", None]
serials = []
with open(path, "a") as f:
    for i in range(n):
        s = "%032X" % (rnd.getrandbits(127) | 1)
        if rnd.random() < 0.10:
            r = rnd.choice(reasons)
            rev = "250101000000Z" + ("," + r if r else "")
            f.write("R\t301231235959Z\t%s\t%s\tunknown\t/CN=leaf-%06d\n" % (rev, s, i))
        else:
            f.write("V\t301231235959Z\t\t%s\tunknown\t/CN=leaf-%06d\n" % (s, i))
        serials.append(s)
rnd.shuffle(serials)
open(out, "w").write("\n".join(serials) + "\n")
EOF
    done
    log "PKI: ECDSA, Ed25519, ML-DSA and Catalyst CAs, $NROWS rows each ($(wc -l <"$WORK/ec/ca/index.txt") lines)"
}

reqs() {
    local alg i s
    mkdir -p "$WORK/reqs/get" "$WORK/reqs/nonce-"{ec,ed,ml,cat}
    : >"$WORK/reqs/get.lst"
    for i in $(seq 1 "$NREQ"); do
        s=$(sed -n "${i}p" "$WORK/ec/serials.txt")
        openssl ocsp -issuer "$WORK/ec/ca/ca.crt" -serial "0x$s" -no_nonce \
            -reqout "$WORK/reqs/get/$i.der" 2>/dev/null
        echo "$WORK/reqs/get/$i.der" >>"$WORK/reqs/get.lst"
    done
    python3 - "$WORK/reqs/get.lst" "$WORK/reqs/get.url" <<'EOF'
import base64, sys, urllib.parse
with open(sys.argv[2], "w") as o:
    for p in open(sys.argv[1]):
        b = base64.b64encode(open(p.strip(), "rb").read()).decode()
        o.write(urllib.parse.quote(b, safe="") + "\n")
EOF
    for alg in ec ed ml cat; do
        : >"$WORK/reqs/nonce-$alg.lst"
        for i in $(seq 1 "$NNONCE"); do
            s=$(sed -n "${i}p" "$WORK/$alg/serials.txt")
            if [[ $alg == ec || $alg == ed ]]; then
                openssl ocsp -issuer "$WORK/$alg/ca/ca.crt" -serial "0x$s" -nonce \
                    -reqout "$WORK/reqs/nonce-$alg/$i.der" 2>/dev/null
            else
                "$QPKI" ocsp request --ca "$WORK/$alg/ca/ca.crt" --serial "$s" --nonce \
                    --out "$WORK/reqs/nonce-$alg/$i.der"
            fi
            echo "$WORK/reqs/nonce-$alg/$i.der" >>"$WORK/reqs/nonce-$alg.lst"
        done
    done
    log "requests: $NREQ without nonce (ECDSA CA), $NNONCE with nonce per CA"
}

# ---- servers ---------------------------------------------------------------------------
start_qpki() {
    P_QPKI=$(free_port)
    "${SRV[@]}" "$QPKI" ocsp serve --addr "127.0.0.1:$P_QPKI" --pid-file "$WORK/qpki.pid" \
        --quiet --threads "$SCPU" \
        --cred-dir "$WORK/credentials" \
        --ca-dir "$WORK/ec/ca" --credential ocsp-ec --ca-dir "$WORK/ed/ca" --credential ocsp-ed \
        --ca-dir "$WORK/ml/ca" --credential ocsp-ml --ca-dir "$WORK/cat/ca" --credential ocsp-cat \
        >"$WORK/logs/qpki.log" 2>&1 &
    QPKI_PID=$!
    PIDS+=("$QPKI_PID")
    wait_port "$P_QPKI" "$QPKI_PID"
}

start_nginx() {
    P_NGINX=$(free_port)
    # the same bytes qpki answers for the first request of the GET corpus
    curl -s -o "$WORK/www/resp.der" "http://127.0.0.1:$P_QPKI/$(head -1 "$WORK/reqs/get.url")"
    chmod 755 "$WORK" "$WORK/www"
    chmod 644 "$WORK/www/resp.der"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $SCPU;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 100000000; keepalive_timeout 65;
    open_file_cache max=16 inactive=60s; open_file_cache_valid 60s;
    client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    default_type application/ocsp-response;
    server {
        listen 127.0.0.1:$P_NGINX;
        root $WORK/www;
        # every GET and every POST gets the pre-signed bytes
        location / { try_files /resp.der =404; error_page 405 =200 /resp.der; }
    }
}
EOF
    "${SRV[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" \
        >"$WORK/logs/nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$P_NGINX" "$NGINX_PID"
}

# openssl ocsp -index is restarted before every run (it does not survive load well)
start_openssl() { # alg
    P_OPENSSL=$(free_port)
    local a=$1 cred=$WORK/credentials/ocsp-$1/ocsp-$1
    "${SRV[@]}" openssl ocsp -index "$WORK/$a/ca/index.txt" -port "$P_OPENSSL" \
        -rsigner "$cred.crt" -rkey "$cred.key" -CA "$WORK/$a/ca/ca.crt" -nmin 60 \
        "${OSSL_MULTI[@]}" \
        >"$WORK/logs/openssl-$a.log" 2>&1 &
    OPENSSL_PID=$!
    PIDS+=("$OPENSSL_PID")
    # no probe connection: `openssl ocsp -port` spins on a connection closed
    # before a request line and then serves nobody (openssl/openssl#23934)
    local i
    for i in $(seq 1 100); do
        grep -q '^ACCEPT' "$WORK/logs/openssl-$a.log" && break
        kill -0 "$OPENSSL_PID" 2>/dev/null || die "openssl ocsp exited"
        sleep 0.1
    done
    sleep 0.5 # the -multi children
}

# ---- measuring ------------------------------------------------------------------------------
TSV=$WORK/results.tsv

# run NAME PID PORT MODE MANIFEST [inline]: a checked run, then a timed run
# appended to TSV.  inline: one timed run that also checks every answer (for
# the slow live-signing points, where the check costs wrk next to nothing, and
# for `openssl ocsp`, which must be restarted between runs).
run() {
    local name=$1 pid=$2 port=$3 mode=$4 manifest=$5 inline=${6:-} out t0 t1 req check=
    if [[ -z $inline ]]; then
        out=$(OCSP_CHECK=1 timeout 30 wrk -t1 -c4 -d1s -s "$LUA" "http://127.0.0.1:$port" -- \
            "$mode" "$manifest" | grep '^RESULT')
        verify "$name" "$out"
    else
        check=1
    fi
    t0=$(ticks "$pid")
    out=$(OCSP_CHECK=$check timeout 120 "${CLI[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DUR" -s "$LUA" \
        "http://127.0.0.1:$port" -- "$mode" "$manifest" | grep '^RESULT')
    t1=$(ticks "$pid")
    [[ -n $inline ]] && verify "$name" "$out"
    req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
    printf '%s\t%s\tcpu_us_per_req=%s\trss_kb=%s\n' "$name" "$out" \
        "$(awk -v t=$((t1 - t0)) -v r="$req" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.2f", r ? t * 1e6 / hz / r : 0 }')" "$(rss_kb "$pid")" >>"$TSV"
    log "$name: $(sed 's/RESULT //' <<<"$out")"
}

verify() { # name RESULT-line: answers came, all of them HTTP 200 + successful
    case "$2" in
    "RESULT requests=0 "*) die "$1: no answers" ;;
    *" bad=0 errors=0"*) ;;
    *) die "$1: bad answers: $2" ;;
    esac
}

measure() {
    : >"$TSV"
    local rep a cred alt
    start_qpki
    [[ -z $ONLY ]] && start_nginx
    for rep in $(seq 1 "$REPS"); do
        log "round $rep/$REPS: cached GET and POST"
        [[ -z $ONLY ]] && run nginx-get "$NGINX_PID" "$P_NGINX" get "$WORK/reqs/get.url"
        run qpki-get "$QPKI_PID" "$P_QPKI" get "$WORK/reqs/get.url"
        [[ -z $ONLY ]] && run nginx-post "$NGINX_PID" "$P_NGINX" post "$WORK/reqs/get.lst"
        run qpki-post "$QPKI_PID" "$P_QPKI" post "$WORK/reqs/get.lst"
        for a in ec ed ml cat; do
            log "round $rep/$REPS: live nonce signing ($a)"
            cred=$WORK/credentials/ocsp-$a/ocsp-$a
            alt=()
            if [[ -z $ONLY && ( $a == ec || $a == ed ) ]]; then
                start_openssl "$a"
                run "openssl-nonce-$a" "$OPENSSL_PID" "$P_OPENSSL" post \
                    "$WORK/reqs/nonce-$a.lst" inline
                stop_pid "$OPENSSL_PID"
            fi
            run "qpki-nonce-$a" "$QPKI_PID" "$P_QPKI" post "$WORK/reqs/nonce-$a.lst" inline
            # the same key, signing alone, right after (same machine conditions);
            # Catalyst: each of its two keys (a hybrid answer costs both)
            "${SRV[@]}" "$BENCH_SIGN" "$cred.key" "$SCPU" "${DUR%s}" |
                sed "s/^RESULT/bench_sign-$a\tRESULT/" | tee -a "$TSV" | sed 's/^/    /' >&2
            if [[ $a == cat ]]; then
                alt=("$cred.alt.key")
                "${SRV[@]}" "$BENCH_SIGN" "$cred.alt.key" "$SCPU" "${DUR%s}" |
                    sed "s/^RESULT/bench_sign-cat-alt\tRESULT/" | tee -a "$TSV" | sed 's/^/    /' >&2
            fi
            # the responder library alone on the same requests (no HTTP, one thread)
            "${SRV[@]}" "$BENCH_RESPOND" "$WORK/$a/ca/ca.crt" "$WORK/$a/ca/index.txt" \
                "$cred.crt" "$cred.key" "$WORK/reqs/nonce-$a.lst" "${DUR%s}" "${alt[@]}" |
                sed "s/^RESULT/bench_respond-$a\tRESULT/" | tee -a "$TSV" | sed 's/^/    /' >&2
        done
    done
    [[ -z $ONLY ]] && stop_pid "$NGINX_PID"
    stop_pid "$QPKI_PID"
    [[ -n $ONLY ]] && { : >"$WORK/logs/speed.txt"; return; }
    log "openssl speed"
    "${SRV[@]}" openssl speed -seconds "${DUR%s}" -multi "$SCPU" ecdsap256 ed25519 >"$WORK/logs/speed.txt" \
        2>&1 || true
}

summary() {
    python3 - "$TSV" "$WORK/logs/speed.txt" "$SCPU" "$CONNS" <<'EOF'
import re, statistics, sys
tsv, speed, ncpu, conns = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
runs = {}
for line in open(tsv):
    name, rest = line.split("\t", 1)
    kv = dict(re.findall(r"(\w+)=([\w.+-]+)", rest))
    runs.setdefault(name, []).append(kv)
def med(name, key):
    return statistics.median(float(r[key]) for r in runs[name])
def row(name):
    rs = runs[name]
    m = sorted(rs, key=lambda r: float(r["rps"]))[len(rs) // 2]   # the median run
    return "| %s | %.0f | %.2f | %.2f | %.2f | %s | %.1f |" % (
        name, float(m["rps"]), float(m["p50_us"]) / 1000, float(m["p99_us"]) / 1000,
        med(name, "cpu_us_per_req"), int(max(float(r["rss_kb"]) for r in rs)) // 1024 or "<1",
        min(float(r["rps"]) for r in rs) / 1000)
print("| run | req/s (median) | p50 ms | p99 ms | server CPU us/req | peak RSS MiB | min kreq/s |")
print("|---|---:|---:|---:|---:|---:|---:|")
for n in ["nginx-get", "qpki-get", "nginx-post", "qpki-post", "openssl-nonce-ec",
          "qpki-nonce-ec", "openssl-nonce-ed", "qpki-nonce-ed", "qpki-nonce-ml", "qpki-nonce-cat"]:
    if n in runs:
        print(row(n))
print()
sp = {}
text = open(speed).read() if speed else ""
m = re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)", text)
if m: sp["ec"] = float(m.group(1))
m = re.search(r"EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)", text)
if m: sp["ed"] = float(m.group(1))
ALGS = (("ec", "ECDSA P-256"), ("ed", "Ed25519"), ("ml", "ML-DSA-65"),
        ("cat", "Catalyst (ECDSA P-384 + ML-DSA-65)"))
# A Catalyst answer carries two signatures: its signing cost is the sum of its two
# keys' (bench_sign-cat and bench_sign-cat-alt), its rate their serial composition.
if "bench_sign-cat" in runs and "bench_sign-cat-alt" in runs:
    runs["bench_sign-cat-ec"] = runs["bench_sign-cat"]
    runs["bench_sign-cat"] = [{
        "cpu_us_per_sign": str(float(x["cpu_us_per_sign"]) + float(y["cpu_us_per_sign"])),
        "sign_per_s": str(1 / (1 / float(x["sign_per_s"]) + 1 / float(y["sign_per_s"])))}
        for x, y in zip(runs["bench_sign-cat-ec"], runs["bench_sign-cat-alt"])]
print("| signing ceiling (%s threads/processes) | sign/s |" % ncpu)
print("|---|---:|")
for a, label in ALGS:
    n = "bench_sign-" + a
    if n in runs:
        print("| library signer, %s (bench_sign; %.1f us CPU per signature) | %.0f |" % (
            label, med(n, "cpu_us_per_sign"), med(n, "sign_per_s")))
    if a == "cat" and "bench_sign-cat-ec" in runs:
        print("| of which ECDSA P-384 alone / ML-DSA-65 alone (us CPU per signature) | %.1f / %.1f |" % (
            med("bench_sign-cat-ec", "cpu_us_per_sign"), med("bench_sign-cat-alt", "cpu_us_per_sign")))
    n = "bench_respond-" + a
    if n in runs:
        print("| responder library alone, %s (bench_respond, 1 thread; %.1f us CPU per answer, %.1f of them signing) | %.0f |" % (
            label, med(n, "cpu_us_per_respond"), med(n, "sign_us_per_respond"), med(n, "respond_per_s")))
    if a in sp:
        print("| openssl speed (%s processes), %s | %.0f |" % (ncpu, label, sp[a]))
print()
def ratio(a, b):
    return med(a, "rps") / med(b, "rps")
print("| ratio | value | target |")
print("|---|---:|---|")
if "qpki-get" in runs and "nginx-get" in runs:
    print("| cached GET, qpki / nginx | %.2f | >= 1.0 |" % ratio("qpki-get", "nginx-get"))
if "qpki-post" in runs and "nginx-post" in runs:
    print("| cached POST, qpki / nginx | %.2f | >= 1.0 |" % ratio("qpki-post", "nginx-post"))
for a, label in ALGS:
    q = "qpki-nonce-" + a
    if q in runs and "bench_sign-" + a in runs:
        print("| live nonce %s, qpki req/s / raw signing rate | %.2f | >= 0.85 |" % (
            label, med(q, "rps") / med("bench_sign-" + a, "sign_per_s")))
        print("| live nonce %s, signing CPU / server CPU per request | %.2f | |" % (
            label, med("bench_sign-" + a, "cpu_us_per_sign") / med(q, "cpu_us_per_req")))
        if "qpki-post" in runs:
            # the most any HTTP responder could reach: one signature plus what a
            # whole cached POST answer (read, parse, look up, write) costs
            sg = med("bench_sign-" + a, "cpu_us_per_sign")
            post = med("qpki-post", "cpu_us_per_req")
            live = med(q, "cpu_us_per_req")
            print("| live nonce %s, ceiling = signature / (signature + cached POST answer, %.1f us) | %.2f | |" % (
                label, post, sg / (sg + post)))
            # (sg / live) / (sg / (sg + post)): the live answer against the
            # cheapest it could be, one signature plus one cached answer
            print("| live nonce %s, (signing CPU / server CPU per request) / ceiling = (%.1f + %.1f us) / %.1f us | %.2f | >= 0.95 |" % (
                label, sg, post, live, (sg + post) / live))
    if q in runs and "openssl-nonce-" + a in runs:
        print("| live nonce %s, qpki / openssl ocsp (%s processes) | %.2f | |" % (
            label, ncpu, ratio(q, "openssl-nonce-" + a)))
if "qpki-get" in runs:
    print("| cached GET p99 at %s connections (median run) | %.2f ms | < 2 ms |" % (
        conns,
        float(sorted(runs["qpki-get"], key=lambda r: float(r["rps"]))[len(runs["qpki-get"]) // 2]["p99_us"]) / 1000))
EOF
}

machine() {
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $NCPU CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    # How an idle CPU waits matters to the live runs: on a virtual machine an
    # idle vCPU that halts must be woken by an interrupt through the hypervisor
    # each time a server answer wakes the sleeping client (docs/PERFORMANCE.md)
    echo "- idle CPUs: cpuidle driver $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo none)$(
        [[ -r /sys/module/haltpoll/parameters/guest_halt_poll_ns ]] &&
            echo ", guest_halt_poll_ns=$(cat /sys/module/haltpoll/parameters/guest_halt_poll_ns)")"
    echo "- software: $(openssl version | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), libmicrohttpd $(pkg-config --modversion libmicrohttpd), wolfSSL $(pkg-config --modversion wolfssl)"
    echo "- run: DUR=$DUR REPS=$REPS CONNS=$CONNS wrk threads=$THREADS NROWS=$NROWS NREQ=$NREQ NNONCE=$NNONCE${ONLY:+ ONLY=$ONLY}; $(if [[ $PIN == 1 ]]; then echo "PIN=1: servers and signers on CPU 0 (one thread/process), wrk -t1 on CPU 1"; else echo "wrk, servers and signers share the same $NCPU CPUs"; fi)"
}

main() {
    build
    local header
    header=$(machine)
    if [[ ${KEEP:-0} == 1 && -s $WORK/reqs/nonce-cat.lst ]]; then
        log "KEEP=1: the PKI and requests of $WORK"
        mkdir -p "$WORK/logs"
    else
        pki
        reqs
    fi
    measure
    report "$header"
}
main "$@"
