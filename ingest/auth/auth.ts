/** @module The auth service: sign-in, sessions with idle and absolute expiry, API tokens, and writing audit records. */
import type { FastifyRequest } from 'fastify';
import { type Clock, isoTime, systemClock } from '../../protocol/time.ts';
import type { IngestConfig } from '../config.ts';
import type { Repository, UserRow } from '../db/repository.ts';
import { IngestError } from '../errors.ts';
import { AccountLockout, DEFAULT_LOCKOUT } from './account-lockout.ts';
import type { AuditEvent, AuditRecord } from './audit-chain.ts';
import { decoyHash, verifyPassword } from './password.ts';
import { SignInLimiter } from './sign-in-limiter.ts';
import { API_TOKEN_PREFIX, newApiToken, newSecret, secretHash } from './tokens.ts';

/** The cookie that carries the session token. */
export const SESSION_COOKIE = 'quanlu_session';

/** Who a request comes from, once authenticated. */
export interface AuthContext {
  user: UserRow;
  via: 'session' | 'token';
  /** SHA-256 of the session or API token: reasons for access are kept under it. */
  credential: string;
  /** The session's CSRF token (sessions only). */
  csrfToken: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every /api/v1 request it lets through (null on public routes). */
    auth: AuthContext | null;
  }
}

/** A new session: the token goes into the cookie, never into the database. */
export interface NewSession {
  token: string;
  csrfToken: string;
  user: UserRow;
  maxAgeSeconds: number;
}

/** What the auth service needs. */
export interface AuthDeps {
  repo: Repository;
  access: IngestConfig['access'];
  clock?: Clock;
  limiter?: SignInLimiter;
}

/** A session is touched at most this often, so a busy console is not a write per request. */
const TOUCH_EVERY_MS = 60_000;

/** Sign-in, sessions, tokens and audit records over one repository. */
export class Auth {
  readonly repo: Repository;
  readonly access: IngestConfig['access'];
  readonly clock: Clock;
  readonly limiter: SignInLimiter;
  /** Per-account lockout after repeated failures, whatever the address (issue 10). */
  readonly lockout: AccountLockout;

  constructor(deps: AuthDeps) {
    this.repo = deps.repo;
    this.access = deps.access;
    this.clock = deps.clock ?? systemClock;
    this.limiter = deps.limiter ?? new SignInLimiter({ clock: this.clock });
    const minutes = (m: number | undefined, fallbackMs: number) =>
      m === undefined ? fallbackMs : m * 60_000;
    this.lockout = new AccountLockout({
      clock: this.clock,
      policy: {
        failures: deps.access.lockoutFailures ?? DEFAULT_LOCKOUT.failures,
        windowMs: minutes(deps.access.lockoutWindowMinutes, DEFAULT_LOCKOUT.windowMs),
        lockMs: minutes(deps.access.lockoutMinutes, DEFAULT_LOCKOUT.lockMs),
      },
    });
  }

  /** The current time as the audit log and sessions record it. */
  now(): string {
    return isoTime(this.clock.now());
  }

