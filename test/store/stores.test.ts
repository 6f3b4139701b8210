/** @module Runs the shared store suite against the folder store and the S3 store on s3rver, then what only one of them does. */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import t from 'tap';
import { objectKey } from '../../protocol/object-key.ts';
import { createFsStore } from '../../store/fs-store.ts';
import { createS3Store, S3_SINGLE_PUT_MAX } from '../../store/s3-store.ts';
import { type S3Middleware, startS3Server } from '../helpers/s3-server.ts';
import { storeSuite } from './store-suite.ts';

const MiB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every request s3rver receives: method, URL and headers, for assertions on what the store sends. */
const requests: {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
}[] = [];
const recorder: S3Middleware = (ctx, next) => {
  requests.push({ method: ctx.method, path: ctx.path, query: { ...ctx.query }, headers: { ...ctx.headers } });
  return next();
};

/**
 * Plays MinIO's part that s3rver lacks: keeps the `x-amz-checksum-sha256` a PUT carried and returns it on a
 * HEAD that asks with `x-amz-checksum-mode: ENABLED` — as a composite (`…-1`, COMPOSITE) for keys a test
 * marks, like MinIO for a multipart upload. It checks nothing: it tests only how the store reads the answer.
 */
const checksums = new Map<string, string>();
const compositePaths = new Set<string>();
const checksumEcho: S3Middleware = async (ctx, next) => {
  const sent = ctx.headers['x-amz-checksum-sha256'];
  if (ctx.method === 'PUT' && typeof sent === 'string' && !('partNumber' in ctx.query))
    checksums.set(ctx.path, sent);
  await next();
  const kept = checksums.get(ctx.path);
  if (
    ctx.method !== 'HEAD' ||
    ctx.status !== 200 ||
    ctx.headers['x-amz-checksum-mode'] !== 'ENABLED' ||
    !kept
  )
    return;
  if (!ctx.path.startsWith('/echo-')) return;
  if (compositePaths.has(ctx.path)) {
    ctx.set('x-amz-checksum-sha256', `${kept}-1`);
    ctx.set('x-amz-checksum-type', 'COMPOSITE');
  } else {
    ctx.set('x-amz-checksum-sha256', kept);
  }
};

/**
 * What other services do that s3rver never does, by bucket name: `norange-*` ignores Range headers (HTTP
 * allows it: the whole object comes back with 200), `baddigest-*` refuses every PUT body as S3 does one that
 * does not match its checksum.
 */
const otherServices: S3Middleware = (ctx, next) => {
  if (ctx.path.startsWith('/norange-')) delete ctx.headers.range;
  if (/^\/baddigest-[^/]+\/./.test(ctx.path) && ctx.method === 'PUT') {
    ctx.status = 400;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadDigest</Code>' +
      '<Message>The checksum you specified did not match what we received.</Message></Error>';
    return;
  }
  return next();
};

const server = await startS3Server({ middleware: [recorder, checksumEcho, otherServices] });
t.teardown(() => server.close());

let buckets = 0;
/** A store on a new bucket of the shared server (ensureBucket creates it). */
async function s3Store(prefix = 'suite', options: { partSize?: number } = {}) {
  const store = createS3Store({ ...server, bucket: `${prefix}-${++buckets}`, ...options });
  const { created } = await store.ensureBucket();
  if (!created) throw new Error(`bucket ${store.bucket} existed already`);
  return store;
}

storeSuite(t, {
  name: 'fs',
  open: async (t) => createFsStore(join(t.testdir(), 'objects')),
  verifiesChecksums: true,
  presigns: false,
  mismatchHow: '(the temp file is removed before it has a name)',
});

storeSuite(t, {
  name: 's3 (s3rver)',
  open: async () => s3Store(),
  // s3rver ignores x-amz-checksum-sha256 and keeps none; MinIO and S3 verify it and return it.
  verifiesChecksums: false,
  presigns: true,
  // The helper makes s3rver's PUT all or nothing, as S3's and MinIO's are (s3rver alone keeps a body cut
  // short as a partial object: s3-upload.ts says what that would leave).
  mismatchHow:
    '(s3rver ignores checksums: the store withholds the last chunk, so the upload never completes)',
});

t.test(
  'fs: objects are read-only files at root/objectKey(sha256), and no temp file outlives a put',
  async (t) => {
    const root = join(t.testdir(), 'objects');
    const store = createFsStore(root);
    const bytes = randomBytes(300);
    const sha = sha256(bytes);
    await store.put(sha, { bytes }, bytes.length);
    await t.rejects(store.put(sha256(randomBytes(3)), { bytes }, bytes.length), {
      code: 'STORE_HASH_MISMATCH',
    });
    const file = await stat(join(root, ...objectKey(sha).split('/')));
    t.equal(file.mode & 0o777, 0o444);
    t.same(await readdir(join(root, '.incoming')), []);
  },
);

t.test('fs: an empty or missing root lists nothing', async (t) => {
  const store = createFsStore(join(t.testdir(), 'never-written'));
  const seen = [];
  for await (const o of store.list()) seen.push(o);
  t.same(seen, []);
});

t.test(
  's3: a put sends the sha256 as x-amz-checksum-sha256 (base64), as x-amz-meta-sha256 and as the signed payload hash',
  async (t) => {
    const store = await s3Store();
    const bytes = randomBytes(1234);
    const sha = sha256(bytes);
    await store.put(sha, { bytes }, bytes.length);
    const put = requests.find((r) => r.method === 'PUT' && r.path === `/${store.bucket}/${objectKey(sha)}`);
    t.ok(put, 'one PUT');
    t.equal(put?.headers['x-amz-checksum-sha256'], Buffer.from(sha, 'hex').toString('base64'));
    t.equal(put?.headers['x-amz-meta-sha256'], sha);
    t.equal(
      put?.headers['x-amz-content-sha256'],
      sha,
      'plain HTTP: SigV4 signs the payload hash, which is the name',
    );
  },
);

