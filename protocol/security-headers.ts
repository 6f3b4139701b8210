/**
 * @module Security headers on every response of both HTTP apps (the ingest's API and console, the gateway's
 * operator console): API, pages, media, errors and 404s. Pure headers; fastify is imported for types only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** HSTS for a year, subdomains included; sent only on responses to requests that came over HTTPS. */
export const HSTS = 'max-age=31536000; includeSubDomains';

/** Options of the headers. */
export interface SecurityHeaderOptions {
  /** The Content-Security-Policy of every response (the ingest's `consoleCsp`, the gateway's `CONSOLE_CSP`). */
  csp: string;
}

/**
 * The headers every response carries. Cache-Control `no-store` goes on JSON answers of `/api/`, which hold
 * user data (sessions, users, audit records, recordings, room state); pages, scripts and media keep their own caching.
 */
export function securityHeaders(
  req: Pick<FastifyRequest, 'protocol' | 'url'>,
  contentType: string | undefined,
  opts: SecurityHeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': opts.csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (req.protocol === 'https') headers['strict-transport-security'] = HSTS;
  if (req.url.startsWith('/api/') && contentType?.startsWith('application/json'))
    headers['cache-control'] = 'no-store';
  return headers;
}

/**
 * Adds a root `onSend` hook, so every answer gets the headers: routes, the static files, the error handler's
 * answers and the 404 handler's. Register it before any route.
 */
export function registerSecurityHeaders(app: FastifyInstance, opts: SecurityHeaderOptions): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload) => {
    const type = reply.getHeader('content-type');
    reply.headers(securityHeaders(req, typeof type === 'string' ? type : undefined, opts));
    return payload;
  });
}
