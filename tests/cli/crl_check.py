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
import os
import sys

from cryptography.x509.oid import ExtensionOID

# the CRL readers of tests/data/crl/crl_dump.py (Python cryptography)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "crl"))
from crl_dump import entries as crl_entries, load, number, signature_ok  # noqa: E402

CODES = {
    "unspecified": 0, "keycompromise": 1, "cacompromise": 2, "affiliationchanged": 3,
    "superseded": 4, "cessationofoperation": 5, "certificatehold": 6, "removefromcrl": 8,
    "privilegewithdrawn": 9, "aacompromise": 10,
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


def entries(crl):
    out = {}
    for serial, rt, reason, hold, inv in crl_entries(crl):
        assert serial not in out, "serial %x twice" % serial
        out[serial] = (rt, reason, hold, inv)
    return out


def main():
    args = sys.argv[1:]
    base_path = None
    if "--base" in args:
        i = args.index("--base")
        base_path = args[i + 1]
        del args[i:i + 2]
    crl_path, ca_path, index_path = args
    crl = load(crl_path)
    if not signature_ok(crl, ca_path):
        sys.exit("signature does not verify")
    this_update = calendar.timegm(crl.last_update.utctimetuple())
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
