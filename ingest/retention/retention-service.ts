/**
 * @module Retention at the ingest [EVIDENCE §22]: a recording's class and retain-until, rules per matter, case
 * and recording, legal holds, the S3 Object Lock that follows them, and deletion at the end of retention:
 * by an administrator only, never of a held, unexpired or permanent recording, each leaving a signed
 * tombstone that becomes a leaf of the transparency log.
 */
import type { Logger } from 'pino';
import { canonicalText } from '../../protocol/canonical.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import { objectsDigest, type SignedTombstone, signTombstone } from '../../protocol/tombstone.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { Database } from '../db/open-database.ts';
import * as db from '../db/retention-store.ts';
import { transaction } from '../db/rows.ts';
import { IngestError } from '../errors.ts';
import {
  addMonths,
  type LegalHold,
  objectLockOf,
  RETENTION_MONTHS,
  type RetentionClass,
  type RetentionRule,
  type RetentionStatus,
  retentionOf,
} from './retention-policy.ts';

/** Who acts: the signed-in user and role. */
export interface Actor {
  username: string;
  role: string;
}

/** Collaborators of retention. */
export interface RetentionDeps {
  db: Database;
  store: ObjectStore;
  /** The ingest log key: it signs tombstones as it signs tree heads. */
  keyPair: KeyPair;
  clock?: Clock;
  /** Called after a tombstone is stored, e.g. the transparency log's sequence(). */
  onTombstone?: (t: SignedTombstone) => Promise<unknown>;
  log?: Logger;
}

/** A recording's retention with its tombstone once deleted. */
export interface RetentionView extends RetentionStatus {
  tombstone: SignedTombstone | null;
}

/** What a deletion did. */
export interface DeletionResult {
  tombstone: SignedTombstone;
  /** Objects removed from the store. */
  removed: number;
  /** Objects that could not be removed yet (retried by purge()); 0 normally. */
  pending: number;
}

/** Retention over one database and store. */
export class Retention {
  readonly #d: RetentionDeps;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<unknown> = Promise.resolve();

