#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/hsm.sh - `qpki ocsp serve` live signing with a PKCS#11 key (SoftHSM2,
# through qpki-pkcs11.so) against the same server with a software key, in one
# run, on loopback, with bounded wrk runs (never a test: the figures go to
# docs/PERFORMANCE.md with the machine and this command).
#
# The PKI, made with qpki alone: an ECDSA CA (`qpki ca init`) with NROWS
# synthetic index.txt rows; two P-256 responder keys with certificates from that
# CA: a software one (`qpki credential enroll --profile ec/ocsp-responder`) and
# one generated in a fresh SoftHSM2 token (`qpki key gen --hsm-config`, `qpki csr
# create --hsm-config`, `qpki cert issue`).  Two servers run side by side on the
# same CA directory, one per key.  Every request carries a nonce (NNONCE
# requests made by `openssl ocsp -reqout -nonce`, picked at random by
# bench/ocsp.lua) and an answer that echoes a nonce is never cached, so every
# answer is signed live: the figure is the signing path, not the cache.  The two servers alternate run by run; the summary keeps
# the median of REPS runs.  Each run checks every answer (HTTP 200 + successful;
# wrk --timeout 10s: on a shared machine a stall of a few seconds is latency,
# not a lost answer) and records wrk's RESULT line, the server's CPU time per
# request (the token is a library inside the server process, so its signing is
# included) and the server's signature count (/metrics), which must cover every
# answer; one answer of each server is verified by openssl first.
#
# Usage: bench/hsm.sh            (about 2 minutes on 2 cores)
# Knobs: BUILD=build-hsm-bench WORK=/tmp/qpki-bench-hsm DUR=10s REPS=3 CONNS=64
#        THREADS=2 NROWS=10000 NNONCE=200
# Needs: meson/ninja (builds BUILD in release mode if missing), wrk, openssl 3,
#        python3, curl, softhsm2.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build-hsm-bench}
WORK=${WORK:-/tmp/qpki-bench-hsm}
DUR=${DUR:-10s}
REPS=${REPS:-3}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
NROWS=${NROWS:-10000}
NNONCE=${NNONCE:-200}
LUA=$HERE/ocsp.lua
NCPU=$(nproc)
PIN=20262026
PIDS=()

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
need wrk openssl python3 curl softhsm2-util
MODULE=
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
    [[ -f $m ]] && { MODULE=$m; break; }
done
[[ -n $MODULE ]] || die "SoftHSM2's module not found"

# ---- build ------------------------------------------------------------------------------
build() {
    if [[ ! -f $BUILD/build.ninja ]]; then
        log "meson setup $BUILD (release)"
        meson setup "$BUILD" "$ROOT" -Dbuildtype=release >/dev/null
    fi
    ninja -C "$BUILD" cli/qpki lib/plugins/pkcs11/qpki-pkcs11.so bench/bench_sign \
        lib/libqpki-ocsp.so.1.0.0 >/dev/null
    QPKI=$BUILD/cli/qpki
    BENCH_SIGN=$BUILD/bench/bench_sign
    export LD_LIBRARY_PATH=$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export QPKI_PLUGIN_DIR=$BUILD/lib/plugins/pkcs11
}

# ---- PKI, token, requests ------------------------------------------------------------------
pki() {
    rm -rf "$WORK"
    mkdir -p "$WORK"/{tokens,reqs,logs}
    cat >"$WORK/softhsm2.conf" <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
    export SOFTHSM2_CONF=$WORK/softhsm2.conf HSM_PIN=$PIN
    softhsm2-util --init-token --free --label bench --pin "$PIN" --so-pin 10203040 >/dev/null
    cat >"$WORK/hsm.yaml" <<EOF
type: pkcs11
pkcs11:
  lib: $MODULE
  token: "bench"
  pin_env: HSM_PIN
EOF
    "$QPKI" ca init --ca-dir "$WORK/ca" --profile ec/root-ca --var cn="Bench HSM CA" >/dev/null 2>&1
    # the software key
    "$QPKI" credential enroll --ca-dir "$WORK/ca" --cred-dir "$WORK/credentials" \
        --profile ec/ocsp-responder --var cn="ocsp.sw.bench" --id ocsp-sw >/dev/null 2>&1
    # the token key, its CSR and certificate, with qpki alone
    "$QPKI" key gen --algo ecdsa-p256 --hsm-config "$WORK/hsm.yaml" --key-label ocsp-bench \
        --out "$WORK/hsm.pub" >/dev/null 2>&1
    "$QPKI" csr create --hsm-config "$WORK/hsm.yaml" --key-label ocsp-bench \
        --cn ocsp.hsm.bench --out "$WORK/hsm.csr" >/dev/null 2>&1
    "$QPKI" cert issue --ca-dir "$WORK/ca" --profile ec/ocsp-responder --csr "$WORK/hsm.csr" \
        --out "$WORK/hsm.crt" >/dev/null 2>&1
    python3 - "$WORK/ca/index.txt" "$NROWS" "$WORK/serials.txt" <<'EOF'
import random, sys
path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20260102)
serials = []
with open(path, "a") as f:
    for i in range(n):
        s = "%032X" % (rnd.getrandbits(127) | 1)
        if rnd.random() < 0.10:
            f.write("R\t301231235959Z\t250101000000Z,keyCompromise\t%s\tunknown\t/CN=leaf-%06d\n" % (s, i))
        else:
            f.write("V\t301231235959Z\t\t%s\tunknown\t/CN=leaf-%06d\n" % (s, i))
        serials.append(s)
