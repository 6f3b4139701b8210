/** @module Lists the files of a docked volume without ever leaving it: no link followed, no special file opened. */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isVolumePath } from '../../protocol/entry.ts';
import type { GatewayErrorCode } from '../errors.ts';

/** A regular file found on the volume, as lstat saw it. */
export interface VolumeFile {
  /** The path relative to the volume root, '/'-separated (a volume path, EVIDENCE §4.8). */
  name: string;
  size: number;
  /** Whole milliseconds, as the entry records them. */
  mtimeMs: number;
  birthtimeMs: number | null;
  dev: number;
  ino: number;
}

/** Something on the volume that is not offloaded, and why (a GW_DOCK_* code). */
export interface VolumeRefusal {
  name: string;
  code: GatewayErrorCode;
  message: string;
}

/** What a walk found. */
export interface VolumeListing {
  files: VolumeFile[];
  refused: VolumeRefusal[];
}

/** Folders deeper than this are not walked (a device writes DCIM/100MEDIA/x, three levels). */
const MAX_DEPTH = 16;

/**
 * Walks `root` depth first. Symbolic links are reported and never followed (in or out of the volume), device
 * files, FIFOs and sockets are reported and never opened, names that are not volume paths are reported and
 * skipped. `skip` names folders (relative paths) that are not walked, e.g. the move policy's folder.
 */
export async function walkVolume(root: string, skip: ReadonlySet<string>): Promise<VolumeListing> {
  const listing: VolumeListing = { files: [], refused: [] };
  await walk(root, '', 0, skip, listing);
  listing.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return listing;
}

async function walk(
  root: string,
  prefix: string,
  depth: number,
  skip: ReadonlySet<string>,
  out: VolumeListing,
): Promise<void> {
  // readdir errors (the volume went away) propagate: the caller decides what a vanished volume means
  const entries: Dirent[] = await readdir(prefix ? join(root, prefix) : root, { withFileTypes: true });
  for (const entry of entries) {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (!isVolumePath(name) || name.length > 255) {
      out.refused.push({
        name: JSON.stringify(name).slice(1, -1).slice(0, 300),
        code: 'GW_DOCK_NAME_INVALID',
        message: 'not a plain relative name',
      });
      continue;
    }
    if (skip.has(name)) continue;
    let stat: Stats;
    try {
      stat = await lstat(join(root, name));
    } catch {
      continue; // gone since readdir: nothing to offload
    }
    if (stat.isSymbolicLink()) {
      out.refused.push({ name, code: 'GW_DOCK_SYMLINK', message: 'symbolic link; never followed' });
    } else if (stat.isDirectory()) {
      if (depth + 1 >= MAX_DEPTH) {
        out.refused.push({ name, code: 'GW_DOCK_NAME_INVALID', message: `deeper than ${MAX_DEPTH} folders` });
        continue;
      }
      await walk(root, name, depth + 1, skip, out);
    } else if (!stat.isFile()) {
      out.refused.push({
        name,
        code: 'GW_DOCK_NOT_REGULAR',
        message: 'device file, FIFO or socket; never opened',
      });
    } else {
      out.files.push({
        name,
        size: stat.size,
        mtimeMs: Math.floor(stat.mtimeMs),
        birthtimeMs: stat.birthtimeMs > 0 ? Math.floor(stat.birthtimeMs) : null,
        dev: stat.dev,
        ino: stat.ino,
      });
    }
  }
}

/** The lowercase extension of a volume path, without the dot; '' when none. */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}
