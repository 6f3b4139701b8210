/** @module Tests of the playlist and segment routes over a real index (PGlite, PostgreSQL) and real stores (folder, s3rver). */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import t, { type Test } from 'tap';
import { registerMediaRoutes } from '../../ingest/api/media-routes.ts';
import { allowAll, type RecordingAccess } from '../../ingest/api/recording-access.ts';
import { registerErrorHandler, registerRoutes } from '../../ingest/api/routes.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository, type IndexedEntry, type Repository } from '../../ingest/db/repository.ts';
import { IngestError } from '../../ingest/errors.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { Entry, type SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { createFsStore } from '../../store/fs-store.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { type BuiltChain, buildChain, type Step, T0, testKey } from '../helpers/chains.ts';
import { DATABASE_BACKENDS, type DatabaseBackend, withDatabases } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';
import { startS3Server } from '../helpers/s3-server.ts';

const { Parser } = createRequire(import.meta.url)('m3u8-parser') as {
  Parser: new () => {
    push(text: string): void;
    end(): void;
    manifest: {
      playlistType?: string;
      endList?: boolean;
      segments: { uri: string; discontinuity?: boolean }[];
      dateRanges: { id: string; xReason: string }[];
    };
  };
};

function parsePlaylist(text: string) {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest;
}

const KEY = testKey(7);
/** Segment 1 (5000 bytes), segment 2, a gap, segment 4, then the close: seq 0 is the open entry. */
const STEPS: Step[] = [
  { kind: 'segment', bytes: randomBytes(5000), start: T0, durationMs: 2000 },
  { kind: 'segment', bytes: randomBytes(7001), start: T0 + 2000, durationMs: 2000 },
  { kind: 'gap', from: T0 + 4000, to: T0 + 9000, reason: 'source-lost', detail: 'RTSP "timeout", cam-1' },
  { kind: 'segment', bytes: randomBytes(3000), start: T0 + 9000, durationMs: 1800 },
  { kind: 'close', end: T0 + 10_800 },
];
const SEG1 = STEPS[0] as unknown as { bytes: Buffer };

/** The chain as the consumer would index it: every segment's object checked. */
function indexed(signed: readonly SignedEntry[]): IndexedEntry[] {
  return signed.map((s) => {
    const entry = Entry.parse(s.entry);
    const object =
      entry.kind === 'segment'
        ? { object: { ...entry.object, verifiedHow: 'rehash' as const } }
        : ({} as Record<string, never>);
    return { signed: s, entry, entryText: canonicalText(s.entry), ...object };
  });
}

/** One index, one store, an app with the search, recording and media routes, and a chain not yet indexed. */
interface Fixture {
  app: FastifyInstance;
  repo: Repository;
  store: ObjectStore;
  chain: BuiltChain;
  recording: string;
  base: string;
  /** Indexes entries [from, to) of the chain. */
  index(from: number, to?: number): Promise<void>;
}

async function fixture(
  t: Test,
  opts: {
    db?: DatabaseBackend;
    store?: (t: Test) => Promise<ObjectStore>;
    access?: RecordingAccess;
    indexed?: EventEmitter;
    blockPollMs?: number;
    s3Delivery?: 'redirect' | 'proxy';
    steps?: Step[];
  } = {},
): Promise<Fixture> {
  const { db } = await (opts.db ?? DATABASE_BACKENDS[0]!).open(t);
  await migrate(db);
  const repo = createRepository(db);
  const store = opts.store ? await opts.store(t) : createFsStore(tmp(t, 'quanlu-media-'));
  const recording = randomUUID();
  const chain = buildChain({ recording, track: 'cam-1', key: KEY, steps: opts.steps ?? STEPS });
  for (const [sha256, bytes] of chain.objects) await store.put(sha256, { bytes }, bytes.length);
  const app = Fastify() as unknown as FastifyInstance;
  registerErrorHandler(app);
  // As app.ts does: routes that declare zod schemas validate and serialize with them.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerRoutes(app, repo);
  registerMediaRoutes(app, {
    repo,
    store,
    access: opts.access ?? allowAll,
    ...(opts.indexed ? { indexed: opts.indexed } : {}),
    ...(opts.s3Delivery ? { s3Delivery: opts.s3Delivery } : {}),
    ...(opts.blockPollMs ? { blockPollMs: opts.blockPollMs } : {}),
  });
  t.teardown(() => app.close());
  const all = indexed(chain.signed);
  return {
    app,
    repo,
    store,
    chain,
    recording,
    base: `/api/v1/recordings/${recording}/tracks/cam-1`,
    async index(from, to) {
      await repo.indexBatch(all.slice(from, to));
    },
  };
}

