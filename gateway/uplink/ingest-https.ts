/**
 * @module HTTP requests from the gateway to the ingest's API (issue 10): over https they trust exactly
 * the pinned ingest CA (never the system CAs once a CA is configured or pinned) and show the gateway's
 * client certificate when it has one. Node's global fetch cannot be given a CA without undici, which
 * is not a dependency of ours, so this speaks node:https and answers a standard Response.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { GatewayError } from '../errors.ts';
import { type IngestCaSource, resolveIngestCa } from './ingest-ca-pin.ts';

/** TLS of requests to the ingest API: where the CA comes from, and the gateway's client certificate. */
export interface IngestHttpsTls extends IngestCaSource {
  /** The gateway's client certificate (PEM file); shown only when the file exists. */
  certFile?: string | undefined;
  /** The private key of that certificate (the gateway's Ed25519 key), PEM; read only when the certificate is shown. */
  privateKeyPem?: (() => string) | undefined;
}

/** One request to the ingest API. */
export interface IngestRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** A JSON (or other text) body; sent as is. */
  body?: string;
  /** How long the whole request may take; 10 s by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A fetch-shaped function bound to the ingest's TLS. */
export type IngestFetch = (url: string | URL, init?: IngestRequestInit) => Promise<Response>;

/**
 * A request to the ingest API. https trusts only the CA {@link resolveIngestCa} finds (the configured
 * file, the pin, or the CA matching the configured fingerprint; the system CAs only when none of these
 * is set). Throws GW_TLS_PIN when the ingest's certificate is not issued by that CA, GW_TLS_FETCH /
 * GW_TLS_FILES when the CA or client certificate cannot be had, GW_INGEST_HTTP when the ingest cannot
 * be reached or does not answer in time. Any HTTP status is an answer, not an error.
 */
export async function ingestRequest(
  url: string | URL,
  init: IngestRequestInit = {},
  tls: IngestHttpsTls | null = null,
): Promise<Response> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') {
    throw new GatewayError('GW_INGEST_HTTP', `the ingest API URL ${u.origin} is neither https nor http`);
  }
  const client = secure && tls ? await clientTls(u, tls) : {};
  const timeoutMs = init.timeoutMs ?? 10_000;
  const signal = init.signal
    ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  const res = await new Promise<{ res: IncomingMessage; body: Buffer }>((resolve, reject) => {
    const options = {
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      agent: false as const,
      signal,
      ...(secure ? { ...client, minVersion: 'TLSv1.2' as const } : {}),
    };
    const req = (secure ? httpsRequest : httpRequest)(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(init.body);
  }).catch((cause: unknown) => {
    throw requestError(u, cause, signal);
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.res.headers)) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
  }
  const status = res.res.statusCode ?? 0;
  const body = status === 204 || status === 304 ? null : new Uint8Array(res.body);
  return new Response(body, { status, headers });
}

/** {@link ingestRequest} bound to the ingest's TLS, in the shape of fetch (so callers keep a fetch seam). */
export function ingestFetch(tls: IngestHttpsTls | null): IngestFetch {
  return (url, init) => ingestRequest(url, init, tls);
}

/**
 * GETs (or POSTs, with `body`) JSON from the ingest and parses the answer with `schema`. Throws what
 * {@link ingestRequest} throws, and GW_INGEST_HTTP for an answer that is not 2xx (with the ingest's
 * error code) or does not match the schema.
 */
export async function ingestJson<S extends z.ZodType>(
  url: string | URL,
  schema: S,
  options: { token?: string | null; body?: unknown; timeoutMs?: number; tls?: IngestHttpsTls | null } = {},
): Promise<z.infer<S>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await ingestRequest(
    url,
    {
      method: options.body === undefined ? 'GET' : 'POST',
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    },
    options.tls ?? null,
  );
  const json: unknown = await res.json().catch(() => null);
  const where = new URL(url).pathname;
  if (!res.ok) {
    const code = (json as { error?: { code?: unknown } } | null)?.error?.code;
    throw new GatewayError(
      'GW_INGEST_HTTP',
      `the ingest answered ${where} with HTTP ${res.status}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new GatewayError(
      'GW_INGEST_HTTP',
      `the ingest's answer to ${where} does not match its schema: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

async function clientTls(u: URL, tls: IngestHttpsTls): Promise<{ ca?: string; cert?: string; key?: string }> {
  // The chain is fetched from the API's own port when only a fingerprint is configured and nothing is pinned yet.
  const ca = await resolveIngestCa(u.href, tls);
  const out: { ca?: string; cert?: string; key?: string } = ca ? { ca } : {};
  if (tls.certFile && tls.privateKeyPem && existsSync(tls.certFile)) {
    try {
      out.cert = readFileSync(tls.certFile, 'utf8');
      out.key = tls.privateKeyPem();
    } catch (cause) {
      throw new GatewayError('GW_TLS_FILES', `cannot read the client certificate ${tls.certFile}`, { cause });
    }
  }
  return out;
}

/** Node's codes for a server certificate the trusted CAs do not vouch for (or that names another host). */
const UNTRUSTED =
  /^(?:UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|CERT_REJECTED|ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$/;

function requestError(u: URL, cause: unknown, signal: AbortSignal): GatewayError {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNTRUSTED.test(code)) {
    return new GatewayError(
      'GW_TLS_PIN',
      `the ingest at ${u.host} presents a certificate the pinned ingest CA does not vouch for (${code}): refused, nothing sent`,
      { cause },
    );
  }
  const why = signal.aborted ? 'timed out' : ((cause as Error)?.message ?? String(cause));
  return new GatewayError('GW_INGEST_HTTP', `cannot reach the ingest API at ${u.host}: ${why}`, { cause });
}
