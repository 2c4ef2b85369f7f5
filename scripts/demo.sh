#!/usr/bin/env bash
# The README's demo command: installs what is needed, builds, creates a demo PKI
# with qpki itself (root CA, OCSP responder credential, one good and one revoked
# certificate), starts `qpki ocsp serve` on :8080 and queries it with openssl.
# The responder keeps running in the foreground (Ctrl-C stops it); set
# QPKI_DEMO_BACKGROUND=1 to leave it running and return (stop it with
# `qpki ocsp stop --port 8080`).  QPKI_DEMO_PORT and QPKI_DEMO_DIR override the
# port (8080) and the working directory (/tmp/qpki-demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$PWD
bash scripts/install-deps.sh
[[ -f build-demo/build.ninja ]] || meson setup build-demo -Dbuildtype=release >/dev/null
ninja -C build-demo >/dev/null
qpki=$top/build-demo/cli/qpki
port=${QPKI_DEMO_PORT:-8080}
demo=${QPKI_DEMO_DIR:-/tmp/qpki-demo}

"$qpki" ocsp stop --port "$port" >/dev/null 2>&1 || true
rm -rf "$demo"
mkdir -p "$demo"
cd "$demo"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Demo PKI (all made by qpki)"
"$qpki" ca init --ca-dir ./ca --profile ec/root-ca --var cn="QPKI Demo Root CA"
"$qpki" credential enroll --ca-dir ./ca --cred-dir ./credentials \
  --profile ec/ocsp-responder --var cn=ocsp.demo.test --id ocsp-responder
for name in good revoked; do
  "$qpki" key gen --algo ecdsa-p256 --out "$name.key"
  "$qpki" csr create --key "$name.key" --cn "$name.demo.test" --san "$name.demo.test" --out "$name.csr"
  "$qpki" cert issue --ca-dir ./ca --profile ec/tls-server --csr "$name.csr" \
    --var cn="$name.demo.test" --var dns_names="$name.demo.test" --out "$name.crt"
done
serial=$(openssl x509 -in revoked.crt -noout -serial | cut -d= -f2)
"$qpki" cert revoke --ca-dir ./ca --serial "$serial" --reason keyCompromise
"$qpki" cert list --ca-dir ./ca

say "2. Responder on http://localhost:$port (credential ocsp-responder)"
if [[ ${QPKI_DEMO_BACKGROUND:-0} == 1 ]]; then
  # detached from this terminal: the log goes to a file
  "$qpki" ocsp serve --port "$port" --ca-dir ./ca --credential ocsp-responder \
    </dev/null >"$demo/responder.log" 2>&1 &
else
  "$qpki" ocsp serve --port "$port" --ca-dir ./ca --credential ocsp-responder &
fi
server=$!
for _ in $(seq 50); do
  kill -0 "$server" 2>/dev/null || { echo "demo: the responder did not start (port $port busy? set QPKI_DEMO_PORT)" >&2; exit 1; }
  [[ -f /tmp/qpki-ocsp-$port.pid ]] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done

say "3. Queries with OpenSSL"
for name in good revoked; do
  echo "\$ openssl ocsp -issuer ca/ca.crt -cert $name.crt -url http://localhost:$port -resp_text"
  openssl ocsp -issuer ca/ca.crt -cert "$name.crt" -url "http://localhost:$port" -CAfile ca/ca.crt \
    -resp_text 2>&1 | grep -E 'Cert Status|Revocation|Responder Id|verify|: (good|revoked)'
done
echo "\$ $qpki ocsp request --ca ca/ca.crt --cert good.crt --nonce --url http://localhost:$port"
"$qpki" ocsp request --ca ca/ca.crt --cert good.crt --nonce --url "http://localhost:$port" || true

say "The responder is running (pid $server) in $demo."
echo "Try:  openssl ocsp -issuer $demo/ca/ca.crt -cert $demo/revoked.crt -url http://localhost:$port -resp_text"
if [[ ${QPKI_DEMO_BACKGROUND:-0} == 1 ]]; then
  echo "Log: $demo/responder.log   Stop it with:  $qpki ocsp stop --port $port"
  exit 0
fi
echo "Press Ctrl-C to stop it."
trap '"$qpki" ocsp stop --port "$port" >/dev/null 2>&1 || kill "$server" 2>/dev/null; exit 0' INT TERM
wait "$server"
