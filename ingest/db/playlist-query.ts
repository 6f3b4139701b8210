/** @module Reading what a track's playlist, its media and its verification state need: one statement each, whatever the track's length. */
import { RecordingId } from '../../protocol/entry.ts';
import { type Queryable, type RecordingRow, recordingRow, run, type TrackRow, trackRow } from './rows.ts';

/** One indexed segment: what the playlist lists and the media route serves. */
export interface TrackSegment {
  seq: number;
  /** The object's SHA-256: its name in the store. */
  sha256: string;
  /** Instant of the first frame, as signed. */
  start: string;
  durationMs: number;
  size: number;
  /** Whether the ingest recorded a check of the stored object against its hash (the `objects` table). */
  verified: boolean;
}

/** One declared gap, with its times as signed. */
export interface TrackGap {
  seq: number;
  from: string;
  to: string;
  reason: string;
  detail: string;
}

/** What the close entry of a track says, when it is indexed. */
export interface TrackClose {
  seq: number;
  end: string;
  /** The number of segments the gateway sealed into the chain. */
  segments: number;
  merkleRoot: string;
}

/** A track's playlist material: its recording (for the access check), its row, segments, gaps and close. */
export interface TrackMedia {
  recording: RecordingRow;
  /** Null when the recording has no such track. */
  track: TrackRow | null;
  /** In seq order. */
  segments: TrackSegment[];
  /** In seq order. */
  gaps: TrackGap[];
  close: TrackClose | null;
}

/** A segment's object and the recording it belongs to. */
export interface SegmentObject {
  recording: RecordingRow;
  /** Null when the track has no segment at this seq. */
  object: { sha256: string; size: number; container: string } | null;
}

/**
 * Everything a track's playlist needs, read in one statement (one snapshot): segments and gaps are aggregated
 * in seq order by the (recording, track, seq) key, so a 3-hour track of 2 s segments is one index range scan,
 * not one query per segment. With `afterSeq`, only entries after it: a chain only grows at its end, so a
 * reader holding the entries up to `afterSeq` asks for the rest. Null when there is no such recording.
 */
export async function trackMedia(
  db: Queryable,
  recording: string,
  track: string,
  afterSeq = -1,
): Promise<TrackMedia | null> {
  if (!RecordingId.safeParse(recording).success) return null;
  const res = await run(
    db,
    'read track media',
    `SELECT r.*, to_jsonb(t.*) AS track_row,
       (SELECT coalesce(json_agg(json_build_object(
           'seq', e.seq, 'sha256', e.object_sha256, 'start', e.entry ->> 'start',
           'durationMs', (e.entry ->> 'durationMs')::bigint, 'size', (e.entry -> 'object' ->> 'size')::bigint,
           'verified', o.sha256 IS NOT NULL) ORDER BY e.seq), '[]'::json)
        FROM entries e LEFT JOIN objects o ON o.sha256 = e.object_sha256
        WHERE e.recording = t.recording AND e.track = t.track AND e.seq > $3 AND e.kind = 'segment') AS segments,
       (SELECT coalesce(json_agg(json_build_object(
           'seq', e.seq, 'from', e.entry ->> 'from', 'to', e.entry ->> 'to',
           'reason', e.entry ->> 'reason', 'detail', e.entry ->> 'detail') ORDER BY e.seq), '[]'::json)
        FROM entries e
        WHERE e.recording = t.recording AND e.track = t.track AND e.seq > $3 AND e.kind = 'gap') AS gaps,
       (SELECT json_build_object(
           'seq', e.seq, 'end', e.entry ->> 'end', 'segments', (e.entry ->> 'segments')::bigint,
           'merkleRoot', e.entry ->> 'merkleRoot')
        FROM entries e
        WHERE e.recording = t.recording AND e.track = t.track AND e.seq > $3 AND e.kind = 'close') AS close
     FROM recordings r LEFT JOIN tracks t ON t.recording = r.id AND t.track = $2
     WHERE r.id = $1`,
    [recording, track, afterSeq],
  );
  const row = res.rows[0];
  if (!row) return null;
  const trackJson = row.track_row as Record<string, unknown> | null;
  return {
    recording: recordingRow(row),
    track: trackJson ? trackRow(trackJson) : null,
    segments: trackJson ? (row.segments as TrackSegment[]) : [],
    gaps: trackJson ? (row.gaps as TrackGap[]) : [],
    close: (row.close as TrackClose | null) ?? null,
  };
}

