#!/usr/bin/env bash
# Catalyst hybrid OCSP responses made by the library (ECDSA P-256 / P-384 / Ed25519
# classical signature + ML-DSA-44/65/87 alternative signature): openssl verifies
# the classical signature ("Response verify OK"), @noble/post-quantum verifies the
# post-quantum one over tbsResponseData re-encoded without altSignatureValue
# (catalyst_noble.mjs has its own DER code), and a response checked against the
# wrong ML-DSA key is rejected by noble.
#   catalyst_noble.sh PATH/TO/ocsp_tool
set -euo pipefail
tool=$(realpath "${1:?usage: catalyst_noble.sh ocsp_tool}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sh "$here/noble.sh" >/dev/null # the pinned @noble/post-quantum
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
data=$here/../data/ocsp
args=()
fail=0
for pq in ml-dsa-44 ml-dsa-65 ml-dsa-87; do
  "$tool" keygen --algo "$pq" --out "$pq.key"
  "$tool" pubkey --key "$pq.key" --out "$pq.spki"
  "$tool" keygen --algo "$pq" --out "$pq-other.key"
  "$tool" pubkey --key "$pq-other.key" --out "$pq-other.spki"
  for st in good revoked; do
    f=$pq-$st.der
    # the revoked one names its responder byName: responderID [1] must not be
    # mistaken for responseExtensions [1] when altSignatureValue is taken out
    extra=(); [[ $st == revoked ]] && extra=(--rev-time 1705312800 --reason keyCompromise --by-name)
    "$tool" sign --ca "$data/ca.crt" --key "$data/responder.key" --cert "$data/responder.crt" \
      --serial 1001 --status "$st" "${extra[@]}" --nonce 00112233445566778899aabbccddeeff \
      --alt-key "$pq.key" --out "$f"
    out=$(openssl ocsp -respin "$f" -CAfile "$data/ca.crt" -issuer "$data/ca.crt" -no_nonce -serial 0x1001 2>&1 || true)
    if grep -q "Response verify OK" <<<"$out" && grep -q "0x1001: $st" <<<"$out"; then :
    else echo "FAIL: openssl on $f: $out"; fail=1; fi
    args+=("$f" "$pq.spki" valid "$f" "$pq-other.spki" invalid)
  done
done
node "$here/catalyst_noble.mjs" "${args[@]}" || fail=1
echo "catalyst: openssl accepted the classical signature of 6 of 6 hybrid responses"
exit $fail
