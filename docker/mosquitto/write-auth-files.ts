#!/usr/bin/env -S node --import tsx
/**
 * @module Writes Mosquitto's password_file and acl_file from the enrolled gateways (compose's one-shot
 * `mqtt-auth` service): usage `write-auth-files.ts --config <ingest.yaml> --out <folder>`.
 *
 * It reads the ingest configuration, makes the ingest secret when none exists yet (so Mosquitto can
 * admit the ingest before its first start), migrates the database, lists the gateways and writes
 * `passwd` and `acl` with ingest/broker/mosquitto-files.ts. Run it again after approving or revoking a
 * gateway, then send Mosquitto SIGHUP (`docker compose kill -s HUP mosquitto`).
 *
 * TLS (issue 10): it also makes the ingest CA when none exists yet (the ingest's `tls` setting, under
 * `<dataDir>/tls`), and writes Mosquitto's `ca.pem`, a server certificate from that CA for the host
 * names `mosquitto` and `localhost` with its key, and `crl.pem` naming the certificates of every key ever
 * revoked or replaced by a re-enrollment (not only of the gateways revoked now).
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigFile } from '../../firmware-config/config-file.ts';
import {
  MOSQUITTO_TLS_FILES,
  type MosquittoGateway,
  mosquittoAclFile,
  mosquittoCrl,
  mosquittoPasswordFile,
} from '../../ingest/broker/mosquitto-files.ts';
import { IngestConfig, type IngestConfigInput } from '../../ingest/config.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository, type RevokedKey } from '../../ingest/db/repository.ts';
import { loadOrCreateIngestSecret } from '../../ingest/secret-file.ts';
import { makeServerCertificate } from '../../protocol/tls/certificates.ts';
import { loadTlsMaterial } from '../../protocol/tls/tls-files.ts';

/** The files written, by name in the output folder. */
export const AUTH_FILES = { passwordFile: 'passwd', aclFile: 'acl' } as const;

/** Writes both files into `out` from the ingest configuration in `configFile`; returns the approved count. */
export async function writeAuthFiles(configFile: string, out: string): Promise<number> {
  const config = IngestConfig.parse((await readConfigFile(configFile)) as IngestConfigInput);
  const secret = loadOrCreateIngestSecret(config.dataDir);
  const db = await openDatabase(config.database ?? { kind: 'pglite', dataDir: join(config.dataDir, 'db') });
  try {
    await migrate(db);
    const repo = createRepository(db);
    const gateways: MosquittoGateway[] = (await repo.listGateways()).map((g) => ({
      gateway: g.id,
      status: g.status,
      fingerprint: g.fingerprint,
    }));
    const revokedKeys = await repo.revokedKeys();
    mkdirSync(out, { recursive: true });
    // Mosquitto runs as another user than the ingest image: the files must be readable by it. They hold
    // PBKDF2 hashes and topic rules, never the secret, and live on a volume only Mosquitto mounts.
    replace(join(out, AUTH_FILES.passwordFile), mosquittoPasswordFile(gateways, secret));
    replace(join(out, AUTH_FILES.aclFile), mosquittoAclFile(gateways));
    await writeTlsFiles(config, gateways, revokedKeys, out);
    return gateways.filter((g) => g.status === 'approved').length;
  } finally {
    await db.close();
  }
}

/** Mosquitto's TLS files from the ingest CA (made here on first run): CA, server certificate and key, CRL. */
async function writeTlsFiles(
  config: IngestConfig,
  gateways: MosquittoGateway[],
  revokedKeys: RevokedKey[],
  out: string,
): Promise<void> {
  const tls = await loadTlsMaterial(config.tls, config.dataDir, `quanlu ingest CA (${config.node})`);
  if (!tls?.caKey) {
    throw new Error('Mosquitto speaks TLS only: the ingest needs tls.mode auto, or files with caKeyFile');
  }
  const ca = { certPem: tls.ca, keyPem: tls.caKey };
  const server = await makeServerCertificate(ca, ['mosquitto']);
  replace(join(out, MOSQUITTO_TLS_FILES.ca), tls.ca);
  replace(join(out, MOSQUITTO_TLS_FILES.cert), server.certPem);
  // Readable by Mosquitto's own user (another uid than this image's); the volume is mounted by Mosquitto only.
  replace(join(out, MOSQUITTO_TLS_FILES.key), server.keyPem);
  replace(join(out, MOSQUITTO_TLS_FILES.crl), await mosquittoCrl(gateways, revokedKeys, ca));
}

/** Writes beside the target and renames, so a reloading Mosquitto never reads half a file. */
function replace(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  chmodSync(tmp, 0o644);
  renameSync(tmp, file);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.config || !values.out) {
    process.stderr.write('usage: write-auth-files.ts --config <ingest.yaml> --out <folder>\n');
    process.exit(2);
  }
  const approved = await writeAuthFiles(values.config, values.out);
  process.stdout.write(
    `wrote ${values.out}/passwd, acl, crl.pem and the TLS files: the ingest and ${approved} approved gateway(s)\n`,
  );
}
