import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { loadMigrations, migrate } from '../../ingest/db/migrations.ts';
import type { Database } from '../../ingest/db/open-database.ts';
import { createRepository, type IndexedEntry, type Repository } from '../../ingest/db/repository.ts';
import { IngestError } from '../../ingest/errors.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { segmentRoot, TrackChain } from '../../protocol/chain.ts';
import { type CaseElements, Entry, type SignedEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';
import { withDatabases } from '../helpers/databases.ts';

const T0 = Date.UTC(2026, 10, 27, 1, 0, 0);
const CLOCK = { offsetMs: 0, rttMs: null, source: 'none' };
const SEGMENT_MS = 4000;
const KEY = generateKeyPair();

/** A track being recorded: its chain, its entries so far and its media clock. */
interface Track {
  chain: TrackChain;
  signed: SignedEntry[];
  objects: string[];
  at: number;
}

function openTrack(opts: {
  recording: string;
  track: string;
  case?: CaseElements | null;
  start?: number;
  gateway?: string;
  key?: KeyPair;
}): Track {
  const key = opts.key ?? KEY;
  const chain = new TrackChain({
    gateway: opts.gateway ?? 'gw-db-test',
    keyFingerprint: key.publicKey.fingerprint,
    privateKey: key.privateKey,
    recording: opts.recording,
    track: opts.track,
  });
  const start = opts.start ?? T0;
  const open = chain.open({
    sealedAt: isoTime(start),
    clock: CLOCK,
    start: isoTime(start),
    continuity: 'continuous',
    case:
      opts.case === undefined
        ? { id: 'DB-2026-0001', matter: '行政处罚听证', officers: ['31010001'], room: 'hearing-1' }
        : opts.case,
    source: { kind: 'camera', name: opts.track, device: null, officer: null },
    startedBy: 'operator-1',
  });
  return { chain, signed: [open], objects: [], at: start };
}

function segment(track: Track, tag = ''): SignedEntry {
  const bytes = Buffer.from(`${track.signed[0]!.hash}/${track.signed.length}${tag}`);
  const sha256 = sha256Hex(bytes);
  const signed = track.chain.segment({
    sealedAt: isoTime(track.at + SEGMENT_MS),
    clock: CLOCK,
    object: { sha256, size: bytes.length },
    start: isoTime(track.at),
    durationMs: SEGMENT_MS,
    container: 'mpegts',
    name: null,
  });
  track.at += SEGMENT_MS;
  track.objects.push(sha256);
  track.signed.push(signed);
  return signed;
}

function gap(track: Track, ms: number): SignedEntry {
  const signed = track.chain.gap({
    sealedAt: isoTime(track.at + ms),
    clock: CLOCK,
    from: isoTime(track.at),
    to: isoTime(track.at + ms),
    reason: 'source-lost',
    detail: 'camera unreachable',
  });
  track.at += ms;
  track.signed.push(signed);
  return signed;
}

function close(track: Track): SignedEntry {
  const signed = track.chain.close({
    sealedAt: isoTime(track.at),
    clock: CLOCK,
    end: isoTime(track.at),
    reason: 'stopped',
  });
  track.signed.push(signed);
  return signed;
}

/** A whole track: open, `segments` segments, then close unless told otherwise. */
function wholeTrack(opts: Parameters<typeof openTrack>[0] & { segments: number; closed?: boolean }): Track {
  const track = openTrack(opts);
  for (let i = 0; i < opts.segments; i++) segment(track);
  if (opts.closed !== false) close(track);
  return track;
}

/** What the consumer hands to indexBatch once an entry is verified. */
function indexed(signed: SignedEntry): IndexedEntry {
  const entry = Entry.parse(signed.entry);
  return {
    signed,
    entry,
    entryText: canonicalText(signed.entry),
    ...(entry.kind === 'segment'
      ? { object: { sha256: entry.object.sha256, size: entry.object.size, verifiedHow: 'rehash' as const } }
      : {}),
  };
}

const batch = (...signed: SignedEntry[]) => signed.map(indexed);
const hashes = (signed: SignedEntry[]) => signed.map((s) => s.hash);

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const res = await db.pool.query<{ n: string }>(sql, params);
  return Number(res.rows[0]!.n);
}

