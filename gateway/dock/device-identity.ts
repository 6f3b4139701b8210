/** @module Tells a docked device apart: its serial (info file or folder name, per model) and its reported clock offset. */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { DockDeviceModel } from '../../firmware-config/dock-profile.ts';
import { GatewayError } from '../errors.ts';

/** A device serial: what the chain's open names and the track id is made from. */
export const DeviceSerial = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a device serial is 1–64 of A-Z, a-z, 0-9, ".", "_" and "-"')
  .describe('device serial');

/** Who a docked device is. */
export interface DeviceIdentity {
  serial: string;
  model: string;
  /** The device's clock minus the dock's, in ms, when the device reports it. */
  clockOffsetMs: number | null;
}

/** The info file is small; a bigger one is not an info file. */
const MAX_INFO_BYTES = 64 * 1024;

/** Identifies the device mounted at `root` (folder `folder` under the dock root), by the first matching model. */
export async function identifyDevice(
  root: string,
  folder: string,
  models: readonly DockDeviceModel[],
): Promise<DeviceIdentity> {
  const model = models.find((m) => new RegExp(m.match, 'u').test(folder));
  if (!model)
    throw new GatewayError('GW_DOCK_DEVICE_UNKNOWN', `no device model matches the folder ${folder}`);
  const info = model.serialFrom === 'info-file' ? await readInfo(join(root, model.infoFile)) : null;
  const raw = info ? (info[model.serialKey] ?? folder) : folder;
  const serial = DeviceSerial.safeParse(String(raw).trim());
  if (!serial.success)
    throw new GatewayError(
      'GW_DOCK_DEVICE_UNKNOWN',
      `the device in ${JSON.stringify(folder)} names no valid serial (${z.prettifyError(serial.error)})`,
    );
  const offset = info ? Number(info[model.clockOffsetKey]) : Number.NaN;
  return {
    serial: serial.data,
    model: model.name,
    clockOffsetMs: Number.isSafeInteger(offset) ? offset : null,
  };
}

/** Reads "key=value" lines or a JSON object; null when the file is absent. Never follows a link. */
async function readInfo(path: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!stat.isFile() || stat.size > MAX_INFO_BYTES) return null;
      text = (await handle.readFile()).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // not JSON: key=value lines
  }
  const out: Record<string, unknown> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** The track id of a device's chains: "dock-" and the serial, lowercased. */
export function deviceTrack(serial: string): string {
  return `dock-${serial.toLowerCase()}`.slice(0, 63);
}
