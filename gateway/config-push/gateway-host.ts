/**
 * @module Runs a gateway under pushed configurations: listens on its `config` topic, refuses what is not signed by
 * the pinned ingest key, applies a new version atomically (files swapped, gateway rebuilt), checks its cameras
 * answer, and rolls back and reports when they do not. A push that arrives during a recording waits for its end.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { type LoadedGatewayConfig, parseGatewayConfig } from '../../firmware-config/load.ts';
import { type PublicKey, parsePublicKey } from '../../protocol/keys.ts';
import type { AlarmMessage, CommandResult, ConfigEnvelope } from '../../protocol/messages.ts';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { StreamSource } from '../capture/camera-supervisor.ts';
import {
  onvifStreamSource,
  rtspSource,
  syntheticSource,
  withCredentials,
} from '../capture/stream-sources.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { verifyConfigEnvelope } from './config-envelope.ts';
import { ConfigFiles } from './config-files.ts';

/** Builds a (not started) gateway of a configuration; `configVersion` is what its status reports. */
export type BuildGateway = (loaded: LoadedGatewayConfig, configVersion: () => number | null) => Gateway;

/** Settings of a gateway host. */
export interface GatewayHostOptions {
  /** The configuration from the local file: identity, data folder and the pinned ingest key come from it. */
  base: LoadedGatewayConfig;
  build: BuildGateway;
  /** Every camera of an applied configuration must answer within this long (default 20 s). */
  checkTimeoutMs?: number;
  /** Checks a camera answers; by default its stream source is prepared (probed) afresh. */
  checkCamera?: (camera: LoadedGatewayConfig['config']['cameras'][number]) => Promise<unknown>;
  clock?: Clock;
  /** Default: a pino logger at the configured level. */
  log?: Logger;
}

/** What a push came to. */
export interface PushOutcome {
  version: number | null;
  ok: boolean;
  code: string | null;
  message: string;
}

/** Events of a gateway host. */
export interface GatewayHostEvents {
  /** A new gateway was built and started (after an apply or a rollback). */
  rebuilt: [Gateway];
  /** The outcome of a pushed configuration: applied, rolled back, or refused. */
  outcome: [PushOutcome];
  /** A verified version arrived during a recording: it is applied when the recording stops. */
  deferred: [number];
}

/** A gateway under pushed configurations. */
export class GatewayHost extends EventEmitter<GatewayHostEvents> {
  readonly #o: Required<Omit<GatewayHostOptions, 'checkCamera'>> & Pick<GatewayHostOptions, 'checkCamera'>;
  readonly #files: ConfigFiles;
  readonly #pinned: PublicKey | null;
  #gateway: Gateway | null = null;
  #version: number | null = null;
  #pending: ConfigEnvelope | null = null;
  /** The newest version that failed and was rolled back: its retained copy is not tried again. */
  #failed = 0;
  #closed = false;
  #loaded: LoadedGatewayConfig | null = null;
  #busy: Promise<unknown> = Promise.resolve();

