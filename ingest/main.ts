/** @module Runs an ingest process: loads the config, starts it, handles signals. Nothing else. */
import { readConfigFile } from '../firmware-config/config-file.ts';
import { displayCertificateFingerprint } from '../protocol/tls/certificates.ts';
import { type Ingest, startIngest } from './app.ts';
import type { IngestConfigInput } from './config.ts';

/** Starts the ingest from a config file (or the embedded defaults) and stops it on SIGINT/SIGTERM. */
export async function runIngest(configFile: string | undefined, out = process.stdout): Promise<Ingest> {
  const input = (configFile ? await readConfigFile(configFile) : {}) as IngestConfigInput;
  const ingest = await startIngest(input);
  out.write(
    `ingest ${ingest.config.node} · MQTT ${ingest.mqttUrl} · HTTP ${ingest.httpUrl} · database ${ingest.db.kind} · store ${ingest.store.kind}\n`,
  );
  // Transport security (issue 10): the fingerprint an administrator gives gateways to pin, or the warning.
  out.write(
    ingest.tls
      ? `ingest CA SHA-256 ${displayCertificateFingerprint(ingest.tls.caFingerprint)} (gateways: ingest.tls.caFingerprint)\n`
      : 'WARNING: TLS is off (tls.mode: off): the API, the console and MQTT speak plain text\n',
  );
  if (ingest.tls && ingest.mqttUrl.startsWith('mqtt:'))
    out.write('WARNING: MQTT to the broker speaks plain text (mqtt.plaintext: true)\n');
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    ingest.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return ingest;
}
