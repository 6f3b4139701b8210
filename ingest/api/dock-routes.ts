/** @module The dock API: device-to-officer assignments (synced by docks), body-worn footage by officer/device/time, case assignment and proposals. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CaseId } from '../../protocol/entry.ts';
import { Sha256Hex } from '../../protocol/hash.ts';
import { type Clock, IsoTime, isoTime, systemClock } from '../../protocol/time.ts';
import type { AuditAction, AuditEvent } from '../auth/audit-chain.ts';
import {
  assignDevice,
  assignFootage,
  deviceAssignments,
  footageAssignments,
  proposeFootage,
  searchFootage,
} from '../db/device-store.ts';
import type { Database } from '../db/open-database.ts';
import { IngestError } from '../errors.ts';

const Serial = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a device serial');
const Officer = z.string().min(1).max(64);

const FootageSearch = z.strictObject({
  officer: Officer.optional(),
  device: Serial.optional(),
  caseId: CaseId.optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  unassigned: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const AssignBody = z.strictObject({
  entries: z.array(Sha256Hex).min(1).max(500).describe('entry hashes of the files (several at once)'),
  caseId: CaseId.nullable().describe('the case; null releases the files from their case'),
  reason: z.string().min(1).max(500).describe('why, for the assignment history'),
});

const DeviceBody = z.strictObject({ officer: Officer.nullable() });
const Proposal = z.strictObject({
  caseId: CaseId,
  marginMinutes: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(120),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

/** Parses at the boundary; a failure is a coded 400 that changes nothing. */
function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

/** Who is asking, for the assignment records. */
function who(req: FastifyRequest): string {
  return req.auth?.user.username ?? 'anonymous';
}

/** Writes an audit record of a request; the app passes the repository's, tests of other rules may omit it. */
export type AuditWriter = (event: AuditEvent, at: string) => Promise<unknown>;

function auditEvent(
  req: FastifyRequest,
  action: AuditAction,
  detail: string,
  reason?: string | null,
): AuditEvent {
  return {
    user: req.auth?.user.username ?? null,
    role: req.auth?.user.role ?? null,
    address: req.ip,
    action,
    detail,
    ...(reason ? { reason } : {}),
  };
}

/**
 * Adds the dock routes. Assignments of footage to cases are kept in footage_assignments (who, when, why,
 * and the case before), and device-to-officer changes in device_assignments; each is also written to the
 * audit log when `audit` is given (the app always gives it).
 */
export function registerDockRoutes(
  app: FastifyInstance,
  db: Database,
  clock: Clock = systemClock,
  audit?: AuditWriter,
): void {
  app.get('/api/v1/dock/assignments', async () => ({
    assignments: await deviceAssignments(db.pool),
    syncedAt: isoTime(clock.now()),
  }));

  app.put('/api/v1/dock/devices/:serial', async (req) => {
    const { serial } = parse(z.strictObject({ serial: Serial }), req.params);
    const { officer } = parse(DeviceBody, req.body);
    const at = isoTime(clock.now());
    await assignDevice(db, serial, officer, who(req), at);
    await audit?.(auditEvent(req, 'device-assign', `device ${serial} → officer ${officer ?? 'none'}`), at);
    return { device: serial, officer };
  });

  app.get('/api/v1/dock/footage', async (req) => {
    const q = parse(FootageSearch, req.query);
    await audit?.(auditEvent(req, 'search', `body-worn footage ${JSON.stringify(q)}`), isoTime(clock.now()));
    return searchFootage(db.pool, { ...q, unassigned: q.unassigned === 'true' });
  });

  app.post('/api/v1/dock/footage/assign', async (req) => {
    const body = parse(AssignBody, req.body);
    const at = isoTime(clock.now());
    const changed = await assignFootage(db, body.entries, body.caseId, who(req), body.reason, at);
    const files = `${body.entries.length} file(s), ${changed.length} changed: ${body.entries.join(' ')}`;
    await audit?.(
      auditEvent(req, 'footage-assign', `case ${body.caseId ?? 'none'} ← ${files}`, body.reason),
      at,
    );
    return { changed };
  });

  app.get('/api/v1/dock/footage/:hash/assignments', async (req) => {
    const { hash } = parse(z.strictObject({ hash: Sha256Hex }), req.params);
    return { assignments: await footageAssignments(db.pool, hash) };
  });

  app.get('/api/v1/dock/proposals', async (req) => {
    const q = parse(Proposal, req.query);
    await audit?.(auditEvent(req, 'search', `footage proposals ${JSON.stringify(q)}`), isoTime(clock.now()));
    return {
      caseId: q.caseId,
      footage: await proposeFootage(db.pool, q.caseId, q.marginMinutes * 60_000, q.limit),
    };
  });
}
