/**
 * @module Exports every recording of a case as an evidence package (a BagIt bag) [EVIDENCE §21]: entries
 * exactly as signed, gateway keys, objects copied and hashed in one pass, a fresh signed tree head with
 * an inclusion proof per entry, the case's audit records, the report, then the manifests. Streams
 * objects with bounded memory; entries are held as hashes and small summaries only.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalText } from '../../protocol/canonical.ts';
import { chainFileName, LAYOUT, objectPath } from '../../protocol/folder-layout.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import type { Clock } from '../../protocol/time.ts';
import { isoTime, systemClock } from '../../protocol/time.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { AuditRecord } from '../auth/audit-chain.ts';
import { appendAudit, searchAudit } from '../db/audit-store.ts';
import type { Database } from '../db/open-database.ts';
import type { Repository } from '../db/repository.ts';
import { tombstonesOfCase } from '../db/retention-store.ts';
import { IngestError } from '../errors.ts';
import { logKeyFile } from '../log/log-key.ts';
import type { TransparencyLog } from '../log/transparency-log.ts';
import {
  BAG_DECLARATION,
  BAG_FILES,
  bagInfoText,
  type ManifestLine,
  manifestText,
  PAYLOAD_DIR,
  payloadOxum,
} from './bagit.ts';
import { type EnvelopeValue, summarizeChains } from './chain-summary.ts';
import { copyObject } from './copy-object.ts';
import { makeDerivedCopies } from './derived-copies.ts';
import { PACKAGE_FILES, type PackageInfo } from './package-layout.ts';
import { PACKAGE_SIGNATURE_FILE, signPackage } from './package-signature.ts';
import { renderPackageReport } from './report-html.ts';

/** What an export needs; the same collaborators a running ingest has, or ones opened from its config. */
export interface ExportDeps {
  db: Database;
  repo: Repository;
  store: ObjectStore;
  log: TransparencyLog;
  logKey: KeyPair;
  node: string;
  clock?: Clock;
}

/** Progress of an export, for a bar or log lines. */
export interface ExportProgress {
  phase?(name: 'entries' | 'proofs' | 'objects' | 'report' | 'manifests' | 'derived'): void;
  objects?(totalBytes: number, count: number): void;
  bytes?(n: number): void;
}

/** What to export. */
export interface ExportOptions {
  caseId: string;
  out: string;
  exportedBy: string;
  /** Why the package is made (written to the audit log with the export) [DESIGN invariant 4]. */
  reason?: string;
  /** Make one MP4 per track in derived/ (ffmpeg concat, copy mode). */
  derived?: boolean;
  progress?: ExportProgress;
}

/** What was exported. */
export interface ExportResult {
  out: string;
  info: PackageInfo;
  treeHead: { size: number; root: string };
  derived: { made: string[]; failed: string[] };
}