rnd.shuffle(serials)
open(out, "w").write("\n".join(serials) + "\n")
EOF
    local i s
    : >"$WORK/reqs/nonce.lst"
    for i in $(seq 1 "$NNONCE"); do
        s=$(sed -n "${i}p" "$WORK/serials.txt")
        openssl ocsp -issuer "$WORK/ca/ca.crt" -serial "0x$s" -nonce \
            -reqout "$WORK/reqs/$i.der" 2>/dev/null
        echo "$WORK/reqs/$i.der" >>"$WORK/reqs/nonce.lst"
    done
    log "PKI: ECDSA CA with $NROWS rows; P-256 responder keys in software and in SoftHSM2; $NNONCE nonce requests"
}

# ---- servers ----------------------------------------------------------------------------------
start() { # name signer-args...
    local name=$1 port aport i
    shift
    port=$(free_port)
    aport=$(free_port)
    "$QPKI" ocsp serve --addr "127.0.0.1:$port" --pid-file "$WORK/$name.pid" --quiet \
        --admin-addr "127.0.0.1:$aport" --ca-dir "$WORK/ca" "$@" >"$WORK/logs/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 200); do
        grep -q 'msg=listening' "$WORK/logs/$name.log" && break
        kill -0 "$pid" 2>/dev/null || die "$name exited: $(cat "$WORK/logs/$name.log")"
        sleep 0.1
    done
    grep -q 'msg=listening' "$WORK/logs/$name.log" || die "$name does not listen"
    # one answer checked by openssl (nonce echoed, signature, responder certificate)
    openssl ocsp -issuer "$WORK/ca/ca.crt" -serial "0x$(head -1 "$WORK/serials.txt")" \
        -url "http://127.0.0.1:$port" -CAfile "$WORK/ca/ca.crt" >"$WORK/logs/$name.check" 2>&1 ||
        true
    grep -q '^Response verify OK' "$WORK/logs/$name.check" ||
        die "$name: openssl does not verify its answer: $(cat "$WORK/logs/$name.check")"
    eval "PORT_${name}=$port APORT_${name}=$aport PID_${name}=$pid"
}

signatures() { # admin port: the server's count of signatures made
    curl -s "http://127.0.0.1:$1/metrics" | sed -n 's/^qpki_ocsp_signatures_total //p'
}

TSV=$WORK/results.tsv
run() { # name: one timed run, every answer checked
    local name=$1 port aport pid out t0 t1 req s0 s1
    eval "port=\$PORT_${name} aport=\$APORT_${name} pid=\$PID_${name}"
    s0=$(signatures "$aport")
    t0=$(ticks "$pid")
    out=$(OCSP_CHECK=1 timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 10s -s "$LUA" \
        "http://127.0.0.1:$port" -- post "$WORK/reqs/nonce.lst" | grep '^RESULT')
    t1=$(ticks "$pid")
    s1=$(signatures "$aport")
    case "$out" in
    "RESULT requests=0 "*) die "$name: no answers" ;;
    *" bad=0 errors=0"*) ;;
    *) die "$name: bad answers: $out" ;;
    esac
    req=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
    # wrk counts the answers it got; the server signed at least as many (a few
    # more for requests cut off at the end of the run): every answer was live
    ((s1 - s0 >= req)) || die "$name: $((s1 - s0)) signatures for $req answers"
    printf '%s\t%s\tcpu_us_per_req=%s\trss_kb=%s\tsignatures=%s\n' "$name" "$out" \
        "$(awk -v t=$((t1 - t0)) -v r="$req" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.2f", r ? t * 1e6 / hz / r : 0 }')" "$(rss_kb "$pid")" \
        "$((s1 - s0))" >>"$TSV"
    log "$name: $(sed 's/RESULT //' <<<"$out") signatures=$((s1 - s0))"
}

