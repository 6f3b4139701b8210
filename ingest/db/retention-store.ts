/** @module Retention's SQL: rules per matter, case and recording, legal holds, tombstones, and what a deletion removes. */
import type { LegalHold, RetentionFacts, RetentionRule } from '../retention/retention-policy.ts';
import { type Queryable, run } from './rows.ts';

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

/** A recording's row as retention reads it. */
export interface RetentionRecording {
  id: string;
  gateway: string;
  caseId: string | null;
  matter: string | null;
  room: string | null;
  startedAt: string;
  endedAt: string | null;
  deletedAt: string | null;
}

function recordingOf(r: Record<string, unknown>): RetentionRecording {
  return {
    id: String(r.id),
    gateway: String(r.gateway),
    caseId: (r.case_id as string | null) ?? null,
    matter: (r.matter as string | null) ?? null,
    room: (r.room as string | null) ?? null,
    startedAt: iso(r.started_at),
    endedAt: isoOrNull(r.ended_at),
    deletedAt: isoOrNull(r.deleted_at),
  };
}

function ruleOf(r: Record<string, unknown>): RetentionRule {
  return {
    scope: r.scope as RetentionRule['scope'],
    target: String(r.target),
    class: (r.class as RetentionRule['class']) ?? null,
    evidence: Boolean(r.evidence),
    reason: String(r.reason),
    setBy: String(r.set_by),
    setAt: iso(r.set_at),
  };
}

function holdOf(r: Record<string, unknown>): LegalHold {
  return {
    id: Number(r.id),
    scope: r.scope as LegalHold['scope'],
    target: String(r.target),
    reason: String(r.reason),
    heldBy: String(r.held_by),
    heldAt: iso(r.held_at),
  };
}

/**
 * Reads a recording; with `lock`, locks its row and its case's row for the transaction, so a hold taken at
 * the same time waits for a deletion (or the deletion for the hold).
 */
