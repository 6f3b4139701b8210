/**
 * @module Benchmark of the ingest's throughput: N simulated gateways publish pre-signed entries (objects already
 * in the store) over MQTT QoS 1 to an in-process ingest (`startIngest`), on PGlite and on PostgreSQL; the
 * baselines, measured in the same run over the same rows, are `repository.indexBatch` alone and a plain
 * multi-row INSERT into a bare table.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { startIngest } from '../../ingest/app.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { type Database, type DatabaseConfigInput, openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository, type IndexedEntry, type Repository } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import { checkEnvelope, type Entry, type SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { objectKey } from '../../protocol/object-key.ts';
import { isoTime, systemClock } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { postgresUrl } from '../../test/helpers/databases.ts';
import { type Mosquitto, startMosquitto } from '../../test/helpers/mosquitto.ts';
import { PLAINTEXT } from '../../test/helpers/tls.ts';
import { CpuMeter, pidsWithCommandLine } from './process-cpu.ts';

const USAGE = `usage: npm run bench -- ingest [options]
  --entries N        entries published in all (default 20000)
  --gateways N       simulated gateways, one MQTT client each (default 20)
  --tracks N         chains per gateway (default 4)
  --object-bytes N   size of each segment's object (default 1024)
  --backend B        postgres | pglite | both (default both)
  --broker B         mosquitto (a private external Mosquitto, no auth) | embedded (aedes) (default mosquitto)
  --mosquitto-queue N  Mosquitto's max_queued_messages (default 0 = unlimited; Mosquitto's own default is 1000)
  --batch N          rows per batch in the baselines (default 500, the consumer's batchMax)
  --stall-s N        give up when nothing is indexed for this long (default 60)`;

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '20000' },
    gateways: { type: 'string', default: '20' },
    tracks: { type: 'string', default: '4' },
    'object-bytes': { type: 'string', default: '1024' },
    backend: { type: 'string', default: 'both' },
    broker: { type: 'string', default: 'mosquitto' },
    'mosquitto-queue': { type: 'string', default: '0' },
    batch: { type: 'string', default: '500' },
    'stall-s': { type: 'string', default: '60' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`bench ingest: ${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const quiet = pino({ level: 'silent' });

function positive(name: string, text: string | undefined, allowZero = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    console.error(`--${name} must be a positive integer, not ${text}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** What the publisher process (publisher.mjs) is given. */
interface PublisherData {
  url: string;
  gateways: { id: string; topic: string; password: string | null; payloads: string[] }[];
}

/** One simulated gateway: its key and its entries in the order it publishes them (tracks interleaved). */
interface SimGateway {
  id: string;
  keyPair: KeyPair;
  entries: SignedEntry[];
}

