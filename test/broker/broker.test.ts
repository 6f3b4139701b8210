import t from 'tap';
import { canonicalText } from '../../protocol/canonical.ts';
import { isoTime } from '../../protocol/time.ts';
import { everyGateway, gatewayTopic } from '../../protocol/topics.ts';
import {
  closed,
  collect,
  connected,
  keyOf,
  MapDirectory,
  manualClock,
  nextMessage,
  refused,
  startBroker,
  subscribeCodes,
  T0,
} from './broker-harness.ts';

const A = keyOf(1);
const B = keyOf(2);
const MALLORY = keyOf(3);
const NOT_AUTHORIZED = 5;
const BAD_CREDENTIALS = 4;
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const REFUSED_SUBSCRIPTION = 128;

function approvedAB(): MapDirectory {
  return new MapDirectory().set('gw-a', 'approved', A).set('gw-b', 'approved', B);
}

t.test('an approved gateway publishes to its own entry topic and receives its own ack topic', async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  const ingest = b.ingest();
  await connected(ingest);
  await ingest.subscribeAsync(everyGateway('entry'), { qos: 1 });

  const gw = b.gateway('gw-a', A, { clean: false });
  t.equal((await connected(gw)).sessionPresent, false);
  t.same(await gw.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 }), [
    { topic: gatewayTopic('gw-a', 'ack'), qos: 1 },
  ]);

  const entry = nextMessage(ingest, gatewayTopic('gw-a', 'entry'));
  await gw.publishAsync(gatewayTopic('gw-a', 'entry'), '{"entry":1}', { qos: 1 });
  t.equal((await entry).payload, '{"entry":1}', 'the ingest receives the entry');

  const ack = nextMessage(gw, gatewayTopic('gw-a', 'ack'));
  await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), '{"ack":1}', { qos: 1 });
  t.equal((await ack).payload, '{"ack":1}', 'the gateway receives its ack');
  t.ok(
    b.sink.records.some(
      (r) => r.msg === 'client connected' && r.gateway === 'gw-a' && r.session === 'gateway',
    ),
    'the full session is logged',
  );
});

t.test(
  "a gateway may not publish under another gateway's topic: never delivered, logged, disconnected",
  async (t) => {
    const b = await startBroker(t, { directory: approvedAB() });
    const ingest = b.ingest();
    await connected(ingest);
    await ingest.subscribeAsync(everyGateway('entry'), { qos: 1 });
    const received = collect(ingest);
    const a = b.gateway('gw-a', A);
    await connected(a);
    const gwB = b.gateway('gw-b', B);
    await connected(gwB);

    const gone = closed(a);
    a.publish(gatewayTopic('gw-b', 'entry'), 'forged', { qos: 1 });
    const refusal = await b.refusal('broker refused a publish', { gateway: 'gw-a' });
    t.match(refusal, { clientId: 'gw-a', topic: gatewayTopic('gw-b', 'entry'), reason: /publish topics/ });
    await gone; // [MQTT-3.3.5-2] aedes refuses a PUBLISH by closing the connection

    // A barrier through the same route: had the forgery been routed, it would have come first.
    const barrier = nextMessage(ingest, gatewayTopic('gw-b', 'entry'));
    await gwB.publishAsync(gatewayTopic('gw-b', 'entry'), 'genuine', { qos: 1 });
    await barrier;
    t.same(received, [{ topic: gatewayTopic('gw-b', 'entry'), payload: 'genuine' }]);
  },
);

t.test("a gateway may not subscribe to another gateway's acks, nor to wildcards or $SYS", async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  const a = b.gateway('gw-a', A);
  await connected(a);
  const filters = [gatewayTopic('gw-b', 'ack'), everyGateway('ack'), 'quanlu/v1/gw/gw-a/#', '#', '$SYS/#'];
  t.same(
    await subscribeCodes(a, filters),
    filters.map(() => REFUSED_SUBSCRIPTION),
    'SUBACK refuses every filter',
  );
  for (const filter of filters) {
    await b.refusal('broker refused a subscription', { gateway: 'gw-a', topic: filter });
  }
  t.ok(a.connected, 'a refused subscription leaves the connection up');

  // Nothing published for gw-b reaches gw-a; its own ack still does.
  const received = collect(a);
  const ingest = b.ingest();
  await connected(ingest);
  await a.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
  const own = nextMessage(a, gatewayTopic('gw-a', 'ack'));
  await ingest.publishAsync(gatewayTopic('gw-b', 'ack'), 'for b', { qos: 1 });
  await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), 'for a', { qos: 1 });
  await own;
  t.same(received, [{ topic: gatewayTopic('gw-a', 'ack'), payload: 'for a' }]);
});

