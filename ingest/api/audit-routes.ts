/** @module Browsing the audit log (auditors and admins), and re-checking its hash chain. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IsoTime } from '../../protocol/time.ts';
import { AUDIT_ACTIONS } from '../auth/audit-chain.ts';
import type { Auth } from '../auth/auth.ts';

const AuditFilter = z.strictObject({
  user: z.string().min(1).max(64).optional().describe('records of this user'),
  recording: z.string().min(1).max(64).optional().describe('records about this recording'),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: IsoTime.optional().describe('records at or after'),
  to: IsoTime.optional().describe('records at or before'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const AuditItem = z.object({
  seq: z.number().int(),
  at: z.string(),
  user: z.string().nullable(),
  role: z.string().nullable(),
  address: z.string().nullable(),
  action: z.string(),
  recording: z.string().nullable(),
  track: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  prev: z.string(),
  hash: z.string(),
});

const Verdict = z.union([
  z.object({ ok: z.literal(true), head: z.object({ size: z.number(), hash: z.string() }) }),
  z.object({
    ok: z.literal(false),
    seq: z.number(),
    problem: z.enum(['seq', 'prev', 'hash']),
    message: z.string(),
  }),
]);

/** Adds GET /api/v1/audit and GET /api/v1/audit/verify (auditors and admins, see auth/policy.ts). */
export function registerAuditRoutes(app: FastifyInstance, auth: Auth): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/v1/audit',
    {
      schema: {
        querystring: AuditFilter,
        response: { 200: z.object({ total: z.number(), items: z.array(AuditItem) }) },
      },
    },
    async (req) => auth.repo.searchAudit(req.query),
  );
  r.get('/api/v1/audit/verify', { schema: { response: { 200: Verdict } } }, async () =>
    auth.repo.verifyAuditLog(),
  );
}