t.test(
  's3: a large object goes as a multipart upload with a SHA-256 per part, completed only once verified',
  async (t) => {
    const store = await s3Store('multi', { partSize: 5 * MiB });
    const size = S3_SINGLE_PUT_MAX + 1;
    const bytes = randomBytes(size);
    const sha = sha256(bytes);
    const path = `/${store.bucket}/${objectKey(sha)}`;
    t.same(await store.put(sha, { bytes }, size), { created: true });
    const mine = requests.filter((r) => r.path === path);
    const initiate = mine.find((r) => r.method === 'POST' && 'uploads' in r.query);
    t.equal(initiate?.headers['x-amz-checksum-algorithm'], 'SHA256');
    t.equal(initiate?.headers['x-amz-meta-sha256'], sha);
    const parts = mine.filter((r) => r.method === 'PUT' && 'partNumber' in r.query);
    t.equal(parts.length, Math.ceil(size / (5 * MiB)), 'parts of 5 MiB');
    for (const part of parts) {
      const checksum = Buffer.from(String(part.headers['x-amz-checksum-sha256']), 'base64').toString('hex');
      t.equal(
        part.headers['x-amz-content-sha256'],
        checksum,
        `part ${part.query.partNumber}: checksum = payload hash`,
      );
    }
    t.equal(mine.filter((r) => r.method === 'POST' && 'uploadId' in r.query).length, 1, 'completed once');
    t.same(await store.rehash(sha), { sha256: sha, size });
  },
);

t.test(
  "s3: head reports a checksum the service kept as verifiedSha256, never a composite one (a middleware plays MinIO's part)",
  async (t) => {
    const store = await s3Store('echo');
    const single = randomBytes(100);
    const multi = randomBytes(200);
    await store.put(sha256(single), { bytes: single }, single.length);
    await store.put(sha256(multi), { bytes: multi }, multi.length);
    compositePaths.add(`/${store.bucket}/${objectKey(sha256(multi))}`);
    t.same(await store.head(sha256(single)), {
      size: 100,
      verifiedSha256: sha256(single),
      metadataSha256: sha256(single),
    });
    t.same(await store.head(sha256(multi)), {
      size: 200,
      verifiedSha256: null,
      metadataSha256: sha256(multi),
    });
  },
);

t.test('s3: a service that ignores Range still gives exactly the range asked for', async (t) => {
  const store = await s3Store('norange');
  const bytes = randomBytes(10_000);
  const sha = sha256(bytes);
  await store.put(sha, { bytes }, bytes.length);
  const read = async (start: number, end: number) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(sha, { start, end })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  t.same(await read(0, 0), bytes.subarray(0, 1));
  t.same(await read(5000, 5009), bytes.subarray(5000, 5010));
  t.same(await read(9990, 20_000), bytes.subarray(9990));
  await t.rejects(store.get(sha, { start: 10_000, end: 10_001 }), RangeError);
});

t.test('s3: a service that refuses a body for its checksum (BadDigest) is STORE_HASH_MISMATCH', async (t) => {
  const store = await s3Store('baddigest');
  const bytes = randomBytes(100);
  await t.rejects(store.put(sha256(bytes), { bytes }, bytes.length), {
    code: 'STORE_HASH_MISMATCH',
    message: /S3 BadDigest/,
  });
});

t.test(
  's3: ensureBucket creates a missing bucket once (s3rver ignores object lock: the bucket is a plain one)',
  async (t) => {
    const store = createS3Store({ ...server, bucket: 'locked-evidence' });
    t.same(await store.ensureBucket({ objectLock: true }), { created: true });
    t.same(await store.ensureBucket({ objectLock: true }), { created: false });
    const bytes = Buffer.from('kept');
    t.same(await store.put(sha256(bytes), { bytes }, 4), { created: true });
  },
);

t.test(
  's3: what the service refuses is STORE_IO naming the S3 code; an unreachable service is STORE_IO',
  async (t) => {
    const sha = sha256(Buffer.from('x'));
    const stranger = createS3Store({ ...server, accessKey: 'NOT-A-KEY' });
    await t.rejects(stranger.get(sha), { code: 'STORE_IO', message: /S3 InvalidAccessKeyId/ });
    const noBucket = createS3Store({ ...server, bucket: 'no-such-bucket' });
    await t.rejects(noBucket.put(sha, { bytes: Buffer.from('x') }, 1), {
      code: 'STORE_IO',
      message: /NoSuchBucket/,
    });
    const closed = await startS3Server();
    await closed.close();
    const unreachable = createS3Store({ ...closed });
    await t.rejects(unreachable.head(sha), { code: 'STORE_IO', message: /ECONNREFUSED/ });
  },
);

t.test(
  "s3rver helper: minio's own putObject completes a multipart upload (the helper answers ListMultipartUploads)",
  async (t) => {
    const client = new Client({ ...server, partSize: 5 * MiB, region: 'us-east-1' });
    const bytes = randomBytes(11 * MiB);
    await client.putObject(server.bucket, 'through-minio', Readable.from([bytes]), bytes.length);
    t.equal((await client.statObject(server.bucket, 'through-minio')).size, bytes.length);
    t.equal(await client.findUploadId(server.bucket, 'through-minio'), undefined);
  },
);
