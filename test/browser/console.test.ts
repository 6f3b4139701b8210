/**
 * @module The console in a real browser (Debian Chromium) against a real ingest and gateway: sign in, find the
 * demo case, watch it live, seek into the archive, see the view in the audit log; refusals and expiry are
 * clear messages, never a blank page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import t from 'tap';
import { WEB_ROOT } from '../../ingest/api/web-routes.ts';
import { launchChromium, type StackUser, startConsoleStack } from '../helpers/browser.ts';

type Catalogue = { messages: Record<string, Record<string, string>> };
const { messages } = (await import(pathToFileURL(join(WEB_ROOT, 'messages.js')).href)) as Catalogue;
const zh = messages['zh-CN']!;
const en = messages.en!;

/** The capture time (epoch ms) of the frame a track's video shows, or null. */
function captureTime(page: Page, track: string): Promise<number | null> {
  return page.evaluate((tr) => {
    const v = document.querySelector(`video[data-track="${tr}"]`) as
      | (HTMLVideoElement & { captureTimeNow?: () => number | null })
      | null;
    return v?.captureTimeNow?.() ?? null;
  }, track);
}

function currentTime(page: Page, track: string): Promise<number> {
  return page.$eval(`video[data-track="${track}"]`, (v) => (v as HTMLVideoElement).currentTime);
}

async function signIn(page: Page, user: StackUser) {
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('form.sign-in button[type=submit]');
}