export async function retentionRecording(
  db: Queryable,
  id: string,
  lock = false,
): Promise<RetentionRecording | null> {
  const res = await run(
    db,
    'read a recording for retention',
    `SELECT id, gateway, case_id, matter, room, started_at, ended_at, deleted_at FROM recordings
      WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = res.rows[0];
  if (!row) return null;
  const rec = recordingOf(row);
  if (lock && rec.caseId !== null)
    await run(db, 'lock a case', 'SELECT id FROM cases WHERE id = $1 FOR UPDATE', [rec.caseId]);
  return rec;
}

/** The rules and active holds that bear on a recording. */
export async function retentionFacts(db: Queryable, rec: RetentionRecording): Promise<RetentionFacts> {
  const rules = await run(
    db,
    'read retention rules',
    `SELECT * FROM retention_rules
      WHERE (scope = 'recording' AND target = $1) OR (scope = 'case' AND target = $2)
         OR (scope = 'matter' AND target = $3)`,
    [rec.id, rec.caseId ?? '', rec.matter ?? ''],
  );
  const holds = await run(
    db,
    'read legal holds',
    `SELECT * FROM legal_holds WHERE released_at IS NULL
        AND ((scope = 'recording' AND target = $1) OR (scope = 'case' AND target = $2))
      ORDER BY id`,
    [rec.id, rec.caseId ?? ''],
  );
  return {
    recording: rec.id,
    caseId: rec.caseId,
    matter: rec.matter,
    room: rec.room,
    endedAt: rec.endedAt,
    deletedAt: rec.deletedAt,
    rules: rules.rows.map(ruleOf),
    holds: holds.rows.map(holdOf),
  };
}

/** Sets (or replaces) the rule of one matter, case or recording. */
export async function putRule(db: Queryable, rule: RetentionRule): Promise<void> {
  await run(
    db,
    'set a retention rule',
    `INSERT INTO retention_rules (scope, target, class, evidence, reason, set_by, set_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (scope, target) DO UPDATE SET class = EXCLUDED.class, evidence = EXCLUDED.evidence,
       reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at`,
    [rule.scope, rule.target, rule.class, rule.evidence, rule.reason, rule.setBy, rule.setAt],
  );
}

/** Every rule, by scope and target. */
export async function listRules(db: Queryable): Promise<RetentionRule[]> {
  const res = await run(db, 'list retention rules', 'SELECT * FROM retention_rules ORDER BY scope, target');
  return res.rows.map(ruleOf);
}

/** Locks the row a hold is on (the case or the recording); false when it does not exist. */
export async function lockHoldTarget(
  db: Queryable,
  scope: LegalHold['scope'],
  target: string,
): Promise<boolean> {
  const res =
    scope === 'case'
      ? await run(db, 'lock a case', 'SELECT id FROM cases WHERE id = $1 FOR UPDATE', [target])
      : await run(db, 'lock a recording', 'SELECT id FROM recordings WHERE id::text = $1 FOR UPDATE', [
          target,
        ]);
  return res.rows.length > 0;
}

/** Records a new hold; returns it. */
export async function insertHold(db: Queryable, hold: Omit<LegalHold, 'id'>): Promise<LegalHold> {
  const res = await run(
    db,
    'add a legal hold',
    `INSERT INTO legal_holds (scope, target, reason, held_by, held_at) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [hold.scope, hold.target, hold.reason, hold.heldBy, hold.heldAt],
  );
  return holdOf(res.rows[0]!);
}

/** Releases an active hold; returns it, or null when there is no such active hold. */
export async function releaseHold(
  db: Queryable,
  id: number,
  release: { by: string; at: string; reason: string },
): Promise<LegalHold | null> {
  const res = await run(
    db,
    'release a legal hold',
    `UPDATE legal_holds SET released_by = $2, released_at = $3, release_reason = $4
      WHERE id = $1 AND released_at IS NULL RETURNING *`,
    [id, release.by, release.at, release.reason],
  );
  return res.rows[0] ? holdOf(res.rows[0]) : null;
}

/** Every active hold. */
export async function activeHolds(db: Queryable): Promise<LegalHold[]> {
  const res = await run(
    db,
    'list legal holds',
    'SELECT * FROM legal_holds WHERE released_at IS NULL ORDER BY id',
  );
  return res.rows.map(holdOf);
}

/** Ended, undeleted recordings that ended before `endedBefore`, oldest first: candidates for expiry. */
export async function endedBefore(
  db: Queryable,
  before: string,
  limit: number,
): Promise<RetentionRecording[]> {
  const res = await run(
    db,
    'list ended recordings',
    `SELECT id, gateway, case_id, matter, room, started_at, ended_at, deleted_at FROM recordings
      WHERE deleted_at IS NULL AND ended_at IS NOT NULL AND ended_at < $1
      ORDER BY ended_at, id LIMIT $2`,
    [before, limit],
  );
  return res.rows.map(recordingOf);
}

/** A track of a recording, as a tombstone names it. */
export interface TrackSummary {
  track: string;
  entries: number;
  lastSeq: number;
  head: string;
  merkleRoot: string | null;
}

/** The tracks of a recording with their entry counts. */
export async function trackSummaries(db: Queryable, recording: string): Promise<TrackSummary[]> {
  const res = await run<{
    track: string;
    n: string;
    last_seq: string;
    last_hash: string;
    merkle_root: string | null;
  }>(
    db,
    'summarise tracks',
    `SELECT t.track, t.last_seq::text AS last_seq, t.last_hash, t.merkle_root,
            (SELECT count(*) FROM entries e WHERE e.recording = t.recording AND e.track = t.track)::text AS n
       FROM tracks t WHERE t.recording = $1 ORDER BY t.track`,
    [recording],
  );
  return res.rows.map((r) => ({
    track: r.track,
    entries: Number(r.n),
    lastSeq: Number(r.last_seq),
    head: r.last_hash,
    merkleRoot: r.merkle_root,
  }));
}

/**
 * The objects a recording's entries name, each with its size and whether an entry of another recording
 * that is not deleted names it too (objects are content addressed: the same bytes may serve two recordings).
 */
export async function recordingObjects(
  db: Queryable,
  recording: string,
): Promise<{ sha256: string; size: number; shared: boolean }[]> {
  const res = await run<{ sha256: string; size: string | null; shared: boolean }>(
    db,
    'list the objects of a recording',
    `WITH mine AS (
       SELECT DISTINCT object_sha256 AS sha256 FROM entries WHERE recording = $1 AND object_sha256 IS NOT NULL
     ), shared AS (
       SELECT DISTINCT e.object_sha256 AS sha256 FROM entries e
         JOIN mine m ON m.sha256 = e.object_sha256
         JOIN recordings r ON r.id = e.recording
        WHERE e.recording <> $1 AND r.deleted_at IS NULL
     )
     SELECT m.sha256, o.size::text AS size, (s.sha256 IS NOT NULL) AS shared
       FROM mine m LEFT JOIN objects o ON o.sha256 = m.sha256 LEFT JOIN shared s ON s.sha256 = m.sha256
      ORDER BY m.sha256`,
    [recording],
  );
  return res.rows.map((r) => ({ sha256: r.sha256, size: Number(r.size ?? 0), shared: r.shared }));
}

/** A stored tombstone. */
export interface StoredTombstone {
  hash: string;
  recording: string;
  text: string;
  sig: string;
  deletedAt: string;
  purgedAt: string | null;
  leafIndex: number | null;
}

function tombstoneOf(r: Record<string, unknown>): StoredTombstone {
  return {
    hash: String(r.hash),
    recording: String(r.recording),
    text: String(r.tombstone_text),
    sig: String(r.sig),
    deletedAt: iso(r.deleted_at),
    purgedAt: isoOrNull(r.purged_at),
    leafIndex: r.leaf_index === null || r.leaf_index === undefined ? null : Number(r.leaf_index),
  };
}

/**
 * Stores a tombstone (it becomes a log leaf at the next sequencing), marks the recording deleted and drops
 * the index rows of the objects it removes; the entries stay, as the log's leaves.
 */
export async function recordDeletion(
  tx: Queryable,
  t: { hash: string; recording: string; text: string; sig: string; deletedAt: string; objects: string[] },
): Promise<void> {
  await run(
    tx,
    'store a tombstone',
    `INSERT INTO tombstones (hash, recording, tombstone_text, sig, deleted_at) VALUES ($1, $2, $3, $4, $5)`,
    [t.hash, t.recording, t.text, t.sig, t.deletedAt],
  );
  await run(tx, 'mark a recording deleted', 'UPDATE recordings SET deleted_at = $2 WHERE id = $1', [
    t.recording,
    t.deletedAt,
  ]);
  await run(tx, 'drop deleted objects', 'DELETE FROM objects WHERE sha256 = ANY($1::text[])', [t.objects]);
}

/** Notes that every object of a tombstone is gone from the store. */
export async function markPurged(db: Queryable, hash: string, at: string): Promise<void> {
  await run(db, 'mark a tombstone purged', 'UPDATE tombstones SET purged_at = $2 WHERE hash = $1', [
    hash,
    at,
  ]);
}

/** The tombstone of a recording, or null. */
export async function tombstoneOfRecording(
  db: Queryable,
  recording: string,
): Promise<StoredTombstone | null> {
  const res = await run(db, 'read a tombstone', 'SELECT * FROM tombstones WHERE recording::text = $1', [
    recording,
  ]);
  return res.rows[0] ? tombstoneOf(res.rows[0]) : null;
}

/** Tombstones of the recordings of a case (for exports: they explain what is absent). */
export async function tombstonesOfCase(db: Queryable, caseId: string): Promise<StoredTombstone[]> {
  const res = await run(
    db,
    'read the tombstones of a case',
    `SELECT t.* FROM tombstones t JOIN recordings r ON r.id = t.recording WHERE r.case_id = $1 ORDER BY t.log_index`,
    [caseId],
  );
  return res.rows.map(tombstoneOf);
}

/** Tombstones whose objects are not all removed yet (a store that failed during a deletion). */
export async function unpurgedTombstones(db: Queryable): Promise<StoredTombstone[]> {
  const res = await run(
    db,
    'read unpurged tombstones',
    'SELECT * FROM tombstones WHERE purged_at IS NULL ORDER BY log_index',
  );
  return res.rows.map(tombstoneOf);
}

/** Recordings whose object lock is not set for their current state, oldest end first. */
export async function recordingsToLock(db: Queryable, limit: number): Promise<string[]> {
  const res = await run<{ id: string }>(
    db,
    'list recordings to lock',
    `SELECT id FROM recordings
      WHERE deleted_at IS NULL AND ended_at IS NOT NULL AND (locks_synced_at IS NULL OR locks_synced_at < ended_at)
      ORDER BY ended_at, id LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => r.id);
}

/** Notes that a recording's object lock was set at `at`, for its state as of its end (never before it). */
export async function markLocked(db: Queryable, recording: string, at: string): Promise<void> {
  await run(
    db,
    'mark a recording locked',
    'UPDATE recordings SET locks_synced_at = greatest($2::timestamptz, ended_at) WHERE id = $1',
    [recording, at],
  );
}

/** Marks the recordings a rule or hold covers for the lock sweep to set again. */
export async function markLocksStale(
  db: Queryable,
  scope: 'matter' | 'case' | 'recording',
  target: string,
): Promise<void> {
  const column = { matter: 'matter', case: 'case_id', recording: 'id::text' }[scope];
  await run(
    db,
    'mark locks stale',
    `UPDATE recordings SET locks_synced_at = NULL WHERE ${column} = $1 AND deleted_at IS NULL`,
    [target],
  );
}
