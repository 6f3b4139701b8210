/** @module The device-to-officer assignments, synced from the ingest and kept on disk for when it is unreachable. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import type { IngestFetch } from '../uplink/ingest-https.ts';

/** What the ingest serves at GET /api/v1/dock/assignments, and what is cached on disk. */
export const OfficerAssignments = z.strictObject({
  assignments: z
    .array(
      z.strictObject({
        device: z.string().min(1).max(200).describe('device serial'),
        officer: z.string().min(1).max(64).describe('credential number (执法证号) of the officer'),
      }),
    )
    .max(100_000),
  syncedAt: z.string().optional(),
});
export type OfficerAssignments = z.infer<typeof OfficerAssignments>;

/** Device serial → officer, as last synced. */
export class OfficerMap {
  readonly #file: string;
  #map = new Map<string, string>();

  constructor(file: string) {
    this.#file = file;
  }

  /** Loads the last synced copy; an absent or unreadable copy is an empty map. */
  async load(): Promise<void> {
    try {
      this.#set(OfficerAssignments.parse(JSON.parse(await readFile(this.#file, 'utf8'))));
    } catch {
      this.#map = new Map();
    }
  }

  /** Fetches the assignments from the ingest at `baseUrl` and keeps them on disk; GW_DOCK_OFFICER_SYNC on failure. */
  async sync(baseUrl: string, token: string | null, fetchFn: IngestFetch = fetch): Promise<number> {
    let parsed: OfficerAssignments;
    try {
      const res = await fetchFn(new URL('/api/v1/dock/assignments', baseUrl), {
        signal: AbortSignal.timeout(10_000),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      parsed = OfficerAssignments.parse(await res.json());
    } catch (err) {
      throw new GatewayError(
        'GW_DOCK_OFFICER_SYNC',
        `cannot fetch officer assignments: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    await this.replace(parsed);
    return this.#map.size;
  }

  /** Replaces the assignments and writes them to disk atomically. */
  async replace(assignments: OfficerAssignments): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true });
    const temp = `${this.#file}.tmp`;
    await writeFile(temp, JSON.stringify(assignments));
    await rename(temp, this.#file);
    this.#set(assignments);
  }

  /** The officer of a device, or null. */
  officerOf(serial: string): string | null {
    return this.#map.get(serial) ?? null;
  }

  #set(a: OfficerAssignments): void {
    this.#map = new Map(a.assignments.map((x) => [x.device, x.officer]));
  }
}
