/**
 * @module Writes protocol/vectors/: the deterministic test vectors of the evidence format [EVIDENCE §12].
 * Run `npx tsx scripts/make-vectors.ts`. Every value is computed by protocol/ from fixed seeds, times,
 * ids and bytes, so a second run writes the same bytes; test/protocol/vectors.test.ts checks that.
 */
import { sign } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalText } from '../protocol/canonical.ts';
import { TrackChain } from '../protocol/chain.ts';
import { DeviceChain } from '../protocol/device-chain.ts';
import { L } from '../protocol/ed25519-point.ts';
import { type Entry, entryHash, type SignedEntry } from '../protocol/entry.ts';
import { chainFileName, LAYOUT, objectPath } from '../protocol/folder-layout.ts';
import { sha256, sha256Hex, toBase64Url } from '../protocol/hash.ts';
import {
  type KeyPair,
  keyPairFromSeed,
  parsePublicKey,
  SIGNING_CONTEXTS,
  type SigningContext,
  signDigest,
  signedMessage,
  verifyDigest,
} from '../protocol/keys.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromLeafHashes,
} from '../protocol/merkle.ts';
import { objectKey } from '../protocol/object-key.ts';
import { isoTime } from '../protocol/time.ts';

/** Where the vectors live, relative to the repository root. */
export const VECTORS_DIR = 'protocol/vectors';

/** A seed from a label: SHA-256 of the label's UTF-8 bytes (the label is written beside the seed). */
function seedOf(label: string): Buffer {
  return sha256(Buffer.from(label, 'utf8'));
}

/** The fixed inputs every vector is built from. */
export const FIXED = {
  gatewaySeedLabel: 'quanlu/vectors/gateway gw-vector-1',
  strangerSeedLabel: 'quanlu/vectors/stranger',
  gateway: 'gw-vector-1',
  recording: '5f1c2d3e-4a5b-4c6d-8e7f-0123456789ab',
  /** The recording of the dock chain (one per docking of a device). */
  dockRecording: '7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d',
  /** 2026-11-27T01:00:00.000Z */
  t0: Date.UTC(2026, 10, 27, 1, 0, 0, 0),
  clock: { offsetMs: -12, rttMs: 3, source: 'ingest' },
} as const;

