/**
 * @module Benchmark of several ingest nodes (issue 9): 500 simulated gateways × 4 tracks seal a 2 s segment
 * each (1,000 entries/s, objects pre-stored) for `--minutes`, over a private Mosquitto, against ingest nodes
 * (child processes, shared subscription) on one PostgreSQL schema; first with two nodes, then with one for
 * comparison, over the same pre-signed entries. Reports the sustained indexed rate, seal→indexed latency
 * (p50/p99/max, measured at the gateways: from the moment an entry is due to its `indexed` acknowledgement),
 * lost entries (never acknowledged, or not indexed exactly once), each node's share, CPU and RSS.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { TrackChain } from '../../protocol/chain.ts';
import type { SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { objectKey } from '../../protocol/object-key.ts';
import { isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { metricSum, startIngestRunner } from '../../test/e2e/runner-process.ts';
import { postgresUrl } from '../../test/helpers/databases.ts';
import { startMosquitto } from '../../test/helpers/mosquitto.ts';

const USAGE = `usage: npm run bench -- scale [options]
  --gateways N       simulated gateways, one MQTT client each (default 500)
  --tracks N         tracks per gateway (default 4)
  --segment-s N      segment length: each track seals one entry this often (default 2)
  --minutes N        how long the gateways record (default 5; fractions allowed)
  --nodes LIST       node counts to run, in order, comma-separated (default 2,1)
  --object-bytes N   size of each pre-stored segment object (default 256)
  --republish-s N    a gateway publishes an unacknowledged entry again after this long, its oldest 64
                     at a time, as the uplink does (default 30, the uplink's republishAfterMs)
  --drain-s N        after the recording ends, how long to wait for the last acknowledgements (default 120)
  --p99-target-s N   the p99 seal→indexed latency the run must meet (default 2)`;

const { values: args } = parseArgs({
  options: {
    gateways: { type: 'string', default: '500' },
    tracks: { type: 'string', default: '4' },
    'segment-s': { type: 'string', default: '2' },
    minutes: { type: 'string', default: '5' },
    nodes: { type: 'string', default: '2,1' },
    'object-bytes': { type: 'string', default: '256' },
    'republish-s': { type: 'string', default: '30' },
    'drain-s': { type: 'string', default: '120' },
    'p99-target-s': { type: 'string', default: '2' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench scale: ${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function positive(name: string, text: string | undefined, integer = true): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** What the publisher worker (publisher.mjs) is given. */
interface PublisherData {
  url: string;
  tracks: number;
  stepMs: number;
  republishMs: number;
  /** The uplink's batch: how many of the oldest unacknowledged entries a round looks at. */
  batch: number;
  gateways: { id: string; topic: string; ackTopic: string; payloads: string[]; hashes: string[] }[];
}

/** What the worker reports at the end. */
interface PublisherReport {
  elapsedMs: number;
  published: number;
  republished: number;
  acked: number;
  rejected: number;
  firstReject: string;
  maxLagMs: number;
  total: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  perSecond: [number, number][];
}

/** One simulated gateway: its key and its entries step by step (each step one entry per track). */
interface SimGateway {
  id: string;
  keyPair: KeyPair;
  entries: SignedEntry[];
}

