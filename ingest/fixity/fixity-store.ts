/**
 * @module The fixity sweep's SQL: the pass cursor and counters, the failures found, the objects to
 * check and the tracks that name them. (Kept beside the sweep; the lead may move it under ingest/db/.)
 */
import { type Queryable, run } from '../db/rows.ts';

/** Where the sweep is, and how the last full pass ended. */
export interface FixityState {
  passStartedAt: string | null;
  cursor: string | null;
  passObjects: number;
  passBytes: number;
  lastFullPassAt: string | null;
  lastPassObjects: number | null;
  lastPassBytes: number | null;
  lastPassMismatches: number | null;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** The sweep state (a fresh one before the first pass). */
export async function readFixityState(db: Queryable): Promise<FixityState> {
  const res = await run(db, 'read fixity state', 'SELECT * FROM fixity_state WHERE id = 1');
  const r = res.rows[0];
  return {
    passStartedAt: iso(r?.pass_started_at),
    cursor: (r?.cursor as string | null | undefined) ?? null,
    passObjects: Number(r?.pass_objects ?? 0),
    passBytes: Number(r?.pass_bytes ?? 0),
    lastFullPassAt: iso(r?.last_full_pass_at),
    lastPassObjects: numOrNull(r?.last_pass_objects),
    lastPassBytes: numOrNull(r?.last_pass_bytes),
    lastPassMismatches: numOrNull(r?.last_pass_mismatches),
  };
}

/** Saves the sweep state. */
export async function writeFixityState(db: Queryable, s: FixityState): Promise<void> {
  await run(
    db,
    'write fixity state',
    `INSERT INTO fixity_state (id, pass_started_at, cursor, pass_objects, pass_bytes, last_full_pass_at,
                               last_pass_objects, last_pass_bytes, last_pass_mismatches)
     VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET pass_started_at = $1, cursor = $2, pass_objects = $3, pass_bytes = $4,
       last_full_pass_at = $5, last_pass_objects = $6, last_pass_bytes = $7, last_pass_mismatches = $8`,
    [
      s.passStartedAt,
      s.cursor,
      s.passObjects,
      s.passBytes,
      s.lastFullPassAt,
      s.lastPassObjects,
      s.lastPassBytes,
      s.lastPassMismatches,
    ],
  );
}

/** Indexed objects after `cursor` in hash order. */
export async function objectsAfter(
  db: Queryable,
  cursor: string | null,
  limit: number,
): Promise<{ sha256: string; size: number }[]> {
  const res = await run<{ sha256: string; size: string }>(
    db,
    'list objects for fixity',
    'SELECT sha256, size::text AS size FROM objects WHERE $1::text IS NULL OR sha256 > $1 ORDER BY sha256 LIMIT $2',
    [cursor, limit],
  );
  return res.rows.map((r) => ({ sha256: r.sha256, size: Number(r.size) }));
}

/** How many objects are indexed. */
export async function objectCount(db: Queryable): Promise<number> {
  const res = await run<{ n: string }>(db, 'count objects', 'SELECT count(*)::text AS n FROM objects');
  return Number(res.rows[0]!.n);
}

/** The tracks whose entries name an object. */
export async function tracksNaming(
  db: Queryable,
  sha256: string,
): Promise<{ recording: string; track: string }[]> {
  const res = await run<{ recording: string; track: string }>(
    db,
    'find tracks of an object',
    'SELECT DISTINCT recording::text AS recording, track FROM entries WHERE object_sha256 = $1 ORDER BY 1, 2',
    [sha256],
  );
  return res.rows;
}

/** Records a mismatch. */
export async function recordFixityFailure(
  db: Queryable,
  f: {
    sha256: string;
    at: string;
    actual: string | null;
    actualSize: number | null;
    expectedSize: number;
    reason: string;
  },
): Promise<void> {
  await run(
    db,
    'record a fixity failure',
    `INSERT INTO fixity_failures (sha256, detected_at, actual, actual_size, expected_size, reason)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [f.sha256, f.at, f.actual, f.actualSize, f.expectedSize, f.reason],
  );
}

/** The most recent failures, newest first. */
export async function recentFixityFailures(
  db: Queryable,
  limit: number,
): Promise<{ sha256: string; detectedAt: string; reason: string }[]> {
  const res = await run(
    db,
    'read fixity failures',
    'SELECT sha256, detected_at, reason FROM fixity_failures ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return res.rows.map((r) => ({
    sha256: String(r.sha256),
    detectedAt: iso(r.detected_at)!,
    reason: String(r.reason),
  }));
}
