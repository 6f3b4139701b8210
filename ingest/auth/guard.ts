/** @module The auth hook every /api/v1 request passes: authenticate, check CSRF, check the route's roles. */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { IngestError } from '../errors.ts';
import { type Auth, SESSION_COOKIE } from './auth.ts';
import { changesState, PUBLIC_ROUTES, rolesFor, routeKey } from './policy.ts';
import { sameSecret } from './tokens.ts';

/** The header a cookie-authenticated state-changing request carries its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Registers the cookie parser and the hook. It runs on `onRequest`, before the body is even read,
 * so a refused request costs no parsing and reaches no handler: it changes nothing, and only a
 * refusal by role (a signed-in user trying what its role may not) is written to the audit log.
 */
export async function registerAuth(app: FastifyInstance, auth: Auth): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req) => {
    // Guarded when either the path asked for or the route it matched is under /api/v1/.
    if (!req.url.startsWith('/api/v1/') && !req.routeOptions.url?.startsWith('/api/v1/')) return;
    const key = routeKey(req.method, req.routeOptions.url);
    if (PUBLIC_ROUTES.has(key)) return;
    const ctx = await auth.authenticate(req);
    if (!ctx) throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first: no valid session or API token');
    if (ctx.via === 'session' && changesState(req.method) && !csrfMatches(req, ctx.csrfToken)) {
      throw new IngestError('INGEST_CSRF', `send the session's CSRF token in the ${CSRF_HEADER} header`);
    }
    req.auth = ctx;
    const roles = rolesFor(req.method, req.routeOptions.url);
    if (roles && !roles.includes(ctx.user.role)) {
      await auth.audit(req, { action: 'access-refused', detail: `INGEST_FORBIDDEN ${key}` });
      throw new IngestError('INGEST_FORBIDDEN', `the ${ctx.user.role} role may not call ${key}`);
    }
  });
}

function csrfMatches(req: FastifyRequest, expected: string | null): boolean {
  const sent = req.headers[CSRF_HEADER];
  return typeof sent === 'string' && expected !== null && sameSecret(sent, expected);
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, Secure on https. */
export function cookieOptions(req: FastifyRequest, maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: req.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}

/** The name of the session cookie (re-exported for routes and tests). */
export { SESSION_COOKIE };