t.test('a gateway may retain its status message and nothing else', async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  const a = b.gateway('gw-a', A);
  await connected(a);
  await a.publishAsync(gatewayTopic('gw-a', 'status'), '{"online":true}', { qos: 1, retain: true });

  const ingest = b.ingest();
  await connected(ingest);
  const status = nextMessage(ingest, gatewayTopic('gw-a', 'status'));
  await ingest.subscribeAsync(everyGateway('status'), { qos: 1 });
  t.same(await status, { topic: gatewayTopic('gw-a', 'status'), payload: '{"online":true}', retain: true });

  const gone = closed(a);
  a.publish(gatewayTopic('gw-a', 'entry'), 'retained entry', { qos: 1, retain: true });
  const refusal = await b.refusal('broker refused a publish', { gateway: 'gw-a', retain: true });
  t.match(refusal, { topic: gatewayTopic('gw-a', 'entry'), reason: /retain only its status/ });
  await gone;

  const late = b.ingest({ clientId: 'ingest:late' });
  await connected(late);
  const received = collect(late);
  const barrier = nextMessage(late, gatewayTopic('gw-a', 'status'));
  await late.subscribeAsync([everyGateway('entry'), everyGateway('status')], { qos: 1 });
  await barrier;
  t.same(
    received.map((m) => m.topic),
    [gatewayTopic('gw-a', 'status')],
    'only the status was retained',
  );
});

t.test('an unknown gateway gets an enrollment-only session, and a full one once approved', async (t) => {
  const directory = approvedAB();
  const b = await startBroker(t, { directory });
  const ingest = b.ingest();
  await connected(ingest);
  await ingest.subscribeAsync([everyGateway('enroll'), everyGateway('entry')], { qos: 1 });
  const ingestGot = collect(ingest);
  const N = keyOf(9);

  const gw = b.gateway('gw-new', N, { clean: false });
  await connected(gw);
  t.same(
    directory.requests,
    [
      {
        gateway: 'gw-new',
        publicKey: N.publicKeyText,
        fingerprint: N.publicKey.fingerprint,
        at: isoTime(T0),
      },
    ],
    'the broker records the key the gateway proved it holds',
  );
  t.same(directory.gateways.get('gw-new'), { status: 'pending', fingerprint: N.publicKey.fingerprint });

  t.same(
    await subscribeCodes(gw, [gatewayTopic('gw-new', 'enrolled'), gatewayTopic('gw-new', 'ack')]),
    [1, REFUSED_SUBSCRIPTION],
    'it may hear its enrolled answer, not acks',
  );

  const request = canonicalText({
    gateway: 'gw-new',
    publicKey: N.publicKeyText,
    fingerprint: N.publicKey.fingerprint,
    at: isoTime(T0),
    hostname: 'room-3',
  });
  const enroll = nextMessage(ingest, gatewayTopic('gw-new', 'enroll'));
  await gw.publishAsync(gatewayTopic('gw-new', 'enroll'), request, { qos: 1 });
  t.equal((await enroll).payload, request, 'its enroll request reaches the ingest');

  const gone = closed(gw);
  gw.publish(gatewayTopic('gw-new', 'entry'), 'too early', { qos: 1 });
  const refusal = await b.refusal('broker refused a publish', { gateway: 'gw-new' });
  t.match(refusal, { topic: gatewayTopic('gw-new', 'entry'), reason: /not approved/ });
  await gone;
  gw.removeAllListeners('message');

  // Still pending with the same key: enrollment-only again, no second request.
  const again = b.gateway('gw-new', N, { clean: false });
  await connected(again);
  t.equal(directory.requests.length, 1);

  // Approval: the ingest answers, then kicks the session so the gateway reconnects with full rights.
  directory.set('gw-new', 'approved', N);
  const enrolled = nextMessage(again, gatewayTopic('gw-new', 'enrolled'));
  await ingest.publishAsync(gatewayTopic('gw-new', 'enrolled'), '{"approved":true}', { qos: 1 });
  t.equal((await enrolled).payload, '{"approved":true}');
  const kicked = closed(again);
  t.equal(await b.embedded.disconnectGateway('gw-new'), 1);
  await kicked;

  const full = b.gateway('gw-new', N, { clean: false });
  await connected(full);
  t.same(await subscribeCodes(full, [gatewayTopic('gw-new', 'ack')]), [1]);
  const entry = nextMessage(ingest, gatewayTopic('gw-new', 'entry'));
  await full.publishAsync(gatewayTopic('gw-new', 'entry'), 'first entry', { qos: 1 });
  await entry;
  t.same(
    ingestGot.map((m) => m.payload),
    [request, 'first entry'],
    'the early entry never reached the ingest',
  );
});

