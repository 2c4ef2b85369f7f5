#!/usr/bin/env bash
# Interop of the OCSP codec with independent implementations, both directions:
#  1. responses made by the library (good / revoked with every reason and without
#     reason / unknown; with and without nonce; delegated and CA-signed; ECDSA P-256,
#     P-384, RSA-2048 PKCS#1, RSA-2048 PSS, Ed25519, Ed448) are accepted by
#     `openssl ocsp -respin ... -CAfile` ("Response verify OK" + status, reason,
#     time), by Python cryptography (every field compared, signature verified) and
#     by GnuTLS `ocsptool` (signature verified);
#  2. requests made by `openssl ocsp -reqout` (nonce / no nonce, SHA-1 / SHA-256,
#     two certificates) are answered by the library's responder and the answers
#     verified by openssl against the request (nonce included);
#  3. responses made by `openssl ocsp` verify with the library; forged ones (bit
#     flips, responder without the OCSPSigning EKU, foreign responder, stale,
#     nonce mismatch) are rejected.
# usage: ocsp_interop.sh PATH/TO/ocsp_tool
set -euo pipefail
tool=$(realpath "${1:?usage: ocsp_interop.sh ocsp_tool}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
PY=/usr/bin/python3
command -v ocsptool >/dev/null || { echo "ocsptool missing: install gnutls-bin (scripts/install-deps.sh)"; exit 1; }
$PY -c 'import cryptography' || { echo "python3-cryptography missing"; exit 1; }

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cat > ext.cnf <<'CNF'
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
[ocsp]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=OCSPSigning
noCheck=ignored
[noeku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
[leaf]
basicConstraints=critical,CA:FALSE
CNF

genkey() { # alg out
  case $1 in
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
    rsa2048 | rsapss) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
    ed448) openssl genpkey -algorithm ED448 -out "$2" ;;
  esac 2>/dev/null
}
digest() { case $1 in ed25519 | ed448) ;; p384) echo -sha384 ;; *) echo -sha256 ;; esac; }

mkpki() { # alg -> dir alg/ with ca.crt ca.key ocsp.crt ocsp.key noeku.* leaf*.crt index.txt
  local a=$1 d
  d=$(digest "$a")
  mkdir -p "$a"
  genkey "$a" "$a/ca.key"; genkey "$a" "$a/ocsp.key"; genkey "$a" "$a/noeku.key"; genkey p256 "$a/leaf.key"
  openssl req -x509 -new -key "$a/ca.key" -subj "/CN=Interop CA $a" -days 3650 $d \
    -set_serial 1 -extensions ca -config ext.cnf -out "$a/ca.crt" 2>/dev/null
  local n
  for n in ocsp noeku; do
    openssl req -new -key "$a/$n.key" -subj "/CN=Interop $n $a" -out tmp.csr 2>/dev/null
    openssl x509 -req -in tmp.csr -CA "$a/ca.crt" -CAkey "$a/ca.key" -set_serial 0x77 -days 3650 $d \
      -extfile ext.cnf -extensions "$n" -out "$a/$n.crt" 2>/dev/null
  done
  for n in 1 2; do
    openssl req -new -key "$a/leaf.key" -subj "/CN=leaf$n" -out tmp.csr 2>/dev/null
    openssl x509 -req -in tmp.csr -CA "$a/ca.crt" -CAkey "$a/ca.key" -set_serial "0x100$n" -days 3650 $d \
      -extfile ext.cnf -extensions leaf -out "$a/leaf$n.crt" 2>/dev/null
  done
  printf 'V\t351231235959Z\t\t1001\tunknown\t/CN=leaf1\n' > "$a/index.txt"
  printf 'R\t351231235959Z\t240115100000Z,superseded\t1002\tunknown\t/CN=leaf2\n' >> "$a/index.txt"
}

reasons=(unspecified keyCompromise cACompromise affiliationChanged superseded cessationOfOperation
  certificateHold removeFromCRL privilegeWithdrawn aACompromise)
openssl_reason() { # RFC 5280 name -> text openssl prints
  # OpenSSL 3.0 has no names for privilegeWithdrawn (9) and aACompromise (10)
  case $1 in privilegeWithdrawn) echo "(UNKNOWN) (0x9)" ;; aACompromise) echo "(UNKNOWN) (0xa)" ;; *) echo "$1" ;; esac
}
rev=1705312800
: > manifest.jsonl
ocsptool_ok=0 ocsptool_total=0

