/** @module Builds a gateway from its configuration: identity, spool, cameras and the room recorder. Never starts anything. */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { DockSettings } from '../firmware-config/dock-profile.ts';
import type { LoadedGatewayConfig } from '../firmware-config/load.ts';
import type { ClockReading } from '../protocol/entry.ts';
import type { KeyPair } from '../protocol/keys.ts';
import { redacting } from '../protocol/log-redaction.ts';
import { type Clock, systemClock } from '../protocol/time.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { StreamSource } from './capture/camera-supervisor.ts';
import {
  microphoneSource,
  onvifStreamSource,
  rtspSource,
  syntheticSource,
  withCredentials,
} from './capture/stream-sources.ts';
import { ClockSync, NO_READING } from './clock/clock-sync.ts';
import { DockSupervisor } from './dock/dock-supervisor.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { RoomRecorder } from './recording/room-recorder.ts';
import { Spool } from './spool/spool.ts';
import { connectGatewayMqtt, type UplinkTls } from './uplink/connect.ts';
import { ingestFetch } from './uplink/ingest-https.ts';
import { Uplink } from './uplink/uplink.ts';

/** Collaborators a gateway can be given; each has a default. */
export interface GatewayDeps {
  clock?: Clock;
  log?: Logger;
  /** The gateway clock's offset against its reference; by default measured against the ingest over the uplink. */
  clockReading?: () => ClockReading;
  /** How a configured camera becomes a stream source (tests inject ONVIF fakes through this). */
  sourceFor?: (camera: LoadedGatewayConfig['config']['cameras'][number]) => StreamSource;
  ffmpeg?: string;
  backoff?: { initialMs: number; maxMs: number };
  /** Where sealed evidence goes: the broker and the object store. Without it the gateway only spools. */
  uplink?: { mqttUrl: string; store: ObjectStore; republishAfterMs?: number; tls?: UplinkTls };
  /** The version of the pushed configuration in force, reported on the status (issue 9); null: the local file. */
  configVersion?: () => number | null;
  /** Dock stations: settings over the profile's dock section (tests point `root` at a temp folder). */
  dock?: Partial<DockSettings>;
}

/** A built gateway. */
export interface Gateway {
  id: string;
  keyPair: KeyPair;
  keyCreated: boolean;
  spool: Spool;
  recorder: RoomRecorder;
  uplink: Uplink | null;
  /** The gateway's MQTT client when it has an uplink (the console's alarms and remote control use it). */
  mqtt: MqttClient | null;
  /** The body-worn recorder dock, on a dock-station profile with an uplink; null otherwise. */
  dock: DockSupervisor | null;
  log: Logger;
  /** Measures the gateway clock against the ingest (issue 10); null without an uplink. */
  clockSync: ClockSync | null;
  /** The clock reading every entry is sealed with now. */
  clockReading: () => ClockReading;
  /** Resumes a recording that was running when the gateway stopped. */
  start(): Promise<void>;
  /** Seals every camera's tail and closes the spool; a running recording resumes on the next start. */
  close(): Promise<void>;
}

