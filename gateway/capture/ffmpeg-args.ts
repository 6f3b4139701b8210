/** @module Builds ffmpeg and ffprobe argument arrays. Pure: no process is started here. */

/** Where the pictures come from. */
export type CaptureInput =
  /** `audioOnly`: a microphone's stream; any video it carries is left out. */
  | { kind: 'rtsp'; url: string; timeoutMs: number; audioOnly?: boolean }
  /** A synthetic microphone: a paced test tone. */
  | { kind: 'synthetic-tone'; toneHz: number }
  | {
      kind: 'synthetic';
      width: number;
      height: number;
      fps: number;
      bitrateKbps: number;
      toneHz: number;
      /** A TrueType font for the burned-in clock; null draws no clock. */
      fontFile: string | null;
      /** Text drawn above the clock, e.g. the camera name. */
      label: string;
      /** Gateway wall time (epoch ms) of the first frame: the burned-in clock counts from it. */
      clockEpochMs: number;
    };

/** What happens to the audio of the source. */
export type AudioPlan = 'copy' | 'aac' | 'none';

/** Everything a segmenter run needs. */
export interface SegmenterPlan {
  input: CaptureInput;
  audio: AudioPlan;
  /** Target segment length; the real cut waits for the next keyframe. */
  segmentSeconds: number;
  /** ffmpeg's output pattern, e.g. /spool/staging/cam-1/r3-%06d.ts */
  outputPattern: string;
  /** Number of the first segment file of this run. */
  startNumber: number;
  /**
   * The file ffmpeg appends its progress blocks (key=value lines) to, once a period. A file, not a pipe: the
   * camera's watchdog reads its tail when it looks, so a report wakes nothing (~250 bytes a second).
   */
  progressPath: string;
}

/**
 * How often ffmpeg reports progress, in seconds. The stall rule counts whole seconds (5 by default) and the
 * watchdog looks once a second, so a report a second is enough.
 */
export const PROGRESS_PERIOD_SECONDS = 1;

/** Audio codecs MPEG-TS carries and browsers play through MSE; others are converted to AAC. */
export const TS_AUDIO_CODECS = new Set(['aac', 'mp3']);

/** Video codecs recorded as evidence. HEVC is refused: Chromium cannot play it through MSE here. */
export const VIDEO_CODECS = new Set(['h264']);

/** Decides the audio plan from the codec the source offers (null when it has no audio). */
export function audioPlanFor(codec: string | null, wanted: boolean): AudioPlan {
  if (!wanted || codec === null) return 'none';
  return TS_AUDIO_CODECS.has(codec) ? 'copy' : 'aac';
}

