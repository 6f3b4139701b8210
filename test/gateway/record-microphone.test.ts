/** @module Microphones as tracks of their own: a test tone, audio-only RTSP, G.711 converted, a stream with no audio refused. */
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { segmenterArgs } from '../../gateway/capture/ffmpeg-args.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import type { Entry } from '../../protocol/entry.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { exportAndVerify, findingsOf, probeFile, sealed, tmp } from '../helpers/recording.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';

const quiet = pino({ level: 'silent' });

t.test('a microphone run maps only audio and never video', async (t) => {
  const common = {
    segmentSeconds: 2,
    outputPattern: '/s/m-%06d.ts',
    startNumber: 0,
    progressPath: '/s/m.progress',
  };
  const tone = segmenterArgs({ ...common, input: { kind: 'synthetic-tone', toneHz: 660 }, audio: 'aac' });
  t.ok(tone.includes('-vn'), 'no video from a tone');
  t.equal(tone[tone.indexOf('-map') + 1], '0:a:0');
  t.equal(tone[tone.indexOf('-c:a') + 1], 'aac');
  const rtsp = segmenterArgs({
    ...common,
    input: { kind: 'rtsp', url: 'rtsp://enc/1', timeoutMs: 5000, audioOnly: true },
    audio: 'copy',
  });
  t.notOk(rtsp.includes('0:v:0'), 'video of an audio encoder stream is left out');
  t.equal(rtsp[rtsp.indexOf('-c:a') + 1], 'copy');
});

t.test('microphones record beside a camera, each its own verified audio-only track', async (t) => {
  const server = await startRtspServer();
  t.teardown(() => server.stop());
  const mics = [
    { id: 'mic-tone', source: { kind: 'synthetic', tone: 880 } },
    { id: 'mic-rtsp', source: { kind: 'rtsp', url: server.url('/audio-only') } },
    { id: 'mic-g711', source: { kind: 'rtsp', url: server.url('/g711') } },
    { id: 'mic-mute', source: { kind: 'rtsp', url: server.url('/video-only') } },
  ];
  const gw = buildGateway(testGatewayConfig(tmp(t), [smallSynthetic('cam-1')], 2, 3, mics), {
    log: quiet,
    backoff: { initialMs: 500, maxMs: 3000 },
  });
  t.teardown(() => gw.close());
  await gw.recorder.start(ELEMENTS);
  await Promise.all(
    ['cam-1', 'mic-tone', 'mic-rtsp', 'mic-g711'].map((track) => sealed(gw, track, 'segment', 3)),
  );
  const status = gw.recorder.status()!;
  const mute = status.tracks.find((x) => x.track === 'mic-mute')!;
  t.match(mute.cameraProblem ?? '', /GW_MICROPHONE_NO_AUDIO/, 'a stream without sound is refused, coded');
  const summary = await gw.recorder.stop();
  const tracks = summary.tracks.map((x) => x.track);
  const { report, folder } = await exportAndVerify(t, gw, summary.recording, tracks);
  t.ok(report.ok, `every chain verifies: ${findingsOf(report)}`);
  for (const track of ['mic-tone', 'mic-rtsp', 'mic-g711']) {
    const entries = gw.spool.chain(summary.recording, track).map((s) => s.entry as Entry);
    const open = entries.find((e) => e.kind === 'open') as Entry & { kind: 'open' };
    t.equal(open.source.kind, 'microphone', `${track} opens as a microphone`);
    const segments = entries.filter((e): e is Entry & { kind: 'segment' } => e.kind === 'segment');
    t.ok(segments.length >= 3, `${track}: ${segments.length} segments`);
    for (const s of segments.slice(0, 2)) {
      const probed = await probeFile(join(folder, objectPath(s.object.sha256)));
      t.same(probed.codecs, ['aac'], `${track} segment ${s.seq} holds AAC audio only`);
    }
  }
  const camOpen = gw.spool.chain(summary.recording, 'cam-1')[0]!.entry as Entry & { kind: 'open' };
  t.equal(camOpen.source.kind, 'camera');
  const muteGaps = report.tracks.find((x) => x.track === 'mic-mute')!.gaps;
  t.ok(
    muteGaps.some((g) => /GW_MICROPHONE_NO_AUDIO/.test(g.detail)),
    'the refused microphone has a gap saying why',
  );
});
