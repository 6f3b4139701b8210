import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { IngestError } from '../../ingest/errors.ts';
import { postgresUrl } from '../helpers/databases.ts';

t.test(
  'pglite: data survives a reopen, a stale socket file is replaced, a dropped connection is replaced',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'quanlu-db-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const first = await openDatabase({ kind: 'pglite', dataDir: dir });
    const { version } = await migrate(first);
    await first.pool.query("INSERT INTO officers (number, name) VALUES ('31010001', '张三')");
    await first.close();
    // As if the process had been killed: the socket file is left behind.
    await writeFile(join(dir, '.s.PGSQL.5432'), '');
    const again = await openDatabase({ kind: 'pglite', dataDir: dir });
    t.teardown(() => again.close());
    t.same(await migrate(again), { applied: [], version }, 'the schema is already there');
    const officers = await again.pool.query('SELECT number, name FROM officers');
    t.same(officers.rows, [{ number: '31010001', name: '张三' }], 'the row is there');

    // The pool's one connection dies; the next query opens a new one at once.
    const client = await again.pool.connect();
    client.release(new Error('dropped by the test'));
    const one = await again.pool.query('SELECT 1 AS one');
    t.same(one.rows, [{ one: 1 }]);
  },
);

t.test('pglite: a folder too deep for a unix socket is refused with a clear message', async (t) => {
  const err = await openDatabase({ kind: 'pglite', dataDir: `/tmp/${'d'.repeat(120)}` }).catch(
    (e: unknown) => e,
  );
  t.ok(err instanceof IngestError);
  t.equal((err as IngestError).code, 'INGEST_DB');
  t.match((err as IngestError).message, /too deep for a unix socket/);
});

t.test(
  'postgres: an unreachable server is INGEST_DB; a bad schema name is refused by the config',
  async (t) => {
    const err = await openDatabase({ kind: 'postgres', url: 'postgres://root@127.0.0.1:1/test' }).catch(
      (e: unknown) => e,
    );
    t.ok(err instanceof IngestError);
    t.equal((err as IngestError).code, 'INGEST_DB');
    const url = await postgresUrl();
    await t.rejects(
      openDatabase({ kind: 'postgres', url, schema: 'Robert"); DROP TABLE x;--' }),
      /schema name/,
    );
  },
);
