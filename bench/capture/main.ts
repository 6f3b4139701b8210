/**
 * @module Benchmark of recording N concurrent 1080p RTSP streams: CPU seconds and peak RSS of the gateway
 * (its node process plus its ffmpeg children) against N bare `ffmpeg -c copy -f segment` processes pulling
 * the same streams from the same RTSP server, in the same run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { mkdtemp, readFile, statfs } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MEDIA_CACHE_DIR, makeTestMedia } from '../../test/helpers/media.ts';
import { type MountSpec, startRtspServer } from '../../test/helpers/rtsp-server.ts';
import type { RunnerInput, RunnerResult } from './gateway-runner.ts';
import { CLK_TCK, descendantsOf, machineTicks, ProcSampler, readStat, type Seen } from './proc.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const MiB = 1024 * 1024;

const USAGE = `usage: npm run bench -- capture [options]
  --streams N          concurrent 1080p 4 Mbit/s streams, one RTSP mount each (default 8)
  --seconds S          recording length of each contender (default 60)
  --rounds N           rounds of both contenders, order alternating; medians are reported (default 1)
  --segment-seconds S  segment length of both contenders (default 4, the interview-room profile's)
  --log-level L        the gateway's pino level (default info, a production gateway's default)
  --dir PATH           where to make the temporary folder (default the system temp folder)
  --cpu-prof           run the gateway under node --cpu-prof; the profile is kept and its path printed
  --bundle             run the gateway as one esbuild bundle under plain node, without the tsx loader
                       (a diagnostic: how much of its CPU and RSS is the loader's)
  --only WHICH         run one contender alone, baseline or gateway (a diagnostic: no ratio is reported)
  --keep               keep the temporary folder`;

const { values: args } = parseArgs({
  options: {
    streams: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '1' },
    'segment-seconds': { type: 'string', default: '4' },
    'log-level': { type: 'string', default: 'info' },
    dir: { type: 'string', default: tmpdir() },
    'cpu-prof': { type: 'boolean', default: false },
    bundle: { type: 'boolean', default: false },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench capture: ${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const mib = (kb: number) => round(kb / 1024, 1);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A positive integer from a flag, or exit with usage. */
function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive integer, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** Every child this benchmark started and has not seen exit: killed if the benchmark is interrupted. */
const live = new Set<ChildProcess>();
function tracked(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** What one contender did in one round. */
interface Phase {
  /** CPU of the contender's processes in the recording window, seconds. */
  cpuS: number;
  wallS: number;
  segments: number;
  /** Share of the machine's CPUs other processes used meanwhile (0–1). */
  contention: number;
}

interface BaselinePhase extends Phase {
  /** Sum of the ffmpeg processes' peak RSS, KiB. */
  rssKb: number;
  /** The same CPU as sampled from /proc (the last reading of each process; a cross-check). */
  sampledCpuS: number;
  /** The kernel's part of it. */
  sampledSystemS: number;
}

interface GatewayPhase extends Phase {
  runner: RunnerResult;
  ffmpegRssKb: number;
  ffmpegCpuSampledS: number;
  ffmpegSystemSampledS: number;
  ffmpegCount: number;
  ffprobeCount: number;
  /** Sampled CPU seconds of the runner's descendants by command name (ffmpeg, ffprobe, esbuild...). */
  byComm: Record<string, number>;
  /** CPU of the whole runner process and its reaped children over its whole life (outside view). */
  runnerTotalCpuS: number;
  runnerHwmKb: number;
  logLines: number;
  logBytes: number;
  profileDir: string | null;
}

/** Waits for a child to exit; SIGKILL after `ms`. */
async function exitOf(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    return { code, signal };
  } finally {
    clearTimeout(timer);
  }
}

/** Share of all CPUs busy with other work between two /proc/stat readings, given the contender's own CPU. */
function contentionOf(t0: ReturnType<typeof machineTicks>, ownCpuS: number): number {
  const t1 = machineTicks();
  const total = t1.total - t0.total; // jiffies of every CPU: wall × CPUs × CLK_TCK
  if (total <= 0) return 0;
  return round(Math.max(0, (t1.busy - t0.busy - ownCpuS * CLK_TCK) / total), 2);
}