  constructor(options: GatewayHostOptions) {
    super();
    const log =
      options.log ??
      pino({ level: options.base.config.log.level, base: { gateway: options.base.config.gateway.id } });
    this.#o = {
      checkTimeoutMs: 20_000,
      clock: systemClock,
      ...options,
      log: log.child({ component: 'config-push' }),
    };
    const { config } = options.base;
    this.#files = new ConfigFiles(join(config.gateway.dataDir, 'config'));
    const key = config.ingest.configKey ? parsePublicKey(config.ingest.configKey) : null;
    if (typeof key === 'string') throw new GatewayError('GW_CONFIG_INVALID', `ingest.configKey: ${key}`);
    this.#pinned = key;
  }

  /** The running gateway. */
  get gateway(): Gateway {
    if (!this.#gateway) throw new Error('the gateway host has not started');
    return this.#gateway;
  }

  /** The configuration in force (the applied push, else the local file): what the console should show. */
  get loaded(): LoadedGatewayConfig {
    return this.#loaded ?? this.#o.base;
  }

  /** The version of the pushed configuration in force; null while the local file is. */
  get version(): number | null {
    return this.#version;
  }

  /** Builds and starts the gateway on the configuration in force (the last applied push, else the file). */
  async start(): Promise<void> {
    this.#failed = this.#files.failed()?.version ?? 0;
    const applied = this.#files.current();
    let loaded = this.#o.base;
    if (applied) {
      try {
        loaded = this.#loadPushed(applied);
        this.#version = applied.version;
      } catch (err) {
        this.#o.log.error(
          { code: (err as GatewayError).code, version: applied.version },
          'applied configuration unusable; local file in force',
        );
      }
    }
    await this.#run(loaded);
  }

  /** Stops the gateway. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#busy;
    await this.#gateway?.close();
  }

  async #run(loaded: LoadedGatewayConfig): Promise<Gateway> {
    const gw = this.#o.build(loaded, () => this.#version);
    this.#gateway = gw;
    this.#loaded = loaded;
    this.#attach(gw);
    await gw.start();
    this.emit('rebuilt', gw);
    return gw;
  }

  #attach(gw: Gateway): void {
    const mqtt = gw.mqtt;
    if (!mqtt) return;
    const topic = gatewayTopic(gw.id, 'config');
    mqtt.on('message', (t, payload) => {
      if (t === topic) this.#busy = this.#busy.then(() => this.#receive(payload)).catch(() => undefined);
    });
    mqtt.on('connect', () => void mqtt.subscribe(topic, { qos: 1 }));
    if (mqtt.connected) mqtt.subscribe(topic, { qos: 1 });
    gw.recorder.on('stopped', () => {
      const pending = this.#pending;
      this.#pending = null;
      if (pending) this.#busy = this.#busy.then(() => this.#apply(pending)).catch(() => undefined);
    });
  }

  async #receive(payload: Buffer): Promise<void> {
    const id = this.#o.base.config.gateway.id;
    let envelope: ConfigEnvelope;
    let loaded: LoadedGatewayConfig;
    try {
      envelope = verifyConfigEnvelope(payload, id, this.#pinned);
      // The retained copy of what is in force, or of a version already rolled back, comes again on every subscribe.
      if (envelope.version <= Math.max(this.#version ?? 0, this.#failed)) return;
      loaded = this.#loadPushed(envelope);
    } catch (err) {
      const e = err as GatewayError;
      await this.#report({
        version: versionOf(payload),
        ok: false,
        code: e.code ?? 'GW_CONFIG_PUSH_INVALID',
        message: e.message,
      });
      return;
    }
    if (this.gateway.recorder.status()) {
      this.#pending = envelope;
      this.#o.log.info(
        { version: envelope.version },
        'configuration received; applied when the recording stops',
      );
      this.emit('deferred', envelope.version);
      return;
    }
    await this.#apply(envelope, loaded);
  }

  /** Swap the files, rebuild, check the cameras; on failure swap back, rebuild and report. */
  async #apply(envelope: ConfigEnvelope, loaded = this.#loadPushed(envelope)): Promise<void> {
    const before = this.#version;
    const beforeLoaded = this.#inForce();
    this.#files.install(envelope);
    await this.gateway.close();
    this.#version = envelope.version;
    try {
      await this.#run(loaded);
      await this.#checkCameras(loaded);
    } catch (err) {
      const e = err as GatewayError;
      this.#files.rollback();
      this.#failed = envelope.version;
      await this.#gateway?.close().catch(() => undefined);
      this.#version = before;
      await this.#run(beforeLoaded);
      await this.#report({
        version: envelope.version,
        ok: false,
        code: 'GW_CONFIG_ROLLED_BACK',
        message:
          `version ${envelope.version} rolled back to ${before ?? 'the local file'}: ${e.code ?? ''} ${e.message}`.trim(),
      });
      return;
    }
    await this.#report({
      version: envelope.version,
      ok: true,
      code: null,
      message: `version ${envelope.version} applied`,
    });
  }

  /** The configuration in force now. */
  #inForce(): LoadedGatewayConfig {
    const current = this.#files.current();
    return current && this.#version === current.version ? this.#loadPushed(current) : this.#o.base;
  }

  /** Parses a pushed configuration with the same schema; identity, data folder and pinned key may not change. */
  #loadPushed(envelope: ConfigEnvelope): LoadedGatewayConfig {
    const loaded = parseGatewayConfig(envelope.config, { source: `pushed version ${envelope.version}` });
    const base = this.#o.base.config;
    const changed = [
      loaded.config.gateway.id !== base.gateway.id && 'gateway.id',
      loaded.config.gateway.dataDir !== base.gateway.dataDir && 'gateway.dataDir',
      loaded.config.ingest.configKey !== base.ingest.configKey && 'ingest.configKey',
    ].filter(Boolean);
    if (changed.length) {
      throw new GatewayError(
        'GW_CONFIG_PUSH_INVALID',
        `a push may not change ${changed.join(', ')} (set them in the local file)`,
      );
    }
    return loaded;
  }

  async #checkCameras(loaded: LoadedGatewayConfig): Promise<void> {
    const check =
      this.#o.checkCamera ??
      ((camera) => sourceOf(camera, this.#o.clock, this.#o.log).prepare({ recheck: true }));
    const limit = this.#o.checkTimeoutMs;
    await Promise.all(
      loaded.config.cameras.map(async (camera) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new GatewayError(
                  'GW_CAMERA_UNREACHABLE',
                  `camera ${camera.id} did not answer within ${limit} ms`,
                ),
              ),
            limit,
          );
        });
        try {
          await Promise.race([check(camera), late]);
        } catch (err) {
          const e = err as GatewayError;
          throw new GatewayError(e.code ?? 'GW_CAMERA_UNREACHABLE', `camera ${camera.id}: ${e.message}`, {
            cause: err,
          });
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** The outcome on cmd-result; a failure also as a critical alarm. */
  async #report(outcome: PushOutcome): Promise<void> {
    const level = outcome.ok ? 'info' : 'error';
    this.#o.log[level](
      { version: outcome.version, code: outcome.code, reason: outcome.message },
      'configuration push',
    );
    this.emit('outcome', outcome);
    const mqtt: MqttClient | null = this.#gateway?.mqtt ?? null;
    if (!mqtt) return;
    const id = this.#o.base.config.gateway.id;
    const at = isoTime(this.#o.clock.now());
    const result: CommandResult = {
      id: `config-${outcome.version ?? 'unknown'}`,
      ok: outcome.ok,
      code: outcome.code,
      message: outcome.message.slice(0, 1000),
      recording: null,
      at,
    };
    await mqtt
      .publishAsync(gatewayTopic(id, 'cmd-result'), JSON.stringify(result), { qos: 1 })
      .catch(() => undefined);
    if (outcome.ok) return;
    const alarm: AlarmMessage = {
      code: outcome.code ?? 'GW_CONFIG_PUSH_INVALID',
      severity: 'critical',
      message: outcome.message.slice(0, 1000),
      active: true,
      at,
    };
    await mqtt
      .publishAsync(gatewayTopic(id, 'alarm'), JSON.stringify(alarm), { qos: 1 })
      .catch(() => undefined);
  }
}

/** The version an unverified payload claims, for the report only. */
function versionOf(payload: Buffer): number | null {
  try {
    const v = (JSON.parse(payload.toString('utf8')) as { version?: unknown }).version;
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
  } catch {
    return null;
  }
}

/** A camera's stream source, as the gateway builds it (gateway.ts). */
function sourceOf(
  camera: LoadedGatewayConfig['config']['cameras'][number],
  clock: Clock,
  log: Logger,
): StreamSource {
  const s = camera.source;
  if (s.kind === 'synthetic') return syntheticSource({ ...camera, source: s }, clock);
  if (s.kind === 'rtsp')
    return rtspSource(withCredentials(s.url, s.username, s.password), camera.name, camera.audio, 5000);
  return onvifStreamSource({ ...camera, source: s }, clock, log.child({ camera: camera.id }));
}