t.test('a revoked gateway is refused at CONNECT', async (t) => {
  const b = await startBroker(t, { directory: approvedAB().set('gw-a', 'revoked', A) });
  t.equal(await refused(b.gateway('gw-a', A)), NOT_AUTHORIZED);
  t.match(await b.refusal('broker refused a connection', { username: 'gw-a' }), {
    clientId: 'gw-a',
    reason: 'gateway is revoked',
    returnCode: NOT_AUTHORIZED,
  });
});

t.test(
  'revoking a connected gateway and calling disconnectGateway kicks it, and it cannot return',
  async (t) => {
    const directory = approvedAB();
    const b = await startBroker(t, { directory });
    const a = b.gateway('gw-a', A);
    await connected(a);
    const gone = closed(a);
    directory.set('gw-a', 'revoked', A);
    t.equal(await b.embedded.disconnectGateway('gw-a'), 1);
    await gone;
    t.equal(await refused(b.gateway('gw-a', A)), NOT_AUTHORIZED);
    t.equal(await b.embedded.disconnectGateway('gw-a'), 0, 'nothing left to kick');
  },
);

t.test('an approved gateway id presenting another key is refused and logged as impersonation', async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  t.equal(await refused(b.gateway('gw-a', MALLORY)), NOT_AUTHORIZED);
  const refusal = await b.refusal('broker refused a connection', { username: 'gw-a' });
  t.match(refusal, { code: 'INGEST_BROKER_AUTH', reason: /another key/, returnCode: NOT_AUTHORIZED });
  t.equal(b.directory.requests.length, 0, 'no enrollment request for an approved id');
});

t.test('a token made outside the clock window is refused', async (t) => {
  const clock = manualClock(T0 + 301_000);
  const b = await startBroker(t, { directory: approvedAB(), clock });
  t.equal(await refused(b.gateway('gw-a', A, { gatewayClock: manualClock(T0) })), BAD_CREDENTIALS);
  t.match(await b.refusal('broker refused a connection', { username: 'gw-a' }), {
    reason: /301000 ms behind the broker clock/,
  });
  t.equal(
    await refused(b.gateway('gw-a', A, { gatewayClock: manualClock(T0 + 602_000) })),
    BAD_CREDENTIALS,
    'a token from the future too',
  );
  await connected(b.gateway('gw-a', A, { gatewayClock: manualClock(T0 + 1_000) }));
});

t.test('a password that is not a valid token, or a token for another username, is refused', async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  t.equal(
    await refused(b.client({ clientId: 'gw-a', username: 'gw-a', password: 'hunter2' })),
    BAD_CREDENTIALS,
  );
  t.equal(await refused(b.client({ clientId: 'anon' })), BAD_CREDENTIALS, 'no credentials at all');
  const forB = b.gateway('gw-b', B);
  await connected(forB);
  // gw-b's token presented under gw-a's name.
  const stolen = b.gateway('gw-b', B, { clientId: 'gw-a', username: 'gw-a' });
  t.equal(await refused(stolen), BAD_CREDENTIALS);
  await b.refusal('broker refused a connection', {
    username: 'gw-a',
    reason: /another gateway than the username/,
  });
});

t.test(
  "a gateway's client id must be its gateway id; the ingest's ids live apart from gateways'",
  async (t) => {
    const b = await startBroker(t, { directory: approvedAB() });
    t.equal(await refused(b.gateway('gw-a', A, { clientId: 'gw-b' })), IDENTIFIER_REJECTED);
    await b.refusal('broker refused a connection', {
      clientId: 'gw-b',
      reason: /client id is its gateway id/,
    });

    // An ingest node may use any client id, even a gateway's: the broker files it under ingest/.
    const ingest = b.ingest({ clientId: 'gw-a' });
    await connected(ingest);
    const a = b.gateway('gw-a', A);
    await connected(a);
    t.ok(ingest.connected, 'the gateway did not take over the ingest session');
    t.ok(
      b.sink.records.some((r) => r.msg === 'client connected' && r.clientId === 'ingest/gw-a'),
      'the ingest session is ingest/gw-a',
    );
  },
);

