/** @module ffmpeg plays a track's LIVE playlist from a running ingest fed by a real gateway with a synthetic camera. */
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import pino from 'pino';
import t from 'tap';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { newApiToken, secretHash } from '../../ingest/auth/tokens.ts';
import { addUser } from '../../ingest/auth/users.ts';
import { waitUntil } from '../e2e/e2e-support.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const quiet = pino({ level: 'silent' });

t.test(
  'ffmpeg -i <live playlist.m3u8> plays the track while it records, and ends at its ENDLIST',
  async (t) => {
    const dir = tmp(t, 'quanlu-live-');
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());
    const gw = buildGateway(testGatewayConfig(`${dir}/gateway`, [smallSynthetic('cam-1')]), {
      log: quiet,
      uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
    });
    t.teardown(() => gw.close());
    const asked = once(ingest.events, 'enrollment');
    await gw.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test-admin');

    // A supervisor's API token: every playlist and segment request is authenticated and audited.
    const at = new Date().toISOString();
    await addUser(
      ingest.repo,
      { username: 'supervisor-1', role: 'supervisor', password: 'correct horse battery 1' },
      at,
    );
    const token = newApiToken();
    await ingest.repo.insertApiToken(secretHash(token), 'supervisor-1', at);

    let segments = 0;
    ingest.consumer.on('indexed', (e) => {
      if (e.entry.kind === 'segment') segments++;
    });
    const started = await gw.recorder.start(ELEMENTS);
    await waitUntil(ingest.consumer, 'indexed', () => segments >= 2, 60_000, 'two segments indexed');

    const url = `${ingest.httpUrl}/api/v1/recordings/${started.recording}/tracks/cam-1/playlist.m3u8`;
    const live = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    t.equal(live.status, 200);
    const text = await live.text();
    t.match(text, /#EXT-X-PLAYLIST-TYPE:EVENT/, 'the playlist is live');
    t.notMatch(text, /#EXT-X-ENDLIST/);

    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-headers',
        `Authorization: Bearer ${token}\r\n`,
        '-live_start_index',
        '0',
        '-i',
        url,
        '-f',
        'null',
        '-progress',
        'pipe:1',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A hard deadline: a defect fails the test with ffmpeg's own words instead of hanging it.
    const deadline = setTimeout(() => ffmpeg.kill('SIGKILL'), 90_000);
    t.teardown(() => {
      clearTimeout(deadline);
      ffmpeg.kill('SIGKILL');
    });
    let stderr = '';
    ffmpeg.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let frames = 0;
    const progress = new EventEmitter();
    ffmpeg.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/^frame=(\d+)$/gm)) frames = Number(m[1]);
      progress.emit('frames');
    });
    const exited = once(ffmpeg, 'exit') as Promise<[number | null, string | null]>;

    await waitUntil(
      progress,
      'frames',
      () => frames > 0,
      60_000,
      'ffmpeg decodes frames from the live playlist',
    );
    t.ok(frames > 0, `ffmpeg decoded ${frames} frames while the recording ran`);
    const recordingDuring = await ingest.repo.recording(started.recording);
    t.equal(recordingDuring?.endedAt, null, 'the recording was still running then');

    await gw.recorder.stop();
    const [code, signal] = await exited;
    t.equal(signal, null, `ffmpeg was not killed (stderr: ${stderr})`);
    t.equal(code, 0, `ffmpeg ends cleanly once the playlist ends (stderr: ${stderr})`);
    const track = (await ingest.repo.recording(started.recording))!.tracks[0]!;
    t.equal(track.status, 'closed');
    // 10 frames a second: ffmpeg read the whole track from its first segment to its last.
    const expected = (track.mediaMs / 1000) * 10;
    t.ok(frames >= expected * 0.9, `ffmpeg decoded ${frames} frames of the ${expected} the track holds`);
  },
);
