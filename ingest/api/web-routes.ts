/** @module Serves the supervisor/auditor console: `/` (index.html), `/web/*` (static files) and hls.js, under a self-only CSP. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { securityHeaders } from '../../protocol/security-headers.ts';
import type { StoreConfig } from '../../store/store-config.ts';

/** The console's own files. */
export const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');

const HLS_DIST = join(dirname(createRequire(import.meta.url).resolve('hls.js')), '..', 'dist');

/** Files of hls.js the console loads, by the name it asks for under `/web/vendor/`. */
const VENDOR: Record<string, string> = {
  'hls.min.js': join(HLS_DIST, 'hls.min.js'),
  // hls.js transmuxes in a worker; from this file, not a blob: URL, so worker-src stays 'self'.
  'hls.worker.js': join(HLS_DIST, 'hls.worker.js'),
};

/** Options of the console routes. */
export interface WebRouteOptions {
  /**
   * Origins the player may fetch media from besides this server: an S3 store answers segment requests
   * with a redirect to a presigned URL on its own origin (e.g. `https://minio.example:9000`).
   */
  mediaOrigins?: readonly string[];
}

/**
 * The console's Content-Security-Policy: everything from this origin only. `blob:` for media is the one
 * exception, and a necessary one: Media Source Extensions attach a MediaSource to the video as a blob: URL.
 */
export function consoleCsp(mediaOrigins: readonly string[] = []): string {
  const connect = ["'self'", ...mediaOrigins].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "worker-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The origins the player must reach for media besides this server: an S3 store's, whose segments the media
 * routes answer with a redirect to a presigned URL there (its host and port as configured, which presigning uses).
 */
export function mediaOriginsFor(store: StoreConfig | undefined): string[] {
  if (store?.kind !== 's3') return [];
  return [`${store.useSSL ? 'https' : 'http'}://${store.endPoint}:${store.port}`];
}

/** Adds `/`, `/web/*` and `/web/vendor/*`, each answered with the console's security headers. */
export function registerWebRoutes(app: FastifyInstance, opts: WebRouteOptions = {}): void {
  const csp = consoleCsp(opts.mediaOrigins);
  const vendorCache = new Map<string, Buffer>();

  app.register(async (web) => {
    // The app's root hook (security-headers.ts) adds the same headers to every other answer too.
    web.addHook('onSend', async (req, reply, payload) => {
      reply.headers(securityHeaders(req, undefined, { csp }));
      return payload;
    });

    web.get('/', async (_req, reply) => {
      const html = await readFile(join(WEB_ROOT, 'index.html'));
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
    });

    // Registered before the static plugin's wildcard, so these two names never reach the folder.
    web.get('/web/vendor/:file', async (req, reply) => {
      const { file } = req.params as { file: string };
      const path = Object.hasOwn(VENDOR, file) ? VENDOR[file] : undefined;
      if (!path) return reply.callNotFound();
      let body = vendorCache.get(file);
      if (!body) {
        body = await readFile(path);
        vendorCache.set(file, body);
      }
      return reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(body);
    });

    await web.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: '/web/',
      decorateReply: false,
      index: false,
      cacheControl: true,
      maxAge: 0,
      // The catalogue and the modules change with the server; the browser revalidates by ETag.
      etag: true,
    });
  });
}
