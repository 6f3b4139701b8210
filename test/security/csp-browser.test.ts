/**
 * @module The CSP in a real browser (Debian Chromium): on both consoles' pages an injected inline script and an
 * inline event handler do not run and raise a securitypolicyviolation; the same injection runs on a page without CSP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import { consoleConfig, gatewayWithConsole } from '../console/console-support.ts';
import { launchChromium } from '../helpers/browser.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

/** What happened to an inline script and an inline handler injected into the page. */
interface Injection {
  scriptRan: boolean;
  handlerRan: boolean;
  violations: string[];
}

/** Injects an inline <script> and an element with an inline onclick, clicks it, and reports. */
function inject(page: Page): Promise<Injection> {
  return page.evaluate(async () => {
    const w = window as unknown as { __inline?: number; __handler?: number };
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
    const script = document.createElement('script');
    script.textContent = 'window.__inline = 1;';
    document.body.append(script);
    const button = document.createElement('button');
    button.setAttribute('onclick', 'window.__handler = 1;');
    document.body.append(button);
    button.click();
    // Violation events are queued as tasks: let them arrive.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(r));
    return { scriptRan: w.__inline === 1, handlerRan: w.__handler === 1, violations };
  });
}

let browser: Browser;
t.before(async () => {
  browser = await launchChromium();
});
t.teardown(() => browser?.close());

t.test('on a page without CSP the same injection runs (the check can tell)', async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.setContent('<html><body></body></html>');
  const r = await inject(page);
  t.ok(r.scriptRan, 'the inline script ran');
  t.ok(r.handlerRan, 'the inline handler ran');
  t.same(r.violations, []);
});

t.test('the supervisor console blocks an inline script and an inline handler', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-csp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ingest = await startIngest(
    {
      dataDir: join(dir, 'ingest'),
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
      fixity: { enabled: false, bytesPerSecond: 1024 * 1024, pauseSeconds: 3600 },
    },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => ingest.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${ingest.httpUrl}/`);
  await page.waitForSelector('#username', { timeout: 15_000 });
  t.pass("the console's own module script ran (the sign-in form is drawn)");
  const r = await inject(page);
  t.notOk(r.scriptRan, 'the inline script did not run');
  t.notOk(r.handlerRan, 'the inline handler did not run');
  t.ok(
    r.violations.includes('script-src-elem'),
    `a violation of script-src-elem was raised (${r.violations})`,
  );
  t.ok(r.violations.includes('script-src-attr'), 'a violation of script-src-attr was raised');
});

t.test("the gateway's operator console blocks an inline script and an inline handler", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quanlu-csp-gw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { console } = await gatewayWithConsole(t, consoleConfig(dir));
  await console.app.listen({ host: '127.0.0.1', port: 0 });
  const address = console.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForLoadState('load');
  const r = await inject(page);
  t.notOk(r.scriptRan, 'the inline script did not run');
  t.notOk(r.handlerRan, 'the inline handler did not run');
  t.ok(
    r.violations.includes('script-src-elem'),
    `a violation of script-src-elem was raised (${r.violations})`,
  );
  t.ok(r.violations.includes('script-src-attr'), 'a violation of script-src-attr was raised');
});
