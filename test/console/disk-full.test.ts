/** Disk full: Start is refused with GW_DISK_FULL, the alarm goes out on MQTT, and no unacknowledged segment is deleted. */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import t from 'tap';
import { AlarmMessage } from '../../protocol/messages.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { openStore } from '../../store/open-store.ts';
import { sealed, tmp } from '../helpers/recording.ts';
import { consoleConfig, GOOD_FORM, gatewayWithConsole } from './console-support.ts';

t.test(
  'disk full (simulated: a start reserve larger than the free space): start refused, alarm on MQTT, unacknowledged segments kept',
  async (t) => {
    t.setTimeout(90_000);
    const dir = tmp(t, 'quanlu-diskfull-');
    // A bare aedes broker: no ingest answers, so nothing the gateway seals is ever acknowledged.
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    });
    const port = (server.address() as { port: number }).port;
    const url = `mqtt://127.0.0.1:${port}`;
    const listener = await mqtt.connectAsync(url, { clientId: 'test-listener', protocolVersion: 4 });
    t.teardown(() => listener.endAsync());
    await listener.subscribeAsync(gatewayTopic('gw-test', 'alarm'), { qos: 1 });
    const alarms: AlarmMessage[] = [];
    listener.on('message', (_topic, payload) =>
      alarms.push(AlarmMessage.parse(JSON.parse(payload.toString()))),
    );

    const loaded = consoleConfig(dir);
    const { gw, console } = await gatewayWithConsole(t, loaded, {
      gateway: { uplink: { mqttUrl: url, store: openStore({ kind: 'fs', root: `${dir}/store` }) } },
    });
    const app = console.app;
    // First a recording while there is room: its segments wait for an acknowledgement that never comes.
    const res = await app.inject({ method: 'POST', url: '/api/v1/recording/start', payload: GOOD_FORM });
    t.equal(res.statusCode, 201);
    await sealed(gw, 'cam-1', 'segment', 2);
    const stop = await app.inject({
      method: 'POST',
      url: '/api/v1/recording/stop',
      payload: { confirm: true },
    });
    const { summary } = stop.json() as { summary: { recording: string; pendingHashes: string[] } };
    const objects = gw.spool
      .chain(summary.recording, 'cam-1')
      .map((s) => s.entry as { kind: string; object?: { sha256: string } })
      .filter((e) => e.kind === 'segment')
      .map((e) => e.object!.sha256);
    t.ok(objects.length >= 2, `${objects.length} segments spooled`);

    // Now the disk is "full": the reserve is set above the free space the file system reports.
    const free = await console.service.freeBytes();
    loaded.config.console.startReserveMiB = Math.ceil(free / (1024 * 1024)) + 1024;
    const backlogBefore = gw.spool.backlog();
    const alarmed = new Promise<AlarmMessage>((resolve) =>
      listener.on('message', (_topic, payload) => {
        const a = AlarmMessage.parse(JSON.parse(payload.toString()));
        if (a.code === 'disk-full' && a.active) resolve(a);
      }),
    );
    const refused = await app.inject({ method: 'POST', url: '/api/v1/recording/start', payload: GOOD_FORM });
    t.equal(refused.statusCode, 507);
    const body = refused.json() as { error: { code: string; message: string } };
    t.equal(body.error.code, 'GW_DISK_FULL', 'a clear coded refusal');
    t.match(body.error.message, /no evidence waiting for the ingest is ever deleted/);
    t.equal(gw.recorder.status(), null, 'no recording started');
    t.equal(gw.spool.activeRecording(), null);

    const status = (await app.inject({ url: '/api/v1/recording' })).json() as { alarms: { code: string }[] };
    t.ok(
      status.alarms.some((a) => a.code === 'disk-full'),
      'the console shows the disk-full alarm',
    );
    const alarm = await alarmed;
    t.equal(alarm.severity, 'critical', 'disk-full is published on MQTT as a critical alarm');

    for (const sha of objects)
      t.ok(existsSync(gw.spool.objectPath(sha)), `unacknowledged segment ${sha.slice(0, 12)} kept`);
    t.same(
      { entries: gw.spool.backlog().entries, bytes: gw.spool.backlog().bytes },
      { entries: backlogBefore.entries, bytes: backlogBefore.bytes },
      'the backlog is untouched',
    );
    for (const hash of summary.pendingHashes) {
      t.not(
        gw.spool.get(hash)?.state,
        'acknowledged',
        `entry ${hash.slice(0, 12)} still awaits its acknowledgement`,
      );
    }
  },
);
