/**
 * @module Benchmark of the evidence latency on loopback: from a segment's seal on a real gateway (`buildGateway`,
 * small synthetic cameras, 2 s segments) to its row at an in-process ingest (embedded broker), same process,
 * same clock. The stages in between are reported too: seal → published (object upload and PUBACK), →
 * received by the consumer, → indexed.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { DatabaseConfigInput } from '../../ingest/db/open-database.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { postgresUrl } from '../../test/helpers/databases.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../../test/helpers/gateway-config.ts';
import { PLAINTEXT } from '../../test/helpers/tls.ts';

const USAGE = `usage: npm run bench -- latency [options]
  --seconds N    how long to record (default 60)
  --cameras N    small synthetic cameras (320x180, 10 fps; default 3)
  --segment-s N  segment length in seconds (default 2)
  --backend B    pglite | postgres (default pglite)`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    cameras: { type: 'string', default: '3' },
    'segment-s': { type: 'string', default: '2' },
    backend: { type: 'string', default: 'pglite' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench latency: ${line}\n`);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const quiet = pino({ level: 'silent' });

function positive(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** The q-quantile (nearest rank) of a list of numbers. */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Times of one entry, all from Date.now() in this process (the consumer's clock is the same). */
interface Timing {
  kind: Entry['kind'];
  sealed: number;
  /** The uplink's store.put of the segment's object: started (the uplink woke for it) and finished (fsync'd). */
  putStart?: number;
  putEnd?: number;
  sent?: number;
  received?: number;
  indexed?: number;
}

async function main(): Promise<void> {
  const seconds = positive('seconds', args.seconds);
  const cameraCount = Math.round(positive('cameras', args.cameras));
  const segmentSeconds = positive('segment-s', args['segment-s']);
  const backend = args.backend;
  if (backend !== 'pglite' && backend !== 'postgres') {
    console.error(`--backend must be pglite or postgres\n${USAGE}`);
    process.exit(2);
  }
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-bench-latency-'));
  let database: DatabaseConfigInput | undefined;
  let dropSchema: (() => Promise<void>) | null = null;
  if (backend === 'postgres') {
    const url = await postgresUrl();
    const schema = `quanlu_bench_latency_${process.pid}`;
    database = { kind: 'postgres', url, schema };
    dropSchema = async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await admin.end();
      }
    };
  }
  try {
    const ingest = await startIngest(
      {
        dataDir: join(dir, 'ingest'),
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
        ...(database ? { database } : {}),
      },
      { log: quiet },
    );
    try {
      const cameras = Array.from({ length: cameraCount }, (_, i) =>
        smallSynthetic(`cam-${i + 1}`, 440 + 110 * i),
      );
      const gw = buildGateway(testGatewayConfig(join(dir, 'gateway'), cameras, segmentSeconds), {
        log: quiet,
        uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
      });
      try {
        const asked = once(ingest.events, 'enrollment');
        await gw.start();
        const [row] = (await asked) as [{ fingerprint: string }];
        await ingest.decide(row.fingerprint, 'approved', 'bench');
        // The approval disconnects the gateway; it reconnects with the same session within a second or so.
        const uplink = gw.uplink!;
        await once(uplink, 'status');

        const timings = new Map<string, Timing>();
        const bySha = new Map<string, Timing>();
        gw.recorder.on('sealed', (s: SignedEntry) => {
          const e = s.entry as Entry;
          const t: Timing = { kind: e.kind, sealed: Date.now() };
          timings.set(s.hash, t);
          if (e.kind === 'segment') bySha.set(e.object.sha256, t);
        });
        // The uplink uploads through this same store object: time its puts (bench-side wrapper only).
        const store = ingest.store;
        const put = store.put.bind(store);
        store.put = async (sha256, source, size) => {
          const t = bySha.get(sha256);
          if (t && t.putStart === undefined) t.putStart = Date.now();
          try {
            return await put(sha256, source, size);
          } finally {
            if (t && t.putEnd === undefined) t.putEnd = Date.now();
          }
        };
        uplink.on('sent', (r) => {
          const t = timings.get(r.hash);
          if (t && t.sent === undefined) t.sent = Date.now();
        });
        let rejected = 0;
        ingest.consumer.on('rejected', () => rejected++);
        ingest.consumer.on('indexed', (e) => {
          const t = timings.get(e.hash);
          if (!t || t.indexed !== undefined) return;
          t.indexed = Date.now();
          t.received = t.indexed - e.latencyMs;
        });

        log(
          `recording ${cameraCount} cameras, ${segmentSeconds} s segments, for ${seconds} s (${backend}, embedded broker)`,
        );
        const stat0 = procStat();
        await gw.recorder.start(ELEMENTS);
        await new Promise((r) => setTimeout(r, seconds * 1000));
        await gw.recorder.stop();
        const stat1 = procStat();
        // Whatever was sealed reaches the index, or is counted lost after 30 s.
        const deadline = Date.now() + 30_000;
        while ([...timings.values()].some((t) => t.indexed === undefined) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));

        const segs = [...timings.values()].filter((t) => t.kind === 'segment');
        const done = segs.filter((t) => t.indexed !== undefined);
        const total = done.map((t) => t.indexed! - t.sealed);
        const stage = (f: (t: Timing) => number | undefined) =>
          done.map(f).filter((x): x is number => x !== undefined);
        const toSent = stage((t) => (t.sent === undefined ? undefined : t.sent - t.sealed));
        const toReceived = stage((t) =>
          t.sent === undefined || t.received === undefined ? undefined : t.received - t.sent,
        );
        const toIndexed = stage((t) => (t.received === undefined ? undefined : t.indexed! - t.received));
        const toPut = stage((t) => (t.putStart === undefined ? undefined : t.putStart - t.sealed));
        const putMs = stage((t) => (t.putEnd === undefined ? undefined : t.putEnd - t.putStart!));
        const putToSent = stage((t) =>
          t.putEnd === undefined || t.sent === undefined ? undefined : t.sent - t.putEnd,
        );
        const q = (v: number[], p: number) => {
          const x = quantile(v, p);
          return x === null ? null : round(x);
        };
        const all = [...timings.values()];
        const result = {
          bench: 'latency',
          p50_ms: q(total, 0.5),
          p99_ms: q(total, 0.99),
          samples: done.length,
          target: 'p50<=300ms, p99<=1000ms',
          met: (quantile(total, 0.5) ?? Infinity) <= 300 && (quantile(total, 0.99) ?? Infinity) <= 1000,
          backend,
          broker: 'aedes (embedded)',
          store: 'fs',
          lost: all.filter((t) => t.indexed === undefined).length,
          rejected,
          max_ms: q(total, 1),
          min_ms: q(total, 0),
          seal_to_published_p50_ms: q(toSent, 0.5),
          seal_to_published_p99_ms: q(toSent, 0.99),
          seal_to_upload_start_p50_ms: q(toPut, 0.5),
          seal_to_upload_start_p99_ms: q(toPut, 0.99),
          seal_to_upload_start_max_ms: q(toPut, 1),
          upload_p50_ms: q(putMs, 0.5),
          upload_p99_ms: q(putMs, 0.99),
          uploaded_to_published_p50_ms: q(putToSent, 0.5),
          uploaded_to_published_p99_ms: q(putToSent, 0.99),
          published_to_received_p50_ms: q(toReceived, 0.5),
          published_to_received_p99_ms: q(toReceived, 0.99),
          received_to_indexed_p50_ms: q(toIndexed, 0.5),
          received_to_indexed_p99_ms: q(toIndexed, 0.99),
          entries: all.length,
          cameras: cameraCount,
          segment_s: segmentSeconds,
          seconds,
          machine_busy:
            stat0 && stat1 && stat1.total > stat0.total
              ? round((stat1.busy - stat0.busy) / (stat1.total - stat0.total), 2)
              : null,
          cores: cpus().length,
          load_avg_1m: round(loadavg()[0]!, 2),
        };
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        await gw.close();
      }
    } finally {
      await ingest.close();
    }
  } finally {
    await dropSchema?.().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function procStat(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - (f[4] ?? 0), total };
  } catch {
    return null;
  }
}

await main();
