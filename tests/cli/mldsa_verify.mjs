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
//   NOBLE=... node mldsa_verify.mjs catalyst CERT.pem ISSUER.pem
//       the Catalyst alternative signature of a certificate (ITU-T X.509 §9.8):
//       altSignatureValue (2.5.29.74) over the TBSCertificate re-encoded here
//       without its signature field and without 2.5.29.74, checked with the
//       issuer's altSubjectPublicKeyInfo (2.5.29.72) and altSignatureAlgorithm
//       (2.5.29.73)
//   NOBLE=... node mldsa_verify.mjs catalyst-response RESP.der
//       the Catalyst alternative signature of an OCSP response (DESIGN §5):
//       altSignatureValue in responseExtensions over tbsResponseData re-encoded
//       without it, checked with the responder certificate's
//       altSubjectPublicKeyInfo
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

// DER length + header for a constructed element with this tag and body.
function encode(tag, body) {
  const n = body.length;
  let len;
  if (n < 0x80) len = [n];
  else if (n < 0x100) len = [0x81, n];
  else if (n < 0x10000) len = [0x82, n >> 8, n & 255];
  else len = [0x83, n >> 16, (n >> 8) & 255, n & 255];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}
const concat = (parts) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) { out.set(p, k); k += p.length; }
  return out;
};
const hexOf = (b) => Buffer.from(b).toString('hex');
// Extensions of a TBSCertificate: [{oid hex, el, value element}]
function extensionsOf(buf, tbsEls) {
  const ext = tbsEls.find((e) => e.tag === 0xa3);
  if (!ext) return { ext: null, list: [] };
  const seq = children(buf, ext)[0];
  const list = children(buf, seq).map((e) => {
    const parts = children(buf, e);
    return { oid: hexOf(value(buf, parts[0])), el: e, val: parts[parts.length - 1] };
  });
  return { ext, list };
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
} else if (mode === 'catalyst') {
  const cbuf = loadDer(file), ibuf = loadDer(issuerFile);
  const tbs = children(cbuf, tlv(cbuf, 0))[0];
  const els = children(cbuf, tbs);
  const { list } = extensionsOf(cbuf, els);
  const altAlg = list.find((x) => x.oid === '551d49');
  const altVal = list.find((x) => x.oid === '551d4a');
  if (!altAlg || !altVal) { console.log('no Catalyst signature'); process.exit(1); }
  // The TBSCertificate without the signature field and without 2.5.29.74.
  const sigIndex = els[0].tag === 0xa0 ? 2 : 1;
  const kept = [];
  els.forEach((e, i) => {
    if (i === sigIndex) return;
    if (e.tag === 0xa3) {
      const exts = list.filter((x) => x.oid !== '551d4a').map((x) => bytes(cbuf, x.el));
      kept.push(encode(0xa3, encode(0x30, concat(exts))));
    } else {
      kept.push(bytes(cbuf, e));
    }
  });
  const msg = encode(0x30, concat(kept));
  const algEl = tlv(cbuf, altAlg.val.start);
  const m = mlDsaOf(cbuf, algEl);
  if (!m) { console.log('altSignatureAlgorithm is not ML-DSA'); process.exit(2); }
  const sigEl = tlv(cbuf, altVal.val.start);
  const sig = value(cbuf, sigEl).subarray(1);
  // The issuer's alternative key: its altSubjectPublicKeyInfo.
  const itbs = children(ibuf, children(ibuf, tlv(ibuf, 0))[0]);
  const ialt = extensionsOf(ibuf, itbs).list.find((x) => x.oid === '551d48');
  if (!ialt) { console.log('issuer has no altSubjectPublicKeyInfo'); process.exit(2); }
  const spki = children(ibuf, tlv(ibuf, ialt.val.start));
  check(m[0], m[1], sig, msg, value(ibuf, spki[1]).subarray(1));
} else if (mode === 'catalyst-response') {
  const buf = loadDer(file);
  const top = children(buf, tlv(buf, 0));
  const rb = children(buf, children(buf, top[1])[0]);
  const [tbs, , , certs] = children(buf, tlv(buf, rb[1].start));
  const els = children(buf, tbs);
  const last = els[els.length - 1];
  if (last.tag !== 0xa1 || els.length < 4) { console.log('no responseExtensions'); process.exit(1); }
  const seq = children(buf, last)[0];
  const list = children(buf, seq).map((e) => {
    const parts = children(buf, e);
    return { oid: hexOf(value(buf, parts[0])), el: e, val: parts[parts.length - 1] };
  });
  const altAlg = list.find((x) => x.oid === '551d49');
  const altVal = list.find((x) => x.oid === '551d4a');
  if (!altAlg || !altVal) { console.log('no Catalyst signature'); process.exit(1); }
  const kept = els.slice(0, -1).map((e) => bytes(buf, e));
  const exts = list.filter((x) => x.oid !== '551d4a').map((x) => bytes(buf, x.el));
  kept.push(encode(0xa1, encode(0x30, concat(exts))));
  const msg = encode(0x30, concat(kept));
  const m = mlDsaOf(buf, tlv(buf, altAlg.val.start));
  if (!m) { console.log('altSignatureAlgorithm is not ML-DSA'); process.exit(2); }
  const sig = value(buf, tlv(buf, altVal.val.start)).subarray(1);
  const cert = children(buf, certs)[0];
  const ctbs = children(buf, children(buf, children(buf, cert)[0])[0]);
  const alt = extensionsOf(buf, ctbs).list.find((x) => x.oid === '551d48');
  if (!alt) { console.log('responder certificate has no altSubjectPublicKeyInfo'); process.exit(2); }
  const spki = children(buf, tlv(buf, alt.val.start));
  check(m[0], m[1], sig, msg, value(buf, spki[1]).subarray(1));
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
