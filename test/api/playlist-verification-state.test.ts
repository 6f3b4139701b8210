/** @module Tests of the verification state the console shows per track (verified / pending / broken, with the reason). */
import t from 'tap';
import { verificationState } from '../../ingest/api/verification-state.ts';
import type { TrackVerificationFacts } from '../../ingest/db/playlist-query.ts';
import type { TrackRow } from '../../ingest/db/rows.ts';
import { segmentRoot } from '../../protocol/chain.ts';
import { sha256Hex } from '../../protocol/hash.ts';

const HASHES = ['a', 'b', 'c'].map((x) => sha256Hex(Buffer.from(x)));

const TRACK: TrackRow = {
  recording: '5f1c2d3e-4a5b-4c6d-8e7f-0123456789ab',
  track: 'cam-1',
  gateway: 'gw-test',
  source: { kind: 'camera', name: 'cam-1', device: null, officer: null },
  continuity: 'continuous',
  status: 'closed',
  brokenCode: null,
  brokenReason: null,
  lastSeq: 4,
  lastHash: 'f'.repeat(64),
  segments: 3,
  bytes: 300,
  mediaMs: 6000,
  startedAt: '2026-11-27T01:00:00.000Z',
  endedAt: '2026-11-27T01:00:06.000Z',
  merkleRoot: segmentRoot(HASHES),
};

/** A closed chain of open, three segments and close, every object checked: verified. */
function facts(
  change: Partial<TrackVerificationFacts> = {},
  track: Partial<TrackRow> = {},
): TrackVerificationFacts {
  return {
    track: { ...TRACK, ...track },
    entries: 5,
    segments: 3,
    verifiedObjects: 3,
    segmentHashes: HASHES,
    close: { seq: 4, end: TRACK.endedAt!, segments: 3, merkleRoot: segmentRoot(HASHES) },
    ...change,
  };
}

t.test(
  'a closed chain, complete, every object checked and its Merkle root recomputed, is verified',
  async (t) => {
    t.same(verificationState(facts()), { state: 'verified', reason: null });
  },
);

t.test('a track the consumer marked broken is broken, with its code and reason', async (t) => {
  t.same(
    verificationState(
      facts({}, { status: 'broken', brokenCode: 'INGEST_CHAIN_FORK', brokenReason: 'seq 2' }),
    ),
    {
      state: 'broken',
      reason: 'INGEST_CHAIN_FORK: seq 2',
    },
  );
});

t.test('a track still recording is pending', async (t) => {
  const v = verificationState(facts({ close: null, entries: 3, segments: 2 }, { status: 'open' }));
  t.equal(v.state, 'pending');
  t.match(v.reason, /still recording: 2 segments/);
});

t.test('a closed track with entries before its close not indexed yet is pending', async (t) => {
  const v = verificationState(facts({ entries: 4 }));
  t.equal(v.state, 'pending');
  t.match(v.reason, /1 entries before the close/);
});

t.test('a closed track with objects not checked yet is pending', async (t) => {
  const v = verificationState(facts({ verifiedObjects: 2 }));
  t.equal(v.state, 'pending');
  t.match(v.reason, /1 of 3 segment objects/);
});

t.test('a close that counts other segments than the chain holds is broken', async (t) => {
  const v = verificationState(
    facts({ close: { seq: 4, end: TRACK.endedAt!, segments: 4, merkleRoot: TRACK.merkleRoot! } }),
  );
  t.equal(v.state, 'broken');
  t.match(v.reason, /counts 4 segments, the chain holds 3/);
});

t.test('a close whose Merkle root is not that of the indexed segments is broken', async (t) => {
  const v = verificationState(facts({ segmentHashes: [HASHES[0]!, HASHES[2]!, HASHES[1]!] }));
  t.equal(v.state, 'broken', 'the same segments in another order do not verify');
  t.match(v.reason, /Merkle root/);
});
