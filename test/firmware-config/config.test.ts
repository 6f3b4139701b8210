import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import {
  caseIdMatcher,
  DEFAULT_CASE_ID_PATTERN,
  isCompilablePattern,
} from '../../firmware-config/case-id-pattern.ts';
import type { GatewayConfigInput } from '../../firmware-config/gateway-config.ts';
import { configJsonSchemas, SCHEMA_DIR, writeConfigJsonSchemas } from '../../firmware-config/json-schema.ts';
import { demoGatewayConfig, loadGatewayConfig, parseGatewayConfig } from '../../firmware-config/load.ts';
import { loadMatterList, MATTERS_FILE, mattersForProfile } from '../../firmware-config/matters.ts';
import { RoomProfile, type RoomProfileInput } from '../../firmware-config/room-profile.ts';
import { loadRoomProfiles, PROFILES_DIR, shippedRoomProfiles } from '../../firmware-config/room-profiles.ts';
import { GatewayError } from '../../gateway/errors.ts';

const EXAMPLE = new URL('../../firmware-config/example-gateway.yaml', import.meta.url).pathname;

const dir = await mkdtemp(join(tmpdir(), 'quanlu-config-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** A config that is valid as it stands: an interview room with one synthetic camera. */
function minimal(): GatewayConfigInput {
  return {
    gateway: { id: 'gw-1' },
    room: { id: 'interview-1', name: '第一询问室', profile: 'interview-room' },
    cameras: [{ id: 'cam-1', name: 'panorama', source: { kind: 'synthetic' } }],
  };
}

/** A whole hearing-room profile, to be edited inline. */
function hearingProfile(): RoomProfileInput {
  return { ...shippedRoomProfiles().get('hearing-room')! };
}

function twoCameras(): GatewayConfigInput['cameras'] {
  return [
    { id: 'cam-1', name: 'one', source: { kind: 'synthetic' } },
    { id: 'cam-2', name: 'two', source: { kind: 'synthetic' } },
  ];
}

/** Asserts that parsing throws GW_CONFIG_INVALID whose message has every fragment, and no stack trace. */
function refuses(t: Test, input: unknown, ...fragments: string[]) {
  try {
    parseGatewayConfig(input);
  } catch (err) {
    t.type(err, GatewayError);
    const e = err as GatewayError;
    t.equal(e.code, 'GW_CONFIG_INVALID');
    for (const f of fragments) t.match(e.message, f, `names ${f}`);
    t.notMatch(e.message, /\n\s+at /, 'no stack trace in the message');
    return e;
  }
  t.fail('expected GW_CONFIG_INVALID');
  return undefined;
}

async function writeTemp(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

t.test('every shipped room profile validates and is named after its file', async (t) => {
  const profiles = loadRoomProfiles(PROFILES_DIR);
  t.same([...profiles.keys()].sort(), ['dock-station', 'hearing-room', 'interview-room']);
  for (const profile of profiles.values()) t.ok(RoomProfile.safeParse(profile).success, profile.name);
  t.equal(profiles.get('hearing-room')?.kind, 'room');
  t.equal(profiles.get('dock-station')?.kind, 'dock');
  t.equal(profiles.get('dock-station')?.cameras.min, 0);
  t.equal(profiles.get('dock-station')?.requiredElements.officersMin, 0);
  for (const name of ['interview-room', 'hearing-room']) {
    const p = profiles.get(name)!;
    t.ok(p.requiredElements.officersMin >= 2, `${name} needs two officers`);
    t.ok(p.audio.required, `${name} requires audio`);
    t.equal(p.segmentSeconds, 4);
  }
});

t.test('a profile file whose name differs from its file name is refused', async (t) => {
  const profilesDir = await mkdtemp(join(dir, 'profiles-'));
  await writeFile(join(profilesDir, 'room-a.yaml'), stringify({ ...hearingProfile(), name: 'room-b' }));
  t.throws(() => loadRoomProfiles(profilesDir), {
    code: 'GW_CONFIG_INVALID',
    message: /must match the file name/,
  });
});

t.test(
  'the example gateway configuration validates as a hearing room with two synthetic cameras',
  async (t) => {
    const { config, profile } = await loadGatewayConfig(EXAMPLE);
    t.equal(profile.name, 'hearing-room');
    t.same(
      config.cameras.map((c) => c.source.kind),
      ['synthetic', 'synthetic'],
    );
    t.equal(config.ingest.mqttUrl, 'mqtts://127.0.0.1:1883');
    t.equal(config.ingest.tls.caFile, './data/ingest/tls/ca.pem', 'the ingest CA, the only one trusted');
  },
);

t.test('a minimal YAML file gets every default', async (t) => {
  const file = await writeTemp(
    'minimal.yaml',
    [
      'gateway: { id: gw-1 }',
      'room: { id: interview-1, name: 第一询问室, profile: interview-room }',
      'cameras:',
      '  - id: cam-1',
      '    name: panorama',
      '    source: { kind: synthetic }',
      '',
    ].join('\n'),
  );
  const { config, profile } = await loadGatewayConfig(file);
  t.same(config, {
    gateway: { id: 'gw-1', dataDir: './data/gateway' },
    room: { id: 'interview-1', name: '第一询问室', profile: 'interview-room' },
    cameras: [
      {
        id: 'cam-1',
        name: 'panorama',
        audio: true,
        source: { kind: 'synthetic', width: 1280, height: 720, fps: 25, bitrateKbps: 2000, tone: 440 },
      },
    ],
    microphones: [],
    ingest: { tls: {} },
    clock: { syncSeconds: 300, samples: 8, timeoutMs: 2000, staleSeconds: 3600 },
    console: {
      host: '127.0.0.1',
      port: 8090,
      startReserveMiB: 1024,
      diskLowMiB: 4096,
      ingestUnreachableSeconds: 30,
      tls: { mode: 'auto', names: [] },
    },
    spool: { minFreeMiB: 512, retainAckedMiB: 1024 },
    log: { level: 'info' },
  });
  t.equal(profile.name, 'interview-room');
  t.equal(profile.maxClockOffsetMs, 2000);
  t.equal(profile.stallSeconds, 5);
  t.equal(profile.caseIdPattern, DEFAULT_CASE_ID_PATTERN);
});

t.test('a JSON file loads like a YAML file', async (t) => {
  const file = await writeTemp('minimal.json', JSON.stringify(minimal()));
  const { config } = await loadGatewayConfig(file);
  t.equal(config.gateway.id, 'gw-1');
});

t.test('a parsed configuration parses again to itself (for config push)', async (t) => {
  const { config } = parseGatewayConfig(minimal());
  t.same(parseGatewayConfig(config).config, config);
});

t.test('an inline room profile is used as given, with its defaults', async (t) => {
  const { profile } = parseGatewayConfig({
    ...minimal(),
    room: { id: 'r', name: 'r', profile: { ...hearingProfile(), name: 'custom', segmentSeconds: undefined } },
    cameras: twoCameras(),
  });
  t.equal(profile.name, 'custom');
  t.equal(profile.segmentSeconds, 4);
});

t.test('ONVIF and RTSP camera sources get their defaults', async (t) => {
  const { config } = parseGatewayConfig({
    ...minimal(),
    room: { id: 'h', name: 'h', profile: 'hearing-room' },
    cameras: [
      {
        id: 'cam-1',
        name: 'one',
        source: { kind: 'onvif', host: '192.0.2.5', username: 'admin', passwordFile: 'p' },
      },
      { id: 'cam-2', name: 'two', audio: false, source: { kind: 'rtsp', url: 'rtsps://cam/s' } },
    ],
  });
  t.same(config.cameras[0]?.source, {
    kind: 'onvif',
    host: '192.0.2.5',
    port: 80,
    path: '/onvif/device_service',
    username: 'admin',
    passwordFile: 'p',
    timeoutMs: 5000,
  });
  t.same(config.cameras[1]?.source, { kind: 'rtsp', url: 'rtsps://cam/s' });
});

t.test('segmentSeconds outside 2–6 is refused, naming the field', async (t) => {
  for (const segmentSeconds of [1, 7, 4.5]) {
    refuses(
      t,
      {
        ...minimal(),
        room: { id: 'r', name: 'r', profile: { ...hearingProfile(), segmentSeconds } },
        cameras: twoCameras(),
      },
      'room.profile.segmentSeconds',
    );
  }
});

t.test('a room profile with fewer than two officers is refused; a dock may have none', async (t) => {
  const profile = hearingProfile();
  refuses(
    t,
    {
      ...minimal(),
      room: {
        id: 'r',
        name: 'r',
        profile: { ...profile, requiredElements: { ...profile.requiredElements, officersMin: 1 } },
      },
      cameras: twoCameras(),
    },
    'room.profile.requiredElements.officersMin',
    'at least 2 officers',
  );
  const dock = shippedRoomProfiles().get('dock-station')!;
  t.ok(RoomProfile.safeParse(dock).success, 'the dock profile asks for no officers');
  t.notOk(RoomProfile.safeParse({ ...dock, kind: 'room' }).success, 'the same profile as a room is refused');
});

t.test('a room profile without cameras, or with min above max, is refused', async (t) => {
  const profile = hearingProfile();
  const withCameras = (cameras: object) => ({
    ...minimal(),
    room: { id: 'r', name: 'r', profile: { ...profile, cameras } },
  });
  refuses(t, withCameras({ min: 0, max: 2 }), 'room.profile.cameras.min', 'at least 1 camera');
  refuses(t, withCameras({ min: 3, max: 2 }), 'room.profile.cameras.min', 'must not exceed');
  refuses(t, withCameras({ min: 1, max: 2, roles: ['a', 'a'] }), 'room.profile.cameras.roles', 'unique');
});

t.test('duplicate camera ids are refused, naming the second one', async (t) => {
  const config = {
    ...minimal(),
    room: { id: 'h', name: 'h', profile: 'hearing-room' },
    cameras: twoCameras(),
  };
  config.cameras![1]!.id = 'cam-1';
  refuses(t, config, 'cameras[1].id', 'used twice');
});

t.test('a bad gateway id or camera id is refused', async (t) => {
  for (const id of ['Gateway-1', '-gw', 'gw_1', '', 'a'.repeat(64)]) {
    refuses(t, { ...minimal(), gateway: { id } }, 'gateway.id');
  }
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'Cam 1', name: 'x', source: { kind: 'synthetic' } }] },
    'cameras[0].id',
  );
});

