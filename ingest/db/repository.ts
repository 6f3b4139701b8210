/** @module The ingest's repository: every read and write of the index, as typed methods over one database. */

import type { AuditEvent, AuditHead, AuditRecord, AuditVerdict } from '../auth/audit-chain.ts';
import {
  type AuditPage,
  type AuditQuery,
  appendAudit,
  auditHead,
  searchAudit,
  verifyAuditLog,
} from './audit-store.ts';
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
  type RevokedKey,
  revokedKeys,
  upsertEnrollment,
} from './gateway-store.ts';
import type { Database } from './open-database.ts';
import {
  recordingVerificationFacts,
  type SegmentObject,
  segmentObject,
  type TrackMedia,
  type TrackVerificationFacts,
  trackMedia,
} from './playlist-query.ts';
import {
  type CaseSummary,
  caseSummary,
  listOfficers,
  type OfficerRow,
  officersImportedAt,
  replaceOfficers,
} from './reference-store.ts';
import {
  type GapRow,
  type GatewayRow,
  type RecordingWithTracks,
  type StoredEntry,
  trackKey,
} from './rows.ts';
import {
  accessReason,
  deleteExpiredSessions,
  deleteSession,
  insertApiToken,
  insertSession,
  insertUser,
  listUsers,
  type NewUser,
  type SessionRow,
  sessionByHash,
  setAccessReason,
  touchSession,
  type UserChange,
  type UserRow,
  type UserWithPassword,
  updateUser,
  userByApiToken,
  userForSignIn,
} from './user-store.ts';

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
  /** Every key revoked or replaced, ever, with the keys of gateways revoked now: what the Mosquitto CRL names. */
  revokedKeys(): Promise<RevokedKey[]>;
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
  // playlists and media (playlist-query.ts)
  /** A track's segments, gaps and close after `afterSeq` (all by default) and its recording; null if none. */
  trackMedia(recording: string, track: string, afterSeq?: number): Promise<TrackMedia | null>;
  /** The object of one segment with its recording; null for no such recording. */
  segmentObject(recording: string, track: string, seq: number): Promise<SegmentObject | null>;
  /** What each track's verification state is decided from, by track id. */
  recordingVerificationFacts(recording: string): Promise<Map<string, TrackVerificationFacts>>;
  // users, sessions and the audit log (user-store.ts, audit-store.ts)
  /** Adds a user; INGEST_USER_EXISTS when the name is taken. */
  insertUser(user: NewUser, at: string): Promise<UserRow>;
  /** The user with its password hash, or null. */
  userForSignIn(username: string): Promise<UserWithPassword | null>;
  /** Every user, by name. */
  listUsers(): Promise<UserRow[]>;
  /** Changes a user (disabling or a new password ends its sessions and tokens); null when unknown. */
  updateUser(username: string, change: UserChange, at: string): Promise<UserRow | null>;
  /** Stores a session under the hash of its token. */
  insertSession(s: Parameters<typeof insertSession>[1]): Promise<void>;
  /** The session with this token hash and its user, or null. */
  sessionByHash(tokenHash: string): Promise<SessionRow | null>;
  /** Marks a session used at `at`. */
  touchSession(tokenHash: string, at: string): Promise<void>;
  /** Ends a session and forgets its reasons for access. */
  deleteSession(tokenHash: string): Promise<void>;
  /** Removes sessions past their absolute end; returns how many. */
  deleteExpiredSessions(at: string): Promise<number>;
  /** Records a reason for access to a recording under a session or token hash. */
  setAccessReason(credential: string, recording: string, reason: string, at: string): Promise<void>;
  /** The reason given under a session or token hash for a recording, or null. */
  accessReason(credential: string, recording: string): Promise<string | null>;
  /** Stores the hash of a new API token. */
  insertApiToken(tokenHash: string, username: string, at: string): Promise<void>;
  /** The user of an API token (by hash), marking it used; null when unknown. */
  userByApiToken(tokenHash: string, at: string): Promise<UserRow | null>;
  /** Appends a record to the hash-chained audit log. */
  appendAudit(event: AuditEvent, at: string): Promise<AuditRecord>;
  /** Finds audit records, newest first. */
  searchAudit(query: AuditQuery): Promise<AuditPage>;
  /** The audit log's size and last hash. */
  auditHead(): Promise<AuditHead>;
  /** Re-checks the audit log's whole hash chain. */
  verifyAuditLog(): Promise<AuditVerdict>;
  // reference lists for the gateways' consoles (reference-store.ts)
  /** The officer list, by credential number. */
  listOfficers(): Promise<OfficerRow[]>;
  /** Replaces the officer list atomically; returns how many officers it now holds. */
  replaceOfficers(officers: readonly OfficerRow[]): Promise<number>;
  /** When the officer list was last replaced, or null. */
  officersImportedAt(): Promise<string | null>;
  /** A case the ingest knows, with its number of recordings, or null. */
  caseSummary(caseId: string): Promise<CaseSummary | null>;
}

