/** @module The signed-in session as the console knows it, and the reasons for access already given in it. */
import { setCsrfToken } from './api.js';

let current = null;
const reasonsGiven = new Set();

/** The session ({ user, csrfToken, reasonRequired }) or null when signed out. */
export function session() {
  return current;
}

/** Starts (or refreshes) the session from a POST/GET /api/v1/session body. */
export function setSession(body) {
  const changed = current?.csrfToken !== body.csrfToken;
  current = {
    user: body.user,
    csrfToken: body.csrfToken,
    reasonRequired: Boolean(body.reasonRequired),
  };
  setCsrfToken(body.csrfToken);
  // Reasons belong to one server session: a new session asks again.
  if (changed) reasonsGiven.clear();
}

/** Forgets the session (signed out, or found expired). */
export function clearSession() {
  current = null;
  setCsrfToken(null);
  reasonsGiven.clear();
}

/** Whether the user's role may browse the audit log. */
export function canAudit() {
  return current?.user?.role === 'auditor' || current?.user?.role === 'admin';
}

/** Whether a reason must be given before this recording plays in this session. */
export function needsReason(recording) {
  return Boolean(current?.reasonRequired) && !reasonsGiven.has(recording);
}

/** Notes that a reason for this recording was accepted in this session. */
export function reasonGiven(recording) {
  reasonsGiven.add(recording);
}
