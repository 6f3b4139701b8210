/** @module POST /api/v1/gateways/:id/commands: a supervisor or administrator starts or stops a room's recording remotely. */
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { GatewayId } from '../../protocol/entry.ts';
import type { Repository } from '../db/repository.ts';
import { IngestError } from '../errors.ts';
import { CommandRequest, sendCommand } from './commands.ts';

/** The roles that may command a gateway. */
export const COMMAND_ROLES = ['admin', 'supervisor'] as const;

const Params = z.strictObject({ id: GatewayId });

/**
 * Adds the route. The auth hook (ingest/auth) authenticates it like every /api/v1 route; the roles are checked
 * here too, since the route table of ingest/auth/policy.ts does not list it yet.
 */
export function registerCommandRoutes(
  app: FastifyInstance,
  deps: { mqtt: MqttClient; repo: Repository; timeoutMs?: number },
): void {
  app.post('/api/v1/gateways/:id/commands', async (req) => {
    const params = Params.safeParse(req.params);
    const body = CommandRequest.safeParse(req.body);
    if (!params.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(params.error));
    if (!body.success) throw new IngestError('INGEST_BAD_REQUEST', z.prettifyError(body.error));
    const user = (req as { auth?: { user: { username: string; role: string } } | null }).auth?.user;
    if (user && !(COMMAND_ROLES as readonly string[]).includes(user.role)) {
      throw new IngestError('INGEST_FORBIDDEN', `the ${user.role} role may not command a gateway`);
    }
    const gateway = await deps.repo.gatewayById(params.data.id);
    if (gateway?.status !== 'approved') {
      throw new IngestError('INGEST_NOT_FOUND', `no approved gateway ${params.data.id}`);
    }
    return sendCommand(deps.mqtt, params.data.id, body.data, {
      by: user?.username ?? 'api',
      ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
    });
  });
}
