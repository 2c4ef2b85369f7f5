#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Make the CRL fixtures of tests/unit/test_crl.c with `openssl ca -gencrl` (OpenSSL
# 3.0, Debian 12) from the CA keys in ../certs, and write what Python
# `cryptography` reads from each into expected.txt (crl_dump.py).  Run from this
# directory; the outputs are committed (see README.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../certs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# One index for every CA: reasons, the three hold instructions, keyTime /
# CAkeyTime (invalidity dates), no reason, a valid row and a 20-octet serial.
printf '%s\n' \
  "V	21260101000000Z		1001	unknown	/CN=valid" \
  "R	21260101000000Z	260301120000Z,keyCompromise	1002	unknown	/CN=key compromise" \
  "R	21260101000000Z	260302120000Z,CACompromise	1003	unknown	/CN=ca compromise" \
  "R	21260101000000Z	260303120000Z,superseded	1004	unknown	/CN=superseded" \
  "R	21260101000000Z	260304120000Z,cessationOfOperation	1005	unknown	/CN=cessation" \
  "R	21260101000000Z	260305120000Z,holdInstruction,holdInstructionReject	1006	unknown	/CN=hold reject" \
  "R	21260101000000Z	260306120000Z,holdInstruction,holdInstructionCallIssuer	1007	unknown	/CN=hold call" \
  "R	21260101000000Z	260307120000Z,keyTime,20260201000000Z	1008	unknown	/CN=key time" \
  "R	21260101000000Z	260308120000Z,CAkeyTime,20251231235959Z	1009	unknown	/CN=ca key time" \
  "R	21260101000000Z	260309120000Z	100A	unknown	/CN=no reason" \
  "R	21260101000000Z	260310120000Z,affiliationChanged	8000000000000000000000000000000000000001	unknown	/CN=long serial" \
  > index.txt
# The delta: two more revocations after the base.
sed -e 's/^V\t21260101000000Z\t\t1001/R\t21260101000000Z\t260320120000Z,keyCompromise\t1001/' index.txt > index-delta.txt
printf '%s\n' "R	21260101000000Z	260321120000Z,keyTime,20260315000000Z	100B	unknown	/CN=later" >> index-delta.txt
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid
[ delta_ext ]
authorityKeyIdentifier = keyid
deltaCRL = critical, ASN1:INTEGER:16
CNF
gen() { # gen CA-BASENAME OUT [openssl ca options...]
  ca=$1; out=$2; shift 2
  cp "$certs/$ca.pem" ca.crt; cp "$certs/$ca.key" ca.key
  openssl ca -config ca.cnf -gencrl -crl_lastupdate 20260401000000Z \
    -crl_nextupdate 21260401000000Z -out "$here/$out" "$@" 2>/dev/null
}
echo 10 > crlnumber; gen ec-p256-ca ec-p256.crl.pem
echo 11 > crlnumber; gen rsa-ca rsa.crl.pem
echo 12 > crlnumber; gen rsa-ca rsa-pss.crl.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
echo 13 > crlnumber; gen ed25519-ca ed25519.crl.pem -md default
echo 14 > crlnumber; gen ec-p384-ca ec-p384.crl.pem -md sha384
cp index-delta.txt index.txt
echo 20 > crlnumber; gen ec-p256-ca ec-p256-delta.crl.pem -crlexts delta_ext
# A v1 CRL (no extensions at all) with the first two rows.
head -2 index-delta.txt | sed 's/,keyCompromise//' > index.txt
echo 30 > crlnumber; sed -i 's/^crl_extensions = crl_ext$//; s/^crlnumber = .*//' ca.cnf
gen ec-p256-ca ec-p256-v1.crl.pem
cd "$here"
/usr/bin/python3 crl_dump.py *.crl.pem > expected.txt
