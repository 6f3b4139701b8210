/**
 * @module One docked device: identify it, offload its new files into its chain (through the spool, so the
 * uplink publishes them), and only once the ingest acknowledged every one of them, wipe/keep/move per policy.
 */
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, realpath, rename, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { DockSettings } from '../../firmware-config/dock-profile.ts';
import { DeviceChain } from '../../protocol/device-chain.ts';
import type { ClockReading, Entry, SignedEntry } from '../../protocol/entry.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { GatewayError, GatewayErrorCode } from '../errors.ts';
import type { Spool } from '../spool/spool.ts';
import { type DeviceIdentity, deviceTrack, identifyDevice } from './device-identity.ts';
import type { DockState, FileRow } from './dock-state.ts';
import type { DeviceStatus } from './dock-status.ts';
import { offloadFile } from './file-offload.ts';
import type { Limiter } from './limiter.ts';
import type { OfficerMap } from './officer-map.ts';
import { extensionOf, type VolumeFile, walkVolume } from './volume-walk.ts';

/** What an instance is given; the supervisor shares the spool, store, state, officers and limiter. */
export interface DeviceInstanceOptions {
  folder: string;
  root: string;
  gateway: string;
  keyPair: KeyPair;
  settings: DockSettings;
  spool: Spool;
  store: ObjectStore;
  state: DockState;
  officers: OfficerMap;
  limiter: Limiter;
  clock: Clock;
  clockReading: () => ClockReading;
  log: Logger;
  /** `<dataDir>/dock`: scratch files and local copies. */
  workDir: string;
  /** Called whenever the status changed. */
  onChange: () => void;
}

const MAX_PROBLEMS = 50;
/** Bytes of a file between two progress reports. */
const PROGRESS_STEP = 4 * 1024 * 1024;

/** One docked device, from docking to removal. */
export class DeviceInstance {
  readonly #o: DeviceInstanceOptions;
  readonly #abort = new AbortController();
  #wake = new AbortController();
  /** A wake came during a round: run another right after it. */
  #dirty = false;
  #loop: Promise<void> | null = null;
  #identity: DeviceIdentity | null = null;
  #chain: DeviceChain | null = null;
  #recording: string | null = null;
  #sealing: Promise<unknown> = Promise.resolve();
  readonly #status: DeviceStatus;
  readonly #seen = new Set<string>();

