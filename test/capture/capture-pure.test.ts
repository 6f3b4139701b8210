import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { audioPlanFor, drawtextEscape, probeArgs, segmenterArgs } from '../../gateway/capture/ffmpeg-args.ts';
import { classifyProbeError, rememberedProbe, type SourceStreams } from '../../gateway/capture/probe.ts';
import {
  LineSplitter,
  lastProgress,
  ProgressParser,
  parseSegmentLine,
} from '../../gateway/capture/segment-list.ts';
import { SharedTicker } from '../../gateway/capture/shared-ticker.ts';
import { TsInspector, type TsSummary } from '../../gateway/capture/ts-inspect.ts';

const base = {
  segmentSeconds: 4,
  outputPattern: '/spool/staging/cam-1/r1-%06d.ts',
  startNumber: 7,
  progressPath: '/spool/staging/cam-1/r1.progress',
};

function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

t.test('an RTSP camera is recorded by stream copy over TCP, segments listed as CSV on stdout', async (t) => {
  const args = segmenterArgs({
    ...base,
    input: { kind: 'rtsp', url: 'rtsp://cam/s1', timeoutMs: 5000 },
    audio: 'copy',
  });
  t.equal(after(args, '-rtsp_transport'), 'tcp');
  t.equal(after(args, '-timeout'), '5000000', 'socket timeout in microseconds');
  t.equal(after(args, '-i'), 'rtsp://cam/s1');
  t.equal(after(args, '-c:v'), 'copy', 'video is never re-encoded');
  t.equal(after(args, '-c:a'), 'copy');
  t.equal(after(args, '-f'), 'segment');
  t.equal(after(args, '-segment_time'), '4');
  t.equal(after(args, '-segment_format'), 'mpegts', 'each segment plays on its own');
  t.equal(after(args, '-segment_list'), 'pipe:1');
  t.equal(after(args, '-segment_list_type'), 'csv');
  t.equal(after(args, '-segment_start_number'), '7');
  t.equal(
    after(args, '-progress'),
    'file:/spool/staging/cam-1/r1.progress',
    'progress to a file, read by the watchdog',
  );
  t.equal(after(args, '-stats_period'), '1', 'progress once a second: the stall rule counts seconds');
  t.equal(args.at(-1), '/spool/staging/cam-1/r1-%06d.ts');
  t.notOk(args.includes('libx264'), 'no encoder for a camera');
});

t.test('audio a segment cannot carry is converted to AAC; no audio means -an', async (t) => {
  t.equal(audioPlanFor('aac', true), 'copy');
  t.equal(audioPlanFor('pcm_mulaw', true), 'aac', 'G.711 is converted: MPEG-TS and browsers cannot carry it');
  t.equal(audioPlanFor('pcm_alaw', true), 'aac');
  t.equal(audioPlanFor(null, true), 'none');
  t.equal(audioPlanFor('aac', false), 'none', 'a camera configured without audio records none');
  const aac = segmenterArgs({
    ...base,
    input: { kind: 'rtsp', url: 'rtsp://x', timeoutMs: 1000 },
    audio: 'aac',
  });
  t.equal(after(aac, '-c:a'), 'aac');
  t.equal(after(aac, '-c:v'), 'copy', 'video is still copied when audio is converted');
  const none = segmenterArgs({
    ...base,
    input: { kind: 'rtsp', url: 'rtsp://x', timeoutMs: 1000 },
    audio: 'none',
  });
  t.ok(none.includes('-an'));
  t.notOk(none.includes('-c:a'));
});

t.test(
  'the synthetic camera encodes a test pattern with a burned-in clock and a tone, keyframe every second',
  async (t) => {
    const args = segmenterArgs({
      ...base,
      input: {
        kind: 'synthetic',
        width: 640,
        height: 360,
        fps: 15,
        bitrateKbps: 800,
        toneHz: 1000,
        fontFile: '/f.ttf',
        label: "Cam: 1, 'A'",
        clockEpochMs: 1_795_000_000_123,
      },
      audio: 'aac',
    });
    t.ok(args.includes('testsrc2=size=640x360:rate=15'));
    t.ok(args.includes('sine=frequency=1000:sample_rate=48000'));
    t.equal(after(args, '-c:v'), 'libx264');
    t.equal(after(args, '-g'), '15');
    const vf = after(args, '-vf') ?? '';
    t.match(vf, /gmtime\\:1795000000\.123/, 'the clock counts from the given epoch');
    t.match(vf, /Cam\\: 1\\, \\'A\\'/, 'the label is escaped for the filter graph');
    const noFont = segmenterArgs({
      ...base,
      input: {
        kind: 'synthetic',
        width: 64,
        height: 64,
        fps: 5,
        bitrateKbps: 100,
        toneHz: 440,
        fontFile: null,
        label: 'x',
        clockEpochMs: 0,
      },
      audio: 'aac',
    });
    t.notOk(noFont.includes('-vf'), 'no font, no clock: still a valid camera');
  },
);

