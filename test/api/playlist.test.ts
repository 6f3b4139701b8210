/** @module Tests of the HLS playlist builder, read back with a real HLS parser (m3u8-parser). */
import { createRequire } from 'node:module';
import t from 'tap';
import {
  buildPlaylist,
  GAP_CLASS,
  type PlaylistGap,
  type PlaylistInput,
  type PlaylistSegment,
  parseSegmentName,
  quoted,
  segmentUri,
} from '../../ingest/api/playlist.ts';
import { isoTime } from '../../protocol/time.ts';

/** The part of m3u8-parser's manifest these tests read (the package ships no types). */
interface Manifest {
  targetDuration?: number;
  mediaSequence?: number;
  playlistType?: string;
  endList?: boolean;
  serverControl?: { canBlockReload?: boolean };
  discontinuityStarts: number[];
  segments: {
    uri: string;
    duration: number;
    discontinuity?: boolean;
    timeline: number;
    programDateTime?: number;
    dateTimeString?: string;
  }[];
  dateRanges: {
    id: string;
    class: string;
    startDate: Date;
    endDate: Date;
    xReason: string;
    xDetail: string;
  }[];
}
interface ParserInstance {
  push(text: string): void;
  end(): void;
  manifest: Manifest;
  on(event: 'warn', fn: (w: { message: string }) => void): void;
}
const { Parser } = createRequire(import.meta.url)('m3u8-parser') as { Parser: new () => ParserInstance };

/** Parses playlist text with m3u8-parser; its warnings are returned too (a valid playlist has none). */
function parse(text: string): { manifest: Manifest; warnings: string[] } {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on('warn', (w) => warnings.push(w.message));
  parser.push(text);
  parser.end();
  return { manifest: parser.manifest, warnings };
}

const T0 = Date.UTC(2026, 10, 27, 1, 0, 0);

/** `n` contiguous segments of `ms` from seq `firstSeq`, starting at `at`. */
function segments(n: number, firstSeq: number, at: number, ms = 2000): PlaylistSegment[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: firstSeq + i,
    start: isoTime(at + i * ms),
    durationMs: ms,
  }));
}

t.test(
  'a live track is an EVENT playlist without ENDLIST, each segment with its start and duration',
  async (t) => {
    const segs = segments(3, 1, T0);
    const { manifest, warnings } = parse(
      buildPlaylist({ live: true, continuity: 'continuous', segments: segs, gaps: [] }),
    );
    t.same(warnings, []);
    t.equal(manifest.playlistType, 'EVENT');
    t.notOk(manifest.endList, 'no ENDLIST while recording');
    t.equal(manifest.mediaSequence, 0);
    t.equal(manifest.targetDuration, 2);
    t.same(
      manifest.segments.map((s) => s.uri),
      ['segments/1.ts', 'segments/2.ts', 'segments/3.ts'],
    );
    t.same(
      manifest.segments.map((s) => s.duration),
      [2, 2, 2],
    );
    t.same(
      manifest.segments.map((s) => s.programDateTime),
      segs.map((s) => Date.parse(s.start)),
      'PROGRAM-DATE-TIME of each segment is its measured start',
    );
    t.same(manifest.discontinuityStarts, [], 'a continuous track without gaps has no discontinuity');
  },
);

t.test('a closed track is a VOD playlist with ENDLIST', async (t) => {
  const { manifest, warnings } = parse(
    buildPlaylist({ live: false, continuity: 'continuous', segments: segments(2, 1, T0), gaps: [] }),
  );
  t.same(warnings, []);
  t.equal(manifest.playlistType, 'VOD');
  t.ok(manifest.endList);
  t.equal(manifest.segments.length, 2);
});

