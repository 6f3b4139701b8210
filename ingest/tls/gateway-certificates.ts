/**
 * @module Mutual TLS for gateways (issue 10): the ingest CA issues each approved gateway a client
 * certificate whose subject CN is the gateway id and whose public key is the gateway's enrolled
 * Ed25519 key itself (no second key to steal or to keep in step). A certificate is accepted only when
 * it chains to the ingest CA, names an approved gateway, and holds that gateway's enrolled key; so a
 * revoked or re-keyed gateway's certificate stops working the moment its record changes, on the
 * embedded broker (checked at CONNECT) and on the HTTP API (checked on every request), without a CRL.
 * Mosquitto, which cannot ask the ingest, relies on the regenerated files (mosquitto-files.ts): its CRL
 * names every key ever revoked or replaced (`revoked_keys`), so a revoked gateway enrolled again with
 * a new key does not bring its old certificate back (test/tls/mosquitto-tls.test.ts). No certificate is
 * issued for the id `ingest`, the ingest's own MQTT user (INGEST_GATEWAY_ID_RESERVED).
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { fingerprintOf } from '../../protocol/keys.ts';
import { ed25519KeyOfCertificate, makeGatewayClientCertificate } from '../../protocol/tls/certificates.ts';
import type { TlsMaterial } from '../../protocol/tls/tls-files.ts';
import { INGEST_USERNAME } from '../broker/ingest-secret.ts';
import type { GatewayRow } from '../db/rows.ts';
import { IngestError } from '../errors.ts';

/** Whether gateways show client certificates: see IngestConfig.gatewayCertificates. */
export type GatewayCertificateMode = 'off' | 'optional' | 'required';

/** What a connection's client certificate says, when it shows one. */
export interface PeerCertificate {
  /** Whether it chains to the CA the listener trusts. */
  authorized: boolean;
  /** Subject CN: the gateway id it was issued to. */
  gateway: string | null;
  /** Fingerprint of its Ed25519 key (SHA-256 of the raw key, hex); null for another kind of key. */
  fingerprint: string | null;
}

/** The client certificate of a connection, or null when it shows none (or is not TLS). */
export function peerCertificate(socket: Socket | undefined): PeerCertificate | null {
  const tls = socket as TLSSocket | undefined;
  if (!tls || typeof tls.getPeerCertificate !== 'function') return null;
  const peer = tls.getPeerCertificate();
  if (!peer?.raw) return null;
  const cert = new X509Certificate(peer.raw);
  const key = ed25519KeyOfCertificate(cert);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? null;
  return { authorized: tls.authorized, gateway: cn, fingerprint: key ? fingerprintOf(key) : null };
}

/**
 * Why this certificate may not stand for this gateway, or null when it may: it must chain to the
 * ingest CA, be issued to this gateway id, and hold this (enrolled) key.
 */
export function certificateRefusal(
  peer: PeerCertificate,
  gateway: string,
  fingerprint: string,
): string | null {
  if (!peer.authorized) return 'client certificate not issued by the ingest CA';
  if (peer.gateway !== gateway) return `client certificate issued to ${peer.gateway}, not ${gateway}`;
  if (peer.fingerprint !== fingerprint) return "client certificate bound to another key than the gateway's";
  return null;
}

/**
 * Issues an approved gateway's client certificate (PEM); throws INGEST_GATEWAY_UNKNOWN / INGEST_TLS
 * otherwise, and INGEST_GATEWAY_ID_RESERVED for the id `ingest` (with CN=ingest, Mosquitto's
 * use_identity_as_username would give it the ingest's ACL: read and write all of quanlu/v1/#).
 */
export async function issueGatewayCertificate(
  tls: TlsMaterial | null,
  row: GatewayRow | null,
): Promise<string> {
  if (row?.id === INGEST_USERNAME) {
    throw new IngestError(
      'INGEST_GATEWAY_ID_RESERVED',
      `no certificate for ${INGEST_USERNAME}: the id is the ingest's own MQTT user, never a gateway`,
    );
  }
  if (!tls?.caKey) {
    throw new IngestError(
      'INGEST_TLS',
      'this ingest holds no CA key (TLS off, or files mode without caKeyFile): it cannot issue gateway certificates',
    );
  }
  if (row?.status !== 'approved') {
    throw new IngestError('INGEST_GATEWAY_UNKNOWN', 'only an approved gateway gets a client certificate');
  }
  const raw = Buffer.from(row.publicKey, 'base64url');
  return makeGatewayClientCertificate({ certPem: tls.ca, keyPem: tls.caKey }, row.id, raw);
}

/**
 * Refuses, on every HTTP request, a client certificate of a gateway that is not approved with the
 * certificate's key (revoked, re-keyed, unknown) or not issued by the ingest CA: 403 before any route
 * or sign-in runs. Requests without a client certificate (browsers, API tokens) pass untouched.
 */
export function registerGatewayCertificateCheck(
  http: FastifyInstance,
  lookup: (gateway: string) => Promise<GatewayRow | null>,
): void {
  http.addHook('onRequest', async (request) => {
    const peer = peerCertificate(request.raw.socket);
    if (!peer) return;
    const row = peer.gateway ? await lookup(peer.gateway) : null;
    if (row?.status === 'revoked') {
      throw new IngestError('INGEST_FORBIDDEN', `gateway ${row.id} is revoked: its certificate is refused`);
    }
    const reason =
      row?.status === 'approved'
        ? certificateRefusal(peer, row.id, row.fingerprint)
        : 'client certificate of no approved gateway';
    if (reason) throw new IngestError('INGEST_FORBIDDEN', reason);
  });
}
