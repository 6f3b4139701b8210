/**
 * @module Builds an ingest from its configuration: database, object store, broker (embedded or external),
 * consumer and HTTP API. `build` never listens; `start()` does, and `main.ts` handles signals.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import mqtt, { type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { loadMatterList } from '../firmware-config/matters.ts';
import { redacting } from '../protocol/log-redaction.ts';
import { registerSecurityHeaders } from '../protocol/security-headers.ts';
import { type Clock, systemClock } from '../protocol/time.ts';
import { displayCertificateFingerprint } from '../protocol/tls/certificates.ts';
import { loadTlsMaterial, type TlsMaterial } from '../protocol/tls/tls-files.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { openStore } from '../store/open-store.ts';
import { registerDockRoutes } from './api/dock-routes.ts';
import { registerLogRoutes } from './api/log-routes.ts';
import { registerMediaRoutes } from './api/media-routes.ts';
import { registerReferenceRoutes } from './api/reference-routes.ts';
import { registerRetentionRoutes } from './api/retention-routes.ts';
import { registerErrorHandler, registerReadyRoute, registerRoutes } from './api/routes.ts';
import { consoleCsp, mediaOriginsFor, registerWebRoutes } from './api/web-routes.ts';
import { registerAccessControl } from './auth/register.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.ts';
import { INGEST_USERNAME } from './broker/ingest-secret.ts';
import { mosquittoIngestPassword } from './broker/mosquitto-files.ts';
import { GatewayClocks } from './clock/gateway-clocks.ts';
import { TimeResponder } from './clock/time-responder.ts';
import { IngestConfig, type IngestConfigInput } from './config.ts';
import { ConfigPush } from './config-push/config-push.ts';
import { Consumer } from './consumer/consumer.ts';
import { registerCommandRoutes } from './control/command-routes.ts';
import { migrate } from './db/migrations.ts';
import { type Database, openDatabase } from './db/open-database.ts';
import { createRepository, type GatewayRow, type Repository } from './db/repository.ts';
import { retentionRecording } from './db/retention-store.ts';
import { registerFixityRoutes } from './fixity/fixity-routes.ts';
import { FixitySweep } from './fixity/fixity-sweep.ts';
import { loadOrCreateLogKey } from './log/log-key.ts';
import { TransparencyLog } from './log/transparency-log.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { registerReportRoutes } from './reports/report-routes.ts';
import { Retention } from './retention/retention-service.ts';
import { loadOrCreateIngestSecret } from './secret-file.ts';
import { registerGatewayCertificateCheck } from './tls/gateway-certificates.ts';
import { registerTransportRoute } from './tls/transport-route.ts';

/** Collaborators an ingest can be given; each has a default. */
export interface IngestDeps {
  clock?: Clock;
  log?: Logger;
  /** Gateways (by key fingerprint) approved as soon as they ask: the one-machine demo only. */
  autoApprove?: readonly string[];
}

/** A running ingest. */
export interface Ingest {
  config: IngestConfig;
  db: Database;
  repo: Repository;
  store: ObjectStore;
  consumer: Consumer;
  /** The transparency log of accepted entries [EVIDENCE §20]. */
  transparencyLog: TransparencyLog;
  /** Background re-hashing of stored objects (issue 8). */
  fixity: FixitySweep;
  /** Prometheus metrics of this node (issue 9). */
  metrics: IngestMetrics;
  /** Signed, retained gateway configurations (issue 9). */
  configPush: ConfigPush;
  http: FastifyInstance;
  mqtt: MqttClient;
  broker: EmbeddedBroker | null;
  /** The TLS material of the API and the embedded broker (issue 10); null when `tls.mode` is off. */
  tls: TlsMaterial | null;
  /** `enrollment`: a gateway asked to enroll (or asked again with a new key). */
  events: EventEmitter<{ enrollment: [GatewayRow] }>;
  /** Where the broker and the HTTP API listen. */
  mqttUrl: string;
  httpUrl: string;
  /** Approves or revokes a gateway by key fingerprint, and makes broker and consumer see it at once. */
  decide(fingerprint: string, decision: 'approved' | 'revoked', by: string): Promise<GatewayRow | null>;
  close(): Promise<void>;
}

