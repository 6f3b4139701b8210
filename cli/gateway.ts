/** @module `quanlu gateway`: runs a room's gateway from its configuration file. */
import type { Command } from 'commander';
import { recordCommand } from '../gateway/console/record-cli.ts';
import { dockCommand } from '../gateway/dock/dock-cli.ts';
import { runGateway } from '../gateway/main.ts';
import { CliError } from './errors.ts';

/** Adds `gateway` to the program. */
export function gatewayCommand(program: Command): void {
  const gateway = program
    .command('gateway')
    .description('run a gateway: capture the room cameras into signed chains in the local spool')
    // Not a required option: `gateway record ...` runs without it (commander checks a parent's required options).
    .option(
      '-c, --config <file>',
      'gateway configuration (YAML or JSON; see firmware-config/example-gateway.yaml)',
    )
    .option('--case <id>', 'start recording this case at once (when no recording is running)')
    .option('--matter <type>', 'matter type (事项) of the recording started with --case')
    .option('--officer <number...>', 'credential numbers (执法证号) of the officers present, with --case')
    .option('--by <name>', 'who starts the recording, with --case', 'cli')
    .addHelpText(
      'after',
      '\nA recording running when the gateway stops (Ctrl-C, SIGTERM, a crash) resumes when it starts again,\nwith a gap entry for the time it was down. The gateway key is created on first start in the data folder.',
    )
    .action(
      async (opts: { config: string; case?: string; matter?: string; officer?: string[]; by: string }) => {
        if (!opts.config)
          throw new CliError('CLI_USAGE', 'give the gateway configuration with -c, --config <file>');
        const record = opts.case
          ? { caseId: opts.case, matter: opts.matter ?? '', officers: opts.officer ?? [], startedBy: opts.by }
          : undefined;
        await runGateway({ config: opts.config, ...(record ? { record } : {}) });
        await new Promise(() => {
          // runs until a signal ends the process
        });
      },
    );
  recordCommand(gateway);
  dockCommand(gateway);
}
