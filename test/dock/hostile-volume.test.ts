import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { DockSettings } from '../../firmware-config/dock-profile.ts';
import type { DockStatus } from '../../gateway/dock/dock-status.ts';
import { buildGateway, type Gateway } from '../../gateway/gateway.ts';
import { type Ingest, startIngest } from '../../ingest/app.ts';
import { type Entry, type FileEntry, isVolumePath } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { dockGatewayConfig, footageClips, makeDevice, waitForDock } from './dock-support.ts';

const quiet = process.env.DOCK_TEST_LOG
  ? pino(pino.destination(process.env.DOCK_TEST_LOG))
  : pino({ level: 'silent' });
let gateways = 0;

/** A started dock gateway on the shared ingest, approved as soon as it enrolls. */
async function dockGateway(
  t: Test,
  ingest: Ingest,
  root: string,
  dock: Partial<DockSettings> = {},
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'quanlu-dock-gw-'));
  const gw = buildGateway(dockGatewayConfig(dir, `gw-dock-${++gateways}`), {
    log: quiet,
    uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store, republishAfterMs: 1000 },
    dock: { root, scanIntervalMs: 200, ...dock },
  });
  // the gateway stops before its folder is removed
  t.teardown(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // enrolled and approved before it first connects, as an administrator would from its key file
  const key = gw.keyPair.publicKey;
  await ingest.repo.upsertEnrollment({
    id: gw.id,
    fingerprint: key.fingerprint,
    publicKey: gw.keyPair.publicKeyText,
    hostname: null,
  });
  await ingest.decide(key.fingerprint, 'approved', 'test-admin');
  await gw.start();
  return gw;
}

/** The file entries of every chain the device's status has named so far. */
function fileEntries(gw: Gateway, recordings: Set<string>, serial: string): FileEntry[] {
  return [...recordings].flatMap((r) =>
    gw.spool.chain(r, `dock-${serial.toLowerCase()}`).flatMap((s) => {
      const e = s.entry as Entry;
      return e.kind === 'file' ? [e] : [];
    }),
  );
}

/** Collects every recording id the dock reports, since a closed chain leaves the status. */
function trackRecordings(gw: Gateway): Set<string> {
  const seen = new Set<string>();
  gw.dock!.on('change', (s: DockStatus) => {
    for (const d of s.devices) if (d.recording) seen.add(d.recording);
  });
  return seen;
}

const codes = (s: DockStatus) => s.devices.flatMap((d) => d.problems.map((p) => `${p.code} ${p.name ?? ''}`));

