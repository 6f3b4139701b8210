/**
 * @module The ingest's consumer: parse → gateway enrolled? → signature → chain link → object present with the
 * right hash → index in batched transactions → acknowledge. Out-of-order entries wait for their predecessor.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { canonicalText } from '../../protocol/canonical.ts';
import { checkEnvelope, type Entry, type SignedEntry } from '../../protocol/entry.ts';
import { type PublicKey, parsePublicKey } from '../../protocol/keys.ts';
import type { AckMessage } from '../../protocol/messages.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { everyGateway, gatewayTopic, parseTopic, sharedEveryGateway } from '../../protocol/topics.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { IndexedEntry, Repository, TrackHead } from '../db/repository.ts';
import { IngestError, type IngestErrorCode } from '../errors.ts';

/** What the consumer needs of the repository. */
export type ConsumerRepository = Pick<
  Repository,
  'gatewayById' | 'trackHeads' | 'indexBatch' | 'markTrackBroken'
>;

/** Rejections of entries whose signature verified: the gateway learns of these; of others it cannot. */
const VERIFIED_REJECTIONS = new Set<IngestErrorCode>([
  'INGEST_CHAIN_BROKEN',
  'INGEST_CHAIN_FORK',
  'INGEST_OBJECT_MISSING',
  'INGEST_OBJECT_MISMATCH',
  'INGEST_GATEWAY_MISMATCH',
]);

/** Settings of the consumer. */
export interface ConsumerOptions {
  mqtt: MqttClient;
  repo: ConsumerRepository;
  store: ObjectStore;
  clock: Clock;
  log: Logger;
  /** Subscribe through `$share/ingest/...` so several ingest nodes split the stream (external brokers only). */
  shared?: boolean;
  /** Most entries indexed in one transaction. */
  batchMax?: number;
  /** Most entries held waiting for a predecessor before the oldest are let go (the gateway sends them again). */
  maxHeld?: number;
  /** Objects checked at once. */
  objectConcurrency?: number;
}

/** One message as received. */
interface Inbound {
  topic: string;
  payload: Buffer;
  done: () => void;
  receivedAt: number;
}

/** A verified entry on its way to the index. */
interface Candidate {
  gateway: string;
  signed: SignedEntry;
  entry: Entry;
  chain: string;
  done: () => void;
  receivedAt: number;
}

/** Events of the consumer, for metrics, tests and the audit. */
export interface ConsumerEvents {
  indexed: [{ hash: string; gateway: string; entry: Entry; latencyMs: number }];
  rejected: [{ hash: string | null; gateway: string | null; code: IngestErrorCode; reason: string }];
  held: [{ hash: string; chain: string; waitingFor: number }];
}

