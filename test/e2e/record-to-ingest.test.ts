import { once } from 'node:events';
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import type { Entry } from '../../protocol/entry.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const quiet = pino({ level: 'silent' });

t.test(
  'a 60 s recording reaches the ingest: enrolled, verified, indexed by case, every object intact',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-');
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());
    const gw = buildGateway(
      testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)]),
      {
        log: quiet,
        uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
      },
    );
    t.teardown(() => gw.close());

    // Enrollment: the gateway presents its key; an administrator approves it by fingerprint.
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ id: string; fingerprint: string; status: string }];
    t.equal(row.id, 'gw-test');
    t.equal(row.fingerprint, gw.keyPair.publicKey.fingerprint, 'the ingest saw the gateway key');
    t.equal(row.status, 'pending', 'nothing is indexed before approval');
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    const started = await gw.recorder.start(ELEMENTS);
    await new Promise((r) => setTimeout(r, 60_000)); // the recording's length is the test's subject
    const summary = await gw.recorder.stop();

    // Every entry the gateway sealed is acknowledged by the ingest.
    const uplink = gw.uplink!;
    while (gw.spool.backlog().entries > 0) await once(uplink, 'acknowledged');
    const sealed = [
      ...gw.spool.chain(started.recording, 'cam-1'),
      ...gw.spool.chain(started.recording, 'cam-2'),
    ];
    t.ok(sealed.length > 30, `${sealed.length} entries sealed`);
    for (const s of sealed)
      t.equal(
        gw.spool.get(s.hash)?.state,
        'acknowledged',
        `entry ${(s.entry as Entry).seq} of ${(s.entry as Entry).track} acknowledged`,
      );

    const found = await ingest.repo.searchRecordings({ caseId: ELEMENTS.caseId, limit: 10, offset: 0 });
    t.equal(found.total, 1, 'found by case id');
    const recording = await ingest.repo.recording(summary.recording);
    t.ok(recording, 'the recording is indexed');
    t.same(recording!.tracks.map((x) => x.status).sort(), ['closed', 'closed'], 'both tracks closed');
    for (const track of recording!.tracks) {
      const mine = summary.tracks.find((x) => x.track === track.track)!;
      t.equal(
        track.merkleRoot,
        mine.merkleRoot,
        `${track.track}: the ingest holds the gateway's Merkle root`,
      );
    }
    let objects = 0;
    for (const s of sealed) {
      const e = s.entry as Entry;
      const indexed = await ingest.repo.entryByHash(s.hash);
      t.ok(indexed, `entry ${e.track}#${e.seq} indexed`);
      if (e.kind !== 'segment') continue;
      const rehashed = await ingest.store.rehash(e.object.sha256);
      t.equal(rehashed?.sha256, e.object.sha256, `object of ${e.track}#${e.seq} recomputed from the store`);
      objects++;
    }
    t.ok(objects >= 28, `${objects} objects checked`);
    const headers = await bearerHeaders(ingest.repo);
    const viaHttp = await fetch(
      `${ingest.httpUrl}/api/v1/recordings?caseId=${encodeURIComponent(ELEMENTS.caseId)}`,
      { headers },
    );
    t.equal(viaHttp.status, 200);
    t.equal(((await viaHttp.json()) as { total: number }).total, 1, 'the search API finds it too');
    const bad = await fetch(`${ingest.httpUrl}/api/v1/recordings?caseId=..%2Fetc`, { headers });
    t.equal(bad.status, 400, 'a case id with path characters is a clear 400');
    t.match(((await bad.json()) as { error: { code: string } }).error.code, 'INGEST_BAD_REQUEST');
  },
);
