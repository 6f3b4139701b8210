/**
 * @module GET /api/v1/transport on the operator console: whether the page is served over TLS and the
 * console CA's fingerprint. The page shows a warning banner when `tls` is false (console.tls.mode off).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TlsMaterial } from '../../protocol/tls/tls-files.ts';

/** The answer of the console's GET /api/v1/transport. */
export const ConsoleTransportView = z.object({
  tls: z.boolean().describe('false: the console speaks plain text (console.tls.mode off): a warning'),
  caFingerprint: z
    .string()
    .nullable()
    .describe("SHA-256 of the console's CA certificate, hex; null without TLS"),
});

/** Registers GET /api/v1/transport; `tls` is the material the console listens with (null: plain text). */
export function registerConsoleTransportRoute(app: FastifyInstance, tls: TlsMaterial | null): void {
  app.get('/api/v1/transport', { schema: { response: { 200: ConsoleTransportView } } }, async () => ({
    tls: tls !== null,
    caFingerprint: tls?.caFingerprint ?? null,
  }));
}
