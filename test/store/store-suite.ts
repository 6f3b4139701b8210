/** @module The one test suite every object store passes [STYLE habit 10]: what differs between backends is declared, never skipped. */
import { createHash, randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Test } from 'tap';
import type { ObjectStore } from '../../store/object-store.ts';

/** A backend under test, and what it is known to do differently. */
export interface StoreBackend {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store for one test (torn down with `t`). */
  open(t: Test): Promise<ObjectStore>;
  /** head() reports the service's own verified checksum (fs: every put verified it; s3rver keeps none). */
  verifiesChecksums: boolean;
  /** presign() gives a URL (S3) rather than null (a folder). */
  presigns: boolean;
  /** How a refused upload of a whole file ends, for the test's name: the backends get there differently. */
  mismatchHow: string;
}

const MiB = 1024 * 1024;
/** The large object: above the S3 single-PUT limit (64 MiB), so it goes as a multipart upload. */
const LARGE = 80 * MiB;
/** The bound on RSS growth while a large object goes in and out: a memory bound, not a timing one. */
const RSS_BOUND = 64 * MiB;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Writes `size` random bytes to `path` in 1 MiB blocks, hashing as it goes; returns the hash. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (let left = size; left > 0; left -= MiB) {
      const block = randomBytes(Math.min(MiB, left));
      hash.update(block);
      await file.write(block);
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** Runs the whole suite against one backend. */
export function storeSuite(t: Test, backend: StoreBackend): void {
  const { name } = backend;

  t.test(
    `${name}: a put is stored under its hash and reads back the same through head, get and rehash`,
    async (t) => {
      const store = await backend.open(t);
      const bytes = randomBytes(1000);
      const sha = sha256(bytes);
      t.same(await store.put(sha, { bytes }, bytes.length), { created: true });
      t.same(await store.head(sha), {
        size: bytes.length,
        verifiedSha256: backend.verifiesChecksums ? sha : null,
        metadataSha256: sha,
      });
      t.same(await readAll(await store.get(sha)), bytes);
      t.same(await store.rehash(sha), { sha256: sha, size: bytes.length });
    },
  );

  t.test(`${name}: a file of several read chunks is stored byte for byte`, async (t) => {
    const store = await backend.open(t);
    const path = join(t.testdir(), 'segment.ts');
    const size = 3 * MiB + 17;
    const sha = await writeRandomFile(path, size);
    t.same(await store.put(sha, { path }, size), { created: true });
    t.same(await store.rehash(sha), { sha256: sha, size });
    t.equal((await store.head(sha))?.metadataSha256, sha, 'the sha256 is kept with the object');
  });

  t.test(`${name}: an empty object is an object`, async (t) => {
    const store = await backend.open(t);
    const bytes = new Uint8Array(0);
    const sha = sha256(bytes);
    t.same(await store.put(sha, { bytes }, 0), { created: true });
    t.equal((await store.head(sha))?.size, 0);
    t.equal((await readAll(await store.get(sha))).length, 0);
  });

  t.test(`${name}: a second put of an object is a no-op: created false, content unchanged`, async (t) => {
    const store = await backend.open(t);
    const bytes = randomBytes(4096);
    const sha = sha256(bytes);
    const path = join(t.testdir(), 'same');
    await writeFile(path, bytes);
    t.same(await store.put(sha, { bytes }, bytes.length), { created: true });
    t.same(await store.put(sha, { path }, bytes.length), { created: false }, 'again, from a file');
    t.same(await store.put(sha, { bytes }, bytes.length), { created: false }, 'again, from memory');
    t.same(await store.rehash(sha), { sha256: sha, size: bytes.length });
    t.same(await collect(store.list()), [{ sha256: sha, size: bytes.length }]);
  });

  t.test(`${name}: concurrent puts of one object both succeed and store it once`, async (t) => {
    const store = await backend.open(t);
    const path = join(t.testdir(), 'twice');
    const size = 2 * MiB;
    const sha = await writeRandomFile(path, size);
    const results = await Promise.all([store.put(sha, { path }, size), store.put(sha, { path }, size)]);
    t.ok(
      results.some((r) => r.created),
      'at least one created it',
    );
    t.same(await store.rehash(sha), { sha256: sha, size });
    t.same(await collect(store.list()), [{ sha256: sha, size }]);
  });

  t.test(
    `${name}: bytes that do not hash to their name are refused with STORE_HASH_MISMATCH and nothing is stored`,
    async (t) => {
      const store = await backend.open(t);
      const bytes = randomBytes(2048);
      const claimed = sha256(randomBytes(2048));
      await t.rejects(store.put(claimed, { bytes }, bytes.length), { code: 'STORE_HASH_MISMATCH' });
      const right = sha256(bytes);
      await t.rejects(
        store.put(right, { bytes }, bytes.length + 1),
        { code: 'STORE_HASH_MISMATCH' },
        'the wrong size',
      );
      t.equal(await store.head(claimed), null);
      t.equal(await store.head(right), null);
      t.same(await collect(store.list()), []);
    },
  );

  t.test(
    `${name}: a file of another size than declared is refused with STORE_HASH_MISMATCH before anything is sent`,
    async (t) => {
      const store = await backend.open(t);
      const path = join(t.testdir(), 'short');
      const size = 100_000;
      const sha = await writeRandomFile(path, size);
      await t.rejects(store.put(sha, { path }, size + 1), { code: 'STORE_HASH_MISMATCH' });
      await t.rejects(store.put(sha, { path }, size - 1), { code: 'STORE_HASH_MISMATCH' });
      t.equal(await store.head(sha), null);
      t.same(await collect(store.list()), []);
    },
  );

  t.test(
    `${name}: a file whose content does not hash to its name is refused with STORE_HASH_MISMATCH and nothing is left ${backend.mismatchHow}`,
    async (t) => {
      const store = await backend.open(t);
      const dir = t.testdir();
      const size = 3 * MiB + 5;
      const right = join(dir, 'right');
      const wrong = join(dir, 'wrong');
      const sha = await writeRandomFile(right, size);
      await writeRandomFile(wrong, size);
      await t.rejects(store.put(sha, { path: wrong }, size), { code: 'STORE_HASH_MISMATCH' });
      t.equal(await store.head(sha), null);
      t.same(await collect(store.list()), []);
      t.same(
        await store.put(sha, { path: right }, size),
        { created: true },
        'the right content goes in afterwards',
      );
      t.same(await store.rehash(sha), { sha256: sha, size });
    },
  );

  t.test(`${name}: a source that cannot be read is STORE_IO and nothing is stored`, async (t) => {
    const store = await backend.open(t);
    const sha = sha256(Buffer.from('never written'));
    await t.rejects(store.put(sha, { path: join(t.testdir(), 'missing') }, 13), { code: 'STORE_IO' });
    t.equal(await store.head(sha), null);
  });

  t.test(`${name}: range reads give the first byte, the middle, the last byte and the whole`, async (t) => {
    const store = await backend.open(t);
    const bytes = randomBytes(100_003);
    const sha = sha256(bytes);
    await store.put(sha, { bytes }, bytes.length);
    const last = bytes.length - 1;
    const read = async (start: number, end: number) => readAll(await store.get(sha, { start, end }));
    t.same(await read(0, 0), bytes.subarray(0, 1), 'first byte');
    t.same(await read(40_000, 60_000), bytes.subarray(40_000, 60_001), 'middle (end inclusive)');
    t.same(await read(last, last), bytes.subarray(last), 'last byte');
    t.same(await read(0, last), bytes, 'whole');
    t.same(
      await read(99_000, last + 1000),
      bytes.subarray(99_000),
      'an end past the object is cut, as in HTTP',
    );
    await t.rejects(store.get(sha, { start: last + 1, end: last + 10 }), RangeError, 'a start past the end');
    await t.rejects(store.get(sha, { start: 10, end: 9 }), RangeError, 'end before start');
    await t.rejects(store.get(sha, { start: -1, end: 9 }), RangeError, 'negative start');
  });

  t.test(`${name}: a missing object is STORE_NOT_FOUND for get, null for head and rehash`, async (t) => {
    const store = await backend.open(t);
    const sha = sha256(Buffer.from('absent'));
    await t.rejects(store.get(sha), { code: 'STORE_NOT_FOUND' });
    await t.rejects(store.get(sha, { start: 0, end: 0 }), { code: 'STORE_NOT_FOUND' });
    t.equal(await store.head(sha), null);
    t.equal(await store.rehash(sha), null);
  });

  t.test(`${name}: a name that is not a sha256 is refused before any I/O`, async (t) => {
    const store = await backend.open(t);
    await t.rejects(store.put('ABC', { bytes: new Uint8Array(1) }, 1));
    await t.rejects(store.head('../../etc/passwd'));
    await t.rejects(collect(store.list('not-a-hash')));
  });

  t.test(`${name}: list gives objects in key order, and after a given hash`, async (t) => {
    const store = await backend.open(t);
    const objects = Array.from({ length: 12 }, (_, i) => randomBytes(10 + i));
    for (const bytes of objects) await store.put(sha256(bytes), { bytes }, bytes.length);
    const expected = objects
      .map((bytes) => ({ sha256: sha256(bytes), size: bytes.length }))
      .sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
    t.same(await collect(store.list()), expected);
    t.same(await collect(store.list(expected[4]!.sha256)), expected.slice(5), 'after a stored hash');
    t.same(await collect(store.list(expected[11]!.sha256)), [], 'after the last');
    const between = expected[6]!.sha256.slice(0, 63) + (expected[6]!.sha256.endsWith('0') ? '1' : '0');
    const greater = expected.filter((o) => o.sha256 > between);
    t.same(await collect(store.list(between)), greater, 'after a hash not stored');
    t.same(await collect(store.list('0'.repeat(64))), expected, 'after the smallest hash');
  });

  t.test(
    `${name}: presign ${backend.presigns ? 'gives a URL fetch() downloads the object from' : 'is null'}`,
    async (t) => {
      const store = await backend.open(t);
      const bytes = randomBytes(5000);
      const sha = sha256(bytes);
      await store.put(sha, { bytes }, bytes.length);
      const url = await store.presign(sha, 60);
      if (!backend.presigns) {
        t.equal(url, null);
        return;
      }
      t.type(url, 'string');
      const res = await fetch(url!);
      t.equal(res.status, 200);
      t.same(Buffer.from(await res.arrayBuffer()), bytes);
    },
  );

  t.test(
    `${name}: an 80 MiB file goes in and out with RSS growth under 64 MiB; a mismatched one is refused and leaves nothing`,
    async (t) => {
      const store = await backend.open(t);
      const dir = t.testdir();
      const path = join(dir, 'large');
      const sha = await writeRandomFile(path, LARGE);
      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 5);
      try {
        t.same(await store.put(sha, { path }, LARGE), { created: true });
        const hash = createHash('sha256');
        let size = 0;
        for await (const chunk of (await store.get(sha)) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
        }
        t.same({ sha256: hash.digest('hex'), size }, { sha256: sha, size: LARGE }, 'read back whole');
        t.equal((await store.head(sha))?.metadataSha256, sha);
        const other = sha256(Buffer.from('another 80 MiB'));
        await t.rejects(
          store.put(other, { path }, LARGE),
          { code: 'STORE_HASH_MISMATCH' },
          'under a wrong name',
        );
        t.equal(await store.head(other), null, 'the refused upload left nothing');
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      t.ok(peak - before < RSS_BOUND, `RSS grew by ${((peak - before) / MiB).toFixed(1)} MiB (bound 64 MiB)`);
    },
  );
}
