/** @module The ingest's officer list and case look-up over a real ingest (PGlite, embedded broker): roles, bad bodies, audit. */
import pino from 'pino';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import { bearerHeaders, indexRecording } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

/** The fields these routes answer with. */
type Answer = {
  officers?: unknown;
  syncedAt?: string | null;
  caseId?: string;
  recordings?: number;
  firstSeenAt?: string;
  error?: { code: string };
};

const LIST = [
  { number: '31010001', name: '张警官', unit: '一大队' },
  { number: '31010002', name: '李警官', unit: null },
];

t.test(
  'officer list: admins replace it (audited), everyone signed in reads it, others are refused',
  async (t) => {
    const dir = tmp(t, 'quanlu-reference-');
    const ingest = await startIngest(
      {
        dataDir: dir,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: pino({ level: 'silent' }) },
    );
    t.teardown(() => ingest.close());
    const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${ingest.httpUrl}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Answer };
    };
    const admin = await bearerHeaders(ingest.repo, 'admin');
    const operator = await bearerHeaders(ingest.repo, 'operator', ['interview-1']);

    const empty = await call(operator, 'GET', '/api/v1/officers');
    t.same(empty, { status: 200, body: { officers: [], syncedAt: null } }, 'never imported: empty, no time');
    t.equal((await call({}, 'GET', '/api/v1/officers')).status, 401, 'not signed in: refused');

    const put = await call(admin, 'PUT', '/api/v1/officers', { officers: LIST });
    t.equal(put.status, 200, JSON.stringify(put.body));
    t.equal(put.body.officers, 2);
    const read = await call(operator, 'GET', '/api/v1/officers');
    t.same(read.body.officers, LIST, 'an operator reads the list the admin put');
    t.match(read.body.syncedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const audit = await ingest.repo.searchAudit({ action: 'officers-import', limit: 10, offset: 0 });
    t.equal(audit.total, 1, 'the import is in the audit log');
    t.equal(audit.items[0]!.role, 'admin');
    t.equal(audit.items[0]!.detail, '2 officers');
    t.equal((await ingest.repo.verifyAuditLog()).ok, true, 'the audit chain still verifies');

    for (const role of ['supervisor', 'auditor', 'operator'] as const) {
      const headers = await bearerHeaders(ingest.repo, role, role === 'operator' ? ['interview-1'] : []);
      const refused = await call(headers, 'PUT', '/api/v1/officers', { officers: [LIST[0]] });
      t.equal(refused.status, 403, `${role}: PUT refused`);
      t.equal(refused.body.error?.code, 'INGEST_FORBIDDEN');
    }
    const bad: [string, unknown][] = [
      ['no body', undefined],
      ['not an object', ['31010001']],
      ['a duplicate number', { officers: [LIST[0], { ...LIST[0], name: '另一人' }] }],
      ['a number with a slash', { officers: [{ number: '3101/0001', name: 'x' }] }],
      ['a too short number', { officers: [{ number: '310', name: 'x' }] }],
      ['an empty name', { officers: [{ number: '31010003', name: ' ' }] }],
      ['an unknown field', { officers: [{ number: '31010003', name: 'x', rank: 'chief' }] }],
      ['an extra top-level field', { officers: [], replace: false }],
    ];
    for (const [what, body] of bad) {
      const res = await call(admin, 'PUT', '/api/v1/officers', body);
      t.equal(res.status, 400, `${what}: 400`);
      t.equal(res.body.error?.code, 'INGEST_BAD_REQUEST', `${what}: coded`);
    }
    t.same((await call(admin, 'GET', '/api/v1/officers')).body.officers, LIST, 'refusals changed nothing');
    t.equal((await ingest.repo.searchAudit({ action: 'officers-import', limit: 10, offset: 0 })).total, 1);

    const cleared = await call(admin, 'PUT', '/api/v1/officers', { officers: [] });
    t.equal(cleared.status, 200, 'an empty list is a valid replacement');
    t.same((await call(operator, 'GET', '/api/v1/officers')).body.officers, []);
  },
);

t.test(
  'case look-up: a known case with its recordings, an unknown one 404, path characters 400',
  async (t) => {
    const dir = tmp(t, 'quanlu-reference-case-');
    const ingest = await startIngest(
      {
        dataDir: dir,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: pino({ level: 'silent' }) },
    );
    t.teardown(() => ingest.close());
    const operator = await bearerHeaders(ingest.repo, 'operator', ['interview-1']);
    await indexRecording(ingest.repo, 'interview-1', 'CASE-2026-0007');
    await indexRecording(ingest.repo, 'interview-2', 'CASE-2026-0007');
    const get = async (path: string, headers: Record<string, string> = operator) => {
      const res = await fetch(`${ingest.httpUrl}/api/v1/cases/${path}`, { headers });
      return { status: res.status, body: (await res.json()) as Answer };
    };

    const found = await get('CASE-2026-0007');
    t.equal(found.status, 200);
    t.equal(found.body.caseId, 'CASE-2026-0007');
    t.equal(found.body.recordings, 2, 'both recordings of the case are counted');
    t.match(found.body.firstSeenAt, /^\d{4}-\d\d-\d\dT.*Z$/);
    const unknown = await get('CASE-2026-9999');
    t.equal(unknown.status, 404);
    t.equal(unknown.body.error?.code, 'INGEST_NOT_FOUND');
    for (const path of ['a%2Fb', '%5C..%5Cetc', '..%2F..%2Fetc', 'a%00b', 'x'.repeat(65)]) {
      const res = await get(path);
      t.equal(res.status, 400, `${path}: 400`);
      t.equal(res.body.error?.code, 'INGEST_BAD_REQUEST');
    }
    t.equal((await get('CASE-2026-0007', {})).status, 401, 'not signed in: refused');
  },
);
