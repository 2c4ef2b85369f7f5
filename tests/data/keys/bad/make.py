#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Private keys that do not hold together, for tests/unit/test_crypto.c and
tests/cli/keys.sh (issue 13 item 1).  Each file is refused at load with a message
naming the part; the *-good files are the same forms made consistently (they must
load, so a refusal is the defect and not the form).  Run from this directory:

    python3 make.py            # needs python3-cryptography and openssl

Classical keys: Python `cryptography` makes the key pairs; the altered structures
are encoded by `openssl asn1parse -genconf`.  ML-DSA: OpenSSL 3.0 and Debian's
`cryptography` have none, so this file carries a small FIPS 204 key generator
(ExpandA, ExpandS, NTT, Power2Round, the encodings; standard library only) that
first reproduces NIST's ACVP keyGen vectors (pk and sk byte for byte) before it
writes anything, then builds keys from chosen (rho, K, s1, s2): an s2 coefficient
out of range with t, t0, pk and tr recomputed to match is a key that signs unless
the loader checks the range."""
import gzip
import hashlib
import json
import os
import subprocess
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
ACVP = os.path.join(HERE, '..', '..', '..', 'vectors', 'acvp', 'ML-DSA-keyGen-FIPS204',
                    'internalProjection.json.gz')

# ---- DER through openssl asn1parse -genconf ----------------------------------------------


def genconf(name, text):
    """Encode the ASN1_generate_nconf description `text` into name (DER)."""
    cnf = os.path.join(HERE, '.genconf.cnf')
    with open(cnf, 'w') as f:
        f.write(text)
    subprocess.run(['openssl', 'asn1parse', '-genconf', cnf, '-noout', '-out',
                    os.path.join(HERE, name)], check=True)
    os.unlink(cnf)


def hexint(v):
    return 'INTEGER:0x%X' % v


def rsa_pkcs1(name, n, e, d, p, q, dp, dq, qinv):
    genconf(name, '\n'.join([
        'asn1=SEQUENCE:k', '[k]', 'v=INTEGER:0', 'n=' + hexint(n), 'e=' + hexint(e),
        'd=' + hexint(d), 'p=' + hexint(p), 'q=' + hexint(q), 'dp=' + hexint(dp),
        'dq=' + hexint(dq), 'qinv=' + hexint(qinv), '']))


def sec1(name, curve_oid, d, size, point):
    genconf(name, '\n'.join([
        'asn1=SEQUENCE:k', '[k]', 'v=INTEGER:1',
        'd=FORMAT:HEX,OCTETSTRING:' + d.to_bytes(size, 'big').hex(),
        'c=EXPLICIT:0,OID:' + curve_oid,
        'p=EXPLICIT:1,FORMAT:HEX,BITSTRING:' + point.hex(), '']))


def pkcs8_v2(name, oid, inner_hex, pub):
    """RFC 5958 OneAsymmetricKey v2: [1] IMPLICIT BIT STRING publicKey."""
    genconf(name, '\n'.join([
        'asn1=SEQUENCE:k', '[k]', 'v=INTEGER:1', 'alg=SEQUENCE:alg',
        'key=FORMAT:HEX,OCTETSTRING:' + inner_hex,
        'pub=IMPLICIT:1,FORMAT:HEX,BITSTRING:' + pub.hex(), '[alg]', 'oid=OID:' + oid, '']))


def pkcs8(name, oid, inner_hex):
    genconf(name, '\n'.join([
        'asn1=SEQUENCE:k', '[k]', 'v=INTEGER:0', 'alg=SEQUENCE:alg',
        'key=FORMAT:HEX,OCTETSTRING:' + inner_hex, '[alg]', 'oid=OID:' + oid, '']))


def der_tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        ln = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        head = bytes([tag, 0x80 | len(ln)]) + ln
    return head + body

# ---- classical keys -------------------------------------------------------------------------


def classical():
    # RSA-2048: each CRT value wrong in turn (the others untouched)
    k = rsa.generate_private_key(65537, 2048)
    n_ = k.private_numbers()
    n, e, d, p, q = n_.public_numbers.n, n_.public_numbers.e, n_.d, n_.p, n_.q
    dp, dq, qi = n_.dmp1, n_.dmq1, n_.iqmp
    rsa_pkcs1('rsa-good.der', n, e, d, p, q, dp, dq, qi)
    rsa_pkcs1('rsa-dp.der', n, e, d, p, q, dp ^ 2, dq, qi)
    rsa_pkcs1('rsa-dq.der', n, e, d, p, q, dp, dq ^ 2, qi)
    rsa_pkcs1('rsa-qinv.der', n, e, d, p, q, dp, dq, qi ^ 2)
    other = rsa.generate_private_key(65537, 2048).private_numbers()
    rsa_pkcs1('rsa-n.der', n, e, d, other.p, q, dp, dq, qi)      # n != p * q
    d2 = d ^ (1 << 40)                                           # dP, dQ follow d2
    rsa_pkcs1('rsa-d.der', n, e, d2, p, q, d2 % (p - 1), d2 % (q - 1), qi)

    # EC: the public point of another key, d = n, a compressed point of another key
    for curve, oid, size, tag in ((ec.SECP256R1(), 'prime256v1', 32, 'p256'),
                                  (ec.SECP384R1(), 'secp384r1', 48, 'p384')):
        a, b = ec.generate_private_key(curve), ec.generate_private_key(curve)
        da = a.private_numbers().private_value
        pa = a.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)
        pb = b.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)
        ca = a.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.CompressedPoint)
        cb = b.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.CompressedPoint)
        sec1('ec-%s-good.der' % tag, oid, da, size, pa)
        sec1('ec-%s-pub.der' % tag, oid, da, size, pb)
        sec1('ec-%s-compressed-good.der' % tag, oid, da, size, ca)
        sec1('ec-%s-compressed-pub.der' % tag, oid, da, size, cb)
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 n
    a = ec.generate_private_key(ec.SECP256R1())
    pa = a.public_key().public_bytes(serialization.Encoding.X962,
                                     serialization.PublicFormat.UncompressedPoint)
    sec1('ec-p256-d-order.der', 'prime256v1', order, 32, pa)

    # Ed25519 / Ed448 PKCS#8 v2 whose publicKey is another key's
    for mod, oid, tag in ((ed25519.Ed25519PrivateKey, 'ED25519', 'ed25519'),
                          (ed448.Ed448PrivateKey, 'ED448', 'ed448')):
        a, b = mod.generate(), mod.generate()
        seed = a.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption())
        raw = lambda k: k.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
        inner = der_tlv(0x04, seed).hex()
        pkcs8_v2('%s-v2-good.der' % tag, oid, inner, raw(a))
        pkcs8_v2('%s-v2-pub.der' % tag, oid, inner, raw(b))

# ---- ML-DSA (FIPS 204) ----------------------------------------------------------------------


Q, D = 8380417, 13
PARAMS = {44: (4, 4, 2), 65: (6, 5, 4), 87: (8, 7, 2)}   # k, l, eta
OIDS = {44: '2.16.840.1.101.3.4.3.17', 65: '2.16.840.1.101.3.4.3.18',
        87: '2.16.840.1.101.3.4.3.19'}


def brv8(x):
    return int('{:08b}'.format(x)[::-1], 2)


ZETAS = [pow(1753, brv8(k), Q) for k in range(256)]


def ntt(w):
    """FIPS 204 Algorithm 41."""
    w = list(w)
    m, ln = 0, 128
    while ln >= 1:
        start = 0
        while start < 256:
            m += 1
            z = ZETAS[m]
            for j in range(start, start + ln):
                t = z * w[j + ln] % Q
                w[j + ln] = (w[j] - t) % Q
                w[j] = (w[j] + t) % Q
            start += 2 * ln
        ln //= 2
    return w


def intt(w):
    """FIPS 204 Algorithm 42."""
    w = list(w)
    m, ln = 256, 1
    while ln < 256:
        start = 0
        while start < 256:
            m -= 1
            z = -ZETAS[m]
            for j in range(start, start + ln):
                t = w[j]
                w[j] = (t + w[j + ln]) % Q
                w[j + ln] = z * (t - w[j + ln]) % Q
            start += 2 * ln
        ln *= 2
    return [x * 8347681 % Q for x in w]


def rej_ntt_poly(seed):
    """Algorithm 30: coefficients < q from 3-byte chunks of SHAKE128(seed)."""
    buf = hashlib.shake_128(seed).digest(3 * 1024)
    out, i = [], 0
    while len(out) < 256:
        v = buf[i] | buf[i + 1] << 8 | (buf[i + 2] & 0x7f) << 16
        i += 3
        if v < Q:
            out.append(v)
    return out


def rej_bounded_poly(seed, eta):
    """Algorithm 31 with CoeffFromHalfByte (Algorithm 15)."""
    buf = hashlib.shake_256(seed).digest(1024)
    out = []
    for byte in buf:
        for b in (byte & 15, byte >> 4):
            if len(out) == 256:
                break
            if eta == 2 and b < 15:
                out.append(2 - b % 5)
            elif eta == 4 and b < 9:
                out.append(4 - b)
    assert len(out) == 256
    return out


def bitpack(coeffs, bits):
    """Little-endian bit order: coefficient i bit j at stream position i*bits + j."""
    acc = 0
    for i, c in enumerate(coeffs):
        assert 0 <= c < (1 << bits)
        acc |= c << (i * bits)
    return acc.to_bytes(32 * bits, 'little')


def bitunpack(data, bits):
    acc = int.from_bytes(data, 'little')
    return [(acc >> (i * bits)) & ((1 << bits) - 1) for i in range(256)]


def power2round(r):
    r = r % Q
    r0 = r % (1 << D)
    if r0 > 1 << (D - 1):
        r0 -= 1 << D
    return (r - r0) >> D, r0


def encode(level, rho, key, s1, s2):
    """pk and sk from (rho, K, s1, s2) as KeyGen_internal steps 3-10 do."""
    k, l, eta = PARAMS[level]
    ahat = [[rej_ntt_poly(rho + bytes([s, r])) for s in range(l)] for r in range(k)]
    s1hat = [ntt([c % Q for c in p]) for p in s1]
    t1, t0 = [], []
    for r in range(k):
        acc = [0] * 256
        for s in range(l):
            acc = [(x + a * b) % Q for x, a, b in zip(acc, ahat[r][s], s1hat[s])]
        t = [(x + y) % Q for x, y in zip(intt(acc), s2[r])]
        parts = [power2round(c) for c in t]
        t1.append([p[0] for p in parts])
        t0.append([p[1] for p in parts])
    pk = rho + b''.join(bitpack(p, 10) for p in t1)
    tr = hashlib.shake_256(pk).digest(64)
    bits = 3 if eta == 2 else 4
    sk = rho + key + tr
    sk += b''.join(bitpack([eta - c for c in p], bits) for p in s1 + s2)
    sk += b''.join(bitpack([(1 << (D - 1)) - c for c in p], D) for p in t0)
    return pk, sk


def keygen_parts(level, xi):
    k, l, eta = PARAMS[level]
    h = hashlib.shake_256(xi + bytes([k, l])).digest(128)
    rho, rhop, key = h[:32], h[32:96], h[96:]
    s1 = [rej_bounded_poly(rhop + r.to_bytes(2, 'little'), eta) for r in range(l)]
    s2 = [rej_bounded_poly(rhop + (r + l).to_bytes(2, 'little'), eta) for r in range(k)]
    return rho, key, s1, s2


def check_against_acvp():
    """The generator must reproduce NIST's keys before its keys mean anything."""
    groups = json.load(gzip.open(ACVP))['testGroups']
    for g in groups:
        level = int(g['parameterSet'][-2:])
        t = g['tests'][0]
        pk, sk = encode(level, *keygen_parts(level, bytes.fromhex(t['seed'])))
        assert pk.hex().upper() == t['pk'].upper(), 'pk of ACVP %s' % g['parameterSet']
        assert sk.hex().upper() == t['sk'].upper(), 'sk of ACVP %s' % g['parameterSet']


