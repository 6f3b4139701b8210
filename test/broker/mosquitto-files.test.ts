import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import t, { type Test } from 'tap';
import { INGEST_USERNAME, newIngestSecret } from '../../ingest/broker/ingest-secret.ts';
import {
  hashMosquittoPassword,
  type MosquittoGateway,
  mosquittoAclFile,
  mosquittoIngestPassword,
  mosquittoPasswordFile,
  mosquittoPasswordFor,
} from '../../ingest/broker/mosquitto-files.ts';
import { everyGateway, gatewayTopic } from '../../protocol/topics.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { closed, collect, connected, keyOf, nextMessage, refused, subscribeCodes } from './broker-harness.ts';

const SECRET = newIngestSecret();
const FP = {
  a: keyOf(1).publicKey.fingerprint,
  b: keyOf(2).publicKey.fingerprint,
  c: keyOf(3).publicKey.fingerprint,
  d: keyOf(4).publicKey.fingerprint,
};
const GATEWAYS: MosquittoGateway[] = [
  { gateway: 'gw-b', status: 'approved', fingerprint: FP.b },
  { gateway: 'gw-a', status: 'approved', fingerprint: FP.a },
  { gateway: 'gw-c', status: 'revoked', fingerprint: FP.c },
  { gateway: 'gw-d', status: 'pending', fingerprint: FP.d },
];

/** A Mosquitto with the generated files, and clients that are closed before it stops. */
async function startBroker(t: Test, gateways = GATEWAYS) {
  const broker = await startMosquitto({
    passwordFile: mosquittoPasswordFile(gateways, SECRET),
    aclFile: mosquittoAclFile(gateways),
  });
  const clients: MqttClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.dispose();
  });
  function client(options: IClientOptions): MqttClient {
    const c = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
    c.on('error', () => {}); // refusals are awaited through refused()
    clients.push(c);
    return c;
  }
  return {
    broker,
    client,
    gateway: (id: 'gw-a' | 'gw-b' | 'gw-c', options: IClientOptions = {}) =>
      client({
        clientId: id,
        username: id,
        password: mosquittoPasswordFor(SECRET, id, FP[id.slice(3) as 'a' | 'b' | 'c']),
        ...options,
      }),
    ingest: (options: IClientOptions = {}) =>
      client({
        clientId: 'ingest:test',
        username: INGEST_USERNAME,
        password: mosquittoIngestPassword(SECRET),
        ...options,
      }),
  };
}