t.test('a supervisor watches the demo case live and in the archive; the auditor sees the view', async (t) => {
  const stack = await startConsoleStack({ reasonRequired: true });
  t.teardown(() => stack.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const fetched = new Set<string>();
  page.on('requestfinished', (r) => fetched.add(new URL(r.url()).pathname));
  const refusedByCsp: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text()))
      refusedByCsp.push(m.text());
  });
  await stack.segmentsIndexed(2, 60_000);

  await page.goto(stack.ingest.httpUrl);
  await page.waitForSelector('form.sign-in');
  t.equal(await page.getAttribute('html', 'lang'), 'zh-CN', 'Chinese by default');

  // Wrong password: the catalogue's message, and still on the sign-in page.
  await signIn(page, { username: stack.users.supervisor.username, password: 'not-the-password' });
  const wrong = await page.waitForSelector('form.sign-in [role=alert]');
  t.equal(
    (await wrong.textContent())?.trim(),
    zh['error.INGEST_AUTH_FAILED'],
    'wrong password is said plainly',
  );

  // Sign in, find the demo case.
  await signIn(page, stack.users.supervisor);
  await page.waitForSelector('form.search');
  await page.fill('#q-caseId', stack.caseId);
  await page.click('form.search button[type=submit]');
  const link = await page.waitForSelector(`table.list a[href="#/recording/${stack.recording}"]`);
  t.equal((await link.textContent())?.trim(), stack.caseId, 'the demo case is found');
  t.ok(await page.$('table.list .badge.live'), 'it is marked live');
  await link.click();

  // The reason for access, asked before playback.
  const dialog = await page.waitForSelector('dialog.reason[open]');
  await page.fill('#reason-text', '复核询问过程 (browser test)');
  await page.click('dialog.reason button[type=submit]');
  await dialog.waitForElementState('hidden');

  // Live: both cameras play, and the frame on screen is near the newest footage.
  await page.waitForSelector('.badge.live:not([hidden])');
  for (const track of ['cam-1', 'cam-2']) {
    await page.waitForFunction(
      (tr) =>
        ((document.querySelector(`video[data-track="${tr}"]`) as HTMLVideoElement | null)?.currentTime ?? 0) >
        0.5,
      track,
      { timeout: 30_000 },
    );
  }
  const before = await currentTime(page, 'cam-1');
  await page.waitForFunction(
    (b) => (document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement).currentTime > b + 2,
    before,
    { timeout: 20_000 },
  );
  t.pass('currentTime advances on the live edge');
  const lag = Date.now() - ((await captureTime(page, 'cam-1')) ?? 0);
  t.ok(lag < 10_000, `the frame on screen was captured ${lag} ms ago (live, not the archive)`);
  const c1 = await captureTime(page, 'cam-1');
  const c2 = await captureTime(page, 'cam-2');
  t.ok(c1 !== null && c2 !== null && Math.abs(c1 - c2) < 1500, `cameras in step (${c1} vs ${c2})`);
  const badges = await page.$$eval('.tile .verify', (els) => els.map((e) => e.className));
  t.same(badges, ['verify pending', 'verify pending'], 'each track shows its verification state');

  // Every declared gap is marked on the timeline, and says why.
  const gapCount = await page.evaluate(async (rid) => {
    let n = 0;
    for (const tr of ['cam-1', 'cam-2'])
      n += ((await (await fetch(`/api/v1/recordings/${rid}/tracks/${tr}/gaps`)).json()) as unknown[]).length;
    return n;
  }, stack.recording);
  // Each camera's chain declares at least its start-up wait (source-starting) as a gap.
  t.ok(gapCount >= 2, `${gapCount} declared gap(s), at least one per camera`);
  await page.waitForFunction((n) => document.querySelectorAll('.gap-mark').length === n, gapCount);
  // Keyboard: a gap mark takes focus and explains itself (hover and click do the same).
  await page.focus('.gap-lane .gap-mark');
  const info = (await page.textContent('.gap-info')) ?? '';
  t.ok(
    Object.entries(zh).some(([k, v]) => k.startsWith('gap.reason.') && info.includes(v)),
    `the gap says why: ${info}`,
  );

  // Seek into the archive with the timeline: 2 s after the recording began.
  const startedAt = Date.parse(await startedOf(page, stack.recording));
  await page.fill('#timeline-slider', '2000');
  await page.waitForFunction(
    (target) => {
      const v = document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement & {
        captureTimeNow(): number | null;
      };
      const at = v.captureTimeNow();
      return at !== null && Math.abs(at - target) < 2500;
    },
    startedAt + 2000,
    { timeout: 20_000 },
  );
  const archived = (await captureTime(page, 'cam-1'))!;
  t.ok(Date.now() - archived > 5000, `the archive plays (frame from ${Date.now() - archived} ms ago)`);
  const seeked = await currentTime(page, 'cam-1');
  await page.waitForFunction(
    (b) => (document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement).currentTime > b + 1,
    seeked,
    { timeout: 20_000 },
  );
  t.pass('playback continues after the seek');
  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/console-recording.png', fullPage: true });

  // Jump back to live.
  await page.click('#jump-live');
  await page.waitForFunction(
    () => {
      const v = document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement & {
        captureTimeNow(): number | null;
      };
      const at = v.captureTimeNow();
      return at !== null && Date.now() - at < 10_000;
    },
    undefined,
    { timeout: 20_000 },
  );
  t.pass('jump to live returns to the newest footage');

  // English by the switch, remembered.
  await page.click('.top-right button[lang=en]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  t.equal((await page.textContent('#jump-live'))?.trim(), en['player.jumpLive'], 'the page speaks English');
  await page.reload();
  await page.waitForSelector('#jump-live');
  t.equal(await page.getAttribute('html', 'lang'), 'en', 'the language is remembered');

  // Stopped: the LIVE badge goes, and each track is verified once its chain is closed and checked.
  await stack.gateway.recorder.stop();
  await page.waitForSelector('.badge.live[hidden]', { state: 'attached', timeout: 30_000 });
  await page.waitForFunction(
    () => document.querySelectorAll('.tile .verify.verified').length === 2,
    undefined,
    {
      timeout: 30_000,
    },
  );
  t.pass('the LIVE badge is gone and both tracks show verified');

  // The auditor sees the view in the audit log.
  await page.click('.top-right button:last-child');
  await page.waitForSelector('form.sign-in');
  await signIn(page, stack.users.auditor);
  await page.waitForSelector('form.search');
  await page.click(`nav a[href="#/audit"]`);
  await page.waitForSelector('#a-recording');
  // Every segment request is audited too, so the auditor narrows by user, recording and action.
  const audited = async (action: string) => {
    await page.fill('#a-user', stack.users.supervisor.username);
    await page.fill('#a-recording', stack.recording);
    await page.selectOption('#a-action', action);
    await page.click('form.search button[type=submit]');
    await page.waitForFunction((a) => {
      const rows = Array.from(document.querySelectorAll<HTMLElement>('table.audit tbody tr'));
      const shown =
        document.querySelector('.results .empty') ||
        (rows.length && rows.every((r) => r.dataset.action === a));
      return location.hash.includes(`action=${a}`) && shown;
    }, action);
    return page.$$eval('table.audit tbody tr', (trs) =>
      trs.map((tr) => ({
        action: (tr as HTMLElement).dataset.action,
        cells: Array.from(tr.children, (c) => c.textContent ?? ''),
      })),
    );
  };
  const views = await audited('view-recording');
  t.ok(
    views.length > 0 && views.every((r) => r.cells[1] === stack.users.supervisor.username),
    'the view is in the audit log',
  );
  t.ok((await audited('playlist')).length > 0, 'so is the playback');
  const reasons = await audited('access-reason');
  t.ok(
    reasons.some((r) => r.cells[7]?.includes('browser test')),
    'with the reason given',
  );

  // An expired session sends the person back to sign in, with a message.
  await context.clearCookies();
  await page.click('form.search button[type=submit]');
  const notice = await page.waitForSelector('form.sign-in .notice');
  t.equal((await notice.textContent())?.trim(), en['session.expired'], 'expiry is explained');
  t.same(pageErrors, [], 'no script error on any page');
  t.ok(fetched.has('/web/vendor/hls.worker.js'), 'hls.js transmuxes in its worker, loaded from /web/vendor');
  t.same(refusedByCsp, [], 'the console (hls.js and its worker included) runs under its self-only CSP');
  const home = await fetch(stack.ingest.httpUrl);
  t.match(
    home.headers.get('content-security-policy'),
    /default-src 'self'/,
    'the page is served with the CSP',
  );
});

