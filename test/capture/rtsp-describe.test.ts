/**
 * @module Reading a camera's streams from its session description: SDP parsing, the DESCRIBE client against the
 * real RTSP server, and Digest/Basic credentials against a fake RTSP responder written here (the test RTSP
 * server has no authentication).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { probeSource } from '../../gateway/capture/probe.ts';
import { challengeParams, describe, digestAuthorization } from '../../gateway/capture/rtsp-describe.ts';
import { sdpStreams } from '../../gateway/capture/sdp-streams.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { startRtspServer } from '../helpers/rtsp-server.ts';

const server = await startRtspServer();
t.teardown(() => server.stop());

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GatewayError ? err.code : String(err)),
  );

t.test('SDP: audio and video sections named as ffprobe names them, in order', async (t) => {
  const sdp = [
    'v=0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'm=audio 0 RTP/AVP 97',
    'a=rtpmap:97 mpeg4-generic/48000/1',
    'm=application 0 RTP/AVP 107',
    'a=rtpmap:107 vnd.onvif.metadata/90000',
    'm=audio 0 RTP/AVP 0',
    '',
  ].join('\r\n');
  t.same(sdpStreams(sdp), [
    { codec_type: 'video', codec_name: 'h264' },
    { codec_type: 'audio', codec_name: 'aac' },
    { codec_type: 'audio', codec_name: 'pcm_mulaw' },
  ]);
  t.same(sdpStreams('m=video 0 RTP/AVP 96\na=rtpmap:96 H265/90000\n'), [
    { codec_type: 'video', codec_name: 'hevc' },
  ]);
});

t.test('SDP: anything uncertain is null, so ffprobe is asked', async (t) => {
  t.equal(sdpStreams('m=video 0 RTP/AVP 96\n'), null, 'dynamic payload type without rtpmap');
  t.equal(sdpStreams('m=video 0 RTP/AVP 96\na=rtpmap:96 MP4V-ES/90000\n'), null, 'unmapped encoding');
  t.equal(sdpStreams('m=audio 0 RTP/AVP 96\na=rtpmap:96 H264/90000\n'), null, 'video encoding as audio');
  t.equal(sdpStreams('v=0\ns=nothing\n'), null, 'no media');
  t.equal(sdpStreams('m=application 0 RTP/AVP 107\na=rtpmap:107 vnd.onvif.metadata/90000\n'), null);
});

t.test('Digest response of RFC 2617 §3.5', async (t) => {
  const header = digestAuthorization({
    username: 'Mufasa',
    password: 'Circle Of Life',
    method: 'GET',
    uri: '/dir/index.html',
    challenge: {
      realm: 'testrealm@host.com',
      qop: 'auth,auth-int',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    },
    cnonce: '0a4f113b',
  });
  t.match(header, /response="6629fae49393a05397450978507c4ef1"/);
  t.match(header, /qop=auth, nc=00000001, cnonce="0a4f113b"/);
  t.match(header, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
  t.same(challengeParams('Digest realm="a \\"b\\"", nonce="n", stale=FALSE'), {
    scheme: 'digest',
    params: { realm: 'a "b"', nonce: 'n', stale: 'FALSE' },
  });
});

t.test('DESCRIBE against the real RTSP server', async (t) => {
  const live = await describe(server.url('/live'), 'cam', 5000);
  t.equal(live.status, 200);
  t.same(
    sdpStreams(live.body)?.map((s) => s.codec_name),
    ['h264', 'aac'],
  );
  t.equal((await describe(server.url('/no-such-mount'), 'cam', 5000)).status, 404);
  t.equal(await codeOf(describe('rtsp://127.0.0.1:9/none', 'u', 3000)), 'GW_CAMERA_UNREACHABLE');
});

/**
 * A fake RTSP responder: 401 with the given challenge unless the request's Authorization is right (checked
 * here with its own MD5 arithmetic), then 200 with an H.264 description. Closes after each answer.
 */
async function fakeCamera(challenge: 'digest' | 'basic') {
  const seen: string[] = [];
  const sdp = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const srv = createServer((socket: Socket) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      seen.push(text);
      const uri = /^DESCRIBE (\S+) /.exec(text)?.[1] ?? '';
      const auth = /\r\nAuthorization: ([^\r]*)/.exec(text)?.[1] ?? '';
      let ok = false;
      if (challenge === 'basic') ok = auth === `Basic ${Buffer.from('admin:pa:ss').toString('base64')}`;
      else {
        const get = (k: string) => new RegExp(`${k}="?([^",]*)"?`).exec(auth)?.[1] ?? '';
        const ha1 = md5('admin:cam realm:pa:ss');
        const ha2 = md5(`DESCRIBE:${uri}`);
        ok = get('response') === md5(`${ha1}:n0nce:${get('nc')}:${get('cnonce')}:auth:${ha2}`);
      }
      const cseq = /CSeq: (\d+)/.exec(text)?.[1];
      socket.end(
        ok
          ? `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`
          : `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\n` +
              (challenge === 'basic'
                ? 'WWW-Authenticate: Basic realm="cam realm"\r\n'
                : 'WWW-Authenticate: Basic realm="cam realm"\r\nWWW-Authenticate: Digest realm="cam realm", nonce="n0nce", qop="auth"\r\n') +
              '\r\n',
      );
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  return { port, seen, close: () => srv.close() };
}

t.test(
  'credentials from the URL answer a Digest challenge (preferred to Basic) and a Basic one',
  async (t) => {
    for (const scheme of ['digest', 'basic'] as const) {
      const cam = await fakeCamera(scheme);
      t.teardown(cam.close);
      const url = `rtsp://admin:${encodeURIComponent('pa:ss')}@127.0.0.1:${cam.port}/stream1`;
      const answer = await describe(url, 'cam', 5000);
      t.equal(answer.status, 200, scheme);
      t.equal(cam.seen.length, 2, `${scheme}: one challenge, one answer`);
      t.notMatch(cam.seen[0], /Authorization/, 'no credentials before the challenge');
      t.match(cam.seen[1], scheme === 'digest' ? /Authorization: Digest / : /Authorization: Basic /);
      t.notMatch(cam.seen[1]!.split('\r\n')[0], /admin|pa/, 'the request line carries no credentials');
      const wrong = await describe(`rtsp://admin:nope@127.0.0.1:${cam.port}/stream1`, 'cam', 5000);
      t.equal(wrong.status, 401, `${scheme}: wrong credentials stay a 401`);
      const refused = probeSource(
        `rtsp://admin:nope@127.0.0.1:${cam.port}/stream1`,
        'cam',
        5000,
        '/nonexistent',
      );
      t.equal(await codeOf(refused), 'GW_CAMERA_AUTH', `${scheme}: the probe refuses with GW_CAMERA_AUTH`);
      const probed = await probeSource(url, 'cam', 5000, '/nonexistent/ffprobe');
      t.equal(probed.video.codec, 'h264', `${scheme}: the probe reads the description, no ffprobe`);
    }
  },
);
