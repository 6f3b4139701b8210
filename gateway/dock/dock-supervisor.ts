/**
 * @module The dock supervisor: watches the dock root (fs.watch plus a rescan), starts one DeviceInstance per
 * mounted device folder, stops it when the folder goes, and reports progress (pino, MQTT, status file).
 */
import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DockSettings } from '../../firmware-config/dock-profile.ts';
import type { ClockReading } from '../../protocol/entry.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { gatewayTopic } from '../../protocol/topics.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import type { GatewayError } from '../errors.ts';
import type { Spool } from '../spool/spool.ts';
import type { IngestFetch } from '../uplink/ingest-https.ts';
import { DeviceInstance } from './device-instance.ts';
import { DockState } from './dock-state.ts';
import type { DeviceStatus, DockStatus } from './dock-status.ts';
import { Limiter } from './limiter.ts';
import { OfficerMap } from './officer-map.ts';

/** What the dock is built from; the spool, store and key are the gateway's. */
export interface DockOptions {
  gateway: string;
  keyPair: KeyPair;
  settings: DockSettings;
  spool: Spool;
  store: ObjectStore;
  /** The gateway data folder; the dock keeps `dock/` in it. */
  dataDir: string;
  clock: Clock;
  clockReading: () => ClockReading;
  log: Logger;
  /** Where progress is published (the gateway's `dock` topic), when connected. */
  mqtt?: MqttClient | null;
  /** How the assignments are fetched from the ingest (global fetch by default; the gateway passes the pinned-CA one). */
  fetch?: IngestFetch;
}

/** Events: `change` whenever a device's status changed (tests and the console wait on it). */
export interface DockEvents {
  change: [DockStatus];
}

/** Path of the status file `quanlu gateway dock status` reads. */
export function dockStatusFile(dataDir: string): string {
  return join(dataDir, 'dock', 'status.json');
}

/** The dock of one gateway. */
export class DockSupervisor extends EventEmitter<DockEvents> {
  readonly #o: DockOptions;
  readonly #state: DockState;
  readonly #officers: OfficerMap;
  readonly #limiter: Limiter;
  readonly #devices = new Map<string, DeviceInstance>();
  /** Devices no longer mounted, with their last status, until they dock again. */
  readonly #gone = new Map<string, DeviceStatus>();
  #watcher: FSWatcher | null = null;
  #running = false;
  #wake = new AbortController();
  #loop: Promise<void> | null = null;
  #writing: Promise<void> = Promise.resolve();
  #reportQueued = false;
  #lastSync = 0;

  constructor(options: DockOptions) {
    super();
    this.#o = options;
    const dir = join(options.dataDir, 'dock');
    this.#state = DockState.open(dir);
    this.#officers = new OfficerMap(join(dir, 'officers.json'));
    this.#limiter = new Limiter(options.settings.parallelFiles);
  }

  /** The device-to-officer map (tests and the CLI can seed it). */
  get officers(): OfficerMap {
    return this.#officers;
  }

  /** Starts watching the dock root. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.#officers.load();
    await this.#syncOfficers();
    this.#loop = this.#run();
  }

  /** An acknowledgement arrived: every device re-checks whether it may now wipe. */
  acknowledged(): void {
    for (const d of this.#devices.values()) d.wake();
  }

  /** Rescan now (a test, or a udev hook). */
  rescan(): void {
    this.#wake.abort();
  }

  /** The status of every device, docked or last seen. */
  status(): DockStatus {
    return {
      gateway: this.#o.gateway,
      at: isoTime(this.#o.clock.now()),
      root: this.#o.settings.root,
      devices: [...[...this.#devices.values()].map((d) => d.status()), ...this.#gone.values()].sort((a, b) =>
        a.folder < b.folder ? -1 : 1,
      ),
    };
  }

  /** Stops every device (in-flight reads end unsealed) and the watcher. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake.abort();
    this.#watcher?.close();
    await this.#loop;
    await Promise.all([...this.#devices.values()].map((d) => d.stop()));
    this.#devices.clear();
    await this.#writing;
    this.#state.close();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#scan();
      } catch (err) {
        this.#o.log.warn(
          { code: 'GW_DOCK_READ_FAILED', err: (err as Error).message },
          'dock root scan failed',
        );
      }
      if (this.#o.clock.now() - this.#lastSync > this.#o.settings.officerSync.everySeconds * 1000)
        await this.#syncOfficers();
      if (!this.#running) break;
      this.#wake = new AbortController();
      await sleep(this.#o.settings.scanIntervalMs, undefined, { signal: this.#wake.signal }).catch(() => {});
    }
  }

  /** Starts an instance per device folder present, stops those whose folder is gone. */
  async #scan(): Promise<void> {
    const root = this.#o.settings.root;
    this.#ensureWatcher(root);
    const names = await readdir(root).catch(() => [] as string[]);
    const present = new Set<string>();
    for (const name of names) {
      const stat = await lstat(join(root, name)).catch(() => null);
      // a mount point is a real folder; a link in the dock root is never followed
      if (stat?.isDirectory()) present.add(name);
    }
    for (const [name, device] of this.#devices) {
      if (present.has(name)) continue;
      this.#devices.delete(name);
      await device.stop('removed');
      this.#gone.set(name, device.status());
      this.#o.log.info({ folder: name }, 'device removed');
      this.#report();
    }
    for (const name of present) {
      if (this.#devices.has(name)) continue;
      this.#gone.delete(name);
      const device = new DeviceInstance({
        folder: name,
        root: join(root, name),
        gateway: this.#o.gateway,
        keyPair: this.#o.keyPair,
        settings: this.#o.settings,
        spool: this.#o.spool,
        store: this.#o.store,
        state: this.#state,
        officers: this.#officers,
        limiter: this.#limiter,
        clock: this.#o.clock,
        clockReading: this.#o.clockReading,
        log: this.#o.log.child({ component: 'dock', folder: name }),
        workDir: join(this.#o.dataDir, 'dock'),
        onChange: () => this.#report(),
      });
      this.#devices.set(name, device);
      device.start();
    }
  }

  #ensureWatcher(root: string): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(root, () => this.rescan());
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch {
      // the root does not exist yet: the rescan finds it later
    }
  }

  async #syncOfficers(): Promise<void> {
    this.#lastSync = this.#o.clock.now();
    const { url, tokenFile } = this.#o.settings.officerSync;
    if (!url) return;
    try {
      const token = tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : null;
      const n = await this.#officers.sync(url, token, this.#o.fetch);
      this.#o.log.info({ assignments: n }, 'officer assignments synced');
    } catch (err) {
      const e = err as GatewayError;
      this.#o.log.warn(
        { code: e.code, err: e.message },
        'officer assignments not synced; using the last copy',
      );
    }
  }

  /** Emits the status now; writes the file and publishes at most once per turn of the event loop. */
  #report(): void {
    this.emit('change', this.status());
    if (this.#reportQueued) return;
    this.#reportQueued = true;
    setImmediate(() => {
      this.#reportQueued = false;
      const status = this.status();
      this.#writing = this.#writing.then(() => this.#publish(status)).catch(() => {});
    });
  }

  async #publish(status: DockStatus): Promise<void> {
    const file = dockStatusFile(this.#o.dataDir);
    await mkdir(join(this.#o.dataDir, 'dock'), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(status));
    await rename(`${file}.tmp`, file);
    const mqtt = this.#o.mqtt;
    if (mqtt?.connected)
      await mqtt
        .publishAsync(gatewayTopic(this.#o.gateway, 'dock'), JSON.stringify(status), { qos: 0 })
        .catch(() => {});
  }
}