# ---- 1. our responses, judged by openssl, python cryptography and ocsptool -------
for alg in p256 p384 rsa2048 rsapss ed25519 ed448; do
  mkpki "$alg"
  pss=(); [[ $alg == rsapss ]] && pss=(--pss)
  for mode in delegated ca; do
    if [[ $mode == delegated ]]; then signer=$alg/ocsp.crt key=$alg/ocsp.key certargs=(--cert "$alg/ocsp.crt") certs=1
    else signer=$alg/ca.crt key=$alg/ca.key certargs=() certs=0; fi
    i=0
    for st in good unknown revoked "${reasons[@]}"; do
      for nonce in "" "0102030405060708090a0b0c0d0e0f10"; do
        i=$((i + 1))
        serial=$(printf '%X' $((0x5000 + i)))
        f=$alg-$mode-$i.der
        args=(sign --ca "$alg/ca.crt" --key "$key" "${certargs[@]}" "${pss[@]}" --serial "$serial" --out "$f")
        status=$st reason=""
        case $st in good | unknown) ;; revoked) status=revoked ;; *) status=revoked reason=$st ;; esac
        args+=(--status "$status")
        [[ $status == revoked ]] && args+=(--rev-time $rev)
        [[ -n $reason ]] && args+=(--reason "$reason")
        [[ -n $nonce ]] && args+=(--nonce "$nonce")
        # responderID as `qpki ocsp serve` names it by default (byName for the CA,
        # byKey for a delegated responder), the other form every third response
        by_name=false
        if [[ $mode == ca ]]; then ((i % 3 == 0)) || by_name=true; else ((i % 3 != 0)) || by_name=true; fi
        if $by_name; then args+=(--by-name); fi
        hash=sha1; ((i % 4 == 1)) && hash=sha256 && args+=(--hash sha256)
        "$tool" "${args[@]}" || { bad "ocsp_tool sign $f"; continue; }
        out=$(openssl ocsp -respin "$f" -CAfile "$alg/ca.crt" -issuer "$alg/ca.crt" $([[ $hash == sha256 ]] && echo -sha256) \
              -no_nonce -serial "0x$serial" -resp_text 2>&1 || true)
        if grep -q "Response verify OK" <<<"$out" && grep -q "0x$serial: $status" <<<"$out" &&
           { [[ $status != revoked ]] || grep -q "Revocation Time: Jan 15 10:00:00 2024 GMT" <<<"$out"; } &&
           { [[ -z $reason ]] || grep -qF "Reason: $(openssl_reason "$reason")" <<<"$out"; } &&
           { [[ $status != revoked || -n $reason ]] || ! grep -q "Reason:" <<<"$out"; }; then
          ok
        else
          bad "openssl rejects $f ($alg $mode $st nonce=${nonce:+y}): $(grep -E 'verify|0x|Reason|Error' <<<"$out" | head -5 | tr '\n' ' ')"
        fi
        printf '{"resp":"%s","signer":"%s","serial":"%s","status":"%s","rev_time":%d,"reason":%s,"nonce":%s,"hash":"%s","by_name":%s,"certs":%d,"span":3660,"pss":%s}\n' \
          "$f" "$signer" "$serial" "$status" "$rev" "$([[ -n $reason ]] && echo "\"$reason\"" || echo null)" \
          "$([[ -n $nonce ]] && echo "\"$nonce\"" || echo null)" "$hash" "$by_name" "$certs" \
          "$([[ $alg == rsapss ]] && echo true || echo false)" >> manifest.jsonl
        ocsptool_total=$((ocsptool_total + 1))
        # GnuTLS verifies against a trust list, except a CA-signed byKey response
        # without certificates: GnuTLS looks for that signer only among the
        # response's certificates (docs/CONFORMANCE.md), so it gets the signer.
        trust=(--load-trust "$alg/ca.crt")
        [[ $mode == ca && $by_name == false ]] && trust=(--load-signer "$signer")
        if ocsptool --verify-response "${trust[@]}" --infile "$f" 2>&1 | grep -q "Verifying OCSP Response: Success"; then
          ocsptool_ok=$((ocsptool_ok + 1)); ok
        else
          bad "ocsptool rejects $f ($alg $mode $st)"
        fi
      done
    done
  done
done
echo "openssl + ocsptool checks so far: $pass passed, $fail failed (ocsptool $ocsptool_ok/$ocsptool_total)"
if $PY "$here/check_responses.py" manifest.jsonl; then ok; else bad "python cryptography field comparison"; fi

