#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/cli/pq.sh - post-quantum end to end through the qpki CLI (issue 6): the guide's
# §3 credential and CSR commands with ml/ and hybrid/catalyst/ profiles, ocsp sign +
# verify (--require-pq), ocsp info, ocsp serve with a Catalyst credential (openssl and
# qpki as clients), a credential rotation to new keys while serving, and RFC 6960
# §4.4.7 preferred signature algorithms with two credentials for one CA.
#   bash tests/cli/pq.sh /path/to/qpki
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- keys --------------------------------------------------------------------------------------
for n in 44 65 87; do
    check "key gen --algo ml-dsa-$n" qpki key gen --algo ml-dsa-$n --out ml$n.key
    expect_mode "  ... 0600" 600 ml$n.key
    expect_grep "  ... says what it made" "ml-dsa-$n" "$last_out"
done

# ---- CAs: a Catalyst root (the guide's ./ca) and an ML-DSA root ----------------------------------
check "ca init hybrid/catalyst/root-ca" qpki ca init --ca-dir ./ca --profile hybrid/catalyst/root-ca \
    --var cn="Hybrid Root CA"
expect_grep "  ... ECDSA P-384" "ecdsa-p384" "$last_out"
expect_grep "  ... ML-DSA-65 alternative key" "ml-dsa-65" "$last_out"
check "ca init ml/root-ca" qpki ca init --ca-dir ./mlca --profile ml/root-ca --var cn="ML Root CA"

# ---- §3 Option A: credentials ------------------------------------------------------------------
check "§3A ml/ocsp-responder" qpki credential enroll --ca-dir ./ca --cred-dir ./credentials \
    --profile ml/ocsp-responder --var cn=pqc-ocsp.example.com --id pqc-ocsp-responder
check "§3A hybrid/catalyst/ocsp-responder" qpki credential enroll --ca-dir ./ca --cred-dir ./credentials \
    --profile hybrid/catalyst/ocsp-responder --var cn=hybrid-ocsp.example.com --id hybrid-ocsp-responder
H=credentials/hybrid-ocsp-responder
[ -e "$H/hybrid-ocsp-responder.key" ] && [ -e "$H/hybrid-ocsp-responder.alt.key" ] &&
    ok "  ... <id>.key (classical) and <id>.alt.key (ML-DSA) next to <id>.crt" ||
    fail "  ... credential key files missing"
check "  ... <id>.key is the certificate's key (openssl)" bash -c \
    "[ \"\$($OPENSSL x509 -in $H/hybrid-ocsp-responder.crt -noout -pubkey)\" = \"\$($OPENSSL pkey -in $H/hybrid-ocsp-responder.key -pubout)\" ]"
check "  ... openssl verify (classical chain)" "$OPENSSL" verify -CAfile ca/ca.crt "$H/hybrid-ocsp-responder.crt"

# ---- ocsp sign / verify / info -------------------------------------------------------------------
check "Catalyst response" qpki ocsp sign --serial 0A1B2C3D --status good \
    --ca ca/ca.crt --credential hybrid-ocsp-responder --out hybrid.ocsp
expect_grep "  ... both algorithms" "ecdsa-with-SHA384 \+ ML-DSA-65" "$last_out"
check "ocsp verify" qpki ocsp verify --response hybrid.ocsp --ca ca/ca.crt
expect_grep "  ... classical: OK, post-quantum: OK" "^Signatures: classical: OK, post-quantum: OK" "$last_out"
expect_grep "  ... the responder certificate too" "^Responder certificate: post-quantum signature by the CA: OK" "$last_out"
check "ocsp verify --require-pq" qpki ocsp verify --response hybrid.ocsp --ca ca/ca.crt --require-pq
ossl_ocsp hybrid.ocsp ca/ca.crt 0A1B2C3D || true
expect_grep "openssl ocsp -respin: Response verify OK" "^Response verify OK" "$TMP/.ossl"
check "ocsp info" qpki ocsp info hybrid.ocsp
expect_grep "  ... signature algorithm" "Signature Algorithm: ecdsa-with-SHA384" "$last_out"
expect_grep "  ... alternative algorithm" "Alternative Signature Algorithm \(Catalyst\): ML-DSA-65" "$last_out"
expect_grep "  ... alternative size" "Alternative Signature: 3309 bytes" "$last_out"
expect_grep "  ... response size" "^Response size: [0-9]+ bytes" "$last_out"

