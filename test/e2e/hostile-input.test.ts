/**
 * @module Hostile input against an ingest with its embedded broker: forged signatures, altered hashes, an
 * unapproved gateway, a gateway on another's topic, and 10,000 fuzzed payloads. Each is refused with a code;
 * the ingest keeps running and an honest gateway's recording, published alongside, is fully indexed.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import t from 'tap';
import { startIngest } from '../../ingest/app.ts';
import { canonicalText } from '../../protocol/canonical.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/keys.ts';
import { AckMessage } from '../../protocol/messages.ts';
import { makeMqttPassword } from '../../protocol/mqtt-auth.ts';
import { systemClock } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import { bearerHeaders } from '../helpers/auth.ts';
import { type BuiltChain, buildChain, type Step, T0 } from '../helpers/chains.ts';
import { tmp } from '../helpers/recording.ts';
import { PLAINTEXT } from '../helpers/tls.ts';
import { freshPostgres, waitUntil } from './e2e-support.ts';

const quiet = pino({ level: 'silent' });
const FUZZ_RUNS = 10_000;

/** A chain of `segments` segments and a close, signed by `key` for `gateway`. */
function chainOf(
  gateway: string,
  key: KeyPair,
  recording: string,
  track: string,
  segments: number,
): BuiltChain {
  const steps: Step[] = [];
  for (let s = 0; s < segments; s++)
    steps.push({
      kind: 'segment',
      bytes: Buffer.from(`${gateway} ${track} ${s} ${recording}`),
      start: T0 + s * 2000,
      durationMs: 2000,
    });
  steps.push({ kind: 'close', end: T0 + segments * 2000 });
  return buildChain({ recording, track, key, gateway, steps });
}

/** Connects as a gateway holding `key`, with its signed token as password. */
function connectAs(url: string, gateway: string, key: KeyPair, reconnect = false): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: gateway,
    username: gateway,
    password: makeMqttPassword(gateway, key, systemClock),
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: reconnect ? 500 : 0,
  });
}

/** Resolves when the client's connection closes (the broker closes it on a refused publish). */
const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));

