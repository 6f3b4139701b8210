import fc from 'fast-check';
import t from 'tap';
import { type ChainState, TrackChain } from '../../protocol/chain.ts';
import { ALG, type CloseEntry, Entry, entryHash, type SignedEntry, sealEntry } from '../../protocol/entry.ts';
import { sha256Hex } from '../../protocol/hash.ts';
import { signDigest } from '../../protocol/keys.ts';
import { isoTime, timeMs } from '../../protocol/time.ts';
import {
  type Finding,
  MAX_SILENT_MS,
  type ObjectFact,
  type VerifyOptions,
  type VerifyReport,
  verifyChains,
} from '../../protocol/verifier.ts';
import {
  allObjects,
  type BuiltChain,
  buildChain,
  type ChainPlan,
  CLOCK,
  factsOf,
  honestSteps,
  keyMap,
  type Step,
  type StoredLine,
  storedLines,
  testKey,
  toInputs,
} from '../helpers/chains.ts';

const KEY = testKey(1);
const OTHER = testKey(2);
const REC = '5b0e3f6a-2c1d-4e8f-9a7b-1c2d3e4f5a6b';
const OTHER_REC = 'c0ffee00-1111-4222-8333-444455556666';

// ---------------------------------------------------------------------------------------------
// Generators

const segmentArb = fc.record({
  bytes: fc.uint8Array({ minLength: 1, maxLength: 48 }),
  // Longer than the allowed slack, so every segment ends after the one before it: then "the previous
  // end" and "the furthest end so far" are the same instant, and the chain is honest under either reading.
  durationMs: fc.integer({ min: MAX_SILENT_MS + 1, max: 6000 }),
  jitterMs: fc.integer({ min: -MAX_SILENT_MS, max: MAX_SILENT_MS }),
  gapBeforeMs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 120_000 })),
});

function planArb(minSegments: number, closed = true): fc.Arbitrary<ChainPlan> {
  return fc.record({
    segments: fc.array(segmentArb, { minLength: minSegments, maxLength: 6 }),
    closeJitterMs: fc.integer({ min: -MAX_SILENT_MS, max: MAX_SILENT_MS }),
    closed: fc.constant(closed),
  });
}

/** One or two tracks of one recording; the first is the one a tamper test attacks. */
function scenarioArb(minSegments = 0, closed = true): fc.Arbitrary<ChainPlan[]> {
  return fc.array(planArb(minSegments, closed), { minLength: 1, maxLength: 2 });
}

// ---------------------------------------------------------------------------------------------
// A world: chains, their stored lines and objects

interface World {
  chains: BuiltChain[];
  lines: StoredLine[];
  objects: Map<string, Buffer>;
}

function trackName(i: number): string {
  return `cam-${i + 1}`;
}

function worldOf(plans: readonly ChainPlan[], continuity: 'continuous' | 'discrete' = 'continuous'): World {
  const chains = plans.map((plan, i) =>
    buildChain({
      recording: REC,
      track: trackName(i),
      key: KEY,
      continuity,
      steps: honestSteps(plan, trackName(i)),
    }),
  );
  return { chains, lines: storedLines(chains), objects: allObjects(chains) };
}

function verify(
  lines: readonly StoredLine[],
  facts: ReadonlyMap<string, ObjectFact>,
  keys = keyMap(KEY),
  options: VerifyOptions = {},
): VerifyReport {
  return verifyChains(toInputs(lines), keys, facts, options);
}

/** Index in storage of entry `seq` of chain `c` while storage is untouched. */
function indexOf(w: World, c: number, seq: number): number {
  let i = 0;
  for (let k = 0; k < c; k++) i += w.chains[k]!.signed.length;
  return i + seq;
}

/** The (file, line) the verifier will see for the stored line at `index`. */
function lineAt(lines: readonly StoredLine[], index: number): { file: string; line: number } {
  return toInputs(lines)[index]!.where;
}

function allFindings(r: VerifyReport): Finding[] {
  return [...r.findings, ...r.tracks.flatMap((tr) => tr.findings)];
}

function errorCodes(r: VerifyReport): string[] {
  return [
    ...new Set(
      allFindings(r)
        .filter((f) => f.severity === 'error')
        .map((f) => f.code),
    ),
  ].sort();
}

/** Throws (so fast-check shrinks and reports) unless the condition holds, with the findings attached. */
function check(cond: boolean, what: string, r: VerifyReport): void {
  if (!cond) throw new Error(`${what}\nok=${r.ok}\nfindings: ${JSON.stringify(allFindings(r), null, 1)}`);
}

function has(r: VerifyReport, m: Partial<Finding>, test?: (f: Finding) => boolean): boolean {
  return allFindings(r).some(
    (f) =>
      Object.entries(m).every(([k, v]) => (f as unknown as Record<string, unknown>)[k] === v) &&
      (!test || test(f)),
  );
}

function expectOnly(r: VerifyReport, codes: string[], what: string): void {
  check(!r.ok, `${what}: the report must not be ok`, r);
  check(
    JSON.stringify(errorCodes(r)) === JSON.stringify([...codes].sort()),
    `${what}: expected exactly ${codes.join(', ')}, got ${errorCodes(r).join(', ')}`,
    r,
  );
}

