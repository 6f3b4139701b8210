/**
 * @module Reads one device file once, as a stream: hashed and stored in the same pass, optionally copied to
 * local disk, its bytes inspected as they pass [DESIGN invariant 2]. Memory is one read buffer per file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '../../store/object-store.ts';
import { GatewayError } from '../errors.ts';
import { type MediaFacts, MediaInspector } from './media-inspect.ts';
import type { VolumeFile } from './volume-walk.ts';

/** Bytes per read: one buffer per file in flight. */
const CHUNK = 1024 * 1024;

/** A file read and stored. */
export interface Offloaded extends MediaFacts {
  sha256: string;
  size: number;
  /** False when the store already held these bytes (another file with the same content). */
  created: boolean;
}

/** Where and how a file is offloaded. */
export interface OffloadTarget {
  store: ObjectStore;
  /** A folder on the gateway's disk for stores without putStream and for copyToSpool (created on demand). */
  scratchDir: string;
  /** Keep a copy under `copyDir/<sha256>` (copyToSpool). */
  copyDir: string | null;
  signal: AbortSignal;
  onBytes?: (n: number) => void;
}

/**
 * Offloads `file` (as listed) from the volume at `root`. Opens without following a link and without blocking
 * on a FIFO, refuses anything but the regular file that was listed, and after the last byte checks that the
 * file did not change while it was read: a growing or replaced file is GW_DOCK_FILE_CHANGING, a vanished
 * volume GW_DOCK_VOLUME_REMOVED. On any error nothing is sealed by the caller.
 */
export async function offloadFile(root: string, file: VolumeFile, target: OffloadTarget): Promise<Offloaded> {
  const path = join(root, file.name);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw await readError(root, file.name, err);
  }
  try {
    const before = await handle.stat();
    if (!before.isFile() || before.ino !== file.ino || before.dev !== file.dev) {
      throw new GatewayError('GW_DOCK_FILE_CHANGING', `${file.name} was replaced after it was listed`);
    }
    const inspector = new MediaInspector();
    const chunks = readChunks(handle, target.signal, (chunk) => {
      inspector.push(chunk);
      target.onBytes?.(chunk.length);
    });
    const stored = await store(chunks, target);
    const after = await handle.stat();
    await checkUnchanged(root, file, before, after, stored.size);
    return { ...stored, ...inspector.finish() };
  } catch (err) {
    // an error of the read (a removal, an abort) may come back wrapped by the store that was consuming it
    const inner = err instanceof Error && err.cause instanceof GatewayError ? err.cause : err;
    if (!(await lstat(root).catch(() => null)))
      throw new GatewayError('GW_DOCK_VOLUME_REMOVED', `the volume went away while ${file.name} was read`, {
        cause: err,
      });
    if (inner instanceof GatewayError) throw inner;
    throw await readError(root, file.name, err);
  } finally {
    await handle.close().catch(() => {});
  }
}

async function* readChunks(
  handle: FileHandle,
  signal: AbortSignal,
  observe: (chunk: Buffer) => void,
): AsyncIterable<Buffer> {
  for (;;) {
    if (signal.aborted) throw new GatewayError('GW_DOCK_VOLUME_REMOVED', 'the device was removed');
    // a fresh buffer per read: the store may still hold the previous one while it writes
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
    if (bytesRead === 0) return;
    const chunk = buf.subarray(0, bytesRead);
    observe(chunk);
    yield chunk;
  }
}

/** Stores the stream: straight to the store when it can name an object afterwards, else via a local file. */
async function store(
  chunks: AsyncIterable<Buffer>,
  target: OffloadTarget,
): Promise<{ sha256: string; size: number; created: boolean }> {
  const { store } = target;
  if (store.putStream && !target.copyDir) {
    try {
      return await store.putStream(chunks);
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if ((err as Error).cause instanceof GatewayError) throw (err as Error).cause;
      throw new GatewayError(
        'GW_DOCK_UPLOAD_FAILED',
        `the store refused the file: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  // One read of the device: hash while copying to local disk, then put the local copy.
  await mkdir(target.scratchDir, { recursive: true });
  const temp = join(target.scratchDir, `offload.${randomUUID()}`);
  const hash = createHash('sha256');
  let size = 0;
  const out = await open(temp, 'wx', 0o600);
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
      for (let done = 0; done < chunk.length; ) done += (await out.write(chunk, done)).bytesWritten;
    }
    await out.sync();
  } catch (err) {
    await out.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await out.close();
  const sha256 = hash.digest('hex');
  try {
    const { created } = await store.put(sha256, { path: temp }, size);
    if (target.copyDir) {
      await mkdir(target.copyDir, { recursive: true });
      await rename(temp, join(target.copyDir, sha256));
    }
    return { sha256, size, created };
  } catch (err) {
    throw new GatewayError(
      'GW_DOCK_UPLOAD_FAILED',
      `the store refused ${sha256}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function checkUnchanged(
  root: string,
  file: VolumeFile,
  before: Stats,
  after: Stats,
  read: number,
): Promise<void> {
  const still = await lstat(join(root, file.name)).catch(() => null);
  if (!still) {
    const volume = await lstat(root).catch(() => null);
    if (!volume)
      throw new GatewayError('GW_DOCK_VOLUME_REMOVED', `the volume went away while ${file.name} was read`);
    throw new GatewayError('GW_DOCK_FILE_CHANGING', `${file.name} was removed while it was read`);
  }
  const same =
    read === before.size &&
    after.size === before.size &&
    after.mtimeMs === before.mtimeMs &&
    still.ino === before.ino &&
    still.size === before.size &&
    read === file.size;
  if (!same) {
    throw new GatewayError(
      'GW_DOCK_FILE_CHANGING',
      `${file.name} changed while it was read (listed ${file.size} bytes, read ${read}, now ${still.size})`,
    );
  }
}

async function readError(root: string, name: string, err: unknown): Promise<GatewayError> {
  const volume = await lstat(root).catch(() => null);
  const code = (err as NodeJS.ErrnoException).code;
  if (!volume || code === 'EIO' || code === 'ENODEV' || code === 'ENXIO')
    return new GatewayError('GW_DOCK_VOLUME_REMOVED', `the volume went away while ${name} was read`, {
      cause: err,
    });
  if (code === 'ELOOP')
    return new GatewayError('GW_DOCK_SYMLINK', `${name} became a symbolic link; not followed`, {
      cause: err,
    });
  if (code === 'ENOENT') return new GatewayError('GW_DOCK_FILE_CHANGING', `${name} is gone`, { cause: err });
  return new GatewayError('GW_DOCK_READ_FAILED', `${name}: ${(err as Error).message}`, { cause: err });
}
