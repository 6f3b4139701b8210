import { sign } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { segmentRoot } from '../../protocol/chain.ts';
import { Entry, entryHash, sealEntry } from '../../protocol/entry.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import {
  keyPairFromSeed,
  parsePublicKey,
  SIGNING_CONTEXTS,
  type SigningContext,
  signDigest,
  signedMessage,
  verifyDigest,
} from '../../protocol/keys.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../protocol/merkle.ts';
import { objectKey } from '../../protocol/object-key.ts';
import { verifyChains } from '../../protocol/verifier.ts';
import { buildVectors, type Mutation, type TamperCase } from '../../scripts/make-vectors.ts';

const VECTORS = fileURLToPath(new URL('../../protocol/vectors/', import.meta.url));
const FOLDER_OK = join(VECTORS, 'folder-ok');

// biome-ignore lint/suspicious/noExplicitAny: vector files are plain JSON, read field by field
type Json = any;

async function load(name: string): Promise<Json> {
  return JSON.parse(await readFile(join(VECTORS, name), 'utf8'));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(abs)));
    else out.push(relative(VECTORS, abs).split('\\').join('/'));
  }
  return out.sort();
}

t.test('the vector files on disk are exactly what scripts/make-vectors.ts generates', async (t) => {
  const built = buildVectors();
  t.same(await listFiles(VECTORS), [...built.keys()].sort(), 'same set of files');
  for (const [path, expected] of built) {
    const actual = await readFile(join(VECTORS, path));
    t.ok(actual.equals(expected), `${path} is byte for byte current (rerun npx tsx scripts/make-vectors.ts)`);
  }
  let total = 0;
  for (const b of built.values()) total += b.length;
  t.ok(total < 200 * 1024, `vectors stay small (${total} bytes)`);
});

t.test('RFC 8032 test keys and signatures are reproduced from their seeds', async (t) => {
  const v = await load('keys.json');
  t.equal(v.rfc8032[0].seed, '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  t.equal(v.rfc8032[0].publicKeyHex, 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  t.equal(
    v.rfc8032[0].signatureHex,
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );
  for (const r of v.rfc8032) {
    const pair = keyPairFromSeed(bytes(r.seed));
    t.equal(hex(pair.publicKey.raw), r.publicKeyHex, `${r.name}: public key`);
    t.equal(pair.publicKeyText, r.publicKey, `${r.name}: base64url public key`);
    t.equal(pair.publicKey.fingerprint, sha256Hex(bytes(r.publicKeyHex)), `${r.name}: fingerprint`);
    t.equal(pair.publicKey.fingerprint, r.fingerprint, `${r.name}: fingerprint as recorded`);
    t.equal(hex(sign(null, bytes(r.messageHex), pair.privateKey)), r.signatureHex, `${r.name}: signature`);
  }
});

t.test('vector keys come from their seeds, encoded as base64url with SHA-256 fingerprints', async (t) => {
  const v = await load('keys.json');
  for (const k of v.keys) {
    t.equal(k.seed, sha256Hex(Buffer.from(k.seedLabel, 'utf8')), `${k.name}: seed is SHA-256 of its label`);
    const pair = keyPairFromSeed(bytes(k.seed));
    t.equal(pair.publicKeyText, k.publicKey, `${k.name}: public key`);
    t.equal(Buffer.from(k.publicKey, 'base64url').toString('hex'), k.publicKeyHex, `${k.name}: hex form`);
    t.match(k.publicKey, /^[A-Za-z0-9_-]{43}$/, `${k.name}: 43 base64url characters, no padding`);
    t.equal(pair.publicKey.fingerprint, k.fingerprint, `${k.name}: fingerprint`);
  }
  const keyFile = JSON.parse(await readFile(join(FOLDER_OK, 'keys', 'gw-vector-1.json'), 'utf8'));
  t.same(keyFile, v.keyFile, 'the key file of folder-ok is the gateway key');
  t.equal(keyFile.publicKey, v.keys[0].publicKey);
});

