/**
 * @module The compose deployment's TLS (issue 10), checked without a Docker engine: Mosquitto's config
 * has exactly the listener lines the tested generator makes (gateways by client certificate on 8883,
 * the ingest by password on 8884, nothing in plain text), the gateway and ingest configs speak mqtts,
 * and the mqtt-auth writer makes the ingest CA and Mosquitto's certificate, key and CRL from it.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { writeAuthFiles } from '../../docker/mosquitto/write-auth-files.ts';
import { readConfigFile } from '../../firmware-config/config-file.ts';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { MOSQUITTO_TLS_FILES, mosquittoTlsListener } from '../../ingest/broker/mosquitto-files.ts';
import { IngestConfig } from '../../ingest/config.ts';
import { TLS_FILES } from '../../protocol/tls/tls-files.ts';
import { tmp } from '../helpers/recording.ts';

const DOCKER = resolve(import.meta.dirname, '../../docker');

t.test('Mosquitto in compose listens only with TLS, as the tested listener lines say', async (t) => {
  const conf = readFileSync(join(DOCKER, 'mosquitto/mosquitto.conf'), 'utf8');
  const lines = conf.split('\n').map((l) => l.trim());
  const block = (port: number) => {
    const at = lines.indexOf(`listener ${port} 0.0.0.0`);
    const end = lines.findIndex((l, i) => i > at && (l === '' || l.startsWith('listener ')));
    return lines.slice(at, end === -1 ? undefined : end).filter((l) => l !== 'protocol mqtt');
  };
  t.same(
    block(8883),
    mosquittoTlsListener(8883, '0.0.0.0', '/mosquitto/auth', { gateways: true }),
    'gateways',
  );
  t.same(
    block(8884),
    mosquittoTlsListener(8884, '0.0.0.0', '/mosquitto/auth', { gateways: false }),
    'ingest',
  );
  t.same(
    lines.filter((l) => l.startsWith('listener ')),
    ['listener 8883 0.0.0.0', 'listener 8884 0.0.0.0'],
    'no plain-text listener',
  );
  for (const n of [1, 2]) {
    const config = IngestConfig.parse(await readConfigFile(join(DOCKER, `ingest/ingest-${n}.yaml`)));
    t.match(
      config.mqtt.kind === 'external' && config.mqtt.url,
      /^mqtts:\/\/mosquitto:8884$/,
      `ingest-${n}: mqtts`,
    );
    t.equal(config.tls.mode, 'auto', `ingest-${n}: HTTPS`);
  }
  const gateway = parseGatewayConfig(await readConfigFile(join(DOCKER, 'gateway/gateway.yaml')));
  t.match(
    gateway.config.ingest.mqttUrl,
    /^mqtts:\/\/mosquitto:8883$/,
    'the gateway: mqtts to the gateway listener',
  );
  t.equal(gateway.config.console.tls.mode, 'auto', 'its console on HTTPS');
});

t.test('mqtt-auth makes the ingest CA, and Mosquitto certificate, key and CRL from it', async (t) => {
  const dir = tmp(t, 'quanlu-compose-tls-');
  const config = join(dir, 'ingest.yaml');
  writeFileSync(config, `dataDir: ${join(dir, 'data')}\n`);
  await writeAuthFiles(config, join(dir, 'out'));
  const read = (name: keyof typeof MOSQUITTO_TLS_FILES) =>
    readFileSync(join(dir, 'out', MOSQUITTO_TLS_FILES[name]), 'utf8');
  t.equal(read('ca'), readFileSync(join(dir, 'data/tls', TLS_FILES.ca), 'utf8'), "the ingest's own CA");
  const server = new X509Certificate(read('cert'));
  t.ok(server.checkIssued(new X509Certificate(read('ca'))), "Mosquitto's certificate is issued by it");
  t.ok(server.checkHost('mosquitto'), 'for the compose host name');
  t.match(read('key'), /BEGIN PRIVATE KEY/);
  t.match(read('crl'), /^-----BEGIN X509 CRL-----/, 'a CRL (empty: nobody revoked yet)');
});
