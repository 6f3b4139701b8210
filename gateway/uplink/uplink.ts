/**
 * @module Store-and-forward from the spool: oldest pending entry first, its object to the store, then the
 * entry over MQTT (QoS 1, persistent session); acknowledgements move entries to `acknowledged`.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { AckMessage, type StatusMessage } from '../../protocol/messages.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { GatewayError } from '../errors.ts';
import type { Spool } from '../spool/spool.ts';
import type { SpoolRecord } from '../spool/spool-record.ts';

/** Settings of the uplink. */
export interface UplinkOptions {
  gateway: string;
  spool: Spool;
  store: ObjectStore;
  /** A connected-or-connecting MQTT client (clean: false, fixed clientId, last will on the status topic). */
  mqtt: MqttClient;
  clock: Clock;
  log: Logger;
  /** Entries sent per round. */
  batch?: number;
  /** An uploaded entry not acknowledged after this long is published again. */
  republishAfterMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** How often the retained status is refreshed. */
  statusEveryMs?: number;
  /** Extra fields of the status message (recording, alarms, clock offset). */
  statusExtra?: () => Partial<StatusMessage>;
}

/** Events of the uplink. */
export interface UplinkEvents {
  sent: [SpoolRecord];
  acknowledged: [{ hash: string; status: 'indexed' | 'rejected'; code: string | null }];
  failed: [GatewayError];
  status: [StatusMessage];
}

/** The uplink of one gateway. */
export class Uplink extends EventEmitter<UplinkEvents> {
  readonly #o: Required<Omit<UplinkOptions, 'statusExtra'>> & Pick<UplinkOptions, 'statusExtra'>;
  #running = false;
  #wake = new AbortController();
  #loop: Promise<void> | null = null;
  #statusTimer: NodeJS.Timeout | null = null;
  #onMessage: ((topic: string, payload: Buffer) => void) | null = null;
  #onConnect: (() => void) | null = null;
  #bytesSent = 0;
  #rate = 0;
  #rateAt = 0;
  #lastError: string | null = null;
  #backingOff = false;
  /** When each entry awaiting its acknowledgement was last published (in memory: a restart republishes all). */
  readonly #publishedAt = new Map<string, number>();

