/** @module Loading a gateway configuration: parse, resolve its room profile, and check the two agree. */

import { invalidConfig, parseWith, readConfigFile } from './config-file.ts';
import type { GatewayConfigInput } from './gateway-config.ts';
import { GatewayConfig } from './gateway-config.ts';
import type { RoomProfile } from './room-profile.ts';
import { type RoomProfiles, shippedRoomProfiles } from './room-profiles.ts';

/** A parsed gateway configuration and the room profile it resolved to. */
export type LoadedGatewayConfig = { config: GatewayConfig; profile: RoomProfile };

/** Where profile names are looked up; the default is the shipped profiles/ folder. */
export type LoadOptions = { profiles?: RoomProfiles };

/**
 * Reads a YAML or JSON gateway configuration file and parses it.
 * Throws GatewayError GW_CONFIG_UNREADABLE (cannot read or parse the file, with path and line) or
 * GW_CONFIG_INVALID (one `path: message` line per problem).
 */
export async function loadGatewayConfig(
  file: string,
  options: LoadOptions = {},
): Promise<LoadedGatewayConfig> {
  return parseGatewayConfig(await readConfigFile(file), { ...options, source: file });
}

/**
 * Parses a gateway configuration from a value (a parsed file, or a pushed config), resolves
 * `room.profile` (a name or inline) and checks the cameras against the profile.
 * `source` names the input in error messages. Throws GatewayError GW_CONFIG_INVALID.
 */
export function parseGatewayConfig(
  input: unknown,
  options: LoadOptions & { source?: string } = {},
): LoadedGatewayConfig {
  const what = options.source ? `gateway configuration ${options.source}` : 'gateway configuration';
  const config = parseWith(GatewayConfig, input, what);
  const profile = resolveRoomProfile(config, options.profiles ?? shippedRoomProfiles(), what);
  const problems = checkAgainstProfile(config, profile);
  if (problems.length > 0) throw invalidConfig(what, problems);
  return { config, profile };
}

function resolveRoomProfile(config: GatewayConfig, profiles: RoomProfiles, what: string): RoomProfile {
  const ref = config.room.profile;
  if (typeof ref !== 'string') return ref;
  const profile = profiles.get(ref);
  if (profile) return profile;
  const known = [...profiles.keys()].join(', ') || 'none';
  throw invalidConfig(what, [`room.profile: no room profile named "${ref}" (known: ${known})`]);
}

/** Problems of a config that only show against its profile: camera count, audio, camera roles. */
export function checkAgainstProfile(config: GatewayConfig, profile: RoomProfile): string[] {
  const problems: string[] = [];
  const { cameras } = config;
  const { min, max, roles } = profile.cameras;
  if (cameras.length < min || cameras.length > max) {
    const range = min === max ? `${min}` : `${min}–${max}`;
    problems.push(
      `cameras: the ${profile.name} profile takes ${range} cameras; this config has ${cameras.length}`,
    );
  }
  if (
    profile.audio.required &&
    cameras.length > 0 &&
    !cameras.some((c) => c.audio) &&
    config.microphones.length === 0
  ) {
    problems.push(
      `cameras: the ${profile.name} profile requires audio; set audio: true on at least one camera, or add a microphone`,
    );
  }
  cameras.forEach((camera, i) => {
    if (camera.role === undefined || roles?.includes(camera.role)) return;
    const listed = roles?.length ? `one of ${roles.join(', ')}` : 'none listed';
    problems.push(
      `cameras[${i}].role: "${camera.role}" is not a camera role of the ${profile.name} profile (${listed})`,
    );
  });
  return problems;
}

/** Options of the demo configuration. */
export type DemoOptions = {
  /** Folder of the demo gateway's spool and key. */
  dataDir?: string;
  /** How many synthetic cameras (default 2). */
  cameras?: number;
  /** Gateway id (default "demo-gateway"). */
  gatewayId?: string;
  /** Shipped profile name (default "hearing-room"). */
  profile?: string;
};

/**
 * A valid configuration with N synthetic cameras, for `quanlu demo`: a hearing room by default,
 * each camera with its own tone so tracks are told apart by ear. Throws GW_CONFIG_INVALID if N does
 * not fit the profile.
 */
export function demoGatewayConfig(options: DemoOptions = {}, load: LoadOptions = {}): GatewayConfig {
  const {
    dataDir = './data/gateway',
    cameras = 2,
    gatewayId = 'demo-gateway',
    profile = 'hearing-room',
  } = options;
  const roles = (load.profiles ?? shippedRoomProfiles()).get(profile)?.cameras.roles ?? [];
  const input: GatewayConfigInput = {
    gateway: { id: gatewayId, dataDir },
    room: { id: 'demo-room', name: '演示听证室 demo room', profile },
    cameras: Array.from({ length: cameras }, (_, i) => ({
      id: `cam-${i + 1}`,
      name: `摄像机 ${i + 1} camera ${i + 1}`,
      ...(roles[i] ? { role: roles[i] } : {}),
      audio: true,
      source: {
        kind: 'synthetic' as const,
        width: 640,
        height: 360,
        fps: 25,
        bitrateKbps: 800,
        tone: 440 + 110 * i,
      },
    })),
  };
  return parseGatewayConfig(input, { ...load, source: 'demo' }).config;
}
