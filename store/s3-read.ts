/** @module Reads an object, or a byte range of it, from S3, trusting only what the answer says it holds (its Content-Range). */
import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Client } from 'minio';
import { IngestError } from '../ingest/errors.ts';
import type { ByteRange } from './object-store.ts';
import { s3Code, s3Error } from './s3-errors.ts';
import { unsatisfiable } from './store-arguments.ts';

/** What a read needs to reach its bucket. */
export interface S3Source {
  client: Client;
  bucket: string;
  region: string;
}

/**
 * GETs `key`, or the bytes of `range` (an end past the object is cut to its last byte, as in HTTP). HTTP
 * lets a server answer a range with more than was asked (the whole object with 200, or a wider 206: s3rver
 * answers `bytes=0-0` with the whole object), so the answer's own range decides what is cut off.
 */
export async function readObject(
  s: S3Source,
  key: string,
  what: string,
  range?: ByteRange,
): Promise<Readable> {
  let res: IncomingMessage;
  try {
    res = await s.client.makeRequestAsync(
      {
        method: 'GET',
        bucketName: s.bucket,
        objectName: key,
        headers: range ? { range: `bytes=${range.start}-${range.end}` } : {},
      },
      '',
      range ? [200, 206] : [200],
      s.region,
    );
  } catch (err) {
    if (range && s3Code(err) === 'InvalidRange') throw unsatisfiable(range, null);
    throw s3Error(`cannot read ${what} from bucket ${s.bucket}`, err);
  }
  if (!range) return res;
  const got = answeredRange(res);
  if (!got) {
    res.destroy();
    throw new IngestError(
      'STORE_IO',
      `reading ${what}: the service's answer to a range request has no usable range`,
    );
  }
  if (range.start >= got.total) {
    res.destroy();
    throw unsatisfiable(range, got.total);
  }
  const want = { start: range.start, end: Math.min(range.end, got.total - 1) };
  if (got.start === want.start && got.end === want.end) return res;
  if (got.start > want.start || got.end < want.end) {
    res.destroy();
    throw new IngestError(
      'STORE_IO',
      `reading ${what}: asked for bytes ${want.start}-${want.end}, the service answered ${got.start}-${got.end}`,
    );
  }
  return pipeline(res, new Slice(want.start - got.start, want.end - want.start + 1), () => {});
}

/** The bytes an answer holds: its Content-Range (206), or the whole object (200). */
function answeredRange(res: IncomingMessage): { start: number; end: number; total: number } | null {
  if (res.statusCode === 200) {
    const total = Number(res.headers['content-length']);
    return Number.isSafeInteger(total) ? { start: 0, end: total - 1, total } : null;
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
  return m ? { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) } : null;
}

/** Passes on `length` bytes after skipping `skip`; the rest is read and dropped (the connection is reused). */
class Slice extends Transform {
  constructor(
    private skip: number,
    private left: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let part = chunk;
    if (this.skip > 0) {
      const n = Math.min(this.skip, part.length);
      part = part.subarray(n);
      this.skip -= n;
    }
    if (part.length > this.left) part = part.subarray(0, this.left);
    this.left -= part.length;
    if (part.length > 0) this.push(part);
    done();
  }
}
