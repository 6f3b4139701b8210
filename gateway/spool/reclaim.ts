/** @module Local retention: frees disk from objects the ingest has acknowledged, never below the floor. */
import { unlinkSync } from 'node:fs';
import { GatewayError } from '../errors.ts';
import { messageOf } from './durable-fs.ts';
import type { EntryTable } from './entry-table.ts';
import { objectFile, type SpoolLayout } from './spool-layout.ts';
import type { SpoolLogger } from './spool-logger.ts';
import type { SpooledObject } from './spool-record.ts';

/** What reclaim removed. */
export interface ReclaimResult {
  /** The object files deleted, oldest first. */
  deleted: SpooledObject[];
  bytesFreed: number;
  /** Bytes of fully acknowledged objects still on disk afterwards (≥ the floor, unless it started below). */
  ackedBytesKept: number;
}

/**
 * Deletes object files whose every entry is acknowledged, least recently referenced first, as long as
 * the acknowledged bytes left stay at or above `retainAckedBytes`. An object that any unacknowledged
 * entry names (rejected ones included) is never a candidate, whatever the disk state
 * [DESIGN invariant 1; "Gateways hold evidence until the ingest's acknowledgement"].
 */
export function reclaim(
  layout: SpoolLayout,
  entries: EntryTable,
  retainAckedBytes: number,
  now: number,
  log: SpoolLogger,
): ReclaimResult {
  const candidates = entries.reclaimable();
  let kept = candidates.reduce((sum, c) => sum + c.size, 0);
  const deleted: SpooledObject[] = [];
  for (const c of candidates) {
    if (kept <= retainAckedBytes || kept - c.size < retainAckedBytes) break;
    // rows first: a crash before the unlink leaves a file no entry holds, which recover() removes
    if (!entries.markReclaimed(c.sha256, now)) continue;
    try {
      unlinkSync(objectFile(layout, c.sha256));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new GatewayError(
          'GW_SPOOL_IO',
          `cannot delete acknowledged object ${c.sha256}: ${messageOf(cause)}`,
          {
            cause,
          },
        );
      }
    }
    kept -= c.size;
    deleted.push({ sha256: c.sha256, size: c.size });
  }
  const bytesFreed = deleted.reduce((sum, d) => sum + d.size, 0);
  if (deleted.length > 0)
    log.info({ objects: deleted.length, bytesFreed, ackedBytesKept: kept }, 'reclaimed');
  return { deleted, bytesFreed, ackedBytesKept: kept };
}
