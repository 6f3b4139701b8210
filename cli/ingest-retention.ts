/**
 * @module `quanlu ingest retention ...`: a recording's retention, the expired ones, legal holds, retention
 * rules, and deletion at the end of retention, run on the ingest's own database, store and log key by its
 * administrator (EVIDENCE §22). Every change is audited as the user `cli:<name>` with the admin role.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { readConfigFile } from '../firmware-config/config-file.ts';
import type { AuditAction } from '../ingest/auth/audit-chain.ts';
import { IngestConfig, type IngestConfigInput } from '../ingest/config.ts';
import { appendAudit } from '../ingest/db/audit-store.ts';
import { migrate } from '../ingest/db/migrations.ts';
import { type Database, openDatabase } from '../ingest/db/open-database.ts';
import { loadOrCreateLogKey } from '../ingest/log/log-key.ts';
import { TransparencyLog } from '../ingest/log/transparency-log.ts';
import { type Actor, Retention } from '../ingest/retention/retention-service.ts';
import { RetentionClass } from '../protocol/tombstone.ts';
import { openStore } from '../store/open-store.ts';
import { CliError } from './errors.ts';

type Job<T> = (
  r: Retention,
  audit: (action: AuditAction, detail: string, extra?: object) => Promise<void>,
) => Promise<T>;

async function withRetention<T>(configFile: string | undefined, by: string, job: Job<T>): Promise<T> {
  const config = IngestConfig.parse(
    (configFile ? await readConfigFile(configFile) : {}) as IngestConfigInput,
  );
  const db: Database = await openDatabase(
    config.database ?? { kind: 'pglite', dataDir: join(config.dataDir, 'db') },
  );
  try {
    await migrate(db);
    const keyPair = loadOrCreateLogKey(config.dataDir).keyPair;
    const log = new TransparencyLog({ db, keyPair });
    const store = openStore(config.store ?? { kind: 'fs', root: join(config.dataDir, 'objects') });
    const retention = new Retention({ db, store, keyPair, onTombstone: () => log.sequence() });
    return await job(retention, async (action, detail, extra = {}) => {
      await appendAudit(
        db,
        { user: by, role: 'admin', address: null, action, detail, ...extra },
        new Date().toISOString(),
      );
    });
  } finally {
    await db.close();
  }
}

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const actor = (by: string): Actor => ({ username: by, role: 'admin' });

/** Adds `ingest retention status|expired|set|hold|release|delete`. */
export function retentionCommand(ingest: Command): void {
  const retention = ingest
    .command('retention')
    .description('retention classes, legal holds and deletion at the end of retention (保存期限)');
  const common = (c: Command) =>
    c
      .option('-c, --config <file>', 'ingest configuration')
      .option('--by <name>', 'who acts (written to the audit log)', `cli:${process.env.USER ?? 'admin'}`);
  type Opts = { config?: string; by: string };

  common(retention.command('status').description("a recording's class, retain-until and holds"))
    .argument('<recording>', 'recording id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Opts>();
      out(await withRetention(o.config, o.by, (r) => r.status(id)));
    });

  common(retention.command('expired').description('recordings whose retention is over'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Opts & { limit: string }>();
      out(await withRetention(o.config, o.by, (r) => r.expired(Number(o.limit))));
    });

  common(retention.command('set').description('set the class of a matter type, a case or a recording'))
    .requiredOption('--scope <scope>', 'matter | case | recording')
    .requiredOption('--target <id>', 'the matter id, case ID or recording id')
    .option('--class <class>', 'standard | long | permanent (omit: the next level decides)')
    .option('--evidence', 'used as evidence: kept permanently')
    .requiredOption('--reason <text>', 'why')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<
        Opts & { scope: string; target: string; class?: string; evidence?: boolean; reason: string }
      >();
      if (!['matter', 'case', 'recording'].includes(o.scope))
        throw new CliError('CLI_USAGE', '--scope is matter, case or recording');
      const cls = o.class === undefined ? null : RetentionClass.safeParse(o.class);
      if (cls && !cls.success) throw new CliError('CLI_USAGE', '--class is standard, long or permanent');
      const scope = o.scope as 'matter' | 'case' | 'recording';
      out(
        await withRetention(o.config, o.by, async (r, audit) => {
          const rule = await r.setRule(
            {
              scope,
              target: o.target,
              class: cls ? cls.data! : null,
              evidence: Boolean(o.evidence),
              reason: o.reason,
            },
            actor(o.by),
          );
          await audit('retention-set', `${scope} ${o.target}: class ${rule.class ?? 'none'}`, {
            reason: o.reason,
          });
          return rule;
        }),
      );
    });

  common(retention.command('hold').description('place a legal hold on a case or a recording'))
    .requiredOption('--scope <scope>', 'case | recording')
    .requiredOption('--target <id>', 'the case ID or recording id')
    .requiredOption('--reason <text>', 'why')
    .action(async (_o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Opts & { scope: string; target: string; reason: string }>();
      if (o.scope !== 'case' && o.scope !== 'recording')
        throw new CliError('CLI_USAGE', '--scope is case or recording');
      const scope = o.scope;
      out(
        await withRetention(o.config, o.by, async (r, audit) => {
          const hold = await r.hold({ scope, target: o.target, reason: o.reason }, actor(o.by));
          await audit('legal-hold', `hold #${hold.id} on ${scope} ${o.target}`, { reason: o.reason });
          return hold;
        }),
      );
    });

  common(retention.command('release').description('release a legal hold'))
    .argument('<hold>', 'the hold number')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Opts & { reason: string }>();
      out(
        await withRetention(o.config, o.by, async (r, audit) => {
          const hold = await r.release(Number(id), o.reason, actor(o.by));
          await audit('legal-hold-release', `hold #${id} on ${hold.scope} ${hold.target} released`, {
            reason: o.reason,
          });
          return hold;
        }),
      );
    });

  common(retention.command('delete').description('delete an expired, unheld recording, leaving a tombstone'))
    .argument('<recording>', 'recording id')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<Opts & { reason: string }>();
      out(
        await withRetention(o.config, o.by, async (r, audit) => {
          try {
            const done = await r.delete(id, o.reason, actor(o.by));
            await audit('retention-delete', `tombstone ${done.tombstone.hash}`, {
              recording: id,
              reason: o.reason,
            });
            return done;
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'error';
            await audit('retention-refused', `${code}: ${(err as Error).message}`, {
              recording: id,
              reason: o.reason,
            });
            throw err;
          }
        }),
      );
    });
}
