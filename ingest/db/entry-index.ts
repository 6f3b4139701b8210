/** @module Indexing verified entries: one transaction per batch, idempotent by hash, forks and broken links reported. */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { recordFootage } from './device-store.ts';
import { advanceTracks, openTracks, recordObjects } from './index-effects.ts';
import type { Database } from './open-database.ts';
import { type Queryable, run, type TrackStatus, trackKey, transaction } from './rows.ts';

/** An entry the consumer has verified (schema, hash, signature, object), ready to index. */
export interface IndexedEntry {
  signed: SignedEntry;
  entry: Entry;
  /** The canonical text of `entry` (`canonicalText(entry)`): the bytes `signed.hash` covers. */
  entryText: string;
  /** The segment's object, when the consumer checked it against the store. */
  object?: { sha256: string; size: number; verifiedHow: 'store-checksum' | 'rehash' };
}

/** An entry whose place in its chain is held by another entry [EVIDENCE: a chain never forks]. */
export interface ForkReport {
  hash: string;
  recording: string;
  track: string;
  seq: number;
  /** The hash already indexed at this place. */
  heldBy: string;
}

/** An entry whose `prev` is not the hash indexed just before it (or nothing is indexed there). */
export interface UnlinkedReport {
  hash: string;
  recording: string;
  track: string;
  seq: number;
  /** The hash indexed at seq - 1, or null when that place is empty. */
  indexedPrev: string | null;
}

/** What a batch did, by entry hash; every entry of the batch is in exactly one list. */
export interface IndexBatchResult {
  /** Newly indexed, in batch order (which is acceptance order). */
  inserted: string[];
  /** Already indexed before this batch, or repeated within it. */
  present: string[];
  /** Not indexed: their place is held by a different entry. */
  forks: ForkReport[];
  /** Not indexed: they do not link to the indexed chain (for instance they follow a fork). */
  unlinked: UnlinkedReport[];
}

/** A chain head as indexed: where the next entry must link. */
export interface TrackHead {
  lastSeq: number;
  lastHash: string;
  status: TrackStatus;
}

/** The indexed heads of these tracks, by `trackKey`; tracks never opened are absent. */
export async function trackHeads(
  db: Queryable,
  pairs: ReadonlyArray<{ recording: string; track: string }>,
): Promise<Map<string, TrackHead>> {
  const heads = new Map<string, TrackHead>();
  if (pairs.length === 0) return heads;
  const res = await run(
    db,
    'read track heads',
    `SELECT t.recording, t.track, t.last_seq, t.last_hash, t.status
     FROM tracks t JOIN unnest($1::uuid[], $2::text[]) AS k(recording, track)
       ON t.recording = k.recording AND t.track = k.track`,
    [pairs.map((p) => p.recording), pairs.map((p) => p.track)],
  );
  for (const r of res.rows) {
    heads.set(trackKey(String(r.recording), String(r.track)), {
      lastSeq: Number(r.last_seq),
      lastHash: String(r.last_hash),
      status: r.status as TrackStatus,
    });
  }
  return heads;
}