t.test('a digest signed under each context verifies under that context only', async (t) => {
  const v = await load('keys.json');
  const pair = keyPairFromSeed(bytes(v.keys[0].seed));
  t.same(
    v.contexts.map((c: Json) => c.contextText),
    Object.values(SIGNING_CONTEXTS),
    'every context is listed',
  );
  for (const c of v.contexts) {
    const context = c.context as SigningContext;
    const digest = bytes(c.digest);
    t.equal(digest.toString('hex'), sha256Hex(Buffer.from('quanlu')), 'the digest is SHA-256("quanlu")');
    t.equal(
      hex(signedMessage(context, digest)),
      hex(Buffer.concat([Buffer.from(c.contextText, 'ascii'), Buffer.of(0), digest])),
      `${c.context}: message is context || 0x00 || digest`,
    );
    t.equal(hex(signedMessage(context, digest)), c.signedMessageHex);
    t.equal(signDigest(pair.privateKey, context, digest), c.signature, `${c.context}: signature`);
    for (const other of v.contexts) {
      const verdict = verifyDigest(pair.publicKey, other.context, digest, c.signature);
      if (other.context === c.context) t.equal(verdict, null, `${c.context} verifies under itself`);
      else t.equal(verdict, 'signature does not verify', `${c.context} does not verify as ${other.context}`);
    }
  }
});

t.test('refused public keys are refused with the stated reason', async (t) => {
  const v = await load('keys.json');
  const classes = new Map<string, number>();
  for (const k of v.refusedKeys) {
    classes.set(k.class, (classes.get(k.class) ?? 0) + 1);
    t.equal(parsePublicKey(k.publicKey), k.reason, k.description);
    if (k.publicKeyHex) t.equal(Buffer.from(k.publicKeyHex, 'hex').toString('base64url'), k.publicKey);
    const expected = {
      'small-order': 'a point of small order (such a key verifies forged signatures)',
      'non-canonical': 'not a canonical encoding of a point on Ed25519',
      encoding: 'public key is not base64url without padding',
    }[k.class as string];
    if (expected) t.equal(k.reason, expected, `${k.description}: reason of its class`);
    else t.match(k.reason, /^an Ed25519 public key is 32 bytes, got \d+$/, `${k.description}: length`);
  }
  t.equal(classes.get('small-order'), 8, 'all eight small-order points');
  t.ok((classes.get('non-canonical') ?? 0) >= 6, 'y ≥ p and negative-zero encodings');
});

t.test('signatures get the stated verdict: S ≥ L and non-canonical R are refused', async (t) => {
  const v = await load('keys.json');
  const entries = await load('entries.json');
  const key = parsePublicKey(v.signatures.publicKey);
  if (typeof key === 'string') throw new Error(key);
  t.equal(v.signatures.digest, entries.entries[0].hash, 'the digest is the hash of the open entry');
  const reasons: Record<string, RegExp> = {
    valid: /^$/,
    'S-not-reduced': /^signature scalar S is not reduced \(S ≥ L\)$/,
    'R-non-canonical':
      /^signature point R is not a canonical encoding \((y ≥ p|x = 0 with the sign bit set)\)$/,
    length: /^an Ed25519 signature is 64 bytes, got 63$/,
    encoding: /^signature is not base64url without padding$/,
    'does-not-verify': /^signature does not verify$/,
  };
  for (const c of v.signatures.cases) {
    const verdict = verifyDigest(key, c.context, bytes(v.signatures.digest), c.signature);
    t.equal(verdict, c.reason, c.description);
    t.match(verdict ?? '', reasons[c.class]!, `${c.description}: reason of class ${c.class}`);
  }
  const valid = v.signatures.cases.find((c: Json) => c.class === 'valid').signature;
  t.equal(valid, entries.entries[0].sig, 'the valid one is the signature of the open entry');
  const malleated = v.signatures.cases.find((c: Json) => c.class === 'S-not-reduced').signature;
  t.same(
    Buffer.from(malleated, 'base64url').subarray(0, 32),
    Buffer.from(valid, 'base64url').subarray(0, 32),
    'S + L keeps R',
  );
});

