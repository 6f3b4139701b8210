/** @module The audit log's hash chain: appended records link and verify; an edited, removed or reordered record is caught. */
import t from 'tap';
import {
  AUDIT_GENESIS,
  type AuditRecord,
  auditHash,
  verifyAuditChain,
} from '../../ingest/auth/audit-chain.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { withDatabases } from '../helpers/databases.ts';

/** A chain of n records built as the store builds them. */
function chainOf(n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = AUDIT_GENESIS;
  for (let seq = 0; seq < n; seq++) {
    const body = {
      seq,
      at: new Date(Date.UTC(2026, 10, 27, 8, 0, seq)).toISOString(),
      user: `user-${seq % 3}`,
      role: 'supervisor',
      address: '127.0.0.1',
      action: 'view-recording',
      recording: '0b0e2f6a-1c1d-4e4f-8a8b-9c9d0e0f1a1b',
      track: null,
      reason: seq % 2 ? 'case review' : null,
      detail: null,
      prev,
    };
    const record = { ...body, hash: auditHash(body) };
    out.push(record);
    prev = record.hash;
  }
  return out;
}

t.test('an honest chain verifies, and its head is the last hash', async (t) => {
  const chain = chainOf(5);
  t.same(verifyAuditChain(chain), { ok: true, head: { size: 5, hash: chain[4]!.hash } });
  t.same(verifyAuditChain([]), { ok: true, head: { size: 0, hash: AUDIT_GENESIS } });
});

t.test('an edited field is caught at that record', async (t) => {
  const chain = chainOf(5);
  chain[2] = { ...chain[2]!, user: 'someone-else' };
  t.match(verifyAuditChain(chain), { ok: false, seq: 2, problem: 'hash' });
});

t.test('an edited record whose hash was recomputed is caught at the next record', async (t) => {
  const chain = chainOf(5);
  const { hash: _old, ...body } = { ...chain[2]!, reason: 'invented later' };
  chain[2] = { ...body, hash: auditHash(body) };
  t.match(verifyAuditChain(chain), { ok: false, seq: 3, problem: 'prev' });
});

t.test('a removed record is caught', async (t) => {
  const chain = chainOf(5);
  chain.splice(1, 1);
  t.match(verifyAuditChain(chain), { ok: false, seq: 2, problem: 'seq' });
});

t.test('swapped records are caught', async (t) => {
  const chain = chainOf(5);
  [chain[1], chain[2]] = [chain[2]!, chain[1]!];
  t.match(verifyAuditChain(chain), { ok: false, seq: 2, problem: 'seq' });
});

t.test('verification resumes from a known head', async (t) => {
  const chain = chainOf(6);
  const first = verifyAuditChain(chain.slice(0, 3));
  t.ok(first.ok);
  if (first.ok)
    t.same(verifyAuditChain(chain.slice(3), first.head), {
      ok: true,
      head: { size: 6, hash: chain[5]!.hash },
    });
  t.match(verifyAuditChain(chain.slice(3)), { ok: false, seq: 3, problem: 'seq' }, 'not from genesis');
});

withDatabases(t, async (t, backend) => {
  t.test(
    'records appended concurrently form one chain that verifies; a tampered row is caught',
    async (t) => {
      const opened = await backend.open(t);
      const { db } = opened;
      await migrate(db);
      const repo = createRepository(db);
      // A second pool over the same data, as a second ingest node has (on PGlite, the same one).
      const peer = createRepository(await opened.peer());
      const at = () => new Date().toISOString();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? repo : peer).appendAudit(
            { user: `u${i}`, role: 'auditor', address: '10.0.0.1', action: 'search', detail: `{"n":${i}}` },
            at(),
          ),
        ),
      );
      const verdict = await repo.verifyAuditLog();
      t.ok(verdict.ok, 'the chain verifies');
      const head = await repo.auditHead();
      t.equal(head.size, 20, 'twenty records, seq 0..19, none lost to a race');
      if (verdict.ok) t.same(verdict.head, head);

      const page = await repo.searchAudit({ limit: 500, offset: 0 });
      t.same(
        page.items.map((r) => r.seq),
        Array.from({ length: 20 }, (_, i) => 19 - i),
        'served newest first',
      );
      t.same(verifyAuditChain([...page.items].reverse()), verdict, 'the served records verify on their own');

      await db.pool.query("UPDATE audit_log SET reason = 'edited' WHERE seq = 7");
      t.match(await repo.verifyAuditLog(), { ok: false, seq: 7, problem: 'hash' }, 'an edited row is caught');
      await db.pool.query('UPDATE audit_log SET reason = NULL WHERE seq = 7');
      t.ok((await repo.verifyAuditLog()).ok, 'undone, it verifies again');
      await db.pool.query('DELETE FROM audit_log WHERE seq = 11');
      t.match(await repo.verifyAuditLog(), { ok: false, seq: 12, problem: 'seq' }, 'a deleted row is caught');
    },
  );

  t.test('verification pages through a long log', async (t) => {
    const { db } = await backend.open(t);
    await migrate(db);
    const repo = createRepository(db);
    for (let i = 0; i < 25; i++)
      await repo.appendAudit(
        { user: 'a', role: 'admin', address: null, action: 'user-add' },
        new Date().toISOString(),
      );
    const { verifyAuditLog } = await import('../../ingest/db/audit-store.ts');
    t.match(await verifyAuditLog(db.pool, 7), { ok: true, head: { size: 25 } }, 'pages of 7');
    await db.pool.query("UPDATE audit_log SET detail = 'x' WHERE seq = 15");
    t.match(await verifyAuditLog(db.pool, 7), { ok: false, seq: 15 }, 'a tampered record in the third page');
  });
});
