/**
 * @module Benchmark of the dock's offload (read each file once: hash, store with fsync, seal into the spool) over
 * ≥ 4 GB of footage-sized files, against `sha256sum` and against `cp` then `sha256sum`, same files, same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, open, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DockSettings } from '../../firmware-config/dock-profile.ts';
import { offloadFile } from '../../gateway/dock/file-offload.ts';
import { Limiter } from '../../gateway/dock/limiter.ts';
import { walkVolume } from '../../gateway/dock/volume-walk.ts';
import { Spool } from '../../gateway/spool/spool.ts';
import { DeviceChain } from '../../protocol/device-chain.ts';
import { keyPairFromSeed } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';
import { createFsStore } from '../../store/fs-store.ts';

const MiB = 1024 * 1024;
const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '4' },
    'file-mib': { type: 'string', default: '256' },
    parallel: { type: 'string', default: String(DockSettings.parse({}).parallelFiles) },
    dir: { type: 'string', default: tmpdir() },
  },
});
const total = Math.round(Number(args.gib) * 1024) * MiB;
const fileBytes = Number(args['file-mib']) * MiB;
const files = Math.ceil(total / fileBytes);
const log = (line: string) => process.stderr.write(`bench dock: ${line}\n`);
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

const work = await mkdtemp(join(args.dir, 'quanlu-bench-dock-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
process.on('SIGINT', () => process.exit(130));
const free = await statfs(work);
if (free.bavail * free.bsize < total * 2.2) {
  log(`not enough room in ${args.dir}: need ${((total * 2.2) / 1e9).toFixed(1)} GB`);
  process.exit(2);
}

// Footage: random bytes behind an MP4 ftyp box header (fast to make, incompressible, distinct per file).
const volume = join(work, 'usb-bench');
mkdirSync(join(volume, 'DCIM'), { recursive: true });
const block = randomFillSync(Buffer.allocUnsafe(16 * MiB));
const paths: string[] = [];
for (let i = 0; i < files; i++) {
  const path = join(volume, 'DCIM', `BENCH${String(i).padStart(4, '0')}.MP4`);
  const f = await open(path, 'w');
  const header = Buffer.from(`00000018667479706d703432${i.toString(16).padStart(8, '0')}`, 'hex');
  await f.write(header);
  for (let done = header.length; done < fileBytes; ) {
    const n = Math.min(block.length, fileBytes - done);
    block.writeUInt32BE(i * 1000 + done, 0); // every block differs
    await f.write(block, 0, n);
    done += n;
  }
  await f.close();
  paths.push(path);
}
const bytes = files * fileBytes;
log(`${files} files × ${fileBytes / MiB} MiB = ${(bytes / 1e9).toFixed(2)} GB in ${volume}`);
// every contender reads from the page cache: read everything once first
execFileSync('sh', ['-c', `cat ${volume}/DCIM/* > /dev/null`]);

/** Runs a shell command, timed. */
function timed(what: string, command: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status})`);
  const s = seconds(t0);
  log(`${what}: ${s.toFixed(2)} s, ${(bytes / s / 1e9).toFixed(2)} GB/s`);
  return s;
}

const sha256sum = timed('sha256sum', `sha256sum ${volume}/DCIM/* > /dev/null`);
const copies = join(work, 'copies');
const cpThenSha = timed(
  'cp then sha256sum',
  `mkdir -p ${copies} && cp ${volume}/DCIM/* ${copies}/ && sync && sha256sum ${copies}/* > /dev/null`,
);
rmSync(copies, { recursive: true, force: true });
const openssl = timed(
  'openssl (2 cores)',
  `ls ${volume}/DCIM/* | xargs -P2 -n 4 openssl dgst -sha256 -r > /dev/null`,
);

// The dock: list the volume, offload every file (read once: hash + fsync'd store), seal each into the spool.
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const store = createFsStore(join(work, 'store'));
const spool = Spool.open(join(work, 'spool'), { minFreeBytes: 0, retainAckedBytes: 0 });
const key = keyPairFromSeed(Buffer.alloc(32, 7));
const chain = new DeviceChain({
  gateway: 'gw-bench',
  keyFingerprint: key.publicKey.fingerprint,
  privateKey: key.privateKey,
  recording: '0b0c0d0e-0f10-4111-8213-141516171819',
  track: 'dock-bench',
});
const clock = { offsetMs: 0, rttMs: null, source: 'none' };
const limiter = new Limiter(Number(args.parallel));
const abort = new AbortController();
const t0 = process.hrtime.bigint();
const listing = await walkVolume(volume, new Set());
await spool.put(
  chain.open({
    sealedAt: isoTime(Date.now()),
    clock,
    start: isoTime(Date.now()),
    continuity: 'discrete',
    case: null,
    source: { kind: 'bodycam', name: 'bench', device: 'BENCH-1', officer: null },
    startedBy: 'bench',
  }),
);
let sealed = 0;
let sealing: Promise<unknown> = Promise.resolve();
await Promise.all(
  listing.files.map((file) =>
    limiter.run(async () => {
      const got = await offloadFile(volume, file, {
        store,
        scratchDir: join(work, 'scratch'),
        copyDir: null,
        signal: abort.signal,
      });
      sealing = sealing.then(async () => {
        await spool.put(
          chain.file({
            sealedAt: isoTime(Date.now()),
            clock,
            object: { sha256: got.sha256, size: got.size },
            name: file.name,
            modifiedAt: isoTime(file.mtimeMs),
            createdAt: null,
            deviceClockOffsetMs: null,
            container: got.container,
            intact: got.intact,
          }),
        );
        sealed++;
      });
      await sealing;
    }),
  ),
);
const dock = seconds(t0);
clearInterval(sampler);
spool.close();
log(`dock offload: ${dock.toFixed(2)} s, ${(bytes / dock / 1e9).toFixed(2)} GB/s, ${sealed} files sealed`);

const round = (x: number) => Number(x.toFixed(3));
process.stdout.write(
  `${JSON.stringify({
    bench: 'dock',
    ratio: round(sha256sum / dock),
    target: '>=0.9',
    wall_ratio_cp_sha256sum: round(dock / cpThenSha),
    wall_target: '<=0.6',
    ratio_openssl: round(openssl / dock),
    per_s: Math.round(bytes / dock),
    bytes,
    files,
    dock_s: round(dock),
    sha256sum_s: round(sha256sum),
    cp_then_sha256sum_s: round(cpThenSha),
    openssl_s: round(openssl),
    parallel: Number(args.parallel),
    rss_mb: Math.round(peakRss / MiB),
    lost: files - sealed,
    data: 'random bytes behind an MP4 ftyp header, written to a temp folder and removed after',
  })}\n`,
);
