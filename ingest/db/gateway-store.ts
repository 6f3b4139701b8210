/**
 * @module Gateway enrollment in the database: requests, decisions, the key each gateway signs with, and
 * the history of keys revoked or replaced (`revoked_keys`, migration 007), from which the Mosquitto CRL
 * is built.
 */
import { fromBase64Url } from '../../protocol/hash.ts';
import { fingerprintOf } from '../../protocol/keys.ts';
import { INGEST_USERNAME } from '../broker/ingest-secret.ts';
import { IngestError } from '../errors.ts';
import type { Database } from './open-database.ts';
import { isCode } from './open-database.ts';
import { type GatewayRow, gatewayRow, type Queryable, run, transaction } from './rows.ts';

/** An enrollment request, its key already checked by the caller (`parsePublicKey`). */
export interface EnrollmentRequest {
  id: string;
  /** SHA-256 of the raw key, lowercase hex. */
  fingerprint: string;
  /** The raw Ed25519 public key, base64url. */
  publicKey: string;
  hostname: string | null;
}

/** A decision an administrator can take on an enrollment. */
export type GatewayDecision = 'approved' | 'revoked';

/** A key no longer valid for its gateway: revoked, or replaced when the gateway enrolled again. */
export interface RevokedKey {
  gateway: string;
  /** SHA-256 of the raw key, lowercase hex. */
  fingerprint: string;
}

/** The gateway with this id, or null. */
export async function gatewayById(db: Queryable, id: string): Promise<GatewayRow | null> {
  const res = await run(db, 'read gateway', 'SELECT * FROM gateways WHERE id = $1', [id]);
  return res.rows[0] ? gatewayRow(res.rows[0]) : null;
}

/** Every gateway, oldest request first. */
export async function listGateways(db: Queryable): Promise<GatewayRow[]> {
  const res = await run(db, 'list gateways', 'SELECT * FROM gateways ORDER BY requested_at, id');
  return res.rows.map(gatewayRow);
}

/**
 * Every key revoked or replaced, ever (`revoked_keys`), and the keys of gateways revoked now; sorted,
 * each pair once. The Mosquitto CRL names the certificates of all of them.
 */
export async function revokedKeys(db: Queryable): Promise<RevokedKey[]> {
  const res = await run<{ gateway: string; fingerprint: string }>(
    db,
    'list revoked keys',
    `SELECT gateway, fingerprint FROM revoked_keys
     UNION
     SELECT id, fingerprint FROM gateways WHERE status = 'revoked'
     ORDER BY gateway, fingerprint`,
  );
  return res.rows.map((r) => ({ gateway: r.gateway, fingerprint: r.fingerprint }));
}

/**
 * Records an enrollment request. A new id becomes pending; the same id with the same key is left
 * unchanged (a gateway repeats its request until decided); the same id with another key is
 * refused unless the old key was revoked, in which case the new key starts over as pending and the
 * old one is kept in `revoked_keys` (in the same transaction). A key already enrolled under another
 * id, or revoked or replaced before, is refused. Throws INGEST_ENROLL_INVALID when refused, and
 * INGEST_GATEWAY_ID_RESERVED for the id `ingest` (the ingest's own MQTT user: a gateway under that
 * name would get the ingest's Mosquitto ACL).
 */
