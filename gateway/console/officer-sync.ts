/**
 * @module The console's link to the ingest's reference lists: the officer list synced at start and periodically,
 * kept on disk so Start checks officers offline too, and the case look-up Start makes with a short timeout.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type Clock, isoTime } from '../../protocol/time.ts';
import { GatewayError } from '../errors.ts';
import { type IngestFetch, type IngestHttpsTls, ingestFetch } from '../uplink/ingest-https.ts';
import { CredentialNumber, type Officer } from './officer-list.ts';

/** What the ingest serves at GET /api/v1/officers; also the copy kept on disk (with when it was fetched). */
export const IngestOfficers = z.object({
  officers: z
    .array(
      z.object({
        number: CredentialNumber,
        name: z.string().min(1).max(100),
        unit: z.string().max(200).nullable().optional(),
      }),
    )
    .max(10_000),
  /** When the list was last replaced at the ingest; null: never imported there. */
  syncedAt: z.string().nullable(),
});
/** The ingest's officer list. */
export type IngestOfficers = z.infer<typeof IngestOfficers>;

const Cached = IngestOfficers.extend({ fetchedAt: z.string() });
type Cached = z.infer<typeof Cached>;

/** What a case look-up at Start found: known at the ingest, new to a reachable ingest, or no answer. */
export type CaseLookup = 'found' | 'new' | 'offline';

/** The sync state the console shows. */
export interface OfficerSyncState {
  /** The ingest's API base URL. */
  url: string;
  /** When this gateway last fetched the list (from the ingest or, before that, the cached copy); null: never. */
  fetchedAt: string | null;
  /** When the list was last replaced at the ingest; null: never imported there. */
  ingestSyncedAt: string | null;
  /** Officers in the synced list; null when no synced list exists. */
  count: number | null;
  /** When the last attempt ran and how it failed (null: it succeeded, or none ran yet). */
  lastAttemptAt: string | null;
  error: { code: string; message: string } | null;
}

/** Settings of the sync. */
export interface OfficerSyncOptions {
  /** The ingest's HTTP API base URL (`ingest.httpUrl`). */
  url: string;
  /** A file holding the API token (`ingest.tokenFile`); null: requests carry none. */
  tokenFile: string | null;
  /** Where the last synced copy is kept (in the gateway's data folder). */
  cacheFile: string;
  /** How often to fetch again; 5 minutes by default. */
  everyMs?: number;
  /** How long a request may take: the officer list 10 s, a case look-up at Start this (2 s by default). */
  lookupTimeoutMs?: number;
  /** The ingest CA pin and client certificate for an https URL (issue 10); null: the system CAs. */
  tls?: IngestHttpsTls | null;
  /** How requests are made; by default over node:https trusting exactly the pinned ingest CA. */
  fetch?: IngestFetch;
  clock: Clock;
  log: Logger;
}

/** The officer list synced from the ingest and the case look-up, one per console. */
export class OfficerSync {
  readonly #o: OfficerSyncOptions;
  readonly #fetch: IngestFetch;
  #cached: Cached | null = null;
  #lastAttemptAt: string | null = null;
  #error: OfficerSyncState['error'] = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<boolean> | null = null;

  constructor(options: OfficerSyncOptions) {
    this.#o = options;
    this.#fetch = options.fetch ?? ingestFetch(options.tls ?? null);
  }

