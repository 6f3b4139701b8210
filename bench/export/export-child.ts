/**
 * @module Runs `quanlu export` in a child process of its own (for the bench and the memory test) and
 * prints one JSON line: what was exported and the child's peak RSS. argv: CASE CONFIG OUT.
 */
import { Writable } from 'node:stream';
import { runExport } from '../../cli/export.ts';

const [caseId, config, out] = process.argv.slice(2);
const quiet = new Writable({ write: (_c, _e, done) => done() });
// What the process holds before any export work: node, tsx and the module graph.
const baselineRssMb = process.memoryUsage().rss / 1048576;
const started = performance.now();
const result = await runExport(
  caseId!,
  { out: out!, config: config!, derived: false, progress: false },
  { out: quiet, err: quiet as unknown as NodeJS.WriteStream },
);
process.stdout.write(
  `${JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    entries: result.info.entries,
    objects: result.info.objects,
    bytes: result.info.bytes,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    baselineRssMb,
  })}\n`,
);
