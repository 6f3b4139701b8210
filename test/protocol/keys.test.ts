import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { decodePoint, isSmallOrder, L } from '../../protocol/ed25519-point.ts';
import {
  fingerprintOf,
  generateKeyPair,
  keyPairFromPrivate,
  keyPairFromSeed,
  parsePublicKey,
  SIGNING_CONTEXTS,
  type SigningContext,
  signDigest,
  signedMessage,
  verifyDigest,
} from '../../protocol/keys.ts';

const P = 2n ** 255n - 19n;
const D = (((-121665n * modPow(121666n, P - 2n)) % P) + P) % P;

function modPow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = ((base % P) + P) % P;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

function mod(a: bigint): bigint {
  return ((a % P) + P) % P;
}

/** Affine twisted-Edwards addition, written here independently of protocol/ed25519-point.ts. */
function add(a: { x: bigint; y: bigint }, b: { x: bigint; y: bigint }) {
  const t = mod(D * a.x * b.x * a.y * b.y);
  return {
    x: mod((a.x * b.y + a.y * b.x) * modPow(1n + t, P - 2n)),
    y: mod((a.y * b.y + a.x * b.x) * modPow(mod(1n - t), P - 2n)),
  };
}

/** k·P by repeated addition (k small). */
function times(k: number, p: { x: bigint; y: bigint }) {
  let r = { x: 0n, y: 1n };
  for (let i = 0; i < k; i++) r = add(r, p);
  return r;
}

/** The order of a point of small order (1, 2, 4 or 8), or null when 8·P is not the identity. */
function orderOf(p: { x: bigint; y: bigint }): number | null {
  for (const k of [1, 2, 4, 8]) {
    const q = times(k, p);
    if (q.x === 0n && q.y === 1n) return k;
  }
  return null;
}

function le(n: bigint): Buffer {
  const b = Buffer.alloc(32);
  let v = n;
  for (let i = 0; i < 32; i++) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function b64(hexOrBytes: string | Uint8Array): string {
  return Buffer.from(typeof hexOrBytes === 'string' ? Buffer.from(hexOrBytes, 'hex') : hexOrBytes).toString(
    'base64url',
  );
}

/**
 * The eight points of small order in their canonical encodings (as listed in libsodium's
 * blocklist and "Taming the many EdDSAs", Chalkias et al. 2020).
 */
const SMALL_ORDER = [
  ['0100000000000000000000000000000000000000000000000000000000000000', 1], // identity
  ['ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 2], // (0, -1)
  ['0000000000000000000000000000000000000000000000000000000000000000', 4], // (+sqrt(-1), 0)
  ['0000000000000000000000000000000000000000000000000000000000000080', 4], // (-sqrt(-1), 0)
  ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 8],
  ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', 8],
  ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 8],
  ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 8],
] as const;

t.test('the eight small-order points decode, have order 1, 2, 4 or 8, and isSmallOrder agrees', async (t) => {
  t.equal(orderOf({ x: 0n, y: 1n }), 1, 'identity has order 1');
  const seen = new Set<string>();
  for (const [hex, order] of SMALL_ORDER) {
    const point = decodePoint(Buffer.from(hex, 'hex'));
    t.ok(point, `${hex.slice(0, 8)}… is a canonical encoding of a curve point`);
    if (!point) continue;
    t.equal(orderOf(point), order, `${hex.slice(0, 8)}… has order ${order}`);
    t.ok(isSmallOrder(point), `isSmallOrder(${hex.slice(0, 8)}…)`);
    seen.add(`${point.x},${point.y}`);
  }
  t.equal(seen.size, 8, 'eight distinct points');
  // They form the whole torsion subgroup: closed under addition.
  const points = SMALL_ORDER.map(([hex]) => decodePoint(Buffer.from(hex, 'hex'))!);
  let open = 0;
  for (const a of points)
    for (const b of points) {
      const c = add(a, b);
      if (!seen.has(`${c.x},${c.y}`)) open++;
    }
  t.equal(open, 0, 'the sum of any two of them is one of them: they are the whole torsion subgroup');
});

t.test('parsePublicKey refuses every small-order point', async (t) => {
  for (const [hex, order] of SMALL_ORDER) {
    const r = parsePublicKey(b64(hex));
    t.type(r, 'string', `order-${order} point ${hex.slice(0, 8)}… is refused`);
    t.match(r, /small order/, 'because it is of small order');
  }
});

t.test('isSmallOrder is false for the points of generated keys', async (t) => {
  for (let i = 0; i < 20; i++) {
    const raw = generateKeyPair().publicKey.raw;
    const point = decodePoint(raw);
    t.ok(point && !isSmallOrder(point), `key ${i}`);
  }
});

