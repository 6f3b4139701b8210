/** @module Media profiles of an ONVIF camera: reading them (Media2, else Media1) and choosing the one to record. */
import type { Cam } from 'onvif';
import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { type Call, decodeXml, type Reply } from './onvif-soap.ts';

/** One media profile: its token, and what its video and audio encoders send. */
export interface OnvifProfile {
  token: string;
  name: string;
  /** Null for a profile without a video encoder. `encoding` is normalised: H264, H265, JPEG, MPEG4… */
  video: { encoding: string; width: number; height: number; fps: number | null } | null;
  /** Null for a profile without an audio encoder; `encoding` as the camera names it (AAC, G711, MP4A-LATM…). */
  audio: { encoding: string } | null;
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

/** GetProfiles on Media2 when offered, falling back to Media1 as the package's own connect does for buggy Media2. */
export async function loadProfiles(
  cam: Cam,
  call: Call,
  address: string,
  log?: Logger,
): Promise<OnvifProfile[]> {
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
