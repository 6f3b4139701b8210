/** @module `quanlu demo`: the main job on embedded defaults. Until the gateway lands, a generated sample folder, verified. */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeSampleFolder } from './sample-folder.ts';
import { runVerify } from './verify/command.ts';

/** Adds `demo` to the program. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run quanlu on its embedded defaults (today: write a signed sample evidence folder and verify it)',
    )
    .option('--data <dir>', 'data folder', 'data/demo')
    .action(async (opts: { data: string }) => {
      const folder = resolve(opts.data, 'sample-evidence');
      await rm(folder, { recursive: true, force: true });
      await mkdir(folder, { recursive: true });
      process.stdout.write(
        `writing a signed sample recording (2 cameras, 30 segments each, one gap) to ${folder}\n`,
      );
      await writeSampleFolder(folder, {
        tracks: 2,
        segmentsPerTrack: 30,
        gapAfter: 12,
        segmentBytes: 256 * 1024,
      });
      process.exitCode = await runVerify(folder, {});
      process.stdout.write(
        `\nTry tampering: flip a byte in ${join(folder, 'objects')} and run: npx quanlu verify ${folder}\n`,
      );
    });
}
