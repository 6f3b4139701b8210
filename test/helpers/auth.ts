/** @module Test helper: an HTTP API wired like the ingest's (auth hook, routes), users of each role, and their credentials. */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Test } from 'tap';
import type { DecideGateway } from '../../ingest/api/admin-routes.ts';
import { registerErrorHandler, registerRoutes } from '../../ingest/api/routes.ts';
import type { AuditedAccess } from '../../ingest/auth/access.ts';
import type { Auth } from '../../ingest/auth/auth.ts';
import { registerAccessControl } from '../../ingest/auth/register.ts';
import type { Role } from '../../ingest/auth/roles.ts';
import { SignInLimiter } from '../../ingest/auth/sign-in-limiter.ts';
import { newApiToken, secretHash } from '../../ingest/auth/tokens.ts';
import { addUser } from '../../ingest/auth/users.ts';
import type { IngestConfig } from '../../ingest/config.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import type { Database } from '../../ingest/db/open-database.ts';
import { createRepository, type Repository } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import { Entry } from '../../protocol/entry.ts';
import { isoTime } from '../../protocol/time.ts';
import { CLOCK, T0, testKey } from './chains.ts';

/** A clock the test moves by hand. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

/** A clock starting at `start`, moved only by `advance`. */
export function manualClock(start = T0): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** An API app over a migrated database, wired as ingest/app.ts wires it (without broker, log or console). */
export interface TestApi {
  app: FastifyInstance;
  repo: Repository;
  auth: Auth;
  access: AuditedAccess;
  clock: ManualClock;
  /** Gateway decisions the admin routes asked for, in order. */
  decisions: { fingerprint: string; decision: string; by: string }[];
}

/** Builds the API over `db`; `extra` may add routes (after the auth hook, as app.ts adds others' routes). */
export async function buildTestApi(
  t: Test,
  db: Database,
  opts: {
    access?: Partial<IngestConfig['access']>;
    limiter?: SignInLimiter;
    extra?: (app: FastifyInstance, access: AuditedAccess) => void;
  } = {},
): Promise<TestApi> {
  await migrate(db);
  const repo = createRepository(db);
  const clock = manualClock(Date.now());
  const decisions: TestApi['decisions'] = [];
  const decide: DecideGateway = async (fingerprint, decision, by) => {
    decisions.push({ fingerprint, decision, by });
    return repo.decideGateway(fingerprint, decision, by);
  };
  const app = Fastify({ logger: false });
  registerErrorHandler(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const { auth, access } = await registerAccessControl(app, {
    repo,
    access: { reasonRequired: false, sessionIdleMinutes: 30, sessionMaxHours: 12, ...opts.access },
    decide,
    clock,
    limiter: opts.limiter ?? new SignInLimiter({ clock }),
  });
  registerRoutes(app, repo, access);
  opts.extra?.(app, access);
  await app.ready();
  t.teardown(() => app.close());
  return { app, repo, auth, access, clock, decisions };
}

/** A user made for a test, with the password it signs in with. */
export interface TestUser {
  username: string;
  password: string;
  role: Role;
}

/** Adds a user of this role (operators get `rooms`). */
export async function addTestUser(repo: Repository, role: Role, rooms: string[] = []): Promise<TestUser> {
  const username = `${role}-${randomUUID().slice(0, 8)}`;
  const password = `pw-${randomUUID()}`;
  await addUser(repo, { username, role, rooms, password }, new Date().toISOString());
  return { username, password, role };
}

/** Headers of a signed-in console session: the cookie and the CSRF token. */
export type SessionHeaders = Record<string, string> & {
  cookie: string;
  'x-csrf-token': string;
};

/** Signs in through POST /api/v1/session and returns the headers later requests carry. */
export async function signIn(
  app: FastifyInstance,
  user: Pick<TestUser, 'username' | 'password'>,
): Promise<SessionHeaders> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username: user.username, password: user.password },
  });
  if (res.statusCode !== 200)
    throw new Error(`sign-in of ${user.username} failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'quanlu_session');
  if (!cookie) throw new Error('sign-in set no session cookie');
  return { cookie: `quanlu_session=${cookie.value}`, 'x-csrf-token': res.json().csrfToken };
}

/**
 * `Authorization: Bearer` headers of a new user of this role, made straight in the repository:
 * what tests of other features use to call the API (e2e tests over fetch included).
 */
export async function bearerHeaders(
  repo: Repository,
  role: Role = 'supervisor',
  rooms: string[] = [],
): Promise<{ authorization: string }> {
  const user = await addTestUser(repo, role, rooms);
  const token = newApiToken();
  await repo.insertApiToken(secretHash(token), user.username, new Date().toISOString());
  return { authorization: `Bearer ${token}` };
}

/** The coded error of a refused response. */
export function errorCode(res: LightMyRequestResponse): string | undefined {
  return (res.json() as { error?: { code?: string } }).error?.code;
}

/** Indexes the open entry of a one-track recording in `room`; returns the recording id. */
export async function indexRecording(
  repo: Repository,
  room: string,
  caseId = 'AUTH-2026-0001',
): Promise<string> {
  const recording = randomUUID();
  const key = testKey(9);
  const chain = new TrackChain({
    gateway: 'gw-auth-test',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording,
    track: 'cam-1',
  });
  const signed = chain.open({
    sealedAt: isoTime(T0),
    clock: CLOCK,
    start: isoTime(T0),
    continuity: 'continuous',
    case: { id: caseId, matter: '询问', officers: ['31010001'], room },
    source: { kind: 'camera', name: 'cam-1', device: null, officer: null },
    startedBy: 'operator-1',
  });
  const entry = Entry.parse(signed.entry);
  await repo.indexBatch([{ signed, entry, entryText: canonicalText(signed.entry) }]);
  return recording;
}

/** Rows in a table: for "nothing was written" checks. */
export async function countRows(
  db: Database,
  table:
    | 'users'
    | 'sessions'
    | 'api_tokens'
    | 'access_reasons'
    | 'audit_log'
    | 'gateways'
    | 'device_assignments'
    | 'footage_assignments',
): Promise<number> {
  const res = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(res.rows[0]!.n);
}
