import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import type { Entry } from '../../protocol/entry.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import { timeMs } from '../../protocol/time.ts';
import { ELEMENTS, testGatewayConfig } from '../helpers/gateway-config.ts';
import { exportAndVerify, findingsOf, probeFile, sealed, tmp } from '../helpers/recording.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';

const quiet = pino({ level: 'silent' });
const fast = { initialMs: 300, maxMs: 2000 };

const rtsp = (id: string, url: string, audio = true) => ({ id, audio, source: { kind: 'rtsp', url } });

t.test(
  'a 30 s recording from an RTSP camera verifies, matches wall time, and every segment plays on its own',
  async (t) => {
    const server = await startRtspServer();
    t.teardown(() => server.stop());
    const gw = buildGateway(testGatewayConfig(tmp(t), [rtsp('cam-1', server.url('/live'))]), {
      log: quiet,
      backoff: fast,
    });
    t.teardown(() => gw.close());
    await gw.recorder.start(ELEMENTS);
    const [first] = await sealed(gw, 'cam-1', 'segment');
    await new Promise((r) => setTimeout(r, 30_000)); // the recording's length is the test's subject
    const summary = await gw.recorder.stop();
    const { report, folder } = await exportAndVerify(t, gw, summary.recording, ['cam-1']);
    t.ok(report.ok, findingsOf(report));
    const track = report.tracks[0]!;
    t.equal(track.status, 'verified');
    const entries = gw.spool.chain(summary.recording, 'cam-1').map((s) => s.entry as Entry);
    const segments = entries.filter((e) => e.kind === 'segment');
    t.ok(segments.length >= 14, `${segments.length} segments of ~2 s`);
    let probed = 0;
    for (const s of segments) {
      const p = await probeFile(join(folder, objectPath(s.object.sha256)));
      t.same([...p.codecs].sort(), ['aac', 'h264'], `segment ${s.seq} plays on its own with video and audio`);
      probed += p.duration * 1000;
    }
    const wall = timeMs(track.end!) - timeMs((first as Entry & { kind: 'segment' }).start);
    t.ok(
      Math.abs(probed - wall) <= 2000,
      `media in the files (${Math.round(probed)} ms) matches wall time (${wall} ms) within one segment`,
    );
    t.notOk(
      track.gaps.some((g) => g.reason !== 'source-starting'),
      'no outage in a healthy recording',
    );
  },
);

t.test('the camera gone for 10 s: recording resumes by itself and one gap covers the outage', async (t) => {
  const server = await startRtspServer();
  t.teardown(() => server.stop());
  const gw = buildGateway(testGatewayConfig(tmp(t), [rtsp('cam-1', server.url('/live'))]), {
    log: quiet,
    backoff: fast,
  });
  t.teardown(() => gw.close());
  await gw.recorder.start(ELEMENTS);
  await sealed(gw, 'cam-1', 'segment', 2);
  await server.stop();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, 10_000)); // the outage's length is the test's subject
  await server.restart();
  const upAt = Date.now();
  const [gap] = await sealed(gw, 'cam-1', 'gap');
  await sealed(gw, 'cam-1', 'segment', 2);
  const summary = await gw.recorder.stop();
  const { report } = await exportAndVerify(t, gw, summary.recording, ['cam-1']);
  t.ok(report.ok, findingsOf(report));
  const outages = report.tracks[0]!.gaps.filter((g) => g.reason !== 'source-starting');
  t.equal(outages.length, 1, `exactly one gap covers the outage: ${JSON.stringify(outages)}`);
  const g = gap as Entry & { kind: 'gap' };
  t.ok(
    timeMs(g.from) <= downAt + 500 && timeMs(g.to) >= upAt,
    `the gap ${g.from} → ${g.to} spans the outage`,
  );
  t.match(g.reason, /source-lost|capture-restarted/);
});

t.test(
  'kill -9 of ffmpeg mid-recording: the chain continues after a gap, at most one segment lost',
  async (t) => {
    const server = await startRtspServer();
    t.teardown(() => server.stop());
    const gw = buildGateway(testGatewayConfig(tmp(t), [rtsp('cam-1', server.url('/live'))]), {
      log: quiet,
      backoff: fast,
    });
    t.teardown(() => gw.close());
    await gw.recorder.start(ELEMENTS);
    await sealed(gw, 'cam-1', 'segment', 2);
    const pid = gw.recorder.supervisor('cam-1')?.pid;
    t.ok(pid, 'ffmpeg runs');
    process.kill(pid!, 'SIGKILL');
    const [gap] = await sealed(gw, 'cam-1', 'gap');
    await sealed(gw, 'cam-1', 'segment', 2);
    const summary = await gw.recorder.stop();
    const { report } = await exportAndVerify(t, gw, summary.recording, ['cam-1']);
    t.ok(report.ok, findingsOf(report));
    const g = gap as Entry & { kind: 'gap' };
    t.equal(g.reason, 'capture-restarted');
    t.match(g.detail, /SIGKILL/);
    const lostMs = timeMs(g.to) - timeMs(g.from);
    // The partial segment being written (≤ 2 s) plus the restart: the reconnect and the next keyframe (≤ 2 s).
    t.ok(lostMs <= 2000 + 2000 + 2500, `${lostMs} ms lost: at most one segment plus the restart`);
  },
);

