import fc from 'fast-check';
import t from 'tap';
import { ChainStateError, segmentRoot, TrackChain } from '../../protocol/chain.ts';
import type { SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import {
  AckMessage,
  AlarmMessage,
  CommandMessage,
  CommandResult,
  ConfigEnvelope,
  EnrollRequest,
  RecordingEvent,
  StatusMessage,
  TimeRequest,
  TimeResponse,
} from '../../protocol/messages.ts';
import { objectKey, parseObjectKey } from '../../protocol/object-key.ts';
import { IsoTime, isoTime } from '../../protocol/time.ts';
import {
  type Channel,
  everyGateway,
  GATEWAY_PUBLISHES,
  gatewayMayPublish,
  gatewayMaySubscribe,
  gatewayTopic,
  INGEST_PUBLISHES,
  parseTopic,
  ROOT,
  sharedEveryGateway,
} from '../../protocol/topics.ts';
import { verifyChains } from '../../protocol/verifier.ts';
import { buildChain, CLOCK, factsOf, keyMap, storedLines, T0, testKey, toInputs } from '../helpers/chains.ts';

const CHANNELS: Channel[] = [...GATEWAY_PUBLISHES, ...INGEST_PUBLISHES];
const gatewayArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
const HASH = sha256Hex(Buffer.from('x'));
const AT = '2026-11-27T03:35:28.123Z';
const CASE = {
  id: '京公(朝)行罚决字〔2026〕123号',
  matter: '行政处罚听证',
  officers: ['31010001'],
  room: 'hearing-1',
};
const REC = '5b0e3f6a-2c1d-4e8f-9a7b-1c2d3e4f5a6b';

// ---------------------------------------------------------------------------------------------
// Topics

t.test('gatewayTopic and parseTopic round-trip every gateway id and channel', async (t) => {
  fc.assert(
    fc.property(gatewayArb, fc.constantFrom(...CHANNELS), (gateway, channel) => {
      const topic = gatewayTopic(gateway, channel);
      const parsed = parseTopic(topic);
      return (
        topic === `${ROOT}/gw/${gateway}/${channel}` &&
        parsed?.gateway === gateway &&
        parsed.channel === channel
      );
    }),
    { numRuns: 200 },
  );
  t.pass('held');
});

t.test('gatewayTopic refuses a gateway id that would break the topic', async (t) => {
  for (const bad of ['', 'GW', 'gw/1', 'gw+', 'gw#', '-gw', 'a'.repeat(64), 'gw 1'])
    t.throws(() => gatewayTopic(bad, 'entry'), JSON.stringify(bad));
});

t.test('parseTopic refuses foreign and malformed topics', async (t) => {
  for (const topic of [
    '',
    'quanlu/v1/gw/gw-1',
    'quanlu/v1/gw/gw-1/entry/extra',
    'quanlu/v2/gw/gw-1/entry',
    'other/v1/gw/gw-1/entry',
    'quanlu/v1/gateway/gw-1/entry',
    'quanlu/v1/gw/GW-1/entry',
    'quanlu/v1/gw/+/entry',
    'quanlu/v1/gw/#',
    'quanlu/v1/gw/gw-1/+',
    'quanlu/v1/gw/gw-1/#',
    'quanlu/v1/gw/gw-1/unknown',
    'quanlu/v1/gw//entry',
    '/quanlu/v1/gw/gw-1/entry',
    'quanlu/v1/gw/gw-1/entry/',
    '$share/ingest/quanlu/v1/gw/gw-1/entry',
    '$SYS/broker/clients',
  ])
    t.equal(parseTopic(topic), null, JSON.stringify(topic));
});

t.test('the shared filters cover every gateway for one channel', async (t) => {
  t.equal(everyGateway('entry'), 'quanlu/v1/gw/+/entry');
  t.equal(sharedEveryGateway('entry'), '$share/ingest/quanlu/v1/gw/+/entry');
  t.equal(sharedEveryGateway('status', 'nodes'), '$share/nodes/quanlu/v1/gw/+/status');
});

t.test('a gateway may publish only its own gateway channels', async (t) => {
  for (const channel of GATEWAY_PUBLISHES) {
    t.ok(gatewayMayPublish('gw-1', gatewayTopic('gw-1', channel)), `own ${channel}`);
    t.notOk(gatewayMayPublish('gw-1', gatewayTopic('gw-2', channel)), `gw-2's ${channel}`);
  }
  for (const channel of INGEST_PUBLISHES)
    t.notOk(gatewayMayPublish('gw-1', gatewayTopic('gw-1', channel)), `ingest channel ${channel}`);
  for (const topic of [
    'quanlu/v1/gw/+/entry',
    'quanlu/v1/gw/gw-1/#',
    'quanlu/v1/gw/#',
    '#',
    'quanlu/v1/gw/gw-1/+',
  ])
    t.notOk(gatewayMayPublish('gw-1', topic), `wildcard ${topic}`);
  // A prefix of another id is not the same gateway.
  t.notOk(gatewayMayPublish('gw-1', gatewayTopic('gw-10', 'entry')));
  t.notOk(gatewayMayPublish('gw-10', gatewayTopic('gw-1', 'entry')));
});

t.test('a gateway may subscribe only to its own ingest channels, without wildcards', async (t) => {
  for (const channel of INGEST_PUBLISHES) {
    t.ok(gatewayMaySubscribe('gw-1', gatewayTopic('gw-1', channel)), `own ${channel}`);
    t.notOk(gatewayMaySubscribe('gw-1', gatewayTopic('gw-2', channel)), `gw-2's ${channel}`);
  }
  for (const channel of GATEWAY_PUBLISHES)
    t.notOk(gatewayMaySubscribe('gw-1', gatewayTopic('gw-1', channel)), `gateway channel ${channel}`);
  for (const filter of [
    'quanlu/v1/gw/+/ack',
    'quanlu/v1/gw/gw-1/#',
    'quanlu/v1/gw/gw-1/+',
    'quanlu/v1/gw/#',
    '#',
    '+/v1/gw/gw-1/ack',
    '$share/x/quanlu/v1/gw/gw-1/ack',
  ])
    t.notOk(gatewayMaySubscribe('gw-1', filter), `filter ${filter}`);
});

t.test('publish and subscribe rights never cross gateways (property)', async (t) => {
  fc.assert(
    fc.property(gatewayArb, gatewayArb, fc.constantFrom(...CHANNELS), (a, b, channel) => {
      fc.pre(a !== b);
      const topic = gatewayTopic(b, channel);
      return !gatewayMayPublish(a, topic) && !gatewayMaySubscribe(a, topic);
    }),
    { numRuns: 200 },
  );
  t.pass('held');
});

// ---------------------------------------------------------------------------------------------
// Object keys

t.test('objectKey and parseObjectKey round-trip every SHA-256', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
      const hex = Buffer.from(bytes).toString('hex');
      const key = objectKey(hex);
      return key === `sha256/${hex.slice(0, 2)}/${hex}` && parseObjectKey(key) === hex;
    }),
    { numRuns: 200 },
  );
  t.pass('held');
});

