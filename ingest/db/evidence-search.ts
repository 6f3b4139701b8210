/** @module Reading the index: finding recordings by case elements and time, and paging through a track's entries. */
import { RecordingId } from '../../protocol/entry.ts';
import {
  entryRow,
  type GapRow,
  gapRow,
  type Queryable,
  type RecordingRow,
  type RecordingWithTracks,
  recordingRow,
  run,
  type StoredEntry,
  trackRow,
} from './rows.ts';

/** Criteria of a recording search; every given criterion must hold. */
export interface RecordingQuery {
  caseId?: string;
  /** An officer's credential number (执法证号): recordings where that officer was present. */
  officer?: string;
  room?: string;
  matter?: string;
  gateway?: string;
  /** Only recordings made in one of these rooms (an operator's scope); absent: every room. */
  rooms?: string[];
  /** With `to`: recordings running at some instant in [from, to] (a running one extends to now). */
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/** One page of a search, newest first, with the number of matches over all pages. */
export interface RecordingPage {
  total: number;
  recordings: RecordingRow[];
}

/** Finds recordings, newest first. */
export async function searchRecordings(db: Queryable, q: RecordingQuery): Promise<RecordingPage> {
  // The count and the page come from one statement; the LEFT JOIN keeps the count when the page
  // is empty. Absent criteria are NULL parameters: unnamed statements are planned with their
  // values, so each `$n IS NULL` folds away and the matching index is used.
  const res = await run(
    db,
    'search recordings',
    `WITH found AS (
       SELECT r.* FROM recordings r
       WHERE ($1::text IS NULL OR r.case_id = $1)
         AND ($2::text IS NULL OR r.officers @> jsonb_build_array($2::text))
         AND ($3::text IS NULL OR r.room = $3)
         AND ($4::text IS NULL OR r.matter = $4)
         AND ($5::text IS NULL OR r.gateway = $5)
         AND ($6::timestamptz IS NULL OR COALESCE(r.ended_at, 'infinity') >= $6)
         AND ($7::timestamptz IS NULL OR r.started_at <= $7)
         AND ($10::text[] IS NULL OR r.room = ANY($10::text[]))
     )
     SELECT n.total, p.*
     FROM (SELECT count(*) AS total FROM found) n
     LEFT JOIN LATERAL (SELECT * FROM found ORDER BY started_at DESC, id LIMIT $8 OFFSET $9) p ON true`,
    [
      q.caseId ?? null,
      q.officer ?? null,
      q.room ?? null,
      q.matter ?? null,
      q.gateway ?? null,
      q.from ?? null,
      q.to ?? null,
      q.limit,
      q.offset,
      q.rooms ?? null,
    ],
  );
  return {
    total: Number(res.rows[0]?.total ?? 0),
    recordings: res.rows.filter((r) => r.id !== null).map(recordingRow),
  };
}

/** A recording with its tracks (by track id), or null. */
export async function recording(db: Queryable, id: string): Promise<RecordingWithTracks | null> {
  if (!RecordingId.safeParse(id).success) return null;
  const rec = await run(db, 'read recording', 'SELECT * FROM recordings WHERE id = $1', [id]);
  if (!rec.rows[0]) return null;
  const tracks = await run(db, 'read tracks', 'SELECT * FROM tracks WHERE recording = $1 ORDER BY track', [
    id,
  ]);
  return { ...recordingRow(rec.rows[0]), tracks: tracks.rows.map(trackRow) };
}

/** A page of a track's entries in seq order, after `afterSeq` (from the start when absent). */
export async function trackEntries(
  db: Queryable,
  recordingId: string,
  track: string,
  page: { afterSeq?: number; limit: number },
): Promise<StoredEntry[]> {
  if (!RecordingId.safeParse(recordingId).success) return [];
  const res = await run(
    db,
    'read track entries',
    `SELECT hash, recording, track, seq, kind, gateway, entry_text, sig, object_sha256, received_at, log_index
     FROM entries
     WHERE recording = $1 AND track = $2 AND seq > $3
     ORDER BY seq LIMIT $4`,
    [recordingId, track, page.afterSeq ?? -1, page.limit],
  );
  return res.rows.map(entryRow);
}

/** The declared gaps of a track, in seq order. */
export async function trackGaps(db: Queryable, recordingId: string, track: string): Promise<GapRow[]> {
  if (!RecordingId.safeParse(recordingId).success) return [];
  const res = await run(
    db,
    'read track gaps',
    'SELECT * FROM gaps WHERE recording = $1 AND track = $2 ORDER BY seq',
    [recordingId, track],
  );
  return res.rows.map(gapRow);
}

/** The entry with this hash, or null. */
export async function entryByHash(db: Queryable, hash: string): Promise<StoredEntry | null> {
  const res = await run(
    db,
    'read entry',
    `SELECT hash, recording, track, seq, kind, gateway, entry_text, sig, object_sha256, received_at, log_index
     FROM entries WHERE hash = $1`,
    [hash],
  );
  return res.rows[0] ? entryRow(res.rows[0]) : null;
}
