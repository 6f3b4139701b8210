/** Start and Stop through the console API record real segments; a gateway restarted mid-recording shows the same recording with its gap. */
import t from 'tap';
import { sealed, tmp } from '../helpers/recording.ts';
import { consoleConfig, GOOD_FORM, gatewayWithConsole } from './console-support.ts';

type Status = {
  state: string;
  recording: {
    id: string;
    case: { id: string; officers: string[]; room: string };
    caseLookup: string;
  } | null;
  tracks: {
    track: string;
    camera: string;
    segments: number;
    gaps: { reason: string }[];
    lastSegmentAgeMs: number | null;
    bitrateBps: number | null;
    pending: number;
  }[];
  backlog: { entries: number };
  lastStopped: { recording: string } | null;
};

t.test('Start and Stop through the API record real segments and return the summary', async (t) => {
  const dir = tmp(t, 'quanlu-console-');
  const { gw, console } = await gatewayWithConsole(t, consoleConfig(dir));
  const app = console.app;
  const res = await app.inject({ method: 'POST', url: '/api/v1/recording/start', payload: GOOD_FORM });
  t.equal(res.statusCode, 201, res.body);
  const { recording } = res.json() as { recording: { id: string; caseLookup: string } };
  t.equal(recording.caseLookup, 'offline', 'the case id was accepted offline (no ingest lookup)');
  const again = await app.inject({ method: 'POST', url: '/api/v1/recording/start', payload: GOOD_FORM });
  t.equal(again.statusCode, 409, 'a second Start while recording is refused');
  t.equal((again.json() as { error: { code: string } }).error.code, 'GW_RECORDING_ACTIVE');

  await sealed(gw, 'cam-1', 'segment', 2);
  const status = (await app.inject({ url: '/api/v1/recording' })).json() as Status;
  t.equal(status.state, 'recording');
  t.equal(status.recording?.id, recording.id);
  t.same(status.recording?.case.officers, GOOD_FORM.officers);
  const cam = status.tracks[0]!;
  t.equal(cam.track, 'cam-1');
  t.ok(cam.segments >= 2, `${cam.segments} segments`);
  t.ok(cam.lastSegmentAgeMs !== null && cam.lastSegmentAgeMs >= 0, 'last segment age');
  t.ok((cam.bitrateBps ?? 0) > 0, `bitrate ${cam.bitrateBps}`);
  t.ok(status.backlog.entries >= 3, 'no ingest: everything waits in the backlog');

  const playlist = await app.inject({ url: '/api/v1/preview/cam-1/playlist.m3u8' });
  t.equal(playlist.statusCode, 200);
  const uri = playlist.body.split('\n').find((l) => l.startsWith('segments/'))!;
  t.match(playlist.body, /#EXTM3U/);
  const segment = await app.inject({ url: `/api/v1/preview/cam-1/${uri}` });
  t.equal(segment.statusCode, 200);
  t.equal(segment.rawPayload[0], 0x47, 'the preview serves the MPEG-TS segment itself');

  const stop = await app.inject({
    method: 'POST',
    url: '/api/v1/recording/stop',
    payload: { confirm: true },
  });
  t.equal(stop.statusCode, 200, stop.body);
  const { summary } = stop.json() as {
    summary: {
      recording: string;
      segments: number;
      gaps: number;
      durationMs: number;
      pendingHashes: string[];
    };
  };
  t.equal(summary.recording, recording.id);
  t.ok(summary.segments >= 2, 'the tail is kept: at least the segments seen while recording');
  t.ok(summary.durationMs > 0);
  t.ok(
    summary.pendingHashes.length >= summary.segments + 2,
    'open, segments and close all await acknowledgement',
  );
  const after = (await app.inject({ url: '/api/v1/recording' })).json() as Status;
  t.equal(after.state, 'idle');
  t.equal(after.lastStopped?.recording, recording.id);
  const chain = gw.spool.chain(recording.id, 'cam-1');
  t.equal((chain.at(-1)!.entry as { kind: string }).kind, 'close', 'the chain is closed');
});

t.test('a gateway restarted mid-recording shows the same recording running, with the gap', async (t) => {
  const dir = tmp(t, 'quanlu-console-');
  const loaded = consoleConfig(dir);
  const first = await gatewayWithConsole(t, loaded, { keep: true });
  const res = await first.console.app.inject({
    method: 'POST',
    url: '/api/v1/recording/start',
    payload: GOOD_FORM,
  });
  t.equal(res.statusCode, 201);
  const id = (res.json() as { recording: { id: string } }).recording.id;
  await sealed(first.gw, 'cam-1', 'segment', 1);
  await first.close();

  const second = await gatewayWithConsole(t, consoleConfig(dir));
  const gap = sealed(second.gw, 'cam-1', 'gap', 1);
  const status = (await second.console.app.inject({ url: '/api/v1/recording' })).json() as Status;
  t.equal(status.state, 'recording', 'the recording runs again after the restart');
  t.equal(status.recording?.id, id, 'the same recording');
  t.equal(status.recording?.case.id, GOOD_FORM.caseId);
  const [entry] = await gap;
  t.equal((entry as { reason: string }).reason, 'gateway-down');
  const withGap = (await second.console.app.inject({ url: '/api/v1/recording' })).json() as Status;
  t.ok(
    withGap.tracks[0]!.gaps.some((g) => g.reason === 'gateway-down'),
    'the console shows the gap of the time the gateway was down',
  );
  t.ok(withGap.tracks[0]!.segments >= 1, 'segments from before the restart still count');
  const stop = await second.console.app.inject({
    method: 'POST',
    url: '/api/v1/recording/stop',
    payload: { confirm: true },
  });
  t.equal(stop.statusCode, 200);
  t.ok((stop.json() as { summary: { gaps: number } }).summary.gaps >= 1, 'the summary counts the gap');
});
