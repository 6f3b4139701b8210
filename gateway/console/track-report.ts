/** @module What one track of a recording holds, read back from the spool: segments, gaps, bitrate, unacknowledged hashes. */
import type { Spool } from '../spool/spool.ts';

/** A gap of a track, as the console shows it. */
export interface GapView {
  from: string;
  to: string;
  reason: string;
  detail: string;
}

/** One track's facts, from its chain in the spool (so they survive a gateway restart). */
export interface TrackReport {
  track: string;
  segments: number;
  bytes: number;
  gaps: GapView[];
  /** Start time and duration of the newest segment, or null before the first one. */
  lastSegment: { start: string; durationMs: number; sha256: string } | null;
  /** Bits per second over the newest few segments, or null before the first one. */
  bitrateBps: number | null;
  /** Hashes of this track's entries the ingest has not acknowledged yet. */
  pendingHashes: string[];
  closed: boolean;
}

/** How many of the newest segments the bitrate is averaged over. */
const BITRATE_WINDOW = 5;

/** Reads one track's chain from the spool and sums it up. */
export function trackReport(spool: Spool, recording: string, track: string): TrackReport {
  const chain = spool.chain(recording, track);
  const report: TrackReport = {
    track,
    segments: 0,
    bytes: 0,
    gaps: [],
    lastSegment: null,
    bitrateBps: null,
    pendingHashes: [],
    closed: false,
  };
  const recent: { size: number; durationMs: number }[] = [];
  for (const signed of chain) {
    const e = signed.entry as Record<string, unknown>;
    if (e.kind === 'segment') {
      const object = e.object as { sha256: string; size: number };
      report.segments++;
      report.bytes += object.size;
      report.lastSegment = {
        start: String(e.start),
        durationMs: Number(e.durationMs),
        sha256: object.sha256,
      };
      recent.push({ size: object.size, durationMs: Number(e.durationMs) });
      if (recent.length > BITRATE_WINDOW) recent.shift();
    } else if (e.kind === 'gap') {
      report.gaps.push({
        from: String(e.from),
        to: String(e.to),
        reason: String(e.reason),
        detail: String(e.detail),
      });
    } else if (e.kind === 'close') {
      report.closed = true;
    }
    if (spool.get(signed.hash)?.state !== 'acknowledged') report.pendingHashes.push(signed.hash);
  }
  const ms = recent.reduce((sum, s) => sum + s.durationMs, 0);
  if (ms > 0) report.bitrateBps = Math.round((recent.reduce((sum, s) => sum + s.size, 0) * 8000) / ms);
  return report;
}

/** The newest `count` segments of a track, oldest first, each with its ordinal among the track's segments. */
export function newestSegments(
  spool: Spool,
  recording: string,
  track: string,
  count: number,
): { sha256: string; durationMs: number; ordinal: number }[] {
  const segments = spool
    .chain(recording, track)
    .map((s) => s.entry as Record<string, unknown>)
    .filter((e) => e.kind === 'segment')
    .map((e, ordinal) => ({
      sha256: (e.object as { sha256: string }).sha256,
      durationMs: Number(e.durationMs),
      ordinal,
    }));
  return segments.slice(-count);
}
