/**
 * @module The chain verifier, pure: given entries as read (with where they came from), public keys and
 * the measured hashes of the objects, it reports every failure with what, where and why [EVIDENCE §7].
 */
import { checkEnvelope, Entry, type SignedEntry } from './entry.ts';
import type { PublicKey } from './keys.ts';
import { merkleRoot } from './merkle.ts';
import { timeMs } from './time.ts';
import { type TimeProvenance, timeProvenance } from './time-provenance.ts';

/** Media in a continuous track may not leave a hole or overlap longer than this without a gap [EVIDENCE §6.3]. */
export const MAX_SILENT_MS = 500;

/** Where an entry came from. */
export interface Location {
  file: string;
  line: number;
}

/** One entry as read: its parsed JSON, or why it could not be parsed. */
export type EntryInput = { where: Location; value: unknown } | { where: Location; error: string };

/** What the verifier learned about an object by hashing it. */
export interface ObjectFact {
  /** SHA-256 of the bytes actually read, or null when the object could not be read. */
  actual: string | null;
  size: number;
  error?: string;
}

/** Every failure code the verifier can report. */
export const FINDING_CODES = {
  NO_ENTRIES: 'the folder holds no entries at all',
  ENTRY_PARSE: 'a line is not JSON',
  ENTRY_SCHEMA: 'an entry does not match the schema',
  ENTRY_HASH_MISMATCH: 'an entry does not hash to the hash its envelope names',
  SIGNATURE_INVALID: 'a signature does not verify',
  KEY_UNKNOWN: 'an entry names a key that is not among the given public keys',
  KEY_INVALID: 'a public key file is refused',
  KEY_OWNER_MISMATCH: 'an entry names a gateway other than the owner of the key that signed it',
  CHAIN_DUPLICATE: 'the same entry appears twice',
  CHAIN_FORK: 'two different entries claim the same place in a chain',
  CHAIN_OUT_OF_ORDER: 'entries are not stored in chain order',
  CHAIN_MISSING: 'entries are missing from a chain',
  CHAIN_PREV_MISMATCH: "an entry does not name its predecessor's hash",
  CHAIN_NO_OPEN: 'a chain does not start with an open entry',
  CHAIN_BAD_KIND: 'an entry kind appears where it may not',
  CHAIN_IDENTITY: 'entries of one chain name different gateways or keys',
  CHAIN_AFTER_CLOSE: 'entries follow the close entry',
  CHAIN_NOT_CLOSED: 'a chain has no close entry',
  CLOSE_COUNT_MISMATCH: 'close names a different number of segments',
  CLOSE_ROOT_MISMATCH: "close's Merkle root does not match the segments",
  TIME_HOLE: 'footage is missing with no gap entry to say why',
  TIME_OVERLAP: 'entries claim overlapping spans of time',
  GAP_SPAN_INVALID: 'a gap ends before it starts',
  FOLDER_ESCAPE: 'a symbolic link leads out of the evidence folder',
  FOLDER_UNREADABLE: 'a file or folder could not be read',
  OBJECT_STRAY: 'a file under objects/ is not named by its hash',
  OBJECT_UNREFERENCED: 'an object is named by no entry',
  OBJECT_MISSING: 'an object named by an entry is not present',
  OBJECT_UNREADABLE: 'an object could not be read',
  OBJECT_SIZE_MISMATCH: 'an object has a different size than its entry says',
  OBJECT_HASH_MISMATCH: 'an object does not hash to its name',
  // docks [EVIDENCE §6.7]
  DISPOSITION_UNKNOWN_FILE:
    'a disposition names no earlier file entry of its chain with that name and object',
  DISPOSITION_DUPLICATE: 'a file of the device is disposed of twice',
  FILE_AFTER_DISPOSITION:
    'a file entry follows a disposition: the device was wiped before all its files were sealed',
} as const;
/** A finding code. */
export type FindingCode = keyof typeof FINDING_CODES;

