/**
 * @module A real Mosquitto with the files quanlu generates (issue 10): the gateway listener demands a
 * client certificate from the ingest CA and takes its CN as the user; the ingest logs in by password
 * on its own TLS listener. Refused: a client without the CA, a certificate from another CA, a client
 * without a certificate, plain text to the TLS listener, and, once the files are rewritten and
 * Mosquitto reloads them (SIGHUP), the certificate of a revoked gateway whose key was stolen.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import {
  MOSQUITTO_TLS_FILES,
  type MosquittoGateway,
  mosquittoAclFile,
  mosquittoCrl,
  mosquittoIngestPassword,
  mosquittoPasswordFile,
  mosquittoTlsListener,
} from '../../ingest/broker/mosquitto-files.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import {
  makeCa,
  makeGatewayClientCertificate,
  makeServerCertificate,
} from '../../protocol/tls/certificates.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

const SECRET = 'mosquitto-tls-test-secret-0123456789abcdefgh';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Connects once, no retry: 'connected' or why not. */
async function outcome(url: string, opts: mqtt.IClientOptions): Promise<string> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
  client.on('error', () => undefined);
  const result = await new Promise<string>((resolve) => {
    client.once('connect', () => resolve('connected'));
    client.once('error', (err) => resolve(`refused: ${err.message}`));
    client.once('close', () => resolve('closed'));
  });
  client.end(true);
  return result;
}

t.test('Mosquitto over TLS: gateways by client certificate, revocation by CRL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quanlu-mosquitto-tls-'));
  const ca = await makeCa('quanlu ingest CA (test)');
  const server = await makeServerCertificate(ca, []);
  const file = (name: keyof typeof MOSQUITTO_TLS_FILES) => join(dir, MOSQUITTO_TLS_FILES[name]);
  writeFileSync(file('ca'), ca.certPem);
  writeFileSync(file('cert'), server.certPem);
  writeFileSync(file('key'), server.keyPem, { mode: 0o600 });

  const k1 = generateKeyPair();
  const k2 = generateKeyPair();
  const gateways: MosquittoGateway[] = [
    { gateway: 'gw-1', status: 'approved', fingerprint: k1.publicKey.fingerprint },
    { gateway: 'gw-2', status: 'approved', fingerprint: k2.publicKey.fingerprint },
  ];
  writeFileSync(file('crl'), await mosquittoCrl(gateways, ca));
  const [gatewayPort, ingestPort] = [await freePort(), await freePort()];
  const broker = await startMosquitto({
    dir,
    passwordFile: mosquittoPasswordFile(gateways, SECRET),
    aclFile: mosquittoAclFile(gateways),
    config: [
      ...mosquittoTlsListener(gatewayPort, '127.0.0.1', dir, { gateways: true }),
      ...mosquittoTlsListener(ingestPort, '127.0.0.1', dir, { gateways: false }),
    ],
  });
  t.teardown(async () => {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const gatewayUrl = `mqtts://127.0.0.1:${gatewayPort}`;
  const pem = (k: KeyPair) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const cert1 = await makeGatewayClientCertificate(ca, 'gw-1', k1.publicKey.raw);
  const asGw1 = { ca: ca.certPem, cert: cert1, key: pem(k1), clientId: 'gw-1', username: 'gw-1' };

  t.equal(
    await outcome(gatewayUrl, asGw1),
    'connected',
    'an approved gateway with its certificate is admitted',
  );
  t.equal(
    await outcome(`mqtts://127.0.0.1:${ingestPort}`, {
      ca: ca.certPem,
      clientId: 'quanlu-ingest-1',
      username: 'ingest',
      password: mosquittoIngestPassword(SECRET),
    }),
    'connected',
    'the ingest logs in by password on its TLS listener',
  );
  t.match(
    await outcome(gatewayUrl, { ...asGw1, ca: undefined }),
    /refused: .*(self.signed|certificate)/i,
    'no CA: refused',
  );
  const rogueCa = await makeCa('rogue');
  t.match(
    await outcome(gatewayUrl, { ...asGw1, ca: rogueCa.certPem }),
    /refused: .*(self.signed|certificate)/i,
    'trusting another CA: refused',
  );
  const rogue = await makeGatewayClientCertificate(rogueCa, 'gw-1', k1.publicKey.raw);
  t.match(
    await outcome(gatewayUrl, { ...asGw1, cert: rogue }),
    /refused|closed/,
    'a certificate from another CA: refused',
  );
  t.match(
    await outcome(gatewayUrl, { ca: ca.certPem, clientId: 'gw-1', username: 'gw-1', password: 'x' }),
    /refused|closed/,
    'no client certificate: refused',
  );
  t.match(
    await outcome(`mqtt://127.0.0.1:${gatewayPort}`, { clientId: 'gw-1', username: 'gw-1', password: 'x' }),
    /refused|closed/,
    'plain text to the TLS listener: refused',
  );

  // gw-1's key is stolen; the administrator revokes it; the files are rewritten; Mosquitto reloads.
  const gw1Topic = gatewayTopic('gw-1', 'entry');
  const revoked: MosquittoGateway[] = [{ ...gateways[0]!, status: 'revoked' }, gateways[1]!];
  broker.writeAuthFiles({
    passwordFile: mosquittoPasswordFile(revoked, SECRET),
    aclFile: mosquittoAclFile(revoked),
  });
  writeFileSync(file('crl'), await mosquittoCrl(revoked, ca));
  await broker.reload();
  t.match(
    await outcome(gatewayUrl, asGw1),
    /refused: .*revoked/i,
    `the revoked gateway's key and certificate are refused in the handshake`,
  );
  t.notMatch(mosquittoAclFile(revoked), gw1Topic, 'and its topics are gone from the ACL');
  const cert2 = await makeGatewayClientCertificate(ca, 'gw-2', k2.publicKey.raw);
  t.equal(
    await outcome(gatewayUrl, {
      ca: ca.certPem,
      cert: cert2,
      key: pem(k2),
      clientId: 'gw-2',
      username: 'gw-2',
    }),
    'connected',
    'the other gateway is unaffected',
  );
});
