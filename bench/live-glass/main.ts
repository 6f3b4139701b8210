/**
 * @module bench/live-glass: glass-to-glass latency of the console's live view. A real gateway records two
 * synthetic cameras into an in-process ingest; Chromium (playwright-core, the system browser) signs in and opens
 * the recording; every second the page reports wall time minus the capture time of the frame on screen
 * (EXT-X-PROGRAM-DATE-TIME of its segment + its offset in the segment). Baseline in the same run and at the
 * same instants: the age of the newest footage the ingest has indexed (now minus the end of the newest
 * segment), which no segment-based player can beat.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import type { Entry } from '../../protocol/entry.ts';
import { launchChromium, startConsoleStack } from '../../test/helpers/browser.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '30' },
    'segment-s': { type: 'string', default: '2' },
    'warmup-s': { type: 'string', default: '20' },
    shots: { type: 'string', default: '3' },
  },
});
const samples = Number(args.samples);
const segmentS = Number(args['segment-s']);
const warmupS = Number(args['warmup-s']);
const shots = Number(args.shots);

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}

const round = (x: number) => Math.round(x);

interface LiveStats {
  latency: number;
  target: number;
  rate: number;
  buffered: number;
}

async function frameAge(
  page: Page,
): Promise<{ now: number; capture: number | null; latency: number; stats: LiveStats | null }> {
  return page.evaluate(() => {
    const v = document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement & {
      captureTimeNow?: () => number | null;
      liveStats?: () => LiveStats;
    };
    // Both read in the same task: the capture time of the frame on screen and the wall clock.
    const capture = v?.captureTimeNow?.() ?? null;
    const now = Date.now();
    return {
      now,
      capture,
      latency: capture === null ? Number.NaN : now - capture,
      stats: v?.liveStats?.() ?? null,
    };
  });
}

async function main() {
  process.stderr.write(
    `live-glass: gateway with 2 synthetic cameras, ${segmentS} s segments, ingest on PGlite\n`,
  );
  const stack = await startConsoleStack({ segmentSeconds: segmentS });
  const browser = await launchChromium();
  let newestEnd = 0;
  stack.ingest.consumer.on('indexed', (e: { entry: Entry }) => {
    const en = e.entry;
    if (en.kind === 'segment' && en.track === 'cam-1' && en.recording === stack.recording) {
      newestEnd = Math.max(newestEnd, Date.parse(en.start) + en.durationMs);
    }
  });
  try {
    await stack.segmentsIndexed(2, 60_000);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(stack.ingest.httpUrl);
    await page.fill('#username', stack.users.supervisor.username);
    await page.fill('#password', stack.users.supervisor.password);
    await page.click('form.sign-in button[type=submit]');
    await page.waitForSelector('form.search');
    await page.goto(`${stack.ingest.httpUrl}/#/recording/${stack.recording}`);
    await page.waitForFunction(
      () =>
        ((document.querySelector('video[data-track="cam-1"]') as HTMLVideoElement)?.currentTime ?? 0) > 0.5,
      undefined,
      { timeout: 60_000 },
    );
    // The first second of playback, before hls.js's catch-up (playbackRate up to 1.25) reaches its target.
    const first = await frameAge(page);
    process.stderr.write(`playing; warming up ${warmupS} s, then ${samples} samples one second apart\n`);
    await page.waitForTimeout(warmupS * 1000);
    const latencies: number[] = [];
    const edgeAges: number[] = [];
    const hlsLatencies: number[] = [];
    let lastStats: LiveStats | null = null;
    let missing = 0;
    mkdirSync('test-artifacts', { recursive: true });
    for (let i = 0; i < samples; i++) {
      const s = await frameAge(page);
      if (s.stats) {
        lastStats = s.stats;
        hlsLatencies.push(s.stats.latency);
        process.stderr.write(
          `sample ${i}: ${round(s.latency)} ms; hls latency ${s.stats.latency.toFixed(2)} s, target ${s.stats.target.toFixed(2)} s, rate ${s.stats.rate}, ahead ${s.stats.buffered.toFixed(2)} s\n`,
        );
      }
      if (s.capture === null) missing++;
      else {
        latencies.push(s.latency);
        edgeAges.push(s.now - newestEnd);
      }
      // A few frames kept with their computed capture time, to check against the burned-in clock by eye.
      if (i < shots && s.capture !== null) {
        const stamp = new Date(s.capture).toISOString().replace(/[:]/g, '');
        await page.locator('video[data-track="cam-1"]').screenshot({
          path: `test-artifacts/live-glass-${i}-pdt-${stamp}.png`,
        });
      }
      await page.waitForTimeout(1000);
    }
    const dropped = await page.evaluate(() =>
      Array.from(document.querySelectorAll('video'), (v) => v.getVideoPlaybackQuality().droppedVideoFrames),
    );
    const target = segmentS * 1000 + 1000;
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);
    const line = {
      bench: 'live-glass',
      method: 'program-date-time',
      samples: latencies.length,
      p50_ms: round(p50),
      p99_ms: round(p99),
      max_ms: round(Math.max(...latencies)),
      target: `<=${target}`,
      ok: p50 <= target && p99 <= target,
      baseline: 'age of the newest indexed footage',
      baseline_p50_ms: round(quantile(edgeAges, 0.5)),
      baseline_p99_ms: round(quantile(edgeAges, 0.99)),
      player_added_p50_ms: round(p50 - quantile(edgeAges, 0.5)),
      startup_ms: round(first.latency),
      warmup_s: warmupS,
      segment_s: segmentS,
      dropped_frames: dropped.reduce((n, d) => n + d, 0),
      hls_target_latency_s: lastStats ? Number(lastStats.target.toFixed(2)) : null,
      hls_latency_p50_s: Number((quantile(hlsLatencies, 0.5) || 0).toFixed(2)),
      lost: missing,
      backend: 'pglite, fs store, aedes, chromium',
      loadavg_1m: Number(loadavg()[0]?.toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await browser.close();
    await stack.gateway.recorder.stop().catch(() => undefined);
    await stack.close();
  }
}

await main();
