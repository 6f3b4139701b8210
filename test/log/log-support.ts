/** @module Test support for the log, export and fixity suites: honest signed chains indexed into a real repository. */

import type { IndexedEntry, Repository } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { Entry, type SignedEntry } from '../../protocol/entry.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type BuiltChain, buildChain, type Step, T0 } from '../helpers/chains.ts';

/** What the consumer hands to indexBatch once an entry is verified. */
export function indexed(signed: SignedEntry): IndexedEntry {
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

/** A closed continuous chain of `segments` 2 s segments (one gap after the second), objects tagged by `tag`. */
export function honestChain(
  recording: string,
  track: string,
  key: KeyPair,
  segments: number,
  tag = track,
): BuiltChain {
  const steps: Step[] = [];
  let at = T0;
  for (let i = 0; i < segments; i++) {
    if (i === 2) {
      steps.push({ kind: 'gap', from: at, to: at + 3000, reason: 'source-lost', detail: 'camera unplugged' });
      at += 3000;
    }
    steps.push({
      kind: 'segment',
      bytes: Buffer.from(`${tag} segment ${i} `.repeat(40)),
      start: at,
      durationMs: 2000,
    });
    at += 2000;
  }
  steps.push({ kind: 'close', end: at });
  return buildChain({ recording, track, key, steps });
}

/** Enrolls and approves the test gateway's key, as an administrator would. */
export async function enroll(repo: Repository, key: KeyPair, gateway = 'gw-test'): Promise<void> {
  await repo.upsertEnrollment({
    id: gateway,
    fingerprint: key.publicKey.fingerprint,
    publicKey: key.publicKeyText,
    hostname: null,
  });
  await repo.decideGateway(key.publicKey.fingerprint, 'approved', 'test-admin');
}

/** Indexes the entries in batches of `size`, interleaving chains the way a consumer receives them. */
export async function indexInBatches(
  repo: Repository,
  chains: readonly BuiltChain[],
  size: number,
): Promise<string[]> {
  const order: SignedEntry[] = [];
  const longest = Math.max(...chains.map((c) => c.signed.length));
  for (let i = 0; i < longest; i++) for (const c of chains) if (c.signed[i]) order.push(c.signed[i]!);
  for (let i = 0; i < order.length; i += size) await repo.indexBatch(order.slice(i, i + size).map(indexed));
  return order.map((s) => s.hash);
}
