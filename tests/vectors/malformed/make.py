#!/usr/bin/env python3
"""Generates the malformed-request corpus and expected.tsv (file -> exact library
error, then substrings the one-line message of qpki_ocsp_request_parse_err must
hold: the field's name, the OID, the byte offset -- offsets computed here from the
bytes written).  Run from this directory; the inputs are derived from
tests/data/ocsp requests made by openssl.  Each file is an OCSPRequest that must be
refused with the named qpki_status (and answered malformedRequest by the
responder, whose log line carries the same message)."""
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "ocsp")

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body

def seq(*parts): return tlv(0x30, b"".join(parts))

base = open(os.path.join(DATA, "req-sha1-nononce.der"), "rb").read()
# the CertID inside the openssl request: 30 L 30 L 30 L <certid>
certid = base[6:]  # outer(2) tbs(2) list(2) -> Request SEQ starts here
assert certid[0] == 0x30
request_seq = certid[: 2 + certid[1]]
cid = request_seq[2:]
SHA1_ALG = seq(bytes.fromhex("06052b0e03021a"), bytes.fromhex("0500"))
NONCE_OID = bytes.fromhex("06092b0601050507300102")

def request(requests=(request_seq,), exts=None, version=None, trailing=b""):
    tbs = b""
    if version is not None:
        tbs += tlv(0xA0, tlv(0x02, bytes([version])))
    tbs += seq(*requests)
    if exts is not None:
        tbs += tlv(0xA2, seq(*exts))
    return seq(seq(tbs)) + trailing

def nonce_ext(n, critical=None):
    body = NONCE_OID
    if critical is not None:
        body += tlv(0x01, bytes([critical]))
    return seq(body + tlv(0x04, tlv(0x04, b"\x5a" * n)))

