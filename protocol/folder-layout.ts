/** @module The layout of an evidence folder (what `quanlu verify` reads and exports write) [EVIDENCE §8]. */
import { objectKey } from './object-key.ts';

/** Folder names inside an evidence folder. */
export const LAYOUT = {
  /** One `<anything>.json` public key file per key (see keys.ts PublicKeyFile). */
  keys: 'keys',
  /** `*.jsonl` files, one signed entry per line; a chain's entries in seq order. */
  entries: 'entries',
  /** Objects under their content-addressed keys. */
  objects: 'objects',
} as const;

/** The path of an object inside an evidence folder, relative to its root. */
export function objectPath(sha256: string): string {
  return `${LAYOUT.objects}/${objectKey(sha256)}`;
}

/** The file name of a chain's entries inside `entries/`. */
export function chainFileName(recording: string, track: string): string {
  return `${recording}/${track}.jsonl`;
}
