/** @module The ingest's HTTP API: search and recordings (fastify + zod). Registered by app.ts. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CaseId, RecordingId, TrackId } from '../../protocol/entry.ts';
import { IsoTime } from '../../protocol/time.ts';
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

/** Parses with a schema at the boundary; a failure is a coded 400 that changes nothing. */
function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

/** Adds the search and recording routes. */
export function registerRoutes(app: FastifyInstance, repo: Repository): void {
  app.get('/api/v1/health', async () => ({ ok: true }));

  app.get('/api/v1/recordings', async (req) => repo.searchRecordings(parse(Search, req.query)));

  app.get('/api/v1/recordings/:id', async (req) => {
    const { id } = parse(z.strictObject({ id: RecordingId }), req.params);
    const recording = await repo.recording(id);
    if (!recording) throw new IngestError('INGEST_NOT_FOUND', `no recording ${id}`);
    return recording;
  });

  app.get('/api/v1/recordings/:id/tracks/:track/entries', async (req) => {
    const { id, track } = parse(TrackParams, req.params);
    const page = parse(
      z.strictObject({
        afterSeq: z.coerce.number().int().min(-1).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      }),
      req.query,
    );
    return repo.trackEntries(id, track, {
      limit: page.limit,
      ...(page.afterSeq !== undefined ? { afterSeq: page.afterSeq } : {}),
    });
  });

  app.get('/api/v1/recordings/:id/tracks/:track/gaps', async (req) => {
    const { id, track } = parse(TrackParams, req.params);
    return repo.trackGaps(id, track);
  });

  app.get('/api/v1/gateways', async () => repo.listGateways());
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
};

/** The one HTTP error handler: coded errors become their status; nothing else leaks a stack. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof IngestError) {
      const status = HTTP_STATUS[err.code] ?? 500;
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
