/** @module `quanlu export CASE --out DIR`: an evidence package (BagIt bag) of every recording of a case. */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { readConfigFile } from '../firmware-config/config-file.ts';
import { IngestConfig, type IngestConfigInput } from '../ingest/config.ts';
import { type ExportProgress, type ExportResult, exportCase } from '../ingest/export/export-case.ts';
import { openExportContext } from '../ingest/export/export-context.ts';
import { CaseId } from '../protocol/entry.ts';
import { CliError } from './errors.ts';

/** Options of the export command. */
export interface ExportCommandOptions {
  out: string;
  config?: string;
  derived?: boolean;
  by?: string;
  reason?: string;
  progress?: boolean;
}

/** Progress as a bar on a terminal, as log lines otherwise. */
function progressFor(err: NodeJS.WriteStream, bar: boolean): ExportProgress & { stop(): void } {
  let total = 0;
  let done = 0;
  let nextLine = 0;
  const mib = (n: number) => Math.floor(n / 1048576);
  const b = bar
    ? new SingleBar({
        format: 'copying {bar} {percentage}% · {value}/{total} MiB · {eta_formatted} left',
        stream: err,
        hideCursor: true,
      })
    : null;
  return {
    phase: (name) => {
      if (!b) err.write(`export: ${name}\n`);
    },
    objects: (bytes, count) => {
      total = bytes;
      if (b) b.start(mib(bytes), 0);
      else err.write(`export: ${count} objects, ${mib(bytes)} MiB\n`);
    },
    bytes: (n) => {
      done += n;
      if (b) b.update(mib(done));
      else if (total > 0 && done >= nextLine) {
        err.write(`export: ${Math.floor((100 * done) / total)}% (${mib(done)}/${mib(total)} MiB)\n`);
        nextLine = done + total / 10;
      }
    },
    stop: () => b?.stop(),
  };
}

/** Runs an export from the ingest's configuration (no server needed); returns what was made. */
export async function runExport(
  caseId: string,
  opts: ExportCommandOptions,
  io: { out: NodeJS.WritableStream; err: NodeJS.WriteStream } = { out: process.stdout, err: process.stderr },
): Promise<ExportResult> {
  const id = CaseId.safeParse(caseId);
  if (!id.success)
    throw new CliError(
      'CLI_USAGE',
      `not a case id: ${JSON.stringify(caseId)} (${id.error.issues[0]?.message})`,
    );
  const config = IngestConfig.parse(
    (opts.config ? await readConfigFile(opts.config) : {}) as IngestConfigInput,
  );
  const ctx = await openExportContext(config);
  const progress = progressFor(io.err, opts.progress ?? Boolean(io.err.isTTY));
  try {
    const result = await exportCase(ctx, {
      caseId,
      out: opts.out,
      exportedBy: opts.by ?? process.env.USER ?? 'cli',
      ...(opts.reason ? { reason: opts.reason } : {}),
      derived: opts.derived !== false,
      progress,
    });
    progress.stop();
    io.out.write(
      `exported case ${caseId} to ${result.out}: ${result.info.recordings.length} recording(s), ${result.info.entries} entries, ${result.info.objects} objects (${result.info.bytes} bytes); tree head ${result.treeHead.size} ${result.treeHead.root}\n` +
        `derived copies: ${result.derived.made.length} made${result.derived.failed.length ? `, ${result.derived.failed.length} failed (see derived/README.txt)` : ''}\n` +
        `check it with: quanlu verify ${result.out}\n`,
    );
    return result;
  } finally {
    progress.stop();
    await ctx.close();
  }
}

/** Adds `export` to the program. */
export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('export every recording of a case as an evidence package (BagIt) that verifies offline')
    .argument('<case>', 'the case id')
    .requiredOption('-o, --out <dir>', 'the package folder to create (must not exist, or be empty)')
    .option('-c, --config <file>', 'ingest configuration (the same file as `quanlu ingest`)')
    .option('--no-derived', 'skip the convenience MP4 copies in derived/')
    .option('--by <name>', 'who exports (written to the package and the audit log)')
    .option('--reason <text>', 'why the package is made (written to the audit log)')
    .option('--no-progress', 'no progress bar')
    .action(async (caseId: string, opts: ExportCommandOptions) => {
      await runExport(caseId, opts);
    });
}