t.test('an RTSP url that is not rtsp:// or rtsps:// is refused', async (t) => {
  for (const url of ['http://192.0.2.10/stream', 'rtsp//x', '192.0.2.10:554']) {
    refuses(
      t,
      { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', source: { kind: 'rtsp', url } }] },
      'cameras[0].source.url',
      'rtsp://',
    );
  }
});

t.test('an ONVIF camera with both password and passwordFile, or a URL as host, is refused', async (t) => {
  const onvif = { kind: 'onvif', host: 'cam.local', username: 'u', password: 'p', passwordFile: '/p' };
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', source: onvif }] },
    'cameras[0].source.passwordFile',
  );
  const url = { kind: 'onvif', host: 'http://cam.local/', username: 'u' };
  refuses(t, { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', source: url }] }, 'cameras[0].source.host');
});

t.test('an unknown camera source kind is refused, naming the kinds', async (t) => {
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', source: { kind: 'usb' } }] },
    'cameras[0].source.kind',
    'synthetic',
  );
});

t.test('an uncompilable caseIdPattern is refused', async (t) => {
  refuses(
    t,
    {
      ...minimal(),
      room: { id: 'r', name: 'r', profile: { ...hearingProfile(), caseIdPattern: '([A-Z' } },
      cameras: twoCameras(),
    },
    'room.profile.caseIdPattern',
    'not a valid regular expression',
  );
});

t.test('an unknown profile name is refused, listing the known ones', async (t) => {
  refuses(
    t,
    { ...minimal(), room: { id: 'r', name: 'r', profile: 'court-room' } },
    'room.profile',
    'court-room',
    'hearing-room',
  );
});

t.test('unknown keys are refused at every level, naming the key', async (t) => {
  refuses(t, { ...minimal(), camera: [] }, 'camera: unknown key');
  refuses(
    t,
    { ...minimal(), room: { id: 'r', name: 'r', profile: 'interview-room', profle: 'x' } },
    'room.profle: unknown key',
  );
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', source: { kind: 'synthetic', fpss: 30 } }] },
    'cameras[0].source.fpss: unknown key',
  );
  refuses(
    t,
    {
      ...minimal(),
      room: { id: 'r', name: 'r', profile: { ...hearingProfile(), segmentSecond: 4 } },
      cameras: twoCameras(),
    },
    'room.profile.segmentSecond: unknown key',
  );
});

