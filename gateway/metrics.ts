/**
 * @module The gateway's Prometheus metrics: one registry per gateway (never prom-client's global one),
 * `register(app)` for a fastify app (the operator console), and a small listener of its own when no app serves them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { SignedEntry } from '../protocol/entry.ts';
import type { RoomRecorder } from './recording/room-recorder.ts';
import type { Spool } from './spool/spool.ts';
import type { Uplink } from './uplink/uplink.ts';

/** The parts of a gateway its metrics read. */
export interface GatewayMetricsSources {
  id: string;
  spool: Pick<Spool, 'backlog'>;
  recorder: Pick<RoomRecorder, 'on' | 'off' | 'status'>;
  uplink: Pick<Uplink, 'on' | 'off'> | null;
}

/** The metrics of one gateway. */
export interface GatewayMetrics {
  registry: Registry;
  /** Adds GET /metrics (Prometheus text format) to a fastify app. */
  register(app: FastifyInstance): void;
  /** Serves GET /metrics on a listener of its own; resolves with its URL. */
  listen(host: string, port: number): Promise<{ url: string; close(): Promise<void> }>;
  /** Stops following the recorder and uplink. */
  close(): void;
}

/** Gap reasons after which the camera's capture is started again (the restarts an operator graphs). */
const RESTART_REASONS = new Set(['source-lost', 'capture-restarted']);

/**
 * Builds the metrics of a gateway. Counters follow the recorder's sealed entries and the uplink's
 * events; backlog and camera gauges are read from the spool and recorder when scraped.
 */
export function createGatewayMetrics(gw: GatewayMetricsSources): GatewayMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway: gw.id });
  const sealed = new Counter({
    name: 'quanlu_gateway_segments_sealed_total',
    help: 'Segments hashed, signed and spooled, by track',
    labelNames: ['track'],
    registers: [registry],
  });
  const gaps = new Counter({
    name: 'quanlu_gateway_gaps_total',
    help: 'Gap entries sealed (footage missing, and why), by track and reason',
    labelNames: ['track', 'reason'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'quanlu_gateway_camera_restarts_total',
    help: 'Captures started again after a camera was lost or its capture stopped (gaps with reason source-lost or capture-restarted)',
    labelNames: ['track'],
    registers: [registry],
  });
  const uploaded = new Counter({
    name: 'quanlu_gateway_entries_uploaded_total',
    help: 'Entries whose object is in the store and whose entry was published to the broker',
    registers: [registry],
  });
  const acknowledged = new Counter({
    name: 'quanlu_gateway_entries_acknowledged_total',
    help: "Ingest acknowledgements received, by status (only 'indexed' releases the local copy)",
    labelNames: ['status'],
    registers: [registry],
  });
  const uplinkFailures = new Counter({
    name: 'quanlu_gateway_uplink_failures_total',
    help: 'Upload rounds that failed (store or broker out of reach), by error code',
    labelNames: ['code'],
    registers: [registry],
  });
  new Gauge({
    name: 'quanlu_gateway_backlog_entries',
    help: 'Entries in the spool not yet acknowledged by the ingest',
    registers: [registry],
    collect() {
      this.set(gw.spool.backlog().entries);
    },
  });
  new Gauge({
    name: 'quanlu_gateway_backlog_bytes',
    help: 'Bytes of the objects of unacknowledged entries',
    registers: [registry],
    collect() {
      this.set(gw.spool.backlog().bytes);
    },
  });
  new Gauge({
    name: 'quanlu_gateway_backlog_oldest_age_seconds',
    help: 'Age of the oldest unacknowledged entry (0 when none)',
    registers: [registry],
    collect() {
      const b = gw.spool.backlog();
      this.set(b.entries ? b.oldestAgeMs / 1000 : 0);
    },
  });
  new Gauge({
    name: 'quanlu_gateway_camera_up',
    help: "1 while a track's camera is recording, during a recording",
    labelNames: ['track'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of gw.recorder.status()?.tracks ?? [])
        this.set({ track: t.track }, t.camera === 'recording' ? 1 : 0);
    },
  });

  const onSealed = (signed: SignedEntry) => {
    const e = signed.entry as { kind?: string; track?: string; reason?: string };
    const track = e.track ?? 'unknown';
    if (e.kind === 'segment') sealed.inc({ track });
    if (e.kind === 'gap') {
      gaps.inc({ track, reason: e.reason ?? 'unknown' });
      if (RESTART_REASONS.has(e.reason ?? '')) restarts.inc({ track });
    }
  };
  const onSent = () => uploaded.inc();
  const onAck = (a: { status: string }) => acknowledged.inc({ status: a.status });
  const onFailed = (err: { code: string }) => uplinkFailures.inc({ code: err.code });
  gw.recorder.on('sealed', onSealed);
  gw.uplink?.on('sent', onSent);
  gw.uplink?.on('acknowledged', onAck);
  gw.uplink?.on('failed', onFailed);

  return {
    registry,
    register(app) {
      app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
        reply.header('content-type', registry.contentType);
        return registry.metrics();
      });
    },
    listen(host, port) {
      return serveMetrics(host, port, () => registry);
    },
    close() {
      gw.recorder.off('sealed', onSealed);
      gw.uplink?.off('sent', onSent);
      gw.uplink?.off('acknowledged', onAck);
      gw.uplink?.off('failed', onFailed);
    },
  };
}

/**
 * Serves GET /metrics of `registry()` (read at each scrape, so a rebuilt gateway's registry takes over) on a
 * listener of its own; everything else is 404. Resolves with its URL once listening.
 */
export async function serveMetrics(
  host: string,
  port: number,
  registry: () => Registry,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    const r = registry();
    r.metrics().then(
      (body) => res.writeHead(200, { 'content-type': r.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
