/** @module Evidence entries: the zod schemas, the canonical hash, and sealing/checking of signed envelopes. */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical.ts';
import { Base64Url, Sha256Hex, sha256 } from './hash.ts';
import { type PublicKey, signDigest, verifyDigest } from './keys.ts';
import { IsoTime } from './time.ts';

/** A gateway id: lowercase letters, digits and dashes, as used in topics and file names. */
export const GatewayId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'a gateway id is 1–63 of a-z, 0-9 and "-", starting with a letter or digit',
  )
  .describe('gateway id');

/** A track id within a recording (one per camera, microphone or body-worn device). */
export const TrackId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a track id is 1–63 of a-z, 0-9, ".", "_" and "-"')
  .describe('track id');

/** A recording id: a UUID, lowercase. */
export const RecordingId = z
  .string()
  .regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    'a recording id is a lowercase UUID',
  )
  .describe('recording id (UUID)');

/** A case id as written by the agency: letters (including CJK), digits and a few separators. */
export const CaseId = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[\p{L}\p{N}(（〔[][\p{L}\p{N}()（）〔〕[\]_.:-]*$/u,
    'a case id holds letters, digits and ()（）〔〕[]_.:- only, and starts with a letter, a digit or an opening bracket',
  )
  .describe('case id');

/** The measured offset of the gateway clock against its reference [DESIGN invariant 6]. */
export const ClockReading = z
  .strictObject({
    offsetMs: z.number().int().describe('reference time minus gateway time, in ms'),
    rttMs: z.number().int().nonnegative().nullable().describe('round trip of the best sample, in ms'),
    source: z
      .string()
      .min(1)
      .max(100)
      .describe('what the offset was measured against, e.g. "ingest", "none"'),
  })
  .describe('clock offset of the gateway at sealing time');
export type ClockReading = z.infer<typeof ClockReading>;

const Alg = z.strictObject({
  canon: z.literal('jcs'),
  hash: z.literal('sha-256'),
  sig: z.literal('ed25519'),
});
/** The algorithms of this version of the format; named in every entry so others can be added. */
export const ALG = { canon: 'jcs', hash: 'sha-256', sig: 'ed25519' } as const;

const Base = {
  v: z.literal(1),
  alg: Alg,
  gateway: GatewayId,
  key: Sha256Hex.describe('fingerprint of the signing key: SHA-256 of the raw public key'),
  recording: RecordingId,
  track: TrackId,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  prev: Sha256Hex.nullable().describe('hash of the entry with seq - 1; null only for seq 0'),
  sealedAt: IsoTime.describe('when the gateway sealed this entry, gateway clock'),
  clock: ClockReading,
};

/** Where the footage of a track comes from. */
export const TrackSource = z.strictObject({
  kind: z.enum(['camera', 'microphone', 'bodycam']),
  name: z.string().min(1).max(200),
  device: z.string().max(200).nullable().describe('device serial or camera id'),
  officer: z.string().max(64).nullable().describe('officer bound to a body-worn device'),
  clockOffsetMs: z
    .number()
    .int()
    .optional()
    .describe(
      "the device's clock minus the gateway's, in ms, when measured (ONVIF GetSystemDateAndTime, dock info)",
    ),
});

/** The recording elements (记录要素) of the case being recorded. */
export const CaseElements = z.strictObject({
  id: CaseId,
  matter: z.string().min(1).max(100).describe('matter type (事项) from the matter list'),
  officers: z
    .array(z.string().min(1).max(64))
    .max(50)
    .describe('credential numbers (执法证号) of officers present'),
  room: z.string().min(1).max(100),
});

export type CaseElements = z.infer<typeof CaseElements>;

/** Opens a track's chain (seq 0). */
export const OpenEntry = z.strictObject({
  ...Base,
  kind: z.literal('open'),
  start: IsoTime,
  continuity: z
    .enum(['continuous', 'discrete'])
    .describe(
      'continuous: media must cover start..close without holes except gaps; discrete: separate files',
    ),
  case: CaseElements.nullable(),
  source: TrackSource,
  startedBy: z.string().min(1).max(100),
});

/** One sealed media object: a segment of a stream or a whole file from a device. */
export const SegmentEntry = z.strictObject({
  ...Base,
  kind: z.literal('segment'),
  object: z.strictObject({
    sha256: Sha256Hex,
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
  start: IsoTime,
  durationMs: z.number().int().nonnegative(),
  container: z.string().min(1).max(40).describe('e.g. mpegts, mp4'),
  name: z.string().max(255).nullable().describe('original file name, for files offloaded from a device'),
});

/** Reasons footage can be missing; each gap names one. */
export const GapReason = z.enum([
  'source-starting',
  'source-lost',
  'capture-restarted',
  'gateway-down',
  'storage-error',
  'segment-invalid',
  'other',
]);
export type GapReason = z.infer<typeof GapReason>;

/** Footage is missing from `from` to `to`, and why. */
export const GapEntry = z.strictObject({
  ...Base,
  kind: z.literal('gap'),
  from: IsoTime,
  to: IsoTime,
  reason: GapReason,
  detail: z.string().max(500),
});

/** Closes a track: no entry may follow. Carries the Merkle root of the segment hashes. */
export const CloseEntry = z.strictObject({
  ...Base,
  kind: z.literal('close'),
  end: IsoTime,
  segments: z.number().int().nonnegative(),
  merkleRoot: Sha256Hex.describe(
    'RFC 9162 root over the raw 32-byte object hashes of the segments, in seq order',
  ),
  reason: z.enum(['stopped', 'source-removed', 'recovered', 'other']),
});

/**
 * A path on a body-worn device's volume, relative to the volume's root [EVIDENCE §4.8]: segments joined by
 * "/", none empty, "." or "..", no leading "/", no backslash and no control character.
 */
export const VolumePath = z
  .string()
  .min(1)
  .max(255)
  .refine(isVolumePath, 'a volume path is relative, "/"-separated, with no empty, "." or ".." segment')
  .describe('path of a file relative to the root of the device volume');

/** True when `path` is a volume path (§4.8): what the dock may name, and nothing that leaves the volume. */
export function isVolumePath(path: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (path === '' || /[\\\u0000-\u001f\u007f]/.test(path)) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** One whole file offloaded from a body-worn device at a dock, sealed into the device's chain [EVIDENCE §4.8]. */
export const FileEntry = z.strictObject({
  ...Base,
  kind: z.literal('file'),
  object: z.strictObject({
    sha256: Sha256Hex,
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
  name: VolumePath.describe('original name of the file, relative to the root of the device volume'),
  modifiedAt: IsoTime.describe("the file's modification time as the device's file system reports it"),
  createdAt: IsoTime.nullable().describe("the file's creation time, when the file system reports one"),
  deviceClockOffsetMs: z
    .number()
    .int()
    .nullable()
    .describe("the device's clock minus the gateway's, in ms, when the device reports it; null otherwise"),
  container: z
    .string()
    .min(1)
    .max(40)
    .nullable()
    .describe('the container the bytes begin with (mp4, mov, mpegts, wav, jpeg…); null when not recognised'),
  intact: z
    .boolean()
    .nullable()
    .describe('ISO BMFF files: true when the top-level boxes exactly fill the file; null when not checked'),
});

/** A file of the device was deleted or moved by the dock, after the ingest acknowledged it [EVIDENCE §4.9]. */
export const DispositionEntry = z
  .strictObject({
    ...Base,
    kind: z.literal('disposition'),
    file: Sha256Hex.describe('hash of the file entry, earlier in the same chain, that sealed this file'),
    name: VolumePath.describe("the file's name on the volume, as its file entry names it"),
    object: Sha256Hex.describe("the file's SHA-256, as its file entry names it"),
    action: z.enum(['deleted', 'moved']).describe('what the dock did to the file on the device'),
    to: VolumePath.nullable().describe('where on the volume a moved file now is; null when deleted'),
  })
  .refine((d) => (d.action === 'moved') === (d.to !== null), {
    message: 'a moved file names where it went (to); a deleted one has to null',
    path: ['to'],
  });

/** Any evidence entry. */
export const Entry = z.discriminatedUnion('kind', [
  OpenEntry,
  SegmentEntry,
  GapEntry,
  CloseEntry,
  FileEntry,
  DispositionEntry,
]);
export type Entry = z.infer<typeof Entry>;
export type OpenEntry = z.infer<typeof OpenEntry>;
export type SegmentEntry = z.infer<typeof SegmentEntry>;
export type GapEntry = z.infer<typeof GapEntry>;
export type CloseEntry = z.infer<typeof CloseEntry>;
export type FileEntry = z.infer<typeof FileEntry>;
export type DispositionEntry = z.infer<typeof DispositionEntry>;
export type EntryKind = Entry['kind'];

/** A signed entry as it travels and is stored: the entry, its hash and the gateway's signature. */
export const SignedEntry = z.strictObject({
  entry: z.record(z.string(), z.unknown()),
  hash: Sha256Hex,
  sig: Base64Url,
});
export type SignedEntry = z.infer<typeof SignedEntry>;

/** The entry hash: SHA-256 over the RFC 8785 canonical bytes of the entry object [EVIDENCE §4]. */
export function entryHash(entry: unknown): Buffer {
  return sha256(canonicalBytes(entry));
}

/** Hashes and signs an entry into its envelope. The entry is checked against the schema first. */
export function sealEntry(entry: Entry, privateKey: KeyObject): SignedEntry {
  const parsed = Entry.parse(entry);
  const digest = entryHash(parsed);
  return { entry: parsed, hash: digest.toString('hex'), sig: signDigest(privateKey, 'entry', digest) };
}

/** What went wrong with one envelope. */
export interface EnvelopeProblem {
  code: 'ENTRY_SCHEMA' | 'ENTRY_HASH_MISMATCH' | 'SIGNATURE_INVALID' | 'KEY_UNKNOWN' | 'KEY_OWNER_MISMATCH';
  message: string;
}

/**
 * Checks one envelope on its own: schema, hash, signature by the key its entry names.
 * `keys` maps fingerprints to checked public keys.
 */
export function checkEnvelope(
  raw: unknown,
  keys: ReadonlyMap<string, PublicKey & { owner?: string }>,
): { ok: true; signed: SignedEntry; entry: Entry } | { ok: false; problem: EnvelopeProblem } {
  const envelope = SignedEntry.safeParse(raw);
  if (!envelope.success) return fail('ENTRY_SCHEMA', `envelope: ${z.prettifyError(envelope.error)}`);
  const parsed = Entry.safeParse(envelope.data.entry);
  if (!parsed.success) return fail('ENTRY_SCHEMA', `entry: ${z.prettifyError(parsed.error)}`);
  let digest: Buffer;
  try {
    digest = entryHash(envelope.data.entry);
  } catch (err) {
    // RFC 8785 has no form for a lone UTF-16 surrogate: such an entry cannot have been signed.
    return fail('ENTRY_SCHEMA', `entry has no canonical form: ${(err as Error).message}`);
  }
  if (digest.toString('hex') !== envelope.data.hash) {
    return fail(
      'ENTRY_HASH_MISMATCH',
      `entry hashes to ${digest.toString('hex')}, envelope says ${envelope.data.hash}`,
    );
  }
  const key = keys.get(parsed.data.key);
  if (!key) return fail('KEY_UNKNOWN', `no public key with fingerprint ${parsed.data.key}`);
  const why = verifyDigest(key, 'entry', digest, envelope.data.sig);
  if (why) return fail('SIGNATURE_INVALID', why);
  if (key.owner !== undefined && key.owner !== parsed.data.gateway) {
    return fail(
      'KEY_OWNER_MISMATCH',
      `signed by the key of ${key.owner}, but the entry names gateway ${parsed.data.gateway}`,
    );
  }
  return { ok: true, signed: envelope.data, entry: parsed.data };
}

function fail(code: EnvelopeProblem['code'], message: string): { ok: false; problem: EnvelopeProblem } {
  return { ok: false, problem: { code, message } };
}
