/** @module Password hashing with scrypt (node:crypto): a salt per user, the parameters kept beside the hash. */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** A stored password: the scrypt output with everything needed to recompute it. */
export interface PasswordHash {
  /** scrypt cost parameters: N (CPU/memory), r (block size), p (parallelism). */
  n: number;
  r: number;
  p: number;
  /** 16 random bytes, base64. */
  salt: string;
  /** 32 bytes of scrypt output, base64. */
  hash: string;
}

/** Parameters for new hashes: N=2^15 takes ~0.1 s and 32 MiB here (OWASP's scrypt minimum is 2^17 with r=8, p=1 at 128 MiB; raise when the host allows). */
export const SCRYPT_DEFAULTS = { n: 2 ** 15, r: 8, p: 1 } as const;

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128·N·r or node refuses the parameters.
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(
  password: string,
  params: { n: number; r: number; p: number } = SCRYPT_DEFAULTS,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params.n, params.r, params.p);
  return { ...params, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** Whether `password` is the one `stored` was made from; compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), stored.n, stored.r, stored.p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash no password matches, checked when the user is unknown so that an unknown user and a
 * wrong password take the same time and get the same answer.
 */
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(24).toString('base64'));
  return decoy;
}
let decoy: Promise<PasswordHash> | undefined;

const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A generated password: 20 characters of an unambiguous alphabet (about 115 bits). */
export function generatePassword(length = 20): string {
  let out = '';
  while (out.length < length) {
    // Rejection sampling keeps every character equally likely.
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % ALPHABET.length) && out.length < length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}
