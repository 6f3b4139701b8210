/**
 * @module NTP-style clock offset estimation (RFC 5905 §8, on-wire protocol): one sample is four times, a burst
 * keeps the sample with the shortest round trip. Pure; shared by the gateway's clock sync and the verifier.
 */

/** One request/response exchange: t0 and t3 on the local clock, t1 and t2 on the reference clock (ms). */
export interface ClockSample {
  /** Local time the request left. */
  t0: number;
  /** Reference time the request arrived. */
  t1: number;
  /** Reference time the response left. */
  t2: number;
  /** Local time the response arrived. */
  t3: number;
}

/** What one sample says: the reference clock minus the local one, and the network's share of the round trip. */
export interface ClockEstimate {
  /** Reference time minus local time, ms, rounded to an integer. */
  offsetMs: number;
  /** The round trip without the reference's own processing time, ms (never negative). */
  rttMs: number;
}

/**
 * The offset and round trip of one sample: offset = ((t1 − t0) + (t2 − t3)) / 2, delay = (t3 − t0) − (t2 − t1).
 * Null when the sample cannot be true (a negative delay: a clock stepped during the exchange).
 */
export function estimateOffset(s: ClockSample): ClockEstimate | null {
  const delay = s.t3 - s.t0 - (s.t2 - s.t1);
  if (!Number.isFinite(delay) || delay < 0 || s.t2 < s.t1) return null;
  const offset = (s.t1 - s.t0 + (s.t2 - s.t3)) / 2;
  return { offsetMs: Math.round(offset), rttMs: Math.ceil(delay) };
}

/** The estimate of the sample with the shortest round trip in a burst (the least queueing), or null if none holds. */
export function bestEstimate(samples: readonly ClockSample[]): ClockEstimate | null {
  let best: ClockEstimate | null = null;
  for (const s of samples) {
    const e = estimateOffset(s);
    if (e && (best === null || e.rttMs < best.rttMs)) best = e;
  }
  return best;
}

/**
 * How far the true offset can be from a reading's offset: half its round trip, rounded up. Whatever the split of
 * the round trip between the two directions, the true offset lies within offsetMs ± this bound.
 */
export function offsetBoundMs(rttMs: number): number {
  return Math.ceil(rttMs / 2);
}
