/** @module Which roles may call which /api/v1 route: the one table, read by the auth hook. */
import type { Role } from './roles.ts';

/** Routes anyone may call, signed in or not. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/v1/session',
  'GET /api/v1/health',
  // Whether the ingest speaks TLS, and its CA fingerprint (issue 10): shown before sign-in, pinned by gateways.
  'GET /api/v1/transport',
  // Load balancers and orchestrators probe readiness without an account; the answer names no evidence.
  'GET /api/v1/ready',
  // The transparency log is public by design (as in RFC 9162): tree heads and proofs carry hashes,
  // never evidence, and an auditor must be able to fetch them without an account on this server.
  'GET /api/v1/log/key',
  'GET /api/v1/log/tree-head',
  'GET /api/v1/log/inclusion',
  'GET /api/v1/log/consistency',
]);

const ADMIN: readonly Role[] = ['admin'];
const OVERSIGHT: readonly Role[] = ['admin', 'auditor'];

/**
 * Routes limited to some roles, by `METHOD /pattern`. Any other /api/v1 route is open to every
 * signed-in user, and routes that show a recording narrow further by room (RecordingAccess).
 */
export const ROUTE_ROLES: Readonly<Record<string, readonly Role[]>> = {
  'GET /api/v1/users': ADMIN,
  'POST /api/v1/users': ADMIN,
  'PATCH /api/v1/users/:username': ADMIN,
  'POST /api/v1/users/:username/tokens': ADMIN,
  'GET /api/v1/gateways': OVERSIGHT,
  // Trusted time (issue 10): each gateway's clock offset, for supervisors and auditors.
  'GET /api/v1/gateways/clocks': ['admin', 'supervisor', 'auditor'],
  'POST /api/v1/gateways/:fingerprint/approve': ADMIN,
  'POST /api/v1/gateways/:fingerprint/revoke': ADMIN,
  'GET /api/v1/audit': OVERSIGHT,
  'GET /api/v1/audit/verify': OVERSIGHT,
  'POST /api/v1/log/tree-head': ADMIN,
  // Auditor area (issue 8): the fixity sweep's state and failures.
  'GET /api/v1/fixity': OVERSIGHT,
  'GET /api/v1/reports/compliance': ['admin', 'supervisor', 'auditor'],
  'GET /api/v1/reports/own-footage': ['admin', 'supervisor', 'auditor'],
  'GET /api/v1/reports/yearly': ['admin', 'supervisor', 'auditor'],
  // Routes of other modules that check their roles themselves too; listed so this table is whole.
  'GET /api/v1/gateways/:id/config': ADMIN,
  'PUT /api/v1/gateways/:id/config': ADMIN,
  'POST /api/v1/gateways/:id/commands': ['admin', 'supervisor'],
  // Body-worn footage: supervisors bind devices to officers and assign footage to cases.
  'PUT /api/v1/dock/devices/:serial': ['admin', 'supervisor'],
  'POST /api/v1/dock/footage/assign': ['admin', 'supervisor'],
  // Body-worn footage of every device and room: not for operators, who see only their rooms' recordings.
  'GET /api/v1/dock/footage': ['admin', 'supervisor', 'auditor'],
  'GET /api/v1/dock/footage/:hash/assignments': ['admin', 'supervisor', 'auditor'],
  'GET /api/v1/dock/proposals': ['admin', 'supervisor', 'auditor'],
  // The officer list the gateway consoles sync (issue 6): anyone signed in reads it, admins replace it.
  'PUT /api/v1/officers': ADMIN,
  // Retention (issue 9): only admins change classes, holds, or delete; oversight reads.
  'GET /api/v1/recordings/:id/retention': ['admin', 'supervisor', 'auditor'],
  'POST /api/v1/recordings/:id/retention/delete': ADMIN,
  'GET /api/v1/retention/rules': ['admin', 'supervisor', 'auditor'],
  'PUT /api/v1/retention/rules': ADMIN,
  'GET /api/v1/retention/holds': ['admin', 'supervisor', 'auditor'],
  'POST /api/v1/retention/holds': ADMIN,
  'POST /api/v1/retention/holds/:id/release': ADMIN,
  'GET /api/v1/retention/expired': OVERSIGHT,
};

/** The key of a route in the tables above. */
export function routeKey(method: string, url: string | undefined): string {
  // fastify answers HEAD with the GET handler (exposeHeadRoutes): the same rules apply.
  const m = method.toUpperCase();
  return `${m === 'HEAD' ? 'GET' : m} ${url ?? ''}`;
}

/** The roles allowed on a route, or null when every signed-in user is. */
export function rolesFor(method: string, url: string | undefined): readonly Role[] | null {
  return ROUTE_ROLES[routeKey(method, url)] ?? null;
}

/** Methods that change state: a cookie-authenticated request with one must carry the CSRF token. */
export function changesState(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}
