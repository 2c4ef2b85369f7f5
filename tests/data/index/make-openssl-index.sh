#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build a small OpenSSL CA in DIR with `openssl ca` and leave its index.txt, its
# issued certificates (DIR/newcerts) and a CRL (DIR/crl.pem) there.  Every
# revocation variant `openssl ca` can write is used once.  tests/unit/test_db.c
# runs this at test time (to catch format drift) and the committed
# tests/data/index/openssl/index.txt was produced by it (see README.md).
set -eu
dir=$1
mkdir -p "$dir/newcerts"
cd "$dir"
: > index.txt
echo 01 > serial
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
default_md = sha256
default_days = 365
default_crl_days = 1
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
organizationName = optional
CNF
q() { "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout ca.key -out ca.crt -subj "/CN=Index Test CA" -days 3650
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout leaf.key -out leaf.csr -subj "/O=Example Org/CN=leaf with spaces"
n=0
# issue [openssl ca options...]: issue one certificate, named c<N>.pem
issue() { n=$((n + 1)); q openssl ca -batch -config ca.cnf -notext -in leaf.csr -out "c$n.pem" "$@"; }
revoke() { f=$1; shift; q openssl ca -config ca.cnf -revoke "$f" "$@"; }

issue                                       # 01 valid
for reason in unspecified keyCompromise CACompromise affiliationChanged superseded \
              cessationOfOperation certificateHold removeFromCRL; do
    issue; revoke "c$n.pem" -crl_reason "$reason"  # 02 .. 09
done
issue; revoke "c$n.pem" -crl_hold holdInstructionReject          # 0A
issue; revoke "c$n.pem" -crl_hold holdInstructionCallIssuer      # 0B
issue; revoke "c$n.pem" -crl_hold holdInstructionNone            # 0C
issue; revoke "c$n.pem" -crl_compromise 20240115100000Z          # 0D
issue; revoke "c$n.pem" -crl_CA_compromise 20230101000000Z       # 0E
issue; revoke "c$n.pem"                                          # 0F no reason
issue -startdate 20200101000000Z -enddate 20210101000000Z        # 10 expired ...
q openssl ca -config ca.cnf -updatedb                             # ... marked E
issue -startdate 20200101000000Z -enddate 20210101000000Z        # 11 expired, still V
issue -enddate 20550101000000Z                                   # 12 GeneralizedTime expiry
revoke "c$n.pem" -crl_reason superseded
echo 8000000000000000000000000000000000000001 > serial
issue                                                            # 20 octets, high bit set
q openssl ca -config ca.cnf -gencrl -out crl.pem
