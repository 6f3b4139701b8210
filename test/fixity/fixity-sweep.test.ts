import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { searchAudit } from '../../ingest/db/audit-store.ts';
import type { ExportDeps } from '../../ingest/export/export-case.ts';
import { registerFixityRoutes } from '../../ingest/fixity/fixity-routes.ts';
import { type FixityAlarm, FixitySweep } from '../../ingest/fixity/fixity-sweep.ts';
import { CASE_RECORDING, syntheticCase } from '../export/export-support.ts';

const log = pino({ level: 'silent' });
const of = (d: ExportDeps) => ({ db: d.db, repo: d.repo, store: d.store, log });

for (const backend of ['fs', 's3'] as const)
  t.test(
    `${backend}: a bit flipped directly in the object store is found within one pass: alarm, metric, track broken`,
    async (t) => {
      const { deps, chains, fileOf } = await syntheticCase(t, backend);
      const registry = new Registry();
      const sweep = new FixitySweep({ ...of(deps), bytesPerSecond: 1 << 30, registry });
      const clean = await sweep.runPass();
      t.equal(clean?.mismatches, 0, 'an intact store passes');
      const objects = [...chains[1]!.objects.keys()];
      t.equal(
        clean?.objects,
        chains.reduce((n, c) => n + c.objects.size, 0),
        'every indexed object was re-hashed',
      );

      // Someone with access to the disk flips one bit of one object.
      const victim = objects[1]!;
      const path = fileOf(victim);
      chmodSync(path, 0o600);
      const bytes = readFileSync(path);
      bytes[5] = bytes[5]! ^ 0x10;
      writeFileSync(path, bytes);

      const alarms: FixityAlarm[] = [];
      sweep.on('alarm', (a) => alarms.push(a));
      const pass = await sweep.runPass();
      t.equal(pass?.mismatches, 1, 'the next pass finds exactly one mismatch');
      t.equal(alarms.length, 1);
      t.equal(alarms[0]!.sha256, victim);
      t.same(
        alarms[0]!.tracks,
        [{ recording: CASE_RECORDING, track: 'cam-2' }],
        'the track holding it is named',
      );
      const recording = await deps.repo.recording(CASE_RECORDING);
      const broken = recording!.tracks.find((x) => x.track === 'cam-2')!;
      t.equal(broken.status, 'broken', 'the track is marked broken');
      t.equal(broken.brokenCode, 'INGEST_FIXITY_MISMATCH');
      t.match(broken.brokenReason, victim, 'the reason names the object');
      t.equal(
        recording!.tracks.find((x) => x.track === 'cam-1')!.status,
        'closed',
        'the other track is untouched',
      );
      const audited = await searchAudit(deps.db.pool, { action: 'fixity-alarm', limit: 10, offset: 0 });
      t.equal(audited.total, 1, 'one fixity-alarm record in the audit log');
      t.match(audited.items[0], {
        user: 'system',
        action: 'fixity-alarm',
        recording: CASE_RECORDING,
        track: 'cam-2',
        detail: new RegExp(victim),
      });

      const metrics = await registry.metrics();
      t.match(metrics, /quanlu_fixity_mismatches_total 1\b/, 'the mismatch is counted in /metrics');
      t.match(
        metrics,
        /quanlu_fixity_last_full_pass_timestamp_seconds \d+/,
        'the last full pass is in /metrics',
      );
      t.match(metrics, /quanlu_fixity_pass_progress_ratio 1\b/);

      const app = Fastify();
      registerFixityRoutes(app, sweep);
      const res = await app.inject({ method: 'GET', url: '/api/v1/fixity' });
      const status = res.json() as {
        lastFullPassAt: string;
        lastPassMismatches: number;
        recentFailures: { sha256: string }[];
      };
      t.equal(res.statusCode, 200);
      t.equal(status.lastPassMismatches, 1);
      t.ok(status.lastFullPassAt, 'the API shows the last full pass');
      t.equal(status.recentFailures[0]?.sha256, victim, 'and the failure');
      await app.close();
    },
  );

t.test(
  'the sweep keeps to its rate: the waits it asks for add up to bytes / rate (injected clock)',
  async (t) => {
    const { deps, chains } = await syntheticCase(t);
    let now = Date.UTC(2026, 10, 27, 3, 0, 0);
    let waited = 0;
    const rate = 1000; // bytes per second
    const sweep = new FixitySweep({
      ...of(deps),
      bytesPerSecond: rate,
      clock: { now: () => now },
      wait: async (ms) => {
        waited += ms;
        now += ms;
      },
    });
    const pass = await sweep.runPass();
    const bytes = chains.reduce((n, c) => n + [...c.objects.values()].reduce((m, b) => m + b.length, 0), 0);
    t.equal(pass?.bytes, bytes);
    t.ok(
      Math.abs(waited - (bytes / rate) * 1000) < 1,
      `waited ${waited} ms for ${bytes} bytes at ${rate} B/s`,
    );
  },
);

t.test('an object missing from the store raises the alarm too', async (t) => {
  const { deps, chains, fileOf } = await syntheticCase(t);
  const victim = [...chains[0]!.objects.keys()][0]!;
  rmSync(fileOf(victim));
  const sweep = new FixitySweep({ ...of(deps), bytesPerSecond: 1 << 30 });
  const alarms: FixityAlarm[] = [];
  sweep.on('alarm', (a) => alarms.push(a));
  await sweep.runPass();
  t.equal(alarms.length, 1);
  t.match(alarms[0]!.reason, /missing/);
  const audited = await searchAudit(deps.db.pool, { action: 'fixity-alarm', limit: 10, offset: 0 });
  t.match(
    audited.items,
    [{ user: 'system', recording: CASE_RECORDING, track: 'cam-1', detail: /missing from the store/ }],
    'the missing object is in the audit log as a fixity-alarm of its track',
  );
});
