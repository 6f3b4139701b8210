/** @module openStore and the store config: the settings the gateway and ingest configs embed, and the backend they pick. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';
import { openStore } from '../../store/open-store.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { FsStoreConfig, S3StoreConfig, StoreConfig } from '../../store/store-config.ts';
import { startS3Server } from '../helpers/s3-server.ts';

const bytes = Buffer.from('a segment');
const sha = createHash('sha256').update(bytes).digest('hex');

t.test('an fs config opens a folder store', async (t) => {
  const root = join(t.testdir(), 'objects');
  const store = openStore({ kind: 'fs', root });
  t.equal(store.kind, 'fs');
  t.same(await store.put(sha, { bytes }, bytes.length), { created: true });
  t.equal((await store.head(sha))?.size, bytes.length);
});

t.test(
  'an s3 config opens an S3 store (region defaults to us-east-1); ensureBucket makes it ready',
  async (t) => {
    const server = await startS3Server();
    t.teardown(() => server.close());
    const { endPoint, port, useSSL, accessKey, secretKey } = server;
    const store = openStore({ kind: 's3', endPoint, port, useSSL, accessKey, secretKey, bucket: 'opened' });
    if (store.kind !== 's3') throw new Error('expected an S3 store');
    t.equal(store.bucket, 'opened');
    t.same(await store.ensureBucket(), { created: true });
    t.same(await store.put(sha, { bytes }, bytes.length), { created: true });
    t.same(await store.rehash(sha), { sha256: sha, size: bytes.length });
  },
);

t.test('a bad config is refused with a ZodError naming the field, before anything is opened', async (t) => {
  const good = {
    kind: 's3',
    endPoint: 'minio.local',
    port: 9000,
    useSSL: true,
    accessKey: 'a',
    secretKey: 'b',
    bucket: 'evidence',
  } as const;
  const refused = (config: unknown) => {
    try {
      openStore(config as z.input<typeof StoreConfig>);
    } catch (err) {
      return err instanceof z.ZodError ? err.issues.map((i) => i.path.join('.')) : err;
    }
    return null;
  };
  t.same(refused({ ...good, endPoint: 'https://minio.local' }), ['endPoint']);
  t.same(refused({ ...good, bucket: 'Evidence_2024' }), ['bucket']);
  t.same(refused({ ...good, port: 0 }), ['port']);
  t.same(refused({ kind: 'fs', root: '' }), ['root']);
  t.same(refused({ kind: 'ftp' }), ['kind']);
  t.throws(() => createS3Store({ ...good, partSize: 1024 }), RangeError, 'a part size under S3 minimum');
});

t.test('every store setting describes itself, and the config exports as JSON Schema', async (t) => {
  for (const schema of [FsStoreConfig, S3StoreConfig]) {
    for (const [field, type] of Object.entries(schema.shape)) {
      t.ok((type as z.ZodType).description, `${field} has a description`);
    }
  }
  const json = JSON.stringify(z.toJSONSchema(StoreConfig, { io: 'input' }));
  t.match(json, /region the bucket is in/);
});
