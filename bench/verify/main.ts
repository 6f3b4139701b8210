/**
 * @module Benchmark of `quanlu verify` on a generated folder of segment-sized objects (≥ 2 GB by default),
 * against `sha256sum` (one core) and `openssl dgst -sha256` (every core) over the same files, in the same run.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, open, rm, statfs, writeFile } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSampleFolder } from '../../cli/sample-folder.ts';
import { HashPool } from '../../cli/verify/hash-pool.ts';
import type { Entry } from '../../protocol/entry.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import type { VerifyReport } from '../../protocol/verifier.ts';
import { median, type Timed, type TimedChild, timeChild, timeInProcess } from './measure.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const USAGE = `usage: npm run bench -- verify [options]
  --gib N          total size of the objects (default 2)
  --segment-mib N  size of one object (default 2)
  --tracks N       chains in the folder (default 4)
  --runs N         timed runs of each contender; medians are reported (default 3)
  --dir PATH       where to make the temporary folder (default the system temp folder)
  --keep           keep the generated folder`;

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    'segment-mib': { type: 'string', default: '2' },
    tracks: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench verify: ${line}\n`);
const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** A positive number from a flag, or exit with usage. */
function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/**
 * Checks a baseline hashed every object: it exited 0 and printed one `<hash> <mode><path>` line per file.
 * Parallel runs may interleave their output mid-line, so the total length is what can be checked.
 */
function checkBaseline(name: string, ran: TimedChild, files: string[]): void {
  if (ran.code !== 0) throw new Error(`${name} exited with ${ran.code}: ${ran.stderr.trim()}`);
  const expected = files.reduce((n, f) => n + 64 + 2 + Buffer.byteLength(f) + 1, 0);
  const got = Buffer.byteLength(ran.stdout);
  if (got !== expected) throw new Error(`${name} printed ${got} bytes of digests, expected ${expected}`);
}

/** Reads every file once, so every contender finds them in the page cache. */
async function warmPageCache(files: string[]): Promise<void> {
  const buf = Buffer.allocUnsafe(8 * MiB);
  for (const f of files) {
    const fh = await open(f, 'r');
    try {
      while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0);
    } finally {
      await fh.close();
    }
  }
}