  /** Loads the last synced copy from disk; an absent or unreadable copy is no list. */
  async load(): Promise<void> {
    try {
      this.#cached = Cached.parse(JSON.parse(await readFile(this.#o.cacheFile, 'utf8')));
    } catch {
      this.#cached = null;
    }
    const { tokenFile } = this.#o;
    const mode = tokenFile ? (await stat(tokenFile).catch(() => null))?.mode : undefined;
    // The token reads the officer list and case ids: others on this machine should not be able to read it.
    if (mode !== undefined && (mode & 0o077) !== 0)
      this.#o.log.warn(
        { tokenFile, mode: (mode & 0o777).toString(8) },
        'the ingest token file is readable by others; chmod 600 it',
      );
  }

  /** Syncs now, then every `everyMs`; the first sync runs in the background (await `sync()` to wait for one). */
  start(): void {
    void this.sync();
    this.#timer = setInterval(() => void this.sync(), this.#o.everyMs ?? 300_000);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a sync in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /**
   * The officer list Start checks against, or null when none is synced: never fetched, or the ingest has never
   * had a list imported (then an empty list would refuse every officer).
   */
  officers(): Officer[] | null {
    const c = this.#cached;
    if (!c || c.syncedAt === null) return null;
    return c.officers.map((o) => ({ id: o.number, name: o.name }));
  }

  /** The state the console shows. */
  state(): OfficerSyncState {
    const list = this.officers();
    return {
      url: this.#o.url,
      fetchedAt: this.#cached?.fetchedAt ?? null,
      ingestSyncedAt: this.#cached?.syncedAt ?? null,
      count: list ? list.length : null,
      lastAttemptAt: this.#lastAttemptAt,
      error: this.#error,
    };
  }

  /** Fetches the list once (joining a fetch in flight); true when it was fetched and kept, false on failure. */
  sync(): Promise<boolean> {
    this.#running ??= this.#syncOnce().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Looks a case id up at the ingest with a short timeout: 'found', 'new' (a reachable ingest without it), 'offline'. */
  async lookupCase(caseId: string): Promise<CaseLookup> {
    try {
      const res = await this.#get(
        `/api/v1/cases/${encodeURIComponent(caseId)}`,
        this.#o.lookupTimeoutMs ?? 2_000,
      );
      if (res.ok) return 'found';
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
      if (res.status === 404 && body?.error?.code === 'INGEST_NOT_FOUND') return 'new';
      this.#o.log.warn(
        { status: res.status, code: body?.error?.code },
        'case look-up refused: accepted offline',
      );
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'case look-up: ingest unreachable, accepted offline');
    }
    return 'offline';
  }

  async #syncOnce(): Promise<boolean> {
    const now = isoTime(this.#o.clock.now());
    this.#lastAttemptAt = now;
    let fetched: IngestOfficers;
    try {
      const res = await this.#get('/api/v1/officers', 10_000);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const parsed = IngestOfficers.safeParse(await res.json());
      if (!parsed.success)
        throw new Error(`the answer does not match its schema: ${z.prettifyError(parsed.error)}`);
      fetched = parsed.data;
    } catch (cause) {
      // The cause's code (GW_TLS_PIN: another CA) is in the message, so the console says why.
      const code = (cause as GatewayError).code;
      const err = new GatewayError(
        'GW_OFFICERS_SYNC',
        `cannot fetch the officer list: ${code ? `${code}: ` : ''}${(cause as Error).message}`,
        {
          cause,
        },
      );
      this.#error = { code: err.code, message: err.message };
      this.#o.log.warn({ code: err.code, err: err.message }, 'officer list not synced; using the last copy');
      return false;
    }
    const cached: Cached = { ...fetched, fetchedAt: now };
    this.#cached = cached;
    this.#error = null;
    try {
      await mkdir(dirname(this.#o.cacheFile), { recursive: true });
      const temp = `${this.#o.cacheFile}.tmp`;
      await writeFile(temp, JSON.stringify(cached));
      await rename(temp, this.#o.cacheFile);
    } catch (err) {
      // The fetched list is used now; only the offline copy is stale until the next sync writes it.
      this.#o.log.warn({ err: (err as Error).message }, 'officer list synced but not kept on disk');
    }
    this.#o.log.info(
      { officers: fetched.officers.length, ingestSyncedAt: fetched.syncedAt },
      'officer list synced',
    );
    return true;
  }

  async #get(path: string, timeoutMs: number): Promise<Response> {
    // Read on every request, so a replaced token file takes effect without a restart.
    const token = this.#o.tokenFile ? (await readFile(this.#o.tokenFile, 'utf8')).trim() : null;
    return this.#fetch(new URL(path, this.#o.url), {
      signal: AbortSignal.timeout(timeoutMs),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  }
}
