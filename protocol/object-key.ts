/** @module Content-addressed object keys: the one place that builds and parses them [DESIGN: evidence model]. */
import { Sha256Hex } from './hash.ts';

const KEY = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

/** The store key of an object: `sha256/<first two hex>/<64 hex>`. */
export function objectKey(sha256: string): string {
  const hex = Sha256Hex.parse(sha256);
  return `sha256/${hex.slice(0, 2)}/${hex}`;
}

/** The hash an object key names, or null when the text is not an object key. */
export function parseObjectKey(key: string): string | null {
  const m = KEY.exec(key);
  if (!m || m[2]!.slice(0, 2) !== m[1]) return null;
  return m[2]!;
}