/** Builds the chains (open, then segments) and writes each segment's object into the fs store's layout. */
async function buildChains(
  storeRoot: string,
  total: number,
  gateways: number,
  tracks: number,
  objectBytes: number,
): Promise<SimGateway[]> {
  const clock = { offsetMs: 0, rttMs: null, source: 'none' } as const;
  const start = Date.UTC(2026, 0, 5, 9, 0, 0);
  const out: SimGateway[] = [];
  const chains = gateways * tracks;
  const writes: { path: string; bytes: Buffer }[] = [];
  for (let g = 0; g < gateways; g++) {
    const id = `gw-bench-${String(g + 1).padStart(3, '0')}`;
    const keyPair = generateKeyPair();
    const recording = randomUUID();
    const perTrack: SignedEntry[][] = [];
    for (let t = 0; t < tracks; t++) {
      const c = g * tracks + t;
      // Spread `total` over the chains: the first (total % chains) get one more.
      const n = Math.floor(total / chains) + (c < total % chains ? 1 : 0);
      const chain = new TrackChain({
        gateway: id,
        keyFingerprint: keyPair.publicKey.fingerprint,
        privateKey: keyPair.privateKey,
        recording,
        track: `cam-${t + 1}`,
      });
      const list: SignedEntry[] = [];
      let now = start;
      for (let i = 0; i < n; i++) {
        if (i === 0) {
          list.push(
            chain.open({
              sealedAt: isoTime(now),
              clock,
              start: isoTime(now),
              continuity: 'continuous',
              case: {
                id: 'BENCH-2026-0001',
                matter: 'inquiry',
                officers: ['31010001', '31010002'],
                room: 'r1',
              },
              source: { kind: 'camera', name: `Camera ${t + 1}`, device: null, officer: null },
              startedBy: 'bench',
            }),
          );
          continue;
        }
        const bytes = randomBytes(objectBytes);
        const sha256 = sha256Hex(bytes);
        writes.push({ path: join(storeRoot, ...objectKey(sha256).split('/')), bytes });
        list.push(
          chain.segment({
            sealedAt: isoTime(now + 2000),
            clock,
            object: { sha256, size: bytes.length },
            start: isoTime(now),
            durationMs: 2000,
            container: 'mpegts',
            name: null,
          }),
        );
        now += 2000;
      }
      perTrack.push(list);
    }
    // The order a gateway with several cameras seals in: the tracks take turns.
    const entries: SignedEntry[] = [];
    for (let i = 0; perTrack.some((l) => i < l.length); i++)
      for (const l of perTrack) if (i < l.length) entries.push(l[i]!);
    out.push({ id, keyPair, entries });
  }
  // Objects go straight into the store's layout (no fsync per object): the ingest only heads them.
  for (let i = 0; i < writes.length; i += 64) {
    await Promise.all(
      writes.slice(i, i + 64).map(async (w) => {
        await mkdir(dirname(w.path), { recursive: true });
        await writeFile(w.path, w.bytes, { mode: 0o444 });
      }),
    );
  }
  return out;
}

/** The order the ingest sees the entries in, roughly: gateways take turns. Per-track order is kept. */
function arrivalOrder(gws: SimGateway[]): SignedEntry[] {
  const all: SignedEntry[] = [];
  for (let i = 0; gws.some((g) => i < g.entries.length); i++)
    for (const g of gws) if (i < g.entries.length) all.push(g.entries[i]!);
  return all;
}

function indexedItems(order: SignedEntry[]): IndexedEntry[] {
  return order.map((signed) => {
    const entry = signed.entry as Entry;
    return {
      signed,
      entry,
      entryText: canonicalText(signed.entry),
      ...(entry.kind === 'segment'
        ? { object: { sha256: entry.object.sha256, size: entry.object.size, verifiedHow: 'store-checksum' } }
        : {}),
    } as IndexedEntry;
  });
}

