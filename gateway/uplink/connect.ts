/** @module Connects a gateway to its broker: fixed client id, persistent session, signed password, last will. */
import mqtt, { type MqttClient } from 'mqtt';
import type { KeyPair } from '../../protocol/keys.ts';
import type { StatusMessage } from '../../protocol/messages.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';

/**
 * An MQTT client for the gateway. Its password is a token signed by the gateway key, valid a few
 * minutes, so a fresh one is made before every reconnect. The last will marks the gateway offline.
 */
export function connectGatewayMqtt(url: string, gateway: string, keyPair: KeyPair, clock: Clock): MqttClient {
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
  });
  client.on('close', () => {
    client.options.password = makeMqttPassword(gateway, keyPair, clock);
  });
  return client;
}
