/** @module The ingest's HTTP API: search and recordings (fastify + zod). Registered by app.ts. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CaseId, RecordingId, TrackId } from '../../protocol/entry.ts';
import { IsoTime } from '../../protocol/time.ts';
import { allowAll, type RecordingAccess, type SearchAccess, searchAll } from '../auth/access.ts';
import type { Repository } from '../db/repository.ts';
import { IngestError } from '../errors.ts';

const Search = z.strictObject({
  caseId: CaseId.optional(),
  officer: z.string().min(1).max(64).optional(),
  room: z.string().min(1).max(100).optional(),
  matter: z.string().min(1).max(100).optional(),
  gateway: z.string().min(1).max(63).optional(),
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const TrackParams = z.strictObject({ id: RecordingId, track: TrackId });
const RecordingParams = z.strictObject({ id: RecordingId });
const EntryPage = z.strictObject({
  afterSeq: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

// Response shapes for the OpenAPI document. Loose objects: fields other modules add pass through.
const RecordingView = z.looseObject({
  id: z.string(),
  gateway: z.string(),
  caseId: z.string().nullable(),
  matter: z.string().nullable(),
  room: z.string().nullable(),
  officers: z.array(z.string()),
  startedBy: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});
const TrackView = z.looseObject({ recording: z.string(), track: z.string(), status: z.string() });
const EntryView = z.looseObject({
  hash: z.string(),
  seq: z.number(),
  kind: z.string(),
  entryText: z.string(),
});
const GapView = z.looseObject({ seq: z.number(), from: z.string(), to: z.string(), reason: z.string() });
const GatewayListView = z.array(
  z.looseObject({ id: z.string(), fingerprint: z.string(), status: z.string() }),
);

/** Parses with a schema at the boundary; a failure is a coded 400 that changes nothing. */
function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

/**
 * Adds the search and recording routes. `access` decides who sees which recording and audits it
 * (ingest/auth/access.ts); the default lets everything through, for tests of these routes alone.
 */
export function registerRoutes(
  app: FastifyInstance,
  repo: Repository,
  access: RecordingAccess & SearchAccess = { ...allowAll, ...searchAll },
): void {
  // Untyped on purpose: the handlers parse for themselves, and the loose response shapes only document.
  const r = app;
  /** The recording, or INGEST_NOT_FOUND. */
  const found = async (id: string) => {
    const recording = await repo.recording(id);
    if (!recording) throw new IngestError('INGEST_NOT_FOUND', `no recording ${id}`);
    return recording;
  };

  r.get('/api/v1/health', { schema: { response: { 200: z.object({ ok: z.boolean() }) } } }, async () => ({
    ok: true,
  }));

  r.get(
    '/api/v1/recordings',
    {
      schema: {
        querystring: Search,
        response: { 200: z.object({ total: z.number(), recordings: z.array(RecordingView) }) },
      },
    },
    async (req) => {
      const query = parse(Search, req.query);
      const rooms = await access.scopeSearch(req, query);
      return repo.searchRecordings(rooms ? { ...query, rooms } : query);
    },
  );

  r.get(
    '/api/v1/recordings/:id',
    {
      schema: {
        params: RecordingParams,
        response: { 200: RecordingView.extend({ tracks: z.array(TrackView) }) },
      },
    },
    async (req) => {
      const { id } = parse(RecordingParams, req.params);
      const recording = await found(id);
      await access.authorize(req, { recording, action: 'view-recording' });
      return recording;
    },
  );

  r.get(
    '/api/v1/recordings/:id/tracks/:track/entries',
    { schema: { params: TrackParams, querystring: EntryPage, response: { 200: z.array(EntryView) } } },
    async (req) => {
      const { id, track } = parse(TrackParams, req.params);
      const page = parse(EntryPage, req.query);
      await access.authorize(req, { recording: await found(id), track, action: 'verify' });
      return repo.trackEntries(id, track, {
        limit: page.limit,
        ...(page.afterSeq !== undefined ? { afterSeq: page.afterSeq } : {}),
      });
    },
  );

  r.get(
    '/api/v1/recordings/:id/tracks/:track/gaps',
    { schema: { params: TrackParams, response: { 200: z.array(GapView) } } },
    async (req) => {
      const { id, track } = parse(TrackParams, req.params);
      await access.authorize(req, { recording: await found(id), track, action: 'view-recording' });
      return repo.trackGaps(id, track);
    },
  );

  r.get('/api/v1/gateways', { schema: { response: { 200: GatewayListView } } }, async () =>
    repo.listGateways(),
  );
}

/** The HTTP status of each coded error the API answers with; any other code is a 500. */
const HTTP_STATUS: Record<string, number> = {
  INGEST_BAD_REQUEST: 400,
  INGEST_UNAUTHENTICATED: 401,
  INGEST_AUTH_FAILED: 401,
  INGEST_FORBIDDEN: 403,
  INGEST_CSRF: 403,
  INGEST_REASON_REQUIRED: 403,
  INGEST_NOT_FOUND: 404,
  INGEST_USER_EXISTS: 409,
  INGEST_GATEWAY_REVOKED: 409,
  INGEST_RANGE_INVALID: 416,
  INGEST_RATE_LIMITED: 429,
  // 423 Locked (RFC 4918): the account, not this client, is refused for a while; 429 stays the per-address limit.
  INGEST_ACCOUNT_LOCKED: 423,
  INGEST_WEAK_PASSWORD: 400,
  INGEST_COMMAND_TIMEOUT: 504,
  INGEST_RETENTION_UNEXPIRED: 409,
  INGEST_RETENTION_PERMANENT: 409,
  INGEST_RETENTION_HELD: 409,
  INGEST_RETENTION_DELETED: 410,
};

/** The one HTTP error handler: coded errors become their status; nothing else leaks a stack. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof IngestError) {
      const status = HTTP_STATUS[err.code] ?? 500;
      // A coded error with no HTTP meaning (a store or database failure) is the ingest's fault: log it.
      if (status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(status).send({ error: { code: err.code, message: err.message } });
    }
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.status(status).send({
      error: {
        code: status >= 500 ? 'INGEST_INTERNAL' : 'INGEST_BAD_REQUEST',
        message: status >= 500 ? 'internal error' : (err as Error).message,
      },
    });
  });
}

/** Readiness probes (issue 9): each resolves when its dependency answers, and rejects with the reason. */
export type ReadinessProbes = Record<string, () => Promise<unknown>>;

/** How long one readiness probe may take before it counts as failed. */
const READY_PROBE_MS = 3000;

/**
 * Adds GET /api/v1/ready: 200 when every probe (database, broker, store) answers in time, else 503
 * naming what failed, so a load balancer sends no request to a node that cannot serve it.
 */
export function registerReadyRoute(app: FastifyInstance, probes: ReadinessProbes): void {
  const ReadyView = z.object({ ready: z.boolean(), checks: z.record(z.string(), z.string()) });
  app.get(
    '/api/v1/ready',
    { schema: { response: { 200: ReadyView, 503: ReadyView } } },
    async (_req, reply) => {
      const checks: Record<string, string> = {};
      await Promise.all(
        Object.entries(probes).map(async ([name, probe]) => {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${READY_PROBE_MS} ms`)),
              READY_PROBE_MS,
            );
          });
          try {
            await Promise.race([probe(), late]);
            checks[name] = 'ok';
          } catch (err) {
            checks[name] = (err as Error)?.message ?? String(err);
          } finally {
            clearTimeout(timer);
          }
        }),
      );
      const ready = Object.values(checks).every((c) => c === 'ok');
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );
}
