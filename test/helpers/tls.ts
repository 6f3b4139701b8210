/**
 * @module TLS in tests (issue 10). TLS is the default everywhere; a test that is not about transport
 * security says plain text explicitly with {@link PLAINTEXT} (`tls: PLAINTEXT` in an ingest config,
 * `console: { tls: PLAINTEXT }` in a gateway's). Tests that speak TLS use {@link fetchTrusting}: a
 * `fetch` that trusts only the CAs it is given (Node's global fetch cannot be given a CA without
 * undici, which is not a dependency of ours).
 */
import { request } from 'node:https';

export { PLAINTEXT } from '../../protocol/tls/tls-settings.ts';

/** Client TLS of {@link fetchTrusting}: the CAs trusted, and an optional client certificate. */
export interface ClientTls {
  ca: string | string[];
  cert?: string;
  key?: string;
}

/**
 * A fetch over node:https trusting only `tls.ca` (and presenting `tls.cert` when given). Supports
 * what the tests use: method, headers, a string body; answers a standard Response.
 */
export function fetchTrusting(tls: ClientTls): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const req = request(
        url,
        {
          method: init.method ?? 'GET',
          headers,
          ca: tls.ca,
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, one);
            }
            const status = res.statusCode ?? 0;
            const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers: h }));
          });
        },
      );
      req.on('error', reject);
      if (typeof init.body === 'string') req.end(init.body);
      else req.end();
    });
}
