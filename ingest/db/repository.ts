/** @module The ingest's repository: every read and write of the index, as typed methods over one database. */
import {
  type ForkReport,
  type IndexBatchResult,
  type IndexedEntry,
  indexBatch,
  markTrackBroken,
  type TrackHead,
  trackHeads,
  type UnlinkedReport,
} from './entry-index.ts';
import {
  entryByHash,
  type RecordingPage,
  type RecordingQuery,
  recording,
  searchRecordings,
  trackEntries,
  trackGaps,
} from './evidence-search.ts';
import {
  decideGateway,
  type EnrollmentRequest,
  type GatewayDecision,
  gatewayById,
  listGateways,
  upsertEnrollment,
} from './gateway-store.ts';
import type { Database } from './open-database.ts';
import {
  type GapRow,
  type GatewayRow,
  type RecordingWithTracks,
  type StoredEntry,
  trackKey,
} from './rows.ts';

/** The repository's methods; see each function's module for the rules it keeps. */
export interface Repository {
  /** The gateway with this id, or null. */
  gatewayById(id: string): Promise<GatewayRow | null>;
  /** Records an enrollment request (pending, unchanged or re-keyed); throws INGEST_ENROLL_INVALID when refused. */
  upsertEnrollment(req: EnrollmentRequest): Promise<GatewayRow>;
  /** Approves or revokes the gateway holding this key; null for an unknown key. */
  decideGateway(fingerprint: string, decision: GatewayDecision, by: string): Promise<GatewayRow | null>;
  /** Every gateway, oldest request first. */
  listGateways(): Promise<GatewayRow[]>;
  /** Indexed heads by `${recording}/${track}`, for the chain-link check. */
  trackHeads(pairs: ReadonlyArray<{ recording: string; track: string }>): Promise<Map<string, TrackHead>>;
  /** Indexes verified entries in one transaction; reports inserted, present, forks and unlinked. */
  indexBatch(entries: readonly IndexedEntry[]): Promise<IndexBatchResult>;
  /** Marks a track broken (the first cause is kept); false when there is no such track. */
  markTrackBroken(recording: string, track: string, code: string, reason: string): Promise<boolean>;
  /** Finds recordings by case elements, gateway and time, newest first. */
  searchRecordings(query: RecordingQuery): Promise<RecordingPage>;
  /** A recording with its tracks, or null. */
  recording(id: string): Promise<RecordingWithTracks | null>;
  /** A page of a track's entries in seq order. */
  trackEntries(
    recording: string,
    track: string,
    page: { afterSeq?: number; limit: number },
  ): Promise<StoredEntry[]>;
  /** A track's declared gaps in seq order. */
  trackGaps(recording: string, track: string): Promise<GapRow[]>;
  /** The entry with this hash, or null. */
  entryByHash(hash: string): Promise<StoredEntry | null>;
}

/** The repository over an open (and migrated) database. */
export function createRepository(db: Database): Repository {
  const { pool } = db;
  return {
    gatewayById: (id) => gatewayById(pool, id),
    upsertEnrollment: (req) => upsertEnrollment(db, req),
    decideGateway: (fingerprint, decision, by) => decideGateway(pool, fingerprint, decision, by),
    listGateways: () => listGateways(pool),
    trackHeads: (pairs) => trackHeads(pool, pairs),
    indexBatch: (entries) => indexBatch(db, entries),
    markTrackBroken: (rec, track, code, reason) => markTrackBroken(pool, rec, track, code, reason),
    searchRecordings: (query) => searchRecordings(pool, query),
    recording: (id) => recording(pool, id),
    trackEntries: (rec, track, page) => trackEntries(pool, rec, track, page),
    trackGaps: (rec, track) => trackGaps(pool, rec, track),
    entryByHash: (hash) => entryByHash(pool, hash),
  };
}

export type { GapRow, GatewayRow, RecordingRow, RecordingWithTracks, StoredEntry, TrackRow } from './rows.ts';
export type {
  EnrollmentRequest,
  ForkReport,
  GatewayDecision,
  IndexBatchResult,
  IndexedEntry,
  RecordingPage,
  RecordingQuery,
  TrackHead,
  UnlinkedReport,
};
export { trackKey };
