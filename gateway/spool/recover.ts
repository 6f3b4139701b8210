/** @module Startup clean-up: staged files and object files no entry names are garbage of an interrupted put. */
import { rmSync, statSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GatewayError } from '../errors.ts';
import { messageOf } from './durable-fs.ts';
import type { EntryTable } from './entry-table.ts';
import { listObjectFiles, listStagedFiles, objectFile, type SpoolLayout } from './spool-layout.ts';
import type { SpoolLogger } from './spool-logger.ts';

/** What recover found and did. */
export interface RecoverySummary {
  /** Names removed from staging/ (a put that never committed, or a capture cut short). */
  stagedRemoved: string[];
  /** Paths, relative to the spool folder, of object files no entry holds, removed. */
  orphansRemoved: string[];
  /** Objects an entry holds whose file is absent: a defect, reported, never "repaired". */
  missing: string[];
  /** Objects an entry holds whose file has another size than the entry says: reported, kept. */
  wrongSize: string[];
}

/**
 * Removes what an interrupted put leaves behind and checks that every held object is on disk.
 * Only files no entry holds are removed: a put renames its file before it inserts the row, so a file
 * without a row was never an entry [DESIGN invariant 1]. Must run before capture writes to staging/.
 */
export function recover(layout: SpoolLayout, entries: EntryTable, log: SpoolLogger): RecoverySummary {
  const summary: RecoverySummary = { stagedRemoved: [], orphansRemoved: [], missing: [], wrongSize: [] };
  try {
    for (const name of listStagedFiles(layout)) {
      rmSync(join(layout.staging, name), { recursive: true, force: true });
      log.warn({ file: name }, 'removed staged file that was never sealed');
      summary.stagedRemoved.push(name);
    }
    for (const found of listObjectFiles(layout)) {
      if (found.sha256 !== null && entries.isHeld(found.sha256)) continue;
      unlinkSync(found.path);
      const file = relative(layout.root, found.path);
      log.warn({ file }, 'removed object file that no entry holds');
      summary.orphansRemoved.push(file);
    }
  } catch (cause) {
    if (cause instanceof GatewayError) throw cause;
    throw new GatewayError(
      'GW_SPOOL_IO',
      `cannot clean up the spool at ${layout.root}: ${messageOf(cause)}`,
      {
        cause,
      },
    );
  }
  for (const held of entries.heldObjects()) {
    const size = sizeOf(objectFile(layout, held.sha256));
    if (size === null) {
      log.error({ sha256: held.sha256 }, 'object of a spooled entry is missing');
      summary.missing.push(held.sha256);
    } else if (size !== held.size) {
      log.error(
        { sha256: held.sha256, size, expected: held.size },
        'object of a spooled entry has the wrong size',
      );
      summary.wrongSize.push(held.sha256);
    }
  }
  log.info(
    {
      stagedRemoved: summary.stagedRemoved.length,
      orphansRemoved: summary.orphansRemoved.length,
      missing: summary.missing.length,
      wrongSize: summary.wrongSize.length,
    },
    'spool recovered',
  );
  return summary;
}

function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}
