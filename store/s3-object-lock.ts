/**
 * @module S3 Object Lock and removal for retention [EVIDENCE §22.4]: PutObjectRetention, PutObjectLegalHold,
 * and the deletion of every version of an object once its retention has ended. Only the ingest calls these.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'minio';
import { objectKey } from '../protocol/object-key.ts';
import type { ObjectLock } from './object-store.ts';
import { s3Code, s3Error } from './s3-errors.ts';

/** What the lock requests need of the S3 client. */
export interface LockTarget {
  client: Client;
  bucket: string;
  region: string;
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The XML body of PutObjectRetention. */
export function retentionXml(lock: ObjectLock & { retainUntil: string }): string {
  return `<Retention xmlns="${NS}"><Mode>${lock.mode}</Mode><RetainUntilDate>${lock.retainUntil}</RetainUntilDate></Retention>`;
}

/** The XML body of PutObjectLegalHold. */
export function legalHoldXml(on: boolean): string {
  return `<LegalHold xmlns="${NS}"><Status>${on ? 'ON' : 'OFF'}</Status></LegalHold>`;
}

async function putSubresource(t: LockTarget, key: string, query: string, body: string): Promise<void> {
  const res = await t.client.makeRequestAsyncOmit(
    {
      method: 'PUT',
      bucketName: t.bucket,
      objectName: key,
      query,
      headers: {
        'Content-MD5': createHash('md5').update(body).digest('base64'),
        'Content-Type': 'application/xml',
      },
    },
    body,
    [200, 204],
    t.region,
  );
  (res as unknown as NodeJS.ReadableStream).resume();
}

/**
 * Sets the retention (mode and date: S3 only ever lengthens a COMPLIANCE retention) and the legal hold of
 * an object. Needs a bucket made with object lock; a plain bucket refuses both (InvalidRequest).
 */
export async function lockObject(t: LockTarget, sha256: string, lock: ObjectLock): Promise<void> {
  const key = objectKey(sha256);
  try {
    if (lock.retainUntil !== null)
      await putSubresource(t, key, 'retention', retentionXml({ ...lock, retainUntil: lock.retainUntil }));
    await putSubresource(t, key, 'legal-hold', legalHoldXml(lock.legalHold));
  } catch (err) {
    throw s3Error(`cannot set the object lock of ${sha256} in bucket ${t.bucket}`, err);
  }
}

/**
 * Removes an object for good: in a versioned bucket (object lock makes it one) a plain DELETE only adds a
 * delete marker, so every version is deleted by id; the store refuses while a version is locked.
 */
export async function removeObject(t: LockTarget, sha256: string): Promise<void> {
  const key = objectKey(sha256);
  try {
    const versions: (string | null)[] = [];
    try {
      for await (const item of t.client.listObjects(t.bucket, key, false, { IncludeVersion: true })) {
        const v = item as { name?: string; versionId?: string | null };
        if (v.name === key) versions.push(v.versionId && v.versionId !== 'null' ? v.versionId : null);
      }
    } catch (err) {
      // A store without versioning answers the version listing with an error (s3rver: MethodNotAllowed):
      // one plain DELETE then removes the object.
      if (s3Code(err) !== 'NotImplemented' && s3Code(err) !== 'MethodNotAllowed') throw err;
    }
    if (versions.length === 0) versions.push(null);
    for (const versionId of versions)
      await t.client.removeObject(t.bucket, key, versionId ? { versionId } : {});
  } catch (err) {
    if (s3Code(err) === 'NoSuchKey' || s3Code(err) === 'NotFound') return;
    throw s3Error(`cannot remove ${sha256} from bucket ${t.bucket}`, err);
  }
}