t.test('objectKey refuses what is not a lowercase SHA-256 hex digest', async (t) => {
  for (const bad of [
    '',
    HASH.toUpperCase(),
    HASH.slice(1),
    `${HASH}0`,
    `../${HASH.slice(3)}`,
    `${HASH.slice(0, 63)}g`,
  ])
    t.throws(() => objectKey(bad), JSON.stringify(bad));
});

t.test('parseObjectKey refuses keys with the wrong prefix, folder, case or shape', async (t) => {
  const other = HASH[0] === 'a' ? 'b' : 'a';
  for (const bad of [
    HASH,
    `sha256/${HASH}`,
    `sha256/${other}${HASH[1]}/${HASH}`,
    `sha256/${HASH.slice(0, 2)}/${HASH.toUpperCase()}`,
    `sha256/${HASH.slice(0, 2).toUpperCase()}/${HASH}`,
    `sha1/${HASH.slice(0, 2)}/${HASH}`,
    `/sha256/${HASH.slice(0, 2)}/${HASH}`,
    `sha256/${HASH.slice(0, 2)}/${HASH}/`,
    `sha256/${HASH.slice(0, 2)}/${HASH}.tmp`,
    `sha256/${HASH.slice(0, 2)}/../${HASH}`,
    `sha256/${HASH.slice(0, 2)}/${HASH.slice(0, 63)}`,
  ])
    t.equal(parseObjectKey(bad), null, bad);
});

