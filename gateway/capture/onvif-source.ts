/** @module ONVIF cameras for capture: WS-Discovery, device information, profiles, RTSP stream URIs and clock offset. */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { inspect } from 'node:util';
import { Cam } from 'onvif';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type Clock, systemClock } from '#protocol/time.ts';
import { GatewayError } from '../errors.ts';

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

/** One media profile: its token, and what its video and audio encoders send. */
export interface OnvifProfile {
  token: string;
  name: string;
  /** Null for a profile without a video encoder. `encoding` is normalised: H264, H265, JPEG, MPEG4… */
  video: { encoding: string; width: number; height: number; fps: number | null } | null;
  /** Null for a profile without an audio encoder; `encoding` as the camera names it (AAC, G711, MP4A-LATM…). */
  audio: { encoding: string } | null;
}

/**
 * An RTSP URL for one profile. `uri` carries the credentials for ffmpeg; everything else, including
 * `JSON.stringify` and `util.inspect` of this object, shows only `redactedUri`.
 */
export interface OnvifStreamUri {
  /** For ffmpeg only: the camera's URL with the username and password inserted, percent-encoded. */
  readonly uri: string;
  /** For logs and evidence: the same URL with every copy of the password replaced by `***`. */
  readonly redactedUri: string;
  readonly profileToken: string;
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

type Reply = { data: unknown; xml: string };
type Callback = (err: Error | null, data?: unknown, xml?: string) => void;

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

/** The codec preference of `selectProfile`: H.264 plays everywhere, H.265 records but needs transcoding to play. */
const CODEC_RANK: Record<string, number> = { H264: 0, H265: 1 };

/**
 * Picks the profile to record: the one named by `profileToken`, or else the video profile with the best
 * codec (H.264, then H.265, then anything else), then the most pixels, then the highest frame rate.
 * Throws GW_CAMERA_NO_PROFILE naming `camera` when there is no such profile or it carries no video.
 * Refusing a codec is the caller's decision (GW_CAMERA_CODEC_UNSUPPORTED).
 */
export function selectProfile(
  profiles: readonly OnvifProfile[],
  profileToken: string | undefined,
  camera: string,
): OnvifProfile {
  const tokens = profiles.map((p) => p.token).join(', ') || 'none';
  if (profileToken !== undefined) {
    const named = profiles.find((p) => p.token === profileToken);
    if (!named) {
      throw new GatewayError(
        'GW_CAMERA_NO_PROFILE',
        `camera ${camera} has no media profile "${profileToken}" (it offers: ${tokens})`,
      );
    }
    if (!named.video) {
      throw new GatewayError(
        'GW_CAMERA_NO_PROFILE',
        `profile "${profileToken}" of camera ${camera} carries no video`,
      );
    }
    return named;
  }
  const rank = (p: OnvifProfile) => CODEC_RANK[p.video?.encoding ?? ''] ?? 2;
  const pixels = (p: OnvifProfile) => (p.video ? p.video.width * p.video.height : 0);
  const best = profiles
    .filter((p) => p.video)
    .sort(
      (a, b) => rank(a) - rank(b) || pixels(b) - pixels(a) || (b.video?.fps ?? 0) - (a.video?.fps ?? 0),
    )[0];
  if (!best) {
    throw new GatewayError(
      'GW_CAMERA_NO_PROFILE',
      `camera ${camera} offers no media profile with a video encoder (profiles: ${tokens})`,
    );
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Requests and their failures

/** Runs one ONVIF request with a deadline, and turns every failure into a GatewayError naming the camera. */
function caller(cam: Cam, address: string, timeoutMs: number, log?: Logger) {
  let lastStatus: number | undefined;
  cam.on('rawResponse', (_xml: string, status: number) => {
    lastStatus = status;
  });
  return (op: string, invoke: (cb: Callback) => void): Promise<Reply> =>
    new Promise((resolve, reject) => {
      lastStatus = undefined;
      const started = performance.now();
      let done = false;
      const settle = (err: GatewayError | null, reply?: Reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        log?.debug(
          { camera: address, op, ms: Math.round(performance.now() - started), code: err?.code },
          'onvif',
        );
        if (err) reject(err);
        else resolve(reply as Reply);
      };
      // The package's socket timeout only counts idle time; this bounds the whole request.
      const timer = setTimeout(
        () =>
          settle(
            new GatewayError(
              'GW_CAMERA_UNREACHABLE',
              `camera ${address} did not answer ${op} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      try {
        invoke((err, data, xml) => {
          if (err) settle(cameraError(err, op, address, xml, lastStatus));
          else settle(null, { data, xml: xml ?? '' });
        });
      } catch (err) {
        settle(cameraError(err, op, address, undefined, lastStatus));
      }
    });
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

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** Classifies a failure of the onvif package: network, authentication, SOAP fault or an answer that is not ONVIF. */
function cameraError(err: unknown, op: string, address: string, xml?: string, status?: number): GatewayError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  if ((code && NETWORK_CODES.has(code)) || e.message === 'Network timeout') {
    const why = code ?? `no answer within the timeout`;
    return new GatewayError(
      'GW_CAMERA_UNREACHABLE',
      `camera ${address} is unreachable (${why}) during ${op}`,
      {
        cause: e,
      },
    );
  }
  const fault = xml ? soapFault(xml) : null;
  if (status === 401 || /^Digest authentication/.test(e.message) || (fault && isAuthFault(fault))) {
    const why = fault?.reason || (status ? `HTTP ${status}` : e.message);
    return new GatewayError('GW_CAMERA_AUTH', `camera ${address} refused the credentials for ${op}: ${why}`, {
      cause: e,
    });
  }
  if (fault) {
    const why = fault.reason || fault.codes.join(' / ') || 'no reason given';
    return new GatewayError(
      'GW_CAMERA_SOAP_FAULT',
      `camera ${address} answered ${op} with a SOAP fault: ${why}`,
      {
        cause: e,
      },
    );
  }
  const http = status ? ` (HTTP ${status})` : '';
  return new GatewayError(
    'GW_CAMERA_BAD_RESPONSE',
    `camera ${address} answered ${op} with something that is not an ONVIF response${http}: ${e.message}`,
    { cause: e },
  );
}

/** The codes and reason of a SOAP 1.2 (or 1.1) fault, or null when the message holds none. */
function soapFault(xml: string): { codes: string[]; reason: string } | null {
  const fault = element(xml, 'Fault');
  if (fault === undefined) return null;
  const code = element(fault, 'Code') ?? element(fault, 'faultcode') ?? '';
  const codes = [...code.matchAll(/<(?:[\w.-]+:)?Value\b[^>]*>([^<]*)</g)].map((m) =>
    decodeXml(m[1] ?? '').trim(),
  );
  if (codes.length === 0 && code.trim() && !code.includes('<')) codes.push(decodeXml(code.trim()));
  const reasonBlock = element(fault, 'Reason');
  const reason =
    (reasonBlock !== undefined ? element(reasonBlock, 'Text') : element(fault, 'faultstring')) ?? '';
  return { codes, reason: decodeXml(reason).trim() };
}

/** ter:NotAuthorized, or the WS-Security faults and reason texts real cameras use instead. */
function isAuthFault(fault: { codes: string[]; reason: string }): boolean {
  return (
    fault.codes.some((c) => /(?:^|:)(?:NotAuthorized|FailedAuthentication|InvalidSecurityToken)$/i.test(c)) ||
    /not\s*authori[sz]ed|unauthori[sz]ed|authentication failed/i.test(fault.reason)
  );
}

// ---------------------------------------------------------------------------------------------------
// The connect sequence

type Call = ReturnType<typeof caller>;

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

/** GetProfiles on Media2 when offered, falling back to Media1 as the package's own connect does for buggy Media2. */
async function loadProfiles(cam: Cam, call: Call, address: string, log?: Logger): Promise<OnvifProfile[]> {
  // The package throws a TypeError on a GetProfilesResponse without profiles: that is an empty list.
  const get = () =>
    call('GetProfiles', (cb) =>
      cam.getProfiles((err, data, xml) => {
        const empty = xml && /GetProfilesResponse/.test(xml) && !/<(?:[\w.-]+:)?Profiles\b/.test(xml);
        if (err instanceof TypeError && empty) cb(null, [], xml);
        else cb(err, data, xml);
      }),
    );
  let reply: Reply;
  try {
    reply = await get();
  } catch (err) {
    const soft =
      err instanceof GatewayError && ['GW_CAMERA_SOAP_FAULT', 'GW_CAMERA_BAD_RESPONSE'].includes(err.code);
    if (!(soft && cam.media2Support && cam.uri?.media)) throw err;
    log?.warn({ camera: address, err: (err as Error).message }, 'Media2 GetProfiles failed; using Media1');
    cam.media2Support = false;
    reply = await get();
  }
  return profilesFrom(reply, address, log);
}

const RawProfile = z.object({
  $: z.object({ token: z.coerce.string() }),
  name: z.coerce.string().optional(),
  videoEncoderConfiguration: z
    .object({
      encoding: z.coerce.string(),
      resolution: z.object({ width: z.coerce.number(), height: z.coerce.number() }).optional(),
      rateControl: z.object({ frameRateLimit: z.coerce.number().optional() }).optional(),
    })
    .optional(),
  audioEncoderConfiguration: z.object({ encoding: z.coerce.string() }).optional(),
});

/** Normalises the package's profiles; tokens come from the raw XML, since the package turns "1.0" into 1. */
function profilesFrom(reply: Reply, address: string, log?: Logger): OnvifProfile[] {
  const raw = Array.isArray(reply.data) ? reply.data : [];
  const tokens = [...reply.xml.matchAll(/<(?:[\w.-]+:)?Profiles\b([^>]*)>/g)].map(
    (m) => /\btoken="([^"]*)"/.exec(m[1] ?? '')?.[1],
  );
  const profiles: OnvifProfile[] = [];
  raw.forEach((item, i) => {
    const p = RawProfile.safeParse(item);
    if (!p.success) {
      log?.warn({ camera: address, index: i }, 'ignoring a media profile the camera describes incompletely');
      return;
    }
    const token = tokens.length === raw.length && tokens[i] ? decodeXml(tokens[i]) : p.data.$.token;
    const v = p.data.videoEncoderConfiguration;
    const fps = v?.rateControl?.frameRateLimit;
    profiles.push({
      token,
      name: p.data.name ?? token,
      video: v
        ? {
            encoding: normaliseCodec(v.encoding),
            width: v.resolution?.width ?? 0,
            height: v.resolution?.height ?? 0,
            fps: fps !== undefined && Number.isFinite(fps) ? fps : null,
          }
        : null,
      audio: p.data.audioEncoderConfiguration
        ? { encoding: p.data.audioEncoderConfiguration.encoding }
        : null,
    });
  });
  return profiles;
}

function normaliseCodec(encoding: string): string {
  const c = encoding.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return c === 'HEVC' ? 'H265' : c === 'AVC' ? 'H264' : c;
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

// ---------------------------------------------------------------------------------------------------
// Stream URIs

const MediaUri = z.object({ uri: z.string().min(1) });

/** Builds the ffmpeg URL (credentials percent-encoded; ffmpeg decodes them) and its redacted twin. */
function streamUriFor(
  data: unknown,
  profileToken: string,
  username: string,
  password: string,
  address: string,
): OnvifStreamUri {
  const parsed = MediaUri.safeParse(data);
  let url: URL | null = null;
  if (parsed.success) {
    try {
      url = new URL(parsed.data.uri);
    } catch {
      url = null;
    }
  }
  if (!url || !['rtsp:', 'rtsps:'].includes(url.protocol) || !url.hostname) {
    const shown = parsed.success ? redact(parsed.data.uri, password) : 'none';
    throw new GatewayError(
      'GW_CAMERA_BAD_RESPONSE',
      `camera ${address} answered GetStreamUri for "${profileToken}" without an RTSP URL (got ${shown})`,
    );
  }
  if (username) {
    // The WHATWG setters leave "%" alone; encodeURIComponent first, so a "%" in a password survives.
    url.username = encodeURIComponent(username);
    url.password = encodeURIComponent(password);
  }
  return new StreamUri(url.href, redact(url.href, password), profileToken);
}

class StreamUri implements OnvifStreamUri {
  constructor(
    readonly uri: string,
    readonly redactedUri: string,
    readonly profileToken: string,
  ) {}
  toJSON() {
    return { redactedUri: this.redactedUri, profileToken: this.profileToken };
  }
  [inspect.custom]() {
    return `OnvifStreamUri(${this.redactedUri})`;
  }
}

/**
 * Replaces the userinfo password, `password=`-style parameters (cameras that put credentials in the path or
 * query) and any literal copy of the configured password with `***`. May over-redact; never under-redacts.
 */
function redact(uri: string, password: string): string {
  let out = uri;
  try {
    const u = new URL(uri);
    if (u.password) u.password = '***';
    out = u.href;
  } catch {
    // not a URL: the literal replacements below still apply
  }
  out = out.replace(/((?:^|[?&/;])(?:password|passwd|pass|pwd)=)[^&;/#]*/gi, '$1***');
  if (password) {
    for (const form of new Set([password, encodeURIComponent(password), encodeURI(password)])) {
      out = out.split(form).join('***');
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// WS-Discovery

const WS_DISCOVERY_GROUP = '239.255.255.250';
const WS_DISCOVERY_PORT = 3702;

/** A camera that answered a WS-Discovery Probe, with where to connect to it. */
export const DiscoveredCamera = z.object({
  endpoint: z.string().min(1).describe('the device\'s WS-Addressing endpoint, e.g. "urn:uuid:…"'),
  from: z.string().describe('IP address the answer came from'),
  xaddrs: z
    .array(z.url({ protocol: /^https?$/ }))
    .min(1)
    .describe('device service URLs the camera announced'),
  hostname: z.string().min(1).describe('host of the preferred XAddr (the one on the answering address)'),
  port: z.number().int().min(1).max(65535),
  path: z.string().startsWith('/'),
  scopes: z.array(z.string()),
  types: z.array(z.string()),
  name: z.string().nullable().describe('from an onvif://www.onvif.org/name/… scope'),
  hardware: z.string().nullable().describe('from an onvif://www.onvif.org/hardware/… scope'),
});
export type DiscoveredCamera = z.infer<typeof DiscoveredCamera>;

/** `discoverOnvif` options. */
export interface DiscoverOnvifOptions {
  /** How long to collect answers, in ms; default 3000. */
  timeoutMs?: number;
  /** IPv4 address of the interface to probe from; default: wherever the OS routes 239.255.255.250. */
  interfaceAddress?: string;
  /** Ends discovery early; the cameras found so far are returned. */
  signal?: AbortSignal;
  /** Called once per newly found camera, as it answers. */
  onCamera?: (camera: DiscoveredCamera) => void;
  log?: Logger;
}

/**
 * Finds ONVIF cameras with a WS-Discovery Probe for dn:NetworkVideoTransmitter (multicast, TTL 1) and
 * collects ProbeMatches for `timeoutMs`. Our own probe rather than the onvif package's Discovery: the
 * package drops every device of a ProbeMatches that holds more than one ProbeMatch (an NVR or encoder),
 * reports any stray datagram through a process-wide singleton whose unhandled 'error' event throws,
 * and does not check RelatesTo. Devices that answer without XAddrs (needing a Resolve) are skipped.
 */
export function discoverOnvif(options: DiscoverOnvifOptions = {}): Promise<DiscoveredCamera[]> {
  const { timeoutMs = 3000, interfaceAddress, signal, onCamera, log } = options;
  const messageId = `urn:uuid:${randomUUID()}`;
  const probe = Buffer.from(probeXml(messageId));
  const found = new Map<string, DiscoveredCamera>();
  if (signal?.aborted) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) {
        const from = interfaceAddress ?? 'the default interface';
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        reject(
          new GatewayError('GW_CAMERA_UNREACHABLE', `WS-Discovery cannot probe from ${from}: ${code}`, {
            cause: err,
          }),
        );
      } else resolve([...found.values()]);
    };
    const onAbort = () => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', finish);
    socket.on('message', (msg, rinfo) => {
      const cameras = parseProbeMatches(msg.toString('utf8'), messageId, rinfo.address);
      if (cameras.length === 0)
        log?.debug({ from: rinfo.address }, 'ignoring a datagram that is no answer to our probe');
      for (const camera of cameras) {
        if (found.has(camera.endpoint)) continue;
        found.set(camera.endpoint, camera);
        onCamera?.(camera);
      }
    });
    const send = () =>
      socket.send(probe, WS_DISCOVERY_PORT, WS_DISCOVERY_GROUP, (err) => {
        if (err) finish(err);
      });
    socket.bind({ port: 0, address: interfaceAddress }, () => {
      if (done) return;
      try {
        if (interfaceAddress) socket.setMulticastInterface(interfaceAddress);
        socket.setMulticastTTL(1); // the room's own subnet, never routed further
      } catch (err) {
        finish(err as Error);
        return;
      }
      // [SOAP-over-UDP 1.1: MULTICAST_UDP_REPEAT = 1] a multicast message is sent twice; UDP may lose one.
      send();
      timers.push(setTimeout(send, Math.min(250, timeoutMs / 4)));
      timers.push(setTimeout(() => finish(), timeoutMs));
    });
  });
}

function probeXml(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    '</s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/**
 * Reads the cameras out of one WS-Discovery datagram. Returns [] for anything but ProbeMatches, and for
 * ProbeMatches that relate to another probe than `messageId`. Matches without a usable XAddr are dropped.
 */
export function parseProbeMatches(xml: string, messageId: string, from: string): DiscoveredCamera[] {
  if (element(xml, 'ProbeMatches') === undefined) return [];
  const relatesTo = element(xml, 'RelatesTo')?.trim();
  if (relatesTo !== undefined && relatesTo !== messageId) return [];
  const cameras: DiscoveredCamera[] = [];
  for (const block of elements(xml, 'ProbeMatch')) {
    const list = (name: string) =>
      decodeXml(element(block, name) ?? '')
        .split(/\s+/)
        .filter(Boolean);
    const xaddrs = list('XAddrs').filter((x) => URL.canParse(x) && /^https?:$/.test(new URL(x).protocol));
    const preferred = xaddrs.find((x) => new URL(x).hostname === from) ?? xaddrs[0];
    if (!preferred) continue;
    const url = new URL(preferred);
    const scopes = list('Scopes');
    const scope = (kind: string) => {
      const prefix = `onvif://www.onvif.org/${kind}/`;
      const hit = scopes.find((s) => s.startsWith(prefix))?.slice(prefix.length);
      if (hit === undefined) return null;
      try {
        return decodeURIComponent(hit);
      } catch {
        return hit;
      }
    };
    const candidate = DiscoveredCamera.safeParse({
      endpoint: decodeXml(element(element(block, 'EndpointReference') ?? '', 'Address') ?? '').trim(),
      from,
      xaddrs,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      path: url.pathname,
      scopes,
      types: list('Types'),
      name: scope('name'),
      hardware: scope('hardware'),
    });
    if (candidate.success) cameras.push(candidate.data);
  }
  return cameras;
}

// ---------------------------------------------------------------------------------------------------
// Small XML helpers: the messages read here are few and flat, and the onvif package's parser drops what we need.

function tagPattern(name: string, flags: string): RegExp {
  return new RegExp(
    `<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?(?<!/)>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}\\s*>`,
    flags,
  );
}

/** The inner XML of the first element with this local name, whatever its prefix. */
function element(xml: string, name: string): string | undefined {
  return tagPattern(name, '').exec(xml)?.[1];
}

function elements(xml: string, name: string): string[] {
  return [...xml.matchAll(tagPattern(name, 'g'))].map((m) => m[1] ?? '');
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, ent: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const lower = ent.toLowerCase();
    if (named[lower]) return named[lower];
    const code = lower.startsWith('#x')
      ? Number.parseInt(lower.slice(2), 16)
      : Number.parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** The package stamps tokens with process uptime plus `timeShift`; offsets are computed on the same base. */
function uptimeMs(): number {
  return process.uptime() * 1000;
}
