/** @module The local-folder object store: each object a read-only file at root/objectKey(sha256). */
import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, lstat, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { IngestError } from '../ingest/errors.ts';
import { objectKey, parseObjectKey } from '../protocol/object-key.ts';
import { checkedSource } from './content-check.ts';
import type { ByteRange, ObjectHead, ObjectSource, ObjectStore, StreamPutResult } from './object-store.ts';
import { rehashObject } from './rehash.ts';
import { checkRange, checkSize, clampRange } from './store-arguments.ts';

/** Where puts write before an object is verified and linked into place: inside root, so on its file system. */
const INCOMING = '.incoming';

/** The local-folder store; `root` is the folder it keeps objects in. */
export interface FsObjectStore extends ObjectStore {
  readonly kind: 'fs';
  readonly root: string;
}

/**
 * A store in the folder `root` (created on the first put). A put streams to `root/.incoming/` while hashing,
 * syncs, and links the file into place only once it hashes to its name, so every object in place was
 * verified by a put: `head()` reports the name as `verifiedSha256` (and as `metadataSha256`, which a folder
 * has no other place for). Objects are read-only files (0444) and never replaced.
 */
export function createFsStore(root: string): FsObjectStore {
  const pathOf = (sha256: string) => join(root, ...objectKey(sha256).split('/'));

  async function put(sha256: string, source: ObjectSource, size: number): Promise<{ created: boolean }> {
    const path = pathOf(sha256);
    checkSize(size);
    if (await exists(path)) return { created: false };
    const { stream, check } = await checkedSource(sha256, source, size);
    const temp = join(root, INCOMING, `${sha256}.${randomUUID()}`);
    try {
      await mkdir(dirname(temp), { recursive: true });
      // Created read-only: the mode applies to later opens; this descriptor may still write.
      const file = await open(temp, 'wx', 0o444);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (let done = 0; done < chunk.length; ) done += (await file.write(chunk, done)).bytesWritten;
        }
        await file.sync();
      } finally {
        await file.close();
      }
    } catch (err) {
      stream.destroy();
      await unlink(temp).catch(() => {});
      if (check?.failure) throw check.failure;
      if (err instanceof IngestError) throw err;
      throw ioError(`cannot write ${sha256} to ${root}`, err);
    }
    try {
      const firstNewDir = await mkdir(dirname(path), { recursive: true });
      // link(), unlike rename(), never replaces: of two concurrent puts of one object, one creates it.
      const created = await link(temp, path).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
      if (created) await syncNewPath(root, path, firstNewDir);
      return { created };
    } catch (err) {
      throw ioError(`cannot move ${sha256} into place in ${root}`, err);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async function putStream(source: AsyncIterable<Uint8Array>): Promise<StreamPutResult> {
    const temp = join(root, INCOMING, `stream.${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      await mkdir(dirname(temp), { recursive: true });
      const file = await open(temp, 'wx', 0o444);
      try {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          for (let done = 0; done < chunk.length; ) done += (await file.write(chunk, done)).bytesWritten;
        }
        await file.sync();
      } finally {
        await file.close();
      }
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err instanceof IngestError ? err : ioError(`cannot write a streamed object to ${root}`, err);
    }
    const sha256 = hash.digest('hex');
    const path = pathOf(sha256);
    try {
      const firstNewDir = await mkdir(dirname(path), { recursive: true });
      const created = await link(temp, path).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
      if (created) await syncNewPath(root, path, firstNewDir);
      return { sha256, size, created };
    } catch (err) {
      throw ioError(`cannot move ${sha256} into place in ${root}`, err);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async function head(sha256: string): Promise<ObjectHead | null> {
    const path = pathOf(sha256);
    try {
      const stat = await lstat(path);
      return { size: stat.size, verifiedSha256: sha256, metadataSha256: sha256 };
    } catch (err) {
      if (isMissing(err)) return null;
      throw ioError(`cannot stat ${sha256} in ${root}`, err);
    }
  }

  async function get(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = pathOf(sha256);
    if (range) checkRange(range);
    const file = await open(path, 'r').catch((err) => {
      if (isMissing(err)) throw new IngestError('STORE_NOT_FOUND', `object ${sha256} is not in ${root}`);
      throw ioError(`cannot open ${sha256} in ${root}`, err);
    });
    try {
      const { size } = await file.stat();
      const r = range ? clampRange(range, size) : null;
      // The stream owns the descriptor from here, and closes it when it ends or is destroyed.
      return file.createReadStream(r ? { start: r.start, end: r.end } : {});
    } catch (err) {
      await file.close();
      if (err instanceof RangeError) throw err;
      throw ioError(`cannot read ${sha256} in ${root}`, err);
    }
  }

  function rehash(sha256: string): Promise<{ sha256: string; size: number } | null> {
    return rehashObject(sha256, get, (err) => ioError(`cannot read ${sha256} back from ${root}`, err));
  }

  async function* list(after?: string): AsyncIterable<{ sha256: string; size: number }> {
    const afterKey = after === undefined ? null : objectKey(after);
    for await (const { key, path } of walk(root, root, afterKey)) {
      const sha256 = parseObjectKey(key);
      if (!sha256 || (afterKey !== null && key <= afterKey)) continue;
      const stat = await lstat(path).catch((err) => {
        throw ioError(`cannot stat ${path}`, err);
      });
      yield { sha256, size: stat.size };
    }
  }

  return {
    kind: 'fs',
    root,
    put,
    putStream,
    head,
    get,
    rehash,
    list,
    presign: async () => null,
    async remove(sha256: string): Promise<void> {
      try {
        await unlink(pathOf(sha256));
      } catch (err) {
        if (!isMissing(err)) throw ioError(`cannot remove ${sha256} from ${root}`, err);
      }
    },
  };
}

/**
 * Regular files under `dir` in key order, as keys relative to `root` ('/'-separated). Names at one level of
 * the key tree have one length, so sorting each folder gives key order. Folders wholly at or before
 * `afterKey` are skipped; dot-folders (`.incoming`) are not objects.
 */
async function* walk(
  root: string,
  dir: string,
  afterKey: string | null,
): AsyncIterable<{ key: string; path: string }> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err) && dir === root) return;
    throw ioError(`cannot list ${dir}`, err);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const key = relative(root, path).split(sep).join('/');
    if (entry.isDirectory()) {
      if (afterKey !== null && `${key}/` < afterKey && !afterKey.startsWith(`${key}/`)) continue;
      yield* walk(root, path, afterKey);
    } else if (entry.isFile()) {
      yield { key, path };
    }
  }
}

/** Whether a path exists (without following a final symlink). */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw ioError(`cannot stat ${path}`, err);
  }
}

/**
 * Syncs the folders whose entries changed, so the new name survives a power cut: the object's folder, and
 * when mkdir created folders on the way (from `firstNewDir` down), the parents they were created in.
 */
async function syncNewPath(root: string, path: string, firstNewDir: string | undefined): Promise<void> {
  let dir = dirname(path);
  const stop = firstNewDir ? dirname(firstNewDir) : dir;
  for (;;) {
    await syncDir(dir);
    if (dir === stop || dir === root || dirname(dir) === dir) break;
    dir = dirname(dir);
  }
}

/** Flushes a folder's entries to disk. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(what: string, cause: unknown): IngestError {
  return new IngestError('STORE_IO', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
  });
}