// ---------------------------------------------------------------------------------------------
// Times

t.test('IsoTime accepts UTC with milliseconds and refuses everything else', async (t) => {
  for (const good of [AT, '2024-02-29T00:00:00.000Z', '1970-01-01T00:00:00.000Z', isoTime(T0)])
    t.ok(IsoTime.safeParse(good).success, good);
  for (const bad of [
    '2026-11-27T03:35:28Z', // no milliseconds
    '2026-11-27T03:35:28.1Z',
    '2026-11-27T03:35:28.1234Z',
    '2026-11-27T03:35:28.123', // no zone
    '2026-11-27T03:35:28.123+00:00', // not Z
    '2026-11-27T11:35:28.123+08:00',
    '2026-11-27 03:35:28.123Z',
    '2026-11-27t03:35:28.123z',
    '2026-02-30T00:00:00.000Z', // impossible dates
    '2025-02-29T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-00-10T00:00:00.000Z',
    '2026-11-31T00:00:00.000Z',
    '2026-11-27T24:00:00.000Z',
    '2026-11-27T23:60:00.000Z',
    '2026-11-27T23:59:60.000Z', // leap second
    '',
    ' 2026-11-27T03:35:28.123Z',
  ])
    t.notOk(IsoTime.safeParse(bad).success, bad);
});

// ---------------------------------------------------------------------------------------------
// Messages

type Asserts = Pick<typeof t, 'ok' | 'notOk'>;
type Schema = { safeParse(v: unknown): { success: boolean } };

function accepts(t: Asserts, schema: Schema, value: unknown, what: string) {
  const r = schema.safeParse(value);
  t.ok(r.success, `accepts ${what}`);
}

function refuses(t: Asserts, schema: Schema, value: unknown, what: string) {
  t.notOk(schema.safeParse(value).success, `refuses ${what}`);
}

t.test('AckMessage', async (t) => {
  const ack = { hash: HASH, status: 'indexed', code: null, reason: null, at: AT };
  accepts(t, AckMessage, ack, 'an indexed ack');
  accepts(
    t,
    AckMessage,
    { ...ack, status: 'rejected', code: 'INGEST_CHAIN_BROKEN', reason: 'prev mismatch' },
    'a rejection',
  );
  refuses(t, AckMessage, { ...ack, status: 'ok' }, 'an unknown status');
  refuses(t, AckMessage, { ...ack, hash: HASH.toUpperCase() }, 'an uppercase hash');
  refuses(t, AckMessage, { ...ack, extra: 1 }, 'an unknown field');
  refuses(t, AckMessage, { ...ack, at: '2026-11-27T03:35:28Z' }, 'a time without ms');
  const { reason: _, ...noReason } = ack;
  refuses(t, AckMessage, noReason, 'a missing field');
});

