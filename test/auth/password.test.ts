/** @module scrypt password hashes: they verify, differ per salt, keep their parameters, and refuse a wrong password. */
import t from 'tap';
import { generatePassword, hashPassword, verifyPassword } from '../../ingest/auth/password.ts';

const FAST = { n: 2 ** 10, r: 8, p: 1 };

t.test('a hash verifies its password and refuses any other', async (t) => {
  const stored = await hashPassword('correct horse battery staple', FAST);
  t.equal(await verifyPassword('correct horse battery staple', stored), true);
  t.equal(await verifyPassword('correct horse battery stapler', stored), false);
  t.equal(await verifyPassword('', stored), false);
});

t.test('the same password hashes differently under each fresh salt', async (t) => {
  const a = await hashPassword('same password here', FAST);
  const b = await hashPassword('same password here', FAST);
  t.not(a.salt, b.salt, 'a new salt each time');
  t.not(a.hash, b.hash, 'so a different hash');
  t.equal(Buffer.from(a.salt, 'base64').length, 16);
  t.equal(Buffer.from(a.hash, 'base64').length, 32);
  t.equal(await verifyPassword('same password here', b), true);
});

t.test('the parameters are stored with the hash and used to verify it', async (t) => {
  const stored = await hashPassword('parameters travel along', { n: 2 ** 11, r: 4, p: 2 });
  t.same({ n: stored.n, r: stored.r, p: stored.p }, { n: 2 ** 11, r: 4, p: 2 });
  t.equal(await verifyPassword('parameters travel along', stored), true);
  t.equal(
    await verifyPassword('parameters travel along', { ...stored, n: 2 ** 10 }),
    false,
    'other parameters give another key',
  );
});

t.test('the default parameters are the strong ones (N=2^15, r=8, p=1)', async (t) => {
  const stored = await hashPassword('default cost');
  t.same({ n: stored.n, r: stored.r, p: stored.p }, { n: 2 ** 15, r: 8, p: 1 });
  t.equal(await verifyPassword('default cost', stored), true);
});

t.test('a password written in another Unicode normal form is the same password', async (t) => {
  const stored = await hashPassword('caf\u00e9-password', FAST);
  t.equal(await verifyPassword('cafe\u0301-password', stored), true);
});

t.test('generated passwords are 20 characters of an unambiguous alphabet, and differ', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const p = generatePassword();
    t.match(p, /^[a-km-np-zA-HJ-NP-Z2-9]{20}$/);
    seen.add(p);
  }
  t.equal(seen.size, 200);
});
