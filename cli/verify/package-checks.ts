/**
 * @module The checks `quanlu verify` adds for an evidence package (a BagIt bag) on top of the chain
 * verifier: bag fixity, the signed tree head, the inclusion proofs, the audit records and the report
 * [EVIDENCE §21.5]. Pure: everything read from disk is passed in.
 */
import { z } from 'zod';
import { auditHash } from '../../ingest/auth/audit-chain.ts';
import { parseBagInfo } from '../../ingest/export/bagit.ts';
import { type EnvelopeValue, summarizeChains } from '../../ingest/export/chain-summary.ts';
import { PackageInfo } from '../../ingest/export/package-layout.ts';
import { renderPackageReport } from '../../ingest/export/report-html.ts';
import type { PublicKey } from '../../protocol/keys.ts';
import { checkTreeHead, InclusionProof, inclusionProblem, type TreeHead } from '../../protocol/tree-head.ts';

/** Every finding code of the package checks. */
export const PACKAGE_FINDING_CODES = {
  BAG_DECLARATION: 'bagit.txt is missing or does not declare BagIt 1.0 in UTF-8',
  BAG_MANIFEST: 'a manifest is missing or holds lines that cannot be read',
  BAG_PAYLOAD_MISMATCH: 'a payload file does not hash to its manifest value',
  BAG_PAYLOAD_MISSING: 'a file the manifest lists is not in the bag',
  BAG_PAYLOAD_UNLISTED: 'a file under data/ is listed in no manifest',
  BAG_PAYLOAD_LINK: 'a symbolic link or special file under data/',
  BAG_OXUM_MISMATCH: "the payload's bytes or file count differ from bag-info's Payload-Oxum",
  BAG_TAG_MISMATCH: 'a tag file does not hash to its tag-manifest value, or is missing',
  PACKAGE_INFO_INVALID: 'data/package.json is missing or does not match its schema',
  LOG_KEY_INVALID: "the ingest's public key is missing or refused",
  TREE_HEAD_INVALID: 'the signed tree head is missing or malformed, or its signature does not verify',
  PROOF_MISSING: 'an entry has no inclusion proof',
  PROOF_INVALID: 'an inclusion proof is malformed or does not verify against the signed tree head',
  PROOF_UNREFERENCED: 'a proof names an entry the package does not hold',
  AUDIT_RECORD_INVALID: 'an audit record is malformed or does not hash to its hash',
  AUDIT_RECORD_MISSING: 'an audit record the package names is not in it',
  AUDIT_RECORD_UNLISTED: 'an audit record is in the package but not named by package.json',
  AUDIT_HEAD_MISMATCH:
    "the audit records disagree with the signed tree head's audit head (newer than it, not its last record, or not chained to their neighbours)",
  PACKAGE_SIGNATURE_INVALID:
    'the package signature is missing, names another key, or does not sign this tag manifest',
  REPORT_MISMATCH: 'the report does not match the entries and the tree head it describes',
  TOMBSTONE_INVALID:
    'a tombstone is malformed, does not hash to its hash, or is not signed by the ingest key',
  TOMBSTONE_MISMATCH: 'the tombstones and the deleted recordings named by package.json differ',
} as const;
/** A package finding code. */
export type PackageFindingCode = keyof typeof PACKAGE_FINDING_CODES;

/** One failure of a package check. */
export interface PackageFinding {
  code: PackageFindingCode;
  severity: 'error' | 'warning';
  message: string;
  file?: string;
}

const err = (code: PackageFindingCode, message: string, file?: string): PackageFinding => ({
  code,
  severity: 'error',
  message,
  ...(file ? { file } : {}),
});

/** Checks bagit.txt. */
export function checkDeclaration(text: string | null): PackageFinding[] {
  if (text === null) return [err('BAG_DECLARATION', 'bagit.txt is missing', 'bagit.txt')];
  const fields = parseBagInfo(text);
  const version = fields.get('BagIt-Version')?.[0];
  const encoding = fields.get('Tag-File-Character-Encoding')?.[0];
  if (version !== '1.0' && version !== '0.97')
    return [err('BAG_DECLARATION', `bagit.txt declares version ${version ?? '(none)'}`, 'bagit.txt')];
  if (encoding?.toUpperCase() !== 'UTF-8')
    return [err('BAG_DECLARATION', `tag files are declared ${encoding ?? '(none)'}, not UTF-8`, 'bagit.txt')];
  return [];
}

