/** @module Probes a source with ffprobe before recording: which video and audio it carries, refused early when unusable. */
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { probeArgs, VIDEO_CODECS } from './ffmpeg-args.ts';

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
  if (/401|Unauthorized/i.test(stderr))
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

/** Reads the source's streams; refuses a source with no video or with a codec we do not record. */
export function probeSource(
  url: string,
  where: string,
  timeoutMs: number,
  ffprobe = 'ffprobe',
): Promise<SourceStreams> {
  return new Promise((resolve, reject) => {
    execFile(
      ffprobe,
      probeArgs(url, timeoutMs),
      { timeout: timeoutMs + 5000, maxBuffer: 4 * 1024 * 1024 },
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
              ? new GatewayError('GW_CAMERA_UNREACHABLE', `${where} did not answer within ${timeoutMs} ms`)
              : classifyProbeError(stderr, where),
          );
          return;
        }
        let parsed: z.infer<typeof ProbeOutput>;
        try {
          parsed = ProbeOutput.parse(JSON.parse(stdout));
        } catch (cause) {
          reject(
            new GatewayError('GW_CAPTURE_FAILED', `${where}: ffprobe gave no readable answer`, { cause }),
          );
          return;
        }
        const video = parsed.streams.find((s) => s.codec_type === 'video');
        const audio = parsed.streams.find((s) => s.codec_type === 'audio');
        if (!video) {
          reject(
            new GatewayError(
              'GW_CAMERA_NO_VIDEO',
              `${where} sends no video (streams: ${parsed.streams.map((s) => s.codec_name).join(', ') || 'none'})`,
            ),
          );
          return;
        }
        const codec = video.codec_name ?? 'unknown';
        if (!VIDEO_CODECS.has(codec)) {
          reject(
            new GatewayError(
              'GW_CAMERA_CODEC_UNSUPPORTED',
              `${where} sends ${codec.toUpperCase()} video; quanlu records H.264 only, because supervisors' browsers cannot play ${codec.toUpperCase()} and evidence is never transcoded. Set the camera's stream (or a second ONVIF profile) to H.264.`,
            ),
          );
          return;
        }
        resolve({
          video: { codec, width: video.width ?? null, height: video.height ?? null },
          audio: audio ? { codec: audio.codec_name ?? 'unknown' } : null,
        });
      },
    );
  });
}
