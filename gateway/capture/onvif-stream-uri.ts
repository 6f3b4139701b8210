/** @module RTSP stream URIs of ONVIF cameras: the credential-bearing URL for ffmpeg and its redacted twin for everything else. */
import { inspect } from 'node:util';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';

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

const MediaUri = z.object({ uri: z.string().min(1) });

/**
 * Builds, from a GetStreamUri reply, the ffmpeg URL (credentials percent-encoded; ffmpeg decodes them) and
 * its redacted twin. Throws GW_CAMERA_BAD_RESPONSE when the reply holds no RTSP URL.
 */
export function streamUriFor(
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
