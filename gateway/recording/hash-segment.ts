/** @module Hashes a finished segment in one streaming pass, inspecting its MPEG-TS streams on the way [DESIGN invariant 2]. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { TsInspector, type TsSummary } from '../capture/ts-inspect.ts';

/** The one-pass facts about a segment file. */
export interface SegmentFacts {
  sha256: string;
  size: number;
  ts: TsSummary;
}

const READ_BYTES = 1024 * 1024;
/** Enough for every camera of a room hashing at once; more are allocated, and dropped, when needed. */
const SPARE_LIMIT = 8;

/**
 * Read buffers kept between calls. A fresh 1 MiB buffer per read (as a read stream makes) is fresh memory
 * the kernel faults in page by page: reusing one nearly halves the cost of hashing a segment.
 */
const spare: Buffer[] = [];

/** Reads the file once: SHA-256, size and the streams it holds. */
export async function hashSegment(path: string): Promise<SegmentFacts> {
  const hash = createHash('sha256');
  const inspector = new TsInspector();
  const buffer = spare.pop() ?? Buffer.allocUnsafe(READ_BYTES);
  let size = 0;
  try {
    const file = await open(path, 'r');
    try {
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        // Both consume the bytes before the next read overwrites them: neither keeps a reference.
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        inspector.push(chunk);
        size += bytesRead;
      }
    } finally {
      await file.close();
    }
  } finally {
    if (spare.length < SPARE_LIMIT) spare.push(buffer);
  }
  return { sha256: hash.digest('hex'), size, ts: inspector.summary() };
}

/** Why a segment does not hold what it should, or null when it does. */
export function segmentProblem(ts: TsSummary, expect: { video: boolean; audio: boolean }): string | null {
  const video = ts.streams.filter((s) => s.kind === 'video' && s.packets > 0);
  const audio = ts.streams.filter((s) => s.kind === 'audio' && s.packets > 0);
  if (ts.packets === 0) return 'the segment holds no MPEG-TS packets';
  if (expect.video && video.length === 0) return 'the segment holds no video packets';
  if (expect.audio && audio.length === 0)
    return expect.video
      ? 'the segment holds no audio packets though the camera sends audio'
      : 'the segment holds no audio packets though it is a microphone';
  return null;
}