# ---- 2. openssl's requests answered by our responder -------------------------------
for alg in p256 rsa2048 ed25519; do
  a=$alg
  n=0
  for variant in "-no_nonce" "" "-sha256 -no_nonce" "-sha256" "two"; do
    n=$((n + 1))
    if [[ $variant == two ]]; then
      openssl ocsp -issuer "$a/ca.crt" -cert "$a/leaf1.crt" -cert "$a/leaf2.crt" -reqout "req$n.der" >/dev/null
    else
      openssl ocsp -issuer "$a/ca.crt" $variant -cert "$a/leaf1.crt" -reqout "req$n.der" >/dev/null
    fi
    st=$("$tool" respond --ca "$a/ca.crt" --key "$a/ocsp.key" --cert "$a/ocsp.crt" --index "$a/index.txt" \
         --req "req$n.der" --out "ans$n.der") || { bad "respond $a $variant"; continue; }
    dg=""; [[ $variant == *sha256* ]] && dg=-sha256
    # (a) signature, responder and nonce echo checked against the request itself
    out=$(openssl ocsp -respin "ans$n.der" -reqin "req$n.der" -CAfile "$a/ca.crt" 2>&1 || true)
    if grep -q "Response verify OK" <<<"$out" && ! grep -qi "nonce" <<<"$out"; then ok
    else bad "openssl -reqin on our answer ($a, $variant): $out"; fi
    # (b) the statuses, per certificate
    certs=(-cert "$a/leaf1.crt"); [[ $variant == two ]] && certs+=(-cert "$a/leaf2.crt")
    out=$(openssl ocsp -respin "ans$n.der" -CAfile "$a/ca.crt" -issuer "$a/ca.crt" $dg -no_nonce "${certs[@]}" 2>&1 || true)
    if grep -q "Response verify OK" <<<"$out" && grep -q "leaf1.crt: good" <<<"$out" &&
       { [[ $variant != two ]] || { grep -q "leaf2.crt: revoked" <<<"$out" && grep -q "Reason: superseded" <<<"$out"; }; }; then ok
    else bad "openssl statuses in our answer ($a, $variant): $out"; fi
  done
done

# ---- 3. openssl's responses verified (and forgeries rejected) by the library --------
a=p256
openssl ocsp -issuer "$a/ca.crt" -cert "$a/leaf1.crt" -reqout rq.der >/dev/null
nonce=$(openssl ocsp -reqin rq.der -req_text | awk '/OCSP Nonce/{getline; gsub(/ /,""); print substr($0,5)}')
resp() { openssl ocsp -index "$a/index.txt" -CA "$a/ca.crt" -rsigner "$1" -rkey "$2" -reqin rq.der -respout "$3" ${4:-} >/dev/null 2>&1; }
resp "$a/ocsp.crt" "$a/ocsp.key" o-good.der "-ndays 1"
resp "$a/noeku.crt" "$a/noeku.key" o-noeku.der "-ndays 1"
resp "$a/ca.crt" "$a/ca.key" o-ca.der "-ndays 1"
resp "$a/ocsp.crt" "$a/ocsp.key" o-stale.der "-nmin 1"
resp "${a/p256/p384}/ocsp.crt" "${a/p256/p384}/ocsp.key" o-foreign.der "-ndays 1"
expect() { # want-exit file args... description
  local want=$1 f=$2; shift 2
  local desc=${*: -1}
  set -- "${@:1:$(($# - 1))}"
  local got=0
  "$tool" verify --ca "$a/ca.crt" --resp "$f" "$@" >v.out 2>&1 || got=$?
  [[ $got == "$want" ]] && ok || bad "$desc: exit $got, want $want: $(cat v.out)"
}
expect 0 o-good.der --serial 1001 --nonce "$nonce" "openssl delegated response"
expect 0 o-ca.der --serial 1001 "openssl CA-signed response"
expect 1 o-noeku.der "responder without OCSPSigning EKU"
expect 1 o-foreign.der "responder of another CA"
expect 1 o-stale.der --time $(( $(date +%s) + 3600 )) "stale response (nextUpdate passed)"
expect 1 o-good.der --nonce 00112233445566778899aabbccddeeff "nonce mismatch"
expect 1 o-good.der --serial 9999 "wrong certificate"
size=$(stat -c %s o-good.der)
flips=0 caught=0
for off in $(seq $((size - 70)) 7 $((size - 1))); do
  cp o-good.der flip.der
  printf "$(printf '\\x%02x' $(( $(od -An -tu1 -j "$off" -N1 o-good.der) ^ 0x01 )))" |
    dd of=flip.der bs=1 seek="$off" conv=notrunc 2>/dev/null
  flips=$((flips + 1))
  "$tool" verify --ca "$a/ca.crt" --resp flip.der >/dev/null 2>&1 && bad "bit flip at $off accepted" || caught=$((caught + 1))
done
((caught == flips)) && ok
echo "bit flips rejected: $caught of $flips"

echo "ocsp interop: $pass passed, $fail failed"
((fail == 0))
