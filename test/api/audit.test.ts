/** @module Audited access over the real API and media routes: reasons for access, audit records of views, and browsing the log. */
import t from 'tap';
import { registerMediaRoutes } from '../../ingest/api/media-routes.ts';
import { VIEW_AUDIT_WINDOW_MS } from '../../ingest/auth/access.ts';
import { createFsStore } from '../../store/fs-store.ts';
import {
  addTestUser,
  buildTestApi,
  countRows,
  errorCode,
  indexRecording,
  signIn,
  type TestApi,
} from '../helpers/auth.ts';
import { withDatabases } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);
  const store = createFsStore(tmp(t, 'quanlu-audit-objects-'));
  const build = (reasonRequired: boolean): Promise<TestApi> =>
    buildTestApi(t, db, {
      access: { reasonRequired },
      extra: (app, access) => registerMediaRoutes(app, { repo: api0.repo, store, access }),
    });
  // The repository is the same for every app over this database; the first app provides it.
  const api0 = await buildTestApi(t, db);

  t.test(
    'with reasons required, playback waits for a reason given in this session, and the view records it',
    async (t) => {
      const { app, repo } = await build(true);
      const user = await addTestUser(repo, 'supervisor');
      const session = await signIn(app, user);
      const recording = await indexRecording(repo, 'room-r', 'AUDIT-R');
      const playlist = `/api/v1/recordings/${recording}/tracks/cam-1/playlist.m3u8`;

      const me = await app.inject({ url: '/api/v1/session', headers: session });
      t.equal(me.json().reasonRequired, true, 'the console learns that a reason is required');
      const before = await repo.auditHead();
      const refused = await app.inject({ url: playlist, headers: session });
      t.equal(refused.statusCode, 403);
      t.equal(errorCode(refused), 'INGEST_REASON_REQUIRED');
      t.same(await repo.auditHead(), before, 'a refused playlist writes nothing');

      const empty = await app.inject({
        method: 'POST',
        url: `/api/v1/recordings/${recording}/access`,
        headers: session,
        payload: { reason: '   ' },
      });
      t.equal(empty.statusCode, 400, 'a blank reason is no reason');
      t.equal(errorCode(empty), 'INGEST_BAD_REQUEST');

      const given = await app.inject({
        method: 'POST',
        url: `/api/v1/recordings/${recording}/access`,
        headers: session,
        payload: { reason: '复核案件 AUDIT-R' },
      });
      t.equal(given.statusCode, 204);
      const played = await app.inject({ url: playlist, headers: session });
      t.equal(played.statusCode, 200, 'with the reason the playlist is served');
      const records = (await repo.searchAudit({ recording, limit: 10, offset: 0 })).items.reverse();
      t.match(records, [
        { action: 'access-reason', user: user.username, role: 'supervisor', reason: '复核案件 AUDIT-R' },
        {
          action: 'playlist',
          user: user.username,
          role: 'supervisor',
          address: '127.0.0.1',
          recording,
          track: 'cam-1',
          reason: '复核案件 AUDIT-R',
        },
      ]);

      const other = await signIn(app, user);
      const again = await app.inject({ url: playlist, headers: other });
      t.equal(again.statusCode, 403, 'a new session asks again');
      t.equal(errorCode(again), 'INGEST_REASON_REQUIRED');
      const view = await app.inject({ url: `/api/v1/recordings/${recording}`, headers: other });
      t.equal(
        view.statusCode,
        200,
        'the recording page itself needs no reason (it is where the console asks)',
      );
    },
  );

  t.test('without reasons required, playback needs none and each view is audited without one', async (t) => {
    const { app, repo } = await build(false);
    const user = await addTestUser(repo, 'auditor');
    const session = await signIn(app, user);
    const recording = await indexRecording(repo, 'room-r', 'AUDIT-N');
    const res = await app.inject({
      url: `/api/v1/recordings/${recording}/tracks/cam-1/playlist.m3u8`,
      headers: session,
    });
    t.equal(res.statusCode, 200);
    t.match((await repo.searchAudit({ recording, limit: 10, offset: 0 })).items, [
      { action: 'playlist', user: user.username, reason: null, track: 'cam-1' },
    ]);
  });

  t.test("a player's repeated playlist requests make one record per session, track and window", async (t) => {
    const { app, repo, clock } = await build(false);
    const user = await addTestUser(repo, 'supervisor');
    const session = await signIn(app, user);
    const recording = await indexRecording(repo, 'room-w', 'AUDIT-W');
    const url = `/api/v1/recordings/${recording}/tracks/cam-1/playlist.m3u8`;
    const count = async () =>
      (await repo.searchAudit({ recording, action: 'playlist', limit: 100, offset: 0 })).total;
    for (let i = 0; i < 5; i++) {
      t.equal((await app.inject({ url, headers: session })).statusCode, 200);
      clock.advance(2000);
    }
    t.equal(await count(), 1, 'five reloads within the window: one record');
    const other = await signIn(app, user);
    await app.inject({ url, headers: other });
    t.equal(await count(), 2, 'another session: its own record');
    clock.advance(VIEW_AUDIT_WINDOW_MS);
    await app.inject({ url, headers: session });
    t.equal(await count(), 3, 'after the window: a new record');
  });

  t.test('a search is audited with its criteria', async (t) => {
    const { app, repo } = await build(false);
    const user = await addTestUser(repo, 'supervisor');
    const session = await signIn(app, user);
    const res = await app.inject({ url: '/api/v1/recordings?caseId=AUDIT-R&limit=5', headers: session });
    t.equal(res.statusCode, 200);
    const [record] = (await repo.searchAudit({ user: user.username, action: 'search', limit: 1, offset: 0 }))
      .items;
    t.match(record, { role: 'supervisor', address: '127.0.0.1' });
    t.same(JSON.parse(record!.detail!), { caseId: 'AUDIT-R', limit: 5, offset: 0 });
    const bad = await app.inject({ url: '/api/v1/recordings?caseId=..%2Fetc', headers: session });
    t.equal(bad.statusCode, 400, 'a malformed search is a clear 400');
    t.equal(errorCode(bad), 'INGEST_BAD_REQUEST');
  });

  t.test('auditors browse the log filtered by user, recording, action and time, newest first', async (t) => {
    const { app, repo, clock } = await build(false);
    const auditor = await signIn(app, await addTestUser(repo, 'auditor'));
    const viewer = await addTestUser(repo, 'supervisor');
    const session = await signIn(app, viewer);
    const recording = await indexRecording(repo, 'room-f', 'AUDIT-F');
    const start = new Date(clock.now()).toISOString();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await app.inject({ url: `/api/v1/recordings/${recording}`, headers: session });
    }
    const get = (query: string) => app.inject({ url: `/api/v1/audit?${query}`, headers: auditor });
    const byUser = await get(`user=${viewer.username}`);
    t.equal(byUser.statusCode, 200);
    t.equal(byUser.json().total, 4, 'sign-in and three views');
    t.same(
      byUser.json().items.map((r: { action: string }) => r.action),
      ['view-recording', 'view-recording', 'view-recording', 'sign-in'],
    );
    t.match(byUser.json().items[0], { seq: Number, at: String, hash: /^[0-9a-f]{64}$/, recording });
    const page = await get(`recording=${recording}&action=view-recording&limit=2&offset=1`);
    t.equal(page.json().total, 3);
    t.equal(page.json().items.length, 2);
    const late = await get(`recording=${recording}&from=${new Date(Date.parse(start) + 2500).toISOString()}`);
    t.equal(late.json().total, 1, 'only the view after the given time');
    const bad = await get('action=delete-everything');
    t.equal(bad.statusCode, 400);
    t.equal(errorCode(bad), 'INGEST_BAD_REQUEST');
    const verify = await app.inject({ url: '/api/v1/audit/verify', headers: auditor });
    t.match(verify.json(), { ok: true, head: { size: await countRows(db, 'audit_log') } });
  });
});
