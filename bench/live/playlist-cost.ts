/**
 * @module Diagnostic for bench live: what one live playlist request of a long track costs. Indexes a 3-hour track
 * (5,400 segments of 2 s, every 300th followed by a gap) into a fresh PGlite, then times `repo.trackMedia` (the one
 * statement: whole, and after the last entry held, as a cached live reload reads it) and `buildPlaylist`
 * separately, and the verification facts of the recording page.
 * Run: `node --import tsx bench/live/playlist-cost.ts [--segments 5400] [--runs 20]`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildPlaylist } from '../../ingest/api/playlist.ts';
import { verificationState } from '../../ingest/api/verification-state.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository, type IndexedEntry } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { Entry } from '../../protocol/entry.ts';
import { buildChain, type Step, T0, testKey } from '../../test/helpers/chains.ts';

const { values: args } = parseArgs({
  options: { segments: { type: 'string', default: '5400' }, runs: { type: 'string', default: '20' } },
});
const count = Number(args.segments);
const runs = Number(args.runs);
const round = (x: number) => Number(x.toFixed(2));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const steps: Step[] = [];
let at = T0;
for (let i = 0; i < count; i++) {
  steps.push({ kind: 'segment', bytes: Buffer.from(`segment ${i}`), start: at, durationMs: 2000 });
  at += 2000;
  if (i % 300 === 299) {
    steps.push({ kind: 'gap', from: at, to: at + 1000, reason: 'source-lost', detail: 'diagnostic' });
    at += 1000;
  }
}
steps.push({ kind: 'close', end: at });
const recording = randomUUID();
const chain = buildChain({ recording, track: 'cam-1', key: testKey(9), steps });
const items: IndexedEntry[] = chain.signed.map((s) => {
  const entry = Entry.parse(s.entry);
  return {
    signed: s,
    entry,
    entryText: canonicalText(s.entry),
    ...(entry.kind === 'segment' ? { object: { ...entry.object, verifiedHow: 'rehash' as const } } : {}),
  };
});

const dir = await mkdtemp(join(tmpdir(), 'quanlu-playlist-cost-'));
const db = await openDatabase({ kind: 'pglite', dataDir: dir });
try {
  await migrate(db);
  const repo = createRepository(db);
  for (let i = 0; i < items.length; i += 500) await repo.indexBatch(items.slice(i, i + 500));
  const query: number[] = [];
  const build: number[] = [];
  const verify: number[] = [];
  const reload: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const media = (await repo.trackMedia(recording, 'cam-1'))!;
    const t1 = performance.now();
    const text = buildPlaylist({
      live: true,
      continuity: 'continuous',
      segments: media.segments,
      gaps: media.gaps,
    });
    const t2 = performance.now();
    const facts = await repo.recordingVerificationFacts(recording);
    const state = verificationState(facts.get('cam-1')!);
    const t3 = performance.now();
    // What a live reload reads once the media routes hold the track: the entries after the last one held.
    await repo.trackMedia(recording, 'cam-1', media.segments.at(-1)!.seq - 1);
    reload.push(performance.now() - t3);
    if (state.state !== 'verified') throw new Error(`expected verified, got ${JSON.stringify(state)}`);
    query.push(t1 - t0);
    build.push(t2 - t1);
    verify.push(t3 - t2);
    bytes = text.length;
  }
  process.stdout.write(
    `${JSON.stringify({
      bench: 'live-playlist-cost',
      segments: count,
      query_p50_ms: round(median(query)),
      build_p50_ms: round(median(build)),
      reload_query_p50_ms: round(median(reload)),
      verification_p50_ms: round(median(verify)),
      playlist_kb: round(bytes / 1024),
      runs,
      backend: 'pglite',
    })}\n`,
  );
} finally {
  await db.close();
  await rm(dir, { recursive: true, force: true });
}