/** One failure, with what, where and why. */
export interface Finding {
  code: FindingCode;
  severity: 'error' | 'warning';
  message: string;
  file?: string;
  line?: number;
  recording?: string;
  track?: string;
  seq?: number;
  object?: string;
}

/** A gap as reported to a person. */
export interface GapSummary {
  seq: number;
  from: string;
  to: string;
  reason: string;
  detail: string;
}

/** The verdict on one track's chain. */
export interface TrackReport {
  recording: string;
  track: string;
  gateway: string;
  key: string;
  status: 'verified' | 'open' | 'failed';
  caseId: string | null;
  source: string | null;
  start: string | null;
  end: string | null;
  entries: number;
  segments: number;
  bytes: number;
  mediaMs: number;
  gaps: GapSummary[];
  merkleRoot: string | null;
  /** Which clock stamped the track and how well it was measured [EVIDENCE §7.4]. */
  time: TimeProvenance;
  findings: Finding[];
}

/** The verdict on everything given. */
export interface VerifyReport {
  ok: boolean;
  tracks: TrackReport[];
  /** Findings not tied to one track (unparseable lines, refused keys, stray objects). */
  findings: Finding[];
  entries: number;
  objects: { checked: number; bytes: number };
}

/** Options of a verification. */
export interface VerifyOptions {
  /** Treat a chain with no close as a warning (a recording still running), not an error. */
  allowOpen?: boolean;
}

interface Node {
  where: Location;
  signed: SignedEntry;
  entry: Entry;
  /** Why this entry is not trusted, when it is not. */
  problem: Finding | null;
}

/** Verifies chains. Pure: everything it needs is passed in. */
export function verifyChains(
  inputs: readonly EntryInput[],
  keys: ReadonlyMap<string, PublicKey & { owner?: string }>,
  objects: ReadonlyMap<string, ObjectFact>,
  options: VerifyOptions = {},
  extraFindings: readonly Finding[] = [],
): VerifyReport {
  const global: Finding[] = [...extraFindings];
  /** Findings about entries that could not take their place in a chain, by chain id. */
  const unplaced = new Map<string, Finding[]>();
  const chains = new Map<string, Node[]>();
  for (const input of inputs) {
    const at = { file: input.where.file, line: input.where.line };
    if ('error' in input) {
      global.push({ code: 'ENTRY_PARSE', severity: 'error', message: input.error, ...at });
      continue;
    }
    const checked = checkEnvelope(input.value, keys);
    if (checked.ok) {
      push(chains, { where: input.where, signed: checked.signed, entry: checked.entry, problem: null });
      continue;
    }
    // Keep a parseable but untrusted entry in its chain under the hash it claims, so that the report
    // blames this entry and not its neighbours.
    const claimed = claimedEntry(input.value);
    const finding: Finding = {
      code: checked.problem.code,
      severity: 'error',
      message: checked.problem.message,
      ...at,
    };
    if (!claimed) {
      const chain = claimedChain(input.value);
      if (chain) {
        Object.assign(finding, chain);
        const id = `${chain.recording}/${chain.track}`;
        unplaced.set(id, [...(unplaced.get(id) ?? []), finding]);
      } else {
        global.push(finding);
      }
      continue;
    }
    Object.assign(finding, {
      recording: claimed.entry.recording,
      track: claimed.entry.track,
      seq: claimed.entry.seq,
    });
    push(chains, { where: input.where, signed: claimed.signed, entry: claimed.entry, problem: finding });
  }
  const tracks = [...chains.entries()].map(([id, nodes]) => {
    const report = verifyChain(nodes, objects, options);
    const extra = unplaced.get(id);
    unplaced.delete(id);
    if (extra) {
      report.findings.unshift(...extra);
      report.status = 'failed';
    }
    return report;
  });
  for (const findings of unplaced.values()) global.push(...findings);
  if (inputs.length === 0) {
    global.push({ code: 'NO_ENTRIES', severity: 'error', message: 'there are no entries to verify' });
  }
  // An object nobody names is not evidence of anything; say so, since it may be a replaced original.
  const named = new Set<string>();
  for (const nodes of chains.values()) {
    for (const n of nodes) {
      if (n.entry.kind === 'segment' || n.entry.kind === 'file') named.add(n.entry.object.sha256);
    }
  }
  for (const [hash] of objects) {
    if (!named.has(hash)) {
      // An error, not a warning: the usual cause is a chain's entries file missing from the folder.
      global.push({
        code: 'OBJECT_UNREFERENCED',
        severity: 'error',
        object: hash,
        message: `object ${hash} is named by no entry (is a chain's entries file missing?)`,
      });
    }
  }
  const checkedObjects = [...objects.values()];
  const ok = global.every((f) => f.severity !== 'error') && tracks.every((t) => t.status !== 'failed');
  return {
    ok,
    tracks: tracks.sort(
      (a, b) => (a.start ?? '').localeCompare(b.start ?? '') || a.track.localeCompare(b.track),
    ),
    findings: global,
    entries: inputs.length,
    objects: { checked: checkedObjects.length, bytes: checkedObjects.reduce((n, o) => n + o.size, 0) },
  };
}

