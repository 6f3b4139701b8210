/** @module Checks what put() is handed before anything touches the disk [DESIGN invariant 3]. */
import { z } from 'zod';
import { canonicalText } from '../../protocol/canonical.ts';
import { Entry, entryHash, SignedEntry } from '../../protocol/entry.ts';
import { Sha256Hex } from '../../protocol/hash.ts';
import { GatewayError } from '../errors.ts';

/** A finished file waiting in staging/, with the hash and size computed as it was written. */
export const StagedObject = z.strictObject({
  path: z.string().min(1).describe('the file, on the same file system as the spool (normally stagingPath())'),
  sha256: Sha256Hex,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type StagedObject = z.infer<typeof StagedObject>;

/** A put that passed its checks. */
export interface CheckedPut {
  signed: SignedEntry;
  entry: Entry;
  /** The canonical text of the entry: the bytes its hash is over. */
  text: string;
  object: StagedObject | null;
}

/**
 * Parses the envelope and the entry, recomputes the entry hash (cheap: the entry, never the media
 * [DESIGN invariant 2]), and checks that a segment comes with its object and nothing else does.
 */
export function checkPut(signed: unknown, object: unknown): CheckedPut {
  const envelope = SignedEntry.safeParse(signed);
  if (!envelope.success) invalid(`envelope: ${z.prettifyError(envelope.error)}`);
  const parsed = Entry.safeParse(envelope.data.entry);
  if (!parsed.success) invalid(`entry: ${z.prettifyError(parsed.error)}`);
  const hash = entryHash(envelope.data.entry).toString('hex');
  if (hash !== envelope.data.hash)
    invalid(`the entry hashes to ${hash}, the envelope says ${envelope.data.hash}`);
  const entry = parsed.data;
  const where = `entry ${hash} (${entry.kind} ${entry.recording}/${entry.track}#${entry.seq})`;
  let staged: StagedObject | null = null;
  if (object !== undefined) {
    const o = StagedObject.safeParse(object);
    if (!o.success) invalid(`object of ${where}: ${z.prettifyError(o.error)}`);
    staged = o.data;
  }
  if (entry.kind === 'segment') {
    if (!staged) invalid(`${where} needs its object file`);
    if (staged.sha256 !== entry.object.sha256 || staged.size !== entry.object.size) {
      invalid(
        `${where} seals object ${entry.object.sha256} (${entry.object.size} bytes), ` +
          `but was handed ${staged.sha256} (${staged.size} bytes)`,
      );
    }
  } else if (staged) {
    invalid(`${where} has no object, but was handed ${staged.path}`);
  }
  return { signed: envelope.data, entry, text: canonicalText(envelope.data.entry), object: staged };
}

function invalid(message: string): never {
  throw new GatewayError('GW_SPOOL_INVALID_INPUT', message);
}
