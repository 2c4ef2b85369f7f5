#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What Python `cryptography` (an implementation independent of ours) reads from
CRL files, one block per file:

    file NAME
    version 1|2
    issuer RFC4514
    this_update UNIX  next_update UNIX|-
    number HEX|-  delta_base HEX|-  aki HEX|-
    sig_alg DOTTED-OID
    entries N
    entry SERIAL-HEX REVOCATION-UNIX REASON HOLD INVALIDITY-UNIX   (N lines, in order)

REASON is the RFC 5280 CRLReason code or -1, HOLD the last arc of the hold
instruction OID or 0, INVALIDITY 0 when absent.  With --issuer CERT the
signature is also checked (prints "signature ok").  tests/cli/crl_check.py
imports the readers below."""
import calendar
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
from cryptography.x509.oid import ExtensionOID

CODES = {
    "unspecified": 0, "key_compromise": 1, "ca_compromise": 2, "affiliation_changed": 3,
    "superseded": 4, "cessation_of_operation": 5, "certificate_hold": 6,
    "remove_from_crl": 8, "privilege_withdrawn": 9, "aa_compromise": 10,
}
HOLD_PREFIX = bytes.fromhex("06072a8648ce3802")  # OBJECT IDENTIFIER 1.2.840.10040.2.x


def ts(dt):
    return calendar.timegm(dt.utctimetuple())


def load(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def ext(crl, oid):
    try:
        return crl.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def number(crl, oid):
    """cRLNumber (ExtensionOID.CRL_NUMBER) or BaseCRLNumber (DELTA_CRL_INDICATOR)."""
    v = ext(crl, oid)
    return v.crl_number if v else None


def entries(crl):
    """[(serial, revocation time, reason, hold, invalidity)] in CRL order."""
    out = []
    for r in crl:
        reason, hold, inv = -1, 0, 0
        for e in r.extensions:
            if isinstance(e.value, x509.CRLReason):
                reason = CODES[e.value.reason.name]
            elif isinstance(e.value, x509.InvalidityDate):
                inv = ts(e.value.invalidity_date)
            elif e.oid.dotted_string == "2.5.29.23":
                der = e.value.value
                assert der[:-1] == HOLD_PREFIX, der.hex()
                hold = der[-1]
        out.append((r.serial_number, ts(r.revocation_date), reason, hold, inv))
    return out


def signature_ok(crl, issuer_path):
    key = x509.load_pem_x509_certificate(open(issuer_path, "rb").read()).public_key()
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        # cryptography 38's is_signature_valid knows RSA, DSA and ECDSA only
        try:
            key.verify(crl.signature, crl.tbs_certlist_bytes)
            return True
        except InvalidSignature:
            return False
    return crl.is_signature_valid(key)


def dump(path, issuer=None):
    crl = load(path)
    print("file", path.rsplit("/", 1)[-1])
    # cryptography has no version accessor: v2 is what carries extensions
    tbs = crl.tbs_certlist_bytes
    hdr = 2 + (tbs[1] & 0x7f if tbs[1] & 0x80 else 0)
    print("version", 2 if tbs[hdr] == 0x02 else 1)
    print("issuer", crl.issuer.rfc4514_string())
    print("this_update", ts(crl.last_update))
    print("next_update", ts(crl.next_update) if crl.next_update else "-")
    num = number(crl, ExtensionOID.CRL_NUMBER)
    print("number", format(num, "X") if num is not None else "-")
    base = number(crl, ExtensionOID.DELTA_CRL_INDICATOR)
    print("delta_base", format(base, "X") if base is not None else "-")
    aki = ext(crl, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    print("aki", aki.key_identifier.hex() if aki and aki.key_identifier else "-")
    print("sig_alg", crl.signature_algorithm_oid.dotted_string)
    es = entries(crl)
    print("entries", len(es))
    for serial, rt, reason, hold, inv in es:
        print("entry", format(serial, "X"), rt, reason, hold, inv)
    if issuer:
        print("signature", "ok" if signature_ok(crl, issuer) else "BAD")


if __name__ == "__main__":
    args = sys.argv[1:]
    issuer = None
    if args and args[0] == "--issuer":
        issuer = args[1]
        args = args[2:]
    for p in args:
        dump(p, issuer)
