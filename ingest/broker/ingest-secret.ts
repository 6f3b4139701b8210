/** @module The ingest's own MQTT credential: username `ingest` and a random secret the broker is given at construction. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The MQTT username of the ingest. It is also a well-formed gateway id: a gateway named `ingest`
 * can never connect (its username always means the ingest), so enrollment should refuse that id.
 */
export const INGEST_USERNAME = 'ingest';

/** A secret of at least 32 characters (192 bits as base64url). */
export const IngestSecret = z
  .string()
  .min(32, 'the ingest secret is at least 32 characters; make one with newIngestSecret()')
  .describe("the ingest's MQTT password and the key that derives gateways' Mosquitto passwords");

/** A fresh 256-bit secret, base64url. */
export function newIngestSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares a presented password with the secret in constant time. */
export function ingestSecretMatches(secret: string, presented: Uint8Array | string | undefined): boolean {
  if (presented === undefined) return false;
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  const digest = (v: Uint8Array | string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(secret), digest(presented));
}
