/**
 * @module Keeps one camera recording for the length of a recording: restarts ffmpeg with backoff when the
 * source stalls, dies or yields no valid segment, and turns every outage into a gap. No silent holes.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { GapReason } from '../../protocol/entry.ts';
import type { Clock } from '../../protocol/time.ts';
import { type AudioPlan, type CaptureInput, PROGRESS_PERIOD_SECONDS } from './ffmpeg-args.ts';
import { type CompletedSegment, type RunExit, SegmenterRun } from './segmenter.ts';
import { SharedTicker } from './shared-ticker.ts';

/** How often a run's watchdog checks the stall, segment and validity rules. */
const WATCHDOG_MS = 1000;

/** Every run's watchdog looks on the same tick: one wake-up a second for a whole room. */
const watchdogTicker = new SharedTicker(WATCHDOG_MS);

/** A hole smaller than this at a run's start is absorbed into the first segment rather than written as a gap. */
export const ABSORB_MS = 100;

/** How to reach a camera. */
export interface StreamSource {
  /**
   * What the next run records; called before every run, since an ONVIF camera's stream URI may change.
   * `recheck` (the default) is set on a recording's first run and after a run that recorded nothing or
   * incomplete segments: the source must look at the camera again rather than reuse what it learnt.
   */
  prepare(options?: { recheck: boolean }): Promise<{ input: CaptureInput; audio: AudioPlan }>;
  /** Who the device is and how far its clock is off ours, sealed into the track's open entry; when it can tell. */
  identify?(): Promise<{ device: string | null; clockOffsetMs?: number }>;
}

/** A segment placed on the gateway's clock. */
export interface PlacedSegment {
  path: string;
  startMs: number;
  durationMs: number;
  run: number;
}

/** A span with no footage, and why. */
export interface Outage {
  fromMs: number;
  toMs: number;
  reason: GapReason;
  detail: string;
}

/** What the supervisor is doing, for consoles and status. */
export type CameraState =
  | { state: 'starting' | 'recording' | 'stopping' | 'stopped'; since: number }
  | { state: 'down'; since: number; reason: GapReason; detail: string };

/** Events of a camera supervisor. */
export interface SupervisorEvents {
  segment: [PlacedSegment];
  gap: [Outage];
  state: [CameraState];
}

/** Settings of a camera supervisor. */
export interface SupervisorOptions {
  track: string;
  source: StreamSource;
  segmentSeconds: number;
  /** No output growth for this long (at least two ffmpeg progress periods) means the source is lost. */
  stallSeconds: number;
  /** Extra time allowed for connecting before the first segment of a run is due. */
  connectGraceMs: number;
  stagingDir: string;
  clock: Clock;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
  ffmpeg?: string;
}

