/** @module Random bearer secrets (session cookies, CSRF tokens, API tokens) and the hashes we store instead of them. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** API tokens start with this, so a leaked one is recognisable (and secret scanners can match it). */
export const API_TOKEN_PREFIX = 'qlu_';

/** 32 random bytes, base64url: a session token or a CSRF token. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new API token for the command line. */
export function newApiToken(): string {
  return `${API_TOKEN_PREFIX}${newSecret()}`;
}

/** What the database keeps of a secret: its SHA-256, hex. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time equality of two strings (false when their lengths differ). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
