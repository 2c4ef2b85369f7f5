#!/usr/bin/python3
"""Independent check of OCSP responses with Python `cryptography`.

Reads a manifest (one JSON object per line) describing what each response must
contain, loads the response with cryptography's OCSP loader, compares every field
and verifies the signature with the responder's public key.  Prints one line per
failure and a summary; exits 1 if anything differs.
"""
import datetime, json, sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

REASONS = {x.name: x for x in x509.ReasonFlags}
NAMES = {"unspecified": "unspecified", "keyCompromise": "key_compromise",
         "cACompromise": "ca_compromise", "affiliationChanged": "affiliation_changed",
         "superseded": "superseded", "cessationOfOperation": "cessation_of_operation",
         "certificateHold": "certificate_hold", "removeFromCRL": "remove_from_crl",
         "privilegeWithdrawn": "privilege_withdrawn", "aACompromise": "aa_compromise"}


def utc(dt):
    return dt.replace(tzinfo=datetime.timezone.utc) if dt.tzinfo is None else dt


def check(case):
    errs = []
    der = open(case["resp"], "rb").read()
    r = ocsp.load_der_ocsp_response(der)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return ["responseStatus %s" % r.response_status]
    signer = x509.load_pem_x509_certificate(open(case["signer"], "rb").read())
    pub = signer.public_key()
    # signature over tbsResponseData with the responder key
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(r.signature, r.tbs_response_bytes, ec.ECDSA(r.signature_hash_algorithm))
        elif isinstance(pub, rsa.RSAPublicKey):
            if case.get("pss"):
                pub.verify(r.signature, r.tbs_response_bytes,
                           padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                           hashes.SHA256())
            else:
                pub.verify(r.signature, r.tbs_response_bytes, padding.PKCS1v15(),
                           r.signature_hash_algorithm)
        else:
            pub.verify(r.signature, r.tbs_response_bytes)
    except Exception as e:  # noqa: BLE001
        errs.append("signature does not verify: %r" % e)
    if r.serial_number != int(case["serial"], 16):
        errs.append("serial %x != %s" % (r.serial_number, case["serial"]))
    want_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED,
                   "unknown": ocsp.OCSPCertStatus.UNKNOWN}[case["status"]]
    if r.certificate_status != want_status:
        errs.append("status %s != %s" % (r.certificate_status, case["status"]))
    if case["status"] == "revoked":
        rt = utc(r.revocation_time)
        if int(rt.timestamp()) != int(case["rev_time"]):
            errs.append("revocation time %s != %s" % (rt, case["rev_time"]))
        want_reason = case.get("reason")
        got = r.revocation_reason.name if r.revocation_reason is not None else None
        if (NAMES[want_reason] if want_reason else None) != got:
            errs.append("reason %s != %s" % (got, want_reason))
    if r.next_update is None:
        errs.append("nextUpdate missing")
    else:
        span = (utc(r.next_update) - utc(r.this_update)).total_seconds()
        if span != case["span"]:
            errs.append("nextUpdate - thisUpdate = %s, want %s" % (span, case["span"]))
    hname = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}[case["hash"]]
    if r.hash_algorithm.name != hname:
        errs.append("CertID hash %s != %s" % (r.hash_algorithm.name, hname))
    nonce = None
    for e in r.extensions:
        if isinstance(e.value, x509.OCSPNonce):
            nonce = e.value.nonce.hex()
    if (case.get("nonce") or None) != nonce:
        errs.append("nonce %s != %s" % (nonce, case.get("nonce")))
    if case.get("by_name"):
        if r.responder_name != signer.subject:
            errs.append("responder byName %s != %s" % (r.responder_name, signer.subject))
    else:
        if r.responder_key_hash is None:
            errs.append("responder ID is not byKey")
        else:
            spki = signer.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
            # SHA-1 of the subjectPublicKey BIT STRING value
            from cryptography.hazmat.primitives.serialization import load_der_public_key  # noqa
            h = hashes.Hash(hashes.SHA1())
            h.update(bitstring_value(spki))
            if r.responder_key_hash != h.finalize():
                errs.append("byKey hash differs")
    ncerts = len(r.certificates)
    if ncerts != case["certs"]:
        errs.append("%d certificates embedded, want %d" % (ncerts, case["certs"]))
    return errs


def bitstring_value(spki):
    # SEQUENCE { AlgorithmIdentifier, BIT STRING } -> BIT STRING contents minus unused-bits octet
    def hdr(b, i):
        n = b[i + 1]
        if n < 0x80:
            return i + 2, n
        k = n & 0x7F
        return i + 2 + k, int.from_bytes(b[i + 2:i + 2 + k], "big")
    i, _ = hdr(spki, 0)
    j, alen = hdr(spki, i)
    k, blen = hdr(spki, j + alen)
    return spki[k + 1:k + blen]


def main():
    cases = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    bad = 0
    for c in cases:
        errs = check(c)
        if errs:
            bad += 1
            print("FAIL %s: %s" % (c["resp"], "; ".join(errs)))
    print("python-cryptography: %d of %d responses match" % (len(cases) - bad, len(cases)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