/** Builds every chain (open, segments, close) and writes each segment's object into the fs store's layout. */
async function buildGateways(
  storeRoot: string,
  gateways: number,
  tracks: number,
  steps: number,
  segmentMs: number,
  objectBytes: number,
): Promise<SimGateway[]> {
  const clock = { offsetMs: 0, rttMs: null, source: 'none' } as const;
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  const out: SimGateway[] = [];
  let writes: { path: string; bytes: Buffer }[] = [];
  const flush = async () => {
    for (let i = 0; i < writes.length; i += 64)
      await Promise.all(
        writes.slice(i, i + 64).map(async (w) => {
          await mkdir(dirname(w.path), { recursive: true });
          await writeFile(w.path, w.bytes, { mode: 0o444 });
        }),
      );
    writes = [];
  };
  for (let g = 0; g < gateways; g++) {
    const id = `gw-scale-${String(g + 1).padStart(4, '0')}`;
    const keyPair = generateKeyPair();
    const recording = randomUUID();
    const perTrack: SignedEntry[][] = [];
    for (let t = 0; t < tracks; t++) {
      const chain = new TrackChain({
        gateway: id,
        keyFingerprint: keyPair.publicKey.fingerprint,
        privateKey: keyPair.privateKey,
        recording,
        track: `cam-${t + 1}`,
      });
      const list: SignedEntry[] = [
        chain.open({
          sealedAt: isoTime(start),
          clock,
          start: isoTime(start),
          continuity: 'continuous',
          case: { id: 'BENCH-2026-0001', matter: 'inquiry', officers: ['31010001'], room: `r${g + 1}` },
          source: { kind: 'camera', name: `Camera ${t + 1}`, device: null, officer: null },
          startedBy: 'bench',
        }),
      ];
      let now = start;
      for (let i = 1; i < steps - 1; i++) {
        const bytes = randomBytes(objectBytes);
        const sha256 = sha256Hex(bytes);
        writes.push({ path: join(storeRoot, ...objectKey(sha256).split('/')), bytes });
        list.push(
          chain.segment({
            sealedAt: isoTime(now + segmentMs),
            clock,
            object: { sha256, size: bytes.length },
            start: isoTime(now),
            durationMs: segmentMs,
            container: 'mpegts',
            name: null,
          }),
        );
        now += segmentMs;
      }
      list.push(chain.close({ sealedAt: isoTime(now), clock, end: isoTime(now), reason: 'stopped' }));
      perTrack.push(list);
    }
    const entries: SignedEntry[] = [];
    for (let i = 0; i < steps; i++) for (const l of perTrack) entries.push(l[i]!);
    out.push({ id, keyPair, entries });
    if (writes.length > 10_000) await flush();
  }
  await flush();
  return out;
}

/** CPU ticks of the whole machine (busy, total) from /proc/stat. */
async function machineTicks(): Promise<{ busy: number; total: number }> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/** CPU seconds (user + system) and RSS of one process, from /proc (null once it is gone). */
async function processUsage(pid: number): Promise<{ cpuS: number; rssMb: number; hwmMb: number } | null> {
  try {
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return {
      cpuS: (Number(stat[11]) + Number(stat[12])) / 100,
      rssMb: kb('VmRSS') / 1024,
      hwmMb: kb('VmHWM') / 1024,
    };
  } catch {
    return null;
  }
}

/** CPU seconds of every `postgres` process on the machine (the server is shared: other users' work counts too). */
async function postgresCpuS(): Promise<number> {
  let sum = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.split(') ')[1]!.split(' ');
      sum += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return sum;
}

/** The pid of the Mosquitto started with this folder's config (the helper does not expose it). */
async function mosquittoPid(dir: string): Promise<number | null> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('/usr/sbin/mosquitto') && cmd.includes(join(dir, 'mosquitto.conf')))
      return Number(pid);
  }
  return null;
}

/** A node as a child process (test/e2e/ingest-runner.ts). */
interface NodeProcess {
  name: string;
  child: ChildProcess;
  httpUrl: string;
}

async function startNode(config: unknown, name: string): Promise<NodeProcess> {
  const { child, httpUrl } = await startIngestRunner(config, `ingest ${name}`, 600_000);
  return { name, child, httpUrl };
}

