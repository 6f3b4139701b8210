import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import type { z } from 'zod';
import { objectKey, parseObjectKey } from '../protocol/object-key.ts';
import { checkedSource } from './content-check.ts';
import type { ByteRange, ObjectHead, ObjectSource, ObjectStore } from './object-store.ts';
import { rehashObject } from './rehash.ts';
import { s3Code, s3Error } from './s3-errors.ts';
import { lockObject, removeObject } from './s3-object-lock.ts';
import { readObject } from './s3-read.ts';
import { putMultipart, putSingle, type S3Target } from './s3-upload.ts';
import { checkRange, checkSize } from './store-arguments.ts';
import { S3Settings } from './store-config.ts';

const MiB = 1024 * 1024;
/** Objects up to this size go as one streamed PUT; larger ones as multipart uploads. */
export const S3_SINGLE_PUT_MAX = 64 * MiB;
/** Default bytes per part of a multipart upload: the memory one upload holds. */
export const S3_DEFAULT_PART_SIZE = 16 * MiB;
/** S3's smallest part (all but the last) and largest part. */
const PART_SIZE_MIN = 5 * MiB;
const PART_SIZE_MAX = 5 * 1024 * MiB;

/** Settings of {@link createS3Store}: the S3 config, and the multipart part size. */
export type S3StoreOptions = z.input<typeof S3Settings> & {
  /** Bytes per multipart part, 5 MiB–5 GiB (default 16 MiB); grown when an object would need over 10,000. */
  partSize?: number;
};

/** The S3 store, and what only an S3 store does. */
export interface S3ObjectStore extends ObjectStore {
  readonly kind: 's3';
  readonly bucket: string;
  /**
   * Creates the bucket when it is missing (`created` says whether it did). With `objectLock`, a new bucket
   * has S3 Object Lock enabled (MinIO can enable it only at creation; the retention rule is the
   * administrator's). s3rver ignores object lock: it creates a plain bucket. A gateway needs no right to
   * create buckets: only the ingest (or an administrator) calls this.
   */
  ensureBucket(options?: { objectLock?: boolean }): Promise<{ created: boolean }>;
}

/**
 * A store in an S3 bucket. put() sends the SHA-256 with the object (s3-upload.ts says how it is checked);
 * head() reports `verifiedSha256` only from the service's own stored checksum (asked for with
 * `x-amz-checksum-mode: ENABLED`; MinIO and S3 keep it for single PUTs, never as the object's hash for
 * multipart uploads, and s3rver not at all), and `metadataSha256` from `x-amz-meta-sha256`.
 * minio's retries are off: a retry would resend a stream already consumed; callers retry whole puts.
 */
