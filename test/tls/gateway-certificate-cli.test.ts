/**
 * @module `quanlu ingest gateways enroll | approve | certificate` (issue 10): a gateway's key given out
 * of band is recorded, approved, and issued a client certificate by the ingest CA that holds exactly
 * that key and names the gateway; a gateway not approved gets none; the id `ingest` (the ingest's own
 * MQTT user) is refused.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { generateKeyPair } from '../../protocol/keys.ts';
import { ed25519KeyOfCertificate } from '../../protocol/tls/certificates.ts';
import { TLS_FILES } from '../../protocol/tls/tls-files.ts';
import { tmp } from '../helpers/recording.ts';

const run = promisify(execFile);
const quanlu = (...args: string[]) => run(process.execPath, ['bin/quanlu.js', ...args]);

t.test('enroll, approve and certify a gateway from the command line', async (t) => {
  const dir = tmp(t, 'quanlu-cert-cli-');
  const config = join(dir, 'ingest.yaml');
  writeFileSync(config, `dataDir: ${join(dir, 'data')}\n`);
  const key = generateKeyPair();
  const out = join(dir, 'gateway-cert.pem');

  const enrolled = await quanlu('ingest', 'gateways', 'enroll', 'gw-cli', key.publicKeyText, '-c', config);
  t.match(enrolled.stdout, `gw-cli pending with key ${key.publicKey.fingerprint}`);
  await t.rejects(
    quanlu('ingest', 'gateways', 'certificate', 'gw-cli', '-c', config, '--out', out),
    /only an approved gateway/,
    'no certificate before approval',
  );
  await quanlu('ingest', 'gateways', 'approve', key.publicKey.fingerprint, '-c', config);
  const issued = await quanlu('ingest', 'gateways', 'certificate', 'gw-cli', '-c', config, '--out', out);
  t.match(issued.stdout, /wrote .*gateway-cert\.pem/);
  const cert = new X509Certificate(readFileSync(out));
  t.match(cert.subject, /CN=gw-cli/, 'names the gateway');
  t.same(ed25519KeyOfCertificate(cert), key.publicKey.raw, "holds the gateway's enrolled key");
  const ca = new X509Certificate(readFileSync(join(dir, 'data', 'tls', TLS_FILES.ca)));
  t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'issued by the ingest CA');
});

t.test('the command line refuses to enroll a gateway named ingest', async (t) => {
  const dir = tmp(t, 'quanlu-cert-cli-ingest-');
  const config = join(dir, 'ingest.yaml');
  writeFileSync(config, `dataDir: ${join(dir, 'data')}\n`);
  const key = generateKeyPair();
  const err = await quanlu('ingest', 'gateways', 'enroll', 'ingest', key.publicKeyText, '-c', config).then(
    () => null,
    (e: { stderr: string; code: number }) => e,
  );
  t.ok(err, 'the command fails');
  t.match(err?.stderr, /INGEST_GATEWAY_ID_RESERVED/, 'with the coded error');
  const list = await quanlu('ingest', 'gateways', 'list', '-c', config);
  t.match(list.stdout, /no gateway has asked to enroll yet/, 'and nothing is recorded');
});