async function rejectsCode(t: Test, p: Promise<unknown>, code: string, name: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof IngestError, `${name}: an IngestError`);
  t.equal((err as IngestError | null)?.code, code, name);
}

withDatabases(t, async (t, backend) => {
  t.test(
    'migrations: concurrent migrators apply each migration once; running again is a no-op',
    async (t) => {
      const { db, peer } = await backend.open(t);
      const other = await peer();
      const shipped = await loadMigrations();
      const [a, b] = await Promise.all([migrate(db), migrate(other)]);
      t.same(
        [...a.applied, ...b.applied].sort(),
        shipped.map((m) => m.name),
        'together the two runs applied every migration exactly once',
      );
      t.equal(a.version, shipped.length);
      t.equal(b.version, shipped.length);
      t.equal(await count(db, 'SELECT count(*) AS n FROM schema_migrations'), shipped.length);
      const again = await migrate(db);
      t.same(again, { applied: [], version: shipped.length }, 'a second run applies nothing');
      t.equal(await count(db, 'SELECT count(*) AS n FROM schema_migrations'), shipped.length);
    },
  );

  t.test('migration 007 keeps the keys already revoked in its history', async (t) => {
    const { db } = await backend.open(t);
    const shipped = await loadMigrations();
    await migrate(
      db,
      shipped.filter((m) => m.version < 7),
    );
    const key = generateKeyPair();
    await db.pool.query(
      `INSERT INTO gateways (id, fingerprint, public_key, status, requested_at, decided_at, decided_by)
       VALUES ('gw-old-revoked', $1, $2, 'revoked', now(), now(), 'admin')`,
      [key.publicKey.fingerprint, key.publicKeyText],
    );
    await migrate(db);
    t.same((await db.pool.query('SELECT gateway, fingerprint, reason FROM revoked_keys')).rows, [
      { gateway: 'gw-old-revoked', fingerprint: key.publicKey.fingerprint, reason: 'revoked' },
    ]);
  });

  const shared = await backend.open(t);
  const db = shared.db;
  await migrate(db);
  const repo: Repository = createRepository(db);
  // A second ingest node over the same data (on PGlite the same pool: one process owns the folder).
  const node2: Repository = createRepository(await shared.peer());

  t.test('migrations: a shipped migration edited after it was applied is refused', async (t) => {
    const shipped = await loadMigrations();
    const edited = shipped.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
    await rejectsCode(t, migrate(db, edited), 'INGEST_MIGRATION', 'edited migration');
    const failing = {
      version: shipped.length + 1,
      name: `${String(shipped.length + 1).padStart(3, '0')}-failing`,
      sql: 'CREATE TABLE half_done (a int); SELECT no_such_column FROM half_done;',
      checksum: '0'.repeat(64),
    };
    await rejectsCode(t, migrate(db, [...shipped, failing]), 'INGEST_MIGRATION', 'a failing migration');
    t.equal(
      await count(db, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'half_done'"),
      0,
      'a failing migration leaves nothing behind',
    );
    t.same(await migrate(db), { applied: [], version: shipped.length }, 'and the schema still works');
  });

  t.test(
    'enrollment: new ids are pending, repeats change nothing, another key needs a revocation',
    async (t) => {
      const first = generateKeyPair();
      const second = generateKeyPair();
      const request = (key: KeyPair, id = 'gw-enroll-1') => ({
        id,
        fingerprint: key.publicKey.fingerprint,
        publicKey: key.publicKeyText,
        hostname: 'room-1.local',
      });
      t.equal(await repo.gatewayById('gw-enroll-1'), null, 'unknown before enrollment');
      const created = await repo.upsertEnrollment(request(first));
      t.match(created, { id: 'gw-enroll-1', status: 'pending', fingerprint: first.publicKey.fingerprint });
      t.same(await repo.upsertEnrollment(request(first)), created, 'the same key again: unchanged');
      await rejectsCode(
        t,
        repo.upsertEnrollment(request(second)),
        'INGEST_ENROLL_INVALID',
        'another key while pending',
      );
      await rejectsCode(
        t,
        repo.upsertEnrollment(request(first, 'gw-enroll-2')),
        'INGEST_ENROLL_INVALID',
        'the same key under another id',
      );
      await rejectsCode(
        t,
        repo.upsertEnrollment({
          ...request(first, 'gw-enroll-3'),
          fingerprint: second.publicKey.fingerprint,
        }),
        'INGEST_ENROLL_INVALID',
        'a fingerprint that is not the key’s',
      );

      const approved = await repo.decideGateway(first.publicKey.fingerprint, 'approved', 'admin-1');
      t.match(approved, { status: 'approved', decidedBy: 'admin-1' });
      t.ok(approved?.decidedAt, 'decision time recorded');
      await rejectsCode(
        t,
        repo.upsertEnrollment(request(second)),
        'INGEST_ENROLL_INVALID',
        'another key while approved',
      );
      t.equal(
        await repo.decideGateway(second.publicKey.fingerprint, 'approved', 'admin-1'),
        null,
        'unknown key',
      );

      const revoked = await repo.decideGateway(first.publicKey.fingerprint, 'revoked', 'admin-2');
      t.match(revoked, { status: 'revoked', decidedBy: 'admin-2' });
      t.same(
        await repo.decideGateway(first.publicKey.fingerprint, 'revoked', 'admin-3'),
        revoked,
        'revoking again keeps the first revocation',
      );
      await rejectsCode(
        t,
        repo.decideGateway(first.publicKey.fingerprint, 'approved', 'admin-1'),
        'INGEST_GATEWAY_REVOKED',
        'a revoked key cannot be approved again',
      );

      t.same(
        await repo.upsertEnrollment(request(first)),
        revoked,
        'the revoked gateway repeating its request with its revoked key: told where it stands, unchanged',
      );
      t.same(
        await repo.revokedKeys(),
        [{ gateway: 'gw-enroll-1', fingerprint: first.publicKey.fingerprint }],
        'the revoked key is in the history (once)',
      );

      const rekeyed = await repo.upsertEnrollment(request(second));
      t.match(rekeyed, {
        id: 'gw-enroll-1',
        status: 'pending',
        fingerprint: second.publicKey.fingerprint,
        publicKey: second.publicKeyText,
        decidedAt: null,
        decidedBy: null,
      });
      t.same(await repo.gatewayById('gw-enroll-1'), rekeyed);
      t.ok(
        (await repo.listGateways()).some((g) => g.id === 'gw-enroll-1' && g.status === 'pending'),
        'listed',
      );
      await repo.decideGateway(second.publicKey.fingerprint, 'approved', 'admin-1');
      t.same(
        await repo.revokedKeys(),
        [{ gateway: 'gw-enroll-1', fingerprint: first.publicKey.fingerprint }],
        're-enrolled with a new key and approved: the old key is still revoked (the Mosquitto CRL keeps naming it)',
      );
      await rejectsCode(
        t,
        repo.upsertEnrollment(request(first, 'gw-enroll-4')),
        'INGEST_ENROLL_INVALID',
        'a revoked key under a new id',
      );
      await rejectsCode(
        t,
        repo.upsertEnrollment(request(generateKeyPair(), 'ingest')),
        'INGEST_GATEWAY_ID_RESERVED',
        "the ingest's own MQTT user as a gateway id",
      );
      t.equal(await repo.gatewayById('ingest'), null, 'nothing recorded under it');
    },
  );

  t.test(
    'a re-key that replaces a key outside a revocation keeps it too (written by the re-key)',
    async (t) => {
      const old = generateKeyPair();
      const next = generateKeyPair();
      const request = (key: KeyPair) => ({
        id: 'gw-rekey-history',
        fingerprint: key.publicKey.fingerprint,
        publicKey: key.publicKeyText,
        hostname: null,
      });
      await repo.upsertEnrollment(request(old));
      await repo.decideGateway(old.publicKey.fingerprint, 'revoked', 'admin-1');
      // As on a database revoked before migration 007 had it written: only the re-key can keep the key.
      await db.pool.query('DELETE FROM revoked_keys WHERE gateway = $1', ['gw-rekey-history']);
      await repo.upsertEnrollment(request(next));
      await repo.decideGateway(next.publicKey.fingerprint, 'approved', 'admin-1');
      const rows = await db.pool.query('SELECT fingerprint, reason FROM revoked_keys WHERE gateway = $1', [
        'gw-rekey-history',
      ]);
      t.same(rows.rows, [{ fingerprint: old.publicKey.fingerprint, reason: 'replaced' }]);
      t.ok(
        (await repo.revokedKeys()).some(
          (k) => k.gateway === 'gw-rekey-history' && k.fingerprint === old.publicKey.fingerprint,
        ),
        'listed as revoked',
      );
    },
  );

  t.test('indexBatch: the same batch twice inserts nothing the second time', async (t) => {
    const recording = randomUUID();
    const a = wholeTrack({ recording, track: 'cam-1', segments: 3 });
    const b = wholeTrack({ recording, track: 'cam-2', segments: 2 });
    // Interleaved as they would arrive from two cameras: seq order per track only.
    const all = [
      a.signed[0]!,
      b.signed[0]!,
      ...a.signed.slice(1, 3),
      ...b.signed.slice(1),
      ...a.signed.slice(3),
    ];
    const first = await repo.indexBatch(batch(...all));
    t.same(first, { inserted: hashes(all), present: [], forks: [], unlinked: [] }, 'all new');
    const second = await repo.indexBatch(batch(...all));
    t.same(second, { inserted: [], present: hashes(all), forks: [], unlinked: [] }, 'all present');
    t.equal(
      await count(db, 'SELECT count(*) AS n FROM entries WHERE recording = $1', [recording]),
      all.length,
    );
    const order = await db.pool.query<{ hash: string }>(
      'SELECT hash FROM entries WHERE recording = $1 ORDER BY log_index',
      [recording],
    );
    t.same(
      order.rows.map((r) => r.hash),
      hashes(all),
      'log_index follows the order of acceptance',
    );
    const rec = await repo.recording(recording);
    t.same(
      rec?.tracks.map((tr) => [tr.track, tr.segments]),
      [
        ['cam-1', 3],
        ['cam-2', 2],
      ],
      'totals counted once',
    );
  });

  t.test('indexBatch: a fork is reported and the rest of the batch is indexed', async (t) => {
    const recording = randomUUID();
    const a = openTrack({ recording, track: 'cam-1' });
    segment(a);
    segment(a);
    await repo.indexBatch(batch(...a.signed));
    // Another chain with the same identity and the same first two entries: a fork at seq 2.
    const forked: Track = {
      chain: new TrackChain(
        {
          gateway: 'gw-db-test',
          keyFingerprint: KEY.publicKey.fingerprint,
          privateKey: KEY.privateKey,
          recording,
          track: 'cam-1',
        },
        TrackChain.stateOf(a.signed.slice(0, 2)),
      ),
      signed: a.signed.slice(0, 2),
      objects: [],
      at: a.at,
    };
    const fork = segment(forked, 'other bytes');
    const afterFork = segment(forked);
    const b = wholeTrack({ recording, track: 'cam-2', segments: 2 });
    const skipped = openTrack({ recording, track: 'cam-3' });
    segment(skipped);
    const hole = segment(skipped); // seq 2 without seq 1: nothing to link to
    const result = await repo.indexBatch(batch(fork, afterFork, ...b.signed, hole));
    t.same(result.inserted, hashes(b.signed), 'the other track is indexed');
    t.same(result.present, []);
    t.same(result.forks, [{ hash: fork.hash, recording, track: 'cam-1', seq: 2, heldBy: a.signed[2]!.hash }]);
    t.same(result.unlinked, [
      { hash: afterFork.hash, recording, track: 'cam-1', seq: 3, indexedPrev: a.signed[2]!.hash },
      { hash: hole.hash, recording, track: 'cam-3', seq: 2, indexedPrev: null },
    ]);
    const heads = await repo.trackHeads([
      { recording, track: 'cam-1' },
      { recording, track: 'cam-2' },
      { recording, track: 'cam-3' },
    ]);
    t.same(heads.get(`${recording}/cam-1`), { lastSeq: 2, lastHash: a.signed[2]!.hash, status: 'open' });
    t.same(heads.get(`${recording}/cam-2`), { lastSeq: 3, lastHash: b.signed[3]!.hash, status: 'closed' });
    t.notOk(heads.has(`${recording}/cam-3`), 'a track never opened has no head');
    t.equal(await repo.entryByHash(fork.hash), null, 'the fork is not indexed');
  });

  t.test('indexBatch: tracks, recordings, cases and objects follow the entries', async (t) => {
    const recording = randomUUID();
    const caseElements = {
      id: 'DB-2026-0100',
      matter: '行政处罚听证',
      officers: ['31010002', '31010003'],
      room: 'hearing-2',
    };
    const a = openTrack({ recording, track: 'cam-1', case: caseElements, start: T0 + 1000 });
    const b = openTrack({ recording, track: 'cam-2', case: caseElements, start: T0 });
    await repo.indexBatch(batch(a.signed[0]!, b.signed[0]!));
    let rec = await repo.recording(recording);
    t.match(rec, {
      id: recording,
      gateway: 'gw-db-test',
      caseId: 'DB-2026-0100',
      matter: '行政处罚听证',
      room: 'hearing-2',
      officers: ['31010002', '31010003'],
      startedBy: 'operator-1',
      startedAt: isoTime(T0),
      endedAt: null,
    });
    t.match(rec?.tracks[0], {
      track: 'cam-1',
      status: 'open',
      continuity: 'continuous',
      source: { kind: 'camera', name: 'cam-1' },
      lastSeq: 0,
      lastHash: a.signed[0]!.hash,
      segments: 0,
      bytes: 0,
      mediaMs: 0,
      startedAt: isoTime(T0 + 1000),
      endedAt: null,
    });
    const cases = await db.pool.query('SELECT id, first_seen_at FROM cases WHERE id = $1', ['DB-2026-0100']);
    t.equal(cases.rowCount, 1, 'the case is recorded');

    const segs = [segment(a), segment(a), gap(a, 1500), segment(a)];
    await repo.indexBatch(batch(segs[0]!, segs[1]!, segment(b)));
    await repo.indexBatch(batch(segs[2]!, segs[3]!, close(a)));
    rec = await repo.recording(recording);
    const [trackA, trackB] = rec!.tracks;
    const sizes = a.signed.flatMap((s) =>
      s.entry.kind === 'segment' ? [(s.entry.object as { size: number }).size] : [],
    );
    t.match(trackA, {
      status: 'closed',
      lastSeq: 5,
      lastHash: a.signed[5]!.hash,
      segments: 3,
      bytes: sizes.reduce((x, y) => x + y, 0),
      mediaMs: 3 * SEGMENT_MS,
      endedAt: isoTime(a.at),
      merkleRoot: segmentRoot(a.objects),
    });
    t.match(trackB, { status: 'open', segments: 1, lastSeq: 1 });
    t.equal(rec?.endedAt, null, 'a recording with an open track has not ended');

    await repo.indexBatch(batch(close(b)));
    rec = await repo.recording(recording);
    t.equal(rec?.endedAt, isoTime(Math.max(a.at, b.at)), 'ended when its last track closes');

    // A body-worn file docked later adds a track: the recording runs again until it closes.
    const late = openTrack({ recording, track: 'bodycam-1', case: null, start: T0 + 60_000 });
    await repo.indexBatch(batch(...late.signed));
    rec = await repo.recording(recording);
    t.equal(rec?.endedAt, null, 'a new track reopens the recording');
    t.equal(rec?.caseId, 'DB-2026-0100', 'a track without case elements keeps the recording’s');
    await repo.indexBatch(batch(segment(late), close(late)));
    t.equal((await repo.recording(recording))?.endedAt, isoTime(late.at));

    const objects = await db.pool.query<{ sha256: string; size: string; verified_how: string }>(
      'SELECT sha256, size, verified_how FROM objects WHERE sha256 = ANY($1) ORDER BY sha256',
      [a.objects],
    );
    t.equal(objects.rowCount, 3, 'every checked object is recorded');
    t.ok(
      objects.rows.every((o) => o.verified_how === 'rehash'),
      'with how it was checked',
    );
  });

  t.test('indexBatch: two nodes racing on the same tracks index each entry once', async (t) => {
    const recording = randomUUID();
    const a = wholeTrack({ recording, track: 'cam-1', segments: 40 });
    const b = wholeTrack({ recording, track: 'cam-2', segments: 40 });
    const all = [...a.signed, ...b.signed];
    const [one, two] = await Promise.all([repo.indexBatch(batch(...all)), node2.indexBatch(batch(...all))]);
    t.same(
      [...one.inserted, ...two.inserted].sort(),
      hashes(all).sort(),
      'every entry inserted by exactly one node',
    );
    t.same([...one.present, ...two.present].sort(), hashes(all).sort(), 'and found present by the other');
    const rec = await repo.recording(recording);
    t.same(
      rec?.tracks.map((tr) => [tr.segments, tr.lastSeq, tr.status]),
      [
        [40, 41, 'closed'],
        [40, 41, 'closed'],
      ],
      'totals counted once',
    );

    // Two nodes each holding a different continuation of the chain: one wins, the other sees forks.
    const c = openTrack({ recording, track: 'cam-3' });
    await repo.indexBatch(batch(...c.signed));
    const rival: Track = {
      chain: new TrackChain(
        {
          gateway: 'gw-db-test',
          keyFingerprint: KEY.publicKey.fingerprint,
          privateKey: KEY.privateKey,
          recording,
          track: 'cam-3',
        },
        TrackChain.stateOf(c.signed),
      ),
      signed: [...c.signed],
      objects: [],
      at: c.at,
    };
    const mine = [segment(c), segment(c)];
    const theirs = [segment(rival, 'rival'), segment(rival, 'rival')];
    const [r1, r2] = await Promise.all([repo.indexBatch(batch(...mine)), node2.indexBatch(batch(...theirs))]);
    const winner =
      r1.inserted.length > 0 ? { won: r1, lost: r2, chain: mine } : { won: r2, lost: r1, chain: theirs };
    t.equal(winner.won.inserted.length, 2, 'one node indexes its chain');
    t.same(
      winner.lost.forks.map((f) => [f.seq, f.heldBy]),
      [
        [1, winner.chain[0]!.hash],
        [2, winner.chain[1]!.hash],
      ],
      'the other finds both places held: two forks',
    );
    t.same(winner.lost.inserted, []);
    const head = (await repo.trackHeads([{ recording, track: 'cam-3' }])).get(`${recording}/cam-3`);
    t.same(head, { lastSeq: 2, lastHash: winner.chain[1]!.hash, status: 'open' });
  });

  t.test('markTrackBroken: keeps the first cause and survives later entries', async (t) => {
    const recording = randomUUID();
    const a = openTrack({ recording, track: 'cam-1' });
    await repo.indexBatch(batch(...a.signed, segment(a)));
    t.equal(
      await repo.markTrackBroken(recording, 'cam-1', 'INGEST_CHAIN_BROKEN', 'seq 3 names another prev'),
      true,
    );
    t.equal(await repo.markTrackBroken(recording, 'cam-1', 'INGEST_OBJECT_MISSING', 'later cause'), true);
    t.equal(await repo.markTrackBroken(recording, 'cam-9', 'INGEST_CHAIN_BROKEN', 'no such track'), false);
    await repo.indexBatch(batch(close(a)));
    const track = (await repo.recording(recording))!.tracks[0]!;
    t.match(track, {
      status: 'broken',
      brokenCode: 'INGEST_CHAIN_BROKEN',
      brokenReason: 'seq 3 names another prev',
    });
    t.same(
      (await repo.trackHeads([{ recording, track: 'cam-1' }])).get(`${recording}/cam-1`)?.status,
      'broken',
    );
    t.equal((await repo.recording(recording))?.endedAt, null, 'a broken track never ends its recording');
  });

  t.test('searchRecordings: by case, officer, room, matter, gateway and time', async (t) => {
    const base = Date.UTC(2031, 0, 1, 8, 0, 0);
    const hour = 3_600_000;
    const made = [
      {
        case: { id: 'S-1', matter: '询问', officers: ['41000001', '41000002'], room: 'room-a' },
        gw: 'gw-s1',
        at: base,
      },
      {
        case: { id: 'S-1', matter: '听证', officers: ['41000002'], room: 'room-b' },
        gw: 'gw-s2',
        at: base + 2 * hour,
      },
      {
        case: { id: 'S-2', matter: '询问', officers: ['41000003'], room: 'room-a' },
        gw: 'gw-s1',
        at: base + 4 * hour,
      },
    ].map((spec) => {
      const recording = randomUUID();
      const track = wholeTrack({
        recording,
        track: 'cam-1',
        case: spec.case,
        gateway: spec.gw,
        start: spec.at,
        segments: 2,
      });
      return { recording, track };
    });
    await repo.indexBatch(batch(...made.flatMap((m) => m.track.signed)));
    const ids: string[] = made.map((m) => m.recording);
    const find = async (q: Parameters<Repository['searchRecordings']>[0]) =>
      (await repo.searchRecordings(q)).recordings.map((r) => ids.indexOf(r.id)).filter((i) => i >= 0);
    const page = { limit: 50, offset: 0 };
    t.same(await find({ caseId: 'S-1', ...page }), [1, 0], 'by case, newest first');
    t.same(await find({ officer: '41000002', ...page }), [1, 0], 'by officer present');
    t.same(await find({ officer: '41000003', ...page }), [2]);
    t.same(await find({ room: 'room-a', ...page }), [2, 0], 'by room');
    t.same(await find({ matter: '听证', ...page }), [1], 'by matter');
    t.same(await find({ gateway: 'gw-s1', ...page }), [2, 0], 'by gateway');
    t.same(await find({ caseId: 'S-1', room: 'room-a', ...page }), [0], 'criteria combine');
    // Each recording runs 2 segments of 4 s from its start.
    t.same(
      await find({ from: isoTime(base + hour), to: isoTime(base + 3 * hour), ...page }),
      [1],
      'by time: running within [from, to]',
    );
    t.same(
      await find({ from: isoTime(base + 5000), to: isoTime(base + 5000), ...page }),
      [0],
      'an instant inside one',
    );
    t.same(await find({ from: isoTime(base + 4 * hour), ...page }), [2], 'from alone');
    const paged = await repo.searchRecordings({ gateway: 'gw-s1', limit: 1, offset: 1 });
    t.equal(paged.total, 2, 'the total counts every page');
    t.same(
      paged.recordings.map((r) => r.id),
      [made[0]!.recording],
      'second page',
    );
    const beyond = await repo.searchRecordings({ gateway: 'gw-s1', limit: 10, offset: 10 });
    t.same(beyond, { total: 2, recordings: [] }, 'past the last page: no rows, still the total');
    t.same(await repo.searchRecordings({ caseId: 'NO-SUCH', limit: 10, offset: 0 }), {
      total: 0,
      recordings: [],
    });
    t.equal(await repo.recording('not-a-uuid'), null);
    t.equal(await repo.recording(randomUUID()), null);
  });

  t.test('trackEntries pages in seq order and serves the exact bytes that were hashed', async (t) => {
    const recording = randomUUID();
    const a = wholeTrack({ recording, track: 'cam-1', segments: 9 });
    await repo.indexBatch(batch(...a.signed));
    const seen: number[] = [];
    let afterSeq: number | undefined;
    for (;;) {
      const rows = await repo.trackEntries(recording, 'cam-1', {
        ...(afterSeq === undefined ? {} : { afterSeq }),
        limit: 4,
      });
      if (rows.length === 0) break;
      seen.push(...rows.map((r) => r.seq));
      afterSeq = rows.at(-1)!.seq;
    }
    t.same(seen, [...Array(11).keys()], 'every entry once, in order, across pages of 4');
    const [first] = await repo.trackEntries(recording, 'cam-1', { limit: 1 });
    t.equal(first?.entryText, canonicalText(a.signed[0]!.entry), 'the canonical text');
    t.equal(sha256Hex(Buffer.from(first!.entryText)), a.signed[0]!.hash, 'hashes to the entry hash');
    t.same(first?.entry, a.signed[0]!.entry);
    t.equal(first?.sig, a.signed[0]!.sig);
    t.match(first, { kind: 'open', gateway: 'gw-db-test', objectSha256: null });
    const seg = await repo.entryByHash(a.signed[1]!.hash);
    t.match(seg, { seq: 1, kind: 'segment', objectSha256: a.objects[0] });
    t.equal(await repo.entryByHash('0'.repeat(64)), null);
    t.same(await repo.trackEntries('not-a-uuid', 'cam-1', { limit: 4 }), []);
  });

  t.test('trackGaps lists the declared holes of a track', async (t) => {
    const recording = randomUUID();
    const a = openTrack({ recording, track: 'cam-1' });
    segment(a);
    const from = a.at;
    gap(a, 7000);
    segment(a);
    gap(a, 2000);
    close(a);
    await repo.indexBatch(batch(...a.signed));
    const gaps = await repo.trackGaps(recording, 'cam-1');
    t.same(gaps, [
      {
        recording,
        track: 'cam-1',
        seq: 2,
        from: isoTime(from),
        to: isoTime(from + 7000),
        reason: 'source-lost',
        detail: 'camera unreachable',
      },
      {
        recording,
        track: 'cam-1',
        seq: 4,
        from: isoTime(from + 7000 + SEGMENT_MS),
        to: isoTime(from + 9000 + SEGMENT_MS),
        reason: 'source-lost',
        detail: 'camera unreachable',
      },
    ]);
    t.same(await repo.trackGaps(recording, 'cam-2'), []);
  });

  t.test('throughput: 5,000 entries in batches of 500 (printed, not asserted)', async (t) => {
    const recording = randomUUID();
    const tracks = Array.from({ length: 10 }, (_, i) =>
      wholeTrack({ recording, track: `cam-${i}`, segments: 498 }),
    );
    // Round-robin across tracks, as ten cameras deliver them.
    const all: SignedEntry[] = [];
    for (let seq = 0; seq < 500; seq++) for (const tr of tracks) all.push(tr.signed[seq]!);
    const batches = Array.from({ length: 10 }, (_, i) => batch(...all.slice(i * 500, (i + 1) * 500)));
    const started = process.hrtime.bigint();
    let inserted = 0;
    for (const b of batches) inserted += (await repo.indexBatch(b)).inserted.length;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    t.equal(inserted, 5000);
    t.comment(
      `${backend.name}: indexed 5000 entries in batches of 500 in ${seconds.toFixed(2)} s: ${Math.round(5000 / seconds)} entries/s`,
    );
    t.equal((await repo.recording(recording))?.endedAt, isoTime(tracks[0]!.at));
  });
});