  /**
   * Checks a user name and password. An unknown user, a wrong password and a disabled user get
   * the same INGEST_AUTH_FAILED after the same scrypt work; too many failures get INGEST_RATE_LIMITED
   * (per address and name) or INGEST_ACCOUNT_LOCKED (per name, any address).
   */
  async signIn(username: string, password: string, address: string): Promise<NewSession> {
    const locked = this.lockout.lockedForMs(username);
    if (locked > 0) {
      await this.repo.appendAudit(
        { user: username, role: null, address, action: 'sign-in-failed', detail: 'INGEST_ACCOUNT_LOCKED' },
        this.now(),
      );
      throw new IngestError(
        'INGEST_ACCOUNT_LOCKED',
        `too many failed sign-ins for ${username}: the account is locked, try again in ${Math.ceil(locked / 60_000)} min or ask an administrator`,
      );
    }
    const wait = this.limiter.retryAfterMs(address, username);
    if (wait > 0) {
      throw new IngestError(
        'INGEST_RATE_LIMITED',
        `too many failed sign-ins for ${username} from this address: try again in ${Math.ceil(wait / 1000)} s`,
      );
    }
    const user = await this.repo.userForSignIn(username);
    const matches = await verifyPassword(password, user?.password ?? (await decoyHash()));
    if (!user || !matches || user.disabled) {
      this.limiter.fail(address, username);
      const lockedNow = this.lockout.fail(username);
      await this.repo.appendAudit(
        {
          user: username,
          role: null,
          address,
          action: 'sign-in-failed',
          // The failure that locks the account says so: the audit log shows when each lock began.
          detail: lockedNow ? 'INGEST_AUTH_FAILED account-locked' : 'INGEST_AUTH_FAILED',
        },
        this.now(),
      );
      throw new IngestError('INGEST_AUTH_FAILED', 'the user name or password is wrong');
    }
    this.limiter.succeed(address, username);
    this.lockout.succeed(username);
    // Abandoned sessions are swept here, where a new one is made, rather than by a timer.
    await this.repo.deleteExpiredSessions(this.now());
    const token = newSecret();
    const csrfToken = newSecret();
    const now = this.clock.now();
    const maxAgeSeconds = this.access.sessionMaxHours * 3600;
    await this.repo.insertSession({
      tokenHash: secretHash(token),
      username: user.username,
      csrfToken,
      address,
      at: isoTime(now),
      expiresAt: isoTime(now + maxAgeSeconds * 1000),
    });
    const { password: _secret, ...shown } = user;
    await this.repo.appendAudit(
      { user: user.username, role: user.role, address, action: 'sign-in' },
      isoTime(now),
    );
    return { token, csrfToken, user: shown, maxAgeSeconds };
  }

  /** The live session for a cookie token, or null (unknown, idle too long, past its end, user disabled). */
  async session(token: string): Promise<AuthContext | null> {
    const hash = secretHash(token);
    const s = await this.repo.sessionByHash(hash);
    if (!s) return null;
    const now = this.clock.now();
    const idleMs = this.access.sessionIdleMinutes * 60_000;
    if (s.user.disabled || now >= Date.parse(s.expiresAt) || now - Date.parse(s.lastSeenAt) >= idleMs) {
      await this.repo.deleteSession(hash);
      return null;
    }
    if (now - Date.parse(s.lastSeenAt) >= TOUCH_EVERY_MS) await this.repo.touchSession(hash, isoTime(now));
    return { user: s.user, via: 'session', credential: hash, csrfToken: s.csrfToken };
  }

  /** The user of a bearer API token, or null. */
  async token(token: string): Promise<AuthContext | null> {
    if (!token.startsWith(API_TOKEN_PREFIX)) return null;
    const hash = secretHash(token);
    const user = await this.repo.userByApiToken(hash, this.now());
    if (!user || user.disabled) return null;
    return { user, via: 'token', credential: hash, csrfToken: null };
  }

  /** Authenticates a request by its bearer token, else its session cookie; null when neither is valid. */
  async authenticate(req: FastifyRequest): Promise<AuthContext | null> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      return m ? this.token(m[1]!) : null;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    return cookie ? this.session(cookie) : null;
  }

  /** Ends the request's session (API tokens are revoked by disabling the user or changing its password). */
  async signOut(req: FastifyRequest): Promise<void> {
    const ctx = req.auth;
    if (ctx?.via !== 'session') return;
    await this.repo.deleteSession(ctx.credential);
    await this.audit(req, { action: 'sign-out' });
  }

  /** Issues a new API token for a user; the token is shown once and only its hash is kept. */
  async issueToken(username: string): Promise<string> {
    const token = newApiToken();
    await this.repo.insertApiToken(secretHash(token), username, this.now());
    return token;
  }

  /** Writes an audit record for this request: who (from its auth), from where, now. */
  audit(req: FastifyRequest, event: Omit<AuditEvent, 'user' | 'role' | 'address'>): Promise<AuditRecord> {
    return this.repo.appendAudit(
      { user: req.auth?.user.username ?? null, role: req.auth?.user.role ?? null, address: req.ip, ...event },
      this.now(),
    );
  }
}
