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
 * How long one audit record stands for a viewing: a player fetches a track's playlist and segments every few
 * seconds, and one record per request would bury every other action of the log. Within this window the same
 * session's repeated `playlist` or `media` requests for the same track are covered by the first record;
 * after it, or from another session, a new record is written. Refusals are always written.
 */
export const VIEW_AUDIT_WINDOW_MS = 5 * 60_000;

/** Actions a player repeats while it plays: audited once per session, track and window. */
const REPEATED: ReadonlySet<AccessTarget['action']> = new Set(['playlist', 'media']);

/**
 * The access rules of the console and API [DESIGN invariant 4: every view, download and
 * verification is written to the audit log with who, what, when, from where and why].
 */
export class AuditedAccess implements RecordingAccess, SearchAccess {
  /** When each (session, recording, track, action) viewing was last audited; pruned as it grows. */
  readonly #audited = new Map<string, number>();

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
    const key = REPEATED.has(action) ? `${ctx.credential}|${recording.id}|${track ?? ''}|${action}` : null;
    const now = this.auth.clock.now();
    const last = key === null ? undefined : this.#audited.get(key);
    if (last !== undefined && now - last < VIEW_AUDIT_WINDOW_MS) return;
    await this.auth.audit(req, { action, recording: recording.id, track: track ?? null, reason });
    // Remembered only once written: a failed audit write refuses the request and is tried again next time.
    if (key !== null) this.#remember(key, now);
  }

  #remember(key: string, now: number): void {
    if (this.#audited.size >= 10_000) {
      for (const [k, at] of this.#audited) if (now - at >= VIEW_AUDIT_WINDOW_MS) this.#audited.delete(k);
    }
    this.#audited.set(key, now);
  }

  /** Operators search only their rooms; every search is audited with its criteria. */
  async scopeSearch(req: FastifyRequest, criteria: Record<string, unknown>): Promise<string[] | null> {
    const ctx = req.auth;
    if (!ctx) throw new IngestError('INGEST_UNAUTHENTICATED', 'sign in first: no valid session or API token');
    await this.auth.audit(req, { action: 'search', detail: JSON.stringify(criteria) });
    return roomScope(ctx.user);
  }
}
