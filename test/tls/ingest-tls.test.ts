/**
 * @module TLS of the ingest (issue 10): by default the ingest makes its CA and server certificate on
 * first start (keys 0600), prints the CA fingerprint, and speaks only HTTPS and mqtts. A client without
 * the CA, a client trusting another CA, and a client speaking plain text to a TLS listener are refused.
 */
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import {
  certificateFingerprint,
  displayCertificateFingerprint,
  makeCa,
} from '../../protocol/tls/certificates.ts';
import { TLS_FILES } from '../../protocol/tls/tls-files.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting } from '../helpers/tls.ts';

/** A pino logger into a string. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), text: () => text };
}

/** Connects once, no retry; resolves 'connected' or the error message. */
async function mqttOutcome(url: string, opts: mqtt.IClientOptions = {}): Promise<string> {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `probe-${Math.random().toString(36).slice(2)}`,
    username: 'probe',
    password: 'probe',
    ...opts,
  });
  client.on('error', () => undefined); // a refused handshake may be reported more than once
  try {
    return await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (err) => resolve(`error: ${err.message}`));
      client.once('close', () => resolve('closed'));
    });
  } finally {
    client.end(true);
  }
}

t.test('the default ingest speaks TLS with a CA of its own, made on first start', async (t) => {
  const dir = tmp(t, 'quanlu-tls-ingest-');
  const logged = capture();
  const ingest = await startIngest(
    { dataDir: dir, mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } },
    { log: logged.log },
  );
  t.teardown(() => ingest.close());
  t.match(ingest.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/, 'the API is HTTPS');
  t.match(ingest.mqttUrl, /^mqtts:\/\/127\.0\.0\.1:\d+$/, 'the broker is mqtts');

  const tlsDir = join(dir, 'tls');
  for (const f of [TLS_FILES.caKey, TLS_FILES.key])
    t.equal(statSync(join(tlsDir, f)).mode & 0o777, 0o600, `${f} is readable by its owner only`);
  const ca = readFileSync(join(tlsDir, TLS_FILES.ca), 'utf8');
  const fp = certificateFingerprint(ca);
  t.equal(ingest.tls?.caFingerprint, fp);
  t.match(logged.text(), displayCertificateFingerprint(fp), 'the CA fingerprint is printed at start');
  const keyBody = readFileSync(join(tlsDir, TLS_FILES.caKey), 'utf8').split('\n')[1]!;
  t.notMatch(logged.text(), keyBody, 'the CA key is never logged');
  t.notMatch(logged.text(), /TLS IS OFF/, 'no plain-text warning');

  const trusted = fetchTrusting({ ca });
  const health = await trusted(`${ingest.httpUrl}/api/v1/health`);
  t.equal(health.status, 200, 'a client trusting the ingest CA is served');
  t.equal(
    health.headers.get('strict-transport-security')?.startsWith('max-age='),
    true,
    'HSTS is sent over HTTPS',
  );
  t.match(await (await trusted(`${ingest.httpUrl}/api/v1/transport`)).json(), {
    tls: true,
    caFingerprint: fp,
    gatewayCertificates: 'optional',
  });

  await t.rejects(
    fetch(`${ingest.httpUrl}/api/v1/health`),
    'a client without the CA (system CAs only) is refused',
  );
  const other = await makeCa('another CA');
  await t.rejects(
    fetchTrusting({ ca: other.certPem })(`${ingest.httpUrl}/api/v1/health`),
    /self.signed|unable to verify|certificate/i,
    'a client trusting another CA is refused',
  );
  const plainHttp = await new Promise<string>((resolve) => {
    const req = httpRequest(`${ingest.httpUrl.replace('https:', 'http:')}/api/v1/health`, (res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    req.on('error', (err) => resolve(`error: ${err.message}`));
    req.end();
  });
  t.notMatch(plainHttp, /status 2\d\d/, `plain HTTP to the HTTPS listener gets no answer (${plainHttp})`);

  const mqttPort = new URL(ingest.mqttUrl).port;
  t.match(
    await mqttOutcome(`mqtt://127.0.0.1:${mqttPort}`),
    /^(error|closed)/,
    'plain-text MQTT to the mqtts listener is refused',
  );
  t.match(
    await mqttOutcome(ingest.mqttUrl, { rejectUnauthorized: true }),
    /self.signed|unable to verify|certificate/i,
    'mqtts without the CA is refused',
  );
  t.match(
    await mqttOutcome(ingest.mqttUrl, { ca: other.certPem, rejectUnauthorized: true }),
    /self.signed|unable to verify|certificate/i,
    'mqtts trusting another CA is refused',
  );
  t.match(
    await mqttOutcome(ingest.mqttUrl, { ca, rejectUnauthorized: true }),
    /Bad username or password|Not authorized|error/,
    'with the CA the TLS handshake passes and the broker judges the CONNECT (bad credentials here)',
  );
});

t.test(
  'a restarted ingest keeps its CA; a new host name gets a new server certificate from it',
  async (t) => {
    const dir = tmp(t, 'quanlu-tls-restart-');
    const quiet = pino({ level: 'silent' });
    const first = await startIngest(
      { dataDir: dir, mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } },
      { log: quiet },
    );
    const fp = first.tls!.caFingerprint;
    t.equal(first.tls!.created, true, 'made on first start');
    await first.close();
    const second = await startIngest(
      {
        dataDir: dir,
        // On every address: the ingest's own client still checks the broker's certificate (as localhost).
        mqtt: { kind: 'embedded', host: '0.0.0.0', port: 0 },
        http: { port: 0 },
        tls: { names: ['ingest.example'] },
      },
      { log: quiet },
    );
    t.teardown(() => second.close());
    t.equal(second.tls!.created, false, 'kept');
    t.ok(second.mqtt.connected, "the ingest's client is connected to its own broker over mqtts");
    t.equal(second.tls!.caFingerprint, fp, 'the same CA');
    const { X509Certificate } = await import('node:crypto');
    const leaf = new X509Certificate(second.tls!.cert);
    t.ok(leaf.checkHost('ingest.example'), 'the server certificate names the configured host');
    t.ok(leaf.checkIssued(new X509Certificate(second.tls!.ca)), 'issued by the kept CA');
  },
);