t.test('the target duration is the longest segment rounded up, and EXTINF keeps milliseconds', async (t) => {
  const segs = [
    { seq: 1, start: isoTime(T0), durationMs: 1960 },
    { seq: 2, start: isoTime(T0 + 1960), durationMs: 2041 },
  ];
  const text = buildPlaylist({ live: true, continuity: 'continuous', segments: segs, gaps: [] });
  const { manifest } = parse(text);
  t.equal(manifest.targetDuration, 3);
  t.same(
    manifest.segments.map((s) => s.duration),
    [1.96, 2.041],
  );
  t.match(text, /#EXTINF:2\.041,\n/);
});

t.test('a gap is a DISCONTINUITY before the next segment and a DATERANGE with its reason', async (t) => {
  const before = segments(2, 1, T0);
  const gap: PlaylistGap = {
    seq: 3,
    from: isoTime(T0 + 4000),
    to: isoTime(T0 + 9500),
    reason: 'source-lost',
    detail: 'camera cam-1 stopped sending: "RTSP timeout", 5 s',
  };
  const after = segments(2, 4, T0 + 9500);
  const { manifest, warnings } = parse(
    buildPlaylist({ live: false, continuity: 'continuous', segments: [...before, ...after], gaps: [gap] }),
  );
  t.same(warnings, []);
  t.same(
    manifest.segments.map((s) => Boolean(s.discontinuity)),
    [false, false, true, false],
    'the segment after the gap starts a discontinuity',
  );
  t.same(
    manifest.segments.map((s) => s.timeline),
    [0, 0, 1, 1],
  );
  t.equal(manifest.dateRanges.length, 1);
  const range = manifest.dateRanges[0]!;
  t.equal(range.id, 'gap-3');
  t.equal(range.class, GAP_CLASS);
  t.equal(range.startDate.toISOString(), gap.from);
  t.equal(range.endDate.toISOString(), gap.to);
  t.equal(range.xReason, 'source-lost');
  t.equal(decodeURIComponent(range.xDetail), gap.detail, 'the detail survives quotes and commas');
});

t.test('several gaps in a row make one discontinuity and one date range each', async (t) => {
  const gaps: PlaylistGap[] = [
    { seq: 2, from: isoTime(T0 + 2000), to: isoTime(T0 + 3000), reason: 'capture-restarted', detail: 'a' },
    { seq: 3, from: isoTime(T0 + 3000), to: isoTime(T0 + 6000), reason: 'gateway-down', detail: 'b' },
  ];
  const segs = [...segments(1, 1, T0), ...segments(1, 4, T0 + 6000)];
  const { manifest } = parse(buildPlaylist({ live: false, continuity: 'continuous', segments: segs, gaps }));
  t.same(manifest.discontinuityStarts, [1]);
  t.same(
    manifest.dateRanges.map((d) => [d.id, d.xReason]),
    [
      ['gap-2', 'capture-restarted'],
      ['gap-3', 'gateway-down'],
    ],
  );
});

t.test('a gap before the first segment is a date range but no discontinuity', async (t) => {
  const gaps: PlaylistGap[] = [
    { seq: 1, from: isoTime(T0), to: isoTime(T0 + 1500), reason: 'source-starting', detail: 'first frame' },
  ];
  const { manifest, warnings } = parse(
    buildPlaylist({ live: true, continuity: 'continuous', segments: segments(2, 2, T0 + 1500), gaps }),
  );
  t.same(warnings, []);
  t.same(manifest.discontinuityStarts, []);
  t.same(
    manifest.dateRanges.map((d) => d.id),
    ['gap-1'],
  );
});

t.test('a discrete track (separate files) has a discontinuity between every two segments', async (t) => {
  const segs = [
    { seq: 1, start: isoTime(T0), durationMs: 60_000 },
    { seq: 2, start: isoTime(T0 + 600_000), durationMs: 30_000 },
    { seq: 3, start: isoTime(T0 + 900_000), durationMs: 45_500 },
  ];
  const { manifest } = parse(
    buildPlaylist({ live: false, continuity: 'discrete', segments: segs, gaps: [] }),
  );
  t.same(
    manifest.segments.map((s) => Boolean(s.discontinuity)),
    [false, true, true],
  );
  t.same(
    manifest.segments.map((s) => s.timeline),
    [0, 1, 2],
  );
  t.equal(manifest.targetDuration, 60);
});

t.test('a live playlist only grows at its end as entries are indexed, gaps included', async (t) => {
  // The chain in seq order: segments 1-3, a gap (4), segments 5-6, a gap (7), segment 8.
  const all: (PlaylistSegment | PlaylistGap)[] = [
    ...segments(3, 1, T0),
    { seq: 4, from: isoTime(T0 + 6000), to: isoTime(T0 + 8000), reason: 'source-lost', detail: 'x' },
    ...segments(2, 5, T0 + 8000),
    { seq: 7, from: isoTime(T0 + 12000), to: isoTime(T0 + 13000), reason: 'capture-restarted', detail: 'y' },
    ...segments(1, 8, T0 + 13000),
  ];
  let previous: string[] | null = null;
  for (let n = 1; n <= all.length; n++) {
    const indexed = all.slice(0, n);
    const input: PlaylistInput = {
      live: true,
      continuity: 'continuous',
      segments: indexed.filter((e): e is PlaylistSegment => 'durationMs' in e),
      gaps: indexed.filter((e): e is PlaylistGap => 'reason' in e),
    };
    const lines = buildPlaylist(input).trimEnd().split('\n');
    if (previous) {
      t.same(lines.slice(0, previous.length), previous, `after entry ${n}, the earlier playlist is a prefix`);
    }
    previous = lines;
  }
  const { manifest } = parse(`${previous!.join('\n')}\n`);
  t.same(manifest.discontinuityStarts, [3, 5]);
});

t.test('an open track with no segment yet is a valid empty EVENT playlist', async (t) => {
  const { manifest, warnings } = parse(
    buildPlaylist({ live: true, continuity: 'continuous', segments: [], gaps: [] }),
  );
  t.same(warnings, []);
  t.equal(manifest.segments.length, 0);
  t.equal(manifest.playlistType, 'EVENT');
  t.ok(manifest.targetDuration! >= 1);
});

t.test('segments are placed by seq whatever order they come in', async (t) => {
  const segs = segments(3, 1, T0).reverse();
  const { manifest } = parse(
    buildPlaylist({ live: false, continuity: 'continuous', segments: segs, gaps: [] }),
  );
  t.same(
    manifest.segments.map((s) => s.uri),
    ['segments/1.ts', 'segments/2.ts', 'segments/3.ts'],
  );
});

t.test('blocking reload is advertised only while live, and only when asked', async (t) => {
  const base = { continuity: 'continuous' as const, segments: segments(1, 1, T0), gaps: [] };
  t.equal(
    parse(buildPlaylist({ ...base, live: true, canBlockReload: true })).manifest.serverControl
      ?.canBlockReload,
    true,
  );
  t.notOk(parse(buildPlaylist({ ...base, live: true })).manifest.serverControl);
  t.notOk(buildPlaylist({ ...base, live: false, canBlockReload: true }).includes('SERVER-CONTROL'));
});

t.test('segment names round-trip, and nothing but <seq>.ts names a segment', async (t) => {
  for (const seq of [0, 1, 42, 123456789]) {
    t.equal(parseSegmentName(segmentUri(seq).slice('segments/'.length)), seq);
  }
  for (const bad of [
    '',
    '.ts',
    '01.ts',
    '-1.ts',
    '1e3.ts',
    '1.ts.ts',
    '1.TS',
    '../1.ts',
    '1%2e.ts',
    '12345678901234567.ts',
    '9999999999999999.ts',
  ])
    t.equal(parseSegmentName(bad), null, JSON.stringify(bad));
});

t.test(
  'attribute text is percent-encoded only where a quoted string forbids it, and decodes exactly',
  async (t) => {
    const texts = [
      'plain',
      '中文说明：摄像头断开',
      'a "quoted", 100% sure',
      'line\nbreak\r\ttab\u007f',
      '%22',
    ];
    for (const text of texts) {
      const q = quoted(text);
      t.notMatch(q, /["\r\n]/, `${JSON.stringify(text)} has no quote or line break`);
      t.equal(decodeURIComponent(q), text);
    }
    t.equal(quoted('中文'), '中文', 'CJK stays readable');
  },
);
