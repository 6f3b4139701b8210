/** @module The object-store interface both sides write through: content addressed, idempotent, never deleting evidence. */
import type { Readable } from 'node:stream';

/** What is put: a file on disk (read once, as a stream) or bytes in memory. */
export type ObjectSource = { path: string } | { bytes: Uint8Array };

/** What the store knows about an object without reading it. */
export interface ObjectHead {
  size: number;
  /**
   * The SHA-256 the store itself verified on upload (S3 `x-amz-checksum-sha256`), or null when the store
   * does not verify checksums; then a reader that must be sure reads the object back and hashes it.
   */
  verifiedSha256: string | null;
  /** The SHA-256 kept in the object's metadata by whoever put it (not verified by the store). */
  metadataSha256: string | null;
}

/** What a streaming put stored: the SHA-256 and size of the bytes it read, and whether it created the object. */
export interface StreamPutResult {
  sha256: string;
  size: number;
  created: boolean;
}

/** A byte range, inclusive, as in HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * An object store. Objects live under `objectKey(sha256)` (protocol/object-key.ts). A put of content whose
 * hash differs from the name it is put under is refused, and a second put of the same object is a no-op.
 * There is no delete: evidence is removed only by retention, which is not this interface [DESIGN invariant 5].
 */
export interface ObjectStore {
  readonly kind: 'fs' | 's3';
  /** Stores `source` as `sha256`; hashes it once while sending; `created` is false when it was already there. */
  put(sha256: string, source: ObjectSource, size: number): Promise<{ created: boolean }>;
  /**
   * Stores a stream whose hash is not known in advance, hashing it as it passes, and names it by that hash
   * once it has ended (docks: the device file is read once [DESIGN invariant 2]). Optional: a store that
   * cannot name an object after its upload leaves it out, and the caller copies to local disk, then put()s.
   */
  putStream?(source: AsyncIterable<Uint8Array>): Promise<StreamPutResult>;
  /** What the store knows about an object, or null when it is absent. */
  head(sha256: string): Promise<ObjectHead | null>;
  /** Reads an object (or a range of it). Rejects with STORE_NOT_FOUND when absent. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Reads the object back once and hashes it: the check for stores that do not verify checksums. */
  rehash(sha256: string): Promise<{ sha256: string; size: number } | null>;
  /** Lists stored objects in key order, after `after` (a sha256) when given. */
  list(after?: string): AsyncIterable<{ sha256: string; size: number }>;
  /** A short-lived URL a browser can fetch the object from, where the store offers one (S3); null otherwise. */
  presign(sha256: string, seconds: number): Promise<string | null>;
  /**
   * Retention only (ingest/retention, after a tombstone is stored): removes the object for good, every version
   * of it in a versioned bucket; an absent object is no error. Gateways never call it [DESIGN invariant 5].
   */
  remove?(sha256: string): Promise<void>;
  /** Retention only, S3: sets the object's lock (retention mode and date, legal hold) [EVIDENCE §22.4]. */
  lock?(sha256: string, lock: ObjectLock): Promise<void>;
}

/** An object's S3 Object Lock settings, as the retention class and legal holds give them. */
export interface ObjectLock {
  /** COMPLIANCE: nobody shortens it; GOVERNANCE: a user with s3:BypassGovernanceRetention may. */
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** UTC ISO-8601 instant until which no version may be deleted; null: the retention is left as it is. */
  retainUntil: string | null;
  /** Legal hold ON: no deletion, whatever the date, until it is cleared. */
  legalHold: boolean;
}
