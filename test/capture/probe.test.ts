/** @module The source probe against the real RTSP server: the quick probe, its fall-back, and its refusals. */
import t from 'tap';
import { probeArgs } from '../../gateway/capture/ffmpeg-args.ts';
import { classifyProbeError, probeSource } from '../../gateway/capture/probe.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';

const server = await startRtspServer();
t.teardown(() => server.stop());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GatewayError ? err.code : String(err)),
  );

t.test('a quick probe reads no media; a full probe reads the default depth', async (t) => {
  const quick = probeArgs('rtsp://cam/1', 3000, true);
  t.equal(quick[quick.indexOf('-analyzeduration') + 1], '0');
  t.equal(quick[quick.indexOf('-probesize') + 1], '32');
  t.notOk(probeArgs('rtsp://cam/1', 3000).includes('-analyzeduration'));
});

t.test('an H.264 + AAC camera is known from its session description', async (t) => {
  const streams = await probeSource(server.url('/live'), 'cam live', 3000);
  t.same(streams.video.codec, 'h264');
  t.same(streams.audio, { codec: 'aac' });
});

t.test('a G.711 camera names its audio codec, so the segmenter can plan the conversion', async (t) => {
  const streams = await probeSource(server.url('/g711'), 'cam g711', 3000);
  t.same(streams.audio, { codec: 'pcm_mulaw' });
});

t.test('refusals keep their codes: no video, HEVC, unreachable, no such mount', async (t) => {
  t.equal(await codeOf(probeSource(server.url('/audio-only'), 'a', 3000)), 'GW_CAMERA_NO_VIDEO');
  t.equal(await codeOf(probeSource(server.url('/hevc'), 'h', 3000)), 'GW_CAMERA_CODEC_UNSUPPORTED');
  t.equal(await codeOf(probeSource('rtsp://127.0.0.1:9/none', 'u', 3000)), 'GW_CAMERA_UNREACHABLE');
  t.equal(await codeOf(probeSource(server.url('/no-such-mount'), 'm', 3000)), 'GW_CAPTURE_FAILED');
});

t.test('a missing ffprobe is GW_FFMPEG_MISSING, not a second probe', async (t) => {
  // The session description does not settle a missing mount, so ffprobe is asked.
  const r = await codeOf(probeSource(server.url('/no-such-mount'), 'cam', 3000, '/nonexistent/ffprobe'));
  t.equal(r, 'GW_FFMPEG_MISSING');
});

t.test('an RTSP camera answered by its session description needs no ffprobe', async (t) => {
  const streams = await probeSource(server.url('/live'), 'cam', 3000, '/nonexistent/ffprobe');
  t.same(streams, { video: { codec: 'h264', width: null, height: null }, audio: { codec: 'aac' } });
  const hevc = await codeOf(probeSource(server.url('/hevc'), 'h', 3000, '/nonexistent/ffprobe'));
  t.equal(hevc, 'GW_CAMERA_CODEC_UNSUPPORTED');
  const g711 = await probeSource(server.url('/g711'), 'g', 3000, '/nonexistent/ffprobe');
  t.same(g711.audio, { codec: 'pcm_mulaw' });
});

t.test('ffprobe complaints are classified without reading a port as a 401', async (t) => {
  const notFound = 'rtsp://127.0.0.1:40123/x: method DESCRIBE failed: 404 Not Found';
  t.equal(classifyProbeError(notFound, 'cam').code, 'GW_CAPTURE_FAILED');
  t.equal(classifyProbeError('method DESCRIBE failed: 401 Unauthorized', 'cam').code, 'GW_CAMERA_AUTH');
});
