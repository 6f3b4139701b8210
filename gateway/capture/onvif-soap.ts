/** @module ONVIF requests: each call bounded by a deadline, every failure a coded GatewayError, and the few XML readers the replies need. */
import type { Cam } from 'onvif';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';

/** A successful reply: what the onvif package parsed, and the raw XML it parsed it from. */
export type Reply = { data: unknown; xml: string };
/** The callback of the onvif package's request methods. */
export type Callback = (err: Error | null, data?: unknown, xml?: string) => void;

/** Runs one ONVIF request with a deadline, and turns every failure into a GatewayError naming the camera. */
export function caller(cam: Cam, address: string, timeoutMs: number, log?: Logger) {
  let lastStatus: number | undefined;
  cam.on('rawResponse', (_xml: string, status: number) => {
    lastStatus = status;
  });
  return (op: string, invoke: (cb: Callback) => void): Promise<Reply> =>
    new Promise((resolve, reject) => {
      lastStatus = undefined;
      const started = performance.now();
      let done = false;
      const settle = (err: GatewayError | null, reply?: Reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        log?.debug(
          { camera: address, op, ms: Math.round(performance.now() - started), code: err?.code },
          'onvif',
        );
        if (err) reject(err);
        else resolve(reply as Reply);
      };
      // The package's socket timeout only counts idle time; this bounds the whole request.
      const timer = setTimeout(
        () =>
          settle(
            new GatewayError(
              'GW_CAMERA_UNREACHABLE',
              `camera ${address} did not answer ${op} within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      try {
        invoke((err, data, xml) => {
          if (err) settle(cameraError(err, op, address, xml, lastStatus));
          else settle(null, { data, xml: xml ?? '' });
        });
      } catch (err) {
        settle(cameraError(err, op, address, undefined, lastStatus));
      }
    });
}

/** Runs one ONVIF request on a camera; made by `caller`. */
export type Call = ReturnType<typeof caller>;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** Classifies a failure of the onvif package: network, authentication, SOAP fault or an answer that is not ONVIF. */
function cameraError(err: unknown, op: string, address: string, xml?: string, status?: number): GatewayError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as NodeJS.ErrnoException).code;
  if ((code && NETWORK_CODES.has(code)) || e.message === 'Network timeout') {
    const why = code ?? `no answer within the timeout`;
    return new GatewayError(
      'GW_CAMERA_UNREACHABLE',
      `camera ${address} is unreachable (${why}) during ${op}`,
      {
        cause: e,
      },
    );
  }
  const fault = xml ? soapFault(xml) : null;
  if (status === 401 || /^Digest authentication/.test(e.message) || (fault && isAuthFault(fault))) {
    const why = fault?.reason || (status ? `HTTP ${status}` : e.message);
    return new GatewayError('GW_CAMERA_AUTH', `camera ${address} refused the credentials for ${op}: ${why}`, {
      cause: e,
    });
  }
  if (fault) {
    const why = fault.reason || fault.codes.join(' / ') || 'no reason given';
    return new GatewayError(
      'GW_CAMERA_SOAP_FAULT',
      `camera ${address} answered ${op} with a SOAP fault: ${why}`,
      {
        cause: e,
      },
    );
  }
  const http = status ? ` (HTTP ${status})` : '';
  return new GatewayError(
    'GW_CAMERA_BAD_RESPONSE',
    `camera ${address} answered ${op} with something that is not an ONVIF response${http}: ${e.message}`,
    { cause: e },
  );
}

/** The codes and reason of a SOAP 1.2 (or 1.1) fault, or null when the message holds none. */
function soapFault(xml: string): { codes: string[]; reason: string } | null {
  const fault = element(xml, 'Fault');
  if (fault === undefined) return null;
  const code = element(fault, 'Code') ?? element(fault, 'faultcode') ?? '';
  const codes = [...code.matchAll(/<(?:[\w.-]+:)?Value\b[^>]*>([^<]*)</g)].map((m) =>
    decodeXml(m[1] ?? '').trim(),
  );
  if (codes.length === 0 && code.trim() && !code.includes('<')) codes.push(decodeXml(code.trim()));
  const reasonBlock = element(fault, 'Reason');
  const reason =
    (reasonBlock !== undefined ? element(reasonBlock, 'Text') : element(fault, 'faultstring')) ?? '';
  return { codes, reason: decodeXml(reason).trim() };
}

/** ter:NotAuthorized, or the WS-Security faults and reason texts real cameras use instead. */
function isAuthFault(fault: { codes: string[]; reason: string }): boolean {
  return (
    fault.codes.some((c) => /(?:^|:)(?:NotAuthorized|FailedAuthentication|InvalidSecurityToken)$/i.test(c)) ||
    /not\s*authori[sz]ed|unauthori[sz]ed|authentication failed/i.test(fault.reason)
  );
}

// ---------------------------------------------------------------------------------------------------
// Small XML helpers: the messages read here are few and flat, and the onvif package's parser drops what we need.

function tagPattern(name: string, flags: string): RegExp {
  return new RegExp(
    `<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?(?<!/)>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}\\s*>`,
    flags,
  );
}

/** The inner XML of the first element with this local name, whatever its prefix. */
export function element(xml: string, name: string): string | undefined {
  return tagPattern(name, '').exec(xml)?.[1];
}

/** The inner XML of every element with this local name, whatever its prefix, in document order. */
export function elements(xml: string, name: string): string[] {
  return [...xml.matchAll(tagPattern(name, 'g'))].map((m) => m[1] ?? '');
}

/** Decodes the five XML entities and numeric character references; anything else is left as written. */
export function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, ent: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const lower = ent.toLowerCase();
    if (named[lower]) return named[lower];
    const code = lower.startsWith('#x')
      ? Number.parseInt(lower.slice(2), 16)
      : Number.parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