def mldsa():
    check_against_acvp()
    xi_a, xi_b = bytes(range(32)), bytes(range(32, 64))

    def expanded(name, level, sk):
        pkcs8(name, OIDS[level], der_tlv(0x04, sk).hex())

    for level in (44, 65, 87):
        rho, key, s1, s2 = keygen_parts(level, xi_a)
        k, l, eta = PARAMS[level]
        pk, sk = encode(level, rho, key, s1, s2)
        expanded('mldsa%d-expanded-good.der' % level, level, sk)
        # one coefficient at -(eta + 1): the encoded field (eta + 1 + eta) still
        # fits the 3- or 4-bit width; t, t0, pk and tr are made to match it
        bad1 = [list(p) for p in s1]
        bad1[l - 1][200] = -(eta + 1)
        expanded('mldsa%d-s1-range.der' % level, level, encode(level, rho, key, bad1, s2)[1])
        bad2 = [list(p) for p in s2]
        bad2[0][7] = -(2 * eta + 1) if eta == 4 else -5   # the widest the field allows
        expanded('mldsa%d-s2-range.der' % level, level, encode(level, rho, key, s1, bad2)[1])

    level = 44
    rho, key, s1, s2 = keygen_parts(level, xi_a)
    pk, sk = encode(level, rho, key, s1, s2)
    k, l, eta = PARAMS[level]
    t0_at = 128 + 32 * 3 * (k + l)                # first t0 field
    t0 = bitunpack(sk[t0_at:t0_at + 32 * D], D)
    t0[5] ^= 1                                    # t0 no longer t's low part; pk, tr unchanged
    expanded('mldsa44-t0.der', level, sk[:t0_at] + bitpack(t0, D) + sk[t0_at + 32 * D:])
    tr_bad = bytearray(sk)
    tr_bad[64] ^= 0x80                            # tr is not H(pk)
    expanded('mldsa44-tr.der', level, bytes(tr_bad))
    # both: the seed of one key, the expandedKey of another
    pk_b, sk_b = encode(65, *keygen_parts(65, xi_b))
    _, sk_a65 = encode(65, *keygen_parts(65, xi_a))
    pkcs8('mldsa65-both.der', OIDS[65],
          der_tlv(0x30, der_tlv(0x04, xi_a) + der_tlv(0x04, sk_b)).hex())
    pkcs8('mldsa65-both-good.der', OIDS[65],
          der_tlv(0x30, der_tlv(0x04, xi_a) + der_tlv(0x04, sk_a65)).hex())
    # seed form with the RFC 5958 v2 publicKey of another key
    pk_other, _ = encode(44, *keygen_parts(44, xi_b))
    pkcs8_v2('mldsa44-v2-pub.der', OIDS[44], der_tlv(0x80, xi_a).hex(), pk_other)
    pkcs8_v2('mldsa44-v2-good.der', OIDS[44], der_tlv(0x80, xi_a).hex(), pk)


if __name__ == '__main__':
    os.chdir(HERE)
    classical()
    mldsa()
    sys.exit(0)
