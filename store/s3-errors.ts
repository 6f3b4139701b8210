/** @module Maps what an S3 service or the network answers onto the store's error codes (STORE_NOT_FOUND, STORE_HASH_MISMATCH, STORE_IO). */
import { IngestError } from '../ingest/errors.ts';

/** S3 error codes meaning the object (or bucket) is not there; `NotFound` is minio's name for a bare 404. */
const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);

/**
 * S3 error codes meaning the service refused a body that did not match the digest sent with it: the SigV4
 * payload hash, Content-MD5, or an `x-amz-checksum-*` header.
 */
const DIGEST_REFUSED = new Set([
  'BadDigest',
  'InvalidDigest',
  'XAmzContentSHA256Mismatch',
  'XAmzContentChecksumMismatch',
  'InvalidChecksum',
]);

/** The S3 error code of an error from minio (or a Node network error code), if it has one. */
export function s3Code(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The store error for a failed S3 request about `what`; IngestErrors and RangeErrors pass through. */
export function s3Error(what: string, err: unknown): Error {
  if (err instanceof IngestError || err instanceof RangeError) return err;
  const code = s3Code(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code && NOT_FOUND.has(code)) {
    return new IngestError('STORE_NOT_FOUND', `${what}: not in the store (S3 ${code})`, { cause: err });
  }
  if (code && DIGEST_REFUSED.has(code)) {
    return new IngestError(
      'STORE_HASH_MISMATCH',
      `${what}: the store refused content that does not match its digest (S3 ${code}: ${message})`,
      { cause: err },
    );
  }
  return new IngestError('STORE_IO', `${what}: ${code ? `S3 ${code}: ` : ''}${message}`, { cause: err });
}
