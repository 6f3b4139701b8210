/**
 * @module The report routes (auditors, supervisors and admins, see auth/policy.ts): JSON by default,
 * CSV with `format=csv`. GET /api/v1/reports/compliance, /own-footage and /yearly.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Matter } from '../../firmware-config/matters.ts';
import { IsoTime } from '../../protocol/time.ts';
import type { Queryable } from '../db/rows.ts';
import {
  complianceCsv,
  complianceReport,
  ownFootageCsv,
  ownFootageReport,
  yearlyCsv,
  yearlyReport,
  yearRange,
} from './reports.ts';

/** What the report routes read. */
export interface ReportDeps {
  db: Queryable;
  /** The matter list in force (its `mandatory` flags drive the compliance report). */
  matters: readonly Pick<Matter, 'id' | 'zh' | 'en' | 'mandatory'>[];
  /** The current year (local time), for a period left out; defaults to the clock's. */
  thisYear?: () => number;
}

const Format = z.enum(['json', 'csv']).default('json');
const Period = z.strictObject({
  from: IsoTime.optional().describe('at or after; default: 1 January of this year'),
  to: IsoTime.optional().describe('before; default: 1 January of next year'),
  format: Format,
});
const Year = z.strictObject({
  year: z.coerce.number().int().min(2000).max(2999).optional().describe('default: last year'),
  format: Format,
});

function csv(reply: FastifyReply, name: string, text: string): string {
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${name}.csv"`);
  return text;
}

/** Adds the report routes. */
export function registerReportRoutes(app: FastifyInstance, deps: ReportDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const thisYear = deps.thisYear ?? (() => new Date(Date.now() + 8 * 3600_000).getUTCFullYear());
  const period = (q: { from?: string | undefined; to?: string | undefined }) => {
    const year = yearRange(thisYear());
    return { from: q.from ?? year.from, to: q.to ?? year.to };
  };
  r.get('/api/v1/reports/compliance', { schema: { querystring: Period } }, async (req, reply) => {
    const { from, to } = period(req.query);
    const rows = await complianceReport(deps.db, deps.matters, from, to);
    return req.query.format === 'csv' ? csv(reply, 'compliance', complianceCsv(rows)) : { from, to, rows };
  });
  r.get('/api/v1/reports/own-footage', { schema: { querystring: Period } }, async (req, reply) => {
    const { from, to } = period(req.query);
    const rows = await ownFootageReport(deps.db, from, to);
    return req.query.format === 'csv' ? csv(reply, 'own-footage', ownFootageCsv(rows)) : { from, to, rows };
  });
  r.get('/api/v1/reports/yearly', { schema: { querystring: Year } }, async (req, reply) => {
    const report = await yearlyReport(deps.db, req.query.year ?? thisYear() - 1);
    return req.query.format === 'csv' ? csv(reply, `yearly-${report.year}`, yearlyCsv(report)) : report;
  });
}
