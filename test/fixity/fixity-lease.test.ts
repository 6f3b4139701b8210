/**
 * @module Several ingest nodes on one PostgreSQL: one runs the fixity sweep, the others wait, and a node
 * whose session ends (closed, or killed) frees the sweep for another.
 */
import t from 'tap';
import { tryLease } from '../../ingest/db/leader-lease.ts';
import { DATABASE_BACKENDS } from '../helpers/databases.ts';

const postgres = DATABASE_BACKENDS.find((b) => b.name === 'postgres')!;
const pglite = DATABASE_BACKENDS.find((b) => b.name === 'pglite')!;

t.test('postgres: one node holds the fixity lease; the other gets it once released', async (t) => {
  const { db, peer } = await postgres.open(t);
  const other = await peer();
  const a = await tryLease(db, 'fixity');
  t.ok(a, 'the first node takes the lease');
  t.equal(await tryLease(other, 'fixity'), null, 'a second node is refused while it is held');
  t.equal(
    await tryLease(db, 'fixity'),
    null,
    'the holder itself cannot take it twice from another connection',
  );
  const unrelated = await tryLease(other, 'another-job');
  t.ok(unrelated, 'a lease of another name is independent');
  await unrelated!.release();
  await a!.release();
  const b = await tryLease(other, 'fixity');
  t.ok(b, 'after release the other node takes it');
  await b!.release();
});

t.test('postgres: a node whose database session dies frees the lease (as when it is killed)', async (t) => {
  const { peer } = await postgres.open(t);
  const first = await peer();
  const second = await peer();
  const lost: Error[] = [];
  t.ok(await tryLease(first, 'fixity', (err) => lost.push(err)), 'the first node holds it');
  t.equal(await tryLease(second, 'fixity'), null);
  // Kill the holder's backend, as PostgreSQL does when a node's connection goes away: only the backend
  // holding this schema's fixity lock (other tests' advisory locks are left alone).
  const killed = await second.pool.query(
    `SELECT pg_terminate_backend(l.pid) AS ok FROM pg_locks l,
       (SELECT hashtextextended('quanlu/lease/fixity/' || current_schema(), 0) AS k) x
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
       AND l.classid = ((x.k >> 32) & 4294967295)::oid AND l.objid = (x.k & 4294967295)::oid`,
  );
  t.equal(killed.rowCount, 1, 'exactly the holder was terminated');
  let taken = await tryLease(second, 'fixity');
  for (let i = 0; !taken && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    taken = await tryLease(second, 'fixity');
  }
  t.ok(taken, 'the second node takes over');
  await taken!.release();
  for (let i = 0; lost.length === 0 && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(lost.length, 1, 'the first node heard that its lease was lost, and did not crash');
});

t.test('pglite: one process owns the database, so the lease is always granted', async (t) => {
  const { db } = await pglite.open(t);
  const a = await tryLease(db, 'fixity');
  const b = await tryLease(db, 'fixity');
  t.ok(a && b);
  await a!.release();
  await b!.release();
});
