/** @module The hook media and recording routes call before answering: may this requester see this recording? (auth implements it.) */
import type { FastifyRequest } from 'fastify';
import type { RecordingRow } from '../db/rows.ts';

/** What a request is about to see. */
export interface AccessTarget {
  recording: RecordingRow;
  track?: string;
  action: 'view-recording' | 'playlist' | 'media' | 'download' | 'verify';
}

/**
 * Decides whether a request may see a recording, and writes the audit record [DESIGN invariant 4]. The
 * implementation with users, roles, reasons and the audit log is the auth module's (ingest/auth/access.ts).
 */
export interface RecordingAccess {
  /** Throws a 401/403 IngestError unless the requester may see this recording; writes the audit record. */
  authorize(req: FastifyRequest, target: AccessTarget): Promise<void>;
}

/** Lets every request through and audits nothing: for tests of other routes and nothing else. */
export const allowAll: RecordingAccess = {
  authorize: async () => {},
};
