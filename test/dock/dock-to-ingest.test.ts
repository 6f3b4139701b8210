import { once } from 'node:events';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { buildGateway, type Gateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { Entry } from '../../protocol/entry.ts';
import { verifyChains } from '../../protocol/verifier.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import {
  api,
  apiToken,
  dockEvidenceFolder,
  dockGatewayConfig,
  footageClips,
  makeDevice,
  sha256File,
  waitForDock,
} from './dock-support.ts';

const quiet = pino({ level: 'silent' });

/** Every chain the dock sealed for this serial, from the spool, in seq order. */
function deviceChains(gw: Gateway, recordings: readonly string[], serial: string) {
  return recordings
    .map((recording) => ({ recording, entries: gw.spool.chain(recording, `dock-${serial.toLowerCase()}`) }))
    .filter((c) => c.entries.length > 0);
}

t.test(
  'two docked devices: offloaded, indexed under the right officers, verified, then wiped per policy',
  async (t) => {
    const dir = tmp(t, 'quanlu-dock-');
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
    const token = await apiToken(ingest);
    t.equal(
      (await api(ingest, token, 'PUT', '/api/v1/dock/devices/SN-A-0001', { officer: '31010001' })).status,
      200,
    );
    t.equal(
      (await api(ingest, token, 'PUT', '/api/v1/dock/devices/SN-B-0002', { officer: '31010002' })).status,
      200,
    );
    const bound = await ingest.repo.searchAudit({ action: 'device-assign', limit: 10, offset: 0 });
    t.same(
      bound.items.map((r) => r.detail).sort(),
      ['device SN-A-0001 → officer 31010001', 'device SN-B-0002 → officer 31010002'],
      'each binding of a device to an officer is in the audit log',
    );
    await writeFile(`${dir}/token`, token);

    const clips = await footageClips(4);
    const root = `${dir}/dock`;
    const a = await makeDevice(root, 'usb-a', 'SN-A-0001', [
      { name: 'DCIM/100MEDIA/A0001.MP4', from: clips[0] },
      { name: 'DCIM/100MEDIA/A0002.MP4', from: clips[1] },
    ]);
    const b = await makeDevice(root, 'usb-b', 'SN-B-0002', [
      { name: 'DCIM/100MEDIA/B0001.MP4', from: clips[2] },
      { name: 'DCIM/100MEDIA/B0002.MP4', from: clips[3] },
    ]);
    const hashes = new Map<string, string>();
    for (const [name, path] of [
      ['A0001.MP4', `${a}/DCIM/100MEDIA/A0001.MP4`],
      ['A0002.MP4', `${a}/DCIM/100MEDIA/A0002.MP4`],
      ['B0001.MP4', `${b}/DCIM/100MEDIA/B0001.MP4`],
      ['B0002.MP4', `${b}/DCIM/100MEDIA/B0002.MP4`],
    ] as const)
      hashes.set(name, await sha256File(path));

    const gw = buildGateway(dockGatewayConfig(`${dir}/gateway`), {
      log: quiet,
      uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store, republishAfterMs: 2000 },
      dock: {
        root,
        scanIntervalMs: 300,
        policy: 'wipe',
        officerSync: { url: ingest.httpUrl, everySeconds: 300, tokenFile: `${dir}/token` },
      },
    });
    t.teardown(() => gw.close());
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    const dock = gw.dock!;
    t.ok(dock, 'a dock-station profile with an uplink has a dock');
    await waitForDock(
      dock,
      (s) =>
        s.devices.length === 2 &&
        s.devices.every((d) => d.state === 'done' && d.files.disposed === 0 && d.recording === null),
      120_000,
      'both devices offloaded, acknowledged, wiped and closed',
    );
    await drainBacklog(gw, 60_000);

    const status = dock.status();
    for (const d of status.devices) {
      t.equal(
        d.officer,
        d.serial === 'SN-A-0001' ? '31010001' : '31010002',
        `${d.serial}: officer from the ingest`,
      );
      t.equal(d.files.refused, 0, `${d.serial}: nothing refused`);
    }
    for (const volume of [a, b]) {
      t.same(await readdir(`${volume}/DCIM/100MEDIA`), [], `${volume}: every media file wiped`);
      t.ok(await stat(`${volume}/DEVICE.TXT`), 'the device info file is not footage and stays');
    }

    // Footage indexed under the right officers, with the bytes that were on the device.
    for (const [officer, device, names] of [
      ['31010001', 'SN-A-0001', ['A0001.MP4', 'A0002.MP4']],
      ['31010002', 'SN-B-0002', ['B0001.MP4', 'B0002.MP4']],
    ] as const) {
      const found = await api(ingest, token, 'GET', `/api/v1/dock/footage?officer=${officer}`);
      const items = found.body.items as {
        name: string;
        device: string;
        objectSha256: string;
        disposition: string;
      }[];
      t.same(
        items.map((i) => i.name).sort(),
        names.map((n) => `DCIM/100MEDIA/${n}`),
        `${officer}: exactly the files of ${device}`,
      );
      for (const item of items) {
        t.equal(item.device, device);
        t.equal(
          item.objectSha256,
          hashes.get(item.name.split('/').pop()!),
          `${item.name}: the device's bytes`,
        );
        t.equal(item.disposition, 'deleted', `${item.name}: the ingest knows the device copy is deleted`);
        const back = await ingest.store.rehash(item.objectSha256);
        t.equal(back?.sha256, item.objectSha256, `${item.name}: the stored object hashes to its name`);
      }
    }

    // A supervisor assigns officer 31010001's footage to a case: the assignment is in the audit log.
    const mine = (await api(ingest, token, 'GET', '/api/v1/dock/footage?officer=31010001')).body.items as {
      entryHash: string;
    }[];
    const assigned = await api(ingest, token, 'POST', '/api/v1/dock/footage/assign', {
      entries: mine.map((i) => i.entryHash),
      caseId: 'DOCK-CASE-1',
      reason: '询问笔录佐证',
    });
    t.equal(assigned.status, 200);
    const [record] = (await ingest.repo.searchAudit({ action: 'footage-assign', limit: 1, offset: 0 })).items;
    t.match(record, { reason: '询问笔录佐证', detail: /^case DOCK-CASE-1 ← 2 file\(s\), 2 changed: / });

    // The chains verify offline: open, two files, two deletions, close, with the files' objects.
    const recordings = (
      (await api(ingest, token, 'GET', '/api/v1/dock/footage?limit=10')).body.items as { recording: string }[]
    ).map((i) => i.recording);
    const chains = [
      ...deviceChains(gw, [...new Set(recordings)], 'SN-A-0001'),
      ...deviceChains(gw, [...new Set(recordings)], 'SN-B-0002'),
    ];
    t.equal(chains.length, 2, 'one chain per device');
    for (const c of chains) {
      t.same(
        c.entries.map((s) => (s.entry as Entry).kind),
        ['open', 'file', 'file', 'disposition', 'disposition', 'close'],
        'open, files, their deletions, close',
      );
      for (const s of c.entries)
        t.equal(gw.spool.get(s.hash)?.state, 'acknowledged', `${(s.entry as Entry).kind} acknowledged`);
    }
    const folder = join(dir, 'evidence');
    await dockEvidenceFolder(folder, gw.id, gw.keyPair, chains, ingest.store);
    const read = await readFolder(folder);
    const report = verifyChains(read.inputs, read.keys, read.objects, {}, read.findings);
    t.ok(
      report.ok,
      `the device chains verify: ${JSON.stringify(report.tracks.flatMap((x) => x.findings)).slice(0, 400)}`,
    );
    t.same(
      report.tracks.map((x) => x.status),
      ['verified', 'verified'],
    );

    // The dock's status file is what `quanlu gateway dock status` prints.
    const file = JSON.parse(
      await (await import('node:fs/promises')).readFile(`${dir}/gateway/dock/status.json`, 'utf8'),
    );
    t.equal(file.devices.length, 2, 'the status file names both devices');
  },
);
