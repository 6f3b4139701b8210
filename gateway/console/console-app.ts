/**
 * @module Builds the operator console of a gateway: the room service, the alarms, remote control over MQTT and the
 * fastify app (REST API, OpenAPI, the page). `buildConsole` never listens; the gateway's main does.
 */
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import { loadMatterList, type MatterList, mattersForProfile } from '../../firmware-config/matters.ts';
import type { ClockReading } from '../../protocol/entry.ts';
import { registerSecurityHeaders } from '../../protocol/security-headers.ts';
import { type Clock, systemClock } from '../../protocol/time.ts';
import type { TlsMaterial } from '../../protocol/tls/tls-files.ts';
import { RemoteControl } from '../control/remote-control.ts';
import type { Gateway } from '../gateway.ts';
import { Alarms } from './alarms.ts';
import { registerConsoleRoutes } from './console-routes.ts';
import { MIB } from './disk-space.ts';
import { registerConsoleErrorHandler } from './error-handler.ts';
import { loadOfficerList, type Officer, type OfficerSource } from './officer-list.ts';
import { OfficerSync } from './officer-sync.ts';
import { registerOfficerSyncRoutes } from './officer-sync-routes.ts';
import { RoomService } from './room-service.ts';
import { CONSOLE_CSP } from './security-headers.ts';
import { registerConsoleTransportRoute } from './transport-route.ts';
import { registerConsoleWeb } from './web-routes.ts';

/** Collaborators of the console; each has a default. */
export interface ConsoleDeps {
  clock?: Clock;
  log?: Logger;
  /** The matter list; the shipped one by default. */
  matters?: MatterList;
  /** An officer list synced from the ingest; otherwise the configured file, otherwise none. */
  officers?: Officer[];
  /** Free bytes of the spool disk; statfs by default. */
  freeBytes?: (dir: string) => Promise<number>;
  clockReading?: () => ClockReading;
  /** fetch for the ingest's officer list and case look-ups (by default node:https trusting the pinned ingest CA). */
  fetch?: typeof fetch;
  /** How often the officer list is synced from the ingest (5 minutes by default). */
  officerSyncMs?: number;
  /** How long Start waits for the case look-up before accepting the case id offline (2 s by default). */
  caseLookupTimeoutMs?: number;
  /** HTTPS material (issue 10); without it the app speaks plain text and says so at GET /api/v1/transport. */
  tls?: TlsMaterial | null;
}

/** A built console. */
export interface OperatorConsole {
  app: FastifyInstance;
  service: RoomService;
  alarms: Alarms;
  /** Null when the gateway has no MQTT uplink. */
  remote: RemoteControl | null;
  /** The officer list synced from the ingest and the case look-up; null when `ingest.httpUrl` is unset. */
  officerSync: OfficerSync | null;
  /** Starts the alarm timer and remote control (the app is listened on by the caller). */
  start(): void;
  /** Stops them and closes the app. */
  close(): Promise<void>;
}

/** Builds the console of a built gateway. Never listens. */
export async function buildConsole(
  gateway: Gateway,
  loaded: LoadedGatewayConfig,
  deps: ConsoleDeps = {},
): Promise<OperatorConsole> {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? gateway.log.child({ component: 'console' });
  const { config, profile } = loaded;
  const matters = mattersForProfile(deps.matters ?? (await loadMatterList()), profile.name);
  const file = config.console.officersFile;
  const fileList = !deps.officers && file ? await loadOfficerList(file) : null;
  const officerSync = config.ingest.httpUrl
    ? new OfficerSync({
        url: config.ingest.httpUrl,
        tokenFile: config.ingest.tokenFile ?? null,
        // The same CA pin and client certificate as the MQTT uplink (issue 10).
        tls: {
          caFile: config.ingest.tls.caFile,
          caFingerprint: config.ingest.tls.caFingerprint,
          pinFile: join(config.gateway.dataDir, 'ingest-ca.pem'),
          certFile: config.ingest.tls.certFile ?? join(config.gateway.dataDir, 'gateway-cert.pem'),
          privateKeyPem: () => gateway.keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        },
        cacheFile: join(config.gateway.dataDir, 'console', 'officers.json'),
        ...(deps.officerSyncMs ? { everyMs: deps.officerSyncMs } : {}),
        ...(deps.caseLookupTimeoutMs ? { lookupTimeoutMs: deps.caseLookupTimeoutMs } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        clock,
        log,
      })
    : null;
  await officerSync?.load();
  // Read at each Start: a synced list (kept on disk for offline) wins, the local file serves without one.
  const officers: { list: Officer[] | null; source: OfficerSource } = {
    get list() {
      return deps.officers ?? officerSync?.officers() ?? fileList;
    },
    get source(): OfficerSource {
      if (deps.officers || officerSync?.officers()) return 'ingest';
      return fileList ? 'file' : 'none';
    },
  };
  const service = new RoomService({
    gateway,
    loaded,
    matters,
    officers,
    clock,
    log,
    ...(deps.freeBytes ? { freeBytes: deps.freeBytes } : {}),
    ...(officerSync ? { caseLookup: (caseId: string) => officerSync.lookupCase(caseId) } : {}),
  });
  const alarms = new Alarms({
    gateway: gateway.id,
    recording: () => gateway.recorder.status(),
    freeBytes: () => service.freeBytes(),
    diskLowBytes: config.console.diskLowMiB * MIB,
    startReserveBytes: () => service.startReserveBytes,
    mqtt: gateway.mqtt,
    ingestUnreachableMs: config.console.ingestUnreachableSeconds * 1000,
    backlog: () => gateway.spool.backlog(),
    clockReading: deps.clockReading ?? gateway.clockReading,
    maxClockOffsetMs: profile.maxClockOffsetMs,
    clock,
    log,
  });
  const remote = gateway.mqtt
    ? new RemoteControl({
        gateway: gateway.id,
        room: config.room.id,
        mqtt: gateway.mqtt,
        service,
        clock,
        log,
      })
    : null;

  const https = deps.tls
    ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2' as const } }
    : {};
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, ...https }) as unknown as FastifyInstance;
  registerConsoleErrorHandler(app);
  // Every answer (API, page, scripts, errors, 404s) carries the CSP and the other security headers.
  registerSecurityHeaders(app, { csp: CONSOLE_CSP });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: { info: { title: 'quanlu gateway console API', version: '1' } },
    transform: jsonSchemaTransform,
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerConsoleRoutes(app, { gateway, loaded, matters, officers, service, alarms });
  registerOfficerSyncRoutes(app, { officers, sync: officerSync });
  registerConsoleWeb(app);
  registerConsoleTransportRoute(app, deps.tls ?? null, config.ingest.mqttUrl); // plain-text warning on the page (issue 10)

  return {
    app,
    service,
    alarms,
    remote,
    officerSync,
    start() {
      alarms.start();
      remote?.start();
      officerSync?.start();
    },
    async close() {
      alarms.stop();
      await remote?.stop();
      await officerSync?.stop();
      await app.close();
    },
  };
}
