/** @module Sign-in, sessions, CSRF, API tokens and the sign-in rate limit, over the real API on PGlite and PostgreSQL. */
import t from 'tap';
import { SignInLimiter } from '../../ingest/auth/sign-in-limiter.ts';
import { addTestUser, bearerHeaders, buildTestApi, countRows, errorCode, signIn } from '../helpers/auth.ts';
import { withDatabases } from '../helpers/databases.ts';

const creds = (u: { username: string; password: string }) => ({ username: u.username, password: u.password });

withDatabases(t, async (t, backend) => {
  // One database per backend for the whole file: each test makes its own users and counts deltas.
  const { db } = await backend.open(t);
  const auth0 = () => new Date().toISOString();
  const sessionsOf = async (username: string) =>
    Number(
      (await db.pool.query('SELECT count(*) AS n FROM sessions WHERE username = $1', [username])).rows[0].n,
    );

  t.test(
    'sign-in sets an HttpOnly SameSite=Strict session cookie and returns the user and a CSRF token',
    async (t) => {
      const { app, repo } = await buildTestApi(t, db);
      const user = await addTestUser(repo, 'operator', ['room-a']);
      const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: creds(user) });
      t.equal(res.statusCode, 200);
      const body = res.json();
      t.same(body.user, {
        username: user.username,
        role: 'operator',
        rooms: ['room-a'],
        displayName: user.username,
      });
      t.match(body.csrfToken, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
      t.equal(body.reasonRequired, false);
      const cookie = res.cookies.find((c) => c.name === 'quanlu_session')!;
      t.ok(cookie, 'cookie quanlu_session set');
      t.equal(cookie.httpOnly, true, 'HttpOnly');
      t.equal(cookie.sameSite, 'Strict', 'SameSite=Strict');
      t.equal(cookie.path, '/');
      t.notOk(cookie.secure, 'not Secure over plain http');
      const stored = await db.pool.query('SELECT token_hash FROM sessions WHERE username = $1', [
        user.username,
      ]);
      t.equal(stored.rows.length, 1);
      t.not(stored.rows[0].token_hash, cookie.value, 'the database holds a hash, never the token');
      const again = await app.inject({
        method: 'GET',
        url: '/api/v1/session',
        headers: { cookie: `quanlu_session=${cookie.value}` },
      });
      t.equal(again.statusCode, 200);
      t.equal(again.json().csrfToken, body.csrfToken, 'GET /session returns the same session');
    },
  );

  t.test(
    'a wrong password and an unknown user get the same 401 INGEST_AUTH_FAILED, and no session',
    async (t) => {
      const { app, repo } = await buildTestApi(t, db);
      const user = await addTestUser(repo, 'supervisor');
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: user.username, password: 'not-the-password' },
      });
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'nobody', password: 'not-the-password' },
      });
      t.equal(wrong.statusCode, 401);
      t.equal(unknown.statusCode, 401);
      t.equal(errorCode(wrong), 'INGEST_AUTH_FAILED');
      t.same(wrong.json(), unknown.json(), 'the same body: nothing tells whether the user exists');
      t.equal(wrong.cookies.length, 0, 'no cookie');
      t.equal(await sessionsOf(user.username), 0, 'no session');
      const failed = await repo.searchAudit({
        user: user.username,
        action: 'sign-in-failed',
        limit: 10,
        offset: 0,
      });
      t.equal(failed.total, 1, 'the failure is audited under the name tried');
    },
  );

  t.test('a disabled user cannot sign in, and its open session ends', async (t) => {
    const { app, repo } = await buildTestApi(t, db);
    const user = await addTestUser(repo, 'supervisor');
    const session = await signIn(app, user);
    await repo.updateUser(user.username, { disabled: true }, new Date().toISOString());
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: creds(user) });
    t.equal(res.statusCode, 401);
    t.equal(errorCode(res), 'INGEST_AUTH_FAILED');
    const old = await app.inject({ method: 'GET', url: '/api/v1/session', headers: session });
    t.equal(old.statusCode, 401);
    t.equal(errorCode(old), 'INGEST_UNAUTHENTICATED');
  });

  t.test('a session unused for longer than the idle limit expires: 401', async (t) => {
    const { app, repo, clock } = await buildTestApi(t, db, { access: { sessionIdleMinutes: 10 } });
    const session = await signIn(app, await addTestUser(repo, 'auditor'));
    const sessions = await countRows(db, 'sessions');
    clock.advance(9 * 60_000);
    t.equal(
      (await app.inject({ url: '/api/v1/session', headers: session })).statusCode,
      200,
      'used within 10 min',
    );
    clock.advance(9 * 60_000);
    t.equal(
      (await app.inject({ url: '/api/v1/session', headers: session })).statusCode,
      200,
      'use restarts the idle clock',
    );
    clock.advance(10 * 60_000);
    const res = await app.inject({ url: '/api/v1/session', headers: session });
    t.equal(res.statusCode, 401);
    t.equal(errorCode(res), 'INGEST_UNAUTHENTICATED');
    t.equal(await countRows(db, 'sessions'), sessions - 1, 'the expired session is deleted');
  });

  t.test('a session expires at its absolute end however busy it is: 401', async (t) => {
    const { app, repo, clock } = await buildTestApi(t, db, {
      access: { sessionIdleMinutes: 60, sessionMaxHours: 2 },
    });
    const session = await signIn(app, await addTestUser(repo, 'auditor'));
    for (let i = 0; i < 3; i++) {
      clock.advance(30 * 60_000);
      t.equal((await app.inject({ url: '/api/v1/session', headers: session })).statusCode, 200);
    }
    clock.advance(30 * 60_000);
    const res = await app.inject({ url: '/api/v1/recordings', headers: session });
    t.equal(res.statusCode, 401);
    t.equal(errorCode(res), 'INGEST_UNAUTHENTICATED');
  });

  t.test('sessions past their absolute end are swept at the next sign-in, with their reasons', async (t) => {
    const { app, repo, clock } = await buildTestApi(t, db, { access: { sessionMaxHours: 1 } });
    const gone = await addTestUser(repo, 'supervisor');
    await signIn(app, gone);
    const [row] = (
      await db.pool.query('SELECT token_hash FROM sessions WHERE username = $1', [gone.username])
    ).rows;
    await repo.setAccessReason(row.token_hash, '0b0e2f6a-1c1d-4e4f-8a8b-9c9d0e0f1a1b', 'old reason', auth0());
    clock.advance(61 * 60_000);
    await signIn(app, await addTestUser(repo, 'supervisor'));
    t.equal(await sessionsOf(gone.username), 0, 'the abandoned session is gone');
    t.equal(
      (
        await db.pool.query('SELECT count(*) AS n FROM access_reasons WHERE credential = $1', [
          row.token_hash,
        ])
      ).rows[0].n,
      '0',
      'and so are its reasons',
    );
  });

  t.test('sign-out ends the session: 204, then 401', async (t) => {
    const { app, repo } = await buildTestApi(t, db);
    const user = await addTestUser(repo, 'supervisor');
    const session = await signIn(app, user);
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: session });
    t.equal(out.statusCode, 204);
    t.equal((await app.inject({ url: '/api/v1/session', headers: session })).statusCode, 401);
    t.equal(await sessionsOf(user.username), 0);
  });

  t.test(
    'a state-changing request with a session cookie but no CSRF token is 403 INGEST_CSRF and changes nothing',
    async (t) => {
      const { app, repo } = await buildTestApi(t, db);
      const session = await signIn(app, await addTestUser(repo, 'admin'));
      const users = await countRows(db, 'users');
      const audit = await countRows(db, 'audit_log');
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { cookie: session.cookie },
        payload: { username: 'csrf-victim', role: 'admin' },
      });
      t.equal(res.statusCode, 403);
      t.equal(errorCode(res), 'INGEST_CSRF');
      t.equal(await countRows(db, 'users'), users, 'no user added');
      t.equal(await countRows(db, 'audit_log'), audit, 'nothing written');
      const out = await app.inject({
        method: 'DELETE',
        url: '/api/v1/session',
        headers: { cookie: session.cookie },
      });
      t.equal(out.statusCode, 403, 'sign-out too needs the token (no forced sign-out from another site)');
    },
  );

  t.test(
    'a state-changing request with a wrong CSRF token is 403 INGEST_CSRF and changes nothing',
    async (t) => {
      const { app, repo } = await buildTestApi(t, db);
      const admin = await signIn(app, await addTestUser(repo, 'admin'));
      const other = await signIn(app, await addTestUser(repo, 'admin'));
      const users = await countRows(db, 'users');
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { cookie: admin.cookie, 'x-csrf-token': other['x-csrf-token'] },
        payload: { username: 'csrf-victim', role: 'admin' },
      });
      t.equal(res.statusCode, 403);
      t.equal(errorCode(res), 'INGEST_CSRF', "another session's token does not do");
      t.equal(await countRows(db, 'users'), users, 'no user added');
      const ok = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: admin,
        payload: { username: 'csrf-ok', role: 'supervisor' },
      });
      t.equal(ok.statusCode, 201, 'with its own token the same request succeeds');
    },
  );

  t.test('an API token (Bearer) authenticates without a CSRF token; an unknown token is 401', async (t) => {
    const { app, repo } = await buildTestApi(t, db);
    const headers = await bearerHeaders(repo, 'admin');
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers,
      payload: { username: 'from-cli', role: 'auditor' },
    });
    t.equal(res.statusCode, 201);
    t.match(res.json().password, /^[A-Za-z0-9]{20}$/, 'a generated password is returned once');
    const bad = await app.inject({ url: '/api/v1/users', headers: { authorization: 'Bearer qlu_forged' } });
    t.equal(bad.statusCode, 401);
    t.equal(errorCode(bad), 'INGEST_UNAUTHENTICATED');
  });

  t.test(
    'too many failed sign-ins for one user from one address get 429 INGEST_RATE_LIMITED, even with the right password',
    async (t) => {
      const { app, repo, clock } = await buildTestApi(t, db, {
        limiter: new SignInLimiter({
          limits: { maxFailures: 3, windowMs: 60_000 },
          clock: { now: () => now() },
        }),
      });
      const now = () => clock.now();
      const user = await addTestUser(repo, 'supervisor');
      const attempt = (password: string) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: user.username, password },
        });
      for (let i = 0; i < 3; i++) t.equal((await attempt('wrong-password!')).statusCode, 401);
      const limited = await attempt(user.password);
      t.equal(limited.statusCode, 429);
      t.equal(errorCode(limited), 'INGEST_RATE_LIMITED');
      t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
      t.equal(await sessionsOf(user.username), 0, 'no session while limited');
      const otherUser = await addTestUser(repo, 'supervisor');
      t.equal(
        (await app.inject({ method: 'POST', url: '/api/v1/session', payload: creds(otherUser) })).statusCode,
        200,
        'another user from the same address is not limited',
      );
      clock.advance(61_000);
      t.equal((await attempt(user.password)).statusCode, 200, 'after the window the right password works');
    },
  );
});
