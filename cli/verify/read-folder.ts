/** @module Reads an evidence folder for the verifier: keys, entry lines and object hashes (one pass each). */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { LAYOUT } from '../../protocol/folder-layout.ts';
import { type PublicKey, PublicKeyFile, parsePublicKey } from '../../protocol/keys.ts';
import { parseObjectKey } from '../../protocol/object-key.ts';
import type { EntryInput, Finding, ObjectFact } from '../../protocol/verifier.ts';
import { CliError } from '../errors.ts';
import { HashPool } from './hash-pool.ts';

/** What was read from a folder, ready for `verifyChains`. */
export interface FolderContents {
  inputs: EntryInput[];
  keys: Map<string, PublicKey & { owner: string; file: string }>;
  objects: Map<string, ObjectFact>;
  findings: Finding[];
}

/** Progress callbacks while a folder is read. */
export interface ReadProgress {
  start?(totalBytes: number, objects: number): void;
  bytes?(n: number): void;
}

interface Walked {
  files: { rel: string; abs: string; size: number }[];
  findings: Finding[];
  /** Real paths of folders already walked, so a link back up cannot loop. */
  seen: Set<string>;
}

/** Lists regular files under `dir`, following symbolic links only while they stay inside `root`. */
async function walk(root: string, dir: string, out: Walked): Promise<void> {
  let names: string[];
  try {
    const real = await realpath(dir);
    if (out.seen.has(real)) return;
    out.seen.add(real);
    names = (await readdir(dir)).sort();
  } catch (err) {
    out.findings.push(unreadable(relative(root, dir) || '.', err));
    return;
  }
  for (const name of names) {
    const abs = join(dir, name);
    const rel = relative(root, abs).split(sep).join('/');
    try {
      let info = await lstat(abs);
      if (info.isSymbolicLink()) {
        const target = await realpath(abs);
        if (target !== root && !target.startsWith(root + sep)) {
          out.findings.push({
            code: 'FOLDER_ESCAPE',
            severity: 'error',
            file: rel,
            message: `${rel} is a symbolic link to ${target}, outside the evidence folder; it was not read`,
          });
          continue;
        }
        info = await stat(abs);
      }
      if (info.isDirectory()) await walk(root, abs, out);
      else if (info.isFile()) out.files.push({ rel, abs, size: info.size });
    } catch (err) {
      out.findings.push(unreadable(rel, err));
    }
  }
}

function unreadable(rel: string, err: unknown): Finding {
  const e = err as NodeJS.ErrnoException;
  return {
    code: 'FOLDER_UNREADABLE',
    severity: 'error',
    file: rel,
    message: `${rel}: ${e.code ?? ''} ${e.message}`.trim(),
  };
}

/** Reads keys from `keysDir` (defaults to the folder's keys/), entries and objects from `folder`. */
export async function readFolder(
  folder: string,
  opts: { keysDir?: string; progress?: ReadProgress } = {},
): Promise<FolderContents> {
  let root: string;
  try {
    root = await realpath(folder);
    if (!(await stat(root)).isDirectory())
      throw new CliError('VERIFY_NOT_A_FOLDER', `${folder} is not a folder`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new CliError(
      'VERIFY_FOLDER_MISSING',
      `cannot open the evidence folder ${folder}: ${e.code === 'ENOENT' ? 'it does not exist' : e.message}`,
    );
  }
  const walked: Walked = { files: [], findings: [], seen: new Set() };
  await walk(root, root, walked);
  const findings = walked.findings;

  const keys = new Map<string, PublicKey & { owner: string; file: string }>();
  const keyFiles = opts.keysDir
    ? await listKeyDir(opts.keysDir)
    : walked.files.filter((f) => f.rel.startsWith(`${LAYOUT.keys}/`));
  for (const f of keyFiles.filter((k) => k.rel.endsWith('.json'))) {
    const loaded = await loadKey(f.abs);
    if (typeof loaded === 'string') {
      findings.push({ code: 'KEY_INVALID', severity: 'error', file: f.rel, message: `${f.rel}: ${loaded}` });
    } else {
      keys.set(loaded.fingerprint, { ...loaded, file: f.rel });
    }
  }
  if (!keyFiles.some((k) => k.rel.endsWith('.json'))) {
    findings.push({
      code: 'KEY_INVALID',
      severity: 'error',
      message: `no public keys found in ${opts.keysDir ?? `${LAYOUT.keys}/`}`,
    });
  }

  const inputs: EntryInput[] = [];
  const entryFiles = walked.files.filter(
    (f) => f.rel.startsWith(`${LAYOUT.entries}/`) && f.rel.endsWith('.jsonl'),
  );
  for (const f of entryFiles) {
    try {
      await readLines(f.abs, f.rel, inputs);
    } catch (err) {
      findings.push(unreadable(f.rel, err));
    }
  }

  const objectFiles: { rel: string; abs: string; size: number; hash: string }[] = [];
  for (const f of walked.files.filter((x) => x.rel.startsWith(`${LAYOUT.objects}/`))) {
    const hash = parseObjectKey(f.rel.slice(LAYOUT.objects.length + 1));
    if (hash) objectFiles.push({ ...f, hash });
    else
      findings.push({
        code: 'OBJECT_STRAY',
        severity: 'warning',
        file: f.rel,
        message: `${f.rel} is not named sha256/<2 hex>/<64 hex>; ignored`,
      });
  }
  opts.progress?.start?.(
    objectFiles.reduce((n, f) => n + f.size, 0),
    objectFiles.length,
  );
  const objects = new Map<string, ObjectFact>();
  const pool = new HashPool(undefined, (n) => opts.progress?.bytes?.(n));
  try {
    await Promise.all(
      objectFiles.map(async (f) => {
        const r = await pool.hash(f.abs);
        objects.set(
          f.hash,
          'error' in r ? { actual: null, size: f.size, error: r.error } : { actual: r.sha256, size: r.size },
        );
      }),
    );
  } finally {
    await pool.close();
  }
  return { inputs, keys, objects, findings };
}

async function listKeyDir(dir: string): Promise<{ rel: string; abs: string }[]> {
  try {
    return (await readdir(dir)).sort().map((name) => ({ rel: join(dir, name), abs: join(dir, name) }));
  } catch (err) {
    throw new CliError(
      'VERIFY_KEYS_MISSING',
      `cannot read the keys folder ${dir}: ${(err as Error).message}`,
    );
  }
}

async function loadKey(path: string): Promise<(PublicKey & { owner: string }) | string> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    return `not a readable JSON file (${(err as Error).message})`;
  }
  const file = PublicKeyFile.safeParse(json);
  if (!file.success) return z.prettifyError(file.error);
  const key = parsePublicKey(file.data.publicKey);
  return typeof key === 'string' ? key : { ...key, owner: file.data.owner };
}

async function readLines(abs: string, rel: string, out: EntryInput[]): Promise<void> {
  const lines = createInterface({
    input: createReadStream(abs, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    const where = { file: rel, line };
    try {
      out.push({ where, value: JSON.parse(text) });
    } catch (err) {
      out.push({ where, error: `line ${line} of ${rel} is not JSON: ${(err as Error).message}` });
    }
  }
}
