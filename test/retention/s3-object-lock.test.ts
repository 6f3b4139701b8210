/**
 * @module S3 Object Lock follows retention (issue 9). s3rver has no object lock: a middleware records what the
 * ingest sends (PutObjectRetention, PutObjectLegalHold, DELETE) and answers the lock requests as MinIO would.
 * What is tested is the requests; that MinIO then refuses an early delete is MinIO's part (see EVIDENCE §22.4).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { type Actor, Retention } from '../../ingest/retention/retention-service.ts';
import { objectKey } from '../../protocol/object-key.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { manualClock } from '../helpers/auth.ts';
import { T0, testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';
import { type S3Middleware, startS3Server } from '../helpers/s3-server.ts';
import { enroll } from '../log/log-support.ts';
import { MONTH_MS, storedRecording } from './retention-support.ts';

const ADMIN: Actor = { username: 'root-admin', role: 'admin' };

/** One lock request as the service received it. */
interface LockRequest {
  what: 'retention' | 'legal-hold';
  key: string;
  md5: string | undefined;
  body: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

withDatabases(t, async (t, backend) => {
  const locks: LockRequest[] = [];
  const deletes: string[] = [];
  const lockPlayer: S3Middleware = async (ctx, next) => {
    const what = 'retention' in ctx.query ? 'retention' : 'legal-hold' in ctx.query ? 'legal-hold' : null;
    if (ctx.method === 'PUT' && what) {
      const body = await readBody((ctx as unknown as { req: IncomingMessage }).req);
      const md5 = ctx.headers['content-md5'];
      locks.push({ what, key: ctx.path.split('/').slice(2).join('/'), md5: md5 as string | undefined, body });
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    if (ctx.method === 'DELETE') deletes.push(ctx.path.split('/').slice(2).join('/'));
    return next();
  };
  const server = await startS3Server({ middleware: [lockPlayer] });
  t.teardown(() => server.close());
  const store = createS3Store({ ...server });

  const { db } = await backend.open(t);
  await migrate(db);
  const repo = createRepository(db);
  const gw = testKey(1);
  const logKey = testKey(9);
  await enroll(repo, gw);
  const clock = manualClock(T0);
  const log = new TransparencyLog({ db, keyPair: logKey, clock });
  const retention = new Retention({ db, store, keyPair: logKey, clock, onTombstone: () => log.sequence() });
  const rec = await storedRecording(repo, store, gw, {
    caseId: 'S3-1',
    matter: 'inquiry',
    room: 'interview-room-1',
  });
  const hearing = await storedRecording(repo, store, gw, {
    caseId: 'S3-2',
    matter: 'penalty-hearing',
    room: 'hearing-room-1',
  });
  const keysOf = (objects: string[]) => objects.map(objectKey).sort();
  const take = () => locks.splice(0);
  const bodies = (reqs: LockRequest[], what: LockRequest['what']) => [
    ...new Set(reqs.filter((r) => r.what === what).map((r) => r.body)),
  ];

  t.test(
    'the lock sweep sets ended recordings once, and again those a case hold covers (observed)',
    async (t) => {
      t.equal(await retention.lockSweep(), 2, 'both ended recordings');
      t.same(
        [...new Set(take().map((r) => r.key))].sort(),
        keysOf([...rec.objects, ...hearing.objects]),
        'every object locked',
      );
      t.equal(await retention.lockSweep(), 0, 'nothing stale: nothing sent');
      t.same(take(), []);
      const hold = await retention.hold({ scope: 'case', target: 'S3-1', reason: 'court order' }, ADMIN);
      t.equal(await retention.lockSweep(), 1, 'the held case');
      const reqs = take();
      t.same([...new Set(reqs.map((r) => r.key))].sort(), keysOf(rec.objects));
      t.same(bodies(reqs, 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>',
      ]);
      await retention.release(hold.id, 'order lifted', ADMIN);
      t.equal(await retention.lockSweep(), 1);
      t.same(bodies(take(), 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>',
      ]);
    },
  );

  t.test(
    'a standard recording: COMPLIANCE until its retain-until, no legal hold (requests observed, s3rver has no object lock)',
    async (t) => {
      t.equal(await retention.syncLocks(rec.id), rec.objects.length);
      const reqs = take();
      t.same(
        [...new Set(reqs.map((r) => r.key))].sort(),
        keysOf(rec.objects),
        'every object of the recording',
      );
      const until = (await retention.status(rec.id)).retainUntil;
      t.same(bodies(reqs, 'retention'), [
        `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>${until}</RetainUntilDate></Retention>`,
      ]);
      t.same(bodies(reqs, 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>',
      ]);
      t.ok(
        reqs.every((r) => r.md5 === createHash('md5').update(r.body).digest('base64')),
        'each carries the Content-MD5 S3 requires for lock requests',
      );
    },
  );

  t.test(
    'a hearing (permanent) gets a legal hold; a hold on a recording sets it, its release clears it (observed)',
    async (t) => {
      await retention.syncLocks(hearing.id);
      t.same(bodies(take(), 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>',
      ]);
      const hold = await retention.hold({ scope: 'recording', target: rec.id, reason: 'complaint' }, ADMIN);
      t.same(bodies(take(), 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>',
      ]);
      await retention.release(hold.id, 'complaint closed', ADMIN);
      t.same(bodies(take(), 'legal-hold'), [
        '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>',
      ]);
    },
  );

  t.test('after retention, deletion removes every object from the bucket', async (t) => {
    clock.advance(7 * MONTH_MS);
    deletes.splice(0);
    const done = await retention.delete(rec.id, 'retention over', ADMIN);
    t.same([done.removed, done.pending], [rec.objects.length, 0]);
    t.same([...new Set(deletes)].sort(), keysOf(rec.objects), 'a DELETE for each object');
    for (const o of rec.objects) t.equal(await store.head(o), null, 'gone from the bucket');
    for (const o of hearing.objects) t.ok(await store.head(o), 'the hearing stays');
    t.equal(await retention.syncLocks(rec.id), 0, 'nothing left to lock');
  });
});
