/** @module The console's pure player logic: wall time <-> media time across gaps, follower correction, gap merging, blocking-reload polling. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { WEB_ROOT } from '../../ingest/api/web-routes.ts';

type Frag = { start: number; duration: number; programDateTime: number };
const clock = await import(pathToFileURL(join(WEB_ROOT, 'master-clock.js')).href);
const loader = await import(pathToFileURL(join(WEB_ROOT, 'live-loader.js')).href);

const T0 = Date.parse('2026-11-27T08:00:00.000Z');
// Two 2 s segments, a 5 s gap (no media time passes across a discontinuity), then two more.
const frags: Frag[] = [
  { start: 0, duration: 2, programDateTime: T0 },
  { start: 2, duration: 2, programDateTime: T0 + 2000 },
  { start: 4, duration: 2, programDateTime: T0 + 9000 },
  { start: 6, duration: 2, programDateTime: T0 + 11000 },
];

t.test('wall time maps to media time inside segments, and across a gap to the next segment', async (t) => {
  t.same(clock.mediaTimeAt(frags, T0 + 1500), { time: 1.5, gap: false });
  t.same(
    clock.mediaTimeAt(frags, T0 + 9500),
    { time: 4.5, gap: false },
    'after the gap, media time is 5 s behind',
  );
  t.same(clock.mediaTimeAt(frags, T0 + 5000), { time: 4, gap: true }, 'inside the gap: the next segment');
  t.same(clock.mediaTimeAt(frags, T0 - 1000), { time: 0, gap: true }, 'before the first segment');
  t.same(clock.mediaTimeAt(frags, T0 + 20000), { time: 8, gap: true, after: true }, 'after the last');
  t.equal(clock.mediaTimeAt([], T0), null);
});

t.test('media time maps back to wall time, and the span covers first start to last end', async (t) => {
  t.equal(clock.wallTimeAt(frags, 4.5), T0 + 9500);
  t.equal(clock.wallTimeAt(frags, 1), T0 + 1000);
  t.equal(clock.wallTimeAt(frags, 8), T0 + 13000, 'the very end of the last segment');
  t.equal(clock.wallTimeAt(frags, 30), null);
  t.same(clock.wallSpan(frags), { from: T0, to: T0 + 13000 });
});

t.test(
  'a follower is seeked only when it drifts past the limit, and told when it has no footage',
  async (t) => {
    t.same(clock.followerAction(frags, 1.2, T0 + 1400), {}, '0.2 s apart: left alone');
    t.same(clock.followerAction(frags, 1.0, T0 + 1500), { seek: 1.5 }, '0.5 s apart: seeked');
    t.same(
      clock.followerAction(frags, 3.0, T0 + 6000),
      { gap: true, seek: 4 },
      'in a gap: parked at its end',
    );
    t.same(clock.followerAction(frags, 3.9, T0 + 6000), { gap: true }, 'already parked: left alone');
    t.same(clock.followerAction([], 0, T0), { gap: true });
  },
);

t.test('gaps from the index and from playlist DATERANGEs merge by id, in time order', async (t) => {
  const rows = [
    {
      seq: 7,
      from: '2026-11-27T08:00:04.000Z',
      to: '2026-11-27T08:00:09.000Z',
      reason: 'source-lost',
      detail: 'rtsp eof',
    },
  ];
  const ranges = [
    {
      id: 'gap-7',
      class: 'cn.quanlu.gap',
      start: '2026-11-27T08:00:04.000Z',
      end: '2026-11-27T08:00:09.000Z',
      reason: 'other',
    },
    {
      id: 'gap-2',
      class: 'cn.quanlu.gap',
      start: '2026-11-27T07:59:00.000Z',
      end: '2026-11-27T07:59:03.000Z',
      reason: 'source-starting',
    },
    { id: 'ad-1', class: 'com.example.ad', start: '2026-11-27T08:00:00.000Z' },
  ];
  const merged = clock.mergeGaps(rows, ranges);
  t.same(
    merged.map((g: { id: string; reason: string }) => [g.id, g.reason]),
    [
      ['gap-2', 'source-starting'],
      ['gap-7', 'source-lost'],
    ],
    "the index's row wins; other DATERANGE classes are ignored",
  );
});

t.test('the live loader reads the last media sequence and polls only when a segment is due', async (t) => {
  const text =
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2.000,\ns/3.ts\n#EXTINF:1.960,\ns/4.ts\n';
  t.equal(loader.lastMediaSequence(text), 4);
  t.equal(loader.lastMediaSequence('#EXTM3U\n'), -1);
  t.equal(loader.longestSegment(text), 2);
  t.match(
    loader.withBlockingReload(text),
    /^#EXTM3U\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-TARGETDURATION/,
  );
  const seen = 10_000;
  t.equal(
    loader.pollDelay(seen + 100, seen, 2000),
    2000 - loader.EARLY_MS - 100,
    'sleeps until the next is due',
  );
  t.equal(loader.pollDelay(seen + 1900, seen, 2000), loader.DUE_POLL_MS, 'polls fast once due');
  t.equal(loader.pollDelay(seen + 4000, seen, 2000), loader.LATE_POLL_MS, 'backs off when long overdue');
});
