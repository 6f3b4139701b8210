/** @module Test helper: the database backends every shared suite runs against (PGlite in a temp folder, PostgreSQL in a fresh schema). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';
import { type Database, openDatabase } from '../../ingest/db/open-database.ts';

/** A fresh database for one test, and a way to reach the same data through a second pool. */
export interface TestDatabase {
  db: Database;
  /**
   * Another Database over the same data, as a second ingest node would have. On PostgreSQL a second
   * pool in the same schema; on PGlite the same Database (one process owns a PGlite folder).
   */
  peer(): Promise<Database>;
}

/** One backend: opens a fresh, empty database, closed and removed when the test ends. */
export interface DatabaseBackend {
  name: 'pglite' | 'postgres';
  open(t: Test): Promise<TestDatabase>;
}

/** URLs tried in turn for the PostgreSQL running on this machine (trust auth, database `test`). */
const POSTGRES_URLS = process.env.QUANLU_TEST_POSTGRES_URL
  ? [process.env.QUANLU_TEST_POSTGRES_URL]
  : ['postgres://root@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/test'];

let reachable: Promise<string> | undefined;

/** The first URL PostgreSQL accepts; fails (never skips) when none does, since CI starts PostgreSQL. */
export function postgresUrl(): Promise<string> {
  reachable ??= (async () => {
    const problems: string[] = [];
    for (const url of POSTGRES_URLS) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        await client.end();
        return url;
      } catch (err) {
        problems.push(`${url}: ${(err as Error).message}`);
        await client.end().catch(() => {});
      }
    }
    throw new Error(
      `PostgreSQL is not reachable, and the database tests need it (start it, or set QUANLU_TEST_POSTGRES_URL):\n  ${problems.join('\n  ')}`,
    );
  })();
  return reachable;
}

let schemas = 0;

const pglite: DatabaseBackend = {
  name: 'pglite',
  async open(t) {
    const dir = await mkdtemp(join(tmpdir(), 'quanlu-db-'));
    const db = await openDatabase({ kind: 'pglite', dataDir: dir });
    t.teardown(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { db, peer: async () => db };
  },
};

const postgres: DatabaseBackend = {
  name: 'postgres',
  async open(t) {
    const url = await postgresUrl();
    const schema = `quanlu_test_${process.pid}_${++schemas}_${Math.random().toString(36).slice(2, 8)}`;
    const opened: Database[] = [];
    const open = async () => {
      const db = await openDatabase({ kind: 'postgres', url, schema });
      opened.push(db);
      return db;
    };
    const db = await open();
    t.teardown(async () => {
      for (const d of opened) await d.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      } finally {
        await admin.end();
      }
    });
    return { db, peer: open };
  },
};

/** Every backend, in the order suites run them. */
export const DATABASE_BACKENDS: readonly DatabaseBackend[] = [pglite, postgres];

/** Runs `fn` as one subtest per backend: the shared-suite habit (STYLE habit 10). */
export function withDatabases(t: Test, fn: (t: Test, backend: DatabaseBackend) => Promise<void>): void {
  for (const backend of DATABASE_BACKENDS) t.test(backend.name, (t) => fn(t, backend));
}