t.test('a camera count outside the profile range is refused', async (t) => {
  refuses(
    t,
    { ...minimal(), room: { id: 'h', name: 'h', profile: 'hearing-room' } },
    'cameras: the hearing-room profile takes 2–8 cameras; this config has 1',
  );
  refuses(
    t,
    { ...minimal(), cameras: [] },
    'cameras: the interview-room profile takes 1–4 cameras; this config has 0',
  );
  const dock = parseGatewayConfig({
    ...minimal(),
    room: { id: 'dock-1', name: 'dock', profile: 'dock-station' },
    cameras: undefined,
  });
  t.same(dock.config.cameras, [], 'a dock needs no cameras');
});

t.test('a room that requires audio refuses cameras that all record none', async (t) => {
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', audio: false, source: { kind: 'synthetic' } }] },
    'requires audio',
  );
});

t.test('a camera role must be one the profile lists', async (t) => {
  refuses(
    t,
    { ...minimal(), cameras: [{ id: 'cam-1', name: 'x', role: 'ceiling', source: { kind: 'synthetic' } }] },
    'cameras[0].role',
    'panorama',
  );
  const { config } = parseGatewayConfig({
    ...minimal(),
    cameras: [{ id: 'cam-1', name: 'x', role: 'subject', source: { kind: 'synthetic' } }],
  });
  t.equal(config.cameras[0]?.role, 'subject');
});

