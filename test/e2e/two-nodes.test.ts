import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { generateKeyPair, parsePublicKey } from '../../protocol/keys.ts';
import { AckMessage } from '../../protocol/messages.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import {
  ConsistencyProof,
  checkTreeHead,
  consistencyProblem,
  InclusionProof,
  inclusionProblem,
  SignedTreeHead,
} from '../../protocol/tree-head.ts';
import { openStore } from '../../store/open-store.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { type BuiltChain, buildChain, type Step, T0 } from '../helpers/chains.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { tmp } from '../helpers/recording.ts';
import { freshPostgres, waitUntil } from './e2e-support.ts';
import { metricSum, type RunnerProcess, startIngestRunner } from './runner-process.ts';

const GATEWAYS = 20;
const TRACKS = 2;
/** Entries per track: open, 98 segments, close. */
const PER_TRACK = 100;
const TOTAL = GATEWAYS * TRACKS * PER_TRACK;
/** Each gateway publishes the next entry of each of its tracks this often (20 × 2 entries per tick). */
const TICK_MS = 40;
/** How long an unacknowledged entry waits before its gateway publishes it again (as republishAfterMs). */
const REPUBLISH_AFTER_MS = 3000;

/** One ingest node as a child process. */
type Node = RunnerProcess;
const startNode = (config: unknown): Promise<Node> => startIngestRunner(config);

/** GET or POST JSON with a hard time limit; throws with the status and body on anything but 200. */
async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
}
/** How many entries the node holds waiting for a predecessor (its gauge). */
async function heldBy(node: Node): Promise<number> {
  const held = metricSum((await call(`${node.httpUrl}/metrics`)).text, 'quanlu_ingest_entries_held');
  if (held === null) throw new Error(`no quanlu_ingest_entries_held in ${node.httpUrl}/metrics`);
  return held;
}
const json = async (url: string, init?: RequestInit): Promise<unknown> =>
  JSON.parse((await call(url, init)).text);

/** The node's count of entries acknowledged as indexed (its Prometheus counter, summed over entry kinds). */
async function indexedBy(node: Node): Promise<number> {
  const { text } = await call(`${node.httpUrl}/metrics`);
  if (!text.includes('# TYPE quanlu_ingest_entries_indexed_total counter'))
    throw new Error(`no quanlu_ingest_entries_indexed_total in ${node.httpUrl}/metrics`);
  return metricSum(text, 'quanlu_ingest_entries_indexed_total') ?? 0;
}

