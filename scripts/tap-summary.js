#!/usr/bin/env node
// Prints "N passed, N failed[, N skipped]" from tap's own closing summary in a saved log
// ("# { total: N, pass: N, fail: N, skip: N, todo: N }"). Used by .ci/run.
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2] ?? 0, 'utf8');
const lines = log.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
const last = lines.at(-1);
if (!last) {
  // The checks before tap (install, tsc, biome) failed, so tap never ran: say so as one failure.
  console.log('tests: 0 passed, 1 failed');
  process.exit(0);
}
const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(last)?.[1] ?? 0);
const skipped = count('skip') + count('todo');
console.log(
  `tests: ${count('pass')} passed, ${count('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
