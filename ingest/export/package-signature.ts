/**
 * @module The evidence package's own signature [EVIDENCE §21.6]: the ingest log key signs the SHA-256 of
 * tagmanifest-sha256.txt (which fixes manifest-sha256.txt, so every payload file, package.json and every
 * audit record's hash), under context `package`. The signature file is a tag file outside the tag
 * manifest it signs. Written by the export, checked by `quanlu verify`.
 */
import { z } from 'zod';
import { Base64Url, Sha256Hex, sha256 } from '../../protocol/hash.ts';
import { type KeyPair, type PublicKey, signDigest, verifyDigest } from '../../protocol/keys.ts';

/** The signature file's name, at the top of the bag beside the tag manifest it signs. */
export const PACKAGE_SIGNATURE_FILE = 'quanlu-package-signature.json';

/** The signature file [EVIDENCE §21.6]. */
export const PackageSignature = z.strictObject({
  v: z.literal(1),
  key: Sha256Hex.describe('fingerprint of the ingest log key that signs'),
  tagManifest: Sha256Hex.describe('SHA-256 of tagmanifest-sha256.txt, the digest signed'),
  sig: Base64Url.describe('Ed25519 signature under context package over the 32 bytes of tagManifest'),
});
/** A package signature. */
export type PackageSignature = z.infer<typeof PackageSignature>;

/** Signs the bytes of a bag's tag manifest with the ingest log key. */
export function signPackage(tagManifest: string | Buffer, keyPair: KeyPair): PackageSignature {
  const digest = sha256(typeof tagManifest === 'string' ? Buffer.from(tagManifest, 'utf8') : tagManifest);
  return {
    v: 1,
    key: keyPair.publicKey.fingerprint,
    tagManifest: digest.toString('hex'),
    sig: signDigest(keyPair.privateKey, 'package', digest),
  };
}

/**
 * Checks a signature file's text against the tag manifest's bytes and the trusted ingest key (the same
 * rules as a tree head: its key must be that key's fingerprint). Returns the reason it fails, or null.
 */
export function packageSignatureProblem(
  text: string | null,
  tagManifest: Buffer | null,
  key: PublicKey,
): string | null {
  if (text === null) return `${PACKAGE_SIGNATURE_FILE} is missing`;
  if (tagManifest === null) return 'there is no tag manifest to check the signature against';
  let parsed: ReturnType<typeof PackageSignature.safeParse>;
  try {
    parsed = PackageSignature.safeParse(JSON.parse(text));
  } catch (e) {
    return `${PACKAGE_SIGNATURE_FILE} is not JSON: ${(e as Error).message}`;
  }
  if (!parsed.success)
    return `${PACKAGE_SIGNATURE_FILE} does not match its schema: ${z.prettifyError(parsed.error)}`;
  const s = parsed.data;
  if (s.key !== key.fingerprint)
    return `the package is signed by key ${s.key}, not the ingest key ${key.fingerprint}`;
  const digest = sha256(tagManifest);
  if (digest.toString('hex') !== s.tagManifest)
    return 'the tag manifest is not the one the package signature names (manifests rewritten after signing)';
  const bad = verifyDigest(key, 'package', digest, s.sig);
  return bad ? `package signature: ${bad}` : null;
}