t.test('drawtext escaping covers the filter-graph specials', async (t) => {
  t.equal(drawtextEscape("a:b,c'd%e\\f;g[h]i=j"), "a\\:b\\,c\\'d\\%e\\\\f\\;g\\[h\\]i\\=j");
});

t.test('probe arguments ask for streams as JSON, over TCP for RTSP', async (t) => {
  const a = probeArgs('rtsp://cam/1', 3000);
  t.equal(after(a, '-rtsp_transport'), 'tcp');
  t.equal(after(a, '-of'), 'json');
  t.notOk(probeArgs('/file.mp4', 3000).includes('-rtsp_transport'));
});

t.test('probe failures map to coded errors', async (t) => {
  t.equal(classifyProbeError('method DESCRIBE failed: 401 Unauthorized', 'cam').code, 'GW_CAMERA_AUTH');
  t.equal(
    classifyProbeError('Connection to tcp://127.0.0.1:9 failed: Connection refused', 'cam').code,
    'GW_CAMERA_UNREACHABLE',
  );
  t.equal(classifyProbeError('method DESCRIBE failed: 404 Not Found', 'cam').code, 'GW_CAPTURE_FAILED');
  t.match(classifyProbeError('', 'cam 1').message, /cam 1/);
});

t.test(
  'a camera is probed again only when asked to recheck, for a new URL, or after a failed probe',
  async (t) => {
    const probed: string[] = [];
    let fail = false;
    const streams: SourceStreams = { video: { codec: 'h264', width: 1920, height: 1080 }, audio: null };
    const probe = rememberedProbe(async (url) => {
      probed.push(url);
      if (fail) throw new Error('camera away');
      return streams;
    });
    t.equal(await probe('rtsp://a', 'cam', 5000, true), streams);
    t.equal(await probe('rtsp://a', 'cam', 5000, false), streams);
    t.same(probed, ['rtsp://a'], 'the next run of the same URL reuses the probe');
    await probe('rtsp://b', 'cam', 5000, false);
    t.same(probed, ['rtsp://a', 'rtsp://b'], 'a new URL (ONVIF) is probed');
    await probe('rtsp://b', 'cam', 5000, true);
    t.equal(probed.length, 3, 'a recheck probes');
    fail = true;
    await t.rejects(probe('rtsp://b', 'cam', 5000, true));
    fail = false;
    await probe('rtsp://b', 'cam', 5000, false);
    t.equal(probed.length, 5, 'a failed probe is not remembered');
  },
);

t.test('segment list lines parse, including quoted names, and refuse garbage', async (t) => {
  t.same(parseSegmentLine('r1-000000.ts,0.000000,2.021333'), {
    name: 'r1-000000.ts',
    start: 0,
    end: 2.021333,
  });
  t.same(parseSegmentLine('"a,""b"".ts",1.5,3'), { name: 'a,"b".ts', start: 1.5, end: 3 });
  t.equal(parseSegmentLine('r1.ts,3,2'), null, 'end before start');
  t.equal(parseSegmentLine('not a line'), null);
  t.equal(parseSegmentLine(',1,2'), null, 'no name');
  const s = new LineSplitter();
  t.same(s.push('a,0,1\nb,1,'), ['a,0,1']);
  t.same(s.push('2\r\n'), ['b,1,2']);
});

t.test('progress blocks parse as they complete', async (t) => {
  const p = new ProgressParser();
  t.same(p.push('frame=1\ntotal_size=100\nout_time_us=5\n'), []);
  const [block] = p.push('progress=continue\nframe=2\n');
  t.equal(block?.total_size, '100');
  t.equal(block?.progress, 'continue');
});

t.test('the tail of a progress file: its last whole block, wherever the tail begins', async (t) => {
  const block = (us: number) => `frame=${us}\ntotal_size=N/A\nout_time_us=${us}\nprogress=continue\n`;
  const file = `${block(1000000)}${block(2000000)}${block(3000000)}frame=4\nout_time_us=40`;
  t.same(lastProgress(file.slice(20)), { totalSize: 0, outTimeUs: 3000000 }, 'a partial block is not read');
  t.equal(lastProgress('_us=3\nframe=4\n'), null, 'no whole block');
  t.same(lastProgress(`${block(5)}`.replace('continue', 'end')), { totalSize: 0, outTimeUs: 5 });
});