export function createS3Store(options: S3StoreOptions): S3ObjectStore {
  const { partSize = S3_DEFAULT_PART_SIZE, ...rest } = options;
  const settings = S3Settings.parse(rest);
  if (!Number.isSafeInteger(partSize) || partSize < PART_SIZE_MIN || partSize > PART_SIZE_MAX) {
    throw new RangeError(`partSize must be 5 MiB to 5 GiB, not ${partSize}`);
  }
  const { bucket, region, useSSL } = settings;
  const client = new Client({
    endPoint: settings.endPoint,
    port: settings.port,
    useSSL,
    accessKey: settings.accessKey,
    secretKey: settings.secretKey,
    region,
    retryOptions: { disableRetry: true },
    // A configured CA replaces the system CAs (issue 10: MinIO's certificate is issued by the ingest CA).
    ...(useSSL && settings.caFile ? { transportAgent: caFileAgent(settings.caFile) } : {}),
  });
  const target: S3Target = { client, bucket, region, useSSL, partSize };

  async function put(sha256: string, source: ObjectSource, size: number): Promise<{ created: boolean }> {
    const key = objectKey(sha256);
    checkSize(size);
    const existing = await head(sha256);
    // Same name, same size: the same content (the name is its hash). Another size cannot be this content
    // (an upload a service kept when it was cut short): the right content replaces it.
    if (existing && existing.size === size) return { created: false };
    const checked = await checkedSource(sha256, source, size);
    if (size <= S3_SINGLE_PUT_MAX) await putSingle(target, key, sha256, checked, size);
    else await putMultipart(target, key, sha256, checked, size);
    return { created: true };
  }

  /**
   * A HEAD answer has no body, so a missing bucket also reads as a missing object: ensureBucket() at start
   * tells the two apart.
   */
  async function head(sha256: string): Promise<ObjectHead | null> {
    const key = objectKey(sha256);
    try {
      const res = await client.makeRequestAsyncOmit(
        {
          method: 'HEAD',
          bucketName: bucket,
          objectName: key,
          headers: { 'x-amz-checksum-mode': 'ENABLED' },
        },
        '',
        [200],
        region,
      );
      return {
        size: Number(res.headers['content-length']),
        verifiedSha256: storedChecksum(res.headers),
        metadataSha256: hexHeader(res.headers['x-amz-meta-sha256']),
      };
    } catch (err) {
      if (s3Code(err) === 'NotFound' || s3Code(err) === 'NoSuchKey') return null;
      throw s3Error(`cannot stat ${sha256} in bucket ${bucket}`, err);
    }
  }

  async function get(sha256: string, range?: ByteRange): Promise<Readable> {
    const key = objectKey(sha256);
    if (range) checkRange(range);
    return readObject(target, key, sha256, range);
  }

  function rehash(sha256: string): Promise<{ sha256: string; size: number } | null> {
    return rehashObject(sha256, get, (err) =>
      s3Error(`cannot read ${sha256} back from bucket ${bucket}`, err),
    );
  }

  async function* list(after?: string): AsyncIterable<{ sha256: string; size: number }> {
    const startAfter = after === undefined ? '' : objectKey(after);
    try {
      // S3 lists keys in UTF-8 byte order, which is key order; keys that are not object keys are skipped.
      for await (const item of client.listObjectsV2(bucket, '', true, startAfter)) {
        const sha256 = item.name ? parseObjectKey(item.name) : null;
        if (sha256) yield { sha256, size: item.size };
      }
    } catch (err) {
      throw s3Error(`cannot list bucket ${bucket}`, err);
    }
  }

  async function presign(sha256: string, seconds: number): Promise<string | null> {
    const key = objectKey(sha256);
    try {
      return await client.presignedGetObject(bucket, key, seconds);
    } catch (err) {
      throw s3Error(`cannot presign ${sha256} in bucket ${bucket}`, err);
    }
  }

  async function ensureBucket(opts: { objectLock?: boolean } = {}): Promise<{ created: boolean }> {
    try {
      if (await client.bucketExists(bucket)) return { created: false };
      await client.makeBucket(bucket, region, opts.objectLock ? { ObjectLocking: true } : {});
      return { created: true };
    } catch (err) {
      if (s3Code(err) === 'BucketAlreadyOwnedByYou') return { created: false };
      throw s3Error(`cannot create bucket ${bucket}`, err);
    }
  }

  const lockTarget = { client, bucket, region };
  return {
    kind: 's3',
    bucket,
    put,
    head,
    get,
    rehash,
    list,
    presign,
    ensureBucket,
    remove: (sha256) => removeObject(lockTarget, sha256),
    lock: (sha256, lock) => lockObject(lockTarget, sha256, lock),
  };
}

/**
 * The SHA-256 the service verified and stored with the object, as hex; null when it keeps none. A composite
 * checksum of a multipart upload (`…-N`, or `x-amz-checksum-type: COMPOSITE`) is a hash of part hashes, not
 * the object's SHA-256, and is never reported as one.
 */
function storedChecksum(headers: IncomingHttpHeaders): string | null {
  const value = headers['x-amz-checksum-sha256'];
  const type = headers['x-amz-checksum-type'];
  if (typeof value !== 'string' || (type !== undefined && type !== 'FULL_OBJECT')) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === value ? bytes.toString('hex') : null;
}

function hexHeader(value: string | string[] | undefined): string | null {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) ? value : null;
}

/**
 * An HTTPS agent trusting only the CA in `caFile`, read at each new connection: a CA that is not there
 * yet (a gateway before enrollment copies the ingest CA) fails that upload, which is retried, never the
 * start; a replaced CA file takes effect without a restart.
 */
function caFileAgent(caFile: string): Agent {
  const agent = new Agent({ keepAlive: true });
  const create = agent.createConnection.bind(agent);
  agent.createConnection = ((options: AgentConnectOptions, callback: ConnectCallback) => {
    let ca: string;
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      process.nextTick(
        callback,
        new Error(`cannot read the S3 CA file ${caFile}: ${(err as Error).message}`),
      );
      return undefined;
    }
    return create({ ...options, ca }, callback);
  }) as Agent['createConnection'];
  return agent;
}
type AgentConnectOptions = Parameters<Agent['createConnection']>[0];
type ConnectCallback = Parameters<Agent['createConnection']>[1] &
  ((err: Error | null, socket?: unknown) => void);