function tracksOtherThan(r: VerifyReport, track: string, recording = REC): boolean {
  return r.tracks
    .filter((tr) => tr.track !== track || tr.recording !== recording)
    .every((tr) => tr.status === 'verified' && tr.findings.length === 0);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

const RUNS = { numRuns: 40 };

// ---------------------------------------------------------------------------------------------
// Honest chains

t.test(
  'an honest recording (any number of segments, honest gaps and slack) verifies with no findings',
  async (t) => {
    fc.assert(
      fc.property(
        scenarioArb(),
        fc.constantFrom('continuous' as const, 'discrete' as const),
        (plans, continuity) => {
          const w = worldOf(plans, continuity);
          const r = verify(w.lines, factsOf(w.objects));
          check(r.ok, 'honest chains must verify', r);
          check(allFindings(r).length === 0, 'honest chains have no findings', r);
          check(r.tracks.length === plans.length, 'one report per track', r);
          plans.forEach((plan, i) => {
            const tr = r.tracks.find((x) => x.track === trackName(i))!;
            check(tr.status === 'verified', `${tr.track} is verified`, r);
            check(tr.segments === plan.segments.length, `${tr.track} counts its segments`, r);
            check(tr.gaps.length === plan.segments.filter((s) => s.gapBeforeMs > 0).length, 'gaps listed', r);
            check(tr.entries === w.chains[i]!.signed.length, 'entries counted', r);
          });
        },
      ),
      { numRuns: 60 },
    );
    t.pass('held');
  },
);

t.test('an unclosed chain fails with CHAIN_NOT_CLOSED, and passes as a warning with allowOpen', async (t) => {
  fc.assert(
    fc.property(scenarioArb(0, false), (plans) => {
      const w = worldOf(plans);
      const strict = verify(w.lines, factsOf(w.objects));
      expectOnly(strict, ['CHAIN_NOT_CLOSED'], 'open chain');
      check(
        strict.tracks.every((tr) => tr.findings.some((f) => f.code === 'CHAIN_NOT_CLOSED')),
        'every track is named',
        strict,
      );
      const lenient = verify(w.lines, factsOf(w.objects), keyMap(KEY), { allowOpen: true });
      check(lenient.ok, 'allowOpen accepts an open chain', lenient);
      check(
        lenient.tracks.every((tr) => tr.status === 'open'),
        'status is open',
        lenient,
      );
      check(
        allFindings(lenient).every((f) => f.code === 'CHAIN_NOT_CLOSED' && f.severity === 'warning'),
        'only warnings',
        lenient,
      );
    }),
    { numRuns: 30 },
  );
  t.pass('held');
});

// ---------------------------------------------------------------------------------------------
// Objects

t.test('any single changed byte in any object is OBJECT_HASH_MISMATCH naming its segment', async (t) => {
  fc.assert(
    fc.property(
      scenarioArb(1),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (plans, c0, s0, p0, xor) => {
        const w = worldOf(plans);
        const chain = w.chains[c0 % w.chains.length]!;
        const segments = chain.signed.filter((s) => s.entry.kind === 'segment');
        const target = segments[s0 % segments.length]!;
        const sha = (target.entry as { object: { sha256: string } }).object.sha256;
        const bytes = Buffer.from(w.objects.get(sha)!);
        const pos = p0 % bytes.length;
        bytes[pos]! ^= xor;
        const objects = new Map(w.objects).set(sha, bytes);
        const r = verify(w.lines, factsOf(objects));
        expectOnly(r, ['OBJECT_HASH_MISMATCH'], 'changed object byte');
        const seq = target.entry.seq as number;
        check(
          has(r, { code: 'OBJECT_HASH_MISMATCH', track: chain.spec.track, seq, object: sha }),
          `finding names ${chain.spec.track} seq ${seq}`,
          r,
        );
        check(
          allFindings(r).filter((f) => f.severity === 'error').length === 1,
          'only that segment is blamed',
          r,
        );
        check(tracksOtherThan(r, chain.spec.track), 'other tracks still verify', r);
      },
    ),
    RUNS,
  );
  t.pass('held');
});

t.test('a truncated or extended object is caught as OBJECT_HASH_MISMATCH naming its segment', async (t) => {
  fc.assert(
    fc.property(
      scenarioArb(1),
      fc.nat(),
      fc.boolean(),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      (plans, s0, cut, extra) => {
        const w = worldOf(plans);
        const segments = w.chains[0]!.signed.filter((s) => s.entry.kind === 'segment');
        const target = segments[s0 % segments.length]!;
        const sha = (target.entry as { object: { sha256: string } }).object.sha256;
        const original = w.objects.get(sha)!;
        const bytes = cut ? original.subarray(0, original.length - 1) : Buffer.concat([original, extra]);
        const r = verify(w.lines, factsOf(new Map(w.objects).set(sha, bytes)));
        expectOnly(r, ['OBJECT_HASH_MISMATCH'], 'resized object');
        check(
          has(r, { code: 'OBJECT_HASH_MISMATCH', track: 'cam-1', seq: target.entry.seq as number }),
          'names seq',
          r,
        );
      },
    ),
    { numRuns: 30 },
  );
  t.pass('held');
});

t.test(
  'an object of the right hash but the wrong size, a missing and an unreadable object are each named',
  async (t) => {
    const w = worldOf([
      {
        segments: [1, 2, 3].map((n) => ({
          bytes: Buffer.alloc(10, n),
          durationMs: 4000,
          jitterMs: 0,
          gapBeforeMs: 0,
        })),
        closeJitterMs: 0,
        closed: true,
      },
    ]);
    const seg = w.chains[0]!.signed.filter((s) => s.entry.kind === 'segment');
    const sha = (i: number) => (seg[i]!.entry as { object: { sha256: string } }).object.sha256;
    const facts = factsOf(w.objects);
    facts.set(sha(0), { actual: sha(0), size: 999 });
    facts.delete(sha(1));
    facts.set(sha(2), { actual: null, size: 0, error: 'EIO: i/o error' });
    const r = verify(w.lines, facts);
    t.notOk(r.ok);
    t.ok(has(r, { code: 'OBJECT_SIZE_MISMATCH', seq: 1, object: sha(0) }), 'size mismatch names seq 1');
    t.ok(has(r, { code: 'OBJECT_MISSING', seq: 2, object: sha(1) }), 'missing object names seq 2');
    t.ok(
      has(r, { code: 'OBJECT_UNREADABLE', seq: 3, object: sha(2) }, (f) => f.message.includes('EIO')),
      'unreadable object names seq 3 and why',
    );
    t.same(errorCodes(r), ['OBJECT_MISSING', 'OBJECT_SIZE_MISMATCH', 'OBJECT_UNREADABLE']);
  },
);

// ---------------------------------------------------------------------------------------------
// Entries: changed fields and changed bytes

type Leaf = { path: (string | number)[]; value: unknown };

/** Every value inside an entry (objects as a whole too, so that a nullable object can become null). */
function leaves(value: unknown, path: (string | number)[] = []): Leaf[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const inner = Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
    return path.length ? [{ path, value }, ...inner] : inner;
  }
  return [{ path, value }];
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
}

const ENUM_VALUES = [
  'continuous',
  'discrete',
  'camera',
  'microphone',
  'bodycam',
  'source-starting',
  'source-lost',
  'capture-restarted',
  'gateway-down',
  'storage-error',
  'segment-invalid',
  'other',
  'stopped',
  'source-removed',
  'recovered',
];

function nextInClass(c: string): string | null {
  if (/[0-8]/.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === '9') return '0';
  if (/[a-e]/.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'f') return 'a';
  if (/[g-y]/.test(c)) return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === 'z') return 'g';
  if (/[A-Z]/.test(c)) return c === 'Z' ? 'A' : String.fromCharCode(c.charCodeAt(0) + 1);
  return null;
}

/** Values a leaf could take that differ from it; the caller keeps the schema-valid ones. */
function variants(v: unknown): unknown[] {
  if (typeof v === 'number') return [v + 1, v - 1, v + 1000];
  if (typeof v === 'boolean') return [!v];
  if (v === null) return ['0'.repeat(64), 'x', 0, 5, isoTime(0)];
  if (typeof v !== 'string') return typeof v === 'object' ? [null] : [];
  const out: unknown[] = [null, `${v}x`, ...(ENUM_VALUES.includes(v) ? ENUM_VALUES : [])];
  if (/^\d{4}-\d\d-\d\dT/.test(v))
    out.push(isoTime(timeMs(v) + 1), isoTime(timeMs(v) - 1), isoTime(timeMs(v) + 60_000));
  for (const i of [0, 1, Math.floor(v.length / 2), v.length - 1]) {
    const c = nextInClass(v[i] ?? '');
    if (c) out.push(v.slice(0, i) + c + v.slice(i + 1));
  }
  return out.filter((x) => x !== v);
}

