/**
 * @module The reports for auditors and supervisors (issue 8 item 6): compliance with the matter list,
 * officers who viewed their own footage, and the yearly figures for the report due each 31 January.
 * Each report is rows plus its CSV form.
 */
import type { Matter } from '../../firmware-config/matters.ts';
import {
  type OwnFootageView,
  ownFootageViews,
  recordingsByMatter,
  type YearlyRow,
  yearlyBy,
} from '../db/report-store.ts';
import type { Queryable } from '../db/rows.ts';
import { csvText } from './csv.ts';

/** Audited actions that show or hand out footage. */
export const VIEWING_ACTIONS = ['view-recording', 'playlist', 'media', 'download', 'export'] as const;

/** The offset of China Standard Time: years and periods are counted in local time. */
const LOCAL_OFFSET = '+08:00';

/** The instants bounding a calendar year in local time: [1 January, next 1 January). */
export function yearRange(year: number): { from: string; to: string } {
  const at = (y: number) =>
    new Date(`${String(y).padStart(4, '0')}-01-01T00:00:00${LOCAL_OFFSET}`).toISOString();
  return { from: at(year), to: at(year + 1) };
}

/** One mandatory matter of the list and what was recorded for it in the period. */
export interface ComplianceRow {
  matter: string;
  zh: string;
  en: string;
  recordings: number;
  cases: number;
  /** False when a matter the list marks mandatory has no recording in the period. */
  recorded: boolean;
}

/** Compliance with the matter list: every mandatory matter, flagged when nothing was recorded for it. */
export async function complianceReport(
  db: Queryable,
  matters: readonly Pick<Matter, 'id' | 'zh' | 'en' | 'mandatory'>[],
  from: string,
  to: string,
): Promise<ComplianceRow[]> {
  const counts = new Map((await recordingsByMatter(db, from, to)).map((c) => [c.matter, c]));
  return matters
    .filter((m) => m.mandatory)
    .map((m) => {
      const c = counts.get(m.id);
      return {
        matter: m.id,
        zh: m.zh,
        en: m.en,
        recordings: c?.recordings ?? 0,
        cases: c?.cases ?? 0,
        recorded: (c?.recordings ?? 0) > 0,
      };
    });
}

/** The compliance report as CSV. */
export function complianceCsv(rows: readonly ComplianceRow[]): string {
  return csvText(
    ['matter', 'zh', 'en', 'recordings', 'cases', 'recorded'],
    rows.map((r) => [r.matter, r.zh, r.en, r.recordings, r.cases, r.recorded]),
  );
}

/** Involved officers who viewed their own footage in the period, from the audit log. */
export function ownFootageReport(db: Queryable, from: string, to: string): Promise<OwnFootageView[]> {
  return ownFootageViews(db, VIEWING_ACTIONS, from, to);
}

/** The own-footage report as CSV. */
export function ownFootageCsv(rows: readonly OwnFootageView[]): string {
  return csvText(
    ['seq', 'at', 'user', 'officer', 'action', 'recording', 'case', 'reason'],
    rows.map((r) => [r.seq, r.at, r.user, r.officer, r.action, r.recording, r.caseId, r.reason]),
  );
}

/** The yearly figures: totals, and recordings and hours by unit, matter and room. */
export interface YearlyReport {
  year: number;
  recordings: number;
  hours: number;
  byUnit: YearlyRow[];
  byMatter: YearlyRow[];
  byRoom: YearlyRow[];
}

/** The yearly figures of a calendar year (local time). */
export async function yearlyReport(db: Queryable, year: number): Promise<YearlyReport> {
  const { from, to } = yearRange(year);
  const byMatter = await yearlyBy(db, 'matter', from, to);
  const sum = (rows: YearlyRow[], k: 'recordings' | 'hours') => rows.reduce((n, r) => n + r[k], 0);
  return {
    year,
    recordings: sum(byMatter, 'recordings'),
    hours: Math.round(sum(byMatter, 'hours') * 100) / 100,
    byUnit: await yearlyBy(db, 'unit', from, to),
    byMatter,
    byRoom: await yearlyBy(db, 'room', from, to),
  };
}

/** The yearly figures as CSV: one row per dimension and value, the totals first. */
export function yearlyCsv(r: YearlyReport): string {
  const rows: (string | number | null)[][] = [[r.year, 'total', null, r.recordings, r.hours]];
  for (const [dimension, list] of [
    ['unit', r.byUnit],
    ['matter', r.byMatter],
    ['room', r.byRoom],
  ] as const)
    for (const x of list) rows.push([r.year, dimension, x.key, x.recordings, x.hours]);
  return csvText(['year', 'by', 'value', 'recordings', 'hours'], rows);
}