/** The consumer. `handle()` is what the MQTT client's custom ack handler calls. */
export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly #o: Required<Omit<ConsumerOptions, 'shared'>> & { shared: boolean };
  readonly #inbox: Inbound[] = [];
  readonly #heads = new Map<string, TrackHead>();
  readonly #held = new Map<string, Map<number, Candidate>>();
  readonly #keys = new Map<string, { key: PublicKey & { owner: string }; status: string; at: number }>();
  #heldCount = 0;
  #pumping: Promise<void> | null = null;

  constructor(options: ConsumerOptions) {
    super();
    this.#o = { shared: false, batchMax: 500, maxHeld: 100_000, objectConcurrency: 8, ...options };
  }

  /** Subscribes to every gateway's entries. */
  async start(): Promise<void> {
    const filter = this.#o.shared ? sharedEveryGateway('entry') : everyGateway('entry');
    await this.#o.mqtt.subscribeAsync(filter, { qos: 1 });
  }

  /**
   * Takes one message; `done` is called once it is indexed or rejected. The MQTT client PUBACKs on receipt:
   * the broker's ack is not the evidence ack. An entry lost here (a crash, a database failure) comes back
   * because its gateway holds it until an `indexed` ack names its hash, and publishes it again.
   */
  handle(topic: string, payload: Buffer, done: () => void): void {
    this.#inbox.push({ topic, payload, done, receivedAt: this.#o.clock.now() });
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = null;
      if (this.#inbox.length) this.handle('', Buffer.alloc(0), () => {}); // restart for late arrivals
    });
  }

  /** Resolves when every message received so far has been handled (tests). */
  async idle(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  /** How many entries wait for a predecessor. */
  get heldCount(): number {
    return this.#heldCount;
  }

  /** Forgets the cached key of a gateway (after an approval or a revocation). */
  forgetGateway(id: string): void {
    this.#keys.delete(id);
  }

  async #pump(): Promise<void> {
    while (this.#inbox.length) {
      const batch = this.#inbox.splice(0, this.#o.batchMax).filter((m) => m.topic !== '');
      try {
        await this.#process(batch);
      } catch (err) {
        // The database or the store failed: nothing of this batch is acknowledged, so its gateways send it
        // again (they hold every entry until an `indexed` ack names it). Logged with its code.
        const e = err as Error & { code?: string };
        this.#o.log.error(
          { code: e.code ?? 'INGEST_DB', err: e.message, entries: batch.length },
          'batch not indexed; it will be redelivered',
        );
        this.#heads.clear();
      }
    }
  }

  async #process(batch: Inbound[]): Promise<void> {
    const candidates: Candidate[] = [];
    for (const m of batch) {
      const c = await this.#verify(m);
      if (c) candidates.push(c);
    }
    await this.#loadHeads(candidates);
    const ready: Candidate[] = [];
    // Entries held from earlier batches may link now (another ingest node may have indexed their predecessor).
    for (const [chain, held] of this.#held) {
      const head = this.#heads.get(chain);
      const next = held.get(head ? head.lastSeq + 1 : 0);
      if (next) {
        held.delete(next.entry.seq);
        this.#heldCount--;
        this.#link(next, ready);
      }
      if (held.size === 0) this.#held.delete(chain);
    }
    for (const c of candidates) this.#link(c, ready);
    const checked = await this.#checkObjects(ready);
    if (checked.length === 0) return;
    const items: IndexedEntry[] = checked.map(({ c, object }) => ({
      signed: c.signed,
      entry: c.entry,
      entryText: canonicalText(c.signed.entry),
      ...(object ? { object } : {}),
    }));
    const outcome = await this.#o.repo.indexBatch(items);
    const forks = new Map(outcome.forks.map((f) => [f.hash, f.heldBy]));
    const unlinked = new Map(outcome.unlinked.map((u) => [u.hash, u.indexedPrev]));
    for (const { c } of checked) {
      const heldBy = forks.get(c.signed.hash);
      if (heldBy) {
        this.#heads.delete(c.chain);
        this.#reject(
          c.gateway,
          c.signed.hash,
          'INGEST_CHAIN_FORK',
          `seq ${c.entry.seq} is already held by entry ${heldBy}`,
          c.done,
        );
        continue;
      }
      if (unlinked.has(c.signed.hash)) {
        this.#heads.delete(c.chain);
        const reason = `seq ${c.entry.seq} names prev ${c.entry.prev}; the index holds ${unlinked.get(c.signed.hash) ?? 'nothing'} before it`;
        this.#reject(c.gateway, c.signed.hash, 'INGEST_CHAIN_BROKEN', reason, c.done);
        continue;
      }
      this.#ack(c.gateway, c.signed.hash, 'indexed', null, null);
      c.done();
      this.emit('indexed', {
        hash: c.signed.hash,
        gateway: c.gateway,
        entry: c.entry,
        latencyMs: this.#o.clock.now() - c.receivedAt,
      });
    }
  }

  /** Parse, gateway, signature. Rejected messages are acknowledged with a code and go no further. */
  async #verify(m: Inbound): Promise<Candidate | null> {
    const topic = parseTopic(m.topic);
    if (topic?.channel !== 'entry') {
      m.done();
      return null;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(m.payload.toString('utf8'));
    } catch {
      this.#reject(topic.gateway, null, 'INGEST_PAYLOAD_INVALID', 'the payload is not JSON', m.done);
      return null;
    }
    const claimedHash =
      typeof (raw as { hash?: unknown })?.hash === 'string' ? (raw as { hash: string }).hash : null;
    const gw = await this.#gateway(topic.gateway);
    if (!gw) {
      this.#reject(
        topic.gateway,
        claimedHash,
        'INGEST_GATEWAY_UNKNOWN',
        `gateway ${topic.gateway} is not enrolled and approved`,
        m.done,
      );
      return null;
    }
    if (gw.status === 'revoked') {
      this.#reject(
        topic.gateway,
        claimedHash,
        'INGEST_GATEWAY_REVOKED',
        `gateway ${topic.gateway} is revoked`,
        m.done,
      );
      return null;
    }
    const checked = checkEnvelope(raw, new Map([[gw.key.fingerprint, gw.key]]));
    if (!checked.ok) {
      const code: IngestErrorCode =
        checked.problem.code === 'ENTRY_SCHEMA'
          ? 'INGEST_PAYLOAD_INVALID'
          : checked.problem.code === 'KEY_OWNER_MISMATCH'
            ? 'INGEST_GATEWAY_MISMATCH'
            : 'INGEST_SIGNATURE_INVALID';
      this.#reject(topic.gateway, claimedHash, code, checked.problem.message, m.done);
      return null;
    }
    if (checked.entry.gateway !== topic.gateway) {
      this.#reject(
        topic.gateway,
        checked.signed.hash,
        'INGEST_GATEWAY_MISMATCH',
        `the entry names gateway ${checked.entry.gateway}`,
        m.done,
      );
      return null;
    }
    return {
      gateway: topic.gateway,
      signed: checked.signed,
      entry: checked.entry,
      chain: `${checked.entry.recording}/${checked.entry.track}`,
      done: m.done,
      receivedAt: m.receivedAt,
    };
  }

  async #gateway(id: string): Promise<{ key: PublicKey & { owner: string }; status: string } | null> {
    const cached = this.#keys.get(id);
    if (cached && this.#o.clock.now() - cached.at < 10_000) return cached;
    const row = await this.#o.repo.gatewayById(id);
    if (!row || row.status === 'pending') return null;
    const key = parsePublicKey(row.publicKey);
    if (typeof key === 'string') return null;
    const entry = { key: { ...key, owner: row.id }, status: row.status, at: this.#o.clock.now() };
    this.#keys.set(id, entry);
    return entry;
  }

  /**
   * Reads the indexed heads of every chain in the batch and every chain with held entries, each batch:
   * the database, not this process, knows where a chain stands when several ingest nodes share the stream.
   */
  async #loadHeads(candidates: Candidate[]): Promise<void> {
    const chains = new Map<string, { recording: string; track: string }>();
    for (const c of candidates) chains.set(c.chain, { recording: c.entry.recording, track: c.entry.track });
    for (const held of this.#held.values()) {
      const any = held.values().next().value as Candidate | undefined;
      if (any) chains.set(any.chain, { recording: any.entry.recording, track: any.entry.track });
    }
    this.#heads.clear();
    if (chains.size === 0) return;
    const heads = await this.#o.repo.trackHeads([...chains.values()]);
    for (const [chain, head] of heads) this.#heads.set(chain, head);
  }

  /** Puts a candidate in `ready` if it links to its chain's head; holds it if its predecessor has not come yet. */
  #link(c: Candidate, ready: Candidate[]): void {
    const head = this.#heads.get(c.chain);
    const expected = head ? head.lastSeq + 1 : 0;
    if (c.entry.seq < expected) {
      // Already indexed (a redelivery) or a fork: indexBatch tells which, idempotently.
      ready.push(c);
      return;
    }
    if (c.entry.seq > expected) {
      this.#hold(c, expected);
      return;
    }
    const prev = head ? head.lastHash : null;
    if (c.entry.prev !== prev) {
      // The predecessor at seq - 1 is indexed with another hash: the named one can never arrive.
      const reason = `prev ${c.entry.prev} does not match the indexed entry seq ${expected - 1} (${prev})`;
      this.#reject(c.gateway, c.signed.hash, 'INGEST_CHAIN_BROKEN', reason, c.done);
      void this.#o.repo
        .markTrackBroken(c.entry.recording, c.entry.track, 'INGEST_CHAIN_BROKEN', reason)
        .catch(() => undefined);
      return;
    }
    ready.push(c);
    this.#heads.set(c.chain, {
      lastSeq: c.entry.seq,
      lastHash: c.signed.hash,
      status: c.entry.kind === 'close' ? 'closed' : 'open',
    });
    const waiting = this.#held.get(c.chain)?.get(c.entry.seq + 1);
    if (waiting) {
      this.#held.get(c.chain)!.delete(c.entry.seq + 1);
      this.#heldCount--;
      this.#link(waiting, ready);
    }
  }

  #hold(c: Candidate, expected: number): void {
    let chain = this.#held.get(c.chain);
    if (!chain) {
      chain = new Map();
      this.#held.set(c.chain, chain);
    }
    const previous = chain.get(c.entry.seq);
    if (previous) previous.done();
    else this.#heldCount++;
    chain.set(c.entry.seq, c);
    this.emit('held', { hash: c.signed.hash, chain: c.chain, waitingFor: expected });
    if (this.#heldCount > this.#o.maxHeld) this.#letGoOldest();
  }

  /** Too much is held: let the oldest go unacknowledged; the gateway publishes it again later. */
  #letGoOldest(): void {
    for (const [chainId, chain] of this.#held) {
      for (const [seq, c] of chain) {
        chain.delete(seq);
        this.#heldCount--;
        c.done();
        this.#o.log.warn({ chain: chainId, seq }, 'held entry let go; the gateway will send it again');
        if (this.#heldCount <= this.#o.maxHeld) return;
      }
    }
  }

  async #checkObjects(ready: Candidate[]): Promise<{ c: Candidate; object?: IndexedEntry['object'] }[]> {
    const out: ({ c: Candidate; object?: IndexedEntry['object'] } | null)[] = new Array(ready.length).fill(
      null,
    );
    let next = 0;
    const worker = async () => {
      while (next < ready.length) {
        const i = next++;
        out[i] = await this.#checkObject(ready[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.objectConcurrency, ready.length) }, worker));
    return out.filter((x): x is { c: Candidate; object?: IndexedEntry['object'] } => x !== null);
  }

  async #checkObject(c: Candidate): Promise<{ c: Candidate; object?: IndexedEntry['object'] } | null> {
    if (c.entry.kind !== 'segment' && c.entry.kind !== 'file') return { c };
    const { sha256, size } = c.entry.object;
    const head = await this.#o.store.head(sha256);
    if (!head) {
      this.#heads.delete(c.chain);
      this.#reject(
        c.gateway,
        c.signed.hash,
        'INGEST_OBJECT_MISSING',
        `object ${sha256} is not in the store`,
        c.done,
      );
      return null;
    }
    if (head.verifiedSha256 === sha256 && head.size === size)
      return { c, object: { sha256, size, verifiedHow: 'store-checksum' } };
    const rehashed = await this.#o.store.rehash(sha256);
    if (!rehashed || rehashed.sha256 !== sha256 || rehashed.size !== size) {
      this.#heads.delete(c.chain);
      const why = rehashed ? `hashes to ${rehashed.sha256} (${rehashed.size} bytes)` : 'cannot be read back';
      this.#reject(
        c.gateway,
        c.signed.hash,
        'INGEST_OBJECT_MISMATCH',
        `object ${sha256} ${why}; the entry says ${size} bytes`,
        c.done,
      );
      return null;
    }
    return { c, object: { sha256, size, verifiedHow: 'rehash' } };
  }

  #reject(
    gateway: string,
    hash: string | null,
    code: IngestErrorCode,
    reason: string,
    done: () => void,
  ): void {
    this.#o.log.warn({ code, gateway, hash: hash?.slice(0, 64), reason }, 'entry rejected');
    this.emit('rejected', { hash, gateway, code, reason });
    // Only a rejection about an entry verified as this gateway's is sent back: a message that fails its
    // signature may carry the hash of a genuine entry, and a rejection would make the gateway give it up.
    if (hash && VERIFIED_REJECTIONS.has(code)) this.#ack(gateway, hash, 'rejected', code, reason);
    done();
  }

  #ack(
    gateway: string,
    hash: string,
    status: AckMessage['status'],
    code: string | null,
    reason: string | null,
  ): void {
    const ack: AckMessage = {
      hash,
      status,
      code,
      reason: reason?.slice(0, 1000) ?? null,
      at: isoTime(this.#o.clock.now()),
    };
    this.#o.mqtt.publish(gatewayTopic(gateway, 'ack'), JSON.stringify(ack), { qos: 1 });
  }
}

/** Re-exported so callers can name the error type. */
export { IngestError };
