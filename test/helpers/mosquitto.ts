/** @module Starts a private Mosquitto on a free loopback port, with its own config and persistence folder, for broker tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The Debian broker. */
const MOSQUITTO = '/usr/sbin/mosquitto';
/** What Mosquitto 2 prints once its listeners are open. */
const RUNNING = /mosquitto version \S+ running/;

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Port on 127.0.0.1 (default: a free one below the ephemeral range; never 1883). */
  port?: number;
  /** Folder for config, auth files and persistence (default: a temp folder removed at exit). */
  dir?: string;
  /** Contents of `password_file`; when set, anonymous clients are refused. */
  passwordFile?: string;
  /** Contents of `acl_file`. */
  aclFile?: string;
  /** More config lines. */
  config?: string[];
  /** How long to wait for the "running" line (default 10 s). */
  readyTimeoutMs?: number;
  /** SIGTERM grace before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
}

/** A running Mosquitto. */
export interface Mosquitto {
  /** The port, the same across restarts. */
  readonly port: number;
  /** mqtt://127.0.0.1:port */
  readonly url: string;
  /** The folder holding mosquitto.conf, the auth files and data/. */
  readonly dir: string;
  /** Whether the process is alive. */
  readonly running: boolean;
  /** SIGTERM (Mosquitto saves its persistence file), then waits for the exit. Does nothing when stopped. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: nothing is saved since the last autosave. */
  kill(): Promise<void>;
  /** Stops it if it runs, then starts it again on the same port, config and persistence. */
  restart(): Promise<void>;
  /**
   * SIGHUP: Mosquitto reloads its config, password and ACL files (see writeAuthFiles) and, as
   * 2.0.11 does, disconnects clients the new files no longer admit. Resolves once it logs the reload.
   */
  reload(): Promise<void>;
  /** Replaces the password and/or ACL file in place; takes effect on reload() or restart(). */
  writeAuthFiles(files: { passwordFile?: string; aclFile?: string }): void;
  /** Stops it and removes its folder when the helper made it. */
  dispose(): Promise<void>;
  /** The last 64 KB Mosquitto logged. */
  log(): string;
}

/** Ports the machine's own servers hold. */
const RESERVED_PORTS = new Set([1883, 5432]);

/**
 * A port below the kernel's ephemeral range that is free right now. Outgoing connections take their
 * local port from that range, so none of them can take this port while Mosquitto restarts on it.
 */
async function quietPort(): Promise<number> {
  let low = 32768;
  try {
    low =
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {}
  const from = Math.max(1024, low - 12_000);
  for (;;) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (RESERVED_PORTS.has(port)) continue;
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
}

const alive = (c: ChildProcess | undefined): c is ChildProcess =>
  c !== undefined && c.exitCode === null && c.signalCode === null;

/** Every broker alive in this process, killed if the process exits without stopping them. */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Starts Mosquitto and resolves once it logs that it is running; rejects with its log when it exits
 * first or stays silent past readyTimeoutMs. The caller disposes of it (`t.teardown(() => m.dispose())`).
 * A broker left running dies with this process, even when this process is SIGKILLed: a watchdog
 * shell, reading our pipe, kills it when the pipe closes.
 */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  if (opts.port !== undefined && RESERVED_PORTS.has(opts.port)) {
    throw new Error(`port ${opts.port} belongs to the machine's own Mosquitto or PostgreSQL`);
  }
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'quanlu-mosquitto-'));
  if (!opts.dir) tempDirs.add(dir);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  const configPath = join(dir, 'mosquitto.conf');
  const writeFiles = (files: { passwordFile?: string; aclFile?: string }) => {
    if (files.passwordFile !== undefined)
      writeFileSync(join(dir, 'passwd'), files.passwordFile, { mode: 0o600 });
    if (files.aclFile !== undefined) writeFileSync(join(dir, 'acl'), files.aclFile, { mode: 0o600 });
  };
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFiles(opts);

  function writeConfig(port: number): void {
    const config = [
      `listener ${port} 127.0.0.1`,
      'persistence true',
      `persistence_location ${join(dir, 'data')}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      // Run as root, Mosquitto would drop to the `mosquitto` user and silently fail to write data/.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...(opts.passwordFile !== undefined
        ? ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`]
        : ['allow_anonymous true']),
      ...(opts.aclFile !== undefined ? [`acl_file ${join(dir, 'acl')}`] : []),
      ...(opts.config ?? []),
    ];
    writeFileSync(configPath, `${config.join('\n')}\n`);
  }

  let log = '';
  /** Each line Mosquitto logs, across restarts. */
  const lines = new EventEmitter();
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;

  async function exited(c: ChildProcess, timeoutMs: number): Promise<boolean> {
    if (!alive(c)) return true;
    try {
      await once(c, 'exit', { signal: AbortSignal.timeout(timeoutMs) });
      return true;
    } catch {
      return false;
    }
  }

  async function launch(): Promise<void> {
    const c = spawn(MOSQUITTO, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    children.add(c);
    c.once('exit', () => children.delete(c));
    // `read` returns when our end of the pipe closes, which includes this process dying.
    const w = spawn('/bin/sh', ['-c', 'read -r _; kill -9 "$1" 2>/dev/null', 'watchdog', String(c.pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    w.stdin!.on('error', () => {});
    (w.stdin as Socket).unref(); // the pipe must not keep this process alive
    w.unref();
    watchdog = w;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`mosquitto did not start within ${readyTimeoutMs} ms; log:\n${log}`));
      }, readyTimeoutMs);
      createInterface({ input: c.stderr! }).on('line', (line) => {
        log = `${log}${line}\n`.slice(-65_536);
        lines.emit('line', line);
        if (RUNNING.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${MOSQUITTO}: ${err.message}`));
      });
      // 'close' comes after stderr has drained, so the log holds the reason.
      c.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`mosquitto exited (${signal ?? code}) before it was running; log:\n${log}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      await end('SIGKILL');
      throw err;
    }
  }

  async function end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const c = child;
    if (alive(c)) {
      c.kill(signal);
      if (!(await exited(c, stopTimeoutMs))) {
        c.kill('SIGKILL');
        await exited(c, stopTimeoutMs);
      }
    }
    // Only once the broker is gone: the watchdog must never kill a reused pid.
    watchdog?.kill('SIGKILL');
    watchdog = undefined;
  }

  // A free port can be taken between the check and Mosquitto's bind: then try another.
  let port = opts.port ?? (await quietPort());
  for (let attempt = 1; ; attempt++) {
    writeConfig(port);
    try {
      await launch();
      break;
    } catch (err) {
      if (opts.port !== undefined || attempt >= 5 || !log.includes('Address already in use')) throw err;
      port = await quietPort();
    }
  }

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    get running() {
      return alive(child);
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      await launch();
    },
    async reload() {
      const c = child;
      if (!alive(c)) throw new Error('mosquitto is not running');
      const reloaded = new Promise<void>((resolve) => {
        const onLine = (line: string) => {
          if (!line.includes('Reloading config')) return;
          lines.off('line', onLine);
          resolve();
        };
        lines.on('line', onLine);
      });
      c.kill('SIGHUP');
      await reloaded;
    },
    writeAuthFiles: writeFiles,
    async dispose() {
      await end('SIGTERM');
      if (tempDirs.delete(dir)) rmSync(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
}
