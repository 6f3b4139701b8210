/**
 * @module The S3 store over HTTPS with a configured CA (issue 10: compose's MinIO serves a certificate
 * from the ingest CA): s3rver on loopback behind a TLS proxy whose certificate the ingest CA generator
 * issued. A put and a get work when the store trusts that CA, and fail when it trusts another or none.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import t from 'tap';
import { makeCa, makeServerCertificate } from '../../protocol/tls/certificates.ts';
import { createS3Store } from '../../store/s3-store.ts';
import { tmp } from '../helpers/recording.ts';
import { startS3Server } from '../helpers/s3-server.ts';

t.test('the S3 store reaches an HTTPS endpoint through the configured CA, and only through it', async (t) => {
  const s3 = await startS3Server();
  t.teardown(() => s3.close());
  const ca = await makeCa('quanlu ingest CA (test)');
  const other = await makeCa('another CA');
  const server = await makeServerCertificate(ca, []);
  // TLS in front of s3rver: every connection is piped to it in plain text.
  const sockets = new Set<Socket>();
  const proxy = createServer({ cert: server.certPem, key: server.keyPem }, (tls) => {
    const plain = connect(s3.port, s3.endPoint);
    sockets.add(tls).add(plain);
    tls.pipe(plain).pipe(tls);
    const drop = () => {
      tls.destroy();
      plain.destroy();
    };
    tls.on('error', drop).on('close', drop);
    plain.on('error', drop).on('close', drop);
  });
  let handshakes = 0;
  proxy.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => resolve());
      }),
  );
  const port = (proxy.address() as { port: number }).port;
  const dir = tmp(t, 'quanlu-s3-tls-');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const otherFile = join(dir, 'other-ca.pem');
  writeFileSync(otherFile, other.certPem);
  const settings = {
    endPoint: 'localhost',
    port,
    useSSL: true,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    bucket: s3.bucket,
  };

  const body = Buffer.from('evidence over TLS');
  const sha256 = createHash('sha256').update(body).digest('hex');
  const store = createS3Store({ ...settings, caFile });
  t.same(
    await store.put(sha256, { bytes: body }, body.length),
    { created: true },
    'put over HTTPS with the CA',
  );
  const back = await store.get(sha256);
  const chunks: Buffer[] = [];
  for await (const c of back) chunks.push(c as Buffer);
  t.same(Buffer.concat(chunks), body, 'and read back');
  t.ok(handshakes > 0, 'through the TLS proxy');

  // A gateway starts before the ingest CA is copied to it: the store is made, requests fail until the file is there.
  const laterFile = join(dir, 'later-ca.pem');
  const early = createS3Store({ ...settings, caFile: laterFile });
  await t.rejects(early.head(sha256), /cannot read the S3 CA file/, 'no CA file yet: the request fails');
  writeFileSync(laterFile, ca.certPem);
  t.equal((await early.head(sha256))?.size, body.length, 'once it is there, the same store works');

  await t.rejects(
    createS3Store({ ...settings, caFile: otherFile }).head(sha256),
    /certificate|self.signed|verify/i,
    'a store trusting another CA is refused',
  );
  await t.rejects(
    createS3Store(settings).head(sha256),
    /certificate|self.signed|verify/i,
    'a store trusting only the system CAs is refused',
  );
});
