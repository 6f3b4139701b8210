/**
 * @module The consumer's check of one entry message against its gateway's key: JSON, the envelope and entry
 * schemas, the canonical hash, the Ed25519 signature and the key's owner (`checkEnvelope`), plus the canonical
 * text the index stores. Pure CPU work with plain-data input and output, so it runs in a worker thread too.
 */
import { canonicalText } from '../../protocol/canonical.ts';
import { checkEnvelope, type Entry, type SignedEntry } from '../../protocol/entry.ts';
import { type PublicKey, parsePublicKey } from '../../protocol/keys.ts';
import type { IngestErrorCode } from '../errors.ts';

/** One message to check: its payload as text and the enrolled key of the gateway whose topic it came on. */
export interface EnvelopeJob {
  payload: string;
  /** The gateway's enrolled public key, base64url (as the gateways table holds it). */
  publicKey: string;
  /** The gateway id that key belongs to. */
  owner: string;
}

/** What the check found: the verified entry with its canonical text, or a coded reason to refuse it. */
export type EnvelopeOutcome =
  | { ok: true; signed: SignedEntry; entry: Entry; entryText: string }
  | { ok: false; code: IngestErrorCode; reason: string; claimedHash: string | null };

/** Parsed keys by their text: a worker parses each gateway's key once. */
const keys = new Map<string, PublicKey | string>();

function keyOf(text: string): PublicKey | string {
  let key = keys.get(text);
  if (key === undefined) {
    if (keys.size >= 10_000) keys.clear();
    key = parsePublicKey(text);
    keys.set(text, key);
  }
  return key;
}

/** Checks one entry message; never throws. */
export function checkEntryMessage(job: EnvelopeJob): EnvelopeOutcome {
  let raw: unknown;
  try {
    raw = JSON.parse(job.payload);
  } catch {
    return {
      ok: false,
      code: 'INGEST_PAYLOAD_INVALID',
      reason: 'the payload is not JSON',
      claimedHash: null,
    };
  }
  const claimedHash =
    typeof (raw as { hash?: unknown })?.hash === 'string' ? (raw as { hash: string }).hash : null;
  const key = keyOf(job.publicKey);
  if (typeof key === 'string') {
    // The main thread parsed the same key before sending it: this cannot happen unless the row changed.
    return { ok: false, code: 'INGEST_GATEWAY_UNKNOWN', reason: `enrolled key refused: ${key}`, claimedHash };
  }
  const checked = checkEnvelope(raw, new Map([[key.fingerprint, { ...key, owner: job.owner }]]));
  if (!checked.ok) {
    const code: IngestErrorCode =
      checked.problem.code === 'ENTRY_SCHEMA'
        ? 'INGEST_PAYLOAD_INVALID'
        : checked.problem.code === 'KEY_OWNER_MISMATCH'
          ? 'INGEST_GATEWAY_MISMATCH'
          : 'INGEST_SIGNATURE_INVALID';
    return { ok: false, code, reason: checked.problem.message, claimedHash };
  }
  return {
    ok: true,
    signed: checked.signed,
    entry: checked.entry,
    entryText: canonicalText(checked.signed.entry),
  };
}