check "pure ML-DSA response" qpki ocsp sign --serial 0A1B2C3D --status revoked \
    --revocation-time "2024-01-15T10:00:00Z" --revocation-reason keyCompromise \
    --ca ca/ca.crt --credential pqc-ocsp-responder --out pqc.ocsp
check "ocsp verify --require-pq (pure ML-DSA)" qpki ocsp verify --response pqc.ocsp --ca ca/ca.crt --require-pq
expect_grep "  ... post-quantum: OK (ML-DSA-65)" "^Signatures: post-quantum: OK \(ML-DSA-65\)" "$last_out"
expect_grep "  ... revoked" "^0A1B2C3D: revoked" "$last_out"
check "ocsp info (pure ML-DSA)" qpki ocsp info pqc.ocsp
expect_grep "  ... ML-DSA-65, 3309 bytes" "Signature: 3309 bytes" "$last_out"

# --require-pq means the whole path: a Catalyst responder certified by a classical CA
check "classical CA" qpki ca init --ca-dir ./eca --var cn="Classical CA"
check "Catalyst responder certified by it (classical signature only)" qpki credential enroll \
    --ca-dir ./eca --cred-dir ./credentials --profile hybrid/catalyst/ocsp-responder \
    --var cn=unchained.example.com --id unchained
check "its Catalyst response" qpki ocsp sign --serial 0A1B2C3D --status good --ca eca/ca.crt \
    --credential unchained --out unchained.ocsp
expect_rc 1 "--require-pq refuses the classical link CA -> responder" qpki ocsp verify \
    --response unchained.ocsp --ca eca/ca.crt --require-pq
expect_grep "  ... naming the link" "the link CA -> responder certificate CN=unchained.example.com is classical only \(ecdsa-with-SHA384" "$last_out"
expect_rc 1 "--require-pq=path is the same" qpki ocsp verify --response unchained.ocsp --ca eca/ca.crt \
    --require-pq=path
check "--require-pq=response checks the response alone" qpki ocsp verify --response unchained.ocsp \
    --ca eca/ca.crt --require-pq=response
expect_grep "  ... and warns about the link" "carries only a classical signature by the CA" "$last_out"
expect_rc 2 "--require-pq=other is a usage error" qpki ocsp verify --response unchained.ocsp \
    --ca eca/ca.crt --require-pq=other
"$OPENSSL" ocsp -respin unchained.ocsp -CAfile eca/ca.crt -issuer eca/ca.crt -serial 0x0A1B2C3D >"$TMP/.ossl" 2>&1 || true
expect_grep "  ... openssl: the response itself is fine classically" "^Response verify OK" "$TMP/.ossl"

check "CA-signed classical response" qpki ocsp sign --serial 01 --status good --ca ca/ca.crt \
    --cert ca/ca.crt --key ca/ca.key --out classic.ocsp
check "ocsp verify (classical only)" qpki ocsp verify --response classic.ocsp --ca ca/ca.crt
expect_grep "  ... post-quantum: none" "post-quantum: none" "$last_out"
expect_rc 1 "--require-pq without a PQ signature" qpki ocsp verify --response classic.ocsp --ca ca/ca.crt --require-pq
check "CA-signed Catalyst response (--alt-key)" qpki ocsp sign --serial 01 --status good --ca ca/ca.crt \
    --cert ca/ca.crt --key ca/ca.key --alt-key ca/ca.alt.key --out ca-hybrid.ocsp
check "  ... verifies with --require-pq" qpki ocsp verify --response ca-hybrid.ocsp --ca ca/ca.crt --require-pq

