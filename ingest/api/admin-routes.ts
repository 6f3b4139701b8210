/** @module Administration: users, their API tokens, and the approval or revocation of gateways. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Auth } from '../auth/auth.ts';
import {
  addUser,
  changeUser,
  describeChange,
  NewUserInput,
  UserChangeInput,
  Username,
  UserView,
} from '../auth/users.ts';
import type { GatewayDecision, GatewayRow } from '../db/repository.ts';
import { IngestError } from '../errors.ts';

/** Approves or revokes a gateway and makes broker and consumer see it at once (`Ingest.decide`). */
export type DecideGateway = (
  fingerprint: string,
  decision: GatewayDecision,
  by: string,
) => Promise<GatewayRow | null>;

const GatewayView = z.object({
  id: z.string(),
  fingerprint: z.string(),
  publicKey: z.string(),
  status: z.enum(['pending', 'approved', 'revoked']),
  hostname: z.string().nullable(),
  requestedAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
});

const Fingerprint = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a key fingerprint is 64 lowercase hex characters')
  .describe("SHA-256 of the gateway's public key");

/** Adds /api/v1/users and /api/v1/gateways/:fingerprint/approve|revoke (admins only, see auth/policy.ts). */
export function registerAdminRoutes(app: FastifyInstance, auth: Auth, decide: DecideGateway): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/users',
    { schema: { response: { 200: z.object({ users: z.array(UserView) }) } } },
    async () => ({
      users: await auth.repo.listUsers(),
    }),
  );

  r.post(
    '/api/v1/users',
    {
      schema: {
        body: NewUserInput,
        response: {
          201: z.object({
            user: UserView,
            password: z
              .string()
              .nullable()
              .describe('the generated password, shown this once; null when given'),
          }),
        },
      },
    },
    async (req, reply) => {
      const { user, generatedPassword } = await addUser(auth.repo, req.body, auth.now());
      await auth.audit(req, {
        action: 'user-add',
        detail: JSON.stringify({ username: user.username, role: user.role, rooms: user.rooms }),
      });
      return reply.status(201).send({ user, password: generatedPassword });
    },
  );

  r.patch(
    '/api/v1/users/:username',
    {
      schema: {
        params: z.strictObject({ username: Username }),
        body: UserChangeInput,
        response: { 200: z.object({ user: UserView }) },
      },
    },
    async (req) => {
      const user = await changeUser(auth.repo, req.params.username, req.body, auth.now());
      await auth.audit(req, {
        action: 'user-change',
        detail: JSON.stringify({ username: user.username, change: JSON.parse(describeChange(req.body)) }),
      });
      return { user };
    },
  );

  r.post(
    '/api/v1/users/:username/tokens',
    {
      schema: {
        params: z.strictObject({ username: Username }),
        response: { 201: z.object({ token: z.string().describe('shown this once; only its hash is kept') }) },
      },
    },
    async (req, reply) => {
      const users = await auth.repo.listUsers();
      if (!users.some((u) => u.username === req.params.username && !u.disabled))
        throw new IngestError('INGEST_NOT_FOUND', `no enabled user ${req.params.username}`);
      const token = await auth.issueToken(req.params.username);
      await auth.audit(req, {
        action: 'token-issue',
        detail: JSON.stringify({ username: req.params.username }),
      });
      return reply.status(201).send({ token });
    },
  );

  for (const [name, decision] of [
    ['approve', 'approved'],
    ['revoke', 'revoked'],
  ] as const) {
    r.post(
      `/api/v1/gateways/:fingerprint/${name}`,
      {
        schema: {
          params: z.strictObject({ fingerprint: Fingerprint }),
          response: { 200: z.object({ gateway: GatewayView }) },
        },
      },
      async (req) => {
        const by = req.auth?.user.username ?? 'unknown';
        const gateway = await decide(req.params.fingerprint, decision, by);
        if (!gateway)
          throw new IngestError(
            'INGEST_NOT_FOUND',
            `no gateway has asked to enroll with key ${req.params.fingerprint}`,
          );
        await auth.audit(req, {
          action: decision === 'approved' ? 'gateway-approve' : 'gateway-revoke',
          detail: JSON.stringify({ gateway: gateway.id, fingerprint: gateway.fingerprint }),
        });
        return { gateway };
      },
    );
  }
}
