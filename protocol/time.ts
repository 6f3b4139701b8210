/** @module The one timestamp format of the evidence: UTC ISO-8601 with milliseconds [DESIGN invariant 6]. */
import { z } from 'zod';

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, always UTC, always milliseconds. */
export const IsoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected UTC ISO-8601 with milliseconds')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s, 'not a real instant')
  .describe('UTC ISO-8601 with milliseconds, e.g. 2026-11-27T03:35:28.123Z');
export type IsoTime = z.infer<typeof IsoTime>;

/** Formats epoch milliseconds in the evidence time format. */
export function isoTime(ms: number): IsoTime {
  return new Date(Math.round(ms)).toISOString();
}

/** Parses an evidence time to epoch milliseconds. */
export function timeMs(iso: IsoTime): number {
  return Date.parse(iso);
}

/** A clock the code reads instead of Date.now(), so tests can inject one. */
export interface Clock {
  /** Milliseconds since the epoch, gateway-local. */
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = { now: () => Date.now() };
