import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { type Sample, writeSampleFolder } from '../../cli/sample-folder.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import type { Finding, VerifyReport } from '../../protocol/verifier.ts';

const REPO = resolve(import.meta.dirname, '../..');
// tap re-adds its process-info hook to NODE_OPTIONS of every child; that hook writes under .tap/
// when the process exits, which nobody may not, so `env -u` takes it out again after setpriv.
const AS_NOBODY = [
  '/usr/bin/setpriv',
  '--reuid=nobody',
  '--regid=nogroup',
  '--clear-groups',
  '/usr/bin/env',
  '-u',
  'NODE_OPTIONS',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/quanlu.js ...args` from the repository, optionally as user nobody. */
function quanlu(args: string[], opts: { asNobody?: boolean } = {}): Promise<Run> {
  const argv = [process.execPath, 'bin/quanlu.js', ...args];
  const [cmd, ...rest] = opts.asNobody ? [...AS_NOBODY, ...argv] : argv;
  const env: NodeJS.ProcessEnv = { ...process.env, QUANLU_DEBUG: '', NO_COLOR: '1' };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd!, rest, {
      cwd: REPO,
      timeout: 60_000,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

async function json(folder: string, extra: string[] = []): Promise<{ run: Run; report: VerifyReport }> {
  const run = await quanlu(['verify', '--json', ...extra, folder]);
  return { run, report: JSON.parse(run.stdout) as VerifyReport };
}

function allFindings(r: VerifyReport): Finding[] {
  return [...r.findings, ...r.tracks.flatMap((tr) => tr.findings)];
}

let tmpRoot = '';
t.before(async () => {
  tmpRoot = await mkdtemp(join(tmpdir(), 'quanlu-verify-cli-'));
  // World-traversable, so that the runs as user nobody can reach what they are meant to.
  await chmod(tmpRoot, 0o755);
});
t.teardown(() => rm(tmpRoot, { recursive: true, force: true }));

let counter = 0;
/** A fresh sample folder: two tracks of three small segments, with one honest gap. */
async function sample(options: Parameters<typeof writeSampleFolder>[1] = {}): Promise<Sample> {
  const folder = join(tmpRoot, `sample-${++counter}`);
  return writeSampleFolder(folder, {
    tracks: 2,
    segmentsPerTrack: 3,
    segmentBytes: 2048,
    gapAfter: 1,
    ...options,
  });
}

function rel(s: Sample, abs: string): string {
  return relative(s.folder, abs).split('\\').join('/');
}

/** The object file of segment `seq` of chain `c`. */
function objectOf(s: Sample, c: number, seq: number): string {
  const entry = s.chains[c]!.entries[seq]!.entry as { kind: string; object?: { sha256: string } };
  if (entry.kind !== 'segment' || !entry.object) throw new Error(`seq ${seq} is not a segment`);
  return join(s.folder, objectPath(entry.object.sha256));
}

function assertNoStack(t: Pick<typeof import('tap').default, 'notMatch'>, run: Run): void {
  t.notMatch(run.stderr, /\n\s{4}at /, 'no stack trace on stderr');
  t.notMatch(run.stdout, /\n\s{4}at /, 'no stack trace on stdout');
}

// ---------------------------------------------------------------------------------------------
// Honest folders, help

t.test('an honest folder verifies: exit 0 and RESULT: OK', async (t) => {
  const s = await sample();
  const run = await quanlu(['verify', s.folder]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /RESULT: OK/);
  t.match(run.stdout, /track cam-1 of recording .*: VERIFIED/);
  t.match(run.stdout, /track cam-2 of recording .*: VERIFIED/);
  t.match(run.stdout, /gap seq 2: .*source-lost/);
  t.equal(run.stderr, '', 'nothing on stderr (no progress bar without a terminal)');
});

t.test('--json prints a parseable report with ok true', async (t) => {
  const s = await sample();
  const { run, report } = await json(s.folder);
  t.equal(run.code, 0);
  t.equal(report.ok, true);
  t.equal(report.tracks.length, 2);
  t.ok(report.tracks.every((tr) => tr.status === 'verified' && tr.segments === 3 && tr.gaps.length === 1));
  t.equal(report.objects.checked, 6);
  t.same(allFindings(report), []);
});

t.test('--help for the program and for verify exits 0 and lists the commands and options', async (t) => {
  const top = await quanlu(['--help']);
  t.equal(top.code, 0);
  t.match(top.stdout, /Usage: quanlu/);
  t.match(top.stdout, /verify/);
  t.match(top.stdout, /--version/);
  const verify = await quanlu(['verify', '--help']);
  t.equal(verify.code, 0);
  t.match(verify.stdout, /Usage: quanlu verify \[options\] <folder>/);
  for (const option of ['--keys <dir>', '--json', '--allow-open', '--no-progress', '-h, --help'])
    t.match(verify.stdout, option, `lists ${option}`);
  t.match(verify.stdout, /Exit status: 0 .* 1 .* 2/);
  const version = await quanlu(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

t.test('a chain still recording fails unless --allow-open', async (t) => {
  const s = await sample({ open: true });
  const strict = await quanlu(['verify', s.folder]);
  t.equal(strict.code, 1);
  t.match(strict.stdout, /CHAIN_NOT_CLOSED/);
  const lenient = await quanlu(['verify', '--allow-open', s.folder]);
  t.equal(lenient.code, 0, lenient.stdout);
  t.match(lenient.stdout, /OPEN \(no close yet\)/);
  t.match(lenient.stdout, /RESULT: OK/);
});

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2 with one coded line

t.test('a missing folder exits 2 with one VERIFY_FOLDER_MISSING line and no stack', async (t) => {
  const missing = join(tmpRoot, 'does-not-exist');
  const run = await quanlu(['verify', missing]);
  t.equal(run.code, 2);
  t.match(run.stderr, /^quanlu: VERIFY_FOLDER_MISSING: .*does-not-exist.*\n$/);
  t.equal(run.stderr.trim().split('\n').length, 1, 'exactly one line');
  t.equal(run.stdout, '');
  t.notMatch(run.stderr, '    at ');
  assertNoStack(t, run);
});

t.test('a file instead of a folder exits 2 with VERIFY_NOT_A_FOLDER', async (t) => {
  const file = join(tmpRoot, 'a-file.txt');
  await writeFile(file, 'not a folder\n');
  const run = await quanlu(['verify', file]);
  t.equal(run.code, 2);
  t.match(run.stderr, /^quanlu: VERIFY_NOT_A_FOLDER: .*a-file\.txt/);
  t.equal(run.stderr.trim().split('\n').length, 1);
  assertNoStack(t, run);
});

t.test('an unknown option exits 2 with a usage message', async (t) => {
  const s = await sample({ tracks: 1 });
  const run = await quanlu(['verify', '--bogus', s.folder]);
  t.equal(run.code, 2);
  t.match(run.stderr, /unknown option '--bogus'/);
  t.match(run.stderr, /--help/);
  t.equal(run.stdout, '');
  assertNoStack(t, run);
});

t.test('a missing folder argument exits 2 with a usage message', async (t) => {
  const run = await quanlu(['verify']);
  t.equal(run.code, 2);
  t.match(run.stderr, /missing required argument 'folder'/);
  assertNoStack(t, run);
});

t.test('an unreadable --keys folder exits 2 with VERIFY_KEYS_MISSING', async (t) => {
  const s = await sample({ tracks: 1 });
  const run = await quanlu(['verify', '--keys', join(tmpRoot, 'no-keys-here'), s.folder]);
  t.equal(run.code, 2);
  t.match(run.stderr, /^quanlu: VERIFY_KEYS_MISSING: .*no-keys-here/);
  assertNoStack(t, run);
});

// ---------------------------------------------------------------------------------------------
// Damaged folders: exit 1, naming what and where

t.test('a dangling symlink in place of an entries file is FOLDER_UNREADABLE naming it', async (t) => {
  const s = await sample();
  const file = s.chains[0]!.file;
  await unlink(file);
  await symlink(join(dirname(file), 'gone.jsonl'), file);
  const { run, report } = await json(s.folder);
  t.equal(run.code, 1);
  t.ok(
    report.findings.some((f) => f.code === 'FOLDER_UNREADABLE' && f.file === rel(s, file)),
    `FOLDER_UNREADABLE names ${rel(s, file)}`,
  );
  assertNoStack(t, run);
});

t.test('a folder in place of an entries file makes the verification fail', async (t) => {
  const s = await sample();
  const file = s.chains[0]!.file;
  await unlink(file);
  await mkdir(file);
  const { run, report } = await json(s.folder);
  // The walker descends into the folder and finds nothing; cam-1's objects are then named by no entry.
  t.equal(run.code, 1, 'exit 1');
  t.ok(
    allFindings(report).some((f) => f.code === 'OBJECT_UNREFERENCED' || f.code === 'FOLDER_UNREADABLE'),
    'a finding says cam-1 is gone',
  );
});

t.test('a deleted chain file leaves its objects unreferenced, and that fails', async (t) => {
  const s = await sample();
  await unlink(s.chains[0]!.file);
  const { run, report } = await json(s.folder);
  t.equal(run.code, 1, 'exit 1');
  t.equal(
    allFindings(report).filter((f) => f.code === 'OBJECT_UNREFERENCED').length,
    3,
    'its three objects are named as unreferenced',
  );
});

// Tests run as root, for whom mode 000 stops nothing; the command drops to nobody when the system allows it.
const canRunAsNobody = process.getuid?.() === 0 && existsSync(AS_NOBODY[0]!);

t.test(
  'files unreadable to the user running verify are reported, not fatal (run as nobody)',
  {
    skip: canRunAsNobody ? false : 'needs root and setpriv to run as nobody',
  },
  async (t) => {
    const s = await sample();
    const object = objectOf(s, 0, 1);
    const entries = s.chains[1]!.file;
    await chmod(object, 0o000);
    await chmod(entries, 0o000);
    const run = await quanlu(['verify', '--json', s.folder], { asNobody: true });
    t.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as VerifyReport;
    const seq1 = s.chains[0]!.entries[1]!.entry.seq as number;
    t.ok(
      allFindings(report).some(
        (f) =>
          f.code === 'OBJECT_UNREADABLE' && f.track === 'cam-1' && f.seq === seq1 && /EACCES/.test(f.message),
      ),
      'OBJECT_UNREADABLE names cam-1 seq 1 and says EACCES',
    );
    t.ok(
      report.findings.some(
        (f) => f.code === 'FOLDER_UNREADABLE' && f.file === rel(s, entries) && /EACCES/.test(f.message),
      ),
      `FOLDER_UNREADABLE names ${rel(s, entries)}`,
    );
    assertNoStack(t, run);
  },
);

t.test('a line that is not JSON is ENTRY_PARSE naming file:line', async (t) => {
  const s = await sample();
  const file = s.chains[0]!.file;
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines.splice(2, 0, '{"entry": this is not json');
  await writeFile(file, lines.join('\n'));
  const run = await quanlu(['verify', s.folder]);
  t.equal(run.code, 1);
  t.match(run.stdout, `ENTRY_PARSE [${rel(s, file)}:3]`);
  t.match(run.stdout, /RESULT: FAILED/);
  t.match(
    run.stdout,
    /track cam-1 of recording .*: VERIFIED/,
    'the chain itself still holds (the line was extra)',
  );
});

t.test('a symlink pointing outside the folder is FOLDER_ESCAPE and its target is not read', async (t) => {
  const s = await sample();
  const outside = join(tmpRoot, `outside-${counter}`);
  await mkdir(outside);
  const marker = 'OUTSIDE-MARKER-7f3a';
  await writeFile(join(outside, 'evil.jsonl'), `${marker} not json\n`);
  await writeFile(join(outside, 'key.json'), `${marker}\n`);
  const entriesLink = join(dirname(s.chains[0]!.file), 'evil.jsonl');
  const keyLink = join(s.folder, 'keys', 'evil.json');
  const dirLink = join(s.folder, 'entries', 'elsewhere');
  await symlink(join(outside, 'evil.jsonl'), entriesLink);
  await symlink(join(outside, 'key.json'), keyLink);
  await symlink(outside, dirLink);
  const { run, report } = await json(s.folder);
  t.equal(run.code, 1);
  for (const link of [entriesLink, keyLink, dirLink])
    t.ok(
      report.findings.some((f) => f.code === 'FOLDER_ESCAPE' && f.file === rel(s, link)),
      `FOLDER_ESCAPE names ${rel(s, link)}`,
    );
  t.notOk(
    allFindings(report).some((f) => f.code === 'ENTRY_PARSE' || f.code === 'KEY_INVALID'),
    'nothing behind the links was parsed',
  );
  t.notMatch(run.stdout, marker, 'the content behind the links appears nowhere');
  t.ok(
    report.tracks.every((tr) => tr.status === 'verified'),
    'the genuine chains still hold',
  );
});

t.test('a symlink that stays inside the folder is followed', async (t) => {
  const s = await sample({ tracks: 1 });
  const file = s.chains[0]!.file;
  const moved = join(s.folder, 'entries', 'moved.jsonl.txt');
  await cp(file, moved);
  await unlink(file);
  await symlink(moved, file);
  const run = await quanlu(['verify', s.folder]);
  t.equal(run.code, 0, run.stdout);
});

t.test('a flipped byte in an object is OBJECT_HASH_MISMATCH naming the seq', async (t) => {
  const s = await sample();
  const seq = 3; // cam-2: open, segment, gap, segment (seq 3), segment, close
  const path = objectOf(s, 1, seq);
  const bytes = await readFile(path);
  bytes[100]! ^= 0x01;
  await writeFile(path, bytes);
  const run = await quanlu(['verify', s.folder]);
  t.equal(run.code, 1);
  t.match(run.stdout, `OBJECT_HASH_MISMATCH [${rel(s, s.chains[1]!.file)}:${seq + 1}, seq ${seq}]`);
  t.match(run.stdout, /track cam-2 of recording .*: FAILED/);
  t.match(run.stdout, /track cam-1 of recording .*: VERIFIED/);
  t.equal(run.stdout.split('OBJECT_HASH_MISMATCH').length - 1, 1, 'only that object is named');
});

t.test('a stray file under objects/ is a warning, not a failure', async (t) => {
  const s = await sample({ tracks: 1 });
  await writeFile(join(s.folder, 'objects', 'README.txt'), 'hello\n');
  const { run, report } = await json(s.folder);
  t.equal(run.code, 0);
  t.ok(report.findings.some((f) => f.code === 'OBJECT_STRAY' && f.severity === 'warning'));
});

// ---------------------------------------------------------------------------------------------
// Keys

async function keyDir(name: string, pairs: { pair: KeyPair; owner: string }[]): Promise<string> {
  const dir = join(tmpRoot, name);
  await mkdir(dir, { recursive: true });
  for (const { pair, owner } of pairs)
    await writeFile(
      join(dir, `${owner}.json`),
      JSON.stringify({ alg: 'ed25519', publicKey: pair.publicKeyText, owner }),
    );
  return dir;
}

t.test('--keys pins the keys: a folder re-signed with another key fails with KEY_UNKNOWN', async (t) => {
  const genuine = generateKeyPair();
  const pinned = await keyDir(`pinned-${++counter}`, [{ pair: genuine, owner: 'gw-sample' }]);
  // Whoever rewrote the folder signed it anew and put their own key in keys/.
  const forged = await sample({ keyPair: generateKeyPair() });
  const trusting = await quanlu(['verify', forged.folder]);
  t.equal(trusting.code, 0, 'with the keys in the folder it verifies: that is why keys are pinned');
  t.match(trusting.stdout, /keys from the folder/);
  const run = await quanlu(['verify', '--keys', pinned, forged.folder]);
  t.equal(run.code, 1);
  t.match(run.stdout, `keys from ${pinned}`);
  const entries = forged.chains.reduce((n, c) => n + c.entries.length, 0);
  t.equal(run.stdout.split('KEY_UNKNOWN').length - 1, entries, 'every entry is KEY_UNKNOWN');
  t.match(run.stdout, /RESULT: FAILED/);
});

t.test(
  'a genuine folder whose keys/ was replaced fails, and passes with the original keys pinned',
  async (t) => {
    const genuine = generateKeyPair();
    const pinned = await keyDir(`pinned-${++counter}`, [{ pair: genuine, owner: 'gw-sample' }]);
    const s = await sample({ keyPair: genuine });
    const keysDir = join(s.folder, 'keys');
    for (const name of await readdir(keysDir)) await unlink(join(keysDir, name));
    await writeFile(
      join(keysDir, 'gw-sample.json'),
      JSON.stringify({ alg: 'ed25519', publicKey: generateKeyPair().publicKeyText, owner: 'gw-sample' }),
    );
    const swapped = await json(s.folder);
    t.equal(swapped.run.code, 1);
    t.ok(allFindings(swapped.report).some((f) => f.code === 'KEY_UNKNOWN'));
    const withPinned = await quanlu(['verify', '--keys', pinned, s.folder]);
    t.equal(withPinned.code, 0, withPinned.stdout);
  },
);

t.test('a refused key file (small-order key) is KEY_INVALID', async (t) => {
  const s = await sample({ tracks: 1 });
  await writeFile(
    join(s.folder, 'keys', 'identity.json'),
    JSON.stringify({
      alg: 'ed25519',
      publicKey: Buffer.from(`01${'00'.repeat(31)}`, 'hex').toString('base64url'),
      owner: 'x',
    }),
  );
  const { run, report } = await json(s.folder);
  t.equal(run.code, 1);
  t.ok(
    report.findings.some(
      (f) => f.code === 'KEY_INVALID' && f.file === 'keys/identity.json' && /small order/.test(f.message),
    ),
  );
});

t.test("a chain naming gateway gw-a but signed with gw-b's enrolled key fails", async (t) => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  const pinned = await keyDir(`pinned-${++counter}`, [
    { pair: a, owner: 'gw-a' },
    { pair: b, owner: 'gw-b' },
  ]);
  // gw-b writes a recording that claims to come from gw-a's room.
  const s = await sample({ gateway: 'gw-a', keyPair: b, tracks: 1 });
  const run = await quanlu(['verify', '--keys', pinned, s.folder]);
  // Regression: at 229b791 the owner of a key was never compared with the gateway an entry names.
  t.equal(run.code, 1, 'exit 1');
  t.match(run.stdout, /KEY_OWNER_MISMATCH/);
});

t.test('a folder with keys but no entries at all fails with NO_ENTRIES', async (t) => {
  const s = await sample({ tracks: 1 });
  await rm(join(s.folder, 'entries'), { recursive: true });
  const { run, report } = await json(s.folder);
  t.equal(run.code, 1);
  t.ok(report.findings.some((f) => f.code === 'NO_ENTRIES' && f.severity === 'error'));
});
