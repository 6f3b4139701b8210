/** @module Test fixture for the spool: real signed chains and staged objects (imported, runs no tests itself). */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { StagedObject } from '../../gateway/spool/put-input.ts';
import type { Spool } from '../../gateway/spool/spool.ts';
import { TrackChain } from '../../protocol/chain.ts';
import type { SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';

/** The instant test chains open at. */
export const T0 = Date.UTC(2026, 10, 27, 1, 0, 0);

const CLOCK = { offsetMs: 0, rttMs: null, source: 'none' };

/** A chain of one track, signed with a fresh (or given) key. */
export function newChain(opts: { recording?: string; track?: string; key?: KeyPair } = {}): TrackChain {
  const key = opts.key ?? generateKeyPair();
  return new TrackChain({
    gateway: 'gw-test',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording: opts.recording ?? randomUUID(),
    track: opts.track ?? 'cam1',
  });
}

/** Seals the open entry of a camera track. */
export function openEntry(chain: TrackChain, at = T0): SignedEntry {
  return chain.open({
    sealedAt: isoTime(at),
    clock: CLOCK,
    start: isoTime(at),
    continuity: 'continuous',
    case: null,
    source: { kind: 'camera', name: 'camera 1', device: null, officer: null },
    startedBy: 'operator',
  });
}

/** Writes bytes into the spool's staging folder, hashing them as they are written. */
export function stage(spool: Spool, name: string, bytes: Uint8Array): StagedObject {
  const path = spool.stagingPath(name);
  writeFileSync(path, bytes);
  return { path, sha256: sha256Hex(bytes), size: bytes.length };
}

/** Seals a 4-second segment for a staged object. */
export function segmentEntry(chain: TrackChain, object: StagedObject, at = T0): SignedEntry {
  return chain.segment({
    sealedAt: isoTime(at + 4000),
    clock: CLOCK,
    object: { sha256: object.sha256, size: object.size },
    start: isoTime(at),
    durationMs: 4000,
    container: 'mpegts',
    name: null,
  });
}

/** Seals a gap entry. */
export function gapEntry(chain: TrackChain, at = T0): SignedEntry {
  return chain.gap({
    sealedAt: isoTime(at + 1000),
    clock: CLOCK,
    from: isoTime(at),
    to: isoTime(at + 1000),
    reason: 'storage-error',
    detail: 'spool full',
  });
}

/** Seals the close entry. */
export function closeEntry(chain: TrackChain, at = T0): SignedEntry {
  return chain.close({ sealedAt: isoTime(at), clock: CLOCK, end: isoTime(at), reason: 'stopped' });
}