async function s3Store(t: Test): Promise<ObjectStore> {
  const server = await startS3Server();
  t.teardown(() => server.close());
  return createS3Store({ ...server });
}

t.test('playlists and verification from the index', (t) => {
  withDatabases(t, async (t, backend) => {
    const f = await fixture(t, { db: backend });
    await f.index(0, 4); // open, two segments, the gap
    let res = await f.app.inject(`${f.base}/playlist.m3u8`);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-type'], 'application/vnd.apple.mpegurl');
    t.equal(res.headers['cache-control'], 'no-cache', 'a live playlist is never cached');
    let m = parsePlaylist(res.body);
    t.equal(m.playlistType, 'EVENT');
    t.notOk(m.endList);
    t.same(
      m.segments.map((s) => s.uri),
      ['segments/1.ts', 'segments/2.ts'],
    );
    t.same(
      m.dateRanges.map((d) => [d.id, d.xReason]),
      [['gap-3', 'source-lost']],
    );
    let rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
    t.same(rec.tracks[0].verification, {
      state: 'pending',
      reason: 'still recording: 2 segments indexed so far',
    });

    await f.index(4); // segment 4 and the close
    res = await f.app.inject(`${f.base}/playlist.m3u8`);
    m = parsePlaylist(res.body);
    t.equal(m.playlistType, 'VOD');
    t.ok(m.endList, 'ENDLIST once closed');
    t.same(
      m.segments.map((s) => [s.uri, Boolean(s.discontinuity)]),
      [
        ['segments/1.ts', false],
        ['segments/2.ts', false],
        ['segments/4.ts', true],
      ],
    );
    t.match(res.headers['cache-control'], /max-age/);
    rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
    t.same(rec.tracks[0].verification, { state: 'verified', reason: null });
    rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
    t.same(
      rec.tracks[0].verification,
      { state: 'verified', reason: null },
      'still verified when asked again',
    );

    await f.repo.markTrackBroken(f.recording, 'cam-1', 'INGEST_CHAIN_FORK', 'seq 2 is already held');
    rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
    t.same(rec.tracks[0].verification, {
      state: 'broken',
      reason: 'INGEST_CHAIN_FORK: seq 2 is already held',
    });
  });
  t.end();
});

t.test('a closed chain whose Merkle root does not match its indexed segments is broken', async (t) => {
  const f = await fixture(t);
  const all = indexed(f.chain.signed);
  // Another chain of the same recording and track whose close root covers different segments.
  const other = buildChain({
    recording: f.recording,
    track: 'cam-1',
    key: KEY,
    steps: [
      STEPS[0]!,
      { kind: 'segment', bytes: randomBytes(10), start: T0 + 2000, durationMs: 2000 },
      STEPS[2]!,
      STEPS[3]!,
      STEPS[4]!,
    ],
  });
  const close = indexed(other.signed).at(-1)!;
  // Indexed as the consumer would only if a link held; here the index is fed directly, like a forged close.
  const forged = { ...close, entry: { ...close.entry, prev: all[4]!.signed.hash } as Entry };
  await f.repo.indexBatch([...all.slice(0, 5), forged]);
  const rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
  t.equal(rec.tracks[0].verification.state, 'broken');
  t.match(rec.tracks[0].verification.reason, /Merkle root/);
});

