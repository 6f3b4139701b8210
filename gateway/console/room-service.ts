/**
 * @module The room's recording lifecycle as the console, the CLI and remote commands see it: Start with every
 * element checked and the disk reserve kept, Stop with the tail kept and a summary, and status read from the
 * recorder and the spool, so it survives a page reload and a gateway restart.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedGatewayConfig } from '../../firmware-config/load.ts';
import type { Matter } from '../../firmware-config/matters.ts';
import { CaseElements } from '../../protocol/entry.ts';
import { type Clock, isoTime, timeMs } from '../../protocol/time.ts';
import { GatewayError } from '../errors.ts';
import type { Gateway } from '../gateway.ts';
import { CaseLookups } from './case-lookups.ts';
import { MIB, freeBytes as statfsFreeBytes } from './disk-space.ts';
import { FieldsError } from './field-error.ts';
import type { Officer, OfficerSource } from './officer-list.ts';
import type { CaseLookup } from './officer-sync.ts';
import { checkStartForm, type StartForm } from './start-form.ts';
import { type GapView, trackReport } from './track-report.ts';

/** Settings of the room service. */
export interface RoomServiceOptions {
  gateway: Gateway;
  loaded: LoadedGatewayConfig;
  /** The matters recordable in this room (the matter list filtered by the room profile). */
  matters: Matter[];
  officers: { list: Officer[] | null; source: OfficerSource };
  clock: Clock;
  log: Logger;
  /** Free bytes on the spool's disk; statfs by default. */
  freeBytes?: (dir: string) => Promise<number>;
  /** Looks a case id up at the ingest (officer-sync.ts); without it every case id is accepted offline. */
  caseLookup?: (caseId: string) => Promise<CaseLookup>;
}

/** One track of the running (or last) recording, as the console shows it. */
export interface TrackView {
  track: string;
  name: string;
  camera: string;
  cameraProblem: string | null;
  segments: number;
  bytes: number;
  gaps: GapView[];
  lastSegmentAgeMs: number | null;
  bitrateBps: number | null;
  pending: number;
}

/** What Stop answers and the console shows after it. */
export interface StopSummary {
  recording: string;
  caseId: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  segments: number;
  gaps: number;
  tracks: { track: string; segments: number; gaps: number; bytes: number; pendingHashes: string[] }[];
  /** Hashes of this recording's entries the ingest has not acknowledged yet (they stay in the spool). */
  pendingHashes: string[];
}

/** The running recording, as the console shows it. */
export interface RunningView {
  id: string;
  case: CaseElements;
  startedBy: string;
  startedAt: string;
  durationMs: number;
  /**
   * The case id at the ingest when Start looked it up: 'found' (known), 'new' (a reachable ingest without it: a new
   * case, allowed), 'offline' (no answer, or no ingest API configured: accepted offline).
   */
  caseLookup: CaseLookup;
}

/** Everything GET /api/v1/recording answers, alarms aside. */
export interface RecordingStatus {
  state: 'recording' | 'idle';
  recording: RunningView | null;
  tracks: TrackView[];
  backlog: { entries: number; bytes: number; oldestAgeMs: number };
  uplink: { configured: boolean; connected: boolean };
  disk: { freeBytes: number; startReserveBytes: number };
  lastStopped: StopSummary | null;
}

/** The room's recording lifecycle, shared by the REST API, the CLI (through it) and remote commands. */
export class RoomService {
  readonly #o: RoomServiceOptions;
  readonly #spoolDir: string;
  readonly #free: (dir: string) => Promise<number>;
  #lastStopped: StopSummary | null = null;
  /** The case look-up of each recording, kept in the data folder so a restart still shows it. */
  readonly #lookups: CaseLookups;

