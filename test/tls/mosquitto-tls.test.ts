/**
 * @module A real Mosquitto with the files quanlu generates (issue 10): the gateway listener demands a
 * client certificate from the ingest CA and takes its CN as the user; the ingest logs in by password
 * on its own TLS listener. Refused: a client without the CA, a certificate from another CA, a client
 * without a certificate, plain text to the TLS listener, and, once the files are rewritten and
 * Mosquitto reloads them (SIGHUP), the certificate of a revoked gateway whose key was stolen, and
 * that certificate still after the gateway is enrolled again with a new key and approved (the CRL
 * is built from the database's history of revoked and replaced keys, on PGlite here).
 */
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
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
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository, type Repository } from '../../ingest/db/repository.ts';
import type { GatewayRow } from '../../ingest/db/rows.ts';
import { IngestError } from '../../ingest/errors.ts';
import { issueGatewayCertificate } from '../../ingest/tls/gateway-certificates.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import {
  type CertificateAndKey,
  gatewayCertificateSerial,
  makeCa,
  makeGatewayClientCertificate,
  makeServerCertificate,
} from '../../protocol/tls/certificates.ts';
import type { TlsMaterial } from '../../protocol/tls/tls-files.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { DATABASE_BACKENDS } from '../helpers/databases.ts';
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
  writeFileSync(file('crl'), await mosquittoCrl(gateways, [], ca));
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
  writeFileSync(file('crl'), await mosquittoCrl(revoked, [], ca));
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

/** What an ingest holding this CA and its key has (only ca and caKey matter for issuing). */
function tlsOf(ca: CertificateAndKey): TlsMaterial {
  return {
    cert: ca.certPem,
    key: ca.keyPem,
    ca: ca.certPem,
    caFingerprint: '',
    caKey: ca.keyPem,
    created: false,
  };
}

/** The gateways and revoked keys of the database, as docker/mosquitto/write-auth-files.ts reads them. */
async function filesFrom(repo: Repository) {
  const gateways: MosquittoGateway[] = (await repo.listGateways()).map((g) => ({
    gateway: g.id,
    status: g.status,
    fingerprint: g.fingerprint,
  }));
  return { gateways, revokedKeys: await repo.revokedKeys() };
}

t.test("Mosquitto over TLS: a re-enrolled gateway's old certificate stays refused", async (t) => {
  const pglite = DATABASE_BACKENDS.find((b) => b.name === 'pglite')!;
  const { db } = await pglite.open(t);
  await migrate(db);
  const repo = createRepository(db);
  const dir = mkdtempSync(join(tmpdir(), 'quanlu-mosquitto-rekey-'));
  const ca = await makeCa('quanlu ingest CA (re-key test)');
  const server = await makeServerCertificate(ca, []);
  const file = (name: keyof typeof MOSQUITTO_TLS_FILES) => join(dir, MOSQUITTO_TLS_FILES[name]);
  writeFileSync(file('ca'), ca.certPem);
  writeFileSync(file('cert'), server.certPem);
  writeFileSync(file('key'), server.keyPem, { mode: 0o600 });

  // gw-g enrolls with K1, is approved, and gets certificate C1 from the ingest CA.
  const k1 = generateKeyPair();
  const enroll = (k: KeyPair) =>
    repo.upsertEnrollment({
      id: 'gw-g',
      fingerprint: k.publicKey.fingerprint,
      publicKey: k.publicKeyText,
      hostname: null,
    });
  await enroll(k1);
  await repo.decideGateway(k1.publicKey.fingerprint, 'approved', 'admin');
  const tls = tlsOf(ca);
  const c1 = await issueGatewayCertificate(tls, await repo.gatewayById('gw-g'));

  let files = await filesFrom(repo);
  writeFileSync(file('crl'), await mosquittoCrl(files.gateways, files.revokedKeys, ca));
  const port = await freePort();
  const broker = await startMosquitto({
    dir,
    passwordFile: mosquittoPasswordFile(files.gateways, SECRET),
    aclFile: mosquittoAclFile(files.gateways),
    config: mosquittoTlsListener(port, '127.0.0.1', dir, { gateways: true }),
  });
  t.teardown(async () => {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `mqtts://127.0.0.1:${port}`;
  const pem = (k: KeyPair) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const asG = (cert: string, k: KeyPair) => ({ ca: ca.certPem, cert, key: pem(k), clientId: 'gw-g' });
  t.equal(await outcome(url, asG(c1, k1)), 'connected', 'C1 with K1 is admitted while K1 is approved');

  // K1 and C1 are stolen: gw-g is revoked, enrolled again with K2, approved, and gets C2.
  await repo.decideGateway(k1.publicKey.fingerprint, 'revoked', 'admin');
  const k2 = generateKeyPair();
  t.match(await enroll(k2), { id: 'gw-g', status: 'pending', fingerprint: k2.publicKey.fingerprint });
  await repo.decideGateway(k2.publicKey.fingerprint, 'approved', 'admin');
  const c2 = await issueGatewayCertificate(tls, await repo.gatewayById('gw-g'));

  // The files are written again from the database; Mosquitto reloads them (SIGHUP).
  files = await filesFrom(repo);
  t.same(
    files.gateways.map((g) => g.status),
    ['approved'],
    'gw-g is approved again: no gateway is revoked now',
  );
  const crl = await mosquittoCrl(files.gateways, files.revokedKeys, ca);
  const listed = new x509.X509Crl(crl).entries.map((e) => e.serialNumber.toLowerCase());
  const serial = (k: KeyPair) => gatewayCertificateSerial('gw-g', k.publicKey.fingerprint);
  t.ok(listed.includes(serial(k1)), "the CRL still names K1's certificates");
  t.notOk(listed.includes(serial(k2)), "and not K2's");
  t.equal(new X509Certificate(c1).serialNumber.toLowerCase(), serial(k1), "C1's serial is the one named");
  broker.writeAuthFiles({
    passwordFile: mosquittoPasswordFile(files.gateways, SECRET),
    aclFile: mosquittoAclFile(files.gateways),
  });
  writeFileSync(file('crl'), crl);
  await broker.reload();
  t.match(
    await outcome(url, asG(c1, k1)),
    /refused: .*revoked/i,
    'the stolen C1 (CN=gw-g, from the ingest CA, still within its year) is refused in the handshake',
  );
  t.equal(await outcome(url, asG(c2, k2)), 'connected', 'the re-enrolled gateway connects with C2');
});

t.test('no certificate for the id ingest, even from a record that names it approved', async (t) => {
  const ca = await makeCa('quanlu ingest CA (reserved id test)');
  const key = generateKeyPair();
  const row: GatewayRow = {
    id: 'ingest',
    fingerprint: key.publicKey.fingerprint,
    publicKey: key.publicKeyText,
    status: 'approved',
    hostname: null,
    requestedAt: new Date().toISOString(),
    decidedAt: new Date().toISOString(),
    decidedBy: 'admin',
  };
  const tls = tlsOf(ca);
  const err = await issueGatewayCertificate(tls, row).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof IngestError, 'an IngestError');
  t.equal((err as IngestError | null)?.code, 'INGEST_GATEWAY_ID_RESERVED');
  t.match(
    mosquittoAclFile([{ gateway: 'ingest', status: 'approved', fingerprint: key.publicKey.fingerprint }]),
    /^# generated by quanlu: do not edit\nuser ingest\ntopic readwrite quanlu\/v1\/#\n$/,
    'and a gateway row named ingest adds nothing to the ACL',
  );
});
