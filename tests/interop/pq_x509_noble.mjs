// SPDX-License-Identifier: Apache-2.0
// tests/interop/pq_x509_noble.mjs - checks ML-DSA and Catalyst signatures made by
// `qpki` with @noble/post-quantum (an independent FIPS 204 implementation) and a
// DER walker written here (it shares no code with lib/der or lib/x509).
//
//   NOBLE=<dir of @noble/post-quantum> node pq_x509_noble.mjs MANIFEST
//
// Each MANIFEST line: KIND FILE ISSUER EXPECT   (EXPECT = valid | invalid)
//   cert      the certificate's own signature (signatureAlgorithm id-ml-dsa-*) over
//             the TBSCertificate bytes, with ISSUER's subjectPublicKey
//   alt-cert  the Catalyst alternative signature (ITU-T X.509 §9.8): altSignatureValue
//             (2.5.29.74) over the TBSCertificate re-encoded without its `signature`
//             field and without 2.5.29.74, algorithm from altSignatureAlgorithm
//             (2.5.29.73), key from ISSUER's altSubjectPublicKeyInfo (2.5.29.72)
//   resp      an OCSP response's ML-DSA signature over tbsResponseData; key from the
//             first certificate in `certs`, or from ISSUER when ISSUER is not "-"
//   alt-resp  a Catalyst response's altSignatureValue (responseExtensions) over
//             tbsResponseData re-encoded without it; key from the altSubjectPublicKeyInfo
//             of the responder certificate in `certs`, or of ISSUER
//   crl       a CRL's own signature (id-ml-dsa-*) over the TBSCertList bytes, with
//             ISSUER's subjectPublicKey
//   alt-crl   a Catalyst CRL's altSignatureValue (crlExtensions) over the TBSCertList
//             re-encoded without its `signature` field and without 2.5.29.74, key
//             from ISSUER's altSubjectPublicKeyInfo
// Prints one line per check and a summary; exit 0 when every check came out as
// expected.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const noble = await import(pathToFileURL(process.env.NOBLE + '/ml-dsa.js').href);

// ---- DER: just what these structures need, strictly -----------------------------
class DerError extends Error {}

// Node = { tag, hdr (offset of the tag), body (offset of the contents), end }
function node(buf, at) {
  if (at + 2 > buf.length) throw new DerError(`truncated header at ${at}`);
  const tag = buf[at];
  let len = buf[at + 1];
  let body = at + 2;
  if (len === 0x80) throw new DerError('indefinite length');
  if (len > 0x80) {
    const k = len & 0x7f;
    if (k > 3) throw new DerError('length too long');
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + buf[body + i];
    body += k;
  }
  const end = body + len;
  if (end > buf.length) throw new DerError(`element at ${at} runs past the end`);
  return { tag, hdr: at, body, end };
}
function kids(buf, n) {
  const out = [];
  let at = n.body;
  while (at < n.end) {
    const c = node(buf, at);
    out.push(c);
    at = c.end;
  }
  if (at !== n.end) throw new DerError('children overrun');
  return out;
}
const whole = (buf, n) => buf.subarray(n.hdr, n.end);
const contents = (buf, n) => buf.subarray(n.body, n.end);

// Encode tag + definite length + body (minimal length octets).
function wrap(tag, body) {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff]
    : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}
function join(parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let k = 0;
  for (const p of parts) { out.set(p, k); k += p.length; }
  return out;
}
const hex = (b) => Buffer.from(b).toString('hex');

