/** @module What the spool knows about one entry, as its callers see it. */
import type { EntryKind, SignedEntry } from '../../protocol/entry.ts';
import type { EntryState } from './entry-state.ts';

/** The media object a segment entry seals. */
export interface SpooledObject {
  sha256: string;
  size: number;
}

/** One spooled entry with its state. */
export interface SpoolRecord {
  hash: string;
  /** The signed envelope, exactly as sealed. */
  signed: SignedEntry;
  recording: string;
  track: string;
  seq: number;
  kind: EntryKind;
  /** The segment's object, null for open, gap and close entries. */
  object: SpooledObject | null;
  /** True once reclaim removed the object file (only ever for acknowledged entries). */
  objectReclaimed: boolean;
  state: EntryState;
  /** The ingest's reason, when it rejected the entry. */
  rejection: { code: string; reason: string } | null;
  /** The order entries were spooled in: strictly increasing, independent of the wall clock. */
  order: number;
  /** Injected-clock ms when the entry was spooled. */
  createdAt: number;
  /** Injected-clock ms of the last state change. */
  stateAt: number;
}

/** A row of the entries table. */
export interface EntryRow {
  hash: string;
  created_seq: number;
  recording: string;
  track: string;
  seq: number;
  kind: EntryKind;
  entry: string;
  sig: string;
  object_sha256: string | null;
  object_size: number | null;
  state: EntryState;
  reject_code: string | null;
  reject_reason: string | null;
  created_at: number;
  state_at: number;
  reclaimed_at: number | null;
}

/** The envelope stored in a row. */
export function signedOf(row: EntryRow): SignedEntry {
  return { entry: JSON.parse(row.entry) as Record<string, unknown>, hash: row.hash, sig: row.sig };
}

/** A row as a record. */
export function recordOf(row: EntryRow): SpoolRecord {
  return {
    hash: row.hash,
    signed: signedOf(row),
    recording: row.recording,
    track: row.track,
    seq: row.seq,
    kind: row.kind,
    object: row.object_sha256 === null ? null : { sha256: row.object_sha256, size: Number(row.object_size) },
    objectReclaimed: row.reclaimed_at !== null,
    state: row.state,
    rejection:
      row.state === 'rejected' ? { code: row.reject_code ?? '', reason: row.reject_reason ?? '' } : null,
    order: row.created_seq,
    createdAt: row.created_at,
    stateAt: row.state_at,
  };
}
