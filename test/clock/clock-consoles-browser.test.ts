/**
 * @module Both consoles show a skewed gateway clock (issue 10), in Chromium: a real gateway whose injected clock runs
 * 90 s ahead of a real ingest (PGlite, embedded broker). The operator page lists the clock-offset alarm with the
 * measured offset; the ingest console's Gateway clocks page lists the gateway in warning style.
 */
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { buildConsole } from '../../gateway/console/console-app.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import { loadOrCreateIdentity } from '../../gateway/identity.ts';
import { startIngest } from '../../ingest/app.ts';
import { addUser } from '../../ingest/auth/users.ts';
import { waitUntil } from '../e2e/e2e-support.ts';
import { launchChromium } from '../helpers/browser.ts';
import { smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';
import { tmp } from '../helpers/recording.ts';

const quiet = pino({ level: 'silent' });

t.test('the operator page and the ingest console both show a gateway clock 90 s ahead', async (t) => {
  t.setTimeout(150_000);
  const dir = tmp(t, 'quanlu-clock-browser-');
  const loaded = testGatewayConfig(join(dir, 'gateway'), [smallSynthetic('cam-1')]);
  const identity = loadOrCreateIdentity(loaded.config.gateway.dataDir, loaded.config.gateway.id);
  const ingest = await startIngest(
    {
      dataDir: join(dir, 'ingest'),
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      // Plain text, written out (TLS is tested elsewhere; this test is about time).
      tls: { mode: 'off' },
      log: { level: 'warn' },
    },
    { log: quiet, autoApprove: [identity.keyPair.publicKey.fingerprint] },
  );
  t.teardown(() => ingest.close());
  await addUser(
    ingest.repo,
    { username: 'supervisor1', password: 'supervisor-password-1', role: 'supervisor' },
    new Date().toISOString(),
  );
  const skewed = { now: () => Date.now() + 90_000 };
  const gw = buildGateway(loaded, {
    log: quiet,
    clock: skewed,
    uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store },
  });
  t.teardown(() => gw.close());
  await gw.start();
  await waitUntil(
    gw.clockSync!,
    'reading',
    () => gw.clockReading().source === 'ingest',
    60_000,
    'the gateway measures its clock',
  );
  const operatorConsole = await buildConsole(gw, loaded, {
    log: quiet,
    clock: skewed,
    freeBytes: async () => 1e12,
  });
  t.teardown(() => operatorConsole.close());
  const consoleUrl = await operatorConsole.app.listen({ host: '127.0.0.1', port: 0 });
  // The ingest has the gateway's status with the offset before the page asks for it.
  await waitUntil(
    gw.uplink!,
    'status',
    () => ingest.http.server.listening && gw.uplink!.status().clockOffsetMs !== null,
    30_000,
    'a status with the offset',
  );

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  // The operator console: the alarm with the measured offset.
  await page.goto(consoleUrl);
  const alarm = page.locator('#alarm-list li[data-code="clock-offset"]');
  await alarm.waitFor({ timeout: 30_000 });
  t.match(
    await alarm.textContent(),
    /网关时钟偏差 -(89|90)\d{3} 毫秒，超过 2000 毫秒/,
    'operator page: the alarm',
  );

  // The ingest console: sign in as a supervisor, open Gateway clocks.
  await page.goto(ingest.httpUrl);
  await page.fill('#username', 'supervisor1');
  await page.fill('#password', 'supervisor-password-1');
  await page.click('form.sign-in button[type=submit]');
  await page.waitForSelector('form.search');
  await page.click('nav a[href="#/gateways"]');
  // The list may first show a status from before the measurement; the page fetches again every 10 s.
  const row = page.locator('tr.clock-warning[data-gateway="gw-test"]');
  await row.waitFor({ timeout: 30_000 });
  const text = (await row.textContent()) ?? '';
  t.match(text, /-(89|90)\d{3} 毫秒/, 'ingest console: the offset');
  t.match(text, /超过限值/, 'ingest console: beyond the limit');
  t.match(
    await row.locator('td.clock-offset').evaluate((el) => getComputedStyle(el).fontWeight),
    /^(600|700|bold)$/,
    'in warning style',
  );
  t.same(pageErrors, [], 'no script error');
});
