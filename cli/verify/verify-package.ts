/**
 * @module `quanlu verify` on an evidence package: reads the bag once (each payload object is hashed once,
 * and that one hash serves both the manifest and the object's name), runs the chain verifier on data/,
 * then the package checks [EVIDENCE §21.5].
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BAG_FILES, PAYLOAD_DIR, parseManifest } from '../../ingest/export/bagit.ts';
import type { EnvelopeValue } from '../../ingest/export/chain-summary.ts';
import { PACKAGE_FILES } from '../../ingest/export/package-layout.ts';
import { PACKAGE_SIGNATURE_FILE, packageSignatureProblem } from '../../ingest/export/package-signature.ts';
import { LAYOUT } from '../../protocol/folder-layout.ts';
import { type PublicKey, PublicKeyFile, parsePublicKey } from '../../protocol/keys.ts';
import { parseObjectKey } from '../../protocol/object-key.ts';
import type { TreeHead } from '../../protocol/tree-head.ts';
import { type VerifyReport, verifyChains } from '../../protocol/verifier.ts';
import {
  checkAudit,
  checkDeclaration,
  checkManifest,
  checkOxum,
  checkPackageInfo,
  checkProofs,
  checkReport,
  checkSignedHead,
  type PackageFinding,
} from './package-checks.ts';
import { type ReadProgress, readFolder } from './read-folder.ts';
import { checkTombstones, type DeletionSeen } from './tombstone-check.ts';

/** The verdict on a package. */
export interface PackageReport {
  ok: boolean;
  chains: VerifyReport;
  findings: PackageFinding[];
  treeHead: TreeHead | null;
  ingestKeyFrom: string;
  proofsChecked: number;
  /** Recordings of the case deleted at the end of retention, from tombstones that verify [EVIDENCE §22]. */
  deletions: DeletionSeen[];
  auditRecords: number;
  payloadFiles: number;
}

