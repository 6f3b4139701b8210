import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { Spool, type SpoolOptions } from '../../gateway/spool/spool.ts';
import { segmentRoot, TrackChain } from '../../protocol/chain.ts';
import type { CloseEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { objectKey } from '../../protocol/object-key.ts';
import { closeEntry, gapEntry, newChain, openEntry, segmentEntry, stage, T0 } from './chain-fixture.ts';

/** A clock the test moves by hand. */
function manualClock(start = T0) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

function openSpool(t: Test, dir: string, options: Partial<SpoolOptions> = {}): Spool {
  const spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0, ...options });
  t.teardown(() => spool.close());
  return spool;
}

/** Every file under objects/, relative to it. */
function objectFiles(dir: string): string[] {
  const root = join(dir, 'objects');
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath ?? d.path, d.name)))
    .sort();
}

function bytes(n: number, fill: number): Buffer {
  return Buffer.alloc(n, fill);
}

t.test('put stores the entry and moves its object into objects/ under its hash', async (t) => {
  const dir = t.testdir();
  const spool = openSpool(t, dir);
  const chain = newChain();
  const open = openEntry(chain);
  const object = stage(spool, 'a.ts', bytes(1000, 1));
  const seg = segmentEntry(chain, object);

  t.equal((await spool.put(open)).created, true);
  const put = await spool.put(seg, object);
  t.equal(put.created, true);
  t.equal(put.record.state, 'sealed');
  t.same(put.record.object, { sha256: object.sha256, size: 1000 });
  t.same(spool.get(seg.hash)?.signed, seg, 'the envelope comes back as sealed');
  t.equal(spool.get('0'.repeat(64)), null);
  t.equal(spool.objectPath(object.sha256), join(dir, 'objects', objectKey(object.sha256)));
  t.equal(sha256Hex(readFileSync(spool.objectPath(object.sha256))), object.sha256);
  t.notOk(existsSync(object.path), 'the staged file was moved');
});

t.test('putting the same entry again stores nothing new and drops the staged copy', async (t) => {
  const dir = t.testdir();
  const spool = openSpool(t, dir);
  const chain = newChain();
  await spool.put(openEntry(chain));
  const first = stage(spool, 'a.ts', bytes(500, 2));
  const seg = segmentEntry(chain, first);
  await spool.put(seg, first);
  const again = stage(spool, 'a-again.ts', bytes(500, 2));

  const put = await spool.put(seg, again);
  t.equal(put.created, false);
  t.notOk(existsSync(again.path));
  t.same(objectFiles(dir), [objectKey(first.sha256)]);
  t.equal(spool.backlog().entries, 2);
});

t.test('two entries with the same content share one object file', async (t) => {
  const dir = t.testdir();
  const spool = openSpool(t, dir);
  const chain = newChain();
  await spool.put(openEntry(chain));
  const a = stage(spool, 'a.ts', bytes(300, 3));
  const one = segmentEntry(chain, a);
  await spool.put(one, a);
  const b = stage(spool, 'b.ts', bytes(300, 3));
  const two = segmentEntry(chain, b);

  t.equal((await spool.put(two, b)).created, true);
  t.not(one.hash, two.hash);
  t.same(objectFiles(dir), [objectKey(a.sha256)]);
  t.notOk(existsSync(b.path));
  t.equal(spool.backlog().bytes, 300, 'a shared object counts once');
});

t.test('put refuses an object that does not match its entry and leaves the staged file', async (t) => {
  const dir = t.testdir();
  const spool = openSpool(t, dir);
  const chain = newChain();
  await spool.put(openEntry(chain));
  const real = stage(spool, 'a.ts', bytes(100, 4));
  const seg = segmentEntry(chain, real);
  const other = stage(spool, 'b.ts', bytes(100, 5));

  await t.rejects(spool.put(seg, other), { code: 'GW_SPOOL_INVALID_INPUT' });
  await t.rejects(spool.put(seg), { code: 'GW_SPOOL_INVALID_INPUT' }, 'a segment needs its object');
  await t.rejects(
    spool.put({ ...seg, hash: '0'.repeat(64) }, real),
    { code: 'GW_SPOOL_INVALID_INPUT' },
    'the envelope hash is checked',
  );
  writeFileSync(real.path, bytes(99, 4));
  await t.rejects(spool.put(seg, real), { code: 'GW_SPOOL_INVALID_INPUT' }, 'the file size is checked');
  t.ok(existsSync(other.path));
  t.equal(spool.get(seg.hash), null);
  t.same(objectFiles(dir), []);
});

