/** @module Checks the RTSP test server and test media that capture tests and the benchmark rely on. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { MEDIA_CACHE_DIR, makeTestMedia } from '../helpers/media.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A pull whose server stalls while RTCP keeps the socket busy never trips ffmpeg's I/O timeout, so every
 * child gets a hard deadline: a stall fails its assertion with this reason instead of hanging the file.
 */
const RUN_DEADLINE_MS = 90_000;

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const deadline = setTimeout(() => {
      stderr += `killed: still running after ${RUN_DEADLINE_MS / 1000} s`;
      child.kill('SIGKILL');
    }, RUN_DEADLINE_MS);
    child.on('close', () => clearTimeout(deadline));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Pulls `seconds` of a mount over TCP into `out` without re-encoding, as the gateway does. G.711 goes
 * to Matroska: MPEG-TS has no stream type for it and ffprobe would call it bin_data.
 */
function pull(url: string, seconds: number, out: string): Promise<Run> {
  const format = out.endsWith('.mkv') ? 'matroska' : 'mpegts';
  return run('ffmpeg', [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-rtsp_transport', 'tcp'],
    ...['-timeout', '15000000', '-i', url, '-t', String(seconds), '-c', 'copy', '-f', format, out],
  ]);
}

interface Probe {
  codecs: string[];
  duration: number;
  width?: number;
  videoPts: number[];
}

async function probe(file: string): Promise<Probe> {
  const r = await run('ffprobe', [
    ...['-v', 'error', '-of', 'json', '-show_entries', 'stream=codec_name,codec_type,width:format=duration'],
    ...['-select_streams', 'v', '-show_entries', 'packet=pts_time', file],
  ]);
  const all = await run('ffprobe', [
    '-v',
    'error',
    '-of',
    'json',
    '-show_entries',
    'stream=codec_name',
    file,
  ]);
  const video = JSON.parse(r.stdout) as {
    streams?: { width?: number }[];
    packets?: { pts_time?: string }[];
    format?: { duration?: string };
  };
  const streams = (JSON.parse(all.stdout) as { streams?: { codec_name: string }[] }).streams ?? [];
  return {
    codecs: streams.map((s) => s.codec_name),
    duration: Number(video.format?.duration ?? 0),
    width: video.streams?.[0]?.width,
    videoPts: (video.packets ?? []).map((p) => Number(p.pts_time)),
  };
}

/** The largest step between consecutive video timestamps, in seconds. */
function largestStep(pts: number[]): number {
  let step = 0;
  for (let i = 1; i < pts.length; i++) step = Math.max(step, Math.abs(pts[i]! - pts[i - 1]!));
  return step;
}

t.test('each live mount serves the streams its name promises', async (t) => {
  const server = await startRtspServer();
  t.teardown(() => server.stop());
  const dir = t.testdir();
  const expected: Record<string, string[]> = {
    '/live': ['h264', 'aac'],
    '/hevc': ['hevc'],
    '/video-only': ['h264'],
    '/audio-only': ['aac'],
    '/g711': ['h264', 'pcm_mulaw'],
  };
  await Promise.all(
    Object.entries(expected).map(async ([mount, codecs]) => {
      const out = join(dir, `${mount.slice(1)}.${mount === '/g711' ? 'mkv' : 'ts'}`);
      const r = await pull(server.url(mount), 3, out);
      t.equal(r.code, 0, `${mount} pulls (${r.stderr.trim()})`);
      t.same((await probe(out)).codecs, codecs, `${mount} carries ${codecs.join(' + ')}`);
    }),
  );
});

t.test('an unknown mount is refused with 404', async (t) => {
  const server = await startRtspServer({ mounts: { '/live': { kind: 'live', audio: null } } });
  t.teardown(() => server.stop());
  const r = await pull(server.url('/nope'), 1, join(t.testdir(), 'nope.ts'));
  t.not(r.code, 0);
  t.match(r.stderr, /404/);
});

t.test('a file mount loops its file with continuous timestamps and passes any codec through', async (t) => {
  const [mp4, hevc, pcmu] = await Promise.all([
    makeTestMedia(MEDIA_CACHE_DIR, 'h264-aac', { seconds: 3 }),
    makeTestMedia(MEDIA_CACHE_DIR, 'hevc', { seconds: 3 }),
    makeTestMedia(MEDIA_CACHE_DIR, 'h264-pcmu', { seconds: 3 }),
  ]);
  const server = await startRtspServer({
    mounts: {
      '/file': { kind: 'file', file: mp4.path },
      '/hevc-file': { kind: 'file', file: hevc.path },
      '/pcmu-file': { kind: 'file', file: pcmu.path },
      '/once': { kind: 'file', file: mp4.path, loop: false },
    },
  });
  t.teardown(() => server.stop());
  const dir = t.testdir();
  const [looped, hevcPull, pcmuPull, once] = await Promise.all([
    pull(server.url('/file'), 8, join(dir, 'file.ts')),
    pull(server.url('/hevc-file'), 2, join(dir, 'hevc.ts')),
    pull(server.url('/pcmu-file'), 2, join(dir, 'pcmu.mkv')),
    pull(server.url('/once'), 8, join(dir, 'once.ts')),
  ]);
  t.equal(looped.code, 0, looped.stderr);
  const file = await probe(join(dir, 'file.ts'));
  t.same(file.codecs, ['h264', 'aac']);
  t.ok(file.duration > 7, `8 s pulled from a 3 s file (got ${file.duration} s)`);
  t.ok(largestStep(file.videoPts) < 0.2, 'no jump in the video timestamps where the file starts again');
  t.equal(hevcPull.code, 0, hevcPull.stderr);
  t.same((await probe(join(dir, 'hevc.ts'))).codecs, ['hevc']);
  t.equal(pcmuPull.code, 0, pcmuPull.stderr);
  t.same((await probe(join(dir, 'pcmu.mkv'))).codecs, ['h264', 'pcm_mulaw']);
  t.equal(once.code, 0, 'a mount that does not loop ends its stream, and the pull ends with it');
  t.ok((await probe(join(dir, 'once.ts'))).duration < 5, 'the non-looping mount stops after one pass');
});