/** Escapes text for a drawtext `text=` value inside a filter graph. */
export function drawtextEscape(text: string): string {
  return text.replace(/[\\':%,;[\]=]/g, (c) => `\\${c}`);
}

function inputArgs(input: CaptureInput, segmentSeconds: number): string[] {
  if (input.kind === 'rtsp') {
    return ['-rtsp_transport', 'tcp', '-timeout', String(input.timeoutMs * 1000), '-i', input.url];
  }
  if (input.kind === 'synthetic-tone') {
    return ['-re', '-f', 'lavfi', '-i', `sine=frequency=${input.toneHz}:sample_rate=48000`];
  }
  const { width, height, fps } = input;
  // -re paces the test source at its frame rate, as a real camera would deliver it.
  const video = `testsrc2=size=${width}x${height}:rate=${fps}`;
  const audio = `sine=frequency=${input.toneHz}:sample_rate=48000`;
  return [
    '-re',
    '-f',
    'lavfi',
    '-i',
    video,
    '-re',
    '-f',
    'lavfi',
    '-i',
    audio,
    ...syntheticEncode(input, segmentSeconds),
  ];
}

function syntheticEncode(
  input: Extract<CaptureInput, { kind: 'synthetic' }>,
  segmentSeconds: number,
): string[] {
  const filters: string[] = [];
  if (input.fontFile) {
    const font = `fontfile=${drawtextEscape(input.fontFile)}`;
    const size = Math.max(16, Math.round(input.height / 14));
    const box = 'box=1:boxcolor=black@0.6:boxborderw=8:fontcolor=white';
    filters.push(`drawtext=${font}:${box}:fontsize=${size}:x=20:y=20:text='${drawtextEscape(input.label)}'`);
    // UTC wall clock with milliseconds, counted from the first frame's gateway time (the source is paced
    // by -re): read against wall time to measure glass-to-glass latency. It errs late by ffmpeg's start-up.
    const epoch = (input.clockEpochMs / 1000).toFixed(3);
    const frac = ((input.clockEpochMs % 1000) / 1000).toFixed(3);
    const clock = `%{pts\\:gmtime\\:${epoch}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}.%{eif\\:mod(1000*(t+${frac})\\,1000)\\:d\\:3}Z`;
    filters.push(`drawtext=${font}:${box}:fontsize=${size}:x=20:y=${20 + size * 2}:text='${clock}'`);
  }
  const gop = input.fps; // one keyframe a second: segments cut close to their target length
  return [
    ...(filters.length ? ['-vf', filters.join(',')] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-b:v',
    `${input.bitrateKbps}k`,
    '-force_key_frames',
    `expr:gte(t,n_forced*${Math.min(1, segmentSeconds)})`,
  ];
}

/** Whether a capture input's track holds video: false for a microphone. */
export function carriesVideo(input: CaptureInput): boolean {
  return input.kind === 'synthetic' || (input.kind === 'rtsp' && !input.audioOnly);
}

/**
 * The ffmpeg arguments of one segmenter run: stream copy of video, segments announced on stdout. A microphone
 * (no video) is segmented by its audio alone; audio packets are all keyframes, so the cuts are exact.
 */
export function segmenterArgs(plan: SegmenterPlan): string[] {
  const synthetic = plan.input.kind === 'synthetic';
  const video = carriesVideo(plan.input);
  const audio: string[] =
    plan.audio === 'none'
      ? ['-an']
      : [
          '-map',
          synthetic ? '1:a:0' : '0:a:0',
          ...(plan.audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac', '-b:a', '96k', '-ar', '48000']),
        ];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-nostats',
    '-progress',
    // file: so that a colon in the path is never read as a protocol name.
    `file:${plan.progressPath}`,
    '-stats_period',
    String(PROGRESS_PERIOD_SECONDS),
    ...inputArgs(plan.input, plan.segmentSeconds),
    ...(video ? ['-map', '0:v:0', ...(synthetic ? [] : ['-c:v', 'copy'])] : ['-vn']),
    ...audio,
    '-f',
    'segment',
    '-segment_time',
    String(plan.segmentSeconds),
    '-segment_format',
    'mpegts',
    '-segment_list',
    'pipe:1',
    '-segment_list_type',
    'csv',
    '-segment_list_flags',
    '+live',
    '-segment_start_number',
    String(plan.startNumber),
    '-reset_timestamps',
    '0',
    plan.outputPattern,
  ];
}

/**
 * ffprobe arguments that list a source's streams as JSON. A `quick` probe reads no media: the codecs come
 * from the RTSP session description (or the container header) alone, in ~80 ms and ~0.05 CPU s instead of
 * ~1.2 s and ~0.1 CPU s; its answer may lack what only the media tells (frame size, or a codec a camera
 * leaves out of its SDP), and the caller then probes in full.
 */
export function probeArgs(url: string, timeoutMs: number, quick = false): string[] {
  const input = url.startsWith('rtsp')
    ? ['-rtsp_transport', 'tcp', '-timeout', String(timeoutMs * 1000)]
    : [];
  const depth = quick ? ['-analyzeduration', '0', '-probesize', '32'] : [];
  return ['-hide_banner', '-v', 'error', ...input, ...depth, '-show_streams', '-of', 'json', '-i', url];
}
