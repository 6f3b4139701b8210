/** @module Hashes a finished segment in one streaming pass, inspecting its MPEG-TS streams on the way [DESIGN invariant 2]. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TsInspector, type TsSummary } from '../capture/ts-inspect.ts';

/** The one-pass facts about a segment file. */
export interface SegmentFacts {
  sha256: string;
  size: number;
  ts: TsSummary;
}

/** Reads the file once: SHA-256, size and the streams it holds. */
export async function hashSegment(path: string): Promise<SegmentFacts> {
  const hash = createHash('sha256');
  const inspector = new TsInspector();
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    inspector.push(buf);
    size += buf.length;
  }
  return { sha256: hash.digest('hex'), size, ts: inspector.summary() };
}

/** Why a segment does not hold what it should, or null when it does. */
export function segmentProblem(ts: TsSummary, expectAudio: boolean): string | null {
  const video = ts.streams.filter((s) => s.kind === 'video' && s.packets > 0);
  const audio = ts.streams.filter((s) => s.kind === 'audio' && s.packets > 0);
  if (ts.packets === 0) return 'the segment holds no MPEG-TS packets';
  if (video.length === 0) return 'the segment holds no video packets';
  if (expectAudio && audio.length === 0)
    return 'the segment holds no audio packets though the camera sends audio';
  return null;
}
