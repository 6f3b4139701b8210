import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { pino } from 'pino';
import t from 'tap';
import { discoverOnvif, parseProbeMatches } from '../../gateway/capture/onvif-discovery.ts';
import { type OnvifProfile, selectProfile } from '../../gateway/capture/onvif-profiles.ts';
import { connectOnvif } from '../../gateway/capture/onvif-source.ts';
import { GatewayError } from '../../gateway/errors.ts';
import { type FakeOnvif, type FakeOnvifOptions, startFakeOnvif } from '../helpers/fake-onvif.ts';

const MARGIN_MS = 2000;

async function fakeCamera(
  t: { teardown: (fn: () => unknown) => void },
  options: FakeOnvifOptions = {},
): Promise<FakeOnvif> {
  const fake = await startFakeOnvif(options);
  t.teardown(() => fake.close());
  return fake;
}

function settings(fake: FakeOnvif, extra: Record<string, unknown> = {}) {
  return { hostname: fake.hostname, port: fake.port, username: 'admin', password: 'secret', ...extra };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------------
// connecting

t.test(
  'connect reads device information verbatim, without the package turning "1.10" into 1.1',
  async (t) => {
    const fake = await fakeCamera(t);
    const camera = await connectOnvif(settings(fake));
    t.same(camera.info, {
      manufacturer: 'Quanlu Test',
      model: 'FakeCam 1',
      firmware: '1.10',
      serial: '000123',
      hardwareId: 'HW-7',
    });
    t.equal(camera.address, `127.0.0.1:${fake.port}`);
    t.equal(camera.mediaService, 'media2');
    t.same(
      fake.requests.map((r) => `${r.service}/${r.action}`),
      [
        'device/GetSystemDateAndTime',
        'device/GetServices',
        'device/GetDeviceInformation',
        'media2/GetProfiles',
      ],
    );
    t.ok(
      fake.requests.filter((r) => r.auth !== 'pre-auth').every((r) => r.auth === 'ok'),
      'every request that needs a token carried a valid one',
    );
  },
);

t.test(
  'profiles list token, name, codec, resolution, frame rate and audio (Media2, Profile T)',
  async (t) => {
    const fake = await fakeCamera(t);
    const camera = await connectOnvif(settings(fake));
    t.same(camera.profiles, [
      {
        token: 'sub',
        name: 'Sub stream',
        video: { encoding: 'H264', width: 640, height: 360, fps: 15 },
        audio: null,
      },
      {
        token: 'main',
        name: 'Main stream',
        video: { encoding: 'H264', width: 1920, height: 1080, fps: 25 },
        audio: { encoding: 'AAC' },
      },
      {
        token: 'hevc',
        name: 'HEVC stream',
        video: { encoding: 'H265', width: 3840, height: 2160, fps: 25 },
        audio: null,
      },
    ]);
  },
);

t.test(
  'a Profile S camera (no Media2) is read through the ver10 media service, tokens kept verbatim',
  async (t) => {
    const fake = await fakeCamera(t, {
      media2: false,
      profiles: [
        {
          token: '1.0',
          name: 'Stream 1',
          encoding: 'H264',
          width: 1280,
          height: 720,
          fps: 30,
          audio: 'G711',
        },
      ],
    });
    const camera = await connectOnvif(settings(fake));
    t.equal(camera.mediaService, 'media');
    t.same(camera.profile, {
      token: '1.0',
      name: 'Stream 1',
      video: { encoding: 'H264', width: 1280, height: 720, fps: 30 },
      audio: { encoding: 'G711' },
    });
    await camera.streamUri();
    const request = fake.requests.at(-1);
    t.equal(`${request?.service}/${request?.action}`, 'media/GetStreamUri');
    t.match(request?.body, /<ProfileToken>1\.0<\/ProfileToken>/);
    t.match(request?.body, /RTP-Unicast/);
    t.match(request?.body, /<Protocol>RTSP<\/Protocol>/);
  },
);

t.test('a camera that faults on GetServices is reached through GetCapabilities', async (t) => {
  const fake = await fakeCamera(t, { getServices: false });
  const camera = await connectOnvif(settings(fake));
  t.equal(camera.profile.token, 'main');
  t.ok(fake.requests.some((r) => r.action === 'GetCapabilities'));
  t.equal(camera.mediaService, 'media');
});

t.test('a camera whose Media2 GetProfiles faults is read through Media1', async (t) => {
  const fake = await fakeCamera(t, { faults: { 'media2/GetProfiles': { reason: 'Media2 broken' } } });
  const camera = await connectOnvif(settings(fake));
  t.equal(camera.mediaService, 'media');
  t.equal(camera.profile.token, 'main');
  await camera.streamUri();
  t.equal(fake.requests.at(-1)?.service, 'media', 'stream URIs come from Media1 too');
});

// ---------------------------------------------------------------------------------------------------
// stream URIs

t.test(
  'the stream URI carries percent-encoded credentials for ffmpeg and a redacted form without them',
  async (t) => {
    const password = 'pa:ss@w/rd%41';
    const fake = await fakeCamera(t, { password });
    const camera = await connectOnvif(settings(fake, { password }));
    const stream = await camera.streamUri();
    const url = new URL(stream.uri);
    t.equal(url.protocol, 'rtsp:');
    t.equal(decodeURIComponent(url.username), 'admin');
    t.equal(decodeURIComponent(url.password), password, 'ffmpeg decodes the userinfo back to the password');
    t.equal(url.host, '127.0.0.1:8554');
    t.equal(url.pathname, '/main');
    t.equal(stream.profileToken, 'main');
    t.equal(stream.redactedUri, 'rtsp://admin:***@127.0.0.1:8554/main');
    for (const shown of [
      stream.redactedUri,
      JSON.stringify(stream),
      inspect(stream),
      `${JSON.stringify({ stream })}`,
    ]) {
      t.notMatch(shown, 'pa:ss', 'no password in the shown form');
      t.notMatch(shown, encodeURIComponent(password), 'no encoded password in the shown form');
    }
    const request = fake.requests.at(-1);
    t.equal(`${request?.service}/${request?.action}`, 'media2/GetStreamUri');
    t.match(request?.body, /<Protocol>RTSP<\/Protocol>/, 'RTP over RTSP');
  },
);

t.test(
  'stream URI of a named profile, and credentials the camera puts in the path are redacted',
  async (t) => {
    const fake = await fakeCamera(t, {
      profiles: [
        { token: 'main', encoding: 'H264', width: 1920, height: 1080 },
        {
          token: 'xm',
          encoding: 'H264',
          width: 704,
          height: 576,
          streamUri: 'rtsp://olduser:oldpass@127.0.0.1:554/user=admin&password=secret&channel=1&stream=0.sdp',
        },
      ],
    });
    const camera = await connectOnvif(settings(fake));
    const stream = await camera.streamUri('xm');
    t.equal(stream.profileToken, 'xm');
    t.equal(
      decodeURIComponent(new URL(stream.uri).password),
      'secret',
      "configured credentials replace the camera's",
    );
    t.notMatch(stream.redactedUri, 'secret');
    t.notMatch(stream.redactedUri, 'oldpass');
    t.match(stream.redactedUri, 'password=***');
    await t.rejects(camera.streamUri('nope'), { code: 'GW_CAMERA_NO_PROFILE', message: /"nope".*main, xm/ });
  },
);

t.test('a stream URI that is not RTSP is a bad response', async (t) => {
  const fake = await fakeCamera(t, {
    profiles: [
      {
        token: 'main',
        encoding: 'H264',
        width: 1920,
        height: 1080,
        streamUri: 'http://127.0.0.1/x?pwd=secret',
      },
    ],
  });
  const camera = await connectOnvif(settings(fake));
  await t.rejects(camera.streamUri(), { code: 'GW_CAMERA_BAD_RESPONSE', message: /without an RTSP URL/ });
  await camera
    .streamUri()
    .catch((err: Error) => t.notMatch(err.message, 'secret', 'the error shows the redacted URL'));
});

// ---------------------------------------------------------------------------------------------------
// clocks

t.test(
  'clock offset of a camera 90 s ahead, in whole seconds, measured on the injected gateway clock',
  async (t) => {
    const fake = await fakeCamera(t, { skewMs: 90_000 });
    let reads = 0;
    const clock = {
      now: () => {
        reads++;
        return Date.now();
      },
    };
    const camera = await connectOnvif({ ...settings(fake), clock });
    const before = reads;
    const { offsetMs, rttMs, uncertaintyMs } = await camera.clockOffset();
    t.equal(reads - before, 2, 'read the gateway clock at request and response');
    t.ok(rttMs >= 0);
    t.ok(
      uncertaintyMs <= 500 + Math.ceil(rttMs / 2) + 1,
      'whole seconds: half a second plus half the round trip',
    );
    t.ok(
      Math.abs(offsetMs - 90_000) <= uncertaintyMs,
      `offset ${offsetMs} within ±${uncertaintyMs} of 90000`,
    );
  },
);

t.test('clock offset with millisecond camera time against a gateway clock 30 s behind', async (t) => {
  const fake = await fakeCamera(t, { skewMs: 90_000, fractionalSeconds: true });
  const camera = await connectOnvif({ ...settings(fake), clock: { now: () => Date.now() - 30_000 } });
  const { offsetMs, rttMs, uncertaintyMs } = await camera.clockOffset();
  t.equal(uncertaintyMs, Math.ceil(rttMs / 2) + 1, 'milliseconds: half the round trip');
  t.ok(
    Math.abs(offsetMs - 120_000) <= uncertaintyMs,
    `offset ${offsetMs} within ±${uncertaintyMs} of 120000`,
  );
});

t.test(
  'a camera that reports only local time connects, but its clock offset is reported unknown',
  async (t) => {
    const fake = await fakeCamera(t, { utcDateTime: false });
    const camera = await connectOnvif(settings(fake));
    await t.rejects(camera.clockOffset(), {
      code: 'GW_CAMERA_BAD_RESPONSE',
      message: /without a UTCDateTime/,
    });
  },
);

t.test('a camera 90 s ahead with a 5 s replay window accepts tokens stamped on its own clock', async (t) => {
  const fake = await fakeCamera(t, { skewMs: 90_000, tokenWindowMs: 5000 });
  await connectOnvif(settings(fake));
  const signed = fake.requests.filter((r) => r.created !== null && r.auth !== 'pre-auth');
  t.ok(signed.length >= 2);
  for (const r of signed) {
    t.equal(r.auth, 'ok', `${r.action} accepted`);
    t.ok(
      Math.abs(Date.parse(r.created ?? '') - r.cameraMs) < 5000,
      `${r.action} stamped on the camera clock`,
    );
  }
});

// ---------------------------------------------------------------------------------------------------
// failures

t.test(
  'wrong credentials: ter:NotAuthorized with HTTP 400 becomes GW_CAMERA_AUTH naming the camera',
  async (t) => {
    const fake = await fakeCamera(t);
    await t.rejects(connectOnvif(settings(fake, { password: 'wrong' })), {
      code: 'GW_CAMERA_AUTH',
      message: new RegExp(
        `camera 127\\.0\\.0\\.1:${fake.port} refused the credentials.*Sender not authorized`,
      ),
    });
    const refused = fake.requests.find((r) => r.auth === 'rejected');
    t.equal(refused?.status, 400);
  },
);

t.test('HTTP 401, with a Digest challenge or bare, becomes GW_CAMERA_AUTH', async (t) => {
  for (const unauthorized of ['http-401', 'http-401-bare'] as const) {
    const fake = await fakeCamera(t, { unauthorized });
    await t.rejects(
      connectOnvif(settings(fake, { password: 'wrong' })),
      { code: 'GW_CAMERA_AUTH', message: /refused the credentials/ },
      unauthorized,
    );
  }
});

t.test("a SOAP fault becomes GW_CAMERA_SOAP_FAULT with the camera's reason", async (t) => {
  const fake = await fakeCamera(t, {
    faults: {
      GetDeviceInformation: { code: 'Receiver', subcode: 'ter:Action', reason: 'Device is rebooting' },
    },
  });
  await t.rejects(connectOnvif(settings(fake)), {
    code: 'GW_CAMERA_SOAP_FAULT',
    message: new RegExp(
      `camera 127\\.0\\.0\\.1:${fake.port} answered GetDeviceInformation.*Device is rebooting`,
    ),
  });
});

t.test('a SOAP fault on GetStreamUri rejects streamUri() with the reason', async (t) => {
  const fake = await fakeCamera(t, { faults: { GetStreamUri: { reason: 'Too many streams open' } } });
  const camera = await connectOnvif(settings(fake));
  await t.rejects(camera.streamUri(), { code: 'GW_CAMERA_SOAP_FAULT', message: /Too many streams open/ });
});

t.test('a closed port is GW_CAMERA_UNREACHABLE', async (t) => {
  const port = await closedPort();
  await t.rejects(connectOnvif({ hostname: '127.0.0.1', port, username: 'admin', password: 'x' }), {
    code: 'GW_CAMERA_UNREACHABLE',
    message: new RegExp(`camera 127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED\\)`),
  });
});

t.test('a camera that never answers is GW_CAMERA_UNREACHABLE within the configured timeout', async (t) => {
  const fake = await fakeCamera(t, { hang: 'all' });
  const arrived = fake.nextRequest();
  const started = performance.now();
  const err = await connectOnvif(settings(fake, { timeoutMs: 300 })).catch((e: unknown) => e);
  const elapsed = performance.now() - started;
  t.ok(err instanceof GatewayError && err.code === 'GW_CAMERA_UNREACHABLE', String(err));
  t.match((err as Error).message, /GetSystemDateAndTime/);
  t.ok(elapsed < 300 + MARGIN_MS, `did not hang past the timeout (${Math.round(elapsed)} ms)`);
  t.equal((await arrived).action, 'GetSystemDateAndTime', 'the request did reach the camera');
});

t.test('a camera that answers one request too slowly is unreachable within the timeout', async (t) => {
  const fake = await fakeCamera(t, { delayMs: { GetProfiles: 60_000 } });
  const started = performance.now();
  await t.rejects(connectOnvif(settings(fake, { timeoutMs: 300 })), {
    code: 'GW_CAMERA_UNREACHABLE',
    message: /GetProfiles/,
  });
  t.ok(performance.now() - started < 4 * 300 + MARGIN_MS, 'did not hang past the timeouts of its requests');
});

t.test('a web page instead of ONVIF is GW_CAMERA_BAD_RESPONSE', async (t) => {
  const fake = await fakeCamera(t, {
    notOnvif: { status: 404, body: '<html><body>Not Found</body></html>' },
  });
  await t.rejects(connectOnvif(settings(fake)), {
    code: 'GW_CAMERA_BAD_RESPONSE',
    message: /not an ONVIF response \(HTTP 404\)/,
  });
});

t.test('settings the onvif package cannot sign are refused before the camera is contacted', async (t) => {
  const fake = await fakeCamera(t);
  await t.rejects(connectOnvif(settings(fake, { password: 'pässwort' })), {
    code: 'GW_CONFIG_INVALID',
    message: /printable ASCII/,
  });
  await t.rejects(connectOnvif(settings(fake, { username: 'a<b' })), { code: 'GW_CONFIG_INVALID' });
  await t.rejects(connectOnvif(settings(fake, { port: 0 })), { code: 'GW_CONFIG_INVALID' });
  t.equal(fake.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------------
// profiles

t.test(
  'without a configured token, the highest-resolution H.264 profile wins over a larger H.265 one',
  async (t) => {
    const fake = await fakeCamera(t);
    const camera = await connectOnvif(settings(fake));
    t.equal(camera.profile.token, 'main');
  },
);

t.test(
  'a configured profile token is used, even for H.265; an unknown one is GW_CAMERA_NO_PROFILE',
  async (t) => {
    const fake = await fakeCamera(t);
    const camera = await connectOnvif(settings(fake, { profileToken: 'hevc' }));
    t.equal(camera.profile.token, 'hevc');
    t.equal((await camera.streamUri()).profileToken, 'hevc');
    await t.rejects(connectOnvif(settings(fake, { profileToken: 'missing' })), {
      code: 'GW_CAMERA_NO_PROFILE',
      message: /no media profile "missing" \(it offers: sub, main, hevc\)/,
    });
  },
);

t.test('a camera with no video profile is GW_CAMERA_NO_PROFILE', async (t) => {
  for (const media2 of [true, false]) {
    const fake = await fakeCamera(t, { media2, profiles: [{ token: 'mic', encoding: null, audio: 'AAC' }] });
    await t.rejects(
      connectOnvif(settings(fake)),
      { code: 'GW_CAMERA_NO_PROFILE', message: /no media profile with a video encoder \(profiles: mic\)/ },
      `media2 ${media2}`,
    );
    const empty = await fakeCamera(t, { media2, profiles: [] });
    await t.rejects(
      connectOnvif(settings(empty)),
      { code: 'GW_CAMERA_NO_PROFILE' },
      `no profiles, media2 ${media2}`,
    );
  }
});

t.test(
  'selectProfile ranks H.264, then H.265, then other codecs; then pixels; then frame rate',
  async (t) => {
    const p = (
      token: string,
      encoding: string,
      width: number,
      height: number,
      fps: number | null,
    ): OnvifProfile => ({
      token,
      name: token,
      video: { encoding, width, height, fps },
      audio: null,
    });
    const audioOnly: OnvifProfile = { token: 'a', name: 'a', video: null, audio: { encoding: 'AAC' } };
    const cam = 'cam:80';
    t.equal(
      selectProfile([p('j', 'JPEG', 3840, 2160, 30), p('h5', 'H265', 1280, 720, 25)], undefined, cam).token,
      'h5',
    );
    t.equal(
      selectProfile([p('slow', 'H264', 1920, 1080, 12), p('fast', 'H264', 1920, 1080, 25)], undefined, cam)
        .token,
      'fast',
    );
    t.equal(selectProfile([p('j', 'JPEG', 640, 480, null), audioOnly], undefined, cam).token, 'j');
    t.throws(() => selectProfile([audioOnly], 'a', cam), {
      code: 'GW_CAMERA_NO_PROFILE',
      message: /carries no video/,
    });
    t.throws(() => selectProfile([], undefined, cam), {
      code: 'GW_CAMERA_NO_PROFILE',
      message: /profiles: none/,
    });
  },
);

// ---------------------------------------------------------------------------------------------------
// logs

t.test('logs of a full session and of failures never carry the password', async (t) => {
  const password = 'Top$ecret:42';
  const lines: string[] = [];
  const log = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const fake = await fakeCamera(t, {
    password,
    getServices: false,
    faults: { GetStreamUri: { reason: 'busy' } },
  });
  const camera = await connectOnvif({ ...settings(fake, { password }), log });
  await camera.streamUri().catch(() => undefined);
  await connectOnvif({ ...settings(fake, { password: 'wrong' }), log }).catch(() => undefined);
  const good = await fakeCamera(t, { password });
  const stream = await (await connectOnvif({ ...settings(good, { password }), log })).streamUri();
  log.info({ stream }, 'stream ready');
  t.ok(lines.length > 5, 'something was logged');
  const all = lines.join('');
  t.notMatch(all, password);
  t.notMatch(all, encodeURIComponent(password));
  t.match(all, 'rtsp://admin:***@127.0.0.1:8554/main');
});

// ---------------------------------------------------------------------------------------------------
// discovery

t.test(
  'ProbeMatches parsing: several devices per message, RelatesTo checked, stray datagrams ignored',
  async (t) => {
    const id = 'urn:uuid:probe-1';
    const match = (endpoint: string, xaddrs: string) =>
      `<d:ProbeMatch><a:EndpointReference><a:Address>${endpoint}</a:Address></a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/name/Hall%20A onvif://www.onvif.org/hardware/X1</d:Scopes><d:XAddrs>${xaddrs}</d:XAddrs></d:ProbeMatch>`;
    const message = (relatesTo: string, body: string) =>
      `<s:Envelope xmlns:s="x" xmlns:a="y" xmlns:d="z"><s:Header><a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header><s:Body><d:ProbeMatches>${body}</d:ProbeMatches></s:Body></s:Envelope>`;
    const two = parseProbeMatches(
      message(
        id,
        match(
          'urn:uuid:a',
          'http://[fe80::1]/onvif/device_service http://10.0.0.7:8080/onvif/device_service',
        ) + match('urn:uuid:b', 'http://10.0.0.9/onvif/device_service'),
      ),
      id,
      '10.0.0.7',
    );
    t.same(
      two.map((c) => [c.endpoint, c.hostname, c.port, c.path, c.name, c.hardware]),
      [
        ['urn:uuid:a', '10.0.0.7', 8080, '/onvif/device_service', 'Hall A', 'X1'],
        ['urn:uuid:b', '10.0.0.9', 80, '/onvif/device_service', 'Hall A', 'X1'],
      ],
      'the XAddr on the answering address is preferred',
    );
    t.same(
      parseProbeMatches(message('urn:uuid:other', match('urn:uuid:a', 'http://10.0.0.7/')), id, '10.0.0.7'),
      [],
    );
    t.same(
      parseProbeMatches(message(id, match('urn:uuid:a', 'ftp://10.0.0.7/')), id, '10.0.0.7'),
      [],
      'no HTTP XAddr',
    );
    t.same(parseProbeMatches('<not-soap>', id, '10.0.0.7'), []);
    t.same(await discoverOnvif({ signal: AbortSignal.abort() }), [], 'an aborted discovery sends nothing');
  },
);

const SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

function namespaceUnavailable(): string | false {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', SETUP], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error) return `unshare cannot run: ${probe.error.message}`;
  if (probe.status !== 0) return `no private network namespace with multicast on lo: ${probe.stderr.trim()}`;
  return false;
}

// Runs inside `unshare -n`: only a loopback interface exists, so no probe or answer can leave the machine.
const CHILD = `
import { discoverOnvif } from ${JSON.stringify(fileURLToPath(new URL('../../gateway/capture/onvif-discovery.ts', import.meta.url)))};
import { connectOnvif } from ${JSON.stringify(fileURLToPath(new URL('../../gateway/capture/onvif-source.ts', import.meta.url)))};
import { startFakeOnvif, startFakeDiscovery } from ${JSON.stringify(fileURLToPath(new URL('../helpers/fake-onvif.ts', import.meta.url)))};
const camera = await startFakeOnvif();
const responder = await startFakeDiscovery({ xaddrs: [camera.xaddr], noise: true,
  extra: [{ endpoint: 'urn:uuid:encoder-channel-2', xaddrs: ['http://127.0.0.1:9/onvif/device_service'] }] });
const stop = new AbortController();
const seen = [];
const found = await discoverOnvif({ timeoutMs: 20000, signal: stop.signal, onCamera: (c) => {
  seen.push(c.endpoint);
  if (seen.includes(responder.endpoint) && seen.includes('urn:uuid:encoder-channel-2')) stop.abort();
} });
const mine = found.find((c) => c.endpoint === responder.endpoint);
const connected = mine && await connectOnvif({ hostname: mine.hostname, port: mine.port, path: mine.path, username: 'admin', password: 'secret' });
const badInterface = await discoverOnvif({ timeoutMs: 500, interfaceAddress: '10.255.255.254' }).then(() => 'resolved', (e) => e.code);
console.log(JSON.stringify({ endpoint: responder.endpoint, found, probes: responder.probes.length, model: connected?.info.model, badInterface }));
await responder.close();
await camera.close();
`;

const unavailable = namespaceUnavailable();
t.test(
  'discovery finds the fake camera inside a private network namespace, and the answer leads to it',
  { skip: unavailable },
  async (t) => {
    const child = spawn(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        `${SETUP} && exec "$@"`,
        'sh',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        CHILD,
      ],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const [code] = (await once(child, 'close')) as [number | null];
    t.equal(code, 0, `child exited cleanly: ${stderr.slice(-2000)}`);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    const mine = result.found.find((c: { endpoint: string }) => c.endpoint === result.endpoint);
    t.ok(mine, 'the fake was found');
    t.equal(mine?.name, 'Fake Camera');
    t.equal(mine?.hostname, '127.0.0.1');
    t.ok(
      result.found.some((c: { endpoint: string }) => c.endpoint === 'urn:uuid:encoder-channel-2'),
      'a second device in the same ProbeMatches is found too',
    );
    t.notOk(
      result.found.some((c: { endpoint: string }) => c.endpoint === 'urn:uuid:stranger'),
      'an answer to another probe is ignored',
    );
    t.ok(result.probes >= 1, 'the responder saw our probe');
    t.equal(result.model, 'FakeCam 1', 'the discovered XAddr connects');
    t.equal(result.badInterface, 'GW_CAMERA_UNREACHABLE', 'a probe from a missing interface fails clearly');
  },
);
