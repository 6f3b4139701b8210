/** @module The rows the repository returns, their mapping from SQL results, and the query wrapper that codes errors. */
import type pg from 'pg';
import type { z } from 'zod';
import type { Entry, TrackSource } from '../../protocol/entry.ts';
import { IngestError } from '../errors.ts';
import type { Database } from './open-database.ts';

/** Anything that runs a query: the pool, or a client holding a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Runs one parameterised statement; a failure becomes INGEST_DB with the statement's purpose. */
export async function run<R extends pg.QueryResultRow = Record<string, unknown>>(
  db: Queryable,
  what: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(sql, params);
  } catch (err) {
    throw dbError(what, err);
  }
}

/** INGEST_DB for a failed database step, keeping the driver error as the cause. */
export function dbError(what: string, err: unknown): IngestError {
  if (err instanceof IngestError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new IngestError('INGEST_DB', `database: ${what} failed: ${text}`, { cause: err });
}

/**
 * Runs `fn` in one transaction on one connection, committing when it returns and rolling back
 * when it throws. On PGlite the pool holds one connection: `fn` must use only `tx`.
 */
export async function transaction<T>(
  db: Database,
  what: string,
  fn: (tx: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (err) {
    throw dbError(`${what} (connect)`, err);
  }
  let broken: Error | undefined;
  try {
    await run(client, `${what} (begin)`, 'BEGIN');
    const result = await fn(client);
    await run(client, `${what} (commit)`, 'COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      // The connection's state is unknown: the pool must not hand it out again.
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw dbError(what, err);
  } finally {
    client.release(broken);
  }
}

/** The key of a track in maps: `${recording}/${track}`. */
export function trackKey(recording: string, track: string): string {
  return `${recording}/${track}`;
}

/** An enrolled gateway. */
export interface GatewayRow {
  id: string;
  /** SHA-256 of the raw public key, lowercase hex: what entries name as `key`. */
  fingerprint: string;
  /** The raw Ed25519 public key, base64url. */
  publicKey: string;
  status: GatewayStatus;
  hostname: string | null;
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

/** Where a gateway's enrollment stands. */
export type GatewayStatus = 'pending' | 'approved' | 'revoked';

/** A recording, as its first open entry described it. */
export interface RecordingRow {
  id: string;
  gateway: string;
  caseId: string | null;
  matter: string | null;
  room: string | null;
  /** Credential numbers (执法证号) of the officers present. */
  officers: string[];
  startedBy: string;
  startedAt: string;
  /** Set when every track is closed. */
  endedAt: string | null;
}

/** A recording with its tracks. */
export interface RecordingWithTracks extends RecordingRow {
  tracks: TrackRow[];
}

/** Where a track's chain stands. */
export type TrackStatus = 'open' | 'closed' | 'broken';

/** A track: its source, its chain head and its running totals. */
export interface TrackRow {
  recording: string;
  track: string;
  gateway: string;
  source: z.infer<typeof TrackSource>;
  continuity: 'continuous' | 'discrete';
  status: TrackStatus;
  brokenCode: string | null;
  brokenReason: string | null;
  lastSeq: number;
  lastHash: string;
  segments: number;
  bytes: number;
  mediaMs: number;
  startedAt: string;
  endedAt: string | null;
  merkleRoot: string | null;
}

/** An indexed entry with the exact text that was hashed and signed. */
export interface StoredEntry {
  hash: string;
  recording: string;
  track: string;
  seq: number;
  kind: Entry['kind'];
  gateway: string;
  /** The entry, parsed from `entryText`. */
  entry: Entry;
  /** The RFC 8785 canonical text whose SHA-256 is `hash`. */
  entryText: string;
  sig: string;
  objectSha256: string | null;
  receivedAt: string;
  /** Acceptance order across the whole ingest (the transparency log's leaf order). */
  logIndex: number;
}

/** A declared hole in a track's footage. */
export interface GapRow {
  recording: string;
  track: string;
  seq: number;
  from: string;
  to: string;
  reason: string;
  detail: string;
}

type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
// int8 arrives as text from pg; every count and seq here stays below 2^53.
const num = (v: unknown): number => Number(v);
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Maps a `gateways` row. */
export function gatewayRow(r: Row): GatewayRow {
  return {
    id: str(r.id),
    fingerprint: str(r.fingerprint),
    publicKey: str(r.public_key),
    status: r.status as GatewayStatus,
    hostname: strOrNull(r.hostname),
    requestedAt: iso(r.requested_at),
    decidedAt: isoOrNull(r.decided_at),
    decidedBy: strOrNull(r.decided_by),
  };
}

/** Maps a `recordings` row. */
export function recordingRow(r: Row): RecordingRow {
  return {
    id: str(r.id),
    gateway: str(r.gateway),
    caseId: strOrNull(r.case_id),
    matter: strOrNull(r.matter),
    room: strOrNull(r.room),
    officers: r.officers as string[],
    startedBy: str(r.started_by),
    startedAt: iso(r.started_at),
    endedAt: isoOrNull(r.ended_at),
  };
}

/** Maps a `tracks` row. */
export function trackRow(r: Row): TrackRow {
  return {
    recording: str(r.recording),
    track: str(r.track),
    gateway: str(r.gateway),
    source: r.source as TrackRow['source'],
    continuity: r.continuity as TrackRow['continuity'],
    status: r.status as TrackStatus,
    brokenCode: strOrNull(r.broken_code),
    brokenReason: strOrNull(r.broken_reason),
    lastSeq: num(r.last_seq),
    lastHash: str(r.last_hash),
    segments: num(r.segments),
    bytes: num(r.bytes),
    mediaMs: num(r.media_ms),
    startedAt: iso(r.started_at),
    endedAt: isoOrNull(r.ended_at),
    merkleRoot: strOrNull(r.merkle_root),
  };
}

/** Maps an `entries` row (selected without the jsonb copy: the text is parsed instead). */
export function entryRow(r: Row): StoredEntry {
  const entryText = str(r.entry_text);
  return {
    hash: str(r.hash),
    recording: str(r.recording),
    track: str(r.track),
    seq: num(r.seq),
    kind: r.kind as Entry['kind'],
    gateway: str(r.gateway),
    entry: JSON.parse(entryText) as Entry,
    entryText,
    sig: str(r.sig),
    objectSha256: strOrNull(r.object_sha256),
    receivedAt: iso(r.received_at),
    logIndex: num(r.log_index),
  };
}

/** Maps a `gaps` row. */
export function gapRow(r: Row): GapRow {
  return {
    recording: str(r.recording),
    track: str(r.track),
    seq: num(r.seq),
    from: iso(r.from),
    to: iso(r.to),
    reason: str(r.reason),
    detail: str(r.detail),
  };
}
