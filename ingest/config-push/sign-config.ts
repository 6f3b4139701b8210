/**
 * @module Signs a gateway's configuration as a `config` envelope with the ingest key ('config' context).
 * The digest is sha256(canonical({gateway, version, config})), as gateway/config-push/config-envelope.ts checks it.
 */
import { canonicalBytes } from '../../protocol/canonical.ts';
import { sha256 } from '../../protocol/hash.ts';
import { type KeyPair, type PublicKey, signDigest, verifyDigest } from '../../protocol/keys.ts';
import type { ConfigEnvelope } from '../../protocol/messages.ts';

/** The signed envelope of `config` for `gateway` at `version`. */
export function signConfigEnvelope(
  keyPair: KeyPair,
  gateway: string,
  version: number,
  config: Record<string, unknown>,
): ConfigEnvelope {
  const digest = sha256(canonicalBytes({ gateway, version, config }));
  return {
    version,
    config,
    hash: digest.toString('hex'),
    sig: signDigest(keyPair.privateKey, 'config', digest),
    key: keyPair.publicKey.fingerprint,
  };
}

/** Whether `envelope` is this key's signature over this gateway's configuration: null when it is, else why not. */
export function configEnvelopeProblem(
  envelope: ConfigEnvelope,
  gateway: string,
  key: PublicKey,
): string | null {
  if (envelope.key !== key.fingerprint) return 'signed by another key';
  const digest = sha256(canonicalBytes({ gateway, version: envelope.version, config: envelope.config }));
  if (digest.toString('hex') !== envelope.hash) return 'the hash does not match the configuration';
  return verifyDigest(key, 'config', digest, envelope.sig);
}