for (const [name, open, delivery] of [
  ['folder store', undefined, undefined],
  ['S3 store (s3rver), proxied', s3Store, 'proxy'],
] as const) {
  t.test(`segments byte for byte with ranges: ${name}`, async (t) => {
    const f = await fixture(t, {
      ...(open ? { store: open } : {}),
      ...(delivery ? { s3Delivery: delivery } : {}),
    });
    await f.index(0);
    const url = `${f.base}/segments/1.ts`;
    const get = (headers: Record<string, string> = {}) => f.app.inject({ url, headers });
    const whole = await get();
    t.equal(whole.statusCode, 200);
    t.ok(whole.rawPayload.equals(SEG1.bytes), 'the stored object, byte for byte');
    t.equal(whole.headers['content-type'], 'video/mp2t');
    t.equal(whole.headers['content-length'], '5000');
    t.equal(whole.headers.etag, `"${sha256Hex(SEG1.bytes)}"`, 'the ETag is the SHA-256');
    t.match(whole.headers['cache-control'], /immutable/);
    t.equal(whole.headers['accept-ranges'], 'bytes');

    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=4990-', 4990, 4999],
      ['bytes=-10', 4990, 4999],
      ['bytes=-999999', 0, 4999],
      ['bytes=4000-999999', 4000, 4999],
    ];
    for (const [range, start, end] of cases) {
      const res = await get({ range });
      t.equal(res.statusCode, 206, range);
      t.equal(res.headers['content-range'], `bytes ${start}-${end}/5000`, range);
      t.ok(res.rawPayload.equals(SEG1.bytes.subarray(start, end + 1)), `${range}: exactly those bytes`);
    }
    for (const range of ['bytes=5000-', 'bytes=9000-9999', 'bytes=-0']) {
      const res = await get({ range });
      t.equal(res.statusCode, 416, range);
      t.equal(res.json().error.code, 'INGEST_RANGE_INVALID');
      t.equal(res.headers['content-range'], 'bytes */5000', `${range}: the size is told`);
    }
    for (const range of ['bytes=abc', 'bytes=5-1', 'bytes=-', 'bytes', 'bytes=1-2,x']) {
      const res = await get({ range });
      t.equal(res.statusCode, 416, `malformed ${range}`);
      t.equal(res.json().error.code, 'INGEST_RANGE_INVALID');
    }
    t.equal((await get({ range: 'items=0-1' })).statusCode, 200, 'a unit other than bytes is ignored');
    t.equal((await get({ range: 'bytes=0-1,5-6' })).statusCode, 200, 'several ranges are answered whole');
    t.equal((await get({ 'if-none-match': whole.headers.etag as string })).statusCode, 304);
    const stale = await get({ range: 'bytes=0-9', 'if-range': '"0000"' });
    t.equal(stale.statusCode, 200, 'If-Range with another validator: the whole object');
    t.equal((await get({ range: 'bytes=0-9', 'if-range': whole.headers.etag as string })).statusCode, 206);
  });
}

