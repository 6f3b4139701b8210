/** @module The password policy on every path a person chooses a password: the admin API (add, change) and the command line's addUser. */
import t from 'tap';
import { passwordProblem } from '../../ingest/auth/password-policy.ts';
import { addUser } from '../../ingest/auth/users.ts';
import { IngestError } from '../../ingest/errors.ts';
import { addTestUser, buildTestApi, countRows, errorCode, signIn } from '../helpers/auth.ts';
import { withDatabases } from '../helpers/databases.ts';

t.test('the policy: 12 characters at least, not the user name, not a common password', async (t) => {
  t.match(passwordProblem('short-pw', 'alice'), /at least 12 characters/);
  t.match(passwordProblem('alice.wong.2026', 'alice.wong.2026'), /must not be the user name/);
  t.match(passwordProblem('ALICE.WONG.2026', 'alice.wong.2026'), /must not be the user name/, 'in any case');
  t.match(passwordProblem('Password1234', 'alice'), /common passwords/, 'common, whatever the case');
  t.match(passwordProblem('qwertyuiop123', 'alice'), /common passwords/);
  t.equal(passwordProblem('correct horse battery', 'alice'), null, 'a long unrelated passphrase passes');
  t.match(
    passwordProblem('汉字密码汉字密码汉字密', 'alice'),
    /at least 12/,
    'length counts characters: 11 refused',
  );
  t.equal(passwordProblem('汉字密码汉字密码汉字密码', 'alice'), null, '12 characters accepted');
});

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);

  t.test(
    'a weak password is refused with 400 INGEST_WEAK_PASSWORD by add and change, and changes nothing',
    async (t) => {
      const { app, repo } = await buildTestApi(t, db);
      const admin = await signIn(app, await addTestUser(repo, 'admin'));
      const users = await countRows(db, 'users');
      const add = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: admin,
        payload: { username: 'weak-one', role: 'auditor', password: 'password1234' },
      });
      t.equal(add.statusCode, 400);
      t.equal(errorCode(add), 'INGEST_WEAK_PASSWORD');
      t.match(add.json().error.message, /choose another/, 'the message says what to do');
      t.equal(await countRows(db, 'users'), users, 'no user added');

      const same = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: admin,
        payload: { username: 'bob.the.auditor', role: 'auditor', password: 'bob.the.auditor' },
      });
      t.equal(errorCode(same), 'INGEST_WEAK_PASSWORD', 'the user name as password is refused');

      const target = await addTestUser(repo, 'auditor');
      const change = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${target.username}`,
        headers: admin,
        payload: { password: target.username },
      });
      t.equal(change.statusCode, 400);
      t.equal(errorCode(change), 'INGEST_WEAK_PASSWORD');
      const still = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: target.username, password: target.password },
      });
      t.equal(still.statusCode, 200, 'the old password still works: nothing changed');

      const good = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${target.username}`,
        headers: admin,
        payload: { password: 'a perfectly fine passphrase' },
      });
      t.equal(good.statusCode, 200, 'a good password is accepted');
    },
  );

  t.test(
    'addUser (the command line path) applies the same policy; a generated password is not checked',
    async (t) => {
      const { repo } = await buildTestApi(t, db);
      const refused = await addUser(
        repo,
        { username: 'cli-weak', role: 'auditor', password: 'changeme1234' },
        new Date().toISOString(),
      ).then(
        () => null,
        (err: unknown) => err,
      );
      t.ok(
        refused instanceof IngestError && refused.code === 'INGEST_WEAK_PASSWORD',
        'refused: common password',
      );
      const made = await addUser(
        repo,
        { username: 'cli-generated', role: 'auditor' },
        new Date().toISOString(),
      );
      t.match(made.generatedPassword, /^[A-Za-z0-9]{20}$/);
    },
  );
});