t.test(
  'two ingest nodes share 20 gateways; kill -9 of one mid-stream: every entry indexed once, one consistent log',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-two-nodes-');
    const database = await freshPostgres(t, 'twonodes');
    const broker = await startMosquitto();
    t.teardown(() => broker.dispose());

    // The database is migrated once, before either node starts (as compose starts the second node later).
    const db = await openDatabase(database);
    t.teardown(() => db.close());
    await migrate(db);
    const repo = createRepository(db);

    // 20 enrolled gateways, each recording 2 cameras: pre-signed chains, objects stored beforehand.
    const store = openStore({ kind: 'fs', root: join(dir, 'objects') });
    const gateways: { id: string; chains: BuiltChain[]; order: SignedEntry[] }[] = [];
    for (let g = 0; g < GATEWAYS; g++) {
      const id = `gw-two-${String(g).padStart(2, '0')}`;
      const key = generateKeyPair();
      await repo.upsertEnrollment({
        id,
        fingerprint: key.publicKey.fingerprint,
        publicKey: key.publicKeyText,
        hostname: null,
      });
      await repo.decideGateway(key.publicKey.fingerprint, 'approved', 'test-admin');
      const recording = randomUUID();
      const chains = Array.from({ length: TRACKS }, (_, i) => {
        const steps: Step[] = [];
        for (let s = 0; s < PER_TRACK - 2; s++)
          steps.push({
            kind: 'segment',
            bytes: Buffer.from(`${id} track ${i} segment ${s} ${recording}`),
            start: T0 + s * 2000,
            durationMs: 2000,
          });
        steps.push({ kind: 'close', end: T0 + (PER_TRACK - 2) * 2000 });
        return buildChain({ recording, track: `cam-${i}`, key, gateway: id, steps });
      });
      for (const c of chains)
        for (const [sha256, bytes] of c.objects) await store.put(sha256, { bytes }, bytes.length);
      const order: SignedEntry[] = [];
      for (let seq = 0; seq < PER_TRACK; seq++) for (const c of chains) order.push(c.signed[seq]!);
      gateways.push({ id, chains, order });
    }
    const all = gateways.flatMap((g) => g.order);
    t.equal(all.length, TOTAL);

    // Two nodes, one data folder (ingest secret and log key shared, as the compose volume is), one database.
    const config = (node: string) => ({
      node,
      dataDir: join(dir, 'ingest'),
      mqtt: { kind: 'external', url: broker.url, shared: true },
      http: { port: 0 },
      // Plain text, written out (TLS is the default): this test is about several nodes, not transport.
      tls: { mode: 'off' },
      database,
      store: { kind: 'fs', root: join(dir, 'objects') },
      log: { level: 'warn' },
      transparencyLog: { sequenceMs: 200, treeHeadSeconds: 2 },
      fixity: { enabled: false },
    });
    const nodes: Node[] = [];
    t.teardown(() => {
      for (const n of nodes) n.child.kill('SIGKILL');
    });
    const a = await startNode(config('ingest-a'));
    nodes.push(a);
    const b = await startNode(config('ingest-b'));
    nodes.push(b);
    const admin = await bearerHeaders(repo, 'admin');
    const supervisor = await bearerHeaders(repo, 'supervisor');

    // The simulated gateways: persistent sessions, QoS 1, each listening for its acknowledgements.
    const acks = new Map<string, AckMessage[]>();
    let indexedAcks = 0;
    const ackEvents = new EventEmitter();
    const clients = new Map<string, MqttClient>();
    for (const g of gateways) {
      const c = await mqtt.connectAsync(broker.url, {
        clientId: g.id,
        clean: false,
        protocolVersion: 4,
        reconnectPeriod: 500,
      });
      t.teardown(() => c.endAsync(true));
      c.on('message', (_topic, payload) => {
        const ack = AckMessage.parse(JSON.parse(payload.toString('utf8')));
        const list = acks.get(ack.hash) ?? [];
        if (ack.status === 'indexed' && !list.some((x) => x.status === 'indexed')) indexedAcks++;
        list.push(ack);
        acks.set(ack.hash, list);
        ackEvents.emit('ack');
      });
      await c.subscribeAsync(gatewayTopic(g.id, 'ack'), { qos: 1 });
      clients.set(g.id, c);
    }
    const publish = (entries: SignedEntry[]) => {
      for (const s of entries) {
        const gw = (s.entry as Entry).gateway;
        clients.get(gw)!.publish(gatewayTopic(gw, 'entry'), JSON.stringify(s), { qos: 1 });
      }
    };

    // The stream: every TICK_MS each gateway seals and publishes the next entry of each of its tracks.
    let tick = 0;
    const streaming = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const from = tick * TRACKS;
        publish(gateways.flatMap((g) => g.order.slice(from, from + TRACKS)));
        if (++tick >= PER_TRACK) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
      t.teardown(() => clearInterval(timer));
    });

    // Mid-stream: both nodes have indexed entries; node A signs a head (it writes the log); node A dies.
    await waitUntil(
      ackEvents,
      'ack',
      () => indexedAcks >= TOTAL / 4,
      120_000,
      `${TOTAL / 4} acknowledgements`,
    );
    const [byA, byB] = [await indexedBy(a), await indexedBy(b)];
    t.ok(byA > 0 && byB > 0, `both nodes consumed before the kill (A ${byA}, B ${byB})`);
    const key = (await json(`${a.httpUrl}/api/v1/log/key`)) as { publicKey: string };
    const before = SignedTreeHead.parse(
      await json(`${a.httpUrl}/api/v1/log/tree-head`, { method: 'POST', headers: admin }),
    );
    const gone = once(a.child, 'exit');
    a.child.kill('SIGKILL');
    await gone;
    const ackedAtKill = indexedAcks;
    t.ok(ackedAtKill < TOTAL, `killed mid-stream: ${ackedAtKill} of ${TOTAL} acknowledged at the kill`);
    t.ok(
      before.head.size > 0 && before.head.size <= ackedAtKill,
      `node A signed a head of ${before.head.size}`,
    );
    const indexedBeforeKill = new Set(
      all.filter((s) => acks.get(s.hash)?.some((x) => x.status === 'indexed')).map((s) => s.hash),
    );

    // The gateways go on, and republish whatever is still unacknowledged every REPUBLISH_AFTER_MS.
    await streaming;
    const unacked = () => all.filter((s) => !acks.get(s.hash)?.some((x) => x.status === 'indexed'));
    let round = 0;
    for (; indexedAcks < TOTAL && round < 40; round++) {
      await waitUntil(ackEvents, 'ack', () => indexedAcks === TOTAL, REPUBLISH_AFTER_MS, 'all acked').catch(
        () => undefined,
      );
      if (indexedAcks === TOTAL) break;
      const missing = unacked();
      t.comment(`republish round ${round + 1}: ${missing.length} entries unacknowledged`);
      publish(missing);
    }
    t.equal(indexedAcks, TOTAL, 'every entry got an `indexed` acknowledgement, from the surviving node');
    const rejected = [...acks.values()].flat().filter((x) => x.status !== 'indexed');
    t.same(
      rejected.map((x) => `${x.code}: ${x.reason}`).slice(0, 5),
      [],
      'no entry was rejected (redeliveries across nodes are acknowledged as indexed, never as forks)',
    );

    // Exactly once, at its own place, every chain continuous and closed.
    const count = await db.pool.query<{ n: string; hashes: string; places: string }>(
      `SELECT count(*) AS n, count(DISTINCT hash) AS hashes,
              count(DISTINCT (recording, track, seq)) AS places FROM entries`,
    );
    t.same(
      count.rows[0],
      { n: String(TOTAL), hashes: String(TOTAL), places: String(TOTAL) },
      `${TOTAL} rows, no hash and no (recording, track, seq) twice`,
    );
    const rows = await db.pool.query<{ hash: string; track: string; seq: string }>(
      'SELECT hash, track, seq FROM entries',
    );
    const stored = new Map(rows.rows.map((r) => [r.hash, `${r.track}#${r.seq}`]));
    const misplaced = all.filter(
      (s) => stored.get(s.hash) !== `${(s.entry as Entry).track}#${(s.entry as Entry).seq}`,
    );
    t.equal(misplaced.length, 0, 'every entry is indexed at its own place in its chain');
    const tracks = await db.pool.query<{ n: string; last: string; status: string }>(
      "SELECT count(*)::text AS n, min(last_seq)::text AS last, string_agg(DISTINCT status, ',') AS status FROM tracks",
    );
    t.same(
      tracks.rows[0],
      { n: String(GATEWAYS * TRACKS), last: String(PER_TRACK - 1), status: 'closed' },
      'every track is continuous up to its close',
    );

    // One log across the failover: the survivor's head extends the killed node's, same key, entries included.
    const after = SignedTreeHead.parse(
      await json(`${b.httpUrl}/api/v1/log/tree-head`, { method: 'POST', headers: admin }),
    );
    t.equal(after.head.size, TOTAL, 'every entry is a leaf of the log');
    const publicKey = parsePublicKey(key.publicKey);
    if (typeof publicKey === 'string') throw new Error(publicKey);
    t.same(await json(`${b.httpUrl}/api/v1/log/key`), key, 'both nodes publish the same log key');
    t.ok('head' in checkTreeHead(before, publicKey), "the killed node's head verifies under the log key");
    t.ok('head' in checkTreeHead(after, publicKey), "the survivor's head verifies under the log key");
    const consistency = ConsistencyProof.parse(
      await json(`${b.httpUrl}/api/v1/log/consistency?first=${before.head.size}&second=${after.head.size}`),
    );
    t.equal(
      consistencyProblem(consistency, before.head, after.head),
      null,
      `consistency ${before.head.size} → ${after.head.size} across the failover verifies`,
    );
    const sample = [
      ...all.filter((s) => indexedBeforeKill.has(s.hash)).slice(0, 10),
      ...all.filter((s) => !indexedBeforeKill.has(s.hash)).slice(-10),
    ];
    for (const s of sample) {
      const proof = InclusionProof.parse(
        await json(`${b.httpUrl}/api/v1/log/inclusion?entry=${s.hash}&treeSize=${after.head.size}`),
      );
      const problem = inclusionProblem(proof, after.head);
      if (problem) t.fail(`inclusion of ${s.hash}: ${problem}`);
    }
    t.pass(`${sample.length} entries from before and after the kill are included in the survivor's head`);
    const heads = await db.pool.query<{ size: string }>(
      'SELECT tree_size::text AS size FROM log_tree_heads ORDER BY id',
    );
    const sizes = heads.rows.map((r) => Number(r.size));
    t.same(
      sizes,
      [...sizes].sort((x, y) => x - y),
      `stored heads never shrink (${sizes.length} heads)`,
    );
    const check = await new TransparencyLog({ db, keyPair: generateKeyPair() }).check();
    t.same(
      { size: check.size, hole: check.hole, rewritten: check.rewritten },
      { size: TOTAL, hole: null, rewritten: [] },
      'every stored head is the root of the leaves as they are, with no hole',
    );

    // With node A dead, one publication of entries reaches node B in full: the broker queues nothing for
    // the dead node (a persistent session would keep its share of the shared subscription until it returns).
    const probe = all.filter((_, i) => i % 20 === 5);
    const probeAcks = new Map(probe.map((s) => [s.hash, acks.get(s.hash)!.length]));
    publish(probe);
    await waitUntil(
      ackEvents,
      'ack',
      () => probe.every((s) => acks.get(s.hash)!.length > probeAcks.get(s.hash)!),
      60_000,
      `node B acknowledging all ${probe.length} entries published once while node A is dead (${probe.filter((s) => acks.get(s.hash)!.length > probeAcks.get(s.hash)!).length} acknowledged)`,
    );
    t.pass(`all ${probe.length} entries published once after the kill were acknowledged by the survivor`);

    // Node A comes back: whichever node answers, the same playlists, recordings and tree head.
    const a2 = await startNode(config('ingest-a'));
    nodes.push(a2);
    for (const g of gateways.slice(0, 3)) {
      const recording = (g.chains[0]!.signed[0]!.entry as Entry).recording;
      const fromA = await call(`${a2.httpUrl}/api/v1/recordings/${recording}`, { headers: supervisor });
      const fromB = await call(`${b.httpUrl}/api/v1/recordings/${recording}`, { headers: supervisor });
      t.same(JSON.parse(fromA.text), JSON.parse(fromB.text), `${g.id}: the same recording from both nodes`);
      for (const c of g.chains) {
        const path = `/api/v1/recordings/${recording}/tracks/${c.spec.track}/playlist.m3u8`;
        const pa = await call(`${a2.httpUrl}${path}`, { headers: supervisor });
        const pb = await call(`${b.httpUrl}${path}`, { headers: supervisor });
        t.ok(pa.text.includes('#EXT-X-ENDLIST'), `${g.id}/${c.spec.track}: a finished playlist`);
        t.same(
          [pa.type, pa.text],
          [pb.type, pb.text],
          `${g.id}/${c.spec.track}: the same playlist from both nodes`,
        );
      }
    }
    t.same(
      await json(`${a2.httpUrl}/api/v1/log/tree-head`),
      await json(`${b.httpUrl}/api/v1/log/tree-head`),
      'the same latest tree head from both nodes',
    );

    // Acknowledgements: entries published again reach both nodes and are acknowledged as indexed by each.
    const [a0, b0] = [await indexedBy(a2), await indexedBy(b)];
    const again = all.filter((_, i) => i % 10 === 0);
    const acksBefore = new Map(again.map((s) => [s.hash, acks.get(s.hash)!.length]));
    publish(again);
    const answered = () => again.every((s) => acks.get(s.hash)!.length > acksBefore.get(s.hash)!);
    await waitUntil(
      ackEvents,
      'ack',
      answered,
      60_000,
      `acknowledgements of ${again.length} republished entries`,
    );
    const fresh = again.flatMap((s) => acks.get(s.hash)!.slice(acksBefore.get(s.hash)!));
    t.same(
      [...new Set(fresh.map((x) => `${x.status}/${x.code}/${x.reason}`))],
      ['indexed/null/null'],
      'every republished entry is acknowledged as indexed, with no code or reason',
    );
    const [a1, b1] = [await indexedBy(a2), await indexedBy(b)];
    t.ok(a1 > a0 && b1 > b0, `both nodes acknowledged some of them (A ${a1 - a0}, B ${b1 - b0})`);
    const still = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM entries');
    t.equal(still.rows[0]!.n, String(TOTAL), 'and nothing was indexed twice');

    // Nothing stays held: an entry one node held for a predecessor that the other node then indexed
    // (with the entry itself, republished there) is let go at the next batch, not kept for ever.
    t.same([await heldBy(a2), await heldBy(b)], [0, 0], 'neither node still holds an entry');

    for (const n of [a2, b]) {
      const stopped = once(n.child, 'exit');
      n.child.kill('SIGTERM');
      await stopped;
    }
  },
);