t.test(
  'a last will outside the gateway’s own topics is refused at CONNECT; its status will is delivered',
  async (t) => {
    const b = await startBroker(t, { directory: approvedAB() });
    const forged = b.gateway('gw-a', A, {
      will: { topic: gatewayTopic('gw-b', 'status'), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    t.equal(await refused(forged), NOT_AUTHORIZED);
    t.match(await b.refusal('broker refused a connection', { username: 'gw-a' }), {
      reason: /last will refused/,
    });

    const ingest = b.ingest();
    await connected(ingest);
    await ingest.subscribeAsync(everyGateway('status'), { qos: 1 });
    const a = b.gateway('gw-a', A, {
      will: { topic: gatewayTopic('gw-a', 'status'), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await connected(a);
    const will = nextMessage(ingest, gatewayTopic('gw-a', 'status'));
    a.stream.destroy(); // the connection drops without DISCONNECT
    t.equal((await will).payload, 'offline');
  },
);

t.test('the ingest may subscribe to every gateway’s entries, but not outside quanlu/v1/', async (t) => {
  const b = await startBroker(t, { directory: approvedAB() });
  t.equal(await refused(b.ingest({ password: 'not the secret' })), BAD_CREDENTIALS);
  const ingest = b.ingest();
  await connected(ingest);
  const filters = [
    everyGateway('entry'),
    'quanlu/v1/#',
    '#',
    '$SYS/#',
    `$share/ingest/${everyGateway('entry')}`,
  ];
  t.same(await subscribeCodes(ingest, filters), [
    1,
    1,
    REFUSED_SUBSCRIPTION,
    REFUSED_SUBSCRIPTION,
    REFUSED_SUBSCRIPTION,
  ]);
  t.match(await b.refusal('broker refused a subscription', { topic: filters[4] }), { reason: /shared/ });

  const a = b.gateway('gw-a', A);
  await connected(a);
  const entry = nextMessage(ingest, gatewayTopic('gw-a', 'entry'));
  await a.publishAsync(gatewayTopic('gw-a', 'entry'), 'e', { qos: 1 });
  t.equal((await entry).payload, 'e');
});

t.test(
  'QoS 1 persistent session: an ack published while the gateway is away arrives on reconnect',
  async (t) => {
    const b = await startBroker(t, { directory: approvedAB() });
    const ingest = b.ingest();
    await connected(ingest);

    const first = b.gateway('gw-a', A, { clean: false });
    await connected(first);
    await first.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
    const gone = b.sink.waitFor((r) => r.msg === 'client disconnected' && r.clientId === 'gw-a');
    await first.endAsync();
    await gone;

    await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), '{"ack":"while away"}', { qos: 1 });

    const second = b.gateway('gw-a', A, { clean: false });
    const ack = nextMessage(second, gatewayTopic('gw-a', 'ack'));
    t.equal((await connected(second)).sessionPresent, true, 'the broker kept the session');
    t.equal((await ack).payload, '{"ack":"while away"}');
  },
);

t.test('a gateway demoted to pending with a new key inherits none of its old session’s acks', async (t) => {
  const directory = approvedAB();
  const b = await startBroker(t, { directory });
  const ingest = b.ingest();
  await connected(ingest);
  const old = b.gateway('gw-a', A, { clean: false });
  await connected(old);
  await old.subscribeAsync([gatewayTopic('gw-a', 'ack'), gatewayTopic('gw-a', 'enrolled')], { qos: 1 });
  const gone = b.sink.waitFor((r) => r.msg === 'client disconnected' && r.clientId === 'gw-a');
  await old.endAsync();
  await gone;
  await ingest.publishAsync(gatewayTopic('gw-a', 'ack'), 'queued ack', { qos: 1 });

  // Re-keyed: the administrator puts gw-a back to pending with its new key.
  const A2 = keyOf(11);
  directory.set('gw-a', 'pending', A2);
  const renewed = b.gateway('gw-a', A2, { clean: false });
  const received = collect(renewed);
  const enrolled = nextMessage(renewed, gatewayTopic('gw-a', 'enrolled'));
  await connected(renewed);
  await b.refusal('broker withheld a message from a client', {
    clientId: 'gw-a',
    topic: gatewayTopic('gw-a', 'ack'),
  });
  await ingest.publishAsync(gatewayTopic('gw-a', 'enrolled'), 'answer', { qos: 1 });
  await enrolled;
  t.same(received, [{ topic: gatewayTopic('gw-a', 'enrolled'), payload: 'answer' }]);
  await b.refusal('broker refused a subscription', { gateway: 'gw-a', topic: gatewayTopic('gw-a', 'ack') });
});

t.test('a directory that fails makes the broker answer "server unavailable", and says why', async (t) => {
  const directory = approvedAB();
  const b = await startBroker(t, { directory });
  directory.lookup = async () => {
    throw new Error('database is down');
  };
  t.equal(await refused(b.gateway('gw-a', A)), SERVER_UNAVAILABLE);
  t.match(await b.refusal('broker refused a connection', { username: 'gw-a' }), {
    reason: 'gateway directory lookup failed',
    returnCode: SERVER_UNAVAILABLE,
  });

  directory.lookup = async () => null;
  directory.requestEnrollment = async () => {
    throw new Error('database is down');
  };
  t.equal(await refused(b.gateway('gw-new', keyOf(9))), SERVER_UNAVAILABLE);
  await b.refusal('broker refused a connection', { username: 'gw-new', reason: /enrollment request/ });
});