/** Opens everything and starts listening. */
export async function startIngest(input: IngestConfigInput, deps: IngestDeps = {}): Promise<Ingest> {
  const config = IngestConfig.parse(input);
  const clock = deps.clock ?? systemClock;
  // Every log line, the HTTP request log included (a child of this one), goes through the redaction (issue 10).
  const log = redacting(deps.log ?? pino({ level: config.log.level, base: { node: config.node } }));
  const db = await openDatabase(config.database ?? { kind: 'pglite', dataDir: join(config.dataDir, 'db') });
  const closers: (() => Promise<unknown>)[] = [() => db.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const migrated = await migrate(db);
    if (migrated.applied.length)
      log.info({ applied: migrated.applied, version: migrated.version }, 'database migrated');
    const repo = createRepository(db);
    const logKey = loadOrCreateLogKey(config.dataDir).keyPair;
    const transparencyLog = new TransparencyLog({
      db,
      keyPair: logKey,
      clock,
      log: log.child({ component: 'log' }),
    });
    transparencyLog.start({
      sequenceMs: config.transparencyLog.sequenceMs,
      treeHeadMs: config.transparencyLog.treeHeadSeconds * 1000,
    });
    closers.push(() => transparencyLog.stopped());
    const store = openStore(config.store ?? { kind: 'fs', root: join(config.dataDir, 'objects') });
    if (store.kind === 's3') await store.ensureBucket();
    const secret = loadOrCreateIngestSecret(config.dataDir);
    // Transport security (issue 10): HTTPS and mqtts unless plain text is written out in the config.
    const tlsNames = config.mqtt.kind === 'embedded' ? [config.mqtt.host] : [];
    const tls = await loadTlsMaterial(
      { ...config.tls, names: [...config.tls.names, ...tlsNames] },
      config.dataDir,
      `quanlu ingest CA (${config.node})`,
      config.http.host,
    );
    if (tls) {
      log.info(
        { caFingerprint: displayCertificateFingerprint(tls.caFingerprint), created: tls.created },
        'ingest CA: gateways pin this fingerprint',
      );
    } else {
      log.warn(
        { code: 'INGEST_TLS' },
        'TLS IS OFF (tls.mode: off): the API, the consoles and MQTT speak plain text; use only behind a TLS-terminating proxy or on a trusted network',
      );
    }
    const autoApprove = new Set(deps.autoApprove ?? []);
    const events = new EventEmitter<{ enrollment: [GatewayRow] }>();

    let broker: EmbeddedBroker | null = null;
    let mqttUrl: string;
    if (config.mqtt.kind === 'embedded') {
      broker = await createEmbeddedBroker({
        gatewayCertificates: config.gatewayCertificates,
        ingestSecret: secret,
        clock,
        log,
        gateways: {
          lookup: async (id) => {
            const row = await repo.gatewayById(id);
            return row ? { status: row.status, fingerprint: row.fingerprint } : null;
          },
          requestEnrollment: async (req) => {
            const row = await repo.upsertEnrollment({
              id: req.gateway,
              fingerprint: req.fingerprint,
              publicKey: req.publicKey,
              hostname: null,
            });
            log.warn(
              { gateway: row.id, fingerprint: row.fingerprint, status: row.status },
              'gateway asks to enroll',
            );
            events.emit('enrollment', row);
            if (row.status === 'pending' && autoApprove.has(row.fingerprint)) {
              await repo.decideGateway(row.fingerprint, 'approved', 'auto-approve (demo)');
              setImmediate(() => void broker?.disconnectGateway(row.id));
            }
          },
        },
      });
      const b = broker;
      closers.push(() => b.close());
      const { port } = await broker.listen(config.mqtt.port, config.mqtt.host, tls ?? undefined);
      mqttUrl = `${tls ? 'mqtts' : 'mqtt'}://${config.mqtt.host}:${port}`;
    } else {
      mqttUrl = config.mqtt.url;
      if (tls && mqttUrl.startsWith('mqtt:'))
        log.warn(
          { code: 'INGEST_TLS', broker: new URL(mqttUrl).host },
          'MQTT IS PLAIN TEXT (mqtt.plaintext: true): evidence and credentials travel to the broker unencrypted; use only on a trusted network',
        );
    }

    const client = await mqtt.connectAsync(mqttUrl, {
      clientId: `quanlu-${config.node}`,
      // A node sharing the stream keeps no broker session: a persistent one would make the broker queue the
      // share of a dead node for it (Mosquitto does) until it comes back; without one its share goes to the
      // nodes that remain, and what it had in flight comes back from the gateways, which republish it (issue 9).
      clean: config.mqtt.kind === 'external' && config.mqtt.shared,
      username: config.mqtt.kind === 'external' ? config.mqtt.username : INGEST_USERNAME,
      // An external Mosquitto holds the derived password its generated password_file has (docker/).
      password: config.mqtt.kind === 'external' ? mosquittoIngestPassword(secret) : secret,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      // mqtts: the broker's certificate must chain to the ingest CA (or the configured one). The embedded
      // broker's certificate always names localhost, whatever address (0.0.0.0 too) it listens on.
      ...(mqttUrl.startsWith('mqtts:') ? { ca: brokerCa(config, tls), rejectUnauthorized: true } : {}),
      ...(broker && tls ? { servername: 'localhost' } : {}),
    });
    closers.push(() => client.endAsync());
    const consumer = new Consumer({
      mqtt: client,
      repo,
      store,
      clock,
      log: log.child({ component: 'consumer' }),
      shared: config.mqtt.kind === 'external' && config.mqtt.shared,
    });
    closers.push(() => consumer.close());
    client.on('message', (topic, payload) => consumer.handle(topic, payload, () => {}));
    await consumer.start();
    // Trusted time (issue 10): answer the gateways' clock requests; keep their reported offsets for the console.
    const timeResponder = new TimeResponder({
      mqtt: client,
      clock,
      log: log.child({ component: 'time' }),
      shared: config.mqtt.kind === 'external' && config.mqtt.shared,
    });
    await timeResponder.start();
    const gatewayClocks = new GatewayClocks({ mqtt: client, log: log.child({ component: 'time' }) });
    await gatewayClocks.start();

    const decide: Ingest['decide'] = async (fingerprint, decision, by) => {
      const row = await repo.decideGateway(fingerprint, decision, by);
      if (row) {
        consumer.forgetGateway(row.id);
        await broker?.disconnectGateway(row.id);
      }
      return row;
    };
    const http = Fastify({
      loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
      trustProxy: config.http.trustProxy,
      // HTTPS (issue 10); client certificates are asked for (never demanded: browsers have none) when gateways may show one.
      ...(tls
        ? {
            https: {
              cert: tls.cert,
              key: tls.key,
              ca: tls.ca,
              requestCert: config.gatewayCertificates !== 'off',
              rejectUnauthorized: false,
              minVersion: 'TLSv1.2' as const,
            },
          }
        : {}),
    }) as unknown as FastifyInstance;
    registerErrorHandler(http);
    // A revoked (or re-keyed, or foreign) gateway certificate is refused before anything else runs (issue 10).
    if (tls && config.gatewayCertificates !== 'off')
      registerGatewayCertificateCheck(http, (id) => repo.gatewayById(id));
    // Every answer (API, console, media, errors, 404s) carries the console's CSP and the other security headers.
    registerSecurityHeaders(http, { csp: consoleCsp(mediaOriginsFor(config.store)) });
    // Routes declare zod schemas: they validate requests and make the OpenAPI document.
    http.setValidatorCompiler(validatorCompiler);
    http.setSerializerCompiler(serializerCompiler);
    await http.register(swagger, {
      openapi: { info: { title: 'quanlu ingest API', version: '1' } },
      transform: jsonSchemaTransform,
    });
    http.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => http.swagger());
    // Users, sessions and audited access: the auth hook goes first, every /api/v1 route passes it.
    const { access } = await registerAccessControl(http, { repo, access: config.access, clock, decide });
    registerRoutes(http, repo, access);
    registerTransportRoute(http, tls, config.gatewayCertificates, mqttUrl.startsWith('mqtts:')); // GET /api/v1/transport (issue 10)
    gatewayClocks.register(http); // GET /api/v1/gateways/clocks (issue 10)
    // Remote start/stop of a room's recording over MQTT (issue 6).
    registerCommandRoutes(http, { mqtt: client, repo });
    registerMediaRoutes(http, {
      repo,
      store,
      access,
      indexed: consumer,
      deletedAt: async (id) => (await retentionRecording(db.pool, id))?.deletedAt ?? null,
    });
    registerWebRoutes(http, { mediaOrigins: mediaOriginsFor(config.store) });
    registerLogRoutes(http, transparencyLog, logKey);
    registerDockRoutes(http, db, clock, (event, at) => repo.appendAudit(event, at));
    // Retention (issue 9): classes, legal holds, deletion by an admin leaving a tombstone in the log.
    const retention = new Retention({
      db,
      store,
      keyPair: logKey,
      clock,
      onTombstone: () => transparencyLog.sequence(),
      log: log.child({ component: 'retention' }),
    });
    // S3: object locks follow each recording's class and holds once it ends; failed removals are retried.
    retention.start({ everyMs: 60_000 });
    closers.push(() => retention.stopped());
    registerRetentionRoutes(http, {
      retention,
      audit: (event, at) => repo.appendAudit(event, at),
      now: () => clock.now(),
    });
    registerReferenceRoutes(http, { repo, clock }); // officer list and case look-up for consoles (issue 6)
    // Operations (issue 9): Prometheus metrics at /metrics, readiness at /api/v1/ready.
    const metrics = createIngestMetrics({ node: config.node, consumer, db, repo, mqtt: client });
    closers.push(async () => metrics.close());
    metrics.register(http);
    // Signed configuration push (issue 9): signed with the log key under the 'config' context.
    const configPush = new ConfigPush({ mqtt: client, keyPair: logKey, repo });
    await configPush.start();
    closers.push(async () => configPush.stop());
    configPush.register(http);
    const fixity = new FixitySweep({
      db,
      repo,
      store,
      bytesPerSecond: config.fixity.bytesPerSecond,
      registry: metrics.registry,
      clock,
      log: log.child({ component: 'fixity' }),
    });
    if (config.fixity.enabled) fixity.start(config.fixity.pauseSeconds);
    closers.push(() => fixity.stop());
    registerFixityRoutes(http, fixity);
    // Reports (issue 8 item 6): the shipped matter list's mandatory flags drive the compliance report.
    registerReportRoutes(http, { db: db.pool, matters: (await loadMatterList()).matters });
    registerReadyRoute(http, {
      database: () => db.pool.query('SELECT 1'),
      broker: async () => {
        if (!client.connected) throw new Error('not connected to the MQTT broker');
      },
      store: () => store.head('0'.repeat(64)),
    });
    await http.listen({ host: config.http.host, port: config.http.port });
    closers.push(() => http.close());
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
    const httpUrl = `${tls ? 'https' : 'http'}://${urlHost(config.http.host)}:${httpPort}`;
    log.info({ mqtt: mqttUrl, http: httpUrl }, 'ingest listening');

    return {
      config,
      db,
      repo,
      store,
      consumer,
      transparencyLog,
      fixity,
      metrics,
      configPush,
      http,
      mqtt: client,
      broker,
      tls,
      events,
      mqttUrl,
      httpUrl,
      decide,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The CA an mqtts broker's certificate is checked against: the configured file, else the ingest's own CA. */
function brokerCa(config: IngestConfig, tls: TlsMaterial | null): string | undefined {
  if (config.mqtt.kind === 'external' && config.mqtt.caFile) return readFileSync(config.mqtt.caFile, 'utf8');
  return tls?.ca;
}

/** A host as it goes into a URL: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