  constructor(options: UplinkOptions) {
    super();
    this.#o = {
      batch: 64,
      republishAfterMs: 30_000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      statusEveryMs: 5000,
      ...options,
    };
  }

  /** Starts sending and listening for acknowledgements. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const { mqtt, gateway } = this.#o;
    const ackTopic = gatewayTopic(gateway, 'ack');
    this.#onMessage = (topic, payload) => {
      if (topic === ackTopic) this.#onAck(payload);
    };
    // A client that reconnects after stop() must not reach a spool that may be closed by then.
    this.#onConnect = () => {
      if (!this.#running) return;
      mqtt.subscribe(ackTopic, { qos: 1 });
      this.#wakeNow();
      this.#publishStatus();
    };
    mqtt.on('message', this.#onMessage);
    mqtt.on('connect', this.#onConnect);
    if (mqtt.connected) mqtt.subscribe(ackTopic, { qos: 1 });
    this.#rateAt = this.#o.clock.now();
    this.#statusTimer = setInterval(() => this.#publishStatus(), this.#o.statusEveryMs);
    this.#loop = this.#run();
  }

  /** New entries were sealed: send them now rather than at the next poll (a backoff after a failure still runs out). */
  notify(): void {
    if (!this.#backingOff) this.#wake.abort();
  }

  /** Ends any pause, a backoff included: the broker is back, or the uplink stops. */
  #wakeNow(): void {
    this.#wake.abort();
  }

  /** Stops sending; publishes an offline status. Entries not sent stay in the spool. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#onMessage) this.#o.mqtt.off('message', this.#onMessage);
    if (this.#onConnect) this.#o.mqtt.off('connect', this.#onConnect);
    this.#wakeNow();
    await this.#loop;
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    await this.#publishStatus(false);
  }

  /** The status as last computed. */
  status(online = true): StatusMessage {
    const backlog = this.#o.spool.backlog();
    const { alarms: extraAlarms = [], ...extra } = this.#o.statusExtra?.() ?? {};
    return {
      gateway: this.#o.gateway,
      online,
      at: isoTime(this.#o.clock.now()),
      recording: null,
      backlog: {
        entries: backlog.entries,
        bytes: backlog.bytes,
        oldestAgeMs: backlog.entries ? backlog.oldestAgeMs : null,
        uploadBytesPerSecond: Math.round(this.#rate),
      },
      clockOffsetMs: null,
      configVersion: null,
      alarms: [...(this.#lastError ? ['uplink-failing'] : []), ...extraAlarms],
      ...extra,
    };
  }

  async #publishStatus(online = true): Promise<void> {
    const status = this.status(online);
    this.emit('status', status);
    if (!this.#o.mqtt.connected) return;
    await this.#o.mqtt
      .publishAsync(gatewayTopic(this.#o.gateway, 'status'), JSON.stringify(status), { qos: 1, retain: true })
      .catch(() => undefined);
  }

  async #run(): Promise<void> {
    const { initialMs, maxMs } = this.#o.backoff;
    let delay = initialMs;
    while (this.#running) {
      let sent = 0;
      try {
        sent = await this.#round();
        delay = initialMs;
        this.#lastError = null;
      } catch (err) {
        const e =
          err instanceof GatewayError
            ? err
            : new GatewayError('GW_UPLINK_PUBLISH', (err as Error).message, { cause: err });
        this.#lastError = `${e.code}: ${e.message}`;
        this.#o.log.warn({ code: e.code, err: e.message, retryInMs: delay }, 'uplink round failed; retrying');
        this.emit('failed', e);
        this.#backingOff = true;
        await this.#pause(delay + Math.floor(Math.random() * (delay / 2)));
        this.#backingOff = false;
        delay = Math.min(delay * 2, maxMs);
        continue;
      }
      if (sent === 0) await this.#pause(1000);
    }
  }

  async #pause(ms: number): Promise<void> {
    this.#wake = new AbortController();
    try {
      await sleep(ms, undefined, { signal: this.#wake.signal });
    } catch {
      // woken: new entries, a connection, or stop()
    }
  }

  /** One round: the oldest pending entries, then any uploaded long ago and still unacknowledged. */
  async #round(): Promise<number> {
    const { spool, mqtt } = this.#o;
    if (!mqtt.connected) throw new GatewayError('GW_UPLINK_PUBLISH', 'not connected to the broker');
    const now = this.#o.clock.now();
    const stale = spool
      .awaitingAck(this.#o.batch)
      .filter((r) => now - (this.#publishedAt.get(r.hash) ?? 0) >= this.#o.republishAfterMs);
    const records = [...spool.pending(this.#o.batch), ...stale];
    const publishes: Promise<unknown>[] = [];
    for (const record of records) {
      if (!this.#running) break;
      if (record.object && record.state === 'sealed') await this.#upload(record);
      if (record.state === 'sealed') spool.markUploaded(record.hash);
      this.#publishedAt.set(record.hash, now);
      // QoS 1: the broker holds it once PUBACK returns; several may be in flight, in order.
      publishes.push(
        mqtt
          .publishAsync(gatewayTopic(this.#o.gateway, 'entry'), JSON.stringify(record.signed), { qos: 1 })
          .then(() => this.emit('sent', record)),
      );
    }
    await Promise.all(publishes).catch((err: Error) => {
      throw new GatewayError('GW_UPLINK_PUBLISH', `publishing entries failed: ${err.message}`, {
        cause: err,
      });
    });
    return records.length;
  }

  async #upload(record: SpoolRecord): Promise<void> {
    const object = record.object!;
    try {
      await this.#o.store.put(object.sha256, { path: this.#o.spool.objectPath(object.sha256) }, object.size);
    } catch (err) {
      throw new GatewayError(
        'GW_UPLINK_OBJECT',
        `object ${object.sha256} of entry ${record.hash}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#bytesSent += object.size;
    const now = this.#o.clock.now();
    const dt = Math.max(1, now - this.#rateAt);
    if (dt >= 1000) {
      this.#rate = 0.7 * this.#rate + 0.3 * ((this.#bytesSent * 1000) / dt);
      this.#bytesSent = 0;
      this.#rateAt = now;
    }
  }

  #onAck(payload: Buffer): void {
    let ack: AckMessage;
    try {
      ack = AckMessage.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.#o.log.warn(
        { code: 'GW_UPLINK_ACK_INVALID', err: (err as Error).message },
        'acknowledgement refused',
      );
      return;
    }
    try {
      this.#publishedAt.delete(ack.hash);
      if (ack.status === 'indexed') this.#o.spool.acknowledge(ack.hash);
      else this.#o.spool.reject(ack.hash, { code: ack.code ?? 'UNKNOWN', reason: ack.reason ?? '' });
      this.emit('acknowledged', { hash: ack.hash, status: ack.status, code: ack.code });
      if (ack.status === 'rejected')
        this.#o.log.error(
          { hash: ack.hash, code: ack.code, reason: ack.reason },
          'the ingest rejected an entry',
        );
    } catch (err) {
      const e = err as GatewayError;
      this.#o.log.warn(
        { code: e.code ?? 'GW_UPLINK_ACK_INVALID', hash: ack.hash, err: e.message },
        'acknowledgement not applied',
      );
    }
  }
}
