#!/usr/bin/env bash
# Regenerates the OCSP test fixtures with OpenSSL (run from this directory).
# Everything here is test data made by `openssl`, an independent implementation:
#   ca.crt/ca.key            EC P-256 root CA ("Test OCSP CA"), 100-year validity
#   responder.crt/.key       delegated responder: EKU OCSPSigning + ocsp-nocheck
#   responder-ed.crt/.key    a second delegated responder with an Ed25519 key
#   noeku.crt/.key           CA-issued cert WITHOUT the OCSPSigning EKU
#   leaf1.crt leaf2.crt      leaves with serials 0x1001 and 0x1002 (leaf2 revoked)
#   other-ca.crt/.key        an unrelated CA
#   index.txt                openssl ca style database for the leaves
#   req-*.der                requests made by `openssl ocsp -reqout`
#   resp-*.der               responses made by `openssl ocsp -index ... -respout` (byName unless -bykey)
set -euo pipefail
rm -f ./*.crt ./*.key ./*.der ./*.csr index.txt* serial* ./*.cnf
days=36500
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
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[noeku]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
CNF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key; key responder.key; key noeku.key; key leaf.key; key other-ca.key
openssl req -x509 -new -key ca.key -subj "/CN=Test OCSP CA/O=libqpki-ocsp tests" -days $days \
  -set_serial 1 -sha256 -extensions ca -config ext.cnf -out ca.crt 2>/dev/null ||
openssl req -x509 -new -key ca.key -subj "/CN=Test OCSP CA/O=libqpki-ocsp tests" -days $days \
  -set_serial 1 -sha256 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature -out ca.crt
openssl req -x509 -new -key other-ca.key -subj "/CN=Other CA" -days $days -set_serial 1 \
  -sha256 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out other-ca.crt
issue() { # key subject serial ext out
  openssl req -new -key "$1" -subj "$2" -out tmp.csr
  openssl x509 -req -in tmp.csr -CA ca.crt -CAkey ca.key -set_serial "$3" -days $days -sha256 \
    -extfile ext.cnf -extensions "$4" -out "$5" 2>/dev/null
  rm -f tmp.csr
}
issue responder.key "/CN=Test OCSP Responder" 0x0100 ocsp responder.crt
issue noeku.key "/CN=Not A Responder" 0x0101 noeku noeku.crt
openssl genpkey -algorithm ED25519 -out responder-ed.key
issue responder-ed.key "/CN=Test OCSP Responder Ed25519" 0x0102 ocsp responder-ed.crt
issue leaf.key "/CN=leaf1.example.com" 0x1001 leaf leaf1.crt
issue leaf.key "/CN=leaf2.example.com" 0x1002 leaf leaf2.crt
exp=$(openssl x509 -in leaf1.crt -noout -enddate | sed 's/notAfter=//')
expiry=$(date -u -d "$exp" +%Y%m%d%H%M%SZ)
printf 'V\t%s\t\t1001\tunknown\t/CN=leaf1.example.com\n' "$expiry" > index.txt
printf 'R\t%s\t240115100000Z,keyCompromise\t1002\tunknown\t/CN=leaf2.example.com\n' "$expiry" >> index.txt
printf 'E\t200101000000Z\t\t1003\tunknown\t/CN=expired.example.com\n' >> index.txt
printf 'V\t200101000000Z\t\t1004\tunknown\t/CN=past-expiry.example.com\n' >> index.txt
# requests
openssl ocsp -issuer ca.crt -cert leaf1.crt -no_nonce -reqout req-sha1-nononce.der
openssl ocsp -issuer ca.crt -cert leaf1.crt -reqout req-sha1-nonce.der
openssl ocsp -issuer ca.crt -sha256 -cert leaf1.crt -no_nonce -reqout req-sha256-nononce.der
openssl ocsp -issuer ca.crt -cert leaf1.crt -cert leaf2.crt -reqout req-two.der
openssl ocsp -issuer other-ca.crt -serial 0x1001 -no_nonce -reqout req-foreign.der
openssl ocsp -issuer ca.crt -cert leaf1.crt -no_nonce -signer responder.crt -signkey responder.key -reqout req-signed.der
# responses by openssl's responder
resp() { # request out [extra args]
  local req=$1 out=$2; shift 2
  openssl ocsp -index index.txt -CA ca.crt -rsigner responder.crt -rkey responder.key -ndays 36000 \
    -reqin "$req" -respout "$out" "$@" >/dev/null 2>&1
}
resp req-sha1-nononce.der resp-good.der
resp req-sha1-nonce.der resp-good-nonce.der
resp req-two.der resp-two.der
openssl ocsp -issuer ca.crt -cert leaf2.crt -no_nonce -reqout tmp.der
resp tmp.der resp-revoked.der
resp req-sha1-nononce.der resp-good-bykey.der -resp_key_id
openssl ocsp -index index.txt -CA ca.crt -rsigner ca.crt -rkey ca.key -ndays 36000 \
  -reqin req-sha1-nononce.der -respout resp-good-casigned.der >/dev/null 2>&1
openssl ocsp -index index.txt -CA ca.crt -rsigner noeku.crt -rkey noeku.key -ndays 36000 \
  -reqin req-sha1-nononce.der -respout resp-noeku.der >/dev/null 2>&1
# a stale response: validity of 1 minute from now would still be fresh, so use -nmin 0? -> nextUpdate absent
openssl ocsp -index index.txt -CA ca.crt -rsigner responder.crt -rkey responder.key \
  -reqin req-sha1-nononce.der -respout resp-no-nextupdate.der >/dev/null 2>&1
rm -f tmp.der ext.cnf leaf.key
echo "fixtures regenerated"