t.test('StatusMessage', async (t) => {
  const status = {
    gateway: 'gw-1',
    online: true,
    at: AT,
    recording: REC,
    backlog: { entries: 3, bytes: 1024, oldestAgeMs: 1200, uploadBytesPerSecond: 1.5e6 },
    clockOffsetMs: -12,
    configVersion: 4,
    alarms: ['CAMERA_LOST'],
  };
  accepts(t, StatusMessage, status, 'a full status');
  accepts(
    t,
    StatusMessage,
    {
      ...status,
      online: false,
      recording: null,
      backlog: null,
      clockOffsetMs: null,
      configVersion: null,
      alarms: [],
    },
    'a last-will status',
  );
  refuses(t, StatusMessage, { ...status, gateway: 'GW/1' }, 'a bad gateway id');
  refuses(t, StatusMessage, { ...status, recording: 'not-a-uuid' }, 'a bad recording id');
  refuses(t, StatusMessage, { ...status, backlog: { ...status.backlog, entries: -1 } }, 'a negative backlog');
  refuses(t, StatusMessage, { ...status, alarms: Array(51).fill('X') }, 'too many alarms');
  refuses(t, StatusMessage, { ...status, online: 'yes' }, 'a string boolean');
});

t.test('CaseId accepts agency decision numbers and court-style numbers', async (t) => {
  accepts(t, RecordingEvent.shape.case, CASE, 'an agency decision number');
  t.ok(
    RecordingEvent.shape.case.safeParse({ ...CASE, id: '（2026）京0105行初123号' }).success,
    'a case number that starts with a full-width parenthesis',
  );
});

t.test('RecordingEvent', async (t) => {
  const event = { recording: REC, event: 'started', at: AT, case: CASE, tracks: ['cam-1', 'mic-1'] };
  accepts(t, RecordingEvent, event, 'a start');
  refuses(t, RecordingEvent, { ...event, event: 'paused' }, 'an unknown event');
  refuses(t, RecordingEvent, { ...event, case: { ...CASE, id: '' } }, 'an empty case id');
  refuses(t, RecordingEvent, { ...event, case: { ...CASE, id: '2026/1' } }, 'a case id with a slash');
  refuses(t, RecordingEvent, { ...event, case: null }, 'no case');
});

t.test('CommandMessage and CommandResult', async (t) => {
  const start = { id: 'cmd-00000001', command: 'record-start', by: 'supervisor', case: CASE, at: AT };
  accepts(t, CommandMessage, start, 'record-start');
  accepts(
    t,
    CommandMessage,
    { id: 'cmd-00000002', command: 'record-stop', by: 'supervisor', at: AT },
    'record-stop',
  );
  refuses(t, CommandMessage, { ...start, command: 'delete-evidence' }, 'an unknown command');
  refuses(t, CommandMessage, { ...start, id: 'short' }, 'an id shorter than 8');
  refuses(
    t,
    CommandMessage,
    { id: 'cmd-00000002', command: 'record-stop', by: 'x', at: AT, case: CASE },
    'a case on stop',
  );
  const result = { id: 'cmd-00000001', ok: true, code: null, message: 'started', recording: REC, at: AT };
  accepts(t, CommandResult, result, 'a result');
  refuses(t, CommandResult, { ...result, message: 'x'.repeat(1001) }, 'an over-long message');
});

t.test('AlarmMessage, TimeRequest, TimeResponse', async (t) => {
  accepts(
    t,
    AlarmMessage,
    { code: 'CAMERA_LOST', severity: 'critical', message: 'cam-1', active: true, at: AT },
    'an alarm',
  );
  refuses(
    t,
    AlarmMessage,
    { code: '', severity: 'critical', message: '', active: true, at: AT },
    'an empty code',
  );
  refuses(
    t,
    AlarmMessage,
    { code: 'X', severity: 'fatal', message: '', active: true, at: AT },
    'an unknown severity',
  );
  accepts(t, TimeRequest, { id: 'r1', t0: T0 }, 'a time request');
  refuses(t, TimeRequest, { id: 'r1', t0: T0 + 0.5 }, 'a fractional ms');
  accepts(t, TimeResponse, { id: 'r1', t0: T0, t1: T0 + 3, t2: T0 + 4 }, 'a time response');
  refuses(t, TimeResponse, { id: 'r1', t0: T0, t1: T0 + 3 }, 'a response without t2');
});

