#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent reading of what make-openssl-index.sh produced: the issued
certificates and the CRL `openssl ca -gencrl` built from the index, decoded with
Python `cryptography`.  Prints one line per certificate:

    SERIAL NOT_AFTER REVOKED REVOCATION_TIME REASON HOLD INVALIDITY

SERIAL in upper-case hex, times as Unix seconds (0 when absent), REVOKED 1/0,
REASON the RFC 5280 CRLReason code (-1 when the entry has none), HOLD the last
arc of the hold instruction OID (0 when absent)."""
import calendar
import glob
import sys

from cryptography import x509

CODES = {
    "unspecified": 0, "key_compromise": 1, "ca_compromise": 2, "affiliation_changed": 3,
    "superseded": 4, "cessation_of_operation": 5, "certificate_hold": 6,
    "remove_from_crl": 8, "privilege_withdrawn": 9, "aa_compromise": 10,
}
HOLD_INSTRUCTION_CODE = "2.5.29.23"
HOLD_PREFIX = bytes.fromhex("06072a8648ce3802")  # OBJECT IDENTIFIER 1.2.840.10040.2.x


def ts(dt):
    return calendar.timegm(dt.utctimetuple())


def main(d):
    revoked = {}
    with open(d + "/crl.pem", "rb") as f:
        crl = x509.load_pem_x509_crl(f.read())
    for r in crl:
        reason, hold, inv = -1, 0, 0
        for ext in r.extensions:
            if isinstance(ext.value, x509.CRLReason):
                reason = CODES[ext.value.reason.name]
            elif isinstance(ext.value, x509.InvalidityDate):
                inv = ts(ext.value.invalidity_date)
            elif ext.oid.dotted_string == HOLD_INSTRUCTION_CODE:
                der = ext.value.value
                assert der[:-1] == HOLD_PREFIX, der.hex()
                hold = der[-1]
        revoked[r.serial_number] = (ts(r.revocation_date), reason, hold, inv)
    for path in sorted(glob.glob(d + "/newcerts/*.pem")):
        with open(path, "rb") as f:
            c = x509.load_pem_x509_certificate(f.read())
        rt, reason, hold, inv = revoked.get(c.serial_number, (0, -1, 0, 0))
        print("%X %d %d %d %d %d %d" % (c.serial_number, ts(c.not_valid_after),
                                        1 if c.serial_number in revoked else 0,
                                        rt, reason, hold, inv))


main(sys.argv[1])