t.test(
  'S3: a segment is a short-lived presigned redirect, and following it gives the same bytes',
  async (t) => {
    const f = await fixture(t, { store: s3Store });
    await f.index(0);
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    const address = f.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}${f.base}/segments/1.ts`;
    const first = await fetch(url, { redirect: 'manual' });
    t.equal(first.status, 302);
    const location = new URL(first.headers.get('location')!);
    t.equal(location.searchParams.get('X-Amz-Expires'), '60', 'the URL lives 60 s');
    t.equal(first.headers.get('cache-control'), 'no-store');
    const followed = await fetch(url);
    t.equal(followed.status, 200);
    t.ok(Buffer.from(await followed.arrayBuffer()).equals(SEG1.bytes), 'byte for byte through the redirect');
    const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
    t.equal(ranged.status, 206, 'the range goes along with the redirect');
    t.ok(Buffer.from(await ranged.arrayBuffer()).equals(SEG1.bytes.subarray(100, 200)));
  },
);

t.test('bad names and ids are coded 400s; unknown ones 404s', async (t) => {
  const f = await fixture(t);
  await f.index(0);
  const expect = async (url: string, status: number, code: string) => {
    const res = await f.app.inject(url);
    t.equal(res.statusCode, status, url);
    t.equal(res.json().error.code, code, url);
  };
  const bad = '/api/v1/recordings/..%2F..%2Fetc%2Fpasswd/tracks/cam-1/playlist.m3u8';
  await expect(bad, 400, 'INGEST_BAD_REQUEST');
  await expect(
    `/api/v1/recordings/${f.recording}/tracks/..%2Fcam-1/playlist.m3u8`,
    400,
    'INGEST_BAD_REQUEST',
  );
  await expect(`${f.base}/segments/..%2F..%2F1.ts`, 400, 'INGEST_BAD_REQUEST');
  await expect(`${f.base}/segments/1.mp4`, 400, 'INGEST_BAD_REQUEST');
  await expect(`${f.base}/playlist.m3u8?_HLS_msn=-1`, 400, 'INGEST_BAD_REQUEST');
  await expect(`${f.base}/playlist.m3u8?_HLS_part=1`, 400, 'INGEST_BAD_REQUEST');
  await expect('/api/v1/recordings?caseId=..%2F..%2Fetc', 400, 'INGEST_BAD_REQUEST');
  await expect(`/api/v1/recordings/${randomUUID()}/tracks/cam-1/playlist.m3u8`, 404, 'INGEST_NOT_FOUND');
  await expect(`/api/v1/recordings/${f.recording}/tracks/cam-9/playlist.m3u8`, 404, 'INGEST_NOT_FOUND');
  await expect(`${f.base}/segments/3.ts`, 404, 'INGEST_NOT_FOUND'); // seq 3 is the gap
  await expect(`${f.base}/segments/99.ts`, 404, 'INGEST_NOT_FOUND');
});

t.test('every playlist and segment asks the access hook first; a refusal answers nothing else', async (t) => {
  // A test double of the auth module's hook: it records what it is asked and refuses segments.
  const asked: { action: string; recording: string; track?: string }[] = [];
  const access: RecordingAccess = {
    async authorize(_req, target) {
      asked.push({ action: target.action, recording: target.recording.id, track: target.track });
      if (target.action === 'media') throw new IngestError('INGEST_FORBIDDEN', 'not your room');
    },
  };
  const f = await fixture(t, { access });
  await f.index(0);
  t.equal((await f.app.inject(`${f.base}/playlist.m3u8`)).statusCode, 200);
  const refused = await f.app.inject(`${f.base}/segments/1.ts`);
  t.equal(refused.statusCode, 403);
  t.same(refused.json(), { error: { code: 'INGEST_FORBIDDEN', message: 'not your room' } });
  t.notOk(refused.headers.etag, 'nothing of the object is told');
  const missing = await f.app.inject(`${f.base}/segments/99.ts`);
  t.equal(missing.statusCode, 403, 'whether a segment exists is not told before the check either');
  t.same(asked, [
    { action: 'playlist', recording: f.recording, track: 'cam-1' },
    { action: 'media', recording: f.recording, track: 'cam-1' },
    { action: 'media', recording: f.recording, track: 'cam-1' },
  ]);
});

t.test('a blocking reload answers once the awaited segment is indexed', async (t) => {
  const events = new EventEmitter();
  const f = await fixture(t, { indexed: events, blockPollMs: 60_000 });
  await f.index(0, 3); // open, segments 1 and 2: media sequence numbers 0 and 1
  const plain = await f.app.inject(`${f.base}/playlist.m3u8`);
  t.match(plain.body, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES/);
  t.equal((await f.app.inject(`${f.base}/playlist.m3u8?_HLS_msn=4`)).statusCode, 400, 'too far ahead');

  // Over a real socket, as a player asks.
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = f.app.server.address() as { port: number };
  const blocked = fetch(`http://127.0.0.1:${port}${f.base}/playlist.m3u8?_HLS_msn=2`).then((r) => r.text());
  let answered = false;
  void blocked.then(() => {
    answered = true;
  });
  await f.index(3, 5); // the gap, then segment 4 (media sequence 2)
  t.notOk(answered, 'no answer before the index says so');
  for (const e of indexed(f.chain.signed).slice(3, 5)) events.emit('indexed', { entry: e.entry });
  t.same(
    parsePlaylist(await blocked).segments.map((s) => s.uri),
    ['segments/1.ts', 'segments/2.ts', 'segments/4.ts'],
  );
});

t.test('a 3-hour track (5,400 segments) is one playlist, in order, and verifies', async (t) => {
  const steps: Step[] = Array.from({ length: 5400 }, (_, i) => ({
    kind: 'segment' as const,
    bytes: Buffer.from(`segment ${i}`),
    start: T0 + i * 2000,
    durationMs: 2000,
  }));
  steps.push({ kind: 'close', end: T0 + 5400 * 2000 });
  const f = await fixture(t, { steps });
  const all = indexed(f.chain.signed);
  for (let i = 0; i < all.length; i += 500) await f.repo.indexBatch(all.slice(i, i + 500));
  const m = parsePlaylist((await f.app.inject(`${f.base}/playlist.m3u8`)).body);
  t.equal(m.segments.length, 5400);
  t.equal(m.segments[5399]!.uri, 'segments/5400.ts');
  t.ok(m.endList);
  const rec = (await f.app.inject(`/api/v1/recordings/${f.recording}`)).json();
  t.same(rec.tracks[0].verification, { state: 'verified', reason: null });
});
