// tests/interop/catalyst_noble.mjs - independent check of Catalyst hybrid OCSP
// responses: a small DER walker written here (not the library's) finds the
// altSignatureAlgorithm (2.5.29.73) and altSignatureValue (2.5.29.74)
// responseExtensions, re-encodes tbsResponseData without the .74 extension as
// docs/CATALYST.md specifies, and verifies the ML-DSA signature with
// @noble/post-quantum.
//   node catalyst_noble.mjs RESPONSE.der ALT_SPKI.der [expect=valid|invalid] ...
import { readFileSync } from 'node:fs';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

function tlv(buf, off) {
  const tag = buf[off];
  let len = buf[off + 1], hdr = 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + buf[off + 2 + i];
    hdr = 2 + k;
  }
  return { tag, start: off, hdr, len, end: off + hdr + len, body: buf.subarray(off + hdr, off + hdr + len) };
}
function children(body) {
  const out = [];
  for (let off = 0; off < body.length;) { const t = tlv(body, off); out.push(t); off = t.end; }
  return out;
}
function encLen(n) {
  if (n < 0x80) return [n];
  const b = [];
  while (n > 0) { b.unshift(n & 0xff); n = Math.floor(n / 256); }
  return [0x80 | b.length, ...b];
}
function enc(tag, parts) {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...encLen(body.length)]), body]);
}
const hex = (b) => Buffer.from(b).toString('hex');
const OID_ALG = '0603551d49', OID_VAL = '0603551d4a';
const LEVELS = { '608648016503040311': ml_dsa44, '608648016503040312': ml_dsa65, '608648016503040313': ml_dsa87 };

function check(respPath, spkiPath) {
  const der = readFileSync(respPath);
  const resp = tlv(der, 0);
  const [, bytes0] = children(resp.body);                 // responseStatus, [0] responseBytes
  const [rbytes] = children(bytes0.body);
  const [, octets] = children(rbytes.body);              // responseType, response OCTET STRING
  const basic = tlv(octets.body, 0);
  const [tbs] = children(basic.body);
  let alg = null, sig = null;
  const rebuilt = [];
  for (const el of children(tbs.body)) {
    if (el.tag !== 0xa1) {                               // copied byte for byte
      rebuilt.push(tbs.body.subarray(el.start, el.end));
      continue;
    }
    const [list] = children(el.body);                    // [1] EXPLICIT Extensions
    const keep = [];
    for (const ext of children(list.body)) {
      const parts = children(ext.body);                  // extnID, [critical], extnValue
      const oidHex = hex(ext.body.subarray(parts[0].start, parts[0].end));
      const value = parts[parts.length - 1].body;
      if (oidHex === OID_ALG) alg = value;
      if (oidHex === OID_VAL) { sig = value; continue; } // not part of the signed bytes
      keep.push(list.body.subarray(ext.start, ext.end));
    }
    rebuilt.push(enc(0xa1, [enc(0x30, keep)]));
  }
  if (!alg || !sig) return 'no alternative signature';
  const signed = enc(0x30, rebuilt);
  const algOid = children(tlv(alg, 0).body)[0];
  const dsa = LEVELS[hex(algOid.body)];
  if (!dsa) return 'unknown altSignatureAlgorithm ' + hex(alg);
  const bits = tlv(sig, 0).body.subarray(1);              // BIT STRING minus unused-bits octet
  const spki = tlv(readFileSync(spkiPath), 0);
  const pk = children(spki.body)[1].body.subarray(1);
  return dsa.verify(bits, signed, pk) ? 'valid' : 'invalid';
}

const args = process.argv.slice(2);
let bad = 0, n = 0;
for (let i = 0; i + 2 < args.length; i += 3) {
  const [resp, spki, want] = [args[i], args[i + 1], args[i + 2]];
  const got = check(resp, spki);
  n++;
  if (got !== want) { bad++; console.log(`FAIL ${resp}: noble says ${got}, want ${want}`); }
}
console.log(`catalyst/noble: ${n - bad} of ${n} responses as expected`);
process.exit(bad ? 1 : 0);
