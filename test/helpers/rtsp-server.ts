/** @module Starts test/fixtures/rtsp_server.py, a real gst-rtsp-server on 127.0.0.1, for capture tests and benchmarks. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MEDIA_CACHE_DIR, makeTestMedia } from './media.ts';

/** The Debian interpreter: the `python3` on PATH may be a pyenv shim without python3-gi. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/rtsp_server.py', import.meta.url));
/** Ports of the machine's Mosquitto and PostgreSQL, never to be taken by a test server. */
const RESERVED_PORTS = new Set([1883, 5432]);

/** An endless camera made of test sources; defaults are the server's. */
export const LiveMount = z.object({
  kind: z.literal('live'),
  video: z.enum(['h264', 'h265']).nullable().optional().describe('video codec, null for none (default h264)'),
  audio: z.enum(['aac', 'pcmu']).nullable().optional().describe('audio codec, null for none (default aac)'),
  width: z.number().int().positive().optional().describe('frame width (default 640)'),
  height: z.number().int().positive().optional().describe('frame height (default 360)'),
  fps: z.number().int().positive().optional().describe('frame rate; keyframes come every 2 s (default 15)'),
  bitrate: z.number().int().positive().optional().describe('video bitrate in kbit/s (default 600)'),
  overlay: z.boolean().optional().describe('draw the running time on the picture (default true)'),
  shared: z.boolean().optional().describe('one encoder for all clients, like a camera (default true)'),
  seconds: z.number().positive().nullable().optional().describe('end the stream this long after PLAY'),
  file: z.string().nullable().optional().describe('HEVC file served when x265enc is missing (h265 only)'),
});

/** A file played without re-encoding, looping with continuous timestamps. */
export const FileMount = z.object({
  kind: z.literal('file'),
  file: z.string().min(1).describe('MP4, Matroska or MPEG-TS with H.264/H.265 and/or AAC/G.711'),
  loop: z.boolean().optional().describe('start again at the end, forever (default true)'),
  seconds: z.number().positive().nullable().optional().describe('end the stream this long after PLAY'),
  shared: z.boolean().optional().describe('one reader for all clients (default false: each from the start)'),
});

/** What one mount point serves. */
export const MountSpec = z.discriminatedUnion('kind', [LiveMount, FileMount]);
/** What one mount point serves. */
export type MountSpec = z.infer<typeof MountSpec>;

/** Options of {@link startRtspServer}. */
export const RtspServerOptions = z.object({
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .refine((p) => !RESERVED_PORTS.has(p), 'ports 1883 and 5432 belong to Mosquitto and PostgreSQL')
    .optional()
    .describe('port to listen on (default: a free one)'),
  mounts: z
    .record(z.string().startsWith('/'), MountSpec)
    .optional()
    .describe('mount path → what it serves (default DEFAULT_MOUNTS)'),
  readyTimeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('how long to wait for READY (default 30 s)'),
  stopTimeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('SIGTERM grace before SIGKILL (default 5 s)'),
  onLog: z.custom<(line: string) => void>().optional().describe('receives each stderr line of the server'),
});
/** Options of {@link startRtspServer}. */
export type RtspServerOptions = z.input<typeof RtspServerOptions>;

/** The live mounts a server has when none are given: one per kind of camera the tests meet. */
export const DEFAULT_MOUNTS: Record<string, MountSpec> = {
  '/live': { kind: 'live', video: 'h264', audio: 'aac' },
  '/hevc': { kind: 'live', video: 'h265', audio: null },
  '/video-only': { kind: 'live', video: 'h264', audio: null },
  '/audio-only': { kind: 'live', video: null, audio: 'aac' },
  '/g711': { kind: 'live', video: 'h264', audio: 'pcmu' },
};

/** A running server. */
export interface RtspServer {
  /** The port, the same across restarts. */
  readonly port: number;
  /** Whether the server process is alive. */
  readonly running: boolean;
  /** rtsp://127.0.0.1:port/mount */
  url(mount: string): string;
  /** SIGTERM, then waits for the exit (SIGKILL after stopTimeoutMs). Does nothing when stopped. */
  stop(): Promise<void>;
  /** SIGKILL, as a camera losing power; waits for the exit. */
  kill(): Promise<void>;
  /** Stops the server if it runs, then starts it again on the same port and mounts. */
  restart(): Promise<void>;
  /** The last 64 KB the server wrote to stderr. */
  stderr(): string;
}

