/** @module Security headers on every kind of response of both consoles: pages, scripts, API JSON, media, errors, 404s. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import t, { type Test } from 'tap';
import { CONSOLE_CSP } from '../../gateway/console/security-headers.ts';
import { startIngest } from '../../ingest/app.ts';
import { addUser } from '../../ingest/auth/users.ts';
import { HSTS, securityHeaders } from '../../protocol/security-headers.ts';
import { consoleConfig, gatewayWithConsole } from '../console/console-support.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

function checkHeaders(t: Test, res: LightMyRequestResponse, what: string): void {
  const csp = String(res.headers['content-security-policy'] ?? '');
  t.match(csp, /script-src 'self'(;|$)/, `${what}: CSP allows scripts from this origin only`);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: CSP has no unsafe-inline or unsafe-eval`);
  t.match(csp, /frame-ancestors 'none'/, `${what}: CSP forbids framing`);
  t.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  t.equal(res.headers['referrer-policy'], 'no-referrer', `${what}: no referrer`);
  t.notOk(res.headers['strict-transport-security'], `${what}: no HSTS over plain HTTP`);
}

t.test('every kind of ingest response carries the security headers; API JSON is no-store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-headers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ingest = await startIngest(
    {
      dataDir: join(dir, 'ingest'),
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
      fixity: { enabled: false, bytesPerSecond: 1024 * 1024, pauseSeconds: 3600 },
    },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => ingest.close());
  await addUser(
    ingest.repo,
    { username: 'sup1', role: 'supervisor', password: 'a-long-enough-password' },
    new Date().toISOString(),
  );
  const app = ingest.http;

  const page = await app.inject({ url: '/' });
  t.equal(page.statusCode, 200);
  checkHeaders(t, page, 'page');
  t.match(
    String(page.headers['content-security-policy']),
    /media-src 'self' blob:/,
    'page: media from blob: for MSE',
  );

  for (const url of ['/web/main.js', '/web/vendor/hls.min.js', '/web/styles.css']) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, url);
    checkHeaders(t, res, url);
  }
  const missing = await app.inject({ url: '/no/such/page' });
  t.equal(missing.statusCode, 404);
  checkHeaders(t, missing, '404');
  const missingFile = await app.inject({ url: '/web/no-such-file.js' });
  t.equal(missingFile.statusCode, 404);
  checkHeaders(t, missingFile, 'missing static file');

  const unauthenticated = await app.inject({ url: '/api/v1/recordings' });
  t.equal(unauthenticated.statusCode, 401);
  checkHeaders(t, unauthenticated, 'API error');
  t.equal(unauthenticated.headers['cache-control'], 'no-store', 'API error: no-store');

  const wrong = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username: 'sup1', password: 'not the password' },
  });
  t.equal(wrong.statusCode, 401);
  checkHeaders(t, wrong, 'failed sign-in');

  const signedIn = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username: 'sup1', password: 'a-long-enough-password' },
  });
  t.equal(signedIn.statusCode, 200);
  checkHeaders(t, signedIn, 'sign-in');
  t.equal(signedIn.headers['cache-control'], 'no-store', 'the session answer is no-store');
  const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
  const list = await app.inject({ url: '/api/v1/recordings', headers: { cookie } });
  t.equal(list.statusCode, 200);
  checkHeaders(t, list, 'API JSON');
  t.equal(list.headers['cache-control'], 'no-store', 'API JSON: no-store');
  const media = await app.inject({
    url: `/api/v1/recordings/${'0'.repeat(32)}/tracks/cam-1/playlist.m3u8`,
    headers: { cookie },
  });
  t.ok(media.statusCode >= 400, 'a media request for no recording is refused');
  checkHeaders(t, media, 'media route');
  const openapi = await app.inject({ url: '/api/v1/openapi.json' });
  checkHeaders(t, openapi, 'OpenAPI document');
});

t.test('every kind of gateway console response carries the security headers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-headers-gw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { console } = await gatewayWithConsole(t, consoleConfig(dir));
  const app = console.app;
  const page = await app.inject({ url: '/' });
  t.equal(page.statusCode, 200);
  checkHeaders(t, page, 'page');
  for (const url of ['/web/main.js', '/vendor/hls.min.js']) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 200, url);
    checkHeaders(t, res, url);
  }
  const room = await app.inject({ url: '/api/v1/room' });
  t.equal(room.statusCode, 200);
  checkHeaders(t, room, 'API JSON');
  t.equal(room.headers['cache-control'], 'no-store', 'API JSON: no-store');
  const bad = await app.inject({
    method: 'POST',
    url: '/api/v1/recording/start',
    payload: { nonsense: true },
  });
  t.ok(bad.statusCode >= 400 && bad.statusCode < 500, 'a malformed start is refused');
  checkHeaders(t, bad, 'API error');
  const preview = await app.inject({ url: '/api/v1/preview/no-such-track/playlist.m3u8' });
  t.ok(preview.statusCode >= 400, 'a preview of no track is refused');
  checkHeaders(t, preview, 'preview');
  const missing = await app.inject({ url: '/no/such/page' });
  t.equal(missing.statusCode, 404);
  checkHeaders(t, missing, '404');
  t.equal(page.headers['content-security-policy'], CONSOLE_CSP, 'the page has the console CSP');
});

t.test('HSTS is sent only on requests that came over HTTPS', async (t) => {
  const csp = "script-src 'self'";
  t.equal(
    securityHeaders({ protocol: 'https', url: '/' }, 'text/html', { csp })['strict-transport-security'],
    HSTS,
  );
  t.notOk(securityHeaders({ protocol: 'http', url: '/' }, 'text/html', { csp })['strict-transport-security']);
  t.notOk(
    securityHeaders({ protocol: 'http', url: '/web/main.js' }, 'application/json', { csp })['cache-control'],
    'no-store is only for API JSON',
  );
});
