/**
 * @module Plain-text MQTT only when a setting says so (issue 10). The ingest refuses an external broker at
 * mqtt:// unless `mqtt.plaintext: true` (or `tls.mode: off`); allowed, it logs a warning and
 * GET /api/v1/transport answers `mqttTls: false`, which the console's banner shows. The gateway's operator
 * console likewise warns in the log and answers `uplinkTls: false` for an `mqtt://` uplink written out with
 * `ingest.tls.plaintext: true`. Against a real private Mosquitto; the banners are read in Chromium.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import t from 'tap';
import { parseGatewayConfig } from '../../firmware-config/load.ts';
import { serveConsole } from '../../gateway/console/serve-console.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { IngestConfig } from '../../ingest/config.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting, PLAINTEXT } from '../helpers/tls.ts';

/** A pino logger into a string, and its lines parsed. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const lines = () =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
  return { log: pino({ level: 'info' }, stream), lines };
}

let browser: Browser;
t.before(async () => {
  browser = await launchChromium();
});
t.teardown(() => browser?.close());

/** Loads a page and reads the plain-text banner once the transport answer is in: null when hidden. */
async function banner(url: string): Promise<string | null> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    const el = page.locator('#transport');
    return (await el.evaluate((e) => (e as HTMLElement).hidden)) ? null : await el.textContent();
  } finally {
    await context.close();
  }
}

t.test('the ingest config refuses an external mqtt:// broker unless a setting says plain text', async (t) => {
  const external = (extra: Record<string, unknown>, tls?: unknown) =>
    IngestConfig.safeParse({
      mqtt: { kind: 'external', url: 'mqtt://broker:1883', ...extra },
      ...(tls ? { tls } : {}),
    });
  const refused = external({});
  t.notOk(refused.success, 'mqtt:// with tls.mode auto is refused');
  t.match(
    refused.error?.issues,
    [{ path: ['mqtt', 'url'], message: /mqtt:\/\/ speaks plain text.*mqtt\.plaintext: true/ }],
    'the message names the setting',
  );
  t.ok(external({ plaintext: true }).success, 'mqtt.plaintext: true allows it');
  t.ok(external({}, PLAINTEXT).success, 'tls.mode: off allows it (everything is plain text, warned about)');
  t.ok(
    IngestConfig.safeParse({ mqtt: { kind: 'external', url: 'mqtts://broker:8883' } }).success,
    'mqtts:// needs nothing',
  );
  t.ok(IngestConfig.safeParse({ mqtt: { kind: 'embedded', port: 0 } }).success, 'the embedded broker');
});

t.test(
  'an ingest on a plain-text broker by setting: a warning in the log and in the transport answer',
  async (t) => {
    const broker = await startMosquitto();
    t.teardown(() => broker.dispose());
    t.match(broker.url, /^mqtt:\/\//);
    t.throws(
      () => IngestConfig.parse({ mqtt: { kind: 'external', url: broker.url } }),
      /plain text/,
      'without the setting the config is refused before anything starts',
    );
    const logged = capture();
    const ingest = await startIngest(
      {
        dataDir: tmp(t, 'quanlu-plain-mqtt-'),
        mqtt: { kind: 'external', url: broker.url, shared: false, plaintext: true },
        http: { port: 0 },
      },
      { log: logged.log },
    );
    t.teardown(() => ingest.close());
    t.match(ingest.httpUrl, /^https:\/\//, 'the API still speaks TLS');
    t.match(
      logged.lines().find((l) => /MQTT IS PLAIN TEXT/.test(l.msg)),
      { level: 40, code: 'INGEST_TLS' },
      'a warning in the log',
    );
    const fetchTls = fetchTrusting({ ca: ingest.tls!.ca });
    t.match(await (await fetchTls(`${ingest.httpUrl}/api/v1/transport`)).json(), {
      tls: true,
      mqttTls: false,
    });
    t.match(await banner(`${ingest.httpUrl}/`), /MQTT.*(plain text|明文)/, 'the console shows the banner');

    const secure = await startIngest(
      { dataDir: tmp(t, 'quanlu-secure-mqtt-'), mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } },
      { log: pino({ level: 'silent' }) },
    );
    t.teardown(() => secure.close());
    t.match(
      await (await fetchTrusting({ ca: secure.tls!.ca })(`${secure.httpUrl}/api/v1/transport`)).json(),
      { tls: true, mqttTls: true },
      'mqtts: no warning',
    );
    t.equal(await banner(`${secure.httpUrl}/`), null, 'no banner');
  },
);

t.test('a gateway with a written-out mqtt:// uplink: a warning in the log and on its console', async (t) => {
  const consoleOf = async (ingest: Record<string, unknown>) => {
    const dir = tmp(t, 'quanlu-gw-plain-');
    const loaded = parseGatewayConfig({
      gateway: { id: 'gw-plain', dataDir: dir },
      room: { id: 'interview-1', name: 'test room', profile: 'interview-room' },
      cameras: [{ id: 'cam-1', name: 'cam-1', source: { kind: 'synthetic' } }],
      ingest,
      console: { port: 0 }, // HTTPS: the banner is about the uplink alone
    });
    const logged = capture();
    const gw = buildGateway(loaded, { log: logged.log });
    const served = await serveConsole({ gateway: gw, on: () => undefined }, loaded);
    t.teardown(async () => {
      await served.close();
      await gw.close();
    });
    const transport = await (
      await fetchTrusting({ ca: served.ca! })(`${served.url}/api/v1/transport`)
    ).json();
    return { transport, lines: logged.lines, url: served.url };
  };
  const plain = await consoleOf({ mqttUrl: 'mqtt://127.0.0.1:1', tls: { plaintext: true } });
  t.match(
    plain.lines().find((l) => /MQTT TO THE INGEST IS PLAIN TEXT/.test(l.msg)),
    { level: 40, code: 'GW_TLS_OFF' },
    'a warning in the log',
  );
  t.match(plain.transport, { uplinkTls: false }, 'the console is told, for its banner');
  t.match(await banner(`${plain.url}/`), /MQTT.*(plain text|明文)/, 'the page shows the uplink banner');

  const pinned = await consoleOf({ mqttUrl: 'mqtts://127.0.0.1:1', tls: { caFingerprint: 'ab'.repeat(32) } });
  t.notOk(
    pinned.lines().some((l) => /MQTT TO THE INGEST IS PLAIN TEXT/.test(l.msg)),
    'mqtts: no warning',
  );
  t.match(pinned.transport, { uplinkTls: true });
  t.equal(await banner(`${pinned.url}/`), null, 'no banner');
});
