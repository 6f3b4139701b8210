/** @module The console's routes: the page, its modules and hls.js with the right content types, under a self-only CSP. */
import Fastify from 'fastify';
import t from 'tap';
import { consoleCsp, mediaOriginsFor, registerWebRoutes } from '../../ingest/api/web-routes.ts';

async function app(opts?: Parameters<typeof registerWebRoutes>[1]) {
  const a = Fastify();
  registerWebRoutes(a, opts);
  await a.ready();
  t.teardown(() => a.close());
  return a;
}

t.test('/ is the console page, with a CSP that allows only this origin', async (t) => {
  const a = await app();
  const res = await a.inject('/');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/html; charset=utf-8/);
  t.match(res.body, /<script type="module" src="\/web\/main.js">/);
  const csp = String(res.headers['content-security-policy']);
  t.match(csp, /default-src 'self'/);
  t.match(csp, /script-src 'self'(;|$)/, 'no inline or eval script');
  t.match(csp, /connect-src 'self'(;|$)/);
  t.match(csp, /frame-ancestors 'none'/);
  t.notMatch(csp, /unsafe|\*|https?:/, 'nothing but self (and blob: media for Media Source Extensions)');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
});

t.test('modules, styles and hls.js are served with their content types', async (t) => {
  const a = await app();
  for (const [url, type] of [
    ['/web/main.js', /javascript/],
    ['/web/messages.js', /javascript/],
    ['/web/styles.css', /^text\/css/],
    ['/web/vendor/hls.min.js', /^text\/javascript/],
    ['/web/vendor/hls.worker.js', /^text\/javascript/],
  ] as const) {
    const res = await a.inject(url);
    t.equal(res.statusCode, 200, url);
    t.match(res.headers['content-type'], type, `${url} content type`);
    t.ok(res.headers['content-security-policy'], `${url} carries the CSP`);
  }
  const hls = await a.inject('/web/vendor/hls.min.js');
  t.ok(hls.body.length > 100_000, 'the real hls.js build');
});

t.test('nothing outside the console folder and the two hls.js files is served', async (t) => {
  const a = await app();
  for (const url of [
    '/web/vendor/hls.js',
    '/web/vendor/..%2f..%2fpackage.json',
    '/web/../package.json',
    '/web/%2e%2e/api/web-routes.ts',
    '/web/nope.js',
  ]) {
    t.equal((await a.inject(url)).statusCode, 404, url);
  }
});

t.test('an S3 store origin may be allowed for presigned segment redirects', async (t) => {
  t.match(consoleCsp(['https://minio.example:9000']), /connect-src 'self' https:\/\/minio.example:9000(;|$)/);
  t.same(mediaOriginsFor(undefined), [], 'the folder store serves through this origin');
  t.same(
    mediaOriginsFor({
      kind: 's3',
      endPoint: 'minio.example',
      port: 9000,
      useSSL: true,
    } as Parameters<typeof mediaOriginsFor>[0]),
    ['https://minio.example:9000'],
  );
  const a = await app({ mediaOrigins: ['https://minio.example:9000'] });
  t.match(String((await a.inject('/')).headers['content-security-policy']), /minio\.example/);
});
