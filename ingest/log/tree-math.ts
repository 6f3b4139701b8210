/**
 * @module RFC 9162 trees addressed by stored nodes: node (level, index) is the hash of the complete
 * subtree over leaves [index·2^level, (index+1)·2^level). Roots and proofs are computed from those
 * nodes only, so no request rebuilds the tree [EVIDENCE §9, §20].
 */

import { sha256 } from '../../protocol/hash.ts';
import { nodeHash } from '../../protocol/merkle.ts';

/** The address of a complete subtree. */
export interface NodeId {
  level: number;
  index: number;
}

/** Reads a stored node; throws when it is missing (the caller fetched the wrong set). */
export type NodeReader = (level: number, index: number) => Buffer;

/** The map key of a node. */
export function nodeKey(level: number, index: number): string {
  return `${level}:${index}`;
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** MTH(D[lo:hi]) from complete-subtree nodes (lo is aligned, as in every RFC 9162 recursion). */
export function rangeHash(lo: number, hi: number, read: NodeReader): Buffer {
  const n = hi - lo;
  if (n === 0) return sha256();
  if (isPowerOfTwo(n) && lo % n === 0) return read(Math.log2(n), lo / n);
  const k = split(n);
  return nodeHash(rangeHash(lo, lo + k, read), rangeHash(lo + k, hi, read));
}

/** PATH(m, D[n]) [RFC 9162 §2.1.3.1], from nodes. */
export function inclusionPath(m: number, size: number, read: NodeReader): Buffer[] {
  if (!Number.isInteger(m) || m < 0 || m >= size)
    throw new RangeError(`leaf ${m} is outside a tree of ${size}`);
  const out: Buffer[] = [];
  const walk = (m: number, lo: number, hi: number) => {
    const n = hi - lo;
    if (n === 1) return;
    const k = split(n);
    if (m < k) {
      walk(m, lo, lo + k);
      out.push(rangeHash(lo + k, hi, read));
    } else {
      walk(m - k, lo + k, hi);
      out.push(rangeHash(lo, lo + k, read));
    }
  };
  walk(m, 0, size);
  return out;
}

/** PROOF(m, D[n]) [RFC 9162 §2.1.4.1], from nodes. */
export function consistencyPath(m: number, size: number, read: NodeReader): Buffer[] {
  if (!Number.isInteger(m) || m < 1 || m > size) throw new RangeError(`tree size ${m} is not in 1..${size}`);
  const out: Buffer[] = [];
  const sub = (m: number, lo: number, hi: number, b: boolean) => {
    const n = hi - lo;
    if (m === n) {
      if (!b) out.push(rangeHash(lo, hi, read));
      return;
    }
    const k = split(n);
    if (m <= k) {
      sub(m, lo, lo + k, b);
      out.push(rangeHash(lo + k, hi, read));
    } else {
      sub(m - k, lo + k, hi, false);
      out.push(rangeHash(lo, lo + k, read));
    }
  };
  sub(m, 0, size, true);
  return out;
}

/** Runs a computation once to learn which nodes it reads, so they can be fetched in one query. */
export function nodesNeeded(compute: (read: NodeReader) => unknown): NodeId[] {
  const seen = new Map<string, NodeId>();
  const zero = Buffer.alloc(32);
  compute((level, index) => {
    seen.set(nodeKey(level, index), { level, index });
    return zero;
  });
  return [...seen.values()];
}

/** The complete subtrees whose concatenation is a tree of `size` leaves, largest first. */
export function frontier(size: number): NodeId[] {
  const out: NodeId[] = [];
  let offset = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))) + 1; level >= 0; level--) {
    const width = 2 ** level;
    if (size - offset >= width) {
      out.push({ level, index: offset / width });
      offset += width;
    }
  }
  return out;
}

/**
 * Appends leaf hashes to a tree of `size` leaves whose frontier nodes `known` holds; returns every
 * node that becomes complete (level 0 included), in the order they complete.
 */
export function appendLeaves(
  size: number,
  leafHashes: readonly Buffer[],
  known: Map<string, Buffer>,
): { level: number; index: number; hash: Buffer }[] {
  const made: { level: number; index: number; hash: Buffer }[] = [];
  for (let i = 0; i < leafHashes.length; i++) {
    const leaf = size + i;
    let hash = leafHashes[i]!;
    let level = 0;
    let index = leaf;
    known.set(nodeKey(level, index), hash);
    made.push({ level, index, hash });
    while (index % 2 === 1) {
      const left = known.get(nodeKey(level, index - 1));
      if (!left) throw new Error(`tree node ${level}:${index - 1} is missing from the frontier`);
      hash = nodeHash(left, hash);
      level += 1;
      index = (index - 1) / 2;
      known.set(nodeKey(level, index), hash);
      made.push({ level, index, hash });
    }
  }
  return made;
}