t.test('put refuses a second entry for a seq already in the chain', async (t) => {
  const spool = openSpool(t, t.testdir());
  const recording = randomUUID();
  const key = generateKeyPair();
  const a = newChain({ recording, key });
  const b = newChain({ recording, key });
  await spool.put(openEntry(a, T0));

  await t.rejects(spool.put(openEntry(b, T0 + 1)), { code: 'GW_SPOOL_INVALID_INPUT', message: /fork/ });
});

t.test('stagingPath refuses anything but a plain file name', async (t) => {
  const spool = openSpool(t, t.testdir());
  for (const name of ['../x', 'a/b', '..', '.', '']) {
    t.throws(() => spool.stagingPath(name), { code: 'GW_SPOOL_INVALID_INPUT' }, JSON.stringify(name));
  }
});

t.test('a spool open in one place cannot be opened a second time until it is closed', async (t) => {
  const dir = t.testdir();
  const first = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
  t.throws(() => Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 }), {
    code: 'GW_SPOOL_IO',
    message: /open in another process/,
  });
  first.close();
  openSpool(t, dir).close();
});

t.test('states', async (t) => {
  async function spooled(t: Test) {
    const spool = openSpool(t, t.testdir());
    const chain = newChain();
    await spool.put(openEntry(chain));
    const object = stage(spool, 'a.ts', bytes(100, 6));
    const seg = segmentEntry(chain, object);
    await spool.put(seg, object);
    return { spool, hash: seg.hash, object };
  }

  t.test('an entry moves sealed → uploaded → acknowledged, and a repeated ack changes nothing', async (t) => {
    const { spool, hash } = await spooled(t);
    t.equal(spool.markUploaded(hash).changed, true);
    t.equal(spool.markUploaded(hash).changed, false);
    const ack = spool.acknowledge(hash);
    t.equal(ack.changed, true);
    t.equal(ack.record.state, 'acknowledged');
    const again = spool.acknowledge(hash);
    t.equal(again.changed, false);
    t.equal(again.record.state, 'acknowledged');
  });

  t.test('moving backwards is refused', async (t) => {
    const { spool, hash } = await spooled(t);
    spool.markUploaded(hash);
    spool.acknowledge(hash);
    t.throws(() => spool.markUploaded(hash), { code: 'GW_SPOOL_STATE', message: /backwards/ });
    t.throws(() => spool.reject(hash, { code: 'X', reason: 'late' }), { code: 'GW_SPOOL_STATE' });
    t.equal(spool.get(hash)?.state, 'acknowledged');
  });

  t.test('skipping uploaded is refused', async (t) => {
    const { spool, hash } = await spooled(t);
    t.throws(() => spool.acknowledge(hash), { code: 'GW_SPOOL_STATE', message: /skipped/ });
    t.throws(() => spool.reject(hash, { code: 'X', reason: 'r' }), { code: 'GW_SPOOL_STATE' });
    t.equal(spool.get(hash)?.state, 'sealed');
  });

  t.test('an unknown hash is GW_SPOOL_UNKNOWN_ENTRY', async (t) => {
    const { spool } = await spooled(t);
    t.throws(() => spool.acknowledge('f'.repeat(64)), { code: 'GW_SPOOL_UNKNOWN_ENTRY' });
  });

  t.test(
    'a rejected entry keeps its reason and its file, and is never reclaimed or acknowledged',
    async (t) => {
      const { spool, hash, object } = await spooled(t);
      spool.markUploaded(hash);
      const rejected = spool.reject(hash, { code: 'INGEST_CHAIN_BROKEN', reason: 'prev does not match' });
      t.same(rejected.record.rejection, { code: 'INGEST_CHAIN_BROKEN', reason: 'prev does not match' });
      t.equal(spool.reject(hash, { code: 'INGEST_CHAIN_BROKEN', reason: 'again' }).changed, false);
      t.throws(() => spool.acknowledge(hash), { code: 'GW_SPOOL_STATE' });
      t.same(spool.reclaim().deleted, []);
      t.ok(existsSync(spool.objectPath(object.sha256)));
      t.same(
        spool.rejected(10).map((r) => r.hash),
        [hash],
      );
      t.equal(spool.backlog().entries, 2, 'a rejected entry is still backlog');
    },
  );
  t.end();
});