/** The node's entries acknowledged as indexed (its Prometheus counter, summed over kinds). */
async function indexedBy(node: NodeProcess): Promise<number | null> {
  try {
    const text = await (
      await fetch(`${node.httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })
    ).text();
    return metricSum(text, 'quanlu_ingest_entries_indexed_total') ?? 0;
  } catch {
    return null;
  }
}

/** How many entries the node holds waiting for a predecessor (its gauge), or null when it does not answer. */
async function heldBy(node: NodeProcess): Promise<number | null> {
  try {
    const text = await (await fetch(`${node.httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const line = text.split('\n').find((l) => l.startsWith('quanlu_ingest_entries_held'));
    return line ? Number(line.split(/\s+/).at(-1)) : null;
  } catch {
    return null;
  }
}

/** The q-quantile (nearest rank) of a list. */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** One configuration: `nodes` ingest nodes on a fresh schema and a fresh Mosquitto, the whole schedule. */
async function runConfiguration(
  nodeCount: number,
  gws: SimGateway[],
  work: string,
  storeRoot: string,
  opts: { tracks: number; stepMs: number; republishMs: number; drainMs: number; seconds: number },
): Promise<Record<string, unknown>> {
  const url = await postgresUrl();
  const schema = `quanlu_bench_scale_${nodeCount}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const database = { kind: 'postgres' as const, url, schema };
  const dataDir = await mkdtemp(join(work, `ingest-${nodeCount}-`));
  const mosquitto = await startMosquitto({ config: ['max_queued_messages 0'] });
  const nodes: NodeProcess[] = [];
  let worker: Worker | null = null;
  const db = await openDatabase(database);
  try {
    await migrate(db);
    const repo = createRepository(db);
    for (const g of gws) {
      await repo.upsertEnrollment({
        id: g.id,
        fingerprint: g.keyPair.publicKey.fingerprint,
        publicKey: g.keyPair.publicKeyText,
        hostname: null,
      });
      await repo.decideGateway(g.keyPair.publicKey.fingerprint, 'approved', 'bench');
    }
    // Nodes one after the other: the first makes the shared data folder's ingest secret and log key.
    for (let i = 0; i < nodeCount; i++) {
      const name = `scale-${i + 1}`;
      nodes.push(
        await startNode(
          {
            node: name,
            dataDir,
            mqtt: { kind: 'external', url: mosquitto.url, shared: true },
            http: { port: 0 },
            tls: { mode: 'off' },
            database,
            store: { kind: 'fs', root: storeRoot },
            log: { level: 'warn' },
            // Fixity sweeps off: they would re-hash the pre-stored objects during the measurement.
            fixity: { enabled: false },
          },
          name,
        ),
      );
    }
    const data: PublisherData = {
      url: mosquitto.url,
      tracks: opts.tracks,
      stepMs: opts.stepMs,
      republishMs: opts.republishMs,
      batch: 64,
      gateways: gws.map((g) => ({
        id: g.id,
        topic: gatewayTopic(g.id, 'entry'),
        ackTopic: gatewayTopic(g.id, 'ack'),
        payloads: g.entries.map((e) => JSON.stringify(e)),
        hashes: g.entries.map((e) => e.hash),
      })),
    };
    const total = data.gateways.reduce((n, g) => n + g.payloads.length, 0);
    worker = new Worker(new URL('./publisher.mjs', import.meta.url), { workerData: data });
    const w = worker;
    const workerError = new Promise<never>((_, reject) => w.once('error', reject));
    let last: { acked: number; published: number; republished: number; scheduleDone: boolean } = {
      acked: 0,
      published: 0,
      republished: 0,
      scheduleDone: false,
    };
    const progressAt: { s: number; acked: number }[] = [];
    const connected = new Promise<void>((resolve) =>
      w.on('message', (m: { type: string } & typeof last & { elapsedMs: number }) => {
        if (m.type === 'connected') resolve();
        if (m.type === 'progress') {
          last = m;
          progressAt.push({ s: m.elapsedMs / 1000, acked: m.acked });
          if (progressAt.length % 15 === 0)
            log(
              `${nodeCount} node(s): ${Math.round(m.elapsedMs / 1000)} s, published ${m.published}, acknowledged ${m.acked}, republished ${m.republished}`,
            );
        }
      }),
    );
    await Promise.race([connected, workerError]);
    log(`${nodeCount} node(s): ${gws.length} gateways connected; recording for ${opts.seconds} s`);

    const mosqPid = await mosquittoPid(mosquitto.dir);
    const usage0 = await Promise.all(nodes.map((n) => processUsage(n.child.pid!)));
    const self0 = process.resourceUsage();
    const mosq0 = mosqPid ? await processUsage(mosqPid) : null;
    const ticks0 = await machineTicks();
    const pg0 = await postgresCpuS();
    const t0 = performance.now();
    // Entries held waiting for a predecessor, sampled on each node every 5 s (a chain split between nodes).
    const heldMax = nodes.map(() => 0);
    const heldSampler = setInterval(() => {
      nodes.forEach((n, i) => {
        void heldBy(n).then((h) => {
          if (h !== null) heldMax[i] = Math.max(heldMax[i]!, h);
        });
      });
    }, 5000);
    w.postMessage('go');
    // Until everything is acknowledged, or the drain time after the schedule passes.
    const deadline = t0 + opts.seconds * 1000 + opts.drainMs + 30_000;
    while (performance.now() < deadline) {
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), workerError]);
      if (last.scheduleDone && last.acked >= total) break;
      if (last.scheduleDone && performance.now() > t0 + opts.seconds * 1000 + opts.drainMs) break;
    }
    clearInterval(heldSampler);
    const wallS = (performance.now() - t0) / 1000;
    const ticks1 = await machineTicks();
    const pg1 = await postgresCpuS();
    const usage1 = await Promise.all(nodes.map((n) => processUsage(n.child.pid!)));
    const mosq1 = mosqPid ? await processUsage(mosqPid) : null;
    const self1 = process.resourceUsage();
    const shares = await Promise.all(nodes.map(indexedBy));
    const report = await new Promise<PublisherReport>((resolve) => {
      w.on('message', (m: { type: string } & PublisherReport) => {
        if (m.type === 'report') resolve(m);
      });
      w.postMessage('report');
    });

    // Exactly once in the database; the log catches up within a few sequencing ticks.
    const rows = await db.pool.query<{ n: string; hashes: string; places: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT hash)::text AS hashes,
              count(DISTINCT (recording, track, seq))::text AS places FROM entries`,
    );
    const r = rows.rows[0]!;
    let logged = 0;
    for (let i = 0; i < 30; i++) {
      const res = await db.pool.query<{ n: string }>(
        'SELECT count(leaf_index)::text AS n FROM entries WHERE leaf_index IS NOT NULL',
      );
      logged = Number(res.rows[0]!.n);
      if (logged === Number(r.n)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }

    // Sustained rate: entries first acknowledged per second over the recording window, after a warm-up of
    // two segment steps; p10 of the per-second rates says how steady it was.
    const windowFrom = Math.ceil((2 * opts.stepMs) / 1000);
    const windowTo = Math.floor(opts.seconds);
    const perSecond = new Map(report.perSecond);
    const rates: number[] = [];
    for (let s = windowFrom; s < windowTo; s++) rates.push(perSecond.get(s) ?? 0);
    const sustained = rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length);
    const ownCpuS =
      (self1.userCPUTime + self1.systemCPUTime - self0.userCPUTime - self0.systemCPUTime) / 1e6 +
      usage1.reduce((s, u, i) => s + (u && usage0[i] ? u.cpuS - usage0[i]!.cpuS : 0), 0) +
      (mosq1 && mosq0 ? mosq1.cpuS - mosq0.cpuS : 0);
    const tickS = (ticks1.total - ticks0.total) / 100;
    const busyS = (ticks1.busy - ticks0.busy) / 100;
    const pgCpuS = pg1 - pg0;
    // Unacknowledged or without a row at its place (the larger), plus any hash indexed twice.
    const lost = Math.max(total - report.acked, total - Number(r.places)) + (Number(r.n) - Number(r.hashes));
    const result = {
      nodes: nodeCount,
      entries: total,
      offered_per_s: round((gws.length * opts.tracks * 1000) / opts.stepMs, 1),
      sustained_per_s: round(sustained, 1),
      sustained_p10_per_s: quantile(rates, 0.1),
      overall_per_s: round(report.acked / wallS, 1),
      p50_s: report.p50Ms === null ? null : round(report.p50Ms / 1000),
      p99_s: report.p99Ms === null ? null : round(report.p99Ms / 1000),
      max_s: report.maxMs === null ? null : round(report.maxMs / 1000),
      lost,
      acknowledged: report.acked,
      rejected: report.rejected,
      first_reject: report.firstReject || null,
      rows: Number(r.n),
      distinct_hashes: Number(r.hashes),
      logged,
      republished: report.republished,
      publisher_max_lag_s: round(report.maxLagMs / 1000),
      per_node_indexed: Object.fromEntries(nodes.map((n, i) => [n.name, shares[i]])),
      node_held_max: Object.fromEntries(nodes.map((n, i) => [n.name, heldMax[i]])),
      node_cpu_s: Object.fromEntries(
        nodes.map((n, i) => [
          n.name,
          usage1[i] && usage0[i] ? round(usage1[i]!.cpuS - usage0[i]!.cpuS, 1) : null,
        ]),
      ),
      node_rss_mb: Object.fromEntries(
        nodes.map((n, i) => [n.name, usage1[i] ? round(usage1[i]!.rssMb, 0) : null]),
      ),
      node_peak_rss_mb: Object.fromEntries(
        nodes.map((n, i) => [n.name, usage1[i] ? round(usage1[i]!.hwmMb, 0) : null]),
      ),
      mosquitto_cpu_s: mosq1 && mosq0 ? round(mosq1.cpuS - mosq0.cpuS, 1) : null,
      postgres_cpu_s: round(pgCpuS, 1),
      bench_cpu_s: round(
        (self1.userCPUTime + self1.systemCPUTime - self0.userCPUTime - self0.systemCPUTime) / 1e6,
        1,
      ),
      wall_s: round(wallS, 1),
      // Share of the machine's CPU time others used meanwhile: busy minus this run (bench, nodes, Mosquitto)
      // and minus every postgres process (the shared server; other users' queries are counted as ours).
      contention: tickS > 0 ? round(Math.max(0, busyS - ownCpuS - pgCpuS) / tickS, 2) : null,
      machine_busy: tickS > 0 ? round(busyS / tickS, 2) : null,
      load_avg_1m: round(loadavg()[0]!, 2),
    };
    log(`${nodeCount} node(s): ${JSON.stringify(result)}`);
    return result;
  } finally {
    await worker?.terminate();
    for (const n of nodes) {
      const gone = once(n.child, 'exit');
      n.child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
      n.child.kill('SIGKILL');
    }
    await db.close();
    await mosquitto.dispose();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`).catch(() => undefined);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const gateways = positive('gateways', args.gateways);
  const tracks = positive('tracks', args.tracks);
  const segmentS = positive('segment-s', args['segment-s'], false);
  const minutes = positive('minutes', args.minutes, false);
  const objectBytes = positive('object-bytes', args['object-bytes']);
  const republishMs = positive('republish-s', args['republish-s'], false) * 1000;
  const drainMs = positive('drain-s', args['drain-s'], false) * 1000;
  const p99TargetS = positive('p99-target-s', args['p99-target-s'], false);
  const nodeCounts = (args.nodes ?? '').split(',').map((x) => positive('nodes', x.trim()));
  const stepMs = segmentS * 1000;
  const seconds = minutes * 60;
  // Open, one segment per step, close: the recording lasts `seconds`.
  const steps = Math.max(3, Math.round(seconds / segmentS));

  const work = await mkdtemp(join(tmpdir(), 'quanlu-bench-scale-'));
  const storeRoot = join(work, 'objects');
  try {
    const t = performance.now();
    const gws = await buildGateways(storeRoot, gateways, tracks, steps, stepMs, objectBytes);
    log(
      `built ${gateways * tracks * steps} signed entries (${gateways} gateways × ${tracks} tracks × ${steps}) and their objects in ${((performance.now() - t) / 1000).toFixed(1)} s; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}, ${cpus().length} cores`,
    );
    const results: Record<string, unknown>[] = [];
    for (const n of nodeCounts)
      results.push(
        await runConfiguration(n, gws, work, storeRoot, {
          tracks,
          stepMs,
          republishMs,
          drainMs,
          seconds: steps * segmentS,
        }),
      );
    const offered = (gateways * tracks) / segmentS;
    const main = results[0]!;
    const baseline = results.find((r) => r.nodes === 1) ?? null;
    const met = (r: Record<string, unknown>) =>
      (r.sustained_per_s as number) >= 0.98 * offered &&
      r.p99_s !== null &&
      (r.p99_s as number) <= p99TargetS &&
      r.lost === 0;
    console.log(
      JSON.stringify({
        bench: 'scale',
        gateways,
        tracks_per_gateway: tracks,
        segment_s: segmentS,
        minutes,
        offered_per_s: round(offered, 1),
        nodes: main.nodes,
        sustained_per_s: main.sustained_per_s,
        p50_s: main.p50_s,
        p99_s: main.p99_s,
        lost: results.reduce((s, r) => s + (r.lost as number), 0),
        baseline_nodes: baseline?.nodes ?? null,
        baseline_sustained_per_s: baseline?.sustained_per_s ?? null,
        baseline_p99_s: baseline?.p99_s ?? null,
        ratio: baseline
          ? round((main.sustained_per_s as number) / (baseline.sustained_per_s as number))
          : null,
        ratio_p99: baseline?.p99_s ? round((main.p99_s as number) / (baseline.p99_s as number)) : null,
        target: `${offered}/s sustained, p99<=${p99TargetS}s, lost 0`,
        met: results.every(met),
        contention: quantile(
          results.map((r) => r.contention as number),
          0.5,
        ),
        results,
      }),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
