/** @module The gateway's durable spool: sealed entries and their objects, held until the ingest acknowledges them. */
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import type { SignedEntry } from '../../protocol/entry.ts';
import { type Clock, systemClock } from '../../protocol/time.ts';
import { GatewayError } from '../errors.ts';
import { ensureRoom, fsyncFile, messageOf } from './durable-fs.ts';
import { checkTransition, type EntryState } from './entry-state.ts';
import { type ChainRef, EntryTable } from './entry-table.ts';
import { moveIntoObjects, removeQuietly } from './object-files.ts';
import { type CheckedPut, checkPut, type StagedObject } from './put-input.ts';
import { type ReclaimResult, reclaim } from './reclaim.ts';
import { RecordingTable, type SpoolRecording } from './recording-table.ts';
import { type RecoverySummary, recover } from './recover.ts';
import { migrate } from './schema.ts';
import { ensureLayout, objectFile, type SpoolLayout, spoolLayout } from './spool-layout.ts';
import { type SpoolLogger, silentLogger } from './spool-logger.ts';
import { recordOf, type SpoolRecord, signedOf } from './spool-record.ts';

/** How a spool is opened. */
export interface SpoolOptions {
  /** put() refuses an object that would leave less than this many bytes free on the spool's disk. */
  minFreeBytes: number;
  /** reclaim() keeps at least this many bytes of acknowledged objects on disk. */
  retainAckedBytes: number;
  /** The clock for created and state times and for backlog ages; the system clock by default. */
  clock?: Clock;
  /** A pino-like logger; silent by default. */
  logger?: SpoolLogger;
}

/** The outcome of put(): the stored entry, and whether this call stored it (false: it was already there). */
export interface PutResult {
  created: boolean;
  record: SpoolRecord;
}

/** The outcome of a state change: the entry, and whether it changed (false: a repeated report). */
export interface TransitionResult {
  changed: boolean;
  record: SpoolRecord;
}

/** What is waiting for the ingest: every entry not acknowledged (rejected ones included). */
export interface Backlog {
  entries: number;
  /** Bytes of the distinct objects those entries name. */
  bytes: number;
  /** Age of the oldest of them by the injected clock; 0 when there is none. */
  oldestAgeMs: number;
}

/**
 * A spool folder: `objects/` (content addressed), `staging/` and `spool.db` (SQLite, WAL,
 * synchronous=FULL). One process opens a spool at a time; open() fails fast in a second one.
 */
export class Spool {
  /** What the clean-up at open found and did. */
  readonly recovered: RecoverySummary;
  readonly #layout: SpoolLayout;
  readonly #db: Database.Database;
  readonly #entries: EntryTable;
  readonly #recordings: RecordingTable;
  readonly #options: Required<SpoolOptions>;
  readonly #log: SpoolLogger;

  private constructor(layout: SpoolLayout, db: Database.Database, options: Required<SpoolOptions>) {
    this.#layout = layout;
    this.#db = db;
    this.#options = options;
    this.#log = options.logger.child({ component: 'spool' });
    this.#entries = new EntryTable(db);
    this.#recordings = new RecordingTable(db);
    this.recovered = this.recover();
  }

  /** Opens (creating if needed) the spool in `dir`, migrates its database and runs recover(). */
  static open(dir: string, options: SpoolOptions): Spool {
    const opts: Required<SpoolOptions> = { clock: systemClock, logger: silentLogger, ...options };
    const layout = spoolLayout(dir);
    let db: Database.Database | undefined;
    try {
      ensureLayout(layout);
      db = new Database(layout.db, { timeout: 0 });
      // one process per spool: a second one's recover() would delete the first one's staged files
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      // every commit reaches the disk before put() returns
      db.pragma('synchronous = FULL');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
      migrate(db, opts.clock.now());
      return new Spool(layout, db, opts);
    } catch (cause) {
      db?.close();
      if (cause instanceof GatewayError) throw cause;
      if ((cause as { code?: string }).code === 'SQLITE_BUSY') {
        throw new GatewayError(
          'GW_SPOOL_IO',
          `the spool at ${dir} is open in another process: stop that gateway before starting this one`,
          { cause },
        );
      }
      throw new GatewayError('GW_SPOOL_IO', `cannot open the spool at ${dir}: ${messageOf(cause)}`, {
        cause,
      });
    }
  }