t.test('pending lists sealed entries in spool order, not clock order, across restarts', async (t) => {
  const dir = t.testdir();
  const clock = manualClock();
  const chain = newChain();
  const hashes: string[] = [];
  let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0, clock });
  const open = openEntry(chain);
  await spool.put(open);
  hashes.push(open.hash);
  for (let i = 0; i < 4; i++) {
    clock.t -= 60_000; // the wall clock steps backwards: order must not follow it
    const o = stage(spool, `s${i}.ts`, bytes(10 + i, i));
    const seg = segmentEntry(chain, o);
    await spool.put(seg, o);
    hashes.push(seg.hash);
  }
  spool.markUploaded(hashes[0]!);
  spool.close();

  spool = openSpool(t, dir, { clock });
  t.same(
    spool.pending(10).map((r) => r.hash),
    hashes.slice(1),
  );
  t.same(
    spool.pending(2).map((r) => r.hash),
    hashes.slice(1, 3),
    'limit takes the oldest',
  );
  t.same(
    spool.awaitingAck(10).map((r) => r.hash),
    [hashes[0]],
    'uploaded entries survive a restart, to republish',
  );
  const o = stage(spool, 'late.ts', bytes(5, 9));
  const late = segmentEntry(chain, o);
  await spool.put(late, o);
  const orders = spool.pending(10).map((r) => r.order);
  t.same(
    spool.pending(10).map((r) => r.hash),
    [...hashes.slice(1), late.hash],
  );
  t.ok(
    orders.every((n, i) => i === 0 || n > orders[i - 1]!),
    'spool order strictly increases',
  );
});

t.test(
  'backlog counts unacknowledged entries, their bytes and the oldest age by the injected clock',
  async (t) => {
    const clock = manualClock();
    const spool = openSpool(t, t.testdir(), { clock });
    t.same(spool.backlog(), { entries: 0, bytes: 0, oldestAgeMs: 0 });
    const chain = newChain();
    const open = openEntry(chain);
    await spool.put(open);
    clock.t += 1000;
    const a = stage(spool, 'a.ts', bytes(700, 1));
    const segA = segmentEntry(chain, a);
    await spool.put(segA, a);
    clock.t += 1000;
    const b = stage(spool, 'b.ts', bytes(300, 2));
    const segB = segmentEntry(chain, b);
    await spool.put(segB, b);
    clock.t += 5000;

    t.same(spool.backlog(), { entries: 3, bytes: 1000, oldestAgeMs: 7000 });
    for (const h of [open.hash, segA.hash]) {
      spool.markUploaded(h);
      spool.acknowledge(h);
    }
    t.same(spool.backlog(), { entries: 1, bytes: 300, oldestAgeMs: 5000 });
    spool.markUploaded(segB.hash);
    t.same(spool.backlog(), { entries: 1, bytes: 300, oldestAgeMs: 5000 }, 'uploaded is not acknowledged');
    spool.acknowledge(segB.hash);
    t.same(spool.backlog(), { entries: 0, bytes: 0, oldestAgeMs: 0 });
  },
);

t.test('chain returns entries in seq order and TrackChain.stateOf continues the chain exactly', async (t) => {
  const dir = t.testdir();
  const key = generateKeyPair();
  const recording = randomUUID();
  const contents = [bytes(100, 1), bytes(200, 2), bytes(300, 3), bytes(400, 4)];
  // the chain as it would have been sealed without a restart (Ed25519 signing is deterministic)
  const reference = newChain({ recording, key });
  const expected = [openEntry(reference)];
  for (const [i, c] of contents.entries()) {
    expected.push(segmentEntry(reference, { path: '', sha256: sha256Hex(c), size: c.length }, T0 + i * 4000));
    if (i === 1) expected.push(gapEntry(reference, T0 + 9000));
  }
  expected.push(closeEntry(reference, T0 + 20_000));

  let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
  const before = newChain({ recording, key });
  const sealed = [openEntry(before)];
  const objects = [];
  for (const [i, c] of contents.slice(0, 2).entries()) {
    const o = stage(spool, `s${i}.ts`, c);
    objects.push(o);
    sealed.push(segmentEntry(before, o, T0 + i * 4000));
  }
  sealed.push(gapEntry(before, T0 + 9000));
  // put out of seq order: chain() must still return seq order
  await spool.put(sealed[3]!);
  await spool.put(sealed[1]!, objects[0]);
  await spool.put(sealed[0]!);
  await spool.put(sealed[2]!, objects[1]);
  t.same(spool.openChains(), [{ recording, track: 'cam1' }]);
  spool.close();

  spool = openSpool(t, dir);
  const stored = spool.chain(recording, 'cam1');
  t.same(
    stored.map((s) => s.hash),
    expected.slice(0, 4).map((s) => s.hash),
  );
  const resumed = new TrackChain(
    {
      gateway: 'gw-test',
      keyFingerprint: key.publicKey.fingerprint,
      privateKey: key.privateKey,
      recording,
      track: 'cam1',
    },
    TrackChain.stateOf(stored),
  );
  for (const [i, c] of contents.slice(2).entries()) {
    const o = stage(spool, `t${i}.ts`, c);
    await spool.put(segmentEntry(resumed, o, T0 + (i + 2) * 4000), o);
  }
  const close = closeEntry(resumed, T0 + 20_000);
  await spool.put(close);

  t.same(
    spool.chain(recording, 'cam1').map((s) => s.hash),
    expected.map((s) => s.hash),
    'the resumed chain is the chain that would have been sealed without the restart',
  );
  t.equal((close.entry as CloseEntry).merkleRoot, segmentRoot(contents.map((c) => sha256Hex(c))));
  t.same(spool.openChains(), [], 'a closed chain is no longer open');
  t.same(spool.chain(randomUUID(), 'cam1'), []);
});

