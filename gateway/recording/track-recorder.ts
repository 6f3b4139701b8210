/** @module Seals one camera's segments and outages into its chain, in order, and closes it on stop. */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { TrackChain } from '../../protocol/chain.ts';
import type { ClockReading, Entry, GapReason, SignedEntry } from '../../protocol/entry.ts';
import { type Clock, isoTime, timeMs } from '../../protocol/time.ts';
import {
  ABSORB_MS,
  type CameraSupervisor,
  type Outage,
  type PlacedSegment,
} from '../capture/camera-supervisor.ts';
import { GatewayError } from '../errors.ts';
import type { Spool } from '../spool/spool.ts';
import { hashSegment, segmentProblem } from './hash-segment.ts';

/** Counters of one track, for the console and the stop summary. */
export interface TrackStats {
  track: string;
  segments: number;
  gaps: number;
  bytes: number;
  invalidSegments: number;
  lastSegmentAt: number | null;
  lastHash: string | null;
  merkleRoot: string | null;
  error: string | null;
}

/** Events of a track recorder. */
export interface TrackRecorderEvents {
  sealed: [SignedEntry];
  problem: [{ code: string; message: string }];
}

/** Where a chain's footage ends: the end of its last segment or gap, or its open's start. */
export function chainCursor(entries: readonly SignedEntry[]): number | null {
  let cursor: number | null = null;
  for (const s of entries) {
    const e = s.entry as Entry;
    if (e.kind === 'open') cursor = timeMs(e.start);
    else if (e.kind === 'segment') cursor = timeMs(e.start) + e.durationMs;
    else if (e.kind === 'gap') cursor = timeMs(e.to);
  }
  return cursor;
}

/** Binds a camera supervisor to a chain and the spool. Every write goes through one queue, so seq order is event order. */
export class TrackRecorder extends EventEmitter<TrackRecorderEvents> {
  readonly stats: TrackStats;
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly track: string,
    private readonly chain: TrackChain,
    private readonly supervisor: CameraSupervisor,
    private readonly spool: Spool,
    private readonly clock: Clock,
    private readonly reading: () => ClockReading,
    /** The streams every segment must hold: video and audio for a camera with sound, audio for a microphone. */
    private readonly expect: { video: boolean; audio: boolean },
    private readonly log: Logger,
  ) {
    super();
    this.stats = {
      track,
      segments: 0,
      gaps: 0,
      bytes: 0,
      invalidSegments: 0,
      lastSegmentAt: null,
      lastHash: chain.state.prev,
      merkleRoot: null,
      error: null,
    };
    supervisor.on('segment', (seg) => this.#enqueue(() => this.#sealSegment(seg)));
    supervisor.on('gap', (gap) => this.#enqueue(() => this.#sealGap(gap)));
  }

  /** Seals an entry and spools it; the entry exists only once the spool has it. */
  async #write(signed: SignedEntry, object?: { path: string; sha256: string; size: number }): Promise<void> {
    await this.spool.put(signed, object);
    this.stats.lastHash = signed.hash;
    this.emit('sealed', signed);
  }

  #enqueue(job: () => Promise<void> | void): Promise<void> {
    this.#queue = this.#queue.then(job).catch((err: Error & { code?: string }) => {
      // A failed write is not swallowed: the track records the error, the console and the status show it.
      this.stats.error = `${err.code ?? 'ERROR'}: ${err.message}`;
      this.log.error({ err: { code: err.code, message: err.message } }, 'sealing failed');
      this.emit('problem', { code: err.code ?? 'GW_SPOOL_IO', message: err.message });
    });
    return this.#queue;
  }

  async #sealSegment(seg: PlacedSegment): Promise<void> {
    const facts = await hashSegment(seg.path);
    const problem = segmentProblem(facts.ts, this.expect);
    if (problem) {
      // Sealed all the same: evidence is never dropped. The watchdog restarts the camera if it persists.
      this.stats.invalidSegments++;
      this.supervisor.markInvalid();
      this.log.warn({ path: seg.path, problem, streams: facts.ts.streams }, 'segment is incomplete');
      this.emit('problem', { code: 'GW_SEGMENT_INVALID', message: `${this.track}: ${problem}` });
    } else {
      this.supervisor.markValid();
    }
    const signed = this.chain.segment({
      sealedAt: isoTime(this.clock.now()),
      clock: this.reading(),
      object: { sha256: facts.sha256, size: facts.size },
      start: isoTime(seg.startMs),
      durationMs: seg.durationMs,
      container: 'mpegts',
      name: null,
    });
    await this.#write(signed, { path: seg.path, sha256: facts.sha256, size: facts.size });
    this.stats.segments++;
    this.stats.bytes += facts.size;
    this.stats.lastSegmentAt = this.clock.now();
  }

  async #sealGap(gap: Outage): Promise<void> {
    await this.#write(
      this.chain.gap({
        sealedAt: isoTime(this.clock.now()),
        clock: this.reading(),
        from: isoTime(gap.fromMs),
        to: isoTime(gap.toMs),
        reason: gap.reason,
        detail: gap.detail.slice(0, 500),
      }),
    );
    this.stats.gaps++;
    this.log.info({ from: isoTime(gap.fromMs), to: isoTime(gap.toMs), reason: gap.reason }, 'gap sealed');
  }

  /** Stops the camera and seals its tail without closing the chain: the gateway is shutting down and will resume. */
  async suspend(): Promise<void> {
    await this.supervisor.stop();
    await this.#queue;
  }

  /**
   * Stops the camera, seals the tail segment, a final gap if the camera was down at the stop, then the
   * close entry with the Merkle root. Resolves when the close is spooled.
   */
  async stop(stopAtMs: number): Promise<void> {
    // What the camera was doing when the stop came: if it was down, the closing gap says why.
    const state = this.supervisor.state;
    await this.supervisor.stop();
    await this.#queue;
    const cursor = this.supervisor.cursor;
    await this.#enqueue(async () => {
      let end = cursor;
      if (stopAtMs - cursor > ABSORB_MS * 5) {
        const down = state.state === 'down' ? state : null;
        const reason: GapReason = down?.reason ?? 'source-lost';
        this.#sealGap({
          fromMs: cursor,
          toMs: stopAtMs,
          reason,
          detail: down?.detail ?? 'no footage until the stop',
        });
        end = stopAtMs;
      }
      const signed = this.chain.close({
        sealedAt: isoTime(this.clock.now()),
        clock: this.reading(),
        end: isoTime(end),
        reason: 'stopped',
      });
      await this.#write(signed);
      this.stats.merkleRoot = (signed.entry as { merkleRoot: string }).merkleRoot;
    });
    if (this.stats.error) throw new GatewayError('GW_SPOOL_IO', `track ${this.track}: ${this.stats.error}`);
  }
}