/** Compares files (path → measured SHA-256, or null when unreadable) with a manifest. */
export function checkManifest(
  listed: ReadonlyMap<string, string>,
  present: ReadonlyMap<string, string | null>,
  name: string,
  payload: boolean,
): PackageFinding[] {
  const out: PackageFinding[] = [];
  for (const [path, expected] of listed) {
    if (!present.has(path)) {
      out.push(
        err(
          payload ? 'BAG_PAYLOAD_MISSING' : 'BAG_TAG_MISMATCH',
          `${path} is listed in ${name} but absent`,
          path,
        ),
      );
      continue;
    }
    const actual = present.get(path);
    if (actual !== expected)
      out.push(
        err(
          payload ? 'BAG_PAYLOAD_MISMATCH' : 'BAG_TAG_MISMATCH',
          `${path} hashes to ${actual ?? '(unreadable)'}, ${name} says ${expected}`,
          path,
        ),
      );
  }
  if (payload)
    for (const path of present.keys())
      if (!listed.has(path)) out.push(err('BAG_PAYLOAD_UNLISTED', `${path} is not listed in ${name}`, path));
  return out;
}

/** Checks Payload-Oxum against what is under data/. */
export function checkOxum(bagInfo: string | null, bytes: number, files: number): PackageFinding[] {
  const oxum = bagInfo === null ? undefined : parseBagInfo(bagInfo).get('Payload-Oxum')?.[0];
  if (oxum === undefined) return [];
  return oxum === `${bytes}.${files}`
    ? []
    : [
        err(
          'BAG_OXUM_MISMATCH',
          `Payload-Oxum says ${oxum}, data/ holds ${bytes} bytes in ${files} files`,
          'bag-info.txt',
        ),
      ];
}

/** Parses package.json. */
export function checkPackageInfo(text: string | null): {
  info: PackageInfo | null;
  findings: PackageFinding[];
} {
  if (text === null)
    return { info: null, findings: [err('PACKAGE_INFO_INVALID', 'data/package.json is missing')] };
  try {
    const r = PackageInfo.safeParse(JSON.parse(text));
    if (r.success) return { info: r.data, findings: [] };
    return {
      info: null,
      findings: [err('PACKAGE_INFO_INVALID', z.prettifyError(r.error), 'data/package.json')],
    };
  } catch (e) {
    return {
      info: null,
      findings: [err('PACKAGE_INFO_INVALID', `not JSON: ${(e as Error).message}`, 'data/package.json')],
    };
  }
}

/** Checks the signed tree head against the ingest key. */
export function checkSignedHead(
  text: string | null,
  key: PublicKey | null,
): { head: TreeHead | null; findings: PackageFinding[] } {
  if (!key) return { head: null, findings: [] };
  if (text === null)
    return { head: null, findings: [err('TREE_HEAD_INVALID', 'the signed tree head is missing')] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { head: null, findings: [err('TREE_HEAD_INVALID', `not JSON: ${(e as Error).message}`)] };
  }
  const checked = checkTreeHead(value, key);
  return 'head' in checked
    ? { head: checked.head, findings: [] }
    : { head: null, findings: [err('TREE_HEAD_INVALID', checked.problem)] };
}

/** Checks that every entry has a proof, and every proof verifies against the head. */
export function checkProofs(
  entryHashes: readonly string[],
  proofLines: readonly string[],
  head: TreeHead | null,
): { checked: number; findings: PackageFinding[] } {
  const findings: PackageFinding[] = [];
  const proofs = new Map<string, InclusionProof>();
  proofLines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: ReturnType<typeof InclusionProof.safeParse>;
    try {
      parsed = InclusionProof.safeParse(JSON.parse(line));
    } catch (e) {
      findings.push(err('PROOF_INVALID', `proof line ${i + 1} is not JSON: ${(e as Error).message}`));
      return;
    }
    if (!parsed.success)
      findings.push(err('PROOF_INVALID', `proof line ${i + 1}: ${z.prettifyError(parsed.error)}`));
    else proofs.set(parsed.data.entry, parsed.data);
  });
  let checked = 0;
  const held = new Set(entryHashes);
  for (const hash of held) {
    const proof = proofs.get(hash);
    if (!proof) {
      findings.push(err('PROOF_MISSING', `entry ${hash} has no inclusion proof`));
      continue;
    }
    if (!head) continue;
    const problem = inclusionProblem(proof, head);
    if (problem) findings.push(err('PROOF_INVALID', `entry ${hash}: ${problem}`));
    else checked++;
  }
  for (const hash of proofs.keys())
    if (!held.has(hash))
      findings.push({
        code: 'PROOF_UNREFERENCED',
        severity: 'warning',
        message: `a proof names entry ${hash}, which the package does not hold`,
      });
  return { checked, findings };
}

