/** @module Reads a stored object back once and hashes it: the shared body of every store's rehash(). */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IngestError } from '../ingest/errors.ts';

/**
 * Hashes what `get` returns; null when the object is absent. A read failure is turned into the store's
 * own error by `readError`.
 */
export async function rehashObject(
  sha256: string,
  get: (sha256: string) => Promise<Readable>,
  readError: (err: unknown) => Error,
): Promise<{ sha256: string; size: number } | null> {
  let stream: Readable;
  try {
    stream = await get(sha256);
  } catch (err) {
    if (err instanceof IngestError && err.code === 'STORE_NOT_FOUND') return null;
    throw err;
  }
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    throw readError(err);
  }
  return { sha256: hash.digest('hex'), size };
}
