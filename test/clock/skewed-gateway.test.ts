/**
 * @module Trusted time end to end (issue 10): a real gateway whose injected clock runs 90 s ahead records to a real
 * ingest (PGlite, embedded aedes broker). The gateway measures its offset over MQTT, raises the clock alarm on its
 * console and in its status, the ingest console lists the offset with a warning, the sealed entries carry it, and
 * `quanlu verify` reports it per track. The camera's own clock is read over ONVIF (a fake ONVIF device 30 s ahead).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { runVerify } from '../../cli/verify/command.ts';
import { CameraConfig } from '../../firmware-config/camera-config.ts';
import { onvifStreamSource, syntheticSource } from '../../gateway/capture/stream-sources.ts';
import { buildConsole } from '../../gateway/console/console-app.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { offsetBoundMs } from '../../protocol/clock-offset.ts';
import type { ClockReading, Entry } from '../../protocol/entry.ts';
import type { StatusMessage } from '../../protocol/messages.ts';
import { drainBacklog, waitUntil } from '../e2e/e2e-support.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { startFakeOnvif } from '../helpers/fake-onvif.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { exportAndVerify, findingsOf, sealed, tmp } from '../helpers/recording.ts';

const quiet = pino({ level: process.env.TEST_LOG ?? 'silent' });
const SKEW_MS = 90_000;
const CAMERA_SKEW_MS = 30_000;

/** Collects what a command writes. */
function sink(): NodeJS.WriteStream & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

/** The streams runVerify writes to. */
function ioOf(out: NodeJS.WriteStream): Parameters<typeof runVerify>[2] {
  return { out, err: sink() } as unknown as Parameters<typeof runVerify>[2];
}

