/**
 * @module Two ingest nodes' transparency logs over one PostgreSQL database (issue 9, several ingest nodes):
 * sequencing takes turns through the advisory lock, and a tree head signed by one node while the other
 * signed a larger one is never stored after it (the latest head never shrinks; every pair of stored heads
 * is consistent).
 */
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import type { Database } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { checkTreeHead, consistencyProblem } from '../../protocol/tree-head.ts';
import { testKey } from '../helpers/chains.ts';
import { DATABASE_BACKENDS } from '../helpers/databases.ts';
import { enroll, honestChain, indexInBatches } from './log-support.ts';

const REC = '7a1c2d3e-4a5b-4c6d-8e7f-0123456789ab';
const postgres = DATABASE_BACKENDS.find((b) => b.name === 'postgres')!;

/**
 * The same database whose pool holds back the first read of log nodes after `arm()` until `release()`:
 * the moment a signer has read the log's size and computes its root.
 */
function gated(db: Database) {
  let armed = false;
  let entered!: () => void;
  const reached = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const pool = new Proxy(db.pool, {
    get(target, prop) {
      if (prop === 'query') {
        return async (text: unknown, values?: unknown) => {
          if (armed && typeof text === 'string' && text.includes('FROM log_nodes')) {
            armed = false;
            entered();
            await released;
          }
          return (target.query as (a: unknown, b?: unknown) => Promise<unknown>)(text, values);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {
    db: { pool, kind: db.kind, close: async () => {} } as Database,
    arm: () => {
      armed = true;
    },
    reached,
    release,
  };
}

t.test(
  'two nodes sign at once: a head over a smaller log is not stored after a larger one, and all heads are consistent',
  async (t) => {
    const { db, peer } = await postgres.open(t);
    await migrate(db);
    const repo = createRepository(db);
    const gw = testKey(1);
    const logKey = testKey(9);
    await enroll(repo, gw);
    const nodeB = new TransparencyLog({ db: await peer(), keyPair: logKey });
    const gate = gated(db);
    const nodeA = new TransparencyLog({ db: gate.db, keyPair: logKey });

    await indexInBatches(repo, [honestChain(REC, 'cam-1', gw, 6)], 3);
    const first = await nodeB.sequence();
    t.ok(first > 0, `node B sequenced the first ${first} entries`);

    // Node A reads the size and stops while it computes the root; meanwhile the log grows and B signs.
    gate.arm();
    const signingA = nodeA.signTreeHead();
    await gate.reached;
    await indexInBatches(repo, [honestChain(REC, 'cam-2', gw, 5)], 3);
    const headB = await nodeB.signTreeHead();
    t.ok(headB.head.size > first, `node B signed a head over ${headB.head.size} leaves`);
    gate.release();
    const headA = await signingA;
    t.ok(
      headA.head.size >= headB.head.size,
      `node A's head (${headA.head.size}) covers at least node B's (${headB.head.size})`,
    );

    const latest = await nodeB.latestTreeHead();
    t.same(latest, headA, "the latest stored head is node A's, whichever node is asked");
    t.same(await nodeA.latestTreeHead(), latest);
    const stored = (
      await db.pool.query<{ size: string }>('SELECT tree_size::text AS size FROM log_tree_heads ORDER BY id')
    ).rows.map((r) => Number(r.size));
    t.same(
      stored,
      [...stored].sort((a, b) => a - b),
      `stored heads in storage order never shrink: ${stored.join(', ')}`,
    );
    for (const h of [headA, headB])
      t.ok('head' in checkTreeHead(h, logKey.publicKey), 'signed by the log key');
    const proof = await nodeA.consistency(headB.head.size, headA.head.size);
    t.equal(consistencyProblem(proof, headB.head, headA.head), null, "B's head is a prefix of A's");
    const check = await nodeB.check();
    t.same(check.rewritten, [], 'every stored head is the root of the leaves as they are');
  },
);

t.test('two nodes sequence the same pending entries at once: each entry is one leaf, no gaps', async (t) => {
  const { db, peer } = await postgres.open(t);
  await migrate(db);
  const repo = createRepository(db);
  const gw = testKey(2);
  const logKey = testKey(9);
  await enroll(repo, gw, 'gw-test');
  const nodeA = new TransparencyLog({ db, keyPair: logKey });
  const nodeB = new TransparencyLog({ db: await peer(), keyPair: logKey });
  const hashes = await indexInBatches(
    repo,
    [honestChain(REC, 'cam-1', gw, 40), honestChain(REC, 'cam-2', gw, 40)],
    7,
  );
  const [a, b] = await Promise.all([nodeA.sequence(), nodeB.sequence()]);
  t.equal(a + b, hashes.length, `${a} + ${b} leaves appended, one per entry`);
  const leaves = await db.pool.query<{ n: string; distinct: string; max: string }>(
    'SELECT count(leaf_index)::text AS n, count(DISTINCT leaf_index)::text AS distinct, max(leaf_index)::text AS max FROM entries',
  );
  t.same(leaves.rows[0], {
    n: String(hashes.length),
    distinct: String(hashes.length),
    max: String(hashes.length - 1),
  });
  const [hA, hB] = await Promise.all([nodeA.signTreeHead(), nodeB.signTreeHead()]);
  t.equal(hA.head.root, hB.head.root, 'both nodes sign the same root for the same log');
  t.equal(hA.head.size, hashes.length);
  t.same((await nodeA.check()).rewritten, []);
});
