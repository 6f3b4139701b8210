/** @module The console's GET /api/v1/officers: where the officer list comes from, when it was last synced, and whether case ids are looked up. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Officer, OfficerSource } from './officer-list.ts';
import type { OfficerSync } from './officer-sync.ts';

/** What the route needs. */
export interface OfficerSyncRouteDeps {
  officers: { list: Officer[] | null; source: OfficerSource };
  /** Null when no ingest API is configured. */
  sync: OfficerSync | null;
}

/** Adds GET /api/v1/officers (the page shows the sync state and whether Start looks case ids up). */
export function registerOfficerSyncRoutes(app: FastifyInstance, deps: OfficerSyncRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/v1/officers',
    { schema: { summary: 'the officer list in force, its source and the ingest sync state' } },
    async () => ({
      source: deps.officers.source,
      officers: deps.officers.list ?? [],
      sync: deps.sync?.state() ?? null,
      caseLookup: { available: deps.sync !== null },
    }),
  );
}
