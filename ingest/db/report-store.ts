/** @module The queries of the auditors' and supervisors' reports (issue 8 item 6): recordings by matter, officers' own-footage views, yearly figures. */
import { type Queryable, run } from './rows.ts';

/** Recordings and cases per matter started in [from, to). */
export async function recordingsByMatter(
  db: Queryable,
  from: string,
  to: string,
): Promise<{ matter: string | null; recordings: number; cases: number }[]> {
  const res = await run(
    db,
    'report recordings by matter',
    `SELECT matter, count(*) AS recordings, count(DISTINCT case_id) AS cases
     FROM recordings WHERE started_at >= $1 AND started_at < $2
     GROUP BY matter ORDER BY matter`,
    [from, to],
  );
  return res.rows.map((r) => ({
    matter: r.matter === null ? null : String(r.matter),
    recordings: Number(r.recordings),
    cases: Number(r.cases),
  }));
}

/** An audited access to a recording by a user who is one of its officers. */
export interface OwnFootageView {
  seq: number;
  at: string;
  user: string;
  officer: string;
  action: string;
  recording: string;
  caseId: string | null;
  reason: string | null;
}

/**
 * Audited accesses in [from, to) to recordings by one of their own officers: the user's name is the
 * officer's credential number, or the user's display name is the officer's name in the officer list.
 */
export async function ownFootageViews(
  db: Queryable,
  actions: readonly string[],
  from: string,
  to: string,
): Promise<OwnFootageView[]> {
  const res = await run(
    db,
    'report officers viewing their own footage',
    `SELECT a.seq, a.at, a.username, o.number AS officer, a.action, a.recording, r.case_id, a.reason
     FROM audit_log a
     JOIN recordings r ON r.id::text = a.recording
     CROSS JOIN LATERAL jsonb_array_elements_text(r.officers) AS o(number)
     LEFT JOIN users u ON u.username = a.username
     LEFT JOIN officers ofc ON ofc.number = o.number
     WHERE a.action = ANY($1::text[]) AND a.at >= $2 AND a.at < $3
       AND (a.username = o.number OR (ofc.name IS NOT NULL AND u.display_name = ofc.name))
     ORDER BY a.seq`,
    [actions, from, to],
  );
  return res.rows.map((r) => ({
    seq: Number(r.seq),
    at: (r.at instanceof Date ? r.at : new Date(String(r.at))).toISOString(),
    user: String(r.username),
    officer: String(r.officer),
    action: String(r.action),
    recording: String(r.recording),
    caseId: r.case_id === null ? null : String(r.case_id),
    reason: r.reason === null ? null : String(r.reason),
  }));
}

/** One row of the yearly figures: recordings and recorded hours for one value of a dimension. */
export interface YearlyRow {
  key: string | null;
  recordings: number;
  hours: number;
}

const DIMENSIONS = {
  matter: 'r.matter',
  room: 'r.room',
  unit: 'ofc.unit',
} as const;

/**
 * Recordings started in [from, to) and their recorded hours (ended recordings: end − start) by matter,
 * room, or officers' unit (a recording of officers of two units counts for each).
 */
export async function yearlyBy(
  db: Queryable,
  dimension: keyof typeof DIMENSIONS,
  from: string,
  to: string,
): Promise<YearlyRow[]> {
  const unitJoin =
    dimension === 'unit'
      ? `LEFT JOIN LATERAL (
           SELECT DISTINCT o2.unit FROM jsonb_array_elements_text(r.officers) AS e(number)
           LEFT JOIN officers o2 ON o2.number = e.number
         ) ofc ON true`
      : '';
  const res = await run(
    db,
    `report yearly by ${dimension}`,
    `SELECT ${DIMENSIONS[dimension]} AS key, count(*) AS recordings,
       coalesce(sum(extract(epoch FROM (r.ended_at - r.started_at))), 0) / 3600.0 AS hours
     FROM recordings r ${unitJoin}
     WHERE r.started_at >= $1 AND r.started_at < $2
     GROUP BY 1 ORDER BY 1 NULLS LAST`,
    [from, to],
  );
  return res.rows.map((r) => ({
    key: r.key === null ? null : String(r.key),
    recordings: Number(r.recordings),
    hours: Math.round(Number(r.hours) * 100) / 100,
  }));
}
