/** @module Probes a source with ffprobe before recording: which video and audio it carries, refused early when unusable. */
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { probeArgs, VIDEO_CODECS } from './ffmpeg-args.ts';
import { describe } from './rtsp-describe.ts';
import { type SdpStream, sdpStreams } from './sdp-streams.ts';

/** What a source carries. */
export interface SourceStreams {
  video: { codec: string; width: number | null; height: number | null };
  audio: { codec: string } | null;
}

const ProbeOutput = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().optional(),
        height: z.number().optional(),
      }),
    )
    .default([]),
});

/** Maps ffprobe's complaint about a URL to one of our codes. */
export function classifyProbeError(stderr: string, where: string): GatewayError {
  const text = stderr.trim().split('\n').slice(-3).join(' | ') || 'no output';
  // "401 Unauthorized" as ffmpeg says it; a bare /401/ would also match a port such as :40123 in the URL.
  if (/Unauthorized|(?<![\w:/])401(?!\w)/i.test(stderr))
    return new GatewayError('GW_CAMERA_AUTH', `${where} refused the credentials: ${text}`);
  if (
    /Connection refused|timed out|Timeout|No route to host|Network is unreachable|Name or service not known|Connection reset|End of file/i.test(
      stderr,
    )
  ) {
    return new GatewayError('GW_CAMERA_UNREACHABLE', `${where} does not answer: ${text}`);
  }
  return new GatewayError('GW_CAPTURE_FAILED', `${where} cannot be read: ${text}`);
}

/**
 * The shortest time a probe is given, whatever the camera's configured timeout: ffprobe reads seconds of
 * the stream before it answers, and on a loaded machine a tighter limit kills it and starts the camera late.
 */
export const PROBE_MIN_TIMEOUT_MS = 10_000;

/**
 * An RTSP camera's streams from its session description, read in-process (DESCRIBE): what ffprobe's quick
 * probe reads, without its process. Null when that does not settle it (not rtsp://, an answer other than
 * 200 or 401, a description naming a stream it cannot be sure of): the caller asks ffprobe. Throws
 * GW_CAMERA_UNREACHABLE and GW_CAMERA_AUTH, which are answers already.
 */
async function describedStreams(url: string, where: string, timeoutMs: number): Promise<SdpStream[] | null> {
  if (!url.startsWith('rtsp://')) return null;
  const answer = await describe(url, where, Math.max(timeoutMs, PROBE_MIN_TIMEOUT_MS)).catch(
    (err: GatewayError) => {
      if (err.code === 'GW_CAPTURE_FAILED') return null;
      throw err;
    },
  );
  if (answer?.status === 401) {
    throw new GatewayError('GW_CAMERA_AUTH', `${where} refused the credentials: 401 ${answer.reason}`);
  }
  return answer?.status === 200 ? sdpStreams(answer.body) : null;
}

/**
 * Reads the source's streams; refuses a source with no video or with a codec we do not record. An RTSP
 * camera's session description is read first, in-process; when that does not name a video stream and every
 * codec, a quick ffprobe (no media read) comes next, and when that names no video, or a stream without its
 * codec, the source is probed in full before anything is decided. Each is given `timeoutMs` or
 * PROBE_MIN_TIMEOUT_MS, whichever is longer.
 */
export async function probeSource(
  url: string,
  where: string,
  timeoutMs: number,
  ffprobe = 'ffprobe',
): Promise<SourceStreams> {
  const described = await describedStreams(url, where, timeoutMs);
  if (described?.some((s) => s.codec_type === 'video')) return judgeStreams(described, where);
  // An unreachable camera, refused credentials or a missing ffprobe are answers already: no second wait.
  const quick = await runProbe(url, where, timeoutMs, ffprobe, true).catch((err: GatewayError) => {
    if (err.code === 'GW_CAPTURE_FAILED') return null;
    throw err;
  });
  const video = quick?.find((s) => s.codec_type === 'video');
  const complete = video && quick?.every((s) => s.codec_name && s.codec_name !== 'none');
  return judgeStreams(complete ? quick! : await runProbe(url, where, timeoutMs, ffprobe, false), where);
}

type ProbedStream = z.infer<typeof ProbeOutput>['streams'][number];

