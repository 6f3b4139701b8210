/**
 * @module The ingest's consumer: parse → gateway enrolled? → signature → object present with the right hash →
 * chain link → index in batched transactions → acknowledge. Out-of-order entries wait for their predecessor.
 *
 * Two stages: each message is checked as it arrives (the envelope on a worker thread, then its object), and
 * one loop takes the checked messages in arrival order, links them and indexes them a batch at a time. So
 * the next messages are verified while a batch's transaction runs.
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { parsePublicKey } from '../../protocol/keys.ts';
import type { AckMessage } from '../../protocol/messages.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { everyGateway, gatewayTopic, parseTopic, sharedEveryGateway } from '../../protocol/topics.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { IndexedEntry, Repository, TrackHead } from '../db/repository.ts';
import { IngestError, type IngestErrorCode } from '../errors.ts';
import { defaultEnvelopeWorkers, EnvelopePool } from './envelope-pool.ts';

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
  /** Worker threads that verify envelopes; 0 verifies on the event loop. Default: the cores but one (1–4). */
  verifyWorkers?: number;
}

/** One message as received, with its check under way; `checked` never rejects. */
interface Inbound {
  topic: string;
  payload: Buffer;
  done: () => void;
  receivedAt: number;
  /** Started for the first messages of the inbox only (see #prefetch); never rejects. */
  checked?: Promise<Candidate | null | { failed: string; code: string }>;
}

/** Batches checked ahead of the one being indexed: enough to keep the workers busy, few enough to stay small. */
const CHECK_AHEAD_BATCHES = 2;

/** A verified entry, its object checked, on its way to the index. */
interface Candidate {
  gateway: string;
  signed: SignedEntry;
  entry: Entry;
  /** The canonical text of `entry`: the bytes `signed.hash` covers. */
  entryText: string;
  object?: IndexedEntry['object'];
  chain: string;
  done: () => void;
  receivedAt: number;
}

/** What the consumer keeps of an enrolled gateway. */
interface GatewayKey {
  /** The enrolled public key, base64url. */
  publicKey: string;
  status: string;
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
  readonly #keys = new Map<string, { value: Promise<GatewayKey | null>; at: number }>();
  readonly #pool: EnvelopePool;
  /** Object checks running, and the ones waiting for a free place. */
  #objectChecks = 0;
  readonly #objectWaiting: (() => void)[] = [];
  #heldCount = 0;
  /** How many of the inbox's first messages have their check started. */
  #checking = 0;
  #closed = false;
  #pumping: Promise<void> | null = null;

