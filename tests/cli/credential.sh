#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/credential.sh - credential enroll | rotate | versions | activate |
# list: QPKI's layout and metadata, the <id>.crt/<id>.key links following the
# active version, rotation with an algorithm change, rollback, signing with the
# active version (checked by openssl), locking, and the error paths.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ORACLE="$PY $HERE/pyoracle.py"

check "ca init" qpki ca init --ca-dir ca --var cn="Credential CA"
cp ca/ca.crt ca.crt

# ---- enroll ---------------------------------------------------------------------------
check "enroll (default directories ./ca ./credentials)" qpki credential enroll \
    --profile ec/ocsp-responder --var cn=ocsp.example.com --id ocsp-responder
D=credentials/ocsp-responder
for f in credential.meta.json versions/v1/keys/credential.ecdsa-p256.key \
         versions/v1/certs/credential.ecdsa-p256.pem ocsp-responder.crt ocsp-responder.key; do
    [ -e "$D/$f" ] && ok "layout: $f" || fail "layout: $f missing"
done
expect_mode "version key file" 600 "$D/versions/v1/keys/credential.ecdsa-p256.key"
expect_mode "keys directory" 700 "$D/versions/v1/keys"
expect_mode "<id>.key (through the link)" 600 "$D/ocsp-responder.key"
[ "$(readlink "$D/active")" = versions/v1 ] && ok "active -> versions/v1" || fail "active link: $(readlink "$D/active")"
check "<id>.crt verifies (openssl)" "$OPENSSL" verify -CAfile ca.crt -purpose ocsphelper "$D/ocsp-responder.crt"
check "<id>.key matches <id>.crt" bash -c "cmp <($OPENSSL x509 -in $D/ocsp-responder.crt -noout -pubkey) <($OPENSSL pkey -in $D/ocsp-responder.key -pubout)"
check "metadata uses QPKI's field names" $PY -c "
import json
m = json.load(open('$D/credential.meta.json'))
assert m['id'] == 'ocsp-responder' and m['subject']['common_name'] == 'ocsp.example.com', m
assert m['active'] == 'v1', m
v = m['versions']['v1']
assert v['profiles'] == ['ec/ocsp-responder'] and v['algos'] == ['ecdsa-p256'], v
for k in ('created', 'not_before', 'not_after', 'activated_at'):
    assert v[k].endswith('Z'), (k, v)
assert 'archived_at' not in v
assert m['metadata']['var.cn'] == 'ocsp.example.com'
"
S1=$("$OPENSSL" x509 -in "$D/ocsp-responder.crt" -noout -serial | cut -d= -f2)
expect_grep "the CA recorded the credential certificate" "^V	.*	$S1	certs/$S1.pem	/CN=ocsp.example.com$" ca/index.txt

check "enroll without --id (generated)" qpki credential enroll --profile ec/tls-client --var cn="Alice Smith"
gen=$(ls credentials | grep '^alice-smith-' || true)
[[ "$gen" =~ ^alice-smith-[0-9]{8}-[0-9a-f]{6}$ ]] && ok "generated ID $gen" || fail "generated ID '$gen'"

expect_rc 2 "enroll an existing ID" qpki credential enroll --profile ec/ocsp-responder --var cn=x --id ocsp-responder
expect_grep "  ... says it exists" "already exists" "$last_out"
[ "$(readlink "$D/active")" = versions/v1 ] && ok "existing credential untouched" || fail "existing credential changed"
expect_rc 2 "enroll without --profile" qpki credential enroll --var cn=x --id c1
expect_rc 2 "enroll without the required cn" qpki credential enroll --profile ec/ocsp-responder --id c2
expect_grep "  ... names cn" "'cn'" "$last_out"
[ ! -e credentials/c2 ] && ok "nothing left after a failed enroll" || fail "credentials/c2 left behind"
expect_rc 2 "enroll with a CA profile" qpki credential enroll --profile ec/root-ca --var cn=x --id c3
expect_rc 2 "enroll with a bad ID" qpki credential enroll --profile ec/ocsp-responder --var cn=x --id ../evil
expect_rc 2 "enroll without a CA" qpki credential enroll --ca-dir nowhere --profile ec/ocsp-responder --var cn=x --id c4
[ ! -e credentials/c4 ] && ok "no credential directory without a CA" || fail "credentials/c4 created"

