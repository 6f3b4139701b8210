/** @module The demo's users: an administrator and a supervisor with generated passwords, made on the first run and remembered beside the demo's data. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Repository } from '../db/repository.ts';
import { addUser } from './users.ts';

/** A demo user's name and password. */
export interface DemoCredential {
  username: string;
  password: string;
  role: 'admin' | 'supervisor';
}

const CredentialsFile = z.array(
  z.strictObject({ username: z.string(), password: z.string(), role: z.enum(['admin', 'supervisor']) }),
);

/** Where the demo keeps its generated passwords (mode 0600): a demo convenience, never done outside the demo. */
export function demoCredentialsPath(dataDir: string): string {
  return join(dataDir, 'demo-credentials.json');
}

/**
 * Makes the demo's admin and supervisor on the first run (generated passwords, written to the
 * credentials file so later runs can print them again); later runs read the file.
 */
export async function ensureDemoUsers(
  repo: Repository,
  dataDir: string,
): Promise<{ created: boolean; users: DemoCredential[] }> {
  const file = demoCredentialsPath(dataDir);
  if (existsSync(file))
    return { created: false, users: CredentialsFile.parse(JSON.parse(readFileSync(file, 'utf8'))) };
  const users: DemoCredential[] = [];
  for (const [username, role, displayName] of [
    ['admin', 'admin', '系统管理员'],
    ['supervisor', 'supervisor', '执法监督员'],
  ] as const) {
    const at = new Date().toISOString();
    const { generatedPassword } = await addUser(repo, { username, role, displayName }, at);
    await repo.appendAudit(
      {
        user: 'demo',
        role: null,
        address: null,
        action: 'user-add',
        detail: JSON.stringify({ username, role }),
      },
      at,
    );
    users.push({ username, password: generatedPassword!, role });
  }
  writeFileSync(file, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return { created: true, users };
}
