import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { runVerify } from '../../cli/verify/command.ts';
import { type PackageReport, verifyPackage } from '../../cli/verify/verify-package.ts';
import { auditHash } from '../../ingest/auth/audit-chain.ts';
import { type EnvelopeValue, summarizeChains } from '../../ingest/export/chain-summary.ts';
import { exportCase } from '../../ingest/export/export-case.ts';
import { PACKAGE_FILES, PackageInfo } from '../../ingest/export/package-layout.ts';
import { PACKAGE_SIGNATURE_FILE, signPackage } from '../../ingest/export/package-signature.ts';
import { renderPackageReport } from '../../ingest/export/report-html.ts';
import { logKeyFile } from '../../ingest/log/log-key.ts';
import { objectPath } from '../../protocol/folder-layout.ts';
import { signTreeHead, TreeHead } from '../../protocol/tree-head.ts';
import { testKey } from '../helpers/chains.ts';
import { tmp } from '../helpers/recording.ts';
import { CASE_ID, CASE_RECORDING, copyOf, rebag, syntheticCase } from './export-support.ts';

/** The report a forger renders again after changing the tree head (the report shows the head). */
function renderAgain(bag: string): string {
  const info = PackageInfo.parse(JSON.parse(readFileSync(join(bag, 'data', PACKAGE_FILES.info), 'utf8')));
  const head = TreeHead.parse(
    JSON.parse(readFileSync(join(bag, 'data', PACKAGE_FILES.treeHead), 'utf8')).head,
  );
  const envelopes: EnvelopeValue[] = [];
  for (const track of readdirSync(join(bag, 'data', 'entries', CASE_RECORDING)))
    for (const line of readFileSync(join(bag, 'data', 'entries', CASE_RECORDING, track), 'utf8').split('\n'))
      if (line) envelopes.push(JSON.parse(line));
  return renderPackageReport(info, head, summarizeChains(envelopes));
}

function codes(r: PackageReport): string[] {
  return [
    ...r.findings.filter((f) => f.severity === 'error').map((f) => f.code),
    ...r.chains.findings.filter((f) => f.severity === 'error').map((f) => f.code),
    ...r.chains.tracks.flatMap((x) => x.findings.filter((f) => f.severity === 'error').map((f) => f.code)),
  ];
}