# a wrong post-quantum signature: flip one bit in the last octet (the end of
# altSignatureValue, which the classical signature covers too)
$PY - hybrid.ocsp tampered.ocsp <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
# altSignatureValue is the last responseExtension: find its OID 55 1d 4a
i = d.find(bytes.fromhex('0603551d4a'))
d[i + 40] ^= 0x01
open(sys.argv[2], 'wb').write(bytes(d))
EOF
expect_rc 1 "a tampered Catalyst response fails" qpki ocsp verify --response tampered.ocsp --ca ca/ca.crt
expect_rc 1 "  ... and with --require-pq" qpki ocsp verify --response tampered.ocsp --ca ca/ca.crt --require-pq

# ---- §3 Option B: CSRs -------------------------------------------------------------------------
check "§3B ML-DSA key" qpki key gen --algo ml-dsa-65 --out pqc-responder.key
check "§3B ML-DSA csr create" qpki csr create --key pqc-responder.key --cn pqc.example.com --out pqc-responder.csr
check "§3B cert issue ml/ocsp-responder" qpki cert issue --ca-dir ./mlca --profile ml/ocsp-responder \
    --csr pqc-responder.csr --out pqc-responder.crt
check "§3B hybrid keys" bash -c "qpki key gen --algo ecdsa-p384 --out hyb.key && qpki key gen --algo ml-dsa-65 --out hyb.alt.key"
check "§3B hybrid csr create --alt-key" qpki csr create --key hyb.key --alt-key hyb.alt.key \
    --cn hyb.example.com --out hyb.csr
check "  ... openssl still verifies the classical CSR signature" "$OPENSSL" req -in hyb.csr -verify -noout
expect_rc 2 "csr create --alt-key with a classical key" qpki csr create --key hyb.key --alt-key hyb.key \
    --cn x --out x.csr
check "§3B cert issue hybrid/catalyst/ocsp-responder" qpki cert issue --ca-dir ./ca \
    --profile hybrid/catalyst/ocsp-responder --csr hyb.csr --out hyb.crt
expect_rc 2 "a hybrid profile refuses a CSR without the alternative key" qpki cert issue --ca-dir ./ca \
    --profile hybrid/catalyst/ocsp-responder --csr pqc-responder.csr --out no.crt
check "ocsp sign --cert/--key/--alt-key" qpki ocsp sign --serial 02 --status good --ca ca/ca.crt \
    --cert hyb.crt --key hyb.key --alt-key hyb.alt.key --out hyb.ocsp
check "  ... verify --require-pq" qpki ocsp verify --response hyb.ocsp --ca ca/ca.crt --require-pq
expect_grep "  ... classical: OK, post-quantum: OK" "classical: OK, post-quantum: OK" "$last_out"

