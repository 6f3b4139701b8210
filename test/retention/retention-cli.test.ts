/**
 * @module `quanlu ingest retention ...` (issue 9) on an ingest's own PGlite database and folder store: status,
 * a hold that blocks deletion, its release, deletion of an expired recording with a tombstone, a refused one;
 * each change audited as the CLI user.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { migrate } from '../../ingest/db/migrations.ts';
import { openDatabase } from '../../ingest/db/open-database.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { loadOrCreateLogKey } from '../../ingest/log/log-key.ts';
import { checkTombstone } from '../../protocol/tombstone.ts';
import { createFsStore } from '../../store/fs-store.ts';
import { testKey } from '../helpers/chains.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { enroll } from '../log/log-support.ts';
import { storedRecording } from './retention-support.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function quanlu(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/quanlu.js', ...args], {
      cwd: REPO,
      timeout: 60_000,
      env: { ...process.env, QUANLU_DEBUG: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test(
  'retention from the command line: hold, release, delete with a tombstone; refusals coded',
  async (t) => {
    const dataDir = tmp(t, 'quanlu-retention-cli-');
    const config = join(dataDir, 'ingest.json');
    await writeFile(config, JSON.stringify({ dataDir, tls: PLAINTEXT }));
    const db = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    await migrate(db);
    const repo = createRepository(db);
    const gw = testKey(1);
    await enroll(repo, gw);
    const store = createFsStore(join(dataDir, 'objects'));
    const spec = { matter: 'inquiry', room: 'interview-room-1', start: Date.UTC(2025, 0, 6, 9, 0, 0) };
    const old = await storedRecording(repo, store, gw, { ...spec, caseId: 'CLI-1' });
    const young = await storedRecording(repo, store, gw, {
      ...spec,
      caseId: 'CLI-2',
      start: Date.now() - 60_000,
    });
    await db.close();
    const c = ['-c', config, '--by', 'cli:tester'];

    let run = await quanlu(['ingest', 'retention', 'status', old.id, ...c]);
    t.equal(run.code, 0, run.stderr);
    t.match(JSON.parse(run.stdout), { class: 'standard', expired: true, deletable: true });

    run = await quanlu([
      'ingest',
      'retention',
      'hold',
      '--scope',
      'case',
      '--target',
      'CLI-1',
      '--reason',
      'appeal',
      ...c,
    ]);
    t.equal(run.code, 0, run.stderr);
    const hold = JSON.parse(run.stdout).id as number;
    run = await quanlu(['ingest', 'retention', 'delete', old.id, '--reason', 'retention over', ...c]);
    t.equal(run.code, 2, 'refused');
    t.match(run.stderr, /INGEST_RETENTION_HELD/);
    run = await quanlu(['ingest', 'retention', 'release', String(hold), '--reason', 'appeal decided', ...c]);
    t.equal(run.code, 0, run.stderr);
    run = await quanlu(['ingest', 'retention', 'delete', young.id, '--reason', 'too early', ...c]);
    t.equal(run.code, 2);
    t.match(run.stderr, /INGEST_RETENTION_UNEXPIRED/);
    run = await quanlu(['ingest', 'retention', 'delete', old.id, '--reason', 'retention over', ...c]);
    t.equal(run.code, 0, run.stderr);
    const done = JSON.parse(run.stdout);
    const key = loadOrCreateLogKey(dataDir).keyPair.publicKey;
    t.ok(
      'tombstone' in checkTombstone(done.tombstone, key),
      'the tombstone verifies under the ingest log key',
    );
    for (const o of old.objects) t.equal(await store.head(o), null, 'object removed');

    const again = await openDatabase({ kind: 'pglite', dataDir: join(dataDir, 'db') });
    t.teardown(() => again.close());
    const audit = await createRepository(again).searchAudit({ user: 'cli:tester', limit: 20, offset: 0 });
    t.same(
      audit.items.map((r) => r.action).reverse(),
      ['legal-hold', 'retention-refused', 'legal-hold-release', 'retention-refused', 'retention-delete'],
      'every change and refusal audited as the CLI user',
    );
  },
);
