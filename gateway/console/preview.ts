/**
 * @module Live preview of a camera: a short live HLS playlist of the newest sealed segments of the running
 * recording, served byte for byte from the spool (what is previewed is what was hashed). hls.js plays it in the
 * page; the preview runs one segment behind live, since only sealed segments are listed.
 */
import type { Spool } from '../spool/spool.ts';
import { newestSegments } from './track-report.ts';

/** How many of the newest segments the preview playlist lists. */
export const PREVIEW_SEGMENTS = 4;

/** The preview playlist of one track, or null before its first segment. Segment URIs are `segments/<sha256>.ts`. */
export function previewPlaylist(spool: Spool, recording: string, track: string): string | null {
  const segments = newestSegments(spool, recording, track, PREVIEW_SEGMENTS);
  if (segments.length === 0) return null;
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.durationMs / 1000)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${segments[0]!.ordinal}`,
  ];
  for (const s of segments)
    lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, `segments/${s.sha256}.ts`);
  return `${lines.join('\n')}\n`;
}

/** Whether `sha256` is one of the segments the track's preview may serve (the newest few, nothing older). */
export function isPreviewSegment(spool: Spool, recording: string, track: string, sha256: string): boolean {
  return newestSegments(spool, recording, track, PREVIEW_SEGMENTS * 2).some((s) => s.sha256 === sha256);
}
