/** @module Serves the operator page: `/` (index.html), `/web/*` (its modules) and `/vendor/hls.min.js` (the CSP is the app's, console-app.ts). */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const WEB_ROOT = join(import.meta.dirname, 'web');
const HLS_MIN = join(dirname(createRequire(import.meta.url).resolve('hls.js')), '..', 'dist', 'hls.min.js');

/** Adds the page's routes; the CSP and other headers come from the app's root hook (protocol/security-headers.ts). */
export function registerConsoleWeb(app: FastifyInstance): void {
  app.register(async (web) => {
    web.get('/', async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(await readFile(join(WEB_ROOT, 'index.html'))),
    );
    let hls: Buffer | null = null;
    web.get('/vendor/hls.min.js', async (_req, reply) => {
      hls ??= await readFile(HLS_MIN);
      return reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(hls);
    });
    await web.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: '/web/',
      index: false,
      etag: true,
      maxAge: 0,
    });
  });
}
