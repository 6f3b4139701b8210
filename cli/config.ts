/** @module `quanlu config validate|diff|push`: gateway configurations for administrators (signed push, issue 9). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readConfigFile } from '../firmware-config/config-file.ts';
import { loadGatewayConfig, parseGatewayConfig } from '../firmware-config/load.ts';
import { ConfigEnvelope } from '../protocol/messages.ts';
import { CliError } from './errors.ts';

/** An error the ingest answered with: its own code and message. */
class IngestAnswer extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options naming the ingest. */
interface IngestOptions {
  ingest?: string;
  token?: string;
}

/** Calls the ingest's API with an API token (Bearer); a coded error answer is thrown with its code. */
async function callIngest(
  opts: IngestOptions,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<unknown> {
  if (!opts.ingest) throw new CliError('CLI_USAGE', 'give the ingest with --ingest URL');
  const token = opts.token ?? process.env.QUANLU_TOKEN;
  if (!token) throw new CliError('CLI_USAGE', 'give an administrator API token with --token or QUANLU_TOKEN');
  const res = await fetch(new URL(path, opts.ingest), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const answer = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) {
    const e = answer?.error;
    throw new IngestAnswer(
      e?.code ?? 'INGEST_BAD_REQUEST',
      e?.message ?? `the ingest answered ${res.status}`,
    );
  }
  return answer;
}

/** Every leaf of a JSON value by its path, e.g. `cameras[0].source.url`. */
export function flatten(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) flatten(v, `${path}[${i}]`, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, path ? `${path}.${k}` : k, out);
  } else out.set(path || '(top level)', JSON.stringify(value));
  return out;
}

/** `- path: old` and `+ path: new` lines between two configurations (after defaults), in path order. */
export function diffConfigs(before: unknown, after: unknown): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const lines: string[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (a.get(path) === b.get(path)) continue;
    if (a.has(path)) lines.push(`- ${path}: ${a.get(path)}`);
    if (b.has(path)) lines.push(`+ ${path}: ${b.get(path)}`);
  }
  return lines;
}

/** Adds `config` and its subcommands to the program. */
export function configCommand(program: Command): void {
  const config = program
    .command('config')
    .description('gateway configurations: validate a file, compare it with the one in force, push it signed');
  config
    .command('validate')
    .description('check a gateway configuration file against the schema and its room profile')
    .argument('<file>', 'gateway configuration (YAML or JSON)')
    .action(async (file: string) => {
      const { config: c, profile } = await loadGatewayConfig(file);
      process.stdout.write(
        `${file}: valid · gateway ${c.gateway.id} · room ${c.room.id} (${profile.name}) · ${c.cameras.length} camera(s)\n`,
      );
    });
  config
    .command('diff')
    .description(
      'show what a file changes against the configuration in force (pushed through the ingest, or applied on a gateway)',
    )
    .argument('<file>', 'gateway configuration (YAML or JSON)')
    .option(
      '--ingest <url>',
      'the ingest, e.g. http://ingest:8080: compare with the version pushed to this gateway',
    )
    .option('--token <token>', 'administrator API token (default: $QUANLU_TOKEN)')
    .option(
      '--data <dir>',
      "a gateway's data folder: compare with the version applied there (config/current.json)",
    )
    .action(async (file: string, opts: IngestOptions & { data?: string }) => {
      if (!opts.ingest === !opts.data)
        throw new CliError('CLI_USAGE', 'give exactly one of --ingest URL and --data DIR');
      const next = parseGatewayConfig(await readConfigFile(file), { source: file }).config;
      let envelope: ConfigEnvelope | null = null;
      if (opts.data) {
        const text = await readFile(join(opts.data, 'config', 'current.json'), 'utf8').catch(() => null);
        envelope = text ? ConfigEnvelope.parse(JSON.parse(text)) : null;
      } else {
        envelope = ConfigEnvelope.parse(
          await callIngest(opts, 'GET', `/api/v1/gateways/${encodeURIComponent(next.gateway.id)}/config`),
        );
      }
      if (!envelope) {
        process.stdout.write(
          `no pushed configuration in force on ${next.gateway.id}: it runs on its local file\n`,
        );
        return;
      }
      const inForce = parseGatewayConfig(envelope.config, { source: `version ${envelope.version}` }).config;
      const lines = diffConfigs(inForce, next);
      process.stdout.write(
        lines.length
          ? `against version ${envelope.version}:\n${lines.join('\n')}\n`
          : `no differences from version ${envelope.version}\n`,
      );
    });
  config
    .command('push')
    .description(
      "validate a file and have the ingest sign and publish it as the gateway's next configuration version",
    )
    .argument('<gateway>', 'gateway id')
    .argument('<file>', 'gateway configuration (YAML or JSON)')
    .requiredOption('--ingest <url>', 'the ingest, e.g. http://ingest:8080')
    .option('--token <token>', 'administrator API token (default: $QUANLU_TOKEN)')
    .action(async (gateway: string, file: string, opts: IngestOptions) => {
      const raw = await readConfigFile(file);
      const parsed = parseGatewayConfig(raw, { source: file }).config;
      if (parsed.gateway.id !== gateway) {
        throw new CliError(
          'CLI_USAGE',
          `${file} is the configuration of ${parsed.gateway.id}, not ${gateway}`,
        );
      }
      const answer = (await callIngest(
        opts,
        'PUT',
        `/api/v1/gateways/${encodeURIComponent(gateway)}/config`,
        {
          config: raw,
        },
      )) as { version: number; hash: string };
      process.stdout.write(
        `pushed version ${answer.version} to ${gateway} (sha256 ${answer.hash}); the gateway reports the outcome on its status and cmd-result\n`,
      );
    });
}
