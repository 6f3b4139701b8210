import { randomUUID } from 'node:crypto';
import t from 'tap';
import { EnvelopePool } from '../../ingest/consumer/envelope-pool.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import { TrackChain } from '../../protocol/chain.ts';
import type { SignedEntry } from '../../protocol/entry.ts';
import { generateKeyPair } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';

const owner = 'gw-pool-1';
const kp = generateKeyPair();
const other = generateKeyPair();
const clock = { offsetMs: 0, rttMs: null, source: 'none' } as const;

function entries(n: number, keyPair = kp): SignedEntry[] {
  const chain = new TrackChain({
    gateway: owner,
    keyFingerprint: keyPair.publicKey.fingerprint,
    privateKey: keyPair.privateKey,
    recording: randomUUID(),
    track: 'cam-1',
  });
  const at = (i: number) => isoTime(Date.UTC(2026, 0, 5) + i * 2000);
  const out: SignedEntry[] = [
    chain.open({
      sealedAt: at(0),
      clock,
      start: at(0),
      continuity: 'continuous',
      case: null,
      source: { kind: 'camera', name: 'c', device: null, officer: null },
      startedBy: 'test',
    }),
  ];
  for (let i = 1; i < n; i++) {
    out.push(
      chain.segment({
        sealedAt: at(i),
        clock,
        object: { sha256: 'ab'.repeat(32), size: 10 },
        start: at(i - 1),
        durationMs: 2000,
        container: 'mpegts',
        name: null,
      }),
    );
  }
  return out;
}

/** Honest entries, then each kind of bad message, with the code each must get. */
function cases(): { payload: string; publicKey: string; code: string | null }[] {
  const good = entries(40);
  const forged = { ...good[1]!, sig: good[2]!.sig };
  const rehashed = { ...good[3]!, hash: good[4]!.hash };
  const notOwners = entries(2, other)[1]!;
  return [
    ...good.map((e) => ({ payload: JSON.stringify(e), publicKey: kp.publicKeyText, code: null })),
    { payload: '{"entry":', publicKey: kp.publicKeyText, code: 'INGEST_PAYLOAD_INVALID' },
    { payload: '{"entry":{},"hash":1}', publicKey: kp.publicKeyText, code: 'INGEST_PAYLOAD_INVALID' },
    { payload: JSON.stringify(forged), publicKey: kp.publicKeyText, code: 'INGEST_SIGNATURE_INVALID' },
    { payload: JSON.stringify(rehashed), publicKey: kp.publicKeyText, code: 'INGEST_SIGNATURE_INVALID' },
    // Signed by another key than the enrolled one: the fingerprint names no key the ingest holds.
    { payload: JSON.stringify(notOwners), publicKey: kp.publicKeyText, code: 'INGEST_SIGNATURE_INVALID' },
  ];
}

for (const size of [0, 1, 2]) {
  t.test(
    `${size} workers: honest entries verify, with the canonical text their hash covers; bad ones get their codes`,
    async (t) => {
      const pool = new EnvelopePool(size);
      t.teardown(() => pool.close());
      pool.start();
      const all = cases();
      const outcomes = await Promise.all(all.map((c) => pool.check({ ...c, owner })));
      for (const [i, o] of outcomes.entries()) {
        const want = all[i]!;
        if (want.code === null) {
          if (!o.ok) {
            t.fail(`entry ${i} refused: ${JSON.stringify(o)}`);
            continue;
          }
          const sent = JSON.parse(want.payload) as SignedEntry;
          t.equal(o.signed.hash, sent.hash, `entry ${i}: its hash`);
          t.equal(o.entryText, canonicalText(sent.entry), `entry ${i}: its canonical text`);
          t.same(o.entry, sent.entry, `entry ${i}: the entry as sent`);
        } else {
          t.notOk(o.ok, `message ${i} refused`);
          t.equal(!o.ok && 'code' in o ? o.code : null, want.code, `message ${i}: ${want.code}`);
        }
      }
    },
  );
}

t.test('after close, a check is answered as failed (neither indexed nor refused)', async (t) => {
  const pool = new EnvelopePool(1);
  pool.start();
  await pool.close();
  const o = await pool.check({ payload: JSON.stringify(entries(1)[0]), publicKey: kp.publicKeyText, owner });
  t.ok(!o.ok && 'failed' in o, 'failed, not a verdict');
});