t.test(
  'hostile input is refused with a coded reason, the ingest keeps running, an honest recording is fully indexed',
  async (t) => {
    const dir = tmp(t, 'quanlu-e2e-hostile-');
    const ingest = await startIngest(
      {
        dataDir: `${dir}/ingest`,
        mqtt: { kind: 'embedded', port: 0 },
        http: { port: 0 },
        tls: PLAINTEXT,
        database: await freshPostgres(t, 'hostile'),
        log: { level: 'error' },
      },
      { log: quiet },
    );
    t.teardown(() => ingest.close());

    const keys = {
      honest: generateKeyPair(),
      fuzzer: generateKeyPair(),
      intruder: generateKeyPair(),
      pending: generateKeyPair(),
    };
    // honest, fuzzer and intruder are approved; pending has only asked.
    for (const id of ['honest', 'fuzzer', 'intruder'] as const) {
      await ingest.repo.upsertEnrollment({
        id: `gw-${id}`,
        fingerprint: keys[id].publicKey.fingerprint,
        publicKey: keys[id].publicKeyText,
        hostname: null,
      });
      await ingest.decide(keys[id].publicKey.fingerprint, 'approved', 'test-admin');
    }

    const rejected: { hash: string | null; gateway: string | null; code: string }[] = [];
    const indexed: { hash: string; gateway: string }[] = [];
    ingest.consumer.on('rejected', (r) => rejected.push(r));
    ingest.consumer.on('indexed', (i) => indexed.push({ hash: i.hash, gateway: i.gateway }));

    // The honest gateway's recording: two tracks whose objects are in the store, published at QoS 1.
    const recording = randomUUID();
    const honestChains = [
      chainOf('gw-honest', keys.honest, recording, 'cam-1', 40),
      chainOf('gw-honest', keys.honest, recording, 'cam-2', 40),
    ];
    for (const c of honestChains)
      for (const [sha256, bytes] of c.objects) await ingest.store.put(sha256, { bytes }, bytes.length);
    const honestEntries = honestChains.flatMap((c) => c.signed);
    const honest = await connectAs(ingest.mqttUrl, 'gw-honest', keys.honest, true);
    t.teardown(() => honest.endAsync(true));
    const honestAcked = new Map<string, string>();
    const honestAcks = new EventEmitter();
    honest.on('message', (_topic, payload) => {
      const ack = AckMessage.parse(JSON.parse(payload.toString('utf8')));
      honestAcked.set(ack.hash, ack.status);
      honestAcks.emit('ack');
    });
    await honest.subscribeAsync(gatewayTopic('gw-honest', 'ack'), { qos: 1 });

    // The fuzzer: an approved gateway publishing garbage on its own entry topic, listening to its acks.
    const fuzzer = await connectAs(ingest.mqttUrl, 'gw-fuzzer', keys.fuzzer);
    t.teardown(() => fuzzer.endAsync(true));
    const fuzzerAcks: AckMessage[] = [];
    const fuzzerAckEvents = new EventEmitter();
    let fuzzerAckMessages = 0;
    fuzzer.on('message', (_topic, payload) => {
      fuzzerAckMessages++;
      const parsed = AckMessage.safeParse(JSON.parse(payload.toString('utf8')));
      if (parsed.success) fuzzerAcks.push(parsed.data);
      fuzzerAckEvents.emit('ack');
    });
    await fuzzer.subscribeAsync(gatewayTopic('gw-fuzzer', 'ack'), { qos: 1 });
    const fuzzerTopic = gatewayTopic('gw-fuzzer', 'entry');
    const fuzzerChain = chainOf('gw-fuzzer', keys.fuzzer, randomUUID(), 'cam-1', 5);
    for (const [sha256, bytes] of fuzzerChain.objects)
      await ingest.store.put(sha256, { bytes }, bytes.length);
    const valid = fuzzerChain.signed;

    // The honest recording flows while everything else happens.
    const honestDone = (async () => {
      for (const s of honestEntries)
        await honest.publishAsync(gatewayTopic('gw-honest', 'entry'), JSON.stringify(s), { qos: 1 });
    })();

    await t.test(
      'a forged signature is rejected as INGEST_SIGNATURE_INVALID, never indexed, and never acknowledged as rejected',
      async (t) => {
        const sig = valid[0]!.sig;
        const flipped = sig[40] === 'A' ? 'B' : 'A';
        const forged: SignedEntry = { ...valid[0]!, sig: `${sig.slice(0, 40)}${flipped}${sig.slice(41)}` };
        const other = chainOf('gw-fuzzer', keys.intruder, fuzzerChain.spec.recording, 'cam-1', 0).signed[0]!;
        const signedByAnother: SignedEntry = { ...valid[0]!, sig: other.sig };
        const before = rejected.length;
        await fuzzer.publishAsync(fuzzerTopic, JSON.stringify(forged), { qos: 1 });
        await fuzzer.publishAsync(fuzzerTopic, JSON.stringify(signedByAnother), { qos: 1 });
        await waitUntil(
          ingest.consumer,
          'rejected',
          () => rejected.length >= before + 2,
          30_000,
          'two rejections',
        );
        t.same(
          rejected.slice(before).map((r) => r.code),
          ['INGEST_SIGNATURE_INVALID', 'INGEST_SIGNATURE_INVALID'],
        );
        // No "rejected" ack goes back: the forgery carries the hash of a genuine entry, and a rejection
        // would make the gateway give that entry up. The fuzzing test below checks, behind a barrier,
        // that no such ack was ever sent.
        t.equal(await ingest.repo.entryByHash(valid[0]!.hash), null, 'not indexed');
      },
    );

    await t.test('an entry replayed with a changed hash is rejected and never indexed', async (t) => {
      const changed = `${valid[0]!.hash.slice(0, 63)}${valid[0]!.hash.endsWith('0') ? '1' : '0'}`;
      const replay: SignedEntry = { ...valid[0]!, hash: changed };
      const before = rejected.length;
      await fuzzer.publishAsync(fuzzerTopic, JSON.stringify(replay), { qos: 1 });
      await waitUntil(ingest.consumer, 'rejected', () => rejected.length > before, 30_000, 'a rejection');
      t.match(rejected[before], { hash: changed, gateway: 'gw-fuzzer', code: 'INGEST_SIGNATURE_INVALID' });
      t.equal(await ingest.repo.entryByHash(changed), null, 'the changed hash is not indexed');
      t.equal(await ingest.repo.entryByHash(valid[0]!.hash), null, 'nor the original');
    });

    await t.test('a gateway whose key is proven but not approved cannot publish an entry', async (t) => {
      const asked = once(ingest.events, 'enrollment');
      const pending = await connectAs(ingest.mqttUrl, 'gw-pending', keys.pending);
      t.teardown(() => pending.endAsync(true));
      const [row] = (await asked) as [{ id: string; status: string }];
      t.match(row, { id: 'gw-pending', status: 'pending' }, 'it is asked to enroll');
      const entry = chainOf('gw-pending', keys.pending, randomUUID(), 'cam-1', 0).signed[0]!;
      const gone = closed(pending);
      pending.publish(gatewayTopic('gw-pending', 'entry'), JSON.stringify(entry), { qos: 1 });
      await gone;
      t.pass('the broker closed the enrollment-only session on its entry publish');
      await ingest.consumer.idle();
      t.equal(await ingest.repo.entryByHash(entry.hash), null, 'never indexed');
      t.notOk(
        rejected.some((r) => r.gateway === 'gw-pending'),
        'it never reached the consumer',
      );
    });

    await t.test("a gateway publishing under another gateway's topic is refused by the broker", async (t) => {
      const intruder = await connectAs(ingest.mqttUrl, 'gw-intruder', keys.intruder);
      t.teardown(() => intruder.endAsync(true));
      // Signed by the intruder, naming the honest gateway and its recording.
      const entry = chainOf('gw-honest', keys.intruder, randomUUID(), 'cam-9', 0).signed[0]!;
      const gone = closed(intruder);
      intruder.publish(gatewayTopic('gw-honest', 'entry'), JSON.stringify(entry), { qos: 1 });
      await gone;
      t.pass('the broker closed the connection');
      await ingest.consumer.idle();
      t.equal(await ingest.repo.entryByHash(entry.hash), null, 'never indexed');
    });

    await t.test(
      `${FUZZ_RUNS} fuzzed payloads are each rejected with a code; the ingest keeps running`,
      async (t) => {
        const mutated = fc
          .tuple(
            fc.constantFrom(...valid),
            fc.constantFrom('entry', 'hash', 'sig', 'top'),
            fc.constantFrom(...Object.keys(valid[1]!.entry)),
            fc.jsonValue(),
          )
          .map(([s, where, field, value]) => {
            const copy = JSON.parse(JSON.stringify(s)) as Record<string, unknown> & {
              entry: Record<string, unknown>;
            };
            if (where === 'entry') {
              if (value === null && field !== 'prev') delete copy.entry[field];
              else copy.entry[field] = value;
            } else if (where === 'top') copy[field] = value;
            else copy[where] = typeof value === 'string' ? value : JSON.stringify(value);
            return copy;
          })
          .filter((m) => {
            try {
              return !valid.some((v) => canonicalText(v) === canonicalText(m));
            } catch {
              return true; // no canonical form: certainly not a valid entry
            }
          })
          .map((m) => Buffer.from(JSON.stringify(m)));
        const payload = fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
          fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
          mutated,
        );
        const payloads = fc.sample(payload, { numRuns: FUZZ_RUNS, seed: 20261127 });
        t.equal(payloads.length, FUZZ_RUNS);
        const before = rejected.length;
        const acksBefore = fuzzerAcks.length;
        const rawBefore = fuzzerAckMessages;
        for (const p of payloads) fuzzer.publish(fuzzerTopic, p, { qos: 0 });
        await waitUntil(
          ingest.consumer,
          'rejected',
          () => rejected.length - before >= FUZZ_RUNS,
          150_000,
          `${FUZZ_RUNS} rejections (${rejected.length - before} so far)`,
        ).catch((err: Error) => t.fail(err.message));
        const mine = rejected.slice(before);
        t.equal(mine.length, FUZZ_RUNS, 'one rejection per payload');
        const codes: Record<string, number> = {};
        for (const r of mine) codes[r.code] = (codes[r.code] ?? 0) + 1;
        t.comment(`rejection codes: ${JSON.stringify(codes)}`);
        t.ok(
          mine.every((r) => r.gateway === 'gw-fuzzer' && /^INGEST_[A-Z_]+$/.test(r.code)),
          'every rejection carries a code',
        );
        t.notOk(
          indexed.some((i) => i.gateway === 'gw-fuzzer'),
          'no fuzzed payload was indexed',
        );
        // A barrier: the genuine open entry, indexed; its ack comes after any ack the fuzz caused, since one
        // consumer publishes them in order on one connection.
        await fuzzer.publishAsync(fuzzerTopic, JSON.stringify(valid[0]), { qos: 1 });
        await waitUntil(
          fuzzerAckEvents,
          'ack',
          () => fuzzerAcks.some((a) => a.hash === valid[0]!.hash && a.status === 'indexed'),
          60_000,
          'the barrier entry acknowledged as indexed',
        ).catch((err: Error) => t.fail(err.message));
        const acks = fuzzerAcks.slice(acksBefore).filter((a) => a.hash !== valid[0]!.hash);
        t.equal(
          fuzzerAckMessages - rawBefore,
          1,
          'only the barrier was acknowledged: no fuzzed payload, forged or not, got an ack',
        );
        t.same(acks, [], 'no rejection was sent for a payload whose signature did not verify');
        t.notOk(
          fuzzerAcks.some((a) => a.hash === valid[0]!.hash && a.status === 'rejected'),
          'the genuine entry whose hash the forgeries carried was never reported as rejected',
        );
        t.ok(fuzzer.connected, 'the fuzzing gateway was never disconnected');
        const health = await fetch(`${ingest.httpUrl}/api/v1/recordings?limit=1`, {
          headers: await bearerHeaders(ingest.repo),
        });
        t.equal(health.status, 200, 'the ingest still answers');
      },
    );

    await t.test('the honest recording published alongside is fully indexed', async (t) => {
      await honestDone;
      await waitUntil(
        honestAcks,
        'ack',
        () => honestEntries.every((s) => honestAcked.get(s.hash) === 'indexed'),
        60_000,
        'every honest entry acknowledged as indexed',
      ).catch((err: Error) => t.fail(err.message));
      for (const s of honestEntries) {
        const e = s.entry as Entry;
        if (!(await ingest.repo.entryByHash(s.hash))) t.fail(`${e.track}#${e.seq} is not indexed`);
      }
      const rec = await ingest.repo.recording(recording);
      t.same(
        rec?.tracks.map((x) => `${x.track}:${x.status}`).sort(),
        ['cam-1:closed', 'cam-2:closed'],
        'both honest tracks are closed at the ingest',
      );
      t.notOk(
        rejected.some((r) => r.gateway === 'gw-honest'),
        'nothing of the honest gateway was rejected',
      );
    });
  },
);
