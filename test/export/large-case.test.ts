import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { buildLargeCase, LARGE_CASE_ID } from '../../bench/export/large-case.ts';
import { freshPostgres } from '../e2e/e2e-support.ts';
import { tmp } from '../helpers/recording.ts';

const CHILD = fileURLToPath(new URL('../../bench/export/export-child.ts', import.meta.url));

t.test(
  'exporting a case of 1 GiB of media keeps the export process under 200 MB RSS (PostgreSQL)',
  async (t) => {
    const dir = tmp(t, 'quanlu-large-');
    const database = await freshPostgres(t, 'large');
    const built = await buildLargeCase(dir, { bytes: 1 << 30, objectBytes: 16 << 20, tracks: 2, database });
    t.ok(built.bytes >= 1 << 30, `${built.bytes} bytes of media in ${built.objects} objects`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CHILD, LARGE_CASE_ID, built.configFile, join(dir, 'bag')],
      // Without tap's NODE_OPTIONS (its process-info loader), so the child is what a user runs.
      { maxBuffer: 1 << 20, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      bytes: number;
      objects: number;
      maxRssMb: number;
      baselineRssMb: number;
    };
    t.equal(result.bytes, built.bytes, 'every byte was exported');
    t.equal(result.objects, built.objects);
    // The limit is absolute: the child's peak RSS (node, tsx, the module graph and the export)
    // stays under 200 MB. PGlite is no longer loaded for a PostgreSQL database, which took ~20 MB off
    // the baseline. What the export itself adds is bounded too, apart from the baseline.
    const grown = result.maxRssMb - result.baselineRssMb;
    t.ok(
      result.maxRssMb < 200,
      `the export process peaked at ${result.maxRssMb.toFixed(1)} MB RSS (limit 200 MB; baseline ${result.baselineRssMb.toFixed(1)} MB)`,
    );
    t.ok(grown < 100, `the export grew RSS by ${grown.toFixed(1)} MB over the baseline`);
  },
);