t.test('parsePublicKey refuses non-canonical encodings with y ≥ p, whatever the sign bit', async (t) => {
  let refused = 0;
  let onCurve = 0;
  for (let k = 0n; k < 19n; k++) {
    const y = P + k; // < 2^255, so it fits in 255 bits
    for (const sign of [0n, 1n]) {
      const bytes = le(y | (sign << 255n));
      // The same point with y reduced would be accepted by a lax decoder for these:
      if (decodePoint(le(y - P))) onCurve++;
      t.equal(decodePoint(bytes), null, `y = p + ${k}, sign ${sign}: decodePoint refuses`);
      const r = parsePublicKey(b64(bytes));
      if (typeof r === 'string' && /canonical/.test(r)) refused++;
    }
  }
  t.equal(refused, 38, 'all 38 encodings refused as non-canonical');
  t.ok(
    onCurve > 0,
    'some of them would name real points if reduced (so the refusal is canonicity, not the curve)',
  );
});

t.test('parsePublicKey refuses "negative zero": x = 0 with the sign bit set', async (t) => {
  for (const hex of [
    '0100000000000000000000000000000000000000000000000000000000000080', // (0, 1) with sign
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // (0, -1) with sign
  ]) {
    t.equal(decodePoint(Buffer.from(hex, 'hex')), null, `${hex.slice(0, 8)}…${hex.slice(-2)}`);
    t.match(parsePublicKey(b64(hex)), /not a canonical encoding/);
  }
});

t.test('parsePublicKey refuses a y that is not on the curve', async (t) => {
  // y = 2: (y² - 1) / (d·y² + 1) is not a square mod p.
  const bytes = le(2n);
  t.equal(decodePoint(bytes), null);
  t.match(parsePublicKey(b64(bytes)), /not a canonical encoding of a point/);
});

t.test('parsePublicKey refuses wrong lengths', async (t) => {
  const good = generateKeyPair().publicKey.raw;
  for (const len of [0, 1, 31, 33, 64]) {
    const bytes = Buffer.alloc(len, 0);
    good.copy(bytes, 0, 0, Math.min(len, 32));
    t.match(parsePublicKey(b64(bytes)), /32 bytes, got/, `${len} bytes`);
  }
});

t.test('parsePublicKey refuses text that is not strict base64url', async (t) => {
  const text = generateKeyPair().publicKeyText;
  t.equal(text.length, 43);
  const cases = {
    'standard base64 with padding': `${Buffer.from(text, 'base64url').toString('base64')}`,
    padded: `${text}=`,
    'a plus sign': `+${text.slice(1)}`,
    'a slash': `/${text.slice(1)}`,
    'a space': ` ${text.slice(1)}`,
    'a trailing newline': `${text}\n`,
    // 43 characters carry 258 bits; the two spare bits of the last character must be zero.
    'non-zero spare bits': text.slice(0, 42) + String.fromCharCode(text.charCodeAt(42) ^ 1),
  };
  for (const [what, bad] of Object.entries(cases)) {
    if (bad === text) continue;
    const r = parsePublicKey(bad);
    t.type(r, 'string', what);
  }
  t.match(
    parsePublicKey(cases['non-zero spare bits']),
    /not base64url/,
    'spare bits are caught by strict decoding',
  );
});

t.test('parsePublicKey accepts generated keys, and fingerprintOf is SHA-256 of the raw key', async (t) => {
  for (let i = 0; i < 20; i++) {
    const pair = generateKeyPair();
    const parsed = parsePublicKey(pair.publicKeyText);
    if (typeof parsed === 'string') {
      t.fail(parsed);
      continue;
    }
    t.equal(parsed.raw.length, 32);
    const expected = createHash('sha256').update(parsed.raw).digest('hex');
    t.equal(parsed.fingerprint, expected);
    t.equal(fingerprintOf(parsed.raw), expected);
    t.equal(pair.publicKey.fingerprint, expected);
  }
});

t.test('keyPairFromSeed is deterministic and matches RFC 8032 test vector 1', async (t) => {
  const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
  const a = keyPairFromSeed(seed);
  const b = keyPairFromSeed(Buffer.from(seed));
  t.equal(
    a.publicKey.raw.toString('hex'),
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  );
  t.equal(a.publicKeyText, b.publicKeyText);
  const digest = createHash('sha256').update('x').digest();
  t.equal(
    signDigest(a.privateKey, 'entry', digest),
    signDigest(b.privateKey, 'entry', digest),
    'same signatures',
  );
  t.not(
    keyPairFromSeed(Buffer.alloc(32, 1)).publicKeyText,
    keyPairFromSeed(Buffer.alloc(32, 2)).publicKeyText,
  );
  t.throws(() => keyPairFromSeed(Buffer.alloc(31)), /32 bytes/);
  t.throws(() => keyPairFromSeed(Buffer.alloc(33)), /32 bytes/);
});

