/**
 * @module The reference lists the gateways' consoles sync and look up: the officer list (GET for any signed-in user
 * or API token, PUT for admins, audited) and whether the ingest knows a case.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CaseId } from '../../protocol/entry.ts';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import type { AuditEvent } from '../auth/audit-chain.ts';
import type { OfficerRow, Repository } from '../db/repository.ts';
import { IngestError } from '../errors.ts';

/** An officer credential number (执法证号), the same rule as the gateway console's. */
export const OfficerNumber = z
  .string()
  .regex(/^[A-Za-z0-9-]{4,32}$/, 'a credential number is 4–32 of A-Z, a-z, 0-9 and "-"')
  .describe('officer credential number (执法证号)');

const Officer = z.strictObject({
  number: OfficerNumber,
  name: z.string().trim().min(1).max(100).describe('name shown to the operator'),
  unit: z.string().trim().min(1).max(200).nullable().default(null).describe('unit (所属单位); null: none'),
});

const unique = (numbers: string[]) => new Set(numbers).size === numbers.length;

/** PUT /api/v1/officers: the whole list, numbers unique. */
export const OfficersBody = z
  .strictObject({
    officers: z
      .array(Officer)
      .max(10_000)
      .refine((list) => unique(list.map((o) => o.number)), 'an officer is listed twice'),
  })
  .describe('the officer list (执法人员名单), replacing the one held');

/** The file `quanlu ingest officers import` reads: the console's officersFile shape, `unit` optional. */
export const OfficersFile = z
  .strictObject({
    officers: z
      .array(
        z.strictObject({
          id: OfficerNumber,
          name: z.string().trim().min(1).max(100),
          unit: z.string().trim().min(1).max(200).optional(),
        }),
      )
      .max(10_000)
      .refine((list) => unique(list.map((o) => o.id)), 'an officer is listed twice'),
  })
  .describe('officer list file: officers: [{ id, name, unit? }]');

/** The rows an officer file stands for. */
export function officersFromFile(file: z.output<typeof OfficersFile>): OfficerRow[] {
  return file.officers.map((o) => ({ number: o.id, name: o.name, unit: o.unit ?? null }));
}

/** Replaces the officer list and writes the `officers-import` audit record naming who did it. */
export async function importOfficers(
  repo: Repository,
  officers: readonly OfficerRow[],
  who: Pick<AuditEvent, 'user' | 'role' | 'address'>,
  at: string,
): Promise<number> {
  const n = await repo.replaceOfficers(officers);
  await repo.appendAudit({ ...who, action: 'officers-import', detail: `${n} officers` }, at);
  return n;
}

const CaseParams = z.strictObject({ caseId: CaseId });

/** What the routes need. */
export interface ReferenceRouteDeps {
  repo: Repository;
  clock?: Clock;
}

/** Adds GET/PUT /api/v1/officers and GET /api/v1/cases/:caseId (roles in auth/policy.ts). */
export function registerReferenceRoutes(app: FastifyInstance, deps: ReferenceRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { repo } = deps;
  const clock = deps.clock ?? systemClock;

  r.get(
    '/api/v1/officers',
    { schema: { summary: 'the officer list the gateway consoles check credential numbers against' } },
    async () => ({ officers: await repo.listOfficers(), syncedAt: await repo.officersImportedAt() }),
  );

  r.put(
    '/api/v1/officers',
    { schema: { summary: 'replace the officer list (admin; audited)', body: OfficersBody } },
    async (req) => {
      const who = {
        user: req.auth?.user.username ?? null,
        role: req.auth?.user.role ?? null,
        address: req.ip,
      };
      const n = await importOfficers(repo, req.body.officers, who, isoTime(clock.now()));
      return { officers: n, syncedAt: await repo.officersImportedAt() };
    },
  );

  r.get(
    '/api/v1/cases/:caseId',
    {
      schema: {
        summary: 'whether the ingest knows a case: when it was first seen and its recordings',
        params: CaseParams,
      },
    },
    async (req) => {
      const found = await repo.caseSummary(req.params.caseId);
      if (!found)
        throw new IngestError('INGEST_NOT_FOUND', `the ingest has no recording of case ${req.params.caseId}`);
      return found;
    },
  );
}
