/**
 * @module Time provenance of one track [EVIDENCE §4.3.1, §7.4]: which clock its entries were measured against, the
 * offsets they carry, how tight the measurement was, and how many entries had no trusted measurement. Pure.
 */
import { offsetBoundMs } from './clock-offset.ts';
import type { ClockReading, Entry } from './entry.ts';

/** What the entries of one track say about the gateway clock that stamped them. */
export interface TimeProvenance {
  /** The clock sources the entries name, each once, in chain order (e.g. ["ingest"], ["none", "ingest"]). */
  sources: string[];
  /** Entries whose reading is a measurement with a round trip (source other than "none" and "stale"). */
  trustedEntries: number;
  /** Entries sealed with no trusted measurement: source "none", "stale", or no round trip. */
  untrustedEntries: number;
  /** The smallest and largest offset (reference minus gateway clock, ms) of the measured entries; null: none. */
  offsetMs: { min: number; max: number } | null;
  /** The largest uncertainty of a trusted entry's offset: half its round trip, ms; null without one. */
  worstBoundMs: number | null;
  /** The device's clock minus the gateway's, from the open entry (ONVIF GetSystemDateAndTime, dock info). */
  deviceClockOffsetMs: number | null;
}

/** Is this reading a measurement whose error is bounded (a reference answered, with a round trip)? */
export function isTrustedReading(r: ClockReading): boolean {
  return r.source !== 'none' && r.source !== 'stale' && r.rttMs !== null;
}

/** The time provenance of a track's entries (in chain order). */
export function timeProvenance(entries: readonly Entry[]): TimeProvenance {
  const sources: string[] = [];
  let trusted = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let worst: number | null = null;
  let device: number | null = null;
  for (const e of entries) {
    const r = e.clock;
    if (!sources.includes(r.source)) sources.push(r.source);
    if (e.kind === 'open' && e.source.clockOffsetMs !== undefined) device = e.source.clockOffsetMs;
    // "none" carries no measurement at all (its offset is a placeholder 0); "stale" carries the last one.
    if (r.source !== 'none') {
      min = Math.min(min, r.offsetMs);
      max = Math.max(max, r.offsetMs);
    }
    if (!isTrustedReading(r)) continue;
    trusted++;
    worst = Math.max(worst ?? 0, offsetBoundMs(r.rttMs!));
  }
  return {
    sources,
    trustedEntries: trusted,
    untrustedEntries: entries.length - trusted,
    offsetMs: min <= max ? { min, max } : null,
    worstBoundMs: worst,
    deviceClockOffsetMs: device,
  };
}
