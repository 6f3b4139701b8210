/**
 * @module The gateway side of the capture benchmark, run as its own process so its CPU and RSS are its own:
 * builds a gateway with N RTSP cameras (buildGateway, its default pino logger on stdout), records for the
 * given seconds, stops, and writes what it measured about itself and its ffmpeg children to a JSON file.
 * Then it exports the recording and verifies its chains, outside the measured window.
 *
 *   node --import tsx bench/capture/gateway-runner.ts '{"dataDir":..,"evidenceDir":..,"resultFile":..,
 *     "urls":[..],"seconds":60,"segmentSeconds":4,"logLevel":"info"}'
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { writeEvidenceFolder } from '../../gateway/evidence-folder.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import type { Entry } from '../../protocol/entry.ts';
import { timeMs } from '../../protocol/time.ts';
import { verifyChains } from '../../protocol/verifier.ts';
import { ELEMENTS, testGatewayConfig } from '../../test/helpers/gateway-config.ts';
import { readStat } from './proc.ts';

/** What the benchmark asks of the runner. */
export interface RunnerInput {
  dataDir: string;
  evidenceDir: string;
  resultFile: string;
  urls: string[];
  seconds: number;
  segmentSeconds: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** One camera's chain after the stop. */
export interface RunnerTrack {
  track: string;
  segments: number;
  /** Segments ffmpeg listed as complete: every one must be sealed. */
  listed: number;
  /** Segments the footage span calls for, from the first segment's start to the close (for information). */
  expected: number;
  /** Gaps other than the one before the first segment (connecting, waiting for a keyframe). */
  outages: number;
  /** Milliseconds from the open (the start) to the first segment's start. */
  firstSegmentMs: number | null;
  bytes: number;
  /** Each segment's placed length, ms. */
  durationsMs: number[];
}

/** What the runner writes to resultFile. */
export interface RunnerResult {
  pid: number;
  /** CPU of this process before the recording: node, tsx, the module graph, buildGateway. */
  startupCpuS: number;
  /** CPU of this process (every thread) from just before recorder.start() to after stop() resolved. */
  windowCpuS: number;
  /** The same split into user and system (kernel) time. */
  windowUserS: number;
  windowSystemS: number;
  /** CPU of the children reaped in that window (ffprobe and ffmpeg of every camera), from cutime + cstime. */
  childrenCpuS: number;
  windowMs: number;
  /** The window on the monotonic clock in µs, as a --cpu-prof profile's timestamps count: to slice one. */
  windowMonoUs: [number, number];
  /**
   * The window's node CPU split into phases: recorder.start() (probes, spawning ffmpeg, open entries; code
   * run for the first time is compiled here), the steady state between start() and stop(), and stop()
   * (ffmpeg's tail, the close entries). Children's CPU is not in these: ffmpeg is reaped in stop().
   */
  phasesCpuS: { start: number; steady: number; stop: number; steadyS: number; steadySegments: number };
  /** CPU seconds of this process's threads in the window, summed by thread name (main thread: its own name). */
  threadsCpuS: Record<string, number>;
  /** Peak RSS of this process up to the end of the window (getrusage ru_maxrss), in KiB. */
  maxRssKb: number;
  /** Peak RSS when the recording started (after start-up and buildGateway), KiB. */
  startRssKb: number;
  /** Heap figures at the end of the window, in KiB. */
  heapUsedKb: number;
  externalKb: number;
  tracks: RunnerTrack[];
  /** Milliseconds from ffmpeg listing a segment to its entry being spooled: median and maximum. */
  sealMs: { p50: number; max: number; n: number };
  verified: boolean;
  findings: string[];
  entries: number;
}

/** CPU seconds of each live thread of this process, by thread id, with its name. */
function threadCpu(): Map<string, { comm: string; cpuS: number }> {
  const out = new Map<string, { comm: string; cpuS: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readStat(`self/task/${tid}`);
    if (stat) out.set(tid, { comm: tid === String(process.pid) ? 'main' : stat.comm, cpuS: stat.cpuS });
  }
  return out;
}

/** Growth of each thread's CPU between two readings, summed by name (a thread that ended meanwhile is lost). */
function threadsDelta(
  a: Map<string, { comm: string; cpuS: number }>,
  b: Map<string, { comm: string; cpuS: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, t] of b) {
    const d = t.cpuS - (a.get(tid)?.cpuS ?? 0);
    out[t.comm] = Number(((out[t.comm] ?? 0) + d).toFixed(2));
  }
  return out;
}

const input = JSON.parse(process.argv[2] ?? '{}') as RunnerInput;
const cpuS = (u: NodeJS.ResourceUsage) => (u.userCPUTime + u.systemCPUTime) / 1e6;
const startup = process.resourceUsage();

const cameras = input.urls.map((url, i) => ({
  id: `cam-${i + 1}`,
  audio: true,
  source: { kind: 'rtsp', url },
}));
// The test profile at the production segment length and stall timeout (interview-room: 4 s and 5 s), with
// room for N cameras; the log level of a production gateway (info) unless told otherwise.
const loaded = testGatewayConfig(input.dataDir, cameras, input.segmentSeconds, 5);
const gw = buildGateway({ ...loaded, config: { ...loaded.config, log: { level: input.logLevel } } });

