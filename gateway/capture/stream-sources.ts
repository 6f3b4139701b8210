/** @module Turns a configured camera into a stream source the supervisor can start: synthetic, plain RTSP, or ONVIF. */
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CameraConfig, MicrophoneConfig } from '../../firmware-config/camera-config.ts';
import type { Clock } from '../../protocol/time.ts';
import type { StreamSource } from './camera-supervisor.ts';
import { audioPlanFor } from './ffmpeg-args.ts';
import { connectOnvif } from './onvif-source.ts';
import { probeMicrophone, rememberedProbe } from './probe.ts';

/** Fonts for the synthetic camera's burned-in clock, CJK-capable first. */
const FONTS = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
];

/** The first installed clock font, or null (the synthetic camera then draws no clock). */
export function clockFont(): string | null {
  return FONTS.find((f) => existsSync(f)) ?? null;
}

/** Puts credentials into an RTSP URL for ffmpeg; the result must never be logged. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username) return url;
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password ?? '');
  return u.toString();
}

/** An RTSP URL with any password replaced, for logs and evidence. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

/** A stream source for a camera whose stream is reached at a fixed RTSP URL; probed once per recording. */
export function rtspSource(url: string, name: string, audioWanted: boolean, timeoutMs: number): StreamSource {
  const probe = rememberedProbe();
  return {
    async prepare({ recheck } = { recheck: true }) {
      const streams = await probe(url, `camera ${name} (${redactUrl(url)})`, timeoutMs, recheck);
      return {
        input: { kind: 'rtsp', url, timeoutMs },
        audio: audioPlanFor(streams.audio?.codec ?? null, audioWanted),
      };
    },
  };
}

/** A stream source for the synthetic camera: ffmpeg's test picture, a burned-in UTC clock and a tone. */
export function syntheticSource(
  camera: CameraConfig & { source: { kind: 'synthetic' } },
  clock: Clock,
): StreamSource {
  const s = camera.source;
  return {
    async prepare() {
      return {
        input: {
          kind: 'synthetic',
          width: s.width,
          height: s.height,
          fps: s.fps,
          bitrateKbps: s.bitrateKbps,
          toneHz: s.tone,
          fontFile: clockFont(),
          label: camera.name,
          clockEpochMs: clock.now(),
        },
        audio: camera.audio ? 'aac' : 'none',
      };
    },
  };
}

/**
 * An ONVIF camera: each run asks the device for its current stream URI, then probes it like any RTSP stream
 * (once per recording while the URI stays the same).
 */
export function onvifStreamSource(
  camera: CameraConfig & { source: { kind: 'onvif' } },
  clock: Clock,
  log?: Logger,
): StreamSource {
  const s = camera.source;
  const password = s.passwordFile ? readFileSync(s.passwordFile, 'utf8').trim() : (s.password ?? '');
  const connect = () =>
    connectOnvif({
      hostname: s.host,
      port: s.port,
      path: s.path,
      username: s.username,
      password,
      ...(s.profileToken ? { profileToken: s.profileToken } : {}),
      timeoutMs: s.timeoutMs,
      clock,
      ...(log ? { log } : {}),
    });
  const probe = rememberedProbe();
  return {
    async prepare({ recheck } = { recheck: true }) {
      const cam = await connect();
      const stream = await cam.streamUri();
      const streams = await probe(
        stream.uri,
        `camera ${camera.name} (${stream.redactedUri})`,
        s.timeoutMs,
        recheck,
      );
      return {
        input: { kind: 'rtsp', url: stream.uri, timeoutMs: s.timeoutMs },
        audio: audioPlanFor(streams.audio?.codec ?? null, camera.audio),
      };
    },
    async identify() {
      const cam = await connect();
      const offset = await cam.clockOffset();
      const device = [cam.info.manufacturer, cam.info.model, cam.info.serial]
        .filter(Boolean)
        .join(' ')
        .slice(0, 200);
      return { device: device || null, clockOffsetMs: Math.round(offset.offsetMs) };
    },
  };
}

/**
 * A stream source for a microphone: a test tone, or an audio-only RTSP stream (probed once per recording; a
 * codec MPEG-TS cannot carry, e.g. G.711, is converted to AAC).
 */
export function microphoneSource(mic: MicrophoneConfig, timeoutMs = 5000): StreamSource {
  const s = mic.source;
  if (s.kind === 'synthetic') {
    return { prepare: async () => ({ input: { kind: 'synthetic-tone', toneHz: s.tone }, audio: 'aac' }) };
  }
  const url = withCredentials(s.url, s.username, s.password);
  const probe = rememberedProbe(async (u, where, t) => {
    const { audio } = await probeMicrophone(u, where, t);
    // The camera-shaped answer rememberedProbe keeps; a microphone has no video.
    return { video: { codec: 'none', width: null, height: null }, audio };
  });
  return {
    async prepare({ recheck } = { recheck: true }) {
      const streams = await probe(url, `microphone ${mic.name} (${redactUrl(url)})`, timeoutMs, recheck);
      return {
        input: { kind: 'rtsp', url, timeoutMs, audioOnly: true },
        audio: audioPlanFor(streams.audio?.codec ?? null, true),
      };
    },
  };
}
