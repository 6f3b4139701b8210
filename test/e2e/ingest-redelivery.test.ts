/**
 * @module The broker's PUBACK is not the evidence acknowledgement: the ingest PUBACKs on receipt, and an entry
 * it received but could not index (a database failure, a crash) comes back because its gateway holds it
 * until an `indexed` ack names its hash, and publishes it again [DESIGN: decisions; gateway/uplink].
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import type { Repository } from '../../ingest/db/repository.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { AckMessage } from '../../protocol/messages.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { buildChain, type Step, T0 } from '../helpers/chains.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { freshPostgres, waitUntil } from './e2e-support.ts';

const quiet = pino({ level: 'silent' });
const GATEWAY = 'gw-sim';

t.test(
  'entries of a batch the database refused are indexed, exactly once, when the gateway publishes them again',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-redelivery-');
    const broker = await startMosquitto();
    t.teardown(() => broker.dispose());
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'external', url: broker.url, shared: false },
        http: { port: 0 },
        tls: PLAINTEXT,
        database: await freshPostgres(t, 'redelivery'),
        log: { level: 'fatal' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());
    const key = generateKeyPair();
    await ingest.repo.upsertEnrollment({
      id: GATEWAY,
      fingerprint: key.publicKey.fingerprint,
      publicKey: key.publicKeyText,
      hostname: null,
    });
    await ingest.decide(key.publicKey.fingerprint, 'approved', 'test-admin');

    const steps: Step[] = [];
    for (let s = 0; s < 18; s++)
      steps.push({
        kind: 'segment',
        bytes: Buffer.from(`segment ${s}`),
        start: T0 + s * 2000,
        durationMs: 2000,
      });
    steps.push({ kind: 'close', end: T0 + 18 * 2000 });
    const chain = buildChain({ recording: randomUUID(), track: 'cam-1', key, gateway: GATEWAY, steps });
    for (const [sha256, bytes] of chain.objects) await ingest.store.put(sha256, { bytes }, bytes.length);

    // The database refuses the first batch (as a failover or a full disk would).
    const repo = ingest.repo as Repository;
    const indexBatch = repo.indexBatch.bind(repo);
    let refused = 0;
    const failures = new EventEmitter();
    repo.indexBatch = async (entries) => {
      if (refused++ === 0) {
        failures.emit('refused');
        throw Object.assign(new Error('injected: the database is failing over'), { code: 'INGEST_DB' });
      }
      return indexBatch(entries);
    };

    // A gateway that, like the uplink, publishes again whatever has no `indexed` ack yet.
    const gw = await mqtt.connectAsync(broker.url, { clientId: GATEWAY, clean: false, protocolVersion: 4 });
    t.teardown(() => gw.endAsync(true));
    const indexed = new Set<string>();
    const acks = new EventEmitter();
    gw.on('message', (_topic, payload) => {
      const ack = AckMessage.parse(JSON.parse(payload.toString('utf8')));
      if (ack.status === 'indexed') indexed.add(ack.hash);
      acks.emit('ack');
    });
    await gw.subscribeAsync(gatewayTopic(GATEWAY, 'ack'), { qos: 1 });
    const wasRefused = waitUntil(failures, 'refused', () => refused > 0, 30_000, 'the injected failure');
    for (const s of chain.signed)
      await gw.publishAsync(gatewayTopic(GATEWAY, 'entry'), JSON.stringify(s), { qos: 1 });
    await wasRefused;
    await ingest.consumer.idle();
    t.ok(
      indexed.size < chain.signed.length,
      `the refused batch left entries unindexed (${indexed.size} indexed)`,
    );

    // The gateway's republish: everything not acknowledged as indexed goes out again.
    const all = waitUntil(
      acks,
      'ack',
      () => chain.signed.every((s) => indexed.has(s.hash)),
      30_000,
      'every entry indexed',
    );
    for (const s of chain.signed) {
      if (!indexed.has(s.hash))
        await gw.publishAsync(gatewayTopic(GATEWAY, 'entry'), JSON.stringify(s), { qos: 1 });
    }
    await all;
    t.pass('every entry was indexed after the republish');
    const { rows } = await (ingest.db.pool.query('SELECT count(*)::int AS n FROM entries') as Promise<{
      rows: { n: number }[];
    }>);
    t.equal(rows[0]?.n, chain.signed.length, 'each entry indexed exactly once');
  },
);
