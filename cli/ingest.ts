/** @module `quanlu ingest`: runs the ingest, and lets an administrator enroll gateways. */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { readConfigFile } from '../firmware-config/config-file.ts';
import { importOfficers, OfficersFile, officersFromFile } from '../ingest/api/reference-routes.ts';
import { IngestConfig, type IngestConfigInput } from '../ingest/config.ts';
import { migrate } from '../ingest/db/migrations.ts';
import { openDatabase } from '../ingest/db/open-database.ts';
import { createRepository } from '../ingest/db/repository.ts';
import { runIngest } from '../ingest/main.ts';
import { issueGatewayCertificate } from '../ingest/tls/gateway-certificates.ts';
import { parsePublicKey } from '../protocol/keys.ts';
import { loadTlsMaterial } from '../protocol/tls/tls-files.ts';
import { CliError } from './errors.ts';
import { retentionCommand } from './ingest-retention.ts';
import { usersCommand } from './ingest-users.ts';

/** Runs a job on the repository of the ingest a config file names (the embedded defaults without one). */
async function withRepository<T>(
  configFile: string | undefined,
  job: (repo: ReturnType<typeof createRepository>) => Promise<T>,
): Promise<T> {
  const config = IngestConfig.parse(
    (configFile ? await readConfigFile(configFile) : {}) as IngestConfigInput,
  );
  const db = await openDatabase(config.database ?? { kind: 'pglite', dataDir: join(config.dataDir, 'db') });
  try {
    await migrate(db);
    return await job(createRepository(db));
  } finally {
    await db.close();
  }
}

/** Adds `ingest` (and `ingest gateways ...`) to the program. */
export function ingestCommand(program: Command): void {
  const ingest = program
    .command('ingest')
    .description(
      'run the ingest: broker, consumer, index and API (embedded defaults: aedes, PGlite, local objects)',
    )
    .option(
      '-c, --config <file>',
      'ingest configuration (YAML or JSON); without it the embedded defaults under ./data/ingest',
    )
    .action(async (opts: { config?: string }) => {
      await runIngest(opts.config);
      await new Promise(() => {
        // runs until a signal ends the process
      });
    });
  usersCommand(ingest, withRepository);
  officersCommand(ingest);
  retentionCommand(ingest);
  const gateways = ingest
    .command('gateways')
    .description('enrolled gateways: list, enroll, approve, revoke, certificate');
  gatewayTlsCommands(gateways);
  gateways
    .command('list')
    .description('list gateways with their key fingerprints and status')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (_opts: unknown, cmd: Command) => {
      // `ingest` itself takes -c too and would claim it: read the option wherever it was given.
      const opts = cmd.optsWithGlobals<{ config?: string }>();
      const rows = await withRepository(opts.config, (repo) => repo.listGateways());
      if (rows.length === 0) process.stdout.write('no gateway has asked to enroll yet\n');
      for (const r of rows)
        process.stdout.write(
          `${r.status.padEnd(8)} ${r.id.padEnd(24)} ${r.fingerprint}  asked ${r.requestedAt}${r.decidedBy ? ` · ${r.status} by ${r.decidedBy}` : ''}\n`,
        );
    });
  for (const [name, decision] of [
    ['approve', 'approved'],
    ['revoke', 'revoked'],
  ] as const) {
    gateways
      .command(name)
      .description(
        `${name} the gateway holding this key (compare the fingerprint with the one the gateway printed)`,
      )
      .argument('<fingerprint>', 'the 64-hex key fingerprint')
      .option('-c, --config <file>', 'ingest configuration')
      .option('--by <name>', 'who decides (written to the gateway record)', process.env.USER ?? 'admin')
      .action(async (fingerprint: string, _opts: unknown, cmd: Command) => {
        const opts = cmd.optsWithGlobals<{ config?: string; by: string }>();
        const fp = fingerprint.replace(/\s+/g, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(fp)) throw new CliError('CLI_USAGE', 'a fingerprint is 64 hex characters');
        const row = await withRepository(opts.config, (repo) => repo.decideGateway(fp, decision, opts.by));
        if (!row) throw new CliError('CLI_USAGE', `no gateway has asked to enroll with key ${fp}`);
        process.stdout.write(
          `${row.id} ${row.status}; a running ingest applies it at the gateway's next connection\n`,
        );
      });
  }
}

