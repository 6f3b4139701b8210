/** @module Sign-in, the session, sign-out, and giving a reason for access to a recording. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RecordingId } from '../../protocol/entry.ts';
import type { Auth, AuthContext } from '../auth/auth.ts';
import { cookieOptions, SESSION_COOKIE } from '../auth/guard.ts';
import { maySeeRoom, Role } from '../auth/roles.ts';
import { Username } from '../auth/users.ts';
import { IngestError } from '../errors.ts';

/** What the console learns about its session. */
export const SessionView = z.object({
  user: z.object({
    username: z.string(),
    role: Role,
    rooms: z.array(z.string()),
    displayName: z.string(),
  }),
  csrfToken: z.string().describe('send it as x-csrf-token on every POST, PUT, PATCH and DELETE'),
  reasonRequired: z.boolean().describe('a reason for access must be given before playback'),
});

const SignIn = z.strictObject({ username: Username, password: z.string().min(1).max(256) });

function sessionView(auth: Auth, ctx: Pick<AuthContext, 'user' | 'csrfToken'>): z.infer<typeof SessionView> {
  const { username, role, rooms, displayName } = ctx.user;
  return {
    user: { username, role, rooms, displayName },
    csrfToken: ctx.csrfToken ?? '',
    reasonRequired: auth.access.reasonRequired,
  };
}

function signedIn(req: FastifyRequest): AuthContext {
  if (!req.auth)
    throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first: no valid session or API token');
  return req.auth;
}

/** Adds /api/v1/session (POST sign-in, GET, DELETE) and POST /api/v1/recordings/:id/access. */
export function registerAuthRoutes(app: FastifyInstance, auth: Auth): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/session',
    { schema: { body: SignIn, response: { 200: SessionView } } },
    async (req, reply) => {
      try {
        const s = await auth.signIn(req.body.username, req.body.password, req.ip);
        reply.setCookie(SESSION_COOKIE, s.token, cookieOptions(req, s.maxAgeSeconds));
        return sessionView(auth, s);
      } catch (err) {
        if (err instanceof IngestError && err.code === 'INGEST_RATE_LIMITED') {
          reply.header('retry-after', Math.ceil(auth.limiter.retryAfterMs(req.ip, req.body.username) / 1000));
        }
        if (err instanceof IngestError && err.code === 'INGEST_ACCOUNT_LOCKED') {
          reply.header('retry-after', Math.ceil(auth.lockout.lockedForMs(req.body.username) / 1000));
        }
        throw err;
      }
    },
  );

  r.get('/api/v1/session', { schema: { response: { 200: SessionView } } }, async (req) =>
    sessionView(auth, signedIn(req)),
  );

  r.delete('/api/v1/session', { schema: { response: { 204: z.undefined() } } }, async (req, reply) => {
    await auth.signOut(req);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  r.post(
    '/api/v1/recordings/:id/access',
    {
      schema: {
        params: z.strictObject({ id: RecordingId }),
        body: z.strictObject({
          reason: z.string().trim().min(1).max(500).describe('why this recording is viewed'),
        }),
        response: { 204: z.undefined() },
      },
    },
    async (req, reply) => {
      const ctx = signedIn(req);
      const recording = await auth.repo.recording(req.params.id);
      if (!recording) throw new IngestError('INGEST_NOT_FOUND', `no recording ${req.params.id}`);
      if (!maySeeRoom(ctx.user, recording.room)) {
        await auth.audit(req, {
          action: 'access-refused',
          recording: recording.id,
          detail: 'INGEST_FORBIDDEN access-reason',
        });
        throw new IngestError(
          'INGEST_FORBIDDEN',
          `recording ${recording.id} was not made in one of your rooms`,
        );
      }
      await auth.repo.setAccessReason(ctx.credential, recording.id, req.body.reason, auth.now());
      await auth.audit(req, { action: 'access-reason', recording: recording.id, reason: req.body.reason });
      return reply.status(204).send();
    },
  );
}