t.test('one shared timer ticks every subscriber, and stops with the last', async (t) => {
  const ticker = new SharedTicker(10);
  const seen: string[] = [];
  let twice: () => void = () => {};
  const ticked = new Promise<void>((r) => {
    twice = r;
  });
  const a = ticker.subscribe(() => {
    seen.push('a');
    if (seen.filter((x) => x === 'a').length === 2) twice();
  });
  const b = ticker.subscribe(() => {
    seen.push('b');
    throw new Error('a failing watchdog');
  });
  const errors: unknown[] = [];
  const onError = (err: unknown) => errors.push(err);
  process.on('uncaughtException', onError);
  t.teardown(() => process.off('uncaughtException', onError));
  await ticked;
  a();
  b();
  await new Promise((r) => setImmediate(r));
  const n = seen.length;
  t.same(seen.slice(0, 4), ['a', 'b', 'a', 'b'], 'both on each tick, b still ticked after it threw');
  t.ok(errors.length >= 1, 'a subscriber that throws is reported');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(seen.length, n, 'no tick after the last unsubscribe');
});

/** One second of H.264 + AAC in MPEG-TS, made by ffmpeg in a temp folder removed after `t`. */
function sampleTs(t: Test): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'quanlu-ts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.ts');
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x90:rate=10',
    '-f',
    'lavfi',
    '-i',
    'sine',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-c:a',
    'aac',
    '-f',
    'mpegts',
    file,
  ]);
  t.equal(r.status, 0, String(r.stderr));
  return readFileSync(file);
}

/** The summary of `bytes` pushed in the chunks that `cuts` (ascending offsets) delimit. */
function inspectCut(bytes: Buffer, cuts: number[]): TsSummary {
  const inspector = new TsInspector();
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    inspector.push(bytes.subarray(from, to));
    from = to;
  }
  return inspector.summary();
}

t.test('the TS inspector finds H.264 and AAC and counts their packets in any chunking', async (t) => {
  const bytes = sampleTs(t);
  const whole = new TsInspector();
  whole.push(bytes);
  const odd = new TsInspector();
  for (let i = 0; i < bytes.length; i += 1001) odd.push(bytes.subarray(i, i + 1001));
  const s = whole.summary();
  t.same(odd.summary(), s, 'chunk boundaries do not matter');
  t.equal(s.badBytes, 0);
  t.equal(s.packets, bytes.length / 188);
  const video = s.streams.find((x) => x.kind === 'video');
  const audio = s.streams.find((x) => x.kind === 'audio');
  t.equal(video?.codec, 'h264');
  t.equal(audio?.codec, 'aac');
  t.ok((video?.packets ?? 0) > 0 && (audio?.packets ?? 0) > 0);
  const garbage = new TsInspector();
  garbage.push(Buffer.from('this is not a transport stream at all, just text'));
  t.equal(garbage.summary().packets, 0);
  t.ok(garbage.summary().badBytes > 0);
});

t.test('a chunk boundary inside the PAT or the PMT changes nothing', async (t) => {
  const bytes = sampleTs(t);
  const s = inspectCut(bytes, []);
  const pidAt = (n: number) => ((bytes[n * 188 + 1]! & 0x1f) << 8) | bytes[n * 188 + 2]!;
  let pat = 0;
  while (pidAt(pat) !== 0) pat++;
  const pmt = pat + 1; // ffmpeg writes the program map right after the association table
  t.ok(pmt < 8, 'the tables are at the start of the file');
  const inPat = pat * 188;
  const inPmt = pmt * 188;
  for (let cut = inPat + 1; cut < inPmt + 188; cut++) {
    if (!t.same(inspectCut(bytes, [cut]), s, `cut at ${cut}`)) break;
  }
  t.same(inspectCut(bytes, [inPat + 7, inPmt + 13]), s, 'one cut in each table');
  const bytewise = Array.from({ length: inPmt + 200 }, (_, i) => i + 1);
  t.same(inspectCut(bytes, bytewise), s, 'one byte at a time through both tables');
});

t.test('the TS inspector keeps no reference to a pushed chunk, so a read buffer can be reused', async (t) => {
  const bytes = sampleTs(t);
  // Junk between two packets: the inspector skips it and finds the next packet.
  const at = 26 * 188;
  const junk = Buffer.concat([bytes.subarray(0, at), Buffer.from([1, 2, 3, 4]), bytes.subarray(at)]);
  const expected = inspectCut(junk, []);
  t.equal(expected.badBytes, 4);
  t.equal(expected.packets, bytes.length / 188);
  const reused = Buffer.alloc(4096);
  const inspector = new TsInspector();
  for (let i = 0; i < junk.length; i += 1000) {
    const n = junk.copy(reused, 0, i, i + 1000);
    inspector.push(reused.subarray(0, n));
    reused.fill(0x47);
  }
  t.same(inspector.summary(), expected);
});
