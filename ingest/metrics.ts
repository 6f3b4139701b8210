/** @module The ingest's Prometheus metrics: one registry per ingest (never prom-client's global one), served at GET /metrics. */
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Consumer } from './consumer/consumer.ts';
import type { Database } from './db/open-database.ts';
import type { Repository } from './db/repository.ts';

/** What the ingest's metrics read. */
export interface IngestMetricsSources {
  /** The ingest node's name, a label on every metric. */
  node: string;
  consumer: Consumer;
  db: Database;
  repo: Pick<Repository, 'listGateways'>;
  mqtt: Pick<MqttClient, 'connected'>;
}

/** The metrics of one ingest. */
export interface IngestMetrics {
  registry: Registry;
  /** Adds GET /metrics (Prometheus text format) to the app. */
  register(app: FastifyInstance): void;
  /** Stops listening to the consumer. */
  close(): void;
}

/** Buckets of receipt→indexed time, in seconds: one entry takes milliseconds, a batch under load up to seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Builds the metrics of one ingest. Counters follow the consumer's events; gauges are read when
 * scraped (gateways by status from the database, the pool's connections, the broker connection).
 */
export function createIngestMetrics(sources: IngestMetricsSources): IngestMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: sources.node });
  const indexed = new Counter({
    name: 'quanlu_ingest_entries_indexed_total',
    help: 'Entries verified, indexed and acknowledged, by entry kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'quanlu_ingest_entries_rejected_total',
    help: 'Entries refused, by error code (signature, chain, object failures)',
    labelNames: ['code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'quanlu_ingest_index_latency_seconds',
    help: 'Consumer lag: time from an entry reaching this node to its acknowledgement (queue and database batch)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'quanlu_ingest_entries_held',
    help: 'Entries waiting for their predecessor before they can be indexed',
    registers: [registry],
    collect() {
      this.set(sources.consumer.heldCount);
    },
  });
  new Gauge({
    name: 'quanlu_ingest_gateways',
    help: 'Enrolled gateways by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = { pending: 0, approved: 0, revoked: 0 } as Record<string, number>;
      for (const g of await sources.repo.listGateways()) counts[g.status] = (counts[g.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'quanlu_ingest_db_connections',
    help: 'Database pool connections: total, idle, and queries waiting for one',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = sources.db.pool;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'quanlu_ingest_broker_connected',
    help: '1 while this node is connected to the MQTT broker',
    registers: [registry],
    collect() {
      this.set(sources.mqtt.connected ? 1 : 0);
    },
  });

  // A connection is held for one query or one batch transaction: its hold time is the database's share of a batch.
  const held = new Histogram({
    name: 'quanlu_ingest_db_hold_seconds',
    help: 'Time a database connection is held: one query, or one batch transaction of the consumer',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const acquiredAt = new WeakMap<object, bigint>();
  const onAcquire = (client: object) => acquiredAt.set(client, process.hrtime.bigint());
  const onRelease = (_err: unknown, client: object) => {
    const since = acquiredAt.get(client);
    if (since !== undefined) held.observe(Number(process.hrtime.bigint() - since) / 1e9);
    acquiredAt.delete(client);
  };
  sources.db.pool.on('acquire', onAcquire);
  sources.db.pool.on('release', onRelease);

  const onIndexed = (e: { entry: { kind: string }; latencyMs: number }) => {
    indexed.inc({ kind: e.entry.kind });
    latency.observe(e.latencyMs / 1000);
  };
  const onRejected = (e: { code: string }) => rejected.inc({ code: e.code });
  sources.consumer.on('indexed', onIndexed);
  sources.consumer.on('rejected', onRejected);

  return {
    registry,
    register(app) {
      // Outside /api/v1, so the auth hook leaves it alone: counts, never evidence.
      app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
        reply.header('content-type', registry.contentType);
        return registry.metrics();
      });
    },
    close() {
      sources.consumer.off('indexed', onIndexed);
      sources.consumer.off('rejected', onRejected);
      sources.db.pool.off('acquire', onAcquire);
      sources.db.pool.off('release', onRelease);
    },
  };
}