/** One camera's supervisor: starts runs until stopped. */
export class CameraSupervisor extends EventEmitter<SupervisorEvents> {
  readonly #o: SupervisorOptions;
  readonly #log: Logger;
  #cursor = 0;
  #pending: { reason: GapReason; detail: string } = {
    reason: 'source-starting',
    detail: 'waiting for the first segment',
  };
  #stopping = false;
  #run: SegmenterRun | null = null;
  #runNo = 0;
  #wake = new AbortController();
  #loop: Promise<void> | null = null;
  #state: CameraState = { state: 'stopped', since: 0 };
  /** When ffmpeg last listed a segment of the current run. */
  #lastListedAt = 0;
  /** Consecutive segments the recorder found incomplete. */
  #invalidStreak = 0;
  #fileNo = 0;

  constructor(options: SupervisorOptions) {
    super();
    this.#o = { backoff: { initialMs: 500, maxMs: 10_000 }, ...options };
    this.#log = options.log.child({ track: options.track });
  }

  /** The current state. */
  get state(): CameraState {
    return this.#state;
  }

  /** The process id of the running ffmpeg, if one runs. */
  get pid(): number | undefined {
    return this.#run?.pid;
  }

  /** End of the footage placed so far (gateway clock, ms). */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * Starts recording. `cursorMs` is where footage must continue from (the open entry's start, or the end
   * of what was sealed before a gateway restart); a hole before the first segment becomes a gap with `reason`.
   */
  start(
    cursorMs: number,
    reason: GapReason = 'source-starting',
    detail = 'waiting for the first segment',
    firstFile = 0,
  ): void {
    if (this.#loop) return;
    this.#cursor = cursorMs;
    this.#pending = { reason, detail };
    this.#fileNo = firstFile;
    this.#loop = this.#supervise();
  }

  /** Stops recording; resolves after ffmpeg has finished and listed its last (partial) segment. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#setState({ state: 'stopping', since: this.#o.clock.now() });
    this.#wake.abort();
    await this.#run?.stop();
    await this.#loop;
    this.#setState({ state: 'stopped', since: this.#o.clock.now() });
  }

  /** The recorder found a sealed segment complete. */
  markValid(): void {
    this.#invalidStreak = 0;
  }

  /** The recorder found a sealed segment incomplete; two in a row restart the camera. */
  markInvalid(): void {
    this.#invalidStreak++;
  }

  /** Kills the current ffmpeg (tests, and the recorder when segments keep coming out invalid). */
  async restart(detail: string): Promise<void> {
    this.#pending = { reason: 'capture-restarted', detail };
    await this.#run?.kill();
  }

  #setState(s: CameraState): void {
    this.#state = s;
    this.emit('state', s);
  }

  async #supervise(): Promise<void> {
    const { initialMs, maxMs } = this.#o.backoff!;
    let delay = initialMs;
    await mkdir(this.#o.stagingDir, { recursive: true });
    let recheck = true;
    while (!this.#stopping) {
      const runNo = ++this.#runNo;
      let exit: RunExit | null = null;
      let produced = false;
      try {
        const { input, audio } = await this.#o.source.prepare({ recheck });
        if (this.#stopping) break;
        this.#setState({ state: 'starting', since: this.#o.clock.now() });
        produced = await this.#runOnce(runNo, input, audio, (e) => {
          exit = e;
        });
      } catch (err) {
        const e = err as Error & { code?: string };
        this.#pending = { reason: 'source-lost', detail: `${e.code ?? 'ERROR'}: ${e.message}` };
        this.#log.warn({ err: { code: e.code, message: e.message } }, 'camera not available');
      }
      if (this.#stopping) break;
      if (exit) {
        const x: RunExit = exit;
        if (!x.requested) {
          this.#pending = {
            reason: 'capture-restarted',
            detail: `ffmpeg ended (${x.signal ? `signal ${x.signal}` : `exit ${x.code}`}): ${lastLine(x.stderrTail)}`,
          };
        }
        this.#log.warn({ code: x.code, signal: x.signal, stderr: x.stderrTail }, 'capture run ended');
      }
      if (produced) delay = initialMs;
      recheck = !produced || this.#pending.reason === 'segment-invalid';
      this.#setState({ state: 'down', since: this.#o.clock.now(), ...this.#pending });
      try {
        await sleep(delay + Math.floor(Math.random() * (delay / 4)), undefined, {
          signal: this.#wake.signal,
        });
      } catch {
        // woken by stop()
      }
      delay = Math.min(delay * 2, maxMs);
    }
  }

  /** One ffmpeg run; resolves when it has exited. Returns whether it produced a segment. */
  async #runOnce(
    runNo: number,
    input: CaptureInput,
    audio: AudioPlan,
    onExit: (e: RunExit) => void,
  ): Promise<boolean> {
    const o = this.#o;
    const run = new SegmenterRun(
      { input, audio, segmentSeconds: o.segmentSeconds, startNumber: this.#fileNo },
      o.stagingDir,
      `${o.track}-${o.clock.now()}`,
      o.ffmpeg,
    );
    this.#run = run;
    const startedAt = o.clock.now();
    let anchor: number | null = null;
    let produced = false;
    let lastGrowth = startedAt;
    let lastSize = 0;
    this.#lastListedAt = startedAt;
    this.#invalidStreak = 0;
    let lastOutTime = 0;
    run.on('segment', (seg: CompletedSegment) => {
      this.#fileNo++;
      const now = o.clock.now();
      this.#lastListedAt = now;
      // The line arrives ~5 ms after the segment's last write: stream time `end` is now on the gateway clock.
      if (anchor === null) anchor = now - seg.end * 1000;
      let startMs = Math.round(anchor + seg.start * 1000);
      const endMs = Math.round(anchor + seg.end * 1000);
      if (!produced) {
        // The wait for a recording's first segment is absorbed when it is tiny. Any other outage (a restart
        // of ffmpeg or of the gateway) is always written as a gap, however short the clock estimate makes it:
        // footage was lost, and the record says so.
        const startup = this.#pending.reason === 'source-starting';
        if (startMs - this.#cursor > ABSORB_MS || !startup) {
          startMs = Math.max(startMs, this.#cursor);
          this.emit('gap', { fromMs: this.#cursor, toMs: startMs, ...this.#pending });
        } else {
          startMs = this.#cursor;
        }
        produced = true;
        this.#setState({ state: 'recording', since: now });
      }
      // A clock estimate may place a segment a little before the cursor; footage never runs backwards.
      startMs = Math.max(startMs, this.#cursor);
      const placed = Math.max(endMs, startMs);
      this.#cursor = placed;
      this.emit('segment', { path: seg.path, startMs, durationMs: placed - startMs, run: runNo });
    });
    const firstDue = o.segmentSeconds * 2000 + o.connectGraceMs;
    // Twice the segment length, plus a second for timers on a busy machine.
    const nextDue = o.segmentSeconds * 2000 + 1000;
    // Progress comes once a period: a stall limit shorter than two would kill a healthy run.
    const stallMs = Math.max(o.stallSeconds, 2 * PROGRESS_PERIOD_SECONDS) * 1000;
    // The rules count seconds, so the run's watchdog looks once a second, on the room's shared tick.
    const unsubscribe = watchdogTicker.subscribe(() => {
      const now = o.clock.now();
      // ffmpeg's progress file, read now: the segment muxer reports no total_size, so media time advancing
      // is what proves packets flow. A report is at most a period plus a tick old when read.
      const p = run.progress();
      if (p && (p.totalSize > lastSize || p.outTimeUs > lastOutTime)) {
        lastSize = Math.max(lastSize, p.totalSize);
        lastOutTime = Math.max(lastOutTime, p.outTimeUs);
        lastGrowth = now;
      }
      if (now - lastGrowth > stallMs && (produced || now - startedAt > firstDue)) {
        this.#pending = {
          reason: 'source-lost',
          detail: `no data from the camera for ${Math.round((now - lastGrowth) / 1000)} s`,
        };
        void run.kill();
      } else if (now - this.#lastListedAt > (produced ? nextDue : firstDue)) {
        this.#pending = {
          reason: 'source-lost',
          detail: `no segment for ${Math.round((now - this.#lastListedAt) / 1000)} s`,
        };
        void run.kill();
      } else if (this.#invalidStreak >= 2) {
        this.#invalidStreak = 0;
        this.#pending = { reason: 'segment-invalid', detail: 'two segments in a row came out incomplete' };
        void run.kill();
      }
    });
    try {
      const exit = await run.start();
      onExit(exit);
    } finally {
      unsubscribe();
      this.#run = null;
    }
    return produced;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.slice(0, 300) || 'no message';
}
