/** @module The gateway operator console's Content-Security-Policy; the headers themselves are protocol/security-headers.ts. */
/**
 * The operator page's Content-Security-Policy: everything from this origin, no inline script or style; `blob:`
 * media for Media Source Extensions (hls.js runs without a worker). Sent on every response of the console.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
