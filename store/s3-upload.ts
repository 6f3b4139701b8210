/** @module Uploads one object to S3, as a single PUT or a multipart upload, sending its SHA-256 and never completing content that does not match it. */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Client } from 'minio';
import { IngestError } from '../ingest/errors.ts';
import type { CheckedSource } from './content-check.ts';
import { s3Error } from './s3-errors.ts';

/** S3 allows at most this many parts in one upload. */
const MAX_PARTS = 10_000;

/** What an upload needs to reach its bucket. */
export interface S3Target {
  client: Client;
  bucket: string;
  region: string;
  /** Over TLS minio signs `UNSIGNED-PAYLOAD`; over plain HTTP it must sign the payload's SHA-256. */
  useSSL: boolean;
  /** Bytes per part of a multipart upload (the memory one upload holds). */
  partSize: number;
}

/** One uploaded part, as CompleteMultipartUpload lists it. */
interface UploadedPart {
  number: number;
  etag: string;
  checksum: string;
}

/**
 * Uploads `size` bytes as one PUT, streamed (nothing is buffered). The name is the hash, so it is known
 * before the request: it goes out as `x-amz-checksum-sha256` (base64; S3 and MinIO refuse a body that does
 * not match, and keep the checksum for HEAD), as the SigV4 payload hash over plain HTTP (which they verify
 * too), and as `x-amz-meta-sha256` (hex, kept whatever the service). Meanwhile the source's ContentCheck
 * withholds the last chunk unless the content matches, so a mismatched body arrives short and no S3 can
 * complete it, even one that ignores checksums.
 *
 * What remains on a service that ignores checksums and also keeps a body cut short (s3rver 3.7 writes it in
 * place as it arrives; S3 and MinIO discard it; the tests' s3rver is patched to discard it too): a partial
 * object under the name, shorter than `size`, perhaps without `x-amz-meta-sha256`. The gateway never
 * deletes it [DESIGN invariant 5]; the next put of the right content replaces it (its size differs), and
 * until then the ingest's verification (head, then rehash) refuses it.
 */
export async function putSingle(
  t: S3Target,
  key: string,
  sha256: string,
  source: CheckedSource,
  size: number,
): Promise<void> {
  const headers = {
    'Content-Length': size,
    'Content-Type': 'application/octet-stream',
    'x-amz-checksum-sha256': Buffer.from(sha256, 'hex').toString('base64'),
    'x-amz-meta-sha256': sha256,
  };
  try {
    const res = await t.client.makeRequestStreamAsync(
      { method: 'PUT', bucketName: t.bucket, objectName: key, headers },
      source.stream,
      t.useSSL ? '' : sha256,
      [200],
      t.region,
    );
    await drain(res);
  } catch (err) {
    source.stream.destroy();
    throw source.check?.failure ?? s3Error(`cannot upload ${sha256} to bucket ${t.bucket}`, err);
  }
  if (source.check && !source.check.verified) {
    throw new IngestError(
      'STORE_IO',
      `uploading ${sha256}: bucket ${t.bucket} answered before it received the whole content`,
    );
  }
}

/**
 * Uploads `size` bytes as a multipart upload, holding one part in memory at a time. The upload is created
 * with `x-amz-checksum-algorithm: SHA256` and `x-amz-meta-sha256`; each part carries its own SHA-256 (one
 * digest per part, which is also its SigV4 payload hash: the service checks every part). S3 has no
 * whole-object SHA-256 for multipart uploads (its checksum of checksums is not the object's hash), so the
 * whole is checked here: the last part is released only once the content matched its name, and otherwise
 * the upload is aborted and never completed; nothing appears under the name. Parts a service keeps after a
 * failed abort are not objects (s3rver cannot abort; S3 and MinIO reclaim them with a lifecycle rule for
 * incomplete uploads).
 */
