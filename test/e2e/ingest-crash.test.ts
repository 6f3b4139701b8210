import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import mqtt from 'mqtt';
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { AckMessage } from '../../protocol/messages.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { openStore } from '../../store/open-store.ts';
import { buildChain, type Step, T0 } from '../helpers/chains.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { tmp } from '../helpers/recording.ts';
import { freshPostgres, waitUntil } from './e2e-support.ts';
import { type RunnerProcess, startIngestRunner } from './runner-process.ts';

const GATEWAY = 'gw-sim';
const TRACKS = 10;
/** Entries per track: open, 498 segments, close. */
const PER_TRACK = 500;
const TOTAL = TRACKS * PER_TRACK;
/** How long an unacknowledged entry waits before the simulated gateway publishes it again (as republishAfterMs). */
const REPUBLISH_AFTER_MS = 5000;

/** Starts the ingest runner; resolves once it prints where it listens. */
const startChild = (config: unknown): Promise<RunnerProcess> => startIngestRunner(config);

t.test(
  'kill -9 of the ingest with 5,000 entries in flight: after a restart all are indexed exactly once and acknowledged',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-crash-');
    const database = await freshPostgres(t, 'crash');
    const broker = await startMosquitto();
    t.teardown(() => broker.dispose());

    // The administrator enrolls and approves the simulated gateway (an external broker has no enrollment flow).
    const db = await openDatabase(database);
    t.teardown(() => db.close());
    await migrate(db);
    const repo = createRepository(db);
    const key = generateKeyPair();
    await repo.upsertEnrollment({
      id: GATEWAY,
      fingerprint: key.publicKey.fingerprint,
      publicKey: key.publicKeyText,
      hostname: null,
    });
    await repo.decideGateway(key.publicKey.fingerprint, 'approved', 'test-admin');

    // 5,000 pre-signed entries in 10 chains; their objects are in the store before anything is published.
    const recording = randomUUID();
    const chains = Array.from({ length: TRACKS }, (_, i) => {
      const steps: Step[] = [];
      for (let s = 0; s < PER_TRACK - 2; s++)
        steps.push({
          kind: 'segment',
          bytes: Buffer.from(`track ${i} segment ${s} ${recording}`),
          start: T0 + s * 2000,
          durationMs: 2000,
        });
      steps.push({ kind: 'close', end: T0 + (PER_TRACK - 2) * 2000 });
      return buildChain({ recording, track: `cam-${i}`, key, gateway: GATEWAY, steps });
    });
    const store = openStore({ kind: 'fs', root: join(dir, 'ingest', 'objects') });
    for (const c of chains)
      for (const [sha256, bytes] of c.objects) await store.put(sha256, { bytes }, bytes.length);
    // Interleaved across tracks, each chain in order, as a gateway recording ten cameras sends them.
    const all: SignedEntry[] = [];
    for (let seq = 0; seq < PER_TRACK; seq++) for (const c of chains) all.push(c.signed[seq]!);
    t.equal(all.length, TOTAL);

    const config = {
      dataDir: join(dir, 'ingest'),
      // a private Mosquitto without TLS, written out (issue 10)
      mqtt: { kind: 'external', url: broker.url, shared: false, plaintext: true },
      http: { port: 0 },
      database,
      log: { level: 'warn' },
    };
    let ingest = await startChild(config);
    t.teardown(() => {
      ingest.child.kill('SIGKILL');
    });

    // The simulated gateway: persistent session, QoS 1, listening for its acknowledgements.
    const gw = await mqtt.connectAsync(broker.url, {
      clientId: GATEWAY,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 500,
    });
    t.teardown(() => gw.endAsync(true));
    const acks = new Map<string, AckMessage[]>();
    let indexedAcks = 0;
    const ackEvents = new EventEmitter();
    gw.on('message', (_topic, payload) => {
      const ack = AckMessage.parse(JSON.parse(payload.toString('utf8')));
      const list = acks.get(ack.hash) ?? [];
      if (ack.status === 'indexed' && !list.some((a) => a.status === 'indexed')) indexedAcks++;
      list.push(ack);
      acks.set(ack.hash, list);
      ackEvents.emit('ack');
    });
    await gw.subscribeAsync(gatewayTopic(GATEWAY, 'ack'), { qos: 1 });
    const entryTopic = gatewayTopic(GATEWAY, 'entry');
    const publish = (entries: SignedEntry[]) => {
      for (const s of entries) gw.publish(entryTopic, JSON.stringify(s), { qos: 1 });
    };

    publish(all);
    await waitUntil(ackEvents, 'ack', () => indexedAcks >= 300, 120_000, 'the first 300 acknowledgements');
    const killedChild = ingest.child;
    const gone = once(killedChild, 'exit');
    killedChild.kill('SIGKILL');
    await gone;
    const ackedAtKill = indexedAcks;
    t.ok(ackedAtKill < TOTAL, `killed mid-stream: ${ackedAtKill} of ${TOTAL} acknowledged at the kill`);

    ingest = await startChild(config);
    t.pass('the ingest restarted on the same broker session and database');

    // The gateway republishes whatever is still unacknowledged, every REPUBLISH_AFTER_MS, as its uplink does.
    const unacked = () => all.filter((s) => !acks.get(s.hash)?.some((a) => a.status === 'indexed'));
    for (let round = 0; indexedAcks < TOTAL && round < 30; round++) {
      await waitUntil(
        ackEvents,
        'ack',
        () => indexedAcks === TOTAL,
        REPUBLISH_AFTER_MS,
        'all acknowledged',
      ).catch(() => undefined);
      if (indexedAcks === TOTAL) break;
      publish(unacked());
    }
    t.equal(indexedAcks, TOTAL, 'every entry got an `indexed` acknowledgement');
    const rejected = [...acks.values()].flat().filter((a) => a.status !== 'indexed');
    t.same(
      rejected.map((a) => `${a.code}: ${a.reason}`).slice(0, 5),
      [],
      'no entry was rejected (a redelivery is acknowledged as indexed, never as a fork)',
    );

    const count = await db.pool.query<{ n: string; hashes: string; places: string }>(
      `SELECT count(*) AS n, count(DISTINCT hash) AS hashes,
              count(DISTINCT (recording, track, seq)) AS places
         FROM entries WHERE gateway = $1`,
      [GATEWAY],
    );
    t.equal(Number(count.rows[0]!.n), TOTAL, `${TOTAL} rows in entries`);
    t.equal(Number(count.rows[0]!.hashes), TOTAL, 'no hash twice');
    t.equal(Number(count.rows[0]!.places), TOTAL, 'no (recording, track, seq) twice');
    const rows = await db.pool.query<{ hash: string; track: string; seq: string }>(
      'SELECT hash, track, seq FROM entries WHERE recording = $1',
      [recording],
    );
    const stored = new Map(rows.rows.map((r) => [r.hash, `${r.track}#${r.seq}`]));
    const missing = all.filter((s) => {
      const e = s.entry as Entry;
      return stored.get(s.hash) !== `${e.track}#${e.seq}`;
    });
    t.equal(missing.length, 0, 'every entry is indexed at its own place in its chain');
    const indexed = await repo.recording(recording);
    t.same(
      indexed?.tracks.map((x) => `${x.track}:${x.status}`).sort(),
      chains.map((c) => `${c.spec.track}:closed`).sort(),
      'every chain is closed at the ingest',
    );
    for (const c of chains) {
      const track = indexed?.tracks.find((x) => x.track === c.spec.track);
      const close = c.signed.at(-1)!.entry as Entry & { merkleRoot?: string };
      t.equal(track?.merkleRoot, close.merkleRoot, `${c.spec.track}: the Merkle root of its close entry`);
    }
    const stopped = once(ingest.child, 'exit');
    ingest.child.kill('SIGTERM');
    await stopped;
  },
);