/** The schema-valid changes of one leaf of an entry, each as a new entry object. */
function leafMutations(
  entry: Record<string, unknown>,
  leaf: Leaf,
): { path: string; entry: Record<string, unknown> }[] {
  const out: { path: string; entry: Record<string, unknown> }[] = [];
  const before = entryHash(entry).toString('hex');
  for (const value of variants(leaf.value)) {
    const e = clone(entry);
    setAt(e, leaf.path, value);
    if (!Entry.safeParse(e).success) continue;
    if (entryHash(e).toString('hex') === before) continue;
    out.push({ path: leaf.path.join('.'), entry: e });
  }
  return out;
}

/** Every schema-valid single-field change of an entry. */
function fieldMutations(entry: Record<string, unknown>): { path: string; entry: Record<string, unknown> }[] {
  return leaves(entry).flatMap((leaf) => leafMutations(entry, leaf));
}

t.test('the field mutator reaches every mutable field of every entry kind', async (t) => {
  const w = worldOf([
    {
      segments: [{ bytes: Buffer.from('x'), durationMs: 10, jitterMs: 0, gapBeforeMs: 5 }],
      closeJitterMs: 0,
      closed: true,
    },
  ]);
  const paths = new Set(w.chains[0]!.signed.flatMap((s) => fieldMutations(s.entry).map((m) => m.path)));
  for (const p of [
    'seq',
    'prev',
    'key',
    'gateway',
    'recording',
    'track',
    'sealedAt',
    'clock.offsetMs',
    'clock.rttMs',
    'clock.source',
    'start',
    'continuity',
    'case.id',
    'case',
    'source.kind',
    'startedBy',
    'object.sha256',
    'object.size',
    'durationMs',
    'container',
    'name',
    'from',
    'to',
    'reason',
    'detail',
    'end',
    'segments',
    'merkleRoot',
  ])
    t.ok(paths.has(p), `${p} is mutated`);
});

const mutationArb = fc.record({ plans: scenarioArb(), c: fc.nat(), e: fc.nat(), l: fc.nat(), m: fc.nat() });

function pickMutation(w: World, c0: number, e0: number, l0: number, m0: number) {
  const ci = c0 % w.chains.length;
  const chain = w.chains[ci]!;
  const seq = e0 % chain.signed.length;
  const signed = chain.signed[seq]!;
  // The chosen field, or the next one that has a schema-valid change (v and alg have none).
  const all = leaves(signed.entry);
  for (let k = 0; k < all.length; k++) {
    const options = leafMutations(signed.entry, all[(l0 + k) % all.length]!);
    if (options.length)
      return { ci, chain, seq, signed, mutation: options[m0 % options.length]!, index: indexOf(w, ci, seq) };
  }
  throw new Error('an entry with no mutable field');
}

t.test(
  'a schema-valid change to any field of any entry, hash kept, is ENTRY_HASH_MISMATCH at that line',
  async (t) => {
    fc.assert(
      fc.property(mutationArb, ({ plans, c, e, l, m }) => {
        const w = worldOf(plans);
        const { signed, mutation, index } = pickMutation(w, c, e, l, m);
        const lines = [...w.lines];
        lines[index] = { ...lines[index]!, text: JSON.stringify({ ...signed, entry: mutation.entry }) };
        const r = verify(lines, factsOf(w.objects));
        const at = lineAt(lines, index);
        check(!r.ok, `changing ${mutation.path} must fail`, r);
        check(
          has(r, { code: 'ENTRY_HASH_MISMATCH', ...at, seq: mutation.entry.seq as number }),
          `ENTRY_HASH_MISMATCH names ${at.file}:${at.line} after changing ${mutation.path}`,
          r,
        );
      }),
      { numRuns: 60 },
    );
    t.pass('held');
  },
);

t.test(
  'a changed field with the hash recomputed but the old signature is SIGNATURE_INVALID at that line',
  async (t) => {
    fc.assert(
      fc.property(mutationArb, ({ plans, c, e, l, m }) => {
        const w = worldOf(plans);
        const { signed, mutation, index } = pickMutation(w, c, e, l, m);
        const lines = [...w.lines];
        const hash = entryHash(mutation.entry).toString('hex');
        lines[index] = {
          ...lines[index]!,
          text: JSON.stringify({ entry: mutation.entry, hash, sig: signed.sig }),
        };
        const r = verify(lines, factsOf(w.objects));
        const at = lineAt(lines, index);
        // A changed key fingerprint names a key the verifier does not hold: that is reported first.
        const code = mutation.path === 'key' ? 'KEY_UNKNOWN' : 'SIGNATURE_INVALID';
        check(!r.ok, `changing ${mutation.path} must fail`, r);
        check(
          has(r, { code, ...at, seq: mutation.entry.seq as number }),
          `${code} names ${at.file}:${at.line} after changing ${mutation.path}`,
          r,
        );
      }),
      { numRuns: 60 },
    );
    t.pass('held');
  },
);

t.test('a changed envelope hash or signature character is detected at that line', async (t) => {
  fc.assert(
    fc.property(scenarioArb(), fc.nat(), fc.nat(), fc.boolean(), (plans, e0, p0, inSig) => {
      const w = worldOf(plans);
      const index = e0 % w.lines.length;
      const env = JSON.parse(w.lines[index]!.text) as SignedEntry;
      const field = inSig ? 'sig' : 'hash';
      const text = env[field];
      const i = p0 % text.length;
      const swap = inSig ? (text[i] === 'A' ? 'B' : 'A') : text[i] === '0' ? '1' : '0';
      const mutated = { ...env, [field]: text.slice(0, i) + swap + text.slice(i + 1) };
      const lines = [...w.lines];
      lines[index] = { ...lines[index]!, text: JSON.stringify(mutated) };
      const r = verify(lines, factsOf(w.objects));
      const at = lineAt(lines, index);
      const code = inSig ? 'SIGNATURE_INVALID' : 'ENTRY_HASH_MISMATCH';
      check(has(r, { code, ...at, seq: env.entry.seq as number }), `${code} at ${at.file}:${at.line}`, r);
    }),
    { numRuns: 60 },
  );
  t.pass('held');
});

/** A damaged line that still names recording, track, seq and kind, but whose body is not an entry. */
function damagedLine(w: World, seq: number, from: string, to: string): StoredLine[] {
  const lines = [...w.lines];
  lines[seq] = { ...lines[seq]!, text: lines[seq]!.text.replace(from, to) };
  return lines;
}