t.test('the running recording survives a restart until it is ended', async (t) => {
  const dir = t.testdir();
  const id = randomUUID();
  const recording = {
    id,
    case: { id: '罚字〔2026〕12', matter: '询问', officers: ['A001'], room: 'room-1' },
    room: 'room-1',
    startedBy: 'operator',
    startedAt: '2026-11-27T01:00:00.000Z',
    tracks: [{ id: 'cam1' }, { id: 'cam2' }],
  };
  let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
  t.equal(spool.activeRecording(), null);
  spool.beginRecording(recording);
  t.same(spool.beginRecording(recording), { ...recording, endedAt: null }, 'beginning it again is a no-op');
  t.throws(() => spool.beginRecording({ ...recording, id: randomUUID() }), { code: 'GW_RECORDING_ACTIVE' });
  spool.close();

  spool = openSpool(t, dir);
  t.same(spool.activeRecording(), { ...recording, endedAt: null });
  const ended = spool.endRecording(id, '2026-11-27T02:00:00.000Z');
  t.equal(ended.endedAt, '2026-11-27T02:00:00.000Z');
  t.same(spool.endRecording(id, '2026-11-27T03:00:00.000Z').endedAt, '2026-11-27T02:00:00.000Z');
  t.equal(spool.activeRecording(), null);
  t.throws(() => spool.endRecording(randomUUID(), '2026-11-27T02:00:00.000Z'), { code: 'GW_RECORDING_NONE' });
  t.throws(
    () => spool.beginRecording(recording),
    { code: 'GW_SPOOL_INVALID_INPUT' },
    'an ended id is not reused',
  );
});

