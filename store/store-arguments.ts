/** @module Checks of what callers pass to a store: sizes and byte ranges. A bad one is a bug in the caller: RangeError. */
import type { ByteRange } from './object-store.ts';

/** Checks that a declared object size is a byte count. */
export function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`an object size must be a byte count, not ${size}`);
}

/** Checks that a range is well formed: whole byte offsets, 0 ≤ start ≤ end. */
export function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`a byte range needs whole offsets with 0 <= start <= end, not ${start}-${end}`);
  }
}

/**
 * The range actually read from an object of `size` bytes: as in HTTP, an end past the object is cut to its
 * last byte; a start past it cannot be satisfied (RangeError).
 */
export function clampRange(range: ByteRange, size: number): ByteRange {
  checkRange(range);
  if (range.start >= size) throw unsatisfiable(range, size);
  return { start: range.start, end: Math.min(range.end, size - 1) };
}

/** The error for a range that starts past the end of its object. */
export function unsatisfiable(range: ByteRange, size: number | null): RangeError {
  const of = size === null ? 'the object' : `the object's ${size} bytes`;
  return new RangeError(`bytes ${range.start}-${range.end} start past the end of ${of}`);
}
