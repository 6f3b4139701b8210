/**
 * @module Compose's MinIO on TLS (issue 10), checked without a Docker engine: minio-certs writes MinIO's
 * certificate from the ingest CA into the volume MinIO reads as its certs directory, and every S3 client
 * of the deployment (gateway, both nodes, mc in minio-init) speaks https to it trusting that CA.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { MINIO_CERT_FILES, writeMinioCerts } from '../../docker/minio/write-minio-certs.ts';
import { readConfigFile } from '../../firmware-config/config-file.ts';
import { StoreConfig } from '../../store/store-config.ts';
import { tmp } from '../helpers/recording.ts';

const DOCKER = resolve(import.meta.dirname, '../../docker');
type Service = {
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

t.test('MinIO reads its certificate from the volume minio-certs writes, and waits for it', async (t) => {
  const { minio, 'minio-certs': writer, 'minio-init': init } = compose.services;
  t.ok(minio && writer && init);
  const certsDir = minio!.command![minio!.command!.indexOf('--certs-dir') + 1];
  t.equal(certsDir, '/root/.minio/certs');
  t.ok(minio!.volumes!.includes(`minio-certs:${certsDir}:ro`), 'the volume is MinIO certs directory');
  t.equal(minio!.depends_on?.['minio-certs']?.condition, 'service_completed_successfully');
  t.equal(
    writer!.depends_on?.['mqtt-auth']?.condition,
    'service_completed_successfully',
    'after the CA exists',
  );
  t.ok(writer!.volumes!.includes('minio-certs:/minio-certs'));
  t.match(writer!.entrypoint!.at(-1), /docker\/minio\/write-minio-certs\.ts$/);
  t.ok(init!.volumes!.includes('minio-certs:/root/.mc/certs:ro'), 'mc trusts the ingest CA');
  t.match(
    readFileSync(join(DOCKER, 'minio/init-bucket.sh'), 'utf8'),
    /mc alias set local "https:\/\/minio:9000"/,
  );
  t.match(
    readFileSync(join(DOCKER, 'ingest.Dockerfile'), 'utf8'),
    /COPY docker\/minio\/write-minio-certs\.ts/,
  );
});

t.test('every S3 store of the deployment uses https and trusts the ingest CA', async (t) => {
  const files = {
    'gateway/gateway.yaml': '/data/ingest-ca.pem',
    'ingest/ingest-1.yaml': '/data/tls/ca.pem',
    'ingest/ingest-2.yaml': '/data/tls/ca.pem',
  };
  for (const [file, caFile] of Object.entries(files)) {
    const config = (await readConfigFile(join(DOCKER, file))) as {
      store?: unknown;
      ingest?: { store?: unknown };
    };
    const store = StoreConfig.parse(config.ingest?.store ?? config.store);
    t.match(store, { kind: 's3', endPoint: 'minio', useSSL: true, caFile }, file);
  }
});

t.test('write-minio-certs writes a certificate for minio from the ingest CA, and its key', async (t) => {
  const dir = tmp(t, 'quanlu-minio-certs-');
  const config = join(dir, 'ingest.json');
  await writeFile(config, JSON.stringify({ dataDir: join(dir, 'data') }));
  const out = join(dir, 'certs');
  await writeMinioCerts(config, out);
  const ca = new X509Certificate(readFileSync(join(out, MINIO_CERT_FILES.ca)));
  t.same(ca.raw, new X509Certificate(readFileSync(join(dir, 'data/tls/ca.pem'))).raw, 'the ingest CA');
  const leaf = new X509Certificate(readFileSync(join(out, MINIO_CERT_FILES.cert)));
  t.ok(leaf.verify(ca.publicKey), 'issued by the ingest CA');
  t.ok(leaf.checkHost('minio'), 'for the host name minio');
  t.ok(leaf.checkHost('localhost'), 'and localhost (the health check)');
  t.notOk(leaf.checkHost('mosquitto'), 'not for another host');
  t.equal(statSync(join(out, MINIO_CERT_FILES.key)).mode & 0o077, 0, 'the key is private');
  t.ok(
    leaf.checkPrivateKey(createPrivateKey(readFileSync(join(out, MINIO_CERT_FILES.key)))),
    'the key matches',
  );
});
