import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import t, { type Test } from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { Entry } from '../../protocol/entry.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { api, apiToken, dockGatewayConfig, makeDevice, waitForDock } from './dock-support.ts';

const quiet = pino({ level: 'silent' });
const CHILD = fileURLToPath(new URL('./dock-child.ts', import.meta.url));

/** Runs the child until it reports `killAfter` sealed files, then SIGKILLs it (and at teardown, whatever happened). */
function runAndKill(t: Test, args: string[], killAfter: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => {
      proc.kill('SIGKILL');
    });
    let last = 0;
    let buffered = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const m = /^sealed (\d+)$/.exec(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
        if (m) last = Number(m[1]);
        if (last >= killAfter) proc.kill('SIGKILL');
      }
    });
    const guard = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL' && last >= killAfter) resolve(last);
      else reject(new Error(`the child ended (${code ?? signal}) after ${last} sealed files`));
    });
  });
}

t.test('the gateway killed (SIGKILL) mid-offload: after a restart no file is lost or doubled', async (t) => {
  const dir = tmp(t, 'quanlu-dock-kill-');
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
  ingest.events.on('enrollment', (row) => void ingest.decide(row.fingerprint, 'approved', 'test-admin'));
  const root = `${dir}/dock`;
  const files = Array.from({ length: 8 }, (_, i) => ({
    name: `DCIM/K${String(i).padStart(4, '0')}.MP4`,
    // random bytes behind an ftyp box: distinct files, fast to make, several MiB each so a kill lands mid-read
    bytes: Buffer.concat([
      Buffer.from('00000018667479706d70343200000000', 'hex'),
      randomBytes(6 * 1024 * 1024),
    ]),
  }));
  const volume = await makeDevice(root, 'usb-k', 'SN-K-0001', files);

  const killedAt = await runAndKill(t, [`${dir}/gateway`, root, ingest.mqttUrl, `${dir}/ingest/objects`], 3);
  t.ok(
    killedAt >= 3 && killedAt < files.length,
    `killed after ${killedAt} of ${files.length} files were sealed`,
  );

  const gw = buildGateway(dockGatewayConfig(`${dir}/gateway`), {
    log: quiet,
    uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store, republishAfterMs: 1000 },
    dock: { root, scanIntervalMs: 200, parallelFiles: 2, policy: 'wipe' },
  });
  t.teardown(() => gw.close());
  await gw.start();
  await waitForDock(
    gw.dock!,
    (s) => s.devices[0]?.state === 'done',
    120_000,
    'the device completes after the restart',
  );
  await drainBacklog(gw, 60_000);
  t.same(await readdir(`${volume}/DCIM`), [], 'every file wiped, after its acknowledgement');

  const token = await apiToken(ingest);
  const found = await api(ingest, token, 'GET', '/api/v1/dock/footage?device=SN-K-0001&limit=100');
  const items = found.body.items as { name: string; recording: string }[];
  t.same(
    items.map((i) => i.name).sort(),
    files.map((f) => f.name),
    'each file indexed exactly once',
  );
  const recordings = [...new Set(items.map((i) => i.recording))];
  t.equal(recordings.length, 1, 'the restarted gateway continued the same device chain');
  const chain = gw.spool.chain(recordings[0]!, 'dock-sn-k-0001').map((s) => s.entry as Entry);
  const named = chain.flatMap((e) => (e.kind === 'file' ? [e.name] : []));
  t.equal(new Set(named).size, named.length, 'no file sealed twice');
  t.equal(named.length, files.length, 'no file lost');
  t.equal(chain.filter((e) => e.kind === 'disposition').length, files.length, 'one deletion entry per file');
  t.equal(chain.at(-1)?.kind, 'close');
});