function readDer(path) {
  const raw = readFileSync(path);
  const text = raw.toString('latin1');
  const m = text.match(/-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END/);
  return new Uint8Array(m ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64') : raw);
}

// ---- algorithms ----------------------------------------------------------------
// RFC 9881: id-ml-dsa-44/65/87 = 2.16.840.1.101.3.4.3.17/18/19, parameters absent.
const ML_DSA = {
  '0609608648016503040311': ['ML-DSA-44', () => noble.ml_dsa44],
  '0609608648016503040312': ['ML-DSA-65', () => noble.ml_dsa65],
  '0609608648016503040313': ['ML-DSA-87', () => noble.ml_dsa87],
};
function mlDsa(buf, algId) {
  if (algId.tag !== 0x30) throw new DerError('AlgorithmIdentifier is not a SEQUENCE');
  const parts = kids(buf, algId);
  const entry = ML_DSA[hex(whole(buf, parts[0]))];
  if (!entry) return null;
  if (parts.length !== 1) throw new DerError('ML-DSA AlgorithmIdentifier with parameters');
  return { name: entry[0], dsa: entry[1]() };
}
// BIT STRING contents without the unused-bits octet (which must be 0).
function bits(buf, n) {
  if (n.tag !== 0x03 || buf[n.body] !== 0) throw new DerError('not a whole-octet BIT STRING');
  return buf.subarray(n.body + 1, n.end);
}
// SubjectPublicKeyInfo node -> raw public key, checked to be ML-DSA.
function spkiKey(buf, spki) {
  const [alg, key] = kids(buf, spki);
  if (!mlDsa(buf, alg)) throw new DerError('the key is not an ML-DSA key');
  return bits(buf, key);
}

// ---- certificates --------------------------------------------------------------
// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
// TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
//   issuer, validity, subject, subjectPublicKeyInfo, [1] issuerUniqueID OPTIONAL,
//   [2] subjectUniqueID OPTIONAL, [3] extensions OPTIONAL }
function parseCert(buf) {
  const top = node(buf, 0);
  if (top.end !== buf.length) throw new DerError('trailing bytes after the certificate');
  const [tbs, sigAlg, sig] = kids(buf, top);
  const fields = kids(buf, tbs);
  let i = fields[0].tag === 0xa0 ? 1 : 0;
  const sigField = i + 1;
  const spki = fields[i + 5];
  const exts = new Map();
  const extNode = fields.find((f) => f.tag === 0xa3);
  if (extNode) {
    const [seq] = kids(buf, extNode);
    for (const e of kids(buf, seq)) {
      const p = kids(buf, e);
      const oid = hex(contents(buf, p[0]));
      const octets = p[p.length - 1];
      if (octets.tag !== 0x04) throw new DerError('extnValue is not an OCTET STRING');
      exts.set(oid, { ext: e, value: node(buf, octets.body) });
    }
  }
  return { buf, tbs, sigAlg, sig, fields, sigField, spki, exts, extNode };
}
const OID_ALT_SPKI = '551d48', OID_ALT_ALG = '551d49', OID_ALT_VALUE = '551d4a';

// The issuer's alternative key: its altSubjectPublicKeyInfo extension value.
function altKeyOf(c) {
  const x = c.exts.get(OID_ALT_SPKI);
  if (!x) throw new DerError('no altSubjectPublicKeyInfo');
  return spkiKey(c.buf, x.value);
}

// The bytes the alternative signature covers: the TBSCertificate without the
// signature field and without the altSignatureValue extension, re-encoded.
function altTbs(c) {
  const { buf } = c;
  const parts = [];
  c.fields.forEach((f, i) => {
    if (i === c.sigField) return;
    if (f === c.extNode) {
      const keep = [...c.exts.entries()].filter(([oid]) => oid !== OID_ALT_VALUE)
        .map(([, x]) => whole(buf, x.ext));
      if (keep.length) parts.push(wrap(f.tag, wrap(0x30, join(keep))));
      return;
    }
    parts.push(whole(buf, f));
  });
  return wrap(0x30, join(parts));
}

// ---- CRLs ---------------------------------------------------------------------------
// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer, thisUpdate,
//   nextUpdate OPTIONAL, revokedCertificates SEQUENCE OF ... OPTIONAL,
//   [0] EXPLICIT Extensions OPTIONAL }
// The same shape as parseCert's result, so altTbs serves both (the extensions
// wrapper is [0] here, [3] in a certificate).
function parseCrl(buf) {
  const top = node(buf, 0);
  if (top.end !== buf.length) throw new DerError('trailing bytes after the CRL');
  const [tbs, sigAlg, sig] = kids(buf, top);
  const fields = kids(buf, tbs);
  const sigField = fields[0].tag === 0x02 ? 1 : 0;
  const exts = new Map();
  const extNode = fields.find((f) => f.tag === 0xa0);
  if (extNode) {
    const [seq] = kids(buf, extNode);
    for (const e of kids(buf, seq)) {
      const p = kids(buf, e);
      const octets = p[p.length - 1];
      if (octets.tag !== 0x04) throw new DerError('extnValue is not an OCTET STRING');
      exts.set(hex(contents(buf, p[0])), { ext: e, value: node(buf, octets.body) });
    }
  }
  return { buf, tbs, sigAlg, sig, fields, sigField, exts, extNode };
}

// ---- OCSP responses --------------------------------------------------------------
// OCSPResponse ::= SEQUENCE { responseStatus, [0] EXPLICIT ResponseBytes }
// ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
// BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature,
//                                 [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
// ResponseData ::= SEQUENCE { [0] version OPTIONAL, responderID, producedAt,
//                            responses, [1] EXPLICIT Extensions OPTIONAL }
function parseResponse(buf) {
  const top = node(buf, 0);
  const [status, rb] = kids(buf, top);
  if (hex(contents(buf, status)) !== '00') throw new DerError('not a successful response');
  const [, octets] = kids(buf, kids(buf, rb)[0]);
  const basic = node(buf, octets.body);
  const [tbs, sigAlg, sig, certs] = kids(buf, basic);
  const certList = certs ? kids(buf, kids(buf, certs)[0]) : [];
  return { buf, tbs, sigAlg, sig, certList };
}
function certInResponse(r, i) {
  const c = r.certList[i];
  return parseCert(r.buf.slice(c.hdr, c.end));
}

// ---- checks ----------------------------------------------------------------------
function check(kind, file, issuerFile) {
  if (kind === 'cert' || kind === 'alt-cert' || kind === 'crl' || kind === 'alt-crl') {
    const c = kind.endsWith('crl') ? parseCrl(readDer(file)) : parseCert(readDer(file));
    const issuer = parseCert(readDer(issuerFile));
    if (kind === 'cert' || kind === 'crl') {
      const m = mlDsa(c.buf, c.sigAlg);
      if (!m) throw new DerError('signatureAlgorithm is not ML-DSA');
      return [m.name, m.dsa.verify(bits(c.buf, c.sig), whole(c.buf, c.tbs),
        spkiKey(issuer.buf, issuer.spki))];
    }
    const alg = c.exts.get(OID_ALT_ALG), val = c.exts.get(OID_ALT_VALUE);
    if (!alg || !val) throw new DerError('no altSignatureAlgorithm/altSignatureValue');
    const m = mlDsa(c.buf, alg.value);
    if (!m) throw new DerError('altSignatureAlgorithm is not ML-DSA');
    return [m.name, m.dsa.verify(bits(c.buf, val.value), altTbs(c), altKeyOf(issuer))];
  }
  const r = parseResponse(readDer(file));
  const issuer = issuerFile && issuerFile !== '-' ? parseCert(readDer(issuerFile)) : null;
  const signer = r.certList.length ? certInResponse(r, 0) : issuer;
  if (!signer) throw new DerError('no certificate to take the key from');
  if (kind === 'resp') {
    const m = mlDsa(r.buf, r.sigAlg);
    if (!m) throw new DerError('signatureAlgorithm is not ML-DSA');
    return [m.name, m.dsa.verify(bits(r.buf, r.sig), whole(r.buf, r.tbs),
      spkiKey(signer.buf, signer.spki))];
  }
  // alt-resp: responseExtensions is the [1] after `responses`
  const { buf } = r;
  const fields = kids(buf, r.tbs);
  const last = fields[fields.length - 1];
  if (last.tag !== 0xa1) throw new DerError('no responseExtensions');
  const exts = kids(buf, kids(buf, last)[0]).map((e) => {
    const p = kids(buf, e);
    return { oid: hex(contents(buf, p[0])), e, value: node(buf, p[p.length - 1].body) };
  });
  const alg = exts.find((x) => x.oid === OID_ALT_ALG), val = exts.find((x) => x.oid === OID_ALT_VALUE);
  if (!alg || !val) throw new DerError('no altSignatureAlgorithm/altSignatureValue');
  const m = mlDsa(buf, alg.value);
  if (!m) throw new DerError('altSignatureAlgorithm is not ML-DSA');
  const keep = exts.filter((x) => x.oid !== OID_ALT_VALUE).map((x) => whole(buf, x.e));
  const msg = wrap(0x30, join([...fields.slice(0, -1).map((f) => whole(buf, f)),
    ...(keep.length ? [wrap(0xa1, wrap(0x30, join(keep)))] : [])]));
  return [m.name, m.dsa.verify(bits(buf, val.value), msg, altKeyOf(signer))];
}

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim());
let asExpected = 0;
const counts = {};
for (const line of lines) {
  const [kind, file, issuer, expect] = line.trim().split(/\s+/);
  let name = '?', good = false, note = '';
  try {
    [name, good] = check(kind, file, issuer);
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    note = ` (${e.message})`;
  }
  const got = good ? 'valid' : 'invalid';
  const ok = got === expect;
  if (ok) asExpected++;
  const key = `${kind} ${name}`;
  counts[key] = (counts[key] || 0) + 1;
  console.log(`${ok ? 'ok' : 'FAIL'} - ${kind} ${name} ${file}: ${got}${note}, expected ${expect}`);
}
for (const [k, n] of Object.entries(counts).sort()) console.log(`# ${k}: ${n}`);
console.log(`# noble: ${asExpected} of ${lines.length} checks as expected`);
process.exit(asExpected === lines.length ? 0 : 1);
