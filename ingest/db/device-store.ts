/** @module Body-worn devices, their officers and their footage: indexing file and disposition entries, and the case assignment SQL. */
import type pg from 'pg';
import type { DispositionEntry, FileEntry } from '../../protocol/entry.ts';
import { IngestError } from '../errors.ts';
import type { IndexedEntry } from './entry-index.ts';
import type { Database } from './open-database.ts';
import { type Queryable, run, transaction } from './rows.ts';

/** One indexed file of a body-worn device. */
export interface FootageRow {
  entryHash: string;
  recording: string;
  track: string;
  seq: number;
  gateway: string;
  device: string;
  officer: string | null;
  name: string;
  objectSha256: string;
  size: number;
  modifiedAt: string;
  recordedAt: string;
  container: string | null;
  intact: boolean | null;
  caseId: string | null;
  disposition: string | null;
}

/** A footage search; every given criterion must hold. */
export interface FootageQuery {
  officer?: string;
  device?: string;
  caseId?: string;
  /** recorded_at at or after. */
  from?: string;
  /** recorded_at at or before. */
  to?: string;
  unassigned?: boolean;
  limit: number;
  offset: number;
}

/** One assignment of footage to a case (case null: released), as recorded. */
export interface FootageAssignment {
  id: number;
  entryHash: string;
  caseId: string | null;
  previousCaseId: string | null;
  assignedBy: string;
  assignedAt: string;
  reason: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function footageRow(r: Record<string, unknown>): FootageRow {
  return {
    entryHash: String(r.entry_hash),
    recording: String(r.recording),
    track: String(r.track),
    seq: Number(r.seq),
    gateway: String(r.gateway),
    device: String(r.device),
    officer: strOrNull(r.officer),
    name: String(r.name),
    objectSha256: String(r.object_sha256),
    size: Number(r.size),
    modifiedAt: iso(r.modified_at),
    recordedAt: iso(r.recorded_at),
    container: strOrNull(r.container),
    intact: r.intact === null || r.intact === undefined ? null : Boolean(r.intact),
    caseId: strOrNull(r.case_id),
    disposition: strOrNull(r.disposition),
  };
}

/**
 * Indexes file entries as footage under the device and officer their chain's open names, and marks footage
 * whose disposition entry says the device copy is gone. Runs inside indexBatch's transaction, after the
 * tracks of the batch are opened.
 */
export async function recordFootage(tx: pg.PoolClient, done: IndexedEntry[]): Promise<void> {
  const files = done.flatMap((e) => (e.entry.kind === 'file' ? [{ hash: e.signed.hash, f: e.entry }] : []));
  if (files.length > 0) {
    const recordedAt = (f: FileEntry) => new Date(Date.parse(f.modifiedAt) - (f.deviceClockOffsetMs ?? 0));
    await run(
      tx,
      'record footage',
      `INSERT INTO footage (entry_hash, recording, track, seq, gateway, device, officer, name, object_sha256,
                            size, modified_at, recorded_at, container, intact)
       SELECT u.hash, u.recording, u.track, u.seq, u.gateway, COALESCE(t.source ->> 'device', u.track),
              t.source ->> 'officer', u.name, u.sha256, u.size, u.modified_at, u.recorded_at, u.container, u.intact
       FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::int8[],
                   $9::timestamptz[], $10::timestamptz[], $11::text[], $12::bool[])
         AS u(hash, recording, track, seq, gateway, name, sha256, size, modified_at, recorded_at, container, intact)
       LEFT JOIN tracks t ON t.recording = u.recording AND t.track = u.track
       ON CONFLICT (entry_hash) DO NOTHING`,
      [
        files.map((x) => x.hash),
        files.map((x) => x.f.recording),
        files.map((x) => x.f.track),
        files.map((x) => x.f.seq),
        files.map((x) => x.f.gateway),
        files.map((x) => x.f.name),
        files.map((x) => x.f.object.sha256),
        files.map((x) => x.f.object.size),
        files.map((x) => x.f.modifiedAt),
        files.map((x) => recordedAt(x.f).toISOString()),
        files.map((x) => x.f.container),
        files.map((x) => x.f.intact),
      ],
    );
  }
  const gone = done.flatMap((e) => (e.entry.kind === 'disposition' ? [e.entry as DispositionEntry] : []));
  if (gone.length > 0) {
    await run(
      tx,
      'record dispositions',
      `UPDATE footage f SET disposition = u.action
       FROM unnest($1::text[], $2::text[]) AS u(file, action) WHERE f.entry_hash = u.file`,
      [gone.map((d) => d.file), gone.map((d) => d.action)],
    );
  }
}

/** Footage matching a query, by recorded time, with the number of matches over all pages. */
export async function searchFootage(
  db: Queryable,
  q: FootageQuery,
): Promise<{ total: number; items: FootageRow[] }> {
  const where = `($1::text IS NULL OR officer = $1) AND ($2::text IS NULL OR device = $2)
    AND ($3::text IS NULL OR case_id = $3) AND ($4::timestamptz IS NULL OR recorded_at >= $4)
    AND ($5::timestamptz IS NULL OR recorded_at <= $5) AND (NOT $6::bool OR case_id IS NULL)`;
  const args = [
    q.officer ?? null,
    q.device ?? null,
    q.caseId ?? null,
    q.from ?? null,
    q.to ?? null,
    !!q.unassigned,
  ];
  const total = await run(db, 'count footage', `SELECT count(*) AS n FROM footage WHERE ${where}`, args);
  const rows = await run(
    db,
    'search footage',
    `SELECT * FROM footage WHERE ${where} ORDER BY recorded_at, entry_hash LIMIT $7 OFFSET $8`,
    [...args, q.limit, q.offset],
  );
  return { total: Number(total.rows[0]?.n ?? 0), items: rows.rows.map(footageRow) };
}

/**
 * Assigns footage to a case (null releases it), several files at once, in one transaction; each change is
 * recorded in footage_assignments with who, when and why. INGEST_NOT_FOUND names hashes that are not footage,
 * and then nothing changes.
 */
export async function assignFootage(
  db: Database,
  hashes: readonly string[],
  caseId: string | null,
  by: string,
  reason: string,
  at: string,
): Promise<FootageAssignment[]> {
  return transaction(db, 'assign footage', async (tx) => {
    const found = await run(
      tx,
      'lock footage',
      'SELECT entry_hash, case_id FROM footage WHERE entry_hash = ANY($1::text[]) ORDER BY entry_hash FOR UPDATE',
      [[...hashes]],
    );
    const known = new Map(found.rows.map((r) => [String(r.entry_hash), strOrNull(r.case_id)]));
    const missing = hashes.filter((h) => !known.has(h));
    if (missing.length > 0)
      throw new IngestError(
        'INGEST_NOT_FOUND',
        `no body-worn footage with entry hash ${missing.slice(0, 5).join(', ')}`,
      );
    const changed = [...new Set(hashes)].filter((h) => known.get(h) !== caseId);
    if (changed.length === 0) return [];
    await run(
      tx,
      'assign footage to case',
      'UPDATE footage SET case_id = $2 WHERE entry_hash = ANY($1::text[])',
      [changed, caseId],
    );
    if (caseId !== null)
      await run(
        tx,
        'record case',
        'INSERT INTO cases (id, first_seen_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING',
        [caseId, at],
      );
    const res = await run(
      tx,
      'record footage assignments',
      `INSERT INTO footage_assignments (entry_hash, case_id, previous_case_id, assigned_by, assigned_at, reason)
       SELECT u.hash, $3, u.previous, $4, $5, $6 FROM unnest($1::text[], $2::text[]) AS u(hash, previous)
       RETURNING *`,
      [changed, changed.map((h) => known.get(h) ?? null), caseId, by, at, reason],
    );
    return res.rows.map(assignmentRow);
  });
}

/** The assignment history of one file, oldest first. */
export async function footageAssignments(db: Queryable, entryHash: string): Promise<FootageAssignment[]> {
  const res = await run(
    db,
    'read footage assignments',
    'SELECT * FROM footage_assignments WHERE entry_hash = $1 ORDER BY id',
    [entryHash],
  );
  return res.rows.map(assignmentRow);
}

function assignmentRow(r: Record<string, unknown>): FootageAssignment {
  return {
    id: Number(r.id),
    entryHash: String(r.entry_hash),
    caseId: strOrNull(r.case_id),
    previousCaseId: strOrNull(r.previous_case_id),
    assignedBy: String(r.assigned_by),
    assignedAt: iso(r.assigned_at),
    reason: String(r.reason),
  };
}

/**
 * The proposal rule: footage of the officers of a case's recordings, recorded within `marginMs` of any of
 * those recordings, not yet assigned to a case. With `officers`/`from`/`to` given, those are used instead.
 */
export async function proposeFootage(
  db: Queryable,
  caseId: string,
  marginMs: number,
  limit: number,
): Promise<FootageRow[]> {
  const res = await run(
    db,
    'propose footage',
    `SELECT DISTINCT f.* FROM recordings r
       CROSS JOIN LATERAL jsonb_array_elements_text(r.officers) AS o(officer)
       JOIN footage f ON f.officer = o.officer
        AND f.recorded_at >= r.started_at - make_interval(secs => $2::float8 / 1000)
        AND f.recorded_at <= COALESCE(r.ended_at, r.started_at) + make_interval(secs => $2::float8 / 1000)
     WHERE r.case_id = $1 AND f.case_id IS NULL
     ORDER BY f.recorded_at, f.entry_hash LIMIT $3`,
    [caseId, marginMs, limit],
  );
  return res.rows.map(footageRow);
}

/** Assigns a device to an officer (null: to nobody), keeping every change. */
export async function assignDevice(
  db: Database,
  serial: string,
  officer: string | null,
  by: string,
  at: string,
): Promise<void> {
  await transaction(db, 'assign device', async (tx) => {
    await run(
      tx,
      'upsert device',
      `INSERT INTO devices (serial, officer, assigned_by, assigned_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (serial) DO UPDATE SET officer = $2, assigned_by = $3, assigned_at = $4`,
      [serial, officer, by, at],
    );
    await run(
      tx,
      'record device assignment',
      'INSERT INTO device_assignments (serial, officer, assigned_by, assigned_at) VALUES ($1, $2, $3, $4)',
      [serial, officer, by, at],
    );
  });
}

/** Every device with an officer: what docks sync. */
export async function deviceAssignments(db: Queryable): Promise<{ device: string; officer: string }[]> {
  const res = await run(
    db,
    'read device assignments',
    'SELECT serial, officer FROM devices WHERE officer IS NOT NULL ORDER BY serial',
  );
  return res.rows.map((r) => ({ device: String(r.serial), officer: String(r.officer) }));
}
