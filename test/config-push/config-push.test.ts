/**
 * @module Signed configuration push, end to end: a real ingest (PGlite, embedded aedes) signs and publishes, a real
 * gateway (synthetic camera) verifies, applies, rolls back and reports over MQTT.
 */
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { GatewayHost, type PushOutcome } from '../../gateway/config-push/gateway-host.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { configDigest, signConfigEnvelope } from '../../protocol/config-envelope.ts';
import { generateKeyPair, signDigest } from '../../protocol/keys.ts';
import { AlarmMessage, CommandResult, StatusMessage } from '../../protocol/messages.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { addTestUser, signIn } from '../helpers/auth.ts';
import { ELEMENTS, smallSynthetic } from '../helpers/gateway-config.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

const quiet = pino({ level: 'silent' });
const GW = 'gw-test';

/** A port on loopback nobody listens on: an RTSP camera there never answers. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

t.test(
  'config push: applied and reported, rolled back on an unreachable camera, unsigned and wrongly signed refused',
  async (t) => {
    const dir = tmp(t, 'quanlu-config-push-');
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
    const ingestKey = (await (await fetch(`${ingest.httpUrl}/api/v1/log/key`)).json()) as {
      publicKey: string;
    };
    const input = (cameras: unknown[], name = 'test room') => ({
      gateway: { id: GW, dataDir: `${dir}/gateway` },
      room: {
        id: 'interview-1',
        name,
        profile: {
          name: 'test-room',
          kind: 'room',
          title: { zh: '测试室', en: 'Test room' },
          segmentSeconds: 2,
          stallSeconds: 3,
          cameras: { min: 1, max: 16 },
          audio: { required: false },
          requiredElements: { caseId: true, matter: true, officersMin: 2, room: true },
        },
      },
      cameras,
      ingest: { configKey: ingestKey.publicKey },
      log: { level: 'warn' },
    });
    const cam = (id: string, tone = 440) => ({ name: id, ...smallSynthetic(id, tone) });

    // The ingest hears what the gateway reports.
    const heard: { topic: string; body: unknown }[] = [];
    const reports = new (await import('node:events')).EventEmitter();
    ingest.mqtt.on('message', (topic, payload) => {
      if (!/\/(cmd-result|alarm|status)$/.test(topic)) return;
      heard.push({ topic, body: JSON.parse(payload.toString()) });
      reports.emit('report');
    });
    for (const ch of ['cmd-result', 'alarm', 'status'] as const)
      await ingest.mqtt.subscribeAsync(gatewayTopic(GW, ch), { qos: 1 });
    const report = <T>(channel: string, match: (b: T) => boolean): Promise<T> =>
      new Promise((resolve) => {
        const check = () => {
          const found = heard.find(
            (h) => h.topic === gatewayTopic(GW, channel as 'alarm') && match(h.body as T),
          );
          if (found) {
            reports.off('report', check);
            resolve(found.body as T);
          }
        };
        reports.on('report', check);
        check();
      });

    const host = new GatewayHost({
      base: parseGatewayConfig(input([cam('cam-1')])),
      build: (loaded, configVersion) =>
        buildGateway(loaded, {
          log: quiet,
          uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
          configVersion,
        }),
      checkTimeoutMs: 15_000,
      log: quiet,
    });
    t.teardown(() => host.close());
    const outcome = (version: number | null) =>
      new Promise<PushOutcome>((resolve) => {
        const on = (o: PushOutcome) => {
          if (o.version === version) {
            host.off('outcome', on);
            resolve(o);
          }
        };
        host.on('outcome', on);
      });
    const asked = once(ingest.events, 'enrollment');
    await host.start();
    const [row] = (await asked) as [{ fingerprint: string }];
    await ingest.decide(row.fingerprint, 'approved', 'test');
    const admin = await signIn(ingest.http, await addTestUser(ingest.repo, 'admin'));
    const push = (config: unknown, headers = admin) =>
      ingest.http.inject({
        method: 'PUT',
        url: `/api/v1/gateways/${GW}/config`,
        headers,
        payload: { config },
      });

    await t.test('a valid configuration is applied atomically and its version reported', async (t) => {
      const applied = outcome(1);
      const res = await push(input([cam('cam-1'), cam('cam-2', 660)], 'renamed room'));
      t.equal(res.statusCode, 200, res.body);
      t.equal(res.json().version, 1);
      t.same(await applied, { version: 1, ok: true, code: null, message: 'version 1 applied' });
      t.equal(host.version, 1);
      t.same(host.gateway.recorder.status(), null);
      const current = JSON.parse(readFileSync(join(dir, 'gateway/config/current.json'), 'utf8'));
      t.equal(current.version, 1, 'current.json holds version 1');
      t.equal(current.config.room.name, 'renamed room');
      const result = CommandResult.parse(
        await report<CommandResult>('cmd-result', (b) => b.id === 'config-1'),
      );
      t.equal(result.ok, true);
      const status = StatusMessage.parse(await report<StatusMessage>('status', (b) => b.configVersion === 1));
      t.equal(status.online, true, 'the rebuilt gateway reports version 1 on its status');
      t.same((await (await fetch(`${ingest.httpUrl}/metrics`)).text()).length > 0, true);
      const got = await ingest.http.inject({
        method: 'GET',
        url: `/api/v1/gateways/${GW}/config`,
        headers: admin,
      });
      t.equal(got.json().version, 1, 'the ingest reads the pushed version back');
    });

    await t.test('a configuration whose camera does not answer is rolled back and reported', async (t) => {
      const port = await closedPort();
      const rolled = outcome(2);
      const res = await push(
        input([
          cam('cam-1'),
          { id: 'cam-dead', name: 'dead', source: { kind: 'rtsp', url: `rtsp://127.0.0.1:${port}/x` } },
        ]),
      );
      t.equal(res.statusCode, 200);
      const o = await rolled;
      t.equal(o.ok, false);
      t.equal(o.code, 'GW_CONFIG_ROLLED_BACK');
      t.match(o.message, /cam-dead/);
      t.equal(host.version, 1, 'version 1 is back in force');
      t.equal(JSON.parse(readFileSync(join(dir, 'gateway/config/current.json'), 'utf8')).version, 1);
      t.equal(JSON.parse(readFileSync(join(dir, 'gateway/config/failed.json'), 'utf8')).version, 2);
      const result = await report<CommandResult>('cmd-result', (b) => b.id === 'config-2');
      t.equal(result.ok, false);
      t.equal(result.code, 'GW_CONFIG_ROLLED_BACK');
      const alarm = AlarmMessage.parse(
        await report<AlarmMessage>('alarm', (b) => b.code === 'GW_CONFIG_ROLLED_BACK'),
      );
      t.equal(alarm.severity, 'critical');
    });

    await t.test('an unsigned configuration is refused and alarmed; nothing changes', async (t) => {
      const refused = outcome(3);
      const config = input([cam('cam-9')]);
      await ingest.mqtt.publishAsync(
        gatewayTopic(GW, 'config'),
        JSON.stringify({ version: 3, config, hash: configDigest(GW, 3, config).toString('hex') }),
        { qos: 1 },
      );
      const o = await refused;
      t.equal(o.code, 'GW_CONFIG_PUSH_UNSIGNED');
      await report<AlarmMessage>('alarm', (b) => b.code === 'GW_CONFIG_PUSH_UNSIGNED');
      t.equal(host.version, 1);
      t.equal(JSON.parse(readFileSync(join(dir, 'gateway/config/current.json'), 'utf8')).version, 1);
    });

    await t.test(
      'a configuration signed by another key, or altered after signing, is refused and alarmed',
      async (t) => {
        const config = input([cam('cam-9')]);
        const stranger = outcome(4);
        await ingest.mqtt.publishAsync(
          gatewayTopic(GW, 'config'),
          JSON.stringify(signConfigEnvelope(generateKeyPair(), GW, 4, config)),
          { qos: 1 },
        );
        const o = await stranger;
        t.equal(o.code, 'GW_CONFIG_PUSH_SIGNATURE');
        t.match(o.message, /not the pinned ingest key/);
        await report<AlarmMessage>('alarm', (b) => b.code === 'GW_CONFIG_PUSH_SIGNATURE');

        // The right key's signature over another configuration: the hash gives it away.
        const altered = outcome(5);
        const real = (await import('../../ingest/log/log-key.ts')).loadOrCreateLogKey(
          `${dir}/ingest`,
        ).keyPair;
        const envelope = signConfigEnvelope(real, GW, 5, input([cam('cam-1')]));
        await ingest.mqtt.publishAsync(gatewayTopic(GW, 'config'), JSON.stringify({ ...envelope, config }), {
          qos: 1,
        });
        t.match((await altered).message, /hash does not match/);

        // The right key, the right hash, a signature made under another context.
        const context = outcome(6);
        const digest = configDigest(GW, 6, config);
        const wrongContext = {
          ...signConfigEnvelope(real, GW, 6, config),
          sig: signDigest(real.privateKey, 'treeHead', digest),
        };
        await ingest.mqtt.publishAsync(gatewayTopic(GW, 'config'), JSON.stringify(wrongContext), { qos: 1 });
        t.match((await context).message, /signature does not verify/);
        t.equal(host.version, 1, 'nothing changed');
        t.notOk(existsSync(join(dir, 'gateway/config/next.json')));
      },
    );

    await t.test(
      'only an administrator pushes; an invalid configuration is a coded 400 and is never published',
      async (t) => {
        const operator = await signIn(
          ingest.http,
          await addTestUser(ingest.repo, 'operator', ['interview-1']),
        );
        const forbidden = await push(input([cam('cam-1')]), operator);
        t.equal(forbidden.statusCode, 403);
        const bad = await push({
          ...input([cam('cam-1')]),
          cameras: [{ id: 'Bad Id', source: { kind: 'synthetic' } }],
        });
        t.equal(bad.statusCode, 400);
        t.equal(bad.json().error.code, 'INGEST_BAD_REQUEST');
        t.match(bad.json().error.message, /cameras\[0\]\.id/);
        t.equal(ingest.configPush.current(GW)?.version, 2, 'still version 2 on the broker');
      },
    );

    await t.test(
      'a push during a recording waits for its end, then applies; a restart keeps it in force',
      async (t) => {
        await host.gateway.recorder.start(ELEMENTS);
        const deferred = once(host, 'deferred');
        const res = await push(input([cam('cam-1')], 'after the recording'));
        const version = res.json().version as number;
        t.same(await deferred, [version], `version ${version} waits`);
        t.equal(host.version, 1, 'the recording runs on under version 1');
        const applied = outcome(version);
        await host.gateway.recorder.stop();
        t.equal((await applied).ok, true, 'applied once the recording stopped');
        t.equal(host.version, version);

        await host.close();
        const again = new GatewayHost({
          base: parseGatewayConfig(input([cam('cam-1')])),
          build: (loaded, configVersion) => buildGateway(loaded, { log: quiet, configVersion }),
          log: quiet,
        });
        await again.start();
        t.teardown(() => again.close());
        t.equal(again.version, version, 'the applied version is in force after a restart');
        t.equal(again.loaded.config.room.name, 'after the recording', 'and its configuration');
        t.equal(again.gateway.recorder.status(), null);
      },
    );
  },
);