# ---- ocsp serve ----------------------------------------------------------------------------------
if qpki ocsp serve --help >/dev/null 2>&1; then
    # the Catalyst CA answering itself (no credential): ca.key and ca.alt.key
    P=$(free_port)
    qpki ocsp serve --port "$P" --ca-dir ./ca >serve0.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do grep -q "msg=listening" serve0.log && break; sleep 0.1; done
    check "serve a Catalyst CA's own keys: ocsp request --url --require-pq" \
        qpki ocsp request --ca ca/ca.crt --cert hyb.crt --url "http://127.0.0.1:$P" --require-pq \
        --out ca-served.ocsp
    expect_grep "  ... classical: OK, post-quantum: OK" "classical: OK, post-quantum: OK" "$last_out"
    "$OPENSSL" ocsp -respin ca-served.ocsp -issuer ca/ca.crt -cert hyb.crt -CAfile ca/ca.crt \
        >"$TMP/.ossl" 2>&1 || true
    expect_grep "  ... openssl: Response verify OK" "^Response verify OK" "$TMP/.ossl"
    # the ML-DSA signature by an independent implementation (@noble/post-quantum),
    # key from the CA certificate's altSubjectPublicKeyInfo; a changed byte of
    # altSignatureValue must come out invalid
    NOBLE=$(sh "$HERE/../interop/noble.sh") && export NOBLE
    $PY -c "import sys; d=bytearray(open('ca-served.ocsp','rb').read()); i=d.rfind(bytes.fromhex('551d4a')); d[i+40]^=1; open('ca-served-bad.ocsp','wb').write(d)"
    printf 'alt-resp ca-served.ocsp ca/ca.crt valid\nalt-resp ca-served-bad.ocsp ca/ca.crt invalid\n' >noble-ca.txt
    check "  ... noble: the ML-DSA signature valid, a changed one invalid" \
        node "$HERE/../interop/pq_x509_noble.mjs" noble-ca.txt
    check "stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
    P=$(free_port)
    qpki ocsp serve --port "$P" --ca-dir ./ca --credential hybrid-ocsp-responder >serve.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do grep -q "msg=listening" serve.log && break; sleep 0.1; done
    check "serve a Catalyst credential: ocsp request --url --require-pq" \
        qpki ocsp request --ca ca/ca.crt --cert hyb.crt --url "http://127.0.0.1:$P" --require-pq
    expect_grep "  ... classical: OK, post-quantum: OK" "classical: OK, post-quantum: OK" "$last_out"
    "$OPENSSL" ocsp -issuer ca/ca.crt -cert hyb.crt -url "http://127.0.0.1:$P" -CAfile ca/ca.crt \
        >"$TMP/.ossl" 2>&1 || true
    expect_grep "openssl ocsp -url: Response verify OK" "^Response verify OK" "$TMP/.ossl"
    expect_grep "openssl ocsp -url: good" "hyb.crt: good" "$TMP/.ossl"
    # rotate to new keys (both) and activate: the server switches both keys
    OLD=$("$OPENSSL" x509 -in "$H/hybrid-ocsp-responder.crt" -noout -serial | cut -d= -f2)
    check "credential rotate (Catalyst)" qpki credential rotate hybrid-ocsp-responder --ca-dir ./ca
    check "credential activate v2" qpki credential activate hybrid-ocsp-responder --version v2
    NEW=$("$OPENSSL" x509 -in "$H/hybrid-ocsp-responder.crt" -noout -serial | cut -d= -f2)
    [ "$OLD" != "$NEW" ] && ok "  ... new responder certificate $NEW" || fail "  ... same certificate"
    switched=0
    for _ in $(seq 100); do
        if qpki ocsp request --ca ca/ca.crt --cert hyb.crt --url "http://127.0.0.1:$P" --post \
            --require-pq --out new.ocsp >"$TMP/.out" 2>&1; then
            "$OPENSSL" ocsp -respin new.ocsp -noverify -resp_text 2>/dev/null | grep -qi "$NEW" && { switched=1; break; }
        fi
        sleep 0.1
    done
    [ $switched = 1 ] && ok "  ... serve signs with the v2 certificate and its ML-DSA key (--require-pq)" ||
        { fail "  ... serve did not switch to v2"; out; }
    check "stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true

    # RFC 6960 §4.4.7: two keys for one CA; the first is the default
    P=$(free_port)
    qpki ocsp serve --port "$P" --ca-dir ./ca --credential hybrid-ocsp-responder \
        --credential pqc-ocsp-responder >serve2.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do grep -q "msg=listening" serve2.log && break; sleep 0.1; done
    "$OPENSSL" ocsp -issuer ca/ca.crt -cert hyb.crt -no_nonce -reqout base.req >/dev/null 2>&1
    # preferred signature algorithms extension added by an independent encoder
    cat >prefreq.py <<'EOF'
import sys
def tlv(tag, body):
    n = len(body)
    l = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + l + body
def span(buf, off):
    n, hdr = buf[off + 1], 2
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(buf[off + 2:off + 2 + k], 'big'); hdr += k
    return off + hdr, off + hdr + n
def oid(dotted):
    p = [int(x) for x in dotted.split('.')]
    out = bytes([40 * p[0] + p[1]])
    for v in p[2:]:
        enc = [v & 0x7f]; v >>= 7
        while v: enc.insert(0, 0x80 | (v & 0x7f)); v >>= 7
        out += bytes(enc)
    return tlv(0x06, out)
