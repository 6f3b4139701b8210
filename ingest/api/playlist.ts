/** @module The HLS media playlist of one track, built from its indexed segment and gap entries: the one module that writes (and names) it. */

/** One indexed segment, as its signed entry describes it. */
export interface PlaylistSegment {
  /** The entry's place in its chain: also the segment's name in the playlist (`segments/<seq>.ts`). */
  seq: number;
  /** Instant of the segment's first frame (UTC ISO-8601 with ms, as signed). */
  start: string;
  durationMs: number;
}

/** One declared gap, as its signed entry describes it. */
export interface PlaylistGap {
  seq: number;
  from: string;
  to: string;
  reason: string;
  detail: string;
}

/** What a playlist is built from. */
export interface PlaylistInput {
  /** True while the track records (EVENT, no ENDLIST); false once closed or broken (VOD, ENDLIST). */
  live: boolean;
  /** `discrete` tracks are separate files (body-worn footage): every segment starts a new timeline. */
  continuity: 'continuous' | 'discrete';
  /** The track's segments; any order (they are placed by seq). */
  segments: readonly PlaylistSegment[];
  /** The track's gaps; any order (they are placed by seq). */
  gaps: readonly PlaylistGap[];
  /** Advertise blocking playlist reload (`_HLS_msn`) while live; the server must then honour it. */
  canBlockReload?: boolean;
}

/** The HLS version the playlist needs: decimal EXTINF (3); nothing past 6 is used. */
export const PLAYLIST_VERSION = 6;
/** The CLASS of gap date ranges; the player reads the reason from X-REASON and X-DETAIL. */
export const GAP_CLASS = 'cn.quanlu.gap';
/** The media type of a playlist. */
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
/**
 * Target duration of a playlist with no segment yet: the shortest segment length of a room profile
 * (2–6 s), so that a live player reloads often until the first segment arrives.
 */
const EMPTY_TARGET_DURATION_S = 2;

/** The URI of segment `seq`, relative to the playlist. */
export function segmentUri(seq: number): string {
  return `segments/${seq}.ts`;
}

/** The seq a segment file name (`<seq>.ts`) names, or null when it names none. */
export function parseSegmentName(name: string): number | null {
  const m = /^(0|[1-9][0-9]{0,15})\.ts$/.exec(name);
  if (!m) return null;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? seq : null;
}

/**
 * The playlist's target duration: the longest segment rounded up, in whole seconds [RFC 8216 §4.3.3.1:
 * every EXTINF rounded to the nearest integer must not exceed it; rounding up is never less].
 */
export function targetDurationS(segments: readonly PlaylistSegment[]): number {
  if (segments.length === 0) return EMPTY_TARGET_DURATION_S;
  let longest = 0;
  for (const s of segments) if (s.durationMs > longest) longest = s.durationMs;
  return Math.max(1, Math.ceil(longest / 1000));
}

/**
 * Builds the media playlist. Segments appear in seq order under `segments/<seq>.ts`, each with its measured
 * start as PROGRAM-DATE-TIME. A gap becomes a DATERANGE (ID `gap-<seq>`, CLASS {@link GAP_CLASS}, X-REASON,
 * X-DETAIL) where its entry stands in the chain, and a DISCONTINUITY before the next segment: footage on both
 * sides of a hole does not continue one timeline. The media sequence is the segment's index in the track
 * (MEDIA-SEQUENCE 0: segments are never removed), so a live playlist only grows at its end [RFC 8216
 * §6.2.1, EVENT]. A live playlist's target duration grows if a longer segment arrives; players accept it.
 */
export function buildPlaylist(input: PlaylistInput): string {
  const segments = [...input.segments].sort((a, b) => a.seq - b.seq);
  const gaps = [...input.gaps].sort((a, b) => a.seq - b.seq);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${PLAYLIST_VERSION}`,
    `#EXT-X-TARGETDURATION:${targetDurationS(segments)}`,
  ];
  if (input.live && input.canBlockReload) lines.push('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES');
  lines.push('#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${input.live ? 'EVENT' : 'VOD'}`);

  let g = 0;
  let emitted = 0;
  let broken = false;
  for (const s of segments) {
    for (; g < gaps.length && gaps[g]!.seq < s.seq; g++) {
      lines.push(gapDateRange(gaps[g]!));
      broken = true;
    }
    // A discontinuity separates two segments; before the first one there is nothing to separate.
    if (emitted > 0 && (broken || input.continuity === 'discrete')) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${s.start}`,
      `#EXTINF:${(s.durationMs / 1000).toFixed(3)},`,
      segmentUri(s.seq),
    );
    emitted++;
    broken = false;
  }
  // Gaps after the last segment: while live, the next segment will follow them with its discontinuity.
  // With no segment there is no PROGRAM-DATE-TIME, which a DATERANGE needs [RFC 8216 §4.3.2.7]: they wait
  // for the first segment (still only appending) and stay in the gaps API meanwhile.
  if (emitted > 0) for (; g < gaps.length; g++) lines.push(gapDateRange(gaps[g]!));
  if (!input.live) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The DATERANGE of one gap. */
function gapDateRange(gap: PlaylistGap): string {
  const attrs = [
    `ID="gap-${gap.seq}"`,
    `CLASS="${GAP_CLASS}"`,
    `START-DATE="${gap.from}"`,
    `END-DATE="${gap.to}"`,
    `X-REASON="${quoted(gap.reason)}"`,
    `X-DETAIL="${quoted(gap.detail)}"`,
  ];
  return `#EXT-X-DATERANGE:${attrs.join(',')}`;
}

/**
 * A value for a quoted-string attribute, which may hold neither a double quote nor CR or LF [RFC 8216
 * §4.2]. `%`, `"` and control characters are percent-encoded, so `decodeURIComponent` gives back the text
 * exactly (other characters, CJK included, stay as they are).
 */
export function quoted(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    const encode = c === '%' || c === '"' || code < 0x20 || code === 0x7f;
    out += encode ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}
