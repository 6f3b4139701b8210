/**
 * @module A gateway cut off from its broker and its S3 store for 60 s keeps recording, then drains its
 * backlog: nothing lost, chains continuous, the retained status showing the backlog it built up.
 */
import { type EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { StatusMessage } from '../../protocol/messages.ts';
import { everyGateway } from '../../protocol/topics.ts';
import { openStore } from '../../store/open-store.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { exportAndVerify, findingsOf, sealed, tmp } from '../helpers/recording.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { drainBacklog, freshPostgres, sealedEntries, waitUntil } from './e2e-support.ts';

const quiet = pino({ level: 'silent' });
/** The partition's length is the subject of the test (the issue asks for 60 s). */
const PARTITION_MS = 60_000;
const TRACKS = ['cam-1', 'cam-2'];

t.test(
  'a gateway partitioned from broker and S3 for 60 s loses nothing: backlog shown, drained, chains verify',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-partition-');
    const database = await freshPostgres(t, 'partition');
    const s3 = await startS3Server();
    t.teardown(() => s3.close());
    const s3Settings = {
      endPoint: s3.endPoint,
      port: s3.port,
      useSSL: false,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      bucket: s3.bucket,
    };
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        database,
        store: { kind: 's3', ...s3Settings },
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());

    const brokerProxy = await startTcpProxy({
      host: '127.0.0.1',
      port: Number(new URL(ingest.mqttUrl).port),
    });
    t.teardown(() => brokerProxy.close());
    const s3Proxy = await startTcpProxy({ host: '127.0.0.1', port: s3.port });
    t.teardown(() => s3Proxy.close());

    // Watches the retained status as the ingest would (directly, not through the partitioned proxy).
    const secret = readFileSync(join(`${dir}/ingest`, 'ingest-secret'), 'utf8').trim();
    const watcher = await mqtt.connectAsync(ingest.mqttUrl, {
      clientId: 'status-watcher',
      username: 'ingest',
      password: secret,
      protocolVersion: 4,
    });
    t.teardown(() => watcher.endAsync());
    type Phase = 'before' | 'cut' | 'after';
    let phase = 'before' as Phase;
    const backlogs: { phase: Phase; entries: number | null; online: boolean }[] = [];
    watcher.on('message', (_topic, payload) => {
      const status = StatusMessage.safeParse(JSON.parse(payload.toString('utf8')));
      if (status.success)
        backlogs.push({ phase, entries: status.data.backlog?.entries ?? null, online: status.data.online });
    });
    await watcher.subscribeAsync(everyGateway('status'), { qos: 1 });

    const gw = buildGateway(
      testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)]),
      {
        log: quiet,
        uplink: {
          mqttUrl: brokerProxy.url,
          store: openStore({ kind: 's3', ...s3Settings, port: s3Proxy.port }),
          republishAfterMs: 3000,
        },
      },
    );
    t.teardown(() => gw.close());
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    t.equal(row.fingerprint, gw.keyPair.publicKey.fingerprint, 'the ingest saw the gateway key');
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    const started = await gw.recorder.start(ELEMENTS);
    await sealed(gw, 'cam-1', 'segment', 3);
    // Something has crossed before the partition: the path works.
    if (!(await ingest.repo.entryByHash(gw.spool.chain(started.recording, 'cam-1')[0]!.hash)))
      await once(ingest.consumer, 'indexed');

    phase = 'cut';
    brokerProxy.cut();
    s3Proxy.cut();
    const backlogAtCut = gw.spool.backlog().entries;
    await new Promise((r) => setTimeout(r, PARTITION_MS));
    const backlogAtRestore = gw.spool.backlog().entries;
    t.ok(
      backlogAtRestore > backlogAtCut,
      `the spool held the recording while cut off (${backlogAtCut} → ${backlogAtRestore} entries)`,
    );
    phase = 'after';
    brokerProxy.restore();
    s3Proxy.restore();

    const summary = await gw.recorder.stop();
    await drainBacklog(gw, 120_000);
    t.equal(gw.spool.backlog().entries, 0, 'the backlog drained');

    const entries = sealedEntries(gw, started.recording, TRACKS);
    t.ok(entries.length > 35, `${entries.length} entries sealed across the partition`);
    let lost = 0;
    for (const { hash, entry } of entries) {
      const state = gw.spool.get(hash)?.state;
      const indexed = await ingest.repo.entryByHash(hash);
      if (state !== 'acknowledged' || !indexed) {
        lost++;
        t.fail(`${entry.track}#${entry.seq} (${entry.kind}) is ${state}; indexed: ${Boolean(indexed)}`);
      }
    }
    t.equal(lost, 0, 'zero entries lost: every spooled entry is acknowledged and indexed by its hash');
    for (const track of TRACKS) {
      const chain = gw.spool.chain(started.recording, track);
      t.same(
        chain.map((s) => (s.entry as { seq: number }).seq),
        chain.map((_, i) => i),
        `${track}: seq runs 0..${chain.length - 1} without a hole`,
      );
    }

    const { report } = await exportAndVerify(t, gw, started.recording, TRACKS);
    t.ok(report.ok, `the gateway's chains verify offline ${findingsOf(report)}`);
    const recording = await ingest.repo.recording(summary.recording);
    t.ok(recording, 'the recording is indexed');
    for (const track of recording?.tracks ?? []) {
      const mine = summary.tracks.find((x) => x.track === track.track);
      t.equal(track.status, 'closed', `${track.track}: closed at the ingest`);
      t.equal(
        track.merkleRoot,
        mine?.merkleRoot,
        `${track.track}: the ingest holds the gateway's Merkle root`,
      );
    }

    const reported = backlogs.filter((b) => b.phase === 'after' && b.online && (b.entries ?? 0) > 0);
    t.ok(
      reported.length > 0,
      `the retained status showed the backlog on reconnecting (after the partition: ${JSON.stringify(
        backlogs.filter((b) => b.phase === 'after').map((b) => b.entries),
      )})`,
    );
    await waitUntil(
      watcher as unknown as EventEmitter,
      'message',
      () => backlogs.some((b) => b.phase === 'after' && b.entries === 0),
      30_000,
      'a status showing the drained backlog',
    ).then(
      () => t.pass('and a later status showed it drained (0 entries)'),
      (err: Error) => t.fail(err.message),
    );
  },
);
