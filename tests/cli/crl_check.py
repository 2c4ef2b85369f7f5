#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of a CRL written by `qpki crl gen` (tests/cli/crl.sh), with
Python `cryptography`: the signature verifies with the CA certificate, and the
entries are exactly what the CA directory's index.txt says, read here with our
own reading of OpenSSL's format (no code shared with lib/).

    crl_check.py CRL CA_CERT INDEX [--base BASE_CRL]

Complete CRL: one entry per R row that has not expired at thisUpdate (and is not
recorded as removeFromCRL), with its revocation time, reasonCode, hold
instruction and invalidity date (keyTime / CAkeyTime).  With --base, a delta
CRL: deltaCRLIndicator = the base's cRLNumber, the entries that are new or
changed against the base, and removeFromCRL for the base's entries that are no
longer revoked.  Prints "match: N entries" and exits 0, or prints the
difference and exits 1."""
import calendar
import datetime
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
from cryptography.x509.oid import ExtensionOID

CODES = {
    "unspecified": 0, "keycompromise": 1, "cacompromise": 2, "affiliationchanged": 3,
    "superseded": 4, "cessationofoperation": 5, "certificatehold": 6, "removefromcrl": 8,
    "privilegewithdrawn": 9, "aacompromise": 10,
}
PY_CODES = {
    "unspecified": 0, "key_compromise": 1, "ca_compromise": 2, "affiliation_changed": 3,
    "superseded": 4, "cessation_of_operation": 5, "certificate_hold": 6,
    "remove_from_crl": 8, "privilege_withdrawn": 9, "aa_compromise": 10,
}
HOLDS = {"holdinstructionnone": 1, "holdinstructioncallissuer": 2, "holdinstructionreject": 3}


def t(text):
    """ASN.1 time text of index.txt -> Unix seconds."""
    if len(text) == 13:
        yy = int(text[:2])
        text = ("19" if yy >= 50 else "20") + text
    return calendar.timegm(datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ").timetuple())


def index_rows(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 6 or f[0] != "R":
            continue
        rev = f[2].split(",")
        reason, hold, inv = -1, 0, 0
        if len(rev) > 1:
            name = rev[1].lower()
            if name == "holdinstruction":
                reason, hold = 6, HOLDS[rev[2].lower()]
            elif name in ("keytime", "cakeytime"):
                reason, inv = (1 if name == "keytime" else 2), t(rev[2])
            else:
                reason = CODES[name]
        rows[int(f[3], 16)] = {"expiry": t(f[1]), "rev": t(rev[0]), "reason": reason,
                               "hold": hold, "inv": inv}
    return rows


def ts(dt):
    return calendar.timegm(dt.utctimetuple())


def load(path):
    data = open(path, "rb").read()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def entries(crl):
    out = {}
    for r in crl:
        reason, hold, inv = -1, 0, 0
        for e in r.extensions:
            if isinstance(e.value, x509.CRLReason):
                reason = PY_CODES[e.value.reason.name]
            elif isinstance(e.value, x509.InvalidityDate):
                inv = ts(e.value.invalidity_date)
            elif e.oid.dotted_string == "2.5.29.23":
                hold = e.value.value[-1]
        assert r.serial_number not in out, "serial %x twice" % r.serial_number
        out[r.serial_number] = (ts(r.revocation_date), reason, hold, inv)
    return out


def number(crl, oid):
    try:
        return crl.extensions.get_extension_for_oid(oid).value.crl_number
    except x509.ExtensionNotFound:
        return None


def main():
    args = sys.argv[1:]
    base_path = None
    if "--base" in args:
        i = args.index("--base")
        base_path = args[i + 1]
        del args[i:i + 2]
    crl_path, ca_path, index_path = args
    crl = load(crl_path)
    key = x509.load_pem_x509_certificate(open(ca_path, "rb").read()).public_key()
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        try:
            key.verify(crl.signature, crl.tbs_certlist_bytes)
        except InvalidSignature:
            sys.exit("signature does not verify")
    elif not crl.is_signature_valid(key):
        sys.exit("signature does not verify")
    this_update = ts(crl.last_update)
    rows = index_rows(index_path)
    want = {}
    for serial, r in rows.items():
        if r["reason"] != 8 and r["expiry"] > this_update:
            want[serial] = (r["rev"], r["reason"], r["hold"], r["inv"])
    got = entries(crl)
    if base_path:
        base = load(base_path)
        if number(crl, ExtensionOID.DELTA_CRL_INDICATOR) != number(base, ExtensionOID.CRL_NUMBER):
            sys.exit("deltaCRLIndicator is not the base's cRLNumber")
        before = entries(base)
        delta = {s: v for s, v in want.items() if before.get(s) != v}
        for s in before:
            r = rows.get(s)
            if s in want or (r and r["reason"] != 8 and r["expiry"] <= this_update):
                continue
            # removeFromCRL: the entry's time is the removal's, taken as written
            got_entry = got.get(s)
            delta[s] = (got_entry[0] if got_entry else None, 8, 0, 0)
        want = delta
    elif number(crl, ExtensionOID.DELTA_CRL_INDICATOR) is not None:
        sys.exit("a complete CRL with a deltaCRLIndicator")
    if got != want:
        for s in sorted(set(got) | set(want)):
            if got.get(s) != want.get(s):
                print("serial %X: CRL has %s, index says %s" % (s, got.get(s), want.get(s)))
        sys.exit(1)
    print("match: %d entries, cRLNumber %s" % (len(got), number(crl, ExtensionOID.CRL_NUMBER)))


main()
