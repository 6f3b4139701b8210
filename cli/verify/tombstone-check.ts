/**
 * @module `quanlu verify` on a package's tombstones [EVIDENCE §22]: each signed by the ingest key, included in
 * the signed tree head, and exactly the recordings package.json names as deleted. Reports each deletion.
 */
import type { PackageInfo } from '../../ingest/export/package-layout.ts';
import type { PublicKey } from '../../protocol/keys.ts';
import { checkTombstone, type Tombstone } from '../../protocol/tombstone.ts';
import type { PackageFinding } from './package-checks.ts';

/** A deletion the package explains: what was deleted, when, by whom, why, under which retention. */
export interface DeletionSeen {
  recording: string;
  hash: string;
  deletedAt: string;
  deletedBy: string;
  reason: string;
  retention: Tombstone['retention'];
}

/**
 * Checks the lines of log/tombstones.jsonl against the ingest key and package.json's `deleted`; returns the
 * deletions that verify and their hashes (whose inclusion proofs the caller checks with the entries').
 */
export function checkTombstones(
  lines: readonly string[],
  key: PublicKey | null,
  info: PackageInfo | null,
): { deletions: DeletionSeen[]; hashes: string[]; findings: PackageFinding[] } {
  const findings: PackageFinding[] = [];
  const deletions: DeletionSeen[] = [];
  const hashes: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      findings.push(invalid(`tombstone line ${i + 1} is not JSON: ${(e as Error).message}`));
      return;
    }
    const hash = (value as { hash?: unknown } | null)?.hash;
    if (typeof hash === 'string') hashes.push(hash);
    if (!key) return;
    const checked = checkTombstone(value, key);
    if ('problem' in checked) {
      findings.push(invalid(`tombstone line ${i + 1}: ${checked.problem}`));
      return;
    }
    const t = checked.tombstone;
    deletions.push({
      recording: t.recording,
      hash: checked.hash,
      deletedAt: t.deletedAt,
      deletedBy: t.deletedBy,
      reason: t.reason,
      retention: t.retention,
    });
  });
  if (info && key) {
    const named = new Set(info.deleted ?? []);
    const seen = new Set(deletions.map((d) => d.recording));
    for (const r of named)
      if (!seen.has(r))
        findings.push(mismatch(`package.json names recording ${r} as deleted, but no valid tombstone does`));
    for (const r of seen)
      if (!named.has(r))
        findings.push(mismatch(`a tombstone of recording ${r} is not named by package.json`));
  }
  return { deletions, hashes, findings };
}

const invalid = (message: string): PackageFinding => ({
  code: 'TOMBSTONE_INVALID',
  severity: 'error',
  message,
  file: 'data/log/tombstones.jsonl',
});
const mismatch = (message: string): PackageFinding => ({
  code: 'TOMBSTONE_MISMATCH',
  severity: 'error',
  message,
});