t.test('the MQTT url must be mqtt:// or mqtts://', async (t) => {
  refuses(t, { ...minimal(), ingest: { mqttUrl: 'http://broker:1883' } }, 'ingest.mqttUrl');
  t.equal(
    parseGatewayConfig({
      ...minimal(),
      ingest: { mqttUrl: 'mqtts://broker:8883', tls: { caFile: '/etc/quanlu/ingest-ca.pem' } },
    }).config.ingest.mqttUrl,
    'mqtts://broker:8883',
  );
});

t.test(
  'mqtts:// trusts only the ingest CA: caFile or caFingerprint, the system CAs only when written out (issue 10)',
  async (t) => {
    const FINGERPRINT = 'ab'.repeat(32);
    refuses(
      t,
      { ...minimal(), ingest: { mqttUrl: 'mqtts://broker:8883' } },
      'ingest.tls: an mqtts:// mqttUrl needs ingest.tls.caFingerprint',
      'trustSystemCas',
    );
    refuses(
      t,
      {
        ...minimal(),
        ingest: { mqttUrl: 'mqtts://broker:8883', tls: { certFile: '/data/gateway-cert.pem' } },
      },
      'ingest.tls: an mqtts:// mqttUrl needs',
    );
    const pinned = parseGatewayConfig({
      ...minimal(),
      ingest: { mqttUrl: 'mqtts://broker:8883', tls: { caFingerprint: FINGERPRINT } },
    }).config.ingest.tls;
    t.equal(pinned.caFingerprint, FINGERPRINT);
    t.notOk(pinned.trustSystemCas, 'the system CAs are not trusted by default');
    const system = parseGatewayConfig({
      ...minimal(),
      ingest: { mqttUrl: 'mqtts://broker.example:8883', tls: { trustSystemCas: true } },
    }).config.ingest.tls;
    t.equal(system.trustSystemCas, true, 'trustSystemCas: true is the written-out exception');
    t.equal(parseGatewayConfig(minimal()).config.ingest.mqttUrl, undefined, 'no uplink: nothing to pin');
  },
);

