/** @module The ingest's log key (Ed25519): made on first start in the data folder, readable by its owner only. */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateKeyPair,
  type KeyPair,
  keyPairFromPrivate,
  type PublicKeyFile,
} from '../../protocol/keys.ts';
import { IngestError } from '../errors.ts';

/** The private key's file name in the ingest's data folder. */
export const LOG_KEY_FILE = 'ingest-log-key.pem';

/** The owner named in the published key file [EVIDENCE §20.2]. */
export const LOG_KEY_OWNER = 'ingest';

/**
 * Loads the log key, or makes one (mode 0600) when there is none. Several ingest nodes serving one
 * database must share this file: the log has one signer.
 */
export function loadOrCreateLogKey(dataDir: string): { keyPair: KeyPair; created: boolean; path: string } {
  const path = join(dataDir, LOG_KEY_FILE);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      throw new IngestError(
        'INGEST_LOG_KEY',
        `${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
    try {
      return { keyPair: keyPairFromPrivate(readFileSync(path, 'utf8')), created: false, path };
    } catch (cause) {
      throw new IngestError('INGEST_LOG_KEY', `${path} is not an Ed25519 private key in PEM form`, { cause });
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyPair = generateKeyPair();
  const pem = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { keyPair, created: true, path };
}

/** The public key file of the log key, as published and as put in evidence packages. */
export function logKeyFile(keyPair: KeyPair): PublicKeyFile {
  return { alg: 'ed25519', publicKey: keyPair.publicKeyText, owner: LOG_KEY_OWNER };
}
