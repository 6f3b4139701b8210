/**
 * @module The ingest's transparency log [EVIDENCE §20]: appends accepted entries as leaves in acceptance
 * order, keeps complete-subtree hashes in the database (a cache of the leaves, rebuilt when lost), signs
 * tree heads, and answers inclusion and consistency proofs from stored nodes.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { canonicalText } from '../../protocol/canonical.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import {
  type ConsistencyProof,
  entryLeafHash,
  type InclusionProof,
  type SignedTreeHead,
  signTreeHead,
} from '../../protocol/tree-head.ts';
import { auditHead } from '../db/audit-store.ts';
import * as store from '../db/log-store.ts';
import type { Database } from '../db/open-database.ts';
import { transaction } from '../db/rows.ts';
import { IngestError } from '../errors.ts';
import { type AuditHeadCheck, checkAuditHeads } from './audit-check.ts';
import { checkLog, type LogCheck, pruneTo } from './log-check.ts';
import {
  appendLeaves,
  consistencyPath,
  frontier,
  inclusionPath,
  type NodeId,
  type NodeReader,
  nodeKey,
  nodesNeeded,
  rangeHash,
} from './tree-math.ts';

/** How many entries one sequencing transaction appends. */
const BATCH = 5000;
/** How many node hashes are kept in memory between requests. */
const CACHE_LIMIT = 100_000;

/** Collaborators of the log. */
export interface TransparencyLogDeps {
  db: Database;
  keyPair: KeyPair;
  clock?: Clock;
  log?: Logger;
}

/** The log over one database; every ingest node may hold one (sequencing takes a database lock). */
export class TransparencyLog extends EventEmitter<{ treeHead: [SignedTreeHead] }> {
  readonly #db: Database;
  readonly #key: KeyPair;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #cache = new Map<string, Buffer>();
  #timers: NodeJS.Timeout[] = [];
  #inFlight: Promise<unknown>[] = [];
  #running = false;

  constructor(deps: TransparencyLogDeps) {
    super();
    this.#db = deps.db;
    this.#key = deps.keyPair;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.log;
  }

  /** The fingerprint of the key that signs tree heads. */
  get keyFingerprint(): string {
    return this.#key.publicKey.fingerprint;
  }

  /** The number of leaves logged so far. */
  size(): Promise<number> {
    return store.logSize(this.#db.pool);
  }

  /** Appends every accepted entry not yet logged; returns how many were appended. */
  async sequence(): Promise<number> {
    let total = 0;
    for (;;) {
      const made = await transaction(this.#db, 'append to the log', async (tx) => {
        await store.lockSequencer(tx);
        const size = await store.logSize(tx);
        const pending = await store.unloggedEntries(tx, BATCH);
        if (pending.length === 0) return [];
        const front = frontier(size);
        const known = new Map(
          (await store.readNodes(tx, front)).map((n) => [nodeKey(n.level, n.index), n.hash]),
        );
        if (known.size !== front.length) {
          throw new IngestError(
            'INGEST_LOG_CORRUPT',
            `the log's stored nodes for size ${size} are missing; rebuild them`,
          );
        }
        const nodes = appendLeaves(size, pending.map(entryLeafHash), known);
        await store.assignLeaves(tx, size, pending);
        await store.insertNodes(tx, nodes);
        return nodes;
      });
      if (made.length === 0) return total;
      for (const n of made) this.#remember(n.level, n.index, n.hash);
      total += made.filter((n) => n.level === 0).length;
    }
  }

  /** The root of the first `size` leaves. */
  async root(size: number): Promise<Buffer> {
    return this.#compute((read) => rangeHash(0, size, read));
  }

