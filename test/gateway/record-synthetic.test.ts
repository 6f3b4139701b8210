import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { writeEvidenceFolder } from '../../gateway/evidence-folder.ts';
import { buildGateway } from '../../gateway/gateway.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { timeMs } from '../../protocol/time.ts';
import { verifyChains } from '../../protocol/verifier.ts';
import { ELEMENTS, smallSynthetic, testGatewayConfig } from '../helpers/gateway-config.ts';

const quiet = pino({ level: 'silent' });

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'quanlu-gw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves when `n` segment entries of `track` have been sealed. */
function segments(gw: ReturnType<typeof buildGateway>, track: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const on = (s: SignedEntry) => {
      const e = s.entry as Entry;
      if (e.kind === 'segment' && e.track === track && ++seen >= n) {
        gw.recorder.off('sealed', on);
        resolve();
      }
    };
    gw.recorder.on('sealed', on);
  });
}

async function verifyRecording(
  t: Test,
  gw: ReturnType<typeof buildGateway>,
  recording: string,
  tracks: string[],
) {
  const folder = join(tmp(t), 'evidence');
  writeEvidenceFolder(
    gw.spool,
    folder,
    gw.id,
    gw.keyPair,
    tracks.map((track) => ({ recording, track })),
  );
  const c = await readFolder(folder);
  return verifyChains(c.inputs, c.keys, c.objects, {}, c.findings);
}

t.test('two synthetic cameras record, stop keeps the tail, and the chains verify', async (t) => {
  const dir = tmp(t);
  const gw = buildGateway(testGatewayConfig(dir, [smallSynthetic('cam-1'), smallSynthetic('cam-2', 660)]), {
    log: quiet,
  });
  t.teardown(() => gw.close());
  await gw.start();
  const started = await gw.recorder.start(ELEMENTS);
  await Promise.all([segments(gw, 'cam-1', 3), segments(gw, 'cam-2', 3)]);
  const stopAsked = Date.now();
  const summary = await gw.recorder.stop();
  t.equal(summary.recording, started.recording);
  t.equal(summary.tracks.length, 2);
  for (const track of summary.tracks) {
    t.ok(track.segments >= 3, `${track.track}: ${track.segments} segments`);
    t.match(track.merkleRoot, /^[0-9a-f]{64}$/);
    t.equal(track.error, null);
  }
  const report = await verifyRecording(t, gw, summary.recording, ['cam-1', 'cam-2']);
  for (const track of report.tracks) {
    t.notOk(
      track.gaps.some((g) => g.reason !== 'source-starting'),
      `${track.track}: no gap but the start-up wait`,
    );
  }
  t.ok(
    report.ok,
    JSON.stringify(report.findings.concat(report.tracks.flatMap((x) => x.findings)).slice(0, 5)),
  );
  t.same(
    report.tracks.map((x) => x.status),
    ['verified', 'verified'],
  );
  for (const track of report.tracks) {
    const end = timeMs(track.end!);
    t.ok(
      Math.abs(end - stopAsked) < 1000,
      `${track.track}: the last segment ends within 1 s of the stop (${end - stopAsked} ms)`,
    );
    t.equal(track.caseId, ELEMENTS.caseId);
  }
  t.equal(gw.spool.activeRecording(), null, 'no recording is left active');
});

t.test(
  'a second start while recording, or missing elements, is refused with a code and records nothing',
  async (t) => {
    const dir = tmp(t);
    const gw = buildGateway(testGatewayConfig(dir, [smallSynthetic('cam-1')]), { log: quiet });
    t.teardown(() => gw.close());
    await t.rejects(gw.recorder.start({ ...ELEMENTS, officers: ['31010001'] }), {
      code: 'GW_RECORDING_ELEMENTS',
      message: /at least 2 officers/,
    });
    await t.rejects(gw.recorder.start({ ...ELEMENTS, caseId: '' }), { code: 'GW_RECORDING_ELEMENTS' });
    await t.rejects(gw.recorder.start({ ...ELEMENTS, caseId: '../etc/passwd' }), {
      code: 'GW_RECORDING_ELEMENTS',
    });
    await t.rejects(gw.recorder.start({ ...ELEMENTS, officers: ['31010001', '31010001'] }), {
      code: 'GW_RECORDING_ELEMENTS',
      message: /twice/,
    });
    t.equal(gw.spool.backlog().entries, 0, 'nothing was sealed');
    t.equal(gw.spool.activeRecording(), null);
    await t.rejects(gw.recorder.stop(), { code: 'GW_RECORDING_NONE' });
    await gw.recorder.start(ELEMENTS);
    await t.rejects(gw.recorder.start(ELEMENTS), { code: 'GW_RECORDING_ACTIVE' });
    await gw.recorder.stop();
  },
);

t.test('a gateway restart mid-recording resumes the same recording with a gateway-down gap', async (t) => {
  const dir = tmp(t);
  const config = testGatewayConfig(dir, [smallSynthetic('cam-1')]);
  const first = buildGateway(config, { log: quiet });
  await first.start();
  const started = await first.recorder.start(ELEMENTS);
  await segments(first, 'cam-1', 2);
  await first.close();
  const second = buildGateway(config, { log: quiet });
  t.teardown(() => second.close());
  t.equal(second.keyCreated, false, 'the same key is used after the restart');
  await second.start();
  t.equal(second.recorder.status()?.recording, started.recording, 'the same recording runs again');
  await segments(second, 'cam-1', 2);
  const summary = await second.recorder.stop();
  const report = await verifyRecording(t, second, summary.recording, ['cam-1']);
  t.ok(report.ok, JSON.stringify(report.tracks.flatMap((x) => x.findings).slice(0, 5)));
  const gaps = report.tracks[0]!.gaps;
  t.ok(
    gaps.some((g) => g.reason === 'gateway-down'),
    `a gateway-down gap covers the restart: ${JSON.stringify(gaps)}`,
  );
  t.notOk(
    gaps.some((g) => g.reason === 'source-lost'),
    'a healthy camera never looks lost',
  );
});
