/** @module The room profiles known to a gateway: the shipped profiles/*.yaml, looked up by name. */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayError } from '../gateway/errors.ts';
import { invalidConfig, parseWith, readConfigFileSync } from './config-file.ts';
import { RoomProfile } from './room-profile.ts';

/** The folder of the profiles shipped with the code. */
export const PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

/** Room profiles by name. */
export type RoomProfiles = ReadonlyMap<string, RoomProfile>;

/**
 * Loads every `*.yaml` in `dir` as a room profile; each file must be named after its profile
 * (`hearing-room.yaml` holds `name: hearing-room`). Throws GW_CONFIG_UNREADABLE or GW_CONFIG_INVALID.
 */
export function loadRoomProfiles(dir: string = PROFILES_DIR): RoomProfiles {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  } catch (err) {
    throw new GatewayError('GW_CONFIG_UNREADABLE', `${dir}: cannot list the room profiles`, { cause: err });
  }
  const profiles = new Map<string, RoomProfile>();
  for (const name of names.sort()) {
    const file = join(dir, name);
    const profile = parseWith(RoomProfile, readConfigFileSync(file), `room profile ${file}`);
    const expected = basename(name).replace(/\.ya?ml$/, '');
    if (profile.name !== expected) {
      throw invalidConfig(`room profile ${file}`, [
        `name: "${profile.name}" must match the file name "${expected}"`,
      ]);
    }
    profiles.set(profile.name, profile);
  }
  return profiles;
}

let shipped: RoomProfiles | undefined;

/** The shipped profiles, read once: they are part of the code, like a module. */
export function shippedRoomProfiles(): RoomProfiles {
  shipped ??= loadRoomProfiles(PROFILES_DIR);
  return shipped;
}