  /**
   * Logs what is pending, then signs and stores a tree head over the whole log and the audit log's
   * head as it is now (null when the audit log is empty) [EVIDENCE §20.2].
   */
  async signTreeHead(): Promise<SignedTreeHead> {
    for (;;) {
      await this.sequence();
      const size = await this.size();
      const root = await this.root(size);
      // Stored under the sequencer lock: with several ingest nodes (or a timer and a POST) signing at once,
      // a head over `size` is not stored after a larger one; when another signer got ahead (the log has grown
      // since), sign again over the larger log. A log that shrank (rewritten) is signed as it is: check() finds it.
      const sth = await transaction(this.#db, 'store a tree head', async (tx) => {
        await store.lockSequencer(tx);
        const latest = (await store.latestTreeHeads(tx, 1))[0]?.sth.head.size ?? 0;
        if (latest > size && (await store.logSize(tx)) > size) return null;
        const audit = await auditHead(tx);
        const signed = signTreeHead(
          {
            v: 1,
            alg: { canon: 'jcs', hash: 'sha-256', sig: 'ed25519' },
            key: this.#key.publicKey.fingerprint,
            size,
            root: root.toString('hex'),
            timestamp: isoTime(this.#clock.now()),
            audit: audit.size === 0 ? null : { size: audit.size, hash: audit.hash },
          },
          this.#key.privateKey,
        );
        await store.saveTreeHead(tx, signed, canonicalText(signed.head));
        return signed;
      });
      if (!sth) continue;
      this.emit('treeHead', sth);
      return sth;
    }
  }