t.test(
  'canonical text of every case is reproduced byte for byte; lone surrogates have no canonical form',
  async (t) => {
    const v = await load('canonical.json');
    for (const c of v.cases) {
      const text = canonicalText(JSON.parse(c.input));
      t.equal(text, c.canonical, c.description);
      t.equal(Buffer.from(text, 'utf8').toString('hex'), c.canonicalHex, `${c.description}: UTF-8 bytes`);
      t.equal(sha256Hex(Buffer.from(text, 'utf8')), c.sha256, `${c.description}: SHA-256`);
      t.equal(canonicalText(JSON.parse(text)), text, `${c.description}: canonical text is a fixed point`);
    }
    for (const c of v.refused) t.throws(() => canonicalText(JSON.parse(c.input)), c.description);
  },
);

t.test(
  'each entry kind is schema-valid and its canonical text, hash and signature are reproduced',
  async (t) => {
    const v = await load('entries.json');
    const keys = await load('keys.json');
    const pair = keyPairFromSeed(bytes(keys.keys[0].seed));
    t.equal(v.key, pair.publicKeyText);
    t.same([...new Set(v.entries.map((e: Json) => e.kind))].sort(), ['close', 'gap', 'open', 'segment']);
    for (const e of v.entries) {
      t.ok(Entry.safeParse(e.entry).success, `${e.description}: matches the schema`);
      t.equal(canonicalText(e.entry), e.canonical, `${e.description}: canonical text`);
      t.equal(Buffer.from(e.canonical, 'utf8').toString('hex'), e.canonicalHex, `${e.description}: UTF-8`);
      const digest = entryHash(e.entry);
      t.equal(digest.toString('hex'), e.hash, `${e.description}: hash`);
      t.equal(sha256Hex(Buffer.from(e.canonical, 'utf8')), e.hash, `${e.description}: hash is SHA-256(JCS)`);
      t.equal(
        hex(signedMessage('entry', digest)),
        `${Buffer.from('quanlu/v1/entry', 'ascii').toString('hex')}00${e.hash}`,
        `${e.description}: signed message`,
      );
      t.equal(hex(signedMessage('entry', digest)), e.signedMessageHex);
      t.equal(signDigest(pair.privateKey, 'entry', digest), e.sig, `${e.description}: signature`);
      t.equal(verifyDigest(pair.publicKey, 'entry', digest, e.sig), null, `${e.description}: verifies`);
      t.equal(JSON.stringify(sealEntry(e.entry, pair.privateKey)), e.line, `${e.description}: envelope line`);
    }
  },
);

t.test('entries that break the schema are refused', async (t) => {
  const v = await load('entries.json');
  for (const e of v.refused) t.notOk(Entry.safeParse(e.entry).success, e.description);
});

