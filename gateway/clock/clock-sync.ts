/**
 * @module Measures the gateway clock against the ingest's, NTP-style over MQTT: a burst of time-req/time-resp
 * exchanges, the one with the shortest round trip kept [EVIDENCE §4.3.1]. Re-measures on a timer and on every
 * (re)connection; the latest good reading is what every sealed entry carries.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { bestEstimate, type ClockSample } from '../../protocol/clock-offset.ts';
import type { ClockReading } from '../../protocol/entry.ts';
import { type TimeRequest, TimeResponse } from '../../protocol/messages.ts';
import type { Clock } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';

/** The reading before any measurement: nothing is known about the gateway clock. */
export const NO_READING: ClockReading = Object.freeze({ offsetMs: 0, rttMs: null, source: 'none' });

/** Settings of the clock sync. */
export interface ClockSyncOptions {
  gateway: string;
  mqtt: MqttClient;
  /** The gateway clock being measured (the injected clock of tests). */
  clock: Clock;
  log: Logger;
  /** Exchanges per burst. */
  samples?: number;
  /** How long to wait for one answer. */
  timeoutMs?: number;
  /** Pause between the exchanges of a burst. */
  spacingMs?: number;
  /** How often a burst runs. */
  everyMs?: number;
  /** A reading older than this is sealed as `stale` (its last offset, no round trip) until a burst succeeds. */
  staleAfterMs?: number;
}

/** Events of the clock sync. */
export interface ClockSyncEvents {
  /** A burst gave a new reading. */
  reading: [ClockReading];
  /** A burst got no usable answer. */
  failed: [string];
}

/** The clock sync of one gateway. */
export class ClockSync extends EventEmitter<ClockSyncEvents> {
  readonly #o: Required<ClockSyncOptions>;
  readonly #topic: string;
  readonly #waiting = new Map<string, (answer: (TimeResponse & { t3: number }) | null) => void>();
  #last: { reading: ClockReading; at: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #burst: Promise<ClockReading | null> | null = null;
  #running = false;
  /** Counts connections: a burst begun on an earlier one stops, and a new burst runs once it has. */
  #connection = 0;
  #again = false;
  readonly #onMessage = (topic: string, payload: Buffer) => {
    if (topic === this.#topic) this.#onResponse(payload);
  };
  readonly #onConnect = () => {
    this.#connection++;
    this.#o.mqtt.subscribe(this.#topic, { qos: 0 });
    // A burst begun before this connection (e.g. while the gateway was still waiting for approval) ends early.
    if (this.#burst) this.#again = true;
    else void this.syncNow();
  };

  constructor(options: ClockSyncOptions) {
    super();
    this.#o = {
      samples: 8,
      timeoutMs: 2000,
      spacingMs: 20,
      everyMs: 300_000,
      staleAfterMs: 3_600_000,
      ...options,
    };
    this.#topic = gatewayTopic(options.gateway, 'time-resp');
  }

  /** Listens for answers, measures now (or at the next connection) and then every `everyMs`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { mqtt } = this.#o;
    mqtt.on('message', this.#onMessage);
    mqtt.on('connect', this.#onConnect);
    if (mqtt.connected) this.#onConnect();
    this.#timer = setInterval(() => void this.syncNow(), this.#o.everyMs);
  }

  /** Stops measuring; the last reading stays. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#o.mqtt.off('message', this.#onMessage);
    this.#o.mqtt.off('connect', this.#onConnect);
    for (const answer of this.#waiting.values()) answer(null);
    await this.#burst;
  }

  /**
   * The reading sealed into entries now: the latest burst's while younger than `staleAfterMs`; after that its
   * offset with source `stale` and no round trip (the bound no longer holds: the clock may have drifted);
   * `none` before any burst succeeded.
   */
  reading(): ClockReading {
    if (!this.#last) return NO_READING;
    if (this.#o.clock.now() - this.#last.at > this.#o.staleAfterMs)
      return { offsetMs: this.#last.reading.offsetMs, rttMs: null, source: 'stale' };
    return this.#last.reading;
  }

  /** Runs one burst (or joins the running one); resolves with its reading, or null when no answer came. */
  syncNow(): Promise<ClockReading | null> {
    this.#burst ??= this.#measure().finally(() => {
      this.#burst = null;
      if (this.#again && this.#running) {
        this.#again = false;
        void this.syncNow();
      }
    });
    return this.#burst;
  }

  async #measure(): Promise<ClockReading | null> {
    const samples: ClockSample[] = [];
    const connection = this.#connection;
    for (
      let i = 0;
      i < this.#o.samples && this.#running && this.#o.mqtt.connected && connection === this.#connection;
      i++
    ) {
      const s = await this.#exchange();
      if (s) samples.push(s);
      if (this.#o.spacingMs) await new Promise((r) => setTimeout(r, this.#o.spacingMs));
    }
    const best = bestEstimate(samples);
    if (!best) {
      const why = `no usable answer to ${this.#o.samples} time requests`;
      this.#o.log.warn({ code: 'GW_CLOCK_SYNC', samples: samples.length }, 'clock sync got no answer');
      this.emit('failed', why);
      return null;
    }
    const reading: ClockReading = { offsetMs: best.offsetMs, rttMs: best.rttMs, source: 'ingest' };
    this.#last = { reading, at: this.#o.clock.now() };
    this.#o.log.debug({ ...reading, samples: samples.length }, 'clock measured against the ingest');
    this.emit('reading', reading);
    return reading;
  }

  /** One request/response; null on a timeout or a failed publish. */
  async #exchange(): Promise<ClockSample | null> {
    const { mqtt, clock, gateway, timeoutMs } = this.#o;
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<(TimeResponse & { t3: number }) | null>((resolve) => {
      this.#waiting.set(id, resolve);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const t0 = clock.now();
    try {
      const request: TimeRequest = { id, t0 };
      await mqtt.publishAsync(gatewayTopic(gateway, 'time-req'), JSON.stringify(request), { qos: 0 });
      const a = await answered;
      // The answer must echo our own send time; t0 is never taken from the wire.
      return a && a.t0 === t0 ? { t0, t1: a.t1, t2: a.t2, t3: a.t3 } : null;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(id);
    }
  }

  #onResponse(payload: Buffer): void {
    const t3 = this.#o.clock.now();
    let resp: TimeResponse;
    try {
      resp = TimeResponse.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      this.#o.log.warn({ code: 'GW_CLOCK_SYNC' }, 'time response refused: it does not parse');
      return;
    }
    // An answer to another request (or a late one) is dropped: its t0 is not ours.
    this.#waiting.get(resp.id)?.({ ...resp, t3 });
  }
}
