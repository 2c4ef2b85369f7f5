#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/package/systemd_nspawn.sh - tests/package/run.sh in a Debian 12 container
# booted with systemd as PID 1 (systemd-nspawn -b), so that its systemd parts run
# for real: qpki-ocsp@.service started (Type=notify), answers checked by openssl,
# reload (good and broken configuration), stop; the maintainer scripts' restart
# of a running instance on upgrade and stop on removal.  Not part of
# scripts/test.sh (a debootstrap and a build take minutes); run it by hand:
#     bash tests/package/systemd_nspawn.sh          # as root, or through sudo
# Needs: root, a Debian mirror (the first one in /etc/apt/sources*, or
# QPKI_NSPAWN_MIRROR=URL), debootstrap and systemd-container (installed for the
# run and purged after it when they were missing).  QPKI_NSPAWN_ROOTFS=DIR uses
# a copy of an existing `debootstrap --include=systemd,systemd-sysv,dbus bookworm`
# tree instead of a new one.  The container shares the machine's network; its
# tree (in /var/tmp) is removed at the end.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "systemd_nspawn.sh: systemd-nspawn needs root (run it as root or install sudo)" >&2; exit 2; }
    exec sudo -- bash "$0" "$@"
fi
fail() { echo "FAIL - $*" >&2; exit 1; }
mirror=${QPKI_NSPAWN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' | awk '{print $2; exit}' || true)}
[[ -n $mirror ]] || fail "no Debian mirror in /etc/apt/sources*: set QPKI_NSPAWN_MIRROR"

installed_here=()
for p in debootstrap systemd-container; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || installed_here+=("$p")
done
had_nspawn_run=$([[ -e /run/systemd/nspawn ]] && echo yes || true)
work=$(mktemp -d /var/tmp/qpki-nspawn.XXXXXX)
root=$work/root
nspawn_pid=
cleanup() {
    local rc=$?
    if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM to systemd-nspawn powers the container off cleanly
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$work"
    [[ -z $had_nspawn_run ]] && rm -rf /run/systemd/nspawn
    if ((${#installed_here[@]})); then
        apt-get purge -y -qq "${installed_here[@]}" >/dev/null 2>&1 || echo "warning: could not remove ${installed_here[*]}" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
if ((${#installed_here[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${installed_here[@]}" \
        >"$work/tools.log" 2>&1 || { cat "$work/tools.log"; fail "apt-get install ${installed_here[*]}"; }
fi

start=$(date +%s)
if [[ -n ${QPKI_NSPAWN_ROOTFS:-} ]]; then
    cp -a "$QPKI_NSPAWN_ROOTFS" "$root"
else
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$root" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap bookworm $mirror"; }
fi
echo "rootfs: Debian $(cat "$root/etc/debian_version") in $root ($(($(date +%s) - start)) s)"
mkdir "$root/root/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$root/root/src"
else
    (cd "$top" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$root/root/src"
fi

# --register=no --keep-unit: no machined, no system bus needed on this side
systemd-nspawn -q -D "$root" -b -M "qpki-nspawn-$$" --register=no --keep-unit --console=read-only \
    >"$work/boot.log" 2>&1 &
nspawn_pid=$!
leader=
for _ in $(seq 300); do
    leader=$(pgrep -P "$nspawn_pid" -x systemd || true)
    [[ -n $leader ]] && break
    kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/boot.log"; fail "systemd-nspawn -b exited"; }
    sleep 0.1
done
[[ -n $leader ]] || { cat "$work/boot.log"; fail "no systemd in the container"; }
inside() { nsenter -t "$leader" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
state=
for _ in $(seq 600); do # until its manager answers and the boot has finished
    state=$(inside systemctl is-system-running 2>/dev/null || true)
    [[ $state == running || $state == degraded ]] && break
    sleep 0.2
done
[[ $state == running || $state == degraded ]] || { tail -40 "$work/boot.log"; fail "the container's systemd: '$state'"; }
[[ $(inside cat /proc/1/comm) == systemd ]] || fail "PID 1 in the container is not systemd"
echo "container booted: systemd $(inside systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') as PID 1, system state '$state'"

# what tests/package/run.sh needs: the Build-Depends, dpkg-dev, lintian, openssl, a compiler
build_deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control" | sed '$d; s/^Build-Depends://' | tr -d '\n' | sed 's/, *$//')
inside apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get update in the container"; }
inside env DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq --no-install-recommends \
    "$build_deps, build-essential, dpkg-dev, fakeroot, lintian, openssl, procps, python3" >>"$work/apt.log" 2>&1 ||
    { tail -30 "$work/apt.log"; fail "apt-get satisfy in the container"; }
echo "container: build dependencies installed ($(($(date +%s) - start)) s)"

mkdir "$root/root/debs"
inside bash -c 'cd /root/src && QPKI_PACKAGE_KEEP_DEBS=/root/debs bash tests/package/run.sh' 2>&1 | tee "$work/run.log" ||
    fail "tests/package/run.sh in the container"
# the point of this script: the systemd parts ran, not NOT TESTED
grep -q '^ok [0-9]* - systemd: qpki-ocsp@' "$work/run.log" || fail "the unit was not started in the container"
grep -q '^ok [0-9]* - qpki maintainer scripts (systemd yes): upgrade restarted' "$work/run.log" ||
    fail "the maintainer scripts were not checked with systemd running"

# README.md's "Debian packages" commands as written, with two changes: the packages
# are in /root/debs (not ..) and already built, and the example's port 8080 becomes
# a free one (the container shares the machine's network)
block=$(awk '/^## Debian packages/ {f = 1} f && /^```sh/ {b = 1; next} b && /^```/ {exit} b' "$top/README.md")
grep -q 'systemctl enable --now qpki-ocsp@main' <<<"$block" || fail "README.md has no Debian block: $block"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
block=$(sed '/^dpkg-buildpackage /d; s|\.\./|/root/debs/|g; s|^apt install |apt-get install -y -q |;
    s|main.yaml && systemctl enable|main.yaml \&\& sed -i "s/127.0.0.1:8080/127.0.0.1:'"$port"'/" /etc/qpki/ocsp/main.yaml \&\& systemctl enable|;
    s|answering on 127.0.0.1:8080|answering on 127.0.0.1:'"$port"'|' <<<"$block")
echo "README.md's Debian commands in the container:"
echo "$block" | sed 's/^/    /'
inside env DEBIAN_FRONTEND=noninteractive bash -euc "$block" >"$work/readme.log" 2>&1 </dev/null ||
    { cat "$work/readme.log"; fail "README.md's Debian commands"; }
rshow() { inside systemctl show -p "$1" --value qpki-ocsp@main.service; }
[[ $(rshow ActiveState) == active && $(rshow StatusText) == "answering on 127.0.0.1:$port" &&
   $(inside systemctl is-enabled qpki-ocsp@main.service) == enabled ]] ||
    fail "qpki-ocsp@main after README.md's commands: $(rshow ActiveState), '$(rshow StatusText)', $(inside systemctl is-enabled qpki-ocsp@main.service)"
c=/var/lib/qpki
out=$(inside openssl ocsp -issuer "$c/ca/ca.crt" -cert "$c/credentials/ocsp-responder/ocsp-responder.crt" \
    -url "http://127.0.0.1:$port" -CAfile "$c/ca/ca.crt" 2>&1)
grep -q ": good" <<<"$out" && grep -q "Response verify OK" <<<"$out" || fail "qpki-ocsp@main: $out"
echo "ok - README.md's Debian commands: qpki-ocsp@main enabled, active ('$(rshow StatusText)'), openssl ocsp: good, verified"
echo "# systemd_nspawn: tests/package/run.sh passed under systemd $(inside systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') as PID 1 in $(($(date +%s) - start)) s"
