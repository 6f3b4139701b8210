import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { Entry } from '../../protocol/entry.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { api, apiToken, dockGatewayConfig, makeDevice, waitForDock } from './dock-support.ts';

const quiet = pino({ level: 'silent' });
const N = 10_000;

t.test(
  '10,000 tiny files on one device: each sealed exactly once and indexed, with bounded memory',
  async (t) => {
    const dir = tmp(t, 'quanlu-dock-many-');
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
    const root = `${dir}/dock`;
    const volume = await makeDevice(root, 'usb-m', 'SN-M-0001', []);
    // 100 folders of 100 files, a few bytes each, every one distinct
    for (let d = 0; d < 100; d++) {
      await mkdir(join(volume, 'DCIM', `${d}`), { recursive: true });
      await Promise.all(
        Array.from({ length: N / 100 }, (_, i) =>
          writeFile(join(volume, 'DCIM', `${d}`, `T${i}.MP4`), `tiny ${d}/${i}\n`),
        ),
      );
    }
    const gw = buildGateway(dockGatewayConfig(`${dir}/gateway`), {
      log: quiet,
      uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store, republishAfterMs: 30_000 },
      dock: { root, scanIntervalMs: 500, parallelFiles: 8, policy: 'keep' },
    });
    t.teardown(() => gw.close());
    const key = gw.keyPair.publicKey;
    await ingest.repo.upsertEnrollment({
      id: gw.id,
      fingerprint: key.fingerprint,
      publicKey: gw.keyPair.publicKeyText,
      hostname: null,
    });
    await ingest.decide(key.fingerprint, 'approved', 'test-admin');
    let recording: string | null = null;
    let peakRss = 0;
    gw.dock!.on('change', (s) => {
      recording ??= s.devices[0]?.recording ?? null;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    });
    await gw.start();
    await waitForDock(
      gw.dock!,
      (s) => s.devices[0]?.state === 'done',
      900_000,
      `${N} files offloaded and acknowledged`,
    );
    await drainBacklog(gw, 300_000);
    const chain = gw.spool.chain(recording!, 'dock-sn-m-0001').map((s) => s.entry as Entry);
    const names = chain.flatMap((e) => (e.kind === 'file' ? [e.name] : []));
    t.equal(names.length, N, 'every file sealed');
    t.equal(new Set(names).size, N, 'none twice');
    t.equal(chain.at(-1)?.kind, 'close', 'the chain closed (keep policy: no dispositions)');
    t.notOk(
      chain.some((e) => e.kind === 'disposition'),
      'nothing deleted under the keep policy',
    );
    const token = await apiToken(ingest);
    const found = await api(ingest, token, 'GET', '/api/v1/dock/footage?device=SN-M-0001&limit=1');
    t.equal(found.body.total, N, 'the ingest indexed every file');
    t.comment(`peak RSS ${Math.round(peakRss / 1048576)} MiB`);
  },
);