/** A fresh database of the backend: a new PGlite folder, or a new schema on PostgreSQL. */
async function freshDatabase(
  backend: 'postgres' | 'pglite',
  work: string,
  label: string,
): Promise<{ config: DatabaseConfigInput; drop: () => Promise<void> }> {
  if (backend === 'pglite') {
    const dir = await mkdtemp(join(work, `pg-${label}-`));
    return {
      config: { kind: 'pglite', dataDir: dir },
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const url = await postgresUrl();
  const schema = `quanlu_bench_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  return {
    config: { kind: 'postgres', url, schema },
    drop: async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** Baseline 1: the same rows through repository.indexBatch, batch after batch, on a fresh schema. */
async function indexBatchRate(db: Database, items: IndexedEntry[], batch: number): Promise<number> {
  await migrate(db);
  const repo = createRepository(db);
  const t = performance.now();
  let inserted = 0;
  for (let i = 0; i < items.length; i += batch) {
    const r = await repo.indexBatch(items.slice(i, i + batch));
    inserted += r.inserted.length;
  }
  const s = (performance.now() - t) / 1000;
  if (inserted !== items.length) throw new Error(`indexBatch inserted ${inserted} of ${items.length}`);
  return items.length / s;
}

/** Baseline 2: one multi-row INSERT per batch into a bare table of the same columns (no keys, no effects). */
async function bareInsertRate(db: Database, items: IndexedEntry[], batch: number): Promise<number> {
  await db.pool.query(`CREATE TABLE bare_entries (
    hash text, recording uuid, track text, seq bigint, kind text, gateway text, entry jsonb,
    entry_text text, sig text, object_sha256 text, received_at timestamptz NOT NULL DEFAULT now())`);
  const t = performance.now();
  for (let i = 0; i < items.length; i += batch) {
    const b = items.slice(i, i + batch);
    await db.pool.query(
      `INSERT INTO bare_entries (hash, recording, track, seq, kind, gateway, entry, entry_text, sig, object_sha256)
       SELECT u.hash, u.recording, u.track, u.seq, u.kind, u.gateway, u.entry_text::jsonb, u.entry_text, u.sig, u.object_sha256
       FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
         AS u(hash, recording, track, seq, kind, gateway, entry_text, sig, object_sha256)`,
      [
        b.map((e) => e.signed.hash),
        b.map((e) => e.entry.recording),
        b.map((e) => e.entry.track),
        b.map((e) => e.entry.seq),
        b.map((e) => e.entry.kind),
        b.map((e) => e.entry.gateway),
        b.map((e) => e.entryText),
        b.map((e) => e.signed.sig),
        b.map((e) => (e.entry.kind === 'segment' ? e.entry.object.sha256 : null)),
      ],
    );
  }
  const s = (performance.now() - t) / 1000;
  const n = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM bare_entries');
  if (Number(n.rows[0]!.n) !== items.length) throw new Error(`bare insert stored ${n.rows[0]!.n} rows`);
  return items.length / s;
}

/** CPU time of this process (user + system), seconds. */
const cpuSeconds = () => {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
};

/** Share of the machine's CPUs busy overall, from /proc/stat, between two readings. */
async function procStat(): Promise<{ busy: number; total: number } | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Wraps the repository and store methods the consumer calls (the consumer holds these same objects), to say
 * where the ingest's wall time goes. Bench-side only: the product code is unchanged.
 */
function instrument(repo: Repository, store: ObjectStore) {
  const spent: Record<string, { calls: number; ms: number; items: number }> = {};
  const restore: (() => void)[] = [];
  let on = true;
  const wrap = <T extends object>(
    obj: T,
    name: keyof T & string,
    label: string,
    count: (a: unknown[]) => number,
  ) => {
    const original = obj[name] as unknown as (...a: unknown[]) => Promise<unknown>;
    const s = { calls: 0, ms: 0, items: 0 };
    spent[label] = s;
    (obj as Record<string, unknown>)[name] = async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await original.apply(obj, a);
      } finally {
        if (on) {
          s.calls++;
          s.ms += performance.now() - t;
          s.items += count(a);
        }
      }
    };
    restore.push(() => {
      (obj as Record<string, unknown>)[name] = original;
    });
  };
  wrap(repo, 'indexBatch', 'index_batch', (a) => (a[0] as unknown[]).length);
  wrap(repo, 'trackHeads', 'track_heads', (a) => (a[0] as unknown[]).length);
  wrap(store, 'head', 'store_head', () => 1);
  return {
    stop() {
      on = false;
      for (const r of restore) r();
    },
    report() {
      const ib = spent.index_batch!;
      return {
        index_batch_s: round(ib.ms / 1000),
        index_batch_calls: ib.calls,
        index_batch_mean_rows: ib.calls ? round(ib.items / ib.calls, 1) : null,
        track_heads_s: round(spent.track_heads!.ms / 1000),
        // Up to objectConcurrency (8) heads overlap, so this is summed latency, not wall time.
        store_head_sum_s: round(spent.store_head!.ms / 1000),
      };
    },
  };
}

interface IngestRun {
  publish_s: number | null;
  index_batch_s: number;
  index_batch_calls: number;
  index_batch_mean_rows: number | null;
  track_heads_s: number;
  store_head_sum_s: number;
  seconds: number;
  indexed: number;
  rejected: number;
  held_max: number;
  cpu_s: number;
  /** CPU time of each process per entry indexed, µs (null where it cannot be told apart). */
  cpu_us_per_entry: {
    ingest: number;
    publisher: number | null;
    broker: number | null;
    postgres: number | null;
  };
  machine_busy: number | null;
  broker: string;
}

/** The PostgreSQL backend pids of a pool's open connections (pg keeps them in its private `_clients`). */
function backendPids(pool: pg.Pool): number[] {
  const clients = (pool as unknown as { _clients?: { processID?: number | null }[] })._clients ?? [];
  return clients.flatMap((c) => (typeof c.processID === 'number' && c.processID > 0 ? [c.processID] : []));
}

/** The measured run: startIngest on a fresh database, every gateway enrolled, every entry published QoS 1. */
async function ingestRun(
  backend: 'postgres' | 'pglite',
  work: string,
  storeRoot: string,
  gws: SimGateway[],
  stallMs: number,
): Promise<IngestRun> {
  const fresh = await freshDatabase(backend, work, 'ingest');
  let mosquitto: Mosquitto | null = null;
  let publisher: ChildProcess | null = null;
  let publishMs: number | null = null;
  let publisherCpuS: number | undefined;
  const dataDir = await mkdtemp(join(work, `ingest-${backend}-`));
  try {
    if (args.broker === 'mosquitto') {
      mosquitto = await startMosquitto({
        config: [`max_queued_messages ${positive('mosquitto-queue', args['mosquitto-queue'], true)}`],
      });
    }
    const ingest = await startIngest(
      {
        node: `bench-${backend}`,
        dataDir,
        mqtt: mosquitto ? { kind: 'external', url: mosquitto.url } : { kind: 'embedded', port: 0 },
        database: fresh.config,
        store: { kind: 'fs', root: storeRoot },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    try {
      for (const g of gws) {
        const row = await ingest.repo.upsertEnrollment({
          id: g.id,
          fingerprint: g.keyPair.publicKey.fingerprint,
          publicKey: g.keyPair.publicKeyText,
          hostname: null,
        });
        await ingest.decide(row.fingerprint, 'approved', 'bench');
      }
      // The gateways publish from a process of their own: not the ingest's event loop, nor its CPU time.
      const publisherInput: PublisherData = {
        url: ingest.mqttUrl,
        gateways: gws.map((g) => ({
          id: g.id,
          topic: gatewayTopic(g.id, 'entry'),
          // The embedded broker admits a gateway by a token its key signed; the bench's Mosquitto is anonymous.
          password: mosquitto ? null : makeMqttPassword(g.id, g.keyPair, systemClock),
          payloads: g.entries.map((e) => JSON.stringify(e)),
        })),
      };
      const inputPath = join(dataDir, 'publisher-input.json');
      await writeFile(inputPath, JSON.stringify(publisherInput));
      publisher = fork(new URL('./publisher.mjs', import.meta.url), [inputPath], { execArgv: [] });
      const w = publisher;
      const workerError = new Promise<never>((_, reject) => {
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`the publisher exited with code ${code}`));
        });
      });
      const connected = new Promise<void>((resolve) =>
        w.on('message', (m: { type: string; ms?: number; cpuS?: number }) => {
          if (m.type === 'connected') resolve();
          if (m.type === 'published') {
            publishMs = m.ms ?? null;
            publisherCpuS = m.cpuS;
          }
        }),
      );
      await Promise.race([connected, workerError]);
      const timing = instrument(ingest.repo, ingest.store);
      const total = gws.reduce((n, g) => n + g.entries.length, 0);
      let indexed = 0;
      let rejected = 0;
      let heldMax = 0;
      let lastAt = performance.now();
      let firstReject = '';
      const all = new Promise<void>((resolve) => {
        ingest.consumer.on('indexed', () => {
          indexed++;
          lastAt = performance.now();
          if (indexed + rejected >= total) resolve();
        });
        ingest.consumer.on('rejected', (r) => {
          rejected++;
          firstReject ||= `${r.code}: ${r.reason}`;
          if (indexed + rejected >= total) resolve();
        });
        ingest.consumer.on('held', () => {
          heldMax = Math.max(heldMax, ingest.consumer.heldCount);
        });
      });
      const stalled = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (performance.now() - lastAt > stallMs) {
            clearInterval(timer);
            resolve();
          }
        }, 500);
        void all.then(() => clearInterval(timer));
      });
      const progress = setInterval(() => log(`${backend}: ${indexed}/${total} indexed`), 5000);
      const stat0 = await procStat();
      const brokerCpu = mosquitto ? new CpuMeter(pidsWithCommandLine(mosquitto.dir)) : null;
      const postgresCpu = backend === 'postgres' ? new CpuMeter(backendPids(ingest.db.pool)) : null;
      const cpu0 = cpuSeconds();
      const t = performance.now();
      lastAt = t;
      // Every gateway publishes its whole backlog at once, as after reconnecting; QoS 1, in order.
      w.send('go');
      await Promise.race([all, stalled, workerError]);
      const seconds = (performance.now() - t) / 1000;
      const cpu = cpuSeconds() - cpu0;
      // Connections the pool opened during the run count from their start.
      for (const pid of backendPids(ingest.db.pool)) postgresCpu?.add(pid, true);
      const perEntry = (s: number | undefined) =>
        s === undefined || indexed === 0 ? null : Math.round((s * 1e6) / indexed);
      const stat1 = await procStat();
      clearInterval(progress);
      timing.stop();
      if (firstReject) log(`${backend}: ${rejected} rejected, first: ${firstReject}`);
      const busy =
        stat0 && stat1 && stat1.total > stat0.total
          ? (stat1.busy - stat0.busy) / (stat1.total - stat0.total)
          : null;
      return {
        seconds,
        indexed,
        rejected,
        held_max: heldMax,
        cpu_s: round(cpu, 2),
        cpu_us_per_entry: {
          ingest: perEntry(cpu) ?? 0,
          // As the publisher measured itself: it exits once its last PUBACK is in.
          publisher: perEntry(publisherCpuS),
          broker: perEntry(brokerCpu?.seconds()),
          postgres: perEntry(postgresCpu?.seconds()),
        },
        machine_busy: busy === null ? null : round(busy, 2),
        broker: mosquitto ? 'mosquitto' : 'aedes',
        publish_s: publishMs === null ? null : round(publishMs / 1000),
        ...timing.report(),
      };
    } finally {
      if (publisher && publisher.exitCode === null) publisher.kill();
      await ingest.close();
    }
  } finally {
    await mosquitto?.dispose();
    await fresh.drop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const total = positive('entries', args.entries);
  const gateways = positive('gateways', args.gateways);
  const tracks = positive('tracks', args.tracks);
  const objectBytes = positive('object-bytes', args['object-bytes']);
  const batch = positive('batch', args.batch);
  const stallMs = positive('stall-s', args['stall-s']) * 1000;
  const backends: ('postgres' | 'pglite')[] =
    args.backend === 'both'
      ? ['pglite', 'postgres']
      : args.backend === 'postgres' || args.backend === 'pglite'
        ? [args.backend]
        : (() => {
            console.error(`--backend must be postgres, pglite or both\n${USAGE}`);
            process.exit(2);
          })();
  if (args.broker !== 'mosquitto' && args.broker !== 'embedded') {
    console.error(`--broker must be mosquitto or embedded\n${USAGE}`);
    process.exit(2);
  }

  const work = await mkdtemp(join(tmpdir(), 'quanlu-bench-ingest-'));
  const storeRoot = join(work, 'objects');
  try {
    let t = performance.now();
    const gws = await buildChains(storeRoot, total, gateways, tracks, objectBytes);
    const order = arrivalOrder(gws);
    const items = indexedItems(order);
    log(
      `built ${order.length} signed entries (${gateways} gateways × ${tracks} tracks) and their ${objectBytes}-byte objects in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    // Diagnostic: what the consumer's per-entry checks cost alone, on one core (JSON.parse + checkEnvelope).
    const keys = new Map(gws.map((g) => [g.id, { ...g.keyPair.publicKey, owner: g.id }]));
    const payloads = order.map((e) => JSON.stringify(e));
    t = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      const raw = JSON.parse(payloads[i]!) as SignedEntry;
      const gw = (raw.entry as { gateway: string }).gateway;
      const key = keys.get(gw)!;
      if (!checkEnvelope(raw, new Map([[key.fingerprint, key]])).ok)
        throw new Error('an entry did not verify');
    }
    const verifyPerS = payloads.length / ((performance.now() - t) / 1000);
    log(`JSON.parse + checkEnvelope alone: ${verifyPerS.toFixed(0)} entries/s on one core`);

    const results: Record<string, unknown>[] = [];
    for (const backend of backends) {
      // Baselines first, each on its own fresh database.
      const b1 = await freshDatabase(backend, work, 'raw');
      const db1 = await openDatabase(b1.config);
      let raw: number;
      try {
        raw = await indexBatchRate(db1, items, batch);
      } finally {
        await db1.close();
        await b1.drop();
      }
      log(`${backend}: indexBatch baseline ${raw.toFixed(0)} entries/s`);
      const b2 = await freshDatabase(backend, work, 'bare');
      const db2 = await openDatabase(b2.config);
      let bare: number;
      try {
        bare = await bareInsertRate(db2, items, batch);
      } finally {
        await db2.close();
        await b2.drop();
      }
      log(`${backend}: bare multi-row INSERT ${bare.toFixed(0)} entries/s`);

      t = performance.now();
      const run = await ingestRun(backend, work, storeRoot, gws, stallMs);
      const perS = run.indexed / run.seconds;
      const result = {
        bench: 'ingest',
        backend,
        broker: run.broker,
        entries: order.length,
        per_s: round(perS, 1),
        raw_per_s: round(raw, 1),
        raw_is: 'repository.indexBatch, same rows, same batch size, fresh schema, no MQTT, no verification',
        ratio: round(perS / raw),
        bare_insert_per_s: round(bare, 1),
        ratio_bare: round(perS / bare),
        verify_only_per_s: round(verifyPerS, 1),
        target: '>=5000/s on postgres, >=0.5x raw',
        met: backend === 'postgres' ? perS >= 5000 && perS / raw >= 0.5 : perS / raw >= 0.5,
        lost: order.length - run.indexed - run.rejected,
        rejected: run.rejected,
        seconds: round(run.seconds),
        gateways,
        tracks_per_gateway: tracks,
        batch,
        held_max: run.held_max,
        publish_s: run.publish_s,
        index_batch_s: run.index_batch_s,
        index_batch_calls: run.index_batch_calls,
        index_batch_mean_rows: run.index_batch_mean_rows,
        track_heads_s: run.track_heads_s,
        store_head_sum_s: run.store_head_sum_s,
        ingest_process_cpu_s: run.cpu_s,
        cpu_us_per_entry: run.cpu_us_per_entry,
        machine_busy: run.machine_busy,
        cores: cpus().length,
        load_avg_1m: round(loadavg()[0]!, 2),
      };
      process.stderr.write(`${JSON.stringify(result)}\n`);
      results.push(result);
    }
    const byBackend = Object.fromEntries(results.map((r) => [r.backend as string, r]));
    const pgr = byBackend.postgres as { per_s: number; ratio: number; raw_per_s: number } | undefined;
    const combined = {
      bench: 'ingest',
      backends: results.map((r) => r.backend),
      broker: results[0]?.broker,
      entries: order.length,
      per_s: pgr?.per_s ?? (results[0]?.per_s as number),
      raw_per_s: pgr?.raw_per_s ?? (results[0]?.raw_per_s as number),
      ratio: pgr?.ratio ?? (results[0]?.ratio as number),
      per_s_of: pgr ? 'postgres' : results[0]?.backend,
      target: '>=5000/s on postgres, >=0.5x raw',
      lost: results.reduce((n, r) => n + (r.lost as number), 0),
      results: byBackend,
      load_avg_1m: round(loadavg()[0]!, 2),
    };
    process.stdout.write(`${JSON.stringify(combined)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
