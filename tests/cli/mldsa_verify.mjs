// SPDX-License-Identifier: Apache-2.0
// tests/cli/mldsa_verify.mjs - check ML-DSA signatures made by qpki with
// @noble/post-quantum, an independent FIPS 204 implementation (OpenSSL 3.0 has
// no ML-DSA).
//
//   NOBLE=<dir of @noble/post-quantum> node mldsa_verify.mjs response RESP.der
//       the OCSP response's signature, with the key of the responder
//       certificate it carries (or of CA.pem given as a third argument)
//   NOBLE=... node mldsa_verify.mjs cert CERT.pem ISSUER.pem
//       the certificate's signature, with the issuer's key
//
// Prints "ML-DSA-NN ok" or "ML-DSA-NN bad"; exit 0 only for ok.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const noble = await import(pathToFileURL(process.env.NOBLE + '/ml-dsa.js').href);

// A DER element at off: tag, header length, value bounds.
function tlv(buf, off) {
  const tag = buf[off];
  let len = buf[off + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    hdr += n;
  }
  return { tag, start: off + hdr, end: off + hdr + len, off };
}
// The children of a constructed element.
function children(buf, el) {
  const out = [];
  for (let off = el.start; off < el.end;) {
    const c = tlv(buf, off);
    out.push(c);
    off = c.end;
  }
  return out;
}
const bytes = (buf, el) => buf.subarray(el.off, el.end);
const value = (buf, el) => buf.subarray(el.start, el.end);

function loadDer(path) {
  const data = readFileSync(path);
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const b64 = text.split(/-----[^-]+-----/)[1].replace(/\s+/g, '');
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  return new Uint8Array(data);
}

const ML_DSA_OID = '608648016503040303'; // 2.16.840.1.101.3.4.3 (then .17/.18/.19)
function mlDsaOf(buf, algId) {
  const oid = Buffer.from(value(buf, children(buf, algId)[0])).toString('hex');
  if (!oid.startsWith(ML_DSA_OID.slice(0, 16)) || oid.length !== 18) return null;
  return { '11': ['ML-DSA-44', noble.ml_dsa44], '12': ['ML-DSA-65', noble.ml_dsa65],
           '13': ['ML-DSA-87', noble.ml_dsa87] }[oid.slice(16)] || null;
}
// SubjectPublicKeyInfo of a Certificate: [algId element, key bytes].
function spkiOf(buf, cert) {
  const tbs = children(buf, children(buf, cert)[0]);
  const i = tbs[0].tag === 0xa0 ? 1 : 0;
  const spki = children(buf, tbs[i + 5]);
  return [spki[0], value(buf, spki[1]).subarray(1)];
}
function check(name, dsa, sig, msg, pk) {
  // Pure ML-DSA with an empty context, as X.509 and OCSP use it (RFC 9881).
  const good = dsa.verify(sig, msg, pk);
  console.log(`${name} ${good ? 'ok' : 'bad'}`);
  process.exit(good ? 0 : 1);
}

const [mode, file, issuerFile] = process.argv.slice(2);
if (mode === 'cert') {
  const cbuf = loadDer(file), ibuf = loadDer(issuerFile);
  const cert = tlv(cbuf, 0);
  const [tbs, alg, sig] = children(cbuf, cert);
  const m = mlDsaOf(cbuf, alg);
  if (!m) { console.log('not ML-DSA'); process.exit(2); }
  const [, pk] = spkiOf(ibuf, tlv(ibuf, 0));
  check(m[0], m[1], value(cbuf, sig).subarray(1), bytes(cbuf, tbs), pk);
} else if (mode === 'response') {
  const buf = loadDer(file);
  const top = children(buf, tlv(buf, 0));
  const rb = children(buf, children(buf, top[1])[0]);
  const basic = tlv(buf, rb[1].start);
  const [tbs, alg, sig, certs] = children(buf, basic);
  const m = mlDsaOf(buf, alg);
  if (!m) { console.log('not ML-DSA'); process.exit(2); }
  let pk;
  if (certs) {
    const first = children(buf, children(buf, certs)[0])[0];
    pk = spkiOf(buf, first)[1];
  } else {
    const ibuf = loadDer(issuerFile);
    pk = spkiOf(ibuf, tlv(ibuf, 0))[1];
  }
  check(m[0], m[1], value(buf, sig).subarray(1), bytes(buf, tbs), pk);
} else {
  console.error('usage: node mldsa_verify.mjs response RESP.der [CA.pem] | cert CERT.pem ISSUER.pem');
  process.exit(2);
}
