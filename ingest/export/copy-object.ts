/** @module Copies one stored object into a package, hashing it on the way (one read, one write, bounded memory). */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../store/object-store.ts';
import { IngestError } from '../errors.ts';

/**
 * Streams object `sha256` from the store to `path`; rejects with INGEST_EXPORT_OBJECT when the store
 * lacks it or the bytes do not hash to its name (the file written is then left for inspection).
 */
export async function copyObject(
  store: ObjectStore,
  sha256: string,
  path: string,
  onBytes: (n: number) => void = () => {},
): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  let source: Awaited<ReturnType<ObjectStore['get']>>;
  try {
    source = await store.get(sha256);
  } catch (cause) {
    throw new IngestError('INGEST_EXPORT_OBJECT', `object ${sha256} cannot be read from the store`, {
      cause,
    });
  }
  await pipeline(source, tap, createWriteStream(path, { flags: 'wx', highWaterMark: 1024 * 1024 }));
  const actual = hash.digest('hex');
  if (actual !== sha256) {
    throw new IngestError(
      'INGEST_EXPORT_OBJECT',
      `object ${sha256} in the store hashes to ${actual}: the store copy is damaged (see the fixity alarms)`,
    );
  }
  return size;
}
