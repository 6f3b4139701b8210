/** @module GET /api/v1/ready on a real ingest (PGlite, embedded aedes): ready when database, broker and store answer; 503 naming each that does not. */
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { registerReadyRoute } from '../../ingest/api/routes.ts';
import { startIngest } from '../../ingest/app.ts';
import { openStore } from '../../store/open-store.ts';
import { addTestUser, signIn } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';

t.test('ready is 200 while database, broker and store answer, then 503 naming the broker', async (t) => {
  const dir = tmp(t, 'quanlu-ready-');
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
  const headers = await signIn(ingest.http, await addTestUser(ingest.repo, 'admin'));
  const ready = () => ingest.http.inject({ method: 'GET', url: '/api/v1/ready', headers });

  const ok = await ready();
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { ready: true, checks: { database: 'ok', broker: 'ok', store: 'ok' } });

  await ingest.mqtt.endAsync(true);
  const noBroker = await ready();
  t.equal(noBroker.statusCode, 503, 'a node cut off from the broker is not ready');
  t.equal(noBroker.json().checks.broker, 'not connected to the MQTT broker');
  t.equal(noBroker.json().checks.database, 'ok');
});

t.test(
  'ready is 503 naming the store and the database when they do not answer (real adapters, closed ports)',
  async (t) => {
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    t.teardown(() => app.close());
    const pool = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:9/none',
      connectionTimeoutMillis: 1000,
    });
    t.teardown(() => pool.end());
    const store = openStore({
      kind: 's3',
      endPoint: '127.0.0.1',
      port: 9, // discard: nothing listens on loopback here
      useSSL: false,
      accessKey: 'k',
      secretKey: 's',
      bucket: 'quanlu-test',
    });
    registerReadyRoute(app, {
      database: () => pool.query('SELECT 1'),
      store: () => store.head('0'.repeat(64)),
    });
    const res = await app.inject({ method: 'GET', url: '/api/v1/ready' });
    t.equal(res.statusCode, 503);
    t.not(res.json().checks.database, 'ok', `database: ${res.json().checks.database}`);
    t.not(res.json().checks.store, 'ok', `store: ${res.json().checks.store}`);
    t.equal(res.json().ready, false);
  },
);
