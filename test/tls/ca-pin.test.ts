/**
 * @module Pinning the ingest CA at enrollment (issue 10): a gateway configured with only the CA's
 * fingerprint fetches the chain on its first connection, keeps the CA that matches, and from then on
 * refuses an ingest presenting another CA, whether or not the fingerprint is still configured.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { connectGatewayMqtt } from '../../gateway/uplink/connect.ts';
import { resolveIngestCa } from '../../gateway/uplink/ingest-ca-pin.ts';
import { startIngest } from '../../ingest/app.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { systemClock } from '../../protocol/time.ts';
import { displayCertificateFingerprint } from '../../protocol/tls/certificates.ts';
import { tmp } from '../helpers/recording.ts';

/**
 * Connected, or the first error (a refused TLS handshake). A refused client is ended only after its
 * socket closed: ended earlier, MQTT.js would still arm its reconnect timer on that close.
 */
function outcome(client: MqttClient): Promise<string> {
  client.on('error', () => undefined);
  return new Promise((resolve) => {
    client.once('connect', () => resolve('connected'));
    client.once('error', (err) =>
      client.once('close', () => {
        client.end(true);
        resolve(`refused: ${err.message}`);
      }),
    );
  });
}

t.test(
  'a gateway pins the ingest CA by fingerprint at enrollment and refuses another CA afterwards',
  async (t) => {
    const quiet = pino({ level: 'silent' });
    const start = (dir: string) =>
      startIngest({ dataDir: dir, mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } }, { log: quiet });
    const real = await start(tmp(t, 'quanlu-pin-real-'));
    t.teardown(() => real.close());
    const impostor = await start(tmp(t, 'quanlu-pin-impostor-'));
    t.teardown(() => impostor.close());
    t.not(real.tls!.caFingerprint, impostor.tls!.caFingerprint, 'two ingests, two CAs');

    const gwDir = tmp(t, 'quanlu-pin-gw-');
    const pinFile = join(gwDir, 'ingest-ca.pem');
    const key = generateKeyPair();
    // As an administrator copies it off the ingest's start-up output: colons, upper case.
    const caFingerprint = displayCertificateFingerprint(real.tls!.caFingerprint);

    await t.rejects(
      resolveIngestCa(impostor.mqttUrl, { caFingerprint, pinFile }),
      { code: 'GW_TLS_PIN' },
      'first contact with an ingest whose chain lacks the fingerprint: refused',
    );
    t.notOk(existsSync(pinFile), 'and nothing pinned');

    const first = connectGatewayMqtt(real.mqttUrl, 'gw-pin', key, systemClock, { caFingerprint, pinFile });
    t.equal(await outcome(first), 'connected', 'enrollment: the chain is fetched, the fingerprint matches');
    await first.endAsync();
    t.equal(readFileSync(pinFile, 'utf8'), real.tls!.ca, "the ingest's CA is pinned in the data folder");

    const later = connectGatewayMqtt(impostor.mqttUrl, 'gw-pin', key, systemClock, {
      caFingerprint,
      pinFile,
    });
    t.match(
      await outcome(later),
      /refused: .*(self.signed|unable to verify|certificate)/i,
      'afterwards an ingest presenting another CA is refused',
    );
    const unconfigured = connectGatewayMqtt(impostor.mqttUrl, 'gw-pin', key, systemClock, { pinFile });
    t.match(
      await outcome(unconfigured),
      /refused: .*(self.signed|unable to verify|certificate)/i,
      'also once the fingerprint is gone from the configuration: the pin holds',
    );
    await t.rejects(
      resolveIngestCa(real.mqttUrl, { caFingerprint: impostor.tls!.caFingerprint, pinFile }),
      { code: 'GW_TLS_PIN' },
      'a configured fingerprint contradicting the pin is refused',
    );
    // A gateway that cannot pin (its fingerprint matches no CA the ingest presents) never connects, logs why,
    // retries, and still closes cleanly.
    let logged!: () => void;
    const refusedLogged = new Promise<void>((resolve) => {
      logged = resolve;
    });
    const log = pino(
      { level: 'error' },
      new Writable({
        write(chunk, _enc, done) {
          if (String(chunk).includes('GW_TLS_PIN')) logged();
          done();
        },
      }),
    );
    const stuck = connectGatewayMqtt(real.mqttUrl, 'gw-stuck', key, systemClock, {
      caFingerprint: impostor.tls!.caFingerprint,
      pinFile: join(gwDir, 'stuck-ca.pem'),
      retryMs: 50,
      log,
    });
    await refusedLogged;
    t.notOk(stuck.connected, 'an unpinnable ingest is never connected to');
    await stuck.endAsync();
    t.pass('and the client ends cleanly');

    const again = connectGatewayMqtt(real.mqttUrl, 'gw-pin', key, systemClock, { pinFile });
    t.equal(await outcome(again), 'connected', 'the pinned ingest is still reached');
    await again.endAsync();
  },
);