/** N bare `ffmpeg -c copy -f segment` processes, one per stream, stopped with SIGINT after `seconds`. */
async function runBaseline(urls: string[], seconds: number, segmentSeconds: number, dir: string) {
  const before = readStat('self')!.childrenCpuS;
  const ticks = machineTicks();
  const t0 = performance.now();
  let segments = 0;
  const stderr = new Map<number, string>();
  const children = urls.map((url, i) => {
    const out = join(dir, `cam${i + 1}`);
    mkdirSync(out, { recursive: true });
    // The issue's command, with -nostats/-loglevel warning so no progress line is printed twice a second.
    const argv = [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel',
      'warning',
      '-rtsp_transport',
      'tcp',
      '-i',
      url,
      '-map',
      '0:v:0',
      '-map',
      '0:a:0',
      '-c',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      String(segmentSeconds),
      '-segment_format',
      'mpegts',
      '-reset_timestamps',
      '0',
      '-segment_list',
      'pipe:1',
      '-segment_list_type',
      'csv',
      join(out, '%06d.ts'),
    ];
    const child = tracked(spawn('ffmpeg', argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim()) segments++;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr.set(i, ((stderr.get(i) ?? '') + chunk).slice(-2000));
    });
    return child;
  });
  const pids = children.map((c) => c.pid!);
  const sampler = new ProcSampler(() => pids);
  await sleep(seconds * 1000);
  sampler.sample();
  for (const c of children) c.kill('SIGINT');
  const exits = await Promise.all(children.map((c) => exitOf(c, 15_000)));
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = readStat('self')!.childrenCpuS - before;
  const seen = sampler.stop().filter((s) => s.comm === 'ffmpeg');
  exits.forEach((x, i) => {
    // ffmpeg exits 255 after our SIGINT: a normal stop.
    if (x.code !== 255 && x.code !== 0)
      log(`baseline ffmpeg ${i + 1} ended ${x.signal ?? x.code}: ${stderr.get(i)?.trim() ?? ''}`);
  });
  return {
    cpuS,
    wallS,
    segments,
    contention: contentionOf(ticks, cpuS),
    rssKb: seen.reduce((n, s) => n + s.peakKb, 0),
    sampledCpuS: seen.reduce((n, s) => n + s.cpuS, 0),
    sampledSystemS: seen.reduce((n, s) => n + s.systemS, 0),
  } satisfies BaselinePhase;
}

/**
 * Bundles gateway-runner.ts into one ESM file with esbuild (the one tsx brings), packages left as imports:
 * a node_modules link next to it resolves them. import.meta.url keeps naming each source file, so files read
 * relative to a module (room profiles, matters, the hash worker) are found as under tsx.
 */
