/**
 * @module The room's alarms: camera lost, disk low or full, ingest unreachable, clock offset over the profile's
 * threshold. Evaluated on a timer and on demand; each change (raised or cleared) is published on the gateway's
 * MQTT alarm topic as an AlarmMessage. Alarms only inform: none of them stops a recording.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { ClockReading } from '../../protocol/entry.ts';
import { AlarmMessage } from '../../protocol/messages.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { RecordingSummary } from '../recording/room-recorder.ts';
import { MIB } from './disk-space.ts';

/** An active alarm. */
export type Alarm = Omit<AlarmMessage, 'active'> & { params: Record<string, string | number> };

/** What the alarms look at; each a function so that tests and the gateway hand in live readings. */
export interface AlarmInputs {
  gateway: string;
  /** The running recording's summary (its tracks' camera states), or null. */
  recording: () => RecordingSummary | null;
  freeBytes: () => Promise<number>;
  /** Below this many free bytes: disk-low (warning). */
  diskLowBytes: number;
  /** Below this many free bytes: disk-full (critical; no new recording starts). Read at every evaluation. */
  startReserveBytes: () => number;
  /** The MQTT client of the uplink, or null when the gateway records locally only (then no ingest alarm). */
  mqtt: MqttClient | null;
  /** The broker out of reach this long raises ingest-unreachable. */
  ingestUnreachableMs: number;
  /** Entries waiting for the ingest, shown with the ingest alarm. */
  backlog: () => { entries: number; bytes: number };
  clockReading: () => ClockReading;
  maxClockOffsetMs: number;
  clock: Clock;
  log: Logger;
}

/** Events of the alarm set. */
export interface AlarmEvents {
  changed: [AlarmMessage];
}

/** The alarm set of one gateway. */
export class Alarms extends EventEmitter<AlarmEvents> {
  readonly #o: AlarmInputs;
  readonly #active = new Map<string, Alarm>();
  #disconnectedSince: number | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(inputs: AlarmInputs) {
    super();
    this.#o = inputs;
    if (inputs.mqtt && !inputs.mqtt.connected) this.#disconnectedSince = inputs.clock.now();
    inputs.mqtt?.on('connect', () => {
      this.#disconnectedSince = null;
    });
    inputs.mqtt?.on('close', () => {
      this.#disconnectedSince ??= inputs.clock.now();
    });
  }

  /** Evaluates every `everyMs` until stop(). */
  start(everyMs = 2000): void {
    this.#timer ??= setInterval(() => {
      this.evaluate().catch((err: Error) =>
        this.#o.log.warn({ err: err.message }, 'alarm evaluation failed'),
      );
    }, everyMs);
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** The active alarms, most severe first. */
  list(): Alarm[] {
    const rank = { critical: 0, warning: 1, info: 2 };
    return [...this.#active.values()].sort((a, b) => rank[a.severity] - rank[b.severity]);
  }

  /** Looks at every condition now; publishes each alarm raised or cleared. Returns the active alarms. */
  async evaluate(): Promise<Alarm[]> {
    const o = this.#o;
    const now = o.clock.now();
    const raised = new Map<string, Omit<Alarm, 'at'>>();
    for (const t of o.recording()?.tracks ?? []) {
      if (t.camera !== 'down') continue;
      raised.set(`camera-lost:${t.track}`, {
        code: `camera-lost:${t.track}`,
        severity: 'critical',
        message: `camera ${t.track} is lost (${t.cameraProblem ?? 'no footage'}); the gap is recorded and capture retries`,
        params: { track: t.track },
      });
    }
    const free = await o.freeBytes();
    const freeMiB = Math.floor(free / MIB);
    if (free < o.startReserveBytes()) {
      raised.set('disk-full', {
        code: 'disk-full',
        severity: 'critical',
        message: `${freeMiB} MiB free on the spool disk, below the start reserve: no new recording starts`,
        params: { freeMiB },
      });
    } else if (free < o.diskLowBytes) {
      raised.set('disk-low', {
        code: 'disk-low',
        severity: 'warning',
        message: `${freeMiB} MiB free on the spool disk`,
        params: { freeMiB },
      });
    }
    if (
      o.mqtt &&
      this.#disconnectedSince !== null &&
      now - this.#disconnectedSince >= o.ingestUnreachableMs
    ) {
      const backlog = o.backlog();
      raised.set('ingest-unreachable', {
        code: 'ingest-unreachable',
        severity: 'warning',
        message: `the ingest is out of reach; recording goes on locally, ${backlog.entries} entries wait to upload`,
        params: { entries: backlog.entries, bytes: backlog.bytes },
      });
    }
    const reading = o.clockReading();
    if (reading.source !== 'none' && Math.abs(reading.offsetMs) > o.maxClockOffsetMs) {
      raised.set('clock-offset', {
        code: 'clock-offset',
        severity: 'warning',
        message: `the gateway clock is ${reading.offsetMs} ms off its reference (limit ${o.maxClockOffsetMs} ms)`,
        params: { offsetMs: reading.offsetMs, limitMs: o.maxClockOffsetMs },
      });
    }
    for (const [code, alarm] of raised) {
      if (this.#active.has(code)) continue;
      const active = { ...alarm, at: isoTime(now) };
      this.#active.set(code, active);
      this.#publish(active, true);
    }
    for (const [code, alarm] of this.#active) {
      if (raised.has(code)) continue;
      this.#active.delete(code);
      this.#publish({ ...alarm, at: isoTime(now) }, false);
    }
    return this.list();
  }

  #publish(alarm: Alarm, active: boolean): void {
    const message = AlarmMessage.parse({
      code: alarm.code,
      severity: alarm.severity,
      message: alarm.message.slice(0, 1000),
      active,
      at: alarm.at,
    });
    this.#o.log[active ? 'warn' : 'info'](
      { alarm: message.code, active },
      active ? 'alarm raised' : 'alarm cleared',
    );
    this.emit('changed', message);
    // QoS 1, not retained (a gateway may retain only its status); mqtt.js queues it while offline.
    this.#o.mqtt
      ?.publishAsync(gatewayTopic(this.#o.gateway, 'alarm'), JSON.stringify(message), { qos: 1 })
      .catch((err: Error) => this.#o.log.warn({ err: err.message }, 'alarm not published'));
  }
}
