/** @module One camera of a gateway: its track id, name, audio, and where its stream comes from. */
import { z } from 'zod';
import { TrackId } from '../protocol/entry.ts';
import { CameraRole } from './room-profile.ts';

/** A synthetic camera: ffmpeg's test picture with a burned-in clock and a tone, for demos and tests. */
export const SyntheticSource = z
  .strictObject({
    kind: z.literal('synthetic').describe('synthetic camera (ffmpeg test source)'),
    width: z
      .number()
      .int()
      .min(16)
      .max(3840)
      .multipleOf(2)
      .default(1280)
      .describe('picture width in pixels (even)'),
    height: z
      .number()
      .int()
      .min(16)
      .max(2160)
      .multipleOf(2)
      .default(720)
      .describe('picture height in pixels (even)'),
    fps: z.number().int().min(1).max(60).default(25).describe('frames per second'),
    bitrateKbps: z.number().int().min(50).max(50_000).default(2000).describe('video bitrate in kbit/s'),
    tone: z
      .number()
      .min(20)
      .max(20_000)
      .default(440)
      .describe('frequency of the test tone in Hz, when audio is on'),
  })
  .describe('a synthetic camera: test picture with a burned-in clock, and a test tone');

/** A plain RTSP stream. */
export const RtspSource = z
  .strictObject({
    kind: z.literal('rtsp').describe('a plain RTSP stream'),
    url: z
      .string()
      .regex(/^rtsps?:\/\/\S+$/i, 'an RTSP url starts with rtsp:// or rtsps://')
      .refine((url) => URL.canParse(url), 'not a valid URL')
      .describe('stream URL, rtsp:// or rtsps://, e.g. rtsp://192.0.2.10:554/stream1'),
    username: z.string().min(1).max(200).optional().describe('RTSP user name, if the camera asks for one'),
    password: z.string().max(200).optional().describe('RTSP password'),
  })
  .describe('an RTSP stream at a fixed URL');

/** An ONVIF camera (Profile S/T): the stream URL is asked of the device. */
export const OnvifSource = z
  .strictObject({
    kind: z.literal('onvif').describe('an ONVIF camera (Profile S/T)'),
    host: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,253}$/, 'a host name or IP address, without scheme, port or path')
      .describe('host name or IP address of the camera'),
    port: z.number().int().min(1).max(65535).default(80).describe('HTTP port of the ONVIF device service'),
    path: z
      .string()
      .regex(/^\/\S*$/, 'a path starts with "/"')
      .default('/onvif/device_service')
      .describe('path of the ONVIF device service'),
    username: z.string().min(1).max(200).describe('ONVIF user name'),
    password: z.string().max(200).optional().describe('ONVIF password (prefer passwordFile)'),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'file holding the ONVIF password, so it stays out of the config; relative to the working directory',
      ),
    profileToken: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('media profile token to record; default: the first profile with H.264 video'),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(5000)
      .describe('timeout of each ONVIF request in milliseconds'),
  })
  .refine((s) => s.password === undefined || s.passwordFile === undefined, {
    message: 'give password or passwordFile, not both',
    path: ['passwordFile'],
  })
  .describe('an ONVIF camera: the gateway asks it for its stream URL');

/** Where a camera's stream comes from, chosen by `kind`. */
export const CameraSource = z
  .discriminatedUnion('kind', [SyntheticSource, RtspSource, OnvifSource])
  .describe('where the stream comes from: kind synthetic, rtsp or onvif');
/** A parsed camera source. */
export type CameraSource = z.infer<typeof CameraSource>;

/** One camera of the room; its id is the track id of its footage. */
export const CameraConfig = z
  .strictObject({
    id: TrackId.describe('camera id, also the track id of its footage: 1–63 of a-z, 0-9, ".", "_", "-"'),
    name: z.string().min(1).max(200).describe('camera name shown to people, e.g. "全景 panorama"'),
    role: CameraRole.optional(),
    audio: z.boolean().default(true).describe('record the camera audio (同步录音)'),
    source: CameraSource,
  })
  .describe('a camera of the room');
/** A parsed camera. */
export type CameraConfig = z.infer<typeof CameraConfig>;

/** A synthetic microphone: ffmpeg's test tone, for demos and tests. */
export const SyntheticMicrophoneSource = z
  .strictObject({
    kind: z.literal('synthetic').describe('synthetic microphone (ffmpeg test tone)'),
    tone: z.number().min(20).max(20_000).default(660).describe('frequency of the test tone in Hz'),
  })
  .describe('a synthetic microphone: a test tone');

/** Where a microphone's sound comes from: an audio-only RTSP stream (an IP audio encoder) or a test tone. */
export const MicrophoneSource = z
  .discriminatedUnion('kind', [SyntheticMicrophoneSource, RtspSource])
  .describe('where the sound comes from: kind synthetic or rtsp (an audio-only stream)');

/**
 * A microphone of the room (同步录音 from a table or ceiling microphone, through an IP audio encoder): its own
 * track, recorded beside the cameras. A stream that also carries video is recorded for its audio only.
 */
export const MicrophoneConfig = z
  .strictObject({
    id: TrackId.describe('microphone id, also the track id of its sound: 1–63 of a-z, 0-9, ".", "_", "-"'),
    name: z.string().min(1).max(200).describe('microphone name shown to people, e.g. "桌面麦克风 table"'),
    source: MicrophoneSource,
  })
  .describe('a microphone of the room, recorded as a track of its own');
/** A parsed microphone. */
export type MicrophoneConfig = z.infer<typeof MicrophoneConfig>;