t.test(
  'the chain: objects hash to their keys, lines re-seal byte for byte, the close root matches',
  async (t) => {
    const v = await load('chain.json');
    const keys = await load('keys.json');
    const pair = keyPairFromSeed(bytes(keys.keys[0].seed));
    t.equal(v.fingerprint, pair.publicKey.fingerprint);
    for (const o of v.objects) {
      const b = bytes(o.hex);
      t.equal(b.toString('utf8'), o.text);
      t.equal(b.length, o.size);
      t.equal(sha256Hex(b), o.sha256, `object of seq ${o.seq}: hash`);
      t.equal(objectKey(o.sha256), o.key, `object of seq ${o.seq}: key`);
      t.equal(o.key, `sha256/${o.sha256.slice(0, 2)}/${o.sha256}`);
      t.ok(
        (await readFile(join(FOLDER_OK, objectPath(o.sha256)))).equals(b),
        `object of seq ${o.seq} in folder-ok`,
      );
    }
    const file = await readFile(join(FOLDER_OK, v.file), 'utf8');
    t.equal(
      file,
      v.lines.map((l: string) => `${l}\n`).join(''),
      'the folder-ok entries file holds the lines',
    );
    t.same(
      v.lines.map((l: string) => JSON.parse(l).entry.kind),
      ['open', 'segment', 'segment', 'segment', 'gap', 'segment', 'segment', 'close'],
    );
    let prev: string | null = null;
    const segments: string[] = [];
    for (const [i, l] of v.lines.entries()) {
      const envelope = JSON.parse(l);
      const entry = envelope.entry;
      t.equal(entry.seq, i, `line ${i + 1}: seq`);
      t.equal(entry.prev, prev, `line ${i + 1}: prev`);
      t.equal(JSON.stringify(sealEntry(entry, pair.privateKey)), l, `line ${i + 1}: re-sealed byte for byte`);
      t.equal(envelope.hash, v.hashes[i]);
      if (entry.kind === 'segment') segments.push(entry.object.sha256);
      if (entry.kind === 'close') {
        t.equal(entry.segments, segments.length, 'close counts the segments');
        t.equal(entry.merkleRoot, segmentRoot(segments), 'close root over the segment hashes');
        t.equal(entry.merkleRoot, v.merkle.root);
      }
      prev = envelope.hash;
    }
    const leaves = segments.map((h) => leafHash(bytes(h)));
    t.same(leaves.map(hex), v.merkle.leafHashes, 'leaf hashes: SHA-256(0x00 || object hash)');
    const n01 = nodeHash(leaves[0]!, leaves[1]!);
    const n23 = nodeHash(leaves[2]!, leaves[3]!);
    const n0123 = nodeHash(n01, n23);
    t.same(
      {
        'node(0,1)': hex(n01),
        'node(2,3)': hex(n23),
        'node(0..3)': hex(n0123),
        'root = node(0..3, 4)': hex(nodeHash(n0123, leaves[4]!)),
      },
      v.merkle.nodes,
      'interior nodes',
    );
  },
);

