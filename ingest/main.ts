/** @module Runs an ingest process: loads the config, starts it, handles signals. Nothing else. */
import { readConfigFile } from '../firmware-config/config-file.ts';
import { type Ingest, startIngest } from './app.ts';
import type { IngestConfigInput } from './config.ts';

/** Starts the ingest from a config file (or the embedded defaults) and stops it on SIGINT/SIGTERM. */
export async function runIngest(configFile: string | undefined, out = process.stdout): Promise<Ingest> {
  const input = (configFile ? await readConfigFile(configFile) : {}) as IngestConfigInput;
  const ingest = await startIngest(input);
  out.write(
    `ingest ${ingest.config.node} · MQTT ${ingest.mqttUrl} · HTTP ${ingest.httpUrl} · database ${ingest.db.kind} · store ${ingest.store.kind}\n`,
  );
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
