#!/bin/sh
# tests/data/certs/gen.sh - regenerate the X.509 test certificates with the openssl CLI.
# Run once from this directory; the outputs are committed (see README.md).  The tests
# hard-code values read from these files, so regenerating means updating test_x509.c.
set -eu
DAYS=36500   # 100 years: the fixtures do not expire
umask 077

key() { # key <file> <genpkey args...>
    f=$1; shift
    openssl genpkey "$@" -out "$f"
}

cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ca_path1]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash

[ocsp]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.com, DNS:example.com, IP:192.0.2.1, IP:2001:db8::1, email:admin@example.com, URI:https://example.com/
authorityInfoAccess = OCSP;URI:http://ocsp.example.com/, caIssuers;URI:http://ca.example.com/ca.crt

[unknown_critical]
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = hash
1.3.6.1.4.1.55555.1.1 = critical, DER:0C:05:68:65:6C:6C:6F
1.3.6.1.4.1.55555.1.2 = DER:05:00

[pss]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid:always

[req_san]
subjectAltName = DNS:csr.example.com, IP:198.51.100.7
CNF

# ca <name> <subject> <section> <extra openssl-req args...>
ca() {
    n=$1; subj=$2; sect=$3; shift 3
    openssl req -new -x509 -key "$n.key" -subj "$subj" -days $DAYS -set_serial "$SERIAL" \
        -config ext.cnf -extensions "$sect" "$@" -out "$n.pem"
}
# issue <name> <ca> <subject> <section> <extra openssl-x509 args...>
issue() {
    n=$1; c=$2; subj=$3; sect=$4; shift 4
    openssl req -new -key "$n.key" -subj "$subj" -config ext.cnf -out "$n.csr.tmp"
    openssl x509 -req -in "$n.csr.tmp" -CA "$c.pem" -CAkey "$c.key" -set_serial "$SERIAL" \
        -days $DAYS ${sect:+-extfile ext.cnf -extensions "$sect"} "$@" -out "$n.pem"
    rm -f "$n.csr.tmp"
}

# --- keys
key ec-p256-ca.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key ec-p256-ocsp.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key ec-p256-leaf.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key ec-p384-ca.key -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key ec-p384-ocsp.key -algorithm EC -pkeyopt ec_paramgen_curve:P-384
key ec-p521-ca.key -algorithm EC -pkeyopt ec_paramgen_curve:P-521
key ec-p521-ocsp.key -algorithm EC -pkeyopt ec_paramgen_curve:P-521
key rsa-ca.key -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key rsa-ocsp.key -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key rsa-pss-leaf.key -algorithm RSA -pkeyopt rsa_keygen_bits:2048
key ed25519-ca.key -algorithm ED25519
key ed25519-ocsp.key -algorithm ED25519
key ed448-ca.key -algorithm ED448
key ed448-ocsp.key -algorithm ED448
key x25519-leaf.key -algorithm X25519
key unknown-critical.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key v1-leaf.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256
key negative-serial.key -algorithm EC -pkeyopt ec_paramgen_curve:P-256

# --- CAs (self-signed)
SERIAL=0x01 ca ec-p256-ca "/C=FR/ST=Ile-de-France/L=Paris/O=QPKI Test, Inc./OU=PKI\\+Ops/CN=QPKI Test EC P-256 Root CA" ca -sha256
SERIAL=0x0102030405060708090a0b0c0d0e0f1011121314 ca ec-p384-ca "/C=DE/O=QPKI Test/CN=QPKI Test EC P-384 Root CA" ca -sha384
SERIAL=0x7f ca ec-p521-ca "/C=US/O=QPKI Test/CN=QPKI Test EC P-521 Root CA" ca -sha512
SERIAL=0x00ff ca rsa-ca "/C=GB/O=QPKI Test/OU=RSA/CN=QPKI Test RSA Root CA" ca_path1 -sha256
SERIAL=1000 ca ed25519-ca "/O=QPKI Test/CN=QPKI Test Ed25519 Root CA" ca
SERIAL=1001 ca ed448-ca "/O=QPKI Test/CN=QPKI Test Ed448 Root CA" ca

