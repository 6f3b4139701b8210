/** @module Audited access to recordings: role and room checks, the reason for access, and one audit record per view. */
import type { FastifyRequest } from 'fastify';
import type { AccessTarget, RecordingAccess } from '../api/recording-access.ts';
import { IngestError } from '../errors.ts';
import type { Auth } from './auth.ts';
import { maySeeRoom, roomScope } from './roles.ts';

export type { AccessTarget, RecordingAccess } from '../api/recording-access.ts';
export { allowAll } from '../api/recording-access.ts';

/** The hook the search route calls: narrows a search to what the requester may see, and audits it. */
export interface SearchAccess {
  /** The rooms the search must be limited to (null: every room); writes the `search` audit record. */
  scopeSearch(req: FastifyRequest, criteria: Record<string, unknown>): Promise<string[] | null>;
}

/** Searches everything and audits nothing: for tests of other routes and nothing else. */
export const searchAll: SearchAccess = { scopeSearch: async () => null };

/** Actions that play or hand out media: with `reasonRequired`, these need a reason first. */
const NEEDS_REASON: ReadonlySet<AccessTarget['action']> = new Set(['playlist', 'media', 'download']);

/**
 * The access rules of the console and API [DESIGN invariant 4: every view, download and
 * verification is written to the audit log with who, what, when, from where and why].
 */
export class AuditedAccess implements RecordingAccess, SearchAccess {
  constructor(private readonly auth: Auth) {}

  /** Throws 401/403 unless the requester may see this recording; otherwise writes the audit record. */
  async authorize(req: FastifyRequest, target: AccessTarget): Promise<void> {
    const ctx = req.auth;
    if (!ctx) throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first: no valid session or API token');
    const { recording, track, action } = target;
    if (!maySeeRoom(ctx.user, recording.room)) {
      await this.auth.audit(req, {
        action: 'access-refused',
        recording: recording.id,
        track: track ?? null,
        detail: `INGEST_FORBIDDEN ${action}`,
      });
      throw new IngestError(
        'INGEST_FORBIDDEN',
        `recording ${recording.id} was not made in one of your rooms`,
      );
    }
    const reason = await this.auth.repo.accessReason(ctx.credential, recording.id);
    if (reason === null && this.auth.access.reasonRequired && NEEDS_REASON.has(action)) {
      throw new IngestError(
        'INGEST_REASON_REQUIRED',
        `give a reason for access to recording ${recording.id} first (POST /api/v1/recordings/${recording.id}/access)`,
      );
    }
    await this.auth.audit(req, { action, recording: recording.id, track: track ?? null, reason });
  }

  /** Operators search only their rooms; every search is audited with its criteria. */
  async scopeSearch(req: FastifyRequest, criteria: Record<string, unknown>): Promise<string[] | null> {
    const ctx = req.auth;
    if (!ctx) throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first: no valid session or API token');
    await this.auth.audit(req, { action: 'search', detail: JSON.stringify(criteria) });
    return roomScope(ctx.user);
  }
}