/** Writes lines to a payload file while hashing exactly the bytes written. */
class PayloadWriter {
  readonly #hash = createHash('sha256');
  readonly #stream: WriteStream;
  bytes = 0;
  constructor(readonly path: string) {
    this.#stream = createWriteStream(path, { flags: 'wx' });
  }
  async write(text: string): Promise<void> {
    const buf = Buffer.from(text, 'utf8');
    this.#hash.update(buf);
    this.bytes += buf.length;
    if (!this.#stream.write(buf)) await new Promise<void>((r) => this.#stream.once('drain', () => r()));
  }
  async close(): Promise<string> {
    await new Promise<void>((resolve, reject) =>
      this.#stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    return this.#hash.digest('hex');
  }
}

async function emptyTarget(out: string): Promise<void> {
  try {
    if ((await readdir(out)).length > 0)
      throw new IngestError('INGEST_EXPORT_TARGET', `${out} exists and is not empty; choose a new folder`);
  } catch (err) {
    if (err instanceof IngestError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new IngestError('INGEST_EXPORT_TARGET', `${out} cannot be used: ${(err as Error).message}`, {
        cause: err,
      });
  }
  await mkdir(join(out, PAYLOAD_DIR), { recursive: true });
}

/** The recordings of a case, oldest first. */
async function caseRecordings(repo: Repository, caseId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await repo.searchRecordings({ caseId, limit: 500, offset });
    ids.push(...page.recordings.map((r) => r.id));
    if (page.recordings.length < 500) break;
  }
  return ids.reverse();
}

/** Exports a case. The folder `out` must not exist or be empty. */
export async function exportCase(deps: ExportDeps, opts: ExportOptions): Promise<ExportResult> {
  const clock = deps.clock ?? systemClock;
  const progress = opts.progress ?? {};
  const all = await caseRecordings(deps.repo, opts.caseId);
  if (all.length === 0)
    throw new IngestError('INGEST_EXPORT_CASE_UNKNOWN', `no recording is indexed for case ${opts.caseId}`);
  // Recordings deleted at the end of retention: their tombstones stand for them [EVIDENCE §22].
  const tombstones = await tombstonesOfCase(deps.db.pool, opts.caseId);
  const deleted = new Set(tombstones.map((x) => x.recording));
  const recordings = all.filter((r) => !deleted.has(r));
  await emptyTarget(opts.out);
  const data = join(opts.out, PAYLOAD_DIR);
  const manifest: ManifestLine[] = [];
  const put = async (rel: string, text: string) => {
    const path = join(data, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, { flag: 'wx' });
    manifest.push({ path: `${PAYLOAD_DIR}/${rel}`, sha256: createHash('sha256').update(text).digest('hex') });
    return Buffer.byteLength(text);
  };
  let payloadBytes = 0;

  // 1. Entries, exactly as signed: the stored canonical text is the entry member.
  progress.phase?.('entries');
  const hashes: string[] = [];
  const summaries: EnvelopeValue[] = [];
  const objects = new Map<string, number>();
  const gateways = new Set<string>();
  for (const rec of recordings) {
    const recording = await deps.repo.recording(rec);
    for (const track of recording?.tracks ?? []) {
      const rel = `${LAYOUT.entries}/${chainFileName(rec, track.track)}`;
      await mkdir(dirname(join(data, rel)), { recursive: true });
      const file = new PayloadWriter(join(data, rel));
      for (let after = -1; ; ) {
        const page = await deps.repo.trackEntries(rec, track.track, { afterSeq: after, limit: 1000 });
        for (const e of page) {
          await file.write(`{"entry":${e.entryText},"hash":"${e.hash}","sig":"${e.sig}"}\n`);
          hashes.push(e.hash);
          gateways.add(e.gateway);
          summaries.push({ hash: e.hash, entry: e.entry as unknown as Record<string, unknown> });
          const o = (e.entry as { object?: { sha256?: unknown; size?: unknown } }).object;
          if (o && typeof o.sha256 === 'string' && typeof o.size === 'number') objects.set(o.sha256, o.size);
        }
        if (page.length < 1000) break;
        after = page[page.length - 1]!.seq;
      }
      manifest.push({ path: `${PAYLOAD_DIR}/${rel}`, sha256: await file.close() });
      payloadBytes += file.bytes;
    }
  }

  // 2. Keys: each gateway's enrolled key, and the ingest's log key apart from them.
  for (const id of [...gateways].sort()) {
    const gw = await deps.repo.gatewayById(id);
    if (!gw) continue;
    payloadBytes += await put(
      `${LAYOUT.keys}/${id}.json`,
      `${JSON.stringify({ alg: 'ed25519', publicKey: gw.publicKey, owner: gw.id }, null, 2)}\n`,
    );
  }
  payloadBytes += await put(PACKAGE_FILES.logKey, `${JSON.stringify(logKeyFile(deps.logKey), null, 2)}\n`);

  // 3. This export's own audit records first [DESIGN invariant 4], so the tree head signed next
  // commits to an audit head that covers them [EVIDENCE §20.2].
  for (const rec of recordings)
    await appendAudit(
      deps.db,
      {
        user: opts.exportedBy,
        role: null,
        address: null,
        action: 'export',
        recording: rec,
        reason: opts.reason ?? null,
        detail: `evidence package of case ${opts.caseId} (quanlu export)`,
      },
      isoTime(clock.now()),
    );

  // 4. A fresh signed tree head over everything accepted so far, and a proof per entry.
  progress.phase?.('proofs');
  const sth = await deps.log.signTreeHead();
  payloadBytes += await put(PACKAGE_FILES.treeHead, `${JSON.stringify(sth, null, 2)}\n`);
  await mkdir(dirname(join(data, PACKAGE_FILES.inclusion)), { recursive: true });
  const proofs = new PayloadWriter(join(data, PACKAGE_FILES.inclusion));
  const proved = [...hashes, ...tombstones.map((x) => x.hash)];
  for (let i = 0; i < proved.length; i += 1000) {
    for (const p of await deps.log.inclusionMany(proved.slice(i, i + 1000), sth.head.size))
      await proofs.write(`${canonicalText(p)}\n`);
  }
  manifest.push({ path: `${PAYLOAD_DIR}/${PACKAGE_FILES.inclusion}`, sha256: await proofs.close() });
  payloadBytes += proofs.bytes;

  if (tombstones.length > 0)
    payloadBytes += await put(
      PACKAGE_FILES.tombstones,
      tombstones.map((x) => `{"tombstone":${x.text},"hash":"${x.hash}","sig":"${x.sig}"}\n`).join(''),
    );

  // 5. The audit records of the case's recordings up to the signed audit head, in seq order.
  const auditSize = sth.head.audit?.size ?? 0;
  const audit: AuditRecord[] = [];
  for (const rec of all) {
    for (let offset = 0; ; offset += 500) {
      const page = await searchAudit(deps.db.pool, { recording: rec, limit: 500, offset });
      audit.push(...page.items.filter((r) => r.seq < auditSize));
      if (page.items.length < 500) break;
    }
  }
  audit.sort((a, b) => a.seq - b.seq);
  payloadBytes += await put(PACKAGE_FILES.audit, audit.map((r) => `${canonicalText(r)}\n`).join(''));

  // 6. Objects, each read once: hashed while copied.
  progress.phase?.('objects');
  const totalBytes = [...objects.values()].reduce((a, b) => a + b, 0);
  progress.objects?.(totalBytes, objects.size);
  for (const [sha256] of [...objects].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const rel = objectPath(sha256);
    const size = await copyObject(deps.store, sha256, join(data, rel), (n) => progress.bytes?.(n));
    manifest.push({ path: `${PAYLOAD_DIR}/${rel}`, sha256 });
    payloadBytes += size;
  }

  // 7. The package description and the report, from the entries and the tree head only.
  progress.phase?.('report');
  const info: PackageInfo = {
    v: 1,
    kind: 'quanlu-evidence-package',
    case: opts.caseId,
    exportedAt: isoTime(clock.now()),
    exportedBy: opts.exportedBy,
    ingest: deps.node,
    recordings,
    ...(deleted.size > 0 ? { deleted: [...deleted].sort() } : {}),
    entries: hashes.length,
    objects: objects.size,
    bytes: totalBytes,
    audit: { included: true, records: audit.map((r) => ({ seq: r.seq, hash: r.hash })) },
  };
  payloadBytes += await put(PACKAGE_FILES.info, `${JSON.stringify(info, null, 2)}\n`);
  payloadBytes += await put(
    PACKAGE_FILES.report,
    renderPackageReport(info, sth.head, summarizeChains(summaries)),
  );

  // 8. The bag's tag files, and the package signature over the tag manifest [EVIDENCE §21.6].
  progress.phase?.('manifests');
  const tags: [string, string][] = [
    [BAG_FILES.declaration, BAG_DECLARATION],
    [
      BAG_FILES.info,
      bagInfoText([
        ['Source-Organization', `quanlu ingest ${deps.node}`],
        ['Bagging-Date', info.exportedAt.slice(0, 10)],
        ['External-Identifier', opts.caseId],
        [
          'External-Description',
          `quanlu evidence package of case ${opts.caseId}: ${recordings.length} recording(s)`,
        ],
        ['Payload-Oxum', payloadOxum(payloadBytes, manifest.length)],
        ['Bag-Software-Agent', 'quanlu export'],
        [
          'Internal-Sender-Description',
          `derived/ holds convenience copies outside every manifest; they are not evidence`,
        ],
      ]),
    ],
    [BAG_FILES.manifest, manifestText(manifest)],
  ];
  for (const [name, text] of tags) await writeFile(join(opts.out, name), text, { flag: 'wx' });
  const tagManifest = manifestText(
    tags.map(([path, text]) => ({ path, sha256: createHash('sha256').update(text).digest('hex') })),
  );
  await writeFile(join(opts.out, BAG_FILES.tagManifest), tagManifest, { flag: 'wx' });
  await writeFile(
    join(opts.out, PACKAGE_SIGNATURE_FILE),
    `${JSON.stringify(signPackage(tagManifest, deps.logKey), null, 2)}\n`,
    { flag: 'wx' },
  );

  // 9. Convenience copies, outside the payload.
  let derived = { made: [] as string[], failed: [] as string[] };
  if (opts.derived !== false) {
    progress.phase?.('derived');
    derived = await makeDerivedCopies(opts.out, summarizeChains(summaries));
  }
  return { out: opts.out, info, treeHead: { size: sth.head.size, root: sth.head.root }, derived };
}
