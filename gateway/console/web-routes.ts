/** @module Serves the operator page: `/` (index.html), `/web/*` (its modules) and `/vendor/hls.min.js`, under a self-only CSP. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const WEB_ROOT = join(import.meta.dirname, 'web');
const HLS_MIN = join(dirname(createRequire(import.meta.url).resolve('hls.js')), '..', 'dist', 'hls.min.js');

/** Everything from this origin; blob: media for Media Source Extensions (hls.js runs without a worker). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Adds the page's routes. */
export function registerConsoleWeb(app: FastifyInstance): void {
  app.register(async (web) => {
    web.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      return payload;
    });
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