cases = {}
cases["empty.der"] = (b"", "QPKI_ERR_TRUNCATED")
cases["one-byte.der"] = (b"\x30", "QPKI_ERR_TRUNCATED")
cases["truncated-half.der"] = (base[: len(base) // 2], "QPKI_ERR_TRUNCATED")
cases["truncated-last-byte.der"] = (base[:-1], "QPKI_ERR_TRUNCATED")
cases["trailing-byte.der"] = (base + b"\x00", "QPKI_ERR_TRAILING_DATA")
cases["trailing-element.der"] = (base + b"\x05\x00", "QPKI_ERR_TRAILING_DATA")
cases["oversized.der"] = (seq(tlv(0x04, b"\x00" * 65540)), "QPKI_ERR_TOO_LARGE")
cases["wrong-outer-tag.der"] = (b"\x31" + base[1:], "QPKI_ERR_UNEXPECTED_TAG")
cases["high-tag-number.der"] = (b"\x3f\x81\x01\x00", "QPKI_ERR_UNEXPECTED_TAG")
cases["huge-length-4-octets.der"] = (b"\x30\x84\xff\xff\xff\xff" + base[2:], "QPKI_ERR_TRUNCATED")
cases["huge-length-8-octets.der"] = (b"\x30\x88\xff\xff\xff\xff\xff\xff\xff\xff", "QPKI_ERR_TOO_LARGE")
cases["indefinite-length.der"] = (b"\x30\x80" + base[2:] + b"\x00\x00", "QPKI_ERR_INDEFINITE")
cases["non-minimal-length.der"] = (b"\x30\x81" + base[1:2] + base[2:], "QPKI_ERR_NON_MINIMAL")
deep = b""
for _ in range(200):
    deep = seq(deep)
cases["deep-nesting-200.der"] = (deep, "QPKI_ERR_UNEXPECTED_TAG")
cases["nonce-0-octets.der"] = (request(exts=[nonce_ext(0)]), "QPKI_ERR_NONCE_LENGTH")
cases["nonce-129-octets.der"] = (request(exts=[nonce_ext(129)]), "QPKI_ERR_NONCE_LENGTH")
cases["nonce-1000-octets.der"] = (request(exts=[nonce_ext(1000)]), "QPKI_ERR_NONCE_LENGTH")
cases["17-certids.der"] = (request(requests=[request_seq] * 17), "QPKI_ERR_TOO_MANY_CERTIDS")
cases["1000-certids.der"] = (request(requests=[request_seq] * 1000), "QPKI_ERR_TOO_MANY_CERTIDS")
cases["empty-request-list.der"] = (request(requests=()), "QPKI_ERR_DECODE")
cases["version-2.der"] = (request(version=1), "QPKI_ERR_BAD_VERSION")
cases["boolean-not-der.der"] = (request(exts=[nonce_ext(16, critical=0x01)]), "QPKI_ERR_NON_MINIMAL")
cases["critical-false-encoded.der"] = (request(exts=[nonce_ext(16, critical=0x00)]), "QPKI_ERR_NON_MINIMAL")
cases["duplicate-nonce.der"] = (request(exts=[nonce_ext(16), nonce_ext(16)]), "QPKI_ERR_DECODE")
cases["empty-extensions.der"] = (request(exts=[]), "QPKI_ERR_DECODE")
# CertID with a 19-byte SHA-1 name hash
bad_cid = seq(SHA1_ALG, tlv(0x04, b"\x11" * 19), tlv(0x04, b"\x22" * 19), tlv(0x02, b"\x10\x01"))
cases["certid-short-hash.der"] = (request(requests=[seq(bad_cid)]), "QPKI_ERR_DECODE")
nm_cid = seq(SHA1_ALG, tlv(0x04, b"\x11" * 20), tlv(0x04, b"\x22" * 20), tlv(0x02, b"\x00\x10"))
cases["certid-serial-non-minimal.der"] = (request(requests=[seq(nm_cid)]), "QPKI_ERR_NON_MINIMAL")
empty_serial = seq(SHA1_ALG, tlv(0x04, b"\x11" * 20), tlv(0x04, b"\x22" * 20), tlv(0x02, b""))
cases["certid-empty-serial.der"] = (request(requests=[seq(empty_serial)]), "QPKI_ERR_DECODE")
long_serial = seq(SHA1_ALG, tlv(0x04, b"\x11" * 20), tlv(0x04, b"\x22" * 20), tlv(0x02, b"\x01" * 40))
cases["certid-serial-40-octets.der"] = (request(requests=[seq(long_serial)]), "QPKI_ERR_TOO_LARGE")
bad_params = seq(seq(bytes.fromhex("06052b0e03021a"), tlv(0x02, b"\x01")), tlv(0x04, b"\x11" * 20),
                 tlv(0x04, b"\x22" * 20), tlv(0x02, b"\x01"))
cases["certid-hash-params-not-null.der"] = (request(requests=[seq(bad_params)]), "QPKI_ERR_UNEXPECTED_TAG")


def hl(d, at):
    """Header length of the TLV at d[at]."""
    return 2 + (d[at + 1] & 0x7F if d[at + 1] & 0x80 else 0)


def contents_at(data, element):
    i = data.find(element)
    assert i >= 0
    return i + hl(data, i)


def dup_at(data, element):
    i = data.rfind(element)
    assert i > data.find(element)
    return i


def deep_offset(data, levels):
    at = 0
    for _ in range(levels):
        at += hl(data, at)
    return at


N = len(base)
d = {name: data for name, (data, _) in cases.items()}
messages = {
    "empty.der": ["OCSPRequest: empty (0 bytes)"],
    "one-byte.der": ["OCSPRequest: truncated at byte 1 of at least 2: a tag without its length"],
    "truncated-half.der": ["OCSPRequest: truncated at byte %d of %d" % (N // 2, N)],
    "truncated-last-byte.der": ["OCSPRequest: truncated at byte %d of %d" % (N - 1, N)],
    "trailing-byte.der": ["OCSPRequest: trailing data: 1 byte after the end", "at byte %d" % N],
    "trailing-element.der": ["OCSPRequest: trailing data: 2 bytes after the end",
                             "at byte %d" % N],
    "oversized.der": ["OCSPRequest: %d bytes, more than the 65536 allowed"
                      % len(d["oversized.der"])],
    "wrong-outer-tag.der": ["OCSPRequest: expected SEQUENCE (0x30), found SET (0x31) at byte 0"],
    "high-tag-number.der": ["OCSPRequest: expected SEQUENCE (0x30), found high tag number "
                            "(0x3f) at byte 0"],
    "huge-length-4-octets.der": ["OCSPRequest: truncated at byte %d of %d"
                                 % (len(d["huge-length-4-octets.der"]), 6 + 0xFFFFFFFF)],
    "huge-length-8-octets.der": ["OCSPRequest: length of 8 octets (at most 4) at byte 0"],
    "indefinite-length.der": ["OCSPRequest: indefinite length (BER, not DER) at byte 0"],
    "non-minimal-length.der": ["OCSPRequest: non-minimal length (long form for %d) at byte 0"
                               % base[1]],
    # OCSPRequest, tbsRequest, requestList, Request, CertID, hashAlgorithm: the OID
    # is expected after six headers
    "deep-nesting-200.der": ["tbsRequest: requestList[0]: reqCert: hashAlgorithm: expected "
                             "OBJECT IDENTIFIER (0x06), found SEQUENCE (0x30) at byte %d"
                             % deep_offset(deep, 6)],
    "nonce-0-octets.der": ["tbsRequest: requestExtensions: nonce (1.3.6.1.5.5.7.48.1.2) of 0 "
                           "octets (RFC 9654: 1..128) at byte %d"
                           % contents_at(d["nonce-0-octets.der"], tlv(0x04, tlv(0x04, b"")))],
    "nonce-129-octets.der": ["nonce (1.3.6.1.5.5.7.48.1.2) of 129 octets", "at byte %d"
                             % contents_at(d["nonce-129-octets.der"],
                                           tlv(0x04, tlv(0x04, b"\x5a" * 129)))],
    "nonce-1000-octets.der": ["nonce (1.3.6.1.5.5.7.48.1.2) of 1000 octets", "at byte %d"
                              % contents_at(d["nonce-1000-octets.der"],
                                            tlv(0x04, tlv(0x04, b"\x5a" * 1000)))],
    "17-certids.der": ["tbsRequest: requestList: more than 16 requests", "at byte %d"
                       % (contents_at(d["17-certids.der"][4:], seq(*[request_seq] * 17)) + 4
                          + 16 * len(request_seq))],
    "1000-certids.der": ["tbsRequest: requestList: more than 16 requests"],
    "empty-request-list.der": ["tbsRequest: requestList: empty"],
    "version-2.der": ["tbsRequest: version 1 (only v1 = 0 exists) at byte 6"],
    "boolean-not-der.der": ["tbsRequest: requestExtensions: extensions[0]: BOOLEAN 0x01 "
                            "(DER: 0x00 or 0xff)"],
    "critical-false-encoded.der": ["extensions[0]: extension 1.3.6.1.5.5.7.48.1.2 (nonce): "
                                   "critical FALSE is encoded"],
    "duplicate-nonce.der": ["tbsRequest: requestExtensions: extensions[1]: duplicate "
                            "extension 1.3.6.1.5.5.7.48.1.2 (nonce) at byte %d"
                            % dup_at(d["duplicate-nonce.der"], nonce_ext(16))],
    "empty-extensions.der": ["tbsRequest: requestExtensions: empty Extensions"],
    "certid-short-hash.der": ["tbsRequest: requestList[0]: reqCert: issuerNameHash/"
                              "issuerKeyHash of 19/19 octets (sha1: 20) at byte %d"
                              % d["certid-short-hash.der"].find(tlv(0x04, b"\x11" * 19))],
    "certid-serial-non-minimal.der": ["reqCert: serialNumber: non-minimal INTEGER (leading "
                                      "0x00) at byte %d"
                                      % contents_at(d["certid-serial-non-minimal.der"],
                                                    tlv(0x02, b"\x00\x10"))],
    "certid-empty-serial.der": ["reqCert: serialNumber: empty INTEGER at byte %d"
                                % contents_at(d["certid-empty-serial.der"], tlv(0x02, b""))],
    "certid-serial-40-octets.der": ["reqCert: serialNumber of 40 octets (at most 33) at byte %d"
                                    % d["certid-serial-40-octets.der"].find(
                                        tlv(0x02, b"\x01" * 40))],
    "certid-hash-params-not-null.der": ["reqCert: hashAlgorithm: parameters: expected NULL "
                                        "(0x05), found INTEGER (0x02)"],
}
assert set(messages) == set(cases), set(cases) ^ set(messages)

with open("expected.tsv", "w") as f:
    f.write("# file\texpected qpki_status\tsubstrings of the message (generated by make.py)\n")
    for name, (data, err) in sorted(cases.items()):
        with open(name, "wb") as g:
            g.write(data)
        f.write("\t".join([name, err] + messages[name]) + "\n")
print(f"{len(cases)} malformed requests written")
