/** @module The spool's folder: content-addressed objects/, staging/ for finished segments, spool.db. */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { objectKey, parseObjectKey } from '../../protocol/object-key.ts';
import { fsyncDir } from './durable-fs.ts';

/** The paths of one spool folder. */
export interface SpoolLayout {
  root: string;
  /** Objects under `objectKey(sha256)`; the same file system as staging, so a rename is atomic. */
  objects: string;
  /** Where capture and docks put a finished file before it is sealed. */
  staging: string;
  /** The SQLite database of entries and recordings. */
  db: string;
}

/** The fan-out directories of objects/: `sha256/00` … `sha256/ff`, created once at open. */
const FAN_OUT = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The paths of the spool in `root`. */
export function spoolLayout(root: string): SpoolLayout {
  return { root, objects: join(root, 'objects'), staging: join(root, 'staging'), db: join(root, 'spool.db') };
}

/**
 * Creates the folders that are missing and syncs the parents of those created, so a put never has to
 * create (and sync) a directory on its way.
 */
export function ensureLayout(layout: SpoolLayout): void {
  const created = new Set<string>();
  const make = (path: string, parent: string) => {
    if (existsSync(path)) return;
    mkdirSync(path);
    created.add(parent);
  };
  mkdirSync(layout.root, { recursive: true });
  make(layout.objects, layout.root);
  make(layout.staging, layout.root);
  const fan = join(layout.objects, 'sha256');
  make(fan, layout.objects);
  for (const prefix of FAN_OUT) make(join(fan, prefix), fan);
  for (const dir of created) fsyncDir(dir);
}

/** The path of the object with this SHA-256 (whether or not it is there). */
export function objectFile(layout: SpoolLayout, sha256: string): string {
  return join(layout.objects, objectKey(sha256));
}

/** One file found in objects/: its path, and the hash its name claims (null for a stray name). */
export interface FoundObject {
  path: string;
  sha256: string | null;
}

/** Every file in the fan-out directories of objects/. */
export function listObjectFiles(layout: SpoolLayout): FoundObject[] {
  const found: FoundObject[] = [];
  const fan = join(layout.objects, 'sha256');
  for (const sub of readdirSync(fan, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    const prefix = sub.name;
    const dir = join(fan, prefix);
    for (const dirent of readdirSync(dir, { withFileTypes: true })) {
      if (!dirent.isFile()) continue;
      found.push({ path: join(dir, dirent.name), sha256: parseObjectKey(`sha256/${prefix}/${dirent.name}`) });
    }
  }
  return found;
}

/** Every file name in staging/. */
export function listStagedFiles(layout: SpoolLayout): string[] {
  return readdirSync(layout.staging);
}