# ---- sign with the credential ------------------------------------------------------------------
check "sign with --credential" qpki ocsp sign --serial 0A --status good --ca ca.crt --credential ocsp-responder --out r1.der
ossl_ocsp r1.der ca.crt 0A || true
expect_grep "openssl: v1 response verifies" "^Response verify OK" "$TMP/.ossl"

# ---- rotate -------------------------------------------------------------------------------------
check "rotate" qpki credential rotate ocsp-responder
expect_grep "rotate says PENDING" "Version v2 \(PENDING\)" "$last_out"
[ "$(readlink "$D/active")" = versions/v1 ] && ok "v1 still active after rotate" || fail "active moved on rotate"
S1b=$("$OPENSSL" x509 -in "$D/ocsp-responder.crt" -noout -serial | cut -d= -f2)
[ "$S1b" = "$S1" ] && ok "<id>.crt still v1 after rotate" || fail "<id>.crt changed on rotate"
check "v2 certificate verifies" "$OPENSSL" verify -CAfile ca.crt "$D/versions/v2/certs/credential.ecdsa-p256.pem"
check "v2 has a new key" bash -c "! cmp -s $D/versions/v1/keys/credential.ecdsa-p256.key $D/versions/v2/keys/credential.ecdsa-p256.key"
$ORACLE cert "$D/versions/v2/certs/credential.ecdsa-p256.pem" ca.crt >"$TMP/.py" 2>&1 || true
expect_grep "v2 keeps the subject" "^subject=CN=ocsp.example.com$" "$TMP/.py"
expect_grep "v2 keeps OCSP signing" "^ext_key_usage=noncritical ocspSigning$" "$TMP/.py"
check "rotate to RSA (--profile rsa/ocsp-responder)" qpki credential rotate ocsp-responder --profile rsa/ocsp-responder
[ -f "$D/versions/v3/keys/credential.rsa-2048.key" ] && ok "v3 key is RSA-2048" || fail "v3 key missing"
check "rotate with --var cn" qpki credential rotate ocsp-responder --var cn=ocsp2.example.com
$ORACLE cert "$D/versions/v4/certs/credential.ecdsa-p256.pem" ca.crt >"$TMP/.py" 2>&1 || true
expect_grep "v4 has the new CN (and the active version's profile)" "^subject=CN=ocsp2.example.com$" "$TMP/.py"

check "versions" qpki credential versions ocsp-responder
expect_grep "versions: v1 active" "^v1 +active +ec/ocsp-responder +ecdsa-p256" "$last_out"
expect_grep "versions: v2 pending" "^v2 +pending +ec/ocsp-responder" "$last_out"
expect_grep "versions: v3 pending RSA" "^v3 +pending +rsa/ocsp-responder +rsa-2048" "$last_out"
expect_grep "versions: v4 pending" "^v4 +pending +ec/ocsp-responder" "$last_out"

# ---- activate (and the atomic switch) ----------------------------------------------------------------
check "activate v3" qpki credential activate ocsp-responder --version v3
[ "$(readlink "$D/active")" = versions/v3 ] && ok "active -> versions/v3" || fail "active link: $(readlink "$D/active")"
"$OPENSSL" x509 -in "$D/ocsp-responder.crt" -noout -text >"$TMP/c.txt"
expect_grep "<id>.crt is now the RSA certificate" "rsaEncryption" "$TMP/c.txt"
check "<id>.key matches the new <id>.crt" bash -c "cmp <($OPENSSL x509 -in $D/ocsp-responder.crt -noout -pubkey) <($OPENSSL pkey -in $D/ocsp-responder.key -pubout)"
check "sign with the activated RSA version" qpki ocsp sign --serial 0A --status revoked --revocation-reason superseded \
    --ca ca.crt --credential ocsp-responder --out r3.der
