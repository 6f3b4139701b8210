/**
 * @module Fixity sweeps: re-hashes every indexed object in the store, in hash order, at a configured
 * average rate (bytes/s). A mismatch or a missing object raises the alarm: an error log line, the
 * mismatch counter, a row in fixity_failures, every track naming the object marked broken with the
 * reason, and a `fixity-alarm` record per track in the audit log. Progress survives restarts (the
 * cursor is in the database).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { appendAudit } from '../db/audit-store.ts';
import { type Lease, tryLease } from '../db/leader-lease.ts';
import type { Database } from '../db/open-database.ts';
import type { Repository } from '../db/repository.ts';
import * as sql from './fixity-store.ts';

/** A mismatch found by a sweep. */
export interface FixityAlarm {
  sha256: string;
  reason: string;
  tracks: { recording: string; track: string }[];
}

/** What one full pass did. */
export interface PassSummary {
  objects: number;
  bytes: number;
  mismatches: number;
  finishedAt: string;
}

/** How often a node that found the sweep running elsewhere asks again, in seconds (it takes over a dead node's sweep). */
const LEASE_RETRY_SECONDS = 60;

/** Collaborators and settings of a sweep. */
export interface FixityDeps {
  db: Database;
  repo: Repository;
  store: ObjectStore;
  bytesPerSecond: number;
  registry?: Registry;
  clock?: Clock;
  log?: Logger;
  /** Waits `ms` (the rate limit); defaults to a timer the sweep's stop() cancels. */
  wait?: (ms: number) => Promise<void>;
}

