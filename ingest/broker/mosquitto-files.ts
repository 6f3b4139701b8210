/**
 * @module Mosquitto's password_file, acl_file and (issue 10) crlfile and TLS listeners for the
 * enrolled gateways, the at-scale broker's equivalent of the embedded broker's rules.
 *
 * Mosquitto cannot check our signed tokens, so gateways log in to it by client certificate (issue
 * 10): on the gateway listener ({@link mosquittoTlsListener} with `gateways: true`) Mosquitto demands
 * a certificate issued by the ingest CA and takes its CN, the gateway id, as the MQTT user
 * (`use_identity_as_username`); the certificate holds the gateway's enrolled Ed25519 key
 * (ingest/tls/gateway-certificates.ts), so only that key can use it. The ACL file admits approved
 * gateways to their own topics; the CRL ({@link mosquittoCrl}) names the certificates of every key
 * ever revoked or replaced by a re-enrollment (the `revoked_keys` history, ingest/db/gateway-store.ts),
 * which Mosquitto then refuses in the TLS handshake: a revoked gateway enrolled again with a new key
 * does not bring its old, perhaps stolen, certificate back (test/tls/mosquitto-tls.test.ts, "a
 * re-enrolled gateway's old certificate stays refused"). Both take effect when the files
 * are rewritten and Mosquitto gets SIGHUP (2.0.11 reloads the CRL too; a connection already open
 * stays open, but the reloaded ACL stops its publishes: restart Mosquitto to cut it at once).
 *
 * The ingest logs in on its own TLS listener with a password derived from the ingest secret:
 * HMAC-SHA256(secret, label ‖ user), so the raw secret never reaches Mosquitto. The password file
 * still holds a derived password per approved gateway (HMAC over gateway ‖ fingerprint) for a
 * broker that admits gateways by password; the gateway is never told it, so the compose deployment
 * uses certificates. Rules the ACL file cannot express hold only on the embedded broker: retained
 * only on `status`, and a client id tied to its user (a gateway may take another's client id, and so
 * kick it, though Mosquitto re-checks the read ACL before delivering anything queued for that session).
 */
import { createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { GatewayId } from '../../protocol/entry.ts';
import { Sha256Hex } from '../../protocol/hash.ts';
import {
  type CertificateAndKey,
  gatewayCertificateSerial,
  makeCrl,
} from '../../protocol/tls/certificates.ts';
import { GATEWAY_PUBLISHES, gatewayTopic, INGEST_PUBLISHES, ROOT } from '../../protocol/topics.ts';
import type { RevokedKey } from '../db/gateway-store.ts';
import { INGEST_USERNAME, IngestSecret } from './ingest-secret.ts';

/** An enrolled gateway as the files need it. */
export interface MosquittoGateway {
  gateway: string;
  status: 'pending' | 'approved' | 'revoked';
  fingerprint: string;
}

/** Mosquitto 2's default for `mosquitto_passwd` (`-H sha512-pbkdf2`). */
export const MOSQUITTO_PBKDF2_ITERATIONS = 101;
/** Salt length mosquitto_passwd uses (its salts are 16 base64 characters: 12 bytes). */
const SALT_BYTES = 12;
/** Separates the derivation from any other use of the ingest secret. */
const LABEL = 'quanlu/v1/mosquitto-password';

/** The Mosquitto password of an approved gateway holding this key. */
export function mosquittoPasswordFor(ingestSecret: string, gateway: string, fingerprint: string): string {
  return derive(ingestSecret, [GatewayId.parse(gateway), Sha256Hex.parse(fingerprint)]);
}

/** The Mosquitto password of the ingest user (derived too, so the raw secret never reaches Mosquitto). */
export function mosquittoIngestPassword(ingestSecret: string): string {
  return derive(ingestSecret, [INGEST_USERNAME]);
}

/**
 * Hashes a password as `mosquitto_passwd` does by default in Mosquitto 2:
 * `$7$<iterations>$<salt, base64>$<PBKDF2-HMAC-SHA512, 64 bytes, base64>`.
 */
export function hashMosquittoPassword(
  password: string,
  salt: Uint8Array = randomBytes(SALT_BYTES),
  iterations: number = MOSQUITTO_PBKDF2_ITERATIONS,
): string {
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${Buffer.from(salt).toString('base64')}$${hash.toString('base64')}`;
}

/** Options of {@link mosquittoPasswordFile}. */
export interface PasswordFileOptions {
  /** Makes each salt (default: 12 random bytes); tests pass a fixed one. */
  salt?: () => Uint8Array;
  iterations?: number;
}

/** The `password_file`: the ingest user and every approved gateway, one `user:hash` line each. */
export function mosquittoPasswordFile(
  gateways: Iterable<MosquittoGateway>,
  ingestSecret: string,
  options: PasswordFileOptions = {},
): string {
  const secret = IngestSecret.parse(ingestSecret);
  const salt = options.salt ?? (() => randomBytes(SALT_BYTES));
  const line = (user: string, password: string) =>
    `${user}:${hashMosquittoPassword(password, salt(), options.iterations)}\n`;
  let text = line(INGEST_USERNAME, mosquittoIngestPassword(secret));
  for (const g of approved(gateways))
    text += line(g.gateway, mosquittoPasswordFor(secret, g.gateway, g.fingerprint));
  return text;
}

/**
 * The `acl_file`: each approved gateway writes its own GATEWAY_PUBLISHES channels and reads its own
 * INGEST_PUBLISHES channels, nothing else [DESIGN invariant 5]; the ingest reads and writes under
 * quanlu/v1/ (shared subscriptions `$share/<group>/quanlu/v1/...` are checked against the filter
 * without the prefix). A user not listed, and any topic not listed, is denied.
 */
export function mosquittoAclFile(gateways: Iterable<MosquittoGateway>): string {
  let text = `# generated by quanlu: do not edit\nuser ${INGEST_USERNAME}\ntopic readwrite ${ROOT}/#\n`;
  for (const g of approved(gateways)) {
    text += `\nuser ${g.gateway}\n`;
    for (const channel of GATEWAY_PUBLISHES) text += `topic write ${gatewayTopic(g.gateway, channel)}\n`;
    for (const channel of INGEST_PUBLISHES) text += `topic read ${gatewayTopic(g.gateway, channel)}\n`;
  }
  return text;
}

/** Approved gateways, sorted by id so the files are stable; ids are checked, since they become lines. */
function approved(gateways: Iterable<MosquittoGateway>): MosquittoGateway[] {
  return [...gateways]
    .filter((g) => g.status === 'approved')
    .map((g) => ({ ...g, gateway: GatewayId.parse(g.gateway), fingerprint: Sha256Hex.parse(g.fingerprint) }))
    .filter((g) => g.gateway !== INGEST_USERNAME)
    .sort((a, b) => (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0));
}

function derive(ingestSecret: string, parts: string[]): string {
  const mac = createHmac('sha256', IngestSecret.parse(ingestSecret));
  mac.update([LABEL, ...parts].join('\0'));
  return mac.digest('base64url');
}

/** The TLS files of Mosquitto, by name in its auth folder (beside passwd and acl). */
export const MOSQUITTO_TLS_FILES = {
  ca: 'ca.pem',
  cert: 'server.pem',
  key: 'server-key.pem',
  crl: 'crl.pem',
} as const;

/**
 * The `crlfile`: a CRL signed by the ingest CA naming the certificates of every gateway revoked now
 * and of every key in `revokedKeys` (the repository's revokedKeys(): each key ever revoked, or
 * replaced when its gateway enrolled again), each serial once (serials derive from gateway id and
 * key, see gatewayCertificateSerial). Written even when empty: with `crlfile` set, Mosquitto refuses
 * every client certificate when it has no CRL.
 */
export function mosquittoCrl(
  gateways: Iterable<MosquittoGateway>,
  revokedKeys: Iterable<RevokedKey>,
  ca: CertificateAndKey,
): Promise<string> {
  const revoked: RevokedKey[] = [...gateways].filter((g) => g.status === 'revoked');
  const serials = new Set(
    [...revoked, ...revokedKeys].map((k) =>
      gatewayCertificateSerial(GatewayId.parse(k.gateway), Sha256Hex.parse(k.fingerprint)),
    ),
  );
  return makeCrl(ca, [...serials].sort());
}

/**
 * The config lines of a Mosquitto TLS listener reading the files in `dir`. `gateways: true` makes it
 * the gateway listener: a client certificate from the ingest CA is demanded, checked against the CRL,
 * and its CN is the MQTT user; otherwise clients (the ingest) log in by password over TLS.
 */
export function mosquittoTlsListener(
  port: number,
  host: string,
  dir: string,
  opts: { gateways: boolean },
): string[] {
  const file = (name: keyof typeof MOSQUITTO_TLS_FILES) => `${dir}/${MOSQUITTO_TLS_FILES[name]}`;
  return [
    `listener ${port} ${host}`,
    `cafile ${file('ca')}`,
    `certfile ${file('cert')}`,
    `keyfile ${file('key')}`,
    'tls_version tlsv1.2',
    ...(opts.gateways
      ? [`crlfile ${file('crl')}`, 'require_certificate true', 'use_identity_as_username true']
      : []),
  ];
}
