/**
 * @module An evidence package of a case with a recording deleted at the end of retention (issue 9): the live
 * recording is exported as before, the deleted one as its signed tombstone with an inclusion proof, and
 * `quanlu verify` holds the package, reports the deletion, and refuses a forged or dropped tombstone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { renderPackageReport } from '../../cli/verify/package-report-text.ts';
import { verifyPackage } from '../../cli/verify/verify-package.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { exportCase } from '../../ingest/export/export-case.ts';
import { PACKAGE_FILES } from '../../ingest/export/package-layout.ts';
import { TransparencyLog } from '../../ingest/log/transparency-log.ts';
import { Retention } from '../../ingest/retention/retention-service.ts';
import { createFsStore } from '../../store/fs-store.ts';
import { copyOf, rebag } from '../export/export-support.ts';
import { manualClock } from '../helpers/auth.ts';
import { T0, testKey } from '../helpers/chains.ts';
import { DATABASE_BACKENDS } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';
import { enroll } from '../log/log-support.ts';
import { MONTH_MS, storedRecording } from './retention-support.ts';

t.test(
  'a case with a deleted recording exports and verifies; the tombstone explains the absence',
  async (t) => {
    const { db } = await DATABASE_BACKENDS[0]!.open(t);
    await migrate(db);
    const repo = createRepository(db);
    const gw = testKey(1);
    const logKey = testKey(9);
    await enroll(repo, gw);
    const store = createFsStore(join(tmp(t, 'quanlu-export-deleted-'), 'objects'));
    const clock = manualClock(T0);
    const log = new TransparencyLog({ db, keyPair: logKey, clock });
    const retention = new Retention({ db, store, keyPair: logKey, clock, onTombstone: () => log.sequence() });
    const spec = { caseId: 'EXP-1', matter: 'inquiry', room: 'interview-room-1' };
    const gone = await storedRecording(repo, store, gw, { ...spec, tag: 'gone' });
    const kept = await storedRecording(repo, store, gw, { ...spec, tag: 'kept' });
    await retention.setRule(
      { scope: 'recording', target: kept.id, class: 'long', evidence: false, reason: 'kept longer' },
      { username: 'a', role: 'admin' },
    );
    clock.advance(7 * MONTH_MS);
    const deletion = await retention.delete(gone.id, 'retention period over', {
      username: 'root',
      role: 'admin',
    });

    const bag = join(tmp(t, 'quanlu-bag-'), 'package');
    const result = await exportCase(
      { db, repo, store, log, logKey, node: 'ingest-test', clock },
      { caseId: 'EXP-1', out: bag, exportedBy: 'auditor-2', reason: 'court request', derived: false },
    );
    t.same(result.info.recordings, [kept.id], 'the live recording is exported');
    t.same(result.info.deleted, [gone.id], 'the deleted one is named as deleted');
    t.equal(result.info.objects, kept.objects.length, 'only live objects are in the package');
    const lines = readFileSync(join(bag, 'data', PACKAGE_FILES.tombstones), 'utf8')
      .trim()
      .split('\n');
    t.same(JSON.parse(lines[0]!), deletion.tombstone, 'the signed tombstone is in the package');

    const report = await verifyPackage(copyOf(t, bag));
    t.same(
      report.findings.filter((f) => f.severity === 'error'),
      [],
      'no error',
    );
    t.ok(report.ok, 'the package holds');
    t.same(
      report.deletions.map((d) => [d.recording, d.deletedBy, d.retention.class, d.hash]),
      [[gone.id, 'root', 'standard', deletion.tombstone.hash]],
      'the verifier reports the deletion',
    );
    const entries = kept.chains.reduce((n, c) => n + c.signed.length, 0);
    t.equal(report.proofsChecked, entries + 1, "every entry's and the tombstone's inclusion proof verified");
    t.match(renderPackageReport(report, bag, 'package'), /deleted at the end of retention: recording/);

    // A forger edits the tombstone's reason and re-bags: the ingest signature no longer holds.
    const forged = copyOf(t, bag);
    const edited = structuredClone(deletion.tombstone);
    edited.tombstone.reason = 'deleted early on request';
    writeFileSync(join(forged, 'data', PACKAGE_FILES.tombstones), `${JSON.stringify(edited)}\n`);
    rebag(forged);
    const f = await verifyPackage(forged);
    t.notOk(f.ok);
    t.ok(
      f.findings.some((x) => x.code === 'TOMBSTONE_INVALID'),
      'an edited tombstone is refused',
    );

    // A forger drops the tombstone (and re-bags): package.json still names the deletion.
    const dropped = copyOf(t, bag);
    writeFileSync(join(dropped, 'data', PACKAGE_FILES.tombstones), '');
    rebag(dropped);
    const d = await verifyPackage(dropped);
    t.notOk(d.ok);
    t.ok(
      d.findings.some((x) => x.code === 'TOMBSTONE_MISMATCH'),
      'a missing tombstone is noticed',
    );
  },
);
