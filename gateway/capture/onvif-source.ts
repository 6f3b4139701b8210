/** @module Connecting to an ONVIF camera for capture: device information, media profiles, RTSP stream URIs and clock offset. */
import { Cam } from 'onvif';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type Clock, systemClock } from '#protocol/time.ts';
import { GatewayError } from '../errors.ts';
import { loadProfiles, type OnvifProfile, selectProfile } from './onvif-profiles.ts';
import { type Call, caller, decodeXml, element } from './onvif-soap.ts';
import { type OnvifStreamUri, streamUriFor } from './onvif-stream-uri.ts';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** How the gateway reaches one ONVIF camera: the configuration half of `connectOnvif`'s options. */
export const OnvifCameraConfig = z.strictObject({
  hostname: z.string().min(1).max(253).describe('camera IP address or host name'),
  port: z.number().int().min(1).max(65535).default(80).describe('HTTP port of the ONVIF device service'),
  path: z
    .string()
    .startsWith('/')
    .default('/onvif/device_service')
    .describe('path of the ONVIF device service'),
  username: z
    .string()
    .max(64)
    .regex(/^[\x21-\x7e]*$/, 'printable ASCII without spaces')
    .regex(/^[^<>&]*$/, 'no < > &: the onvif package writes the name into the SOAP header unescaped')
    .describe('ONVIF user; empty for a camera without authentication'),
  password: z
    .string()
    .max(128)
    .regex(PRINTABLE_ASCII, 'printable ASCII only: the onvif package digests the password as ASCII')
    .describe('ONVIF password; also inserted into the RTSP URL handed to ffmpeg'),
  profileToken: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe('media profile to record; default: the highest-resolution H.264 profile'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(5000)
    .describe('bound on each ONVIF request, in ms: a camera that does not answer in time is unreachable'),
});
/** The parsed configuration of one ONVIF camera (defaults filled in). */
export type OnvifCameraConfig = z.infer<typeof OnvifCameraConfig>;

/** `connectOnvif` options: the camera's configuration plus the collaborators it uses. */
export type OnvifConnectOptions = z.input<typeof OnvifCameraConfig> & {
  /** The gateway clock that offsets are measured against; default the system clock. */
  clock?: Clock;
  /** Receives debug and warning lines; never a password. */
  log?: Logger;
};

/** What GetDeviceInformation says about the camera, read verbatim (a firmware "1.10" stays "1.10"). */
export interface OnvifDeviceInfo {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

/** The camera's clock against the gateway's, from one GetSystemDateAndTime round trip. */
export interface OnvifClockOffset {
  /** Camera UTC minus the midpoint of request and response on the gateway clock, in ms. */
  offsetMs: number;
  /** Round trip of the request on the gateway clock, in ms. */
  rttMs: number;
  /**
   * Bound on the error of `offsetMs`: half the round trip, plus half a second when the camera reports
   * whole seconds (ONVIF's tt:Time has integer seconds, so the reading is taken as the middle of its second).
   */
  uncertaintyMs: number;
}

/** A connected ONVIF camera. Requests to one camera run one at a time. */
export interface OnvifCamera {
  /** `hostname:port`, as used in every error message. */
  readonly address: string;
  readonly info: OnvifDeviceInfo;
  readonly profiles: readonly OnvifProfile[];
  /** The profile recorded by default: the configured token, or the best H.264 profile. */
  readonly profile: OnvifProfile;
  /** Which media service answered: `media2` (Profile T, ver20) or `media` (Profile S, ver10). */
  readonly mediaService: 'media' | 'media2';
  /** GetStreamUri for RTP-Unicast over RTSP; `profileToken` defaults to `profile.token`. */
  streamUri(profileToken?: string): Promise<OnvifStreamUri>;
  /** Measures the clock offset again, and keeps WS-UsernameToken timestamps on the camera's clock. */
  clockOffset(): Promise<OnvifClockOffset>;
}

/** Connects to an ONVIF camera: clock, services, device information and profiles, each request bounded by `timeoutMs`. */
export async function connectOnvif(options: OnvifConnectOptions): Promise<OnvifCamera> {
  const { clock = systemClock, log, ...rest } = options;
  const parsed = OnvifCameraConfig.safeParse(rest);
  if (!parsed.success) {
    const where = typeof rest.hostname === 'string' ? ` for camera ${rest.hostname}` : '';
    throw new GatewayError(
      'GW_CONFIG_INVALID',
      `invalid ONVIF settings${where}: ${z.prettifyError(parsed.error)}`,
    );
  }
  const config = parsed.data;
  const address = `${config.hostname}:${config.port}`;
  const cam = new Cam({
    hostname: config.hostname,
    port: config.port,
    path: config.path,
    username: config.username,
    password: config.password,
    timeout: config.timeoutMs,
    autoconnect: false,
  });
  // Until measured, token timestamps follow the gateway clock. Left unset, the package would stamp an
  // authenticated GetSystemDateAndTime with the process uptime, i.e. a time in 1970.
  cam.timeShift = clock.now() - uptimeMs();
  const call = caller(cam, address, config.timeoutMs, log);
  const exclusive = queue();

  const measure = async (): Promise<OnvifClockOffset | null> => {
    const g0 = clock.now();
    const u0 = uptimeMs();
    const { xml } = await call('GetSystemDateAndTime', (cb) => cam.getSystemDateAndTime(cb));
    const g1 = clock.now();
    const u1 = uptimeMs();
    const reading = cameraUtc(xml);
    if (!reading) return null;
    const cameraMs = reading.ms + (reading.wholeSeconds ? 500 : 0);
    const rttMs = Math.max(0, g1 - g0);
    // [ONVIF Core, security: WS-UsernameToken] Created must be on the camera's clock, or a
    // camera with replay protection refuses every request of a gateway whose clock disagrees with it.
    cam.timeShift = cameraMs - (u0 + u1) / 2;
    return {
      offsetMs: Math.round(cameraMs - (g0 + g1) / 2),
      rttMs,
      uncertaintyMs: (reading.wholeSeconds ? 500 : 0) + Math.ceil(rttMs / 2) + 1,
    };
  };

  const first = await measure();
  if (!first)
    log?.warn({ camera: address }, 'camera reports no UTC time; token timestamps use the gateway clock');
  await findServices(cam, call, address, log);
  const info = deviceInfo((await call('GetDeviceInformation', (cb) => cam.getDeviceInformation(cb))).xml);
  const profiles = await loadProfiles(cam, call, address, log);
  const profile = selectProfile(profiles, config.profileToken, address);
  log?.debug(
    { camera: address, profile: profile.token, profiles: profiles.length },
    'onvif camera connected',
  );

  return {
    address,
    info,
    profiles,
    profile,
    mediaService: cam.media2Support ? 'media2' : 'media',
    streamUri: (profileToken) =>
      exclusive(async () => {
        const chosen = selectProfile(profiles, profileToken ?? profile.token, address);
        const { data } = await call('GetStreamUri', (cb) =>
          cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: chosen.token }, cb),
        );
        return streamUriFor(data, chosen.token, config.username, config.password, address);
      }),
    clockOffset: () =>
      exclusive(async () => {
        const offset = await measure();
        if (offset) return offset;
        throw new GatewayError(
          'GW_CAMERA_BAD_RESPONSE',
          `camera ${address} answered GetSystemDateAndTime without a UTCDateTime; its clock offset is unknown`,
        );
      }),
  };
}

