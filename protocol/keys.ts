/** @module Ed25519 keys of gateways and of the ingest: encoding, fingerprints, domain-separated signatures. */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { z } from 'zod';
import { publicKeyProblem, signatureProblem } from './ed25519-point.ts';
import { fromBase64Url, sha256Hex, toBase64Url } from './hash.ts';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The signature contexts: a signature made for one purpose never verifies for another. */
export const SIGNING_CONTEXTS = {
  entry: 'quanlu/v1/entry',
  treeHead: 'quanlu/v1/tree-head',
  config: 'quanlu/v1/config',
  message: 'quanlu/v1/message',
  package: 'quanlu/v1/package',
  tombstone: 'quanlu/v1/tombstone',
} as const;
/** One of the signature contexts. */
export type SigningContext = keyof typeof SIGNING_CONTEXTS;

/** A public key file as shipped in a keys/ folder and in evidence packages. */
export const PublicKeyFile = z.strictObject({
  alg: z.literal('ed25519'),
  publicKey: z.string().describe('the raw 32-byte Ed25519 public key, base64url without padding'),
  owner: z.string().min(1).max(200).describe('who holds the private key: a gateway id, or "ingest"'),
});
export type PublicKeyFile = z.infer<typeof PublicKeyFile>;

/** A checked public key. */
export interface PublicKey {
  raw: Buffer;
  fingerprint: string;
  key: KeyObject;
}

/** The fingerprint of a public key: SHA-256 of its raw 32 bytes, lowercase hex. */
export function fingerprintOf(raw: Uint8Array): string {
  return sha256Hex(raw);
}

/**
 * Parses a base64url public key, refusing non-canonical or small-order encodings [DESIGN invariant 7].
 * Returns the reason as a string when it is refused.
 */
export function parsePublicKey(text: string): PublicKey | string {
  const raw = fromBase64Url(text);
  if (!raw) return 'public key is not base64url without padding';
  const problem = publicKeyProblem(raw);
  if (problem) return problem;
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  return { raw, fingerprint: fingerprintOf(raw), key };
}

/** A key pair with its public half already encoded. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: PublicKey;
  publicKeyText: string;
}

/** Generates a new Ed25519 key pair. */
export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return keyPairFromPrivate(privateKey);
}

/** Rebuilds the key pair of a private key (PKCS#8 PEM or a KeyObject). */
export function keyPairFromPrivate(pem: string | KeyObject): KeyPair {
  const privateKey = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const raw = Buffer.from(der.subarray(SPKI_PREFIX.length));
  const publicKeyText = toBase64Url(raw);
  const publicKey = parsePublicKey(publicKeyText);
  if (typeof publicKey === 'string') throw new Error(`generated key refused: ${publicKey}`);
  return { privateKey, publicKey, publicKeyText };
}

/** A deterministic key pair from a 32-byte seed (test vectors and fixtures only). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return keyPairFromPrivate(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
}

/** The bytes that are signed: the context, one zero byte, then the 32-byte digest. */
export function signedMessage(context: SigningContext, digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(SIGNING_CONTEXTS[context], 'ascii'), Buffer.of(0), digest]);
}

/** Signs a 32-byte digest under a context; returns base64url. */
export function signDigest(privateKey: KeyObject, context: SigningContext, digest: Uint8Array): string {
  return toBase64Url(sign(null, signedMessage(context, digest), privateKey));
}

/** Verifies a base64url signature strictly (S < L, canonical R); returns the reason when it fails. */
export function verifyDigest(
  publicKey: PublicKey,
  context: SigningContext,
  digest: Uint8Array,
  signature: string,
): string | null {
  const sig = fromBase64Url(signature);
  if (!sig) return 'signature is not base64url without padding';
  const problem = signatureProblem(sig);
  if (problem) return problem;
  return verify(null, signedMessage(context, digest), publicKey.key, sig)
    ? null
    : 'signature does not verify';
}
