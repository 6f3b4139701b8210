/** @module Free space on the spool's disk, as statfs reports it to an unprivileged process. */
import { statfs } from 'node:fs/promises';

/** One MiB in bytes. */
export const MIB = 1024 * 1024;

/** Bytes an unprivileged process may still write on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}