  /** Where capture or a dock writes (or moves) a finished file before put(); `name` is a plain file name. */
  stagingPath(name: string): string {
    if (name === '' || name !== basename(name) || name === '.' || name === '..' || name.includes('\\')) {
      throw new GatewayError('GW_SPOOL_INVALID_INPUT', `"${name}" is not a plain file name for staging/`);
    }
    return join(this.#layout.staging, name);
  }

  /** The path of the object with this SHA-256 in objects/ (it may have been reclaimed). */
  objectPath(sha256: string): string {
    return objectFile(this.#layout, sha256);
  }

  /**
   * Seals an entry into the spool: syncs the staged object file, renames it into objects/ under its
   * hash (or drops it when that hash is already held), syncs the directory, and only then inserts the
   * entry. A crash at any point leaves no entry or a whole one; put() takes ownership of the file.
   * Idempotent on the entry hash. GW_SPOOL_FULL when storing the object would leave less than
   * minFreeBytes free (the staged file is left in place; nothing is evicted). Entries without an
   * object are always accepted, so a gap or close can still be written on a full disk.
   */
  async put(signed: SignedEntry, object?: StagedObject): Promise<PutResult> {
    const checked = checkPut(signed, object);
    const known = this.#known(checked);
    if (known) return known;
    if (checked.object) {
      ensureRoom(this.#layout.root, checked.object.size, this.#options.minFreeBytes);
      const size = await fsyncFile(checked.object.path);
      if (size !== checked.object.size) {
        throw new GatewayError(
          'GW_SPOOL_INVALID_INPUT',
          `${checked.object.path} holds ${size} bytes, its entry ${checked.signed.hash} says ${checked.object.size}`,
        );
      }
    }
    // from here on nothing awaits: the rest runs as one step of the event loop
    return this.#known(checked) ?? this.#commit(checked);
  }

  #known(checked: CheckedPut): PutResult | null {
    const { entry, signed } = checked;
    const row = this.#entries.get(signed.hash);
    if (row) {
      if (checked.object) removeQuietly(checked.object.path);
      return { created: false, record: recordOf(row) };
    }
    const other = this.#entries.hashAt(entry.recording, entry.track, entry.seq);
    if (other) {
      throw new GatewayError(
        'GW_SPOOL_INVALID_INPUT',
        `seq ${entry.seq} of ${entry.recording}/${entry.track} is already entry ${other}; ` +
          `refusing ${signed.hash}, which would fork the chain`,
      );
    }
    return null;
  }

  #commit(checked: CheckedPut): PutResult {
    const { entry, signed, object } = checked;
    if (object) moveIntoObjects(this.#layout, object, this.#log);
    const now = this.#options.clock.now();
    try {
      this.#entries.insert({
        hash: signed.hash,
        recording: entry.recording,
        track: entry.track,
        seq: entry.seq,
        kind: entry.kind,
        entry: checked.text,
        sig: signed.sig,
        object_sha256: object?.sha256 ?? null,
        object_size: object?.size ?? null,
        state: 'sealed',
        created_at: now,
        state_at: now,
      });
    } catch (cause) {
      // the renamed file is now garbage unless another entry holds it; recover() would remove it too
      if (object && !this.#entries.isHeld(object.sha256)) removeQuietly(this.objectPath(object.sha256));
      throw new GatewayError('GW_SPOOL_IO', `cannot record entry ${signed.hash}: ${messageOf(cause)}`, {
        cause,
      });
    }
    this.#log.info(
      { hash: signed.hash, kind: entry.kind, seq: entry.seq, track: entry.track },
      'entry spooled',
    );
    return { created: true, record: recordOf(this.#entries.get(signed.hash)!) };
  }

  /** The uplink has stored the object and is about to announce the entry: sealed → uploaded. */
  markUploaded(hash: string): TransitionResult {
    return this.#move(hash, 'uploaded');
  }

  /** The ingest acknowledged the entry by its hash: uploaded → acknowledged. Repeated acks are no-ops. */
  acknowledge(hash: string): TransitionResult {
    return this.#move(hash, 'acknowledged');
  }

  /** The ingest refused the entry: uploaded → rejected. The object stays on disk for a person to look at. */
  reject(hash: string, rejection: { code: string; reason: string }): TransitionResult {
    return this.#move(hash, 'rejected', rejection);
  }

  #move(hash: string, to: EntryState, rejection?: { code: string; reason: string }): TransitionResult {
    return this.#db
      .transaction(() => {
        const row = this.#entries.get(hash);
        if (!row) throw new GatewayError('GW_SPOOL_UNKNOWN_ENTRY', `the spool holds no entry ${hash}`);
        const changed = checkTransition(hash, row.state, to);
        if (changed) this.#entries.setState(hash, to, this.#options.clock.now(), rejection);
        return { changed, record: recordOf(changed ? this.#entries.get(hash)! : row) };
      })
      .immediate();
  }

  /** Up to `limit` sealed entries not yet uploaded, oldest first (spool order, not wall time). */
  pending(limit: number): SpoolRecord[] {
    return this.#entries.inState('sealed', limit).map(recordOf);
  }

  /** Up to `limit` uploaded entries the ingest has not answered, oldest first: republish these after a restart. */
  awaitingAck(limit: number): SpoolRecord[] {
    return this.#entries.inState('uploaded', limit).map(recordOf);
  }

  /** Up to `limit` entries the ingest rejected, oldest first. */
  rejected(limit: number): SpoolRecord[] {
    return this.#entries.inState('rejected', limit).map(recordOf);
  }

  /** Counts, bytes and age of everything not acknowledged. */
  backlog(): Backlog {
    const b = this.#entries.backlog();
    const oldestAgeMs =
      b.oldestCreatedAt === null ? 0 : Math.max(0, this.#options.clock.now() - b.oldestCreatedAt);
    return { entries: b.entries, bytes: b.bytes, oldestAgeMs };
  }

  /** The entry with this hash, or null. */
  get(hash: string): SpoolRecord | null {
    const row = this.#entries.get(hash);
    return row ? recordOf(row) : null;
  }

  /** A track's entries in seq order: give them to TrackChain.stateOf to continue the chain. */
  chain(recording: string, track: string): SignedEntry[] {
    return this.#entries.chain(recording, track).map(signedOf);
  }

  /** The (recording, track) pairs whose chain has no close entry yet, in the order they opened. */
  openChains(): ChainRef[] {
    return this.#entries.openChains();
  }

  /** Records the running recording (idempotent for the same id; GW_RECORDING_ACTIVE if another runs). */
  beginRecording(recording: Omit<SpoolRecording, 'endedAt'>): SpoolRecording {
    return this.#recordings.begin(recording);
  }

  /** The running recording, for resuming after a restart; null when none runs. */
  activeRecording(): SpoolRecording | null {
    return this.#recordings.active();
  }

  /** Records that a recording ended (idempotent; GW_RECORDING_NONE for an unknown id). */
  endRecording(id: string, endedAt: string): SpoolRecording {
    return this.#recordings.end(id, endedAt);
  }

  /** Deletes acknowledged objects, oldest first, down to retainAckedBytes; never unacknowledged evidence. */
  reclaim(): ReclaimResult {
    return reclaim(
      this.#layout,
      this.#entries,
      this.#options.retainAckedBytes,
      this.#options.clock.now(),
      this.#log,
    );
  }

  /** Removes staged files and object files no entry holds; reports held objects that are missing. */
  recover(): RecoverySummary {
    return recover(this.#layout, this.#entries, this.#log);
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

export type { SpooledObject } from './spool-record.ts';
/** The types a caller of the spool meets, from one import. */
export type {
  ChainRef,
  EntryState,
  ReclaimResult,
  RecoverySummary,
  SpoolLogger,
  SpoolRecord,
  SpoolRecording,
  StagedObject,
};
