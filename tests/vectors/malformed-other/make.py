#!/usr/bin/env python3
"""Generates malformed OCSP responses, certificates, certificate requests, CRLs and
private keys, and expected.tsv:
kind, file, the exact qpki_status, then the substrings the one-line error message
(qpki_*_parse_err / _load_file_err) must contain -- the field's name, the OID, the
byte offset.  Run from this directory; the inputs are derived from files made by
openssl in tests/data (tests/data/ocsp, tests/data/crl).  tests/unit/test_malformed.c
reads the table."""
import base64
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")


def pem_der(path):
    text = open(path).read()
    lines = [l for l in text.splitlines() if l and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


# ---- a small DER tree: (tag, bytes) for primitives, (tag, [children]) for constructed

def read(d, at=0):
    tag = d[at]
    n = d[at + 1]
    hl = 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(d[at + 2: at + 2 + k], "big")
        hl += k
    body = d[at + hl: at + hl + n]
    if tag & 0x20:
        kids, off = [], 0
        while off < len(body):
            kid, used = read(body, off)
            kids.append(kid)
            off += used
        return [tag, kids], hl + n
    return [tag, bytes(body)], hl + n


def enc(node):
    tag, v = node
    body = b"".join(enc(k) for k in v) if isinstance(v, list) else v
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def hl(d, at):
    return 2 + (d[at + 1] & 0x7F if d[at + 1] & 0x80 else 0)


def tree(d):
    return read(d)[0]


def offset_of(d, sub):
    i = d.find(sub)
    assert i >= 0 and d.find(sub, i + 1) < 0, "not unique"
    return i


cases = []  # (kind, name, data, status, [substrings])

# ---- OCSP responses (tests/data/ocsp/resp-good.der: CA-delegated, nextUpdate, one cert)
resp = open(os.path.join(DATA, "ocsp", "resp-good.der"), "rb").read()
cases.append(("response", "resp-truncated-half.der", resp[: len(resp) // 2], "QPKI_ERR_TRUNCATED",
              ["OCSPResponse: ", "truncated at byte %d of %d" % (len(resp) // 2, len(resp))]))
cases.append(("response", "resp-trailing-byte.der", resp + b"\x00", "QPKI_ERR_TRAILING_DATA",
              ["OCSPResponse: ", "trailing data", "at byte %d" % len(resp)]))
t = tree(resp)
t[1][0][1] = b"\x04"  # responseStatus 4 is not used
cases.append(("response", "resp-status-4.der", enc(t), "QPKI_ERR_DECODE",
              ["responseStatus 4 is not an OCSPResponseStatus", "at byte 4"]))


def basic_of(t):
    return tree(t[1][1][1][0][1][1][1])


def with_basic(t, basic):
    t[1][1][1][0][1][1][1] = enc(basic)
    return enc(t)


# responseType 1.3.6.1.5.5.7.48.1.99: parses, is not decoded; the OID is printed
t = tree(resp)
t[1][1][1][0][1][0][1] = bytes.fromhex("2b0601050507300163")
cases.append(("response-type", "resp-unknown-type.der", enc(t), "QPKI_OK",
              ["1.3.6.1.5.5.7.48.1.99"]))
# certStatus [3]: none of the CHOICE
t = tree(resp)
b = basic_of(t)
single = b[1][0][1][2][1][0]  # tbsResponseData, responses, SingleResponse
assert single[1][1][0] == 0x80
single[1][1][0] = 0x83
data = with_basic(t, b)
cases.append(("response", "resp-cert-status-3.der", data, "QPKI_ERR_UNEXPECTED_TAG",
              ["BasicOCSPResponse: tbsResponseData: responses[0]: certStatus: tag 0x83 is none of",
               "at byte %d" % offset_of(data, bytes.fromhex("8300180f"))]))
# producedAt without seconds
t = tree(resp)
b = basic_of(t)
b[1][0][1][1][1] = b"202611261314Z"
data = with_basic(t, b)
cases.append(("response", "resp-produced-at-no-seconds.der", data, "QPKI_ERR_BAD_TIME",
              ["tbsResponseData: producedAt: GeneralizedTime not in DER form",
               "at byte %d" % (offset_of(data, b"202611261314Z"))]))
# two nonce extensions in responseExtensions
NONCE = [0x30, [[0x06, bytes.fromhex("2b0601050507300102")], [0x04, bytes.fromhex("0410") + b"\x5a" * 16]]]
t = tree(resp)
b = basic_of(t)
b[1][0][1].append([0xA1, [[0x30, [NONCE, NONCE]]]])
data = with_basic(t, b)
second = data.rfind(enc(NONCE))
cases.append(("response", "resp-duplicate-nonce.der", data, "QPKI_ERR_DECODE",
              ["tbsResponseData: responseExtensions: extensions[1]: duplicate extension "
               "1.3.6.1.5.5.7.48.1.2 (nonce) at byte %d" % second]))
# a responder certificate cut inside: its error names certs[0] and both offsets
t = tree(resp)
b = basic_of(t)
certs = b[1][3][1][0]
certs[1][0] = [0x30, [certs[1][0][1][0]]]  # tbsCertificate only
data = with_basic(t, b)
cases.append(("response", "resp-cert-without-signature.der", data, "QPKI_ERR_TRUNCATED",
              ["BasicOCSPResponse: certs[0]: signatureAlgorithm: SEQUENCE (0x30) missing",
               "of the certificate at byte %d" % offset_of(data, enc(certs[1][0]))]))

# ---- certificates (tests/data/ocsp/ca.crt)
ca = pem_der(os.path.join(DATA, "ocsp", "ca.crt"))
cases.append(("cert", "cert-truncated.der", ca[:300], "QPKI_ERR_TRUNCATED",
              ["Certificate: truncated at byte 300 of %d" % len(ca)]))
t = tree(ca)
tbs = t[1][0]
exts = [k for k in tbs[1] if k[0] == 0xA3][0][1][0][1]
bc = [e for e in exts if e[1][0][1] == bytes.fromhex("551d13")][0]
exts.append(bc)
data = enc(t)
cases.append(("cert", "cert-duplicate-basic-constraints.der", data, "QPKI_ERR_DECODE",
              ["tbsCertificate: extensions: extensions[%d]: duplicate extension 2.5.29.19 "
               "(basicConstraints) at byte %d" % (len(exts) - 1, data.rfind(enc(bc)))]))
t = tree(ca)
validity = t[1][0][1][4]
validity[1][1][1] = validity[1][1][1][:-1] + b"z"  # notAfter ends in 'z'
data = enc(t)
cases.append(("cert", "cert-not-after-lowercase-z.der", data, "QPKI_ERR_BAD_TIME",
              ["tbsCertificate: validity: notAfter: ", "not in DER form", "at byte "]))
t = tree(ca)
t[1][0][1][1] = [0x02, b"\x00\x10"]  # serialNumber 00 10: not minimal
data = enc(t)
cases.append(("cert", "cert-serial-non-minimal.der", data, "QPKI_ERR_NON_MINIMAL",
              ["tbsCertificate: serialNumber: non-minimal INTEGER (leading 0x00) at byte %d"
               % (offset_of(data, bytes.fromhex("02020010")) + 2)]))

# ---- CRLs (tests/data/crl/ec-p256.crl.pem: entries with reasonCode)
crl = pem_der(os.path.join(DATA, "crl", "ec-p256.crl.pem"))
cases.append(("crl", "crl-truncated.der", crl[: len(crl) - 10], "QPKI_ERR_TRUNCATED",
              ["CertificateList: truncated at byte %d of %d" % (len(crl) - 10, len(crl))]))
t = tree(crl)
tbs = t[1][0]
revoked = [k for k in tbs[1] if k[0] == 0x30 and k[1] and k[1][0][0] == 0x30 and k[1][0][1][0][0] == 0x02][0]
entry = revoked[1][0]
entry_exts = entry[1][2][1]
reason = entry_exts[0]
entry_exts.append(reason)
data = enc(t)
cases.append(("crl", "crl-entry-duplicate-reason.der", data, "QPKI_ERR_DECODE",
              ["tbsCertList: revokedCertificates[0]: crlEntryExtensions: duplicate extension "
               "2.5.29.21 (reasonCode)"]))

# ---- certificate requests (tests/data/certs/ec-p256.csr: an extensionRequest
# attribute with subjectAltName)
csr = pem_der(os.path.join(DATA, "certs", "ec-p256.csr"))
cases.append(("csr", "csr-truncated.der", csr[:200], "QPKI_ERR_TRUNCATED",
              ["CertificationRequest: truncated at byte 200 of %d" % len(csr)]))
t = tree(csr)
cri = t[1][0]
cri[1][0] = [0x02, b"\x01"]  # version 1: only v1 = 0 exists
data = enc(t)
cases.append(("csr", "csr-version-1.der", data, "QPKI_ERR_BAD_VERSION",
              ["certificationRequestInfo: version 1 (only v1 = 0 exists) at byte %d"
               % (hl(data, 0) + hl(data, hl(data, 0)))]))
t = tree(csr)
attrs = t[1][0][1][3]
ext_req = attrs[1][0]
attrs[1].append(ext_req)  # extensionRequest twice
data = enc(t)
cases.append(("csr", "csr-extension-request-twice.der", data, "QPKI_ERR_DECODE",
              ["certificationRequestInfo: attributes[1]: extensionRequest given twice at byte %d"
               % data.rfind(enc(ext_req))]))
t = tree(csr)
attrs = t[1][0][1][3]
empty = [0x30, [[0x06, bytes.fromhex("2a864886f70d010907")], [0x31, []]]]  # challengePassword, no value
attrs[1].insert(0, empty)
data = enc(t)
cases.append(("csr", "csr-attribute-without-value.der", data, "QPKI_ERR_DECODE",
              ["certificationRequestInfo: attributes[0]: no value at byte %d"
               % offset_of(data, enc(empty))]))

# ---- private keys: offsets, never key bytes (p256.p8.der holds a SEC1
# ECPrivateKey, ed25519.p8.der a PKCS#8 PrivateKeyInfo)
key = open(os.path.join(DATA, "keys", "p256.p8.der"), "rb").read()
cases.append(("key", "key-truncated.der", key[:60], "QPKI_ERR_TRUNCATED",
              ["private key: truncated at byte 60 of %d: an element at byte 0" % len(key)]))
t = tree(key)
t[1][0][1] = b"\x03"  # version 3
cases.append(("key", "key-version-3.der", enc(t), "QPKI_ERR_BAD_VERSION",
              ["ECPrivateKey: version 3 (ecPrivkeyVer1 = 1) at byte %d" % hl(key, 0)]))
key = open(os.path.join(DATA, "keys", "ed25519.p8.der"), "rb").read()
t = tree(key)
t[1][0][1] = b"\x05"
cases.append(("key", "key-pkcs8-version-5.der", enc(t), "QPKI_ERR_BAD_VERSION",
              ["PrivateKeyInfo: version 5 (v1 = 0, v2 = 1) at byte %d" % hl(key, 0)]))
t = tree(key)
t[1][2][0] = 0x03  # privateKey as a BIT STRING
data = enc(t)
cases.append(("key", "key-private-key-not-octets.der", data, "QPKI_ERR_UNEXPECTED_TAG",
              ["PrivateKeyInfo: privateKey: expected OCTET STRING (0x04), found another tag at "
               "byte %d" % (len(enc(t)) - len(enc(t[1][2])))]))

with open(os.path.join(HERE, "expected.tsv"), "w") as f:
    f.write("# kind\tfile\texpected qpki_status\tsubstrings of the message (generated by make.py)\n")
    for kind, name, data, st, subs in cases:
        with open(os.path.join(HERE, name), "wb") as g:
            g.write(data)
        f.write("\t".join([kind, name, st] + subs) + "\n")
print(f"{len(cases)} malformed files written")
