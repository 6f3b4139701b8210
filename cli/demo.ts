/**
 * @module `quanlu demo`: the main job on embedded defaults. Today: a gateway with two synthetic cameras
 * records a demo case into its spool; on Ctrl-C (or after --seconds) it stops, exports and verifies it.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { demoGatewayConfig, parseGatewayConfig } from '../firmware-config/load.ts';
import { writeEvidenceFolder } from '../gateway/evidence-folder.ts';
import { buildGateway } from '../gateway/gateway.ts';
import { displayFingerprint } from '../gateway/identity.ts';
import { runVerify } from './verify/command.ts';

/** The demo case's recording elements. */
export const DEMO_CASE = {
  caseId: 'DEMO-2026-0001',
  matter: 'hearing',
  officers: ['31010001', '31010002'],
  startedBy: 'demo',
};

/** Adds `demo` to the program. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run quanlu on its embedded defaults: a gateway records two synthetic cameras for a demo case',
    )
    .option('--data <dir>', 'data folder', 'data/demo')
    .option('--seconds <n>', 'stop by itself after this many seconds (default: run until Ctrl-C)')
    .option('--fresh', 'start from an empty data folder')
    .action(async (opts: { data: string; seconds?: string; fresh?: boolean }) => {
      const data = resolve(opts.data);
      if (opts.fresh) await rm(data, { recursive: true, force: true });
      const out = process.stdout;
      const log = pino({ level: 'warn' });
      const gw = buildGateway(
        parseGatewayConfig(demoGatewayConfig({ dataDir: join(data, 'gateway'), cameras: 2 })),
        { log },
      );
      out.write(
        `quanlu demo · gateway ${gw.id} · key ${displayFingerprint(gw.keyPair.publicKey.fingerprint)}\n`,
      );
      await gw.start();
      const running = gw.recorder.status() ?? (await gw.recorder.start(DEMO_CASE));
      out.write(
        `recording ${running.recording} of case ${running.caseId} on ${running.tracks.length} synthetic cameras\n`,
      );
      out.write(`spool: ${join(data, 'gateway', 'spool')}\n`);
      out.write(
        opts.seconds
          ? `stopping by itself after ${opts.seconds} s\n`
          : 'press Ctrl-C to stop the recording, export it and verify it\n',
      );
      const ticker = setInterval(() => {
        const s = gw.recorder.status();
        if (!s) return;
        const cams = s.tracks.map(
          (t) =>
            `${t.track} ${t.camera} ${t.segments} seg ${(t.bytes / 1048576).toFixed(1)} MiB${t.gaps ? ` ${t.gaps} gap(s)` : ''}`,
        );
        out.write(`[${Math.round(s.durationMs / 1000)} s] ${cams.join(' · ')}\n`);
      }, 10_000);
      await new Promise<void>((done) => {
        const timer = opts.seconds ? setTimeout(done, Number(opts.seconds) * 1000) : null;
        process.once('SIGINT', () => {
          if (timer) clearTimeout(timer);
          done();
        });
      });
      clearInterval(ticker);
      out.write('\nstopping: sealing each camera tail and closing the chains\n');
      const summary = await gw.recorder.stop();
      const folder = join(data, `evidence-${summary.recording}`);
      writeEvidenceFolder(
        gw.spool,
        folder,
        gw.id,
        gw.keyPair,
        summary.tracks.map((t) => ({ recording: summary.recording, track: t.track })),
      );
      await gw.close();
      out.write(`evidence folder written to ${folder}\n\n`);
      process.exitCode = await runVerify(folder, { progress: false });
      out.write(
        `\nWhere to look: the segments play on their own (ffplay ${join(folder, 'objects')}/sha256/..).\n`,
      );
      out.write(
        `Try tampering: flip a byte under ${join(folder, 'objects')} and run: npx quanlu verify ${folder}\n`,
      );
    });
}
