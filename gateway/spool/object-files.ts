/** @module Moving a finished file into objects/ under its hash: the file half of the atomic seal. */
import { renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.ts';
import { fsyncDir, messageOf } from './durable-fs.ts';
import type { StagedObject } from './put-input.ts';
import { objectFile, type SpoolLayout } from './spool-layout.ts';
import type { SpoolLogger } from './spool-logger.ts';

/**
 * Renames a staged file (already synced) to `objects/<objectKey>` and syncs that directory. When the
 * hash is already there the staged copy is dropped: content addressed, one copy. A file of the wrong
 * size under the name is not that object, and is replaced.
 */
export function moveIntoObjects(layout: SpoolLayout, object: StagedObject, log: SpoolLogger): void {
  const target = objectFile(layout, object.sha256);
  try {
    const existing = sizeOf(target);
    if (existing === object.size) {
      unlinkSync(object.path);
    } else {
      if (existing !== null) {
        log.warn({ sha256: object.sha256, size: existing }, 'replacing object file of the wrong size');
      }
      renameSync(object.path, target);
    }
  } catch (cause) {
    throw new GatewayError(
      'GW_SPOOL_IO',
      `cannot move ${object.path} into ${target} (it must be on the spool's file system): ${messageOf(cause)}`,
      { cause },
    );
  }
  fsyncDir(dirname(target));
}

/** Removes a file; a file already gone is fine. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