function push(chains: Map<string, Node[]>, node: Node): void {
  const id = `${node.entry.recording}/${node.entry.track}`;
  const list = chains.get(id);
  if (list) list.push(node);
  else chains.set(id, [node]);
}

/**
 * An envelope whose hash or signature failed but whose entry is schema-valid: it can hold its place in the
 * chain. A schema-invalid entry never does, since nothing in it can be relied on.
 */
function claimedEntry(value: unknown): { signed: SignedEntry; entry: Entry } | null {
  const v = value as { entry?: unknown; hash?: unknown; sig?: unknown } | null;
  if (!v || typeof v !== 'object' || typeof v.hash !== 'string' || !/^[0-9a-f]{64}$/.test(v.hash))
    return null;
  const parsed = Entry.safeParse(v.entry);
  if (!parsed.success) return null;
  return {
    signed: { entry: v.entry as Record<string, unknown>, hash: v.hash, sig: String(v.sig) },
    entry: parsed.data,
  };
}

/** The chain a raw value says it belongs to, when it says so plainly. */
function claimedChain(value: unknown): { recording: string; track: string; seq?: number } | null {
  const e = (value as { entry?: { recording?: unknown; track?: unknown; seq?: unknown } } | null)?.entry;
  if (!e || typeof e.recording !== 'string' || typeof e.track !== 'string') return null;
  return {
    recording: e.recording,
    track: e.track,
    ...(Number.isInteger(e.seq) ? { seq: e.seq as number } : {}),
  };
}

