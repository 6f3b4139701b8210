/**
 * @module Checks a pushed configuration envelope (`config` topic): schema, pinned ingest key, signature
 * under the 'config' context, hash; the envelope format is protocol/config-envelope.ts [EVIDENCE §5.8].
 */
import { configDigest } from '../../protocol/config-envelope.ts';
import type { PublicKey } from '../../protocol/keys.ts';
import { verifyDigest } from '../../protocol/keys.ts';
import { ConfigEnvelope } from '../../protocol/messages.ts';
import { GatewayError } from '../errors.ts';

/**
 * Parses and verifies an envelope for `gateway` against the pinned ingest key. Throws GatewayError:
 * GW_CONFIG_PUSH_INVALID (not an envelope), GW_CONFIG_PUSH_UNSIGNED (no signature or key),
 * GW_CONFIG_PUSH_SIGNATURE (another key, a hash that does not match, a signature that does not verify).
 */
export function verifyConfigEnvelope(
  payload: Buffer,
  gateway: string,
  pinned: PublicKey | null,
): ConfigEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new GatewayError('GW_CONFIG_PUSH_INVALID', 'a pushed configuration is not JSON', { cause });
  }
  const fields = json && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  if (!fields.sig || !fields.key) {
    throw new GatewayError(
      'GW_CONFIG_PUSH_UNSIGNED',
      'a pushed configuration carries no signature or no key',
    );
  }
  const parsed = ConfigEnvelope.safeParse(json);
  if (!parsed.success) {
    throw new GatewayError(
      'GW_CONFIG_PUSH_INVALID',
      `a pushed configuration envelope is malformed: ${parsed.error.message}`,
    );
  }
  const envelope = parsed.data;
  if (!pinned) {
    throw new GatewayError(
      'GW_CONFIG_PUSH_SIGNATURE',
      'no ingest config key is pinned (ingest.configKey): every pushed configuration is refused',
    );
  }
  if (envelope.key !== pinned.fingerprint) {
    throw new GatewayError(
      'GW_CONFIG_PUSH_SIGNATURE',
      `version ${envelope.version} is signed by key ${envelope.key.slice(0, 16)}…, not the pinned ingest key ${pinned.fingerprint.slice(0, 16)}…`,
    );
  }
  const digest = configDigest(gateway, envelope.version, envelope.config);
  if (digest.toString('hex') !== envelope.hash) {
    throw new GatewayError(
      'GW_CONFIG_PUSH_SIGNATURE',
      `version ${envelope.version}: the hash does not match the configuration`,
    );
  }
  const problem = verifyDigest(pinned, 'config', digest, envelope.sig);
  if (problem) {
    throw new GatewayError('GW_CONFIG_PUSH_SIGNATURE', `version ${envelope.version}: ${problem}`);
  }
  return envelope;
}
