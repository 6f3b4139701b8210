import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { DeviceChain } from '../../protocol/device-chain.ts';
import { ALG, type Entry, entryHash, type SignedEntry, sealEntry } from '../../protocol/entry.ts';
import { keyPairFromSeed, signDigest } from '../../protocol/keys.ts';
import { verifyChains } from '../../protocol/verifier.ts';

const VECTORS = fileURLToPath(new URL('../../protocol/vectors/', import.meta.url));
// biome-ignore lint/suspicious/noExplicitAny: vector files are plain JSON
type Json = any;

async function verifyFolder(folder: string) {
  const read = await readFolder(folder);
  const report = verifyChains(read.inputs, read.keys, read.objects, {}, read.findings);
  const codes = new Set([...report.findings, ...report.tracks.flatMap((x) => x.findings)].map((f) => f.code));
  return { report, codes: [...codes].sort() };
}

t.test('folder-dock-ok verifies: a device chain with files, a deletion and a move', async (t) => {
  const { report, codes } = await verifyFolder(join(VECTORS, 'folder-dock-ok'));
  t.same(codes, []);
  t.ok(report.ok);
  t.equal(report.tracks[0]!.segments, 2, 'the close counts the two file entries');
});

t.test('the dock tamper cases of dock.json report exactly their codes', async (t) => {
  const dock: Json = JSON.parse(await readFile(join(VECTORS, 'dock.json'), 'utf8'));
  for (const c of dock.tampered) {
    const dir = await mkdtemp(join(tmpdir(), 'quanlu-dock-tamper-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await cp(join(VECTORS, 'folder-dock-ok'), dir, { recursive: true });
    for (const m of c.how) {
      const path = join(dir, m.path);
      if (m.op === 'delete') {
        await rm(path, { recursive: true, force: true });
        continue;
      }
      const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
      if (m.op === 'delete-line') lines.splice(m.line - 1, 1);
      else if (m.op === 'edit-line') {
        const env = JSON.parse(lines[m.line - 1]!);
        for (const [k, v] of Object.entries(m.set)) env.entry[k.replace(/^entry\./, '')] = v;
        const digest = entryHash(env.entry);
        env.hash = digest.toString('hex');
        env.sig = signDigest(keyPairFromSeed(Buffer.from(m.seed, 'hex')).privateKey, 'entry', digest);
        lines[m.line - 1] = JSON.stringify(env);
      } else throw new Error(`mutation ${m.op} is not used by dock.json`);
      await writeFile(path, lines.map((l) => `${l}\n`).join(''));
    }
    const { report, codes } = await verifyFolder(dir);
    t.same(codes, c.expectedCodes, `${c.id}: ${c.description}`);
    t.equal(report.ok, c.expectedOk);
  }
});

const key = keyPairFromSeed(Buffer.alloc(32, 9));
const id = {
  gateway: 'gw-t',
  keyFingerprint: key.publicKey.fingerprint,
  privateKey: key.privateKey,
  recording: '11111111-2222-4333-8444-555555555555',
  track: 'dock-sn-1',
};
const stamp = { sealedAt: '2026-11-27T01:00:00.000Z', clock: { offsetMs: 0, rttMs: null, source: 'none' } };
const source = { kind: 'bodycam' as const, name: 'dev', device: 'SN-1', officer: '31010001' };
const file = (name: string, sha: string) => ({
  ...stamp,
  object: { sha256: sha, size: 1 },
  name,
  modifiedAt: stamp.sealedAt,
  createdAt: null,
  deviceClockOffsetMs: null,
  container: null,
  intact: null,
});
const inputs = (entries: SignedEntry[]) =>
  entries.map((value, i) => ({ where: { file: 'x.jsonl', line: i + 1 }, value }));
const objects = (entries: SignedEntry[]) =>
  new Map(
    entries.flatMap((s) => {
      const e = s.entry as Entry;
      return e.kind === 'file' ? [[e.object.sha256, { actual: e.object.sha256, size: 1 }] as const] : [];
    }),
  );

t.test('a file entry sealed after a disposition is FILE_AFTER_DISPOSITION', async (t) => {
  const chain = new DeviceChain(id);
  const open = chain.open({
    ...stamp,
    start: stamp.sealedAt,
    continuity: 'discrete',
    case: null,
    source,
    startedBy: 'dock',
  });
  const f1 = chain.file(file('DCIM/A.MP4', 'a'.repeat(64)));
  const d1 = chain.disposition({
    ...stamp,
    file: f1.hash,
    name: 'DCIM/A.MP4',
    object: 'a'.repeat(64),
    action: 'deleted',
    to: null,
  });
  t.throws(
    () => chain.file(file('DCIM/B.MP4', 'b'.repeat(64))),
    /after a disposition/,
    'DeviceChain refuses it',
  );
  // What a holder of the key could still write by hand:
  const base = {
    v: 1,
    alg: ALG,
    gateway: id.gateway,
    key: id.keyFingerprint,
    recording: id.recording,
    track: id.track,
  };
  const f2 = sealEntry(
    { ...base, seq: 3, prev: d1.hash, kind: 'file', ...file('DCIM/B.MP4', 'b'.repeat(64)) } as Entry,
    key.privateKey,
  );
  const all = [open, f1, d1, f2];
  const keys = new Map([[key.publicKey.fingerprint, key.publicKey]]);
  const report = verifyChains(inputs(all), keys, objects(all), { allowOpen: true });
  t.same(
    report.tracks[0]!.findings.filter((f) => f.severity === 'error').map((f) => f.code),
    ['FILE_AFTER_DISPOSITION'],
  );
});

t.test('file entries in a camera chain are CHAIN_BAD_KIND', async (t) => {
  const chain = new DeviceChain(id);
  t.throws(
    () =>
      chain.open({
        ...stamp,
        start: stamp.sealedAt,
        continuity: 'continuous',
        case: null,
        source,
        startedBy: 'x',
      }),
    /discrete bodycam/,
  );
  const base = {
    v: 1,
    alg: ALG,
    gateway: id.gateway,
    key: id.keyFingerprint,
    recording: id.recording,
    track: id.track,
  };
  const open = sealEntry(
    {
      ...base,
      seq: 0,
      prev: null,
      kind: 'open',
      ...stamp,
      start: stamp.sealedAt,
      continuity: 'discrete',
      case: null,
      source: { ...source, kind: 'camera' },
      startedBy: 'x',
    } as Entry,
    key.privateKey,
  );
  const f = sealEntry(
    { ...base, seq: 1, prev: open.hash, kind: 'file', ...file('A.MP4', 'c'.repeat(64)) } as Entry,
    key.privateKey,
  );
  const keys = new Map([[key.publicKey.fingerprint, key.publicKey]]);
  const report = verifyChains(inputs([open, f]), keys, objects([open, f]), { allowOpen: true });
  t.same(
    report.tracks[0]!.findings.filter((f) => f.severity === 'error').map((x) => x.code),
    ['CHAIN_BAD_KIND'],
  );
});