async function main(): Promise<void> {
  const segmentBytes = Math.round(positive('segment-mib', args['segment-mib']) * MiB);
  const tracks = Math.round(positive('tracks', args.tracks));
  const runs = Math.round(positive('runs', args.runs));
  const segmentsPerTrack = Math.ceil((positive('gib', args.gib) * GiB) / segmentBytes / tracks);
  const bytes = segmentsPerTrack * tracks * segmentBytes;
  const parent = resolve(args.dir);

  const fsInfo = await statfs(parent);
  const free = fsInfo.bavail * fsInfo.bsize;
  const needed = bytes * 1.05 + 256 * MiB;
  if (free < needed) {
    console.error(
      `bench verify: ${parent} has ${gb(free)} GB free; the folder needs ${gb(needed)} GB. ` +
        'Free some space, pass --dir on a bigger disk, or a smaller --gib.',
    );
    process.exit(2);
  }
  if (freemem() < bytes * 1.2)
    log(`warning: ${gb(freemem())} GB of free memory may not hold ${gb(bytes)} GB in the page cache`);

  const work = await mkdtemp(join(parent, 'quanlu-bench-verify-'));
  const folder = join(work, 'evidence');
  const scratch = join(work, 'time.out');
  // An interrupted run must not leave gigabytes behind either.
  process.once('SIGINT', () => {
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
  try {
    log(
      `generating ${tracks} tracks × ${segmentsPerTrack} segments × ${segmentBytes / MiB} MiB in ${folder}`,
    );
    let t = performance.now();
    const sample = await writeSampleFolder(folder, { tracks, segmentsPerTrack, segmentBytes });
    // sealEntry stored the Entry it was given, so the cast only restores its type.
    const files = sample.chains.flatMap((c) =>
      c.entries
        .map((s) => s.entry as Entry)
        .flatMap((e) => (e.kind === 'segment' ? [join(folder, objectPath(e.object.sha256))] : [])),
    );
    const entries = sample.chains.reduce((n, c) => n + c.entries.length, 0);
    log(
      `generated ${files.length} objects, ${gb(sample.bytes)} GB, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    // The file list lives outside the evidence folder, which must hold nothing but evidence.
    const list = join(work, 'objects.list');
    await writeFile(list, `${files.join('\0')}\0`);

    log('warming the page cache: reading every object once');
    t = performance.now();
    await warmPageCache(files);
    log(`read ${gb(sample.bytes)} GB in ${((performance.now() - t) / 1000).toFixed(2)} s`);

    const jobs = availableParallelism();
    const quanlu = [join(root, 'bin/quanlu.js'), 'verify', folder, '--no-progress', '--json'];
    let report: VerifyReport | null = null;
    let rssKb = 0;

    const contenders: Record<string, () => Promise<Timed>> = {
      sha256sum: async () => {
        const r = await timeChild('xargs', ['-0', '-a', list, 'sha256sum'], { cwd: work, scratch });
        checkBaseline('sha256sum', r, files);
        return r;
      },
      openssl: async () => {
        const argv = ['-0', '-a', list, `-P${jobs}`, '-n', '64', 'openssl', 'dgst', '-sha256', '-r'];
        const r = await timeChild('xargs', argv, { cwd: work, scratch });
        checkBaseline('openssl', r, files);
        return r;
      },
      quanlu: async () => {
        const r = await timeChild(process.execPath, quanlu, { cwd: root, scratch });
        report = r.code === 0 ? (JSON.parse(r.stdout) as VerifyReport) : null;
        if (!report?.ok || report.entries !== entries || report.objects.checked !== files.length)
          throw new Error(
            `quanlu verify failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.slice(0, 2000)}`,
          );
        rssKb = Math.max(rssKb, r.maxRssKb ?? 0);
        return r;
      },
      // Diagnostics, to tell where verify's time goes: its hashing path alone (the HashPool it uses, workers
      // already started), and the start of the command (node, tsx and the module graph) with nothing to do.
      hash_pool: async () => {
        const pool = new HashPool();
        try {
          await pool.hash(files[0]!);
          return await timeInProcess(async () => {
            const results = await Promise.all(files.map((f) => pool.hash(f)));
            const wrong = results.filter((r, i) => !('sha256' in r) || r.sha256 !== basename(files[i]!));
            if (wrong.length > 0) throw new Error(`the hash pool got ${wrong.length} objects wrong`);
          });
        } finally {
          await pool.close();
        }
      },
      startup: async () => {
        const r = await timeChild(process.execPath, [join(root, 'bin/quanlu.js'), '--version'], {
          cwd: root,
          scratch,
        });
        if (r.code !== 0) throw new Error(`quanlu --version exited with ${r.code}: ${r.stderr.trim()}`);
        return r;
      },
    };

    // One untimed verify checks the folder verifies and fills tsx's transform cache, as any later run finds it.
    log('untimed verify run (checks the result, warms the tsx cache)');
    await contenders.quanlu!();

    const names = Object.keys(contenders);
    const seconds: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const contention: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Rotate the order each round so no contender always runs first or last.
      const order = names.map((_, k) => names[(k + i) % names.length]!);
      for (const name of order) {
        const r = await contenders[name]!();
        seconds[name]!.push(r.seconds);
        if (r.cpuSeconds !== null) cpu[name]!.push(r.cpuSeconds);
        if (r.contention !== null) contention.push(r.contention);
        log(
          `run ${i + 1}/${runs} ${name.padEnd(9)} ${r.seconds.toFixed(3)} s` +
            (name === 'startup' ? '' : `  ${gb(sample.bytes / r.seconds)} GB/s`) +
            (r.cpuSeconds === null ? '' : `  cpu ${r.cpuSeconds.toFixed(2)} s`) +
            (r.contention === null ? '' : `  others took ${(r.contention * 100).toFixed(0)}% of the CPUs`),
        );
      }
    }

    const s = Object.fromEntries(names.map((n) => [n, median(seconds[n]!)]));
    const rate = (name: string) => round(sample.bytes / s[name]! / 1e9);
    // CPU seconds are steadier than wall time on a busy machine: how much work each contender does.
    const cpuOf = (name: string) => (cpu[name]!.length === runs ? round(median(cpu[name]!)) : null);
    const done = report as VerifyReport | null;
    const result = {
      bench: 'verify',
      ratio_sha256sum: round(s.sha256sum! / s.quanlu!),
      ratio_openssl: round(s.openssl! / s.quanlu!),
      target: '>=0.9',
      target_of: 'ratio_openssl',
      per_s: round(files.length / s.quanlu!, 1),
      rss_mb: rssKb > 0 ? round(rssKb / 1024, 1) : null,
      backend: 'fs',
      ok: done?.ok ?? false,
      bytes: sample.bytes,
      objects: files.length,
      entries,
      segment_bytes: segmentBytes,
      runs,
      quanlu_s: round(s.quanlu!),
      quanlu_gb_s: rate('quanlu'),
      quanlu_cpu_s: cpuOf('quanlu'),
      sha256sum_s: round(s.sha256sum!),
      sha256sum_gb_s: rate('sha256sum'),
      openssl_s: round(s.openssl!),
      openssl_gb_s: rate('openssl'),
      openssl_cpu_s: cpuOf('openssl'),
      openssl_jobs: jobs,
      hash_pool_s: round(s.hash_pool!),
      hash_pool_gb_s: rate('hash_pool'),
      hash_pool_cpu_s: cpuOf('hash_pool'),
      ratio_openssl_hash_pool: round(s.openssl! / s.hash_pool!),
      startup_s: round(s.startup!),
      startup_cpu_s: cpuOf('startup'),
      rest_s: round(s.quanlu! - s.hash_pool! - s.startup!),
      cores: jobs,
      contention: contention.length > 0 ? round(median(contention), 2) : null,
      contention_max: contention.length > 0 ? round(Math.max(...contention), 2) : null,
      load_avg_1m: round(loadavg()[0]!, 2),
      lost: files.length - (done?.objects.checked ?? 0),
    };
    if (result.contention !== null && result.contention > 0.1)
      log(
        `warning: other processes took ${(result.contention * 100).toFixed(0)}% of the CPUs; the ratios are noisy`,
      );
    if (args.keep) log(`kept ${work}`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (!args.keep) await rm(work, { recursive: true, force: true });
  }
}

await main();
