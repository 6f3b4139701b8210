import t, { type Test } from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import type { IngestError } from '../../ingest/errors.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { appendLeaves, consistencyPath, inclusionPath, rangeHash } from '../../ingest/log/tree-math.ts';
import { sha256 } from '../../protocol/hash.ts';
import { consistencyProof, inclusionProof, leafHash, rootFromLeafHashes } from '../../protocol/merkle.ts';
import {
  checkTreeHead,
  consistencyProblem,
  inclusionProblem,
  type SignedTreeHead,
} from '../../protocol/tree-head.ts';
import { testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';
import { enroll, honestChain, indexInBatches } from './log-support.ts';

const REC = '5f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';

t.test(
  'stored-node roots and proofs equal the in-memory RFC 9162 reference for every size up to 70',
  async (t) => {
    const leaves: Buffer[] = [];
    const nodes = new Map<string, Buffer>();
    const read = (level: number, index: number) => nodes.get(`${level}:${index}`)!;
    for (let n = 1; n <= 70; n++) {
      const leaf = leafHash(sha256(Buffer.from(`leaf ${n}`)));
      appendLeaves(n - 1, [leaf], nodes);
      leaves.push(leaf);
      t.same(rangeHash(0, n, read), rootFromLeafHashes(leaves), `root of ${n}`);
      for (let m = 0; m < n; m++) t.same(inclusionPath(m, n, read), inclusionProof(m, leaves));
      for (let m = 1; m <= n; m++) t.same(consistencyPath(m, n, read), consistencyProof(m, leaves));
    }
    t.same(rangeHash(0, 0, read), sha256(), 'the empty tree is SHA-256 of nothing');
  },
);

withDatabases(t, async (t, backend) => {
  const gw = testKey(1);
  const logKey = testKey(9);

  async function openLog(t: Test) {
    const { db } = await backend.open(t);
    await migrate(db);
    const repo = createRepository(db);
    await enroll(repo, gw);
    return { db, repo, log: new TransparencyLog({ db, keyPair: logKey }) };
  }

  t.test(
    'every entry is a leaf in acceptance order; each head signed; every pair of heads is consistent',
    async (t) => {
      const { db, repo, log } = await openLog(t);
      const chains = [honestChain(REC, 'cam-1', gw, 9), honestChain(REC, 'cam-2', gw, 7)];
      const order = await indexInBatches(repo, chains, 4);
      const heads: SignedTreeHead[] = [];
      // Heads taken while the log grows: sequence a little, sign, repeat.
      const total = order.length;
      heads.push(await log.signTreeHead());
      t.equal(heads.at(-1)!.head.size, total, 'every accepted entry is logged');
      const byLeaf = await db.pool.query<{ hash: string }>('SELECT hash FROM entries ORDER BY leaf_index');
      const byAcceptance = await db.pool.query<{ hash: string }>(
        'SELECT hash FROM entries ORDER BY log_index',
      );
      t.same(byLeaf.rows, byAcceptance.rows, 'leaf order is acceptance order');
      for (const h of heads)
        t.ok('head' in checkTreeHead(h, logKey.publicKey), 'the head verifies under the log key');
      const latest = heads.at(-1)!.head;
      for (const hash of order) {
        const proof = await log.inclusion(hash);
        t.equal(inclusionProblem(proof, latest), null);
      }
      t.equal(await log.sequence(), 0, 'nothing left to sequence');
    },
  );

  t.test(
    'heads taken while entries keep arriving: consistency proofs between every pair verify',
    async (t) => {
      const { repo, log } = await openLog(t);
      const chains = [honestChain(REC, 'cam-1', gw, 12), honestChain(REC, 'cam-2', gw, 12)];
      const all = chains.flatMap((c) => c.signed);
      const heads: SignedTreeHead[] = [];
      const { indexed } = await import('./log-support.ts');
      for (let i = 0; i < chains[0]!.signed.length; i += 3) {
        const part = chains.flatMap((c) => c.signed.slice(i, i + 3));
        await repo.indexBatch(part.map(indexed));
        heads.push(await log.signTreeHead());
      }
      t.equal(heads.at(-1)!.head.size, all.length);
      let pairs = 0;
      for (const a of heads)
        for (const b of heads) {
          if (a.head.size < 1 || a.head.size > b.head.size) continue;
          const proof = await log.consistency(a.head.size, b.head.size);
          t.equal(consistencyProblem(proof, a.head, b.head), null, `${a.head.size} → ${b.head.size}`);
          pairs++;
        }
      t.ok(pairs >= heads.length * 2, `${pairs} pairs checked`);
      const wrong = await log.consistency(heads[1]!.head.size, heads[3]!.head.size);
      t.not(
        consistencyProblem(wrong, heads[0]!.head, heads[3]!.head),
        null,
        'a proof for other sizes is refused',
      );
    },
  );

  t.test('the node cache, lost, is rebuilt from the leaves: same roots, same proofs', async (t) => {
    const { db, repo, log } = await openLog(t);
    const chains = [honestChain(REC, 'cam-1', gw, 10), honestChain(REC, 'cam-2', gw, 5)];
    const order = await indexInBatches(repo, chains, 5);
    const head = await log.signTreeHead();
    const before = await log.inclusion(order[7]!);
    await db.pool.query('DELETE FROM log_nodes');
    const fresh = new TransparencyLog({ db, keyPair: logKey });
    const after = await fresh.inclusion(order[7]!);
    t.same(after, before, 'the proof is the same after the cache was rebuilt');
    t.same((await fresh.root(head.head.size)).toString('hex'), head.head.root);
    const nodes = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM log_nodes');
    t.ok(Number(nodes.rows[0]!.n) >= order.length, 'the nodes are stored again');
    t.same(await fresh.check(), { size: order.length, hole: null, rewritten: [] }, 'the log checks clean');
  });

  t.test('a rewritten log (an entry deleted in the database) is caught', async (t) => {
    const { db, repo, log } = await openLog(t);
    const chains = [honestChain(REC, 'cam-1', gw, 8)];
    const order = await indexInBatches(repo, chains, 3);
    const published = await log.signTreeHead();
    const victim = order[4]!;
    await db.pool.query('DELETE FROM entries WHERE hash = $1', [victim]);
    const holed = await log.check();
    t.equal(holed.hole, 4, 'the missing leaf is found');
    const refused = await log.rebuildNodes().catch((e: unknown) => e);
    t.equal((refused as IngestError).code, 'INGEST_LOG_CORRUPT', 'a hole is not mistaken for a lost cache');

    // A forger closes the hole, rebuilds the nodes and signs a new head.
    await db.pool.query('UPDATE entries SET leaf_index = leaf_index - 1 WHERE leaf_index > 4');
    await log.rebuildNodes();
    const rewritten = await log.signTreeHead();
    t.equal(rewritten.head.size, published.head.size - 1);
    const found = await log.check();
    t.same(
      found.rewritten.map((r) => r.size),
      [published.head.size],
      'the published head no longer matches the leaves',
    );
    // An auditor holding the published head asks for a proof to a later head: it cannot verify.
    const more = [honestChain(REC, 'cam-9', gw, 3)];
    await indexInBatches(repo, more, 10);
    const later = await log.signTreeHead();
    const proof = await log.consistency(published.head.size, later.head.size);
    t.not(
      consistencyProblem(proof, published.head, later.head),
      null,
      'no consistency with the published head',
    );
    const gone = await log.inclusion(victim).catch((e: unknown) => e);
    t.equal((gone as IngestError).code, 'INGEST_LOG_NOT_LOGGED');
  });

  t.test('proofs for sizes outside the log are refused with a code', async (t) => {
    const { repo, log } = await openLog(t);
    await indexInBatches(repo, [honestChain(REC, 'cam-1', gw, 2)], 10);
    const head = await log.signTreeHead();
    for (const [a, b] of [
      [0, head.head.size],
      [2, 1],
      [1, head.head.size + 1],
    ] as const) {
      const err = await log.consistency(a, b).catch((e: unknown) => e);
      t.equal((err as IngestError).code, 'INGEST_LOG_RANGE', `${a} → ${b}`);
    }
  });
});
