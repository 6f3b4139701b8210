#!/usr/bin/env -S node --import tsx
/**
 * @module Writes MinIO's TLS files from the ingest CA (compose's one-shot `minio-certs` service, issue 10):
 * usage `write-minio-certs.ts --config <ingest.yaml> --out <folder>`. The folder is MinIO's certs
 * directory: `public.crt` (a server certificate for the host names `minio` and `localhost`, followed
 * by the CA), `private.key`, and `CAs/ca.pem` (the ingest CA, which mc also trusts when the same
 * volume is its certs directory). The gateway and the ingest trust that CA for their S3 uploads
 * (`store.caFile`), so evidence never crosses the network in plain HTTP.
 *
 * It runs after `mqtt-auth`, which makes the ingest CA on first run; a server certificate is made anew
 * on every run (a restart of MinIO picks it up).
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigFile } from '../../firmware-config/config-file.ts';
import { IngestConfig, type IngestConfigInput } from '../../ingest/config.ts';
import { makeServerCertificate } from '../../protocol/tls/certificates.ts';
import { loadTlsMaterial } from '../../protocol/tls/tls-files.ts';

/** The files written, relative to the output folder (MinIO's `--certs-dir` layout). */
export const MINIO_CERT_FILES = { cert: 'public.crt', key: 'private.key', ca: 'CAs/ca.pem' } as const;

/** Writes MinIO's certificate, key and CA into `out` from the ingest configuration in `configFile`. */
export async function writeMinioCerts(configFile: string, out: string): Promise<void> {
  const config = IngestConfig.parse((await readConfigFile(configFile)) as IngestConfigInput);
  const tls = await loadTlsMaterial(config.tls, config.dataDir, `quanlu ingest CA (${config.node})`);
  if (!tls?.caKey) {
    throw new Error('MinIO speaks TLS only: the ingest needs tls.mode auto, or files with caKeyFile');
  }
  const server = await makeServerCertificate({ certPem: tls.ca, keyPem: tls.caKey }, ['minio']);
  mkdirSync(join(out, 'CAs'), { recursive: true });
  replace(join(out, MINIO_CERT_FILES.ca), tls.ca, 0o644);
  replace(join(out, MINIO_CERT_FILES.cert), `${server.certPem.trim()}\n${tls.ca.trim()}\n`, 0o644);
  // The volume is mounted by MinIO (as root) only; the key stays unreadable to others.
  replace(join(out, MINIO_CERT_FILES.key), server.keyPem, 0o600);
}

/** Writes beside the target and renames, so MinIO never reads half a file. */
function replace(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.config || !values.out) {
    process.stderr.write('usage: write-minio-certs.ts --config <ingest.yaml> --out <folder>\n');
    process.exit(2);
  }
  await writeMinioCerts(values.config, values.out);
  process.stdout.write(
    `wrote ${values.out}/public.crt, private.key and CAs/ca.pem from the ingest CA (host names minio, localhost)\n`,
  );
}
