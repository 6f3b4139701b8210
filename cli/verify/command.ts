/** @module `quanlu verify FOLDER`: the offline verifier as a command. Exit 0 only when everything holds. */
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { verifyChains } from '../../protocol/verifier.ts';
import { renderPackageReport } from './package-report-text.ts';
import { readFolder } from './read-folder.ts';
import { renderReport } from './report-text.ts';
import { isBag, verifyPackage } from './verify-package.ts';

/** Exit codes of `quanlu verify`. */
export const VERIFY_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Options of the verify command. */
export interface VerifyCommandOptions {
  keys?: string;
  ingestKey?: string;
  json?: boolean;
  allowOpen?: boolean;
  progress?: boolean;
}

/** Runs a verification and writes its report; returns the exit code. */
export async function runVerify(
  folder: string,
  opts: VerifyCommandOptions,
  io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const showProgress = opts.progress ?? (Boolean(io.err.isTTY) && !opts.json);
  const bar = showProgress
    ? new SingleBar({
        format: 'hashing {bar} {percentage}% · {value}/{total} MiB · {eta_formatted} left',
        stream: io.err,
        hideCursor: true,
      })
    : null;
  let done = 0;
  const progress = {
    start: (total: number) => bar?.start(Math.ceil(total / 1048576), 0),
    bytes: (n: number) => {
      done += n;
      bar?.update(Math.floor(done / 1048576));
    },
  };
  const keysFrom = opts.keys
    ? resolve(opts.keys)
    : 'the folder (keys/) — pin them with --keys to trust nothing in the folder';
  if (await isBag(folder)) {
    const pkg = await verifyPackage(folder, {
      ...(opts.keys ? { keysDir: opts.keys } : {}),
      ...(opts.ingestKey ? { ingestKey: opts.ingestKey } : {}),
      allowOpen: Boolean(opts.allowOpen),
      progress,
    });
    bar?.stop();
    io.out.write(
      opts.json ? `${JSON.stringify(pkg, null, 2)}\n` : `${renderPackageReport(pkg, folder, keysFrom)}\n`,
    );
    return pkg.ok ? VERIFY_EXIT.ok : VERIFY_EXIT.failed;
  }
  const contents = await readFolder(folder, { ...(opts.keys ? { keysDir: opts.keys } : {}), progress });
  bar?.stop();
  const report = verifyChains(
    contents.inputs,
    contents.keys,
    contents.objects,
    { allowOpen: Boolean(opts.allowOpen) },
    contents.findings,
  );
  io.out.write(
    opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report, folder, keysFrom)}\n`,
  );
  return report.ok ? VERIFY_EXIT.ok : VERIFY_EXIT.failed;
}

/** Adds `verify` to the program. */
export function verifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'verify an evidence package (BagIt) or folder offline: bag fixity, every signature, hash, chain link, gap, Merkle root and log proof',
    )
    .argument(
      '<folder>',
      'an evidence package (bagit.txt, data/), or a folder with keys/, entries/ and objects/',
    )
    .option('--keys <dir>', 'trusted public keys (*.json); by default the keys/ inside the folder are used')
    .option('--ingest-key <file>', "the ingest's public key file to trust; by default the package's own")
    .option('--json', 'print the report as JSON')
    .option('--allow-open', 'accept chains that are not closed yet (a recording still running)')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      '\nExit status: 0 when everything holds, 1 when anything fails verification, 2 when the folder cannot be read.\nThe format is specified in protocol/EVIDENCE.md.',
    )
    .action(async (folder: string, opts: VerifyCommandOptions) => {
      process.exitCode = await runVerify(folder, opts);
    });
}
