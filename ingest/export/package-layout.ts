/**
 * @module The layout of an evidence package inside its bag's data/ folder [EVIDENCE §21.2]: the evidence
 * folder of §8 (keys/, entries/, objects/) plus the log proofs, the audit records, the package
 * description and the report. Both the export and `quanlu verify` read these names from here.
 */
import { z } from 'zod';
import { CaseId, RecordingId } from '../../protocol/entry.ts';
import { Sha256Hex } from '../../protocol/hash.ts';
import { IsoTime } from '../../protocol/time.ts';

/** Paths inside data/. */
export const PACKAGE_FILES = {
  /** What the package is: case, recordings, when it was made, what it holds. */
  info: 'package.json',
  /** The ingest's public key file (owner "ingest"), kept apart from the gateways' keys/. */
  logKey: 'log/ingest-key.json',
  /** The signed tree head every proof is checked against. */
  treeHead: 'log/tree-head.json',
  /** One inclusion proof per line, one per entry in the package. */
  inclusion: 'log/inclusion.jsonl',
  /** The signed tombstones of the case's recordings deleted at the end of retention, one per line [EVIDENCE §22]. */
  tombstones: 'log/tombstones.jsonl',
  /** The audit records of the case's recordings, one per line, in seq order. */
  audit: 'audit/records.jsonl',
  /** The human-readable report (Chinese and English), rendered from the entries and the tree head. */
  report: 'report.html',
} as const;

/** The folder, beside data/ and outside every manifest, that holds derived convenience copies. */
export const DERIVED_DIR = 'derived';

/** data/package.json [EVIDENCE §21.2]. */
export const PackageInfo = z.strictObject({
  v: z.literal(1),
  kind: z.literal('quanlu-evidence-package'),
  case: CaseId,
  exportedAt: IsoTime,
  exportedBy: z.string().min(1).max(200),
  ingest: z.string().min(1).max(100).describe('the ingest node that made the package'),
  recordings: z.array(RecordingId),
  deleted: z
    .array(RecordingId)
    .optional()
    .describe(
      'recordings of the case deleted at the end of retention: in log/tombstones.jsonl, not in entries/',
    ),
  entries: z.number().int().nonnegative(),
  objects: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  audit: z
    .strictObject({
      included: z.boolean().describe('false when the ingest had no audit log to export'),
      records: z.array(z.strictObject({ seq: z.number().int().nonnegative(), hash: Sha256Hex })),
    })
    .describe('the audit records of the case, by seq and hash'),
});
/** The package description. */
export type PackageInfo = z.infer<typeof PackageInfo>;
