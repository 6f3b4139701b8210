import t, { type Test } from 'tap';
import { auditHash } from '../../ingest/auth/audit-chain.ts';
import { appendAudit } from '../../ingest/db/audit-store.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import type { Database } from '../../ingest/db/open-database.ts';
import { run } from '../../ingest/db/rows.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { checkTreeHead } from '../../protocol/tree-head.ts';
import { testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';

const REC = '5f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';

async function audit(db: Database, n: number, offset = 0): Promise<void> {
  for (let i = 0; i < n; i++)
    await appendAudit(
      db,
      { user: `u${i}`, role: 'auditor', address: null, action: 'view-recording', recording: REC },
      new Date(Date.UTC(2026, 0, 1, 0, 0, offset + i)).toISOString(),
    );
}

/** Rewrites records from seq `from` on so each names its predecessor and hashes to its hash again. */
async function rechain(db: Database, from: number): Promise<void> {
  const rows = (
    await run(db.pool, 'read', 'SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq', [from - 1])
  ).rows;
  let prev = String(rows[0]!.hash);
  for (const r of rows.slice(1)) {
    const body = {
      seq: Number(r.seq),
      at: (r.at as Date).toISOString(),
      user: r.username as string | null,
      role: r.role as string | null,
      address: r.address as string | null,
      action: String(r.action),
      recording: r.recording as string | null,
      track: r.track as string | null,
      reason: r.reason as string | null,
      detail: r.detail as string | null,
      prev,
    };
    prev = auditHash(body);
    await run(db.pool, 'rechain', 'UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3', [
      body.prev,
      prev,
      body.seq,
    ]);
  }
}

withDatabases(t, async (t, backend) => {
  const key = testKey(9);
  async function open(t: Test) {
    const { db } = await backend.open(t);
    await migrate(db);
    return { db, log: new TransparencyLog({ db, keyPair: key }) };
  }

  t.test('a signed tree head names the audit head: null when empty, then size and last hash', async (t) => {
    const { db, log } = await open(t);
    const empty = await log.signTreeHead();
    t.equal(empty.head.audit, null, 'no audit record yet');
    await audit(db, 3);
    const signed = await log.signTreeHead();
    const last = (await run(db.pool, 'last', 'SELECT hash FROM audit_log WHERE seq = 2')).rows[0]!;
    t.same(signed.head.audit, { size: 3, hash: String(last.hash) });
    t.ok(
      'head' in checkTreeHead(JSON.parse(JSON.stringify(signed)), key.publicKey),
      'the signature covers it',
    );
    t.match(await log.checkAudit(), { ok: true, heads: 2, records: 3 });
  });

  t.test('an audit record edited in the database, chain recomputed after it, is caught', async (t) => {
    const { db, log } = await open(t);
    await audit(db, 5);
    await log.signTreeHead();
    await audit(db, 2, 10);
    await run(db.pool, 'edit', "UPDATE audit_log SET username = 'someone-else' WHERE seq = 1");
    const plain = await log.checkAudit();
    t.match(
      plain,
      { ok: false, problem: /record 1 does not hash to its hash/ },
      'an edit alone breaks the hash',
    );
    await rechain(db, 1);
    const forged = await log.checkAudit();
    t.match(forged, { ok: false, problem: /record 4 is not the record the signed head names/ });
  });

  t.test('an audit record removed from the database is caught, in the middle or at the end', async (t) => {
    const { db, log } = await open(t);
    await audit(db, 6);
    await log.signTreeHead();
    await run(db.pool, 'remove last', 'DELETE FROM audit_log WHERE seq = 5');
    t.match(await log.checkAudit(), { ok: false, problem: /ends after 5 records; a signed head names 6/ });
    await run(db.pool, 'remove middle', 'DELETE FROM audit_log WHERE seq = 2');
    t.match(await log.checkAudit(), { ok: false, problem: /record 3 where 2 was due/ });
  });
});
