/**
 * @module Connects a gateway to its broker: fixed client id, persistent session, signed password, last
 * will; over mqtts trusting only the pinned ingest CA (ingest-ca-pin.ts), with the gateway's client
 * certificate when it has one (mutual TLS, issue 10: the certificate holds the gateway's own Ed25519
 * key, so the TLS key is the identity key, and it proves nothing the signed password does not also prove).
 */
import { existsSync, readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { KeyPair } from '../../protocol/keys.ts';
import type { StatusMessage } from '../../protocol/messages.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { type IngestCaSource, resolveIngestCa } from './ingest-ca-pin.ts';

/** TLS of the uplink (mqtts:// URLs): the pinned CA and the gateway's client certificate. */
export interface UplinkTls extends IngestCaSource {
  /** The gateway's client certificate (PEM), issued by the ingest CA for its key; used when the file exists. */
  certFile?: string | undefined;
  /** Where pinning failures are logged. */
  log?: Logger;
  /** How long to wait before trying to fetch the chain again after a failure (default 5 s). */
  retryMs?: number;
}

/**
 * An MQTT client for the gateway. Its password is a token signed by the gateway key, valid a few
 * minutes, so a fresh one is made before every reconnect. The last will marks the gateway offline.
 * An mqtts client connects only once the ingest CA is known (configured, pinned, or fetched and
 * checked against the configured fingerprint); until then it stays unconnected and retries.
 */
export function connectGatewayMqtt(
  url: string,
  gateway: string,
  keyPair: KeyPair,
  clock: Clock,
  tls?: UplinkTls,
): MqttClient {
  const will: StatusMessage = {
    gateway,
    online: false,
    at: isoTime(clock.now()),
    recording: null,
    backlog: null,
    clockOffsetMs: null,
    configVersion: null,
    alarms: ['connection-lost'],
  };
  const secure = /^mqtts:/i.test(url);
  const client = mqtt.connect(url, {
    clientId: gateway,
    clean: false,
    protocolVersion: 4,
    username: gateway,
    password: makeMqttPassword(gateway, keyPair, clock),
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: {
      topic: gatewayTopic(gateway, 'status'),
      payload: Buffer.from(JSON.stringify(will)),
      qos: 1,
      retain: true,
    },
    ...(secure ? { manualConnect: true, rejectUnauthorized: true } : {}),
  });
  client.on('close', () => {
    client.options.password = makeMqttPassword(gateway, keyPair, clock);
  });
  if (secure) {
    let started = false;
    // Until the CA is known the client has no stream, and MQTT.js' end() would throw on it: end it by hand.
    const end = client.end.bind(client) as (...args: unknown[]) => MqttClient;
    client.end = ((...args: unknown[]) => {
      if (started) return end(...args);
      client.disconnecting = true;
      const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      if (done) setImmediate(done);
      return client;
    }) as MqttClient['end'];
    void connectSecurely(client, url, keyPair, tls, () => {
      started = true;
      client.connect();
    });
  }
  return client;
}

async function connectSecurely(
  client: MqttClient,
  url: string,
  keyPair: KeyPair,
  tls: UplinkTls | undefined,
  connect: () => void,
) {
  for (;;) {
    if (client.disconnecting || client.disconnected) return;
    try {
      const ca = tls ? await resolveIngestCa(url, tls) : null;
      if (ca) client.options.ca = ca;
      if (tls?.certFile && existsSync(tls.certFile)) {
        client.options.cert = readFileSync(tls.certFile, 'utf8');
        client.options.key = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      }
      if (client.disconnecting || client.disconnected) return;
      connect();
      return;
    } catch (err) {
      tls?.log?.error({ err, url }, 'cannot pin the ingest CA: not connecting');
      await new Promise((r) => setTimeout(r, tls?.retryMs ?? 5000).unref());
    }
  }
}