function verifyChain(
  nodes: Node[],
  objects: ReadonlyMap<string, ObjectFact>,
  options: VerifyOptions,
): TrackReport {
  const first = nodes[0]!.entry;
  const findings: Finding[] = [];
  const at = (n: Node): Partial<Finding> => ({
    file: n.where.file,
    line: n.where.line,
    recording: n.entry.recording,
    track: n.entry.track,
    seq: n.entry.seq,
  });
  const add = (code: FindingCode, n: Node | null, message: string, extra: Partial<Finding> = {}): void => {
    findings.push({
      code,
      severity: 'error',
      message,
      recording: first.recording,
      track: first.track,
      ...(n ? at(n) : {}),
      ...extra,
    });
  };
  for (const n of nodes) if (n.problem) findings.push(n.problem);

  // Duplicates and forks, in storage order.
  const linkedTo = new Set(nodes.filter((n) => !n.problem).map((n) => n.entry.prev));
  const bySeq = new Map<number, Node>();
  const unique: Node[] = [];
  for (const n of nodes) {
    const seen = bySeq.get(n.entry.seq);
    if (seen && seen.signed.hash === n.signed.hash) {
      add(
        'CHAIN_DUPLICATE',
        n,
        `entry seq ${n.entry.seq} (${short(n.signed.hash)}) appears again; first at line ${seen.where.line} of ${seen.where.file}`,
      );
      continue;
    }
    if (seen?.problem && !n.problem) {
      // An entry that failed its own checks (already reported) never displaces one that passed them.
      unique[unique.indexOf(seen)] = n;
      bySeq.set(n.entry.seq, n);
      continue;
    }
    if (seen && n.problem) continue; // reported on its own; the place is taken by a checked entry
    if (seen && !linkedTo.has(seen.signed.hash) && linkedTo.has(n.signed.hash)) {
      // Two checked entries claim one place: the one its successor links to holds it, the other is the fork.
      add(
        'CHAIN_FORK',
        seen,
        `a second, different entry claims seq ${n.entry.seq}; the chain continues from the one at line ${n.where.line} of ${n.where.file}`,
      );
      unique[unique.indexOf(seen)] = n;
      bySeq.set(n.entry.seq, n);
      continue;
    }
    if (seen) {
      add(
        'CHAIN_FORK',
        n,
        `a second, different entry claims seq ${n.entry.seq}; the first is at line ${seen.where.line} of ${seen.where.file}`,
      );
      continue;
    }
    bySeq.set(n.entry.seq, n);
    unique.push(n);
  }

  // Storage order must be chain order.
  for (let i = 1; i < unique.length; i++) {
    const a = unique[i - 1]!;
    const b = unique[i]!;
    if (b.entry.seq < a.entry.seq) {
      add(
        'CHAIN_OUT_OF_ORDER',
        b,
        `entry seq ${b.entry.seq} is stored after seq ${a.entry.seq} (line ${a.where.line})`,
      );
    }
  }
  const sorted = [...unique].sort((a, b) => a.entry.seq - b.entry.seq);

  // Identity, numbering, links and kinds.
  // The chain's identity comes from its first entry that passed its own checks.
  const head = sorted.find((n) => !n.problem) ?? sorted[0]!;
  for (const n of sorted) {
    if (n.entry.gateway !== head.entry.gateway || n.entry.key !== head.entry.key) {
      add(
        'CHAIN_IDENTITY',
        n,
        `entry names gateway ${n.entry.gateway} / key ${short(n.entry.key)}, the chain began with ${head.entry.gateway} / ${short(head.entry.key)}`,
      );
    }
  }
  const firstNode = sorted[0]!;
  if (firstNode.entry.seq !== 0 || firstNode.entry.kind !== 'open') {
    add(
      'CHAIN_NO_OPEN',
      firstNode,
      firstNode.entry.seq === 0
        ? `seq 0 is a ${firstNode.entry.kind} entry, not open`
        : `the chain's first entry present is seq ${firstNode.entry.seq}; seq 0 (open) is missing`,
    );
  } else if (firstNode.entry.prev !== null) {
    add('CHAIN_PREV_MISMATCH', firstNode, 'the open entry must have prev null');
  }
  let closeNode: Node | null = null;
  for (let i = 0; i < sorted.length; i++) {
    const n = sorted[i]!;
    const before = sorted[i - 1];
    if (closeNode) {
      add(
        'CHAIN_AFTER_CLOSE',
        n,
        `entry seq ${n.entry.seq} follows the close entry (seq ${closeNode.entry.seq})`,
      );
      continue;
    }
    if (i > 0 && n.entry.kind === 'open')
      add('CHAIN_BAD_KIND', n, `an open entry at seq ${n.entry.seq}; open is only seq 0`);
    if (before) {
      if (n.entry.seq !== before.entry.seq + 1) {
        const lo = before.entry.seq + 1;
        const hi = n.entry.seq - 1;
        add(
          'CHAIN_MISSING',
          n,
          lo === hi
            ? `entry seq ${lo} is missing (between seq ${before.entry.seq} and ${n.entry.seq})`
            : `entries seq ${lo}..${hi} are missing (between seq ${before.entry.seq} and ${n.entry.seq})`,
        );
      } else if (n.entry.prev !== before.signed.hash) {
        add(
          'CHAIN_PREV_MISMATCH',
          n,
          `prev is ${short(n.entry.prev)}, but entry seq ${before.entry.seq} hashes to ${short(before.signed.hash)}`,
        );
      }
    }
    if (n.entry.kind === 'close') closeNode = n;
  }
  const hasMissing = findings.some((f) => f.code === 'CHAIN_MISSING' || f.code === 'CHAIN_NO_OPEN');

  // Objects.
  let bytes = 0;
  let mediaMs = 0;
  const segmentHashes: Buffer[] = [];
  const gaps: GapSummary[] = [];
  for (const n of sorted) {
    if (closeNode && n.entry.seq > closeNode.entry.seq) break;
    const e = n.entry;
    if (e.kind === 'gap') {
      gaps.push({ seq: e.seq, from: e.from, to: e.to, reason: e.reason, detail: e.detail });
      if (timeMs(e.to) < timeMs(e.from))
        add('GAP_SPAN_INVALID', n, `gap runs from ${e.from} back to ${e.to}`);
    }
    if (e.kind !== 'segment' && e.kind !== 'file') continue;
    // A file entry is a whole object like a segment: counted by close and in its root [EVIDENCE §6.4].
    segmentHashes.push(Buffer.from(e.object.sha256, 'hex'));
    bytes += e.object.size;
    if (e.kind === 'segment') mediaMs += e.durationMs;
    const fact = objects.get(e.object.sha256);
    const object = e.object.sha256;
    if (!fact) add('OBJECT_MISSING', n, `object ${object} is not present`, { object });
    else if (fact.actual === null)
      add('OBJECT_UNREADABLE', n, `object ${object} could not be read: ${fact.error ?? 'unknown error'}`, {
        object,
      });
    else if (fact.actual !== object)
      add('OBJECT_HASH_MISMATCH', n, `object ${short(object)} hashes to ${fact.actual}`, { object });
    else if (fact.size !== e.object.size)
      add(
        'OBJECT_SIZE_MISMATCH',
        n,
        `object ${short(object)} is ${fact.size} bytes, the entry says ${e.object.size}`,
        { object },
      );
  }

  // The close entry's count and root.
  if (closeNode?.entry.kind === 'close' && !hasMissing) {
    const c = closeNode.entry;
    if (c.segments !== segmentHashes.length) {
      add(
        'CLOSE_COUNT_MISMATCH',
        closeNode,
        `close says ${c.segments} segments, the chain holds ${segmentHashes.length}`,
      );
    }
    const root = merkleRoot(segmentHashes).toString('hex');
    if (root !== c.merkleRoot)
      add(
        'CLOSE_ROOT_MISMATCH',
        closeNode,
        `close carries root ${short(c.merkleRoot)}, the segments give ${short(root)}`,
      );
  }
  if (!closeNode) {
    const last = sorted[sorted.length - 1]!;
    findings.push({
      code: 'CHAIN_NOT_CLOSED',
      severity: options.allowOpen ? 'warning' : 'error',
      message: `the chain ends at seq ${last.entry.seq} with no close entry (still recording, or its tail is missing)`,
      recording: first.recording,
      track: first.track,
    });
  }

  // Time: every hole in a continuous track is an explicit gap.
  const open = firstNode.entry.kind === 'open' ? firstNode.entry : null;
  checkDock(sorted, closeNode, open, add);
  if (open?.continuity === 'continuous') checkTime(sorted, closeNode, add);

  const end = closeNode?.entry.kind === 'close' ? closeNode.entry.end : null;
  const status = findings.some((f) => f.severity === 'error') ? 'failed' : closeNode ? 'verified' : 'open';
  return {
    recording: first.recording,
    track: first.track,
    gateway: head.entry.gateway,
    key: head.entry.key,
    status,
    caseId: open?.case?.id ?? null,
    source: open ? `${open.source.kind}: ${open.source.name}` : null,
    start: open?.start ?? null,
    end,
    entries: sorted.length,
    segments: segmentHashes.length,
    bytes,
    mediaMs,
    gaps,
    merkleRoot: closeNode?.entry.kind === 'close' ? closeNode.entry.merkleRoot : null,
    time: timeProvenance(sorted.map((n) => n.entry)),
    findings,
  };
}

