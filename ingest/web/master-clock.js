/**
 * @module The one clock the cameras of a recording share: wall time (EXT-X-PROGRAM-DATE-TIME) <-> each
 * track's media time. Pure functions over hls.js fragment lists ({ start, duration, programDateTime }).
 */

/** How far a track may drift from the master before it is seeked back into step, in seconds. */
export const MAX_DRIFT_S = 0.35;

/**
 * Where wall time `wallMs` falls in a track: `{ time, gap: false }` inside a segment; in a hole between
 * segments (a declared gap, or before the track's first segment), `{ time: <start of the next segment>,
 * gap: true }`; after the last segment, `{ time: <its end>, gap: true, after: true }`; null when empty.
 */
export function mediaTimeAt(fragments, wallMs) {
  const frags = fragments.filter((f) => Number.isFinite(f.programDateTime));
  if (!frags.length) return null;
  for (const f of frags) {
    const end = f.programDateTime + f.duration * 1000;
    if (wallMs < f.programDateTime) return { time: f.start, gap: true };
    if (wallMs < end) return { time: f.start + (wallMs - f.programDateTime) / 1000, gap: false };
  }
  const last = frags[frags.length - 1];
  return { time: last.start + last.duration, gap: true, after: true };
}

/** The wall time (epoch ms) of media time `time` in a track, or null when no segment holds it. */
export function wallTimeAt(fragments, time) {
  for (const f of fragments) {
    if (!Number.isFinite(f.programDateTime)) continue;
    if (time >= f.start && time < f.start + f.duration) return f.programDateTime + (time - f.start) * 1000;
  }
  const last = fragments[fragments.length - 1];
  if (last && Number.isFinite(last.programDateTime) && Math.abs(time - (last.start + last.duration)) < 0.05) {
    return last.programDateTime + last.duration * 1000;
  }
  return null;
}

/** The wall-time span [first segment's start, last segment's end] of a track, or null. */
export function wallSpan(fragments) {
  const frags = fragments.filter((f) => Number.isFinite(f.programDateTime));
  if (!frags.length) return null;
  const last = frags[frags.length - 1];
  return { from: frags[0].programDateTime, to: last.programDateTime + last.duration * 1000 };
}

/**
 * What a follower track must do to show wall time `wallMs`: `{ seek: time }` when it is more than
 * MAX_DRIFT_S away, `{ gap: true, seek?: time }` when the track has no footage then, `{}` when in step.
 */
export function followerAction(fragments, currentTime, wallMs) {
  const at = mediaTimeAt(fragments, wallMs);
  if (!at) return { gap: true };
  if (at.gap)
    return Math.abs(currentTime - at.time) > MAX_DRIFT_S ? { gap: true, seek: at.time } : { gap: true };
  return Math.abs(currentTime - at.time) > MAX_DRIFT_S ? { seek: at.time } : {};
}

/** Gaps of a track as wall-time spans, merging the index's gap rows with the playlist's DATERANGEs. */
export function mergeGaps(gapRows, dateRanges) {
  const byId = new Map();
  for (const g of gapRows ?? []) {
    byId.set(`gap-${g.seq}`, {
      id: `gap-${g.seq}`,
      from: Date.parse(g.from),
      to: Date.parse(g.to),
      reason: g.reason,
      detail: g.detail ?? '',
    });
  }
  for (const d of dateRanges ?? []) {
    if (byId.has(d.id) || d.class !== 'cn.quanlu.gap') continue;
    const from = Date.parse(d.start);
    const to = d.end ? Date.parse(d.end) : from;
    if (Number.isFinite(from))
      byId.set(d.id, { id: d.id, from, to, reason: d.reason ?? 'other', detail: d.detail ?? '' });
  }
  return [...byId.values()].sort((a, b) => a.from - b.from);
}