t.test('EnrollRequest and ConfigEnvelope', async (t) => {
  const key = testKey(1);
  const enroll = {
    gateway: 'gw-1',
    publicKey: key.publicKeyText,
    fingerprint: key.publicKey.fingerprint,
    at: AT,
    hostname: 'gw-1.local',
  };
  accepts(t, EnrollRequest, enroll, 'an enrollment');
  refuses(t, EnrollRequest, { ...enroll, publicKey: `${key.publicKeyText}=` }, 'a padded key');
  refuses(t, EnrollRequest, { ...enroll, fingerprint: 'abc' }, 'a short fingerprint');
  const config = { version: 1, config: { segmentSeconds: 4 }, hash: HASH, sig: 'AAAA', key: HASH };
  accepts(t, ConfigEnvelope, config, 'a config');
  refuses(t, ConfigEnvelope, { ...config, version: 0 }, 'version 0');
  refuses(t, ConfigEnvelope, { ...config, config: [] }, 'an array config');
  refuses(t, ConfigEnvelope, { ...config, sig: 'AA+A' }, 'a non-base64url signature');
});

// ---------------------------------------------------------------------------------------------
// TrackChain

const KEY = testKey(1);
const identity = {
  gateway: 'gw-test',
  keyFingerprint: KEY.publicKey.fingerprint,
  privateKey: KEY.privateKey,
  recording: REC,
  track: 'cam-1',
};
const openFields = {
  sealedAt: isoTime(T0),
  clock: CLOCK,
  start: isoTime(T0),
  continuity: 'continuous' as const,
  case: null,
  source: { kind: 'camera' as const, name: 'Camera 1', device: null, officer: null },
  startedBy: 'test',
};
function segmentFields(i: number) {
  const bytes = Buffer.from(`segment ${i}`);
  return {
    sealedAt: isoTime(T0 + (i + 1) * 4000),
    clock: CLOCK,
    object: { sha256: sha256Hex(bytes), size: bytes.length },
    start: isoTime(T0 + i * 4000),
    durationMs: 4000,
    container: 'mpegts',
    name: null,
  };
}
const gapFields = {
  sealedAt: isoTime(T0),
  clock: CLOCK,
  from: isoTime(T0),
  to: isoTime(T0),
  reason: 'other' as const,
  detail: '',
};
function closeFields(n: number) {
  return {
    sealedAt: isoTime(T0 + n * 4000),
    clock: CLOCK,
    end: isoTime(T0 + n * 4000),
    reason: 'stopped' as const,
  };
}

/** Asserts that `fn` throws a ChainStateError (code CHAIN_STATE). */
function refusedAsState(
  t: Pick<typeof import('tap').default, 'ok' | 'equal' | 'fail'>,
  fn: () => unknown,
  what = 'refused',
): void {
  try {
    fn();
    t.fail(`${what}: expected a ChainStateError`);
  } catch (err) {
    t.ok(err instanceof ChainStateError, `${what}: a ChainStateError`);
    t.equal((err as ChainStateError).code, 'CHAIN_STATE');
  }
}

t.test('TrackChain refuses a segment, gap or close before open', async (t) => {
  refusedAsState(t, () => new TrackChain(identity).segment(segmentFields(0)));
  refusedAsState(t, () => new TrackChain(identity).gap(gapFields));
  refusedAsState(t, () => new TrackChain(identity).close(closeFields(0)));
  const chain = new TrackChain(identity);
  refusedAsState(t, () => chain.segment(segmentFields(0)));
  t.same(
    chain.state,
    { nextSeq: 0, prev: null, segmentHashes: [], closed: false },
    'a refused call changes nothing',
  );
});

t.test('TrackChain refuses a second open and anything after close', async (t) => {
  const chain = new TrackChain(identity);
  chain.open(openFields);
  refusedAsState(t, () => chain.open(openFields), 'second open');
  chain.segment(segmentFields(0));
  chain.close(closeFields(1));
  const after = chain.state;
  refusedAsState(t, () => chain.segment(segmentFields(1)), 'segment after close');
  refusedAsState(t, () => chain.gap(gapFields), 'gap after close');
  refusedAsState(t, () => chain.close(closeFields(2)), 'second close');
  refusedAsState(t, () => chain.open(openFields), 'open after close');
  t.same(chain.state, after, 'refused calls change nothing (no stray segment hash either)');
});

