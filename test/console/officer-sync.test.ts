/**
 * @module The console's officer list and case look-up against a real ingest (PGlite, embedded broker): officers
 * imported by the CLI and by PUT are what Start checks; a case is found, new or offline; the cached list serves offline.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { buildProgram } from '../../cli/main.ts';
import { loadOrCreateIdentity } from '../../gateway/identity.ts';
import { startIngest } from '../../ingest/app.ts';
import { drainBacklog } from '../e2e/e2e-support.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { consoleConfig, GOOD_FORM, gatewayWithConsole, quiet } from './console-support.ts';

/** Runs the quanlu program in-process and returns what it printed. */
async function quanlu(...args: string[]): Promise<string> {
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await buildProgram().parseAsync(['node', 'quanlu', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out.join('');
}

type StartAnswer = {
  recording?: { id: string; caseLookup: string };
  error?: { code: string; fields?: Record<string, { code: string; params?: { id?: string } }[]> };
};

t.test(
  'Start checks officers against the list synced from the ingest (CLI and PUT imports), looks the case up, and works offline',
  async (t) => {
    t.setTimeout(240_000);
    const dir = tmp(t, 'quanlu-officer-sync-');
    // The local file lists 31010001–31010003 (console-support); the ingest's lists differ, so which one is used shows.
    const loaded = consoleConfig(`${dir}/gateway`);
    const ingestDir = `${dir}/ingest`;
    const ingestConfig = join(dir, 'ingest.json');
    await writeFile(ingestConfig, JSON.stringify({ dataDir: ingestDir }));
    const officersFile = join(dir, 'officers.yaml');
    await writeFile(
      officersFile,
      "officers:\n  - { id: '31010001', name: 张警官, unit: 一大队 }\n  - { id: '31010002', name: 李警官 }\n  - { id: '31010007', name: 赵警官 }\n",
    );
    // One process owns a PGlite folder at a time: the CLI imports before the ingest starts on it.
    t.match(
      await quanlu('ingest', 'officers', 'import', officersFile, '-c', ingestConfig),
      /imported 3 officers/,
    );
    t.match(await quanlu('ingest', 'officers', 'list', '-c', ingestConfig), /31010007\s+赵警官/);
    await writeFile(join(dir, 'bad.yaml'), "officers:\n  - { id: '31/01', name: x }\n");
    await t.rejects(
      quanlu('ingest', 'officers', 'import', join(dir, 'bad.yaml'), '-c', ingestConfig),
      { code: 'CLI_USAGE' },
      'a file with a bad credential number is refused',
    );
    t.equal(
      (await quanlu('ingest', 'officers', 'list', '-c', ingestConfig)).match(/^3101/gm)?.length,
      3,
      'the refused file changed nothing',
    );

    const identity = loadOrCreateIdentity(loaded.config.gateway.dataDir, loaded.config.gateway.id);
    const ingest = await startIngest(
      {
        dataDir: ingestDir,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        log: { level: 'warn' },
      },
      { log: quiet, autoApprove: [identity.keyPair.publicKey.fingerprint] },
    );
    let ingestUp = true;
    t.teardown(() => (ingestUp ? ingest.close() : undefined));
    const admin = await bearerHeaders(ingest.repo, 'admin');
    // The gateway's token is an operator's: reading the list and looking cases up needs no more.
    const operator = await bearerHeaders(ingest.repo, 'operator', ['interview-1']);
    const tokenFile = join(dir, 'ingest-token');
    await writeFile(tokenFile, operator.authorization.replace('Bearer ', ''), { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    loaded.config.ingest.httpUrl = ingest.httpUrl;
    loaded.config.ingest.tokenFile = tokenFile;

    const withIngest = () =>
      gatewayWithConsole(t, loaded, {
        gateway: { uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } },
        keep: true,
      });
    let first = await gatewayWithConsole(t, loaded, {
      gateway: { uplink: { mqttUrl: ingest.mqttUrl, store: ingest.store } },
      keep: true,
    });
    let sync = first.console.officerSync!;
    t.ok(sync, 'an ingest API url makes an officer sync');
    t.equal(await sync.sync(), true, 'the list is fetched from the ingest');
    let app = first.console.app;
    const officersView = async () =>
      (await app.inject({ url: '/api/v1/officers' })).json() as {
        source: string;
        officers: { id: string }[];
        sync: {
          fetchedAt: string | null;
          ingestSyncedAt: string | null;
          count: number | null;
          error: unknown;
        };
        caseLookup: { available: boolean };
      };
    const view = await officersView();
    t.equal(view.source, 'ingest', 'the synced list is in force, not the local file');
    t.same(
      view.officers.map((o) => o.id),
      ['31010001', '31010002', '31010007'],
    );
    t.equal(view.sync.count, 3);
    t.ok(view.sync.fetchedAt, 'the page can show when the list was last synced');
    t.ok(view.sync.ingestSyncedAt, 'and when it was imported at the ingest');
    t.equal(view.caseLookup.available, true);

    const start = async (form: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/recording/start', payload: form });
      return { status: res.statusCode, body: res.json() as StartAnswer };
    };
    const stop = () =>
      app.inject({ method: 'POST', url: '/api/v1/recording/stop', payload: { confirm: true } });

    // 31010003 is on the local file only: the synced list refuses it, and nothing records.
    const refused = await start({ ...GOOD_FORM, officers: ['31010001', '31010003'] });
    t.equal(refused.status, 400);
    t.equal(refused.body.error?.code, 'GW_RECORDING_ELEMENTS');
    t.same(
      refused.body.error?.fields?.officers?.map((e) => [e.code, e.params?.id]),
      [['unknown', '31010003']],
      'an officer not on the synced list is a field error at officers',
    );
    t.equal(first.gw.recorder.status(), null, 'nothing records');
    t.equal(first.gw.spool.activeRecording(), null, 'nothing is in the spool');

    // An admin replaces the list by PUT; after the next sync it is what Start checks.
    const put = await fetch(`${ingest.httpUrl}/api/v1/officers`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        officers: [
          { number: '31010001', name: '张警官' },
          { number: '31010003', name: '王警官' },
          { number: '31010008', name: '孙警官' },
        ],
      }),
    });
    t.equal(put.status, 200);
    t.equal(await sync.sync(), true);
    const dropped = await start({ ...GOOD_FORM, officers: ['31010001', '31010002'] });
    t.same(
      dropped.body.error?.fields?.officers?.map((e) => [e.code, e.params?.id]),
      [['unknown', '31010002']],
      'an officer the PUT dropped is refused',
    );

    // A case the ingest has never seen: allowed, marked new.
    const form = { ...GOOD_FORM, caseId: 'SYNC-2026-0001', officers: ['31010001', '31010003'] };
    const fresh = await start(form);
    t.equal(fresh.status, 201, JSON.stringify(fresh.body));
    t.equal(fresh.body.recording?.caseLookup, 'new', 'an unknown case at a reachable ingest is new');
    const status = (await app.inject({ url: '/api/v1/recording' })).json() as {
      recording: { caseLookup: string };
    };
    t.equal(status.recording.caseLookup, 'new', 'the status shows the look-up result');
    t.equal((await stop()).statusCode, 200);
    await drainBacklog(first.gw, 60_000);
    const known = await fetch(`${ingest.httpUrl}/api/v1/cases/SYNC-2026-0001`, { headers: operator });
    t.equal(known.status, 200, 'the recording made the case known at the ingest');

    // The same case again: found.
    const again = await start(form);
    t.equal(again.status, 201);
    t.equal(again.body.recording?.caseLookup, 'found', 'a case the ingest knows is found');
    // The gateway restarts mid-recording: the console still shows what the look-up found.
    await first.close();
    first = await withIngest();
    app = first.console.app;
    sync = first.console.officerSync!;
    const resumed = (await app.inject({ url: '/api/v1/recording' })).json() as {
      recording: { id: string; caseLookup: string } | null;
    };
    t.equal(resumed.recording?.id, again.body.recording?.id, 'the same recording runs after the restart');
    t.equal(resumed.recording?.caseLookup, 'found', 'and still shows the case as found');
    t.equal((await stop()).statusCode, 200);
    await drainBacklog(first.gw, 60_000);

    t.equal(await sync.sync(), true, 'the restarted console syncs');
    const lastGood = (await officersView()).sync.fetchedAt;
    // The ingest goes away: the sync fails and says so, the last list stays in force, Start works offline.
    await ingest.close();
    ingestUp = false;
    t.equal(await sync.sync(), false, 'a sync against a stopped ingest fails');
    const down = await officersView();
    t.equal(down.source, 'ingest', 'the last synced list stays in force');
    t.match(down.sync.error, { code: 'GW_OFFICERS_SYNC' }, 'the page can show why the sync failed');
    t.equal(down.sync.fetchedAt, lastGood, 'the last sync time is that of the last successful fetch');
    const stillRefused = await start({ ...GOOD_FORM, officers: ['31010001', '31010002'] });
    t.equal(stillRefused.status, 400, 'the cached list still refuses an officer not on it');
    const offline = await start({ ...form, caseId: 'SYNC-2026-0002' });
    t.equal(offline.status, 201, 'Start works with the ingest unreachable');
    t.equal(offline.body.recording?.caseLookup, 'offline', 'an unreachable ingest: accepted offline');
    t.equal((await stop()).statusCode, 200);
    await first.close();

    // A gateway restarted while the ingest is down uses the copy kept in its data folder.
    const cache = JSON.parse(
      await readFile(join(loaded.config.gateway.dataDir, 'console', 'officers.json'), 'utf8'),
    ) as { officers: { number: string }[] };
    t.same(
      cache.officers.map((o) => o.number),
      ['31010001', '31010003', '31010008'],
      'the last list is kept on disk',
    );
    const second = await gatewayWithConsole(t, loaded);
    const restarted = (await second.console.app.inject({ url: '/api/v1/officers' })).json() as {
      source: string;
      officers: { id: string }[];
    };
    t.equal(restarted.source, 'ingest', 'after a restart with the ingest down, the cached list is in force');
    t.same(
      restarted.officers.map((o) => o.id),
      ['31010001', '31010003', '31010008'],
    );
    const res = await second.console.app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      payload: { ...GOOD_FORM, officers: ['31010001', '31010002'] },
    });
    t.equal(res.statusCode, 400, 'an officer off the cached list is refused after the restart');
    t.equal(second.gw.recorder.status(), null, 'nothing records');
  },
);

t.test(
  'without an ingest API url the local officer file is checked and case ids are accepted offline',
  async (t) => {
    t.setTimeout(120_000);
    const dir = tmp(t, 'quanlu-officer-file-');
    const loaded = consoleConfig(`${dir}/gateway`);
    const { console, gw } = await gatewayWithConsole(t, loaded);
    t.equal(console.officerSync, null);
    const view = (await console.app.inject({ url: '/api/v1/officers' })).json() as {
      source: string;
      sync: unknown;
      caseLookup: { available: boolean };
    };
    t.same([view.source, view.sync, view.caseLookup.available], ['file', null, false]);
    const bad = await console.app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      payload: { ...GOOD_FORM, officers: ['31010001', '31010009'] },
    });
    t.equal(bad.statusCode, 400, 'an officer off the local file is refused');
    t.equal(gw.recorder.status(), null);
    const ok = await console.app.inject({
      method: 'POST',
      url: '/api/v1/recording/start',
      payload: GOOD_FORM,
    });
    t.equal(ok.statusCode, 201);
    t.equal((ok.json() as { recording: { caseLookup: string } }).recording.caseLookup, 'offline');
    await console.app.inject({ method: 'POST', url: '/api/v1/recording/stop', payload: { confirm: true } });
  },
);