// Regression: at 229b791 a schema-invalid entry kept its place in the chain and verifyChain read its
// fields as if valid, so these damaged lines crashed the verifier (TypeError) instead of being reported.
/** One changed byte of the UTF-8 line, or one changed character of its text; never a line break. */
const lineEditArb = fc.oneof(
  fc.record({ byte: fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x0a && b !== 0x0d) }),
  fc.record({
    char: fc
      .oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.constantFrom(...'{}[]:," \\0aZ-.eE+'.split('')),
      )
      .filter((c) => !/[\n\r]/.test(c)),
  }),
);

t.test(
  'any single changed byte or character of any stored entry line is reported at that line',
  async (t) => {
    const CODES = ['ENTRY_PARSE', 'ENTRY_SCHEMA', 'ENTRY_HASH_MISMATCH', 'SIGNATURE_INVALID'];
    fc.assert(
      fc.property(scenarioArb(), fc.nat(), fc.nat(), lineEditArb, (plans, e0, p0, edit) => {
        const w = worldOf(plans);
        const index = e0 % w.lines.length;
        const original = w.lines[index]!.text;
        let text: string;
        if ('byte' in edit) {
          const raw = Buffer.from(original, 'utf8');
          const pos = p0 % raw.length;
          raw[pos] = edit.byte;
          text = raw.toString('utf8');
        } else {
          const chars = [...original];
          chars[p0 % chars.length] = edit.char;
          text = chars.join('');
        }
        fc.pre(text !== original);
        const lines = [...w.lines];
        lines[index] = { ...lines[index]!, text };
        const r = verify(lines, factsOf(w.objects)); // must not throw, whatever the damage
        const at = lineAt(lines, index);
        check(!r.ok, `edit ${JSON.stringify(edit)} must fail`, r);
        check(
          has(r, at, (f) => CODES.includes(f.code)),
          `a finding names ${at.file}:${at.line} with one of ${CODES.join(', ')}`,
          r,
        );
      }),
      { numRuns: 200 },
    );
    t.pass('every changed line was named, and the verifier never threw');
  },
);

t.test(
  'a segment line whose "object" field is damaged is ENTRY_SCHEMA at that line, not a crash',
  async (t) => {
    const w = worldOf([
      {
        segments: [{ bytes: Buffer.from('a'), durationMs: 4000, jitterMs: 0, gapBeforeMs: 0 }],
        closeJitterMs: 0,
        closed: true,
      },
    ]);
    const lines = damagedLine(w, 1, '"object":', '"objecu":');
    let r: VerifyReport | null = null;
    t.doesNotThrow(() => {
      r = verify(lines, factsOf(w.objects));
    }, 'verifyChains returns a report');
    if (r) t.ok(has(r, { code: 'ENTRY_SCHEMA', seq: 1, line: 2 }), 'ENTRY_SCHEMA names seq 1, line 2');
  },
);

t.test(
  'an open line whose "source" field is damaged is ENTRY_SCHEMA at that line, not a crash',
  async (t) => {
    const w = worldOf([{ segments: [], closeJitterMs: 0, closed: true }]);
    const lines = damagedLine(w, 0, '"source":{', '"sourcf":{');
    let r: VerifyReport | null = null;
    t.doesNotThrow(() => {
      r = verify(lines, factsOf(w.objects));
    }, 'verifyChains returns a report');
    if (r) t.ok(has(r, { code: 'ENTRY_SCHEMA', seq: 0, line: 1 }), 'ENTRY_SCHEMA names seq 0, line 1');
  },
);

// ---------------------------------------------------------------------------------------------
// Entries removed, repeated, reordered

