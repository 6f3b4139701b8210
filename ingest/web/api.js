/** @module The console's HTTP client: JSON in and out, the CSRF header on state-changing requests, coded errors as ApiError. */

/** A refused or failed request: the HTTP status and the ingest's error code (or a code of the console's own). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Codes for failures that never reached a coded answer. */
export const NETWORK_ERROR = 'CONSOLE_NETWORK';
/** A reply that was not the JSON the contract promises. */
export const BAD_REPLY = 'CONSOLE_BAD_REPLY';

let csrfToken = null;
const expiredListeners = new Set();

/** Remembers the session's CSRF token (null after signing out). */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** Calls `fn(error)` when a request finds the session gone (401 INGEST_UNAUTHENTICATED). */
export function onSessionExpired(fn) {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

/** Tells the console the session is gone (a player saw 401 INGEST_UNAUTHENTICATED). */
export function reportExpired(err) {
  for (const fn of expiredListeners) fn(err);
}

/** Reads an error body `{ error: { code, message } }`, or makes one from the status. */
export async function errorFrom(res) {
  let code = res.status === 429 ? 'INGEST_RATE_LIMITED' : `HTTP_${res.status}`;
  let message = res.statusText;
  try {
    const body = await res.json();
    if (body?.error?.code) {
      code = String(body.error.code);
      message = String(body.error.message ?? '');
    }
  } catch {
    // Not JSON: keep the status.
  }
  return new ApiError(res.status, code, message);
}

/**
 * Sends a request to the ingest API and returns the parsed JSON (null for 204). Throws ApiError;
 * `quietExpiry` keeps a 401 from ending the session (signing in, checking the session at start).
 */
export async function request(method, path, { query, body, quietExpiry = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, NETWORK_ERROR, err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (err.status === 401 && err.code === 'INGEST_UNAUTHENTICATED' && !quietExpiry) reportExpired(err);
    throw err;
  }
  if (res.status === 204) return null;
  try {
    return await res.json();
  } catch {
    throw new ApiError(res.status, BAD_REPLY, 'reply is not JSON');
  }
}

/** The ingest endpoints the console uses (see scratch/contract-5.md). */
export const api = {
  session: () => request('GET', '/api/v1/session', { quietExpiry: true }),
  signIn: (username, password) =>
    request('POST', '/api/v1/session', { body: { username, password }, quietExpiry: true }),
  signOut: () => request('DELETE', '/api/v1/session', { quietExpiry: true }),
  search: (query) => request('GET', '/api/v1/recordings', { query }),
  recording: (id) => request('GET', `/api/v1/recordings/${encodeURIComponent(id)}`),
  gaps: (id, track) =>
    request('GET', `/api/v1/recordings/${encodeURIComponent(id)}/tracks/${encodeURIComponent(track)}/gaps`),
  giveReason: (id, reason) =>
    request('POST', `/api/v1/recordings/${encodeURIComponent(id)}/access`, { body: { reason } }),
  audit: (query) => request('GET', '/api/v1/audit', { query }),
};

/**
 * Whether the ingest wants a reason before this track plays: asks for its playlist and reads the answer
 * (403 INGEST_REASON_REQUIRED: yes; the playlist: no, a reason was already given in this session).
 */
export async function reasonRequiredFor(recording, track) {
  let res;
  try {
    res = await fetch(playlistUrl(recording, track), { credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, NETWORK_ERROR, err instanceof Error ? err.message : String(err));
  }
  if (res.ok) return false;
  const err = await errorFrom(res);
  if (err.code === 'INGEST_REASON_REQUIRED') return true;
  if (err.status === 401 && err.code === 'INGEST_UNAUTHENTICATED') reportExpired(err);
  throw err;
}

/** The URL of a track's HLS playlist. */
export function playlistUrl(recording, track) {
  return `/api/v1/recordings/${encodeURIComponent(recording)}/tracks/${encodeURIComponent(track)}/playlist.m3u8`;
}
