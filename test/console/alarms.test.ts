/** The alarm set: camera lost, clock offset, ingest unreachable and disk low are raised and cleared, each change announced. */
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { Alarms } from '../../gateway/console/alarms.ts';
import type { RecordingSummary } from '../../gateway/recording/room-recorder.ts';
import type { AlarmMessage } from '../../protocol/messages.ts';

const MIB = 1024 * 1024;

function track(camera: 'recording' | 'down'): RecordingSummary['tracks'][number] {
  return {
    track: 'cam-1',
    segments: 3,
    gaps: 0,
    bytes: 1,
    invalidSegments: 0,
    lastSegmentAt: null,
    lastHash: null,
    merkleRoot: null,
    error: null,
    camera,
    cameraProblem: camera === 'down' ? 'source-lost: no output for 5 s' : null,
  };
}

t.test(
  'camera lost, clock offset and disk low are raised and then cleared (no broker: local only)',
  async (t) => {
    let camera: 'recording' | 'down' = 'down';
    let offsetMs = 5000;
    let free = 100 * MIB;
    const alarms = new Alarms({
      gateway: 'gw-test',
      recording: () => ({ tracks: [track(camera)] }) as RecordingSummary,
      freeBytes: async () => free,
      diskLowBytes: 500 * MIB,
      startReserveBytes: () => 50 * MIB,
      mqtt: null,
      ingestUnreachableMs: 1000,
      backlog: () => ({ entries: 0, bytes: 0 }),
      clockReading: () => ({ offsetMs, rttMs: 3, source: 'ingest' }),
      maxClockOffsetMs: 2000,
      clock: { now: () => Date.now() },
      log: pino({ level: 'silent' }),
    });
    const changes: AlarmMessage[] = [];
    alarms.on('changed', (m) => changes.push(m));
    const raised = await alarms.evaluate();
    t.same(raised.map((a) => a.code).sort(), ['camera-lost:cam-1', 'clock-offset', 'disk-low']);
    t.equal(raised[0]!.severity, 'critical', 'the lost camera comes first');
    await alarms.evaluate();
    t.equal(changes.length, 3, 'an alarm still active is not announced again');
    free = 10 * MIB;
    t.ok(
      (await alarms.evaluate()).some((a) => a.code === 'disk-full'),
      'below the start reserve: disk-full',
    );
    camera = 'recording';
    offsetMs = 10;
    free = 1000 * MIB;
    t.same(await alarms.evaluate(), [], 'every condition gone: every alarm cleared');
    const cleared = changes.filter((c) => !c.active).map((c) => c.code);
    t.same(cleared.sort(), ['camera-lost:cam-1', 'clock-offset', 'disk-full', 'disk-low']);
  },
);

t.test(
  'ingest unreachable is raised once the broker has been out of reach long enough, with the backlog',
  async (t) => {
    // A client to a port nobody listens on: it never connects.
    const client = mqtt.connect('mqtt://127.0.0.1:1', { reconnectPeriod: 60_000, connectTimeout: 1000 });
    t.teardown(() => client.endAsync(true));
    let now = 1_000_000;
    const alarms = new Alarms({
      gateway: 'gw-test',
      recording: () => null,
      freeBytes: async () => 10_000 * MIB,
      diskLowBytes: 500 * MIB,
      startReserveBytes: () => 50 * MIB,
      mqtt: client,
      ingestUnreachableMs: 30_000,
      backlog: () => ({ entries: 42, bytes: 4200 }),
      clockReading: () => ({ offsetMs: 0, rttMs: null, source: 'none' }),
      maxClockOffsetMs: 2000,
      clock: { now: () => now },
      log: pino({ level: 'silent' }),
    });
    t.same(await alarms.evaluate(), [], 'not yet: a short outage is no alarm');
    now += 30_000;
    const [alarm] = await alarms.evaluate();
    t.equal(alarm?.code, 'ingest-unreachable');
    t.equal(alarm?.params.entries, 42, 'the alarm carries the backlog');
  },
);