/** Builds the gateway of a loaded configuration. */
export function buildGateway(loaded: LoadedGatewayConfig, deps: GatewayDeps = {}): Gateway {
  const { config, profile } = loaded;
  const clock = deps.clock ?? systemClock;
  // Every log line, the console's request log included (a child of this one), is redacted (issue 10).
  const log = redacting(deps.log ?? pino({ level: config.log.level, base: { gateway: config.gateway.id } }));
  const identity = loadOrCreateIdentity(config.gateway.dataDir, config.gateway.id);
  const spool = Spool.open(join(config.gateway.dataDir, 'spool'), {
    minFreeBytes: config.spool.minFreeMiB * 1024 * 1024,
    retainAckedBytes: config.spool.retainAckedMiB * 1024 * 1024,
    clock,
    logger: log,
  });
  const defaultSource = (camera: LoadedGatewayConfig['config']['cameras'][number]): StreamSource => {
    const s = camera.source;
    if (s.kind === 'synthetic') return syntheticSource({ ...camera, source: s }, clock);
    if (s.kind === 'rtsp')
      return rtspSource(withCredentials(s.url, s.username, s.password), camera.name, camera.audio, 5000);
    return onvifStreamSource({ ...camera, source: s }, clock, log.child({ camera: camera.id }));
  };
  const sourceFor = deps.sourceFor ?? defaultSource;
  // Trusted time (issue 10): the clock sync is built with the MQTT client below; entries read it at sealing.
  let clockSync: ClockSync | null = null;
  const clockReading = deps.clockReading ?? (() => clockSync?.reading() ?? NO_READING);
  const recorder = new RoomRecorder({
    gateway: config.gateway.id,
    room: config.room.id,
    keyPair: identity.keyPair,
    cameras: [
      ...config.cameras.map((c) => ({
        id: c.id,
        name: c.name,
        kind: 'camera' as const,
        audio: c.audio,
        device: null,
        source: sourceFor(c),
      })),
      ...config.microphones.map((m) => ({
        id: m.id,
        name: m.name,
        kind: 'microphone' as const,
        audio: true,
        device: null,
        source: microphoneSource(m),
      })),
    ],
    segmentSeconds: profile.segmentSeconds,
    stallSeconds: profile.stallSeconds,
    connectGraceMs: 10_000,
    minOfficers: profile.requiredElements.officersMin,
    spool,
    clock,
    clockReading,
    log: log.child({ component: 'recorder' }),
    ...(deps.ffmpeg ? { ffmpeg: deps.ffmpeg } : {}),
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
  });
  let uplink: Uplink | null = null;
  let mqttClient: MqttClient | null = null;
  if (deps.uplink) {
    const u = deps.uplink;
    const tls = u.tls ? { ...u.tls, log: log.child({ component: 'uplink' }) } : undefined; // issue 10: pinned CA
    const client = connectGatewayMqtt(u.mqttUrl, config.gateway.id, identity.keyPair, clock, tls);
    mqttClient = client;
    clockSync = new ClockSync({
      gateway: config.gateway.id,
      mqtt: client,
      clock,
      log: log.child({ component: 'clock' }),
      samples: config.clock.samples,
      timeoutMs: config.clock.timeoutMs,
      everyMs: config.clock.syncSeconds * 1000,
      staleAfterMs: config.clock.staleSeconds * 1000,
    });
    uplink = new Uplink({
      gateway: config.gateway.id,
      spool,
      store: u.store,
      mqtt: client,
      clock,
      log: log.child({ component: 'uplink' }),
      ...(u.republishAfterMs ? { republishAfterMs: u.republishAfterMs } : {}),
      statusExtra: () => {
        const reading = clockReading();
        const measured = reading.source !== 'none';
        return {
          recording: recorder.status()?.recording ?? null,
          configVersion: deps.configVersion?.() ?? null,
          clockOffsetMs: measured ? reading.offsetMs : null,
          alarms: measured && Math.abs(reading.offsetMs) > profile.maxClockOffsetMs ? ['clock-offset'] : [],
        };
      },
    });
    const up = uplink;
    recorder.on('sealed', () => up.notify());
  }
  let dock: DockSupervisor | null = null;
  if (profile.kind === 'dock' && uplink && deps.uplink) {
    const d = new DockSupervisor({
      gateway: config.gateway.id,
      keyPair: identity.keyPair,
      settings: DockSettings.parse({ ...(profile.dock ?? {}), ...(deps.dock ?? {}) }),
      spool,
      store: deps.uplink.store,
      dataDir: config.gateway.dataDir,
      clock,
      clockReading,
      log: log.child({ component: 'dock' }),
      mqtt: mqttClient,
      // The assignments come over https trusting the pinned ingest CA, like the uplink (issue 10).
      fetch: ingestFetch(
        deps.uplink.tls
          ? {
              ...deps.uplink.tls,
              privateKeyPem: () =>
                identity.keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
            }
          : null,
      ),
    });
    const up = uplink;
    up.on('acknowledged', () => d.acknowledged());
    d.on('change', () => up.notify());
    dock = d;
  }
  return {
    id: config.gateway.id,
    keyPair: identity.keyPair,
    keyCreated: identity.created,
    spool,
    recorder,
    uplink,
    mqtt: mqttClient,
    dock,
    log,
    clockSync,
    clockReading,
    async start() {
      await recorder.resume();
      uplink?.start();
      clockSync?.start();
      await dock?.start();
    },
    async close() {
      await dock?.stop();
      await recorder.shutdown();
      await clockSync?.stop();
      if (uplink) {
        await uplink.stop();
        await mqttClient?.endAsync();
      }
      spool.close();
    },
  };
}
