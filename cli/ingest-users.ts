/** @module `quanlu ingest users ...`: add, list and disable console users, and issue API tokens, straight in the ingest database. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { Role } from '../ingest/auth/roles.ts';
import { newApiToken, secretHash } from '../ingest/auth/tokens.ts';
import { addUser, changeUser, Username } from '../ingest/auth/users.ts';
import type { Repository } from '../ingest/db/repository.ts';
import { CliError } from './errors.ts';

/** Runs a job on the repository of the ingest a config file names (the embedded defaults without one). */
export type WithRepository = <T>(
  configFile: string | undefined,
  job: (repo: Repository) => Promise<T>,
) => Promise<T>;

/** Who the audit log names for changes made on this machine's command line. */
function operator(): string {
  return `cli:${process.env.SUDO_USER ?? userInfo().username}`;
}

/**
 * The --config given anywhere on the line: `quanlu ingest` declares -c too, and commander lets the
 * parent take an option both declare, so the subcommand reads it with its parents' options.
 */
function configOf(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { config?: string }).config;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function username(value: string): string {
  const r = Username.safeParse(value);
  if (!r.success) throw new CliError('CLI_USAGE', r.error.issues[0]?.message ?? 'bad user name');
  return r.data;
}

/** Adds `users add|list|disable|token` under `quanlu ingest`. */
export function usersCommand(ingest: Command, withRepository: WithRepository): void {
  const users = ingest
    .command('users')
    .description('console and API users: add, list, disable, issue API tokens');
  const now = () => new Date().toISOString();

  users
    .command('add')
    .description('add a user; without --password-stdin a strong password is generated and printed once')
    .argument('<username>', 'user name (a-z, 0-9, ".", "_", "-")')
    .requiredOption('--role <role>', 'admin | supervisor | auditor | operator')
    .option('--rooms <rooms>', "an operator's rooms, comma-separated")
    .option('--display-name <name>', 'name shown in the console')
    .option('--password-stdin', 'read the password from standard input')
    .option('-c, --config <file>', 'ingest configuration')
    .action(
      async (
        name: string,
        opts: {
          role: string;
          rooms?: string;
          displayName?: string;
          passwordStdin?: boolean;
        },
        cmd: Command,
      ) => {
        const role = Role.safeParse(opts.role);
        if (!role.success)
          throw new CliError('CLI_USAGE', '--role is one of admin, supervisor, auditor, operator');
        const rooms = opts.rooms
          ? opts.rooms
              .split(',')
              .map((r) => r.trim())
              .filter(Boolean)
          : [];
        if (rooms.length && role.data !== 'operator')
          throw new CliError('CLI_USAGE', '--rooms is for operators: the other roles see every room');
        const password = opts.passwordStdin ? await readStdin() : undefined;
        const { user, generatedPassword } = await withRepository(configOf(cmd), async (repo) => {
          const added = await addUser(
            repo,
            {
              username: username(name),
              role: role.data,
              rooms,
              ...(opts.displayName ? { displayName: opts.displayName } : {}),
              ...(password !== undefined ? { password } : {}),
            },
            now(),
          );
          await repo.appendAudit(
            {
              user: operator(),
              role: null,
              address: null,
              action: 'user-add',
              detail: JSON.stringify({ username: added.user.username, role: added.user.role, rooms }),
            },
            now(),
          );
          return added;
        });
        process.stdout.write(
          `added ${user.role} ${user.username}${user.rooms.length ? ` (rooms ${user.rooms.join(', ')})` : ''}\n`,
        );
        if (generatedPassword)
          process.stdout.write(`password: ${generatedPassword}\n(shown once; keep it safe)\n`);
      },
    );

  users
    .command('list')
    .description('list users with their roles, rooms and state')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (_opts: unknown, cmd: Command) => {
      const rows = await withRepository(configOf(cmd), (repo) => repo.listUsers());
      if (rows.length === 0)
        process.stdout.write('no users yet: add one with quanlu ingest users add NAME --role admin\n');
      for (const u of rows)
        process.stdout.write(
          `${u.username.padEnd(24)} ${u.role.padEnd(10)} ${u.disabled ? 'disabled' : 'enabled '} ${u.rooms.join(',') || '-'}  ${u.displayName}\n`,
        );
    });

  users
    .command('disable')
    .description('disable a user: it can no longer sign in, and its sessions and API tokens end')
    .argument('<username>', 'user name')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withRepository(configOf(cmd), async (repo) => {
        await changeUser(repo, username(name), { disabled: true }, now());
        await repo.appendAudit(
          {
            user: operator(),
            role: null,
            address: null,
            action: 'user-change',
            detail: JSON.stringify({ username: name, change: { disabled: true } }),
          },
          now(),
        );
      });
      process.stdout.write(`${name} disabled\n`);
    });

  users
    .command('token')
    .description('issue an API token for the command line (sent as Authorization: Bearer); printed once')
    .argument('<username>', 'user name')
    .option('-c, --config <file>', 'ingest configuration')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const token = await withRepository(configOf(cmd), async (repo) => {
        const user = (await repo.listUsers()).find((u) => u.username === username(name));
        if (!user || user.disabled) throw new CliError('CLI_USAGE', `no enabled user ${name}`);
        const issued = newApiToken();
        await repo.insertApiToken(secretHash(issued), user.username, now());
        await repo.appendAudit(
          {
            user: operator(),
            role: null,
            address: null,
            action: 'token-issue',
            detail: JSON.stringify({ username: user.username }),
          },
          now(),
        );
        return issued;
      });
      process.stdout.write(`${token}\n`);
    });
}