ossl_ocsp r3.der ca.crt 0A || true
expect_grep "openssl: v3 (RSA) response verifies" "^Response verify OK" "$TMP/.ossl"
$ORACLE response r3.der ca.crt >"$TMP/.py" 2>&1 || true
expect_grep "python: signed with sha256WithRSAEncryption" "^signature_algorithm=1.2.840.113549.1.1.11$" "$TMP/.py"
expect_grep "python: RSA signature valid" "^signature=ok$" "$TMP/.py"
check "versions after activate" qpki credential versions ocsp-responder
expect_grep "v1 archived" "^v1 +archived" "$last_out"
expect_grep "v3 active" "^v3 +active" "$last_out"
check "metadata: archived_at and activated_at" $PY -c "
import json
m = json.load(open('$D/credential.meta.json'))
assert m['active'] == 'v3'
assert m['versions']['v1'].get('archived_at'), m['versions']['v1']
assert m['versions']['v3'].get('activated_at') and not m['versions']['v3'].get('archived_at')
assert not m['versions']['v2'].get('archived_at')
"
check "rollback: activate v1" qpki credential activate ocsp-responder --version v1
S=$("$OPENSSL" x509 -in "$D/ocsp-responder.crt" -noout -serial | cut -d= -f2)
[ "$S" = "$S1" ] && ok "<id>.crt back to v1" || fail "<id>.crt $S after rollback, expected $S1"
check "sign after rollback" qpki ocsp sign --serial 0A --status good --ca ca.crt --credential ocsp-responder --out r4.der
$ORACLE response r4.der ca.crt >"$TMP/.py" 2>&1 || true
expect_grep "python: ECDSA again" "^signature_algorithm=1.2.840.10045.4.3.2$" "$TMP/.py"
check "activate the active version again (no-op)" qpki credential activate ocsp-responder --version v1
expect_grep "  ... says so" "already the active" "$last_out"

# readers never see a missing <id>.crt/<id>.key while versions switch
( for _ in $(seq 300); do
      [ -r "$D/ocsp-responder.crt" ] && [ -r "$D/ocsp-responder.key" ] || echo MISSING
  done ) >"$TMP/reader.log" &
READER=$!
for i in $(seq 10); do
    qpki credential activate ocsp-responder --version v2 >/dev/null
    qpki credential activate ocsp-responder --version v1 >/dev/null
done
wait "$READER"
expect_no_grep "the files exist throughout 20 switches" "MISSING" "$TMP/reader.log"

# concurrent rotations are serialised by the lock: two new versions, no clash
qpki credential rotate ocsp-responder >"$TMP/rot1.log" 2>&1 &
P1=$!
qpki credential rotate ocsp-responder >"$TMP/rot2.log" 2>&1 &
P2=$!
r1=0; r2=0; wait $P1 || r1=$?; wait $P2 || r2=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && ok "two concurrent rotations succeed" || fail "concurrent rotations: $r1 $r2"
check "v5 and v6 exist" test -d "$D/versions/v5" -a -d "$D/versions/v6"
check "metadata lists six versions" $PY -c "import json; assert sorted(json.load(open('$D/credential.meta.json'))['versions']) == ['v1','v2','v3','v4','v5','v6']"

expect_rc 2 "activate an unknown version" qpki credential activate ocsp-responder --version v9
expect_rc 2 "activate without --version" qpki credential activate ocsp-responder
expect_rc 2 "activate an unknown credential" qpki credential activate nosuch --version v1
expect_rc 2 "rotate an unknown credential" qpki credential rotate nosuch
expect_rc 2 "rotate without an ID" qpki credential rotate
expect_rc 2 "versions of an unknown credential" qpki credential versions nosuch
expect_rc 2 "rotate with an unknown variable" qpki credential rotate ocsp-responder --var colour=red

