/** @module The `quanlu` command line: one program, a subcommand per job, each with --help. */
import { Command, CommanderError } from 'commander';
import { configCommand } from './config.ts';
import { demoCommand } from './demo.ts';
import { CliError } from './errors.ts';
import { exportCommand } from './export.ts';
import { gatewayCommand } from './gateway.ts';
import { ingestCommand } from './ingest.ts';
import { verifyCommand } from './verify/command.ts';

/** Builds the program (without running it), so tests can drive it. */
export function buildProgram(): Command {
  const program = new Command('quanlu')
    .description('quanlu (全录): tamper-evident recording of law-enforcement interviews and hearings')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  verifyCommand(program);
  demoCommand(program);
  gatewayCommand(program);
  ingestCommand(program);
  configCommand(program);
  exportCommand(program);
  return program;
}

/** Runs the command line; prints errors as one coded line, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof CliError || isCoded(err)) {
      process.stderr.write(`quanlu: ${err.code}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`quanlu: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.QUANLU_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    process.exitCode = 70;
  }
}

/** Errors of either side's catalogue carry a stable code and a message meant for a person. */
function isCoded(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^(GW|INGEST|CLI|VERIFY)_/.test(code);
}
