/** @module Versioned schema migrations, applied once under an advisory lock however many nodes start together. */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import { IngestError } from '../errors.ts';
import type { Database } from './open-database.ts';

/** One migration: `migrations/NNN-name.sql`, applied in version order, each in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 of the SQL, recorded when applied, so an edited migration is noticed. */
  checksum: string;
}

/** What a migration run did. */
export interface MigrationReport {
  /** Names of the migrations this run applied, in order; empty when the schema was current. */
  applied: string[];
  /** The schema version after the run. */
  version: number;
}

const FOLDER = new URL('./migrations/', import.meta.url);
const FILE = /^(\d{3})-([a-z0-9-]+)\.sql$/;

/** The migrations shipped with this code, in version order. */
export async function loadMigrations(): Promise<Migration[]> {
  const names = (await readdir(FOLDER)).filter((n) => FILE.test(n)).sort();
  const migrations: Migration[] = [];
  for (const file of names) {
    const [, version, name] = FILE.exec(file)!;
    const sql = await readFile(new URL(file, FOLDER), 'utf8');
    migrations.push({
      version: Number(version),
      name: `${version}-${name}`,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new IngestError('INGEST_MIGRATION', `migration ${m.name} is out of sequence`);
  });
  return migrations;
}

/**
 * Brings the schema up to date. Every node may call it at start-up: the first to take the lock
 * applies what is missing, the others wait and then find nothing to do.
 */
export async function migrate(db: Database, migrations?: Migration[]): Promise<MigrationReport> {
  const wanted = migrations ?? (await loadMigrations());
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw new IngestError('INGEST_MIGRATION', `cannot migrate: no database connection: ${message(err)}`, {
      cause: err,
    });
  }
  let broken: Error | undefined;
  try {
    // Keyed by schema, so runs isolated in different schemas do not wait for each other.
    await client.query(
      "SELECT pg_advisory_lock(hashtextextended('quanlu/migrations/' || current_schema(), 0))",
    );
    try {
      return await applyMissing(client, wanted);
    } finally {
      await client.query(
        "SELECT pg_advisory_unlock(hashtextextended('quanlu/migrations/' || current_schema(), 0))",
      );
    }
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    if (err instanceof IngestError) throw err;
    throw new IngestError('INGEST_MIGRATION', `migration failed: ${message(err)}`, { cause: err });
  } finally {
    // A connection whose state is unknown (lock held, transaction open) is discarded, not reused.
    client.release(broken);
  }
}

async function applyMissing(client: pg.PoolClient, wanted: Migration[]): Promise<MigrationReport> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const done = await client.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const applied = new Map(done.rows.map((r) => [r.version, r]));
  for (const m of wanted) {
    const row = applied.get(m.version);
    if (row && row.checksum !== m.checksum) {
      throw new IngestError(
        'INGEST_MIGRATION',
        `migration ${m.name} was applied as ${row.name} with different SQL (checksum ${row.checksum.slice(0, 12)}…): migrations are never edited once shipped, add a new one`,
      );
    }
  }
  const report: MigrationReport = { applied: [], version: Math.max(0, ...applied.keys()) };
  for (const m of wanted) {
    if (applied.has(m.version)) continue;
    try {
      await client.query('BEGIN');
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw new IngestError('INGEST_MIGRATION', `migration ${m.name} failed: ${message(err)}`, {
        cause: err,
      });
    }
    report.applied.push(m.name);
    report.version = Math.max(report.version, m.version);
  }
  return report;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
