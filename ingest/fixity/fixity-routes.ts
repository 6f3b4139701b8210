/** @module HTTP for fixity: the sweep's progress, last full pass and recent failures (the counters are in /metrics). */
import type { FastifyInstance } from 'fastify';
import type { FixitySweep } from './fixity-sweep.ts';

/** GET /api/v1/fixity: where the running pass is, the last full pass, recent failures. */
export function registerFixityRoutes(app: FastifyInstance, sweep: FixitySweep): void {
  app.get('/api/v1/fixity', async () => sweep.status());
}
