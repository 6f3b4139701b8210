/** @module The OpenAPI document of a real ingest: generated from the routes' zod schemas, with their parameters and bodies. */
import pino from 'pino';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: {
    content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }>;
  };
  responses?: Record<string, unknown>;
}

t.test('GET /api/v1/openapi.json lists the routes with their parameters, bodies and responses', async (t) => {
  const dir = tmp(t, 'quanlu-openapi-');
  const ingest = await startIngest(
    {
      dataDir: dir,
      mqtt: { kind: 'embedded', port: 0 },
      http: { port: 0 },
      tls: PLAINTEXT,
      log: { level: 'error' },
    },
    { log: pino({ level: 'silent' }) },
  );
  t.teardown(() => ingest.close());
  const headers = await bearerHeaders(ingest.repo, 'auditor');

  const anonymous = await fetch(`${ingest.httpUrl}/api/v1/openapi.json`);
  t.equal(anonymous.status, 401, 'the document too is behind sign-in');
  const res = await fetch(`${ingest.httpUrl}/api/v1/openapi.json`, { headers });
  t.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, Operation>> };
  t.match(doc.openapi, /^3\./);
  const op = (path: string, method: string): Operation => {
    const found = doc.paths[path]?.[method];
    t.ok(found, `${method.toUpperCase()} ${path} is listed`);
    return found ?? {};
  };
  const names = (o: Operation, where: string) =>
    (o.parameters ?? [])
      .filter((p) => p.in === where)
      .map((p) => p.name)
      .sort();

  t.same(
    names(op('/api/v1/recordings', 'get'), 'query'),
    ['caseId', 'from', 'gateway', 'limit', 'matter', 'officer', 'offset', 'room', 'to'],
    'the search parameters',
  );
  t.same(names(op('/api/v1/recordings/{id}', 'get'), 'path'), ['id']);
  t.same(names(op('/api/v1/recordings/{id}/tracks/{track}/entries', 'get'), 'path'), ['id', 'track']);
  t.same(names(op('/api/v1/recordings/{id}/tracks/{track}/entries', 'get'), 'query'), ['afterSeq', 'limit']);
  t.same(names(op('/api/v1/recordings/{id}/tracks/{track}/gaps', 'get'), 'path'), ['id', 'track']);
  const signIn = op('/api/v1/session', 'post').requestBody?.content['application/json']?.schema;
  t.same(signIn?.required?.sort(), ['password', 'username'], 'the sign-in body');
  t.ok(op('/api/v1/session', 'get').responses?.['200'], 'the session response is described');
  op('/api/v1/session', 'delete');
  t.same(names(op('/api/v1/recordings/{id}/access', 'post'), 'path'), ['id']);
  t.ok(op('/api/v1/recordings/{id}/access', 'post').requestBody, 'the reason body');
  op('/api/v1/users', 'get');
  const addUser = op('/api/v1/users', 'post').requestBody?.content['application/json']?.schema;
  t.same(Object.keys(addUser?.properties ?? {}).sort(), [
    'displayName',
    'password',
    'role',
    'rooms',
    'username',
  ]);
  t.same(names(op('/api/v1/users/{username}', 'patch'), 'path'), ['username']);
  t.same(names(op('/api/v1/users/{username}/tokens', 'post'), 'path'), ['username']);
  t.same(names(op('/api/v1/gateways/{fingerprint}/approve', 'post'), 'path'), ['fingerprint']);
  t.same(names(op('/api/v1/gateways/{fingerprint}/revoke', 'post'), 'path'), ['fingerprint']);
  op('/api/v1/gateways', 'get');
  t.same(
    names(op('/api/v1/audit', 'get'), 'query'),
    ['action', 'from', 'limit', 'offset', 'recording', 'to', 'user'],
    'the audit filters',
  );
  op('/api/v1/audit/verify', 'get');
  op('/api/v1/health', 'get');
  t.notOk(doc.paths['/api/v1/openapi.json'], 'the document does not list itself');

  const bad = await fetch(`${ingest.httpUrl}/api/v1/recordings?caseId=..%2Fetc`, { headers });
  t.equal(bad.status, 400, 'schema validation keeps the coded 400');
  t.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INGEST_BAD_REQUEST');
  const extra = await fetch(`${ingest.httpUrl}/api/v1/recordings?nonsense=1`, { headers });
  t.equal(extra.status, 400, 'an unknown parameter is refused, as before');
});
