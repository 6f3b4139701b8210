/** @module The audit log's hash chain: the canonical form of one record, its hash, and the check of a whole chain. */
import { canonicalBytes } from '../../protocol/canonical.ts';
import { sha256Hex } from '../../protocol/hash.ts';

/** Every action the audit log records. */
export const AUDIT_ACTIONS = [
  'sign-in',
  'sign-in-failed',
  'sign-out',
  'search',
  'view-recording',
  'playlist',
  'media',
  'download',
  'verify',
  'access-reason',
  'access-refused',
  'user-add',
  'user-change',
  'token-issue',
  'gateway-approve',
  'gateway-revoke',
  // auditor area (issue 8): evidence packages, and fixity mismatches found by a sweep
  'export',
  'fixity-alarm',
  // operator console (issue 6): the officer list the gateways sync was replaced
  'officers-import',
  // body-worn docks (issue 7): a device bound to an officer, footage assigned to a case
  'device-assign',
  'footage-assign',
  // retention (issue 9): a class set, a legal hold taken or released, a recording deleted, a deletion refused
  'retention-set',
  'legal-hold',
  'legal-hold-release',
  'retention-delete',
  'retention-refused',
] as const;
/** An audited action. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The predecessor hash of the first record. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** What a caller says about one audited event; the store adds seq, time and the chain. */
export interface AuditEvent {
  user: string | null;
  role: string | null;
  address: string | null;
  action: AuditAction;
  recording?: string | null;
  track?: string | null;
  reason?: string | null;
  /** Free text a person can read (a search's criteria, a refusal's code). */
  detail?: string | null;
}

/** One record of the audit log, as stored and as served. */
export interface AuditRecord {
  seq: number;
  /** UTC ISO-8601 with milliseconds. */
  at: string;
  user: string | null;
  role: string | null;
  address: string | null;
  action: string;
  recording: string | null;
  track: string | null;
  reason: string | null;
  detail: string | null;
  /** The hash of the record before (AUDIT_GENESIS for seq 0). */
  prev: string;
  /** SHA-256 of the canonical JSON of every field above. */
  hash: string;
}

/** The hash of a record: SHA-256 over the RFC 8785 form of all its fields but `hash`. */
export function auditHash(record: Omit<AuditRecord, 'hash'>): string {
  const { seq, at, user, role, address, action, recording, track, reason, detail, prev } = record;
  return sha256Hex(
    canonicalBytes({ seq, at, user, role, address, action, recording, track, reason, detail, prev }),
  );
}

/** The head of a chain: what a signed tree head can commit to. */
export interface AuditHead {
  /** Records in the chain (the next seq). */
  size: number;
  /** Hash of the last record, AUDIT_GENESIS when empty. */
  hash: string;
}

/** The outcome of checking a chain: where it first fails, if it does. */
export type AuditVerdict =
  | { ok: true; head: AuditHead }
  | { ok: false; seq: number; problem: 'seq' | 'prev' | 'hash'; message: string };

/**
 * Checks records in seq order, starting at `from` (the head before the first record; genesis by
 * default): each seq follows the last, names its predecessor's hash, and hashes to its own hash.
 */
export function verifyAuditChain(
  records: Iterable<AuditRecord>,
  from: AuditHead = { size: 0, hash: AUDIT_GENESIS },
): AuditVerdict {
  let head = from;
  for (const r of records) {
    if (r.seq !== head.size)
      return { ok: false, seq: r.seq, problem: 'seq', message: `record ${r.seq} where ${head.size} was due` };
    if (r.prev !== head.hash)
      return {
        ok: false,
        seq: r.seq,
        problem: 'prev',
        message: `record ${r.seq} does not name the hash of record ${r.seq - 1}`,
      };
    if (auditHash(r) !== r.hash)
      return { ok: false, seq: r.seq, problem: 'hash', message: `record ${r.seq} does not hash to its hash` };
    head = { size: r.seq + 1, hash: r.hash };
  }
  return { ok: true, head };
}
