/**
 * @module GET /api/v1/transport on the operator console: whether the page is served over TLS and the
 * console CA's fingerprint, and whether the uplink to the ingest is mqtts. The page shows a warning banner
 * when `tls` is false (console.tls.mode off) or `uplinkTls` is false (mqtt://, ingest.tls.plaintext).
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
  uplinkTls: z
    .boolean()
    .describe('false: MQTT to the ingest speaks plain text (mqtt://, ingest.tls.plaintext): a warning'),
});

/**
 * Registers GET /api/v1/transport; `tls` is the material the console listens with (null: plain text),
 * `mqttUrl` the configured uplink (mqtt:// is plain text; unset: none, nothing to warn about).
 */
export function registerConsoleTransportRoute(
  app: FastifyInstance,
  tls: TlsMaterial | null,
  mqttUrl?: string,
): void {
  app.get('/api/v1/transport', { schema: { response: { 200: ConsoleTransportView } } }, async () => ({
    tls: tls !== null,
    caFingerprint: tls?.caFingerprint ?? null,
    uplinkTls: !mqttUrl || !/^mqtt:/i.test(mqttUrl),
  }));
}
