/** @module A track's verification state for the console (verified / pending / broken, with the reason), decided from the index. */
import { merkleRoot } from '../../protocol/merkle.ts';
import type { TrackVerificationFacts } from '../db/playlist-query.ts';
import type { RecordingWithTracks, TrackRow } from '../db/rows.ts';

/** Where a track's verification stands, and why (null when verified). */
export interface Verification {
  state: 'verified' | 'pending' | 'broken';
  reason: string | null;
}

/** A track of the recording body, with its verification state. */
export type VerifiedTrack = TrackRow & { verification: Verification };

/**
 * Decides a track's state. Broken: the consumer marked the chain broken (its code and reason), or the closed
 * chain contradicts its own close entry (segment count, Merkle root over the indexed segment hashes).
 * Verified: closed, every entry up to the close indexed (the index links each entry to its predecessor),
 * every segment's object checked against its hash, and the close entry's Merkle root recomputed from the
 * indexed segments. Pending otherwise: still recording, or entries or object checks still to come.
 */
export function verificationState(facts: TrackVerificationFacts): Verification {
  const { track, close } = facts;
  if (track.status === 'broken') {
    return {
      state: 'broken',
      reason: `${track.brokenCode ?? 'broken'}: ${track.brokenReason ?? 'no reason recorded'}`,
    };
  }
  if (track.status === 'open' || !close) {
    return { state: 'pending', reason: `still recording: ${facts.segments} segments indexed so far` };
  }
  if (facts.entries !== close.seq + 1) {
    return {
      state: 'pending',
      reason: `${close.seq + 1 - facts.entries} entries before the close are not indexed yet`,
    };
  }
  if (facts.segments !== close.segments) {
    return {
      state: 'broken',
      reason: `the close entry counts ${close.segments} segments, the chain holds ${facts.segments}`,
    };
  }
  if (facts.verifiedObjects < facts.segments) {
    return {
      state: 'pending',
      reason: `${facts.segments - facts.verifiedObjects} of ${facts.segments} segment objects not checked yet`,
    };
  }
  const root = merkleRoot((facts.segmentHashes ?? []).map((h) => Buffer.from(h, 'hex'))).toString('hex');
  if (root !== close.merkleRoot) {
    return {
      state: 'broken',
      reason: `the Merkle root of the indexed segments (${root}) is not the close entry's (${close.merkleRoot})`,
    };
  }
  return { state: 'verified', reason: null };
}

/**
 * The recording body with each track's verification state. `known` names tracks already found verified (a closed
 * chain's verdict cannot change while its head and status stay the same); a track with neither (its facts not read
 * yet) is pending.
 */
export function withVerification(
  recording: RecordingWithTracks,
  facts: ReadonlyMap<string, TrackVerificationFacts>,
  known: (track: TrackRow) => boolean = () => false,
): RecordingWithTracks & { tracks: VerifiedTrack[] } {
  return {
    ...recording,
    tracks: recording.tracks.map((track) => {
      const f = facts.get(track.track);
      const verification: Verification = known(track)
        ? { state: 'verified', reason: null }
        : f
          ? verificationState(f)
          : { state: 'pending', reason: 'the track is not indexed yet' };
      return { ...track, verification };
    }),
  };
}
