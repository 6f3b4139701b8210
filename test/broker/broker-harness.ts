/** @module Test harness for the embedded broker: a map directory, a log sink, and real MQTT clients. */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Test } from 'tap';
import {
  createEmbeddedBroker,
  type EmbeddedBroker,
  type EnrollmentRequest,
  type GatewayDirectory,
  type GatewayRecord,
} from '../../ingest/broker/embedded-broker.ts';
import { INGEST_USERNAME, newIngestSecret } from '../../ingest/broker/ingest-secret.ts';
import { type KeyPair, keyPairFromSeed } from '../../protocol/keys.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import type { Clock } from '../../protocol/time.ts';

/** 2026-11-27T03:35:28.000Z: the time every test starts at. */
export const T0 = Date.parse('2026-11-27T03:35:28.000Z');

/** A clock the test moves by hand. */
export function manualClock(start = T0): Clock & { t: number } {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

/** A deterministic key pair per test gateway. */
export function keyOf(n: number): KeyPair {
  return keyPairFromSeed(Buffer.alloc(32, n));
}

/** One pino record, parsed. */
export type LogRecord = Record<string, unknown> & { msg: string; level: number };

/** A pino logger whose records a test can wait for. */
export function logSink() {
  const records: LogRecord[] = [];
  const events = new EventEmitter();
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const record = JSON.parse(line) as LogRecord;
        records.push(record);
        events.emit('record', record);
      },
    },
  );
  return {
    logger,
    records,
    /** Resolves with the first record (already logged or to come) matching the predicate. */
    waitFor(match: (r: LogRecord) => boolean): Promise<LogRecord> {
      const found = records.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const onRecord = (r: LogRecord) => {
          if (!match(r)) return;
          events.off('record', onRecord);
          resolve(r);
        };
        events.on('record', onRecord);
      });
    },
  };
}

/** A directory backed by a map, recording enrollment requests. */
export class MapDirectory implements GatewayDirectory {
  readonly gateways = new Map<string, GatewayRecord>();
  readonly requests: EnrollmentRequest[] = [];

  set(gateway: string, status: GatewayRecord['status'], key: KeyPair): this {
    this.gateways.set(gateway, { status, fingerprint: key.publicKey.fingerprint });
    return this;
  }

  async lookup(gatewayId: string): Promise<GatewayRecord | null> {
    return this.gateways.get(gatewayId) ?? null;
  }

  async requestEnrollment(req: EnrollmentRequest): Promise<void> {
    this.requests.push(req);
    if (!this.gateways.has(req.gateway)) {
      this.gateways.set(req.gateway, { status: 'pending', fingerprint: req.fingerprint });
    }
  }
}

/** A running embedded broker on a free loopback port, with helpers to connect real clients. */
export async function startBroker(t: Test, opts: { directory?: MapDirectory; clock?: Clock } = {}) {
  const directory = opts.directory ?? new MapDirectory();
  const clock = opts.clock ?? manualClock();
  const sink = logSink();
  const ingestSecret = newIngestSecret();
  const embedded: EmbeddedBroker = await createEmbeddedBroker({
    gateways: directory,
    ingestSecret,
    clock,
    log: sink.logger,
  });
  const { port } = await embedded.listen(0);
  const url = `mqtt://127.0.0.1:${port}`;
  const clients: MqttClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await embedded.close();
  });

  /** A client, not yet connected: attach listeners, then await connected() or refused(). */
  function client(options: IClientOptions): MqttClient {
    const c = mqtt.connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    });
    c.on('error', () => {}); // refusals are awaited through refused()
    clients.push(c);
    return c;
  }

  return {
    embedded,
    directory,
    sink,
    url,
    ingestSecret,
    client,
    /** A gateway client with a fresh token made on `gatewayClock` (default: the broker's clock). */
    gateway(
      gateway: string,
      key: KeyPair,
      options: IClientOptions & { gatewayClock?: Clock } = {},
    ): MqttClient {
      const { gatewayClock, ...rest } = options;
      return client({
        clientId: gateway,
        username: gateway,
        password: makeMqttPassword(gateway, key, gatewayClock ?? clock),
        ...rest,
      });
    },
    /** The ingest's client. */
    ingest(options: IClientOptions = {}): MqttClient {
      return client({
        clientId: 'ingest:test',
        username: INGEST_USERNAME,
        password: ingestSecret,
        ...options,
      });
    },
    /** Waits for a log record of a refusal by the broker; a RegExp field matches a string. */
    refusal(msg: string, fields: Record<string, unknown> = {}): Promise<LogRecord> {
      return sink.waitFor(
        (r) =>
          r.msg === msg &&
          r.code === 'INGEST_BROKER_AUTH' &&
          Object.entries(fields).every(([k, v]) =>
            v instanceof RegExp ? typeof r[k] === 'string' && v.test(r[k]) : r[k] === v,
          ),
      );
    },
  };
}

/** Resolves when the connection closes, however it ends (events.once would reject on an ECONNRESET). */
export function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()));
}

/** Resolves with the CONNACK once connected; rejects with the refusal. */
export function connected(c: MqttClient): Promise<{ sessionPresent: boolean }> {
  return new Promise((resolve, reject) => {
    const onConnect = (connack: { sessionPresent: boolean }) => {
      c.off('error', onError);
      resolve(connack);
    };
    const onError = (err: Error) => {
      c.off('connect', onConnect);
      reject(err);
    };
    c.once('connect', onConnect);
    c.once('error', onError);
  });
}

/** Resolves with the CONNACK return code of a refused connection. */
export async function refused(c: MqttClient): Promise<number> {
  try {
    await connected(c);
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
  throw new Error('the broker accepted the connection');
}

/**
 * Subscribes at QoS 1 and resolves with the SUBACK's return codes, 128 for a refused filter
 * (MQTT.js turns any 128 into an error, but still hands over the SUBACK).
 */
export function subscribeCodes(c: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    c.subscribe(filters, { qos: 1 }, (err, _subs, suback) => {
      const granted = suback && 'granted' in suback ? suback.granted : undefined;
      if (!granted) return reject(err ?? new Error('no SUBACK'));
      resolve(granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos)));
    });
  });
}

/** Resolves with the next message on a topic (attach before the message can arrive). */
export function nextMessage(
  c: MqttClient,
  topic: string,
): Promise<{ topic: string; payload: string; retain: boolean }> {
  return new Promise((resolve) => {
    const onMessage = (tp: string, payload: Buffer, packet: { retain: boolean }) => {
      if (tp !== topic) return;
      c.off('message', onMessage);
      resolve({ topic: tp, payload: payload.toString(), retain: packet.retain });
    };
    c.on('message', onMessage);
  });
}

/** Every message a client receives, from now on. */
export function collect(c: MqttClient): { topic: string; payload: string }[] {
  const got: { topic: string; payload: string }[] = [];
  c.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}
