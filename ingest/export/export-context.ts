/**
 * @module Opens what an export needs straight from the ingest's configuration (database, object store,
 * log key), so `quanlu export` runs without a server. With the embedded PGlite database the ingest must
 * be stopped first: one process owns a PGlite folder.
 */
import { join } from 'node:path';
import { openStore } from '../../store/open-store.ts';
import type { IngestConfig } from '../config.ts';
import { migrate } from '../db/migrations.ts';
import { openDatabase } from '../db/open-database.ts';
import { createRepository } from '../db/repository.ts';
import { loadOrCreateLogKey } from '../log/log-key.ts';
import { TransparencyLog } from '../log/transparency-log.ts';
import type { ExportDeps } from './export-case.ts';

/** Export collaborators opened from a configuration, and how to close them. */
export async function openExportContext(
  config: IngestConfig,
): Promise<ExportDeps & { close(): Promise<void> }> {
  const db = await openDatabase(config.database ?? { kind: 'pglite', dataDir: join(config.dataDir, 'db') });
  try {
    await migrate(db);
    const logKey = loadOrCreateLogKey(config.dataDir).keyPair;
    return {
      db,
      repo: createRepository(db),
      store: openStore(config.store ?? { kind: 'fs', root: join(config.dataDir, 'objects') }),
      log: new TransparencyLog({ db, keyPair: logKey }),
      logKey,
      node: config.node,
      close: () => db.close(),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
