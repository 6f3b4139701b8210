/** @module The room's recording lifecycle: start opens a chain per camera, stop closes them, a restart resumes. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TrackChain } from '../../protocol/chain.ts';
import { CaseElements, type ClockReading, type SignedEntry } from '../../protocol/entry.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type Clock, isoTime, timeMs } from '../../protocol/time.ts';
import { type CameraState, CameraSupervisor, type StreamSource } from '../capture/camera-supervisor.ts';
import { GatewayError } from '../errors.ts';
import type { Spool } from '../spool/spool.ts';
import { chainCursor, TrackRecorder, type TrackStats } from './track-recorder.ts';

/** A camera of the room, ready to record. */
export interface RoomCamera {
  id: string;
  name: string;
  /** A camera (video, and audio when `audio`), or a microphone (audio only), each a track of its own. */
  kind: 'camera' | 'microphone';
  audio: boolean;
  device: string | null;
  source: StreamSource;
}

/** What the operator enters before Start (记录要素). */
export interface RecordingElements {
  caseId: string;
  matter: string;
  officers: string[];
  startedBy: string;
}

/** A recording's summary, as shown after Stop and by status. */
export interface RecordingSummary {
  recording: string;
  caseId: string;
  room: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number;
  tracks: (TrackStats & { camera: CameraState['state']; cameraProblem: string | null })[];
}

/** Settings of a room recorder. */
export interface RoomRecorderOptions {
  gateway: string;
  room: string;
  keyPair: KeyPair;
  cameras: RoomCamera[];
  segmentSeconds: number;
  stallSeconds: number;
  connectGraceMs: number;
  minOfficers: number;
  spool: Spool;
  clock: Clock;
  /** The gateway clock's measured offset, sealed into every entry. */
  clockReading: () => ClockReading;
  log: Logger;
  ffmpeg?: string;
  backoff?: { initialMs: number; maxMs: number };
}

interface Running {
  id: string;
  elements: CaseElements;
  startedBy: string;
  startedAt: number;
  tracks: TrackRecorder[];
  supervisors: Map<string, CameraSupervisor>;
}

/** Events of the room recorder. */
export interface RoomRecorderEvents {
  sealed: [SignedEntry];
  problem: [{ track: string; code: string; message: string }];
  started: [RecordingSummary];
  stopped: [RecordingSummary];
}

/** One room, at most one recording at a time. */
export class RoomRecorder extends EventEmitter<RoomRecorderEvents> {
  readonly #o: RoomRecorderOptions;
  #running: Running | null = null;
  #busy: Promise<unknown> = Promise.resolve();

  constructor(options: RoomRecorderOptions) {
    super();
    this.#o = options;
  }

  /** The running recording's summary, or null. */
  status(): RecordingSummary | null {
    return this.#running ? this.#summary(this.#running, null) : null;
  }

  /** Starts a recording on every camera of the room. Refused while one runs or when an element is missing. */
  start(elements: RecordingElements): Promise<RecordingSummary> {
    return this.#serial(() => this.#start(elements));
  }

  /** Stops the recording: every camera's tail is sealed, every chain closed. Returns the summary. */
  stop(): Promise<RecordingSummary> {
    return this.#serial(() => this.#stop());
  }

  /** After a gateway restart: continues the recording that was running, with a gap for the time it was down. */
  resume(): Promise<RecordingSummary | null> {
    return this.#serial(() => this.#resume());
  }