t.test('keyPairFromPrivate rebuilds the same public key from a PEM', async (t) => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  t.equal(keyPairFromPrivate(pem).publicKeyText, keyPairFromPrivate(privateKey).publicKeyText);
});

t.test('signedMessage is the context, one zero byte, then the digest', async (t) => {
  const digest = Buffer.alloc(32, 7);
  for (const [name, text] of Object.entries(SIGNING_CONTEXTS)) {
    t.same(
      signedMessage(name as SigningContext, digest),
      Buffer.concat([Buffer.from(text), Buffer.of(0), digest]),
    );
  }
});

t.test('signDigest / verifyDigest round-trip under every context', async (t) => {
  const pair = generateKeyPair();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom(...(Object.keys(SIGNING_CONTEXTS) as SigningContext[])),
      (digest, context) =>
        verifyDigest(pair.publicKey, context, digest, signDigest(pair.privateKey, context, digest)) === null,
    ),
    { numRuns: 100 },
  );
  t.pass('held');
});

const pair = keyPairFromSeed(Buffer.alloc(32, 9));
const digest = createHash('sha256').update('an entry').digest();
const good = Buffer.from(signDigest(pair.privateKey, 'entry', digest), 'base64url');

t.test('verifyDigest refuses a signature made under another context', async (t) => {
  const contexts = Object.keys(SIGNING_CONTEXTS) as SigningContext[];
  for (const a of contexts)
    for (const b of contexts) {
      if (a === b) continue;
      const sig = signDigest(pair.privateKey, a, digest);
      t.equal(verifyDigest(pair.publicKey, b, digest, sig), 'signature does not verify', `${a} is not ${b}`);
    }
});

t.test('verifyDigest refuses S ≥ L (a valid signature with L added to S)', async (t) => {
  t.equal(verifyDigest(pair.publicKey, 'entry', digest, b64(good)), null, 'the original verifies');
  const s = BigInt(`0x${Buffer.from(good.subarray(32)).reverse().toString('hex')}`);
  t.ok(s < L);
  for (const [what, scalar] of [
    ['S + L', s + L],
    ['S + 2L', s + 2n * L],
    ['L', L],
    ['2^256 - 1', 2n ** 256n - 1n],
  ] as const) {
    const sig = Buffer.concat([good.subarray(0, 32), le(scalar)]);
    t.match(verifyDigest(pair.publicKey, 'entry', digest, b64(sig)), /S ≥ L/, what);
  }
});

t.test('verifyDigest refuses a non-canonical R', async (t) => {
  for (const r of [
    le(P + 1n), // y = 1 (the identity) encoded as p + 1
    le(P), // y = 0 encoded as p
    Buffer.from('0100000000000000000000000000000000000000000000000000000000000080', 'hex'), // negative zero
  ]) {
    const sig = Buffer.concat([r, good.subarray(32)]);
    t.match(verifyDigest(pair.publicKey, 'entry', digest, b64(sig)), /R is not a canonical encoding/);
  }
});

t.test('verifyDigest refuses any single flipped bit of the signature or the digest', async (t) => {
  let refused = 0;
  for (let bit = 0; bit < 512; bit++) {
    const sig = Buffer.from(good);
    sig[bit >> 3]! ^= 1 << (bit & 7);
    if (verifyDigest(pair.publicKey, 'entry', digest, b64(sig)) !== null) refused++;
  }
  t.equal(refused, 512, 'every signature bit');
  refused = 0;
  for (let bit = 0; bit < 256; bit++) {
    const d = Buffer.from(digest);
    d[bit >> 3]! ^= 1 << (bit & 7);
    if (verifyDigest(pair.publicKey, 'entry', d, b64(good)) !== null) refused++;
  }
  t.equal(refused, 256, 'every digest bit');
});

t.test(
  'verifyDigest refuses a signature by another key, of the wrong length, or not base64url',
  async (t) => {
    const other = keyPairFromSeed(Buffer.alloc(32, 10));
    t.equal(verifyDigest(other.publicKey, 'entry', digest, b64(good)), 'signature does not verify');
    t.match(verifyDigest(pair.publicKey, 'entry', digest, b64(good.subarray(0, 63))), /64 bytes, got 63/);
    t.match(
      verifyDigest(pair.publicKey, 'entry', digest, b64(Buffer.concat([good, Buffer.of(0)]))),
      /64 bytes, got 65/,
    );
    t.match(verifyDigest(pair.publicKey, 'entry', digest, `${b64(good)}==`), /not base64url/);
    const standard = good.toString('base64');
    if (/[+/=]/.test(standard))
      t.match(verifyDigest(pair.publicKey, 'entry', digest, standard), /not base64url/);
  },
);
