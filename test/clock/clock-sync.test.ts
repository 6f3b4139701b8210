/**
 * @module The gateway's clock sync against the ingest's time responder over a real (private) Mosquitto: the measured
 * offset holds the true one within rtt/2, a reading goes stale after its limit, no answer leaves the reading
 * "none", and the responder ignores what does not parse. Plus the time provenance the verifier derives from entries.
 */
import { once } from 'node:events';
import mqtt from 'mqtt';
import pino from 'pino';
import t, { type Test } from 'tap';
import { ClockSync, NO_READING } from '../../gateway/clock/clock-sync.ts';
import { TimeResponder } from '../../ingest/clock/time-responder.ts';
import { offsetBoundMs } from '../../protocol/clock-offset.ts';
import type { ClockReading, Entry } from '../../protocol/entry.ts';
import { timeProvenance } from '../../protocol/time-provenance.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

const quiet = pino({ level: 'silent' });

async function broker(t: Test) {
  const m = await startMosquitto();
  t.teardown(() => m.dispose());
  const client = async (id: string) => {
    const c = await mqtt.connectAsync(m.url, { clientId: id, protocolVersion: 4, reconnectPeriod: 0 });
    t.teardown(() => c.endAsync());
    return c;
  };
  return { client };
}

t.test(
  'a gateway 5 s behind measures +5 s within rtt/2; the reading goes stale after its limit',
  async (t) => {
    const { client } = await broker(t);
    const responder = new TimeResponder({
      mqtt: await client('ingest'),
      clock: { now: () => Date.now() },
      log: quiet,
    });
    await responder.start();
    t.teardown(() => responder.stop());
    let skew = -5000;
    const sync = new ClockSync({
      gateway: 'gw-a',
      mqtt: await client('gw-a'),
      clock: { now: () => Date.now() + skew },
      log: quiet,
      samples: 4,
      spacingMs: 0,
      staleAfterMs: 60_000,
      timeoutMs: 300,
    });
    t.teardown(() => sync.stop());
    t.same(sync.reading(), NO_READING, 'none before a measurement');
    const first = once(sync, 'reading') as Promise<[ClockReading]>;
    sync.start(); // connected already: measures at once
    const [reading] = await first;
    t.equal(reading.source, 'ingest');
    t.ok(reading.rttMs !== null && reading.rttMs >= 0);
    t.ok(
      Math.abs(reading.offsetMs - 5000) <= offsetBoundMs(reading.rttMs!),
      `offset ${reading.offsetMs} within ±${offsetBoundMs(reading.rttMs!)} of +5000`,
    );
    t.same(sync.reading(), reading, 'sealed as measured while fresh');
    skew += 60_001; // the gateway clock moves past the limit (a reading's age is taken on the gateway clock)
    t.same(
      sync.reading(),
      { offsetMs: reading.offsetMs, rttMs: null, source: 'stale' },
      'stale: the last offset, no bound',
    );
    skew -= 60_001;
    const again = await sync.syncNow();
    t.equal(again?.source, 'ingest', 'a new measurement makes it fresh again');
    await responder.stop();
    t.equal(await sync.syncNow(), null, 'no answer: the burst fails');
    t.same(sync.reading(), again, 'and the last good reading stays');
  },
);

t.test('with no responder a burst fails and the reading stays "none"', async (t) => {
  const { client } = await broker(t);
  const sync = new ClockSync({
    gateway: 'gw-b',
    mqtt: await client('gw-b'),
    clock: { now: () => Date.now() },
    log: quiet,
    samples: 2,
    timeoutMs: 100,
    spacingMs: 0,
  });
  t.teardown(() => sync.stop());
  const failed = once(sync, 'failed');
  sync.start();
  await failed;
  t.same(sync.reading(), NO_READING);
  t.equal(await sync.syncNow(), null);
});

t.test(
  'the responder answers only on the asking gateway topic and ignores what does not parse',
  async (t) => {
    const { client } = await broker(t);
    const responder = new TimeResponder({
      mqtt: await client('ingest'),
      clock: { now: () => 1_000_000 },
      log: quiet,
    });
    await responder.start();
    t.teardown(() => responder.stop());
    const listener = await client('listener');
    await listener.subscribeAsync('quanlu/v1/gw/+/time-resp');
    const got: { topic: string; body: unknown }[] = [];
    const first = new Promise<void>((resolve) =>
      listener.on('message', (topic, payload) => {
        got.push({ topic, body: JSON.parse(payload.toString()) });
        resolve();
      }),
    );
    const asker = await client('gw-c');
    await asker.publishAsync(gatewayTopic('gw-c', 'time-req'), 'not json');
    await asker.publishAsync(gatewayTopic('gw-c', 'time-req'), JSON.stringify({ id: 'x', t0: 1.5 }));
    await asker.publishAsync(gatewayTopic('gw-c', 'time-req'), JSON.stringify({ id: 'ok-1', t0: 42 }));
    await first;
    t.same(got, [
      {
        topic: gatewayTopic('gw-c', 'time-resp'),
        body: { id: 'ok-1', t0: 42, t1: 1_000_000, t2: 1_000_000 },
      },
    ]);
  },
);

/** An entry with only what time provenance reads. */
function entry(seq: number, clock: ClockReading, extra: Partial<Entry> = {}): Entry {
  return { seq, kind: 'segment', clock, ...extra } as Entry;
}

t.test(
  'time provenance: sources, trusted and untrusted entries, offsets, worst bound, device clock',
  async (t) => {
    const open = entry(0, { offsetMs: 0, rttMs: null, source: 'none' }, {
      kind: 'open',
      source: { kind: 'camera', name: 'c', device: null, officer: null, clockOffsetMs: -60_000 },
    } as Partial<Entry>);
    const p = timeProvenance([
      open,
      entry(1, { offsetMs: -90_004, rttMs: 9, source: 'ingest' }),
      entry(2, { offsetMs: -89_998, rttMs: 3, source: 'ingest' }),
      entry(3, { offsetMs: -89_998, rttMs: null, source: 'stale' }),
    ]);
    t.same(p, {
      sources: ['none', 'ingest', 'stale'],
      trustedEntries: 2,
      untrustedEntries: 2,
      offsetMs: { min: -90_004, max: -89_998 },
      worstBoundMs: 5,
      deviceClockOffsetMs: -60_000,
    });
    t.same(timeProvenance([entry(0, { offsetMs: 0, rttMs: null, source: 'none' })]), {
      sources: ['none'],
      trustedEntries: 0,
      untrustedEntries: 1,
      offsetMs: null,
      worstBoundMs: null,
      deviceClockOffsetMs: null,
    });
  },
);
