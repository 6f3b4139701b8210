/** @module Test support for retention: closed recordings of a given matter and room, indexed with their objects stored. */
import { randomUUID } from 'node:crypto';
import type { Repository } from '../../ingest/db/repository.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { type BuiltChain, buildChain, T0 } from '../helpers/chains.ts';
import { indexed } from '../log/log-support.ts';

/** What a recording is made of. */
export interface RecordingSpec {
  caseId: string;
  matter: string;
  room: string;
  /** Segments per track (2 s each). */
  segments?: number;
  /** Bytes tag, so recordings do not share objects unless they should. */
  tag?: string;
  /** When it starts, epoch ms (default T0). */
  start?: number;
}

/** A recording built, indexed and stored: its id, chains and object hashes. */
export interface TestRecording {
  id: string;
  chains: BuiltChain[];
  objects: string[];
}

/** Builds a closed two-track recording, puts its objects in `store` and indexes it. Ends at T0 + a minute. */
export async function storedRecording(
  repo: Repository,
  store: ObjectStore,
  key: KeyPair,
  spec: RecordingSpec,
): Promise<TestRecording> {
  const id = randomUUID();
  const tag = spec.tag ?? id;
  const chains = ['cam-1', 'mic-1'].map((track) => {
    const steps = [];
    const start = spec.start ?? T0;
    let at = start;
    for (let i = 0; i < (spec.segments ?? 3); i++) {
      steps.push({
        kind: 'segment' as const,
        bytes: Buffer.from(`${tag} ${track} ${i} `.repeat(30)),
        start: at,
        durationMs: 2000,
      });
      at += 2000;
    }
    steps.push({ kind: 'close' as const, end: at });
    return buildChain({
      recording: id,
      track,
      key,
      start,
      case: { id: spec.caseId, matter: spec.matter, officers: ['31010001', '31010002'], room: spec.room },
      steps,
    });
  });
  const objects: string[] = [];
  for (const c of chains)
    for (const [sha256, bytes] of c.objects) {
      await store.put(sha256, { bytes }, bytes.length);
      objects.push(sha256);
    }
  for (const c of chains) await repo.indexBatch(c.signed.map(indexed));
  return { id, chains, objects };
}

/** Milliseconds in a (30-day) month, for moving test clocks. */
export const MONTH_MS = 30 * 24 * 3600 * 1000;
