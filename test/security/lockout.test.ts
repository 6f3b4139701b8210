/** @module Account lockout after repeated failed sign-ins (any address), its expiry on the test clock, and its audit records. */
import t from 'tap';
import { SignInLimiter } from '../../ingest/auth/sign-in-limiter.ts';
import { addTestUser, buildTestApi, errorCode } from '../helpers/auth.ts';
import { withDatabases } from '../helpers/databases.ts';

const MINUTE = 60_000;

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);
  // A per-address limit far above the lockout's, so only the lockout can refuse.
  // (Its clock is the system's: with this limit it never refuses, whatever the time.)
  const opts = () => ({
    access: { lockoutFailures: 3, lockoutWindowMinutes: 10, lockoutMinutes: 15 },
    limiter: new SignInLimiter({ limits: { maxFailures: 1000 } }),
  });

  t.test(
    'three failures from three addresses lock the account: the right password gets 423 INGEST_ACCOUNT_LOCKED until the lock ends',
    async (t) => {
      const { app, repo, clock } = await buildTestApi(t, db, opts());
      const user = await addTestUser(repo, 'supervisor');
      const attempt = (password: string, address: string) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/session',
          remoteAddress: address,
          payload: { username: user.username, password },
        });
      for (const [i, address] of ['10.0.0.1', '10.0.0.2', '10.0.0.3'].entries()) {
        const res = await attempt('wrong-password-guess', address);
        t.equal(res.statusCode, 401, `failure ${i + 1} is a plain 401`);
      }
      const locked = await attempt(user.password, '10.0.0.4');
      t.equal(locked.statusCode, 423, 'the right password from a fresh address is refused');
      t.equal(errorCode(locked), 'INGEST_ACCOUNT_LOCKED');
      t.ok(Number(locked.headers['retry-after']) > 0, 'and says how long to wait');
      t.match(locked.json().error.message, /locked, try again in 15 min/, 'the message says how long');
      t.equal(locked.cookies.length, 0, 'no session cookie');

      clock.advance(14 * MINUTE);
      t.equal((await attempt(user.password, '10.0.0.4')).statusCode, 423, 'still locked after 14 minutes');
      clock.advance(1 * MINUTE);
      t.equal((await attempt(user.password, '10.0.0.4')).statusCode, 200, 'the lock ends after 15 minutes');

      const failed = await repo.searchAudit({
        user: user.username,
        action: 'sign-in-failed',
        limit: 20,
        offset: 0,
      });
      const details = failed.items.map((r) => r.detail).sort();
      t.same(
        details,
        [
          'INGEST_ACCOUNT_LOCKED',
          'INGEST_ACCOUNT_LOCKED',
          'INGEST_AUTH_FAILED',
          'INGEST_AUTH_FAILED',
          'INGEST_AUTH_FAILED account-locked',
        ],
        'every failure is audited, the locking one and each refusal while locked say so',
      );
      const signIns = await repo.searchAudit({ user: user.username, action: 'sign-in', limit: 5, offset: 0 });
      t.equal(signIns.total, 1, 'the successful sign-in is audited');
    },
  );

  t.test('failures spread wider than the window do not lock; a success forgets the failures', async (t) => {
    const { app, repo, clock } = await buildTestApi(t, db, opts());
    const user = await addTestUser(repo, 'auditor');
    const attempt = (password: string) =>
      app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: user.username, password } });
    t.equal((await attempt('wrong-password-guess')).statusCode, 401);
    t.equal((await attempt('wrong-password-guess')).statusCode, 401);
    clock.advance(11 * MINUTE);
    t.equal((await attempt('wrong-password-guess')).statusCode, 401, 'the first two have left the window');
    t.equal((await attempt(user.password)).statusCode, 200, 'not locked');
    t.equal((await attempt('wrong-password-guess')).statusCode, 401);
    t.equal((await attempt('wrong-password-guess')).statusCode, 401);
    t.equal((await attempt(user.password)).statusCode, 200, 'the success before reset the count');
  });

  t.test("a locked account's API token keeps working: the lock is on sign-in only", async (t) => {
    const { app, auth } = await buildTestApi(t, db, opts());
    const user = await addTestUser(auth.repo, 'supervisor');
    const token = await auth.issueToken(user.username);
    const attempt = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: user.username, password: 'wrong-password-guess' },
      });
    for (let i = 0; i < 3; i++) await attempt();
    t.equal(errorCode(await attempt()), 'INGEST_ACCOUNT_LOCKED', 'locked');
    const res = await app.inject({
      url: '/api/v1/recordings',
      headers: { authorization: `Bearer ${token}` },
    });
    t.equal(res.statusCode, 200, 'the token still reads');
  });

  t.test(
    'an unknown user name locks like a known one, so a lock says nothing about who exists',
    async (t) => {
      const { app } = await buildTestApi(t, db, opts());
      const attempt = () =>
        app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { username: 'nobody-here', password: 'wrong-password-guess' },
        });
      for (let i = 0; i < 3; i++) t.equal((await attempt()).statusCode, 401);
      t.equal(errorCode(await attempt()), 'INGEST_ACCOUNT_LOCKED');
    },
  );
});
