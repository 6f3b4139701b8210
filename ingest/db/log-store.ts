/** @module The transparency log's SQL: leaf order on entries and tombstones, stored subtree nodes, signed tree heads. */
import type { SignedTreeHead } from '../../protocol/tree-head.ts';
import { type Queryable, run } from './rows.ts';

/** A stored node. */
export interface StoredNode {
  level: number;
  index: number;
  hash: Buffer;
}

/** A stored signed tree head, with its row id. */
export interface StoredTreeHead {
  id: number;
  sth: SignedTreeHead;
}

/**
 * Takes the sequencer lock for the current transaction: the advisory lock every sequencer holds while it
 * appends, so two ingest nodes never interleave. One per schema (as the audit log's), so deployments or
 * tests sharing a database never wait on each other's log.
 */
export async function lockSequencer(tx: Queryable): Promise<void> {
  await run(
    tx,
    'lock the log sequencer',
    "SELECT pg_advisory_xact_lock(hashtextextended('quanlu/log/' || current_schema(), 0))",
  );
}

/**
 * Every leaf of the log: accepted entries and tombstones [EVIDENCE §22.3], which share one acceptance
 * sequence (log_index) and one leaf numbering.
 */
const LEAVES = `(SELECT hash, log_index, leaf_index FROM entries
   UNION ALL SELECT hash, log_index, leaf_index FROM tombstones)`;

/** The number of leaves in the log: one past the highest leaf index. */
export async function logSize(db: Queryable): Promise<number> {
  const res = await run<{ n: string }>(
    db,
    'read the log size',
    `SELECT (greatest(coalesce((SELECT max(leaf_index) FROM entries), -1),
                      coalesce((SELECT max(leaf_index) FROM tombstones), -1)) + 1)::text AS n`,
  );
  return Number(res.rows[0]!.n);
}

/** Accepted entries (and tombstones) not yet in the log, in acceptance order. */
export async function unloggedEntries(db: Queryable, limit: number): Promise<string[]> {
  const res = await run<{ hash: string }>(
    db,
    'read entries not yet logged',
    `SELECT hash FROM (
       (SELECT hash, log_index FROM entries WHERE leaf_index IS NULL ORDER BY log_index LIMIT $1)
       UNION ALL
       (SELECT hash, log_index FROM tombstones WHERE leaf_index IS NULL ORDER BY log_index LIMIT $1)
     ) AS u ORDER BY log_index LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => r.hash);
}

/** Gives `hashes` the leaf indexes first, first + 1, … */
export async function assignLeaves(tx: Queryable, first: number, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  await run(
    tx,
    'assign leaf indexes',
    `UPDATE entries SET leaf_index = $2::bigint + v.o - 1
       FROM unnest($1::text[]) WITH ORDINALITY AS v(h, o)
      WHERE entries.hash = v.h`,
    [hashes, first],
  );
  await run(
    tx,
    'assign leaf indexes to tombstones',
    `UPDATE tombstones SET leaf_index = $2::bigint + v.o - 1
       FROM unnest($1::text[]) WITH ORDINALITY AS v(h, o)
      WHERE tombstones.hash = v.h`,
    [hashes, first],
  );
}

/** Stores nodes (an existing node is left as it is: nodes never change). */
export async function insertNodes(tx: Queryable, nodes: readonly StoredNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += 5000) {
    const part = nodes.slice(i, i + 5000);
    await run(
      tx,
      'store log nodes',
      `INSERT INTO log_nodes (level, idx, hash)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::text[])
       ON CONFLICT (level, idx) DO NOTHING`,
      [part.map((n) => n.level), part.map((n) => n.index), part.map((n) => n.hash.toString('hex'))],
    );
  }
}

/** Reads the named nodes; absent ones are simply not in the result. */
export async function readNodes(
  db: Queryable,
  ids: ReadonlyArray<{ level: number; index: number }>,
): Promise<StoredNode[]> {
  if (ids.length === 0) return [];
  const res = await run<{ level: number; idx: string; hash: string }>(
    db,
    'read log nodes',
    `SELECT n.level, n.idx::text AS idx, n.hash FROM log_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx`,
    [ids.map((n) => n.level), ids.map((n) => n.index)],
  );
  return res.rows.map((r) => ({ level: r.level, index: Number(r.idx), hash: Buffer.from(r.hash, 'hex') }));
}

/** The leaf index of an entry, or null when it is not (yet) logged or unknown. */
export async function leafIndexOf(db: Queryable, hash: string): Promise<number | null> {
  const res = await run<{ i: string | null }>(
    db,
    'read a leaf index',
    `SELECT leaf_index::text AS i FROM ${LEAVES} AS l WHERE hash = $1`,
    [hash],
  );
  const i = res.rows[0]?.i;
  return i === undefined || i === null ? null : Number(i);
}

/** Leaf indexes of many entries (absent or unlogged entries are left out). */
export async function leafIndexes(db: Queryable, hashes: readonly string[]): Promise<Map<string, number>> {
  const res = await run<{ hash: string; i: string }>(
    db,
    'read leaf indexes',
    `SELECT hash, leaf_index::text AS i FROM ${LEAVES} AS l
      WHERE hash = ANY($1::text[]) AND leaf_index IS NOT NULL`,
    [hashes],
  );
  return new Map(res.rows.map((r) => [r.hash, Number(r.i)]));
}

/** A page of the log's leaves in leaf order: entry hashes with their indexes. */
export async function leafPage(
  db: Queryable,
  fromIndex: number,
  limit: number,
): Promise<{ index: number; hash: string }[]> {
  const res = await run<{ i: string; hash: string }>(
    db,
    'read log leaves',
    `SELECT leaf_index::text AS i, hash FROM (
       (SELECT leaf_index, hash FROM entries WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2)
       UNION ALL
       (SELECT leaf_index, hash FROM tombstones WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2)
     ) AS u ORDER BY leaf_index LIMIT $2`,
    [fromIndex, limit],
  );
  return res.rows.map((r) => ({ index: Number(r.i), hash: r.hash }));
}

/** Drops every cached node (they are rebuilt from the leaves). */
export async function clearNodes(tx: Queryable): Promise<void> {
  await run(tx, 'drop log nodes', 'DELETE FROM log_nodes');
}

/** Stores a signed tree head. */
export async function saveTreeHead(db: Queryable, sth: SignedTreeHead, headText: string): Promise<number> {
  const res = await run<{ id: string }>(
    db,
    'store a tree head',
    `INSERT INTO log_tree_heads (tree_size, root, signed_at, key, head_text, hash, sig)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id`,
    [sth.head.size, sth.head.root, sth.head.timestamp, sth.head.key, headText, sth.hash, sth.sig],
  );
  return Number(res.rows[0]!.id);
}

/** The most recently signed tree heads, newest first. */
export async function latestTreeHeads(db: Queryable, limit: number): Promise<StoredTreeHead[]> {
  const res = await run<{ id: string; head_text: string; hash: string; sig: string }>(
    db,
    'read tree heads',
    'SELECT id::text AS id, head_text, hash, sig FROM log_tree_heads ORDER BY id DESC LIMIT $1',
    [limit],
  );
  return res.rows.map((r) => ({
    id: Number(r.id),
    sth: { head: JSON.parse(r.head_text), hash: r.hash, sig: r.sig },
  }));
}
