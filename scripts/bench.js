#!/usr/bin/env node
// `npm run bench -- NAME [args]`: runs bench/NAME/main.ts (or bench/NAME.ts). Lists benchmarks when no name is given.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benches = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'main.ts')))
  .map((d) => d.name)
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || !benches.includes(name)) {
  console.error(`usage: npm run bench -- NAME [options]\nbenchmarks: ${benches.join(', ') || '(none)'}`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', name, 'main.ts'), ...args], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