/** The repository over an open (and migrated) database. */
export function createRepository(db: Database): Repository {
  const { pool } = db;
  return {
    gatewayById: (id) => gatewayById(pool, id),
    upsertEnrollment: (req) => upsertEnrollment(db, req),
    decideGateway: (fingerprint, decision, by) => decideGateway(pool, fingerprint, decision, by),
    listGateways: () => listGateways(pool),
    revokedKeys: () => revokedKeys(pool),
    trackHeads: (pairs) => trackHeads(pool, pairs),
    indexBatch: (entries) => indexBatch(db, entries),
    markTrackBroken: (rec, track, code, reason) => markTrackBroken(pool, rec, track, code, reason),
    searchRecordings: (query) => searchRecordings(pool, query),
    recording: (id) => recording(pool, id),
    trackEntries: (rec, track, page) => trackEntries(pool, rec, track, page),
    trackGaps: (rec, track) => trackGaps(pool, rec, track),
    entryByHash: (hash) => entryByHash(pool, hash),
    trackMedia: (rec, track, afterSeq) => trackMedia(pool, rec, track, afterSeq),
    segmentObject: (rec, track, seq) => segmentObject(pool, rec, track, seq),
    recordingVerificationFacts: (rec) => recordingVerificationFacts(pool, rec),
    insertUser: (user, at) => insertUser(pool, user, at),
    userForSignIn: (username) => userForSignIn(pool, username),
    listUsers: () => listUsers(pool),
    updateUser: (username, change, at) => updateUser(db, username, change, at),
    insertSession: (s) => insertSession(pool, s),
    sessionByHash: (hash) => sessionByHash(pool, hash),
    touchSession: (hash, at) => touchSession(pool, hash, at),
    deleteSession: (hash) => deleteSession(pool, hash),
    deleteExpiredSessions: (at) => deleteExpiredSessions(db, at),
    setAccessReason: (cred, rec, reason, at) => setAccessReason(pool, cred, rec, reason, at),
    accessReason: (cred, rec) => accessReason(pool, cred, rec),
    insertApiToken: (hash, username, at) => insertApiToken(pool, hash, username, at),
    userByApiToken: (hash, at) => userByApiToken(pool, hash, at),
    appendAudit: (event, at) => appendAudit(db, event, at),
    searchAudit: (query) => searchAudit(pool, query),
    auditHead: () => auditHead(pool),
    verifyAuditLog: () => verifyAuditLog(pool),
    listOfficers: () => listOfficers(pool),
    replaceOfficers: (officers) => replaceOfficers(db, officers),
    officersImportedAt: () => officersImportedAt(pool),
    caseSummary: (caseId) => caseSummary(pool, caseId),
  };
}

export type { GapRow, GatewayRow, RecordingRow, RecordingWithTracks, StoredEntry, TrackRow } from './rows.ts';
export type {
  AuditPage,
  AuditQuery,
  CaseSummary,
  EnrollmentRequest,
  ForkReport,
  GatewayDecision,
  IndexBatchResult,
  IndexedEntry,
  NewUser,
  OfficerRow,
  RecordingPage,
  RecordingQuery,
  RevokedKey,
  SessionRow,
  TrackHead,
  UnlinkedReport,
  UserChange,
  UserRow,
  UserWithPassword,
};
export { trackKey };
