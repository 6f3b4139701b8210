/** @module Test helper: builds honest (or deliberately crafted) track chains in memory and feeds them to the verifier. */
import { TrackChain } from '../../protocol/chain.ts';
import type { GapEntry, SignedEntry } from '../../protocol/entry.ts';
import { chainFileName, LAYOUT } from '../../protocol/folder-layout.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { type KeyPair, keyPairFromSeed, type PublicKey } from '../../protocol/keys.ts';
import { isoTime } from '../../protocol/time.ts';
import type { EntryInput, ObjectFact } from '../../protocol/verifier.ts';

/** The instant every test chain opens at, unless told otherwise. */
export const T0 = Date.UTC(2026, 10, 27, 1, 0, 0);

/** The clock reading sealed into test entries. */
export const CLOCK = { offsetMs: 0, rttMs: null, source: 'none' };

/** A deterministic key pair from one byte repeated (Ed25519 signing is deterministic too). */
export function testKey(n: number): KeyPair {
  return keyPairFromSeed(Buffer.alloc(32, n));
}

/** The verifier's key map for these key pairs. */
export function keyMap(...pairs: KeyPair[]): Map<string, PublicKey> {
  return new Map(pairs.map((p) => [p.publicKey.fingerprint, p.publicKey]));
}

/** One step of a chain after its open entry, with explicit times in epoch ms. */
export type Step =
  | { kind: 'segment'; bytes: Uint8Array; start: number; durationMs: number }
  | { kind: 'gap'; from: number; to: number; reason: GapEntry['reason']; detail?: string }
  | { kind: 'close'; end: number };

/** What to build. */
export interface ChainSpec {
  recording: string;
  track: string;
  key: KeyPair;
  gateway?: string;
  continuity?: 'continuous' | 'discrete';
  start?: number;
  /** The case elements of the open entry (default: a hearing of case TEST-2026-0001). */
  case?: { id: string; matter: string; officers: string[]; room: string };
  steps: Step[];
}

/** A chain built in memory: its signed entries, its objects and the file it would be stored in. */
export interface BuiltChain {
  spec: ChainSpec;
  file: string;
  chain: TrackChain;
  signed: SignedEntry[];
  /** Object bytes by SHA-256 hex. */
  objects: Map<string, Buffer>;
}

/** Seals the open entry and every step with TrackChain, exactly as a gateway would. */
export function buildChain(spec: ChainSpec): BuiltChain {
  const start = spec.start ?? T0;
  const chain = new TrackChain({
    gateway: spec.gateway ?? 'gw-test',
    keyFingerprint: spec.key.publicKey.fingerprint,
    privateKey: spec.key.privateKey,
    recording: spec.recording,
    track: spec.track,
  });
  const signed: SignedEntry[] = [];
  const objects = new Map<string, Buffer>();
  signed.push(
    chain.open({
      sealedAt: isoTime(start),
      clock: CLOCK,
      start: isoTime(start),
      continuity: spec.continuity ?? 'continuous',
      case: spec.case ?? {
        id: 'TEST-2026-0001',
        matter: '行政处罚听证',
        officers: ['31010001'],
        room: 'hearing-1',
      },
      source: { kind: 'camera', name: spec.track, device: null, officer: null },
      startedBy: 'test',
    }),
  );
  for (const step of spec.steps) {
    if (step.kind === 'segment') {
      const bytes = Buffer.from(step.bytes);
      const sha256 = sha256Hex(bytes);
      objects.set(sha256, bytes);
      signed.push(
        chain.segment({
          sealedAt: isoTime(step.start + step.durationMs),
          clock: CLOCK,
          object: { sha256, size: bytes.length },
          start: isoTime(step.start),
          durationMs: step.durationMs,
          container: 'mpegts',
          name: null,
        }),
      );
    } else if (step.kind === 'gap') {
      signed.push(
        chain.gap({
          sealedAt: isoTime(step.to),
          clock: CLOCK,
          from: isoTime(step.from),
          to: isoTime(step.to),
          reason: step.reason,
          detail: step.detail ?? 'test gap',
        }),
      );
    } else {
      signed.push(
        chain.close({ sealedAt: isoTime(step.end), clock: CLOCK, end: isoTime(step.end), reason: 'stopped' }),
      );
    }
  }
  return {
    spec,
    file: `${LAYOUT.entries}/${chainFileName(spec.recording, spec.track)}`,
    chain,
    signed,
    objects,
  };
}

/** One segment of a generated plan. */
export interface SegmentPlan {
  bytes: Uint8Array;
  durationMs: number;
  /** Honest slack between the previous end and this start, within ±MAX_SILENT_MS. */
  jitterMs: number;
  /** When > 0, an honest gap of this many ms precedes the segment. */
  gapBeforeMs: number;
}

/** A generated plan of a chain. */
export interface ChainPlan {
  segments: SegmentPlan[];
  closeJitterMs: number;
  closed: boolean;
}

/**
 * The honest steps of a plan: every hole is a gap entry, every start within the allowed slack.
 * `tag` is prefixed to every object so objects of different segments never coincide.
 */
export function honestSteps(plan: ChainPlan, tag: string, start = T0): Step[] {
  const steps: Step[] = [];
  let cursor = start;
  plan.segments.forEach((s, i) => {
    if (s.gapBeforeMs > 0) {
      steps.push({ kind: 'gap', from: cursor, to: cursor + s.gapBeforeMs, reason: 'source-lost' });
      cursor += s.gapBeforeMs;
    }
    const begin = cursor + s.jitterMs;
    steps.push({
      kind: 'segment',
      bytes: Buffer.concat([Buffer.from(`${tag}#${i}:`), s.bytes]),
      start: begin,
      durationMs: s.durationMs,
    });
    cursor = begin + s.durationMs;
  });
  if (plan.closed) steps.push({ kind: 'close', end: cursor + plan.closeJitterMs });
  return steps;
}

/** An entries line as stored: which file, and its text. */
export interface StoredLine {
  file: string;
  text: string;
}

/** The stored lines of these chains, each chain's entries in seq order in its own file. */
export function storedLines(chains: readonly BuiltChain[]): StoredLine[] {
  return chains.flatMap((c) => c.signed.map((s) => ({ file: c.file, text: JSON.stringify(s) })));
}

/** Reads stored lines the way `quanlu verify` reads files: numbered per file from 1, parsed as JSON. */
export function toInputs(lines: readonly StoredLine[]): EntryInput[] {
  const counters = new Map<string, number>();
  return lines.map((l) => {
    const line = (counters.get(l.file) ?? 0) + 1;
    counters.set(l.file, line);
    const where = { file: l.file, line };
    try {
      return { where, value: JSON.parse(l.text) as unknown };
    } catch (err) {
      return { where, error: `line ${line} of ${l.file} is not JSON: ${(err as Error).message}` };
    }
  });
}

/** What hashing these objects tells the verifier (the key is the name they are stored under). */
export function factsOf(objects: Iterable<[string, Uint8Array]>): Map<string, ObjectFact> {
  const facts = new Map<string, ObjectFact>();
  for (const [name, bytes] of objects) facts.set(name, { actual: sha256Hex(bytes), size: bytes.length });
  return facts;
}

/** Every object of these chains. */
export function allObjects(chains: readonly BuiltChain[]): Map<string, Buffer> {
  return new Map(chains.flatMap((c) => [...c.objects]));
}