t.test('a removed middle entry is CHAIN_MISSING at the entry after it', async (t) => {
  fc.assert(
    fc.property(scenarioArb(1), fc.nat(), (plans, e0) => {
      const w = worldOf(plans);
      const n = w.chains[0]!.signed.length;
      const seq = 1 + (e0 % (n - 2)); // neither open nor close
      const lines = w.lines.filter((_, i) => i !== seq);
      const r = verify(lines, factsOf(w.objects));
      check(!r.ok, 'removal fails', r);
      check(
        has(r, { code: 'CHAIN_MISSING', track: 'cam-1', seq: seq + 1, ...lineAt(lines, seq) }, (f) =>
          f.message.includes(`seq ${seq} is missing`),
        ),
        `CHAIN_MISSING names seq ${seq + 1} and says seq ${seq} is missing`,
        r,
      );
      check(tracksOtherThan(r, 'cam-1'), 'other tracks verify', r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test('a removed run of entries is CHAIN_MISSING naming the range', async (t) => {
  fc.assert(
    fc.property(scenarioArb(3), fc.nat(), fc.nat(), (plans, a0, b0) => {
      const w = worldOf(plans);
      const n = w.chains[0]!.signed.length;
      const lo = 1 + (a0 % (n - 3));
      const hi = lo + 1 + (b0 % (n - 2 - lo));
      const lines = w.lines.filter((_, i) => i < lo || i > hi);
      const r = verify(lines, factsOf(w.objects));
      check(
        has(r, { code: 'CHAIN_MISSING', seq: hi + 1 }, (f) =>
          f.message.includes(`seq ${lo}..${hi} are missing`),
        ),
        `CHAIN_MISSING for ${lo}..${hi}`,
        r,
      );
    }),
    { numRuns: 30 },
  );
  t.pass('held');
});

t.test('a removed close is CHAIN_NOT_CLOSED, a removed open is CHAIN_NO_OPEN', async (t) => {
  fc.assert(
    fc.property(scenarioArb(), (plans) => {
      const w = worldOf(plans);
      const last = w.chains[0]!.signed.length - 1;
      const noClose = verify(
        w.lines.filter((_, i) => i !== last),
        factsOf(w.objects),
      );
      expectOnly(noClose, ['CHAIN_NOT_CLOSED'], 'close removed');
      check(
        has(noClose, { code: 'CHAIN_NOT_CLOSED', track: 'cam-1' }, (f) =>
          f.message.includes(`ends at seq ${last - 1}`),
        ),
        'names where the chain ends',
        noClose,
      );
      const noOpenLines = w.lines.slice(1);
      const noOpen = verify(noOpenLines, factsOf(w.objects));
      check(!noOpen.ok, 'open removed fails', noOpen);
      check(
        has(noOpen, { code: 'CHAIN_NO_OPEN', track: 'cam-1', seq: 1, ...lineAt(noOpenLines, 0) }, (f) =>
          f.message.includes('seq 0 (open) is missing'),
        ),
        'CHAIN_NO_OPEN names the first entry present',
        noOpen,
      );
      check(tracksOtherThan(noOpen, 'cam-1'), 'other tracks verify', noOpen);
    }),
    { numRuns: 40 },
  );
  t.pass('held');
});

t.test('a duplicated entry is CHAIN_DUPLICATE naming its seq and one of its two copies', async (t) => {
  fc.assert(
    fc.property(scenarioArb(), fc.nat(), fc.nat(), (plans, e0, p0) => {
      const w = worldOf(plans);
      const n = w.chains[0]!.signed.length;
      const seq = e0 % n;
      const at = p0 % (n + 1); // anywhere in cam-1's file
      const lines = [...w.lines];
      lines.splice(at, 0, w.lines[seq]!);
      const r = verify(lines, factsOf(w.objects));
      const copyLine = lineAt(lines, at).line;
      const originalLine = lineAt(lines, at <= seq ? seq + 1 : seq).line;
      check(!r.ok, 'a duplicate fails', r);
      check(
        has(
          r,
          { code: 'CHAIN_DUPLICATE', track: 'cam-1', seq },
          (f) => f.line === copyLine || f.line === originalLine,
        ),
        `CHAIN_DUPLICATE names seq ${seq} at line ${copyLine} or ${originalLine}`,
        r,
      );
      if (at > seq)
        check(
          has(r, { code: 'CHAIN_DUPLICATE', seq, line: copyLine }),
          'a copy stored after the original is the one named',
          r,
        );
      check(tracksOtherThan(r, 'cam-1'), 'other tracks verify', r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test('two entries swapped in storage are CHAIN_OUT_OF_ORDER and nothing else', async (t) => {
  fc.assert(
    fc.property(scenarioArb(), fc.nat(), fc.nat(), (plans, a0, b0) => {
      const w = worldOf(plans);
      const n = w.chains[0]!.signed.length;
      const i = a0 % (n - 1);
      const j = i + 1 + (b0 % (n - 1 - i));
      const lines = [...w.lines];
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      const r = verify(lines, factsOf(w.objects));
      expectOnly(r, ['CHAIN_OUT_OF_ORDER'], `swap of seq ${i} and ${j}`);
      check(
        has(r, { code: 'CHAIN_OUT_OF_ORDER', seq: i, line: j + 1 }),
        `seq ${i}, stored at line ${j + 1}, is named`,
        r,
      );
      check(
        allFindings(r).every((f) => f.track === 'cam-1' && f.seq! >= i && f.seq! <= j),
        'only entries between the swapped ones are named',
        r,
      );
    }),
    RUNS,
  );
  t.pass('held');
});

// ---------------------------------------------------------------------------------------------
// Entries inserted

function spliceIn(
  w: World,
  pos: number,
  line: StoredLine,
): { lines: StoredLine[]; at: { file: string; line: number } } {
  const lines = [...w.lines];
  lines.splice(pos, 0, line);
  return { lines, at: lineAt(lines, pos) };
}

t.test(
  'an inserted entry signed by a key the verifier does not hold is KEY_UNKNOWN at its line',
  async (t) => {
    fc.assert(
      fc.property(scenarioArb(), fc.nat(), fc.nat(), (plans, e0, p0) => {
        const w = worldOf(plans);
        const n = w.chains[0]!.signed.length;
        const intruder = buildChain({ ...w.chains[0]!.spec, key: OTHER });
        const seq = e0 % n;
        const { lines, at } = spliceIn(w, p0 % (n + 1), {
          file: w.chains[0]!.file,
          text: JSON.stringify(intruder.signed[seq]),
        });
        const r = verify(lines, factsOf(w.objects));
        check(!r.ok, 'intruder fails', r);
        check(has(r, { code: 'KEY_UNKNOWN', seq, ...at }), `KEY_UNKNOWN at ${at.line}`, r);
      }),
      RUNS,
    );
    t.pass('held');
  },
);

/** Entry `seq` of cam-1 with one field changed, still linked to its predecessor, signed by `signer`. */
function forged(w: World, seq: number, signer: typeof KEY, claimedKey: string): SignedEntry {
  const e = clone(w.chains[0]!.signed[seq]!.entry) as Record<string, unknown>;
  e.key = claimedKey;
  e.sealedAt = isoTime(timeMs(e.sealedAt as string) + 1);
  if (e.kind === 'segment')
    e.object = { sha256: sha256Hex(Buffer.from('substituted footage')), size: 19 } satisfies {
      sha256: string;
      size: number;
    };
  return sealEntry(e as Entry, signer.privateKey);
}

t.test(
  'a forged entry with the right seq and prev, re-signed by another key, is named at its line',
  async (t) => {
    fc.assert(
      fc.property(
        scenarioArb(),
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        (plans, e0, claimHonestKey, replace) => {
          const w = worldOf(plans);
          const n = w.chains[0]!.signed.length;
          const seq = e0 % n;
          const fake = forged(
            w,
            seq,
            OTHER,
            claimHonestKey ? KEY.publicKey.fingerprint : OTHER.publicKey.fingerprint,
          );
          const lines = [...w.lines];
          const line = { file: w.chains[0]!.file, text: JSON.stringify(fake) };
          // Either in place of the genuine entry, or right after it.
          if (replace) lines[seq] = line;
          else lines.splice(seq + 1, 0, line);
          const index = replace ? seq : seq + 1;
          const r = verify(lines, factsOf(w.objects));
          const code = claimHonestKey ? 'SIGNATURE_INVALID' : 'KEY_UNKNOWN';
          check(!r.ok, 'forgery fails', r);
          check(has(r, { code, seq, ...lineAt(lines, index) }), `${code} names seq ${seq} at its line`, r);
        },
      ),
      RUNS,
    );
    t.pass('held');
  },
);

t.test(
  'a forged entry stored before the genuine one does not make the verifier blame the genuine one',
  async (t) => {
    const w = worldOf([
      {
        segments: [1, 2, 3].map((n) => ({
          bytes: Buffer.alloc(8, n),
          durationMs: 4000,
          jitterMs: 0,
          gapBeforeMs: 0,
        })),
        closeJitterMs: 0,
        closed: true,
      },
    ]);
    const fake = forged(w, 2, OTHER, KEY.publicKey.fingerprint);
    const lines = [...w.lines];
    lines.splice(2, 0, { file: w.chains[0]!.file, text: JSON.stringify(fake) }); // line 3: fake, line 4: genuine seq 2
    const r = verify(lines, factsOf(w.objects));
    t.notOk(r.ok);
    t.ok(has(r, { code: 'SIGNATURE_INVALID', seq: 2, line: 3 }), 'the forgery is named');
    const blamed = allFindings(r).filter(
      (f) => f.severity === 'error' && f.line !== undefined && f.line !== 3,
    );
    t.same(
      blamed.map((f) => `${f.code} line ${f.line}`),
      [],
      'no genuine entry is blamed (the untrusted entry must not displace the trusted one at seq 2)',
    );
  },
);

t.test(
  'an entry taken from another chain is attributed to that chain, not accepted into this one',
  async (t) => {
    fc.assert(
      fc.property(scenarioArb(), planArb(1), fc.nat(), fc.nat(), (plans, otherPlan, e0, p0) => {
        const w = worldOf(plans);
        const other = buildChain({
          recording: OTHER_REC,
          track: 'cam-1',
          key: KEY,
          steps: honestSteps(otherPlan, 'other'),
        });
        const seq = 1 + (e0 % (other.signed.length - 1));
        const n = w.chains[0]!.signed.length;
        const { lines, at } = spliceIn(w, p0 % (n + 1), {
          file: w.chains[0]!.file,
          text: JSON.stringify(other.signed[seq]),
        });
        const r = verify(lines, factsOf(w.objects));
        check(!r.ok, 'stray entry fails', r);
        check(tracksOtherThan(r, 'cam-1', OTHER_REC), 'the attacked chain itself still verifies', r);
        check(
          has(r, { code: 'CHAIN_NO_OPEN', recording: OTHER_REC, seq, ...at }),
          'the stray entry is named as a chain with no open',
          r,
        );
      }),
      RUNS,
    );
    t.pass('held');
  },
);

t.test(
  'a copy of an entry of another chain present in the folder is CHAIN_DUPLICATE at the copy',
  async (t) => {
    fc.assert(
      fc.property(scenarioArb(), planArb(1), fc.nat(), fc.nat(), (plans, otherPlan, e0, p0) => {
        const w0 = worldOf(plans);
        const other = buildChain({
          recording: OTHER_REC,
          track: 'cam-9',
          key: KEY,
          steps: honestSteps(otherPlan, 'other'),
        });
        // The other chain's own file is read first; the copy sits in cam-1's file.
        const w: World = { ...w0, lines: [...storedLines([other]), ...w0.lines] };
        const seq = e0 % other.signed.length;
        const pos = other.signed.length + (p0 % (w0.chains[0]!.signed.length + 1));
        const { lines, at } = spliceIn(w, pos, {
          file: w0.chains[0]!.file,
          text: JSON.stringify(other.signed[seq]),
        });
        const r = verify(lines, factsOf(new Map([...w0.objects, ...other.objects])));
        check(!r.ok, 'copy fails', r);
        check(
          has(r, { code: 'CHAIN_DUPLICATE', recording: OTHER_REC, track: 'cam-9', seq, ...at }),
          'CHAIN_DUPLICATE at the copy',
          r,
        );
        check(tracksOtherThan(r, 'cam-9', OTHER_REC), 'the chain it was slipped into verifies', r);
      }),
      { numRuns: 30 },
    );
    t.pass('held');
  },
);

t.test(
  'an entry validly signed by another known key, inserted after the genuine one, is CHAIN_FORK at its line',
  async (t) => {
    fc.assert(
      fc.property(scenarioArb(), fc.nat(), fc.nat(), (plans, e0, p0) => {
        const w = worldOf(plans);
        const n = w.chains[0]!.signed.length;
        const intruder = buildChain({ ...w.chains[0]!.spec, key: OTHER });
        const seq = e0 % n;
        const pos = seq + 1 + (p0 % (n - seq));
        const { lines, at } = spliceIn(w, pos, {
          file: w.chains[0]!.file,
          text: JSON.stringify(intruder.signed[seq]),
        });
        const r = verify(lines, factsOf(w.objects), keyMap(KEY, OTHER));
        check(!r.ok, 'fork fails', r);
        check(has(r, { code: 'CHAIN_FORK', seq, ...at }), `CHAIN_FORK at line ${at.line}`, r);
      }),
      RUNS,
    );
    t.pass('held');
  },
);

t.test(
  'an entry validly signed by another known key, inserted before the genuine one, fails and is named at its line',
  async (t) => {
    const misattributed: string[] = [];
    fc.assert(
      fc.property(scenarioArb(), fc.nat(), fc.nat(), (plans, e0, p0) => {
        const w = worldOf(plans);
        const n = w.chains[0]!.signed.length;
        const intruder = buildChain({ ...w.chains[0]!.spec, key: OTHER });
        const seq = e0 % n;
        const pos = p0 % (seq + 1);
        const { lines, at } = spliceIn(w, pos, {
          file: w.chains[0]!.file,
          text: JSON.stringify(intruder.signed[seq]),
        });
        const r = verify(lines, factsOf(w.objects), keyMap(KEY, OTHER));
        check(!r.ok, 'fork fails', r);
        if (!has(r, { seq, ...at }, (f) => ['CHAIN_FORK', 'CHAIN_IDENTITY'].includes(f.code)))
          misattributed.push(
            `intruder seq ${seq} at line ${at.line}: ${allFindings(r)
              .map((f) => `${f.code}@${f.line}`)
              .join(' ')}`,
          );
      }),
      RUNS,
    );
    t.pass('every such insertion fails verification');
    t.same(misattributed.slice(0, 3), [], 'the intruder, not a genuine entry, is named');
  },
);

// ---------------------------------------------------------------------------------------------
// Time: lying gaps and silent holes, re-signed with the honest key

const lieArb = fc.record({
  plan: planArb(1),
  k: fc.nat(),
  gapMs: fc.integer({ min: 2 * MAX_SILENT_MS + 2, max: 600_000 }),
  lie: fc.nat(),
});

/** A plan with an honest gap before segment k, its steps, and the index of that gap among the steps. */
function withGap(plan: ChainPlan, k0: number, gapMs: number): { steps: Step[]; gapIndex: number } {
  const k = k0 % plan.segments.length;
  const p: ChainPlan = {
    ...plan,
    segments: plan.segments.map((s, i) => (i === k ? { ...s, gapBeforeMs: gapMs } : s)),
  };
  const steps = honestSteps(p, 'cam-1');
  let seen = -1;
  const segIndex = steps.findIndex((s) => s.kind === 'segment' && ++seen === k);
  return { steps, gapIndex: segIndex - 1 };
}

function verifySteps(steps: Step[]): VerifyReport {
  const chain = buildChain({ recording: REC, track: 'cam-1', key: KEY, steps });
  return verify(storedLines([chain]), factsOf(chain.objects));
}

function range(lie: number, lo: number, hi: number): number {
  return lo + (lie % (hi - lo + 1));
}

t.test('a gap claiming to start before the previous end is TIME_OVERLAP naming the gap', async (t) => {
  fc.assert(
    fc.property(lieArb, ({ plan, k, gapMs, lie }) => {
      const { steps, gapIndex } = withGap(plan, k, gapMs);
      const gap = steps[gapIndex] as Extract<Step, { kind: 'gap' }>;
      gap.from -= range(lie, MAX_SILENT_MS + 1, 600_000);
      const r = verifySteps(steps);
      expectOnly(r, ['TIME_OVERLAP'], 'gap from too early');
      check(has(r, { code: 'TIME_OVERLAP', seq: gapIndex + 1 }), `names gap seq ${gapIndex + 1}`, r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test('a gap claiming to start after the previous end is TIME_HOLE naming the gap', async (t) => {
  fc.assert(
    fc.property(lieArb, ({ plan, k, gapMs, lie }) => {
      const { steps, gapIndex } = withGap(plan, k, gapMs);
      const gap = steps[gapIndex] as Extract<Step, { kind: 'gap' }>;
      gap.from += range(lie, MAX_SILENT_MS + 1, gapMs);
      const r = verifySteps(steps);
      expectOnly(r, ['TIME_HOLE'], 'gap from too late');
      check(has(r, { code: 'TIME_HOLE', seq: gapIndex + 1 }), `names gap seq ${gapIndex + 1}`, r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test(
  'a gap claiming to end after the next segment starts is TIME_OVERLAP at that segment, citing the gap',
  async (t) => {
    fc.assert(
      fc.property(lieArb, ({ plan, k, gapMs, lie }) => {
        const { steps, gapIndex } = withGap(plan, k, gapMs);
        const gap = steps[gapIndex] as Extract<Step, { kind: 'gap' }>;
        gap.to += range(lie, 2 * MAX_SILENT_MS + 1, 600_000);
        const r = verifySteps(steps);
        expectOnly(r, ['TIME_OVERLAP'], 'gap to too late');
        check(
          has(r, { code: 'TIME_OVERLAP', seq: gapIndex + 2 }, (f) =>
            f.message.includes(`seq ${gapIndex + 1}`),
          ),
          `names segment seq ${gapIndex + 2} and the gap seq ${gapIndex + 1}`,
          r,
        );
      }),
      RUNS,
    );
    t.pass('held');
  },
);

t.test(
  'a gap claiming to end well before the next segment starts is TIME_HOLE at that segment',
  async (t) => {
    fc.assert(
      fc.property(lieArb, ({ plan, k, gapMs, lie }) => {
        const { steps, gapIndex } = withGap(plan, k, gapMs);
        const gap = steps[gapIndex] as Extract<Step, { kind: 'gap' }>;
        gap.to -= range(lie, 2 * MAX_SILENT_MS + 1, gapMs);
        const r = verifySteps(steps);
        expectOnly(r, ['TIME_HOLE'], 'gap to too early');
        check(has(r, { code: 'TIME_HOLE', seq: gapIndex + 2 }), `names segment seq ${gapIndex + 2}`, r);
      }),
      RUNS,
    );
    t.pass('held');
  },
);

t.test('a gap that ends before it starts is GAP_SPAN_INVALID naming it', async (t) => {
  const { steps, gapIndex } = withGap(
    {
      segments: [{ bytes: Buffer.from('a'), durationMs: 4000, jitterMs: 0, gapBeforeMs: 0 }],
      closeJitterMs: 0,
      closed: true,
    },
    0,
    5000,
  );
  const gap = steps[gapIndex] as Extract<Step, { kind: 'gap' }>;
  [gap.from, gap.to] = [gap.to, gap.from];
  const r = verifySteps(steps);
  t.ok(has(r, { code: 'GAP_SPAN_INVALID', seq: gapIndex + 1 }));
  t.notOk(r.ok);
});

/** Shifts the step at `from` and every later step by `ms`. */
function shiftFrom(steps: Step[], from: number, ms: number): void {
  for (const s of steps.slice(from)) {
    if (s.kind === 'segment') s.start += ms;
    else if (s.kind === 'gap') {
      s.from += ms;
      s.to += ms;
    } else s.end += ms;
  }
}

const holeArb = fc.record({
  plan: planArb(1),
  k: fc.nat(),
  ms: fc.integer({ min: 2 * MAX_SILENT_MS + 1, max: 3_600_000 }),
});

function segmentStepIndex(steps: Step[], k0: number): number {
  const indices = steps.flatMap((s, i) => (s.kind === 'segment' ? [i] : []));
  return indices[k0 % indices.length]!;
}

t.test('a silent hole (a segment re-timed later, no gap) is TIME_HOLE naming that segment', async (t) => {
  fc.assert(
    fc.property(holeArb, ({ plan, k, ms }) => {
      const steps = honestSteps(plan, 'cam-1');
      const i = segmentStepIndex(steps, k);
      shiftFrom(steps, i, ms);
      const r = verifySteps(steps);
      expectOnly(r, ['TIME_HOLE'], 'silent hole');
      check(has(r, { code: 'TIME_HOLE', seq: i + 1 }), `names seq ${i + 1}`, r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test('a segment re-timed to overlap its predecessor is TIME_OVERLAP naming that segment', async (t) => {
  fc.assert(
    fc.property(holeArb, ({ plan, k, ms }) => {
      const steps = honestSteps(plan, 'cam-1');
      const i = segmentStepIndex(steps, k);
      shiftFrom(steps, i, -ms);
      const r = verifySteps(steps);
      expectOnly(r, ['TIME_OVERLAP'], 'overlap');
      check(has(r, { code: 'TIME_OVERLAP', seq: i + 1 }), `names seq ${i + 1}`, r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test(
  'a close claiming an end far from the last segment end is TIME_HOLE or TIME_OVERLAP naming the close',
  async (t) => {
    fc.assert(
      fc.property(holeArb, fc.boolean(), ({ plan, ms }, later) => {
        const steps = honestSteps(plan, 'cam-1');
        shiftFrom(steps, steps.length - 1, later ? ms : -ms);
        const r = verifySteps(steps);
        const code = later ? 'TIME_HOLE' : 'TIME_OVERLAP';
        expectOnly(r, [code], 'close re-timed');
        check(has(r, { code, seq: steps.length }), 'names the close', r);
      }),
      { numRuns: 30 },
    );
    t.pass('held');
  },
);

t.test('slack of exactly MAX_SILENT_MS is allowed; one ms more is a TIME_HOLE', async (t) => {
  const seg = (jitterMs: number) => ({ bytes: Buffer.from('s'), durationMs: 4000, jitterMs, gapBeforeMs: 0 });
  const ok = verifySteps(
    honestSteps(
      { segments: [seg(0), seg(MAX_SILENT_MS), seg(-MAX_SILENT_MS)], closeJitterMs: 0, closed: true },
      'x',
    ),
  );
  t.ok(ok.ok, 'within slack');
  const hole = verifySteps(
    honestSteps({ segments: [seg(0), seg(MAX_SILENT_MS + 1)], closeJitterMs: 0, closed: true }, 'x'),
  );
  t.same(errorCodes(hole), ['TIME_HOLE']);
  t.ok(has(hole, { code: 'TIME_HOLE', seq: 2 }));
  const overlap = verifySteps(
    honestSteps({ segments: [seg(0), seg(-MAX_SILENT_MS - 1)], closeJitterMs: 0, closed: true }, 'x'),
  );
  t.same(errorCodes(overlap), ['TIME_OVERLAP']);
  t.ok(has(overlap, { code: 'TIME_OVERLAP', seq: 2 }));
});

// ---------------------------------------------------------------------------------------------
// Keys and the close entry

t.test('verifying with a different public key is KEY_UNKNOWN for every entry, each named', async (t) => {
  fc.assert(
    fc.property(scenarioArb(), (plans) => {
      const w = worldOf(plans);
      for (const keys of [keyMap(OTHER), keyMap()]) {
        const r = verify(w.lines, factsOf(w.objects), keys);
        expectOnly(r, ['KEY_UNKNOWN'], 'wrong key');
        const inputs = toInputs(w.lines);
        w.lines.forEach((_, i) => {
          const seq = (JSON.parse(w.lines[i]!.text) as SignedEntry).entry.seq as number;
          check(has(r, { code: 'KEY_UNKNOWN', seq, ...inputs[i]!.where }), `line ${i} named`, r);
        });
      }
    }),
    { numRuns: 20 },
  );
  t.pass('held');
});

t.test(
  "an entry naming a gateway other than its key's owner is KEY_OWNER_MISMATCH, each named",
  async (t) => {
    const w = worldOf([{ segments: [], closeJitterMs: 0, closed: true }]);
    const owned = (owner: string) => new Map([[KEY.publicKey.fingerprint, { ...KEY.publicKey, owner }]]);
    t.ok(verify(w.lines, factsOf(w.objects), owned('gw-test')).ok, 'the owner matches: ok');
    const r = verify(w.lines, factsOf(w.objects), owned('gw-other'));
    t.notOk(r.ok);
    t.same(errorCodes(r), ['KEY_OWNER_MISMATCH']);
    t.ok(has(r, { code: 'KEY_OWNER_MISMATCH', seq: 0, line: 1 }));
    t.ok(has(r, { code: 'KEY_OWNER_MISMATCH', seq: 1, line: 2 }));
  },
);

/** cam-1 built without its close, and a way to seal a close with whatever state or fields we like. */
function unclosed(plan: ChainPlan) {
  const steps = honestSteps(plan, 'cam-1');
  const close = steps.pop() as Extract<Step, { kind: 'close' }>;
  const chain = buildChain({ recording: REC, track: 'cam-1', key: KEY, steps });
  const identity = {
    gateway: 'gw-test',
    keyFingerprint: KEY.publicKey.fingerprint,
    privateKey: KEY.privateKey,
    recording: REC,
    track: 'cam-1',
  };
  const closeFields = {
    sealedAt: isoTime(close.end),
    clock: CLOCK,
    end: isoTime(close.end),
    reason: 'stopped' as const,
  };
  const report = (closeEntry: SignedEntry) =>
    verify(storedLines([{ ...chain, signed: [...chain.signed, closeEntry] }]), factsOf(chain.objects));
  const closeWith = (state: ChainState) => new TrackChain(identity, state).close(closeFields);
  return { chain, closeFields, report, closeWith, closeSeq: chain.signed.length };
}

t.test('a close whose root is wrong (re-signed honestly) is CLOSE_ROOT_MISMATCH at the close', async (t) => {
  fc.assert(
    fc.property(planArb(1), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (plan, j0, junk) => {
      const { chain, report, closeWith, closeSeq } = unclosed(plan);
      const state = chain.chain.state;
      state.segmentHashes[j0 % state.segmentHashes.length] = sha256Hex(
        Buffer.concat([Buffer.from('not'), junk]),
      );
      const r = report(closeWith(state));
      expectOnly(r, ['CLOSE_ROOT_MISMATCH'], 'wrong root');
      check(has(r, { code: 'CLOSE_ROOT_MISMATCH', seq: closeSeq }), 'names the close', r);
    }),
    RUNS,
  );
  t.pass('held');
});

t.test(
  'a close whose segment count is wrong (re-signed honestly) is CLOSE_COUNT_MISMATCH at the close',
  async (t) => {
    fc.assert(
      fc.property(
        planArb(0),
        fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
        (plan, delta) => {
          const { chain, closeFields, report, closeSeq } = unclosed(plan);
          const state = chain.chain.state;
          fc.pre(state.segmentHashes.length + delta >= 0);
          const entry: CloseEntry = {
            v: 1,
            alg: ALG,
            gateway: 'gw-test',
            key: KEY.publicKey.fingerprint,
            recording: REC,
            track: 'cam-1',
            seq: state.nextSeq,
            prev: state.prev,
            kind: 'close',
            ...closeFields,
            segments: state.segmentHashes.length + delta,
            merkleRoot: (closeWithRoot(state) as CloseEntry).merkleRoot,
          };
          const r = report(sealEntry(entry, KEY.privateKey));
          expectOnly(r, ['CLOSE_COUNT_MISMATCH'], 'wrong count');
          check(has(r, { code: 'CLOSE_COUNT_MISMATCH', seq: closeSeq }), 'names the close', r);
        },
      ),
      RUNS,
    );
    t.pass('held');
  },
);

/** The close entry an honest chain in this state would seal (for its root). */
function closeWithRoot(state: ChainState): unknown {
  const c = new TrackChain(
    {
      gateway: 'gw-test',
      keyFingerprint: KEY.publicKey.fingerprint,
      privateKey: KEY.privateKey,
      recording: REC,
      track: 'cam-1',
    },
    state,
  ).close({ sealedAt: isoTime(0), clock: CLOCK, end: isoTime(0), reason: 'stopped' });
  return c.entry;
}

t.test(
  'a close that leaves out or adds a segment (re-signed honestly) is CLOSE_COUNT_MISMATCH and CLOSE_ROOT_MISMATCH',
  async (t) => {
    fc.assert(
      fc.property(planArb(1), fc.nat(), fc.boolean(), (plan, j0, drop) => {
        const { chain, report, closeWith, closeSeq } = unclosed(plan);
        const state = chain.chain.state;
        if (drop) state.segmentHashes.splice(j0 % state.segmentHashes.length, 1);
        else state.segmentHashes.push(sha256Hex(Buffer.from(`extra ${j0}`)));
        const r = report(closeWith(state));
        expectOnly(r, ['CLOSE_COUNT_MISMATCH', 'CLOSE_ROOT_MISMATCH'], 'wrong segment set');
        check(has(r, { code: 'CLOSE_COUNT_MISMATCH', seq: closeSeq }), 'count names the close', r);
        check(has(r, { code: 'CLOSE_ROOT_MISMATCH', seq: closeSeq }), 'root names the close', r);
      }),
      { numRuns: 40 },
    );
    t.pass('held');
  },
);

t.test('a signature made under another context does not verify an entry', async (t) => {
  const w = worldOf([{ segments: [], closeJitterMs: 0, closed: true }]);
  const env = JSON.parse(w.lines[1]!.text) as SignedEntry;
  const digest = Buffer.from(env.hash, 'hex');
  const lines = [...w.lines];
  lines[1] = {
    ...lines[1]!,
    text: JSON.stringify({ ...env, sig: signDigest(KEY.privateKey, 'treeHead', digest) }),
  };
  const r = verify(lines, factsOf(w.objects));
  t.ok(has(r, { code: 'SIGNATURE_INVALID', seq: 1, line: 2 }));
});