  constructor(options: RoomServiceOptions) {
    this.#o = options;
    this.#spoolDir = join(options.loaded.config.gateway.dataDir, 'spool');
    this.#free = options.freeBytes ?? statfsFreeBytes;
    this.#lookups = new CaseLookups(
      join(options.loaded.config.gateway.dataDir, 'console', 'case-lookups.json'),
    );
  }

  /** Bytes below which no new recording starts. */
  get startReserveBytes(): number {
    return this.#o.loaded.config.console.startReserveMiB * MIB;
  }

  /** Free bytes on the spool's disk. */
  freeBytes(): Promise<number> {
    return this.#free(this.#spoolDir);
  }

  /**
   * Starts a recording. Throws FieldsError (GW_RECORDING_ELEMENTS) with every field's problems,
   * GW_DISK_FULL below the start reserve, GW_RECORDING_ACTIVE while one runs. Refused: nothing is recorded.
   */
  async start(form: StartForm): Promise<RunningView> {
    const checked = this.#check(form);
    if (!checked.ok) throw new FieldsError(checked.errors);
    const running = this.#o.gateway.recorder.status();
    if (running) {
      throw new GatewayError(
        'GW_RECORDING_ACTIVE',
        `recording ${running.recording} of case ${running.caseId} is already running in this room`,
      );
    }
    await this.#ensureDisk();
    const { id, matter, officers } = checked.elements;
    // An unknown case at a reachable ingest is normal (a new case); no answer never blocks a Start.
    const lookup = this.#o.caseLookup ? await this.#o.caseLookup(id) : 'offline';
    const started = await this.#o.gateway.recorder.start({
      caseId: id,
      matter,
      officers,
      startedBy: checked.startedBy,
    });
    this.#lookups.set(started.recording, lookup);
    return this.#runningView()!;
  }

  /**
   * Start for a remote command, idempotent by state: while a recording of the same case runs, that recording
   * is the answer; a different case is refused with GW_RECORDING_ACTIVE. Never starts a second recording.
   */
  async startOrJoin(elements: CaseElements, by: string): Promise<{ view: RunningView; started: boolean }> {
    const current = this.#runningView();
    if (current) {
      if (current.case.id === elements.id) return { view: current, started: false };
      throw new GatewayError(
        'GW_RECORDING_ACTIVE',
        `recording ${current.id} of case ${current.case.id} is already running in this room`,
      );
    }
    const view = await this.start({
      caseId: elements.id,
      matter: elements.matter,
      officers: elements.officers,
      room: elements.room,
      startedBy: by,
    });
    return { view, started: true };
  }

  /** Stops the running recording: every track's tail is sealed and its chain closed. GW_RECORDING_NONE if none runs. */
  async stop(): Promise<StopSummary> {
    const { recorder } = this.#o.gateway;
    const before = this.#runningView();
    const summary = await recorder.stop();
    const tracks = summary.tracks.map((t) => {
      const r = trackReport(this.#o.gateway.spool, summary.recording, t.track);
      return {
        track: t.track,
        segments: r.segments,
        gaps: r.gaps.length,
        bytes: r.bytes,
        pendingHashes: r.pendingHashes,
      };
    });
    this.#lastStopped = {
      recording: summary.recording,
      caseId: summary.caseId,
      startedAt: before?.startedAt ?? summary.startedAt,
      endedAt: summary.endedAt ?? isoTime(this.#o.clock.now()),
      durationMs: summary.durationMs,
      segments: tracks.reduce((n, t) => n + t.segments, 0),
      gaps: tracks.reduce((n, t) => n + t.gaps, 0),
      tracks,
      pendingHashes: tracks.flatMap((t) => t.pendingHashes),
    };
    return this.#lastStopped;
  }

  /** The last stopped recording's summary (this process only), or null. */
  get lastStopped(): StopSummary | null {
    return this.#lastStopped;
  }

  /** Per-track state, backlog, uplink and disk, read afresh from the recorder and the spool. */
  async status(): Promise<RecordingStatus> {
    const { gateway, clock, loaded } = this.#o;
    const running = this.#runningView();
    const summary = gateway.recorder.status();
    const names = new Map(loaded.config.cameras.map((c) => [c.id, c.name]));
    const now = clock.now();
    const tracks: TrackView[] = (summary?.tracks ?? []).map((t) => {
      const r = trackReport(gateway.spool, summary!.recording, t.track);
      const last = r.lastSegment;
      return {
        track: t.track,
        name: names.get(t.track) ?? t.track,
        camera: t.camera,
        cameraProblem: t.cameraProblem,
        segments: r.segments,
        bytes: r.bytes,
        gaps: r.gaps,
        lastSegmentAgeMs: last ? Math.max(0, now - (timeMs(last.start) + last.durationMs)) : null,
        bitrateBps: r.bitrateBps,
        pending: r.pendingHashes.length,
      };
    });
    return {
      state: running ? 'recording' : 'idle',
      recording: running,
      tracks,
      backlog: gateway.spool.backlog(),
      uplink: { configured: gateway.uplink !== null, connected: gateway.mqtt?.connected ?? false },
      disk: { freeBytes: await this.freeBytes(), startReserveBytes: this.startReserveBytes },
      lastStopped: this.#lastStopped,
    };
  }

  #check(form: StartForm) {
    const { loaded, matters, officers } = this.#o;
    return checkStartForm(form, {
      room: loaded.config.room.id,
      profile: loaded.profile,
      matters,
      officers: officers.list,
    });
  }

  /** Refuses a new recording below the reserve; first frees acknowledged evidence above the retention floor. */
  async #ensureDisk(): Promise<void> {
    let free = await this.freeBytes();
    if (free >= this.startReserveBytes) return;
    // Only objects the ingest acknowledged can go, and never below retainAckedMiB [DESIGN invariant 1].
    const reclaimed = this.#o.gateway.spool.reclaim();
    if (reclaimed.bytesFreed > 0) free = await this.freeBytes();
    if (free >= this.startReserveBytes) return;
    this.#o.log.error({ freeBytes: free, reserveBytes: this.startReserveBytes }, 'start refused: disk full');
    throw new GatewayError(
      'GW_DISK_FULL',
      `the spool disk has ${Math.floor(free / MIB)} MiB free, below the start reserve of ` +
        `${Math.floor(this.startReserveBytes / MIB)} MiB: free space or wait for the upload backlog to drain; ` +
        'no evidence waiting for the ingest is ever deleted',
    );
  }

  #runningView(): RunningView | null {
    const { gateway, clock } = this.#o;
    const summary = gateway.recorder.status();
    const row = gateway.spool.activeRecording();
    if (!summary || !row || row.id !== summary.recording) return null;
    return {
      id: row.id,
      case: CaseElements.parse(row.case),
      startedBy: row.startedBy,
      startedAt: row.startedAt,
      durationMs: clock.now() - timeMs(row.startedAt),
      caseLookup: this.#lookups.get(row.id) ?? 'offline',
    };
  }
}
