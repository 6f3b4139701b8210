/** @module Rate limit of sign-in: failed attempts counted per address and user name in a sliding window. */
import { type Clock, systemClock } from '../../protocol/time.ts';

/** How many failures a window allows. */
export interface SignInLimits {
  /** Failed attempts allowed in the window; the next attempt is refused. */
  maxFailures: number;
  windowMs: number;
  /** Counters kept at most; the oldest are dropped first (bounds memory under a spray of names). */
  maxKeys: number;
}

/** 5 failures per 15 minutes per address and user name. */
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  maxKeys: 50_000,
};

/**
 * Counts failed sign-ins in memory. Each ingest node counts its own: behind N nodes an attacker
 * gets at most N times the limit, which still makes guessing a password hopeless.
 */
export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly limits: SignInLimits;
  private readonly clock: Clock;

  constructor(opts: { limits?: Partial<SignInLimits>; clock?: Clock } = {}) {
    this.limits = { ...DEFAULT_SIGN_IN_LIMITS, ...opts.limits };
    this.clock = opts.clock ?? systemClock;
  }

  /** Milliseconds until this address may try this user name again; 0 when it may now. */
  retryAfterMs(address: string, username: string): number {
    const recent = this.recent(key(address, username));
    if (recent.length < this.limits.maxFailures) return 0;
    return Math.max(1, recent[0]! + this.limits.windowMs - this.clock.now());
  }

  /** Counts a failed attempt. */
  fail(address: string, username: string): void {
    const k = key(address, username);
    const recent = this.recent(k);
    recent.push(this.clock.now());
    this.failures.delete(k);
    this.failures.set(k, recent);
    if (this.failures.size > this.limits.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  /** Forgets the failures after a successful sign-in. */
  succeed(address: string, username: string): void {
    this.failures.delete(key(address, username));
  }

  private recent(k: string): number[] {
    const since = this.clock.now() - this.limits.windowMs;
    return (this.failures.get(k) ?? []).filter((at) => at > since);
  }
}

function key(address: string, username: string): string {
  return `${address}\n${username}`;
}