t.test(
  'passwords are hashed exactly as mosquitto_passwd hashes them ($7$, PBKDF2-SHA512, 101 rounds)',
  async (t) => {
    // Written by mosquitto_passwd 2.0.11 for the password "secret123".
    const known =
      '$7$101$qp/KcoyxLaQXUN++$ai7lQvWqC2S4QEDSXTfczk5Zv4SbPUS/aLCgNaaUfAT9SGghKlwWCBydrbGf+r7gm8SbdJ5aCkOQr0QxvEYXbQ==';
    t.equal(hashMosquittoPassword('secret123', Buffer.from('qp/KcoyxLaQXUN++', 'base64')), known);

    const dir = mkdtempSync(join(tmpdir(), 'quanlu-passwd-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'passwd');
    writeFileSync(file, '');
    const run = spawnSync('mosquitto_passwd', ['-b', file, 'gw-a', 'another password'], { encoding: 'utf8' });
    t.equal(run.status, 0, run.stderr);
    const line = readFileSync(file, 'utf8').trim();
    const [, , iterations, salt] = line.split('$'); // gw-a:$7$<iterations>$<salt>$<hash>
    t.equal(
      `gw-a:${hashMosquittoPassword('another password', Buffer.from(salt!, 'base64'), Number(iterations))}`,
      line,
    );
  },
);

t.test(
  'the files hold the ingest and the approved gateways only, sorted, with their own topics',
  async (t) => {
    const fixedSalt = () => Buffer.alloc(12, 7);
    const passwd = mosquittoPasswordFile(GATEWAYS, SECRET, { salt: fixedSalt });
    t.same(
      passwd.split('\n').map((l) => l.split(':')[0]),
      ['ingest', 'gw-a', 'gw-b', ''],
    );
    t.match(passwd, /^ingest:\$7\$101\$BwcHBwcHBwcHBwcH\$[A-Za-z0-9+/]{86}==\n/);
    t.equal(mosquittoPasswordFile(GATEWAYS, SECRET, { salt: fixedSalt }), passwd, 'stable for a given salt');

    const acl = mosquittoAclFile(GATEWAYS);
    t.match(acl, 'user ingest\ntopic readwrite quanlu/v1/#\n');
    t.match(acl, `user gw-a\ntopic write ${gatewayTopic('gw-a', 'entry')}\n`);
    t.match(acl, `topic read ${gatewayTopic('gw-a', 'ack')}\n`);
    t.notMatch(acl, /gw-c|gw-d|#.*gw-/, 'no revoked or pending gateway, no wildcard for a gateway');
    t.equal(acl.match(/^topic write quanlu\/v1\/gw\/gw-b\//gm)?.length, 8);
    t.equal(acl.match(/^topic read quanlu\/v1\/gw\/gw-b\//gm)?.length, 5);

    t.throws(() => mosquittoAclFile([{ gateway: 'gw-a\nuser evil', status: 'approved', fingerprint: FP.a }]));
    t.throws(() => mosquittoPasswordFor(SECRET, 'gw-a', 'not a fingerprint'));
    t.throws(() => mosquittoPasswordFile(GATEWAYS, 'short'), /at least 32/);
    t.not(
      mosquittoPasswordFor(SECRET, 'gw-a', FP.a),
      mosquittoPasswordFor(SECRET, 'gw-a', FP.b),
      'a new key, a new password',
    );
    t.not(mosquittoPasswordFor(SECRET, 'gw-a', FP.a), mosquittoPasswordFor(newIngestSecret(), 'gw-a', FP.a));
  },
);

t.test(
  'on Mosquitto an approved gateway publishes its own topics only; the ingest sees only those',
  async (t) => {
    const m = await startBroker(t);
    const ingest = m.ingest();
    await connected(ingest);
    await ingest.subscribeAsync(everyGateway('entry'), { qos: 1 });
    const received = collect(ingest);
    const a = m.gateway('gw-a');
    await connected(a);

    // Mosquitto acknowledges a PUBLISH its ACL denies and drops it [MQTT-3.3.5-2]; the connection stays.
    await a.publishAsync(gatewayTopic('gw-b', 'entry'), 'forged', { qos: 1 });
    const own = nextMessage(ingest, gatewayTopic('gw-a', 'entry'));
    await a.publishAsync(gatewayTopic('gw-a', 'entry'), 'genuine', { qos: 1 });
    await own; // same publisher, same connection: the forgery would have been routed first
    t.same(received, [{ topic: gatewayTopic('gw-a', 'entry'), payload: 'genuine' }]);

    // Mosquitto 2.0.11 grants a v3.1.1 subscription it will never deliver to: the ACL holds at delivery.
    t.same(await subscribeCodes(a, [gatewayTopic('gw-b', 'ack'), gatewayTopic('gw-a', 'ack')]), [1, 1]);
    const acks = collect(a);
    const ownAck = nextMessage(a, gatewayTopic('gw-a', 'ack'));
    await ingest.publishAsync(gatewayTopic('gw-b', 'ack'), 'for b', { qos: 1 });
    await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), 'for a', { qos: 1 });
    await ownAck;
    t.same(acks, [{ topic: gatewayTopic('gw-a', 'ack'), payload: 'for a' }]);
  },
);

t.test('on Mosquitto a wrong, revoked or re-keyed password is refused', async (t) => {
  const m = await startBroker(t);
  t.ok(await refused(m.gateway('gw-a', { password: 'wrong' })), 'a wrong password');
  t.ok(await refused(m.gateway('gw-c')), 'a revoked gateway has no password');
  t.ok(
    await refused(m.gateway('gw-a', { password: mosquittoPasswordFor(SECRET, 'gw-a', FP.b) })),
    'the password of another key',
  );
  t.ok(await refused(m.ingest({ password: SECRET })), 'the raw ingest secret is not the ingest password');
  t.ok(await refused(m.client({ clientId: 'anon' })), 'no anonymous clients');
  await connected(m.gateway('gw-a'));
});

t.test('on Mosquitto the ingest may share a subscription across nodes', async (t) => {
  const m = await startBroker(t);
  const ingest = m.ingest();
  await connected(ingest);
  const filter = `$share/ingest/${everyGateway('entry')}`;
  t.same(await subscribeCodes(ingest, [filter]), [1]);
  const entry = nextMessage(ingest, gatewayTopic('gw-b', 'entry'));
  const b = m.gateway('gw-b');
  await connected(b);
  await b.publishAsync(gatewayTopic('gw-b', 'entry'), 'e', { qos: 1 });
  t.equal((await entry).payload, 'e');
});

t.test(
  'revoking at scale: rewritten files and a reload disconnect the gateway, which cannot return',
  async (t) => {
    const m = await startBroker(t);
    const a = m.gateway('gw-a');
    await connected(a);
    const gone = closed(a);
    const revoked = GATEWAYS.map((g) => (g.gateway === 'gw-a' ? { ...g, status: 'revoked' as const } : g));
    m.broker.writeAuthFiles({
      passwordFile: mosquittoPasswordFile(revoked, SECRET),
      aclFile: mosquittoAclFile(revoked),
    });
    await m.broker.reload();
    await gone;
    t.ok(await refused(m.gateway('gw-a')));
    await connected(m.gateway('gw-b'));
  },
);

t.test(
  'the restart helper: a QoS 1 ack queued for a persistent session survives a Mosquitto restart',
  async (t) => {
    const m = await startBroker(t);
    const first = m.gateway('gw-a', { clean: false });
    await connected(first);
    await first.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
    await first.endAsync();

    const ingest = m.ingest();
    await connected(ingest);
    await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), 'queued', { qos: 1 }); // PUBACK: Mosquitto holds it

    const port = m.broker.port;
    await m.broker.restart();
    t.equal(m.broker.port, port, 'the same port');
    t.ok(m.broker.running);

    const second = m.gateway('gw-a', { clean: false });
    const ack = nextMessage(second, gatewayTopic('gw-a', 'ack'));
    t.equal((await connected(second)).sessionPresent, true);
    t.equal((await ack).payload, 'queued');
  },
);

t.test('on Mosquitto a gateway taking another’s client id gets none of its queued acks', async (t) => {
  const m = await startBroker(t);
  const b = m.gateway('gw-b', { clean: false });
  await connected(b);
  await b.subscribeAsync(gatewayTopic('gw-b', 'ack'), { qos: 1 });
  await b.endAsync();
  const ingest = m.ingest();
  await connected(ingest);
  await ingest.publishAsync(gatewayTopic('gw-b', 'ack'), 'for b', { qos: 1 });

  // The ACL file cannot tie a client id to a user: Mosquitto hands gw-b's session to gw-a ...
  const a = m.gateway('gw-a', { clientId: 'gw-b', clean: false });
  const received = collect(a);
  t.equal((await connected(a)).sessionPresent, true);
  // ... but checks the read ACL again before delivering what it queued for gw-b.
  await a.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
  const own = nextMessage(a, gatewayTopic('gw-a', 'ack'));
  await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), 'for a', { qos: 1 });
  await own;
  t.same(received, [{ topic: gatewayTopic('gw-a', 'ack'), payload: 'for a' }]);
});