t.test('an exported case verifies offline; each tampering fails with its own reason', async (t) => {
  const { deps, chains } = await syntheticCase(t);
  const bag = join(tmp(t, 'quanlu-bag-'), 'package');
  const result = await exportCase(deps, {
    caseId: CASE_ID,
    out: bag,
    exportedBy: 'auditor-2',
    reason: 'court request 2026-17',
    derived: false,
  });
  const entries = chains.reduce((n, c) => n + c.signed.length, 0);
  t.equal(result.info.entries, entries, 'every entry of the case is exported');
  t.equal(
    result.info.audit.records.length,
    4,
    "the case's audit records are in the package, the export's own too",
  );
  const own = readFileSync(join(bag, 'data', PACKAGE_FILES.audit), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.match(
    own.at(-1),
    { user: 'auditor-2', action: 'export', recording: CASE_RECORDING, reason: 'court request 2026-17' },
    'the export is itself audited, with who and why',
  );

  const clean = await verifyPackage(copyOf(t, bag));
  t.same(codes(clean), [], 'the untouched package has no error');
  t.ok(clean.ok);
  t.equal(clean.proofsChecked, entries, 'every entry has a verified inclusion proof');
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  t.equal(
    await runVerify(copyOf(t, bag), { progress: false }, { out: out as never, err: out as never }),
    0,
    'exit 0',
  );
  t.match(text, /PACKAGE: OK/);

  const segment = chains[0]!.signed.find((s) => (s.entry as { kind: string }).kind === 'segment')!;
  const objectSha = (segment.entry as { object: { sha256: string } }).object.sha256;
  const entriesFile = join('data', 'entries', CASE_RECORDING, 'cam-1.jsonl');

  const cases: { name: string; tamper: (bag: string) => void; expect: string }[] = [
    {
      name: 'flip one byte of one object',
      tamper: (b) => {
        const p = join(b, 'data', objectPath(objectSha));
        const bytes = readFileSync(p);
        bytes[10] = bytes[10]! ^ 0x01;
        writeFileSync(p, bytes);
      },
      expect: 'OBJECT_HASH_MISMATCH',
    },
    {
      name: 'delete one segment',
      tamper: (b) => rmSync(join(b, 'data', objectPath(objectSha))),
      expect: 'OBJECT_MISSING',
    },
    {
      name: 'swap two entries',
      tamper: (b) => {
        const p = join(b, entriesFile);
        const lines = readFileSync(p, 'utf8').split('\n');
        [lines[2], lines[3]] = [lines[3]!, lines[2]!];
        writeFileSync(p, lines.join('\n'));
      },
      expect: 'CHAIN_OUT_OF_ORDER',
    },
    {
      name: 'replace a gateway key',
      tamper: (b) => {
        const dir = join(b, 'data', 'keys');
        const file = join(dir, readdirSync(dir)[0]!);
        writeFileSync(
          file,
          JSON.stringify({ alg: 'ed25519', publicKey: testKey(7).publicKeyText, owner: 'gw-test' }),
        );
      },
      expect: 'KEY_UNKNOWN',
    },
    {
      name: 'truncate a proof',
      tamper: (b) => {
        const p = join(b, 'data', PACKAGE_FILES.inclusion);
        const lines = readFileSync(p, 'utf8').split('\n');
        const proof = JSON.parse(lines[1]!);
        proof.path.pop();
        lines[1] = JSON.stringify(proof);
        writeFileSync(p, lines.join('\n'));
      },
      expect: 'PROOF_INVALID',
    },
    {
      name: "edit the report's hash",
      tamper: (b) => {
        const p = join(b, 'data', PACKAGE_FILES.report);
        writeFileSync(
          p,
          readFileSync(p, 'utf8').replace(
            objectSha,
            objectSha.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
          ),
        );
      },
      expect: 'REPORT_MISMATCH',
    },
    {
      name: 'remove an audit record',
      tamper: (b) => {
        const p = join(b, 'data', PACKAGE_FILES.audit);
        const lines = readFileSync(p, 'utf8').split('\n');
        lines.splice(1, 1);
        writeFileSync(p, lines.join('\n'));
      },
      expect: 'AUDIT_RECORD_MISSING',
    },
    {
      name: "change the signed tree head's root",
      tamper: (b) => {
        const p = join(b, 'data', PACKAGE_FILES.treeHead);
        const sth = JSON.parse(readFileSync(p, 'utf8'));
        sth.head.root = '0'.repeat(64);
        writeFileSync(p, JSON.stringify(sth));
      },
      expect: 'TREE_HEAD_INVALID',
    },
  ];
  for (const c of cases) {
    const plain = copyOf(t, bag);
    c.tamper(plain);
    const seen = codes(await verifyPackage(plain));
    t.ok(seen.includes(c.expect), `${c.name}: ${c.expect} (found ${[...new Set(seen)].join(', ')})`);
    t.ok(
      seen.some((x) => x.startsWith('BAG_PAYLOAD')),
      `${c.name}: the bag's manifest catches it too (found ${[...new Set(seen)].join(', ')})`,
    );
    // A forger who also rewrites the manifests is still caught, for the same reason.
    const forged = copyOf(t, bag);
    c.tamper(forged);
    rebag(forged);
    const report = await verifyPackage(forged);
    const forgedCodes = codes(report);
    t.notOk(report.ok, `${c.name}, re-bagged: fails`);
    t.ok(
      forgedCodes.includes(c.expect),
      `${c.name}, re-bagged: ${c.expect} (found ${[...new Set(forgedCodes)].join(', ')})`,
    );
    t.notOk(
      forgedCodes.some((x) => x.startsWith('BAG_')),
      `${c.name}, re-bagged: the bag itself is consistent`,
    );
  }

  // A forger who removes an audit record AND rewrites package.json, the report and the manifests leaves
  // a self-consistent bag: only the package signature (over the tag manifest) catches it.
  const unnamed = copyOf(t, bag);
  const auditPath = join(unnamed, 'data', PACKAGE_FILES.audit);
  const auditLines = readFileSync(auditPath, 'utf8').split('\n');
  const removed = JSON.parse(auditLines.splice(1, 1)[0]!);
  writeFileSync(auditPath, auditLines.join('\n'));
  const infoPath = join(unnamed, 'data', PACKAGE_FILES.info);
  const info = JSON.parse(readFileSync(infoPath, 'utf8'));
  info.audit.records = info.audit.records.filter((r: { seq: number }) => r.seq !== removed.seq);
  writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  writeFileSync(join(unnamed, 'data', PACKAGE_FILES.report), renderAgain(unnamed));
  rebag(unnamed);
  const unnamedCodes = codes(await verifyPackage(unnamed));
  t.same(
    [...new Set(unnamedCodes)],
    ['PACKAGE_SIGNATURE_INVALID'],
    'an audit record removed from the records and package.json, re-bagged: the package signature fails',
  );

  // Editing the export's own record (the last the signed audit head names), re-hashed, with package.json
  // rewritten: the record no longer has the signed audit head's hash.
  const edited = copyOf(t, bag);
  const editedPath = join(edited, 'data', PACKAGE_FILES.audit);
  const editedLines = readFileSync(editedPath, 'utf8').trim().split('\n');
  const last = JSON.parse(editedLines.at(-1)!);
  const { hash: _old, ...body } = { ...last, reason: 'no reason given' };
  const rewritten = { ...body, hash: auditHash(body) };
  editedLines[editedLines.length - 1] = JSON.stringify(rewritten);
  writeFileSync(editedPath, `${editedLines.join('\n')}\n`);
  const editedInfoPath = join(edited, 'data', PACKAGE_FILES.info);
  const editedInfo = JSON.parse(readFileSync(editedInfoPath, 'utf8'));
  editedInfo.audit.records.at(-1).hash = rewritten.hash;
  writeFileSync(editedInfoPath, `${JSON.stringify(editedInfo, null, 2)}\n`);
  writeFileSync(join(edited, 'data', PACKAGE_FILES.report), renderAgain(edited));
  rebag(edited);
  writeFileSync(
    join(edited, PACKAGE_SIGNATURE_FILE),
    JSON.stringify(signPackage(readFileSync(join(edited, 'tagmanifest-sha256.txt')), deps.logKey)),
  );
  const editedCodes = codes(await verifyPackage(edited));
  t.same(
    [...new Set(editedCodes)],
    ['AUDIT_HEAD_MISMATCH'],
    'the last audit record edited and re-hashed (even re-signed with the real key): the audit head disagrees',
  );

  // A forger with a key of their own re-signs the tree head and the package and swaps the package's
  // ingest key: the package is then self-consistent, and only a pinned ingest key (--ingest-key) tells
  // it apart.
  const forged = copyOf(t, bag);
  const impostor = testKey(8);
  const headPath = join(forged, 'data', PACKAGE_FILES.treeHead);
  const { head } = JSON.parse(readFileSync(headPath, 'utf8'));
  writeFileSync(
    headPath,
    JSON.stringify(signTreeHead({ ...head, key: impostor.publicKey.fingerprint }, impostor.privateKey)),
  );
  writeFileSync(join(forged, 'data', PACKAGE_FILES.logKey), JSON.stringify(logKeyFile(impostor)));
  writeFileSync(join(forged, 'data', PACKAGE_FILES.report), renderAgain(forged));
  rebag(forged);
  t.ok(
    codes(await verifyPackage(forged)).includes('PACKAGE_SIGNATURE_INVALID'),
    'the package signature by the real key no longer matches the impostor key',
  );
  writeFileSync(
    join(forged, PACKAGE_SIGNATURE_FILE),
    JSON.stringify(signPackage(readFileSync(join(forged, 'tagmanifest-sha256.txt')), impostor)),
  );
  t.ok((await verifyPackage(forged)).ok, 'trusting the keys inside the package, the forgery is consistent');
  const pinned = join(tmp(t, 'quanlu-pin-'), 'ingest-key.json');
  writeFileSync(pinned, JSON.stringify(logKeyFile(deps.logKey)));
  const caught = await verifyPackage(forged, { ingestKey: pinned });
  t.ok(
    codes(caught).includes('TREE_HEAD_INVALID'),
    'with the real ingest key pinned, the re-signed head is refused',
  );
  t.ok(
    codes(caught).includes('PACKAGE_SIGNATURE_INVALID'),
    'with the real ingest key pinned, the re-signed package is refused',
  );
});
