/** @module Each role's allowed and refused routes, one test per rule: a refusal is 401/403 with a code and writes nothing but its audit record. */

import { join } from 'node:path';
import t from 'tap';
import { registerDockRoutes } from '../../ingest/api/dock-routes.ts';
import type { Role } from '../../ingest/auth/roles.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { registerFixityRoutes } from '../../ingest/fixity/fixity-routes.ts';
import { FixitySweep } from '../../ingest/fixity/fixity-sweep.ts';
import { registerReportRoutes } from '../../ingest/reports/report-routes.ts';
import { toBase64Url } from '../../protocol/hash.ts';
import { openStore } from '../../store/open-store.ts';
import {
  addTestUser,
  buildTestApi,
  countRows,
  errorCode,
  indexRecording,
  type SessionHeaders,
  signIn,
  type TestApi,
} from '../helpers/auth.ts';
import { testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';
import { tmp } from '../helpers/recording.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);
  const fixityStore = openStore({ kind: 'fs', root: join(tmp(t, 'quanlu-roles-'), 'objects') });
  const api: TestApi = await buildTestApi(t, db, {
    extra: (app) => {
      registerDockRoutes(app, db);
      const sweep = new FixitySweep({
        db,
        repo: createRepository(db),
        store: fixityStore,
        bytesPerSecond: 1,
      });
      registerFixityRoutes(app, sweep);
      registerReportRoutes(app, { db: db.pool, matters: [] });
    },
  });
  const { app, repo } = api;
  const as: Record<Role, SessionHeaders> = {
    admin: await signIn(app, await addTestUser(repo, 'admin')),
    supervisor: await signIn(app, await addTestUser(repo, 'supervisor')),
    auditor: await signIn(app, await addTestUser(repo, 'auditor')),
    operator: await signIn(app, await addTestUser(repo, 'operator', ['room-a'])),
  };
  const roomA = await indexRecording(repo, 'room-a', 'ROLES-A');
  const roomB = await indexRecording(repo, 'room-b', 'ROLES-B');
  const key = testKey(21).publicKey;
  await repo.upsertEnrollment({
    id: 'gw-roles',
    fingerprint: key.fingerprint,
    publicKey: toBase64Url(key.raw),
    hostname: null,
  });
  const call = (method: Method, url: string, headers: Record<string, string>, payload?: object) =>
    app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  /** Counts of every table a refused request must leave alone (the audit log separately). */
  const state = async () => ({
    users: await countRows(db, 'users'),
    sessions: await countRows(db, 'sessions'),
    tokens: await countRows(db, 'api_tokens'),
    reasons: await countRows(db, 'access_reasons'),
    gateways: (await repo.listGateways()).map((g) => `${g.id}:${g.status}`),
  });
  /** Audit records written since `size`, oldest first. */
  const auditSince = async (size: number) =>
    (await repo.searchAudit({ limit: 500, offset: 0 })).items.filter((r) => r.seq >= size).reverse();

  t.test(
    'every route but sign-in and health refuses a request without credentials: 401, nothing written',
    async (t) => {
      const routes: [Method, string, object?][] = [
        ['GET', '/api/v1/session'],
        ['DELETE', '/api/v1/session'],
        ['GET', '/api/v1/recordings'],
        ['GET', `/api/v1/recordings/${roomA}`],
        ['GET', `/api/v1/recordings/${roomA}/tracks/cam-1/entries`],
        ['GET', `/api/v1/recordings/${roomA}/tracks/cam-1/gaps`],
        ['POST', `/api/v1/recordings/${roomA}/access`, { reason: 'r' }],
        ['GET', '/api/v1/users'],
        ['POST', '/api/v1/users', { username: 'intruder', role: 'admin' }],
        ['PATCH', '/api/v1/users/intruder', { role: 'admin' }],
        ['POST', '/api/v1/users/intruder/tokens'],
        ['GET', '/api/v1/gateways'],
        ['POST', `/api/v1/gateways/${key.fingerprint}/approve`],
        ['POST', `/api/v1/gateways/${key.fingerprint}/revoke`],
        ['GET', '/api/v1/audit'],
        ['GET', '/api/v1/audit/verify'],
        ['GET', '/api/v1/no-such-route'],
      ];
      const before = await state();
      const audit = await repo.auditHead();
      for (const [method, url, payload] of routes) {
        for (const headers of <Record<string, string>[]>[
          {},
          { cookie: 'quanlu_session=forged' },
          { authorization: 'Bearer qlu_forged' },
        ]) {
          const res = await call(method, url, headers, payload);
          t.equal(res.statusCode, 401, `${method} ${url} ${Object.keys(headers)[0] ?? 'bare'}: 401`);
          t.equal(errorCode(res), 'INGEST_UNAUTHENTICATED');
        }
      }
      t.same(await state(), before, 'nothing changed');
      t.same(await repo.auditHead(), audit, 'nothing audited');
      t.equal((await call('GET', '/api/v1/health', {})).statusCode, 200, 'health stays open');
    },
  );

  t.test(
    'only admins manage users: the other roles get 403 INGEST_FORBIDDEN and add or change nothing',
    async (t) => {
      const target = await addTestUser(repo, 'supervisor');
      const before = await state();
      const audit = await repo.auditHead();
      const attempts: [Method, string, object?][] = [
        ['GET', '/api/v1/users'],
        ['POST', '/api/v1/users', { username: 'escalated', role: 'admin', password: 'a-long-password!' }],
        ['PATCH', `/api/v1/users/${target.username}`, { role: 'admin' }],
        ['POST', `/api/v1/users/${target.username}/tokens`],
      ];
      for (const role of ['supervisor', 'auditor', 'operator'] as const)
        for (const [method, url, payload] of attempts) {
          const res = await call(method, url, as[role], payload);
          t.equal(res.statusCode, 403, `${role} ${method} ${url}`);
          t.equal(errorCode(res), 'INGEST_FORBIDDEN');
        }
      t.same(await state(), before, 'no user, role or token changed');
      const written = await auditSince(audit.size);
      t.equal(written.length, 12, 'each refusal is audited');
      t.ok(
        written.every((r) => r.action === 'access-refused'),
        'and nothing else is',
      );
    },
  );

  t.test('admins list, add and change users and issue API tokens, each audited', async (t) => {
    const audit = await repo.auditHead();
    const added = await call('POST', '/api/v1/users', as.admin, {
      username: 'new-operator',
      role: 'operator',
      rooms: ['room-b'],
      displayName: '值班员',
    });
    t.equal(added.statusCode, 201);
    t.match(added.json(), {
      user: { username: 'new-operator', role: 'operator', rooms: ['room-b'] },
      password: String,
    });
    const password = added.json().password as string;
    t.equal(
      (await call('POST', '/api/v1/session', {}, { username: 'new-operator', password })).statusCode,
      200,
    );
    const dup = await call('POST', '/api/v1/users', as.admin, { username: 'new-operator', role: 'auditor' });
    t.equal(dup.statusCode, 409);
    t.equal(errorCode(dup), 'INGEST_USER_EXISTS');
    const changed = await call('PATCH', '/api/v1/users/new-operator', as.admin, {
      rooms: ['room-a', 'room-b'],
    });
    t.equal(changed.statusCode, 200);
    t.same(changed.json().user.rooms, ['room-a', 'room-b']);
    const token = await call('POST', '/api/v1/users/new-operator/tokens', as.admin);
    t.equal(token.statusCode, 201);
    const bearer = { authorization: `Bearer ${token.json().token}` };
    t.equal(
      (await call('GET', '/api/v1/session', bearer)).json().user.username,
      'new-operator',
      'the token works',
    );
    const list = await call('GET', '/api/v1/users', as.admin);
    t.ok(list.json().users.some((u: { username: string }) => u.username === 'new-operator'));
    t.notOk(JSON.stringify(list.json()).includes('hash'), 'no password material is listed');
    const disabled = await call('PATCH', '/api/v1/users/new-operator', as.admin, { disabled: true });
    t.equal(disabled.statusCode, 200);
    t.equal(
      (await call('GET', '/api/v1/session', bearer)).statusCode,
      401,
      "disabling ends the user's tokens",
    );
    const missing = await call('PATCH', '/api/v1/users/nobody-here', as.admin, { disabled: true });
    t.equal(missing.statusCode, 404);
    t.same(
      (await auditSince(audit.size)).map((r) => r.action),
      ['user-add', 'sign-in', 'user-change', 'token-issue', 'user-change'],
    );
  });

  t.test(
    'only admins approve or revoke gateways, through the same decide path as the command line',
    async (t) => {
      const before = await state();
      for (const role of ['supervisor', 'auditor', 'operator'] as const)
        for (const action of ['approve', 'revoke']) {
          const res = await call('POST', `/api/v1/gateways/${key.fingerprint}/${action}`, as[role]);
          t.equal(res.statusCode, 403, `${role} ${action}`);
          t.equal(errorCode(res), 'INGEST_FORBIDDEN');
        }
      t.same(await state(), before, 'the gateway is still pending');
      t.same(api.decisions, [], 'decide was never called');
      const approved = await call('POST', `/api/v1/gateways/${key.fingerprint}/approve`, as.admin);
      t.equal(approved.statusCode, 200);
      t.match(approved.json().gateway, { id: 'gw-roles', status: 'approved' });
      t.equal(api.decisions.length, 1, 'decide was called once');
      t.match(api.decisions[0], { fingerprint: key.fingerprint, decision: 'approved' });
      const unknown = await call('POST', `/api/v1/gateways/${'0'.repeat(64)}/approve`, as.admin);
      t.equal(unknown.statusCode, 404);
      const malformed = await call('POST', '/api/v1/gateways/not-hex/approve', as.admin);
      t.equal(malformed.statusCode, 400);
      t.equal(errorCode(malformed), 'INGEST_BAD_REQUEST');
      const revoked = await call('POST', `/api/v1/gateways/${key.fingerprint}/revoke`, as.admin);
      t.match(revoked.json().gateway, { status: 'revoked' });
      const again = await call('POST', `/api/v1/gateways/${key.fingerprint}/approve`, as.admin);
      t.equal(again.statusCode, 409, 'a revoked key cannot be approved again');
      t.equal(errorCode(again), 'INGEST_GATEWAY_REVOKED');
      const actions = (await repo.searchAudit({ limit: 5, offset: 0 })).items.map((r) => r.action);
      t.ok(
        actions.includes('gateway-approve') && actions.includes('gateway-revoke'),
        'decisions are audited',
      );
    },
  );

  t.test('the gateway list is for admins and auditors', async (t) => {
    for (const role of ['admin', 'auditor'] as const)
      t.equal((await call('GET', '/api/v1/gateways', as[role])).statusCode, 200, role);
    for (const role of ['supervisor', 'operator'] as const) {
      const res = await call('GET', '/api/v1/gateways', as[role]);
      t.equal(res.statusCode, 403, role);
      t.equal(errorCode(res), 'INGEST_FORBIDDEN');
    }
  });

  t.test('only supervisors and admins bind body-worn devices and assign footage to cases', async (t) => {
    const unknownEntry = 'ab'.repeat(32);
    const bind = (role: Role) =>
      call('PUT', '/api/v1/dock/devices/SN-ROLES-1', { ...as[role] }, { officer: '31010001' });
    const assign = (role: Role) =>
      call(
        'POST',
        '/api/v1/dock/footage/assign',
        { ...as[role] },
        { entries: [unknownEntry], caseId: 'ROLES-A', reason: 'roles test' },
      );
    const dockState = async () => ({
      devices: await countRows(db, 'device_assignments'),
      footage: await countRows(db, 'footage_assignments'),
    });
    for (const role of ['auditor', 'operator'] as const) {
      const before = { ...(await state()), ...(await dockState()) };
      for (const res of [await bind(role), await assign(role)]) {
        t.equal(res.statusCode, 403, role);
        t.equal(errorCode(res), 'INGEST_FORBIDDEN');
      }
      t.same({ ...(await state()), ...(await dockState()) }, before, `${role}: nothing changed`);
    }
    for (const role of ['admin', 'supervisor'] as const) {
      const before = await dockState();
      t.equal((await bind(role)).statusCode, 200, `${role} binds a device`);
      t.equal((await dockState()).devices, before.devices + 1, `${role}: the binding is recorded`);
      const res = await assign(role);
      t.equal(res.statusCode, 404, `${role} reaches the assignment, which names no known footage`);
      t.equal(errorCode(res), 'INGEST_NOT_FOUND');
    }
    t.equal(
      (await call('GET', '/api/v1/dock/assignments', as.operator)).statusCode,
      200,
      'docks read bindings',
    );
  });

  t.test('body-worn footage of every room is not for operators', async (t) => {
    const urls = [
      '/api/v1/dock/footage',
      `/api/v1/dock/footage/${'cd'.repeat(32)}/assignments`,
      '/api/v1/dock/proposals?caseId=ROLES-A',
    ];
    for (const url of urls) {
      const refused = await call('GET', url, as.operator);
      t.equal(refused.statusCode, 403, `operator: ${url}`);
      t.equal(errorCode(refused), 'INGEST_FORBIDDEN');
      for (const role of ['admin', 'supervisor', 'auditor'] as const)
        t.equal((await call('GET', url, as[role])).statusCode, 200, `${role}: ${url}`);
    }
  });

  t.test('the fixity status is for auditors and admins', async (t) => {
    for (const role of ['admin', 'auditor'] as const) {
      const res = await call('GET', '/api/v1/fixity', as[role]);
      t.equal(res.statusCode, 200, role);
      t.match(res.json(), { objectsIndexed: Number, recentFailures: Array }, `${role} sees the sweep`);
    }
    for (const role of ['supervisor', 'operator'] as const) {
      const res = await call('GET', '/api/v1/fixity', as[role]);
      t.equal(res.statusCode, 403, role);
      t.equal(errorCode(res), 'INGEST_FORBIDDEN');
    }
  });

  t.test('the reports are for auditors, supervisors and admins, not operators', async (t) => {
    for (const url of ['compliance', 'own-footage', 'yearly'].map((r) => `/api/v1/reports/${r}`)) {
      for (const role of ['admin', 'supervisor', 'auditor'] as const)
        t.equal((await call('GET', url, as[role])).statusCode, 200, `${role}: ${url}`);
      const res = await call('GET', url, as.operator);
      t.equal(res.statusCode, 403, `operator: ${url}`);
      t.equal(errorCode(res), 'INGEST_FORBIDDEN');
    }
  });

  t.test('the audit log is for auditors and admins', async (t) => {
    for (const role of ['admin', 'auditor'] as const) {
      t.equal((await call('GET', '/api/v1/audit', as[role])).statusCode, 200, role);
      t.equal((await call('GET', '/api/v1/audit/verify', as[role])).json().ok, true, `${role}: verify`);
    }
    for (const role of ['supervisor', 'operator'] as const) {
      const res = await call('GET', '/api/v1/audit', as[role]);
      t.equal(res.statusCode, 403, role);
      t.equal(errorCode(res), 'INGEST_FORBIDDEN');
      const head = await app.inject({ method: 'HEAD', url: '/api/v1/audit', headers: as[role] });
      t.equal(head.statusCode, 403, `${role}: HEAD, answered by the GET handler, is refused too`);
    }
  });

  t.test(
    'operators find only recordings of their rooms; supervisors, auditors and admins find every room',
    async (t) => {
      const find = async (role: Role, query = '') => {
        const res = await call('GET', `/api/v1/recordings?limit=500${query}`, as[role]);
        t.equal(res.statusCode, 200);
        return (res.json().recordings as { id: string }[]).map((r) => r.id);
      };
      const mine = await find('operator');
      t.ok(mine.includes(roomA), 'an operator finds its room');
      t.notOk(mine.includes(roomB), 'and not another room');
      t.same(await find('operator', '&room=room-b'), [], 'even when asking for that room by name');
      t.same(await find('operator', '&caseId=ROLES-B'), [], 'or by its case');
      for (const role of ['supervisor', 'auditor', 'admin'] as const) {
        const all = await find(role);
        t.ok(all.includes(roomA) && all.includes(roomB), `${role} finds both rooms`);
      }
    },
  );

  t.test(
    "an operator opening another room's recording gets 403, and only the refusal is audited",
    async (t) => {
      const before = await state();
      const audit = await repo.auditHead();
      for (const url of [
        `/api/v1/recordings/${roomB}`,
        `/api/v1/recordings/${roomB}/tracks/cam-1/entries`,
        `/api/v1/recordings/${roomB}/tracks/cam-1/gaps`,
      ]) {
        const res = await call('GET', url, as.operator);
        t.equal(res.statusCode, 403, url);
        t.equal(errorCode(res), 'INGEST_FORBIDDEN');
      }
      const reason = await call('POST', `/api/v1/recordings/${roomB}/access`, as.operator, {
        reason: 'curious',
      });
      t.equal(reason.statusCode, 403, 'nor can it give a reason for it');
      t.same(await state(), before, 'no reason stored');
      const written = await auditSince(audit.size);
      t.same(
        written.map((r) => [r.action, r.recording]),
        Array.from({ length: 4 }, () => ['access-refused', roomB]),
      );
    },
  );

  t.test('each role opens the recordings it may see, and each view is audited', async (t) => {
    const audit = await repo.auditHead();
    const allowed: [Role, string][] = [
      ['operator', roomA],
      ['supervisor', roomB],
      ['auditor', roomB],
      ['admin', roomA],
    ];
    for (const [role, id] of allowed) {
      const res = await call('GET', `/api/v1/recordings/${id}`, as[role]);
      t.equal(res.statusCode, 200, `${role} opens ${id}`);
      t.equal(res.json().id, id);
    }
    const written = await auditSince(audit.size);
    t.same(
      written.map((r) => [r.action, r.role, r.recording]),
      allowed.map(([role, id]) => ['view-recording', role, id]),
    );
  });
});
