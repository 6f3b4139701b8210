/**
 * @module Mutual TLS for gateways (issue 10), on the embedded broker and the ingest HTTP API: a client
 * certificate is issued by the ingest CA for the gateway's enrolled Ed25519 key. With
 * `gatewayCertificates: required`, an approved gateway without one, with one from another CA, or with
 * one bound to another key or gateway is refused; a revoked gateway's key and certificate are refused
 * at the broker and at the HTTP API; the gateway's own uplink code connects with its certificate.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { connectGatewayMqtt } from '../../gateway/uplink/connect.ts';
import { startIngest } from '../../ingest/app.ts';
import { issueGatewayCertificate } from '../../ingest/tls/gateway-certificates.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { systemClock } from '../../protocol/time.ts';
import { makeCa, makeGatewayClientCertificate } from '../../protocol/tls/certificates.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting } from '../helpers/tls.ts';

const pemOf = (k: KeyPair) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

t.test('gateway client certificates bound to the enrolled key, and revocation', async (t) => {
  const dir = tmp(t, 'quanlu-tls-mtls-');
  const ingest = await startIngest(
    { dataDir: dir, mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 }, gatewayCertificates: 'required' },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => ingest.close());
  const ca = ingest.tls!.ca;

  const enroll = async (id: string, key: KeyPair) => {
    await ingest.repo.upsertEnrollment({
      id,
      fingerprint: key.publicKey.fingerprint,
      publicKey: key.publicKeyText,
      hostname: null,
    });
    return (await ingest.decide(key.publicKey.fingerprint, 'approved', 'test'))!;
  };
  const k1 = generateKeyPair();
  const k2 = generateKeyPair();
  const row1 = await enroll('gw-1', k1);
  const row2 = await enroll('gw-2', k2);
  const cert1 = await issueGatewayCertificate(ingest.tls, row1);
  const cert2 = await issueGatewayCertificate(ingest.tls, row2);

  /** Connects as `gateway` with a token signed by `token`, over TLS showing `cert` with `tlsKey`. */
  const connectAs = async (gateway: string, token: KeyPair, cert?: string, tlsKey?: KeyPair) => {
    const client = mqtt.connect(ingest.mqttUrl, {
      ca,
      rejectUnauthorized: true,
      clientId: gateway,
      username: gateway,
      password: makeMqttPassword(gateway, token, systemClock),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(cert ? { cert, key: pemOf(tlsKey ?? token) } : {}),
    });
    client.on('error', () => undefined);
    try {
      return await new Promise<string>((resolve) => {
        client.once('connect', () => resolve('connected'));
        client.once('error', (err) => resolve(`refused: ${err.message}`));
        client.once('close', () => resolve('closed'));
      });
    } finally {
      client.end(true);
    }
  };

  t.equal(
    await connectAs('gw-1', k1, cert1),
    'connected',
    'token and certificate of the enrolled key: admitted',
  );
  t.match(
    await connectAs('gw-1', k1),
    /refused: .*Not authorized/,
    'no client certificate: refused (required)',
  );
  const rogueCa = await makeCa('rogue CA');
  const rogue = await makeGatewayClientCertificate(rogueCa, 'gw-1', k1.publicKey.raw);
  t.match(await connectAs('gw-1', k1, rogue), /refused/, 'a certificate from another CA: refused');
  t.match(
    await connectAs('gw-1', k1, cert2, k2),
    /refused: .*Not authorized/,
    "another gateway's certificate (and key) beside gw-1's token: refused",
  );
  const otherKey = await makeGatewayClientCertificate(
    { certPem: ca, keyPem: ingest.tls!.caKey! },
    'gw-1',
    k2.publicKey.raw,
  );
  t.match(
    await connectAs('gw-1', k1, otherKey, k2),
    /refused: .*Not authorized/,
    'a certificate for gw-1 bound to another key than the enrolled one: refused',
  );

  // The HTTP API: a gateway certificate is judged on every request; browsers and tokens show none.
  const asGw1 = fetchTrusting({ ca, cert: cert1, key: pemOf(k1) });
  t.equal(
    (await asGw1(`${ingest.httpUrl}/api/v1/health`)).status,
    200,
    'an approved gateway certificate passes',
  );
  t.equal(
    (await fetchTrusting({ ca })(`${ingest.httpUrl}/api/v1/health`)).status,
    200,
    'no certificate passes',
  );
  const viaRogue = await fetchTrusting({ ca, cert: rogue, key: pemOf(k1) })(
    `${ingest.httpUrl}/api/v1/health`,
  );
  t.equal(viaRogue.status, 403, 'a certificate from another CA is refused');

  // The gateway's own uplink code: pinned CA file and its certificate file.
  const gwDir = tmp(t, 'quanlu-tls-mtls-gw-');
  writeFileSync(join(gwDir, 'ca.pem'), ca);
  writeFileSync(join(gwDir, 'gateway-cert.pem'), cert1);
  const uplink = connectGatewayMqtt(ingest.mqttUrl, 'gw-1', k1, systemClock, {
    caFile: join(gwDir, 'ca.pem'),
    pinFile: join(gwDir, 'ingest-ca.pem'),
    certFile: join(gwDir, 'gateway-cert.pem'),
  });
  await new Promise<void>((resolve) => uplink.once('connect', () => resolve()));
  t.pass("the gateway's uplink connects over mqtts with its client certificate");
  const kicked = new Promise<void>((resolve) => uplink.once('close', () => resolve()));

  // A stolen key: the administrator revokes gw-1. The thief holds its key and certificate.
  await ingest.decide(k1.publicKey.fingerprint, 'revoked', 'test');
  await kicked;
  t.pass('revoking disconnects the live gateway');
  await uplink.endAsync();
  t.match(
    await connectAs('gw-1', k1, cert1),
    /refused: .*Not authorized/,
    'the revoked key is refused at the broker',
  );
  const after = await asGw1(`${ingest.httpUrl}/api/v1/health`);
  t.equal(after.status, 403, 'the revoked gateway certificate is refused at the HTTP API');
  t.match(await after.json(), { error: { code: 'INGEST_FORBIDDEN' } });
  await t.rejects(
    issueGatewayCertificate(ingest.tls, await ingest.repo.gatewayById('gw-1')),
    {
      code: 'INGEST_GATEWAY_UNKNOWN',
    },
    'no new certificate for a revoked gateway',
  );
  t.equal(await connectAs('gw-2', k2, cert2), 'connected', 'the other gateway is unaffected');
});