  constructor(deps: RetentionDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  /** The retention of a recording now; INGEST_NOT_FOUND when unknown. */
  async status(recording: string): Promise<RetentionView> {
    const rec = await this.#recording(this.#d.db.pool, recording);
    const status = retentionOf(await db.retentionFacts(this.#d.db.pool, rec), this.#clock.now());
    const stored = rec.deletedAt ? await db.tombstoneOfRecording(this.#d.db.pool, recording) : null;
    return { ...status, tombstone: stored ? parseStored(stored) : null };
  }

  /** Sets the class and evidence mark of a matter type, a case or one recording; re-locks what it covers. */
  async setRule(
    input: {
      scope: RetentionRule['scope'];
      target: string;
      class: RetentionClass | null;
      evidence: boolean;
      reason: string;
    },
    by: Actor,
  ): Promise<RetentionRule> {
    const rule: RetentionRule = { ...input, setBy: by.username, setAt: isoTime(this.#clock.now()) };
    await transaction(this.#d.db, 'set a retention rule', async (tx) => {
      // A case or recording rule waits for (or holds off) a deletion of what it covers, as a hold does.
      if (input.scope !== 'matter') await db.lockHoldTarget(tx, input.scope, input.target);
      await db.putRule(tx, rule);
    });
    await this.#relock(input.scope, input.target);
    return rule;
  }

  /** Every rule set. */
  rules(): Promise<RetentionRule[]> {
    return db.listRules(this.#d.db.pool);
  }

  /** Places a legal hold on a case or a recording; INGEST_NOT_FOUND when it does not exist. */
  async hold(
    input: { scope: LegalHold['scope']; target: string; reason: string },
    by: Actor,
  ): Promise<LegalHold> {
    const hold = await transaction(this.#d.db, 'place a legal hold', async (tx) => {
      if (!(await db.lockHoldTarget(tx, input.scope, input.target)))
        throw new IngestError('INGEST_NOT_FOUND', `no ${input.scope} ${input.target}`);
      return db.insertHold(tx, {
        ...input,
        heldBy: by.username,
        heldAt: isoTime(this.#clock.now()),
      });
    });
    await this.#relock(input.scope, input.target);
    return hold;
  }

  /** Releases an active legal hold; INGEST_NOT_FOUND when there is none with that id. */
  async release(id: number, reason: string, by: Actor): Promise<LegalHold> {
    const hold = await db.releaseHold(this.#d.db.pool, id, {
      by: by.username,
      at: isoTime(this.#clock.now()),
      reason,
    });
    if (!hold) throw new IngestError('INGEST_NOT_FOUND', `no active legal hold ${id}`);
    await this.#relock(hold.scope, hold.target);
    return hold;
  }

  /** Active legal holds. */
  holds(): Promise<LegalHold[]> {
    return db.activeHolds(this.#d.db.pool);
  }

  /** Recordings whose retention is over now, held or not (held ones say so), oldest first. */
  async expired(limit = 100): Promise<RetentionStatus[]> {
    const now = this.#clock.now();
    // No class is shorter than the standard one: nothing that ended since then can have expired.
    const before = addMonths(isoTime(now), -RETENTION_MONTHS.standard!);
    const out: RetentionStatus[] = [];
    for (const rec of await db.endedBefore(this.#d.db.pool, before, 10_000)) {
      const status = retentionOf(await db.retentionFacts(this.#d.db.pool, rec), now);
      if (status.expired) out.push(status);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Deletes a recording at the end of its retention: only an administrator, only when expired, not held and
   * not permanent. Stores the signed tombstone, marks the recording deleted and drops its objects' index rows
   * in one transaction, then removes the objects from the store (those no other recording uses).
   */
  async delete(recording: string, reason: string, by: Actor): Promise<DeletionResult> {
    if (by.role !== 'admin')
      throw new IngestError(
        'INGEST_FORBIDDEN',
        `only an administrator deletes recordings, not the ${by.role} role`,
      );
    const now = this.#clock.now();
    const { signed, objects } = await transaction(this.#d.db, 'delete a recording', async (tx) => {
      const rec = await this.#recording(tx, recording, true);
      const status = retentionOf(await db.retentionFacts(tx, rec), now);
      refuseUnlessDeletable(status);
      const tracks = await db.trackSummaries(tx, rec.id);
      const all = await db.recordingObjects(tx, rec.id);
      const removed = all.filter((o) => !o.shared);
      const signedTombstone = signTombstone(
        {
          v: 1,
          type: 'tombstone',
          alg: { canon: 'jcs', hash: 'sha-256', sig: 'ed25519' },
          key: this.#d.keyPair.publicKey.fingerprint,
          recording: rec.id,
          caseId: rec.caseId,
          matter: rec.matter,
          room: rec.room,
          gateway: rec.gateway,
          startedAt: rec.startedAt,
          endedAt: rec.endedAt!,
          tracks,
          objects: {
            count: removed.length,
            bytes: removed.reduce((n, o) => n + o.size, 0),
            digest: objectsDigest(removed.map((o) => o.sha256)),
            kept: all.length - removed.length,
          },
          retention: { class: status.class, basis: status.basis, retainUntil: status.retainUntil! },
          deletedBy: by.username,
          deletedAt: isoTime(now),
          reason,
        },
        this.#d.keyPair.privateKey,
      );
      await db.recordDeletion(tx, {
        hash: signedTombstone.hash,
        recording: rec.id,
        text: canonicalText(signedTombstone.tombstone),
        sig: signedTombstone.sig,
        deletedAt: isoTime(now),
        objects: removed.map((o) => o.sha256),
      });
      return { signed: signedTombstone, objects: removed.map((o) => o.sha256) };
    });
    try {
      await this.#d.onTombstone?.(signed);
    } catch (err) {
      // The deletion is committed: it must still be answered and audited. The tombstone is stored and the
      // sequencer's own timer appends it to the log.
      this.#d.log?.error(
        { err, tombstone: signed.hash },
        'retention: tombstone not sequenced now; the log timer will',
      );
    }
    const pending = await this.#removeObjects(signed.hash, objects);
    return { tombstone: signed, removed: objects.length - pending, pending };
  }

  /** Retries the removal of objects of tombstones whose store deletion failed; returns how many remain. */
  async purge(): Promise<number> {
    let left = 0;
    for (const t of await db.unpurgedTombstones(this.#d.db.pool)) {
      const objects = (await db.recordingObjects(this.#d.db.pool, t.recording)).filter((o) => !o.shared);
      left += await this.#removeObjects(
        t.hash,
        objects.map((o) => o.sha256),
      );
    }
    return left;
  }

  /**
   * Sets the S3 Object Lock of every object of a recording to what its retention gives (a no-op on a store
   * without object lock, e.g. a local folder); returns how many objects it set.
   */
  async syncLocks(recording: string): Promise<number> {
    const lock = this.#d.store.lock;
    if (!lock) return 0;
    const status = await this.status(recording);
    if (status.deletedAt) return 0;
    const settings = objectLockOf(status, this.#clock.now());
    const objects = await db.recordingObjects(this.#d.db.pool, recording);
    for (const o of objects) await lock.call(this.#d.store, o.sha256, settings);
    await db.markLocked(this.#d.db.pool, recording, isoTime(this.#clock.now()));
    return objects.length;
  }

  /**
   * Sets the object lock of every ended recording whose lock is not set for its current state (newly ended,
   * or a rule or hold on its matter or case changed); returns how many recordings it set.
   */
  async lockSweep(batch = 200): Promise<number> {
    if (!this.#d.store.lock) return 0;
    let done = 0;
    for (;;) {
      const ids = await db.recordingsToLock(this.#d.db.pool, batch);
      for (const id of ids) {
        await this.syncLocks(id);
        done += 1;
      }
      if (ids.length < batch) return done;
    }
  }

  /** Runs lockSweep() and purge() every `everyMs` (unref'd); a store without object lock only purges. */
  start(opts: { everyMs: number }): void {
    this.stop();
    this.#running = true;
    const tick = () => {
      this.#inFlight = (async () => {
        await this.lockSweep();
        await this.purge();
      })().catch((err) => this.#warn(err));
      void this.#inFlight.finally(() => {
        if (this.#running) this.#timer = setTimeout(tick, opts.everyMs).unref();
      });
    };
    this.#timer = setTimeout(tick, opts.everyMs).unref();
  }

  /** Stops the timer. */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and waits for a sweep already running (before the database closes). */
  async stopped(): Promise<void> {
    this.stop();
    await this.#inFlight;
  }

  /** After a rule or hold changed: the recordings it covers are locked again, now for one, by the sweep for many. */
  async #relock(scope: 'matter' | 'case' | 'recording', target: string): Promise<void> {
    await db.markLocksStale(this.#d.db.pool, scope, target);
    if (scope === 'recording') await this.syncLocks(target).catch((err) => this.#warn(err));
  }

  async #removeObjects(tombstone: string, objects: string[]): Promise<number> {
    const remove = this.#d.store.remove;
    if (!remove) return objects.length;
    let pending = 0;
    for (const sha256 of objects) {
      try {
        await remove.call(this.#d.store, sha256);
      } catch (err) {
        pending += 1;
        this.#warn(err);
      }
    }
    if (pending === 0) await db.markPurged(this.#d.db.pool, tombstone, isoTime(this.#clock.now()));
    return pending;
  }

  async #recording(q: Parameters<typeof db.retentionRecording>[0], id: string, lock = false) {
    const rec = /^[0-9a-f-]{36}$/i.test(id) ? await db.retentionRecording(q, id, lock) : null;
    if (!rec) throw new IngestError('INGEST_NOT_FOUND', `no recording ${id}`);
    return rec;
  }

  #warn(err: unknown): void {
    this.#d.log?.warn({ err }, 'retention: object store step failed (retried later)');
  }
}

/** Throws the coded refusal when a recording may not be deleted now. */
export function refuseUnlessDeletable(status: RetentionStatus): void {
  if (status.deletedAt)
    throw new IngestError(
      'INGEST_RETENTION_DELETED',
      `recording ${status.recording} was deleted at ${status.deletedAt}`,
    );
  if (status.holds.length > 0)
    throw new IngestError(
      'INGEST_RETENTION_HELD',
      `recording ${status.recording} is under legal hold ${status.holds.map((h) => `#${h.id} (${h.scope} ${h.target}: ${h.reason})`).join(', ')}`,
    );
  if (status.class === 'permanent')
    throw new IngestError(
      'INGEST_RETENTION_PERMANENT',
      `recording ${status.recording} is kept permanently (${status.basis})`,
    );
  if (!status.expired)
    throw new IngestError(
      'INGEST_RETENTION_UNEXPIRED',
      status.retainUntil
        ? `recording ${status.recording} is kept until ${status.retainUntil} (${status.class}, ${status.basis})`
        : `recording ${status.recording} is still open: its retention starts when it ends`,
    );
}

function parseStored(t: db.StoredTombstone): SignedTombstone {
  return { tombstone: JSON.parse(t.text), hash: t.hash, sig: t.sig };
}
