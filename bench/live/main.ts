/**
 * @module Benchmark of live retrieval on loopback: from a segment's seal on a real gateway (small synthetic cameras,
 * 2 s segments) to its listing in the live playlist the ingest serves over HTTP, read by a client that long-polls
 * each track's playlist with blocking reload (`_HLS_msn`), authenticated with an API token and audited like any
 * viewer. Baseline in the same run: seal → indexed (the consumer's event), which the playlist cannot beat.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { newApiToken, secretHash } from '../../ingest/auth/tokens.ts';
import { addUser } from '../../ingest/auth/users.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../../test/helpers/gateway-config.ts';
import { PLAINTEXT } from '../../test/helpers/tls.ts';

const USAGE = `usage: npm run bench -- live [options]
  --seconds N    how long to record (default 60)
  --cameras N    small synthetic cameras (320x180, 10 fps; default 2, so ~60 segments in 60 s)
  --segment-s N  segment length in seconds (default 2)`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    cameras: { type: 'string', default: '2' },
    'segment-s': { type: 'string', default: '2' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench live: ${line}\n`);
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

/** Times of one segment, all from Date.now() in this process. */
interface Timing {
  sealed: number;
  indexed?: number;
  listed?: number;
}

/**
 * Long-polls one track's playlist: each request asks for the next media sequence number and is answered when
 * that segment is indexed (or after three target durations); every newly listed segment gets `listed` = now.
 */
async function follow(
  url: string,
  token: string,
  onListed: (seq: number, at: number) => void,
  stop: { done: boolean },
  counters: { requests: number; answered: number },
): Promise<void> {
  const seen = new Set<number>();
  let next = 0;
  while (!stop.done) {
    counters.requests++;
    const res = await fetch(`${url}?_HLS_msn=${next}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    const at = Date.now();
    if (res.status === 404) {
      // The track's open entry is not indexed yet: ask again shortly.
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    if (res.status !== 200) throw new Error(`playlist answered ${res.status}: ${text}`);
    counters.answered++;
    const seqs = [...text.matchAll(/^segments\/(\d+)\.ts$/gm)].map((m) => Number(m[1]));
    for (const seq of seqs) {
      if (seen.has(seq)) continue;
      seen.add(seq);
      onListed(seq, at);
    }
    next = seqs.length;
    if (text.includes('#EXT-X-ENDLIST')) return;
  }
}

async function main(): Promise<void> {
  const seconds = positive('seconds', args.seconds);
  const cameraCount = Math.round(positive('cameras', args.cameras));
  const segmentSeconds = positive('segment-s', args['segment-s']);
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-bench-live-'));
  try {
    const ingest = await startIngest(
      {
        dataDir: join(dir, 'ingest'),
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
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
        await once(gw.uplink!, 'status');
        const at = new Date().toISOString();
        await addUser(
          ingest.repo,
          { username: 'bench-viewer', role: 'supervisor', password: 'bench live viewer 1' },
          at,
        );
        const token = newApiToken();
        await ingest.repo.insertApiToken(secretHash(token), 'bench-viewer', at);

        const timings = new Map<string, Timing>();
        const key = (track: string, seq: number) => `${track}/${seq}`;
        gw.recorder.on('sealed', (s: SignedEntry) => {
          const e = s.entry as Entry;
          if (e.kind === 'segment') timings.set(key(e.track, e.seq), { sealed: Date.now() });
        });
        ingest.consumer.on('indexed', ({ entry: e }) => {
          if (e.kind !== 'segment') return;
          const t = timings.get(key(e.track, e.seq));
          if (t && t.indexed === undefined) t.indexed = Date.now();
        });

        log(
          `recording ${cameraCount} cameras, ${segmentSeconds} s segments, for ${seconds} s (PGlite, embedded broker, fs store)`,
        );
        const stat0 = procStat();
        const started = await gw.recorder.start(ELEMENTS);
        const stop = { done: false };
        const counters = { requests: 0, answered: 0 };
        const followers = cameras.map((c) =>
          follow(
            `${ingest.httpUrl}/api/v1/recordings/${started.recording}/tracks/${c.id}/playlist.m3u8`,
            token,
            (seq, when) => {
              const t = timings.get(key(c.id, seq));
              if (t && t.listed === undefined) t.listed = when;
            },
            stop,
            counters,
          ),
        );
        await new Promise((r) => setTimeout(r, seconds * 1000));
        await gw.recorder.stop();
        const stat1 = procStat();
        // The close ends each playlist (ENDLIST); a follower still waiting after 30 s is counted lost.
        const limit = setTimeout(() => {
          stop.done = true;
        }, 30_000);
        await Promise.all(followers);
        clearTimeout(limit);

        const all = [...timings.values()];
        const listed = all.filter((t) => t.listed !== undefined);
        const total = listed.map((t) => t.listed! - t.sealed);
        const toIndexed = all.filter((t) => t.indexed !== undefined).map((t) => t.indexed! - t.sealed);
        const indexedToListed = listed
          .filter((t) => t.indexed !== undefined)
          .map((t) => t.listed! - t.indexed!);
        const q = (v: number[], p: number) => {
          const x = quantile(v, p);
          return x === null ? null : round(x);
        };
        const result = {
          bench: 'live',
          p50_ms: q(total, 0.5),
          p99_ms: q(total, 0.99),
          samples: listed.length,
          target: 'p50<=300ms, p99<=1000ms',
          met: (quantile(total, 0.5) ?? Infinity) <= 300 && (quantile(total, 0.99) ?? Infinity) <= 1000,
          baseline: 'seal->indexed (consumer event), same segments, same run',
          baseline_p50_ms: q(toIndexed, 0.5),
          baseline_p99_ms: q(toIndexed, 0.99),
          indexed_to_listed_p50_ms: q(indexedToListed, 0.5),
          indexed_to_listed_p99_ms: q(indexedToListed, 0.99),
          max_ms: q(total, 1),
          lost: all.length - listed.length,
          playlist_requests: counters.requests,
          rss_mb: round(process.memoryUsage().rss / 1048576),
          method: 'blocking playlist reload (_HLS_msn), API token, audited',
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
