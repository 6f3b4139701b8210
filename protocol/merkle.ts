/** @module RFC 9162 §2.1 Merkle trees: hashing, inclusion and consistency proofs, and their verification. */
import { sha256 } from './hash.ts';

const LEAF = Buffer.of(0);
const NODE = Buffer.of(1);

/** MTH of a one-leaf tree: SHA-256(0x00 || leaf) [RFC 9162 §2.1.1]. */
export function leafHash(leaf: Uint8Array): Buffer {
  return sha256(LEAF, leaf);
}

/** An interior node: SHA-256(0x01 || left || right) [RFC 9162 §2.1.1]. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE, left, right);
}

/** The largest power of two strictly less than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Root of the tree over already-hashed leaves. MTH({}) = SHA-256() [RFC 9162 §2.1.1]. */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return sha256();
  // Fold level by level: RFC 9162's split rule gives the same tree as pairing left to right
  // and carrying an odd last node up unchanged.
  let level: Uint8Array[] = hashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return Buffer.from(level[0]!);
}

/** Root of the tree over raw leaves (each leaf is hashed with the 0x00 prefix first). */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  return rootFromLeafHashes(leaves.map(leafHash));
}

/** PATH(m, D[n]): the audit path of leaf m among n leaf hashes [RFC 9162 §2.1.3.1]. */
export function inclusionProof(index: number, hashes: readonly Uint8Array[]): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= hashes.length) {
    throw new RangeError(`leaf ${index} is outside a tree of ${hashes.length}`);
  }
  return path(index, hashes, 0, hashes.length);
}

function path(m: number, hashes: readonly Uint8Array[], lo: number, hi: number): Buffer[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = split(n);
  if (m < k) return [...path(m, hashes, lo, lo + k), rootFromLeafHashes(hashes.slice(lo + k, hi))];
  return [...path(m - k, hashes, lo + k, hi), rootFromLeafHashes(hashes.slice(lo, lo + k))];
}

/** PROOF(m, D[n]): consistency of the first m leaves with all n [RFC 9162 §2.1.4.1]. */
export function consistencyProof(m: number, hashes: readonly Uint8Array[]): Buffer[] {
  const n = hashes.length;
  if (!Number.isInteger(m) || m < 1 || m > n) throw new RangeError(`tree size ${m} is not in 1..${n}`);
  return subproof(m, hashes, 0, n, true);
}

function subproof(m: number, hashes: readonly Uint8Array[], lo: number, hi: number, b: boolean): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [rootFromLeafHashes(hashes.slice(lo, hi))];
  const k = split(n);
  if (m <= k) return [...subproof(m, hashes, lo, lo + k, b), rootFromLeafHashes(hashes.slice(lo + k, hi))];
  return [...subproof(m - k, hashes, lo + k, hi, false), rootFromLeafHashes(hashes.slice(lo, lo + k))];
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Verifies an inclusion proof [RFC 9162 §2.1.3.2]. `treeSize` and `root` must come from a signed
 * tree head, never from the proof's bearer [DESIGN invariant 7].
 */
export function verifyInclusion(
  leafHashValue: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHashValue;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** Verifies a consistency proof between two tree heads [RFC 9162 §2.1.4.2]. */
export function verifyConsistency(
  firstSize: number,
  secondSize: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(firstSize) || !Number.isInteger(secondSize)) return false;
  if (firstSize < 1 || firstSize > secondSize) return false;
  if (proof.some((p) => p.length !== 32)) return false;
  if (firstSize === secondSize) return proof.length === 0 && equal(firstRoot, secondRoot);
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
