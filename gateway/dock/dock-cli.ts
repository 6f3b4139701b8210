/** @module `quanlu gateway dock status`: what the dock is doing, per device and per file, from its status file. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadGatewayConfig } from '../../firmware-config/load.ts';
import { GatewayError } from '../errors.ts';
import { DockStatus, formatDockStatus } from './dock-status.ts';
import { dockStatusFile } from './dock-supervisor.ts';

/** Reads and checks the status a running dock last wrote under `dataDir`. */
export async function readDockStatus(dataDir: string): Promise<DockStatus> {
  const file = dockStatusFile(dataDir);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new GatewayError(
      'GW_CONFIG_UNREADABLE',
      `no dock status at ${file} (is a dock-station gateway running with this data folder?): ${(err as Error).message}`,
    );
  }
  const parsed = DockStatus.safeParse(raw);
  if (!parsed.success)
    throw new GatewayError(
      'GW_CONFIG_UNREADABLE',
      `${file} is not a dock status: ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}

/** Adds `dock status` under `quanlu gateway`. */
export function dockCommand(gateway: Command): void {
  gateway
    .command('dock')
    .description('body-worn recorder docks')
    .command('status')
    .description(
      'docked devices, their offload progress, acknowledgements, wipes and problems (GW_DOCK_* codes)',
    )
    .option('-c, --config <file>', 'the gateway configuration (its data folder holds the dock status)')
    .option('--data-dir <dir>', 'the gateway data folder, instead of --config')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { config?: string; dataDir?: string; json?: boolean }, command: Command) => {
      const config =
        opts.config ?? (command.parent?.parent?.opts() as { config?: string } | undefined)?.config;
      const dataDir =
        opts.dataDir ?? (config ? (await loadGatewayConfig(config)).config.gateway.dataDir : null);
      if (!dataDir) throw new GatewayError('GW_CONFIG_INVALID', 'give --config <file> or --data-dir <dir>');
      const status = await readDockStatus(dataDir);
      process.stdout.write(`${opts.json ? JSON.stringify(status, null, 2) : formatDockStatus(status)}\n`);
    });
}