t.test('a mount with seconds ends its stream after that long', async (t) => {
  const server = await startRtspServer({ mounts: { '/short': { kind: 'live', seconds: 2 } } });
  t.teardown(() => server.stop());
  const out = join(t.testdir(), 'short.ts');
  const r = await pull(server.url('/short'), 30, out);
  t.equal(r.code, 0, r.stderr);
  t.ok((await probe(out)).duration < 10, 'the pull ended long before its own 30 s limit');
});

t.test('a stopped or killed server comes back on the same port', async (t) => {
  const server = await startRtspServer({ mounts: { '/live': { kind: 'live' } } });
  t.teardown(() => server.stop());
  const dir = t.testdir();
  const port = server.port;
  t.equal((await pull(server.url('/live'), 2, join(dir, 'before.ts'))).code, 0, 'pulls before the stop');

  await server.stop();
  t.notOk(server.running);
  const down = await pull(server.url('/live'), 2, join(dir, 'down.ts'));
  t.not(down.code, 0, 'a pull fails while the camera is down');
  t.match(down.stderr, /refused/i);

  await server.restart();
  t.ok(server.running);
  t.equal(server.port, port);
  const after = await pull(server.url('/live'), 2, join(dir, 'after.ts'));
  t.equal(after.code, 0, `pulls after the restart (${after.stderr.trim()})`);
  t.same((await probe(join(dir, 'after.ts'))).codecs, ['h264', 'aac']);

  await server.kill();
  t.notOk(server.running, 'SIGKILL ends it');
  await server.restart();
  t.equal(
    (await pull(server.url('/live'), 2, join(dir, 'again.ts'))).code,
    0,
    'pulls after a kill and restart',
  );
});

t.test('startRtspServer rejects with the server reason when a mount cannot be served', async (t) => {
  await t.rejects(
    startRtspServer({ mounts: { '/missing': { kind: 'file', file: '/nonexistent/clip.mp4' } } }),
    /does not exist/,
    'startRtspServer rejects with the reason from the server stderr',
  );
  await t.rejects(startRtspServer({ port: 1883 }), /1883/, 'the MQTT port is never used');
});

// Like a real camera, one shared media (one file pipeline) serves every client. Eight unshared file
// pipelines on one loaded 2-core CI machine once stalled this test for ten minutes.
t.test('eight clients pull the looping 1080p file mount at once', async (t) => {
  // Cached under MEDIA_CACHE_DIR: only the first run on a machine pays for the encode.
  const media = await makeTestMedia(MEDIA_CACHE_DIR, 'h264-aac', {
    width: 1920,
    height: 1080,
    fps: 25,
    bitrateKbps: 4000,
    gopSeconds: 2,
    seconds: 10,
  });
  t.comment(
    media.cached ? `1080p file from the cache: ${media.path}` : `1080p file encoded in ${media.encodeMs} ms`,
  );
  if (media.note) t.comment(media.note);
  const server = await startRtspServer({
    mounts: { '/file': { kind: 'file', file: media.path, shared: true } },
  });
  t.teardown(() => server.stop());
  const dir = t.testdir();
  const outs = Array.from({ length: 8 }, (_, i) => join(dir, `client-${i}.ts`));
  const runs = await Promise.all(outs.map((out) => pull(server.url('/file'), 5, out)));
  for (const [i, r] of runs.entries()) {
    t.equal(r.code, 0, `client ${i} pulls (${r.stderr.trim()})`);
    const p = await probe(outs[i]!);
    t.same(p.codecs, ['h264', 'aac'], `client ${i} gets H.264 + AAC`);
    t.equal(p.width, 1920, `client ${i} gets 1080p`);
  }
});

t.test('test media is cached by its parameters', async (t) => {
  const dir = t.testdir();
  const first = await makeTestMedia(dir, 'h264', { seconds: 1, width: 160, height: 120 });
  const again = await makeTestMedia(dir, 'h264', { seconds: 1, width: 160, height: 120 });
  const other = await makeTestMedia(dir, 'h264', { seconds: 1, width: 176, height: 144 });
  t.equal(first.cached, false);
  t.equal(again.cached, true);
  t.equal(again.path, first.path);
  t.not(other.path, first.path);
  t.same((await probe(first.path)).codecs, ['h264']);
  const audio = await makeTestMedia(dir, 'aac', { seconds: 1 });
  t.same((await probe(audio.path)).codecs, ['aac']);
});
