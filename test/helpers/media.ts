/** @module Test media made with the system ffmpeg, cached by its parameters so test runs do not re-encode. */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The stable cache folder shared by test runs and the benchmark. */
export const MEDIA_CACHE_DIR = join(tmpdir(), 'quanlu-media-cache');

/** What a file carries: video codec, then audio codec (none when absent). */
export type MediaKind = 'h264-aac' | 'h264' | 'hevc' | 'hevc-aac' | 'h264-pcmu' | 'aac';

/** How a test file looks; every field has a small default. */
export interface MediaOptions {
  /** Frame width in pixels (default 320). */
  width?: number;
  /** Frame height in pixels (default 240). */
  height?: number;
  /** Frames per second (default 25). */
  fps?: number;
  /** Length in seconds (default 4). */
  seconds?: number;
  /** Video bitrate in kbit/s (default 500); 1080p cameras run about 4000. */
  bitrateKbps?: number;
  /** Seconds between keyframes, fixed (no scene-cut keyframes) as on a camera (default 2). */
  gopSeconds?: number;
  /** Burn the presentation time and frame number into the picture (default true). */
  clock?: boolean;
  /** Tone frequency in Hz for the audio track (default 1000). */
  toneHz?: number;
}

/** A generated file and how it came to be. */
export interface TestMedia {
  /** Absolute path of the file (MP4, or Matroska for G.711, which MP4 cannot carry). */
  path: string;
  /** True when the file came from the cache and nothing was encoded. */
  cached: boolean;
  /** Wall time spent encoding, 0 when cached. */
  encodeMs: number;
  /** Whether the picture carries the burned-in clock. */
  clock: boolean;
  /** Why the clock is missing though it was asked for. */
  note?: string;
  /** The options after defaults. */
  options: Required<MediaOptions>;
}

/** Bump when the recipe below changes, so cached files made by an older recipe are not reused. */
const RECIPE = 2;

const DEFAULTS: Required<MediaOptions> = {
  width: 320,
  height: 240,
  fps: 25,
  seconds: 4,
  bitrateKbps: 500,
  gopSeconds: 2,
  clock: true,
  toneHz: 1000,
};

const FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
];

let drawtextFont: string | null | undefined;

/** A font file drawtext can use, or null when ffmpeg lacks drawtext or no known font exists. */
function clockFont(): string | null {
  if (drawtextFont !== undefined) return drawtextFont;
  const filters = spawnSync('ffmpeg', ['-hide_banner', '-filters'], { encoding: 'utf8' });
  const hasDrawtext = /\sdrawtext\s/.test(filters.stdout ?? '');
  drawtextFont = hasDrawtext ? (FONTS.find((f) => existsSync(f)) ?? null) : null;
  return drawtextFont;
}

const pending = new Map<string, Promise<{ cached: boolean; encodeMs: number }>>();

/**
 * Makes (or finds in `dir`) a test file of `kind`: a testsrc2 picture with a burned-in clock and a
 * sine tone, at a fixed GOP and without B-frames, as IP cameras send. Files are named by a hash of
 * their parameters and written under a temporary name, then renamed, so concurrent runs never see
 * a half-written file. Pass {@link MEDIA_CACHE_DIR} to share the cache between runs.
 */
export function makeTestMedia(dir: string, kind: MediaKind, opts: MediaOptions = {}): Promise<TestMedia> {
  const options = { ...DEFAULTS, ...opts };
  const font = options.clock ? clockFont() : null;
  const note =
    options.clock && font === null
      ? 'ffmpeg drawtext or a font is unavailable: no burned-in clock'
      : undefined;
  return cached(dir, kind, options, font, note).catch(async (err: Error) => {
    if (font === null) throw err;
    // A broken font or fontconfig set-up must not stop the tests: carry on without the clock.
    drawtextFont = null;
    return cached(
      dir,
      kind,
      options,
      null,
      `drawtext failed, no burned-in clock: ${err.message.slice(-300)}`,
    );
  });
}

/** One encode per file at a time within this process; other processes are kept apart by rename. */
function cached(
  dir: string,
  kind: MediaKind,
  options: Required<MediaOptions>,
  font: string | null,
  note: string | undefined,
): Promise<TestMedia> {
  const key = createHash('sha256')
    .update(JSON.stringify({ RECIPE, kind, options, clock: font !== null }))
    .digest('hex')
    .slice(0, 24);
  const ext = kind === 'h264-pcmu' ? 'mkv' : 'mp4';
  const path = join(dir, `${kind}-${options.width}x${options.height}-${key}.${ext}`);
  const result = { path, options, clock: font !== null, ...(note ? { note } : {}) };
  let made = pending.get(path);
  if (!made) {
    made = produce(
      path,
      encodeArgs(kind, options, font, `${path}.${process.pid}.${randomUUID()}.tmp`),
    ).finally(() => pending.delete(path));
    pending.set(path, made);
  }
  return made.then((outcome) => ({ ...result, ...outcome }));
}

async function produce(path: string, args: string[]): Promise<{ cached: boolean; encodeMs: number }> {
  if (await isFile(path)) return { cached: true, encodeMs: 0 };
  await mkdir(dirname(path), { recursive: true });
  const temp = args.at(-1)!;
  const started = performance.now();
  try {
    await ffmpeg(args);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  return { cached: false, encodeMs: Math.round(performance.now() - started) };
}

function encodeArgs(kind: MediaKind, o: Required<MediaOptions>, font: string | null, out: string): string[] {
  const gop = Math.max(1, Math.round(o.fps * o.gopSeconds));
  const video = kind !== 'aac';
  const audio = kind !== 'h264' && kind !== 'hevc';
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`);
  if (audio) {
    const rate = kind === 'h264-pcmu' ? 8000 : 48000;
    args.push('-f', 'lavfi', '-i', `sine=frequency=${o.toneHz}:sample_rate=${rate}`);
  }
  args.push('-t', String(o.seconds));
  if (video) {
    if (font !== null) {
      const size = Math.max(12, Math.round(o.height / 12));
      args.push(
        '-vf',
        `drawtext=fontfile=${font}:text='%{pts\\:hms}  #%{n}':fontsize=${size}:fontcolor=white` +
          ':box=1:boxcolor=black@0.6:boxborderw=6:x=20:y=20',
      );
    }
    const rate = [
      `-b:v`,
      `${o.bitrateKbps}k`,
      '-maxrate',
      `${o.bitrateKbps}k`,
      '-bufsize',
      `${o.bitrateKbps * 2}k`,
    ];
    if (kind.startsWith('hevc')) {
      args.push('-c:v', 'libx265', '-preset', 'ultrafast', '-tag:v', 'hvc1', ...rate);
      args.push('-x265-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=0:log-level=error`);
    } else {
      args.push('-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', ...rate);
      args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-bf', '0');
    }
    args.push('-pix_fmt', 'yuv420p');
  }
  if (audio) {
    if (kind === 'h264-pcmu') args.push('-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1');
    else args.push('-c:a', 'aac', '-b:a', '64k', '-ac', '1');
  }
  if (kind === 'h264-pcmu') args.push('-f', 'matroska', out);
  else args.push('-movflags', '+faststart', '-f', 'mp4', out);
  return args;
}

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg ${args.join(' ')} failed (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
