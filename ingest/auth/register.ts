/** @module Wires users, sessions and audited access into an HTTP app: the auth hook and the auth, admin and audit routes. */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../protocol/time.ts';
import { type DecideGateway, registerAdminRoutes } from '../api/admin-routes.ts';
import { registerAuditRoutes } from '../api/audit-routes.ts';
import { registerAuthRoutes } from '../api/auth-routes.ts';
import type { IngestConfig } from '../config.ts';
import type { Repository } from '../db/repository.ts';
import { AuditedAccess } from './access.ts';
import { Auth } from './auth.ts';
import { registerAuth } from './guard.ts';
import type { SignInLimiter } from './sign-in-limiter.ts';

/** What the wiring needs. */
export interface AccessControlDeps {
  repo: Repository;
  access: IngestConfig['access'];
  /** The same decision path as the command line (`Ingest.decide`). */
  decide: DecideGateway;
  clock?: Clock;
  limiter?: SignInLimiter;
}

/** Registers the hook and routes (before any other /api/v1 route); returns the access checks other routes call. */
export async function registerAccessControl(
  app: FastifyInstance,
  deps: AccessControlDeps,
): Promise<{ auth: Auth; access: AuditedAccess }> {
  const auth = new Auth({
    repo: deps.repo,
    access: deps.access,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.limiter ? { limiter: deps.limiter } : {}),
  });
  await registerAuth(app, auth);
  registerAuthRoutes(app, auth);
  registerAdminRoutes(app, auth, deps.decide);
  registerAuditRoutes(app, auth);
  return { auth, access: new AuditedAccess(auth) };
}