req = open(sys.argv[1], 'rb').read()
s, _ = span(req, 0)
ts, te = span(req, s)
# RFC 6960 §4.4.7.1: PreferredSignatureAlgorithms ::= SEQUENCE OF
#   PreferredSignatureAlgorithm { sigIdentifier AlgorithmIdentifier, ... }
prefs = b''.join(tlv(0x30, tlv(0x30, oid(o))) for o in sys.argv[3:])
ext = tlv(0x30, oid('1.3.6.1.5.5.7.48.1.8') + tlv(0x04, tlv(0x30, prefs)))
tbs = req[ts:te] + tlv(0xa2, tlv(0x30, ext))
open(sys.argv[2], 'wb').write(tlv(0x30, tlv(0x30, tbs)))
EOF
    $PY prefreq.py base.req pref-ml.req 2.16.840.1.101.3.4.3.18
    $PY prefreq.py base.req pref-ed.req 1.3.101.113
    $PY prefreq.py base.req pref-both.req 1.3.101.113 2.16.840.1.101.3.4.3.18 1.2.840.10045.4.3.3
    check "  ... openssl parses the preference request" "$OPENSSL" ocsp -reqin pref-ml.req -req_text
    for r in base pref-ml pref-ed pref-both; do
        curl -s --data-binary @$r.req -H 'Content-Type: application/ocsp-request' \
            "http://127.0.0.1:$P/" -o $r.ocsp
    done
    check "no preference: the default key" qpki ocsp verify --response base.ocsp --ca ca/ca.crt --require-pq
    expect_grep "  ... Catalyst (ECDSA + ML-DSA)" "classical: OK, post-quantum: OK \(ecdsa-with-SHA384 \+ ML-DSA-65\)" "$last_out"
    check "prefers ML-DSA-65: ML-DSA-65" qpki ocsp verify --response pref-ml.ocsp --ca ca/ca.crt --require-pq
    expect_grep "  ... signed by the ML-DSA credential" "^Signatures: post-quantum: OK \(ML-DSA-65\)" "$last_out"
    expect_grep "  ... its certificate" "delegated responder CN=pqc-ocsp.example.com" "$last_out"
    check "prefers Ed448 (not offered): the default" qpki ocsp verify --response pref-ed.ocsp --ca ca/ca.crt
    expect_grep "  ... ECDSA + ML-DSA" "ecdsa-with-SHA384 \+ ML-DSA-65" "$last_out"
    check "prefers Ed448, ML-DSA-65, ECDSA: the first offered (ML-DSA-65)" qpki ocsp verify \
        --response pref-both.ocsp --ca ca/ca.crt
    expect_grep "  ... ML-DSA-65" "^Signatures: post-quantum: OK \(ML-DSA-65\)" "$last_out"
    "$OPENSSL" ocsp -respin base.ocsp -CAfile ca/ca.crt -issuer ca/ca.crt -no_nonce >"$TMP/.ossl" 2>&1 || true
    expect_grep "openssl verifies the default (Catalyst) answer" "^Response verify OK" "$TMP/.ossl"
    # our own client: `ocsp request --pref-sig-alg` writes the very bytes of the
    # independent encoder above (same SHA-1 CertID as openssl's, no nonce)
    check "ocsp request --pref-sig-alg ed448 ml-dsa-65 ecdsa-sha384" qpki ocsp request \
        --ca ca/ca.crt --cert hyb.crt --hash sha1 --pref-sig-alg ed448 \
        --pref-sig-alg ML-DSA-65 --pref-sig-alg ecdsa-sha384 --out q-both.req
    check "  ... byte for byte the independent encoding" cmp q-both.req pref-both.req
    "$OPENSSL" ocsp -reqin q-both.req -req_text >"$TMP/.ossl" 2>&1 || true
    # OpenSSL 3.0 still names id-pkix-ocsp 8 by its pre-RFC 6960 label
    expect_grep "  ... openssl lists the extension (id-pkix-ocsp 8)" \
        "Preferred Signature Algorithms|Extended OCSP Status" "$TMP/.ossl"
    check "ocsp request --url --pref-sig-alg ml-dsa-65 --require-pq" qpki ocsp request \
        --ca ca/ca.crt --cert hyb.crt --nonce --pref-sig-alg ml-dsa-65 --require-pq \
        --url "http://127.0.0.1:$P" --out q-ml.ocsp
    expect_grep "  ... answered with ML-DSA-65" "post-quantum: OK \(ML-DSA-65\)" "$last_out"
    check "  ... qpki ocsp verify agrees" qpki ocsp verify --response q-ml.ocsp --ca ca/ca.crt \
        --cert hyb.crt --require-pq
    expect_grep "  ... delegated ML-DSA responder" "delegated responder CN=pqc-ocsp.example.com" "$last_out"
    check "ocsp request --url --pref-sig-alg ecdsa-sha384: the Catalyst key" qpki ocsp request \
        --ca ca/ca.crt --cert hyb.crt --pref-sig-alg ecdsa-sha384 --url "http://127.0.0.1:$P"
    expect_grep "  ... ECDSA + ML-DSA" "ecdsa-with-SHA384 \+ ML-DSA-65" "$last_out"
    expect_rc 2 "--pref-sig-alg md5WithRSA: usage error" qpki ocsp request --ca ca/ca.crt \
        --cert hyb.crt --pref-sig-alg md5WithRSA
    expect_grep "  ... names the value" "pref-sig-alg 'md5WithRSA'" "$last_out"
    # the additional credential is watched too: rotate + activate it while serving
    PQ=credentials/pqc-ocsp-responder/pqc-ocsp-responder.crt
    OLD=$("$OPENSSL" x509 -in "$PQ" -noout -serial | cut -d= -f2)
    check "credential rotate + activate the additional (ML-DSA) credential" sh -c \
        'qpki credential rotate pqc-ocsp-responder --ca-dir ./ca &&
         qpki credential activate pqc-ocsp-responder --version v2'
    NEW=$("$OPENSSL" x509 -in "$PQ" -noout -serial | cut -d= -f2)
    [ -n "$NEW" ] && [ "$OLD" != "$NEW" ] && ok "  ... new ML-DSA responder certificate $NEW" ||
        fail "  ... the active certificate did not change ($OLD)"
    switched=0
    for _ in $(seq 100); do
        curl -s --data-binary @pref-ml.req -H 'Content-Type: application/ocsp-request' \
            "http://127.0.0.1:$P/" -o pref-ml2.ocsp
        "$OPENSSL" ocsp -respin pref-ml2.ocsp -noverify -resp_text 2>/dev/null |
            tr -d ':' | grep -qi "$NEW" && { switched=1; break; }
        sleep 0.1
    done
    [ $switched = 1 ] && ok "  ... ML-DSA answers switch to the v2 certificate without a restart" ||
        fail "  ... still the old ML-DSA certificate"
    check "  ... and verify (--require-pq)" qpki ocsp verify --response pref-ml2.ocsp --ca ca/ca.crt \
        --require-pq
    expect_grep "  ... ML-DSA-65" "^Signatures: post-quantum: OK \(ML-DSA-65\)" "$last_out"
    check "  ... the default key still answers (Catalyst)" qpki ocsp request --ca ca/ca.crt \
        --cert hyb.crt --url "http://127.0.0.1:$P" --require-pq
    expect_grep "  ... ECDSA + ML-DSA" "ecdsa-with-SHA384 \+ ML-DSA-65" "$last_out"
    expect_grep "  ... the switch is logged" "additional_keys=reloaded" serve2.log
    check "stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true

    # the same from a YAML configuration (extra_credentials)
    P=$(free_port)
    printf 'port: %s\ncas:\n  - dir: ./ca\n    credential: hybrid-ocsp-responder\n    extra_credentials: pqc-ocsp-responder\n' \
        "$P" >serve.yaml
    qpki ocsp serve --config serve.yaml >serve3.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do grep -q "msg=listening" serve3.log && break; sleep 0.1; done
    curl -s --data-binary @pref-ml.req -H 'Content-Type: application/ocsp-request' \
        "http://127.0.0.1:$P/" -o yaml-ml.ocsp
    check "YAML extra_credentials: ML-DSA-65 when preferred" qpki ocsp verify --response yaml-ml.ocsp \
        --ca ca/ca.crt --require-pq
    expect_grep "  ... ML-DSA-65" "^Signatures: post-quantum: OK \\(ML-DSA-65\\)" "$last_out"
    check "stop" qpki ocsp stop --port "$P"
    wait "$SPID" 2>/dev/null || true
fi

finish
