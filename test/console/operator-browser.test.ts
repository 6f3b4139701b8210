/**
 * The operator in a real browser (Debian chromium through playwright-core) against a real gateway and a real ingest
 * (PGlite, embedded broker): field errors first, then a recording whose segments reach the ingest under its case,
 * then Stop and the summary. Screenshots go to test-artifacts/operator-*.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { loadOrCreateIdentity } from '../../gateway/identity.ts';
import { startIngest } from '../../ingest/app.ts';
import { waitUntil } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { consoleConfig, gatewayWithConsole, quiet } from './console-support.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

t.test(
  'an operator sees field errors, then records a case that reaches the ingest, then stops and sees the summary',
  async (t) => {
    t.setTimeout(150_000);
    mkdirSync(ARTIFACTS, { recursive: true });
    const dir = tmp(t, 'quanlu-operator-');
    const loaded = consoleConfig(`${dir}/gateway`, 2);
    // The gateway is approved as soon as it asks, as `quanlu demo` does for its own gateway.
    const identity = loadOrCreateIdentity(loaded.config.gateway.dataDir, loaded.config.gateway.id);
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet, autoApprove: [identity.keyPair.publicKey.fingerprint] },
    );
    t.teardown(() => ingest.close());
    const { gw, console } = await gatewayWithConsole(t, loaded, {
      gateway: { uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } },
    });
    const url = await console.app.listen({ host: '127.0.0.1', port: 0 });

    const browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1280, height: 900 },
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.goto(url);
    await page.locator('#start-form').waitFor();
    t.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'the page opens in Chinese');

    // One officer and no case id.
    await page.locator('input[name=officer][value="31010001"]').check();
    await page.selectOption('#matter', 'inquiry');
    await page.click('#start');
    await page.locator('#err-caseId:not(:empty)').waitFor();
    await page.locator('#err-officers:not(:empty)').waitFor();
    t.match(await page.textContent('#err-caseId'), /必填/, 'the case id error is at its field');
    t.match(await page.textContent('#err-officers'), /至少需要 2 名/, 'the officers error is at its field');
    t.equal(await page.locator('#caseId').getAttribute('aria-invalid'), 'true');
    await page.screenshot({ path: join(ARTIFACTS, 'operator-field-errors.png'), fullPage: true });
    t.equal(gw.recorder.status(), null, 'nothing is recorded');
    t.equal(gw.spool.backlog().entries, 0, 'nothing is sealed');

    // The English switch.
    await page.click('#lang-switch');
    await page.locator('html[lang=en]').waitFor();
    t.match(await page.textContent('#start'), /Start recording/, 'English by a switch');
    await page.click('#lang-switch');
    await page.locator('html[lang=zh-CN]').waitFor();

    // Correct elements: the recording starts.
    const caseId = 'BROWSER-2026-0001';
    await page.fill('#caseId', caseId);
    await page.locator('input[name=officer][value="31010002"]').check();
    let indexedSegments = 0;
    ingest.consumer.on('indexed', (e) => {
      if (e.entry.kind === 'segment') indexedSegments++;
    });
    await page.click('#start');
    await page.locator('#recording').waitFor({ state: 'visible' });
    const running = gw.recorder.status();
    t.ok(running, 'the gateway records');
    t.equal(running?.caseId, caseId);
    await waitUntil(
      ingest.consumer,
      'indexed',
      () => indexedSegments >= 2,
      60_000,
      'segments reach the ingest',
    );
    const indexed = await ingest.repo.recording(running!.recording);
    t.equal(indexed?.caseId, caseId, 'the ingest holds the recording under its case');
    await page.locator('#cam-cam-1 .state-recording').waitFor();
    await page.locator('#cam-cam-2 .state-recording').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'operator-recording.png'), fullPage: true });

    // A reload shows the same recording.
    await page.reload();
    await page.locator('#recording').waitFor({ state: 'visible' });
    t.match(await page.textContent('#rec-case'), new RegExp(caseId), 'a reload shows the running recording');

    // Stop, confirmed.
    await page.click('#stop');
    await page.locator('#stop-dialog[open]').waitFor();
    await page.click('#stop-confirm');
    await page.locator('#summary').waitFor({ state: 'visible' });
    t.match(
      await page.textContent('#summary-recording'),
      new RegExp(running!.recording),
      'the summary names the recording',
    );
    t.match(await page.textContent('#summary-segments'), /片段 \d+ 个/);
    await page.screenshot({ path: join(ARTIFACTS, 'operator-summary.png'), fullPage: true });
    t.equal(gw.recorder.status(), null, 'the recording stopped');
  },
);
