/** @module ContentCheck: content flows through whole when it matches its name, and never whole when it does not. */
import { createHash, randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import t from 'tap';
import { ContentCheck } from '../../store/content-check.ts';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes `chunks` into a check one at a time, letting everything it pushes be delivered before the next
 * (so a chunk it passed on too early would show); returns what came out, and the error it ended with.
 */
async function run(check: ContentCheck, chunks: Buffer[]) {
  const out: Buffer[] = [];
  check.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = finished(check).then(
    () => null,
    (err: unknown) => err,
  );
  for (const chunk of chunks) {
    if (check.destroyed) break;
    check.write(chunk);
    await setImmediate();
  }
  check.end();
  return { error: await ended, passed: Buffer.concat(out) };
}

const chunks = [randomBytes(1000), randomBytes(1000), randomBytes(500)];
const whole = Buffer.concat(chunks);

t.test('content that matches its name and size passes through whole, and the check says so', async (t) => {
  const check = new ContentCheck(sha256(whole), whole.length);
  const { passed, error } = await run(check, chunks);
  t.equal(error, null);
  t.same(passed, whole);
  t.equal(check.verified, true);
  t.equal(check.failure, null);
});

t.test('content of the right size that hashes to another name never passes its last chunk', async (t) => {
  const check = new ContentCheck(sha256(randomBytes(2500)), whole.length);
  const { passed, error } = await run(check, chunks);
  t.match(error, { code: 'STORE_HASH_MISMATCH' });
  t.equal(check.failure, error);
  t.equal(check.verified, false);
  t.ok(passed.length <= whole.length - chunks[2]!.length, `${passed.length} of ${whole.length} bytes passed`);
});

t.test('content longer than declared fails as soon as it is, short of the declared size', async (t) => {
  const check = new ContentCheck(sha256(whole), 1500);
  const { passed, error } = await run(check, chunks);
  t.match(error, { code: 'STORE_HASH_MISMATCH', message: /longer than 1500 bytes/ });
  t.ok(passed.length < 1500);
});

t.test('content shorter than declared fails at its end without its last chunk', async (t) => {
  const check = new ContentCheck(sha256(whole), whole.length + 1);
  const { passed, error } = await run(check, chunks);
  t.match(error, { code: 'STORE_HASH_MISMATCH' });
  t.ok(passed.length < whole.length);
});