/** The sweeper. One per ingest; `start()` runs passes forever, `runPass()` runs one (tests, CLI). */
export class FixitySweep extends EventEmitter<{
  alarm: [FixityAlarm];
  pass: [PassSummary];
  checked: [string];
}> {
  readonly #d: FixityDeps;
  readonly #clock: Clock;
  #stopped = true;
  #timer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;
  #running: Promise<void> | null = null;
  readonly #metrics;

  constructor(deps: FixityDeps) {
    super();
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
    const registers = deps.registry ? [deps.registry] : [];
    this.#metrics = {
      objects: new Counter({
        name: 'quanlu_fixity_objects_checked_total',
        help: 'objects re-hashed by fixity sweeps',
        registers,
      }),
      bytes: new Counter({
        name: 'quanlu_fixity_bytes_checked_total',
        help: 'bytes re-hashed by fixity sweeps',
        registers,
      }),
      mismatches: new Counter({
        name: 'quanlu_fixity_mismatches_total',
        help: 'objects that did not hash to their name, or were missing',
        registers,
      }),
      progress: new Gauge({
        name: 'quanlu_fixity_pass_progress_ratio',
        help: 'share of objects checked in the running pass',
        registers,
      }),
      lastPass: new Gauge({
        name: 'quanlu_fixity_last_full_pass_timestamp_seconds',
        help: 'when the last full pass ended (unix seconds)',
        registers,
      }),
    };
  }

  /** The sweep's state as stored, for the API. */
  async status(): Promise<
    sql.FixityState & {
      objectsIndexed: number;
      recentFailures: Awaited<ReturnType<typeof sql.recentFixityFailures>>;
    }
  > {
    const state = await sql.readFixityState(this.#d.db.pool);
    return {
      ...state,
      objectsIndexed: await sql.objectCount(this.#d.db.pool),
      recentFailures: await sql.recentFixityFailures(this.#d.db.pool, 20),
    };
  }

  /** Runs (or resumes) one full pass; resolves when it reaches the end of the objects, or on stop(). */
  async runPass(): Promise<PassSummary | null> {
    const db = this.#d.db.pool;
    const state = await sql.readFixityState(db);
    if (!state.passStartedAt) {
      Object.assign(state, {
        passStartedAt: isoTime(this.#clock.now()),
        cursor: null,
        passObjects: 0,
        passBytes: 0,
      });
      await sql.writeFixityState(db, state);
    }
    const total = Math.max(1, await sql.objectCount(db));
    let mismatches = 0;
    const began = this.#clock.now();
    let readThisRun = 0;
    for (;;) {
      const page = await sql.objectsAfter(db, state.cursor, 100);
      if (page.length === 0) break;
      for (const o of page) {
        if (this.#stopped && this.#running) return null;
        if (await this.#check(o)) mismatches++;
        state.cursor = o.sha256;
        state.passObjects += 1;
        state.passBytes += o.size;
        readThisRun += o.size;
        this.#metrics.objects.inc();
        this.#metrics.bytes.inc(o.size);
        this.#metrics.progress.set(Math.min(1, state.passObjects / total));
        this.emit('checked', o.sha256);
        // Average rate: never ahead of bytesPerSecond since this run began.
        const due = began + (readThisRun / this.#d.bytesPerSecond) * 1000 - this.#clock.now();
        if (due > 0) await this.#pause(due);
      }
      await sql.writeFixityState(db, state);
    }
    const summary: PassSummary = {
      objects: state.passObjects,
      bytes: state.passBytes,
      mismatches: mismatches,
      finishedAt: isoTime(this.#clock.now()),
    };
    await sql.writeFixityState(db, {
      passStartedAt: null,
      cursor: null,
      passObjects: 0,
      passBytes: 0,
      lastFullPassAt: summary.finishedAt,
      lastPassObjects: summary.objects,
      lastPassBytes: summary.bytes,
      lastPassMismatches: summary.mismatches,
    });
    this.#metrics.lastPass.set(Date.parse(summary.finishedAt) / 1000);
    this.#metrics.progress.set(1);
    this.emit('pass', summary);
    return summary;
  }

  /** Runs passes in the background, resting `pauseSeconds` between them. */
  start(pauseSeconds: number): void {
    if (this.#running) return;
    this.#stopped = false;
    this.#running = (async () => {
      while (!this.#stopped) {
        // With several ingest nodes on one database, one sweeps and the others wait to take over.
        let lease: Lease | null = null;
        try {
          lease = await tryLease(this.#d.db, 'fixity', (err) =>
            this.#d.log?.warn({ err }, 'fixity lease lost with its database connection; this pass goes on'),
          );
          if (lease) await this.runPass();
          else this.#d.log?.debug('another ingest node runs the fixity sweep; checking again later');
        } catch (err) {
          this.#d.log?.error({ err }, 'fixity pass failed; retrying after the pause');
        } finally {
          await lease?.release();
        }
        if (!this.#stopped)
          await this.#pause((lease ? pauseSeconds : Math.min(pauseSeconds, LEASE_RETRY_SECONDS)) * 1000);
      }
    })();
  }

  /** Stops the background passes (the cursor is kept: the next start resumes). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#running;
    this.#running = null;
  }

  #pause(ms: number): Promise<void> {
    if (this.#d.wait) return this.#d.wait(ms);
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
      this.#timer.unref();
    });
  }

  /** Re-hashes one object; true when it raised the alarm. */
  async #check(o: { sha256: string; size: number }): Promise<boolean> {
    let reason: string | null = null;
    let got: { sha256: string; size: number } | null = null;
    try {
      got = await this.#d.store.rehash(o.sha256);
      if (!got) reason = `object ${o.sha256} is missing from the store`;
      else if (got.sha256 !== o.sha256 || got.size !== o.size)
        reason = `object ${o.sha256} now hashes to ${got.sha256} (${got.size} bytes, indexed ${o.size})`;
    } catch (err) {
      reason = `object ${o.sha256} cannot be read: ${(err as Error).message}`;
    }
    if (!reason) return false;
    const tracks = await sql.tracksNaming(this.#d.db.pool, o.sha256);
    await sql.recordFixityFailure(this.#d.db.pool, {
      sha256: o.sha256,
      at: isoTime(this.#clock.now()),
      actual: got?.sha256 ?? null,
      actualSize: got?.size ?? null,
      expectedSize: o.size,
      reason,
    });
    for (const t of tracks)
      await this.#d.repo.markTrackBroken(t.recording, t.track, 'INGEST_FIXITY_MISMATCH', reason);
    // The audit log keeps the alarm too, once per track (once with no track for an object none names).
    const at = isoTime(this.#clock.now());
    for (const t of tracks.length > 0 ? tracks : [{ recording: null, track: null }])
      await appendAudit(
        this.#d.db,
        { user: 'system', role: null, address: null, action: 'fixity-alarm', ...t, detail: reason },
        at,
      );
    this.#metrics.mismatches.inc();
    this.#d.log?.error({ object: o.sha256, tracks, reason }, 'FIXITY ALARM: a stored object changed');
    this.emit('alarm', { sha256: o.sha256, reason, tracks });
    return true;
  }
}
