/** @module `quanlu config validate|diff|push` run as a child process against a real ingest (PGlite, embedded aedes). */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import t from 'tap';
import { stringify } from 'yaml';
import { startIngest } from '../../ingest/app.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { addTestUser, signIn } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const REPO = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Runs `quanlu …`; resolves with the exit code and output whatever the code. */
async function quanlu(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/quanlu.js', ...args], { cwd: REPO });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const config = (roomName: string) => ({
  gateway: { id: 'gw-cli', dataDir: '/var/lib/quanlu' },
  room: { id: 'interview-1', name: roomName, profile: 'interview-room' },
  cameras: [{ id: 'cam-1', name: 'panorama', audio: true, source: { kind: 'synthetic' } }],
});

t.test('validate, push and diff through the ingest and against a data folder', async (t) => {
  const dir = tmp(t, 'quanlu-config-cli-');
  const ingest = await startIngest(
    {
      dataDir: `${dir}/ingest`,
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
      log: { level: 'warn' },
    },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => ingest.close());
  const key = generateKeyPair();
  await ingest.repo.upsertEnrollment({
    id: 'gw-cli',
    fingerprint: key.publicKey.fingerprint,
    publicKey: key.publicKeyText,
    hostname: null,
  });
  await ingest.decide(key.publicKey.fingerprint, 'approved', 'test');
  const tokenOf = async (role: 'admin' | 'operator') => {
    const user = await addTestUser(ingest.repo, role, role === 'operator' ? ['interview-1'] : []);
    const admin = await signIn(ingest.http, await addTestUser(ingest.repo, 'admin'));
    const res = await ingest.http.inject({
      method: 'POST',
      url: `/api/v1/users/${user.username}/tokens`,
      headers: admin,
    });
    return res.json().token as string;
  };
  const adminToken = await tokenOf('admin');
  const v1 = join(dir, 'v1.yaml');
  const v2 = join(dir, 'v2.yaml');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(v1, stringify(config('第一询问室')));
  writeFileSync(v2, stringify(config('renamed')));
  writeFileSync(bad, stringify({ ...config('x'), cameras: [] }));

  const valid = await quanlu('config', 'validate', v1);
  t.equal(valid.code, 0);
  t.match(valid.stdout, /valid · gateway gw-cli · room interview-1 \(interview-room\) · 1 camera/);
  const invalid = await quanlu('config', 'validate', bad);
  t.equal(invalid.code, 2);
  t.match(invalid.stderr, /GW_CONFIG_INVALID[\s\S]*takes 1–4 cameras/);

  const pushed = await quanlu(
    'config',
    'push',
    'gw-cli',
    v1,
    '--ingest',
    ingest.httpUrl,
    '--token',
    adminToken,
  );
  t.equal(pushed.code, 0, pushed.stderr);
  t.match(pushed.stdout, /pushed version 1 to gw-cli/);
  t.equal(ingest.configPush.current('gw-cli')?.version, 1);

  const same = await quanlu('config', 'diff', v1, '--ingest', ingest.httpUrl, '--token', adminToken);
  t.match(same.stdout, /no differences from version 1/);
  const diff = await quanlu('config', 'diff', v2, '--ingest', ingest.httpUrl, '--token', adminToken);
  t.match(diff.stdout, /against version 1:\n- room\.name: "第一询问室"\n\+ room\.name: "renamed"\n$/);

  // A gateway's data folder holds the version applied there.
  const data = join(dir, 'gateway-data');
  mkdirSync(join(data, 'config'), { recursive: true });
  writeFileSync(join(data, 'config/current.json'), JSON.stringify(ingest.configPush.current('gw-cli')));
  const local = await quanlu('config', 'diff', v2, '--data', data);
  t.match(local.stdout, /\+ room\.name: "renamed"/);
  const none = await quanlu('config', 'diff', v2, '--data', join(dir, 'nowhere'));
  t.match(none.stdout, /runs on its local file/);

  const operator = await quanlu(
    'config',
    'push',
    'gw-cli',
    v2,
    '--ingest',
    ingest.httpUrl,
    '--token',
    await tokenOf('operator'),
  );
  t.equal(operator.code, 2);
  t.match(operator.stderr, /INGEST_FORBIDDEN/);
  const other = await quanlu(
    'config',
    'push',
    'gw-other',
    v2,
    '--ingest',
    ingest.httpUrl,
    '--token',
    adminToken,
  );
  t.equal(other.code, 2);
  t.match(other.stderr, /CLI_USAGE: .* is the configuration of gw-cli, not gw-other/);
  t.equal(ingest.configPush.current('gw-cli')?.version, 1, 'refused pushes published nothing');
});
