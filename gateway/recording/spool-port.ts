/** @module What the recording needs of the spool: the narrow port the recorder is written against. */
import type { SignedEntry } from '../../protocol/entry.ts';

/** A recording the gateway is running, as kept for a restart. */
export interface ActiveRecordingRow {
  id: string;
  case: unknown;
  room: string;
  startedBy: string;
  startedAt: number;
  tracks: string[];
}

/** The spool as the recorder uses it. */
export interface EvidenceSpool {
  /** A path in the staging folder, on the same file system as the objects. */
  stagingPath(name: string): string;
  /** Seals an entry (and moves its object in) atomically. */
  put(signed: SignedEntry, object?: { path: string; sha256: string; size: number }): unknown;
  /** A chain's entries in seq order. */
  chain(recording: string, track: string): SignedEntry[];
  beginRecording(row: ActiveRecordingRow): unknown;
  activeRecording(): ActiveRecordingRow | null;
  endRecording(id: string, endedAt: number): unknown;
}