  constructor(options: DeviceInstanceOptions) {
    this.#o = options;
    this.#status = {
      folder: options.folder,
      serial: null,
      model: null,
      officer: null,
      state: 'identifying',
      recording: null,
      files: { listed: 0, sealed: 0, acknowledged: 0, disposed: 0, refused: 0, bytesTotal: 0, bytesDone: 0 },
      reading: [],
      problems: [],
      problemCount: 0,
    };
  }

  /** A copy of the status. */
  status(): DeviceStatus {
    return structuredClone(this.#status);
  }

  /** Starts the rounds: scan, offload, check acknowledgements, dispose, close. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something happened (an acknowledgement, a change on the volume): run a round now. */
  wake(): void {
    this.#dirty = true;
    this.#wake.abort();
  }

  /** The device is gone (or the gateway stops): in-flight reads end, nothing of them is sealed. */
  async stop(state: 'removed' | 'done' = 'removed'): Promise<void> {
    this.#abort.abort();
    this.#wake.abort();
    await this.#loop;
    await this.#sealing.catch(() => {});
    if (state === 'removed' && this.#status.state !== 'done') this.#set('removed');
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      this.#dirty = false;
      try {
        await this.#round();
      } catch (err) {
        const e = err as GatewayError;
        this.#problem(e.code ?? 'GW_DOCK_READ_FAILED', null, e.message);
        if (e.code === 'GW_DOCK_VOLUME_REMOVED') this.#set('removed');
      }
      if (this.#abort.signal.aborted) break;
      if (this.#dirty) continue;
      this.#wake = new AbortController();
      await sleep(this.#o.settings.scanIntervalMs, undefined, { signal: this.#wake.signal }).catch(() => {});
    }
  }

  async #round(): Promise<void> {
    const { root, settings, state } = this.#o;
    if (!this.#identity) {
      this.#identity = await identifyDevice(root, this.#o.folder, settings.models);
      const officer = this.#o.officers.officerOf(this.#identity.serial);
      Object.assign(this.#status, { serial: this.#identity.serial, model: this.#identity.model, officer });
      if (!officer)
        this.#problem('GW_DOCK_OFFICER_UNKNOWN', null, `no officer is assigned to ${this.#identity.serial}`);
      this.#o.log.info({ folder: this.#o.folder, serial: this.#identity.serial, officer }, 'device docked');
    }
    const serial = this.#identity.serial;
    const model = settings.models.find((m) => m.name === this.#identity!.model);
    const listing = await walkVolume(root, new Set([settings.moveTo]));
    for (const r of listing.refused) this.#problem(r.code, r.name, r.message);
    const candidates: VolumeFile[] = [];
    let refused = listing.refused.length;
    for (const f of listing.files) {
      if (model?.serialFrom === 'info-file' && f.name === model.infoFile) continue;
      if (f.size === 0) {
        refused++;
        this.#problem('GW_DOCK_EMPTY_FILE', f.name, '0 bytes; left on the device');
      } else if (settings.nonMedia === 'ignore' && !settings.mediaExtensions.includes(extensionOf(f.name))) {
        refused++;
        this.#problem('GW_DOCK_NOT_MEDIA', f.name, 'not media; left on the device');
      } else {
        candidates.push(f);
      }
    }
    const fresh = candidates.filter((f) => !state.file(serial, f.name, f.size, f.mtimeMs));
    Object.assign(this.#status.files, {
      listed: candidates.length,
      refused,
      bytesTotal: candidates.reduce((n, f) => n + f.size, 0),
      bytesDone: candidates.filter((f) => !fresh.includes(f)).reduce((n, f) => n + f.size, 0),
    });
    await this.#resumeChain(serial);
    if (fresh.length > 0) this.#set('offloading');
    const results = await Promise.all(
      fresh.map((f) => this.#o.limiter.run(() => this.#offloadOne(serial, f))),
    );
    await this.#sealing;
    this.#count();
    if (this.#abort.signal.aborted || results.includes(false) || !this.#recording) {
      if (!this.#recording && results.every(Boolean)) this.#set('done');
      return;
    }
    await this.#finish(serial);
  }

  /** Reads one file once and seals it; false when it must be tried again on a later round. */
  async #offloadOne(serial: string, file: VolumeFile): Promise<boolean> {
    const reading = { name: file.name, size: file.size, done: 0 };
    this.#status.reading.push(reading);
    try {
      const got = await offloadFile(this.#o.root, file, {
        store: this.#o.store,
        scratchDir: join(this.#o.workDir, 'scratch'),
        copyDir: this.#o.settings.copyToSpool ? join(this.#o.workDir, 'copies') : null,
        signal: this.#abort.signal,
        onBytes: (n) => {
          const before = reading.done;
          reading.done += n;
          this.#status.files.bytesDone += n;
          // progress on the console and MQTT every 4 MiB of a file, not every read
          if (before === 0 || Math.floor(before / PROGRESS_STEP) !== Math.floor(reading.done / PROGRESS_STEP))
            this.#o.onChange();
        },
      });
      if (got.intact === false)
        this.#problem('GW_DOCK_MEDIA_TRUNCATED', file.name, `${got.container} boxes do not fill the file`);
      if (this.#o.state.hasObject(got.sha256))
        this.#problem(
          'GW_DOCK_DUPLICATE_CONTENT',
          file.name,
          `same bytes as a file already offloaded (${got.sha256})`,
        );
      await this.#seal(async () => {
        const chain = await this.#ensureChain(serial);
        const signed = chain.file({
          ...this.#stamp(),
          object: { sha256: got.sha256, size: got.size },
          name: file.name,
          modifiedAt: isoTime(file.mtimeMs),
          createdAt: file.birthtimeMs === null ? null : isoTime(file.birthtimeMs),
          deviceClockOffsetMs: this.#identity?.clockOffsetMs ?? null,
          container: got.container,
          intact: got.intact,
        });
        await this.#o.spool.put(signed);
        this.#o.state.addFile({
          serial,
          name: file.name,
          size: file.size,
          mtime_ms: file.mtimeMs,
          sha256: got.sha256,
          entry_hash: signed.hash,
          recording: this.#recording!,
        });
        this.#status.files.sealed++;
        this.#o.log.info({ serial, name: file.name, sha256: got.sha256, size: got.size }, 'file sealed');
      });
      return true;
    } catch (err) {
      this.#status.files.bytesDone -= reading.done;
      const e = err as GatewayError;
      this.#problem(e.code ?? 'GW_DOCK_READ_FAILED', file.name, e.message);
      return false;
    } finally {
      this.#status.reading = this.#status.reading.filter((r) => r !== reading);
      this.#o.onChange();
    }
  }

  /** Entries of one chain are sealed one at a time, in seq order. */
  #seal(step: () => Promise<void>): Promise<void> {
    const next = this.#sealing.then(step);
    this.#sealing = next.catch(() => {});
    return next;
  }

  /** Picks up the device's open chain after a restart or a re-dock, reconciling the dock state with the spool. */
  async #resumeChain(serial: string): Promise<void> {
    if (this.#chain) return;
    const row = this.#o.state.openChain(serial);
    if (!row) return;
    await this.#seal(async () => {
      const entries = this.#o.spool.chain(row.recording, row.track);
      if ((entries.at(-1)?.entry as Entry | undefined)?.kind === 'close') {
        // a crash fell between spooling the close and recording it here
        this.#o.state.closeChain(row.recording);
        return;
      }
      this.#chainFrom(row.recording, row.track, entries);
    });
  }

  #chainFrom(recording: string, track: string, entries: SignedEntry[]): DeviceChain {
    const serial = this.#identity!.serial;
    // a crash may fall between spooling an entry and recording it here: the spool is the truth
    for (const s of entries) {
      const e = s.entry as Entry;
      if (e.kind === 'file')
        this.#o.state.addFile({
          serial,
          name: e.name,
          size: e.object.size,
          mtime_ms: Date.parse(e.modifiedAt),
          sha256: e.object.sha256,
          entry_hash: s.hash,
          recording,
        });
      if (e.kind === 'disposition') this.#o.state.markDisposed(e.file, s.hash);
    }
    this.#chain = new DeviceChain(this.#id(recording, track), entries);
    this.#recording = recording;
    this.#status.recording = recording;
    return this.#chain;
  }

  async #ensureChain(serial: string): Promise<DeviceChain> {
    if (this.#chain) {
      if (this.#chain.state.nextSeq === 0) await this.#open(serial);
      return this.#chain;
    }
    const recording = randomUUID();
    const track = deviceTrack(serial);
    this.#o.state.beginChain({
      recording,
      serial,
      track,
      officer: this.#status.officer,
      opened_at: this.#o.clock.now(),
    });
    this.#chainFrom(recording, track, []);
    await this.#open(serial);
    return this.#chain!;
  }

  async #open(serial: string): Promise<void> {
    const id = this.#identity!;
    const offset = id.clockOffsetMs === null ? {} : { clockOffsetMs: id.clockOffsetMs };
    const signed = this.#chain!.open({
      ...this.#stamp(),
      start: isoTime(this.#o.clock.now()),
      continuity: 'discrete',
      case: null,
      source: {
        kind: 'bodycam',
        name: `${id.model} ${serial}`,
        device: serial,
        officer: this.#status.officer,
        ...offset,
      },
      startedBy: `dock ${this.#o.gateway}`,
    });
    await this.#o.spool.put(signed);
  }

  /** Once every file of the chain is acknowledged: the policy, one disposition entry per file, then close. */
  async #finish(serial: string): Promise<void> {
    const files = this.#o.state.chainFiles(this.#recording!);
    const states = files.map((f) => this.#o.spool.get(f.entry_hash)?.state);
    if (states.includes('rejected')) {
      this.#set('failed');
      this.#problem('GW_DOCK_WIPE_SKIPPED', null, 'the ingest rejected a file entry; nothing is wiped');
      return;
    }
    if (!states.every((s) => s === 'acknowledged')) {
      this.#set('awaiting-ack');
      return;
    }
    this.#set('disposing');
    await this.#seal(async () => {
      for (const f of files) await this.#dispose(f);
      const signed = this.#chain!.close({
        ...this.#stamp(),
        end: isoTime(this.#o.clock.now()),
        reason: 'stopped',
      });
      await this.#o.spool.put(signed);
      this.#o.state.closeChain(this.#recording!);
      this.#o.log.info({ serial, recording: this.#recording, files: files.length }, 'device chain closed');
      this.#chain = null;
      this.#recording = null;
      this.#status.recording = null;
    });
    this.#count();
    this.#set('done');
  }

  /** Deletes or moves one acknowledged file, sealing the disposition first; a file changed on the device is left. */
  async #dispose(f: FileRow): Promise<void> {
    const { settings, root } = this.#o;
    if (settings.policy === 'keep') return;
    const path = join(root, f.name);
    // A hostile device may swap a folder for a symlink after sealing: never delete or move through one.
    if (!(await insideVolume(root, dirname(path)))) {
      this.#problem('GW_DOCK_SYMLINK', f.name, 'its folder now leads outside the volume; left where it is');
      return;
    }
    const now = await lstat(path).catch(() => null);
    const same = now?.isFile() && now.size === f.size && Math.floor(now.mtimeMs) === f.mtime_ms;
    if (f.state === 'sealed') {
      if (!same) {
        this.#problem('GW_DOCK_WIPE_SKIPPED', f.name, 'changed or gone on the device since it was sealed');
        return;
      }
      const to = settings.policy === 'move' ? `${settings.moveTo}/${f.name}` : null;
      const signed = this.#chain!.disposition({
        ...this.#stamp(),
        file: f.entry_hash,
        name: f.name,
        object: f.sha256,
        action: to ? 'moved' : 'deleted',
        to,
      });
      await this.#o.spool.put(signed);
      this.#o.state.markDisposed(f.entry_hash, signed.hash);
    } else if (!same) {
      return; // disposed before a restart, and already done
    }
    try {
      if (settings.policy === 'move') {
        const dest = join(root, settings.moveTo, f.name);
        await mkdir(dirname(dest), { recursive: true });
        await rename(path, dest);
      } else {
        await unlink(path);
      }
      this.#o.log.info({ name: f.name, policy: settings.policy, sha256: f.sha256 }, 'device file disposed');
    } catch (err) {
      this.#problem('GW_DOCK_WIPE_FAILED', f.name, (err as Error).message);
    }
  }

  #count(): void {
    if (!this.#identity) return;
    const rows = this.#recording ? this.#o.state.chainFiles(this.#recording) : [];
    const f = this.#status.files;
    f.sealed = rows.length;
    f.acknowledged = rows.filter((r) => this.#o.spool.get(r.entry_hash)?.state === 'acknowledged').length;
    f.disposed = rows.filter((r) => r.state === 'disposed').length;
    this.#o.onChange();
  }

  #stamp(): { sealedAt: string; clock: ClockReading } {
    return { sealedAt: isoTime(this.#o.clock.now()), clock: this.#o.clockReading() };
  }

  #id(recording: string, track: string) {
    return {
      gateway: this.#o.gateway,
      keyFingerprint: this.#o.keyPair.publicKey.fingerprint,
      privateKey: this.#o.keyPair.privateKey,
      recording,
      track,
    };
  }

  #set(state: DeviceStatus['state']): void {
    if (this.#status.state === state) return;
    this.#status.state = state;
    this.#o.log.info({ folder: this.#o.folder, serial: this.#status.serial, state }, 'dock device state');
    this.#o.onChange();
  }

  /** Records a coded outcome once per (code, file) in the status, and logs it. */
  #problem(code: GatewayErrorCode | string, name: string | null, message: string): void {
    const key = `${code}\u0000${name ?? ''}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#status.problemCount++;
    this.#status.problems.push({ code, name, message });
    if (this.#status.problems.length > MAX_PROBLEMS) this.#status.problems.shift();
    // untrusted names under a key we control [STYLE habit 7]
    this.#o.log.warn({ code, folder: this.#o.folder, file: name, detail: message }, 'dock file outcome');
    this.#o.onChange();
  }
}

/**
 * Whether `folder`, with every symlink resolved, is the volume root or inside it. A folder that is gone
 * counts as inside: nothing can be deleted through it, and the caller finds the file gone.
 */
async function insideVolume(root: string, folder: string): Promise<boolean> {
  try {
    const [base, real] = await Promise.all([realpath(root), realpath(folder)]);
    return real === base || real.startsWith(base + sep);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