export async function upsertEnrollment(db: Database, req: EnrollmentRequest): Promise<GatewayRow> {
  if (req.id === INGEST_USERNAME) {
    throw new IngestError(
      'INGEST_GATEWAY_ID_RESERVED',
      `the gateway id ${INGEST_USERNAME} is reserved for the ingest's own MQTT user: give the gateway another id`,
    );
  }
  const raw = fromBase64Url(req.publicKey);
  if (!raw || fingerprintOf(raw) !== req.fingerprint) {
    throw new IngestError(
      'INGEST_ENROLL_INVALID',
      `gateway ${req.id}: the fingerprint is not that of the key`,
    );
  }
  try {
    return await transaction(db, 'enroll gateway', async (tx) => {
      // A key once revoked or replaced never comes back, under any id (its old certificates are in the
      // CRL); only the gateway that holds it now may repeat its request and be told where it stands.
      const spent = await run<{ gateway: string }>(
        tx,
        'check revoked keys',
        `SELECT gateway FROM revoked_keys
         WHERE fingerprint = $1
           AND NOT EXISTS (SELECT 1 FROM gateways WHERE id = $2 AND fingerprint = $1)
         LIMIT 1`,
        [req.fingerprint, req.id],
      );
      if (spent.rows[0]) {
        throw new IngestError(
          'INGEST_ENROLL_INVALID',
          `gateway ${req.id}: key ${req.fingerprint.slice(0, 16)}… was revoked or replaced (gateway ${spent.rows[0].gateway}): enroll with a new key`,
        );
      }
      const inserted = await run(
        tx,
        'insert gateway',
        `INSERT INTO gateways (id, fingerprint, public_key, status, hostname, requested_at)
         VALUES ($1, $2, $3, 'pending', $4, now())
         ON CONFLICT (id) DO NOTHING
         RETURNING *`,
        [req.id, req.fingerprint, req.publicKey, req.hostname],
      );
      if (inserted.rows[0]) return gatewayRow(inserted.rows[0]);
      const current = await run(tx, 'lock gateway', 'SELECT * FROM gateways WHERE id = $1 FOR UPDATE', [
        req.id,
      ]);
      const existing = gatewayRow(current.rows[0]!);
      if (existing.fingerprint === req.fingerprint && existing.publicKey === req.publicKey) return existing;
      if (existing.status !== 'revoked') {
        throw new IngestError(
          'INGEST_ENROLL_INVALID',
          `gateway ${req.id} is enrolled (${existing.status}) with another key (${existing.fingerprint.slice(0, 16)}…): revoke that key before enrolling a new one`,
        );
      }
      // The old key stays invalid: kept, so its certificates stay in the CRL.
      await run(
        tx,
        'keep replaced key',
        `INSERT INTO revoked_keys (gateway, fingerprint, reason, revoked_at)
         SELECT id, fingerprint, 'replaced', now() FROM gateways WHERE id = $1
         ON CONFLICT (gateway, fingerprint) DO NOTHING`,
        [req.id],
      );
      const replaced = await run(
        tx,
        're-key gateway',
        `UPDATE gateways
         SET fingerprint = $2, public_key = $3, status = 'pending', hostname = $4,
             requested_at = now(), decided_at = NULL, decided_by = NULL
         WHERE id = $1
         RETURNING *`,
        [req.id, req.fingerprint, req.publicKey, req.hostname],
      );
      return gatewayRow(replaced.rows[0]!);
    });
  } catch (err) {
    // The fingerprint is unique: one key, one gateway.
    if (err instanceof IngestError && isCode(err.cause, '23505')) {
      throw new IngestError(
        'INGEST_ENROLL_INVALID',
        `gateway ${req.id}: key ${req.fingerprint.slice(0, 16)}… is already enrolled by another gateway`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Approves or revokes the gateway holding this key; returns it, or null for an unknown key.
 * A revoked key stays revoked, with its first decision kept: approving it again is refused with
 * INGEST_GATEWAY_REVOKED (the gateway enrolls again with a new key). A revocation also records the
 * key in `revoked_keys`, in the same statement, so it outlives a re-enrollment.
 */
export async function decideGateway(
  db: Queryable,
  fingerprint: string,
  decision: GatewayDecision,
  by: string,
): Promise<GatewayRow | null> {
  const res = await run(
    db,
    'decide gateway',
    `WITH decided AS (
       UPDATE gateways SET status = $2, decided_at = now(), decided_by = $3
       WHERE fingerprint = $1 AND status <> 'revoked'
       RETURNING *
     ), kept AS (
       INSERT INTO revoked_keys (gateway, fingerprint, reason, revoked_at)
       SELECT id, fingerprint, 'revoked', decided_at FROM decided WHERE status = 'revoked'
       ON CONFLICT (gateway, fingerprint) DO NOTHING
     )
     SELECT * FROM decided`,
    [fingerprint, decision, by],
  );
  if (res.rows[0]) return gatewayRow(res.rows[0]);
  const current = await run(db, 'read gateway', 'SELECT * FROM gateways WHERE fingerprint = $1', [
    fingerprint,
  ]);
  if (!current.rows[0]) return null;
  const existing = gatewayRow(current.rows[0]);
  if (decision === 'revoked') return existing;
  throw new IngestError(
    'INGEST_GATEWAY_REVOKED',
    `gateway ${existing.id}: key ${fingerprint.slice(0, 16)}… was revoked and cannot be approved again`,
  );
}
