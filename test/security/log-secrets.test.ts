/**
 * @module No secret in the logs: a full demo run at debug level, with sign-ins and an API token used over HTTP,
 * scanned for its passwords, session cookie, CSRF token, API token, gateway private key, ingest secret and log key;
 * and the redaction itself on the shapes a log call could be given.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { KEY_FILE } from '../../gateway/identity.ts';
import { LOG_KEY_FILE } from '../../ingest/log/log-key.ts';
import { LOG_REDACT, redacting } from '../../protocol/log-redaction.ts';
import { fetchTrusting } from '../helpers/tls.ts';

/** The forms a private key could be printed in: its PEM body, and its 32-byte seed in base64url, base64 and hex. */
function keyForms(pem: string): string[] {
  const body = pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  const d = createPrivateKey(pem).export({ format: 'jwk' }).d!;
  const seed = Buffer.from(d, 'base64url');
  return [body, d, seed.toString('base64').replace(/=+$/, ''), seed.toString('hex')];
}

t.test('the log of a full demo run at debug level holds none of its secrets', async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'quanlu-log-secrets-'));
  t.teardown(() => rm(data, { recursive: true, force: true }));
  const child = spawn(
    process.execPath,
    [
      'bin/quanlu.js',
      'demo',
      '--data',
      data,
      '--fresh',
      '--seconds',
      '8',
      '--http-port',
      '0',
      '--console-port',
      '0',
    ],
    { env: { ...process.env, QUANLU_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const consoleReady = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (/operator console CA .*\n/.test(out)) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`the demo ended (${code}) before its console was up:\n${err}`)),
    );
  });
  const exited = once(child, 'exit');
  await consoleReady;

  const base = /console: (https:\/\/[^\s]+?)\/ {2}sign in as/.exec(out)![1]!;
  const operatorUrl = /operator console[^:]*: (https:\/\/\S+?)\/?\n/.exec(out)![1]!;
  // TLS by default (issue 10): trust the two CAs the demo printed.
  const fetch = fetchTrusting({
    ca: [...out.matchAll(/ CA (\S+) · SHA-256/g)].map((m) => readFileSync(m[1]!, 'utf8')),
  });
  const users = [...out.matchAll(/^ {2}(admin|supervisor)\s+(\S+) \/ (\S+)$/gm)].map((m) => ({
    username: m[2]!,
    password: m[3]!,
  }));
  t.equal(users.length, 2, 'the demo printed its two users');
  const admin = users.find((u) => u.username === 'admin')!;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const wrong = await post('/api/v1/session', { username: admin.username, password: `${admin.password}x` });
  t.equal(wrong.status, 401, 'a wrong password is refused');
  const right = await post('/api/v1/session', admin);
  t.equal(right.status, 200, 'the right password signs in');
  const cookie = right.headers.getSetCookie()[0]!.split(';')[0]!;
  const cookieValue = cookie.split('=')[1]!;
  const { csrfToken } = (await right.json()) as { csrfToken: string };
  const issued = await post(
    `/api/v1/users/${users.find((u) => u.username === 'supervisor')!.username}/tokens`,
    {},
    { cookie, 'x-csrf-token': csrfToken },
  );
  t.equal(issued.status, 201, 'an API token is issued');
  const { token } = (await issued.json()) as { token: string };
  const withToken = await fetch(`${base}/api/v1/recordings`, {
    headers: { authorization: `Bearer ${token}` },
  });
  t.equal(withToken.status, 200, 'the token is used');
  const badToken = await fetch(`${base}/api/v1/recordings`, {
    headers: { authorization: `Bearer ${token}x` },
  });
  t.equal(badToken.status, 401, 'a wrong token is refused');
  t.equal((await fetch(`${operatorUrl}/api/v1/room`)).status, 200, 'the operator console answers');

  const [code] = await exited;
  t.equal(code, 0, 'the demo ran to its end and verified its export');

  const lines = `${out}\n${err}`.split('\n').filter((l) => l.startsWith('{'));
  const logLines = lines.filter((l) => {
    try {
      return typeof JSON.parse(l).level === 'number';
    } catch {
      return false;
    }
  });
  const log = logLines.join('\n');
  t.ok(logLines.length > 20, `the run logged (${logLines.length} JSON lines)`);
  t.match(log, /incoming request/, 'HTTP requests were logged, so the scan covers them');

  const secrets: [string, string][] = [
    ...users.map((u) => [`password of ${u.username}`, u.password] as [string, string]),
    ['session cookie', cookieValue],
    ['CSRF token', csrfToken],
    ['API token', token],
    ['ingest secret', (await readFile(join(data, 'ingest', 'ingest-secret'), 'utf8')).trim()],
    ...keyForms(await readFile(join(data, 'gateway', KEY_FILE), 'utf8')).map(
      (s) => ['gateway private key', s] as [string, string],
    ),
    ...keyForms(await readFile(join(data, 'ingest', LOG_KEY_FILE), 'utf8')).map(
      (s) => ['ingest log key', s] as [string, string],
    ),
  ];
  for (const [what, secret] of secrets) {
    t.ok(secret.length >= 16, `${what} is a real secret (${secret.length} characters)`);
    t.notOk(log.includes(secret), `the log does not contain the ${what}`);
  }
});

t.test('the redaction hides credentials in headers, bodies and URLs, and keeps the rest', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = redacting(pino({ level: 'info' }, sink));
  log.info(
    {
      req: { headers: { authorization: 'Bearer qlt_secret-token-1', cookie: 'quanlu_session=cookie-2' } },
      res: { headers: { 'set-cookie': 'quanlu_session=cookie-3' } },
      body: { username: 'alice', password: 'password-4' },
      url: 'rtsp://admin:camera-pass-5@10.0.0.9:554/stream1',
      stderr: "Input #0, rtsp, from 'rtsp://admin:camera-pass-6@10.0.0.9/s':",
      camera: { source: 'rtsp://viewer:camera-pass-7@10.0.0.8/s', name: 'cam-1' },
      privateKey: 'MC4CAQAwBQYDK2VwBCIEI-8',
      token: 'qlt_secret-token-9',
      err: { message: 'connect ECONNREFUSED rtsp://admin:camera-pass-10@10.0.0.7/s' },
    },
    'a careless log call',
  );
  log.warn(
    { err: 'GetServices failed at http://admin:camera-pass-11@10.0.0.6/onvif' },
    'an error given as text',
  );
  log.error({ err: new Error('cannot open rtsp://admin:camera-pass-12@10.0.0.5/s') }, 'an error');
  const line = lines.join('');
  for (const secret of [
    'secret-token-1',
    'cookie-2',
    'cookie-3',
    'password-4',
    'camera-pass-5',
    'camera-pass-6',
    'camera-pass-7',
    'BCIEI-8',
    'secret-token-9',
    'camera-pass-10',
    'camera-pass-11',
    'camera-pass-12',
  ])
    t.notOk(line.includes(secret), `${secret} is redacted`);
  const parsed = JSON.parse(lines[0]!);
  t.equal(lines.length, 3);
  t.match(JSON.parse(lines[2]!).err, { type: 'Error', message: 'cannot open rtsp://admin:***@10.0.0.5/s' });
  t.equal(
    parsed.url,
    'rtsp://admin:***@10.0.0.9:554/stream1',
    'a URL keeps its host and user, not its password',
  );
  t.equal(parsed.body.username, 'alice', 'what is not a secret stays');
  t.equal(parsed.camera.name, 'cam-1');
  t.ok(Array.isArray((LOG_REDACT as { paths: string[] }).paths));
});