# --- delegated OCSP responders (EKU OCSPSigning + id-pkix-ocsp-nocheck)
SERIAL=0x1001 issue ec-p256-ocsp ec-p256-ca "/C=FR/O=QPKI Test, Inc./CN=ocsp.example.com" ocsp -sha256
SERIAL=0x1002 issue ec-p384-ocsp ec-p384-ca "/C=DE/O=QPKI Test/CN=ocsp-p384.example.com" ocsp -sha384
SERIAL=0x1003 issue ec-p521-ocsp ec-p521-ca "/C=US/O=QPKI Test/CN=ocsp-p521.example.com" ocsp -sha512
SERIAL=0x1004 issue rsa-ocsp rsa-ca "/C=GB/O=QPKI Test/CN=ocsp-rsa.example.com" ocsp -sha256
SERIAL=0x1005 issue ed25519-ocsp ed25519-ca "/O=QPKI Test/CN=ocsp-ed25519.example.com" ocsp
SERIAL=0x1006 issue ed448-ocsp ed448-ca "/O=QPKI Test/CN=ocsp-ed448.example.com" ocsp

# --- leaves
# multi-valued RDN (CN + serialNumber), emailAddress
openssl req -new -key ec-p256-leaf.key -multivalue-rdn -config ext.cnf -out ec-p256-leaf.csr.tmp \
    -subj "/C=FR/O=QPKI Test, Inc./CN=www.example.com+serialNumber=12345/emailAddress=admin@example.com"
openssl x509 -req -in ec-p256-leaf.csr.tmp -CA ec-p256-ca.pem -CAkey ec-p256-ca.key -set_serial 0x2001 \
    -days $DAYS -extfile ext.cnf -extensions leaf -sha256 -out ec-p256-leaf.pem
rm -f ec-p256-leaf.csr.tmp
# RSASSA-PSS signature (SHA-256, MGF1-SHA-256, salt 32) by the RSA CA
SERIAL=0x2002 issue rsa-pss-leaf rsa-ca "/C=GB/O=QPKI Test/CN=pss.example.com" pss -sha256 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256
# unknown critical extension (must parse; rejection is a path-validation decision)
SERIAL=0x2003 issue unknown-critical ec-p256-ca "/CN=unknown-critical.example.com" unknown_critical -sha256
# X25519 key (an algorithm we do not sign with: parses as QPKI_KEY_UNKNOWN)
openssl pkey -in x25519-leaf.key -pubout -out x25519-leaf.pub
openssl req -new -key ec-p256-leaf.key -subj "/CN=x25519.example.com" -config ext.cnf -out x25519.csr.tmp
openssl x509 -req -in x25519.csr.tmp -force_pubkey x25519-leaf.pub -CA ec-p256-ca.pem \
    -CAkey ec-p256-ca.key -set_serial 0x2004 -days $DAYS -extfile ext.cnf -extensions pss \
    -sha256 -out x25519-leaf.pem
rm -f x25519.csr.tmp x25519-leaf.pub
# version 1 certificate (no extensions at all)
SERIAL=0x2005 issue v1-leaf ec-p256-ca "/CN=v1.example.com" "" -sha256
# negative serial number (broken CAs do this; the parser keeps it exactly)
SERIAL=-0x2a issue negative-serial ec-p256-ca "/CN=negative-serial.example.com" pss -sha256

# --- certificate requests (PKCS#10)
openssl req -new -key ec-p256-leaf.key -subj "/C=FR/O=QPKI Test, Inc./CN=csr.example.com" \
    -config ext.cnf -reqexts req_san -sha256 -out ec-p256.csr
openssl req -new -key ed25519-ocsp.key -subj "/CN=ed25519-csr.example.com" -config ext.cnf -out ed25519.csr

rm -f ext.cnf
