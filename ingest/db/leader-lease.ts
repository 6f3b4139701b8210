/**
 * @module A lease that lets one ingest node at a time run a background job (the fixity sweep) against a
 * shared PostgreSQL: a session-level advisory lock held on a connection of its own. PostgreSQL frees it
 * when the holder releases it or its session ends (a killed node included), so another node takes over.
 */
import type pg from 'pg';
import type { Database } from './open-database.ts';

/** A held lease; `release()` gives it up (and returns its connection). */
export interface Lease {
  release(): Promise<void>;
}

/**
 * Takes the lease `name` if no other node holds it, else resolves null. On PGlite (one process, one
 * connection) there is nobody to share with and holding its only connection would stall every query,
 * so the lease is always granted without a lock. `onLost` hears of a connection lost while the lease is held
 * (the lock went with it: another node may take over).
 */
export async function tryLease(
  db: Database,
  name: string,
  onLost?: (err: Error) => void,
): Promise<Lease | null> {
  if (db.kind !== 'postgres') return { release: async () => {} };
  const client: pg.PoolClient = await db.pool.connect();
  // Keyed by schema, so deployments (and test runs) in different schemas never contend.
  const key = `hashtextextended('quanlu/lease/${name.replace(/[^a-z0-9-]/g, '')}/' || current_schema(), 0)`;
  let held = false;
  try {
    const res = await client.query(`SELECT pg_try_advisory_lock(${key}) AS held`);
    held = res.rows[0]?.held === true;
  } catch (err) {
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  if (!held) {
    client.release();
    return null;
  }
  // The connection may die under the lease (a database restart, a terminated backend): the lock is gone
  // with it. Without a listener a checked-out client's error would crash the process.
  let lost = false;
  const onError = (err: Error) => {
    if (lost) return;
    lost = true;
    onLost?.(err);
    client.release(err);
  };
  client.on('error', onError);
  return {
    async release() {
      if (lost) return;
      lost = true;
      // The pooled client outlives the lease: leave no listener on it.
      client.off('error', onError);
      try {
        await client.query(`SELECT pg_advisory_unlock(${key})`);
        client.release();
      } catch (err) {
        // A connection whose lock state is unknown is discarded; closing it frees the lock anyway.
        client.release(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}