t.test('mqtt:// (plain text) only with ingest.tls.plaintext: true (issue 10)', async (t) => {
  refuses(
    t,
    { ...minimal(), ingest: { mqttUrl: 'mqtt://broker:1883' } },
    'ingest.mqttUrl: mqtt:// speaks plain text',
    'ingest.tls.plaintext: true',
  );
  refuses(
    t,
    { ...minimal(), ingest: { mqttUrl: 'MQTT://broker:1883', tls: { caFile: '/ca.pem' } } },
    'ingest.mqttUrl: mqtt:// speaks plain text',
  );
  const plain = parseGatewayConfig({
    ...minimal(),
    ingest: { mqttUrl: 'mqtt://broker:1883', tls: { plaintext: true } },
  }).config.ingest;
  t.equal(plain.mqttUrl, 'mqtt://broker:1883');
  t.equal(plain.tls.plaintext, true);
  t.notOk(parseGatewayConfig(minimal()).config.ingest.tls.plaintext, 'off by default');
});

t.test('a wrong type is reported with what was expected', async (t) => {
  refuses(
    t,
    { ...minimal(), room: { id: 'r', name: 'r', profile: 5 } },
    'room.profile: expected string or object',
  );
  refuses(t, null, '(top level)');
  refuses(t, { ...minimal(), console: { port: '8090' } }, 'console.port');
});

t.test('every problem of a config is listed, one line each', async (t) => {
  const e = refuses(
    t,
    { ...minimal(), gateway: { id: 'BAD' }, spool: { minFreeMiB: -1 }, log: { level: 'verbose' } },
    'gateway.id',
    'spool.minFreeMiB',
    'log.level',
  );
  t.equal(e?.message.split('\n').filter((l) => l.startsWith('  - ')).length, 3);
});

t.test('an unreadable file is GW_CONFIG_UNREADABLE naming the path', async (t) => {
  const file = join(dir, 'missing.yaml');
  await t.rejects(loadGatewayConfig(file), {
    code: 'GW_CONFIG_UNREADABLE',
    message: `${file}: cannot read the file (no such file)`,
  });
  await t.rejects(loadGatewayConfig(dir), { code: 'GW_CONFIG_UNREADABLE', message: dir });
});

t.test('broken YAML is GW_CONFIG_UNREADABLE naming the path and the line', async (t) => {
  const file = await writeTemp('broken.yaml', 'gateway:\n  id: gw-1\n room: [a, b\n');
  const err = await loadGatewayConfig(file).catch((e: unknown) => e);
  t.type(err, GatewayError);
  t.equal((err as GatewayError).code, 'GW_CONFIG_UNREADABLE');
  t.match((err as GatewayError).message, file);
  t.match((err as GatewayError).message, /line 3/);
  const dup = await writeTemp('duplicate.yaml', 'gateway: { id: a }\ngateway: { id: b }\n');
  await t.rejects(
    loadGatewayConfig(dup),
    { code: 'GW_CONFIG_UNREADABLE', message: /unique/ },
    'a repeated key is refused',
  );
  const json = await writeTemp('broken.json', '{"gateway": {"id": "gw-1"}');
  await t.rejects(loadGatewayConfig(json), { code: 'GW_CONFIG_UNREADABLE', message: json });
});

