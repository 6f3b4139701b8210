/**
 * @module What the logs of both sides never show: credentials in headers, bodies and URLs. Pino `redact` paths
 * with a censor that keeps a URL readable but drops its password. Pure data and functions; no I/O.
 */
import { type LoggerOptions, stdSerializers } from 'pino';

/** Keys whose value is a secret wherever they appear (top level, or one or two levels down). */
const SECRET_KEYS = [
  'password',
  'passwd',
  'token',
  'apiToken',
  'csrfToken',
  'secret',
  'ingestSecret',
  'privateKey',
  'secretKey',
  'accessKey',
  'authorization',
  'cookie',
  '"set-cookie"',
  '"x-csrf-token"',
  '"x-api-key"',
];

/** Keys whose value may be a URL, or text quoting one (ffmpeg's stderr names its input URL), with a password in it. */
const URL_KEYS = [
  'url',
  'uri',
  'source',
  'input',
  'stderr',
  'mqtt',
  'endpoint',
  'location',
  // error texts may quote a URL they failed on (an ONVIF or ffmpeg failure, a refused connection)
  'message',
  'stack',
];

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):([^\s/@'"]*)@/gi;

/** A text with the password of every `scheme://user:password@` in it replaced by `***`. */
export function stripUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

function paths(keys: readonly string[]): string[] {
  // A quoted key (one with a dash) takes pino's bracket notation: `*["set-cookie"]`.
  return keys.flatMap((k) => (k.startsWith('"') ? [k, `*[${k}]`, `*.*[${k}]`] : [k, `*.${k}`, `*.*.${k}`]));
}

const URL_PATHS = new Set(paths(URL_KEYS));

/** Pino's redaction: secrets become `[redacted]`; URL-like values keep everything but their password. */
export const LOG_REDACT: NonNullable<LoggerOptions['redact']> = {
  paths: [...paths(SECRET_KEYS), ...URL_PATHS],
  censor: (value: unknown, path: string[]) => {
    if (URL_KEYS.includes(path.at(-1) ?? ''))
      return typeof value === 'string' ? stripUrlCredentials(value) : value;
    return '[redacted]';
  },
};

/**
 * Pino's error serializer, then URL passwords stripped from its text fields; an error given as a string
 * (`{ err: e.message }`) is stripped too.
 */
export function redactErr(err: unknown): unknown {
  if (typeof err === 'string') return stripUrlCredentials(err);
  const shown = err instanceof Error ? stdSerializers.err(err) : err;
  if (!shown || typeof shown !== 'object') return shown;
  return Object.fromEntries(
    Object.entries(shown).map(([k, v]) => [k, typeof v === 'string' ? stripUrlCredentials(v) : v]),
  );
}

/** A logger that redacts like `LOG_REDACT`, over any pino logger (given one, or the default of a side). */
export function redacting<L extends { child(bindings: object, options?: object): L }>(log: L): L {
  return log.child({}, { redact: LOG_REDACT, serializers: { err: redactErr } });
}