measure() {
    : >"$TSV"
    start software --credential ocsp-sw --cred-dir "$WORK/credentials"
    start softhsm2 --cert "$WORK/hsm.crt" --hsm-config "$WORK/hsm.yaml" --key-label ocsp-bench
    local rep
    for rep in $(seq 1 "$REPS"); do
        log "round $rep/$REPS: live nonce signing, P-256"
        if ((rep % 2)); then run software; run softhsm2; else run softhsm2; run software; fi
    done
    local s
    for s in software softhsm2; do
        eval "stop_pid \$PID_$s"
        grep -q 'level=\(error\|warn\)' "$WORK/logs/$s.log" &&
            log "warning: $s logged: $(grep -m3 'level=\(error\|warn\)' "$WORK/logs/$s.log")"
    done
    PIDS=()
    # Signing alone, for reading the figures, with 1 thread and one per CPU:
    # the software key (bench_sign), the token key through the plugin
    # (bench_sign --hsm, reported as bench_sign_hsm), and OpenSSL libcrypto
    # (SoftHSM2's backend on Debian; openssl speed divides by CPU user time).
    log "signing alone: bench_sign, bench_sign_hsm (1 and $NCPU threads), openssl speed ecdsap256"
    local t
    for t in 1 "$NCPU"; do
        "$BENCH_SIGN" "$WORK/credentials/ocsp-sw/ocsp-sw.key" "$t" "${DUR%s}" |
            sed "s/^RESULT/bench_sign-$t\tRESULT/" >>"$TSV"
        "$BENCH_SIGN" --hsm "$WORK/hsm.yaml" ocsp-bench "$t" "${DUR%s}" |
            sed "s/^RESULT/bench_sign_hsm-$t\tRESULT/" >>"$TSV"
    done
    openssl speed -seconds "${DUR%s}" ecdsap256 2>/dev/null |
        awk '/ecdsa \(nistp256\)/ { printf "openssl_speed\tsign_per_s=%s\n", $(NF-1) }' >>"$TSV"
}

summary() {
    python3 - "$TSV" "$CONNS" <<'EOF'
import re, statistics, sys
tsv, conns = sys.argv[1], sys.argv[2]
runs = {}
for line in open(tsv):
    name, rest = line.split("\t", 1)
    runs.setdefault(name, []).append(dict(re.findall(r"(\w+)=([\w.+-]+)", rest)))
def med(name, key):
    return statistics.median(float(r[key]) for r in runs[name])
print("| server (live nonce signing, P-256, %s connections) | req/s (median) | p50 ms | p99 ms | server CPU us/req | peak RSS MiB | runs (req/s) |" % conns)
print("|---|---:|---:|---:|---:|---:|---|")
for n, label in (("software", "qpki ocsp serve, software key (library signer)"),
                 ("softhsm2", "qpki ocsp serve, SoftHSM2 key (qpki-pkcs11.so)")):
    rs = runs[n]
    m = sorted(rs, key=lambda r: float(r["rps"]))[len(rs) // 2]
    print("| %s | %.0f | %.2f | %.2f | %.1f | %d | %s |" % (
        label, float(m["rps"]), float(m["p50_us"]) / 1000, float(m["p99_us"]) / 1000,
        med(n, "cpu_us_per_req"), int(max(float(r["rss_kb"]) for r in rs)) // 1024,
        ", ".join("%.0f" % float(r["rps"]) for r in rs)))
print()
print("| ratio | value |")
print("|---|---:|")
print("| req/s, SoftHSM2 / software | %.2f |" % (med("softhsm2", "rps") / med("software", "rps")))
print("| server CPU per request, SoftHSM2 / software | %.2f |" % (
    med("softhsm2", "cpu_us_per_req") / med("software", "cpu_us_per_req")))
print("| server CPU per request, SoftHSM2 - software (us) | %.1f |" % (
    med("softhsm2", "cpu_us_per_req") - med("software", "cpu_us_per_req")))
print()
print("| P-256 signing alone | threads | sign/s | CPU us per signature | CPU used (cores) |")
print("|---|---:|---:|---:|---:|")
for prog, label in (("bench_sign", "software key, library signer (bench/bench_sign)"),
                    ("bench_sign_hsm", "SoftHSM2 key through qpki-pkcs11.so (bench/bench_sign --hsm)")):
    for n in sorted({k.split("-")[1] for k in runs if k.startswith(prog + "-")}, key=int):
        k = "%s-%s" % (prog, n)
        util = med(k, "sign_per_s") * med(k, "cpu_us_per_sign") / 1e6
        print("| %s | %s | %.0f | %.1f | %.2f |" % (label, n, med(k, "sign_per_s"),
              med(k, "cpu_us_per_sign"), util))
if "openssl_speed" in runs:
    print("| OpenSSL libcrypto alone, SoftHSM2's backend (openssl speed ecdsap256) | 1 | %.0f | %.1f | |" % (
        med("openssl_speed", "sign_per_s"), 1e6 / med("openssl_speed", "sign_per_s")))
EOF
}

machine() {
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $NCPU CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- software: $(openssl version | cut -d' ' -f1-2), SoftHSM $(dpkg-query -W -f='${Version}' softhsm2 2>/dev/null || echo '?') ($MODULE), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), libmicrohttpd $(pkg-config --modversion libmicrohttpd), wolfSSL $(pkg-config --modversion wolfssl)"
    echo "- run: DUR=$DUR REPS=$REPS CONNS=$CONNS wrk threads=$THREADS NROWS=$NROWS NNONCE=$NNONCE; server threads = $NCPU (default); wrk, server and token share the same $NCPU CPUs"
}

main() {
    build
    local header
    header=$(machine)
    pki
    measure
    report "$header"
}
main "$@"
