// @module Worker thread for `quanlu verify`: hashes whole files with SHA-256, one read pass each.
// Plain JavaScript so that a worker needs no TypeScript loader.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const CHUNK = 4 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(CHUNK);

parentPort.on('message', (job) => {
  let fd = -1;
  try {
    fd = openSync(job.path, 'r');
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(n === CHUNK ? buffer : buffer.subarray(0, n));
      size += n;
      if (size % (64 * 1024 * 1024) < n) parentPort.postMessage({ id: job.id, progress: size });
    }
    parentPort.postMessage({ id: job.id, sha256: hash.digest('hex'), size });
  } catch (err) {
    parentPort.postMessage({
      id: job.id,
      error: err.code ? `${err.code}: ${err.message}` : String(err.message),
    });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
});
