#!/usr/bin/env bash
# Installs everything libqpki-ocsp needs to build, test, demo and benchmark on a
# Debian 12 machine.  As root it runs apt-get itself (a fresh container has no
# sudo); as another user it runs only apt-get through sudo, and only when a
# package is missing.  Set QPKI_SKIP_INSTALL=1 to skip.
set -euo pipefail
[[ ${QPKI_SKIP_INSTALL:-0} == 1 ]] && exit 0
export DEBIAN_FRONTEND=noninteractive
# apt_get ARGS...: apt-get as root, or through sudo for a user who has it.
apt_get() {
  if [[ $(id -u) == 0 ]]; then
    apt-get "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
  else
    echo "install-deps: packages are missing and only root can install them: run this as root, install sudo, or install them yourself and set QPKI_SKIP_INSTALL=1" >&2
    exit 2
  fi
}
pkgs=(
  # build
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev llvm
  libwolfssl-dev libcurl4-openssl-dev libyaml-dev libmicrohttpd-dev libcmocka-dev
  zlib1g-dev libp11-kit-dev
  # test oracles and tools
  openssl gnutls-bin python3 python3-cryptography valgrind curl procps iproute2
  softhsm2 opensc
  systemd   # systemd-analyze verify of qpki-ocsp@.service (tests/server/unit.sh)
  zsh       # the generated zsh completion, typed with TAB (tests/cli/completion.sh)
  # several responder nodes: PostgreSQL 15 (server and libpq), HAProxy
  postgresql libpq-dev haproxy
  # Debian packages (tests/package/run.sh): debhelper and lintian (the other Build-Depends are above)
  debhelper fakeroot lintian
  # benchmarks
  wrk nginx-light hyperfine
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js runs the @noble/post-quantum oracle; use the machine's node >= 18 or Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_get update -qq
  apt_get install -y -qq --no-install-recommends nodejs npm
fi