t.test(
  'a password guesser meets a clear lockout message; an operator of another room is told plainly the recording is not theirs',
  async (t) => {
    const stack = await startConsoleStack();
    t.teardown(() => stack.close());
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
    await page.goto(`${stack.ingest.httpUrl}/#/recording/${stack.recording}`);
    await page.waitForSelector('form.sign-in');
    // Guessing a password: after the allowed failures the account is locked (per user name, from any
    // address; checked before the per-address rate limit), and the page says so plainly.
    const guesser = { username: stack.users.auditor.username, password: 'guess-guess-guess' };
    let said = '';
    for (let i = 0; i < 8 && said !== zh['error.INGEST_ACCOUNT_LOCKED']; i++) {
      await signIn(page, guesser);
      const alert = await page.waitForSelector(`form.sign-in [role=alert] >> nth=0`);
      said = (await alert.textContent())?.trim() ?? '';
      await page.waitForFunction(
        () => !(document.querySelector('form.sign-in button[type=submit]') as HTMLButtonElement).disabled,
      );
    }
    t.equal(said, zh['error.INGEST_ACCOUNT_LOCKED'], 'repeated failures meet a clear lockout message');
    await signIn(page, stack.users.outsider);
    const alert = await page.waitForSelector('.refused [role=alert]');
    t.equal((await alert.textContent())?.trim(), zh['error.INGEST_FORBIDDEN'], 'a clear refusal');
    t.equal((await page.textContent('.refused h2'))?.trim(), zh['refused.title']);
    t.notOk(await page.$('video'), 'no player was started');
    await page.goto(`${stack.ingest.httpUrl}/#/search?caseId=${stack.caseId}`);
    await page.waitForSelector('.results .empty');
    t.pass("the operator's search does not list the other room's recording");
  },
);

async function startedOf(page: Page, id: string): Promise<string> {
  return page.evaluate(async (rid) => {
    const r = await fetch(`/api/v1/recordings/${rid}`);
    return ((await r.json()) as { startedAt: string }).startedAt;
  }, id);
}