t.test(
  'Merkle roots, the 3-leaf example and inclusion and consistency proofs are reproduced and verify',
  async (t) => {
    const v = await load('merkle.json');
    t.equal(v.emptyRoot, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    t.equal(hex(merkleRoot([])), v.emptyRoot, 'empty tree');
    const data = v.leavesHex.map(bytes);
    const leaves = data.map(leafHash);
    t.same(leaves.map(hex), v.leafHashes, 'leaf hashes');
    for (let n = 1; n <= data.length; n++)
      t.equal(hex(merkleRoot(data.slice(0, n))), v.roots[n - 1], `root of ${n}`);
    t.equal(
      v.roots[7],
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
      'RFC 6962 8-leaf root',
    );
    const e = v.example3;
    t.equal(hex(nodeHash(bytes(e.leafHashes[0]), bytes(e.leafHashes[1]))), e['node(0,1)']);
    t.equal(hex(nodeHash(bytes(e['node(0,1)']), bytes(e.leafHashes[2]))), e.root);
    t.equal(e.root, v.roots[2]);
    for (const p of v.inclusion) {
      const tree = leaves.slice(0, p.treeSize);
      t.same(inclusionProof(p.index, tree).map(hex), p.proof, `inclusion proof ${p.index} of ${p.treeSize}`);
      t.ok(
        verifyInclusion(bytes(p.leafHash), p.index, p.treeSize, p.proof.map(bytes), bytes(p.root)),
        `inclusion ${p.index} of ${p.treeSize} verifies`,
      );
      t.equal(hex(rootFromLeafHashes(tree)), p.root);
    }
    for (const p of v.consistency) {
      const tree = leaves.slice(0, p.secondSize);
      t.same(
        consistencyProof(p.firstSize, tree).map(hex),
        p.proof,
        `consistency ${p.firstSize} → ${p.secondSize}`,
      );
      t.ok(
        verifyConsistency(
          p.firstSize,
          p.secondSize,
          bytes(p.firstRoot),
          bytes(p.secondRoot),
          p.proof.map(bytes),
        ),
        `consistency ${p.firstSize} → ${p.secondSize} verifies`,
      );
    }
    t.ok(
      v.inclusion.filter((p: Json) => p.published).length >= 4,
      'published CT inclusion proofs are among them',
    );
    t.ok(
      v.consistency.filter((p: Json) => p.published).length >= 3,
      'published CT consistency proofs are among them',
    );
  },
);

/**
 * readFolder's worker pool boots a module loader per worker under tap (seconds per folder), so the
 * tamper cases read their copies with the same readFolder and an in-process hasher instead.
 */
class InProcessHashPool {
  constructor(
    _size?: number,
    private readonly onBytes: (n: number) => void = () => {},
  ) {}
  async hash(path: string): Promise<{ sha256: string; size: number } | { error: string }> {
    try {
      const b = await readFile(path);
      this.onBytes(b.length);
      return { sha256: sha256Hex(b), size: b.length };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  async close(): Promise<void> {}
}

type ReadFolder = typeof readFolder;

async function verifyFolder(folder: string, read: ReadFolder = readFolder) {
  const contents = await read(folder);
  const report = verifyChains(contents.inputs, contents.keys, contents.objects, {}, contents.findings);
  const codes = [
    ...new Set([...report.findings, ...report.tracks.flatMap((x) => x.findings)].map((f) => f.code)),
  ];
  return { report, codes: codes.sort() };
}

t.test('folder-ok verifies with no finding at all', async (t) => {
  const { report, codes } = await verifyFolder(FOLDER_OK);
  const quick = await t.mockImport<typeof import('../../cli/verify/read-folder.ts')>(
    '../../cli/verify/read-folder.ts',
    { '../../cli/verify/hash-pool.ts': { HashPool: InProcessHashPool } },
  );
  t.same(
    await verifyFolder(FOLDER_OK, quick.readFolder),
    { report, codes },
    'the in-process hasher reads the same',
  );
  t.equal(report.ok, true);
  t.same(codes, []);
  t.same(
    report.tracks.map((x) => [x.track, x.status]),
    [
      ['cam-1', 'verified'],
      ['bodycam-1', 'verified'],
    ],
  );
  t.equal(report.entries, 12);
  t.equal(report.objects.checked, 7);
});

t.test('the worked examples of EVIDENCE.md are the values the code produces', async (t) => {
  const doc = await readFile(new URL('../../protocol/EVIDENCE.md', import.meta.url), 'utf8');
  const keys = await load('keys.json');
  const open = (await load('entries.json')).entries[0];
  const chain = await load('chain.json');
  const merkle = await load('merkle.json');
  const expected = {
    seed: keys.keys[0].seed,
    'public key': keys.keys[0].publicKey,
    fingerprint: keys.keys[0].fingerprint,
    'canonical text': open.canonical,
    hash: open.hash,
    'signed message': open.signedMessageHex,
    signature: open.sig,
    'envelope line': open.line,
    'close root': chain.merkle.root,
    '3-leaf root': merkle.example3.root,
    '3-leaf node': merkle.example3['node(0,1)'],
    ...Object.fromEntries(chain.merkle.leafHashes.map((h: string, i: number) => [`segment leaf ${i}`, h])),
    ...Object.fromEntries(Object.entries(chain.merkle.nodes).map(([k, h]) => [k, h as string])),
  };
  for (const [what, value] of Object.entries(expected)) t.ok(doc.includes(value), `§11 shows the ${what}`);
  const hexLines = [...doc.matchAll(/^([0-9a-f]{64}|[0-9a-f]{2,62})$/gm)].map((m) => m[1]).join('');
  t.ok(hexLines.includes(open.canonicalHex), '§11.2 shows the canonical bytes in hex');
  const sigHex = Buffer.from(open.sig, 'base64url').toString('hex');
  t.ok(
    doc.includes(sigHex.slice(0, 64)) && doc.includes(sigHex.slice(64)),
    '§11.2 shows the signature in hex',
  );
});

// ---- the tamper mutation language of tampered.json [EVIDENCE §12] ----

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) node = node[p];
  node[parts[parts.length - 1]!] = value;
}

function reseal(envelope: Json, how: 'none' | 'hash' | 'sign', seed?: string): void {
  if (how === 'none') return;
  const digest = entryHash(envelope.entry);
  envelope.hash = digest.toString('hex');
  if (how === 'sign') {
    if (!seed) throw new Error('sign needs a seed');
    envelope.sig = signDigest(keyPairFromSeed(bytes(seed)).privateKey, 'entry', digest);
  }
}

async function editLines(file: string, edit: (lines: string[]) => void): Promise<void> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  edit(lines);
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
}

