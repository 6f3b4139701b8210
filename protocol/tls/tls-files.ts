/**
 * @module The on-disk TLS material of a listener: `<dataDir>/tls/{ca.pem, ca-key.pem, server.pem,
 * server-key.pem}`, made on first start in `auto` mode (keys mode 0600, folder 0700), or read from
 * the files the configuration names. The one module of protocol/ that touches the disk: the ingest
 * and the gateway console keep the same layout, so it has one owner [STYLE habit 6]. Keys are never
 * logged; what is shown to people is the CA's SHA-256 fingerprint.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CertificateAndKey,
  certificateFingerprint,
  makeCa,
  makeServerCertificate,
} from './certificates.ts';
import type { TlsSettings } from './tls-settings.ts';

/** A listener's TLS material, ready for `tls.createServer`. */
export interface TlsMaterial {
  /** The server certificate followed by its CA, so a client pinning a CA fingerprint can fetch the CA. */
  cert: string;
  key: string;
  /** The CA (PEM): trusted for client certificates, and what clients pin. */
  ca: string;
  /** SHA-256 of the CA certificate, hex. */
  caFingerprint: string;
  /** The CA's own key when this side holds it (auto, or files with caKeyFile): it can issue gateway certificates. */
  caKey: string | null;
  /** Whether the CA was made just now (first start). */
  created: boolean;
}

/** File names inside `<dataDir>/tls`. */
export const TLS_FILES = {
  ca: 'ca.pem',
  caKey: 'ca-key.pem',
  cert: 'server.pem',
  key: 'server-key.pem',
} as const;

/** A server certificate this close to expiry is made again on start (auto mode). */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Loads (files mode) or loads-or-makes (auto mode) the TLS material; null for `off`. `caName` names a
 * new CA (e.g. "quanlu ingest CA ingest-1"); `listenHost` is added to the certificate's names.
 */
export async function loadTlsMaterial(
  settings: TlsSettings,
  dataDir: string,
  caName: string,
  listenHost?: string,
): Promise<TlsMaterial | null> {
  if (settings.mode === 'off') return null;
  if (settings.mode === 'files') {
    const cert = readFileSync(settings.certFile!, 'utf8');
    const ca = readFileSync(settings.caFile!, 'utf8');
    return {
      cert: withNewline(cert) + (cert.includes(ca.trim()) ? '' : withNewline(ca)),
      key: readPrivate(settings.keyFile!),
      ca,
      caFingerprint: certificateFingerprint(ca),
      caKey: settings.caKeyFile ? readPrivate(settings.caKeyFile) : null,
      created: false,
    };
  }
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = (name: keyof typeof TLS_FILES) => join(dir, TLS_FILES[name]);
  let created = false;
  let ca: CertificateAndKey;
  if (existsSync(path('ca')) && existsSync(path('caKey'))) {
    ca = { certPem: readFileSync(path('ca'), 'utf8'), keyPem: readPrivate(path('caKey')) };
  } else {
    ca = await makeCa(caName);
    writePrivate(path('caKey'), ca.keyPem);
    writeFileSync(path('ca'), ca.certPem, { mode: 0o644 });
    created = true;
  }
  const names = [...settings.names, ...(listenHost ? [listenHost] : [])];
  let server: CertificateAndKey | null = null;
  if (!created && existsSync(path('cert')) && existsSync(path('key'))) {
    server = { certPem: readFileSync(path('cert'), 'utf8'), keyPem: readPrivate(path('key')) };
    if (!stillGood(server.certPem, ca.certPem, names)) server = null;
  }
  if (!server) {
    server = await makeServerCertificate(ca, names);
    writePrivate(path('key'), server.keyPem);
    writeFileSync(path('cert'), server.certPem, { mode: 0o644 });
  }
  return {
    cert: withNewline(server.certPem) + withNewline(ca.certPem),
    key: server.keyPem,
    ca: ca.certPem,
    caFingerprint: certificateFingerprint(ca.certPem),
    caKey: ca.keyPem,
    created,
  };
}

/** Is this server certificate issued by this CA, valid a while longer, and valid for every name? */
function stillGood(certPem: string, caPem: string, names: readonly string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(caPem))) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    return names
      .filter((n) => n !== '0.0.0.0' && n !== '::')
      .every((n) =>
        n.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(n) ? cert.checkIP(n) : cert.checkHost(n),
      );
  } catch {
    return false;
  }
}

/** Reads a private key file, refusing one readable by others than its owner. */
function readPrivate(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  return readFileSync(path, 'utf8');
}

function writePrivate(path: string, pem: string): void {
  writeFileSync(path, pem, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
