/** @module The ingest's MQTT secret: made on first start, kept in the data folder readable by its owner only. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { newIngestSecret } from './broker/ingest-secret.ts';

/** Reads `<dataDir>/ingest-secret`, creating it (mode 0600) when absent. */
export function loadOrCreateIngestSecret(dataDir: string): string {
  const path = join(dataDir, 'ingest-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = newIngestSecret();
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
