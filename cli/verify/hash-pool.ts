/** @module A pool of worker threads that hash files, one pass each, on every core. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The result of hashing one file. */
export type HashResult = { sha256: string; size: number } | { error: string };

interface WorkerMessage {
  id: number;
  progress?: number;
  sha256?: string;
  size?: number;
  error?: string;
}

interface Job {
  id: number;
  path: string;
  resolve: (r: HashResult) => void;
}

/** Hashes files in parallel; `onBytes` reports progress as bytes are read. */
export class HashPool {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #running = new Map<number, { job: Job; reported: number }>();
  #nextId = 0;

  constructor(
    size = Math.min(availableParallelism(), 8),
    private readonly onBytes: (n: number) => void = () => {},
  ) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url), { execArgv: [] });
      w.on('message', (m: WorkerMessage) => this.#onMessage(w, m));
      w.unref();
      this.#workers.push(w);
      this.#idle.push(w);
    }
  }

  /** Hashes one file. */
  hash(path: string): Promise<HashResult> {
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#nextId++, path, resolve });
      this.#pump();
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#running.set(job.id, { job, reported: 0 });
      w.ref();
      w.postMessage({ id: job.id, path: job.path });
    }
  }

  #onMessage(w: Worker, m: WorkerMessage): void {
    const run = this.#running.get(m.id);
    if (!run) return;
    if (m.progress !== undefined) {
      this.onBytes(m.progress - run.reported);
      run.reported = m.progress;
      return;
    }
    this.#running.delete(m.id);
    if (m.sha256 !== undefined && m.size !== undefined) {
      this.onBytes(m.size - run.reported);
      run.job.resolve({ sha256: m.sha256, size: m.size });
    } else {
      run.job.resolve({ error: m.error ?? 'unknown error' });
    }
    w.unref();
    this.#idle.push(w);
    this.#pump();
  }
}
