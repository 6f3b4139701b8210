/** @module `quanlu ingest users ...` on a real (PGlite) ingest database: add with a generated password, list, token, disable. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { buildProgram } from '../../cli/main.ts';
import { Auth } from '../../ingest/auth/auth.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { tmp } from '../helpers/recording.ts';

/** Runs the program in-process and returns what it printed. */
async function quanlu(...args: string[]): Promise<string> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram().parseAsync(['node', 'quanlu', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out.join('');
}

t.test(
  'users add prints a generated password once; list, token and disable act on the same database',
  async (t) => {
    const dir = tmp(t, 'quanlu-cli-users-');
    const config = join(dir, 'ingest.json');
    await writeFile(
      config,
      JSON.stringify({ dataDir: dir, database: { kind: 'pglite', dataDir: join(dir, 'db') } }),
    );

    const added = await quanlu('ingest', 'users', 'add', 'chief', '--role', 'admin', '-c', config);
    const password = /password: (\S+)/.exec(added)?.[1];
    t.match(added, /^added admin chief\n/);
    t.match(password, /^[A-Za-z0-9]{20}$/, 'a generated password is printed');
    const op = await quanlu(
      'ingest',
      'users',
      'add',
      'op-1',
      '--role',
      'operator',
      '--rooms',
      'room-a, room-b',
      '-c',
      config,
    );
    t.match(op, /added operator op-1 \(rooms room-a, room-b\)/);
    await t.rejects(
      quanlu('ingest', 'users', 'add', 'sup', '--role', 'supervisor', '--rooms', 'room-a', '-c', config),
      { code: 'CLI_USAGE' },
      'rooms are for operators only',
    );
    await t.rejects(quanlu('ingest', 'users', 'add', 'x', '--role', 'root', '-c', config), {
      code: 'CLI_USAGE',
    });
    await t.rejects(quanlu('ingest', 'users', 'add', 'chief', '--role', 'auditor', '-c', config), {
      code: 'INGEST_USER_EXISTS',
    });
    const list = await quanlu('ingest', 'users', 'list', '-c', config);
    t.match(list, /chief\s+admin\s+enabled/);
    t.match(list, /op-1\s+operator\s+enabled\s+room-a,room-b/);
    const token = (await quanlu('ingest', 'users', 'token', 'chief', '-c', config)).trim();
    t.match(token, /^qlu_[A-Za-z0-9_-]{43}$/);

    // One process owns a PGlite folder at a time: this handle is closed before the CLI runs again.
    const db = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    await migrate(db);
    const repo = createRepository(db);
    const auth = new Auth({
      repo,
      access: { reasonRequired: false, sessionIdleMinutes: 30, sessionMaxHours: 12 },
    });
    t.equal(
      (await auth.signIn('chief', password!, '127.0.0.1')).user.role,
      'admin',
      'the printed password signs in',
    );
    t.equal((await auth.token(token))?.user.username, 'chief', 'the printed token authenticates');
    const actions = (await repo.searchAudit({ limit: 10, offset: 0 })).items.map((r) => [r.action, r.user]);
    t.match(actions.reverse(), [
      ['user-add', /^cli:/],
      ['user-add', /^cli:/],
      ['token-issue', /^cli:/],
      ['sign-in', 'chief'],
    ]);
    await db.close();

    t.match(await quanlu('ingest', 'users', 'disable', 'chief', '-c', config), /chief disabled/);
    const again = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
    t.teardown(() => again.close());
    const auth2 = new Auth({
      repo: createRepository(again),
      access: { reasonRequired: false, sessionIdleMinutes: 30, sessionMaxHours: 12 },
    });
    t.equal(await auth2.token(token), null, "disabling ends the user's tokens");
    await t.rejects(auth2.signIn('chief', password!, '127.0.0.1'), { code: 'INGEST_AUTH_FAILED' });
  },
);

t.test('ingest gateways list and approve read the -c given after the subcommand', async (t) => {
  const dir = tmp(t, 'quanlu-cli-gateways-');
  const config = join(dir, 'ingest.json');
  await writeFile(
    config,
    JSON.stringify({ dataDir: dir, database: { kind: 'pglite', dataDir: join(dir, 'db') } }),
  );
  const db = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'db') });
  await migrate(db);
  const key = generateKeyPair();
  await createRepository(db).upsertEnrollment({
    id: 'gw-room-1',
    fingerprint: key.publicKey.fingerprint,
    publicKey: key.publicKeyText,
    hostname: null,
  });
  await db.close();
  t.match(await quanlu('ingest', 'gateways', 'list', '-c', config), /^pending\s+gw-room-1/m);
  t.match(
    await quanlu('ingest', 'gateways', 'approve', key.publicKey.fingerprint, '-c', config),
    /gw-room-1 approved/,
  );
  t.match(await quanlu('ingest', 'gateways', 'list', '-c', config), /^approved\s+gw-room-1/m);
});