type Add = (code: FindingCode, n: Node | null, message: string) => void;

function checkTime(sorted: Node[], closeNode: Node | null, add: Add): void {
  const open = sorted[0]!.entry;
  if (open.kind !== 'open') return;
  let cursor = timeMs(open.start);
  let cursorSeq = open.seq;
  for (const n of sorted.slice(1)) {
    const e = n.entry;
    if (closeNode && e.seq > closeNode.entry.seq) break;
    let start: number;
    let end: number;
    if (e.kind === 'segment') {
      start = timeMs(e.start);
      end = start + e.durationMs;
    } else if (e.kind === 'gap') {
      start = timeMs(e.from);
      end = timeMs(e.to);
      if (end < start) continue; // reported as GAP_SPAN_INVALID above
    } else if (e.kind === 'close') {
      start = timeMs(e.end);
      end = start;
    } else {
      continue;
    }
    const delta = start - cursor;
    const what = e.kind === 'close' ? 'the close' : `${e.kind} seq ${e.seq}`;
    if (delta > MAX_SILENT_MS) {
      add(
        'TIME_HOLE',
        n,
        `${delta} ms of footage are missing before ${what} (after seq ${cursorSeq}, ${new Date(cursor).toISOString()} to ${new Date(start).toISOString()}) with no gap entry`,
      );
    } else if (-delta > MAX_SILENT_MS) {
      add(
        'TIME_OVERLAP',
        n,
        `${what} starts ${-delta} ms before seq ${cursorSeq} ends (${new Date(start).toISOString()} < ${new Date(cursor).toISOString()})`,
      );
    }
    cursor = Math.max(cursor, end);
    cursorSeq = e.seq;
  }
}

