/** @module What indexing entries changes besides the entries table: cases, recordings, track heads and totals, objects. */
import type pg from 'pg';
import type { CloseEntry, OpenEntry } from '../../protocol/entry.ts';
import type { IndexedEntry } from './entry-index.ts';
import { run, trackKey } from './rows.ts';

/** Open entries create their track, their recording (from the case elements) and their case. */
export async function openTracks(tx: pg.PoolClient, done: IndexedEntry[]): Promise<void> {
  const opens = done.flatMap((e) =>
    e.entry.kind === 'open' ? [{ hash: e.signed.hash, open: e.entry }] : [],
  );
  if (opens.length === 0) return;
  const caseIds = [...new Set(opens.flatMap(({ open }) => (open.case ? [open.case.id] : [])))];
  if (caseIds.length > 0) {
    await run(
      tx,
      'record cases',
      `INSERT INTO cases (id, first_seen_at) SELECT u.id, now() FROM unnest($1::text[]) AS u(id)
       ON CONFLICT (id) DO NOTHING`,
      [caseIds],
    );
  }
  // One row per recording (an upsert may not touch a row twice in one statement): the earliest
  // start, and the case elements of the first open that has them.
  const recordings = new Map<string, { open: OpenEntry; start: string }>();
  for (const { open } of opens) {
    const seen = recordings.get(open.recording);
    if (!seen) {
      recordings.set(open.recording, { open, start: open.start });
      continue;
    }
    if (!seen.open.case && open.case) seen.open = open;
    if (open.start < seen.start) seen.start = open.start;
  }
  const recs = [...recordings.values()];
  // A track opening in a recording means it is running again: ended_at is cleared.
  await run(
    tx,
    'record recordings',
    `INSERT INTO recordings (id, gateway, case_id, matter, room, officers, started_by, started_at)
     SELECT u.id, u.gateway, u.case_id, u.matter, u.room, u.officers, u.started_by, u.started_at
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::timestamptz[])
       AS u(id, gateway, case_id, matter, room, officers, started_by, started_at)
     ON CONFLICT (id) DO UPDATE SET
       started_at = LEAST(recordings.started_at, EXCLUDED.started_at),
       case_id = COALESCE(recordings.case_id, EXCLUDED.case_id),
       matter = CASE WHEN recordings.case_id IS NULL THEN EXCLUDED.matter ELSE recordings.matter END,
       room = CASE WHEN recordings.case_id IS NULL THEN EXCLUDED.room ELSE recordings.room END,
       officers = CASE WHEN recordings.case_id IS NULL THEN EXCLUDED.officers ELSE recordings.officers END,
       ended_at = NULL`,
    [
      recs.map(({ open }) => open.recording),
      recs.map(({ open }) => open.gateway),
      recs.map(({ open }) => open.case?.id ?? null),
      recs.map(({ open }) => open.case?.matter ?? null),
      recs.map(({ open }) => open.case?.room ?? null),
      recs.map(({ open }) => JSON.stringify(open.case?.officers ?? [])),
      recs.map(({ open }) => open.startedBy),
      recs.map(({ start }) => start),
    ],
  );
  await run(
    tx,
    'open tracks',
    `INSERT INTO tracks (recording, track, gateway, source, continuity, status, last_seq, last_hash, started_at)
     SELECT u.recording, u.track, u.gateway, u.source, u.continuity, 'open', u.seq, u.hash, u.started_at
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::int8[], $7::text[], $8::timestamptz[])
       AS u(recording, track, gateway, source, continuity, seq, hash, started_at)
     ON CONFLICT (recording, track) DO NOTHING`,
    [
      opens.map(({ open }) => open.recording),
      opens.map(({ open }) => open.track),
      opens.map(({ open }) => open.gateway),
      opens.map(({ open }) => JSON.stringify(open.source)),
      opens.map(({ open }) => open.continuity),
      opens.map(({ open }) => open.seq),
      opens.map(({ hash }) => hash),
      opens.map(({ open }) => open.start),
    ],
  );
}