t.test(
  'hostile volumes: each case has a coded outcome, nothing outside the volume is read, nothing unheld is deleted',
  async (t) => {
    const dir = tmp(t, 'quanlu-dock-hostile-');
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
    const [clip, other] = await footageClips(2);

    t.test('links, special files, empty, truncated, duplicate, non-media and unplain names', async (t) => {
      const root = tmp(t, 'quanlu-dock-root-');
      const volume = await makeDevice(root, 'usb-h', 'SN-H-0001', [
        { name: 'DCIM/GOOD.MP4', from: clip },
        { name: 'DCIM/SAME.MP4', from: clip },
        { name: 'DCIM/TRUNC.MP4', from: other },
        { name: 'DCIM/empty.MP4', bytes: Buffer.alloc(0) },
        { name: 'DCIM/notes.txt', bytes: Buffer.from('not footage\n') },
        { name: 'DCIM/back\\..\\slash.MP4', bytes: Buffer.from('x') },
        { name: 'DCIM/new\nline.MP4', bytes: Buffer.from('y') },
      ]);
      const full = (await lstat(other!)).size;
      await truncate(`${volume}/DCIM/TRUNC.MP4`, Math.floor(full / 2));
      await symlink('GOOD.MP4', `${volume}/DCIM/link-in.MP4`);
      await symlink('/etc/passwd', `${volume}/DCIM/link-out.MP4`);
      await symlink('/etc', `${volume}/DCIM/linkdir`);
      execFileSync('mkfifo', [`${volume}/DCIM/fifo.MP4`]);
      let device = true;
      try {
        execFileSync('mknod', [`${volume}/DCIM/null.MP4`, 'c', '1', '3']);
      } catch {
        device = false;
        t.comment('mknod is not allowed here: the device-file case runs as the FIFO case only');
      }
      const passwd = sha256Hex(await readFile('/etc/passwd'));

      const gw = await dockGateway(t, ingest, root, { parallelFiles: 1, policy: 'wipe' });
      const recordings = trackRecordings(gw);
      await waitForDock(gw.dock!, (s) => s.devices[0]?.state === 'done', 120_000, 'the device completes');
      await drainBacklog(gw, 60_000);
      const problems = codes(gw.dock!.status());
      for (const expected of [
        'GW_DOCK_SYMLINK DCIM/link-in.MP4',
        'GW_DOCK_SYMLINK DCIM/link-out.MP4',
        'GW_DOCK_SYMLINK DCIM/linkdir',
        'GW_DOCK_NOT_REGULAR DCIM/fifo.MP4',
        ...(device ? ['GW_DOCK_NOT_REGULAR DCIM/null.MP4'] : []),
        'GW_DOCK_EMPTY_FILE DCIM/empty.MP4',
        'GW_DOCK_NOT_MEDIA DCIM/notes.txt',
        'GW_DOCK_NAME_INVALID DCIM/back\\\\..\\\\slash.MP4',
        'GW_DOCK_NAME_INVALID DCIM/new\\nline.MP4',
        'GW_DOCK_MEDIA_TRUNCATED DCIM/TRUNC.MP4',
        'GW_DOCK_DUPLICATE_CONTENT DCIM/SAME.MP4',
      ])
        t.ok(problems.includes(expected), `coded outcome: ${expected}`);

      const files = fileEntries(gw, recordings, 'SN-H-0001');
      t.same(
        files.map((f) => f.name).sort(),
        ['DCIM/GOOD.MP4', 'DCIM/SAME.MP4', 'DCIM/TRUNC.MP4'],
        'only the three real files are sealed',
      );
      t.ok(
        files.every((f) => f.object.sha256 !== passwd),
        '/etc/passwd was never read',
      );
      t.equal(await ingest.store.head(passwd), null, 'nor stored');
      const byName = new Map(files.map((f) => [f.name, f]));
      t.equal(byName.get('DCIM/GOOD.MP4')!.intact, true, 'a whole MP4 is intact');
      t.equal(
        byName.get('DCIM/TRUNC.MP4')!.intact,
        false,
        'a truncated MP4 is offloaded byte for byte, marked not intact',
      );
      t.equal(
        byName.get('DCIM/GOOD.MP4')!.object.sha256,
        byName.get('DCIM/SAME.MP4')!.object.sha256,
        'two names, one object',
      );
      const left = (await readdir(`${volume}/DCIM`)).sort();
      t.same(
        left,
        [
          'back\\..\\slash.MP4',
          'empty.MP4',
          'fifo.MP4',
          'link-in.MP4',
          'link-out.MP4',
          'linkdir',
          'new\nline.MP4',
          'notes.txt',
          ...(device ? ['null.MP4'] : []),
        ].sort(),
        'only the acknowledged files are deleted; everything refused stays on the device',
      );
      t.ok((await lstat('/etc/passwd')).isFile(), 'the target of a link out of the volume is untouched');
    });

    t.test('a device whose serial is a path is refused before anything is read', async (t) => {
      const root = tmp(t, 'quanlu-dock-root-');
      const volume = await makeDevice(root, 'usb-x', '../../etc/passwd', [
        { name: 'DCIM/X.MP4', from: clip },
      ]);
      const gw = await dockGateway(t, ingest, root);
      await waitForDock(
        gw.dock!,
        (s) => codes(s).some((c) => c.startsWith('GW_DOCK_DEVICE_UNKNOWN')),
        60_000,
        'the device is refused',
      );
      t.equal(gw.dock!.status().devices[0]!.state, 'identifying');
      t.equal(gw.spool.backlog().entries, 0, 'nothing sealed');
      t.same(await readdir(`${volume}/DCIM`), ['X.MP4'], 'nothing deleted');
      for (const bad of ['../x', '/etc', 'a/../../b', ''])
        t.notOk(
          DockSettings.safeParse({ moveTo: bad }).success,
          `a move folder "${bad}" is refused by the profile schema`,
        );
      t.notOk(isVolumePath('../etc/passwd'), 'a name with ../ is not a volume path');
      t.notOk(isVolumePath('/etc/passwd'), 'an absolute name is not a volume path');
    });

    t.test('a file that grows after it was listed is sealed only once it has stopped growing', async (t) => {
      const root = tmp(t, 'quanlu-dock-root-');
      const volume = await makeDevice(root, 'usb-g', 'SN-G-0001', [
        { name: 'DCIM/A.MP4', from: clip },
        { name: 'DCIM/GROW.MP4', from: other },
      ]);
      const gw = await dockGateway(t, ingest, root, { parallelFiles: 1, policy: 'move' });
      const recordings = trackRecordings(gw);
      let grown = false;
      gw.dock!.on('change', (s) => {
        // the listing is made; the reads have not ended: the device keeps writing
        if (!grown && s.devices[0]?.state === 'offloading') {
          grown = true;
          appendFileSync(`${volume}/DCIM/GROW.MP4`, randomBytes(4096));
        }
      });
      await waitForDock(gw.dock!, (s) => s.devices[0]?.state === 'done', 120_000, 'the device completes');
      await drainBacklog(gw, 60_000);
      t.ok(
        codes(gw.dock!.status()).includes('GW_DOCK_FILE_CHANGING DCIM/GROW.MP4'),
        'coded outcome: GW_DOCK_FILE_CHANGING',
      );
      const grow = fileEntries(gw, recordings, 'SN-G-0001').filter((f) => f.name === 'DCIM/GROW.MP4');
      t.equal(grow.length, 1, 'sealed once');
      const moved = await readFile(`${volume}/QUANLU-OFFLOADED/DCIM/GROW.MP4`);
      t.equal(grow[0]!.object.size, moved.length, 'with every byte it ended with');
      t.equal(grow[0]!.object.sha256, sha256Hex(moved));
      t.same(await readdir(`${volume}/DCIM`), [], 'the move policy moved both files out of DCIM');
      const kinds = [...recordings].flatMap((r) =>
        gw.spool.chain(r, 'dock-sn-g-0001').map((s) => s.entry as Entry),
      );
      const moves = kinds.filter((e) => e.kind === 'disposition');
      t.same(
        moves.map((e) => e.kind === 'disposition' && [e.action, e.to]).sort(),
        [
          ['moved', 'QUANLU-OFFLOADED/DCIM/A.MP4'],
          ['moved', 'QUANLU-OFFLOADED/DCIM/GROW.MP4'],
        ],
        'each move is an entry naming where the file went',
      );
    });

    t.test(
      'a volume removed mid-read: nothing of that file is sealed; re-docked, it completes once',
      async (t) => {
        const root = tmp(t, 'quanlu-dock-root-');
        const big = Buffer.concat([
          Buffer.from('00000018667479706d70343200000000', 'hex'),
          randomBytes(48 * 1024 * 1024),
        ]);
        const files = [
          { name: 'DCIM/BIG.MP4', bytes: big },
          { name: 'DCIM/SMALL.MP4', from: clip! },
        ];
        const volume = await makeDevice(root, 'usb-r', 'SN-R-0001', files);
        const gw = await dockGateway(t, ingest, root, { parallelFiles: 1 });
        const recordings = trackRecordings(gw);
        let removed = false;
        gw.dock!.on('change', (s) => {
          const reading = s.devices[0]?.reading[0];
          if (
            !removed &&
            reading?.name === 'DCIM/BIG.MP4' &&
            reading.done > 0 &&
            reading.done < reading.size
          ) {
            removed = true;
            rmSync(volume, { recursive: true, force: true }); // the cable is pulled
            gw.dock!.rescan();
          }
        });
        await waitForDock(
          gw.dock!,
          (s) =>
            s.devices[0]?.state === 'removed' && codes(s).includes('GW_DOCK_VOLUME_REMOVED DCIM/BIG.MP4'),
          60_000,
          'the removal is reported',
        );
        t.ok(removed, 'the volume went away while BIG.MP4 was being read');
        t.equal(
          fileEntries(gw, recordings, 'SN-R-0001').filter((f) => f.name === 'DCIM/BIG.MP4').length,
          0,
          'BIG.MP4 not sealed',
        );

        await makeDevice(root, 'usb-r', 'SN-R-0001', files); // docked again
        gw.dock!.rescan();
        // Waits for the outcome itself (both files sealed, the device wiped), not for a state flag: the
        // status of the instance that saw the removal may still be read for a moment after the re-dock.
        const deadline = Date.now() + 120_000;
        const complete = async () =>
          fileEntries(gw, recordings, 'SN-R-0001').length >= 2 &&
          (await readdir(`${volume}/DCIM`).catch(() => ['?'])).length === 0;
        while (!(await complete()) && Date.now() < deadline) {
          gw.dock!.rescan();
          await new Promise((r) => setTimeout(r, 250));
        }
        await drainBacklog(gw, 60_000);
        const sealed = fileEntries(gw, recordings, 'SN-R-0001')
          .map((f) => f.name)
          .sort();
        t.same(sealed, ['DCIM/BIG.MP4', 'DCIM/SMALL.MP4'], 'each file sealed exactly once');
        t.same(await readdir(`${volume}/DCIM`), [], 'wiped after acknowledgement');
      },
    );

    t.test(
      'non-media files are offloaded and wiped like footage when the profile says offload',
      async (t) => {
        const root = tmp(t, 'quanlu-dock-root-');
        const volume = await makeDevice(root, 'usb-n', 'SN-N-0001', [
          { name: 'LOG/events.txt', bytes: Buffer.from('log\n') },
        ]);
        await mkdir(join(volume, 'DCIM'));
        await copyFile(clip!, join(volume, 'DCIM', 'N.MP4'));
        await writeFile(join(volume, 'DCIM', 'meta.bin'), Buffer.from([1, 2, 3]));
        const gw = await dockGateway(t, ingest, root, { nonMedia: 'offload' });
        const recordings = trackRecordings(gw);
        await waitForDock(gw.dock!, (s) => s.devices[0]?.state === 'done', 120_000, 'the device completes');
        const names = fileEntries(gw, recordings, 'SN-N-0001')
          .map((f) => f.name)
          .sort();
        t.same(names, ['DCIM/N.MP4', 'DCIM/meta.bin', 'LOG/events.txt']);
        const meta = fileEntries(gw, recordings, 'SN-N-0001').find((f) => f.name === 'DCIM/meta.bin')!;
        t.equal(meta.container, null, 'an unknown container is named null');
        t.same(await readdir(join(volume, 'LOG')), [], 'wiped');
      },
    );
  },
);