async function applyMutation(root: string, m: Mutation): Promise<void> {
  const path = join(root, m.path);
  switch (m.op) {
    case 'flip-byte': {
      const b = await readFile(path);
      b[m.offset]! ^= 0x01;
      return writeFile(path, b);
    }
    case 'append-bytes':
      return writeFile(path, Buffer.concat([await readFile(path), bytes(m.hex)]));
    case 'delete':
      return rm(path, { recursive: true });
    case 'write':
      await mkdir(dirname(path), { recursive: true });
      return writeFile(path, m.text);
    case 'symlink':
      return symlink(m.target, path);
    case 'delete-line':
      return editLines(path, (lines) => void lines.splice(m.line - 1, 1));
    case 'duplicate-line':
      return editLines(path, (lines) => void lines.splice(m.line, 0, lines[m.line - 1]!));
    case 'swap-lines':
      return editLines(path, (lines) => {
        const a = lines[m.line - 1]!;
        lines[m.line - 1] = lines[m.with - 1]!;
        lines[m.with - 1] = a;
      });
    case 'truncate-line':
      return editLines(path, (lines) => {
        lines[m.line - 1] = lines[m.line - 1]!.slice(0, m.length);
      });
    case 'edit-line':
      return editLines(path, (lines) => {
        const envelope = JSON.parse(lines[m.line - 1]!);
        for (const [p, value] of Object.entries(m.set)) setPath(envelope, p, value);
        reseal(envelope, m.reseal, m.seed);
        lines[m.line - 1] = JSON.stringify(envelope);
      });
    case 'reseal-chain':
      return editLines(path, (lines) => {
        for (let i = m.from; i <= lines.length; i++) {
          const envelope = JSON.parse(lines[i - 1]!);
          const before = i === 1 ? null : JSON.parse(lines[i - 2]!);
          envelope.entry.seq = before ? before.entry.seq + 1 : 0;
          envelope.entry.prev = before ? before.hash : null;
          if (envelope.entry.kind === 'close') {
            const segments = lines
              .slice(0, i - 1)
              .map((l) => JSON.parse(l).entry)
              .filter((e) => e.kind === 'segment')
              .map((e) => e.object.sha256);
            envelope.entry.segments = segments.length;
            envelope.entry.merkleRoot = segmentRoot(segments);
          }
          reseal(envelope, 'sign', m.seed);
          lines[i - 1] = JSON.stringify(envelope);
        }
      });
  }
}

t.test('each tamper case yields exactly its expected finding codes', async (t) => {
  const v = await load('tampered.json');
  const { readFolder: read } = await t.mockImport<typeof import('../../cli/verify/read-folder.ts')>(
    '../../cli/verify/read-folder.ts',
    { '../../cli/verify/hash-pool.ts': { HashPool: InProcessHashPool } },
  );
  const scratch = await mkdtemp(join(tmpdir(), 'quanlu-vectors-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const covered = new Set<string>();
  for (const c of v.cases as TamperCase[]) {
    await t.test(c.id, async (t) => {
      const copy = join(scratch, c.id, 'folder');
      await cp(FOLDER_OK, copy, { recursive: true });
      for (const m of c.how) await applyMutation(copy, m);
      const { report, codes } = await verifyFolder(copy, read);
      t.same(codes, c.expectedCodes, c.description);
      t.equal(report.ok, c.expectedOk, `${c.description}: verdict`);
      for (const code of codes) covered.add(code);
    });
  }
  t.ok(v.cases.length >= 30, 'a case for most ways to tamper');
  t.ok(covered.size >= 25, `the cases cover ${covered.size} finding codes`);
});