/** True when `folder` is a BagIt bag (it has a bagit.txt). */
export async function isBag(folder: string): Promise<boolean> {
  return (await lstat(join(folder, BAG_FILES.declaration)).catch(() => null))?.isFile() ?? false;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function hashFile(path: string): Promise<string | null> {
  try {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
    return h.digest('hex');
  } catch {
    return null;
  }
}

/** Lists every file under data/ (relative to the bag), sizes too; links and special files are findings. */
async function listPayload(
  bag: string,
  rel: string,
  out: Map<string, number>,
  findings: PackageFinding[],
): Promise<void> {
  for (const name of (await readdir(join(bag, rel))).sort()) {
    const path = `${rel}/${name}`;
    const info = await lstat(join(bag, path));
    if (info.isDirectory()) await listPayload(bag, path, out, findings);
    else if (info.isFile()) out.set(path, info.size);
    else
      findings.push({
        code: 'BAG_PAYLOAD_LINK',
        severity: 'error',
        file: path,
        message: `${path} is not a regular file`,
      });
  }
}

async function loadIngestKey(path: string): Promise<PublicKey | string> {
  const text = await readText(path);
  if (text === null) return `${path} cannot be read`;
  try {
    const file = PublicKeyFile.parse(JSON.parse(text));
    if (file.owner !== 'ingest') return `${path} names owner ${file.owner}, not ingest`;
    return parsePublicKey(file.publicKey);
  } catch (e) {
    return `${path}: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Verifies a bag. `keysDir` pins gateway keys and `ingestKey` the log key, instead of the bag's own. */
export async function verifyPackage(
  bag: string,
  opts: { keysDir?: string; ingestKey?: string; allowOpen?: boolean; progress?: ReadProgress } = {},
): Promise<PackageReport> {
  const findings: PackageFinding[] = [];
  findings.push(...checkDeclaration(await readText(join(bag, BAG_FILES.declaration))));

  // The payload: list it, hash objects once in the worker pool (via readFolder), the rest here.
  const files = new Map<string, number>();
  await listPayload(bag, PAYLOAD_DIR, files, findings).catch((e: Error) =>
    findings.push({ code: 'BAG_MANIFEST', severity: 'error', message: `data/ cannot be read: ${e.message}` }),
  );
  const data = join(bag, PAYLOAD_DIR);
  const contents = await readFolder(data, {
    ...(opts.keysDir ? { keysDir: opts.keysDir } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const measured = new Map<string, string | null>();
  const objectsPrefix = `${PAYLOAD_DIR}/${LAYOUT.objects}/`;
  for (const path of files.keys()) {
    const name = path.startsWith(objectsPrefix) ? parseObjectKey(path.slice(objectsPrefix.length)) : null;
    const fact = name ? contents.objects.get(name) : undefined;
    measured.set(path, fact ? fact.actual : await hashFile(join(bag, path)));
  }
  const manifestText = await readText(join(bag, BAG_FILES.manifest));
  if (manifestText === null) {
    findings.push({ code: 'BAG_MANIFEST', severity: 'error', message: `${BAG_FILES.manifest} is missing` });
  } else {
    const manifest = parseManifest(manifestText, BAG_FILES.manifest);
    for (const p of manifest.problems) findings.push({ code: 'BAG_MANIFEST', severity: 'error', message: p });
    findings.push(...checkManifest(manifest.entries, measured, BAG_FILES.manifest, true));
  }
  const tagText = await readText(join(bag, BAG_FILES.tagManifest));
  if (tagText === null) {
    findings.push({
      code: 'BAG_MANIFEST',
      severity: 'warning',
      message: `${BAG_FILES.tagManifest} is missing: tag files are not checked`,
    });
  } else {
    const tags = parseManifest(tagText, BAG_FILES.tagManifest);
    for (const p of tags.problems) findings.push({ code: 'BAG_MANIFEST', severity: 'error', message: p });
    const tagHashes = new Map<string, string | null>();
    for (const path of tags.entries.keys()) {
      if ((await lstat(join(bag, path)).catch(() => null))?.isFile())
        tagHashes.set(path, await hashFile(join(bag, path)));
    }
    findings.push(...checkManifest(tags.entries, tagHashes, BAG_FILES.tagManifest, false));
  }
  findings.push(
    ...checkOxum(
      await readText(join(bag, BAG_FILES.info)),
      [...files.values()].reduce((a, b) => a + b, 0),
      files.size,
    ),
  );

  // The chains, as `quanlu verify FOLDER` checks them.
  const chains = verifyChains(
    contents.inputs,
    contents.keys,
    contents.objects,
    { allowOpen: Boolean(opts.allowOpen) },
    contents.findings,
  );

  // The log: the ingest key, the signed head, a proof per entry.
  const keyPath = opts.ingestKey ?? join(data, PACKAGE_FILES.logKey);
  const key = await loadIngestKey(keyPath);
  if (typeof key === 'string') findings.push({ code: 'LOG_KEY_INVALID', severity: 'error', message: key });
  const signed = checkSignedHead(
    await readText(join(data, PACKAGE_FILES.treeHead)),
    typeof key === 'string' ? null : key,
  );
  findings.push(...signed.findings);
  const envelopes: EnvelopeValue[] = [];
  for (const input of contents.inputs) {
    if (!('value' in input)) continue;
    const v = input.value as { hash?: unknown; entry?: unknown } | null;
    if (v && typeof v.hash === 'string' && v.entry && typeof v.entry === 'object')
      envelopes.push({ hash: v.hash, entry: v.entry as Record<string, unknown> });
  }
  // Tombstones [EVIDENCE §22]: recordings deleted at the end of retention, each proved in the log like an entry.
  const info = checkPackageInfo(await readText(join(data, PACKAGE_FILES.info)));
  const tombstones = checkTombstones(
    ((await readText(join(data, PACKAGE_FILES.tombstones))) ?? '').split('\n'),
    typeof key === 'string' ? null : key,
    info.info,
  );
  findings.push(...tombstones.findings);
  const proofs = checkProofs(
    [...envelopes.map((e) => e.hash), ...tombstones.hashes],
    ((await readText(join(data, PACKAGE_FILES.inclusion))) ?? '').split('\n'),
    signed.head,
  );
  findings.push(...proofs.findings);

  // The package's own signature over the tag manifest, by the same key as the tree head [EVIDENCE §21.6].
  if (typeof key !== 'string') {
    const problem = packageSignatureProblem(
      await readText(join(bag, PACKAGE_SIGNATURE_FILE)),
      await readFile(join(bag, BAG_FILES.tagManifest)).catch(() => null),
      key,
    );
    if (problem) findings.push({ code: 'PACKAGE_SIGNATURE_INVALID', severity: 'error', message: problem });
  }

  // The package description, the audit records, and the report.
  findings.push(...info.findings);
  const auditText = await readText(join(data, PACKAGE_FILES.audit));
  const audit = checkAudit((auditText ?? '').split('\n'), info.info, signed.head);
  findings.push(...audit.findings);
  findings.push(
    ...checkReport(await readText(join(data, PACKAGE_FILES.report)), info.info, signed.head, envelopes),
  );

  return {
    ok: chains.ok && !findings.some((f) => f.severity === 'error'),
    chains,
    findings,
    treeHead: signed.head,
    ingestKeyFrom: opts.ingestKey ?? `${PAYLOAD_DIR}/${PACKAGE_FILES.logKey} (in the package)`,
    proofsChecked: proofs.checked,
    deletions: tombstones.deletions,
    auditRecords: audit.checked,
    payloadFiles: files.size,
  };
}
