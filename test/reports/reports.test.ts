import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import t, { type Test } from 'tap';
import { addUser } from '../../ingest/auth/users.ts';
import { appendAudit } from '../../ingest/db/audit-store.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import type { Database } from '../../ingest/db/open-database.ts';
import { createRepository, type Repository } from '../../ingest/db/repository.ts';
import { run } from '../../ingest/db/rows.ts';
import { csvField } from '../../ingest/reports/csv.ts';
import { registerReportRoutes } from '../../ingest/reports/report-routes.ts';
import { complianceReport, ownFootageReport, yearlyReport, yearRange } from '../../ingest/reports/reports.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import { Entry } from '../../protocol/entry.ts';
import { isoTime } from '../../protocol/time.ts';
import { CLOCK as clock, testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';

const MATTERS = [
  { id: 'interview', zh: '询问', en: 'interview', mandatory: true },
  { id: 'search', zh: '检查', en: 'search', mandatory: true },
  { id: 'licence', zh: '许可', en: 'licence', mandatory: false },
];

/** Indexes a closed one-track recording through the repository, as the consumer would. */
async function record(
  repo: Repository,
  r: { matter: string; room: string; officers: string[]; start: string; minutes: number; caseId: string },
): Promise<string> {
  const recording = randomUUID();
  const key = testKey(9);
  const chain = new TrackChain({
    gateway: 'gw-reports',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording,
    track: 'cam-1',
  });
  const start = Date.parse(r.start);
  const end = start + r.minutes * 60_000;
  const open = chain.open({
    sealedAt: isoTime(start),
    clock,
    start: isoTime(start),
    continuity: 'continuous',
    case: { id: r.caseId, matter: r.matter, officers: r.officers, room: r.room },
    source: { kind: 'camera', name: 'cam-1', device: null, officer: null },
    startedBy: 'operator-1',
  });
  const close = chain.close({ sealedAt: isoTime(end), clock, end: isoTime(end), reason: 'stopped' });
  await repo.indexBatch(
    [open, close].map((signed) => ({
      signed,
      entry: Entry.parse(signed.entry),
      entryText: canonicalText(signed.entry),
    })),
  );
  return recording;
}

withDatabases(t, async (t, backend) => {
  async function setUp(t: Test) {
    const { db } = await backend.open(t);
    await migrate(db);
    const repo = createRepository(db);
    await run(
      db.pool,
      'officers',
      `INSERT INTO officers (number, name, unit) VALUES
      ('31010001', '王伟', '第一大队'), ('31010002', '李娜', '第二大队'), ('31010003', '张强', '第二大队')`,
    );
    const a = await record(repo, {
      matter: 'interview',
      room: 'room-a',
      officers: ['31010001', '31010002'],
      start: '2025-03-01T02:00:00Z',
      minutes: 90,
      caseId: 'C-1',
    });
    const b = await record(repo, {
      matter: 'interview',
      room: 'room-b',
      officers: ['31010003'],
      start: '2025-07-01T02:00:00Z',
      minutes: 30,
      caseId: 'C-2',
    });
    const c = await record(repo, {
      matter: 'licence',
      room: 'room-a',
      officers: ['31010002'],
      start: '2025-12-31T17:00:00Z',
      minutes: 60,
      caseId: 'C-3',
    });
    return { db, repo, a, b, c };
  }
  const view = (
    db: Database,
    user: string,
    recording: string,
    at: string,
    action: 'view-recording' | 'search' = 'view-recording',
  ) => appendAudit(db, { user, role: 'supervisor', address: null, action, recording }, at);

  t.test(
    'compliance: a mandatory matter with no recording in the period is flagged; optional ones are not listed',
    async (t) => {
      const { db } = await setUp(t);
      const y2025 = yearRange(2025);
      t.same(await complianceReport(db.pool, MATTERS, y2025.from, y2025.to), [
        { matter: 'interview', zh: '询问', en: 'interview', recordings: 2, cases: 2, recorded: true },
        { matter: 'search', zh: '检查', en: 'search', recordings: 0, cases: 0, recorded: false },
      ]);
      const y2024 = yearRange(2024);
      t.same(
        (await complianceReport(db.pool, MATTERS, y2024.from, y2024.to)).map((r) => r.recorded),
        [false, false],
        'a year with no recording: every mandatory matter flagged',
      );
    },
  );

  t.test(
    'own footage: an officer of the recording who viewed it is listed, by credential number or by name',
    async (t) => {
      const { db, repo, a, b } = await setUp(t);
      await addUser(
        repo,
        { username: 'lina', displayName: '李娜', role: 'supervisor', password: 'Lina-passw0rd-2025!' },
        '2025-01-01T00:00:00.000Z',
      );
      await addUser(
        repo,
        { username: 'other', displayName: '赵六', role: 'auditor', password: 'Other-passw0rd-2025!' },
        '2025-01-01T00:00:00.000Z',
      );
      await view(db, '31010001', a, '2025-04-01T00:00:00.000Z'); // officer of a, by number: listed
      await view(db, 'lina', a, '2025-04-02T00:00:00.000Z'); // officer of a, by name: listed
      await view(db, 'lina', b, '2025-04-03T00:00:00.000Z'); // not an officer of b
      await view(db, 'other', a, '2025-04-04T00:00:00.000Z'); // an auditor, not involved
      await view(db, '31010001', a, '2025-04-05T00:00:00.000Z', 'search'); // not a viewing action
      const { from, to } = yearRange(2025);
      const rows = await ownFootageReport(db.pool, from, to);
      t.same(
        rows.map((r) => [r.user, r.officer, r.recording, r.caseId]),
        [
          ['31010001', '31010001', a, 'C-1'],
          ['lina', '31010002', a, 'C-1'],
        ],
      );
    },
  );

  t.test(
    'yearly figures: recordings and hours by unit, matter and room, in local (UTC+8) years',
    async (t) => {
      const { db } = await setUp(t);
      const y = await yearlyReport(db.pool, 2025);
      t.equal(y.recordings, 2, 'the recording started 2025-12-31T17:00Z is in 2026 local time');
      t.equal(y.hours, 2);
      t.same(y.byMatter, [{ key: 'interview', recordings: 2, hours: 2 }]);
      t.same(y.byRoom, [
        { key: 'room-a', recordings: 1, hours: 1.5 },
        { key: 'room-b', recordings: 1, hours: 0.5 },
      ]);
      t.same(y.byUnit, [
        { key: '第一大队', recordings: 1, hours: 1.5 },
        { key: '第二大队', recordings: 2, hours: 2 },
      ]);
      t.same((await yearlyReport(db.pool, 2026)).byMatter, [{ key: 'licence', recordings: 1, hours: 1 }]);
    },
  );

  t.test(
    'the routes answer JSON, and CSV with format=csv; bad input is a 400 and nothing else',
    async (t) => {
      const { db } = await setUp(t);
      const app = Fastify();
      app.setValidatorCompiler(validatorCompiler);
      app.setSerializerCompiler(serializerCompiler);
      registerReportRoutes(app, { db: db.pool, matters: MATTERS, thisYear: () => 2026 });
      t.teardown(() => app.close());
      const yearly = await app.inject({ url: '/api/v1/reports/yearly' });
      t.equal(yearly.json().year, 2025, 'the yearly report defaults to last year');
      const csv = await app.inject({ url: '/api/v1/reports/yearly?year=2025&format=csv' });
      t.match(csv.headers['content-type'], /text\/csv/);
      t.equal(
        csv.body,
        '\uFEFFyear,by,value,recordings,hours\r\n2025,total,,2,2\r\n2025,unit,第一大队,1,1.5\r\n2025,unit,第二大队,2,2\r\n' +
          '2025,matter,interview,2,2\r\n2025,room,room-a,1,1.5\r\n2025,room,room-b,1,0.5\r\n',
      );
      const y2025 = yearRange(2025);
      const compliance = await app.inject({
        url: `/api/v1/reports/compliance?from=${y2025.from}&to=${y2025.to}&format=csv`,
      });
      t.match(compliance.body, /search,检查,search,0,0,false/);
      t.equal((await app.inject({ url: '/api/v1/reports/own-footage?from=yesterday' })).statusCode, 400);
      t.equal((await app.inject({ url: '/api/v1/reports/yearly?year=nineteen' })).statusCode, 400);
    },
  );
});

t.test('CSV fields a spreadsheet would run as formulas are written as text', async (t) => {
  t.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  t.equal(csvField('+86 123'), "'+86 123");
  t.equal(csvField('-1'), "'-1");
  t.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  t.equal(csvField(-1), '-1', 'numbers stay numbers');
  t.equal(csvField('张三, 一队'), '"张三, 一队"');
});
