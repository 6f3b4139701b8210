/**
 * @module Builds the operator console of a gateway: the room service, the alarms, remote control over MQTT and the
 * fastify app (REST API, OpenAPI, the page). `buildConsole` never listens; the gateway's main does.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import { loadMatterList, type MatterList, mattersForProfile } from '../../firmware-config/matters.ts';
import type { ClockReading } from '../../protocol/entry.ts';
import { type Clock, systemClock } from '../../protocol/time.ts';
import { RemoteControl } from '../control/remote-control.ts';
import type { Gateway } from '../gateway.ts';
import { Alarms } from './alarms.ts';
import { registerConsoleRoutes } from './console-routes.ts';
import { MIB } from './disk-space.ts';
import { registerConsoleErrorHandler } from './error-handler.ts';
import { loadOfficerList, type Officer, type OfficerSource } from './officer-list.ts';
import { RoomService } from './room-service.ts';
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
}

/** A built console. */
export interface OperatorConsole {
  app: FastifyInstance;
  service: RoomService;
  alarms: Alarms;
  /** Null when the gateway has no MQTT uplink. */
  remote: RemoteControl | null;
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
  const officers: { list: Officer[] | null; source: OfficerSource } = deps.officers
    ? { list: deps.officers, source: 'ingest' }
    : file
      ? { list: await loadOfficerList(file), source: 'file' }
      : { list: null, source: 'none' };
  const service = new RoomService({
    gateway,
    loaded,
    matters,
    officers,
    clock,
    log,
    ...(deps.freeBytes ? { freeBytes: deps.freeBytes } : {}),
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
    clockReading: deps.clockReading ?? (() => ({ offsetMs: 0, rttMs: null, source: 'none' })),
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

  const app = Fastify({ loggerInstance: log as FastifyBaseLogger }) as unknown as FastifyInstance;
  registerConsoleErrorHandler(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: { info: { title: 'quanlu gateway console API', version: '1' } },
    transform: jsonSchemaTransform,
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerConsoleRoutes(app, { gateway, loaded, matters, officers, service, alarms });
  registerConsoleWeb(app);

  return {
    app,
    service,
    alarms,
    remote,
    start() {
      alarms.start();
      remote?.start();
    },
    async close() {
      alarms.stop();
      await remote?.stop();
      await app.close();
    },
  };
}