t.test('a YAML alias bomb is refused as unreadable', async (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 6; i++)
    lines.push(`${'bcdefg'[i]}: &${'bcdefg'[i]} [${Array(10).fill(`*${'abcdef'[i]}`).join(', ')}]`);
  const file = await writeTemp('bomb.yaml', `${lines.join('\n')}\n`);
  await t.rejects(loadGatewayConfig(file), { code: 'GW_CONFIG_UNREADABLE', message: file });
});

t.test('a missing or unreadable profiles folder is GW_CONFIG_UNREADABLE', async (t) => {
  t.throws(() => loadRoomProfiles(join(dir, 'no-such-folder')), { code: 'GW_CONFIG_UNREADABLE' });
  const profilesDir = await mkdtemp(join(dir, 'profiles-'));
  await mkdir(join(profilesDir, 'folder.yaml'));
  t.throws(() => loadRoomProfiles(profilesDir), { code: 'GW_CONFIG_UNREADABLE', message: 'folder.yaml' });
});

t.test('an invalid file names its path in GW_CONFIG_INVALID', async (t) => {
  const file = await writeTemp('invalid.yaml', stringify({ ...minimal(), gateway: { id: 'BAD' } }));
  await t.rejects(loadGatewayConfig(file), {
    code: 'GW_CONFIG_INVALID',
    message: new RegExp(`${file}[^]*gateway\\.id`),
  });
});

t.test('the default caseIdPattern takes Chinese case numbers and plain ids', async (t) => {
  const accepts = caseIdMatcher(DEFAULT_CASE_ID_PATTERN);
  for (const id of [
    '京朝市监罚〔2026〕123号',
    '许市监处罚〔2026〕第15号',
    '豫许城管罚字[2026]0042号',
    'DEMO-2026-0001',
    'A1',
  ]) {
    t.ok(accepts(id), id);
  }
});

t.test('the default caseIdPattern refuses path and control characters and empty ids', async (t) => {
  const accepts = caseIdMatcher(DEFAULT_CASE_ID_PATTERN);
  for (const id of ['../x', 'a/b', 'a\\b', '', '..', ' x', 'a b', 'a\u0000b', 'a\nb', 'x'.repeat(65)]) {
    t.notOk(accepts(id), JSON.stringify(id));
  }
});

t.test('a loose caseIdPattern still refuses path characters; patterns match whole ids', async (t) => {
  const loose = caseIdMatcher('.*');
  t.ok(loose('anything-1'));
  t.notOk(loose('a/b'));
  t.notOk(loose('../x'));
  t.notOk(loose(''));
  const strict = caseIdMatcher('DEMO-\\d{4}-\\d{4}');
  t.ok(strict('DEMO-2026-0001'));
  t.notOk(strict('xDEMO-2026-0001'), 'anchored at the start');
  t.notOk(strict('DEMO-2026-00012'), 'anchored at the end');
  t.notOk(isCompilablePattern('x)|(.*'), 'an unbalanced group cannot escape the anchors');
  t.notOk(isCompilablePattern('([A-Z'));
});

t.test('the committed JSON Schema files equal a fresh export', async (t) => {
  const fresh = configJsonSchemas();
  t.same(Object.keys(fresh).sort(), [
    'gateway-config.schema.json',
    'matter-list.schema.json',
    'room-profile.schema.json',
  ]);
  for (const [name, schema] of Object.entries(fresh)) {
    const committed = JSON.parse(await readFile(join(SCHEMA_DIR, name), 'utf8'));
    t.same(committed, schema, `${name} is up to date (run: npx tsx scripts/export-config-schema.ts)`);
  }
});

t.test('the export writes every schema file', async (t) => {
  const out = join(dir, 'schema');
  const written = await writeConfigJsonSchemas(out);
  t.equal(written.length, 3);
  for (const [name, schema] of Object.entries(configJsonSchemas())) {
    t.same(JSON.parse(await readFile(join(out, name), 'utf8')), schema, name);
  }
});