export async function putMultipart(
  t: S3Target,
  key: string,
  sha256: string,
  source: CheckedSource,
  size: number,
): Promise<void> {
  const what = `cannot upload ${sha256} to bucket ${t.bucket}`;
  const uploadId = await t.client
    .initiateNewMultipartUpload(t.bucket, key, {
      'Content-Type': 'application/octet-stream',
      'x-amz-checksum-algorithm': 'SHA256',
      'x-amz-meta-sha256': sha256,
    })
    .catch((err) => {
      source.stream.destroy();
      throw s3Error(what, err);
    });
  const parts: UploadedPart[] = [];
  try {
    const part = Buffer.allocUnsafe(Math.min(size, Math.max(t.partSize, Math.ceil(size / MAX_PARTS))));
    let filled = 0;
    for await (const chunk of source.stream as AsyncIterable<Buffer>) {
      for (let offset = 0; offset < chunk.length; ) {
        const n = chunk.copy(part, filled, offset);
        filled += n;
        offset += n;
        if (filled === part.length) {
          parts.push(await uploadPart(t, key, uploadId, parts.length + 1, part));
          filled = 0;
        }
      }
    }
    if (filled > 0)
      parts.push(await uploadPart(t, key, uploadId, parts.length + 1, part.subarray(0, filled)));
    if (source.check && !source.check.verified) throw new Error('the source ended before it was verified');
    await completeUpload(t, key, uploadId, parts);
  } catch (err) {
    source.stream.destroy();
    const failure = source.check?.failure ?? s3Error(what, err);
    const abort = await t.client.abortMultipartUpload(t.bucket, key, uploadId).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    if (abort === null || !(failure instanceof IngestError)) throw failure;
    throw new IngestError(
      failure.code,
      `${failure.message} (the unfinished upload ${uploadId} could not be aborted: ${abort}; it is not an ` +
        'object, and a lifecycle rule for incomplete uploads reclaims its parts)',
      { cause: failure.cause ?? err },
    );
  }
}

/** Uploads one part, with its SHA-256 as checksum header and (over HTTP) as SigV4 payload hash. */
async function uploadPart(
  t: S3Target,
  key: string,
  uploadId: string,
  number: number,
  data: Buffer,
): Promise<UploadedPart> {
  const digest = createHash('sha256').update(data).digest();
  const checksum = digest.toString('base64');
  const res = await t.client.makeRequestStreamAsync(
    {
      method: 'PUT',
      bucketName: t.bucket,
      objectName: key,
      query: `partNumber=${number}&uploadId=${encodeURIComponent(uploadId)}`,
      headers: { 'Content-Length': data.length, 'x-amz-checksum-sha256': checksum },
    },
    data,
    t.useSSL ? '' : digest.toString('hex'),
    [200],
    t.region,
  );
  await drain(res);
  const etag = res.headers.etag;
  if (!etag) throw new Error(`part ${number} was stored without an ETag`);
  return { number, etag, checksum };
}

/**
 * Completes an upload. minio's completeMultipartUpload cannot list part checksums, which S3 requires once
 * the upload was created with a checksum algorithm, so the request is built here.
 */
async function completeUpload(
  t: S3Target,
  key: string,
  uploadId: string,
  parts: UploadedPart[],
): Promise<void> {
  const body =
    '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    parts
      .map(
        (p) =>
          `<Part><ChecksumSHA256>${p.checksum}</ChecksumSHA256><ETag>${xmlText(p.etag)}</ETag>` +
          `<PartNumber>${p.number}</PartNumber></Part>`,
      )
      .join('') +
    '</CompleteMultipartUpload>';
  const res = await t.client.makeRequestAsync(
    {
      method: 'POST',
      bucketName: t.bucket,
      objectName: key,
      query: `uploadId=${encodeURIComponent(uploadId)}`,
    },
    body,
    [200],
    t.region,
  );
  // CompleteMultipartUpload may fail after a 200 status, with an <Error> document as the body.
  const answer = await readText(res);
  if (/<Error>/.test(answer)) {
    const code = /<Code>([^<]*)<\/Code>/.exec(answer)?.[1] ?? 'InternalError';
    const message = /<Message>([^<]*)<\/Message>/.exec(answer)?.[1] ?? 'completing the upload failed';
    throw Object.assign(new Error(message), { code });
  }
}

/** Reads a response body to its end and discards it, so the connection can be reused. */
async function drain(res: IncomingMessage): Promise<void> {
  for await (const _ of res) {
    // discarded
  }
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