t.test('reclaim', async (t) => {
  /** Puts segments of the given sizes (fill byte = index, or a shared fill), acks those asked. */
  async function setup(t: Test, retainAckedBytes: number) {
    const dir = t.testdir();
    const spool = openSpool(t, dir, { retainAckedBytes });
    const chain = newChain();
    const open = openEntry(chain);
    await spool.put(open);
    const put = async (name: string, content: Buffer) => {
      const o = stage(spool, name, content);
      const seg = segmentEntry(chain, o);
      await spool.put(seg, o);
      return { hash: seg.hash, sha256: o.sha256 };
    };
    const ack = (h: string) => {
      spool.markUploaded(h);
      spool.acknowledge(h);
    };
    const a = await put('a', bytes(1000, 1)); // acked, oldest
    const b = await put('b', bytes(1000, 2)); // acked
    const shared1 = await put('c', bytes(1000, 3)); // acked, but the same content is…
    const shared2 = await put('d', bytes(1000, 3)); // …still sealed here
    const up = await put('e', bytes(1000, 5)); // uploaded, not acknowledged
    const rej = await put('f', bytes(1000, 6)); // rejected
    const g = await put('g', bytes(1000, 7)); // acked, newest
    const h = await put('h', bytes(1000, 8)); // sealed
    for (const x of [open, a, b, shared1, g]) ack(x.hash);
    spool.markUploaded(up.hash);
    spool.markUploaded(rej.hash);
    spool.reject(rej.hash, { code: 'X', reason: 'test' });
    return { dir, spool, a, b, shared1, shared2, up, rej, g, h };
  }

  t.test('keeps the acknowledged floor and frees the oldest above it', async (t) => {
    const { spool, a, b, g } = await setup(t, 1500);
    const result = spool.reclaim();
    // fully acknowledged objects: a, b, g (3000 bytes); freeing a leaves 2000 ≥ 1500, freeing b would not
    t.same(result.deleted, [{ sha256: a.sha256, size: 1000 }]);
    t.equal(result.ackedBytesKept, 2000);
    t.notOk(existsSync(spool.objectPath(a.sha256)));
    t.ok(existsSync(spool.objectPath(b.sha256)));
    t.ok(existsSync(spool.objectPath(g.sha256)));
    t.equal(spool.get(a.hash)?.objectReclaimed, true);
    t.same(spool.reclaim().deleted, [], 'a second run finds nothing more above the floor');
  });

  t.test('never deletes unacknowledged or shared objects, even with a floor of zero', async (t) => {
    const { dir, spool, a, b, g, shared1, shared2, up, rej, h } = await setup(t, 0);
    const result = spool.reclaim();
    t.same(
      result.deleted.map((d) => d.sha256),
      [a.sha256, b.sha256, g.sha256],
    );
    t.equal(result.bytesFreed, 3000);
    for (const x of [shared1, up, rej, h]) t.ok(existsSync(spool.objectPath(x.sha256)), x.sha256);
    t.equal(spool.get(shared1.hash)?.objectReclaimed, false);

    spool.markUploaded(shared2.hash);
    spool.acknowledge(shared2.hash);
    t.same(
      spool.reclaim().deleted.map((d) => d.sha256),
      [shared1.sha256],
      'once every entry naming it is acknowledged, the shared object goes',
    );
    t.same(objectFiles(dir), [up, rej, h].map((x) => objectKey(x.sha256)).sort());
    spool.close();
    const reopened = openSpool(t, dir);
    t.same(reopened.recovered, { stagedRemoved: [], orphansRemoved: [], missing: [], wrongSize: [] });
  });
  t.end();
});

t.test('a full disk refuses the object with GW_SPOOL_FULL, writing and deleting nothing', async (t) => {
  const dir = t.testdir();
  let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
  const chain = newChain();
  const open = openEntry(chain);
  await spool.put(open);
  const old = stage(spool, 'old.ts', bytes(100, 1));
  const oldSeg = segmentEntry(chain, old);
  await spool.put(oldSeg, old);
  spool.markUploaded(oldSeg.hash);
  spool.acknowledge(oldSeg.hash);
  spool.close();

  const s = statfsSync(dir);
  const floor = s.bavail * s.bsize + 1024 ** 4;
  spool = openSpool(t, dir, { minFreeBytes: floor });
  const o = stage(spool, 'new.ts', bytes(100, 2));
  const seg = segmentEntry(chain, o);
  await t.rejects(spool.put(seg, o), {
    code: 'GW_SPOOL_FULL',
    message: new RegExp(`bytes free.*floor of ${floor} bytes`),
  });
  t.ok(existsSync(o.path), 'the staged file is left for the caller');
  t.equal(spool.get(seg.hash), null);
  t.same(objectFiles(dir), [objectKey(old.sha256)], 'nothing evicted to make room');
  t.equal(spool.get(oldSeg.hash)?.objectReclaimed, false);

  const gap = gapEntry(chain, T0 + 5000);
  t.equal((await spool.put(gap)).created, true, 'an entry without an object (a gap saying why) still fits');
});

t.test('open removes staged files and object files no entry holds, and keeps held ones', async (t) => {
  const dir = t.testdir();
  let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
  const chain = newChain();
  await spool.put(openEntry(chain));
  const held = stage(spool, 'held.ts', bytes(64, 1));
  await spool.put(segmentEntry(chain, held), held);
  stage(spool, 'half-written.ts', bytes(10, 2));
  const orphan = bytes(32, 3);
  writeFileSync(spool.objectPath(sha256Hex(orphan)), orphan);
  spool.close();

  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  spool = openSpool(t, dir, { logger });
  t.same(spool.recovered, {
    stagedRemoved: ['half-written.ts'],
    orphansRemoved: [join('objects', objectKey(sha256Hex(orphan)))],
    missing: [],
    wrongSize: [],
  });
  const removals = lines
    .map((l) => JSON.parse(l) as { component: string; msg: string; file?: string })
    .filter((l) => l.msg.startsWith('removed'));
  t.same(
    removals.map((l) => [l.component, l.file]),
    [
      ['spool', 'half-written.ts'],
      ['spool', join('objects', objectKey(sha256Hex(orphan)))],
    ],
    'each removal is logged on the spool child logger',
  );
  t.same(objectFiles(dir), [objectKey(held.sha256)]);
  t.same(readdirSync(join(dir, 'staging')), []);
  t.same(spool.recover(), { stagedRemoved: [], orphansRemoved: [], missing: [], wrongSize: [] });
});