t.test('every field of every exported schema carries a description', async (t) => {
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const props = (node as { properties?: Record<string, { description?: string }> }).properties;
    for (const [key, prop] of Object.entries(props ?? {}))
      if (!prop.description) missing.push(`${path}.${key}`);
    for (const [key, child] of Object.entries(node)) walk(child, `${path}.${key}`);
  };
  for (const [name, schema] of Object.entries(configJsonSchemas())) walk(schema, name);
  t.same(missing, []);
});

t.test('the matter list loads, each matter naming shipped room profiles', async (t) => {
  const list = await loadMatterList(MATTERS_FILE);
  t.ok(list.matters.length >= 15);
  const ids = list.matters.map((m) => m.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const id of [
    'seizure',
    'forced-demolition',
    'penalty-hearing',
    'inquiry',
    'on-site-inspection',
    'order-to-suspend',
  ]) {
    t.ok(ids.includes(id), id);
  }
  t.same(
    mattersForProfile(list, 'hearing-room').map((m) => m.id),
    ['statement-and-defence', 'penalty-hearing', 'licensing-hearing'],
  );
  t.ok(
    list.matters.find((m) => m.id === 'forced-demolition')?.mandatory,
    'forced demolition is recorded in full',
  );
});

t.test('a matter list with a repeated id or an unknown room is refused', async (t) => {
  const matter = { id: 'seizure', zh: '查封', en: 'Sealing up', category: 'coercion', mandatory: true };
  const dup = await writeTemp('dup-matters.yaml', stringify({ basis: 'test', matters: [matter, matter] }));
  await t.rejects(loadMatterList(dup), {
    code: 'GW_CONFIG_INVALID',
    message: /matters\[1\]\.id: matter id "seizure" is used twice/,
  });
  const room = await writeTemp(
    'room-matters.yaml',
    stringify({ basis: 'test', matters: [{ ...matter, rooms: ['court'] }] }),
  );
  await t.rejects(loadMatterList(room), {
    code: 'GW_CONFIG_INVALID',
    message: /matters\[0\]\.rooms\[0\]: no room profile named "court"/,
  });
});

t.test('the demo configuration has N synthetic cameras with distinct tones', async (t) => {
  const config = demoGatewayConfig({ dataDir: join(dir, 'demo'), cameras: 3 });
  t.equal(config.gateway.dataDir, join(dir, 'demo'));
  t.equal(config.room.profile, 'hearing-room');
  t.equal(config.cameras.length, 3);
  const tones = config.cameras.map((c) => (c.source.kind === 'synthetic' ? c.source.tone : 0));
  t.equal(new Set(tones).size, 3);
  t.same(parseGatewayConfig(config).config, config, 'it is a valid configuration');
  t.equal(demoGatewayConfig().cameras.length, 2, 'two cameras by default');
  t.throws(() => demoGatewayConfig({ cameras: 1 }), {
    code: 'GW_CONFIG_INVALID',
    message: /takes 2–8 cameras/,
  });
  t.equal(demoGatewayConfig({ cameras: 1, profile: 'interview-room' }).cameras.length, 1);
});

t.test('a microphone id may not repeat a camera id: one namespace of tracks', async (t) => {
  refuses(
    t,
    { ...minimal(), microphones: [{ id: 'cam-1', name: 'table', source: { kind: 'synthetic' } }] },
    'microphones[0].id',
  );
});

t.test('a room that requires audio accepts a microphone instead of camera sound', async (t) => {
  const input = {
    ...minimal(),
    cameras: [{ id: 'cam-1', name: 'x', audio: false, source: { kind: 'synthetic' } }],
    microphones: [{ id: 'mic-1', name: 'table', source: { kind: 'synthetic' } }],
  };
  t.equal(parseGatewayConfig(input).config.microphones[0]!.source.kind, 'synthetic');
});
