/** @module Builds one track's hash chain: numbering, linking, signing and the closing Merkle root. */
import type { KeyObject } from 'node:crypto';
import {
  ALG,
  type ClockReading,
  type CloseEntry,
  type Entry,
  type GapEntry,
  type OpenEntry,
  type SegmentEntry,
  type SignedEntry,
  sealEntry,
} from './entry.ts';
import { merkleRoot } from './merkle.ts';

/** Who signs, and which chain. */
export interface ChainIdentity {
  gateway: string;
  keyFingerprint: string;
  privateKey: KeyObject;
  recording: string;
  track: string;
}

/** Where a chain stands: enough to continue it after a restart. */
export interface ChainState {
  /** seq of the next entry. */
  nextSeq: number;
  /** hash of the last entry, null before open. */
  prev: string | null;
  /** object hashes of the segments so far, in order, for the closing root. */
  segmentHashes: string[];
  closed: boolean;
}

type Fields<T> = Omit<T, 'v' | 'alg' | 'gateway' | 'key' | 'recording' | 'track' | 'seq' | 'prev' | 'kind'>;

/** Thrown when the chain is used out of order (a programming error, not an evidence problem). */
export class ChainStateError extends Error {
  readonly code = 'CHAIN_STATE';
  override readonly name = 'ChainStateError';
}

/** A track's chain. Each call returns the sealed entry to spool; the caller persists it before acting on it. */
export class TrackChain {
  readonly #id: ChainIdentity;
  #state: ChainState;

  constructor(id: ChainIdentity, state?: ChainState) {
    this.#id = id;
    this.#state = state
      ? { ...state, segmentHashes: [...state.segmentHashes] }
      : { nextSeq: 0, prev: null, segmentHashes: [], closed: false };
  }

  /** Rebuilds the state from the chain's entries so far (in seq order). */
  static stateOf(entries: readonly SignedEntry[]): ChainState {
    const state: ChainState = { nextSeq: 0, prev: null, segmentHashes: [], closed: false };
    for (const e of entries) {
      const entry = e.entry as Entry;
      state.nextSeq = entry.seq + 1;
      state.prev = e.hash;
      if (entry.kind === 'segment') state.segmentHashes.push(entry.object.sha256);
      if (entry.kind === 'close') state.closed = true;
    }
    return state;
  }

  /** A copy of the current state. */
  get state(): ChainState {
    return { ...this.#state, segmentHashes: [...this.#state.segmentHashes] };
  }

  /** seq 0: the track opens. */
  open(fields: Fields<OpenEntry>): SignedEntry {
    if (this.#state.nextSeq !== 0) throw new ChainStateError('open must be the first entry of a chain');
    return this.#seal({ ...fields, kind: 'open' });
  }

  /** One media object sealed into the chain. */
  segment(fields: Fields<SegmentEntry>): SignedEntry {
    const signed = this.#seal({ ...fields, kind: 'segment' });
    this.#state.segmentHashes.push(fields.object.sha256);
    return signed;
  }

  /** Footage is missing for a span, and why. */
  gap(fields: Fields<GapEntry>): SignedEntry {
    return this.#seal({ ...fields, kind: 'gap' });
  }

  /** Closes the chain with the Merkle root of every segment hash. */
  close(fields: Omit<Fields<CloseEntry>, 'segments' | 'merkleRoot'>): SignedEntry {
    const leaves = this.#state.segmentHashes.map((h) => Buffer.from(h, 'hex'));
    const signed = this.#seal({
      ...fields,
      kind: 'close',
      segments: leaves.length,
      merkleRoot: merkleRoot(leaves).toString('hex'),
    });
    this.#state.closed = true;
    return signed;
  }

  #seal(
    fields: { kind: Entry['kind']; sealedAt: string; clock: ClockReading } & Record<string, unknown>,
  ): SignedEntry {
    if (this.#state.closed) throw new ChainStateError('the chain is closed');
    if (this.#state.nextSeq === 0 && fields.kind !== 'open')
      throw new ChainStateError('a chain starts with open');
    const entry = {
      v: 1,
      alg: ALG,
      gateway: this.#id.gateway,
      key: this.#id.keyFingerprint,
      recording: this.#id.recording,
      track: this.#id.track,
      seq: this.#state.nextSeq,
      prev: this.#state.prev,
      ...fields,
    } as Entry;
    const signed = sealEntry(entry, this.#id.privateKey);
    this.#state.nextSeq += 1;
    this.#state.prev = signed.hash;
    return signed;
  }
}

/** The segment-root a close entry must carry for these object hashes (hex). */
export function segmentRoot(hashes: readonly string[]): string {
  return merkleRoot(hashes.map((h) => Buffer.from(h, 'hex'))).toString('hex');
}

/** Re-exported for callers that only build chains. */
export type { ClockReading };
