/**
 * @module Pins the ingest's CA (issue 10). The configuration gives either the CA file itself, or only
 * its SHA-256 fingerprint (read off the ingest's start-up output, or `GET /api/v1/transport`, by the
 * person enrolling the gateway). With only a fingerprint, the first connection — the enrollment —
 * fetches the chain the broker presents, keeps the certificate whose fingerprint matches, and stores
 * it in the gateway's data folder; from then on the gateway trusts that CA and nothing else, so an
 * ingest (or anyone in between) presenting another CA is refused, even if the fingerprint setting is
 * later removed. A stored pin that contradicts the configured fingerprint is refused too.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { GatewayError } from '../errors.ts';

/** Where the ingest CA comes from. */
export interface IngestCaSource {
  /** The CA file (PEM) given in the configuration. */
  caFile?: string | undefined;
  /** Its SHA-256 fingerprint, hex (colons and case ignored). */
  caFingerprint?: string | undefined;
  /** Where a CA fetched and checked against the fingerprint is kept: `<dataDir>/ingest-ca.pem`. */
  pinFile: string;
}

/**
 * The ingest CA (PEM) the gateway trusts for this broker URL, or null when neither a CA file nor a
 * fingerprint is configured and none is pinned (then the system's CAs apply). Throws GW_TLS_PIN when
 * a CA does not match the fingerprint, and GW_TLS_FETCH when the chain cannot be fetched (retry).
 */
export async function resolveIngestCa(url: string, source: IngestCaSource): Promise<string | null> {
  const want = source.caFingerprint ? normalize(source.caFingerprint) : null;
  const check = (pem: string, where: string) => {
    if (want && fingerprintOf(pem) !== want) {
      throw new GatewayError(
        'GW_TLS_PIN',
        `the ingest CA in ${where} has fingerprint ${fingerprintOf(pem)}, not the configured ${want}: refused`,
      );
    }
    return pem;
  };
  if (source.caFile) return check(readFileSync(source.caFile, 'utf8'), source.caFile);
  if (existsSync(source.pinFile)) return check(readFileSync(source.pinFile, 'utf8'), source.pinFile);
  if (!want) return null;
  const chain = await fetchChain(url);
  const found = chain.find((pem) => fingerprintOf(pem) === want);
  if (!found) {
    throw new GatewayError(
      'GW_TLS_PIN',
      `the broker at ${new URL(url).host} presents no CA with the configured fingerprint ${want}: refused (another ingest, or someone in between)`,
    );
  }
  mkdirSync(dirname(source.pinFile), { recursive: true, mode: 0o700 });
  writeFileSync(source.pinFile, found, { mode: 0o644 });
  return found;
}

/** The certificates a TLS server presents (leaf first), PEM; the chain is not trusted, only read. */
export function fetchChain(url: string, timeoutMs = 10_000): Promise<string[]> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 8883));
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false, // read only: nothing is sent, the chain is checked against the pin
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    const fail = (cause: unknown) => {
      socket.destroy();
      reject(new GatewayError('GW_TLS_FETCH', `cannot fetch the certificate chain of ${u.host}`, { cause }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('timed out')));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const pems: string[] = [];
      const seen = new Set<string>();
      let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        pems.push(new X509Certificate(cert.raw).toString());
        cert = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      socket.end();
      resolve(pems);
    });
  });
}

function fingerprintOf(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

function normalize(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}
