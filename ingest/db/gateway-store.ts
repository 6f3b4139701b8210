/** @module Gateway enrollment in the database: requests, decisions, and the key each gateway signs with. */
import { fromBase64Url } from '../../protocol/hash.ts';
import { fingerprintOf } from '../../protocol/keys.ts';
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
 * Records an enrollment request. A new id becomes pending; the same id with the same key is left
 * unchanged (a gateway repeats its request until decided); the same id with another key is
 * refused unless the old key was revoked, in which case the new key starts over as pending.
 * A key already enrolled under another id is refused. Throws INGEST_ENROLL_INVALID when refused.
 */
export async function upsertEnrollment(db: Database, req: EnrollmentRequest): Promise<GatewayRow> {
  const raw = fromBase64Url(req.publicKey);
  if (!raw || fingerprintOf(raw) !== req.fingerprint) {
    throw new IngestError(
      'INGEST_ENROLL_INVALID',
      `gateway ${req.id}: the fingerprint is not that of the key`,
    );
  }
  try {
    return await transaction(db, 'enroll gateway', async (tx) => {
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
 * INGEST_GATEWAY_REVOKED (the gateway enrolls again with a new key).
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
    `UPDATE gateways SET status = $2, decided_at = now(), decided_by = $3
     WHERE fingerprint = $1 AND status <> 'revoked'
     RETURNING *`,
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
