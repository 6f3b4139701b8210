/** @module One ffmpeg segmenter process: spawns it, announces completed segments and progress, stops it cleanly. */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SegmenterPlan } from './ffmpeg-args.ts';
import { segmenterArgs } from './ffmpeg-args.ts';
import {
  LineSplitter,
  type ListedSegment,
  lastProgress,
  type ProgressReading,
  parseSegmentLine,
} from './segment-list.ts';

/** How a run ended. */
export interface RunExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we asked it to stop; ffmpeg exits 255 after our SIGINT, which is a normal stop. */
  requested: boolean;
  /** The last lines ffmpeg wrote to stderr, for the log and the gap's detail. */
  stderrTail: string;
}

/** A completed segment file. */
export interface CompletedSegment extends ListedSegment {
  path: string;
}

/** Events of a run. */
export interface SegmenterEvents {
  segment: [CompletedSegment];
  exit: [RunExit];
}

/** Bytes read from the end of the progress file: several blocks of ~250 bytes, so one is whole. */
const PROGRESS_TAIL = 2048;

/** One ffmpeg process cutting one source into segments in `outDir`. */
export class SegmenterRun extends EventEmitter<SegmenterEvents> {
  readonly #plan: SegmenterPlan;
  readonly #outDir: string;
  readonly #ffmpeg: string;
  #child: ChildProcess | null = null;
  #requested = false;
  #stderr: string[] = [];
  #exited: Promise<RunExit> | null = null;
  #progressFd: number | null = null;
  #progressSize = 0;
  #progress: ProgressReading | null = null;
  readonly #tail = Buffer.allocUnsafe(PROGRESS_TAIL);

  constructor(
    plan: Omit<SegmenterPlan, 'progressPath' | 'outputPattern'>,
    outDir: string,
    filePrefix: string,
    ffmpeg = 'ffmpeg',
  ) {
    super();
    this.#outDir = outDir;
    this.#plan = {
      ...plan,
      progressPath: join(outDir, `${filePrefix}.progress`),
      outputPattern: join(outDir, `${filePrefix}-%06d.ts`),
    };
    this.#ffmpeg = ffmpeg;
  }

  /** The arguments ffmpeg is started with (for logs; the RTSP password is the caller's to redact). */
  get args(): string[] {
    return segmenterArgs(this.#plan);
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * ffmpeg's last complete progress report, read from the tail of its progress file (null before the first):
   * called by the watchdog when it looks. Reads nothing when the file has not grown since the last call.
   */
  progress(): ProgressReading | null {
    try {
      this.#progressFd ??= openSync(this.#plan.progressPath, 'r');
      const size = fstatSync(this.#progressFd).size;
      if (size === this.#progressSize) return this.#progress;
      this.#progressSize = size;
      const length = Math.min(size, PROGRESS_TAIL);
      const n = readSync(this.#progressFd, this.#tail, 0, length, size - length);
      this.#progress = lastProgress(this.#tail.toString('latin1', 0, n)) ?? this.#progress;
    } catch {
      // not written yet (ffmpeg starting), or gone: no news
    }
    return this.#progress;
  }

  /** Closes and removes the progress file once ffmpeg has exited. */
  #dropProgress(): void {
    if (this.#progressFd !== null) closeSync(this.#progressFd);
    this.#progressFd = null;
    try {
      unlinkSync(this.#plan.progressPath);
    } catch {
      // never created
    }
  }

  /** Starts ffmpeg. Resolves the returned promise when it exits, however it exits. */
  start(): Promise<RunExit> {
    if (this.#exited) return this.#exited;
    const child = spawn(this.#ffmpeg, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const list = new LineSplitter();
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of list.push(chunk)) {
        const seg = parseSegmentLine(line);
        if (seg) this.emit('segment', { ...seg, path: join(this.#outDir, seg.name) });
      }
    });
    const errLines = new LineSplitter();
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr.push(...errLines.push(chunk));
      if (this.#stderr.length > 20) this.#stderr.splice(0, this.#stderr.length - 20);
    });
    this.#exited = new Promise<RunExit>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, extra?: string) => {
        if (done) return;
        done = true;
        if (extra) this.#stderr.push(extra);
        this.#dropProgress();
        const exit: RunExit = {
          code,
          signal,
          requested: this.#requested,
          stderrTail: this.#stderr.join('\n'),
        };
        this.emit('exit', exit);
        resolve(exit);
      };
      child.on('error', (err) => finish(null, null, `cannot start ${this.#ffmpeg}: ${err.message}`));
      // 'close' waits for stdout to drain, so the last segment line is announced before the exit.
      child.on('close', (code, signal) => finish(code, signal));
    });
    return this.#exited;
  }

  /** Asks ffmpeg to finish (SIGINT: it closes and lists the partial last segment); SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<RunExit | null> {
    if (!this.#child || !this.#exited) return null;
    this.#requested = true;
    this.#child.kill('SIGINT');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills ffmpeg at once (a stalled source). The run's exit says it was requested. */
  async kill(): Promise<RunExit | null> {
    if (!this.#child || !this.#exited) return null;
    this.#requested = true;
    this.#child.kill('SIGKILL');
    return this.#exited;
  }
}
