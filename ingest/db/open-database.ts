/** @module Opens the ingest database: PGlite behind pglite-socket, or PostgreSQL, both as one `pg.Pool`. */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { z } from 'zod';
import { IngestError } from '../errors.ts';

/** A PostgreSQL schema name we create and put first on the search path. */
const SchemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a schema name is 1–63 of a-z, 0-9 and "_", not starting with a digit');

/** Where the ingest keeps its index: an embedded PGlite folder, or a PostgreSQL server. */
export const DatabaseConfig = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('pglite').describe('embedded PostgreSQL (PGlite), persisted in a folder'),
      dataDir: z
        .string()
        .min(1)
        .describe('folder of the embedded database: pgdata/ holds the files, beside its unix socket'),
    }),
    z.strictObject({
      kind: z.literal('postgres').describe('a PostgreSQL server'),
      url: z.string().min(1).describe('connection URL, e.g. postgres://ingest@db.example:5432/quanlu'),
      schema: SchemaName.optional().describe(
        'schema to create and use instead of the default search path (tests isolate runs with it)',
      ),
      maxConnections: z.number().int().min(1).max(100).default(10).describe('pool size'),
    }),
  ])
  .describe('the ingest database');
/** The parsed database config. */
export type DatabaseConfig = z.infer<typeof DatabaseConfig>;
/** The database config as written, before defaults. */
export type DatabaseConfigInput = z.input<typeof DatabaseConfig>;

/** An open database: one pool, whichever backend serves it. */
export interface Database {
  /** The pool every query goes through. On PGlite it holds one connection: never nest `connect()`. */
  readonly pool: pg.Pool;
  readonly kind: DatabaseConfig['kind'];
  /** Ends the pool, then stops the embedded server and database if there is one. */
  close(): Promise<void>;
}

/** What openDatabase may be given besides the config. */
export interface OpenDatabaseOptions {
  /**
   * Called when an idle pooled connection fails (server restart, socket closed). The pool has
   * already dropped that connection and the next query opens a new one or fails with INGEST_DB;
   * without a listener node-postgres would crash the process on this event.
   */
  onIdleError?: (err: Error) => void;
}

// pg derives the socket file from host (a folder) and port: `${host}/.s.PGSQL.${port}`.
const SOCKET_PORT = 5432;
const SOCKET_FILE = `.s.PGSQL.${SOCKET_PORT}`;
// sun_path holds 108 bytes on Linux, 104 on macOS, terminator included.
const MAX_SOCKET_PATH = 103;

/** Opens the database of the config. Migrations are separate: see `migrate()`. */
export async function openDatabase(
  config: DatabaseConfigInput,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const parsed = DatabaseConfig.parse(config);
  const db = parsed.kind === 'pglite' ? await openPglite(parsed.dataDir) : await openPostgres(parsed);
  db.pool.on('error', options.onIdleError ?? (() => {}));
  return db;
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = resolve(dataDir);
  const socketPath = join(dir, SOCKET_FILE);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new IngestError(
      'INGEST_DB',
      `the PGlite folder ${dir} is too deep for a unix socket (${socketPath} exceeds ${MAX_SOCKET_PATH} bytes): choose a shorter path`,
    );
  }
  // The socket has no password: the folder's mode is what keeps other local users out.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let pglite: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    // Loaded here only: a PostgreSQL ingest, and an export or verify against one, never loads PGlite.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    pglite = await PGlite.create(join(dir, 'pgdata'));
    // A socket file left by a crash would make listen() fail with EADDRINUSE.
    await rm(socketPath, { force: true });
    // pglite-socket serves one PGlite session: one connection at a time is the safe use. The pool
    // below holds one; the server accepts one more only because a connection's slot is freed a tick
    // after its socket closes, and a pool reconnecting at once would otherwise be refused with a
    // bare "Too many connections" that pg reports as EPIPE.
    server = new PGLiteSocketServer({ db: pglite, path: socketPath, maxConnections: 2 });
    await server.start();
  } catch (err) {
    await server?.stop().catch(() => {});
    await pglite?.close().catch(() => {});
    throw new IngestError('INGEST_DB', `could not open the PGlite database in ${dir}: ${message(err)}`, {
      cause: err,
    });
  }
  const pool = new pg.Pool({
    host: dir,
    port: SOCKET_PORT,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    // Keep the one connection: reconnecting costs a session start-up in PGlite for nothing.
    idleTimeoutMillis: 0,
  });
  const running = { pglite, server };
  return {
    pool,
    kind: 'pglite',
    async close() {
      await pool.end();
      await running.server.stop();
      await running.pglite.close();
    },
  };
}

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<Database> {
  const schema = config.schema;
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections,
    // A startup parameter, so every connection of the pool gets it before its first query.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  if (schema) {
    try {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    } catch (err) {
      // Two nodes creating the schema at once: the loser gets a unique violation, which is fine.
      if (!isCode(err, '23505') && !isCode(err, '42P06')) {
        await pool.end().catch(() => {});
        throw new IngestError('INGEST_DB', `could not create schema ${schema}: ${message(err)}`, {
          cause: err,
        });
      }
    }
  } else {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      throw new IngestError('INGEST_DB', `could not connect to PostgreSQL: ${message(err)}`, { cause: err });
    }
  }
  return {
    pool,
    kind: 'postgres',
    async close() {
      await pool.end();
    },
  };
}

/** True when a database error carries this SQLSTATE. */
export function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
