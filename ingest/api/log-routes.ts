/** @module The transparency log's HTTP API: the log key, signed tree heads, inclusion and consistency proofs. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Sha256Hex } from '../../protocol/hash.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { IngestError } from '../errors.ts';
import { logKeyFile } from '../log/log-key.ts';
import type { TransparencyLog } from '../log/transparency-log.ts';

const Size = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(r.error));
  return r.data;
}

/** Adds the log routes [EVIDENCE §20]. Signing on demand is a POST; everything else is a read. */
export function registerLogRoutes(app: FastifyInstance, log: TransparencyLog, keyPair: KeyPair): void {
  app.get('/api/v1/log/key', async () => logKeyFile(keyPair));

  app.get('/api/v1/log/tree-head', async () => {
    const sth = await log.latestTreeHead();
    if (!sth) throw new IngestError('INGEST_NOT_FOUND', 'no tree head has been signed yet');
    return sth;
  });

  app.post('/api/v1/log/tree-head', async () => log.signTreeHead());

  app.get('/api/v1/log/inclusion', async (req) => {
    const q = parse(z.strictObject({ entry: Sha256Hex, treeSize: Size.optional() }), req.query);
    return asClientError(log.inclusion(q.entry, q.treeSize));
  });

  app.get('/api/v1/log/consistency', async (req) => {
    const q = parse(z.strictObject({ first: Size, second: Size }), req.query);
    return asClientError(log.consistency(q.first, q.second));
  });
}

/**
 * The one error handler (routes.ts) knows only NOT_FOUND and BAD_REQUEST as client errors: a proof that
 * cannot exist is one of those, with the log's reason kept in the message.
 */
async function asClientError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof IngestError && err.code === 'INGEST_LOG_NOT_LOGGED')
      throw new IngestError('INGEST_NOT_FOUND', err.message, { cause: err });
    if (err instanceof IngestError && err.code === 'INGEST_LOG_RANGE')
      throw new IngestError('INGEST_BAD_REQUEST', err.message, { cause: err });
    throw err;
  }
}
