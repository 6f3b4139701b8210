/**
 * @module The ingest log's formats: leaves, signed tree heads and proofs, built and checked here only
 * [EVIDENCE §20].
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical.ts';
import { Base64Url, Sha256Hex, sha256 } from './hash.ts';
import { type PublicKey, signDigest, verifyDigest } from './keys.ts';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.ts';
import { IsoTime } from './time.ts';

/** The largest tree size a tree head may name: sizes are JSON integers [EVIDENCE §2.4]. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/** The head of the audit log's hash chain a tree head commits to [EVIDENCE §20.2]. */
export const AuditHead = z.strictObject({
  size: z.number().int().positive().max(MAX_SIZE).describe('records in the audit log (the next seq)'),
  hash: Sha256Hex.describe('hash of the last record, seq size − 1'),
});
/** An audit head. */
export type AuditHead = z.infer<typeof AuditHead>;

/** A tree head: what the ingest commits to when it signs [EVIDENCE §20.2]. */
export const TreeHead = z
  .strictObject({
    v: z.literal(1),
    alg: z.strictObject({ canon: z.literal('jcs'), hash: z.literal('sha-256'), sig: z.literal('ed25519') }),
    key: Sha256Hex.describe('fingerprint of the ingest key that signs this head'),
    size: z.number().int().nonnegative().max(MAX_SIZE).describe('number of leaves'),
    root: Sha256Hex.describe('MTH of the first `size` leaves'),
    timestamp: IsoTime.describe('when the head was signed, ingest clock'),
    audit: AuditHead.nullable().describe('head of the audit log when the head was signed; null when empty'),
  })
  .describe('tree head of the ingest log');
/** A tree head. */
export type TreeHead = z.infer<typeof TreeHead>;

/** A signed tree head as published and as stored in an evidence package. */
export const SignedTreeHead = z.strictObject({
  head: TreeHead,
  hash: Sha256Hex.describe('SHA-256 of JCS(head)'),
  sig: Base64Url.describe('Ed25519 signature under context tree-head over the 32 bytes of `hash`'),
});
/** A signed tree head. */
export type SignedTreeHead = z.infer<typeof SignedTreeHead>;

/** An inclusion proof of one entry in a tree of `treeSize` leaves [EVIDENCE §20.3]. */
export const InclusionProof = z.strictObject({
  entry: Sha256Hex.describe('the entry hash whose leaf is proved'),
  leafIndex: z.number().int().nonnegative().max(MAX_SIZE),
  treeSize: z.number().int().positive().max(MAX_SIZE),
  path: z.array(Sha256Hex).max(64),
});
/** An inclusion proof. */
export type InclusionProof = z.infer<typeof InclusionProof>;

/** A consistency proof between two tree sizes [EVIDENCE §20.3]. */
export const ConsistencyProof = z.strictObject({
  first: z.number().int().positive().max(MAX_SIZE),
  second: z.number().int().positive().max(MAX_SIZE),
  path: z.array(Sha256Hex).max(128),
});
/** A consistency proof. */
export type ConsistencyProof = z.infer<typeof ConsistencyProof>;

/** The leaf of an entry: the 32 raw bytes of its entry hash [EVIDENCE §20.1]. */
export function entryLeaf(entryHashHex: string): Buffer {
  return Buffer.from(entryHashHex, 'hex');
}

/** The leaf hash of an entry: SHA-256(0x00 || entry hash bytes). */
export function entryLeafHash(entryHashHex: string): Buffer {
  return leafHash(entryLeaf(entryHashHex));
}

/** The digest that is signed: SHA-256 of the head's canonical bytes. */
export function treeHeadDigest(head: TreeHead): Buffer {
  return sha256(canonicalBytes(head));
}

/** Signs a tree head with the ingest key under context `tree-head`. */
export function signTreeHead(head: TreeHead, privateKey: KeyObject): SignedTreeHead {
  const parsed = TreeHead.parse(head);
  const digest = treeHeadDigest(parsed);
  return { head: parsed, hash: digest.toString('hex'), sig: signDigest(privateKey, 'treeHead', digest) };
}

/**
 * Checks a signed tree head as read from outside: its schema, its hash, its key fingerprint and its
 * signature. Returns the checked head, or the reason it is refused.
 */
export function checkTreeHead(value: unknown, key: PublicKey): { head: TreeHead } | { problem: string } {
  const parsed = SignedTreeHead.safeParse(value);
  if (!parsed.success)
    return { problem: `tree head does not match its schema: ${z.prettifyError(parsed.error)}` };
  const { head, hash, sig } = parsed.data;
  const digest = treeHeadDigest(head);
  if (digest.toString('hex') !== hash) return { problem: 'tree head does not hash to the hash it names' };
  if (head.key !== key.fingerprint)
    return { problem: `tree head names key ${head.key}, not the ingest key ${key.fingerprint}` };
  const bad = verifyDigest(key, 'treeHead', digest, sig);
  return bad ? { problem: `tree head signature: ${bad}` } : { head };
}

/** Checks an inclusion proof against a (checked) tree head; returns the reason it fails, or null. */
export function inclusionProblem(proof: InclusionProof, head: TreeHead): string | null {
  if (proof.treeSize !== head.size)
    return `proof is for a tree of ${proof.treeSize} leaves, the signed head has ${head.size}`;
  const ok = verifyInclusion(
    entryLeafHash(proof.entry),
    proof.leafIndex,
    head.size,
    proof.path.map((p) => Buffer.from(p, 'hex')),
    Buffer.from(head.root, 'hex'),
  );
  return ok ? null : `entry is not leaf ${proof.leafIndex} of the signed tree of ${head.size} leaves`;
}

/** Checks a consistency proof between two (checked) tree heads; returns the reason it fails, or null. */
export function consistencyProblem(
  proof: ConsistencyProof,
  first: TreeHead,
  second: TreeHead,
): string | null {
  if (proof.first !== first.size || proof.second !== second.size)
    return `proof is for sizes ${proof.first}→${proof.second}, the heads are ${first.size}→${second.size}`;
  const ok = verifyConsistency(
    first.size,
    second.size,
    Buffer.from(first.root, 'hex'),
    Buffer.from(second.root, 'hex'),
    proof.path.map((p) => Buffer.from(p, 'hex')),
  );
  return ok ? null : `the tree of ${second.size} leaves does not extend the tree of ${first.size} leaves`;
}