t.test(
  'kill -9 of the gateway mid-recording: after restart the chain continues with a gateway-down gap',
  async (t) => {
    const server = await startRtspServer();
    t.teardown(() => server.stop());
    const dir = tmp(t);
    const configFile = join(dir, 'gateway.yaml');
    const config = {
      gateway: { id: 'gw-kill', dataDir: join(dir, 'data') },
      room: { id: 'interview-1', name: 'test', profile: 'interview-room' },
      cameras: [{ id: 'cam-1', name: 'cam 1', source: { kind: 'rtsp', url: server.url('/live') } }],
      log: { level: 'info' },
    };
    writeFileSync(configFile, JSON.stringify(config));
    const child = spawn(
      process.execPath,
      [
        'bin/quanlu.js',
        'gateway',
        '-c',
        configFile,
        '--case',
        'KILL-1',
        '--matter',
        'inquiry',
        '--officer',
        '1',
        '2',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.teardown(() => child.kill('SIGKILL'));
    let segments = 0;
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`gateway exited early (${code})`)));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        segments += chunk
          .split('\n')
          .filter((l) => l.includes('"kind":"segment"') && l.includes('entry spooled')).length;
        if (segments >= 2) resolve();
      });
    });
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    await once(child, 'exit');
    // The orphaned ffmpeg dies on its own once it finds its pipe gone; the restarted gateway starts a new one.
    const gw = buildGateway(parseGatewayConfig(config), { log: quiet, backoff: fast });
    t.teardown(() => gw.close());
    await gw.start();
    const running = gw.recorder.status();
    t.ok(running, 'the recording is running again after the restart');
    const [gap] = await sealed(gw, 'cam-1', 'gap');
    await sealed(gw, 'cam-1', 'segment', 2);
    const summary = await gw.recorder.stop();
    const { report } = await exportAndVerify(t, gw, summary.recording, ['cam-1']);
    t.ok(report.ok, findingsOf(report));
    t.equal((gap as Entry & { kind: 'gap' }).reason, 'gateway-down');
    t.equal(report.tracks[0]!.caseId, 'KILL-1');
    const lostMs =
      timeMs((gap as Entry & { kind: 'gap' }).to) - timeMs((gap as Entry & { kind: 'gap' }).from);
    t.ok(lostMs < 15_000, `${lostMs} ms between the last sealed segment and the first after the restart`);
  },
);

t.test('bad cameras get coded errors while the other cameras of the room keep recording', async (t) => {
  const server = await startRtspServer();
  t.teardown(() => server.stop());
  const gw = buildGateway(
    testGatewayConfig(tmp(t), [
      rtsp('good', server.url('/live')),
      rtsp('unreachable', 'rtsp://127.0.0.1:9/none'),
      rtsp('audio-only', server.url('/audio-only')),
      rtsp('hevc', server.url('/hevc')),
      rtsp('missing', server.url('/no-such-mount')),
      rtsp('g711', server.url('/g711')),
    ]),
    { log: quiet, backoff: { initialMs: 500, maxMs: 5000 } },
  );
  t.teardown(() => gw.close());
  await gw.recorder.start(ELEMENTS);
  const g711 = sealed(gw, 'g711', 'segment', 2);
  await sealed(gw, 'good', 'segment', 3);
  const status = gw.recorder.status()!;
  const problem = (track: string) => status.tracks.find((x) => x.track === track)?.cameraProblem ?? '';
  t.match(problem('unreachable'), /GW_CAMERA_UNREACHABLE/);
  t.match(problem('audio-only'), /GW_CAMERA_NO_VIDEO/);
  t.match(problem('hevc'), /GW_CAMERA_CODEC_UNSUPPORTED.*H\.264/);
  t.match(problem('missing'), /GW_CAPTURE_FAILED/);
  await g711;
  const summary = await gw.recorder.stop();
  const tracks = summary.tracks.map((x) => x.track);
  const { report, folder } = await exportAndVerify(t, gw, summary.recording, tracks);
  t.ok(report.ok, `every chain verifies, the broken cameras' as explained gaps: ${findingsOf(report)}`);
  const byTrack = new Map(report.tracks.map((x) => [x.track, x]));
  t.ok(byTrack.get('good')!.segments >= 3);
  for (const bad of ['unreachable', 'audio-only', 'hevc', 'missing']) {
    const r = byTrack.get(bad)!;
    t.equal(r.segments, 0, `${bad}: nothing recorded`);
    t.ok(
      r.gaps.some((g) => /GW_CAMERA|GW_CAPTURE/.test(g.detail)),
      `${bad}: the gap says why: ${JSON.stringify(r.gaps)}`,
    );
  }
  const g711Entries = gw.spool.chain(summary.recording, 'g711').map((s) => s.entry as Entry);
  const seg = g711Entries.find((e) => e.kind === 'segment') as Entry & { kind: 'segment' };
  const probed = await probeFile(join(folder, objectPath(seg.object.sha256)));
  t.same([...probed.codecs].sort(), ['aac', 'h264'], 'G.711 audio is converted to AAC, video still copied');
});

t.test('an invalid room profile is refused with a coded error before anything records', async (t) => {
  t.throws(
    () =>
      parseGatewayConfig({
        gateway: { id: 'gw-x', dataDir: '/tmp/never' },
        room: {
          id: 'r',
          name: 'r',
          profile: { name: 'bad', kind: 'room', title: { zh: 'x', en: 'x' }, segmentSeconds: 9 },
        },
        cameras: [],
      }),
    { code: 'GW_CONFIG_INVALID' },
  );
});
