// SPDX-License-Identifier: Apache-2.0
// tests/interop/mldsa_noble.mjs - differential test of our ML-DSA against
// @noble/post-quantum (an independent TypeScript implementation of FIPS 204).
//
//   node mldsa_noble.mjs TOOL [CASES_PER_LEVEL]
//
// For each of ML-DSA-44/65/87 and each random case (seed, message of 0..400
// bytes, context of 0..255 bytes, hedged rnd or deterministic):
//   - keys from the same seed are byte-identical (pk and sk);
//   - our signature verifies in noble and noble's verifies in ours;
//   - with the same rnd (or none) the two signatures are byte-identical;
//   - a signature with one flipped bit is rejected by both.
// Prints counts; exits 1 on any mismatch.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

const tool = process.argv[2];
const perLevel = Number(process.argv[3] || 20);
if (!tool) {
  console.error('usage: node mldsa_noble.mjs TOOL [CASES_PER_LEVEL]');
  process.exit(2);
}
const hex = (b) => (b.length ? Buffer.from(b).toString('hex') : '-');
const unhex = (s) => new Uint8Array(Buffer.from(s === '-' ? '' : s, 'hex'));
const randInt = (n) => randomBytes(4).readUInt32LE() % n;

const sets = [
  [44, ml_dsa44],
  [65, ml_dsa65],
  [87, ml_dsa87],
];
let failures = 0;
let passed = 0;
for (const [lvl, dsa] of sets) {
  const cases = [];
  for (let i = 0; i < perLevel; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const msg = new Uint8Array(randomBytes(randInt(401)));
    const ctx = new Uint8Array(randomBytes(i % 4 === 0 ? 0 : randInt(256)));
    const rnd = i % 2 === 0 ? new Uint8Array(randomBytes(32)) : null; // null: deterministic
    const keys = dsa.keygen(seed);
    const nsig = dsa.sign(msg, keys.secretKey, { context: ctx, extraEntropy: rnd ?? false });
    cases.push({ seed, msg, ctx, rnd, keys, nsig });
  }
  // Round 1: our keygen, our signatures (with noble's secret key: the keys are
  // compared too), our verification of noble's signatures and of tampered ones.
  let input = '';
  for (const c of cases) {
    const bad = Uint8Array.from(c.nsig);
    bad[randInt(bad.length)] ^= 1 << randInt(8);
    c.badNoble = bad;
    input += `keygen ${lvl} ${hex(c.seed)}\n`;
    input += `sign ${lvl} ${hex(c.keys.secretKey)} ${hex(c.msg)} ${hex(c.ctx)} ${c.rnd ? hex(c.rnd) : '-'}\n`;
    input += `verify ${lvl} ${hex(c.keys.publicKey)} ${hex(c.msg)} ${hex(c.ctx)} ${hex(c.nsig)}\n`;
    input += `verify ${lvl} ${hex(c.keys.publicKey)} ${hex(c.msg)} ${hex(c.ctx)} ${hex(bad)}\n`;
  }
  const out = execFileSync(tool, [], { input, maxBuffer: 1 << 28 }).toString().trim().split('\n');
  const n = { keys: 0, oursInNoble: 0, nobleInOurs: 0, identical: 0, tamperedRejected: 0 };
  cases.forEach((c, i) => {
    const [pk, sk] = out[4 * i].split(' ');
    const osig = unhex(out[4 * i + 1]);
    const ok = [
      pk === hex(c.keys.publicKey) && sk === hex(c.keys.secretKey),
      dsa.verify(osig, c.msg, c.keys.publicKey, { context: c.ctx }),
      out[4 * i + 2] === '1',
      hex(osig) === hex(c.nsig),
    ];
    const badOurs = Uint8Array.from(osig);
    badOurs[randInt(badOurs.length)] ^= 1 << randInt(8);
    const nobleRejects = !dsa.verify(badOurs, c.msg, c.keys.publicKey, { context: c.ctx });
    ok.push(out[4 * i + 3] === '0' && nobleRejects);
    ['keys', 'oursInNoble', 'nobleInOurs', 'identical', 'tamperedRejected'].forEach((k, j) => {
      if (ok[j]) n[k]++;
    });
    if (ok.every(Boolean)) passed++;
    else failures++;
  });
  const line = `ML-DSA-${lvl}: keys identical ${n.keys}/${perLevel}, our signatures verify in noble ` +
    `${n.oursInNoble}/${perLevel}, noble signatures verify in ours ${n.nobleInOurs}/${perLevel}, ` +
    `identical signatures (same rnd) ${n.identical}/${perLevel}, tampered rejected by both ` +
    `${n.tamperedRejected}/${perLevel}`;
  console.log(line);
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