/** Marks a track broken, keeping the first cause if it already was; false when there is no such track. */
export async function markTrackBroken(
  db: Queryable,
  recording: string,
  track: string,
  code: string,
  reason: string,
): Promise<boolean> {
  const res = await run(
    db,
    'mark track broken',
    `UPDATE tracks SET
       broken_code = CASE WHEN status = 'broken' THEN broken_code ELSE $3 END,
       broken_reason = CASE WHEN status = 'broken' THEN broken_reason ELSE $4 END,
       status = 'broken'
     WHERE recording = $1 AND track = $2`,
    [recording, track, code, reason],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Indexes a batch in one transaction. Entries of one track must come in seq order; a batch may
 * hold many tracks. Each track of the batch is locked for the transaction, so concurrent ingest
 * nodes indexing the same track take turns and the fork and link checks see a settled chain.
 */
export async function indexBatch(db: Database, batch: readonly IndexedEntry[]): Promise<IndexBatchResult> {
  const result: IndexBatchResult = { inserted: [], present: [], forks: [], unlinked: [] };
  if (batch.length === 0) return result;
  return transaction(db, 'index batch', async (tx) => {
    await lockTracks(tx, batch);
    const fresh = await classify(tx, batch, result);
    if (fresh.length === 0) return result;
    const inserted = await insertEntries(tx, fresh);
    const done = fresh.filter((e) => inserted.has(e.signed.hash));
    // A hash can only be missing from RETURNING if it was indexed meanwhile: nothing to update for it.
    for (const e of fresh)
      (inserted.has(e.signed.hash) ? result.inserted : result.present).push(e.signed.hash);
    await openTracks(tx, done);
    await advanceTracks(tx, done);
    await recordObjects(tx, done);
    await recordFootage(tx, done);
    return result;
  });
}

async function lockTracks(tx: pg.PoolClient, batch: readonly IndexedEntry[]): Promise<void> {
  const keys = [...new Set(batch.map((e) => trackKey(e.entry.recording, e.entry.track)))]
    .map((k) => createHash('sha256').update(`quanlu/track/${k}`).digest().readBigInt64BE(0))
    // One order for every node, so two batches sharing tracks cannot deadlock.
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // pg_advisory_xact_lock is volatile, so it runs after the ORDER BY, in that order.
  await run(
    tx,
    'lock tracks',
    'SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS u(k, i) ORDER BY i',
    [keys.map(String)],
  );
}

/** Sorts the batch into present, forks, unlinked and the fresh entries to insert. */
async function classify(
  tx: pg.PoolClient,
  batch: readonly IndexedEntry[],
  result: IndexBatchResult,
): Promise<IndexedEntry[]> {
  const place = (recording: string, track: string, seq: number) => `${recording}/${track}/${seq}`;
  const wanted = new Map<string, { recording: string; track: string; seq: number }>();
  for (const { entry: e } of batch) {
    for (const seq of e.seq > 0 ? [e.seq, e.seq - 1] : [e.seq]) {
      wanted.set(place(e.recording, e.track, seq), { recording: e.recording, track: e.track, seq });
    }
  }
  const places = [...wanted.values()];
  const res = await run(
    tx,
    'read chain places',
    `SELECT e.recording, e.track, e.seq, e.hash
     FROM unnest($1::uuid[], $2::text[], $3::int8[]) AS k(recording, track, seq)
     JOIN entries e ON e.recording = k.recording AND e.track = k.track AND e.seq = k.seq`,
    [places.map((p) => p.recording), places.map((p) => p.track), places.map((p) => p.seq)],
  );
  const held = new Map<string, string>();
  for (const r of res.rows)
    held.set(place(String(r.recording), String(r.track), Number(r.seq)), String(r.hash));

  const fresh: IndexedEntry[] = [];
  for (const item of batch) {
    const { entry: e, signed } = item;
    const at = { hash: signed.hash, recording: e.recording, track: e.track, seq: e.seq };
    const holder = held.get(place(e.recording, e.track, e.seq));
    if (holder === signed.hash) {
      result.present.push(signed.hash);
    } else if (holder !== undefined) {
      result.forks.push({ ...at, heldBy: holder });
    } else if (e.seq > 0 && held.get(place(e.recording, e.track, e.seq - 1)) !== e.prev) {
      result.unlinked.push({ ...at, indexedPrev: held.get(place(e.recording, e.track, e.seq - 1)) ?? null });
    } else {
      held.set(place(e.recording, e.track, e.seq), signed.hash);
      fresh.push(item);
    }
  }
  return fresh;
}

/** One multi-row INSERT in batch order (log_index follows it); returns the hashes inserted. */
async function insertEntries(tx: pg.PoolClient, fresh: IndexedEntry[]): Promise<Set<string>> {
  const res = await run(
    tx,
    'insert entries',
    `INSERT INTO entries (hash, recording, track, seq, kind, gateway, entry, entry_text, sig, object_sha256)
     SELECT u.hash, u.recording, u.track, u.seq, u.kind, u.gateway, u.entry_text::jsonb, u.entry_text, u.sig, u.object_sha256
     FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
       WITH ORDINALITY AS u(hash, recording, track, seq, kind, gateway, entry_text, sig, object_sha256, i)
     ORDER BY u.i
     ON CONFLICT (hash) DO NOTHING
     RETURNING hash`,
    [
      fresh.map((e) => e.signed.hash),
      fresh.map((e) => e.entry.recording),
      fresh.map((e) => e.entry.track),
      fresh.map((e) => e.entry.seq),
      fresh.map((e) => e.entry.kind),
      fresh.map((e) => e.entry.gateway),
      fresh.map((e) => e.entryText),
      fresh.map((e) => e.signed.sig),
      fresh.map((e) =>
        e.entry.kind === 'segment' || e.entry.kind === 'file' ? e.entry.object.sha256 : null,
      ),
    ],
  );
  return new Set(res.rows.map((r) => String(r.hash)));
}
