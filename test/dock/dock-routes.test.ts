import Fastify from 'fastify';
import t from 'tap';
import { registerDockRoutes } from '../../ingest/api/dock-routes.ts';
import { registerErrorHandler } from '../../ingest/api/routes.ts';
import { migrate } from '../../ingest/db/migrations.ts';
import { createRepository } from '../../ingest/db/repository.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import { DeviceChain } from '../../protocol/device-chain.ts';
import { Entry, type SignedEntry } from '../../protocol/entry.ts';
import { isoTime } from '../../protocol/time.ts';
import { CLOCK, T0, testKey } from '../helpers/chains.ts';
import { withDatabases } from '../helpers/databases.ts';

const key = testKey(1);
const at = (ms: number) => isoTime(T0 + ms);
const items = (entries: SignedEntry[]) =>
  entries.map((signed) => ({
    signed,
    entry: Entry.parse(signed.entry),
    entryText: canonicalText(signed.entry),
  }));
const ids = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A device chain of `names` for `officer`, the files modified at `minutes` after T0 (device clock 60 s fast). */
function deviceChain(
  recording: string,
  serial: string,
  officer: string,
  files: [string, number][],
): SignedEntry[] {
  const chain = new DeviceChain({
    gateway: 'gw-t',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording,
    track: `dock-${serial.toLowerCase()}`,
  });
  const stamp = { sealedAt: at(0), clock: CLOCK };
  const out = [
    chain.open({
      ...stamp,
      start: at(0),
      continuity: 'discrete',
      case: null,
      source: { kind: 'bodycam', name: serial, device: serial, officer, clockOffsetMs: 60_000 },
      startedBy: 'dock gw-t',
    }),
  ];
  for (const [name, minutes] of files)
    out.push(
      chain.file({
        ...stamp,
        object: { sha256: Buffer.from(name.padEnd(32, '.')).toString('hex'), size: 10 },
        name,
        modifiedAt: at(minutes * 60_000 + 60_000),
        createdAt: null,
        deviceClockOffsetMs: 60_000,
        container: 'mp4',
        intact: true,
      }),
    );
  return out;
}

withDatabases(t, async (t, backend) => {
  const { db } = await backend.open(t);
  await migrate(db);
  const repo = createRepository(db);
  // A hearing of case C-1 from minute 10 to minute 40 with officers 31010001 and 31010002.
  const room = new TrackChain({
    gateway: 'gw-t',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording: ids(1),
    track: 'cam-1',
  });
  const hearing = [
    room.open({
      sealedAt: at(600_000),
      clock: CLOCK,
      start: at(600_000),
      continuity: 'discrete',
      case: { id: 'C-1', matter: 'hearing', officers: ['31010001', '31010002'], room: 'h1' },
      source: { kind: 'camera', name: 'c', device: null, officer: null },
      startedBy: 'op',
    }),
  ];
  hearing.push(room.close({ sealedAt: at(2_400_000), clock: CLOCK, end: at(2_400_000), reason: 'stopped' }));
  const a = deviceChain(ids(2), 'SN-A', '31010001', [
    ['DCIM/A1.MP4', 5],
    ['DCIM/A2.MP4', 20],
    ['DCIM/A3.MP4', 300],
  ]);
  const b = deviceChain(ids(3), 'SN-B', '31010009', [['DCIM/B1.MP4', 25]]);
  const result = await repo.indexBatch(items([...hearing, ...a, ...b]));
  t.equal(result.inserted.length, hearing.length + a.length + b.length, 'every entry indexed');

  const app = Fastify();
  registerErrorHandler(app);
  registerDockRoutes(app, db);
  t.teardown(() => app.close());
  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() };
  };

  const byOfficer = await call('GET', '/api/v1/dock/footage?officer=31010001');
  t.same(
    byOfficer.body.items.map((i: { name: string }) => i.name),
    ['DCIM/A1.MP4', 'DCIM/A2.MP4', 'DCIM/A3.MP4'],
    'footage by officer, in time order',
  );
  t.equal(
    byOfficer.body.items[0].recordedAt,
    at(5 * 60_000),
    'recorded time corrected by the device clock offset',
  );
  const byDeviceAndTime = await call(
    'GET',
    `/api/v1/dock/footage?device=SN-A&from=${at(10 * 60_000)}&to=${at(60 * 60_000)}`,
  );
  t.same(
    byDeviceAndTime.body.items.map((i: { name: string }) => i.name),
    ['DCIM/A2.MP4'],
    'by device and time',
  );

  const proposal = await call('GET', '/api/v1/dock/proposals?caseId=C-1&marginMinutes=10');
  t.same(
    proposal.body.footage.map((i: { name: string }) => i.name),
    ['DCIM/A1.MP4', 'DCIM/A2.MP4'],
    "the rule proposes the case officers' footage within the window, not other officers' nor later footage",
  );

  const hashes = proposal.body.footage.map((i: { entryHash: string }) => i.entryHash);
  const assigned = await call('POST', '/api/v1/dock/footage/assign', {
    entries: hashes,
    caseId: 'C-1',
    reason: 'proposed by the hearing window',
  });
  t.equal(assigned.status, 200);
  t.equal(assigned.body.changed.length, 2, 'several files assigned at once');
  const inCase = await call('GET', '/api/v1/dock/footage?caseId=C-1');
  t.equal(inCase.body.total, 2, 'found by case');
  t.same(
    (await call('GET', '/api/v1/dock/proposals?caseId=C-1&marginMinutes=10')).body.footage,
    [],
    'assigned footage is no longer proposed',
  );

  const released = await call('POST', '/api/v1/dock/footage/assign', {
    entries: [hashes[0]],
    caseId: null,
    reason: 'wrong case',
  });
  t.equal(released.body.changed[0].previousCaseId, 'C-1');
  const history = await call('GET', `/api/v1/dock/footage/${hashes[0]}/assignments`);
  t.same(
    history.body.assignments.map((h: { caseId: string | null; reason: string }) => [h.caseId, h.reason]),
    [
      ['C-1', 'proposed by the hearing window'],
      [null, 'wrong case'],
    ],
    'every assignment is recorded, in order',
  );

  const unknown = await call('POST', '/api/v1/dock/footage/assign', {
    entries: [hashes[1], 'f'.repeat(64)],
    caseId: 'C-2',
    reason: 'x',
  });
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'INGEST_NOT_FOUND');
  t.equal(
    (await call('GET', '/api/v1/dock/footage?caseId=C-1')).body.total,
    1,
    'a refused batch changes nothing',
  );
  const bad = await call('POST', '/api/v1/dock/footage/assign', { entries: [], caseId: '../x', reason: '' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'INGEST_BAD_REQUEST');

  t.equal((await call('PUT', '/api/v1/dock/devices/SN-A', { officer: '31010001' })).status, 200);
  t.equal((await call('PUT', '/api/v1/dock/devices/SN-B', { officer: '31010009' })).status, 200);
  t.equal((await call('PUT', '/api/v1/dock/devices/SN-B', { officer: null })).status, 200);
  t.same(
    (await call('GET', '/api/v1/dock/assignments')).body.assignments,
    [{ device: 'SN-A', officer: '31010001' }],
    'docks sync the current assignments',
  );
  t.equal(
    (await call('PUT', '/api/v1/dock/devices/..%2Fetc', { officer: 'x' })).status,
    400,
    'a path is no serial',
  );
});
