/** @module The spool database schema and its migrations, applied in order at open. */
import type { Database } from 'better-sqlite3';
import { GatewayError } from '../errors.ts';

/** One schema step; `version` is applied once, in its own transaction. */
interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE entries (
        hash TEXT PRIMARY KEY NOT NULL,
        -- the order entries were spooled in: monotonic, never reused (rows are never deleted)
        created_seq INTEGER NOT NULL UNIQUE,
        recording TEXT NOT NULL,
        track TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('open', 'segment', 'gap', 'close')),
        -- the RFC 8785 canonical text of the entry: exactly the bytes its hash is over
        entry TEXT NOT NULL,
        sig TEXT NOT NULL,
        object_sha256 TEXT,
        object_size INTEGER,
        state TEXT NOT NULL CHECK (state IN ('sealed', 'uploaded', 'acknowledged', 'rejected')),
        reject_code TEXT,
        reject_reason TEXT,
        created_at INTEGER NOT NULL,
        state_at INTEGER NOT NULL,
        -- set when reclaim removed the object file (acknowledged entries only)
        reclaimed_at INTEGER,
        CHECK ((object_sha256 IS NULL) = (object_size IS NULL))
      );
      CREATE INDEX entries_by_state ON entries (state, created_seq);
      CREATE UNIQUE INDEX entries_by_chain ON entries (recording, track, seq);
      CREATE INDEX entries_by_object ON entries (object_sha256) WHERE object_sha256 IS NOT NULL;
      CREATE INDEX entries_reclaimable ON entries (created_seq)
        WHERE state = 'acknowledged' AND object_sha256 IS NOT NULL AND reclaimed_at IS NULL;
      CREATE INDEX entries_held ON entries (object_sha256)
        WHERE object_sha256 IS NOT NULL AND reclaimed_at IS NULL;

      CREATE TABLE chains (
        recording TEXT NOT NULL,
        track TEXT NOT NULL,
        first_created_seq INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (recording, track)
      );
      CREATE INDEX chains_open ON chains (first_created_seq) WHERE closed = 0;

      CREATE TABLE recordings (
        id TEXT PRIMARY KEY NOT NULL,
        case_json TEXT NOT NULL,
        room TEXT NOT NULL,
        started_by TEXT NOT NULL,
        started_at TEXT NOT NULL,
        tracks_json TEXT NOT NULL,
        ended_at TEXT
      );
      -- at most one recording runs at a time
      CREATE UNIQUE INDEX recordings_active ON recordings ((ended_at IS NULL)) WHERE ended_at IS NULL;
    `,
  },
  {
    // docks (issue 7): the file and disposition entry kinds [EVIDENCE §4.8–§4.9]. SQLite cannot alter a
    // CHECK constraint, so the table is rebuilt with the same columns, in the same order, and its indexes.
    version: 2,
    sql: `
      CREATE TABLE entries_v2 (
        hash TEXT PRIMARY KEY NOT NULL,
        created_seq INTEGER NOT NULL UNIQUE,
        recording TEXT NOT NULL,
        track TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('open', 'segment', 'gap', 'close', 'file', 'disposition')),
        entry TEXT NOT NULL,
        sig TEXT NOT NULL,
        object_sha256 TEXT,
        object_size INTEGER,
        state TEXT NOT NULL CHECK (state IN ('sealed', 'uploaded', 'acknowledged', 'rejected')),
        reject_code TEXT,
        reject_reason TEXT,
        created_at INTEGER NOT NULL,
        state_at INTEGER NOT NULL,
        reclaimed_at INTEGER,
        CHECK ((object_sha256 IS NULL) = (object_size IS NULL))
      );
      INSERT INTO entries_v2 SELECT * FROM entries;
      DROP TABLE entries;
      ALTER TABLE entries_v2 RENAME TO entries;
      CREATE INDEX entries_by_state ON entries (state, created_seq);
      CREATE UNIQUE INDEX entries_by_chain ON entries (recording, track, seq);
      CREATE INDEX entries_by_object ON entries (object_sha256) WHERE object_sha256 IS NOT NULL;
      CREATE INDEX entries_reclaimable ON entries (created_seq)
        WHERE state = 'acknowledged' AND object_sha256 IS NOT NULL AND reclaimed_at IS NULL;
      CREATE INDEX entries_held ON entries (object_sha256)
        WHERE object_sha256 IS NOT NULL AND reclaimed_at IS NULL;
    `,
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Brings the database to SCHEMA_VERSION; refuses a database written by a newer version. */
export function migrate(db: Database, now: number): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new GatewayError(
      'GW_SPOOL_IO',
      `spool.db has schema version ${current}, newer than this gateway knows (${SCHEMA_VERSION}): ` +
        'run the newer gateway or move the spool aside',
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, now);
    }).immediate();
  }
}
