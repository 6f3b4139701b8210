/**
 * @module The tombstone [EVIDENCE §22]: the ingest's signed record that a recording's media was deleted at
 * the end of its retention. Its hash is a leaf of the transparency log, like an entry hash, so the absence
 * of the media is itself logged, signed and provable. Built and checked here only.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical.ts';
import { Base64Url, Sha256Hex, sha256, sha256Hex } from './hash.ts';
import { type PublicKey, signDigest, verifyDigest } from './keys.ts';
import { IsoTime } from './time.ts';

/** The retention classes [EVIDENCE §22.1]: how long a recording is kept after it ends. */
export const RetentionClass = z
  .enum(['standard', 'long', 'permanent'])
  .describe(
    'standard: 6 months after the recording ends (the legal minimum); long: 10 years; permanent: never deleted',
  );
/** A retention class. */
export type RetentionClass = z.infer<typeof RetentionClass>;

/** One track of the deleted recording, as indexed when it was deleted. */
export const TombstoneTrack = z.strictObject({
  track: z.string().min(1).max(100),
  entries: z.number().int().nonnegative().describe('entries of the track (they stay in the log)'),
  lastSeq: z.number().int().nonnegative(),
  head: Sha256Hex.describe('hash of the last entry of the chain: commits to every entry before it'),
  merkleRoot: Sha256Hex.nullable().describe("the track's Merkle root when closed, else null"),
});
/** A tombstone's track. */
export type TombstoneTrack = z.infer<typeof TombstoneTrack>;

/** What a tombstone says [EVIDENCE §22.2]. */
export const Tombstone = z
  .strictObject({
    v: z.literal(1),
    type: z.literal('tombstone').describe('tells the record from an entry, which has `kind`'),
    alg: z.strictObject({ canon: z.literal('jcs'), hash: z.literal('sha-256'), sig: z.literal('ed25519') }),
    key: Sha256Hex.describe('fingerprint of the ingest key that signs the tombstone'),
    recording: z.string().uuid(),
    caseId: z.string().nullable(),
    matter: z.string().nullable(),
    room: z.string().nullable(),
    gateway: z.string(),
    startedAt: IsoTime,
    endedAt: IsoTime,
    tracks: z.array(TombstoneTrack).max(1000),
    objects: z.strictObject({
      count: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      digest: Sha256Hex.describe('SHA-256 over the sorted object hashes, each as 32 raw bytes'),
      kept: z.number().int().nonnegative().describe('objects kept because another recording still uses them'),
    }),
    retention: z.strictObject({
      class: RetentionClass,
      basis: z.string().min(1).max(200).describe('where the class came from, e.g. "matter inquiry"'),
      retainUntil: IsoTime,
    }),
    deletedBy: z.string().min(1).max(100),
    deletedAt: IsoTime,
    reason: z.string().min(1).max(1000),
  })
  .describe('signed record of the deletion of a recording at the end of its retention');
/** A tombstone. */
export type Tombstone = z.infer<typeof Tombstone>;

/** A tombstone with its hash (the log leaf) and the ingest's signature. */
export const SignedTombstone = z.strictObject({
  tombstone: Tombstone,
  hash: Sha256Hex.describe('SHA-256 of JCS(tombstone): the leaf the log holds'),
  sig: Base64Url.describe('Ed25519 under context tombstone over the 32 bytes of `hash`'),
});
/** A signed tombstone. */
export type SignedTombstone = z.infer<typeof SignedTombstone>;

/** The digest of the deleted objects: SHA-256 over their sorted hashes as raw bytes. */
export function objectsDigest(hashes: readonly string[]): string {
  return sha256Hex(...[...hashes].sort().map((h) => Buffer.from(h, 'hex')));
}

/** Signs a tombstone with the ingest key. */
export function signTombstone(tombstone: Tombstone, privateKey: KeyObject): SignedTombstone {
  const parsed = Tombstone.parse(tombstone);
  const digest = sha256(canonicalBytes(parsed));
  return {
    tombstone: parsed,
    hash: digest.toString('hex'),
    sig: signDigest(privateKey, 'tombstone', digest),
  };
}

/** Checks a signed tombstone read from outside: schema, hash, key and signature; the reason it fails, or the tombstone. */
export function checkTombstone(
  value: unknown,
  key: PublicKey,
): { tombstone: Tombstone; hash: string } | { problem: string } {
  const parsed = SignedTombstone.safeParse(value);
  if (!parsed.success)
    return { problem: `tombstone does not match its schema: ${z.prettifyError(parsed.error)}` };
  const { tombstone, hash, sig } = parsed.data;
  const digest = sha256(canonicalBytes(tombstone));
  if (digest.toString('hex') !== hash) return { problem: 'tombstone does not hash to the hash it names' };
  if (tombstone.key !== key.fingerprint)
    return { problem: `tombstone names key ${tombstone.key}, not the ingest key ${key.fingerprint}` };
  const bad = verifyDigest(key, 'tombstone', digest, sig);
  return bad ? { problem: `tombstone signature: ${bad}` } : { tombstone, hash };
}