  /**
   * The gateway is shutting down: every camera's tail is sealed, but no chain is closed and the recording
   * stays active, so the next start resumes it with a gap for the time the gateway was down.
   */
  shutdown(): Promise<void> {
    return this.#serial(async () => {
      const running = this.#running;
      if (!running) return;
      await Promise.allSettled(running.tracks.map((t) => t.suspend()));
      this.#running = null;
      this.#o.log.info(
        { recording: running.id },
        'recording suspended for shutdown; it resumes on the next start',
      );
    });
  }

  /** The supervisor of a camera of the running recording (tests and the console use it). */
  supervisor(track: string): CameraSupervisor | undefined {
    return this.#running?.supervisors.get(track);
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(job, job);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  async #start(input: RecordingElements): Promise<RecordingSummary> {
    if (this.#running) {
      throw new GatewayError(
        'GW_RECORDING_ACTIVE',
        `recording ${this.#running.id} is already running in room ${this.#o.room}`,
      );
    }
    const elements = this.#checkElements(input);
    const o = this.#o;
    const id = randomUUID();
    const now = o.clock.now();
    const running: Running = {
      id,
      elements,
      startedBy: input.startedBy,
      startedAt: now,
      tracks: [],
      supervisors: new Map(),
    };
    o.spool.beginRecording({
      id,
      case: elements,
      room: o.room,
      startedBy: input.startedBy,
      startedAt: isoTime(now),
      tracks: o.cameras.map((c) => c.id),
    });
    const identities = await Promise.all(o.cameras.map((c) => this.#identify(c)));
    for (const [i, camera] of o.cameras.entries()) {
      const identity = identities[i]!;
      const chain = this.#chain(id, camera.id);
      const open = chain.open({
        sealedAt: isoTime(now),
        clock: o.clockReading(),
        start: isoTime(now),
        continuity: 'continuous',
        case: elements,
        source: { kind: camera.kind, name: camera.name, officer: null, ...identity },
        startedBy: input.startedBy,
      });
      await o.spool.put(open);
      this.emit('sealed', open);
      this.#track(running, camera, chain).supervisor.start(now);
    }
    this.#running = running;
    o.log.info({ recording: id, case: elements.id, cameras: o.cameras.length }, 'recording started');
    const summary = this.#summary(running, null);
    this.emit('started', summary);
    return summary;
  }

  async #resume(): Promise<RecordingSummary | null> {
    const o = this.#o;
    if (this.#running) return this.#summary(this.#running, null);
    const row = o.spool.activeRecording();
    if (!row) return null;
    const elements = CaseElements.parse(row.case);
    const running: Running = {
      id: row.id,
      elements,
      startedBy: row.startedBy,
      startedAt: timeMs(row.startedAt),
      tracks: [],
      supervisors: new Map(),
    };
    const tracks = z.array(z.string()).parse(row.tracks);
    const downSince: number[] = [];
    for (const camera of o.cameras.filter((c) => tracks.includes(c.id))) {
      const entries = o.spool.chain(row.id, camera.id);
      const state = TrackChain.stateOf(entries);
      if (state.closed) continue;
      const chain = this.#chain(row.id, camera.id, entries.length ? state : undefined);
      let cursor = chainCursor(entries);
      if (cursor === null) {
        // The gateway died between beginRecording and this camera's open: open it now.
        const now = o.clock.now();
        const open = chain.open({
          sealedAt: isoTime(now),
          clock: o.clockReading(),
          start: isoTime(now),
          continuity: 'continuous',
          case: elements,
          source: { kind: 'camera', name: camera.name, device: camera.device, officer: null },
          startedBy: row.startedBy,
        });
        await o.spool.put(open);
        cursor = now;
      }
      downSince.push(cursor);
      const detail = `the gateway was not recording from ${isoTime(cursor)} until it restarted`;
      this.#track(running, camera, chain).supervisor.start(cursor, 'gateway-down', detail);
    }
    this.#running = running;
    o.log.warn(
      { recording: row.id, since: downSince.length ? isoTime(Math.min(...downSince)) : null },
      'recording resumed after restart',
    );
    return this.#summary(running, null);
  }

  async #stop(): Promise<RecordingSummary> {
    const running = this.#running;
    if (!running)
      throw new GatewayError('GW_RECORDING_NONE', `no recording is running in room ${this.#o.room}`);
    const stopAt = this.#o.clock.now();
    const results = await Promise.allSettled(running.tracks.map((t) => t.stop(stopAt)));
    this.#o.spool.endRecording(running.id, isoTime(stopAt));
    this.#running = null;
    const summary = this.#summary(running, stopAt);
    const failed = results.filter((r) => r.status === 'rejected');
    this.#o.log.info(
      { recording: running.id, failed: failed.length, tracks: summary.tracks.length },
      'recording stopped',
    );
    this.emit('stopped', summary);
    if (failed.length) throw (failed[0] as PromiseRejectedResult).reason;
    return summary;
  }

  /** Asks a camera who it is and how far its clock is off; a camera that cannot tell still records. */
  async #identify(camera: RoomCamera): Promise<{ device: string | null; clockOffsetMs?: number }> {
    if (!camera.source.identify) return { device: camera.device };
    try {
      return await camera.source.identify();
    } catch (err) {
      const e = err as Error & { code?: string };
      this.#o.log.warn(
        { track: camera.id, err: { code: e.code, message: e.message } },
        'camera could not be identified',
      );
      return { device: camera.device };
    }
  }

  #checkElements(input: RecordingElements): CaseElements {
    const parsed = CaseElements.safeParse({
      id: input.caseId,
      matter: input.matter,
      officers: input.officers,
      room: this.#o.room,
    });
    const problems: string[] = parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join('.') || 'case'}: ${i.message}`);
    const officers = new Set(input.officers);
    if (officers.size !== input.officers.length) problems.push('officers: an officer is listed twice');
    if (officers.size < this.#o.minOfficers)
      problems.push(
        `officers: at least ${this.#o.minOfficers} officers must be present, ${officers.size} given`,
      );
    if (!input.startedBy) problems.push('startedBy: who starts the recording must be known');
    if (problems.length || !parsed.success) {
      throw new GatewayError('GW_RECORDING_ELEMENTS', `the recording cannot start: ${problems.join('; ')}`);
    }
    return parsed.data;
  }

  #chain(recording: string, track: string, state?: ReturnType<typeof TrackChain.stateOf>): TrackChain {
    const o = this.#o;
    return new TrackChain(
      {
        gateway: o.gateway,
        keyFingerprint: o.keyPair.publicKey.fingerprint,
        privateKey: o.keyPair.privateKey,
        recording,
        track,
      },
      state,
    );
  }

  #track(running: Running, camera: RoomCamera, chain: TrackChain): { supervisor: CameraSupervisor } {
    const o = this.#o;
    const supervisor = new CameraSupervisor({
      track: camera.id,
      source: camera.source,
      segmentSeconds: o.segmentSeconds,
      stallSeconds: o.stallSeconds,
      connectGraceMs: o.connectGraceMs,
      stagingDir: join(o.spool.stagingPath(camera.id)),
      clock: o.clock,
      log: o.log,
      ...(o.ffmpeg ? { ffmpeg: o.ffmpeg } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
    });
    const recorder = new TrackRecorder(
      camera.id,
      chain,
      supervisor,
      o.spool,
      o.clock,
      o.clockReading,
      { video: camera.kind === 'camera', audio: camera.audio || camera.kind === 'microphone' },
      o.log.child({ track: camera.id }),
    );
    recorder.on('sealed', (s) => this.emit('sealed', s));
    recorder.on('problem', (p) => this.emit('problem', { track: camera.id, ...p }));
    running.tracks.push(recorder);
    running.supervisors.set(camera.id, supervisor);
    return { supervisor };
  }

  #summary(running: Running, endedAt: number | null): RecordingSummary {
    const end = endedAt ?? this.#o.clock.now();
    return {
      recording: running.id,
      caseId: running.elements.id,
      room: this.#o.room,
      startedAt: isoTime(running.startedAt),
      endedAt: endedAt === null ? null : isoTime(endedAt),
      durationMs: end - running.startedAt,
      tracks: running.tracks.map((t) => {
        const state = running.supervisors.get(t.track)?.state;
        return {
          ...t.stats,
          camera: state?.state ?? 'stopped',
          cameraProblem: state?.state === 'down' ? `${state.reason}: ${state.detail}` : null,
        };
      }),
    };
  }
}
