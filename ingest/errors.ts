/** @module The ingest's error catalogue: one stable code per failure, with a message a person can act on. */

/** Every ingest error code, with what it means. Add new codes here, never ad hoc at a throw site. */
export const INGEST_ERRORS = {
  // object store (shared by both sides through store/)
  STORE_NOT_FOUND: 'the object is not in the store',
  STORE_HASH_MISMATCH: 'the content does not hash to the name it was put under',
  STORE_IO: 'the object store could not be read or written',
  // consumer
  INGEST_PAYLOAD_INVALID: 'a message does not parse or does not match its schema',
  INGEST_GATEWAY_UNKNOWN: 'the gateway is not enrolled, or not approved',
  INGEST_GATEWAY_REVOKED: 'the gateway has been revoked',
  INGEST_GATEWAY_MISMATCH: 'the entry names another gateway than the topic it came on',
  INGEST_SIGNATURE_INVALID: "the entry's signature or hash does not verify against the enrolled key",
  INGEST_CHAIN_BROKEN: "the entry does not link to its chain's indexed predecessor",
  INGEST_CHAIN_FORK: 'another entry already holds this place in the chain',
  INGEST_OBJECT_MISSING: "the entry's object is not in the store",
  INGEST_OBJECT_MISMATCH: "the stored object does not hash to the entry's object hash",
  INGEST_VERIFY_WORKER:
    'a verification worker thread failed: the entry is neither indexed nor refused, and comes again',
  // database
  INGEST_DB: 'the database could not be reached or refused a statement',
  INGEST_MIGRATION: 'the database schema could not be migrated',
  // enrollment and broker
  INGEST_ENROLL_INVALID: 'an enrollment request is invalid (bad key, bad id)',
  INGEST_GATEWAY_ID_RESERVED:
    "the gateway id `ingest` is the ingest's own MQTT user: no gateway may enroll or get a certificate under it",
  INGEST_BROKER_AUTH: 'the broker refused a client',
  // transparency log, evidence export, fixity (issue 8)
  INGEST_LOG_KEY: 'the ingest log key cannot be read, or is readable by others',
  INGEST_LOG_NOT_LOGGED: 'the entry is not in the log yet, or not in the requested tree head',
  INGEST_LOG_RANGE: 'a tree size or leaf index outside the log',
  INGEST_LOG_CORRUPT: 'the stored log does not match its leaves or its signed tree heads',
  INGEST_EXPORT_CASE_UNKNOWN: 'no recording is indexed for the case',
  INGEST_EXPORT_TARGET: 'the export folder exists and is not empty, or cannot be written',
  INGEST_EXPORT_OBJECT: 'a stored object is missing or does not hash to its name while exporting',
  INGEST_FIXITY_MISMATCH: 'a stored object no longer hashes to its name',
  // API
  INGEST_NOT_FOUND: 'no such case, recording or track',
  INGEST_BAD_REQUEST: 'the request does not match its schema',
  // users, sessions and audited access (issue 5: auth)
  INGEST_UNAUTHENTICATED: 'no valid session or API token: sign in (the session may have expired)',
  INGEST_AUTH_FAILED: 'the user name or password is wrong, or the user is disabled',
  INGEST_FORBIDDEN: 'your role or rooms do not allow this',
  INGEST_CSRF: 'the x-csrf-token header is missing or does not match the session',
  INGEST_RATE_LIMITED: 'too many failed sign-ins for this user from this address: wait and try again',
  INGEST_REASON_REQUIRED: 'give a reason for access to this recording first (POST .../access)',
  INGEST_USER_EXISTS: 'a user with this name already exists',
  // console hardening (issue 10): account lockout and the password policy
  INGEST_ACCOUNT_LOCKED:
    'too many failed sign-ins for this user: the account is locked; wait, or ask an admin',
  INGEST_WEAK_PASSWORD: 'the password is too short, the user name, or a common password: choose another',
  // playlists and media (issue 5: playlists)
  INGEST_RANGE_INVALID: 'the Range header is malformed, or starts past the end of the object',
  // remote control of gateways (issue 6)
  INGEST_COMMAND_TIMEOUT: 'the gateway did not answer the command in time; retry with the same command id',
  // retention classes, legal holds and deletion (issue 9 part 4)
  INGEST_RETENTION_UNEXPIRED:
    'the recording is still within its retention period (or still open): it cannot be deleted',
  INGEST_RETENTION_PERMANENT:
    'the recording is kept permanently (a hearing, or used as evidence): it is never deleted',
  INGEST_RETENTION_HELD: 'the recording is under a legal hold: release the hold first',
  INGEST_RETENTION_DELETED:
    'the recording was already deleted at the end of its retention (see its tombstone)',
  // transport security (issue 10)
  INGEST_TLS:
    'TLS material cannot be read or made, or a gateway certificate cannot be issued (no CA key, gateway not approved)',
} as const;

/** An ingest error code. */
export type IngestErrorCode = keyof typeof INGEST_ERRORS;

/** An error of the ingest: a stable code, a message a person can act on, and its cause. */
export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IngestError';
  }
}
