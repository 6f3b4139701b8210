/** @module Builds a body-worn device's chain at a dock: open, file entries, dispositions, close [EVIDENCE §4.8–§4.9, §6.7]. */

import type { ChainIdentity, ChainState } from './chain.ts';
import {
  ALG,
  type ClockReading,
  type CloseEntry,
  type DispositionEntry,
  type Entry,
  type FileEntry,
  type OpenEntry,
  type SignedEntry,
  sealEntry,
} from './entry.ts';
import { merkleRoot } from './merkle.ts';

type Fields<T> = Omit<T, 'v' | 'alg' | 'gateway' | 'key' | 'recording' | 'track' | 'seq' | 'prev' | 'kind'>;

/** Thrown when a device chain is used out of order (a programming error, not an evidence problem). */
export class DeviceChainError extends Error {
  readonly code = 'CHAIN_STATE';
  override readonly name = 'DeviceChainError';
}

/**
 * A device's chain. Like TrackChain, but its objects are whole files and it can record what the dock did
 * to each file afterwards. Each call returns the sealed entry; the caller persists it before acting on it.
 */
export class DeviceChain {
  readonly #id: ChainIdentity;
  #state: ChainState;
  #disposing = false;

  constructor(id: ChainIdentity, entries: readonly SignedEntry[] = []) {
    this.#id = id;
    this.#state = DeviceChain.stateOf(entries);
    this.#disposing = entries.some((e) => (e.entry as Entry).kind === 'disposition');
  }

  /** The state after these entries (in seq order): file objects count for the close root like segments. */
  static stateOf(entries: readonly SignedEntry[]): ChainState {
    const state: ChainState = { nextSeq: 0, prev: null, segmentHashes: [], closed: false };
    for (const e of entries) {
      const entry = e.entry as Entry;
      state.nextSeq = entry.seq + 1;
      state.prev = e.hash;
      if (entry.kind === 'segment' || entry.kind === 'file') state.segmentHashes.push(entry.object.sha256);
      if (entry.kind === 'close') state.closed = true;
    }
    return state;
  }

  /** A copy of the current state. */
  get state(): ChainState {
    return { ...this.#state, segmentHashes: [...this.#state.segmentHashes] };
  }

  /** seq 0: the device's chain opens, naming the device and its officer. */
  open(fields: Fields<OpenEntry>): SignedEntry {
    if (this.#state.nextSeq !== 0) throw new DeviceChainError('open must be the first entry of a chain');
    if (fields.source.kind !== 'bodycam' || fields.continuity !== 'discrete')
      throw new DeviceChainError('a device chain is a discrete bodycam chain');
    return this.#seal({ ...fields, kind: 'open' });
  }

  /** One whole file of the device. Never after a disposition [EVIDENCE §6.7]. */
  file(fields: Fields<FileEntry>): SignedEntry {
    if (this.#disposing) throw new DeviceChainError('no file may be sealed after a disposition');
    const signed = this.#seal({ ...fields, kind: 'file' });
    this.#state.segmentHashes.push(fields.object.sha256);
    return signed;
  }

  /** The dock deleted or moved a file that an earlier file entry of this chain sealed. */
  disposition(fields: Fields<DispositionEntry>): SignedEntry {
    this.#disposing = true;
    return this.#seal({ ...fields, kind: 'disposition' });
  }

  /** Closes the chain with the Merkle root of its file objects. */
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
    if (this.#state.closed) throw new DeviceChainError('the chain is closed');
    if (this.#state.nextSeq === 0 && fields.kind !== 'open')
      throw new DeviceChainError('a chain starts with open');
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
