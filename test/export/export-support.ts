/** @module Test support for export tests: a case indexed into a real database and store, copies of a package, and re-bagging as a forger would. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { appendAudit } from '../../ingest/db/audit-store.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import {
  BAG_FILES,
  bagInfoText,
  manifestText,
  parseBagInfo,
  payloadOxum,
} from '../../ingest/export/bagit.ts';
import type { ExportDeps } from '../../ingest/export/export-case.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { objectKey } from '../../protocol/object-key.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { openStore } from '../../store/open-store.ts';
import type { BuiltChain } from '../helpers/chains.ts';
import { testKey } from '../helpers/chains.ts';
import { DATABASE_BACKENDS } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { enroll, honestChain, indexInBatches } from '../log/log-support.ts';

/** The recording of the synthetic case. */
export const CASE_RECORDING = '5f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';
/** The case id every helper chain opens with. */
export const CASE_ID = 'TEST-2026-0001';

/** A synthetic case and how to damage its stored objects behind the store's back. */
export interface SyntheticCase {
  deps: ExportDeps;
  chains: BuiltChain[];
  dir: string;
  /** The file that holds an object's bytes in the backend (to flip bits in, or delete). */
  fileOf(sha256: string): string;
}

/**
 * A synthetic case (two tracks, a gap, audit records) indexed into PGlite, its objects in a local
 * folder store or in an S3 store (s3rver on loopback).
 */
export async function syntheticCase(t: Test, storeKind: 'fs' | 's3' = 'fs'): Promise<SyntheticCase> {
  const dir = tmp(t, 'quanlu-export-');
  const { db } = await DATABASE_BACKENDS[0]!.open(t);
  await migrate(db);
  const repo = createRepository(db);
  const gw = testKey(1);
  await enroll(repo, gw);
  let store: ObjectStore;
  let fileOf: (sha256: string) => string;
  if (storeKind === 's3') {
    const server = await startS3Server();
    t.teardown(() => server.close());
    const { endPoint, port, useSSL, accessKey, secretKey } = server;
    const s3 = openStore({ kind: 's3', endPoint, port, useSSL, accessKey, secretKey, bucket: 'evidence' });
    if (s3.kind === 's3') await s3.ensureBucket();
    store = s3;
    // s3rver keeps each object's bytes in <directory>/<bucket>/<key>._S3rver_object.
    fileOf = (sha256) => join(server.directory, 'evidence', `${objectKey(sha256)}._S3rver_object`);
  } else {
    store = openStore({ kind: 'fs', root: join(dir, 'objects') });
    fileOf = (sha256) => join(dir, 'objects', ...objectKey(sha256).split('/'));
  }
  const chains = [honestChain(CASE_RECORDING, 'cam-1', gw, 6), honestChain(CASE_RECORDING, 'cam-2', gw, 4)];
  for (const c of chains) for (const [sha, bytes] of c.objects) await store.put(sha, { bytes }, bytes.length);
  await indexInBatches(repo, chains, 5);
  for (const action of ['view-recording', 'playlist', 'download'] as const)
    await appendAudit(
      db,
      {
        user: 'auditor-1',
        role: 'auditor',
        address: '127.0.0.1',
        action,
        recording: CASE_RECORDING,
        reason: 'case review',
      },
      new Date(Date.UTC(2026, 10, 27, 2, 0, 0)).toISOString(),
    );
  const logKey = testKey(9);
  return {
    deps: { db, repo, store, log: new TransparencyLog({ db, keyPair: logKey }), logKey, node: 'ingest-test' },
    chains,
    dir,
    fileOf,
  };
}

/** A copy of a package, to tamper with. */
export function copyOf(t: Test, bag: string): string {
  const copy = join(tmp(t, 'quanlu-copy-'), 'bag');
  execFileSync('cp', ['-a', bag, copy]);
  return copy;
}

function payloadFiles(dir: string, rel: string, out: string[]): string[] {
  for (const name of readdirSync(join(dir, rel))) {
    const path = `${rel}/${name}`;
    if (statSync(join(dir, path)).isDirectory()) payloadFiles(dir, path, out);
    else out.push(path);
  }
  return out;
}

/** Rewrites every manifest and Payload-Oxum to match the payload as it now is: what a forger would do. */
export function rebag(bag: string): void {
  const hashOf = (path: string) =>
    createHash('sha256')
      .update(readFileSync(join(bag, path)))
      .digest('hex');
  const files = payloadFiles(bag, 'data', []);
  writeFileSync(
    join(bag, BAG_FILES.manifest),
    manifestText(files.map((path) => ({ path, sha256: hashOf(path) }))),
  );
  const info = parseBagInfo(readFileSync(join(bag, BAG_FILES.info), 'utf8'));
  const bytes = files.reduce((n, f) => n + statSync(join(bag, f)).size, 0);
  info.set('Payload-Oxum', [payloadOxum(bytes, files.length)]);
  writeFileSync(join(bag, BAG_FILES.info), bagInfoText([...info].map(([k, v]) => [k, v[0]!] as const)));
  const tags = [BAG_FILES.declaration, BAG_FILES.info, BAG_FILES.manifest];
  writeFileSync(
    join(bag, BAG_FILES.tagManifest),
    manifestText(tags.map((path) => ({ path, sha256: hashOf(path) }))),
  );
}