const listedAt = new Map<string, number[]>();
const listed = new Map<string, number>();
const sealMs: number[] = [];
gw.recorder.on('sealed', (s) => {
  const e = s.entry as Entry;
  if (e.kind !== 'segment') return;
  const t = listedAt.get(e.track)?.shift();
  if (t !== undefined) sealMs.push(performance.now() - t);
});

const threadsBefore = threadCpu();
const before = process.resourceUsage();
const childrenBefore = readStat('self')!.childrenCpuS;
const t0 = performance.now();
const monoStart = Number(process.hrtime.bigint() / 1000n);
const started = await gw.recorder.start(ELEMENTS);
const afterStart = process.resourceUsage();
const tStarted = performance.now();
let sealedSegments = 0;
gw.recorder.on('sealed', (s) => {
  if ((s.entry as Entry).kind === 'segment') sealedSegments++;
});
for (const c of cameras) {
  const times: number[] = [];
  listedAt.set(c.id, times);
  gw.recorder.supervisor(c.id)?.on('segment', () => {
    times.push(performance.now());
    listed.set(c.id, (listed.get(c.id) ?? 0) + 1);
  });
}
process.stderr.write(`runner: recording ${started.recording} from ${cameras.length} camera(s)\n`);
await sleep(Math.max(0, input.seconds * 1000 - (performance.now() - t0)));
const beforeStop = process.resourceUsage();
const tStop = performance.now();
const segmentsBeforeStop = sealedSegments;
const summary = await gw.recorder.stop();
const windowMs = performance.now() - t0;
const monoEnd = Number(process.hrtime.bigint() / 1000n);
const threadsAfter = threadCpu();
const after = process.resourceUsage();
const childrenAfter = readStat('self')!.childrenCpuS;
const mem = process.memoryUsage();

// Outside the window: export the chains as an evidence folder and verify them as `quanlu verify` does.
const segmentMs = input.segmentSeconds * 1000;
const tracks: RunnerTrack[] = summary.tracks.map(({ track }) => {
  const entries = gw.spool.chain(summary.recording, track).map((s) => s.entry as Entry);
  const open = entries.find((e) => e.kind === 'open');
  const close = entries.find((e) => e.kind === 'close');
  const segments = entries.filter((e): e is Entry & { kind: 'segment' } => e.kind === 'segment');
  const first = segments[0];
  const span = first && close ? timeMs(close.end) - timeMs(first.start) : 0;
  return {
    track,
    segments: segments.length,
    listed: listed.get(track) ?? 0,
    // The last, partial segment counts: ffmpeg lists it on SIGINT. Placed lengths jitter by a few ms.
    expected: Math.max(0, Math.ceil(span / segmentMs - 0.01)),
    outages: entries.filter((e) => e.kind === 'gap' && e.reason !== 'source-starting').length,
    firstSegmentMs: first && open ? timeMs(first.start) - timeMs(open.start) : null,
    bytes: segments.reduce((n, s) => n + s.object.size, 0),
    durationsMs: segments.map((s) => s.durationMs),
  };
});
writeEvidenceFolder(
  gw.spool,
  input.evidenceDir,
  gw.id,
  gw.keyPair,
  tracks.map(({ track }) => ({ recording: summary.recording, track })),
);
const folder = await readFolder(input.evidenceDir);
const report = verifyChains(folder.inputs, folder.keys, folder.objects, {}, folder.findings);
await gw.close();

sealMs.sort((a, b) => a - b);
const result: RunnerResult = {
  pid: process.pid,
  startupCpuS: cpuS(before),
  windowCpuS: cpuS(after) - cpuS(before),
  windowUserS: (after.userCPUTime - before.userCPUTime) / 1e6,
  windowSystemS: (after.systemCPUTime - before.systemCPUTime) / 1e6,
  childrenCpuS: childrenAfter - childrenBefore,
  windowMs,
  windowMonoUs: [monoStart, monoEnd],
  threadsCpuS: threadsDelta(threadsBefore, threadsAfter),
  phasesCpuS: {
    start: Number((cpuS(afterStart) - cpuS(before)).toFixed(3)),
    steady: Number((cpuS(beforeStop) - cpuS(afterStart)).toFixed(3)),
    stop: Number((cpuS(after) - cpuS(beforeStop)).toFixed(3)),
    steadyS: Number(((tStop - tStarted) / 1000).toFixed(1)),
    steadySegments: segmentsBeforeStop,
  },
  maxRssKb: after.maxRSS,
  startRssKb: before.maxRSS,
  heapUsedKb: Math.round(mem.heapUsed / 1024),
  externalKb: Math.round((mem.external + mem.arrayBuffers) / 1024),
  tracks,
  sealMs: {
    p50: Math.round(sealMs[Math.floor(sealMs.length / 2)] ?? 0),
    max: Math.round(sealMs.at(-1) ?? 0),
    n: sealMs.length,
  },
  verified: report.ok,
  findings: [...report.findings, ...report.tracks.flatMap((t) => t.findings)]
    .slice(0, 10)
    .map((f) => `${f.code}: ${f.message}`),
  entries: report.entries,
};
writeFileSync(input.resultFile, JSON.stringify(result));
process.stderr.write(
  `runner: done (start-up: node, loader and imports took ${cpuS(startup).toFixed(2)} CPU s)\n`,
);
