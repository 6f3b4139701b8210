/**
 * @module The pushed configurations on disk, in `<dataDir>/config/`: `current.json` (the envelope in force) and
 * `previous.json` (the one before it). A new one is written beside them, synced, then swapped in by renames.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigEnvelope } from '../../protocol/messages.ts';

/** The pushed configurations of one gateway. */
export class ConfigFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The envelope in force, or null when the gateway runs on its local file. */
  current(): ConfigEnvelope | null {
    return this.#read('current.json');
  }

  /** The envelope before the current one, or null. */
  previous(): ConfigEnvelope | null {
    return this.#read('previous.json');
  }

  /** The last envelope that failed and was rolled back, or null. */
  failed(): ConfigEnvelope | null {
    return this.#read('failed.json');
  }

  /** Makes `envelope` current and keeps the one it replaces as previous; a crash leaves one or the other whole. */
  install(envelope: ConfigEnvelope): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const next = this.#path('next.json');
    writeFileSync(next, `${JSON.stringify(envelope)}\n`, { mode: 0o600 });
    syncFile(next);
    if (existsSync(this.#path('current.json')))
      renameSync(this.#path('current.json'), this.#path('previous.json'));
    else rmSync(this.#path('previous.json'), { force: true });
    renameSync(next, this.#path('current.json'));
    syncFile(this.#dir);
  }

  /** Puts the previous envelope back in force (none: back to the local file); the failed one is kept as failed.json. */
  rollback(): void {
    if (existsSync(this.#path('current.json')))
      renameSync(this.#path('current.json'), this.#path('failed.json'));
    if (existsSync(this.#path('previous.json')))
      renameSync(this.#path('previous.json'), this.#path('current.json'));
    syncFile(this.#dir);
  }

  #path(name: string): string {
    return join(this.#dir, name);
  }

  #read(name: string): ConfigEnvelope | null {
    const path = this.#path(name);
    if (!existsSync(path)) return null;
    return ConfigEnvelope.parse(JSON.parse(readFileSync(path, 'utf8')));
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