# ---- list ---------------------------------------------------------------------------------------------
check "list" qpki credential list
expect_grep "list: ocsp-responder, v1 active, 6 versions" "^ocsp-responder +v1 +6 " "$last_out"
expect_grep "list: generated ID" "^$gen +v1 +1 +ec/tls-client" "$last_out"
expect_rc 2 "list of a missing directory" qpki credential list --cred-dir nowhere

# ---- a Catalyst credential: <id>.alt.key follows the active version ---------------------------------
check "enroll hybrid/catalyst/ocsp-responder" qpki credential enroll --profile hybrid/catalyst/ocsp-responder \
    --var cn=hybrid.example.com --id hyb
H=credentials/hyb
[ -e "$H/hyb.alt.key" ] && ok "<id>.alt.key exists" || fail "<id>.alt.key missing"
expect_mode "<id>.alt.key" 600 "$H/hyb.alt.key"
check "metadata: algos and alt_key" $PY -c "
import json
v = json.load(open('$H/credential.meta.json'))['versions']['v1']
assert v['algos'] == ['ecdsa-p384', 'ml-dsa-65'], v
assert v['alt_key'] == 'keys/credential.ml-dsa-65.key', v
"
check "Catalyst response from the credential" qpki ocsp sign --serial 0B --status good --ca ca.crt --credential hyb --out hyb.der
# this CA is classical: the response is post-quantum, the path is not (docs/CATALYST.md)
check "qpki verify --require-pq=response" qpki ocsp verify --response hyb.der --ca ca.crt --require-pq=response
expect_grep "  ... alternative signature verified" "classical: OK, post-quantum: OK \(.* \+ ML-DSA-65\)" "$last_out"
ossl_ocsp hyb.der ca.crt 0B || true
expect_grep "openssl verifies the classical signature" "^Response verify OK" "$TMP/.ossl"
check "rotate the Catalyst credential to a classical profile" qpki credential rotate hyb --profile ec/ocsp-responder
check "activate the classical v2" qpki credential activate hyb --version v2
[ ! -e "$H/hyb.alt.key" ] && [ ! -L "$H/hyb.alt.key" ] && ok "<id>.alt.key gone with a classical active version" || fail "<id>.alt.key still there"
check "classical response from v2" qpki ocsp sign --serial 0B --status good --ca ca.crt --credential hyb --out hyb2.der
expect_rc 1 "--require-pq fails on it" qpki ocsp verify --response hyb2.der --ca ca.crt --require-pq
check "roll back to the Catalyst v1" qpki credential activate hyb --version v1
[ -e "$H/hyb.alt.key" ] && ok "<id>.alt.key back" || fail "<id>.alt.key not restored"
check "Catalyst again after rollback" qpki ocsp sign --serial 0B --status good --ca ca.crt --credential hyb --out hyb3.der
check "  ... verifies with --require-pq=response" qpki ocsp verify --response hyb3.der --ca ca.crt --require-pq=response

