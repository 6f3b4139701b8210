/** @module The dock's own durable state (SQLite beside the spool): each device's open chain and every file sealed from it. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A device chain the dock opened. */
export interface ChainRow {
  recording: string;
  serial: string;
  track: string;
  officer: string | null;
  opened_at: number;
  closed: number;
}

/** A file sealed from a device; its identity on the device is (serial, name, size, mtime_ms). */
export interface FileRow {
  serial: string;
  name: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  entry_hash: string;
  recording: string;
  state: 'sealed' | 'disposed';
  disposition_hash: string | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS chains (
    recording TEXT PRIMARY KEY NOT NULL,
    serial TEXT NOT NULL,
    track TEXT NOT NULL,
    officer TEXT,
    opened_at INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0
  );
  -- one open chain per device at a time
  CREATE UNIQUE INDEX IF NOT EXISTS chains_open ON chains (serial) WHERE closed = 0;
  CREATE TABLE IF NOT EXISTS files (
    serial TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    entry_hash TEXT NOT NULL UNIQUE,
    recording TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sealed', 'disposed')),
    disposition_hash TEXT,
    PRIMARY KEY (serial, name, size, mtime_ms)
  );
  CREATE INDEX IF NOT EXISTS files_by_chain ON files (recording);
  CREATE INDEX IF NOT EXISTS files_by_object ON files (sha256);
`;

/** The dock database of one gateway. */
export class DockState {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Opens (creating) `dir/dock.db`: WAL, every commit synced before it returns. */
  static open(dir: string): DockState {
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, 'dock.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    return new DockState(db);
  }

  /** The device's open chain, if any. */
  openChain(serial: string): ChainRow | undefined {
    return this.#db.prepare('SELECT * FROM chains WHERE serial = ? AND closed = 0').get(serial) as
      | ChainRow
      | undefined;
  }

  /** Records a new open chain (before its open entry is spooled, so a crash resumes the same chain). */
  beginChain(row: Omit<ChainRow, 'closed'>): void {
    this.#db
      .prepare(
        'INSERT INTO chains (recording, serial, track, officer, opened_at) VALUES (@recording, @serial, @track, @officer, @opened_at)',
      )
      .run(row);
  }

  /** Marks a chain closed (after its close entry is spooled). */
  closeChain(recording: string): void {
    this.#db.prepare('UPDATE chains SET closed = 1 WHERE recording = ?').run(recording);
  }

  /** The sealed file with this identity on this device, if any. */
  file(serial: string, name: string, size: number, mtimeMs: number): FileRow | undefined {
    return this.#db
      .prepare('SELECT * FROM files WHERE serial = ? AND name = ? AND size = ? AND mtime_ms = ?')
      .get(serial, name, size, mtimeMs) as FileRow | undefined;
  }

  /** Records a sealed file (idempotent on its entry hash). */
  addFile(row: Omit<FileRow, 'state' | 'disposition_hash'>): void {
    this.#db
      .prepare(
        `INSERT INTO files (serial, name, size, mtime_ms, sha256, entry_hash, recording, state)
         VALUES (@serial, @name, @size, @mtime_ms, @sha256, @entry_hash, @recording, 'sealed')
         ON CONFLICT DO NOTHING`,
      )
      .run(row);
  }

  /** The files sealed into a chain, in name order. */
  chainFiles(recording: string): FileRow[] {
    return this.#db
      .prepare('SELECT * FROM files WHERE recording = ? ORDER BY name')
      .all(recording) as FileRow[];
  }

  /** Records that a file's disposition entry is spooled. */
  markDisposed(entryHash: string, dispositionHash: string): void {
    this.#db
      .prepare("UPDATE files SET state = 'disposed', disposition_hash = ? WHERE entry_hash = ?")
      .run(dispositionHash, entryHash);
  }

  /** True when some file already sealed has these bytes. */
  hasObject(sha256: string): boolean {
    return this.#db.prepare('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1').get(sha256) !== undefined;
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
