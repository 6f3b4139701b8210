/** @module Renders a package verification for a person: the chains, then the bag, log, audit and report checks. */
import { renderReport } from './report-text.ts';
import type { PackageReport } from './verify-package.ts';

/** The package report as text an auditor can file. */
export function renderPackageReport(report: PackageReport, bag: string, keysFrom: string): string {
  const out: string[] = [renderReport(report.chains, `${bag}/data`, keysFrom), ''];
  const h = report.treeHead;
  out.push(`evidence package ${bag} (BagIt)`);
  out.push(`  payload: ${report.payloadFiles} files checked against manifest-sha256.txt`);
  out.push(`  ingest key from ${report.ingestKeyFrom}`);
  out.push(
    h
      ? `  signed tree head: size ${h.size}, root ${h.root}, signed ${h.timestamp} by key ${h.key.slice(0, 16)}…`
      : '  signed tree head: NOT VERIFIED',
  );
  out.push(`  inclusion proofs verified: ${report.proofsChecked} of ${report.chains.entries} entries`);
  out.push(`  audit records: ${report.auditRecords}`);
  for (const d of report.deletions)
    out.push(
      `  deleted at the end of retention: recording ${d.recording} on ${d.deletedAt} by ${d.deletedBy} ` +
        `(${d.retention.class}, ${d.retention.basis}, kept until ${d.retention.retainUntil}; ${d.reason}); tombstone ${d.hash}`,
    );
  for (const f of report.findings)
    out.push(
      `  ${f.severity === 'error' ? '✗' : '!'} ${f.code}${f.file ? ` [${f.file}]` : ''}: ${f.message}`,
    );
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  out.push('');
  out.push(
    report.ok
      ? 'PACKAGE: OK — bag fixity, every object, signature, chain, gap, log proof, the tree head and package signatures, the audit records against the signed audit head, and the report hold'
      : `PACKAGE: FAILED — ${errors} package problem(s)${report.chains.ok ? '' : ', and the chains fail (above)'}`,
  );
  return out.join('\n');
}