# ---- activate refuses a version whose key and certificate disagree (issue 13 item 1) ------------------------
check "rotate hyb again (v3, Catalyst)" qpki credential rotate hyb --profile hybrid/catalyst/ocsp-responder
V3K=$(ls "$H"/versions/v3/keys/credential.ecdsa-*.key)
V3A=$(ls "$H"/versions/v3/keys/credential.ml-dsa-*.key)
cp "$V3K" "$TMP/v3.key"
cp "$V3A" "$TMP/v3.alt.key"
cp "$H"/versions/v1/keys/credential.ecdsa-*.key "$V3K"  # v1's key under v3's certificate
expect_rc 2 "activate v3 whose key is another version's" qpki credential activate hyb --version v3
expect_grep "  ... names the mismatch" "does not belong to the certificate .*their public keys differ" "$last_out"
expect_grep "  ... and that nothing changed" "v3 of credential hyb not activated" "$last_out"
[ "$(readlink "$H/active")" = versions/v1 ] && ok "  ... v1 stays active" || fail "active moved to $(readlink "$H/active")"
cp "$TMP/v3.key" "$V3K"
"$PY" - "$V3A" "$TMP/v2mldsa.key" <<'PYEOF'
import sys
# a different ML-DSA-65 key in v3's alternative key file (seed form, seed 0x00..1f)
der = bytes.fromhex('3034020100300b060960864801650304031204228020') + bytes(range(32))
open(sys.argv[1], 'wb').write(der)
PYEOF
expect_rc 2 "activate v3 whose alternative key is not the certificate's" qpki credential activate hyb --version v3
expect_grep "  ... names the alternative key" "is not the certificate's altSubjectPublicKeyInfo" "$last_out"
cp "$TMP/v3.alt.key" "$V3A"
printf 'garbage' >"$TMP/broken.key"; cp "$V3K" "$TMP/v3.key"; cp "$TMP/broken.key" "$V3K"
expect_rc 2 "activate v3 whose key file is broken" qpki credential activate hyb --version v3
expect_grep "  ... says which file" "cannot load private key .*versions/v3/keys" "$last_out"
cp "$TMP/v3.key" "$V3K"
check "activate v3 once its files hold together" qpki credential activate hyb --version v3
check "roll back to v1" qpki credential activate hyb --version v1

# ---- encrypted credential keys ---------------------------------------------------------------------------
check "enroll with an encrypted key" env PW=credpass qpki credential enroll --profile ec/ocsp-responder \
    --var cn=enc.example.com --id enc --passphrase-env PW
expect_grep "the key is encrypted" "BEGIN ENCRYPTED PRIVATE KEY" credentials/enc/enc.key
expect_rc 2 "sign without the passphrase" qpki ocsp sign --serial 01 --status good --ca ca.crt --credential enc
check "sign with the passphrase" env PW=credpass qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --credential enc --passphrase-env PW --out enc.der
ossl_ocsp enc.der ca.crt 01 || true
expect_grep "openssl: encrypted-credential response verifies" "^Response verify OK" "$TMP/.ossl"
check "rotate the encrypted credential" env PW=credpass qpki credential rotate enc --passphrase-env PW
expect_rc 2 "activate it without the passphrase (the key cannot be checked)" qpki credential activate enc --version v2
expect_grep "  ... asks for it" "is encrypted: give --passphrase-env" "$last_out"
check "activate it with the passphrase" env PW=credpass qpki credential activate enc --version v2 --passphrase-env PW

# ---- a credential written by QPKI itself (no <id>.crt/<id>.key links) ------------------------------------
mkdir -p credentials/qpki-made/versions/v1/certs credentials/qpki-made/versions/v1/keys
cp "$D/versions/v2/certs/credential.ecdsa-p256.pem" credentials/qpki-made/versions/v1/certs/credential.ecdsa-p256.pem
cp "$D/versions/v2/keys/credential.ecdsa-p256.key" credentials/qpki-made/versions/v1/keys/credential.ecdsa-p256.key
cat >credentials/qpki-made/credential.meta.json <<'EOF'
{
  "id": "qpki-made",
  "subject": {"common_name": "ocsp.example.com"},
  "created": "2026-01-05T10:00:00.123456789+01:00",
  "active": "v1",
  "versions": {"v1": {"profiles": ["ec/ocsp-responder"], "algos": ["ecdsa-p256"],
                      "created": "2026-01-05T10:00:00+01:00", "not_before": "2026-01-05T10:00:00Z",
                      "not_after": "2027-01-05T10:00:00Z", "activated_at": "2026-01-05T10:00:00Z"}},
  "metadata": {}
}
EOF
check "sign with a QPKI-made credential" qpki ocsp sign --serial 01 --status good --ca ca.crt \
    --credential qpki-made --out q.der
ossl_ocsp q.der ca.crt 01 || true
expect_grep "openssl: QPKI-layout credential response verifies" "^Response verify OK" "$TMP/.ossl"
check "versions of a QPKI-made credential" qpki credential versions qpki-made
expect_grep "  ... v1 active" "^v1 +active +ec/ocsp-responder" "$last_out"

finish