async function bundleRunner(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const outfile = join(dir, 'gateway-runner.mjs');
  await esbuild.build({
    entryPoints: [join(here, 'gateway-runner.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(build) {
          build.onLoad({ filter: /\.ts$/ }, async (a) => ({
            contents: (await readFile(a.path, 'utf8')).replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(a.path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  return outfile;
}

/** The gateway in its own process (gateway-runner.ts), its children sampled from /proc. */
async function runGateway(
  urls: string[],
  seconds: number,
  segmentSeconds: number,
  logLevel: RunnerInput['logLevel'],
  dir: string,
  cpuProf: boolean,
  bundle: string | null,
): Promise<GatewayPhase> {
  mkdirSync(dir, { recursive: true });
  const input: RunnerInput = {
    dataDir: join(dir, 'data'),
    evidenceDir: join(dir, 'evidence'),
    resultFile: join(dir, 'result.json'),
    urls,
    seconds,
    segmentSeconds,
    logLevel,
  };
  const profileDir = cpuProf ? join(dir, 'cpu-prof') : null;
  const node = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    ...(bundle ? [bundle] : ['--import', 'tsx', join(here, 'gateway-runner.ts')]),
  ];
  const before = readStat('self')!.childrenCpuS;
  const ticks = machineTicks();
  const t0 = performance.now();
  const child = tracked(
    spawn(process.execPath, [...node, JSON.stringify(input)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const pid = child.pid!;
  let logLines = 0;
  let logBytes = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    logBytes += chunk.length;
    for (const b of chunk) if (b === 10) logLines++;
  });
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`  ${line}\n`));
  const sampler = new ProcSampler(() => [pid, ...descendantsOf(pid)]);
  const exit = await exitOf(child, (seconds + 300) * 1000);
  const wallS = (performance.now() - t0) / 1000;
  const runnerTotalCpuS = readStat('self')!.childrenCpuS - before;
  const seen = sampler.stop();
  if (exit.code !== 0) throw new Error(`the gateway runner exited ${exit.signal ?? exit.code}`);
  const runner = JSON.parse(readFileSync(input.resultFile, 'utf8')) as RunnerResult;
  const ffmpeg = seen.filter((s) => s.comm === 'ffmpeg');
  const cpuS = runner.windowCpuS + runner.childrenCpuS;
  return {
    cpuS,
    wallS,
    segments: runner.tracks.reduce((n, t) => n + t.segments, 0),
    contention: contentionOf(ticks, runnerTotalCpuS),
    runner,
    ffmpegRssKb: ffmpeg.reduce((n, s) => n + s.peakKb, 0),
    ffmpegCpuSampledS: ffmpeg.reduce((n, s) => n + s.cpuS, 0),
    ffmpegSystemSampledS: ffmpeg.reduce((n, s) => n + s.systemS, 0),
    ffmpegCount: ffmpeg.length,
    ffprobeCount: seen.filter((s: Seen) => s.comm === 'ffprobe').length,
    byComm: seen
      .filter((s) => s.pid !== pid)
      .reduce<Record<string, number>>((m, s) => {
        m[s.comm] = round((m[s.comm] ?? 0) + s.cpuS, 2);
        return m;
      }, {}),
    runnerTotalCpuS,
    runnerHwmKb: seen.find((s) => s.pid === pid)?.peakKb ?? 0,
    logLines,
    logBytes,
    profileDir,
  };
}

async function main(): Promise<void> {
  const streams = positive('streams', args.streams);
  const seconds = positive('seconds', args.seconds);
  const rounds = positive('rounds', args.rounds);
  const segmentSeconds = positive('segment-seconds', args['segment-seconds']);
  const logLevel = args['log-level'] as RunnerInput['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    console.error(`--log-level must be a pino level, not ${logLevel}\n${USAGE}`);
    process.exit(2);
  }
  const only = args.only;
  if (only !== undefined && only !== 'baseline' && only !== 'gateway') {
    console.error(`--only must be baseline or gateway, not ${only}\n${USAGE}`);
    process.exit(2);
  }
  const parent = resolve(args.dir!);
  // 4 Mbit/s is 0.5 MB/s a stream; both contenders keep their output until the end.
  const needed = streams * seconds * 0.6 * MiB * 2 * rounds + 256 * MiB;
  const fsInfo = await statfs(parent);
  if (fsInfo.bavail * fsInfo.bsize < needed) {
    console.error(
      `bench capture: ${parent} has too little room; the run needs ${Math.ceil(needed / MiB)} MiB`,
    );
    process.exit(2);
  }

  log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const clipSeconds = Math.max(70, seconds + 10);
  log(
    `test media: 1920x1080 25 fps 4 Mbit/s GOP 2 s H.264 + AAC, ${clipSeconds} s (cached in ${MEDIA_CACHE_DIR})`,
  );
  const media = await makeTestMedia(MEDIA_CACHE_DIR, 'h264-aac', {
    width: 1920,
    height: 1080,
    fps: 25,
    seconds: clipSeconds,
    bitrateKbps: 4000,
    gopSeconds: 2,
  });
  const kbps = Math.round(
    Number(
      execFileSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'csv=p=0', media.path],
        { encoding: 'utf8' },
      ).trim(),
    ) / 1000,
  );
  log(
    `${media.path}: ${kbps} kbit/s${media.cached ? ' (cached)' : `, encoded in ${(media.encodeMs / 1000).toFixed(0)} s`}`,
  );

  // One looping file mount per stream, not shared: each client is its own camera, reading from the start.
  const mounts: Record<string, MountSpec> = {};
  for (let i = 1; i <= streams; i++)
    mounts[`/cam${i}`] = { kind: 'file', file: media.path, loop: true, shared: false };
  const server = await startRtspServer({ mounts });
  const urls = Object.keys(mounts).map((m) => server.url(m));
  log(
    `RTSP server on port ${server.port}: ${streams} looping file mounts /cam1../cam${streams} (not shared)`,
  );

  const work = await mkdtemp(join(parent, 'quanlu-bench-capture-'));
  const cleanup = () => {
    for (const c of live) c.kill('SIGKILL');
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    void server.stop().finally(() => process.exit(130));
  });

  const bundle = args.bundle ? await bundleRunner(join(work, 'bundle')) : null;
  if (bundle) log(`gateway runner bundled into ${bundle}: plain node, no tsx loader`);
  const baselines: BaselinePhase[] = [];
  const gateways: GatewayPhase[] = [];
  let loadAtEnd: number[] = loadavg();
  try {
    for (let r = 0; r < rounds; r++) {
      // Round 1 runs the baseline first; later rounds alternate, so neither always meets a fresher machine.
      const order = r % 2 === 0 ? ['baseline', 'gateway'] : ['gateway', 'baseline'];
      for (const which of order.filter((w) => !only || w === only)) {
        if (which === 'baseline') {
          log(`round ${r + 1}: baseline, ${streams} × ffmpeg -c copy -f segment for ${seconds} s`);
          const b = await runBaseline(urls, seconds, segmentSeconds, join(work, `baseline-${r + 1}`));
          baselines.push(b);
          log(
            `  baseline: ${b.cpuS.toFixed(2)} CPU s (sampled ${b.sampledCpuS.toFixed(2)}, system ${b.sampledSystemS.toFixed(2)}), peak RSS Σ ${mib(b.rssKb)} MiB, ` +
              `${b.segments} segments, ${b.wallS.toFixed(1)} s wall, contention ${b.contention}`,
          );
        } else {
          log(`round ${r + 1}: gateway, ${streams} RTSP cameras recorded for ${seconds} s (child process)`);
          const g = await runGateway(
            urls,
            seconds,
            segmentSeconds,
            logLevel,
            join(work, `gateway-${r + 1}`),
            args['cpu-prof']!,
            bundle,
          );
          gateways.push(g);
          const x = g.runner;
          log(
            `  gateway: ${g.cpuS.toFixed(2)} CPU s = node ${x.windowCpuS.toFixed(2)} ` +
              `(user ${x.windowUserS.toFixed(2)}, system ${x.windowSystemS.toFixed(2)}) + children ${x.childrenCpuS.toFixed(2)} ` +
              `(ffmpeg sampled ${g.ffmpegCpuSampledS.toFixed(2)}, system ${g.ffmpegSystemSampledS.toFixed(2)}; ${g.ffmpegCount} ffmpeg, ${g.ffprobeCount} ffprobe seen); ` +
              `node start-up ${x.startupCpuS.toFixed(2)} CPU s not counted; whole runner life ${g.runnerTotalCpuS.toFixed(2)} CPU s; ` +
              `children sampled by command ${JSON.stringify(g.byComm)}; node threads ${JSON.stringify(x.threadsCpuS)}; node phases ${JSON.stringify(x.phasesCpuS)}`,
          );
          log(
            `  gateway: node peak RSS ${mib(x.maxRssKb)} MiB (${mib(x.startRssKb)} at the start; sampled VmHWM ${mib(g.runnerHwmKb)}; heap used ${mib(x.heapUsedKb)}, ` +
              `external+buffers ${mib(x.externalKb)}), ffmpeg peak RSS Σ ${mib(g.ffmpegRssKb)} MiB`,
          );
          log(
            `  gateway: ${g.segments} segments, seal latency p50 ${x.sealMs.p50} ms max ${x.sealMs.max} ms, ` +
              `${g.logLines} log lines (${g.logBytes} B), verified ${x.verified}, contention ${g.contention}` +
              (x.findings.length ? `; findings: ${x.findings.join(' | ')}` : ''),
          );
          for (const t of x.tracks)
            log(
              `    ${t.track}: ${t.segments} sealed of ${t.listed} listed (${t.expected} by time), ${t.outages} outage(s), ` +
                `first segment ${t.firstSegmentMs} ms after the start; lengths ${t.durationsMs.join(' ')} ms`,
            );
          if (g.profileDir) log(`  CPU profile in ${g.profileDir}`);
        }
      }
    }
    loadAtEnd = loadavg();
  } finally {
    await server.stop();
    if (args.keep || args['cpu-prof']) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }

  if (only) {
    // One contender alone: its figures, no ratio (a diagnostic, not the benchmark).
    const phases: Phase[] = only === 'gateway' ? gateways : baselines;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'capture',
        only,
        streams,
        seconds,
        cpu_s: round(median(phases.map((p) => p.cpuS)), 2),
        ...(only === 'gateway'
          ? {
              gateway_node_cpu_s: round(median(gateways.map((g) => g.runner.windowCpuS)), 2),
              gateway_ffmpeg_cpu_s: round(median(gateways.map((g) => g.runner.childrenCpuS)), 2),
              rss_mb: Math.max(...gateways.map((g) => mib(g.runner.maxRssKb))),
            }
          : { rss_mb: Math.max(...baselines.map((b) => mib(b.rssKb))) }),
        segments: median(phases.map((p) => p.segments)),
        lost: null,
        contention: round(median(phases.map((p) => p.contention)), 2),
        loadavg: loadAtEnd.map((x) => round(x, 2)),
      })}\n`,
    );
    return;
  }
  const cpu = median(gateways.map((g) => g.cpuS));
  const baseCpu = median(baselines.map((b) => b.cpuS));
  const lost = gateways.reduce(
    (n, g) =>
      n +
      g.runner.tracks.reduce((m, t) => m + Math.max(0, t.listed - t.segments) + t.outages, 0) +
      (g.runner.verified ? 0 : 1),
    0,
  );
  log(`load average at end: ${loadAtEnd.map((x) => x.toFixed(2)).join(' ')}`);
  const result = {
    bench: 'capture',
    streams,
    seconds,
    cpu_s: round(cpu, 2),
    baseline_cpu_s: round(baseCpu, 2),
    ratio: round(cpu / baseCpu, 2),
    target: '<=1.2 cpu, rss<=150MB',
    rss_mb: Math.max(...gateways.map((g) => mib(g.runner.maxRssKb))),
    ffmpeg_rss_mb: Math.max(...gateways.map((g) => mib(g.ffmpegRssKb))),
    baseline_rss_mb: Math.max(...baselines.map((b) => mib(b.rssKb))),
    segments: median(gateways.map((g) => g.segments)),
    baseline_segments: median(baselines.map((b) => b.segments)),
    expected_segments: median(gateways.map((g) => g.runner.tracks.reduce((n, t) => n + t.expected, 0))),
    lost,
    verified: gateways.every((g) => g.runner.verified),
    gateway_node_cpu_s: round(median(gateways.map((g) => g.runner.windowCpuS)), 2),
    gateway_ffmpeg_cpu_s: round(median(gateways.map((g) => g.runner.childrenCpuS)), 2),
    startup_cpu_s: round(median(gateways.map((g) => g.runner.startupCpuS)), 2),
    seal_ms_p50: median(gateways.map((g) => g.runner.sealMs.p50)),
    log_level: logLevel,
    loader: bundle ? 'esbuild bundle' : 'tsx',
    contention: round(median([...gateways, ...baselines].map((p) => p.contention)), 2),
    loadavg: loadAtEnd.map((x) => round(x, 2)),
    rounds,
    order: rounds === 1 ? 'baseline first' : 'alternating, baseline first',
    source: `${streams} looping file mounts (not shared), ${kbps} kbit/s 1080p25`,
    backend: 'fs spool',
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