const AuditLine = z.strictObject({
  seq: z.number().int().nonnegative(),
  at: z.string(),
  user: z.string().nullable(),
  role: z.string().nullable(),
  address: z.string().nullable(),
  action: z.string(),
  recording: z.string().nullable(),
  track: z.string().nullable(),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  prev: z.string(),
  hash: z.string(),
});

/**
 * Checks the audit records, a subset of the chain, against the signed tree head's audit head as far as
 * a subset can be checked [EVIDENCE §21.5]: every record is older than the head, the record at the
 * head's last seq (when held) has the head's hash, and two held neighbours (seq n and n + 1) chain.
 */
export function checkAuditAgainstHead(
  records: readonly { seq: number; prev: string; hash: string }[],
  head: TreeHead | null,
): PackageFinding[] {
  if (!head) return [];
  const findings: PackageFinding[] = [];
  const audit = head.audit;
  const bySeq = new Map(records.map((r) => [r.seq, r]));
  for (const r of records) {
    if (!audit || r.seq >= audit.size) {
      findings.push(
        err(
          'AUDIT_HEAD_MISMATCH',
          `audit record ${r.seq} is newer than the signed audit head (${audit ? `${audit.size} records` : 'empty'})`,
        ),
      );
      continue;
    }
    if (r.seq === audit.size - 1 && r.hash !== audit.hash)
      findings.push(
        err('AUDIT_HEAD_MISMATCH', `audit record ${r.seq} is not the last record the signed head names`),
      );
    const before = bySeq.get(r.seq - 1);
    if (before && r.prev !== before.hash)
      findings.push(
        err('AUDIT_HEAD_MISMATCH', `audit record ${r.seq} does not name the hash of record ${r.seq - 1}`),
      );
  }
  return findings;
}

/**
 * Checks each audit record's hash, that the records are exactly those package.json names, and that
 * they agree with the signed tree head's audit head.
 */
export function checkAudit(
  lines: readonly string[],
  info: PackageInfo | null,
  head: TreeHead | null = null,
): { checked: number; findings: PackageFinding[] } {
  const findings: PackageFinding[] = [];
  const found = new Map<number, string>();
  const records: { seq: number; prev: string; hash: string }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = AuditLine.parse(JSON.parse(line));
      if (auditHash(r) !== r.hash)
        findings.push(err('AUDIT_RECORD_INVALID', `audit record ${r.seq} does not hash to its hash`));
      found.set(r.seq, r.hash);
      records.push(r);
    } catch (e) {
      findings.push(
        err(
          'AUDIT_RECORD_INVALID',
          `audit line ${i + 1} cannot be read: ${(e as Error).message.split('\n')[0]}`,
        ),
      );
    }
  });
  if (info) {
    const named = new Map(info.audit.records.map((r) => [r.seq, r.hash]));
    for (const [seq, hash] of named)
      if (found.get(seq) !== hash)
        findings.push(err('AUDIT_RECORD_MISSING', `audit record ${seq} (${hash}) is not in the package`));
    for (const seq of found.keys())
      if (!named.has(seq))
        findings.push(err('AUDIT_RECORD_UNLISTED', `audit record ${seq} is not named by package.json`));
  }
  findings.push(...checkAuditAgainstHead(records, head));
  return { checked: found.size, findings };
}

/** Re-renders the report from the entries and the head and compares it with the one in the package. */
export function checkReport(
  text: string | null,
  info: PackageInfo | null,
  head: TreeHead | null,
  entries: readonly EnvelopeValue[],
): PackageFinding[] {
  if (!info || !head) return [];
  if (text === null) return [err('REPORT_MISMATCH', 'data/report.html is missing')];
  const expected = renderPackageReport(info, head, summarizeChains(entries));
  if (expected === text) return [];
  const lines = text.split('\n');
  const want = expected.split('\n');
  const at = want.findIndex((l, i) => l !== lines[i]);
  return [
    err(
      'REPORT_MISMATCH',
      `data/report.html differs from the report its entries and tree head give (from line ${at + 1})`,
      'data/report.html',
    ),
  ];
}