t.test(
  'a gateway 90 s ahead is measured, alarmed, sealed with its offset and shown by the verifier',
  async (t) => {
    const dir = tmp(t, 'quanlu-clock-');
    // The ingest keeps the system clock: it is the reference.
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        // Plain text, written out (TLS is tested elsewhere; this test is about time).
        tls: { mode: 'off' },
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());
    const camera = await startFakeOnvif({ skewMs: CAMERA_SKEW_MS, fractionalSeconds: true });
    t.teardown(() => camera.close());

    const loaded = testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1')]);
    loaded.config.clock.timeoutMs = 1000;
    const skewed = { now: () => Date.now() + SKEW_MS };
    const onvif = CameraConfig.parse({
      id: 'cam-1',
      name: 'cam-1',
      audio: false,
      source: {
        kind: 'onvif',
        host: camera.hostname,
        port: camera.port,
        username: 'admin',
        password: 'secret',
      },
    });
    if (onvif.source.kind !== 'onvif') throw new Error('not an onvif camera');
    const onvifSource = onvifStreamSource({ ...onvif, source: onvif.source }, skewed);
    const gw = buildGateway(loaded, {
      log: quiet,
      clock: skewed,
      uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
      // Footage from the synthetic source; the camera's identity and clock from a real ONVIF exchange.
      sourceFor: (c) => ({
        ...syntheticSource(
          { ...c, source: c.source as Extract<typeof c.source, { kind: 'synthetic' }> },
          skewed,
        ),
        identify: onvifSource.identify!,
      }),
    });
    t.teardown(() => gw.close());
    t.equal(gw.clockReading().source, 'none', 'before any measurement the source is "none"');
    // Every reading the gateway took (a reconnection measures again); each must hold the true offset.
    const readings: ClockReading[] = [];
    gw.clockSync!.on('reading', (r) => {
      if (process.env.TEST_LOG) console.log('reading', Date.now(), r);
      readings.push(r);
    });
    const measured = (offset: number | null | undefined) => readings.some((r) => r.offsetMs === offset);

    const asked = new Promise<{ fingerprint: string }>((resolve) =>
      ingest.events.once('enrollment', resolve),
    );
    await gw.start();
    await ingest.decide((await asked).fingerprint, 'approved', 'test');
    await waitUntil(
      gw.clockSync!,
      'reading',
      () => gw.clockReading().source === 'ingest',
      60_000,
      'the gateway measures its clock against the ingest',
    );
    const reading = gw.clockReading();
    t.ok(reading.rttMs !== null && reading.rttMs >= 0, `round trip ${reading.rttMs} ms`);
    // Both sides read the same system clock: the true offset is exactly -90 s, and must lie within rtt/2.
    t.ok(
      Math.abs(reading.offsetMs + SKEW_MS) <= offsetBoundMs(reading.rttMs!),
      `offset ${reading.offsetMs} ms within ±${offsetBoundMs(reading.rttMs!)} ms of -90000`,
    );

    // The operator console raises the clock alarm.
    const operatorConsole = await buildConsole(gw, loaded, { log: quiet, freeBytes: async () => 1e12 });
    t.teardown(() => operatorConsole.close());
    const room = await operatorConsole.app.inject({ method: 'GET', url: '/api/v1/recording' });
    t.equal(room.statusCode, 200);
    const alarm = (room.json().alarms as { code: string; params: Record<string, number> }[]).find(
      (a) => a.code === 'clock-offset',
    );
    t.ok(alarm, 'the console lists the clock-offset alarm');
    t.ok(measured(alarm?.params.offsetMs), `with a measured offset (${alarm?.params.offsetMs} ms)`);
    t.equal(alarm?.params.limitMs, 2000, "against the profile's limit");

    // The retained status carries the offset and the alarm; the ingest console's API lists it with a warning.
    const status: StatusMessage = gw.uplink!.status();
    t.ok(measured(status.clockOffsetMs), `status clockOffsetMs ${status.clockOffsetMs} is a measured offset`);
    t.ok(status.alarms.includes('clock-offset'), 'status alarms name clock-offset');
    const auth = await bearerHeaders(ingest.repo, 'supervisor');
    let listed: { gateway: string; clockOffsetMs: number | null; warning: boolean } | undefined;
    await waitUntil(
      gw.uplink!,
      'status',
      () => {
        void fetch(`${ingest.httpUrl}/api/v1/gateways/clocks`, { headers: auth })
          .then((r) => r.json())
          .then((list: (typeof listed)[]) => {
            listed = list.find((g) => g?.gateway === 'gw-test' && g.clockOffsetMs !== null) ?? listed;
          });
        return listed !== undefined;
      },
      30_000,
      'the ingest lists the gateway clock',
    );
    t.ok(
      measured(listed?.clockOffsetMs),
      `the ingest console shows a measured offset (${listed?.clockOffsetMs})`,
    );
    t.equal(listed?.warning, true, 'beyond the limit: shown as a warning');
    const operator = await bearerHeaders(ingest.repo, 'operator', ['interview-1']);
    const refused = await fetch(`${ingest.httpUrl}/api/v1/gateways/clocks`, { headers: operator });
    t.equal(refused.status, 403, 'operators do not see the gateway list');

    // A recording: every entry carries the reading; the open entry the camera's clock against the gateway's.
    const segments = sealed(gw, 'cam-1', 'segment', 2);
    const started = await gw.recorder.start(ELEMENTS);
    await segments;
    await gw.recorder.stop();
    await drainBacklog(gw, 60_000);
    const chain = gw.spool.chain(started.recording, 'cam-1').map((s) => s.entry as Entry);
    t.ok(chain.length >= 4, `${chain.length} entries`);
    t.ok(
      readings.every((r) => Math.abs(r.offsetMs + SKEW_MS) <= offsetBoundMs(r.rttMs!)),
      `every reading holds the true offset: ${JSON.stringify(readings)}`,
    );
    for (const e of chain) {
      t.equal(e.clock.source, 'ingest', `seq ${e.seq}: source ingest`);
      t.ok(measured(e.clock.offsetMs), `seq ${e.seq}: a measured offset`);
      t.ok(Math.abs(e.clock.offsetMs + SKEW_MS) <= offsetBoundMs(e.clock.rttMs ?? 0), `seq ${e.seq}: offset`);
    }
    const open = chain[0]!;
    if (open.kind !== 'open') throw new Error('seq 0 is not open');
    // camera − gateway = (+30 s) − (+90 s) = −60 s, within the ONVIF exchange's uncertainty.
    t.ok(
      Math.abs((open.source.clockOffsetMs ?? Number.NaN) + (SKEW_MS - CAMERA_SKEW_MS)) < 1000,
      `camera clock ${open.source.clockOffsetMs} ms vs gateway`,
    );
    // The ingest indexed them as sent (the offset travels inside the signed entry).
    const indexed = await ingest.repo.trackEntries(started.recording, 'cam-1', { limit: 1000 });
    t.equal(indexed.length, chain.length, 'every entry indexed');
    t.ok(
      indexed.every((e: { entryText: string }) => JSON.parse(e.entryText).clock.source === 'ingest'),
      'the indexed entries carry the reading',
    );

    // The verifier shows the provenance.
    const { report, folder } = await exportAndVerify(t, gw, started.recording, ['cam-1']);
    t.ok(report.ok, findingsOf(report));
    const time = report.tracks[0]!.time;
    t.same(time.sources, ['ingest']);
    t.equal(time.untrustedEntries, 0);
    t.equal(time.trustedEntries, chain.length);
    t.ok(time.offsetMs && Math.abs(time.offsetMs.min + SKEW_MS) <= (time.worstBoundMs ?? 0));
    t.ok(time.offsetMs && Math.abs(time.offsetMs.max + SKEW_MS) <= (time.worstBoundMs ?? 0));
    t.equal(time.deviceClockOffsetMs, open.source.clockOffsetMs);

    const out = sink();
    t.equal(await runVerify(folder, { progress: false }, ioOf(out)), 0, 'quanlu verify passes');
    t.match(
      out.text(),
      /time: clock source ingest · offset -(89|90)\d{3}/,
      'human report names source and offset',
    );
    t.match(out.text(), /every entry measured/);
    t.match(out.text(), /device clock -(59|60)\d{3} ms vs gateway/);
    const json = sink();
    t.equal(await runVerify(folder, { json: true, progress: false }, ioOf(json)), 0);
    t.same(JSON.parse(json.text()).tracks[0].time, time, '--json carries the same provenance');
  },
);