/**
 * Adds `ingest gateways enroll ID PUBLIC-KEY` (records a gateway's key given out of band, e.g. from its
 * gateway-key.pub.json, for a broker it cannot ask on: Mosquitto) and `ingest gateways certificate ID`
 * (issue 10: the client certificate of an approved gateway, for mutual TLS, from the ingest CA).
 */
function gatewayTlsCommands(gateways: Command): void {
  gateways
    .command('enroll')
    .description("record a gateway's key as pending (then approve it by fingerprint)")
    .argument('<gateway>', 'the gateway id')
    .argument('<public-key>', 'its raw Ed25519 public key, base64url (publicKey in gateway-key.pub.json)')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (gateway: string, publicKey: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string }>();
      const key = parsePublicKey(publicKey);
      if (typeof key === 'string') throw new CliError('CLI_USAGE', `not a gateway key: ${key}`);
      const row = await withRepository(opts.config, (repo) =>
        repo.upsertEnrollment({ id: gateway, fingerprint: key.fingerprint, publicKey, hostname: null }),
      );
      process.stdout.write(`${row.id} ${row.status} with key ${row.fingerprint}\n`);
    });
  gateways
    .command('certificate')
    .description('issue the client certificate of an approved gateway (mutual TLS), for its enrolled key')
    .argument('<gateway>', 'the gateway id')
    .option('-c, --config <file>', 'ingest configuration')
    .option('--out <file>', 'write it here (the gateway reads <dataDir>/gateway-cert.pem); default: stdout')
    .action(async (gateway: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; out?: string }>();
      const config = IngestConfig.parse(
        (opts.config ? await readConfigFile(opts.config) : {}) as IngestConfigInput,
      );
      const tls = await loadTlsMaterial(config.tls, config.dataDir, `quanlu ingest CA (${config.node})`);
      const row = await withRepository(opts.config, (repo) => repo.gatewayById(gateway));
      const pem = await issueGatewayCertificate(tls, row).catch((err: Error) => {
        throw new CliError('CLI_USAGE', err.message);
      });
      if (opts.out) {
        await writeFile(opts.out, pem, { mode: 0o644 });
        process.stdout.write(
          `wrote ${opts.out}: ${gateway}'s client certificate for key ${row?.fingerprint}\n`,
        );
      } else process.stdout.write(pem);
    });
}

/** Adds `ingest officers import FILE | list`: the officer list the gateway consoles sync (issue 6). */
function officersCommand(ingest: Command): void {
  const officers = ingest
    .command('officers')
    .description('the officer list (执法人员名单) consoles check against');
  officers
    .command('import')
    .description(
      'replace the officer list from a YAML or JSON file (officers: [{ id, name, unit? }]); audited',
    )
    .argument('<file>', 'the officer list file, the same shape as a gateway console.officersFile')
    .option('-c, --config <file>', 'ingest configuration')
    .option('--by <name>', 'who imports (written to the audit log)', `cli:${process.env.USER ?? 'admin'}`)
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; by: string }>();
      let value: unknown;
      try {
        value = parseYaml(await readFile(file, 'utf8'));
      } catch (cause) {
        throw new CliError('CLI_USAGE', `cannot read ${file} as YAML or JSON: ${(cause as Error).message}`);
      }
      const parsed = OfficersFile.safeParse(value);
      if (!parsed.success)
        throw new CliError('CLI_USAGE', `${file} is not an officer list: ${z.prettifyError(parsed.error)}`);
      const rows = officersFromFile(parsed.data);
      const n = await withRepository(opts.config, (repo) =>
        importOfficers(repo, rows, { user: opts.by, role: null, address: null }, new Date().toISOString()),
      );
      process.stdout.write(`imported ${n} officers; gateways pick the list up at their next sync\n`);
    });
  officers
    .command('list')
    .description('print the officer list')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string }>();
      const { rows, at } = await withRepository(opts.config, async (repo) => ({
        rows: await repo.listOfficers(),
        at: await repo.officersImportedAt(),
      }));
      if (rows.length === 0) process.stdout.write('the officer list is empty\n');
      for (const o of rows)
        process.stdout.write(`${o.number.padEnd(20)} ${o.name}${o.unit ? `  ${o.unit}` : ''}\n`);
      if (at) process.stdout.write(`imported ${at}\n`);
    });
}
