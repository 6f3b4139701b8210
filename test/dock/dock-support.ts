/** @module Dock test helpers: a dock-station gateway config, simulated device volumes with ffmpeg footage, an API token, waiting on dock states. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type LoadedGatewayConfig, parseGatewayConfig } from '../../firmware-config/load.ts';
import type { DockStatus } from '../../gateway/dock/dock-status.ts';
import type { DockSupervisor } from '../../gateway/dock/dock-supervisor.ts';
import type { Ingest } from '../../ingest/app.ts';
import { newApiToken, secretHash } from '../../ingest/auth/tokens.ts';
import { addUser } from '../../ingest/auth/users.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { chainFileName, LAYOUT, objectPath } from '../../protocol/folder-layout.ts';
import type { KeyPair } from '../../protocol/keys.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { waitUntil } from '../e2e/e2e-support.ts';
import { MEDIA_CACHE_DIR, makeTestMedia } from '../helpers/media.ts';

/** A dock-station gateway configuration (no cameras) with its data in `dataDir`. */
export function dockGatewayConfig(dataDir: string, id = 'gw-dock'): LoadedGatewayConfig {
  return parseGatewayConfig({
    gateway: { id, dataDir },
    room: {
      id: 'dock-1',
      name: 'dock station 1',
      profile: {
        name: 'dock-station',
        kind: 'dock',
        title: { zh: '采集站', en: 'Dock' },
        cameras: { min: 0, max: 0 },
        audio: { required: false },
        requiredElements: { caseId: false, matter: false, officersMin: 0, room: false },
      },
    },
    cameras: [],
    log: { level: 'warn' },
  });
}

/** Two short ffmpeg clips per device (distinct tones, so distinct bytes), cached between runs. */
export async function footageClips(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const media = await makeTestMedia(MEDIA_CACHE_DIR, 'h264-aac', {
      seconds: 2,
      toneHz: 500 + i * 110,
      clock: false,
    });
    out.push(media.path);
  }
  return out;
}

/** A simulated device volume: `DEVICE.TXT` with the serial, and files copied in under DCIM/100MEDIA. */
export async function makeDevice(
  root: string,
  folder: string,
  serial: string,
  files: readonly { name: string; from?: string; bytes?: Buffer }[],
  extraInfo = '',
): Promise<string> {
  const volume = join(root, folder);
  await mkdir(volume, { recursive: true });
  await writeFile(join(volume, 'DEVICE.TXT'), `serial=${serial}\nmodel=DSJ-TEST\n${extraInfo}`);
  for (const f of files) {
    const path = join(volume, f.name);
    await mkdir(dirname(path), { recursive: true });
    if (f.from) await copyFile(f.from, path);
    else await writeFile(path, f.bytes ?? Buffer.alloc(0));
  }
  return volume;
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** A supervisor user and an API token for the ingest's HTTP API. */
export async function apiToken(ingest: Ingest): Promise<string> {
  const at = new Date().toISOString();
  await addUser(
    ingest.repo,
    { username: 'sup1', role: 'supervisor', password: 'correct horse battery 1' },
    at,
  );
  const token = newApiToken();
  await ingest.repo.insertApiToken(secretHash(token), 'sup1', at);
  return token;
}

/** Calls the ingest API with the token. */
export async function api(ingest: Ingest, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${ingest.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until `done(status)` holds, re-checking on each dock change. */
export function waitForDock(
  dock: DockSupervisor,
  done: (s: DockStatus) => boolean,
  limitMs: number,
  what: string,
): Promise<void> {
  return waitUntil(dock, 'change', () => done(dock.status()), limitMs, what);
}

/** Writes an evidence folder of device chains: entries from the spool, objects from the ingest's folder store. */
export async function dockEvidenceFolder(
  folder: string,
  gateway: string,
  keyPair: KeyPair,
  chains: readonly { recording: string; entries: SignedEntry[] }[],
  store: ObjectStore,
): Promise<void> {
  await mkdir(join(folder, LAYOUT.keys), { recursive: true });
  await writeFile(
    join(folder, LAYOUT.keys, `${gateway}.json`),
    JSON.stringify({ alg: 'ed25519', publicKey: keyPair.publicKeyText, owner: gateway }),
  );
  for (const c of chains) {
    const track = (c.entries[0]!.entry as Entry).track;
    const file = join(folder, LAYOUT.entries, chainFileName(c.recording, track));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, c.entries.map((s) => `${JSON.stringify(s)}\n`).join(''));
    for (const s of c.entries) {
      const e = s.entry as Entry;
      if (e.kind !== 'file') continue;
      const target = join(folder, objectPath(e.object.sha256));
      await mkdir(dirname(target), { recursive: true });
      await pipeline(await store.get(e.object.sha256), createWriteStream(target));
    }
  }
}
