#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent checks with Python `cryptography` for the qpki CLI tests.

usage:
  pyoracle.py response RESP.der CA.pem
      Print the response's fields as key=value lines and check its signature
      with the signer's public key (the embedded responder certificate, else the
      CA): signature=ok|bad.
  pyoracle.py cert CERT.pem ISSUER.pem
      Print the certificate's fields (extensions decoded) and check its
      signature with the issuer's key.
  pyoracle.py csr CSR.pem
      Print the request's subject, SANs and signature validity.
  pyoracle.py key KEY.pem [PASSPHRASE]
      Print the key type and size.
"""
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID


def load_cert(path):
    data = open(path, 'rb').read()
    if b'-----BEGIN' in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def verify(pub, sig, data, hash_alg, sig_oid=None):
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(sig, data, ec.ECDSA(hash_alg))
        elif isinstance(pub, rsa.RSAPublicKey):
            if sig_oid is not None and sig_oid.dotted_string == '1.2.840.113549.1.1.10':
                pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(hash_alg),
                                                  salt_length=hash_alg.digest_size), hash_alg)
            else:
                pub.verify(sig, data, padding.PKCS1v15(), hash_alg)
        elif isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            pub.verify(sig, data)
        else:
            return 'unsupported'
        return 'ok'
    except Exception:  # noqa: BLE001 - any failure is a bad signature here
        return 'bad'


def key_bits(pub):
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_bit_string(cert):
    """The subjectPublicKey BIT STRING value, what KeyHash hashes."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    pub = cert.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if isinstance(pub, rsa.RSAPublicKey):
        return pub.public_bytes(Encoding.DER, PublicFormat.PKCS1)
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def cmd_response(path, ca_path):
    der = open(path, 'rb').read()
    r = ocsp.load_der_ocsp_response(der)
    print('response_status=%s' % r.response_status.name)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return
    ca = load_cert(ca_path)
    print('size=%d' % len(der))
    print('serial=%X' % r.serial_number)
    print('cert_status=%s' % r.certificate_status.name)
    print('hash_algorithm=%s' % r.hash_algorithm.name)
    print('issuer_name_hash_ok=%s' % (r.issuer_name_hash == hashlib.new(
        r.hash_algorithm.name, ca.subject.public_bytes()).digest()))
    print('issuer_key_hash_ok=%s' % (r.issuer_key_hash == hashlib.new(
        r.hash_algorithm.name, spki_bit_string(ca)).digest()))
    if r.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        print('revocation_time=%s' % r.revocation_time.strftime('%Y-%m-%dT%H:%M:%SZ'))
        print('revocation_reason=%s' % (r.revocation_reason.name if r.revocation_reason else 'none'))
    print('this_update=%s' % r.this_update.strftime('%Y-%m-%dT%H:%M:%SZ'))
    print('next_update=%s' % (r.next_update.strftime('%Y-%m-%dT%H:%M:%SZ') if r.next_update else 'none'))
    if r.next_update:
        print('validity_seconds=%d' % int((r.next_update - r.this_update).total_seconds()))
    print('produced_minus_this=%d' % int((r.produced_at - r.this_update).total_seconds()))
    print('certificates=%d' % len(r.certificates))
    signer = r.certificates[0] if r.certificates else ca
    if r.responder_key_hash is not None:
        print('responder_id=by_key')
        kh = hashlib.sha1(spki_bit_string(signer)).digest()
        print('responder_key_hash_ok=%s' % (kh == r.responder_key_hash))
    else:
        print('responder_id=by_name')
        print('responder_name_ok=%s' % (r.responder_name == signer.subject))
    try:
        nonce = r.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        print('nonce=%s' % nonce.hex().upper())
    except x509.ExtensionNotFound:
        print('nonce=none')
    print('signature_algorithm=%s' % r.signature_algorithm_oid.dotted_string)
    h = r.signature_hash_algorithm
    print('signature=%s' % verify(signer.public_key(), r.signature, r.tbs_response_bytes, h,
                                  r.signature_algorithm_oid))
    if r.certificates:
        c = r.certificates[0]
        print('responder_cert_issued_by_ca=%s' % verify(
            ca.public_key(), c.signature, c.tbs_certificate_bytes, c.signature_hash_algorithm,
            c.signature_algorithm_oid))