function runProbe(
  url: string,
  where: string,
  timeoutMs: number,
  ffprobe: string,
  quick: boolean,
): Promise<ProbedStream[]> {
  const limitMs = Math.max(timeoutMs, PROBE_MIN_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    execFile(
      ffprobe,
      probeArgs(url, limitMs, quick),
      { timeout: limitMs + 5000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(
            new GatewayError('GW_FFMPEG_MISSING', `${ffprobe} is not installed (Debian package ffmpeg)`),
          );
          return;
        }
        if (err) {
          reject(
            err.killed
              ? new GatewayError('GW_CAMERA_UNREACHABLE', `${where} did not answer within ${limitMs} ms`)
              : classifyProbeError(stderr, where),
          );
          return;
        }
        try {
          resolve(ProbeOutput.parse(JSON.parse(stdout)).streams);
        } catch (cause) {
          reject(
            new GatewayError('GW_CAPTURE_FAILED', `${where}: ffprobe gave no readable answer`, { cause }),
          );
        }
      },
    );
  });
}

/** The streams we record, or the coded refusal of a source with no video or a codec we do not record. */
function judgeStreams(streams: readonly ProbedStream[], where: string): SourceStreams {
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!video) {
    throw new GatewayError(
      'GW_CAMERA_NO_VIDEO',
      `${where} sends no video (streams: ${streams.map((s) => s.codec_name).join(', ') || 'none'})`,
    );
  }
  const codec = video.codec_name ?? 'unknown';
  if (!VIDEO_CODECS.has(codec)) {
    throw new GatewayError(
      'GW_CAMERA_CODEC_UNSUPPORTED',
      `${where} sends ${codec.toUpperCase()} video; quanlu records H.264 only, because supervisors' browsers cannot play ${codec.toUpperCase()} and evidence is never transcoded. Set the camera's stream (or a second ONVIF profile) to H.264.`,
    );
  }
  // A quick probe leaves the frame size at 0: unknown, not zero.
  return {
    video: { codec, width: video.width || null, height: video.height || null },
    audio: audio ? { codec: audio.codec_name ?? 'unknown' } : null,
  };
}

/** Probes a source: `probeSource`'s signature, for a stand-in. */
export type Probe = (url: string, where: string, timeoutMs: number) => Promise<SourceStreams>;

/**
 * One camera's probe, remembered: the same URL is probed again only when `recheck` is set (a recording's
 * first run, after a run that failed) or for a new URL. ffprobe decodes seconds of the stream (20–30% of the
 * CPU of the capture benchmark's bare ffmpeg), too much to run before every ffmpeg run. A failed probe is
 * never remembered.
 */
export function rememberedProbe(
  probe: Probe = probeSource,
): (url: string, where: string, timeoutMs: number, recheck: boolean) => Promise<SourceStreams> {
  let last: { url: string; streams: SourceStreams } | null = null;
  return async (url, where, timeoutMs, recheck) => {
    if (!recheck && last?.url === url) return last.streams;
    last = null;
    const streams = await probe(url, where, timeoutMs);
    last = { url, streams };
    return streams;
  };
}

/**
 * Reads a microphone's stream: it must carry audio; video, if any, is ignored. Its session description first,
 * then a quick probe, then a full probe when the quick answer names no audio codec, as for cameras.
 */
export async function probeMicrophone(
  url: string,
  where: string,
  timeoutMs: number,
  ffprobe = 'ffprobe',
): Promise<{ audio: { codec: string } }> {
  const named = (streams: readonly ProbedStream[] | null) =>
    streams?.find((s) => s.codec_type === 'audio' && s.codec_name && s.codec_name !== 'none');
  const described = named(await describedStreams(url, where, timeoutMs));
  if (described) return { audio: { codec: described.codec_name! } };
  const quick = await runProbe(url, where, timeoutMs, ffprobe, true).catch((err: GatewayError) => {
    if (err.code === 'GW_CAPTURE_FAILED') return null;
    throw err;
  });
  const full = named(quick) ? quick! : await runProbe(url, where, timeoutMs, ffprobe, false);
  const audio = named(full);
  if (!audio) {
    throw new GatewayError(
      'GW_MICROPHONE_NO_AUDIO',
      `${where} sends no audio (streams: ${full.map((s) => s.codec_name).join(', ') || 'none'})`,
    );
  }
  return { audio: { codec: audio.codec_name! } };
}