/** The object of segment `seq` of a track, with its recording; null when there is no such recording. */
export async function segmentObject(
  db: Queryable,
  recording: string,
  track: string,
  seq: number,
): Promise<SegmentObject | null> {
  if (!RecordingId.safeParse(recording).success) return null;
  const res = await run(
    db,
    'read segment object',
    `SELECT r.*, e.object_sha256 AS object_sha256, (e.entry -> 'object' ->> 'size')::bigint AS object_size,
       e.entry ->> 'container' AS object_container
     FROM recordings r
     LEFT JOIN entries e ON e.recording = r.id AND e.track = $2 AND e.seq = $3 AND e.kind = 'segment'
     WHERE r.id = $1`,
    [recording, track, seq],
  );
  const row = res.rows[0];
  if (!row) return null;
  return {
    recording: recordingRow(row),
    object:
      row.object_sha256 === null || row.object_sha256 === undefined
        ? null
        : {
            sha256: String(row.object_sha256),
            size: Number(row.object_size),
            container: String(row.object_container),
          },
  };
}

/** What the verification state of one track is decided from (verification-state.ts decides). */
export interface TrackVerificationFacts {
  track: TrackRow;
  /** Entries of the chain indexed (open, segments, gaps, close). */
  entries: number;
  segments: number;
  /** Segments whose object the ingest recorded as checked against its hash. */
  verifiedObjects: number;
  /** The segments' object hashes in seq order, for the Merkle check; read only for closed tracks. */
  segmentHashes: string[] | null;
  close: TrackClose | null;
}

/** The verification facts of every track of a recording, by track id, in one statement. */
export async function recordingVerificationFacts(
  db: Queryable,
  recording: string,
): Promise<Map<string, TrackVerificationFacts>> {
  const facts = new Map<string, TrackVerificationFacts>();
  if (!RecordingId.safeParse(recording).success) return facts;
  const res = await run(
    db,
    'read verification facts',
    `SELECT t.*,
       (SELECT count(*) FROM entries e WHERE e.recording = t.recording AND e.track = t.track) AS entry_count,
       (SELECT json_build_object('count', count(*), 'verified', count(o.sha256),
           'hashes', CASE WHEN t.status = 'closed'
                     THEN coalesce(json_agg(e.object_sha256 ORDER BY e.seq), '[]'::json) END)
        FROM entries e LEFT JOIN objects o ON o.sha256 = e.object_sha256
        WHERE e.recording = t.recording AND e.track = t.track AND e.kind = 'segment') AS segs,
       (SELECT json_build_object(
           'seq', e.seq, 'end', e.entry ->> 'end', 'segments', (e.entry ->> 'segments')::bigint,
           'merkleRoot', e.entry ->> 'merkleRoot')
        FROM entries e
        WHERE e.recording = t.recording AND e.track = t.track AND e.kind = 'close') AS close
     FROM tracks t WHERE t.recording = $1`,
    [recording],
  );
  for (const row of res.rows) {
    const segs = row.segs as { count: number; verified: number; hashes: string[] | null };
    const track = trackRow(row);
    facts.set(track.track, {
      track,
      entries: Number(row.entry_count),
      segments: Number(segs.count),
      verifiedObjects: Number(segs.verified),
      segmentHashes: segs.hashes,
      close: (row.close as TrackClose | null) ?? null,
    });
  }
  return facts;
}
