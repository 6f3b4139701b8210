/**
 * @module Retention routes (issue 9): a recording's retention, rules per matter/case/recording, legal holds,
 * expired recordings, and deletion at the end of retention. Roles in auth/policy.ts; every change and every
 * refused deletion is audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RecordingId } from '../../protocol/entry.ts';
import { isoTime } from '../../protocol/time.ts';
import { RetentionClass } from '../../protocol/tombstone.ts';
import type { AuditAction, AuditEvent } from '../auth/audit-chain.ts';
import { IngestError } from '../errors.ts';
import type { Actor, Retention } from '../retention/retention-service.ts';

/** Writes one audit record (Repository.appendAudit). */
export type RetentionAuditWriter = (event: AuditEvent, at: string) => Promise<unknown>;

const Reason = z.string().trim().min(3).max(1000).describe('why: kept with the record and in the audit log');

const RuleBody = z.strictObject({
  scope: z.enum(['matter', 'case', 'recording']).describe('what the rule covers'),
  target: z.string().min(1).max(100).describe('the matter id, case ID or recording id'),
  class: RetentionClass.nullable().describe('the class; null: the next level decides'),
  evidence: z.boolean().default(false).describe('used as evidence: kept permanently (case or recording)'),
  reason: Reason,
});
const HoldBody = z.strictObject({
  scope: z.enum(['case', 'recording']),
  target: z.string().min(1).max(100),
  reason: Reason,
});
const ReasonBody = z.strictObject({ reason: Reason });
const RecordingParams = z.strictObject({ id: RecordingId });
const HoldParams = z.strictObject({ id: z.coerce.number().int().positive() });
const ExpiredQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** Codes a refused deletion answers with (all audited as retention-refused). */
const REFUSALS = new Set([
  'INGEST_RETENTION_UNEXPIRED',
  'INGEST_RETENTION_PERMANENT',
  'INGEST_RETENTION_HELD',
  'INGEST_RETENTION_DELETED',
  'INGEST_FORBIDDEN',
]);

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

function actor(req: FastifyRequest): Actor {
  if (!req.auth) throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first');
  return { username: req.auth.user.username, role: req.auth.user.role };
}

/** Adds the /api/v1/retention routes and /api/v1/recordings/:id/retention[/delete]. */
export function registerRetentionRoutes(
  app: FastifyInstance,
  deps: { retention: Retention; audit: RetentionAuditWriter; now: () => number },
): void {
  const { retention } = deps;
  const audit = (req: FastifyRequest, action: AuditAction, detail: string, extra: Partial<AuditEvent> = {}) =>
    deps.audit(
      {
        user: req.auth?.user.username ?? null,
        role: req.auth?.user.role ?? null,
        address: req.ip,
        action,
        detail,
        ...extra,
      },
      isoTime(deps.now()),
    );

  app.get('/api/v1/recordings/:id/retention', { schema: { params: RecordingParams } }, async (req) => {
    const { id } = parse(RecordingParams, req.params);
    return retention.status(id);
  });

  app.post(
    '/api/v1/recordings/:id/retention/delete',
    { schema: { params: RecordingParams, body: ReasonBody } },
    async (req) => {
      const { id } = parse(RecordingParams, req.params);
      const { reason } = parse(ReasonBody, req.body);
      try {
        const done = await retention.delete(id, reason, actor(req));
        await audit(
          req,
          'retention-delete',
          `tombstone ${done.tombstone.hash}; ${done.removed} object(s) removed`,
          {
            recording: id,
            reason,
          },
        );
        return done;
      } catch (err) {
        if (err instanceof IngestError && REFUSALS.has(err.code))
          await audit(req, 'retention-refused', `${err.code}: ${err.message}`, { recording: id, reason });
        throw err;
      }
    },
  );

  app.get('/api/v1/retention/rules', async () => ({ rules: await retention.rules() }));

  app.put('/api/v1/retention/rules', { schema: { body: RuleBody } }, async (req) => {
    const body = parse(RuleBody, req.body);
    const rule = await retention.setRule(body, actor(req));
    await audit(
      req,
      'retention-set',
      `${body.scope} ${body.target}: class ${body.class ?? 'none'}${body.evidence ? ', used as evidence' : ''}`,
      { reason: body.reason, ...(body.scope === 'recording' ? { recording: body.target } : {}) },
    );
    return { rule };
  });

  app.get('/api/v1/retention/holds', async () => ({ holds: await retention.holds() }));

  app.post('/api/v1/retention/holds', { schema: { body: HoldBody } }, async (req, reply) => {
    const body = parse(HoldBody, req.body);
    const hold = await retention.hold(body, actor(req));
    await audit(req, 'legal-hold', `hold #${hold.id} on ${body.scope} ${body.target}`, {
      reason: body.reason,
      ...(body.scope === 'recording' ? { recording: body.target } : {}),
    });
    return reply.status(201).send({ hold });
  });

  app.post(
    '/api/v1/retention/holds/:id/release',
    { schema: { params: HoldParams, body: ReasonBody } },
    async (req) => {
      const { id } = parse(HoldParams, req.params);
      const { reason } = parse(ReasonBody, req.body);
      const hold = await retention.release(id, reason, actor(req));
      await audit(req, 'legal-hold-release', `hold #${id} on ${hold.scope} ${hold.target} released`, {
        reason,
        ...(hold.scope === 'recording' ? { recording: hold.target } : {}),
      });
      return { hold };
    },
  );

  app.get('/api/v1/retention/expired', { schema: { querystring: ExpiredQuery } }, async (req) => {
    const { limit } = parse(ExpiredQuery, req.query);
    return { recordings: await retention.expired(limit) };
  });
}
