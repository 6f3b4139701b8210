/** @module What Start's case look-up found, per recording, kept in the data folder so the console shows it after a restart. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { CaseLookup } from './officer-sync.ts';

const Stored = z.record(z.string().max(100), z.enum(['found', 'new', 'offline']));

/** Only the newest recordings matter (the running one): older results are dropped. */
const KEEP = 50;

/** Case look-up results by recording id, on disk. */
export class CaseLookups {
  readonly #file: string;
  #map: Map<string, CaseLookup>;

  /** Reads `file`; an absent or unreadable file is no results (the console then says "accepted offline"). */
  constructor(file: string) {
    this.#file = file;
    try {
      this.#map = new Map(Object.entries(Stored.parse(JSON.parse(readFileSync(file, 'utf8')))));
    } catch {
      this.#map = new Map();
    }
  }

  /** The result for a recording, or null when none was kept. */
  get(recording: string): CaseLookup | null {
    return this.#map.get(recording) ?? null;
  }

  /** Keeps a recording's result (written before Start answers; a failed write only loses it after a restart). */
  set(recording: string, lookup: CaseLookup): void {
    this.#map.set(recording, lookup);
    while (this.#map.size > KEEP) this.#map.delete(this.#map.keys().next().value!);
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      writeFileSync(`${this.#file}.tmp`, JSON.stringify(Object.fromEntries(this.#map)));
      renameSync(`${this.#file}.tmp`, this.#file);
    } catch {
      // the result is still shown by this process
    }
  }
}
