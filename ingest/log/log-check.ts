/**
 * @module Checks the stored log against its leaves: recomputes every signed tree head's root from the
 * entries in leaf order, one page at a time, and reports a missing leaf or a head the leaves no longer
 * give (a rewritten log) [EVIDENCE §20.5].
 */
import { sha256Hex } from '../../protocol/hash.ts';
import { nodeHash } from '../../protocol/merkle.ts';
import { entryLeafHash } from '../../protocol/tree-head.ts';
import * as store from '../db/log-store.ts';
import type { Queryable } from '../db/rows.ts';
import { appendLeaves, frontier, nodeKey } from './tree-math.ts';

const BATCH = 5000;

/** What a check of the stored log against its leaves found. */
export interface LogCheck {
  size: number;
  /** The first leaf index that is missing (a deleted entry), or null. */
  hole: number | null;
  /** Signed tree heads whose root the current leaves no longer give. */
  rewritten: { id: number; size: number; root: string; now: string | null }[];
}

/** Keeps only the frontier nodes of a tree of `size` leaves. */
export function pruneTo(known: Map<string, Buffer>, size: number): Map<string, Buffer> {
  return new Map(
    frontier(size).map((f) => [nodeKey(f.level, f.index), known.get(nodeKey(f.level, f.index))!]),
  );
}

/** Recomputes every signed tree head's root from the leaves as they are now [EVIDENCE §20.5]. */
export async function checkLog(db: Queryable): Promise<LogCheck> {
  const heads = (await store.latestTreeHeads(db, 1_000_000)).sort(
    (a, b) => a.sth.head.size - b.sth.head.size,
  );
  const result: LogCheck = { size: 0, hole: null, rewritten: [] };
  let known = new Map<string, Buffer>();
  let size = 0;
  let next = 0;
  const rootNow = () => {
    const front = frontier(size).map((f) => known.get(nodeKey(f.level, f.index))!);
    if (front.length === 0) return null;
    let acc = front[front.length - 1]!;
    for (let i = front.length - 2; i >= 0; i--) acc = nodeHash(front[i]!, acc);
    return acc.toString('hex');
  };
  const settle = () => {
    while (next < heads.length && heads[next]!.sth.head.size <= size) {
      const h = heads[next++]!;
      const now = h.sth.head.size === size ? (size === 0 ? sha256Hex() : rootNow()) : null;
      if (now !== h.sth.head.root)
        result.rewritten.push({ id: h.id, size: h.sth.head.size, root: h.sth.head.root, now });
    }
  };
  settle();
  for (;;) {
    const page = await store.leafPage(db, size, BATCH);
    if (page.length === 0) break;
    for (const leaf of page) {
      if (leaf.index !== size) {
        result.hole ??= size;
        break;
      }
      appendLeaves(size, [entryLeafHash(leaf.hash)], known);
      size += 1;
      known = pruneTo(known, size);
      settle();
    }
    if (result.hole !== null) break;
  }
  result.size = size;
  // Heads larger than the leaves that remain name leaves that are gone.
  for (const h of heads.slice(next))
    result.rewritten.push({ id: h.id, size: h.sth.head.size, root: h.sth.head.root, now: null });
  return result;
}
