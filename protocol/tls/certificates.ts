/**
 * @module Makes the X.509 certificates of quanlu's own small PKI (issue 10): an ECDSA P-256 CA, TLS
 * server certificates it signs (SANs for localhost, 127.0.0.1, ::1 and configured names), and gateway
 * client certificates whose public key IS the gateway's enrolled Ed25519 key, so a certificate can
 * only be used by whoever holds that key and names nothing the ingest did not enroll.
 *
 * Pure computation over @peculiar/x509 and WebCrypto; files live in tls-files.ts.
 */
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** SHA-256 of a certificate's DER, lower-case hex without separators: what `quanlu` prints and gateways pin. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

/** Normalises a fingerprint as people copy it (colons, spaces, upper case) to 64 lower-case hex digits. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}

/** A fingerprint as printed for people: pairs of hex digits separated by colons, upper case (as openssl shows it). */
export function displayCertificateFingerprint(fingerprint: string): string {
  return (normalizeFingerprint(fingerprint).match(/.{2}/g) ?? []).join(':').toUpperCase();
}

/** Makes a self-signed CA (ECDSA P-256, 10 years) named `name`. */
export async function makeCa(name: string, now = new Date()): Promise<CertificateAndKey> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeDn(name)}`,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pem(cert.toString('pem')), keyPem: await keyToPem(keys.privateKey) };
}

/**
 * Makes a TLS server certificate (ECDSA P-256, 2 years) signed by the CA, valid for localhost,
 * 127.0.0.1, ::1 and each of `names` (host names or IP addresses; wildcard addresses are skipped).
 */
export async function makeServerCertificate(
  ca: CertificateAndKey,
  names: readonly string[],
  now = new Date(),
): Promise<CertificateAndKey> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const all = [...new Set(['localhost', '127.0.0.1', '::1', ...names])].filter(
    (n) => n && n !== '0.0.0.0' && n !== '::',
  );
  const cert = await issue(ca, {
    subject: `CN=${escapeDn(all.find((n) => !isIP(n)) ?? 'localhost')}`,
    publicKey: keys.publicKey,
    days: 730,
    now,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        all.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  return { certPem: cert, keyPem: await keyToPem(keys.privateKey) };
}

/**
 * Makes a gateway's TLS client certificate (1 year): subject CN = the gateway id (Mosquitto's
 * `use_identity_as_username` makes it the MQTT user), and the public key is the gateway's own raw
 * Ed25519 key (32 bytes), so the certificate is bound to the enrolled key by construction.
 */
export async function makeGatewayClientCertificate(
  ca: CertificateAndKey,
  gateway: string,
  ed25519PublicKeyRaw: Uint8Array,
  now = new Date(),
): Promise<string> {
  const publicKey = await webcrypto.subtle.importKey('raw', ed25519PublicKeyRaw, { name: 'Ed25519' }, true, [
    'verify',
  ]);
  return issue(ca, {
    subject: `CN=${escapeDn(gateway)}`,
    serial: gatewayCertificateSerial(gateway, createHash('sha256').update(ed25519PublicKeyRaw).digest('hex')),
    publicKey,
    days: 365,
    now,
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
}

/**
 * The serial number of every certificate issued to this gateway for this key: derived, not random,
 * so that a CRL can name a revoked gateway's certificates from its enrollment record alone (no
 * register of issued certificates). Certificates re-issued for the same key share it and differ only
 * in validity, which is what revocation needs: revoking the key revokes them all.
 */
export function gatewayCertificateSerial(gateway: string, keyFingerprint: string): string {
  const b = createHash('sha256')
    .update(`quanlu/v1/gateway-certificate\0${gateway}\0${keyFingerprint}`)
    .digest();
  const serial = b.subarray(0, 16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive, and 16 bytes long
  return serial.toString('hex');
}

/**
 * A CRL signed by the CA naming these serial numbers (e.g. revoked gateways' certificate serials),
 * valid `days` (default 30): Mosquitto's `crlfile`, which refuses those certificates in the handshake.
 */
export async function makeCrl(
  ca: CertificateAndKey,
  serials: readonly string[],
  days = 30,
  now = new Date(),
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(ca.keyPem), EC, false, ['sign']);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate: new Date(now.getTime() - 60_000),
    nextUpdate: new Date(now.getTime() + days * DAY_MS),
    signingKey: caKey,
    signingAlgorithm: EC,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert)],
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: now })),
  });
  // OpenSSL (Mosquitto's crlfile) reads the label RFC 7468 gives a CRL: X509 CRL.
  return pem(x509.PemConverter.encode(crl.rawData, 'X509 CRL'));
}

/** The raw public key of an Ed25519 certificate (32 bytes), or null when the certificate holds another kind of key. */
export function ed25519KeyOfCertificate(cert: X509Certificate | string | Uint8Array): Buffer | null {
  const c = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  const key = c.publicKey;
  if (key.asymmetricKeyType !== 'ed25519') return null;
  const jwk = key.export({ format: 'jwk' });
  return jwk.x ? Buffer.from(jwk.x, 'base64url') : null;
}

async function issue(
  ca: CertificateAndKey,
  o: {
    subject: string;
    serial?: string;
    publicKey: CryptoKey;
    days: number;
    now: Date;
    extensions: x509.Extension[];
  },
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(ca.keyPem), EC, false, ['sign']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serial ?? serial(),
    subject: o.subject,
    issuer: caCert.subject,
    notBefore: new Date(o.now.getTime() - DAY_MS),
    notAfter: new Date(o.now.getTime() + o.days * DAY_MS),
    publicKey: o.publicKey,
    signingKey: caKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ...o.extensions,
    ],
  });
  return pem(cert.toString('pem'));
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return pem(x509.PemConverter.encode(der, 'PRIVATE KEY'));
}

/** PEM text ending in a newline (OpenSSL wants one between concatenated certificates). */
function pem(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** A positive random 16-byte serial number, hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

function escapeDn(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}
