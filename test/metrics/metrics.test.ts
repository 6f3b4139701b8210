/**
 * @module /metrics on both sides, read back as Prometheus text: a real gateway (synthetic camera) records to a real
 * ingest (PGlite, embedded aedes); each side's counters and gauges match what happened.
 */
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { startIngest } from '../../ingest/app.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { drainBacklog, waitUntil } from '../e2e/e2e-support.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { sealed, tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const quiet = pino({ level: 'silent' });

/** The value of one sample of Prometheus text, e.g. `metric{label="x"}`; labels in the order written. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}

t.test(
  'both sides count what happened: sealed, uploaded, acknowledged, indexed, rejected, backlog',
  async (t) => {
    const dir = tmp(t, 'quanlu-metrics-');
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
    const gw = buildGateway(testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1')]), {
      log: quiet,
      uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
    });
    t.teardown(() => gw.close());
    const metrics = createGatewayMetrics(gw);
    const listener = await metrics.listen('127.0.0.1', 0);
    t.teardown(() => listener.close());
    const gatewayText = async () => (await fetch(listener.url)).text();
    const ingestText = async () => (await fetch(`${ingest.httpUrl}/metrics`)).text();

    const before = await ingestText();
    t.equal(sample(before, 'quanlu_ingest_gateways', { status: 'approved' }), 0, 'no gateway approved yet');
    t.equal(sample(before, 'quanlu_ingest_broker_connected'), 1);

    const asked = new Promise<{ fingerprint: string }>((resolve) =>
      ingest.events.once('enrollment', resolve),
    );
    await gw.start();
    await ingest.decide((await asked).fingerprint, 'approved', 'test');
    const segments = sealed(gw, 'cam-1', 'segment', 2);
    await gw.recorder.start(ELEMENTS);
    await segments;
    await gw.recorder.stop();
    await drainBacklog(gw, 60_000);
    const recording = (await ingest.repo.searchRecordings({ limit: 1, offset: 0 })).recordings[0]!;
    const chain = gw.spool.chain(recording.id, 'cam-1');
    const kinds = chain.map((s) => (s.entry as { kind: string }).kind);
    const segmentCount = kinds.filter((k) => k === 'segment').length;

    const g = await gatewayText();
    t.equal(sample(g, 'quanlu_gateway_segments_sealed_total', { track: 'cam-1' }), segmentCount);
    t.equal(sample(g, 'quanlu_gateway_entries_acknowledged_total', { status: 'indexed' }), chain.length);
    t.ok((sample(g, 'quanlu_gateway_entries_uploaded_total') ?? 0) >= chain.length, 'every entry uploaded');
    t.equal(sample(g, 'quanlu_gateway_backlog_entries'), 0, 'backlog drained');
    t.equal(sample(g, 'quanlu_gateway_backlog_bytes'), 0);
    t.equal(sample(g, 'quanlu_gateway_backlog_oldest_age_seconds'), 0);
    t.match(g, /quanlu_gateway_camera_restarts_total/, 'restarts declared');
    t.match(g, /gateway="gw-test"/, 'labelled with the gateway');

    const i = await ingestText();
    t.equal(sample(i, 'quanlu_ingest_entries_indexed_total', { kind: 'segment' }), segmentCount);
    t.equal(sample(i, 'quanlu_ingest_entries_indexed_total', { kind: 'open' }), 1);
    t.equal(sample(i, 'quanlu_ingest_index_latency_seconds_count'), chain.length);
    t.equal(sample(i, 'quanlu_ingest_gateways', { status: 'approved' }), 1);
    t.equal(sample(i, 'quanlu_ingest_entries_held'), 0);
    t.ok((sample(i, 'quanlu_ingest_db_hold_seconds_count') ?? 0) > 0, 'database batches timed');

    // A payload that is not an entry is refused and counted by its code.
    const refused = new Promise((resolve) => ingest.consumer.once('rejected', resolve));
    await gw.mqtt!.publishAsync(gatewayTopic('gw-test', 'entry'), 'not an entry', { qos: 1 });
    await refused;
    await waitUntil(ingest.consumer, 'rejected', () => true, 1000, 'rejected');
    t.equal(
      sample(await ingestText(), 'quanlu_ingest_entries_rejected_total', { code: 'INGEST_PAYLOAD_INVALID' }),
      1,
    );
    t.not(metrics.registry, (await import('prom-client')).register, 'not the global registry');
  },
);
