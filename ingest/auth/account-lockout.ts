/** @module Account lockout: too many failed sign-ins for one user name, from any address, lock that account for a while. */
import { type Clock, systemClock } from '../../protocol/time.ts';

/** When an account locks and for how long. */
export interface LockoutPolicy {
  /** Failures within the window that lock the account. */
  failures: number;
  windowMs: number;
  /** How long a locked account refuses every sign-in, the right password included. */
  lockMs: number;
  /** User names tracked at most; the oldest are dropped first (bounds memory under a spray of names). */
  maxKeys: number;
}

/** 5 failures in 15 minutes lock the account for 15 minutes. */
export const DEFAULT_LOCKOUT: LockoutPolicy = {
  failures: 5,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  maxKeys: 50_000,
};

/**
 * Counts failed sign-ins per user name, whatever the address: unlike the per-address rate limit, it stops a
 * guesser who spreads attempts over many addresses. Unknown names are counted like known ones, so a lock
 * says nothing about whether the user exists. Each ingest node counts its own (in memory).
 */
export class AccountLockout {
  private readonly failures = new Map<string, number[]>();
  private readonly lockedUntil = new Map<string, number>();
  private readonly policy: LockoutPolicy;
  private readonly clock: Clock;

  constructor(opts: { policy?: Partial<LockoutPolicy>; clock?: Clock } = {}) {
    this.policy = { ...DEFAULT_LOCKOUT, ...opts.policy };
    this.clock = opts.clock ?? systemClock;
  }

  /** Milliseconds until this account may sign in again; 0 when it is not locked. */
  lockedForMs(username: string): number {
    const until = this.lockedUntil.get(username);
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left > 0) return left;
    this.lockedUntil.delete(username);
    return 0;
  }

  /** Counts a failure; returns true when this failure locked the account. */
  fail(username: string): boolean {
    const now = this.clock.now();
    const recent = (this.failures.get(username) ?? []).filter((at) => at > now - this.policy.windowMs);
    recent.push(now);
    this.failures.delete(username);
    if (recent.length >= this.policy.failures) {
      this.lockedUntil.set(username, now + this.policy.lockMs);
      if (this.lockedUntil.size > this.policy.maxKeys)
        this.lockedUntil.delete(this.lockedUntil.keys().next().value!);
      return true;
    }
    this.failures.set(username, recent);
    if (this.failures.size > this.policy.maxKeys) this.failures.delete(this.failures.keys().next().value!);
    return false;
  }

  /** Forgets the failures after a successful sign-in. */
  succeed(username: string): void {
    this.failures.delete(username);
  }
}
