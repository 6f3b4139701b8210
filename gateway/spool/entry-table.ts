/** @module The entries and chains tables: every statement the spool runs on entries, each on an index. */
import type { Database, Statement } from 'better-sqlite3';
import type { EntryState } from './entry-state.ts';
import type { EntryRow, SpooledObject } from './spool-record.ts';

/** A new row, before the spool order is assigned. */
export type NewEntryRow = Omit<EntryRow, 'created_seq' | 'reclaimed_at' | 'reject_code' | 'reject_reason'>;

/** A (recording, track) pair. */
export interface ChainRef {
  recording: string;
  track: string;
}

/** An object file whose every entry is acknowledged, and when it was last referenced. */
export interface ReclaimCandidate extends SpooledObject {
  lastOrder: number;
}

/** Everything not yet acknowledged. */
export interface BacklogRow {
  entries: number;
  bytes: number;
  oldestCreatedAt: number | null;
}

/** Typed access to the entries and chains tables of one open database. */
export class EntryTable {
  readonly #db: Database;
  readonly #insert: Statement<[NewEntryRow]>;
  readonly #openChain: Statement<[{ recording: string; track: string }]>;
  readonly #closeChain: Statement<[string, string]>;
  readonly #get: Statement<[string], EntryRow>;
  readonly #atSeq: Statement<[string, string, number], { hash: string }>;
  readonly #byState: Statement<[EntryState, number], EntryRow>;
  readonly #chain: Statement<[string, string], EntryRow>;
  readonly #openChains: Statement<[], ChainRef>;
  readonly #setState: Statement<[EntryState, number, string | null, string | null, string]>;
  readonly #backlog: Statement<[], { entries: number; oldest: number | null }>;
  readonly #backlogBytes: Statement<[], { bytes: number }>;
  readonly #held: Statement<[string], { n: number }>;
  readonly #unacknowledged: Statement<[string], { n: number }>;
  readonly #reclaimable: Statement<[], ReclaimCandidate>;
  readonly #markReclaimed: Statement<[number, string]>;
  readonly #heldObjects: Statement<[], SpooledObject>;

  constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(`
      INSERT INTO entries (hash, created_seq, recording, track, seq, kind, entry, sig,
                           object_sha256, object_size, state, created_at, state_at)
      VALUES (@hash, COALESCE((SELECT MAX(created_seq) FROM entries), 0) + 1, @recording, @track, @seq,
              @kind, @entry, @sig, @object_sha256, @object_size, @state, @created_at, @state_at)`);
    this.#openChain = db.prepare(`
      INSERT INTO chains (recording, track, first_created_seq)
      VALUES (@recording, @track, (SELECT MAX(created_seq) FROM entries))
      ON CONFLICT (recording, track) DO NOTHING`);
    this.#closeChain = db.prepare('UPDATE chains SET closed = 1 WHERE recording = ? AND track = ?');
    this.#get = db.prepare('SELECT * FROM entries WHERE hash = ?');
    this.#atSeq = db.prepare('SELECT hash FROM entries WHERE recording = ? AND track = ? AND seq = ?');
    this.#byState = db.prepare('SELECT * FROM entries WHERE state = ? ORDER BY created_seq LIMIT ?');
    this.#chain = db.prepare('SELECT * FROM entries WHERE recording = ? AND track = ? ORDER BY seq');
    this.#openChains = db.prepare(
      'SELECT recording, track FROM chains WHERE closed = 0 ORDER BY first_created_seq',
    );
    this.#setState = db.prepare(
      'UPDATE entries SET state = ?, state_at = ?, reject_code = ?, reject_reason = ? WHERE hash = ?',
    );
    this.#backlog = db.prepare(`
      SELECT COUNT(*) AS entries, MIN(created_at) AS oldest FROM entries
      WHERE state IN ('sealed', 'uploaded', 'rejected')`);
    // an object shared by several pending entries is held (and uploaded) once
    this.#backlogBytes = db.prepare(`
      SELECT COALESCE(SUM(size), 0) AS bytes FROM (
        SELECT MAX(object_size) AS size FROM entries
        WHERE state IN ('sealed', 'uploaded', 'rejected') AND object_sha256 IS NOT NULL
        GROUP BY object_sha256)`);
    this.#held = db.prepare(`
      SELECT COUNT(*) AS n FROM entries
      WHERE object_sha256 = ? AND object_sha256 IS NOT NULL AND reclaimed_at IS NULL`);
    this.#unacknowledged = db.prepare(`
      SELECT COUNT(*) AS n FROM entries
      WHERE object_sha256 = ? AND object_sha256 IS NOT NULL AND state != 'acknowledged'`);
    this.#reclaimable = db.prepare(`
      SELECT a.object_sha256 AS sha256, MAX(a.object_size) AS size, MAX(a.created_seq) AS lastOrder
      -- the partial index holds only acknowledged objects still on disk, not all of history
      FROM entries a INDEXED BY entries_reclaimable
      WHERE a.state = 'acknowledged' AND a.object_sha256 IS NOT NULL AND a.reclaimed_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM entries b WHERE b.object_sha256 = a.object_sha256
                        AND b.object_sha256 IS NOT NULL AND b.state != 'acknowledged')
      GROUP BY a.object_sha256
      ORDER BY lastOrder`);
    this.#markReclaimed = db.prepare(`
      UPDATE entries SET reclaimed_at = ?
      WHERE object_sha256 = ? AND object_sha256 IS NOT NULL AND reclaimed_at IS NULL`);
    this.#heldObjects = db.prepare(`
      SELECT object_sha256 AS sha256, MAX(object_size) AS size FROM entries
      WHERE object_sha256 IS NOT NULL AND reclaimed_at IS NULL
      GROUP BY object_sha256`);
  }

  /** Inserts an entry and keeps the chains table in step, in one transaction. */
  insert(row: NewEntryRow): void {
    this.#db
      .transaction(() => {
        this.#insert.run(row);
        this.#openChain.run({ recording: row.recording, track: row.track });
        if (row.kind === 'close') this.#closeChain.run(row.recording, row.track);
      })
      .immediate();
  }

  /** The row of an entry hash. */
  get(hash: string): EntryRow | undefined {
    return this.#get.get(hash);
  }

  /** The hash of the entry holding this place in a chain, if any. */
  hashAt(recording: string, track: string, seq: number): string | undefined {
    return this.#atSeq.get(recording, track, seq)?.hash;
  }

  /** Up to `limit` entries in a state, in spool order. */
  inState(state: EntryState, limit: number): EntryRow[] {
    return this.#byState.all(state, limit);
  }

  /** A chain's entries in seq order. */
  chain(recording: string, track: string): EntryRow[] {
    return this.#chain.all(recording, track);
  }

  /** Chains with no close entry, in the order they were opened. */
  openChains(): ChainRef[] {
    return this.#openChains.all();
  }

  /** Records a state change. */
  setState(hash: string, state: EntryState, at: number, rejection?: { code: string; reason: string }): void {
    this.#setState.run(state, at, rejection?.code ?? null, rejection?.reason ?? null, hash);
  }

  /** Counts, distinct object bytes and the oldest spool time of every unacknowledged entry. */
  backlog(): BacklogRow {
    const { entries, oldest } = this.#backlog.get()!;
    return { entries, bytes: this.#backlogBytes.get()!.bytes, oldestCreatedAt: oldest };
  }

  /** True when some entry still expects this object file on disk. */
  isHeld(sha256: string): boolean {
    return this.#held.get(sha256)!.n > 0;
  }

  /** True when some entry naming this object is not acknowledged. */
  isUnacknowledged(sha256: string): boolean {
    return this.#unacknowledged.get(sha256)!.n > 0;
  }

  /** Object files every one of whose entries is acknowledged, least recently referenced first. */
  reclaimable(): ReclaimCandidate[] {
    return this.#reclaimable.all();
  }

  /** Marks every entry of an object as reclaimed; refuses (returns false) if one is unacknowledged. */
  markReclaimed(sha256: string, at: number): boolean {
    return this.#db
      .transaction(() => {
        if (this.isUnacknowledged(sha256)) return false;
        this.#markReclaimed.run(at, sha256);
        return true;
      })
      .immediate();
  }

  /** Every object some entry expects on disk. */
  heldObjects(): SpooledObject[] {
    return this.#heldObjects.all();
  }
}