t.test('TrackChain refuses fields the schema refuses, and then does not advance', async (t) => {
  const chain = new TrackChain(identity);
  chain.open(openFields);
  const before = chain.state;
  t.throws(() => chain.segment({ ...segmentFields(0), start: '2026-11-27T03:35:28Z' }));
  t.same(chain.state, before);
});

t.test(
  'TrackChain.stateOf lets a resumed chain continue with the right seq, prev and closing root',
  async (t) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), (before, after) => {
        const first = new TrackChain(identity);
        const entries: SignedEntry[] = [first.open(openFields)];
        for (let i = 0; i < before; i++) entries.push(first.segment(segmentFields(i)));
        // The gateway restarts: only the spooled entries survive.
        const state = TrackChain.stateOf(JSON.parse(JSON.stringify(entries)) as SignedEntry[]);
        if (state.nextSeq !== entries.length) throw new Error(`nextSeq ${state.nextSeq}`);
        if (state.prev !== entries[entries.length - 1]!.hash) throw new Error('prev');
        if (state.closed) throw new Error('closed');
        if (JSON.stringify(state) !== JSON.stringify(first.state))
          throw new Error('state differs from the live chain');
        const resumed = new TrackChain(identity, state);
        for (let i = before; i < before + after; i++) entries.push(resumed.segment(segmentFields(i)));
        const close = resumed.close(closeFields(before + after));
        entries.push(close);
        const hashes = Array.from({ length: before + after }, (_, i) => segmentFields(i).object.sha256);
        if (close.entry.segments !== before + after) throw new Error('close count');
        if (close.entry.merkleRoot !== segmentRoot(hashes)) throw new Error('close root');
        const objects = hashes.map((_, i) => {
          const bytes = Buffer.from(`segment ${i}`);
          return [sha256Hex(bytes), bytes] as [string, Buffer];
        });
        const report = verifyChains(
          toInputs(entries.map((e) => ({ file: 'entries/x.jsonl', text: JSON.stringify(e) }))),
          keyMap(KEY),
          factsOf(objects),
        );
        if (!report.ok) throw new Error(JSON.stringify(report.tracks[0]?.findings));
        return TrackChain.stateOf(entries).closed;
      }),
      { numRuns: 40 },
    );
    t.pass('held');
  },
);

t.test('TrackChain.stateOf of a closed chain refuses to continue', async (t) => {
  const built = buildChain({
    recording: REC,
    track: 'cam-1',
    key: KEY,
    steps: [
      { kind: 'segment', bytes: Buffer.from('s'), start: T0, durationMs: 1000 },
      { kind: 'close', end: T0 + 1000 },
    ],
  });
  const state = TrackChain.stateOf(built.signed);
  t.ok(state.closed);
  refusedAsState(t, () => new TrackChain(identity, state).segment(segmentFields(1)));
  const report = verifyChains(toInputs(storedLines([built])), keyMap(KEY), factsOf(built.objects));
  t.ok(report.ok, 'the helper-built chain verifies');
});

t.test('the state a TrackChain hands out is a copy', async (t) => {
  const chain = new TrackChain(identity);
  chain.open(openFields);
  const s = chain.state;
  s.segmentHashes.push(HASH);
  s.nextSeq = 99;
  t.same(chain.state.segmentHashes, []);
  t.equal(chain.state.nextSeq, 1);
  const given = { nextSeq: 1, prev: chain.state.prev, segmentHashes: [] as string[], closed: false };
  const other = new TrackChain(identity, given);
  other.segment(segmentFields(0));
  t.same(given.segmentHashes, [], 'the constructor copies the state it is given');
});
