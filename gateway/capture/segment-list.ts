/** @module Parses ffmpeg's CSV segment list (`name,start,end` per completed segment) [DEPS: ffmpeg facts]. */

/** One completed segment as ffmpeg announces it; times are seconds on the stream's timeline. */
export interface ListedSegment {
  name: string;
  start: number;
  end: number;
}

/**
 * Parses one CSV line of `-segment_list_type csv`. ffmpeg quotes a name holding a comma or quote;
 * our names never do, but a quoted name is still read correctly.
 */
export function parseSegmentLine(line: string): ListedSegment | null {
  const m = /^(?:"((?:[^"]|"")*)"|([^,"]*)),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\s*$/.exec(line);
  if (!m) return null;
  const name = m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? '');
  const start = Number(m[3]);
  const end = Number(m[4]);
  if (!name || !Number.isFinite(start) || !Number.isFinite(end) || end < start) return null;
  return { name, start, end };
}

/** Splits a stream of text chunks into complete lines. */
export class LineSplitter {
  #rest = '';

  /** Adds a chunk; returns the lines it completed. */
  push(chunk: string): string[] {
    const text = this.#rest + chunk;
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  }
}

/** Parses ffmpeg `-progress` output (key=value lines; a block ends with progress=continue|end). */
export class ProgressParser {
  readonly #lines = new LineSplitter();
  #block: Record<string, string> = {};

  /** Adds a chunk; returns the blocks it completed. */
  push(chunk: string): Record<string, string>[] {
    const done: Record<string, string>[] = [];
    for (const line of this.#lines.push(chunk)) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      this.#block[key] = line.slice(eq + 1).trim();
      if (key === 'progress') {
        done.push(this.#block);
        this.#block = {};
      }
    }
    return done;
  }
}

/** What the last complete progress block says: bytes written and media time reached. */
export interface ProgressReading {
  totalSize: number;
  outTimeUs: number;
}

/**
 * The last complete block in the tail of a progress file (which may begin mid-block), or null when the
 * tail holds none. Missing or non-numeric figures read as 0 (the segment muxer reports no total_size).
 */
export function lastProgress(tail: string): ProgressReading | null {
  const blocks = new ProgressParser().push(tail);
  const block = blocks.at(-1);
  if (!block) return null;
  const num = (v: string | undefined) => {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  };
  return { totalSize: num(block.total_size), outTimeUs: num(block.out_time_us) };
}
