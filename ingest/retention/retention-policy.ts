/**
 * @module Retention classes and how a recording's class, retain-until and deletability follow from its matter,
 * case, room, evidence marks and legal holds [EVIDENCE §22.1]. Pure: the clock and the rows are given.
 */
import type { RetentionClass } from '../../protocol/tombstone.ts';
import type { ObjectLock } from '../../store/object-store.ts';

export type { RetentionClass };

/** Months each class keeps a recording after it ends; null: permanent. */
export const RETENTION_MONTHS: Readonly<Record<RetentionClass, number | null>> = {
  // 音像记录资料至少保存6个月 (reference/README.md, "Facts from related rules"): the legal minimum.
  standard: 6,
  long: 120,
  permanent: null,
};

/** The order of the classes, shortest first. */
const ORDER: readonly RetentionClass[] = ['standard', 'long', 'permanent'];

/** A retention rule set by an administrator for a matter type, a case or one recording. */
export interface RetentionRule {
  scope: 'matter' | 'case' | 'recording';
  target: string;
  class: RetentionClass | null;
  evidence: boolean;
  reason: string;
  setBy: string;
  setAt: string;
}

/** An active legal hold. */
export interface LegalHold {
  id: number;
  scope: 'case' | 'recording';
  target: string;
  reason: string;
  heldBy: string;
  heldAt: string;
}

/** What the retention of a recording depends on. */
export interface RetentionFacts {
  recording: string;
  caseId: string | null;
  matter: string | null;
  room: string | null;
  endedAt: string | null;
  deletedAt: string | null;
  /** Rules for this recording's matter, case and itself (any of them may be absent). */
  rules: readonly RetentionRule[];
  /** Active holds on this recording or its case. */
  holds: readonly LegalHold[];
}

/** A recording's retention, as computed now. */
export interface RetentionStatus {
  recording: string;
  class: RetentionClass;
  /** Where the class comes from, e.g. "hearing", "evidence (case X)", "case X", "matter inquiry", "default". */
  basis: string;
  /** End of retention; null while the recording is open, and for permanent ones. */
  retainUntil: string | null;
  holds: LegalHold[];
  /** Retention over, no hold, not permanent, not deleted. */
  expired: boolean;
  deletable: boolean;
  deletedAt: string | null;
}

/**
 * A hearing (听证): recorded in a hearing room or for a hearing matter. Hearings are kept permanently.
 * Recognised by the room or matter naming a hearing (`hearing`, `听证`), as the shipped room profile
 * (hearing-room) and matters (penalty-hearing 行政处罚听证, licensing-hearing 行政许可听证) do.
 */
export function isHearing(room: string | null, matter: string | null): boolean {
  return [room, matter].some((s) => s !== null && /hearing|听证/i.test(s));
}

/** `iso` plus whole calendar months, in UTC (31 August + 6 months = 28/29 February: clamped to month end). */
export function addMonths(iso: string, months: number): string {
  const d = new Date(iso);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString();
}

/** The longer of two classes. */
export function longer(a: RetentionClass, b: RetentionClass): RetentionClass {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * Computes a recording's retention at `nowMs`. Permanent when it is a hearing or used as evidence (marked on
 * the recording or its case); otherwise the most specific class set: recording, then case, then matter,
 * then `standard`. No class is shorter than 6 months after the end.
 */
export function retentionOf(facts: RetentionFacts, nowMs: number): RetentionStatus {
  const rule = (scope: RetentionRule['scope'], target: string | null) =>
    target === null ? undefined : facts.rules.find((r) => r.scope === scope && r.target === target);
  const own = rule('recording', facts.recording);
  const ofCase = rule('case', facts.caseId);
  const ofMatter = rule('matter', facts.matter);
  let cls: RetentionClass;
  let basis: string;
  if (isHearing(facts.room, facts.matter)) {
    cls = 'permanent';
    basis = 'hearing';
  } else if (own?.evidence) {
    cls = 'permanent';
    basis = 'evidence (recording)';
  } else if (ofCase?.evidence) {
    cls = 'permanent';
    basis = `evidence (case ${facts.caseId})`;
  } else if (own?.class) {
    cls = own.class;
    basis = 'recording';
  } else if (ofCase?.class) {
    cls = ofCase.class;
    basis = `case ${facts.caseId}`;
  } else if (ofMatter?.class) {
    cls = ofMatter.class;
    basis = `matter ${facts.matter}`;
  } else {
    cls = 'standard';
    basis = 'default';
  }
  const months = RETENTION_MONTHS[cls];
  const retainUntil = months === null || facts.endedAt === null ? null : addMonths(facts.endedAt, months);
  const expired = facts.deletedAt === null && retainUntil !== null && nowMs >= Date.parse(retainUntil);
  return {
    recording: facts.recording,
    class: cls,
    basis,
    retainUntil,
    holds: [...facts.holds],
    expired,
    deletable: expired && facts.holds.length === 0,
    deletedAt: facts.deletedAt,
  };
}

/**
 * The S3 Object Lock of a recording's objects [EVIDENCE §22.4]: COMPLIANCE until the retain-until of a
 * standard or long class (nobody, root included, can shorten the legal minimum); for a permanent class, or
 * an open recording whose end is unknown, COMPLIANCE for 6 months from `nowMs` plus a legal hold, which has
 * no date and only the ingest clears; a legal hold also while any hold is active. An ended retention is
 * left as it is (S3 takes no date in the past).
 */
export function objectLockOf(status: RetentionStatus, nowMs: number): ObjectLock {
  const open = status.class === 'permanent' || status.retainUntil === null;
  const future = status.retainUntil !== null && Date.parse(status.retainUntil) > nowMs;
  return {
    mode: 'COMPLIANCE',
    retainUntil: open
      ? addMonths(new Date(nowMs).toISOString(), RETENTION_MONTHS.standard!)
      : future
        ? status.retainUntil
        : null,
    legalHold: open || status.holds.length > 0,
  };
}
