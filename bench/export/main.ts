/**
 * @module Benchmark of `quanlu export` and of `quanlu verify` on the package it makes (≥ 2 GB of media by
 * default), each against `sha256sum` over the same bytes in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { timeChild } from '../verify/measure.ts';
import { buildLargeCase, LARGE_CASE_ID } from './large-case.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const USAGE = `usage: npm run bench -- export [options]
  --gib N          total size of the media (default 2)
  --object-mib N   size of one object (default 8)
  --tracks N       chains in the case (default 4)
  --db KIND        postgres (default; 127.0.0.1:5432, database test, a fresh schema) or pglite
  --dir PATH       where to make the temporary folder (default the system temp folder)
  --keep           keep the generated folders`;

const { values: args } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    'object-mib': { type: 'string', default: '8' },
    tracks: { type: 'string', default: '4' },
    db: { type: 'string', default: 'postgres' },
    dir: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}
const log = (line: string) => process.stderr.write(`bench export: ${line}\n`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const gib = Number(args.gib);
const objectMib = Number(args['object-mib']);
const tracks = Number(args.tracks);
if (!(gib > 0 && objectMib > 0 && tracks >= 1) || !['postgres', 'pglite'].includes(args.db!)) {
  console.error(USAGE);
  process.exit(2);
}

/** Every regular file under `dir`. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

/** sha256sum over the files, one process at a time (one core, as coreutils does), timed. */
async function sha256sum(files: string[], scratch: string) {
  const list = join(scratch, 'files.txt');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(list, `${files.join('\0')}\0`);
  return timeChild('sh', ['-c', `xargs -0 -n 64 sha256sum < '${list}' > /dev/null`], {
    cwd: root,
    scratch: join(scratch, 'time.txt'),
  });
}

const space = await statfs(args.dir!);
const need = gib * GiB * 2.2;
if (space.bavail * space.bsize < need) {
  console.error(`not enough room in ${args.dir}: ${(need / 1e9).toFixed(1)} GB needed`);
  process.exit(2);
}
const dir = await mkdtemp(join(args.dir!, 'quanlu-bench-export-'));
const schema = `quanlu_bench_export_${process.pid}`;
const url = 'postgres://root@127.0.0.1:5432/test';
try {
  log(
    `building a case of ${gib} GiB in ${objectMib} MiB objects over ${tracks} tracks (${args.db}) in ${dir}`,
  );
  const built = await buildLargeCase(dir, {
    bytes: gib * GiB,
    objectBytes: objectMib * MiB,
    tracks,
    ...(args.db === 'postgres' ? { database: { kind: 'postgres' as const, url, schema } } : {}),
  });
  const storeFiles = (await filesUnder(join(dir, 'ingest', 'objects'))).filter((f) => !f.includes('/.'));
  execFileSync('sh', ['-c', `cat ${join(dir, 'ingest', 'objects')}/sha256/*/* > /dev/null`]);

  log('sha256sum over the stored objects');
  const baseStore = await sha256sum(storeFiles, dir);
  log(`export (${built.objects} objects, ${(built.bytes / 1e9).toFixed(2)} GB)`);
  const bag = join(dir, 'bag');
  const exported = await timeChild(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/export/export-child.ts'), LARGE_CASE_ID, built.configFile, bag],
    { cwd: root, scratch: join(dir, 'time.txt') },
  );
  if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
  const bagObjects = await filesUnder(join(bag, 'data', 'objects'));
  log('sha256sum over the exported objects');
  const baseBag = await sha256sum(bagObjects, dir);
  log('verify');
  const verified = await timeChild(
    process.execPath,
    [join(root, 'bin/quanlu.js'), 'verify', bag, '--no-progress', '--json'],
    { cwd: root, scratch: join(dir, 'time.txt') },
  );
  const report = JSON.parse(verified.stdout) as {
    ok: boolean;
    proofsChecked: number;
    chains: { entries: number };
  };
  const lost = report.ok && report.proofsChecked === built.entries ? 0 : 1;
  const result = {
    bench: 'export',
    gb: round(built.bytes / 1e9, 2),
    objects: built.objects,
    db: args.db,
    export_s: round(exported.seconds),
    verify_s: round(verified.seconds),
    sha256sum_store_s: round(baseStore.seconds),
    sha256sum_bag_s: round(baseBag.seconds),
    ratio_export: round(baseStore.seconds / exported.seconds),
    ratio: round(baseBag.seconds / verified.seconds),
    target: '>=0.9 (verify)',
    per_s_mb: round(built.bytes / 1e6 / verified.seconds, 1),
    export_rss_mb: exported.maxRssKb === null ? null : round(exported.maxRssKb / 1024, 1),
    rss_mb: verified.maxRssKb === null ? null : round(verified.maxRssKb / 1024, 1),
    contention: verified.contention === null ? null : round(verified.contention, 2),
    lost,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  if (args.db === 'postgres') {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  }
  if (!args.keep) await rm(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}