  /** The latest signed tree head, or null before the first. */
  async latestTreeHead(): Promise<SignedTreeHead | null> {
    return (await store.latestTreeHeads(this.#db.pool, 1))[0]?.sth ?? null;
  }

  /** The inclusion proof of an entry in the tree of `treeSize` leaves (default: the latest signed head). */
  async inclusion(entryHash: string, treeSize?: number): Promise<InclusionProof> {
    const size = treeSize ?? (await this.latestTreeHead())?.head.size ?? 0;
    const index = await store.leafIndexOf(this.#db.pool, entryHash);
    if (index === null || index >= size) {
      throw new IngestError(
        'INGEST_LOG_NOT_LOGGED',
        `entry ${entryHash} is not among the first ${size} leaves of the log${index === null ? ' (not logged yet, or unknown)' : ''}`,
      );
    }
    await this.#checkSize(size);
    const path = await this.#compute((read) => inclusionPath(index, size, read));
    return { entry: entryHash, leafIndex: index, treeSize: size, path: path.map((p) => p.toString('hex')) };
  }

  /** Inclusion proofs of many entries against one tree size; entries not in that tree are left out. */
  async inclusionMany(entryHashes: readonly string[], treeSize: number): Promise<InclusionProof[]> {
    await this.#checkSize(treeSize);
    const indexes = await store.leafIndexes(this.#db.pool, entryHashes);
    const wanted = entryHashes
      .map((hash) => ({ hash, index: indexes.get(hash) }))
      .filter((x): x is { hash: string; index: number } => x.index !== undefined && x.index < treeSize);
    const paths = await this.#compute((read) => wanted.map((w) => inclusionPath(w.index, treeSize, read)));
    return wanted.map((w, i) => ({
      entry: w.hash,
      leafIndex: w.index,
      treeSize,
      path: paths[i]!.map((p) => p.toString('hex')),
    }));
  }

  /** The consistency proof that the tree of `first` leaves is a prefix of the tree of `second`. */
  async consistency(first: number, second: number): Promise<ConsistencyProof> {
    if (!Number.isInteger(first) || !Number.isInteger(second) || first < 1 || first > second) {
      throw new IngestError(
        'INGEST_LOG_RANGE',
        `a consistency proof needs 1 ≤ first ≤ second, not ${first} → ${second}`,
      );
    }
    await this.#checkSize(second);
    const path = await this.#compute((read) => consistencyPath(first, second, read));
    return { first, second, path: path.map((p) => p.toString('hex')) };
  }

  /**
   * Drops the stored nodes and recomputes them from the leaves (entries in leaf order), one page at a
   * time. Refuses a log with a missing leaf: that is a rewritten log, not a lost cache.
   */
  async rebuildNodes(): Promise<number> {
    this.#cache.clear();
    return transaction(this.#db, 'rebuild the log nodes', async (tx) => {
      await store.lockSequencer(tx);
      await store.clearNodes(tx);
      let size = 0;
      let known = new Map<string, Buffer>();
      for (;;) {
        const page = await store.leafPage(tx, size, BATCH);
        if (page.length === 0) return size;
        page.forEach((leaf, i) => {
          if (leaf.index !== size + i)
            throw new IngestError(
              'INGEST_LOG_CORRUPT',
              `leaf ${size + i} of the log is missing (next is ${leaf.index})`,
            );
        });
        await store.insertNodes(
          tx,
          appendLeaves(
            size,
            page.map((l) => entryLeafHash(l.hash)),
            known,
          ),
        );
        size += page.length;
        known = pruneTo(known, size);
      }
    });
  }

  /** Recomputes every signed tree head's root from the leaves as they are now [EVIDENCE §20.5]. */
  check(): Promise<LogCheck> {
    return checkLog(this.#db.pool);
  }

  /** Compares the audit log as it is now with the audit head of every signed tree head [EVIDENCE §20.5]. */
  checkAudit(): Promise<AuditHeadCheck> {
    return checkAuditHeads(this.#db.pool);
  }

  /** Sequences every `sequenceMs` and signs a head every `treeHeadMs` when the log grew (both unref'd). */
  start(opts: { sequenceMs: number; treeHeadMs: number }): void {
    this.stop();
    this.#running = true;
    // One timer handle per loop, replaced at each tick (never a growing list); the job in flight is kept so
    // that stopped() can wait for it before the database closes.
    const loop = (slot: number, ms: number, job: () => Promise<unknown>, what: string) => {
      const tick = () => {
        const run = job().catch((err) => this.#log?.error({ err }, `${what} failed`));
        this.#inFlight[slot] = run;
        void run.finally(() => {
          if (this.#running) this.#timers[slot] = setTimeout(tick, ms).unref();
        });
      };
      this.#timers[slot] = setTimeout(tick, ms).unref();
    };
    loop(0, opts.sequenceMs, () => this.sequence(), 'log sequencing');
    loop(
      1,
      opts.treeHeadMs,
      async () => {
        await this.sequence();
        // Compared with the latest head any node stored, so several nodes sign no more heads than one.
        const latest = await this.latestTreeHead();
        if ((await this.size()) !== (latest?.head.size ?? -1)) await this.signTreeHead();
      },
      'tree head signing',
    );
  }

  /** Stops the background timers; a job already running finishes on its own (see stopped()). */
  stop(): void {
    this.#running = false;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
  }

  /** Stops the timers and waits for a job already running, e.g. before the database closes. */
  async stopped(): Promise<void> {
    this.stop();
    await Promise.all(this.#inFlight);
    this.#inFlight = [];
  }

  async #checkSize(size: number): Promise<void> {
    const now = await this.size();
    if (!Number.isInteger(size) || size < 1 || size > now)
      throw new IngestError('INGEST_LOG_RANGE', `tree size ${size} is not in 1..${now}`);
  }

  /** Runs a computation over nodes: learns which it reads, fetches those not cached, runs it again. */
  async #compute<T>(fn: (read: NodeReader) => T): Promise<T> {
    const needed = nodesNeeded(fn);
    const local = new Map<string, Buffer>();
    const missing: NodeId[] = [];
    for (const n of needed) {
      const hash = this.#cache.get(nodeKey(n.level, n.index));
      if (hash) local.set(nodeKey(n.level, n.index), hash);
      else missing.push(n);
    }
    let got = await this.#fetch(missing);
    if (got.length < missing.length) {
      this.#log?.warn(
        { missing: missing.length - got.length },
        'log nodes missing: rebuilding them from the leaves',
      );
      await this.rebuildNodes();
      got = await this.#fetch(missing);
      if (got.length < missing.length)
        throw new IngestError('INGEST_LOG_CORRUPT', 'log nodes are missing even after a rebuild');
    }
    for (const n of got) local.set(nodeKey(n.level, n.index), n.hash);
    return fn((level, index) => {
      const hash = local.get(nodeKey(level, index));
      if (!hash) throw new IngestError('INGEST_LOG_CORRUPT', `log node ${nodeKey(level, index)} is missing`);
      return hash;
    });
  }

  async #fetch(ids: NodeId[]): Promise<store.StoredNode[]> {
    const got: store.StoredNode[] = [];
    for (let i = 0; i < ids.length; i += 10_000) {
      for (const n of await store.readNodes(this.#db.pool, ids.slice(i, i + 10_000))) {
        this.#remember(n.level, n.index, n.hash);
        got.push(n);
      }
    }
    return got;
  }

  #remember(level: number, index: number, hash: Buffer): void {
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(nodeKey(level, index), hash);
  }
}

export type { AuditHeadCheck, LogCheck };
