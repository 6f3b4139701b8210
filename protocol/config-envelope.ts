/**
 * @module The signed configuration envelope pushed to a gateway (`config` topic): its digest, signing and
 * check. The digest is sha256(canonical({gateway, version, config})), signed under the 'config' context:
 * naming the gateway means a configuration signed for one gateway never verifies on another [EVIDENCE §4].
 */
import { canonicalBytes } from './canonical.ts';
import { sha256 } from './hash.ts';
import { type KeyPair, type PublicKey, signDigest, verifyDigest } from './keys.ts';
import type { ConfigEnvelope } from './messages.ts';

/** The signed digest of one gateway's configuration at one version. */
export function configDigest(gateway: string, version: number, config: Record<string, unknown>): Buffer {
  return sha256(canonicalBytes({ gateway, version, config }));
}

/** The signed envelope of `config` for `gateway` at `version`. */
export function signConfigEnvelope(
  keyPair: KeyPair,
  gateway: string,
  version: number,
  config: Record<string, unknown>,
): ConfigEnvelope {
  const digest = configDigest(gateway, version, config);
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
  const digest = configDigest(gateway, envelope.version, envelope.config);
  if (digest.toString('hex') !== envelope.hash) return 'the hash does not match the configuration';
  return verifyDigest(key, 'config', digest, envelope.sig);
}
