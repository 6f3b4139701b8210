/** @module File-system steps the spool's durability rests on: fsync of files and directories, free space. */
import { closeSync, fsyncSync, openSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { GatewayError } from '../errors.ts';

/** Flushes a file's data to disk and returns its size; GW_SPOOL_IO when it cannot. */
export async function fsyncFile(path: string): Promise<number> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
    return (await handle.stat()).size;
  } catch (cause) {
    throw new GatewayError('GW_SPOOL_IO', `cannot sync ${path} to disk: ${messageOf(cause)}`, { cause });
  } finally {
    await handle?.close();
  }
}

/** Flushes a directory, so that names created, renamed or removed in it survive a power cut. */
export function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (cause) {
    throw new GatewayError('GW_SPOOL_IO', `cannot sync directory ${path}: ${messageOf(cause)}`, { cause });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Bytes free for an unprivileged writer on the file system holding `path`. */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/**
 * Refuses with GW_SPOOL_FULL when writing `size` more bytes would leave less than `minFreeBytes` free.
 * The caller decides what to do: nothing is evicted to make room [DESIGN invariant 1].
 */
export function ensureRoom(root: string, size: number, minFreeBytes: number): void {
  const free = freeBytes(root);
  if (free - size < minFreeBytes) {
    throw new GatewayError(
      'GW_SPOOL_FULL',
      `the spool disk at ${root} has ${free} bytes free; storing ${size} more would go below the floor of ` +
        `${minFreeBytes} bytes (minFreeBytes). Nothing was written or evicted: free disk space, or let the ` +
        'uplink deliver so reclaim() can release acknowledged objects',
    );
  }
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
