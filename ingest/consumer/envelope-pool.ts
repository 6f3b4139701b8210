/**
 * @module Worker threads that check entry messages (envelope-check.ts), so the Ed25519 verify (~75 µs an
 * entry) and the schema and hash work run beside the ingest's event loop instead of on it. Jobs queued in one
 * turn of the loop go out together, a batch per worker, to the worker with the least outstanding.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Entry } from '../../protocol/entry.ts';
import { checkEntryMessage, type EnvelopeJob, type EnvelopeOutcome } from './envelope-check.ts';

/** A job's result, or why no worker could give one (the message is then neither indexed nor refused). */
export type PoolOutcome = EnvelopeOutcome | { ok: false; failed: string };

/** The default pool size: every core but the one the event loop runs on, at least one, at most four. */
export function defaultEnvelopeWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Most jobs in one message to a worker. */
const CHUNK = 64;

/** What a worker answers for a job (envelope-worker.js): a verified entry as text, or the refusal. */
type WorkerResult =
  | { id: number; text: string; hash: string; sig: string }
  | { id: number; outcome: EnvelopeOutcome };

interface Pending {
  job: EnvelopeJob;
  resolve: (o: PoolOutcome) => void;
}

interface Slot {
  worker: Worker;
  running: Map<number, (o: PoolOutcome) => void>;
  /** Whether it ever answered: one that dies before cannot start here (no loader), so the pool stops trying. */
  answered: boolean;
}

/** Checks entry messages on `size` worker threads, or on the calling thread when `size` is 0. */
export class EnvelopePool {
  #size: number;
  readonly #onLost: (why: string, inThread: boolean) => void;
  readonly #slots: Slot[] = [];
  #queue: Pending[] = [];
  #flushing = false;
  #nextId = 0;
  #closed = false;

  /** `onLost` hears of a worker that died, and whether the pool now checks on the calling thread instead. */
  constructor(
    size: number = defaultEnvelopeWorkers(),
    onLost: (why: string, inThread: boolean) => void = () => {},
  ) {
    this.#size = size;
    this.#onLost = onLost;
  }

  /** Starts the workers now rather than on the first message (each loads the sources: a few hundred ms). */
  start(): void {
    if (this.#closed) return;
    while (this.#slots.length < this.#size) this.#slots.push(this.#spawn());
  }

  /** Checks one message; never rejects. */
  check(job: EnvelopeJob): Promise<PoolOutcome> {
    if (this.#size === 0) return Promise.resolve(checkEntryMessage(job));
    if (this.#closed) return Promise.resolve({ ok: false, failed: 'the envelope pool is closed' });
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve });
      if (!this.#flushing) {
        this.#flushing = true;
        // After the I/O callbacks of this turn: the messages of one socket read go out as one batch.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Stops the workers; jobs still out resolve as failed. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const p of this.#queue.splice(0)) p.resolve({ ok: false, failed: 'the envelope pool closed' });
    await Promise.all(slots.map((s) => s.worker.terminate()));
    for (const s of slots) this.#fail(s, 'the envelope pool closed');
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#closed) return;
    this.start();
    const queue = this.#queue;
    this.#queue = [];
    if (this.#size === 0) {
      for (const p of queue) p.resolve(checkEntryMessage(p.job));
      return;
    }
    // Even shares, at most CHUNK jobs a message, each to the least-loaded worker.
    const share = Math.min(CHUNK, Math.ceil(queue.length / this.#slots.length));
    for (let i = 0; i < queue.length; i += share) {
      const part = queue.slice(i, i + share);
      let slot = this.#slots[0]!;
      for (const s of this.#slots) if (s.running.size < slot.running.size) slot = s;
      const batch = part.map((p) => {
        const id = this.#nextId++;
        slot.running.set(id, p.resolve);
        return { id, ...p.job };
      });
      slot.worker.ref();
      slot.worker.postMessage(batch);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./envelope-worker.js', import.meta.url), { execArgv: [] });
    const slot: Slot = { worker, running: new Map(), answered: false };
    worker.on('message', (results: WorkerResult[]) => {
      slot.answered = true;
      for (const r of results) {
        const resolve = slot.running.get(r.id);
        slot.running.delete(r.id);
        if ('outcome' in r) resolve?.(r.outcome);
        else {
          const entry = JSON.parse(r.text) as Entry;
          resolve?.({ ok: true, signed: { entry, hash: r.hash, sig: r.sig }, entry, entryText: r.text });
        }
      }
      if (slot.running.size === 0) worker.unref();
    });
    const lost = (why: string) => {
      // A dead worker's jobs fail (their gateways send them again); the next flush starts a new one, unless
      // this one never answered: then workers cannot start here, and the calling thread checks from now on.
      const i = this.#slots.indexOf(slot);
      if (i < 0) return;
      this.#slots.splice(i, 1);
      if (!slot.answered && !this.#closed) this.#size = 0;
      this.#fail(slot, why);
      this.#onLost(why, this.#size === 0);
    };
    worker.on('error', (err) => lost(`envelope worker failed: ${err.message}`));
    worker.on('exit', (code) => lost(`envelope worker exited with code ${code}`));
    // An idle worker does not keep the process alive; a busy one does until its answers are in.
    worker.unref();
    return slot;
  }

  #fail(slot: Slot, why: string): void {
    const running = [...slot.running.values()];
    slot.running.clear();
    for (const resolve of running) resolve({ ok: false, failed: why });
  }
}
