/**
 * @module Retention over the API (issue 9): only an admin deletes, and only an expired, unheld recording; holds
 * are set and released by admins with reasons; every change and every refusal is in the audit log.
 */
import { join } from 'node:path';
import t from 'tap';
import { registerMediaRoutes } from '../../ingest/api/media-routes.ts';
import { registerRetentionRoutes } from '../../ingest/api/retention-routes.ts';
import type { Role } from '../../ingest/auth/roles.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { retentionRecording } from '../../ingest/db/retention-store.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { Retention } from '../../ingest/retention/retention-service.ts';
import { checkTombstone } from '../../protocol/tombstone.ts';
import { createFsStore } from '../../store/fs-store.ts';
import {
  addTestUser,
  buildTestApi,
  errorCode,
  type SessionHeaders,
  signIn,
  type TestUser,
} from '../helpers/auth.ts';
import { T0, testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';
import { enroll } from '../log/log-support.ts';
import { MONTH_MS, storedRecording } from './retention-support.ts';

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);
  const gw = testKey(1);
  const logKey = testKey(9);
  const store = createFsStore(join(tmp(t, 'quanlu-retention-api-'), 'objects'));
  let retention: Retention | undefined;
  // buildTestApi makes its clock and calls `extra` before it returns: read the clock lazily.
  const lazyClock = { now: () => api.clock.now() };
  const api = await buildTestApi(t, db, {
    extra: (app, access) => {
      // The media routes as the ingest wires them: a deleted recording's playlists and segments answer 410.
      registerMediaRoutes(app, {
        repo: createRepository(db),
        store,
        access,
        deletedAt: async (id) => (await retentionRecording(db.pool, id))?.deletedAt ?? null,
      });
      const log = new TransparencyLog({ db, keyPair: logKey, clock: lazyClock });
      retention = new Retention({
        db,
        store,
        keyPair: logKey,
        clock: lazyClock,
        onTombstone: () => log.sequence(),
      });
      registerRetentionRoutes(app, {
        retention,
        audit: (event, at) => api.repo.appendAudit(event, at),
        now: () => lazyClock.now(),
      });
    },
  });
  const { app, repo, clock } = api;
  await enroll(repo, gw);
  clock.advance(T0 - clock.now());
  const users = {} as Record<Role, TestUser>;
  for (const role of ['admin', 'supervisor', 'auditor', 'operator'] as const)
    users[role] = await addTestUser(repo, role, role === 'operator' ? ['interview-room-1'] : []);
  // Sessions expire as the test clock jumps months: each request signs in afresh.
  const as = (role: Role): Promise<SessionHeaders> => signIn(app, users[role]);
  const rec = await storedRecording(repo, store, gw, {
    caseId: 'API-1',
    matter: 'inquiry',
    room: 'interview-room-1',
  });
  const del = async (role: Role, id = rec.id) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/recordings/${id}/retention/delete`,
      headers: await as(role),
      payload: { reason: 'retention period over' },
    });
  const lastAudit = async () => (await repo.searchAudit({ limit: 1, offset: 0 })).items[0]!;

  t.test('other roles are refused with 403 and the refusal is audited', async (t) => {
    clock.advance(7 * MONTH_MS);
    for (const role of ['supervisor', 'auditor', 'operator'] as const) {
      const res = await del(role);
      t.equal(res.statusCode, 403, role);
      t.equal(errorCode(res), 'INGEST_FORBIDDEN');
      const a = await lastAudit();
      t.same([a.action, a.role], ['access-refused', role], 'audited');
      const hold = await app.inject({
        method: 'POST',
        url: '/api/v1/retention/holds',
        headers: await as(role),
        payload: { scope: 'recording', target: rec.id, reason: 'not mine to hold' },
      });
      t.equal(hold.statusCode, 403, `${role} places no hold`);
    }
    for (const o of rec.objects) t.ok(await store.head(o), 'objects intact');
    clock.advance(-7 * MONTH_MS);
  });

  t.test(
    'an admin: unexpired refused, held refused, then deleted with a tombstone; all audited',
    async (t) => {
      let res = await del('admin');
      t.same([res.statusCode, errorCode(res)], [409, 'INGEST_RETENTION_UNEXPIRED'], 'unexpired');
      let a = await lastAudit();
      t.same([a.action, a.recording, a.user?.startsWith('admin')], ['retention-refused', rec.id, true]);
      t.match(a.detail, /INGEST_RETENTION_UNEXPIRED/);

      res = await app.inject({
        method: 'POST',
        url: '/api/v1/retention/holds',
        headers: await as('admin'),
        payload: { scope: 'case', target: 'API-1', reason: 'appeal lodged' },
      });
      t.equal(res.statusCode, 201);
      const holdId = res.json().hold.id as number;
      a = await lastAudit();
      t.same([a.action, a.reason], ['legal-hold', 'appeal lodged']);

      clock.advance(7 * MONTH_MS);
      const status = await app.inject({
        url: `/api/v1/recordings/${rec.id}/retention`,
        headers: await as('auditor'),
      });
      t.same(
        [status.json().expired, status.json().deletable, status.json().holds.length],
        [true, false, 1],
        'expired but held',
      );
      res = await del('admin');
      t.same([res.statusCode, errorCode(res)], [409, 'INGEST_RETENTION_HELD'], 'held');
      t.equal((await lastAudit()).action, 'retention-refused');

      res = await app.inject({
        method: 'POST',
        url: `/api/v1/retention/holds/${holdId}/release`,
        headers: await as('admin'),
        payload: { reason: 'appeal decided' },
      });
      t.equal(res.statusCode, 200);
      t.equal((await lastAudit()).action, 'legal-hold-release');

      const expired = await app.inject({ url: '/api/v1/retention/expired', headers: await as('auditor') });
      t.same(
        expired.json().recordings.map((r: { recording: string }) => r.recording),
        [rec.id],
        'listed as expired',
      );

      const playlistUrl = `/api/v1/recordings/${rec.id}/tracks/cam-1/playlist.m3u8`;
      const segmentUrl = `/api/v1/recordings/${rec.id}/tracks/cam-1/segments/1.ts`;
      res = await app.inject({ url: playlistUrl, headers: await as('supervisor') });
      t.equal(res.statusCode, 200, 'its playlist plays before the deletion');
      res = await app.inject({ url: segmentUrl, headers: await as('supervisor') });
      t.equal(res.statusCode, 200, 'and its segments');

      res = await del('admin');
      t.equal(res.statusCode, 200, 'deleted');
      const checked = checkTombstone(res.json().tombstone, logKey.publicKey);
      t.ok('tombstone' in checked, 'the tombstone verifies under the log key');
      a = await lastAudit();
      t.same([a.action, a.recording], ['retention-delete', rec.id]);
      t.match(a.detail, res.json().tombstone.hash);
      for (const o of rec.objects) t.equal(await store.head(o), null, 'object gone');
      for (const url of [playlistUrl, segmentUrl]) {
        const gone = await app.inject({ url, headers: await as('supervisor') });
        t.same(
          [gone.statusCode, errorCode(gone)],
          [410, 'INGEST_RETENTION_DELETED'],
          `${url}: 410 after deletion`,
        );
        t.match(gone.json().error.message, /deleted at the end of its retention/);
      }

      res = await del('admin');
      t.same([res.statusCode, errorCode(res)], [410, 'INGEST_RETENTION_DELETED'], 'deleted once');
      const view = await app.inject({
        url: `/api/v1/recordings/${rec.id}/retention`,
        headers: await as('supervisor'),
      });
      t.equal(
        view.json().tombstone.hash,
        checked && 'hash' in checked ? checked.hash : null,
        'status shows it',
      );
    },
  );

  t.test('retention rules: admins set them (audited), others may not', async (t) => {
    const body = { scope: 'matter', target: 'inquiry', class: 'long', evidence: false, reason: 'case files' };
    let res = await app.inject({
      method: 'PUT',
      url: '/api/v1/retention/rules',
      headers: await as('supervisor'),
      payload: body,
    });
    t.equal(res.statusCode, 403);
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/retention/rules',
      headers: await as('admin'),
      payload: body,
    });
    t.equal(res.statusCode, 200);
    t.equal((await lastAudit()).action, 'retention-set');
    res = await app.inject({
      method: 'PUT',
      url: '/api/v1/retention/rules',
      headers: await as('admin'),
      payload: { ...body, class: 'forever' },
    });
    t.same([res.statusCode, errorCode(res)], [400, 'INGEST_BAD_REQUEST'], 'unknown class refused');
    res = await app.inject({ url: '/api/v1/retention/rules', headers: await as('auditor') });
    t.same(
      res.json().rules.map((r: { target: string; class: string }) => [r.target, r.class]),
      [['inquiry', 'long']],
    );
  });
  t.ok(retention, 'wired');
});
