/**
 * @module What the report says about each chain, computed from the entries alone (pure, deterministic):
 * the export and `quanlu verify` both compute it, so a report that does not match its entries is found.
 */

/** One entry as read from an entries file: its hash and its (unchecked) entry object. */
export interface EnvelopeValue {
  hash: string;
  entry: Record<string, unknown>;
}

/** One segment as the report lists it. */
export interface SegmentLine {
  seq: number;
  start: string;
  durationMs: number;
  sha256: string;
  size: number;
}

/** One gap as the report lists it. */
export interface GapLine {
  seq: number;
  from: string;
  to: string;
  reason: string;
  detail: string;
}

/** A chain as the report describes it. */
export interface ChainSummary {
  recording: string;
  track: string;
  gateway: string;
  key: string;
  caseId: string | null;
  matter: string | null;
  room: string | null;
  officers: string[];
  startedBy: string | null;
  source: { kind: string; name: string; device: string | null; officer: string | null } | null;
  start: string | null;
  end: string | null;
  closeReason: string | null;
  entries: number;
  segments: SegmentLine[];
  gaps: GapLine[];
  mediaMs: number;
  bytes: number;
  merkleRoot: string | null;
  lastHash: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Groups entries into chains by (recording, track) and orders each by seq; where two entries claim
 * one seq, the smaller hash is kept, so the result never depends on file or line order.
 */
export function summarizeChains(values: Iterable<EnvelopeValue>): ChainSummary[] {
  const chains = new Map<string, Map<number, EnvelopeValue>>();
  for (const v of values) {
    const recording = str(v.entry.recording);
    const track = str(v.entry.track);
    const seq = v.entry.seq;
    if (!recording || !track || typeof seq !== 'number') continue;
    const key = `${recording}\u0000${track}`;
    const chain = chains.get(key) ?? new Map<number, EnvelopeValue>();
    const held = chain.get(seq);
    if (!held || v.hash < held.hash) chain.set(seq, v);
    chains.set(key, chain);
  }
  return [...chains.keys()]
    .sort(compare)
    .map((key) => summarize([...chains.get(key)!.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v)));
}

function summarize(chain: EnvelopeValue[]): ChainSummary {
  const first = chain[0]!.entry;
  const out: ChainSummary = {
    recording: str(first.recording)!,
    track: str(first.track)!,
    gateway: str(first.gateway) ?? '',
    key: str(first.key) ?? '',
    caseId: null,
    matter: null,
    room: null,
    officers: [],
    startedBy: null,
    source: null,
    start: null,
    end: null,
    closeReason: null,
    entries: chain.length,
    segments: [],
    gaps: [],
    mediaMs: 0,
    bytes: 0,
    merkleRoot: null,
    lastHash: chain[chain.length - 1]!.hash,
  };
  for (const { entry: e } of chain) {
    const seq = num(e.seq);
    if (e.kind === 'open') {
      const c = (e.case ?? null) as Record<string, unknown> | null;
      out.caseId = str(c?.id);
      out.matter = str(c?.matter);
      out.room = str(c?.room);
      out.officers = Array.isArray(c?.officers)
        ? (c.officers as unknown[]).filter((o) => typeof o === 'string')
        : [];
      out.startedBy = str(e.startedBy);
      out.start = str(e.start);
      const s = (e.source ?? null) as Record<string, unknown> | null;
      if (s)
        out.source = {
          kind: str(s.kind) ?? '',
          name: str(s.name) ?? '',
          device: str(s.device),
          officer: str(s.officer),
        };
    } else if (e.kind === 'segment' || e.kind === 'file') {
      const o = (e.object ?? {}) as Record<string, unknown>;
      const line = {
        seq,
        start: str(e.start) ?? '',
        durationMs: num(e.durationMs),
        sha256: str(o.sha256) ?? '',
        size: num(o.size),
      };
      out.segments.push(line);
      out.mediaMs += line.durationMs;
      out.bytes += line.size;
    } else if (e.kind === 'gap') {
      out.gaps.push({
        seq,
        from: str(e.from) ?? '',
        to: str(e.to) ?? '',
        reason: str(e.reason) ?? '',
        detail: str(e.detail) ?? '',
      });
    } else if (e.kind === 'close') {
      out.end = str(e.end);
      out.closeReason = str(e.reason);
      out.merkleRoot = str(e.merkleRoot);
    }
  }
  return out;
}
