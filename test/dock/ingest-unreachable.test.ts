import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { Entry } from '../../protocol/entry.ts';
import { drainBacklog, waitUntil } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { api, apiToken, dockGatewayConfig, footageClips, makeDevice, waitForDock } from './dock-support.ts';

const quiet = pino({ level: 'silent' });

t.test(
  'the ingest unreachable during offload: files stay on the device, then complete and only then are wiped',
  async (t) => {
    const dir = tmp(t, 'quanlu-dock-partition-');
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());
    const broker = new URL(ingest.mqttUrl);
    const proxy = await startTcpProxy({ host: broker.hostname, port: Number(broker.port) });
    t.teardown(() => proxy.close());
    const root = `${dir}/dock`;
    const gw = buildGateway(dockGatewayConfig(`${dir}/gateway`), {
      log: quiet,
      backoff: { initialMs: 100, maxMs: 500 },
      uplink: { mqttUrl: proxy.url, store: ingest.store, republishAfterMs: 1000 },
      dock: { root, scanIntervalMs: 200, policy: 'wipe' },
    });
    t.teardown(() => gw.close());
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');
    await waitUntil(gw.uplink!, 'status', () => gw.mqtt!.connected, 30_000, 'the gateway is connected');

    proxy.cut();
    const clips = await footageClips(2);
    const volume = await makeDevice(root, 'usb-1', 'SN-P-0001', [
      { name: 'DCIM/P0001.MP4', from: clips[0] },
      { name: 'DCIM/P0002.MP4', from: clips[1] },
    ]);
    const dock = gw.dock!;
    dock.rescan();
    await waitForDock(
      dock,
      (s) => s.devices[0]?.files.sealed === 2 && s.devices[0].state === 'awaiting-ack',
      60_000,
      'both files sealed while the ingest is unreachable',
    );
    // The uplink keeps failing while the partition lasts; after several failed rounds nothing is wiped.
    let failures = 0;
    await waitUntil(gw.uplink!, 'failed', () => ++failures >= 3, 30_000, 'three failed uplink rounds');
    t.same(
      (await readdir(`${volume}/DCIM`)).sort(),
      ['P0001.MP4', 'P0002.MP4'],
      'the files are still on the device',
    );
    t.equal(dock.status().devices[0]!.state, 'awaiting-ack', 'the dock waits for the acknowledgements');
    const recording = dock.status().devices[0]!.recording!;
    const chain = gw.spool.chain(recording, 'dock-sn-p-0001');
    t.same(
      chain.map((s) => (s.entry as Entry).kind),
      ['open', 'file', 'file'],
      'no disposition is sealed before the acknowledgements',
    );

    proxy.restore();
    await waitForDock(
      dock,
      (s) => s.devices[0]?.state === 'done',
      120_000,
      'the device completes after the partition',
    );
    await drainBacklog(gw, 60_000);
    t.same(await readdir(`${volume}/DCIM`), [], 'wiped once the ingest acknowledged both files');
    const after = gw.spool.chain(recording, 'dock-sn-p-0001');
    t.same(
      after.map((s) => (s.entry as Entry).kind),
      ['open', 'file', 'file', 'disposition', 'disposition', 'close'],
    );
    const token = await apiToken(ingest);
    const found = await api(ingest, token, 'GET', '/api/v1/dock/footage?device=SN-P-0001');
    t.equal(found.body.total, 2, 'both files are indexed at the ingest');
  },
);
