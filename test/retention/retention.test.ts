/**
 * @module Retention (issue 9): an expired, unheld recording can be deleted only by an administrator and leaves a
 * signed tombstone in the transparency log (consistency proofs across it still hold); a held, unexpired or
 * permanent (hearing, evidence) one cannot be deleted by anyone. On PGlite and PostgreSQL, local-folder store.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import type { IngestError } from '../../ingest/errors.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { type Actor, Retention } from '../../ingest/retention/retention-service.ts';
import { checkTombstone } from '../../protocol/tombstone.ts';
import {
  checkTreeHead,
  consistencyProblem,
  inclusionProblem,
  type TreeHead,
} from '../../protocol/tree-head.ts';
import { createFsStore } from '../../store/fs-store.ts';
import { manualClock } from '../helpers/auth.ts';
import { T0, testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';
import { enroll } from '../log/log-support.ts';
import { MONTH_MS, storedRecording } from './retention-support.ts';

const ADMIN: Actor = { username: 'root-admin', role: 'admin' };
const OTHERS: Actor[] = [
  { username: 'sup', role: 'supervisor' },
  { username: 'aud', role: 'auditor' },
  { username: 'op', role: 'operator' },
];
const INQUIRY = { matter: 'inquiry', room: 'interview-room-1' };

withDatabases(t, async (t, backend) => {
  const gw = testKey(1);
  const logKey = testKey(9);

  async function setUp(t: Test) {
    const { db } = await backend.open(t);
    await migrate(db);
    const repo = createRepository(db);
    await enroll(repo, gw);
    const store = createFsStore(join(tmp(t, 'quanlu-retention-'), 'objects'));
    const clock = manualClock(T0);
    const log = new TransparencyLog({ db, keyPair: logKey, clock });
    const retention = new Retention({
      db,
      store,
      keyPair: logKey,
      clock,
      onTombstone: () => log.sequence(),
    });
    return { db, repo, store, clock, log, retention };
  }

  const refusal = async (t: Test, p: Promise<unknown>, code: string, what: string) => {
    const err = await p.then(
      () => null,
      (e: IngestError) => e,
    );
    t.equal(err?.code, code, what);
  };

  t.test(
    'an expired, unheld recording: refused to every other role, deleted by an admin, tombstone logged',
    async (t) => {
      const { db, repo, store, clock, log, retention } = await setUp(t);
      const rec = await storedRecording(repo, store, gw, { caseId: 'RET-1', ...INQUIRY });
      const keep = await storedRecording(repo, store, gw, { caseId: 'RET-2', ...INQUIRY });
      const before = await log.signTreeHead();

      clock.advance(7 * MONTH_MS);
      const status = await retention.status(rec.id);
      t.equal(status.class, 'standard');
      t.equal(status.basis, 'default');
      t.ok(status.expired && status.deletable, 'expired after 6 months, and deletable');
      t.equal(status.retainUntil, '2027-05-27T01:00:06.000Z', '6 calendar months after the end');
      t.same(
        (await retention.expired()).map((s) => s.recording).sort(),
        [rec.id, keep.id].sort(),
        'both are listed as expired',
      );

      for (const who of OTHERS)
        await refusal(
          t,
          retention.delete(rec.id, 'tidy up', who),
          'INGEST_FORBIDDEN',
          `${who.role} may not delete`,
        );
      for (const o of rec.objects) t.ok(await store.head(o), 'objects still there after the refusals');

      const done = await retention.delete(rec.id, 'retention period over', ADMIN);
      t.equal(done.removed, rec.objects.length, 'every object removed');
      t.equal(done.pending, 0);
      for (const o of rec.objects)
        t.equal(await store.head(o), null, `object ${o.slice(0, 8)} gone from the store`);
      for (const o of keep.objects) t.ok(await store.head(o), 'the other recording keeps its objects');
      const objectRows = await db.pool.query(
        'SELECT count(*)::int AS n FROM objects WHERE sha256 = ANY($1)',
        [rec.objects],
      );
      t.equal(objectRows.rows[0].n, 0, 'their index rows dropped');

      const checked = checkTombstone(done.tombstone, logKey.publicKey);
      if (!('tombstone' in checked)) throw new Error(checked.problem);
      const tomb = checked.tombstone;
      t.equal(tomb.recording, rec.id);
      t.equal(tomb.deletedBy, 'root-admin');
      t.equal(tomb.reason, 'retention period over');
      t.same(tomb.retention, { class: 'standard', basis: 'default', retainUntil: status.retainUntil });
      t.same(
        tomb.tracks.map((x) => [x.track, x.entries, x.head]),
        rec.chains.map((c) => [c.spec.track, c.signed.length, c.signed.at(-1)!.hash]),
        'names each chain head and its entry count',
      );
      t.equal(tomb.objects.count, rec.objects.length);
      const forged = structuredClone(done.tombstone);
      forged.tombstone.reason = 'something else';
      t.ok('problem' in checkTombstone(forged, logKey.publicKey), 'an edited tombstone does not verify');
      t.ok('problem' in checkTombstone(done.tombstone, testKey(3).publicKey), 'nor under another key');

      const after = await log.signTreeHead();
      t.equal(after.head.size, before.head.size + 1, 'the tombstone is one more leaf');
      const heads = [before, after].map((h) => {
        const c = checkTreeHead(h, logKey.publicKey);
        if (!('head' in c)) throw new Error(c.problem);
        return c.head as TreeHead;
      });
      t.equal(
        inclusionProblem(await log.inclusion(done.tombstone.hash), heads[1]!),
        null,
        'tombstone included',
      );
      t.equal(
        consistencyProblem(await log.consistency(heads[0]!.size, heads[1]!.size), heads[0]!, heads[1]!),
        null,
        'the log with the tombstone extends the log before it',
      );
      for (const c of rec.chains)
        t.equal(
          inclusionProblem(await log.inclusion(c.signed[0]!.hash), heads[1]!),
          null,
          'its entries stay leaves',
        );
      const check = await log.check();
      t.same([check.hole, check.rewritten], [null, []], 'every signed head still recomputes from the leaves');
      t.equal(await log.rebuildNodes(), after.head.size, 'nodes rebuild over entries and tombstones');

      const view = await retention.status(rec.id);
      t.ok(view.deletedAt, 'status says deleted');
      t.same(view.tombstone, done.tombstone, 'and shows the tombstone');
      await refusal(
        t,
        retention.delete(rec.id, 'again', ADMIN),
        'INGEST_RETENTION_DELETED',
        'deleted once only',
      );
      t.same(
        (await retention.expired()).map((s) => s.recording),
        [keep.id],
        'a deleted recording is no longer listed',
      );
    },
  );

  t.test('a held recording cannot be deleted by anyone, until the hold is released', async (t) => {
    const { repo, store, clock, retention } = await setUp(t);
    const rec = await storedRecording(repo, store, gw, { caseId: 'HOLD-1', ...INQUIRY });
    const byCase = await storedRecording(repo, store, gw, { caseId: 'HOLD-2', ...INQUIRY });
    const hold = await retention.hold(
      { scope: 'recording', target: rec.id, reason: 'complaint pending' },
      ADMIN,
    );
    const caseHold = await retention.hold({ scope: 'case', target: 'HOLD-2', reason: 'court order' }, ADMIN);
    clock.advance(7 * MONTH_MS);
    for (const who of [ADMIN, ...OTHERS])
      for (const id of [rec.id, byCase.id])
        await refusal(
          t,
          retention.delete(id, 'tidy up', who),
          who.role === 'admin' ? 'INGEST_RETENTION_HELD' : 'INGEST_FORBIDDEN',
          `${who.role} cannot delete a held recording`,
        );
    t.ok((await retention.status(rec.id)).expired, 'expired, yet held');
    t.equal((await retention.status(rec.id)).deletable, false);
    for (const o of [...rec.objects, ...byCase.objects]) t.ok(await store.head(o), 'objects kept');
    await refusal(
      t,
      retention.hold({ scope: 'case', target: 'NO-SUCH', reason: 'x y z' }, ADMIN),
      'INGEST_NOT_FOUND',
      'a hold names something that exists',
    );

    await retention.release(hold.id, 'complaint closed', ADMIN);
    await retention.release(caseHold.id, 'order lifted', ADMIN);
    await refusal(
      t,
      retention.release(hold.id, 'again', ADMIN),
      'INGEST_NOT_FOUND',
      'a hold is released once',
    );
    t.ok((await retention.delete(rec.id, 'retention over', ADMIN)).tombstone, 'deletable once released');
    t.ok((await retention.delete(byCase.id, 'retention over', ADMIN)).tombstone, 'case hold released too');
  });

  t.test('an unexpired recording cannot be deleted by anyone', async (t) => {
    const { repo, store, clock, retention } = await setUp(t);
    const rec = await storedRecording(repo, store, gw, { caseId: 'YOUNG-1', ...INQUIRY });
    clock.advance(5 * MONTH_MS);
    for (const who of [ADMIN, ...OTHERS])
      await refusal(
        t,
        retention.delete(rec.id, 'too early', who),
        who.role === 'admin' ? 'INGEST_RETENTION_UNEXPIRED' : 'INGEST_FORBIDDEN',
        `${who.role} cannot delete within 6 months`,
      );
    await retention.setRule(
      {
        scope: 'matter',
        target: 'inquiry',
        class: 'long',
        evidence: false,
        reason: 'kept with the case file',
      },
      ADMIN,
    );
    clock.advance(12 * MONTH_MS);
    const status = await retention.status(rec.id);
    t.same(
      [status.class, status.basis, status.expired],
      ['long', 'matter inquiry', false],
      'matter class: 10 years',
    );
    await refusal(
      t,
      retention.delete(rec.id, 'too early', ADMIN),
      'INGEST_RETENTION_UNEXPIRED',
      'long class unexpired',
    );
    await retention.setRule(
      {
        scope: 'case',
        target: 'YOUNG-1',
        class: 'standard',
        evidence: false,
        reason: 'case closed, no appeal',
      },
      ADMIN,
    );
    t.same((await retention.status(rec.id)).basis, 'case YOUNG-1', 'the case overrides its matter');
    t.ok((await retention.delete(rec.id, 'retention over', ADMIN)).tombstone);
    for (const o of rec.objects) t.equal(await store.head(o), null);
  });

  t.test('hearings and footage used as evidence are permanent: never deletable', async (t) => {
    const { repo, store, clock, retention } = await setUp(t);
    const hearing = await storedRecording(repo, store, gw, {
      caseId: 'PERM-1',
      matter: 'penalty-hearing',
      room: 'hearing-room-1',
    });
    const evidence = await storedRecording(repo, store, gw, { caseId: 'PERM-2', ...INQUIRY });
    const evidenceRec = await storedRecording(repo, store, gw, { caseId: 'PERM-3', ...INQUIRY });
    await retention.setRule(
      { scope: 'case', target: 'PERM-2', class: null, evidence: true, reason: 'used as evidence in court' },
      ADMIN,
    );
    await retention.setRule(
      { scope: 'recording', target: evidenceRec.id, class: 'standard', evidence: true, reason: 'exhibit 3' },
      ADMIN,
    );
    clock.advance(50 * 12 * MONTH_MS);
    const cases = [
      [hearing.id, 'hearing'],
      [evidence.id, 'evidence (case PERM-2)'],
      [evidenceRec.id, 'evidence (recording)'],
    ] as const;
    for (const [id, basis] of cases) {
      const s = await retention.status(id);
      t.same([s.class, s.basis, s.retainUntil, s.expired], ['permanent', basis, null, false], basis);
      for (const who of [ADMIN, ...OTHERS])
        await refusal(
          t,
          retention.delete(id, 'fifty years on', who),
          who.role === 'admin' ? 'INGEST_RETENTION_PERMANENT' : 'INGEST_FORBIDDEN',
          `${who.role} cannot delete a ${basis} recording`,
        );
    }
    t.same(await retention.expired(), [], 'nothing permanent is ever listed as expired');
  });

  t.test('an object another recording still uses is kept, and counted as kept', async (t) => {
    const { repo, store, clock, retention } = await setUp(t);
    const a = await storedRecording(repo, store, gw, { caseId: 'SHARE-1', ...INQUIRY, tag: 'same bytes' });
    const b = await storedRecording(repo, store, gw, { caseId: 'SHARE-2', ...INQUIRY, tag: 'same bytes' });
    await retention.hold({ scope: 'recording', target: b.id, reason: 'still needed' }, ADMIN);
    clock.advance(7 * MONTH_MS);
    const done = await retention.delete(a.id, 'retention over', ADMIN);
    t.same([done.removed, done.tombstone.tombstone.objects.kept], [0, a.objects.length]);
    for (const o of b.objects) t.ok(await store.head(o), 'the held recording keeps its (shared) objects');
  });
});