t.test(
  'recover reports held objects that are missing or of the wrong size and deletes nothing',
  async (t) => {
    const dir = t.testdir();
    let spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
    const chain = newChain();
    await spool.put(openEntry(chain));
    const gone = stage(spool, 'gone.ts', bytes(10, 1));
    await spool.put(segmentEntry(chain, gone), gone);
    const cut = stage(spool, 'cut.ts', bytes(20, 2));
    await spool.put(segmentEntry(chain, cut), cut);
    spool.close();
    unlinkSync(join(dir, 'objects', objectKey(gone.sha256)));
    writeFileSync(join(dir, 'objects', objectKey(cut.sha256)), bytes(5, 2));

    spool = openSpool(t, dir);
    t.same(spool.recovered.missing, [gone.sha256]);
    t.same(spool.recovered.wrongSize, [cut.sha256]);
    t.same(
      objectFiles(dir),
      [objectKey(cut.sha256)],
      'a damaged held object is kept for a person to look at',
    );
  },
);

t.test('put replaces a file of the wrong size found under the hash it is storing', async (t) => {
  const dir = t.testdir();
  const spool = openSpool(t, dir);
  const chain = newChain();
  await spool.put(openEntry(chain));
  const o = stage(spool, 'a.ts', bytes(50, 7));
  writeFileSync(spool.objectPath(o.sha256), bytes(3, 7));
  await spool.put(segmentEntry(chain, o), o);
  t.equal(sha256Hex(readFileSync(spool.objectPath(o.sha256))), o.sha256);
});

t.test('a child killed at random moments while putting leaves only whole entries', async (t) => {
  const dir = t.testdir();
  const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
  const ROUNDS = 8;
  const confirmed = new Set<string>();
  let cleaned = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 1 + Math.floor(Math.random() * 25);
    const reported = await runUntilKilled(child, dir, killAfter);
    t.ok(reported.length >= killAfter, `round ${round}: ${reported.length} puts before the kill`);
    for (const h of reported) confirmed.add(h);
    const spool = Spool.open(dir, { minFreeBytes: 0, retainAckedBytes: 0 });
    cleaned += spool.recovered.stagedRemoved.length + spool.recovered.orphansRemoved.length;
    t.same(spool.recovered.missing, [], `round ${round}: no held object is missing`);
    spool.close();
  }
  t.comment(`${confirmed.size} puts confirmed, ${cleaned} leftovers cleaned over the rounds`);

  const spool = openSpool(t, dir);
  spool.recover();
  t.same(
    [...confirmed].filter((h) => !spool.get(h)),
    [],
    'every put that returned before a kill is there',
  );
  const held = new Set<string>();
  const chains = spool.openChains();
  t.equal(chains.length, ROUNDS, 'one chain per round');
  for (const { recording, track } of chains) {
    const entries = spool.chain(recording, track);
    const state = TrackChain.stateOf(entries);
    t.equal(state.nextSeq, entries.length, 'seq has no holes');
    for (const signed of entries) {
      const record = spool.get(signed.hash)!;
      if (!record.object || record.objectReclaimed) continue;
      held.add(record.object.sha256);
      const content = readFileSync(spool.objectPath(record.object.sha256));
      if (sha256Hex(content) !== record.object.sha256) t.fail(`object of ${signed.hash} is damaged`);
    }
  }
  t.same(objectFiles(dir), [...held].map(objectKey).sort(), 'no object file without an entry');
  t.same(readdirSync(join(dir, 'staging')), []);
});

/** Runs the crash child until it has reported `killAfter` puts, then SIGKILLs it; returns what it reported. */
function runUntilKilled(script: string, dir: string, killAfter: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, dir], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      // without the test runner's loaders: a killed child leaves no coverage to collect anyway
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reported: string[] = [];
    let buffered = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a line cut by the kill is not a confirmed put
      for (const line of lines) {
        const m = /^put ([0-9a-f]{64})$/.exec(line);
        if (m) reported.push(m[1]!);
      }
      if (reported.length >= killAfter) proc.kill('SIGKILL');
    });
    proc.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(reported);
      else reject(new Error(`crash child exited by itself (code ${code}): ${stderr}`));
    });
  });
}
