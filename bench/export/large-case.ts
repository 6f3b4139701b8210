/**
 * @module Builds a large case cheaply for the export bench and the bounded-memory test: correctly signed
 * chains over big pseudo-random objects, written to a local store and indexed into PGlite, with the
 * ingest configuration file `quanlu export --config` reads.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { migrate } from '../../ingest/db/migrations.ts';
import { type DatabaseConfigInput, openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository, type IndexedEntry } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import { Entry, type SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { keyPairFromSeed } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';
import { openStore } from '../../store/open-store.ts';

/** The case every large case is filed under. */
export const LARGE_CASE_ID = 'BENCH-2026-0001';

/** What was built. */
export interface LargeCase {
  configFile: string;
  bytes: number;
  objects: number;
  entries: number;
}

const CLOCK = { offsetMs: 0, rttMs: null, source: 'none' };

function indexed(signed: SignedEntry): IndexedEntry {
  const entry = Entry.parse(signed.entry);
  return {
    signed,
    entry,
    entryText: canonicalText(signed.entry),
    ...(entry.kind === 'segment'
      ? { object: { sha256: entry.object.sha256, size: entry.object.size, verifiedHow: 'rehash' as const } }
      : {}),
  };
}

/**
 * Builds `tracks` chains whose segments total at least `bytes`, each object `objectBytes` long: one
 * random block with the object's number written over its first bytes, so every object differs.
 */
export async function buildLargeCase(
  dir: string,
  opts: { bytes: number; objectBytes: number; tracks: number; database?: DatabaseConfigInput },
): Promise<LargeCase> {
  const dataDir = join(dir, 'ingest');
  const database = opts.database ?? { kind: 'pglite' as const, dataDir: join(dataDir, 'db') };
  const db = await openDatabase(database);
  const store = openStore({ kind: 'fs', root: join(dataDir, 'objects') });
  const key = keyPairFromSeed(Buffer.alloc(32, 3));
  const recording = '0b1e2d3c-4a5b-4c6d-8e7f-00000000beef';
  const block = randomBytes(opts.objectBytes);
  const perTrack = Math.ceil(opts.bytes / opts.objectBytes / opts.tracks);
  let entries = 0;
  try {
    await migrate(db);
    const repo = createRepository(db);
    await repo.upsertEnrollment({
      id: 'gw-bench',
      fingerprint: key.publicKey.fingerprint,
      publicKey: key.publicKeyText,
      hostname: null,
    });
    await repo.decideGateway(key.publicKey.fingerprint, 'approved', 'bench');
    const t0 = Date.UTC(2026, 10, 27, 1, 0, 0);
    let n = 0;
    for (let track = 1; track <= opts.tracks; track++) {
      const chain = new TrackChain({
        gateway: 'gw-bench',
        keyFingerprint: key.publicKey.fingerprint,
        privateKey: key.privateKey,
        recording,
        track: `cam-${track}`,
      });
      const batch: SignedEntry[] = [
        chain.open({
          sealedAt: isoTime(t0),
          clock: CLOCK,
          start: isoTime(t0),
          continuity: 'continuous',
          case: { id: LARGE_CASE_ID, matter: 'inquiry', officers: ['31010001'], room: 'interview-1' },
          source: { kind: 'camera', name: `cam-${track}`, device: null, officer: null },
          startedBy: 'bench',
        }),
      ];
      let at = t0;
      for (let i = 0; i < perTrack; i++) {
        block.writeUInt32BE(n++, 0);
        const sha256 = sha256Hex(block);
        await store.put(sha256, { bytes: block }, block.length);
        batch.push(
          chain.segment({
            sealedAt: isoTime(at + 4000),
            clock: CLOCK,
            object: { sha256, size: block.length },
            start: isoTime(at),
            durationMs: 4000,
            container: 'mpegts',
            name: null,
          }),
        );
        at += 4000;
      }
      batch.push(chain.close({ sealedAt: isoTime(at), clock: CLOCK, end: isoTime(at), reason: 'stopped' }));
      for (let i = 0; i < batch.length; i += 200) await repo.indexBatch(batch.slice(i, i + 200).map(indexed));
      entries += batch.length;
    }
    const configFile = join(dir, 'ingest.json');
    await writeFile(
      configFile,
      JSON.stringify({
        dataDir,
        database,
        log: { level: 'warn' },
        fixity: { enabled: false, bytesPerSecond: 1 << 20, pauseSeconds: 3600 },
      }),
    );
    return { configFile, bytes: n * opts.objectBytes, objects: n, entries };
  } finally {
    await db.close();
  }
}
