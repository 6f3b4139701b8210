/** @module The audit log in the database: appended one record at a time under a lock, so the hash chain never forks. */
import {
  AUDIT_GENESIS,
  type AuditEvent,
  type AuditHead,
  type AuditRecord,
  type AuditVerdict,
  auditHash,
  verifyAuditChain,
} from '../auth/audit-chain.ts';
import type { Database } from './open-database.ts';
import { type Queryable, run, transaction } from './rows.ts';

/** Criteria of an audit search; every given criterion must hold. */
export interface AuditQuery {
  user?: string;
  recording?: string;
  action?: string;
  /** Records at or after this instant. */
  from?: string;
  /** Records at or before this instant. */
  to?: string;
  limit: number;
  offset: number;
}

/** One page of audit records, newest first, with the number of matches over all pages. */
export interface AuditPage {
  total: number;
  items: AuditRecord[];
}

type Row = Record<string, unknown>;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function auditRow(r: Row): AuditRecord {
  return {
    seq: Number(r.seq),
    at: (r.at instanceof Date ? r.at : new Date(String(r.at))).toISOString(),
    user: strOrNull(r.username),
    role: strOrNull(r.role),
    address: strOrNull(r.address),
    action: String(r.action),
    recording: strOrNull(r.recording),
    track: strOrNull(r.track),
    reason: strOrNull(r.reason),
    detail: strOrNull(r.detail),
    prev: String(r.prev_hash),
    hash: String(r.hash),
  };
}

/**
 * Appends one record at `at` (ms precision, which timestamptz keeps exactly). The transaction
 * holds an advisory lock for the log, so concurrent appends, from any node, take turns.
 */
export async function appendAudit(db: Database, event: AuditEvent, at: string): Promise<AuditRecord> {
  return transaction(db, 'append audit record', async (tx) => {
    await run(
      tx,
      'lock audit log',
      "SELECT pg_advisory_xact_lock(hashtextextended('quanlu/audit/' || current_schema(), 0))",
    );
    const last = await run(
      tx,
      'read audit head',
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    const head = last.rows[0];
    const body = {
      seq: head ? Number(head.seq) + 1 : 0,
      at,
      user: event.user,
      role: event.role,
      address: event.address,
      action: event.action,
      recording: event.recording ?? null,
      track: event.track ?? null,
      reason: event.reason ?? null,
      detail: event.detail ?? null,
      prev: head ? String(head.hash) : AUDIT_GENESIS,
    };
    const record: AuditRecord = { ...body, hash: auditHash(body) };
    await run(
      tx,
      'insert audit record',
      `INSERT INTO audit_log (seq, at, username, role, address, action, recording, track, reason, detail, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        record.seq,
        record.at,
        record.user,
        record.role,
        record.address,
        record.action,
        record.recording,
        record.track,
        record.reason,
        record.detail,
        record.prev,
        record.hash,
      ],
    );
    return record;
  });
}

/** Finds audit records, newest first. */
export async function searchAudit(db: Queryable, q: AuditQuery): Promise<AuditPage> {
  const res = await run(
    db,
    'search audit log',
    `WITH found AS (
       SELECT * FROM audit_log
       WHERE ($1::text IS NULL OR username = $1)
         AND ($2::text IS NULL OR recording = $2)
         AND ($3::text IS NULL OR action = $3)
         AND ($4::timestamptz IS NULL OR at >= $4)
         AND ($5::timestamptz IS NULL OR at <= $5)
     )
     SELECT n.total, p.*
     FROM (SELECT count(*) AS total FROM found) n
     LEFT JOIN LATERAL (SELECT * FROM found ORDER BY seq DESC LIMIT $6 OFFSET $7) p ON true`,
    [q.user ?? null, q.recording ?? null, q.action ?? null, q.from ?? null, q.to ?? null, q.limit, q.offset],
  );
  return {
    total: Number(res.rows[0]?.total ?? 0),
    items: res.rows.filter((r) => r.seq !== null).map(auditRow),
  };
}

/** The head of the log: its size and last hash (what a signed tree head commits to). */
export async function auditHead(db: Queryable): Promise<AuditHead> {
  const res = await run(db, 'read audit head', 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const r = res.rows[0];
  return r ? { size: Number(r.seq) + 1, hash: String(r.hash) } : { size: 0, hash: AUDIT_GENESIS };
}

/** Up to `limit` records from seq `from` on, in seq order (a chain check's page). */
export async function auditPage(db: Queryable, from: number, limit: number): Promise<AuditRecord[]> {
  const res = await run(
    db,
    'read audit page',
    'SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2',
    [from, limit],
  );
  return res.rows.map(auditRow);
}

/** Re-checks the whole chain from genesis, a page at a time. */
export async function verifyAuditLog(db: Queryable, pageSize = 1000): Promise<AuditVerdict> {
  let head: AuditHead = { size: 0, hash: AUDIT_GENESIS };
  for (;;) {
    const res = await run(
      db,
      'read audit page',
      'SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [head.size, pageSize],
    );
    const verdict = verifyAuditChain(res.rows.map(auditRow), head);
    if (!verdict.ok || res.rows.length < pageSize) return verdict;
    head = verdict.head;
  }
}