/**
 * The dock rules [EVIDENCE §6.7]: file and disposition entries only in a discrete body-worn chain; each
 * disposition names an earlier file entry of the chain, once; no file entry follows a disposition.
 */
function checkDock(sorted: Node[], closeNode: Node | null, open: Entry | null, add: Add): void {
  const dockChain = open?.kind === 'open' && open.source.kind === 'bodycam' && open.continuity === 'discrete';
  const files = new Map<string, Entry>();
  const disposed = new Map<string, number>();
  let firstDisposition: number | null = null;
  for (const n of sorted) {
    const e = n.entry;
    if (closeNode && e.seq > closeNode.entry.seq) break;
    if (e.kind !== 'file' && e.kind !== 'disposition') continue;
    if (!dockChain) {
      add('CHAIN_BAD_KIND', n, `a ${e.kind} entry belongs only in a discrete bodycam chain`);
      continue;
    }
    if (e.kind === 'file') {
      if (firstDisposition !== null)
        add(
          'FILE_AFTER_DISPOSITION',
          n,
          `file ${e.name} (seq ${e.seq}) is sealed after the disposition at seq ${firstDisposition}`,
        );
      files.set(n.signed.hash, e);
      continue;
    }
    firstDisposition ??= e.seq;
    const file = files.get(e.file);
    if (file?.kind !== 'file' || file.name !== e.name || file.object.sha256 !== e.object) {
      add(
        'DISPOSITION_UNKNOWN_FILE',
        n,
        `disposition seq ${e.seq} names file entry ${short(e.file)} (${e.name}), which no earlier file entry of this chain matches`,
      );
      continue;
    }
    const before = disposed.get(e.file);
    if (before !== undefined)
      add('DISPOSITION_DUPLICATE', n, `file ${e.name} was already ${e.action} at seq ${before}`);
    else disposed.set(e.file, e.seq);
  }
}

function short(hash: string | null): string {
  return hash ? `${hash.slice(0, 12)}…` : 'null';
}