/** What a batch adds to one track. */
interface TrackStep {
  recording: string;
  track: string;
  lastSeq: number;
  lastHash: string;
  segments: number;
  bytes: number;
  mediaMs: number;
  close: CloseEntry | null;
}

/** Moves each track's head and totals with one UPDATE; ends recordings whose tracks are all closed. */
export async function advanceTracks(tx: pg.PoolClient, done: IndexedEntry[]): Promise<void> {
  const steps = new Map<string, TrackStep>();
  for (const { entry: e, signed } of done) {
    if (e.kind === 'open') continue;
    const key = trackKey(e.recording, e.track);
    const step = steps.get(key) ?? {
      recording: e.recording,
      track: e.track,
      lastSeq: -1,
      lastHash: '',
      segments: 0,
      bytes: 0,
      mediaMs: 0,
      close: null,
    };
    if (e.seq > step.lastSeq) Object.assign(step, { lastSeq: e.seq, lastHash: signed.hash });
    if (e.kind === 'segment' || e.kind === 'file') {
      // a dock's file is a whole object like a segment: close counts it [EVIDENCE §6.4]
      step.segments += 1;
      step.bytes += e.object.size;
      if (e.kind === 'segment') step.mediaMs += e.durationMs;
    }
    if (e.kind === 'close') step.close = e;
    steps.set(key, step);
  }
  if (steps.size === 0) return;
  const all = [...steps.values()];
  // A broken track stays broken whatever follows; a head only moves forward.
  await run(
    tx,
    'advance tracks',
    `UPDATE tracks t SET
       last_seq = GREATEST(t.last_seq, u.last_seq),
       last_hash = CASE WHEN u.last_seq > t.last_seq THEN u.last_hash ELSE t.last_hash END,
       segments = t.segments + u.segments,
       bytes = t.bytes + u.bytes,
       media_ms = t.media_ms + u.media_ms,
       status = CASE WHEN u.ended_at IS NOT NULL AND t.status = 'open' THEN 'closed' ELSE t.status END,
       ended_at = COALESCE(u.ended_at, t.ended_at),
       merkle_root = COALESCE(u.merkle_root, t.merkle_root)
     FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::int4[], $6::int8[], $7::int8[], $8::timestamptz[], $9::text[])
       AS u(recording, track, last_seq, last_hash, segments, bytes, media_ms, ended_at, merkle_root)
     WHERE t.recording = u.recording AND t.track = u.track`,
    [
      all.map((s) => s.recording),
      all.map((s) => s.track),
      all.map((s) => s.lastSeq),
      all.map((s) => s.lastHash),
      all.map((s) => s.segments),
      all.map((s) => s.bytes),
      all.map((s) => s.mediaMs),
      all.map((s) => s.close?.end ?? null),
      all.map((s) => s.close?.merkleRoot ?? null),
    ],
  );
  const closing = [...new Set(all.filter((s) => s.close).map((s) => s.recording))];
  if (closing.length === 0) return;
  await run(
    tx,
    'end recordings',
    `UPDATE recordings r SET ended_at = (SELECT max(t.ended_at) FROM tracks t WHERE t.recording = r.id)
     WHERE r.id = ANY($1::uuid[])
       AND NOT EXISTS (SELECT 1 FROM tracks t WHERE t.recording = r.id AND t.status <> 'closed')`,
    [closing],
  );
}

/** Records the objects the consumer checked; an object already recorded keeps its first check. */
export async function recordObjects(tx: pg.PoolClient, done: IndexedEntry[]): Promise<void> {
  const objects = new Map<string, NonNullable<IndexedEntry['object']>>();
  for (const e of done) if (e.object) objects.set(e.object.sha256, e.object);
  if (objects.size === 0) return;
  const all = [...objects.values()];
  await run(
    tx,
    'record objects',
    `INSERT INTO objects (sha256, size, verified_at, verified_how)
     SELECT u.sha256, u.size, now(), u.how FROM unnest($1::text[], $2::int8[], $3::text[]) AS u(sha256, size, how)
     ON CONFLICT (sha256) DO NOTHING`,
    [all.map((o) => o.sha256), all.map((o) => o.size), all.map((o) => o.verifiedHow)],
  );
}
