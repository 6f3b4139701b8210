/** @module Checks content against the name it is put under while it streams to a store: one pass, one hash [DESIGN invariant 2]. */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { IngestError } from '../ingest/errors.ts';
import type { ObjectSource } from './object-store.ts';

/** How much of a file is read at a time. */
const READ_CHUNK = 1024 * 1024;

/** The STORE_HASH_MISMATCH error for content that is not what its name and size say. */
export function hashMismatch(
  sha256: string,
  size: number,
  actual: { sha256: string | null; size: number },
): IngestError {
  const what = actual.sha256
    ? `hashes to ${actual.sha256} (${actual.size} bytes)`
    : `is longer than ${size} bytes (at least ${actual.size})`;
  return new IngestError(
    'STORE_HASH_MISMATCH',
    `content put as ${sha256} (${size} bytes) ${what}; it was refused and not stored. The source changed ` +
      'after it was sealed, or the name or size given is wrong',
  );
}

/**
 * A pass-through that hashes and counts what flows through it and fails with STORE_HASH_MISMATCH when it is
 * not `size` bytes hashing to `sha256`. It holds back its latest chunk until the next one arrives, and the
 * last one until the whole content is verified: a mismatched upload therefore always ends short of its
 * declared length, and no store that honours Content-Length (any S3) can complete it, even one that ignores
 * checksums.
 */
export class ContentCheck extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #held: Buffer | null = null;
  #bytes = 0;
  /** The mismatch this check failed with, if it did. */
  failure: IngestError | null = null;
  /** True once all the content passed and matched its name. */
  verified = false;

  constructor(
    readonly sha256: string,
    readonly size: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.size) {
      done(this.#fail(hashMismatch(this.sha256, this.size, { sha256: null, size: this.#bytes })));
      return;
    }
    this.#hash.update(chunk);
    if (this.#held) this.push(this.#held);
    this.#held = chunk;
    done();
  }

  override _flush(done: TransformCallback): void {
    const actual = this.#hash.digest('hex');
    if (actual !== this.sha256 || this.#bytes !== this.size) {
      done(this.#fail(hashMismatch(this.sha256, this.size, { sha256: actual, size: this.#bytes })));
      return;
    }
    this.verified = true;
    if (this.#held) this.push(this.#held);
    this.#held = null;
    done();
  }

  #fail(err: IngestError): IngestError {
    this.failure = err;
    this.#held = null;
    return err;
  }
}

/** The content of a put as a stream, and the check that watches it (null when bytes were checked up front). */
export interface CheckedSource {
  stream: Readable;
  check: ContentCheck | null;
}

/**
 * Opens what is to be put as a stream that fails with STORE_HASH_MISMATCH unless it is `size` bytes hashing
 * to `sha256`. Refused up front, before anything is written anywhere: bytes in memory that do not hash to
 * the name, a file of another size, a file that cannot be opened (STORE_IO). A file of the right size is
 * hashed as it is read, once.
 */
export async function checkedSource(
  sha256: string,
  source: ObjectSource,
  size: number,
): Promise<CheckedSource> {
  if ('bytes' in source) {
    const bytes = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256 || bytes.length !== size) {
      throw hashMismatch(sha256, size, { sha256: actual, size: bytes.length });
    }
    return { stream: Readable.from([bytes], { objectMode: false }), check: null };
  }
  let file: FileHandle;
  let actualSize: number;
  try {
    file = await open(source.path, 'r');
  } catch (cause) {
    throw new IngestError('STORE_IO', `cannot read the source ${source.path}: ${messageOf(cause)}`, {
      cause,
    });
  }
  try {
    actualSize = (await file.stat()).size;
  } catch (cause) {
    await file.close();
    throw new IngestError('STORE_IO', `cannot stat the source ${source.path}: ${messageOf(cause)}`, {
      cause,
    });
  }
  if (actualSize !== size) {
    await file.close();
    throw new IngestError(
      'STORE_HASH_MISMATCH',
      `content put as ${sha256} (${size} bytes) is a file of ${actualSize} bytes (${source.path}); it was ` +
        'refused and not stored. The file changed after it was sealed, or the size given is wrong',
    );
  }
  const check = new ContentCheck(sha256, size);
  // The stream closes the file when it ends or is destroyed; pipeline() passes a read error on to the check.
  const stream = pipeline(file.createReadStream({ highWaterMark: READ_CHUNK }), check, () => {});
  return { stream, check };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
