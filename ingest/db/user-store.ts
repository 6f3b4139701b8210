/** @module Users, sessions, reasons for access and API tokens in the database. Secrets are stored only as hashes. */
import type { PasswordHash } from '../auth/password.ts';
import type { Role } from '../auth/roles.ts';
import { IngestError } from '../errors.ts';
import type { Database } from './open-database.ts';
import { isCode } from './open-database.ts';
import { type Queryable, run, transaction } from './rows.ts';

/** A user as the API shows it (no password material). */
export interface UserRow {
  username: string;
  displayName: string;
  role: Role;
  rooms: string[];
  disabled: boolean;
  createdAt: string;
  changedAt: string;
}

/** A user with the stored password hash, for signing in. */
export interface UserWithPassword extends UserRow {
  password: PasswordHash;
}

/** A new user. */
export interface NewUser {
  username: string;
  displayName: string;
  role: Role;
  rooms: string[];
  password: PasswordHash;
}

/** A change to a user; absent fields stay as they are. */
export interface UserChange {
  displayName?: string;
  role?: Role;
  rooms?: string[];
  disabled?: boolean;
  password?: PasswordHash;
}

/** A signed-in session (found by the hash of its cookie token), with its user. */
export interface SessionRow {
  tokenHash: string;
  user: UserRow;
  csrfToken: string;
  address: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();

function userRow(r: Row): UserRow {
  return {
    username: String(r.username),
    displayName: String(r.display_name),
    role: r.role as Role,
    rooms: (r.rooms as string[] | null) ?? [],
    disabled: Boolean(r.disabled),
    createdAt: iso(r.created_at),
    changedAt: iso(r.changed_at),
  };
}

function withPassword(r: Row): UserWithPassword {
  return {
    ...userRow(r),
    password: {
      n: Number(r.scrypt_n),
      r: Number(r.scrypt_r),
      p: Number(r.scrypt_p),
      salt: String(r.password_salt),
      hash: String(r.password_hash),
    },
  };
}

const USER_COLUMNS = 'u.username, u.display_name, u.role, u.rooms, u.disabled, u.created_at, u.changed_at';

/** Adds a user; INGEST_USER_EXISTS when the name is taken. */
export async function insertUser(db: Queryable, user: NewUser, at: string): Promise<UserRow> {
  try {
    const res = await run(
      db,
      'add user',
      `INSERT INTO users (username, display_name, role, rooms, scrypt_n, scrypt_r, scrypt_p,
                          password_salt, password_hash, disabled, created_at, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10, $10)
       RETURNING *`,
      [
        user.username,
        user.displayName,
        user.role,
        user.rooms,
        user.password.n,
        user.password.r,
        user.password.p,
        user.password.salt,
        user.password.hash,
        at,
      ],
    );
    return userRow(res.rows[0]!);
  } catch (err) {
    if (err instanceof IngestError && isCode(err.cause, '23505'))
      throw new IngestError('INGEST_USER_EXISTS', `a user named ${user.username} already exists`, {
        cause: err,
      });
    throw err;
  }
}

/** The user with this name and its password hash, or null. */
export async function userForSignIn(db: Queryable, username: string): Promise<UserWithPassword | null> {
  const res = await run(db, 'read user', 'SELECT * FROM users WHERE username = $1', [username]);
  return res.rows[0] ? withPassword(res.rows[0]) : null;
}

/** Every user, by name. */
export async function listUsers(db: Queryable): Promise<UserRow[]> {
  const res = await run(db, 'list users', `SELECT ${USER_COLUMNS} FROM users u ORDER BY u.username`);
  return res.rows.map(userRow);
}

/**
 * Changes a user; null when there is no such user. Disabling a user or changing its password
 * ends its sessions and API tokens, so the change holds at once.
 */
export function updateUser(
  db: Database,
  username: string,
  change: UserChange,
  at: string,
): Promise<UserRow | null> {
  return transaction(db, 'change user', (tx) => changeUser(tx, username, change, at));
}

async function changeUser(
  tx: Queryable,
  username: string,
  change: UserChange,
  at: string,
): Promise<UserRow | null> {
  const db = tx;
  const pw = change.password;
  const res = await run(
    db,
    'change user',
    `UPDATE users SET
       display_name = COALESCE($2, display_name),
       role = COALESCE($3, role),
       rooms = COALESCE($4, rooms),
       disabled = COALESCE($5, disabled),
       scrypt_n = COALESCE($6, scrypt_n),
       scrypt_r = COALESCE($7, scrypt_r),
       scrypt_p = COALESCE($8, scrypt_p),
       password_salt = COALESCE($9, password_salt),
       password_hash = COALESCE($10, password_hash),
       changed_at = $11
     WHERE username = $1
     RETURNING *`,
    [
      username,
      change.displayName ?? null,
      change.role ?? null,
      change.rooms ?? null,
      change.disabled ?? null,
      pw?.n ?? null,
      pw?.r ?? null,
      pw?.p ?? null,
      pw?.salt ?? null,
      pw?.hash ?? null,
      at,
    ],
  );
  if (!res.rows[0]) return null;
  if (change.disabled === true || pw) {
    await run(db, 'end sessions', 'DELETE FROM sessions WHERE username = $1', [username]);
    await run(db, 'revoke tokens', 'DELETE FROM api_tokens WHERE username = $1', [username]);
  }
  return userRow(res.rows[0]);
}

/** Stores a new session under the hash of its token. */
export async function insertSession(
  db: Queryable,
  s: {
    tokenHash: string;
    username: string;
    csrfToken: string;
    address: string | null;
    at: string;
    expiresAt: string;
  },
): Promise<void> {
  await run(
    db,
    'add session',
    `INSERT INTO sessions (token_hash, username, csrf_token, address, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $5, $6)`,
    [s.tokenHash, s.username, s.csrfToken, s.address, s.at, s.expiresAt],
  );
}

/** The session with this token hash and its user, or null. */
export async function sessionByHash(db: Queryable, tokenHash: string): Promise<SessionRow | null> {
  const res = await run(
    db,
    'read session',
    `SELECT s.token_hash, s.csrf_token, s.address, s.created_at AS s_created, s.last_seen_at, s.expires_at,
            ${USER_COLUMNS}
     FROM sessions s JOIN users u ON u.username = s.username
     WHERE s.token_hash = $1`,
    [tokenHash],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    tokenHash: String(r.token_hash),
    user: userRow(r),
    csrfToken: String(r.csrf_token),
    address: r.address === null ? null : String(r.address),
    createdAt: iso(r.s_created),
    lastSeenAt: iso(r.last_seen_at),
    expiresAt: iso(r.expires_at),
  };
}

/** Marks a session used now (the idle expiry counts from here). */
export async function touchSession(db: Queryable, tokenHash: string, at: string): Promise<void> {
  await run(db, 'touch session', 'UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1', [
    tokenHash,
    at,
  ]);
}

/** Ends a session and forgets the reasons given in it. */
export async function deleteSession(db: Queryable, tokenHash: string): Promise<void> {
  await run(db, 'end session', 'DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
  await run(db, 'forget reasons', 'DELETE FROM access_reasons WHERE credential = $1', [tokenHash]);
}

/**
 * Removes sessions past their absolute end, with their reasons; returns how many. Sessions idle too
 * long are removed when next presented, or here once their absolute end passes.
 */
export async function deleteExpiredSessions(db: Database, at: string): Promise<number> {
  return transaction(db, 'remove expired sessions', async (tx) => {
    await run(
      tx,
      'forget expired reasons',
      `DELETE FROM access_reasons WHERE credential IN (SELECT token_hash FROM sessions WHERE expires_at <= $1)`,
      [at],
    );
    const res = await run(tx, 'remove expired sessions', 'DELETE FROM sessions WHERE expires_at <= $1', [at]);
    return res.rowCount ?? 0;
  });
}

/** Records the reason for access to a recording under a session or token (the latest reason wins). */
export async function setAccessReason(
  db: Queryable,
  credential: string,
  recording: string,
  reason: string,
  at: string,
): Promise<void> {
  await run(
    db,
    'record reason',
    `INSERT INTO access_reasons (credential, recording, reason, at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (credential, recording) DO UPDATE SET reason = EXCLUDED.reason, at = EXCLUDED.at`,
    [credential, recording, reason, at],
  );
}

/** The reason given under this session or token for this recording, or null. */
export async function accessReason(
  db: Queryable,
  credential: string,
  recording: string,
): Promise<string | null> {
  const res = await run(
    db,
    'read reason',
    'SELECT reason FROM access_reasons WHERE credential = $1 AND recording = $2',
    [credential, recording],
  );
  return res.rows[0] ? String(res.rows[0].reason) : null;
}

/** Stores the hash of a new API token for a user. */
export async function insertApiToken(
  db: Queryable,
  tokenHash: string,
  username: string,
  at: string,
): Promise<void> {
  await run(
    db,
    'add token',
    'INSERT INTO api_tokens (token_hash, username, created_at) VALUES ($1, $2, $3)',
    [tokenHash, username, at],
  );
}

/** The user an API token (by hash) belongs to, marking the token used; null for an unknown token. */
export async function userByApiToken(db: Queryable, tokenHash: string, at: string): Promise<UserRow | null> {
  const res = await run(
    db,
    'use token',
    `WITH used AS (UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 RETURNING username)
     SELECT ${USER_COLUMNS} FROM used JOIN users u ON u.username = used.username`,
    [tokenHash, at],
  );
  return res.rows[0] ? userRow(res.rows[0]) : null;
}
