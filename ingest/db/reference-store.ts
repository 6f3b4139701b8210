/** @module The reference lists the gateways' consoles check against: the officer list (执法人员名单) and case look-ups. */
import type { Database } from './open-database.ts';
import { type Queryable, run, transaction } from './rows.ts';

/** One officer as the ingest keeps it: credential number (执法证号), name, unit. */
export interface OfficerRow {
  number: string;
  name: string;
  unit: string | null;
}

/** A case the ingest has indexed: when it was first seen and how many recordings name it. */
export interface CaseSummary {
  caseId: string;
  firstSeenAt: string;
  recordings: number;
}

/** The officer list, by credential number. */
export async function listOfficers(db: Queryable): Promise<OfficerRow[]> {
  const res = await run(db, 'list officers', 'SELECT number, name, unit FROM officers ORDER BY number');
  return res.rows.map((r) => ({
    number: String(r.number),
    name: String(r.name),
    unit: r.unit === null ? null : String(r.unit),
  }));
}

/** Replaces the whole officer list in one transaction: a failure leaves the old list as it was. */
export async function replaceOfficers(db: Database, officers: readonly OfficerRow[]): Promise<number> {
  return transaction(db, 'replace officers', async (tx) => {
    await run(tx, 'clear officers', 'DELETE FROM officers');
    if (officers.length > 0) {
      // One statement for the whole list (batched inserts, DEPS.md); arrays keep it parameterised.
      await run(
        tx,
        'insert officers',
        'INSERT INTO officers (number, name, unit) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])',
        [officers.map((o) => o.number), officers.map((o) => o.name), officers.map((o) => o.unit)],
      );
    }
    return officers.length;
  });
}

/** When the officer list was last replaced (its latest `officers-import` audit record), or null if never. */
export async function officersImportedAt(db: Queryable): Promise<string | null> {
  const res = await run(
    db,
    'read officers import time',
    `SELECT max(at) AS at FROM audit_log WHERE action = 'officers-import'`,
  );
  const at = res.rows[0]?.at;
  return at ? new Date(at as string | Date).toISOString() : null;
}

/** The case with this id and its number of recordings, or null when the ingest has not seen it. */
export async function caseSummary(db: Queryable, caseId: string): Promise<CaseSummary | null> {
  const res = await run(
    db,
    'read case',
    `SELECT c.id, c.first_seen_at, (SELECT count(*) FROM recordings r WHERE r.case_id = c.id) AS n
     FROM cases c WHERE c.id = $1`,
    [caseId],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    caseId: String(r.id),
    firstSeenAt: new Date(r.first_seen_at as string | Date).toISOString(),
    recordings: Number(r.n),
  };
}
