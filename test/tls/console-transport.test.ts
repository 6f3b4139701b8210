/**
 * @module Both consoles over TLS by default, and plain text only when a setting says so (issue 10):
 * then the log carries a warning and each console's page shows a banner fed by GET /api/v1/transport.
 * In Chromium: the ingest console and the operator console load over HTTPS (the certificate of the
 * generated CA accepted for the test) without the banner, and over plain HTTP with it.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import t from 'tap';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import { serveConsole } from '../../gateway/console/serve-console.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { startIngest } from '../../ingest/app.ts';
import { launchChromium } from '../helpers/browser.ts';
import { smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { tmp } from '../helpers/recording.ts';
import { fetchTrusting, PLAINTEXT } from '../helpers/tls.ts';

/** A pino logger into a string. */
function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), text: () => text };
}

let browser: Browser;
t.before(async () => {
  browser = await launchChromium();
});
t.teardown(() => browser?.close());

/** Loads a page and reads the plain-text banner: null when hidden, its text when shown. */
async function banner(url: string): Promise<{ protocol: string; banner: string | null }> {
  // The generated CA is not in Chromium's store; the certificate itself is checked by the fetch tests.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(url);
    const el = page.locator('#transport');
    await page.waitForFunction(() => {
      const e = document.getElementById('transport');
      return e && (e.hidden || (e.textContent ?? '').length > 0);
    });
    // The banner is filled once the transport answer is in: wait for that answer, then read.
    await page.waitForLoadState('networkidle');
    const hidden = await el.evaluate((e) => (e as HTMLElement).hidden);
    return { protocol: new URL(page.url()).protocol, banner: hidden ? null : await el.textContent() };
  } finally {
    await context.close();
  }
}

t.test('the ingest: plain text only when set, then a warning in the log and on the console', async (t) => {
  const plain = capture();
  const ingest = await startIngest(
    {
      dataDir: tmp(t, 'quanlu-plain-'),
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
    },
    { log: plain.log },
  );
  t.teardown(() => ingest.close());
  t.match(ingest.httpUrl, /^http:\/\//);
  t.match(ingest.mqttUrl, /^mqtt:\/\//);
  const warning = plain
    .text()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string })
    .find((l) => /TLS IS OFF/.test(l.msg));
  t.match(warning, { level: 40, code: 'INGEST_TLS' }, 'a warning in the log');
  t.same(await (await fetch(`${ingest.httpUrl}/api/v1/transport`)).json(), {
    tls: false,
    caFingerprint: null,
    gatewayCertificates: 'off',
    mqttTls: false,
  });
  const shown = await banner(`${ingest.httpUrl}/`);
  t.equal(shown.protocol, 'http:');
  t.match(shown.banner, /TLS/, `the console shows the warning (${shown.banner})`);

  const secure = await startIngest(
    { dataDir: tmp(t, 'quanlu-secure-'), mqtt: { kind: 'embedded', port: 0 }, http: { port: 0 } },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => secure.close());
  const served = await banner(`${secure.httpUrl}/`);
  t.equal(served.protocol, 'https:', 'Chromium loads the ingest console over HTTPS');
  t.equal(served.banner, null, 'no warning over TLS');
});

t.test('the operator console: HTTPS by default, plain text with a warning when set', async (t) => {
  const consoleOf = async (dir: string, tls: LoadedGatewayConfig['config']['console']['tls'] | null) => {
    const loaded = testGatewayConfig(dir, [smallSynthetic('cam-1')]);
    loaded.config.console = { ...loaded.config.console, port: 0, ...(tls ? { tls } : {}) };
    const logged = capture();
    const gw = buildGateway(loaded, { log: logged.log });
    const served = await serveConsole({ gateway: gw, on: () => undefined }, loaded);
    t.teardown(async () => {
      await served.close();
      await gw.close();
    });
    return { served, log: logged.text };
  };
  const plain = await consoleOf(tmp(t, 'quanlu-console-plain-'), { mode: 'off', names: [] });
  t.match(plain.served.url, /^http:\/\//);
  t.match(plain.log(), /"level":40.*"code":"GW_TLS_OFF".*TLS IS OFF/, 'a warning in the log');
  t.same(await (await fetch(`${plain.served.url}/api/v1/transport`)).json(), {
    tls: false,
    caFingerprint: null,
    uplinkTls: true,
  });
  const shown = await banner(`${plain.served.url}/`);
  t.match(shown.banner, /TLS/, `the page shows the warning (${shown.banner})`);

  const secure = await consoleOf(tmp(t, 'quanlu-console-tls-'), null);
  t.match(secure.served.url, /^https:\/\//, 'HTTPS by default');
  t.notMatch(secure.log(), /TLS IS OFF/);
  await t.rejects(
    fetch(`${secure.served.url}/api/v1/transport`),
    'a client without the console CA is refused',
  );
  t.same(
    await (await fetchTrusting({ ca: secure.served.ca! })(`${secure.served.url}/api/v1/transport`)).json(),
    {
      tls: true,
      caFingerprint: secure.served.caFingerprint,
      uplinkTls: true,
    },
  );
  const served = await banner(`${secure.served.url}/`);
  t.equal(served.protocol, 'https:', 'Chromium loads the operator console over HTTPS');
  t.equal(served.banner, null, 'no warning over TLS');
});