  constructor(options: ConsumerOptions) {
    super();
    this.#o = {
      shared: false,
      batchMax: 500,
      maxHeld: 100_000,
      objectConcurrency: 8,
      verifyWorkers: defaultEnvelopeWorkers(),
      ...options,
    };
    this.#pool = new EnvelopePool(this.#o.verifyWorkers, (why, inThread) =>
      this.#o.log.error(
        { code: 'INGEST_VERIFY_WORKER', err: why, inThread },
        inThread ? 'verification worker cannot run; verifying on the event loop' : 'verification worker lost',
      ),
    );
  }

  /** Subscribes to every gateway's entries. */
  async start(): Promise<void> {
    this.#pool.start();
    const filter = this.#o.shared ? sharedEveryGateway('entry') : everyGateway('entry');
    await this.#o.mqtt.subscribeAsync(filter, { qos: 1 });
  }

  /**
   * Takes one message; `done` is called once it is indexed or rejected. The MQTT client PUBACKs on receipt:
   * the broker's ack is not the evidence ack. An entry lost here (a crash, a database failure) comes back
   * because its gateway holds it until an `indexed` ack names its hash, and publishes it again.
   */
  handle(topic: string, payload: Buffer, done: () => void): void {
    if (this.#closed) return; // shutting down: the gateway publishes it again to whoever runs next
    this.#inbox.push({ topic, payload, done, receivedAt: this.#o.clock.now() });
    this.#prefetch();
    this.#kick();
  }

  /**
   * Starts the checks of the inbox's first messages, up to CHECK_AHEAD_BATCHES batches: a backlog waits as
   * received payloads, not as thousands of checked entries in memory.
   */
  #prefetch(): void {
    const end = Math.min(this.#inbox.length, this.#o.batchMax * CHECK_AHEAD_BATCHES);
    for (let i = this.#checking; i < end; i++) {
      const m = this.#inbox[i]!;
      m.checked = this.#check(m.topic, m.payload, m.done, m.receivedAt).catch(
        (err: Error & { code?: string }) => ({ failed: err.message, code: err.code ?? 'INGEST_DB' }),
      );
    }
    this.#checking = Math.max(this.#checking, end);
  }

  /** Stops the verification workers. Messages still being checked are neither indexed nor refused. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }

  #kick(): void {
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = null;
      if (this.#inbox.length) this.#kick(); // restart for late arrivals
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
      this.#prefetch();
      const batch = this.#inbox.splice(0, this.#o.batchMax);
      this.#checking -= batch.length;
      this.#prefetch(); // the next batches are checked while this one is indexed
      const candidates: Candidate[] = [];
      for (const c of await Promise.all(batch.map((m) => m.checked!))) {
        if (c === null) continue;
        if ('failed' in c) {
          // The gateway lookup or a verification worker failed: not refused, not acknowledged; the gateway
          // sends the entry again.
          this.#o.log.error({ code: c.code, err: c.failed }, 'entry not checked; it will be redelivered');
          continue;
        }
        candidates.push(c);
      }
      try {
        await this.#process(candidates);
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

  async #process(candidates: Candidate[]): Promise<void> {
    await this.#loadHeads(candidates);
    const ready: Candidate[] = [];
    // Entries held from earlier batches may link now (another ingest node may have indexed their predecessor).
    // Held entries at or below the head were indexed meanwhile by another node (the gateway republished them
    // there): they go to indexBatch too, which acknowledges a duplicate and refuses a fork, rather than
    // staying held for ever.
    for (const [chain, held] of this.#held) {
      const head = this.#heads.get(chain);
      const expected = head ? head.lastSeq + 1 : 0;
      const due = [...held.keys()].filter((seq) => seq <= expected).sort((a, b) => a - b);
      for (const seq of due) {
        const c = held.get(seq);
        if (!c) continue; // linked already by an earlier one of this loop
        held.delete(seq);
        this.#heldCount--;
        this.#link(c, ready);
      }
      if (held.size === 0) this.#held.delete(chain);
    }
    for (const c of candidates) this.#link(c, ready);
    if (ready.length === 0) return;
    const items: IndexedEntry[] = ready.map((c) => ({
      signed: c.signed,
      entry: c.entry,
      entryText: c.entryText,
      ...(c.object ? { object: c.object } : {}),
    }));
    const outcome = await this.#o.repo.indexBatch(items);
    const at = isoTime(this.#o.clock.now()); // one commit: one time for its acknowledgements
    const forks = new Map(outcome.forks.map((f) => [f.hash, f.heldBy]));
    const unlinked = new Map(outcome.unlinked.map((u) => [u.hash, u.indexedPrev]));
    for (const c of ready) {
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
      this.#ack(c.gateway, c.signed.hash, 'indexed', null, null, at);
      c.done();
      this.emit('indexed', {
        hash: c.signed.hash,
        gateway: c.gateway,
        entry: c.entry,
        latencyMs: this.#o.clock.now() - c.receivedAt,
      });
    }
  }

  /**
   * Topic, gateway, then on a worker: parse, schemas, hash, signature; then the object. Rejected messages are
   * logged, acknowledged with a code when verified, and go no further.
   */
  async #check(
    topic: string,
    payload: Buffer,
    done: () => void,
    receivedAt: number,
  ): Promise<Candidate | null> {
    const parsed = parseTopic(topic);
    if (parsed?.channel !== 'entry') {
      done();
      return null;
    }
    const gateway = parsed.gateway;
    const gw = await this.#gateway(gateway);
    if (!gw || gw.status === 'revoked') {
      let raw: unknown;
      try {
        raw = JSON.parse(payload.toString('utf8'));
      } catch {
        this.#reject(gateway, null, 'INGEST_PAYLOAD_INVALID', 'the payload is not JSON', done);
        return null;
      }
      const claimedHash =
        typeof (raw as { hash?: unknown })?.hash === 'string' ? (raw as { hash: string }).hash : null;
      if (!gw) {
        const reason = `gateway ${gateway} is not enrolled and approved`;
        this.#reject(gateway, claimedHash, 'INGEST_GATEWAY_UNKNOWN', reason, done);
      } else {
        this.#reject(gateway, claimedHash, 'INGEST_GATEWAY_REVOKED', `gateway ${gateway} is revoked`, done);
      }
      return null;
    }
    const outcome = await this.#pool.check({
      payload: payload.toString('utf8'),
      publicKey: gw.publicKey,
      owner: gateway,
    });
    if (!outcome.ok) {
      if ('failed' in outcome) throw new IngestError('INGEST_VERIFY_WORKER', outcome.failed);
      this.#reject(gateway, outcome.claimedHash, outcome.code, outcome.reason, done);
      return null;
    }
    if (outcome.entry.gateway !== gateway) {
      const reason = `the entry names gateway ${outcome.entry.gateway}`;
      this.#reject(gateway, outcome.signed.hash, 'INGEST_GATEWAY_MISMATCH', reason, done);
      return null;
    }
    const c: Candidate = {
      gateway,
      signed: outcome.signed,
      entry: outcome.entry,
      entryText: outcome.entryText,
      chain: `${outcome.entry.recording}/${outcome.entry.track}`,
      done,
      receivedAt,
    };
    return this.#checkObject(c);
  }

  /**
   * The gateway's enrolled key and status, cached for 10 s (an approval or revocation forgets it at once). A
   * lookup in flight is shared by the messages that arrive meanwhile; an unknown gateway is not cached.
   */
  #gateway(id: string): Promise<GatewayKey | null> {
    const cached = this.#keys.get(id);
    if (cached && this.#o.clock.now() - cached.at < 10_000) return cached.value;
    const value = this.#o.repo.gatewayById(id).then((row) => {
      if (!row || row.status === 'pending' || typeof parsePublicKey(row.publicKey) === 'string') return null;
      return { publicKey: row.publicKey, status: row.status };
    });
    const entry = { value, at: this.#o.clock.now() };
    this.#keys.set(id, entry);
    const uncache = () => {
      if (this.#keys.get(id) === entry) this.#keys.delete(id);
    };
    value.then((gw) => gw ?? uncache(), uncache);
    return value;
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

  /** The candidate with its object checked, or null when it was refused (missing, or not what it says). */
  async #checkObject(c: Candidate): Promise<Candidate | null> {
    if (c.entry.kind !== 'segment' && c.entry.kind !== 'file') return c;
    // At most objectConcurrency checks at once: a rehash reads the whole object back.
    if (this.#objectChecks < this.#o.objectConcurrency) this.#objectChecks++;
    else await new Promise<void>((resolve) => this.#objectWaiting.push(resolve)); // handed a place
    try {
      return await this.#checkObjectNow(c, c.entry.object);
    } finally {
      const next = this.#objectWaiting.shift();
      if (next) next();
      else this.#objectChecks--;
    }
  }

  async #checkObjectNow(
    c: Candidate,
    { sha256, size }: { sha256: string; size: number },
  ): Promise<Candidate | null> {
    const head = await this.#o.store.head(sha256);
    if (!head) {
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
      return { ...c, object: { sha256, size, verifiedHow: 'store-checksum' } };
    const rehashed = await this.#o.store.rehash(sha256);
    if (!rehashed || rehashed.sha256 !== sha256 || rehashed.size !== size) {
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
    return { ...c, object: { sha256, size, verifiedHow: 'rehash' } };
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
    at = isoTime(this.#o.clock.now()),
  ): void {
    const ack: AckMessage = { hash, status, code, reason: reason?.slice(0, 1000) ?? null, at };
    this.#o.mqtt.publish(gatewayTopic(gateway, 'ack'), JSON.stringify(ack), { qos: 1 });
  }
}

/** Re-exported so callers can name the error type. */
export { IngestError };
