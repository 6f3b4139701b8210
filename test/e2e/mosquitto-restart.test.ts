/**
 * @module Gateway and ingest on an external Mosquitto that restarts mid-recording: both reconnect, the
 * backlog drains, every spooled entry is indexed and the chains verify.
 */
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { exportAndVerify, findingsOf, sealed, tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { drainBacklog, freshPostgres, sealedEntries } from './e2e-support.ts';

const quiet = pino({ level: 'silent' });
const TRACKS = ['cam-1', 'cam-2'];

t.test(
  'a Mosquitto restart mid-recording loses nothing: both sides reconnect, the backlog drains, chains verify',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-mosquitto-');
    const database = await freshPostgres(t, 'mosquitto');
    const broker = await startMosquitto();
    t.teardown(() => broker.dispose());
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'external', url: broker.url, shared: false },
        http: { port: 0 },
        tls: PLAINTEXT,
        database,
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());

    const gw = buildGateway(
      testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)]),
      { log: quiet, uplink: { mqttUrl: broker.url, store: ingest.store, republishAfterMs: 3000 } },
    );
    t.teardown(() => gw.close());
    // Mosquitto has no enrollment flow: the administrator enrolls and approves the gateway beforehand.
    await ingest.repo.upsertEnrollment({
      id: gw.id,
      fingerprint: gw.keyPair.publicKey.fingerprint,
      publicKey: gw.keyPair.publicKeyText,
      hostname: null,
    });
    await ingest.decide(gw.keyPair.publicKey.fingerprint, 'approved', 'test-admin');
    await gw.start();

    const started = await gw.recorder.start(ELEMENTS);
    await sealed(gw, 'cam-1', 'segment', 3);
    await new Promise<void>((resolve) => ingest.consumer.once('indexed', () => resolve()));
    const backlogAtRestart = gw.spool.backlog().entries;
    await broker.restart();
    t.pass(`Mosquitto restarted (backlog ${backlogAtRestart} entries at the restart)`);
    await sealed(gw, 'cam-1', 'segment', 3); // the recording carries on across the restart
    const summary = await gw.recorder.stop();
    await drainBacklog(gw, 120_000);
    t.equal(gw.spool.backlog().entries, 0, 'the backlog drained');

    const entries = sealedEntries(gw, started.recording, TRACKS);
    t.ok(entries.length >= 14, `${entries.length} entries sealed`);
    let lost = 0;
    for (const { hash, entry } of entries) {
      const state = gw.spool.get(hash)?.state;
      const indexed = await ingest.repo.entryByHash(hash);
      if (state !== 'acknowledged' || !indexed) {
        lost++;
        t.fail(`${entry.track}#${entry.seq} (${entry.kind}) is ${state}; indexed: ${Boolean(indexed)}`);
      }
    }
    t.equal(lost, 0, 'nothing lost: every spooled entry is acknowledged and indexed by its hash');

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
  },
);