def cmd_cert(path, issuer_path):
    c = load_cert(path)
    issuer = load_cert(issuer_path)
    print('version=%s' % c.version.name)
    print('serial=%X' % c.serial_number)
    print('subject=%s' % c.subject.rfc4514_string())
    print('issuer=%s' % c.issuer.rfc4514_string())
    print('issuer_matches=%s' % (c.issuer == issuer.subject))
    print('validity_days=%d' % round((c.not_valid_after - c.not_valid_before).total_seconds() / 86400))
    print('signature=%s' % verify(issuer.public_key(), c.signature, c.tbs_certificate_bytes,
                                  c.signature_hash_algorithm, c.signature_algorithm_oid))
    for ext in c.extensions:
        crit = 'critical' if ext.critical else 'noncritical'
        v = ext.value
        if ext.oid == ExtensionOID.BASIC_CONSTRAINTS:
            print('basic_constraints=%s ca=%s path_len=%s' % (crit, v.ca, v.path_length))
        elif ext.oid == ExtensionOID.KEY_USAGE:
            bits = [n for n in ('digital_signature', 'content_commitment', 'key_encipherment',
                                'data_encipherment', 'key_agreement', 'key_cert_sign',
                                'crl_sign') if getattr(v, n)]
            print('key_usage=%s %s' % (crit, ','.join(bits)))
        elif ext.oid == ExtensionOID.EXTENDED_KEY_USAGE:
            names = []
            for u in v:
                names.append({ExtendedKeyUsageOID.OCSP_SIGNING: 'ocspSigning',
                              ExtendedKeyUsageOID.SERVER_AUTH: 'serverAuth',
                              ExtendedKeyUsageOID.CLIENT_AUTH: 'clientAuth'}.get(u, u.dotted_string))
            print('ext_key_usage=%s %s' % (crit, ','.join(names)))
        elif ext.oid == ExtensionOID.OCSP_NO_CHECK:
            print('ocsp_nocheck=%s null=%s' % (crit, ext.value.public_bytes() == b'\x05\x00'))
        elif ext.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
            print('san=%s %s' % (crit, ','.join(
                '%s:%s' % (type(g).__name__.replace('Name', '').replace('Address', ''), g.value)
                for g in v)))
        elif ext.oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER:
            print('ski=%s' % v.digest.hex().upper())
        elif ext.oid == ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
            print('aki=%s' % v.key_identifier.hex().upper())
        elif ext.oid == ExtensionOID.AUTHORITY_INFORMATION_ACCESS:
            print('aia=%s' % ','.join(d.access_location.value for d in v))
        else:
            print('extension=%s %s' % (ext.oid.dotted_string, crit))


def cmd_csr(path):
    data = open(path, 'rb').read()
    r = x509.load_pem_x509_csr(data) if b'-----BEGIN' in data else x509.load_der_x509_csr(data)
    print('subject=%s' % r.subject.rfc4514_string())
    print('signature_valid=%s' % r.is_signature_valid)
    try:
        san = r.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        print('san=%s' % ','.join('%s:%s' % (type(g).__name__.replace('Name', '').replace(
            'Address', ''), g.value) for g in san))
    except x509.ExtensionNotFound:
        print('san=none')


def cmd_key(path, passphrase=None):
    data = open(path, 'rb').read()
    k = serialization.load_pem_private_key(data, passphrase.encode() if passphrase else None)
    name = type(k).__name__.replace('_', '')
    if isinstance(k, ec.EllipticCurvePrivateKey):
        print('type=ec curve=%s' % k.curve.name)
    elif isinstance(k, rsa.RSAPrivateKey):
        print('type=rsa bits=%d' % k.key_size)
    elif isinstance(k, ed25519.Ed25519PrivateKey):
        print('type=ed25519')
    elif isinstance(k, ed448.Ed448PrivateKey):
        print('type=ed448')
    else:
        print('type=%s' % name)
    print('pkcs8=%s' % (b'BEGIN PRIVATE KEY' in data or b'BEGIN ENCRYPTED PRIVATE KEY' in data))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == 'response':
        cmd_response(sys.argv[2], sys.argv[3])
    elif cmd == 'cert':
        cmd_cert(sys.argv[2], sys.argv[3])
    elif cmd == 'csr':
        cmd_csr(sys.argv[2])
    elif cmd == 'key':
        cmd_key(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
