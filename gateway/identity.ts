/** @module The gateway's Ed25519 identity: made on first start, kept in the data folder readable by its owner only. */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeyPair, type KeyPair, keyPairFromPrivate } from '../protocol/keys.ts';
import { GatewayError } from './errors.ts';

/** The key file's name inside the gateway's data folder. */
export const KEY_FILE = 'gateway-key.pem';

/** The public key file the ingest enrolls (also written beside the private key, for convenience). */
export const PUBLIC_KEY_FILE = 'gateway-key.pub.json';

/** Loads the gateway key, or makes one (mode 0600) when there is none. */
export function loadOrCreateIdentity(
  dataDir: string,
  gateway: string,
): { keyPair: KeyPair; created: boolean; path: string } {
  const path = join(dataDir, KEY_FILE);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      throw new GatewayError(
        'GW_KEY_PERMISSIONS',
        `${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
    try {
      return { keyPair: keyPairFromPrivate(readFileSync(path, 'utf8')), created: false, path };
    } catch (cause) {
      throw new GatewayError('GW_KEY_UNREADABLE', `${path} is not an Ed25519 private key in PEM form`, {
        cause,
      });
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const keyPair = generateKeyPair();
  const pem = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  writeFileSync(
    join(dataDir, PUBLIC_KEY_FILE),
    `${JSON.stringify({ alg: 'ed25519', publicKey: keyPair.publicKeyText, owner: gateway }, null, 2)}\n`,
  );
  return { keyPair, created: true, path };
}

/** A fingerprint as people read it aloud when approving a gateway: groups of four. */
export function displayFingerprint(fingerprint: string): string {
  return fingerprint.match(/.{1,4}/g)?.join(' ') ?? fingerprint;
}
