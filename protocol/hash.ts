/** @module SHA-256 helpers and the hex/base64url encodings used throughout the evidence format. */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** A lowercase hex SHA-256 digest: 64 characters. */
export const Sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters (a SHA-256 digest)')
  .describe('SHA-256 digest, lowercase hex');
export type Sha256Hex = z.infer<typeof Sha256Hex>;

/** Base64url without padding (RFC 4648 §5), as used for public keys and signatures. */
export const Base64Url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'expected base64url without padding');

/** SHA-256 of the given bytes. */
export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SHA-256 of the given bytes, as lowercase hex. */
export function sha256Hex(...parts: Uint8Array[]): Sha256Hex {
  return sha256(...parts).toString('hex');
}

/** Decodes base64url (no padding) strictly: re-encoding must give the same text. */
export function fromBase64Url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** Encodes bytes as base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