/** Serialises async work: one request at a time to a camera, and clock samples never queue behind another. */
function queue() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

// ---------------------------------------------------------------------------------------------------
// The connect sequence

/** GetServices, or GetCapabilities on devices older than GetServices (or that fault on it). */
async function findServices(cam: Cam, call: Call, address: string, log?: Logger): Promise<void> {
  try {
    await call('GetServices', (cb) => cam.getServices(false, cb));
  } catch (err) {
    if (
      !(err instanceof GatewayError) ||
      !['GW_CAMERA_SOAP_FAULT', 'GW_CAMERA_BAD_RESPONSE'].includes(err.code)
    ) {
      throw err;
    }
    log?.warn({ camera: address, err: err.message }, 'GetServices failed; falling back to GetCapabilities');
    await call('GetCapabilities', (cb) => cam.getCapabilities(cb));
  }
  if (!cam.uri?.media && !(cam.media2Support && cam.uri?.media2)) {
    throw new GatewayError('GW_CAMERA_NO_PROFILE', `camera ${address} advertises no ONVIF media service`);
  }
}

/** Device information read from the raw XML: the package's parser turns a firmware "1.10" into the number 1.1. */
function deviceInfo(xml: string): OnvifDeviceInfo {
  const text = (name: string) => decodeXml(element(xml, name) ?? '').trim();
  return {
    manufacturer: text('Manufacturer'),
    model: text('Model'),
    firmware: text('FirmwareVersion'),
    serial: text('SerialNumber'),
    hardwareId: text('HardwareId'),
  };
}

/** The camera's UTCDateTime in epoch ms, and whether it came in whole seconds (as ONVIF's tt:Time does). */
function cameraUtc(xml: string): { ms: number; wholeSeconds: boolean } | null {
  const utc = element(xml, 'UTCDateTime');
  if (utc === undefined) return null;
  const n = (name: string) => Number(element(utc, name)?.trim() ?? Number.NaN);
  const [year, month, day, hour, minute, second] = ['Year', 'Month', 'Day', 'Hour', 'Minute', 'Second'].map(
    n,
  );
  const parts = [year, month, day, hour, minute, second] as number[];
  if (!parts.every(Number.isFinite)) return null;
  const ms = Date.UTC(parts[0]!, parts[1]! - 1, parts[2]!, parts[3]!, parts[4]!, 0) + parts[5]! * 1000;
  return { ms: Math.round(ms), wholeSeconds: Number.isInteger(parts[5]) };
}

/** The package stamps tokens with process uptime plus `timeShift`; offsets are computed on the same base. */
function uptimeMs(): number {
  return process.uptime() * 1000;
}