/** Encoders the GStreamer of this machine has, as reported by `rtsp_server.py --capabilities`. */
export interface RtspCapabilities {
  gstreamer: string;
  x264enc: boolean;
  x265enc: boolean;
  aac: string | null;
  mulawenc: boolean;
  timeoverlay: boolean;
}

let capabilitiesCache: RtspCapabilities | undefined;

/** What the server can encode here (cached for the process). */
export function rtspCapabilities(): RtspCapabilities {
  if (capabilitiesCache) return capabilitiesCache;
  const r = spawnSync(PYTHON, [SCRIPT, '--capabilities'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} --capabilities failed: ${r.error ?? r.stderr}`);
  capabilitiesCache = JSON.parse(r.stdout) as RtspCapabilities;
  return capabilitiesCache;
}

/** Every server process alive in this process, killed if the process exits without stopping them. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** A port nothing listens on right now, found by binding port 0. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    server.close();
    await once(server, 'close');
    if (address && typeof address === 'object' && !RESERVED_PORTS.has(address.port)) return address.port;
  }
}

/**
 * Starts the Python gst-rtsp-server on 127.0.0.1 and resolves once it prints `READY <port>`.
 * Rejects with the server's stderr when it exits or stays silent past readyTimeoutMs. The caller
 * stops it (`t.teardown(() => server.stop())`); a server left running dies with this process,
 * and also on its own when this process is SIGKILLed, because its stdin then closes.
 */
export async function startRtspServer(input: RtspServerOptions = {}): Promise<RtspServer> {
  const opts = RtspServerOptions.parse(input);
  const mounts = await withHevcFallback(opts.mounts ?? DEFAULT_MOUNTS);
  const port = opts.port ?? (await freePort());
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  let log = '';
  let child: ChildProcess | undefined;

  const alive = (c: ChildProcess | undefined): c is ChildProcess =>
    c !== undefined && c.exitCode === null && c.signalCode === null;

  async function exited(c: ChildProcess, timeoutMs: number): Promise<boolean> {
    if (!alive(c)) return true;
    const timer = AbortSignal.timeout(timeoutMs);
    try {
      await once(c, 'exit', { signal: timer });
      return true;
    } catch {
      return false;
    }
  }

  async function launch(): Promise<void> {
    log = '';
    const c = spawn(PYTHON, [SCRIPT, '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child = c;
    track(c);
    c.stdin!.on('error', () => {}); // EPIPE when the server has died: reported by the exit below
    c.stdin!.write(`${JSON.stringify({ host: '127.0.0.1', port, mounts })}\n`);
    createInterface({ input: c.stderr! }).on('line', (line) => {
      log = `${log}${line}\n`.slice(-65_536);
      opts.onLog?.(line);
    });
    const lines = createInterface({ input: c.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`rtsp_server.py did not print READY within ${readyTimeoutMs} ms; stderr:\n${log}`));
      }, readyTimeoutMs);
      lines.on('line', (line) => {
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${PYTHON} ${SCRIPT}: ${err.message}`));
      });
      // 'close' comes after the exit and after stderr has drained, so the log holds the reason.
      c.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`rtsp_server.py exited (${signal ?? code}) before READY; stderr:\n${log}`));
      });
    });
    await ready;
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!alive(c)) return;
    c.kill('SIGTERM');
    if (await exited(c, stopTimeoutMs)) return;
    c.kill('SIGKILL');
    await exited(c, stopTimeoutMs);
  }

  await launch();
  return {
    port,
    get running() {
      return alive(child);
    },
    url: (mount) => `rtsp://127.0.0.1:${port}${mount.startsWith('/') ? mount : `/${mount}`}`,
    stop,
    async kill() {
      const c = child;
      if (!alive(c)) return;
      c.kill('SIGKILL');
      await exited(c, stopTimeoutMs);
    },
    async restart() {
      await stop();
      await launch();
    },
    stderr: () => log,
  };
}

/** Gives h265 live mounts a pre-encoded HEVC file when this GStreamer has no x265enc. */
async function withHevcFallback(mounts: Record<string, MountSpec>): Promise<Record<string, MountSpec>> {
  const needy = Object.entries(mounts).filter(([, m]) => m.kind === 'live' && m.video === 'h265' && !m.file);
  if (needy.length === 0 || rtspCapabilities().x265enc) return mounts;
  const hevc = await makeTestMedia(MEDIA_CACHE_DIR, 'hevc', {
    width: 640,
    height: 360,
    fps: 15,
    seconds: 10,
  });
  return Object.fromEntries(
    Object.entries(mounts).map(([path, m]) => [
      path,
      needy.some(([p]) => p === path) ? { ...m, file: hevc.path } : m,
    ]),
  );
}