/** RFC 8032 §7.1 TEST 1 and TEST 2 (pure Ed25519). */
const RFC8032 = [
  {
    name: 'RFC 8032 §7.1 TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'RFC 8032 §7.1 TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

/** The RFC 6962 reference tree: eight leaves, roots of every prefix, published proofs. */
export const RFC6962 = {
  leaves: [
    '',
    '00',
    '10',
    '2021',
    '3031',
    '40414243',
    '5051525354555657',
    '606162636465666768696a6b6c6d6e6f',
  ],
  roots: [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  /** Published in the certificate-transparency test data; keyed `index/size` and `first/second`. */
  inclusion: {
    '0/1': [],
    '0/8': [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
    '5/8': [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
    '2/3': ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'],
    '1/5': [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  } as Record<string, string[]>,
  consistency: {
    '1/1': [],
    '1/8': [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
    '6/8': [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
    '2/5': [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  } as Record<string, string[]>,
};

/** Throws when a generated value disagrees with a published one: the vectors must never drift from the RFCs. */
function expectEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: generated ${a}, published ${e}`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function keyVector(name: string, label: string | null, seed: Buffer, pair: KeyPair) {
  return {
    name,
    ...(label ? { seedLabel: label } : {}),
    seed: hex(seed),
    publicKey: pair.publicKeyText,
    publicKeyHex: hex(pair.publicKey.raw),
    fingerprint: pair.publicKey.fingerprint,
  };
}

/** A signature with S replaced by S + L: the same signature to a lax verifier, refused by a strict one. */
export function malleate(signature: string): string {
  const sig = Buffer.from(signature, 'base64url');
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
  s += L;
  const out = Buffer.from(sig);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return toBase64Url(out);
}

// ---------------------------------------------------------------------------------------------
// Chains

interface BuiltChain {
  track: string;
  objects: { seq: number; bytes: Buffer; sha256: string }[];
  entries: SignedEntry[];
}

function chainFor(track: string, gateway: KeyPair): TrackChain {
  return new TrackChain({
    gateway: FIXED.gateway,
    keyFingerprint: gateway.publicKey.fingerprint,
    privateKey: gateway.privateKey,
    recording: FIXED.recording,
    track,
  });
}

/** cam-1: a continuous camera track: open, 3 segments, a gap, 2 segments, close. */
function buildCameraChain(gateway: KeyPair): BuiltChain {
  const t = (ms: number) => isoTime(FIXED.t0 + ms);
  const clock = { ...FIXED.clock };
  const chain = chainFor('cam-1', gateway);
  const built: BuiltChain = { track: 'cam-1', objects: [], entries: [] };
  built.entries.push(
    chain.open({
      sealedAt: t(8),
      clock,
      start: t(0),
      continuity: 'continuous',
      case: {
        id: '沪0101行罚听〔2026〕7号',
        matter: '行政处罚听证',
        officers: ['31010001', '31010002'],
        room: 'hearing-1',
      },
      source: { kind: 'camera', name: 'Hearing room 1 — wide', device: 'cam-serial-A100', officer: null },
      startedBy: 'operator 0042',
    }),
  );
  // [start, durationMs]: segment 3 starts 33 ms late (keyframe jitter, within §6.3's tolerance).
  const spans: ([number, number] | 'gap')[] = [
    [0, 4000],
    [4000, 4000],
    [8033, 3967],
    'gap',
    [15500, 4000],
    [19500, 4000],
  ];
  let n = 0;
  for (const span of spans) {
    if (span === 'gap') {
      built.entries.push(
        chain.gap({
          sealedAt: t(15520),
          clock,
          from: t(12000),
          to: t(15500),
          reason: 'source-lost',
          detail: 'camera stopped answering RTSP; reconnected',
        }),
      );
      continue;
    }
    n++;
    const bytes = Buffer.from(`quanlu vector cam-1 segment ${n}\n`, 'utf8');
    const sha = sha256Hex(bytes);
    const [start, durationMs] = span;
    const signed = chain.segment({
      sealedAt: t(start + durationMs + 150),
      clock,
      object: { sha256: sha, size: bytes.length },
      start: t(start),
      durationMs,
      container: 'mpegts',
      name: null,
    });
    built.objects.push({ seq: (signed.entry as Entry).seq, bytes, sha256: sha });
    built.entries.push(signed);
  }
  built.entries.push(chain.close({ sealedAt: t(23700), clock, end: t(23500), reason: 'stopped' }));
  return built;
}

/** bodycam-1: a discrete track: two files offloaded from a body-worn recorder at a dock. */
function buildBodycamChain(gateway: KeyPair): BuiltChain {
  const t = (ms: number) => isoTime(FIXED.t0 + ms);
  const clock = { ...FIXED.clock };
  const chain = chainFor('bodycam-1', gateway);
  const built: BuiltChain = { track: 'bodycam-1', objects: [], entries: [] };
  built.entries.push(
    chain.open({
      sealedAt: t(30000),
      clock,
      start: t(30000),
      continuity: 'discrete',
      case: null,
      source: {
        kind: 'bodycam',
        name: 'Body-worn recorder DSJ-07',
        device: 'DSJ-07-SN20260042',
        officer: '31010002',
      },
      startedBy: 'dock-2',
    }),
  );
  const files = [
    { name: 'DSJ07_20261127_085900.MP4', start: -3660000, durationMs: 61250 },
    { name: 'DSJ07_20261127_091500.MP4', start: -2700000, durationMs: 125040 },
  ];
  for (const [i, f] of files.entries()) {
    const bytes = Buffer.concat([
      Buffer.from('00000018667479706d703432', 'hex'),
      Buffer.from(`quanlu vector bodycam-1 file ${i + 1}`, 'utf8'),
    ]);
    const sha = sha256Hex(bytes);
    const signed = chain.segment({
      sealedAt: t(30100 + i * 100),
      clock,
      object: { sha256: sha, size: bytes.length },
      start: t(f.start),
      durationMs: f.durationMs,
      container: 'mp4',
      name: f.name,
    });
    built.objects.push({ seq: (signed.entry as Entry).seq, bytes, sha256: sha });
    built.entries.push(signed);
  }
  built.entries.push(chain.close({ sealedAt: t(30400), clock, end: t(30400), reason: 'stopped' }));
  return built;
}

/** dock-dsj07: a device chain at a dock: open, two file entries, one deleted, one moved, close [EVIDENCE §4.8–§4.9]. */
function buildDockChain(gateway: KeyPair): BuiltChain {
  const t = (ms: number) => isoTime(FIXED.t0 + ms);
  const clock = { ...FIXED.clock };
  const track = 'dock-dsj-07-sn20260042';
  const chain = new DeviceChain({
    gateway: FIXED.gateway,
    keyFingerprint: gateway.publicKey.fingerprint,
    privateKey: gateway.privateKey,
    recording: FIXED.dockRecording,
    track,
  });
  const built: BuiltChain = { track, objects: [], entries: [] };
  built.entries.push(
    chain.open({
      sealedAt: t(60000),
      clock,
      start: t(60000),
      continuity: 'discrete',
      case: null,
      source: {
        kind: 'bodycam',
        name: 'Body-worn recorder DSJ-07',
        device: 'DSJ-07-SN20260042',
        officer: '31010002',
        clockOffsetMs: 1830,
      },
      startedBy: 'dock gw-vector-1',
    }),
  );
  const files = [
    { name: 'DCIM/100MEDIA/DSJ07_0001.MP4', modified: -3598750 },
    { name: 'DCIM/100MEDIA/DSJ07_0002.MP4', modified: -2574960 },
  ];
  const fileEntries: SignedEntry[] = [];
  for (const [i, f] of files.entries()) {
    const bytes = Buffer.concat([
      Buffer.from('00000018667479706d703432', 'hex'),
      Buffer.from(`quanlu vector dock file ${i + 1}`, 'utf8'),
    ]);
    const sha = sha256Hex(bytes);
    const signed = chain.file({
      sealedAt: t(60100 + i * 100),
      clock,
      object: { sha256: sha, size: bytes.length },
      name: f.name,
      modifiedAt: t(f.modified),
      createdAt: null,
      deviceClockOffsetMs: 1830,
      container: 'mp4',
      intact: false,
    });
    built.objects.push({ seq: (signed.entry as Entry).seq, bytes, sha256: sha });
    built.entries.push(signed);
    fileEntries.push(signed);
  }
  const [first, second] = fileEntries as [SignedEntry, SignedEntry];
  const of = (s: SignedEntry) => s.entry as Entry & { kind: 'file' };
  built.entries.push(
    chain.disposition({
      sealedAt: t(61000),
      clock,
      file: first.hash,
      name: of(first).name,
      object: of(first).object.sha256,
      action: 'deleted',
      to: null,
    }),
    chain.disposition({
      sealedAt: t(61010),
      clock,
      file: second.hash,
      name: of(second).name,
      object: of(second).object.sha256,
      action: 'moved',
      to: 'QUANLU-OFFLOADED/DSJ07_0002.MP4',
    }),
  );
  built.entries.push(chain.close({ sealedAt: t(61020), clock, end: t(61020), reason: 'stopped' }));
  return built;
}

function line(signed: SignedEntry): string {
  return JSON.stringify(signed);
}

// ---------------------------------------------------------------------------------------------
// The vector files

function keysFile(gateway: KeyPair, gatewaySeed: Buffer, stranger: KeyPair, strangerSeed: Buffer) {
  const rfc = RFC8032.map((v) => {
    const pair = keyPairFromSeed(Buffer.from(v.secretKey, 'hex'));
    const signature = hex(sign(null, Buffer.from(v.message, 'hex'), pair.privateKey));
    expectEqual(hex(pair.publicKey.raw), v.publicKey, `${v.name} public key`);
    expectEqual(signature, v.signature, `${v.name} signature`);
    return {
      name: v.name,
      seed: v.secretKey,
      publicKeyHex: hex(pair.publicKey.raw),
      publicKey: pair.publicKeyText,
      fingerprint: pair.publicKey.fingerprint,
      messageHex: v.message,
      signatureHex: signature,
      note: 'plain Ed25519 over the message bytes (no quanlu context): proves the key and sign path is RFC 8032',
    };
  });

  // One digest signed under every context: the same key and digest give a different signature per purpose.
  const digest = sha256(Buffer.from('quanlu', 'utf8'));
  const contexts = (Object.keys(SIGNING_CONTEXTS) as SigningContext[]).map((context) => ({
    context,
    contextText: SIGNING_CONTEXTS[context],
    digest: hex(digest),
    signedMessageHex: hex(signedMessage(context, digest)),
    signature: signDigest(gateway.privateKey, context, digest),
  }));

  const small = [
    ['0100000000000000000000000000000000000000000000000000000000000000', 'identity (0, 1), order 1'],
    ['ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', '(0, -1), order 2'],
    ['0000000000000000000000000000000000000000000000000000000000000000', '(sqrt(-1), 0), order 4'],
    ['0000000000000000000000000000000000000000000000000000000000000080', '(-sqrt(-1), 0), order 4'],
    ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'order 8, x even'],
    ['c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', 'order 8, x odd'],
    ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'order 8, x even'],
    ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', 'order 8, x odd'],
  ] as const;
  const nonCanonical = [
    [
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'y = p (≥ p; would reduce to y = 0)',
    ],
    [
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'y = p + 1 (≥ p; the identity, encoded again)',
    ],
    ['ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'y = 2^255 - 1 (≥ p)'],
    [
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      'y = p + 1 with the sign bit set (≥ p)',
    ],
    [
      '0100000000000000000000000000000000000000000000000000000000000080',
      '"negative zero": y = 1, x = 0, sign bit set',
    ],
    [
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
      '"negative zero": y = p - 1, x = 0, sign bit set',
    ],
    [
      '0200000000000000000000000000000000000000000000000000000000000000',
      'y = 2: no x satisfies the curve equation',
    ],
  ] as const;
  const refusedKey = (hexKey: string, description: string, kind: string) => {
    const text = toBase64Url(Buffer.from(hexKey, 'hex'));
    const reason = parsePublicKey(text);
    if (typeof reason !== 'string') throw new Error(`${description}: key was accepted`);
    return { description, class: kind, publicKeyHex: hexKey, publicKey: text, reason };
  };
  const refusedText = (text: string, description: string, kind: string) => {
    const reason = parsePublicKey(text);
    if (typeof reason !== 'string') throw new Error(`${description}: key was accepted`);
    return { description, class: kind, publicKey: text, reason };
  };
  const good = gateway.publicKeyText;
  // 32 bytes are 43 base64url characters; the last carries 4 bits of key and 2 bits that must be 0.
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const lastBits = good.slice(0, -1) + ALPHABET[ALPHABET.indexOf(good.slice(-1)) ^ 1]!;
  const refusedKeys = [
    ...small.map(([h, d]) => refusedKey(h, `small order: ${d}`, 'small-order')),
    ...nonCanonical.map(([h, d]) => refusedKey(h, `non-canonical: ${d}`, 'non-canonical')),
    refusedKey(hex(gateway.publicKey.raw).slice(0, 62), '31 bytes', 'length'),
    refusedKey(`${hex(gateway.publicKey.raw)}00`, '33 bytes', 'length'),
    refusedText(`${good}=`, 'base64url with padding', 'encoding'),
    refusedText(
      Buffer.from(gateway.publicKey.raw).toString('base64'),
      'standard base64 (+ and /)',
      'encoding',
    ),
    refusedText(lastBits, 'base64url whose unused low bits are not zero', 'encoding'),
  ].filter((v, i, all) => all.findIndex((w) => w.publicKey === v.publicKey) === i);

  // Signatures, all over the hash of the cam-1 open entry, context "entry", by the gateway key.
  const openDigest = entryHash(buildCameraChain(gateway).entries[0]!.entry);
  const valid = signDigest(gateway.privateKey, 'entry', openDigest);
  const validBytes = Buffer.from(valid, 'base64url');
  const withR = (rHex: string) =>
    toBase64Url(Buffer.concat([Buffer.from(rHex, 'hex'), validBytes.subarray(32)]));
  const flipped = Buffer.from(validBytes);
  flipped[40]! ^= 0x01;
  const sigCase = (
    description: string,
    kind: string,
    signature: string,
    context: SigningContext = 'entry',
  ) => {
    const reason = verifyDigest(gateway.publicKey, context, openDigest, signature);
    return { description, class: kind, context, signature, reason };
  };
  const signatures = {
    publicKey: gateway.publicKeyText,
    digest: hex(openDigest),
    cases: [
      sigCase('the valid signature', 'valid', valid),
      sigCase('S replaced by S + L (same signature to a lax verifier)', 'S-not-reduced', malleate(valid)),
      sigCase(
        'R replaced by a non-canonical encoding (y = p + 1)',
        'R-non-canonical',
        withR('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
      ),
      sigCase(
        'R replaced by "negative zero" (y = 1, x = 0, sign bit set)',
        'R-non-canonical',
        withR('0100000000000000000000000000000000000000000000000000000000000080'),
      ),
      sigCase(
        'R replaced by an encoding of no point (y = 2): canonical bytes, so only the verification equation refuses it',
        'does-not-verify',
        withR('0200000000000000000000000000000000000000000000000000000000000000'),
      ),
      sigCase('63 bytes', 'length', toBase64Url(validBytes.subarray(0, 63))),
      sigCase('base64url with padding', 'encoding', `${valid}==`),
      sigCase('one bit of S flipped', 'does-not-verify', toBase64Url(flipped)),
      sigCase(
        'the valid signature checked under another context (tree-head)',
        'does-not-verify',
        valid,
        'treeHead',
      ),
    ],
  };
  for (const c of signatures.cases) {
    if ((c.class === 'valid') !== (c.reason === null)) throw new Error(`signature case ${c.description}`);
  }

  return {
    description:
      'Ed25519 keys (RFC 8032, pure): seeds, public keys (base64url, no padding), fingerprints (SHA-256 of the raw 32 bytes); signatures under every context; keys and signatures that must be refused. See EVIDENCE §5.',
    rfc8032: rfc,
    keys: [
      keyVector(
        'gateway gw-vector-1 (signs every vector entry)',
        FIXED.gatewaySeedLabel,
        gatewaySeed,
        gateway,
      ),
      keyVector(
        'stranger (a valid key that is not in keys/)',
        FIXED.strangerSeedLabel,
        strangerSeed,
        stranger,
      ),
    ],
    keyFile: { alg: 'ed25519', publicKey: gateway.publicKeyText, owner: FIXED.gateway },
    contexts,
    refusedKeys,
    signatures,
  };
}

/** RFC 8785 §3.2.2: the published canonical form of its example. */
const RFC8785_EXAMPLE_OUTPUT =
  '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';

function canonicalFile() {
  const cases: [string, string][] = [
    [
      'members sorted by UTF-16 code units; whitespace removed',
      '{ "b": 1, "a": 2, "A": 3, "_": 4, "aa": 5 }',
    ],
    [
      'nested objects sorted at every level; array order kept',
      '{"z":{"y":[3,1,2],"x":{"b":null,"a":true}},"a":[{"d":1,"c":2}]}',
    ],
    [
      'RFC 8785 §3.2.3 sorting example: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code-point order',
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ],
    [
      'RFC 8785 §3.2.2 example (numbers, string escapes, literals)',
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    ],
    [
      'string escapes: only " and \\ and U+0000..U+001F are escaped; short forms \\b \\t \\n \\f \\r; other controls as lowercase \\u00xx; "/" and U+2028 are not escaped',
      '["\\u0000\\u0001\\u001f", "\\b\\t\\n\\f\\r", "\\"\\\\\\/", "\\u007f\\u2028\\u2029", "\\u00e9\\u884c\\u653f"]',
    ],
    [
      'non-ASCII is written as UTF-8, never escaped; no Unicode normalization (é precomposed and decomposed differ)',
      '{"case":"沪0101行罚听〔2026〕7号","nfc":"\\u00e9","nfd":"e\\u0301"}',
    ],
    [
      'numbers: ECMAScript shortest round-trip form (RFC 8785 §3.2.2.3)',
      '[0, -0, 1, -1, 1.0, 100, 1e2, 4.50, 2e-3, 0.000001, 1e-7, 1e20, 1e21, 1E30, 5e-324, 1.7976931348623157e308, 9007199254740991, 9007199254740992, 295147905179352830000, 9.999999999999997e22, 1e23, 333333333.33333329, -12]',
    ],
    ['literals and empty containers', '{"t":true,"f":false,"n":null,"o":{},"a":[],"s":""}'],
    [
      'an entry-shaped object: integers stay integers, negative offsets keep their sign',
      '{"seq":7,"prev":null,"clock":{"source":"ingest","rttMs":3,"offsetMs":-12},"alg":{"sig":"ed25519","hash":"sha-256","canon":"jcs"},"v":1}',
    ],
  ];
  const rfcExample = cases.find(([d]) => d.startsWith('RFC 8785 §3.2.2'))!;
  expectEqual(canonicalText(JSON.parse(rfcExample[1])), RFC8785_EXAMPLE_OUTPUT, 'RFC 8785 §3.2.2 example');
  return {
    description:
      'RFC 8785 (JCS) canonicalization: `input` is JSON text; parse it, canonicalize the value, and the UTF-8 bytes must equal `canonical` (sha256 is over those bytes). `refused` inputs have no canonical form. See EVIDENCE §3.',
    cases: cases.map(([description, input]) => {
      const canonical = canonicalText(JSON.parse(input));
      const bytes = Buffer.from(canonical, 'utf8');
      return { description, input, canonical, canonicalHex: hex(bytes), sha256: sha256Hex(bytes) };
    }),
    refused: [
      { description: 'a lone high surrogate (not I-JSON, RFC 7493)', input: '{"s":"\\ud800"}' },
      { description: 'a lone low surrogate', input: '["\\udc00x"]' },
    ].map((c) => {
      try {
        canonicalText(JSON.parse(c.input));
      } catch {
        return c;
      }
      throw new Error(`${c.description}: canonicalized`);
    }),
  };
}

function entryVector(description: string, signed: SignedEntry, gateway: KeyPair) {
  const canonical = canonicalText(signed.entry);
  const digest = entryHash(signed.entry);
  return {
    description,
    kind: (signed.entry as Entry).kind,
    entry: signed.entry,
    canonical,
    canonicalHex: Buffer.from(canonical, 'utf8').toString('hex'),
    hash: digest.toString('hex'),
    signedMessageHex: hex(signedMessage('entry', digest)),
    sig: signDigest(gateway.privateKey, 'entry', digest),
    line: line(signed),
  };
}

function entriesFile(cam: BuiltChain, body: BuiltChain, gateway: KeyPair) {
  const [open, seg1, , , gap, , , close] = cam.entries;
  const valid = [
    entryVector('open (continuous camera track, with case elements)', open!, gateway),
    entryVector('segment', seg1!, gateway),
    entryVector('gap', gap!, gateway),
    entryVector('close', close!, gateway),
    entryVector('open (discrete body-worn track, no case yet)', body.entries[0]!, gateway),
    entryVector('segment (a whole file from a device, with its name)', body.entries[1]!, gateway),
  ];
  const base = open!.entry as Record<string, unknown>;
  const segment = seg1!.entry as Record<string, unknown>;
  const refused: { description: string; entry: Record<string, unknown> }[] = [
    { description: 'an unknown member (entries are strict objects)', entry: { ...base, note: 'x' } },
    {
      description: 'an unknown member inside a nested object',
      entry: { ...base, clock: { ...FIXED.clock, ntp: true } },
    },
    { description: 'a member missing (startedBy)', entry: omit(base, 'startedBy') },
    { description: 'v is 2', entry: { ...base, v: 2 } },
    {
      description: 'alg.sig is sm2 (not defined in v1)',
      entry: { ...base, alg: { canon: 'jcs', hash: 'sha-256', sig: 'sm2' } },
    },
    { description: 'seq is negative', entry: { ...base, seq: -1 } },
    { description: 'seq is not an integer', entry: { ...segment, seq: 1.5 } },
    { description: 'seq is a string', entry: { ...segment, seq: '1' } },
    { description: 'prev in uppercase hex', entry: { ...segment, prev: String(segment.prev).toUpperCase() } },
    { description: 'a time without milliseconds', entry: { ...base, start: '2026-11-27T01:00:00Z' } },
    {
      description: 'a time with an offset instead of Z',
      entry: { ...base, start: '2026-11-27T09:00:00.000+08:00' },
    },
    {
      description: 'a time that is not a real instant (30 February)',
      entry: { ...base, start: '2026-02-30T01:00:00.000Z' },
    },
    {
      description: 'a recording id in uppercase',
      entry: { ...base, recording: FIXED.recording.toUpperCase() },
    },
    { description: 'a gateway id with an uppercase letter', entry: { ...base, gateway: 'GW-vector-1' } },
    { description: 'a gateway id with a trailing newline', entry: { ...base, gateway: 'gw-vector-1\n' } },
    { description: 'durationMs is not an integer', entry: { ...segment, durationMs: 4000.5 } },
    {
      description: 'object.size beyond 2^53 - 1',
      entry: { ...segment, object: { sha256: (segment.object as { sha256: string }).sha256, size: 2 ** 53 } },
    },
    { description: 'an unknown kind', entry: { ...base, kind: 'pause' } },
    {
      description: 'a case id that starts with a separator',
      entry: { ...base, case: { ...(base.case as object), id: '-7' } },
    },
  ];
  return {
    description:
      'One entry of each kind: the entry object, its canonical text (RFC 8785) and UTF-8 hex, its hash (SHA-256 of the canonical bytes), the signed message (ASCII "quanlu/v1/entry" || 0x00 || hash) and the Ed25519 signature by the gateway key of keys.json, and the envelope line as written. `refused` entries must fail the schema. See EVIDENCE §4 and §5.',
    key: gateway.publicKeyText,
    entries: valid,
    refused,
  };
}

/** dock.json: the dock entry kinds, schema refusals and tamper cases over folder-dock-ok [EVIDENCE §4.8–§4.9, §6.7]. */
function dockFile(dock: BuiltChain, gateway: KeyPair, gatewaySeed: Buffer) {
  const file = dock.entries[1]!.entry as Entry & { kind: 'file' };
  const disposition = dock.entries[3]!.entry as Record<string, unknown>;
  const path = `${LAYOUT.entries}/${chainFileName(FIXED.dockRecording, dock.track)}`;
  const seed = hex(gatewaySeed);
  const edit = (line: number, set: Record<string, unknown>): Mutation => ({
    op: 'edit-line',
    path,
    line,
    set,
    reseal: 'sign',
    seed,
  });
  const other = dock.entries[2]!.hash.replace(/^./, (x) => (x === '0' ? '1' : '0'));
  const c = (id: string, description: string, how: Mutation[], expectedCodes: string[]): TamperCase => ({
    id,
    description,
    how,
    expectedCodes: [...expectedCodes].sort(),
    expectedOk: false,
  });
  return {
    description:
      'A device chain at a dock (folder-dock-ok): open, two file entries, a deletion and a move, close. `entries` as in entries.json; `refused` must fail the schema; `tampered` cases apply to a fresh copy of folder-dock-ok with the mutation language of tampered.json. See EVIDENCE §4.8, §4.9 and §6.7.',
    key: gateway.publicKeyText,
    entries: [
      entryVector('open (a device chain at a dock, with the device clock offset)', dock.entries[0]!, gateway),
      entryVector('file (a whole file offloaded at a dock)', dock.entries[1]!, gateway),
      entryVector('disposition (the file deleted from the device)', dock.entries[3]!, gateway),
      entryVector('disposition (the file moved on the device)', dock.entries[4]!, gateway),
      entryVector('close (segments counts the file entries)', dock.entries[5]!, gateway),
    ],
    refused: [
      { description: 'a file name that climbs out of the volume', entry: { ...file, name: '../etc/passwd' } },
      { description: 'an absolute file name', entry: { ...file, name: '/etc/passwd' } },
      { description: 'a file name with a backslash', entry: { ...file, name: 'DCIM\\..\\x.MP4' } },
      { description: 'a file name with an empty segment', entry: { ...file, name: 'DCIM//x.MP4' } },
      { description: 'a moved file with no destination', entry: { ...disposition, action: 'moved' } },
      { description: 'a deleted file with a destination', entry: { ...disposition, to: 'X/A.MP4' } },
    ],
    tampered: [
      c(
        'dock-disposition-unknown',
        'the first disposition resealed to name a file entry the chain does not hold (the next entry no longer links to it)',
        [edit(4, { 'entry.file': other })],
        ['DISPOSITION_UNKNOWN_FILE', 'CHAIN_PREV_MISMATCH'],
      ),
      c(
        'dock-disposition-twice',
        'the second disposition resealed to dispose of the first file again',
        [
          edit(5, {
            'entry.file': dock.entries[1]!.hash,
            'entry.name': file.name,
            'entry.object': file.object.sha256,
          }),
        ],
        ['DISPOSITION_DUPLICATE', 'CHAIN_PREV_MISMATCH'],
      ),
      c(
        'dock-file-deleted',
        'the first file entry removed: its disposition names nothing, the chain has a hole, and its object is named by nothing',
        [{ op: 'delete-line', path, line: 2 }],
        ['CHAIN_MISSING', 'DISPOSITION_UNKNOWN_FILE', 'OBJECT_UNREFERENCED'],
      ),
      c(
        'dock-object-missing',
        'the object of the first file removed from the folder',
        [{ op: 'delete', path: objectPath(file.object.sha256) }],
        ['OBJECT_MISSING'],
      ),
    ],
  };
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...o };
  delete copy[key];
  return copy;
}

function chainFile(cam: BuiltChain, gateway: KeyPair) {
  const leaves = cam.objects.map((o) => leafHash(Buffer.from(o.sha256, 'hex')));
  const [l0, l1, l2, l3, l4] = leaves as [Buffer, Buffer, Buffer, Buffer, Buffer];
  const n01 = nodeHash(l0, l1);
  const n23 = nodeHash(l2, l3);
  const n0123 = nodeHash(n01, n23);
  const root = nodeHash(n0123, l4);
  const close = cam.entries[cam.entries.length - 1]!.entry as Entry;
  if (close.kind !== 'close' || close.merkleRoot !== root.toString('hex')) throw new Error('close root');
  return {
    description:
      'A complete continuous track: open, 3 segments, a gap, 2 segments, close. `lines` is the entries file exactly as in folder-ok; `objects` are the segment bytes; the close root is the RFC 9162 root over the raw 32-byte object hashes in seq order. See EVIDENCE §6.',
    key: gateway.publicKeyText,
    fingerprint: gateway.publicKey.fingerprint,
    gateway: FIXED.gateway,
    recording: FIXED.recording,
    track: cam.track,
    file: `${LAYOUT.entries}/${chainFileName(FIXED.recording, cam.track)}`,
    objects: cam.objects.map((o) => ({
      seq: o.seq,
      hex: hex(o.bytes),
      text: o.bytes.toString('utf8'),
      size: o.bytes.length,
      sha256: o.sha256,
      key: objectKey(o.sha256),
    })),
    hashes: cam.entries.map((e) => e.hash),
    lines: cam.entries.map(line),
    merkle: {
      leafHashes: leaves.map(hex),
      nodes: {
        'node(0,1)': hex(n01),
        'node(2,3)': hex(n23),
        'node(0..3)': hex(n0123),
        'root = node(0..3, 4)': hex(root),
      },
      root: hex(root),
    },
  };
}

function merkleFile() {
  const data = RFC6962.leaves.map((h) => Buffer.from(h, 'hex'));
  const leafHashes = data.map(leafHash);
  const roots = data.map((_, i) => merkleRoot(data.slice(0, i + 1)).toString('hex'));
  expectEqual(roots, RFC6962.roots, 'RFC 6962 roots');
  const [l0, l1, l2] = leafHashes as [Buffer, Buffer, Buffer];
  const n01 = nodeHash(l0, l1);
  const example3 = {
    leavesHex: RFC6962.leaves.slice(0, 3),
    leafHashes: [l0, l1, l2].map(hex),
    'node(0,1)': hex(n01),
    root: hex(nodeHash(n01, l2)),
  };
  const inclusionPairs: [number, number][] = [
    [0, 1],
    [0, 2],
    [1, 2],
    [2, 3],
    [1, 5],
    [4, 5],
    [3, 7],
    [6, 7],
    [0, 8],
    [5, 8],
    [7, 8],
  ];
  const inclusion = inclusionPairs.map(([index, size]) => {
    const proof = inclusionProof(index, leafHashes.slice(0, size)).map(hex);
    const published = RFC6962.inclusion[`${index}/${size}`];
    if (published) expectEqual(proof, published, `inclusion ${index}/${size}`);
    return {
      index,
      treeSize: size,
      leafHash: hex(leafHashes[index]!),
      root: roots[size - 1]!,
      proof,
      ...(published ? { published: true } : {}),
    };
  });
  const consistencyPairs: [number, number][] = [
    [1, 1],
    [1, 2],
    [1, 8],
    [2, 5],
    [3, 7],
    [4, 8],
    [5, 7],
    [6, 8],
    [7, 8],
  ];
  const consistency = consistencyPairs.map(([first, second]) => {
    const proof = consistencyProof(first, leafHashes.slice(0, second)).map(hex);
    const published = RFC6962.consistency[`${first}/${second}`];
    if (published) expectEqual(proof, published, `consistency ${first}/${second}`);
    return {
      firstSize: first,
      secondSize: second,
      firstRoot: roots[first - 1]!,
      secondRoot: roots[second - 1]!,
      proof,
      ...(published ? { published: true } : {}),
    };
  });
  return {
    description:
      'RFC 9162 §2.1 Merkle trees over the RFC 6962 reference leaves: leaf hashes, the root of every prefix, a 3-leaf example with its interior node, inclusion and consistency proofs (entries marked published equal the certificate-transparency reference proofs). See EVIDENCE §9.',
    emptyRoot: rootFromLeafHashes([]).toString('hex'),
    leavesHex: RFC6962.leaves,
    leafHashes: leafHashes.map(hex),
    roots,
    example3,
    inclusion,
    consistency,
  };
}

// ---------------------------------------------------------------------------------------------
// Tamper cases

/** One mutation of a copy of folder-ok; paths are relative to the folder, lines count from 1. */
export type Mutation =
  | { op: 'flip-byte'; path: string; offset: number }
  | { op: 'append-bytes'; path: string; hex: string }
  | { op: 'delete'; path: string }
  | { op: 'write'; path: string; text: string }
  | { op: 'symlink'; path: string; target: string }
  | { op: 'delete-line'; path: string; line: number }
  | { op: 'duplicate-line'; path: string; line: number }
  | { op: 'swap-lines'; path: string; line: number; with: number }
  | { op: 'truncate-line'; path: string; line: number; length: number }
  | {
      op: 'edit-line';
      path: string;
      line: number;
      set: Record<string, unknown>;
      reseal: 'none' | 'hash' | 'sign';
      seed?: string;
    }
  | { op: 'reseal-chain'; path: string; from: number; seed: string };

/** A tamper case: what it simulates, the mutations, and the codes the verifier must report. */
export interface TamperCase {
  id: string;
  description: string;
  how: Mutation[];
  expectedCodes: string[];
  expectedOk: boolean;
}

const MUTATION_LANGUAGE = {
  'flip-byte': 'XOR the byte at `offset` of file `path` with 0x01',
  'append-bytes': 'append the bytes `hex` to file `path`',
  delete: 'delete file or folder `path` (recursively)',
  write: 'write `text` (UTF-8) to file `path`, creating folders, replacing any file',
  symlink: 'create a symbolic link at `path` pointing to `target` (relative to the link)',
  'delete-line': 'remove line `line` of `path`',
  'duplicate-line': 'insert a copy of line `line` of `path` right after it',
  'swap-lines': 'exchange lines `line` and `with` of `path`',
  'truncate-line': 'keep only the first `length` characters of line `line` of `path`',
  'edit-line':
    'parse line `line` of `path` as JSON; for each key of `set` (a dotted path from the envelope, e.g. "entry.object.size" or "sig"), set that member to the value; then reseal "none": leave hash and sig; "hash": hash = hex SHA-256(JCS(entry)); "sign": hash as for "hash", then sig = signature under context entry by the key from `seed`; write the line back as JSON.stringify of the envelope',
  'reseal-chain':
    'for every line i ≥ `from` of `path`, in order: entry.seq = 0 and entry.prev = null when i = 1, else entry.seq = seq of line i−1 plus 1 and entry.prev = hash of line i−1 (as stored after this step); for a close entry, segments = number of segment entries on the lines before it and merkleRoot = RFC 9162 root over their object.sha256 (raw bytes); then hash and sign as edit-line "sign" with `seed` (what an insider holding the gateway key can do)',
};

function tamperFile(
  cam: BuiltChain,
  body: BuiltChain,
  gatewaySeed: Buffer,
  gateway: KeyPair,
  stranger: KeyPair,
  strangerSeed: Buffer,
) {
  const camFile = `${LAYOUT.entries}/${chainFileName(FIXED.recording, cam.track)}`;
  const bodyFile = `${LAYOUT.entries}/${chainFileName(FIXED.recording, body.track)}`;
  const obj = (c: BuiltChain, seq: number) => objectPath(c.objects.find((o) => o.seq === seq)!.sha256);
  const seed = hex(gatewaySeed);
  const keyFilePath = `${LAYOUT.keys}/${FIXED.gateway}.json`;
  const keyFileText = (publicKey: string) =>
    `${JSON.stringify({ alg: 'ed25519', publicKey, owner: FIXED.gateway }, null, 2)}\n`;
  const seg1 = cam.entries[1]!;
  const seg2 = cam.entries[2]!;
  const gap = cam.entries[4]!.entry as Entry;
  if (gap.kind !== 'gap') throw new Error('line 5 of cam-1 is the gap');
  const edit = (
    line: number,
    set: Record<string, unknown>,
    reseal: 'none' | 'hash' | 'sign',
    path = camFile,
    withSeed = seed,
  ): Mutation => ({
    op: 'edit-line',
    path,
    line,
    set,
    reseal,
    ...(reseal === 'sign' ? { seed: withSeed } : {}),
  });
  const resealChain = (from: number, path = camFile): Mutation => ({ op: 'reseal-chain', path, from, seed });
  const c = (
    id: string,
    description: string,
    how: Mutation[],
    expectedCodes: string[],
    expectedOk = false,
  ): TamperCase => ({
    id,
    description,
    how,
    expectedCodes: [...expectedCodes].sort(),
    expectedOk,
  });
  const cases: TamperCase[] = [
    c(
      'object-byte-flipped',
      'one bit of a segment object flipped',
      [{ op: 'flip-byte', path: obj(cam, 2), offset: 0 }],
      ['OBJECT_HASH_MISMATCH'],
    ),
    c(
      'object-extended',
      'a byte appended to a segment object',
      [{ op: 'append-bytes', path: obj(cam, 5), hex: '00' }],
      ['OBJECT_HASH_MISMATCH'],
    ),
    c(
      'object-deleted',
      'a body-worn file deleted from objects/',
      [{ op: 'delete', path: obj(body, 1) }],
      ['OBJECT_MISSING'],
    ),
    c(
      'entry-edited',
      'a segment entry edited (container), hash and signature left as they were',
      [edit(3, { 'entry.container': 'mp4' }, 'none')],
      ['ENTRY_HASH_MISMATCH'],
    ),
    c(
      'entry-edited-rehashed',
      'a segment entry edited and its hash recomputed, signature left',
      [edit(3, { 'entry.container': 'mp4' }, 'hash')],
      ['SIGNATURE_INVALID', 'CHAIN_PREV_MISMATCH'],
    ),
    c(
      'entry-resigned-by-stranger',
      'a segment entry edited and re-signed by a key that is not in keys/, naming that key',
      [
        edit(
          3,
          { 'entry.container': 'mp4', 'entry.key': stranger.publicKey.fingerprint },
          'sign',
          camFile,
          hex(strangerSeed),
        ),
      ],
      ['KEY_UNKNOWN', 'CHAIN_IDENTITY', 'CHAIN_PREV_MISMATCH'],
    ),
    c(
      'entry-resigned-by-gateway',
      'a segment entry edited and re-signed with the gateway key; the next entry still names the old hash',
      [edit(3, { 'entry.container': 'mp4' }, 'sign')],
      ['CHAIN_PREV_MISMATCH'],
    ),
    c(
      'signature-malleated',
      'a signature with S replaced by S + L',
      [edit(2, { sig: malleate(seg1.sig) }, 'none')],
      ['SIGNATURE_INVALID'],
    ),
    c(
      'signature-other-context',
      'a signature over the right hash but under another context (message)',
      [edit(2, { sig: signDigest(gateway.privateKey, 'message', Buffer.from(seg1.hash, 'hex')) }, 'none')],
      ['SIGNATURE_INVALID'],
    ),
    c(
      'signature-of-other-entry',
      'the signature of the previous entry copied onto an entry',
      [edit(3, { sig: seg1.sig }, 'none')],
      ['SIGNATURE_INVALID'],
    ),
    c(
      'segment-line-deleted',
      'a segment line deleted',
      [{ op: 'delete-line', path: camFile, line: 3 }],
      ['CHAIN_MISSING', 'TIME_HOLE', 'OBJECT_UNREFERENCED'],
    ),
    c(
      'gap-line-deleted',
      'the gap line deleted',
      [{ op: 'delete-line', path: camFile, line: 5 }],
      ['CHAIN_MISSING', 'TIME_HOLE'],
    ),
    c(
      'lines-swapped',
      'two segment lines swapped in the file',
      [{ op: 'swap-lines', path: camFile, line: 3, with: 4 }],
      ['CHAIN_OUT_OF_ORDER'],
    ),
    c(
      'line-duplicated',
      'a line stored twice',
      [{ op: 'duplicate-line', path: camFile, line: 6 }],
      ['CHAIN_DUPLICATE'],
    ),
    c(
      'fork',
      'a second, differently edited entry signed by the gateway key for the same seq',
      [{ op: 'duplicate-line', path: camFile, line: 6 }, edit(7, { 'entry.container': 'mp4' }, 'sign')],
      ['CHAIN_FORK'],
    ),
    c(
      'close-deleted',
      'the close line deleted',
      [{ op: 'delete-line', path: camFile, line: 8 }],
      ['CHAIN_NOT_CLOSED'],
    ),
    c(
      'close-truncated',
      'the close line cut short (not JSON)',
      [{ op: 'truncate-line', path: camFile, line: 8, length: 60 }],
      ['ENTRY_PARSE', 'CHAIN_NOT_CLOSED'],
    ),
    c(
      'open-deleted',
      'the open line of the body-worn track deleted',
      [{ op: 'delete-line', path: bodyFile, line: 1 }],
      ['CHAIN_NO_OPEN'],
    ),
    c(
      'open-prev-set',
      'the open entry given a prev, everything re-signed with the gateway key',
      [edit(1, { 'entry.prev': seg2.hash }, 'sign'), resealChain(2)],
      ['CHAIN_PREV_MISMATCH'],
    ),
    c(
      'unknown-member',
      'an unknown member added to the close entry, re-signed with the gateway key',
      [edit(8, { 'entry.note': 'edited' }, 'sign')],
      ['ENTRY_SCHEMA', 'CHAIN_NOT_CLOSED'],
    ),
    c(
      'duration-not-integer',
      'a segment duration made fractional, chain re-signed with the gateway key',
      [edit(7, { 'entry.durationMs': 4000.5 }, 'none'), resealChain(7)],
      ['ENTRY_SCHEMA', 'CHAIN_MISSING', 'TIME_HOLE', 'OBJECT_UNREFERENCED'],
    ),
    c(
      'close-count',
      'the close entry claims 4 segments, re-signed with the gateway key',
      [edit(8, { 'entry.segments': 4 }, 'sign')],
      ['CLOSE_COUNT_MISMATCH'],
    ),
    c(
      'close-root',
      'the close entry carries the empty-tree root, re-signed with the gateway key',
      [edit(8, { 'entry.merkleRoot': sha256Hex() }, 'sign')],
      ['CLOSE_ROOT_MISMATCH'],
    ),
    c(
      'insider-cuts-segment',
      'an insider with the gateway key removes a segment and re-signs the rest of the chain consistently',
      [{ op: 'delete-line', path: camFile, line: 3 }, resealChain(3)],
      ['TIME_HOLE', 'OBJECT_UNREFERENCED'],
    ),
    c(
      'insider-removes-gap',
      'an insider with the gateway key removes the gap entry and re-signs the rest of the chain',
      [{ op: 'delete-line', path: camFile, line: 5 }, resealChain(5)],
      ['TIME_HOLE'],
    ),
    c(
      'overlap',
      'a segment made 1000 ms longer, so the next one starts 1000 ms before it ends; chain re-signed',
      [edit(2, { 'entry.durationMs': 5000 }, 'none'), resealChain(2)],
      ['TIME_OVERLAP'],
    ),
    c(
      'gap-backwards',
      'the gap made to end 1000 ms before it starts; chain re-signed',
      [edit(5, { 'entry.to': isoTime(Date.parse(gap.from) - 1000) }, 'none'), resealChain(5)],
      ['GAP_SPAN_INVALID', 'TIME_HOLE'],
    ),
    c(
      'size-mismatch',
      'a segment entry claims one byte more than its object holds; chain re-signed',
      [edit(4, { 'entry.object.size': cam.objects[2]!.bytes.length + 1 }, 'none'), resealChain(4)],
      ['OBJECT_SIZE_MISMATCH'],
    ),
    c(
      'identity-changed',
      'a segment entry names another gateway; chain re-signed with the same key',
      [edit(6, { 'entry.gateway': 'gw-vector-2' }, 'none'), resealChain(6)],
      ['CHAIN_IDENTITY', 'KEY_OWNER_MISMATCH'],
    ),
    c(
      'entry-after-close',
      'in the body-worn track, the close moved before the last segment; chain re-signed',
      [{ op: 'swap-lines', path: bodyFile, line: 3, with: 4 }, resealChain(3, bodyFile)],
      ['CHAIN_AFTER_CLOSE'],
    ),
    c(
      'second-open',
      'in the body-worn track, a second open entry inserted after the first; chain re-signed',
      [{ op: 'duplicate-line', path: bodyFile, line: 1 }, resealChain(2, bodyFile)],
      ['CHAIN_BAD_KIND'],
    ),
    c(
      'key-small-order',
      'the key file replaced by the identity point (a small-order key)',
      [{ op: 'write', path: keyFilePath, text: keyFileText('AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') }],
      ['KEY_INVALID', 'KEY_UNKNOWN'],
    ),
    c(
      'key-replaced',
      "the key file replaced by another valid key (the stranger's)",
      [{ op: 'write', path: keyFilePath, text: keyFileText(stranger.publicKeyText) }],
      ['KEY_UNKNOWN'],
    ),
    c(
      'keys-removed',
      'the keys/ folder removed',
      [{ op: 'delete', path: LAYOUT.keys }],
      ['KEY_INVALID', 'KEY_UNKNOWN'],
    ),
    c(
      'key-padded',
      'the key file holds the right key in base64url with padding',
      [{ op: 'write', path: keyFilePath, text: keyFileText(`${gateway.publicKeyText}=`) }],
      ['KEY_INVALID', 'KEY_UNKNOWN'],
    ),
    c(
      'object-stray',
      'a file under objects/ that is not named by a hash (a warning only)',
      [{ op: 'write', path: `${LAYOUT.objects}/README.txt`, text: 'not evidence\n' }],
      ['OBJECT_STRAY'],
      true,
    ),
    c(
      'folder-escape',
      'a symbolic link under objects/ that leads out of the evidence folder',
      [{ op: 'symlink', path: `${LAYOUT.objects}/escape`, target: '../..' }],
      ['FOLDER_ESCAPE'],
    ),
  ];
  return {
    description:
      "Tamper cases: apply `how` (in order) to a fresh copy of folder-ok, verify it (keys from the copy's keys/), and the set of finding codes reported (global and per track, errors and warnings) must equal `expectedCodes`, and the verdict must be `expectedOk`. See EVIDENCE §7 and §12.",
    mutations: MUTATION_LANGUAGE,
    seeds: { gateway: seed, stranger: hex(strangerSeed) },
    cases,
  };
}

// ---------------------------------------------------------------------------------------------

/** Every file of protocol/vectors/, by path relative to it, as bytes. */
export function buildVectors(): Map<string, Buffer> {
  const gatewaySeed = seedOf(FIXED.gatewaySeedLabel);
  const strangerSeed = seedOf(FIXED.strangerSeedLabel);
  const gateway = keyPairFromSeed(gatewaySeed);
  const stranger = keyPairFromSeed(strangerSeed);
  const cam = buildCameraChain(gateway);
  const body = buildBodycamChain(gateway);
  const dock = buildDockChain(gateway);
  const files = new Map<string, Buffer>();
  const json = (path: string, value: unknown) =>
    files.set(path, Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8'));
  json('keys.json', keysFile(gateway, gatewaySeed, stranger, strangerSeed));
  json('canonical.json', canonicalFile());
  json('entries.json', entriesFile(cam, body, gateway));
  json('dock.json', dockFile(dock, gateway, gatewaySeed));
  json('chain.json', chainFile(cam, gateway));
  json('merkle.json', merkleFile());
  json('tampered.json', tamperFile(cam, body, gatewaySeed, gateway, stranger, strangerSeed));

  const folder = 'folder-ok';
  files.set(
    `${folder}/${LAYOUT.keys}/${FIXED.gateway}.json`,
    Buffer.from(
      `${JSON.stringify({ alg: 'ed25519', publicKey: gateway.publicKeyText, owner: FIXED.gateway }, null, 2)}\n`,
    ),
  );
  for (const [folderName, recording, chain] of [
    [folder, FIXED.recording, cam],
    [folder, FIXED.recording, body],
    ['folder-dock-ok', FIXED.dockRecording, dock],
  ] as const) {
    files.set(
      `${folderName}/${LAYOUT.entries}/${chainFileName(recording, chain.track)}`,
      Buffer.from(chain.entries.map((e) => `${line(e)}\n`).join(''), 'utf8'),
    );
    for (const o of chain.objects) files.set(`${folderName}/${objectPath(o.sha256)}`, o.bytes);
  }
  files.set(
    `folder-dock-ok/${LAYOUT.keys}/${FIXED.gateway}.json`,
    files.get(`${folder}/${LAYOUT.keys}/${FIXED.gateway}.json`)!,
  );
  return files;
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', VECTORS_DIR);
  await rm(root, { recursive: true, force: true });
  let total = 0;
  for (const [path, bytes] of buildVectors()) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
    total += bytes.length;
  }
  process.stdout.write(`wrote ${VECTORS_DIR}/ (${total} bytes)\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
