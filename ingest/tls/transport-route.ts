/**
 * @module GET /api/v1/transport: whether this ingest speaks TLS, and its CA fingerprint. Public (the
 * fingerprint is what people compare, not a secret), so the console can show the plain-text warning
 * before anyone signs in, and an administrator can read the fingerprint to pin. `mqttTls` false (an
 * external broker at mqtt://, written out as mqtt.plaintext) shows the warning too.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TlsMaterial } from '../../protocol/tls/tls-files.ts';
import type { GatewayCertificateMode } from './gateway-certificates.ts';

/** The answer of GET /api/v1/transport. */
export const TransportView = z.object({
  tls: z.boolean().describe('false: the API and the broker speak plain text (tls.mode off): a warning'),
  caFingerprint: z
    .string()
    .nullable()
    .describe('SHA-256 of the ingest CA certificate, hex; null without TLS'),
  gatewayCertificates: z.enum(['off', 'optional', 'required']).describe('mutual TLS for gateways'),
  mqttTls: z
    .boolean()
    .describe('false: MQTT to the broker speaks plain text (tls.mode off, or mqtt.plaintext): a warning'),
});

/** Registers GET /api/v1/transport; `mqttTls` is whether the ingest's own MQTT connection is mqtts. */
export function registerTransportRoute(
  http: FastifyInstance,
  tls: TlsMaterial | null,
  gatewayCertificates: GatewayCertificateMode,
  mqttTls: boolean,
): void {
  http.get('/api/v1/transport', { schema: { response: { 200: TransportView } } }, async () => ({
    tls: tls !== null,
    caFingerprint: tls?.caFingerprint ?? null,
    gatewayCertificates: tls ? gatewayCertificates : 'off',
    mqttTls,
  }));
}
