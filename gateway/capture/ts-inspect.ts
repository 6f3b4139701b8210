/**
 * @module Reads an MPEG-TS segment's program map and counts packets per stream while it is hashed, so
 * the one pass that hashes a segment also proves it holds the tracks it should [DESIGN invariant 2].
 */

const PACKET = 188;
const SYNC = 0x47;

/** Stream types of ISO/IEC 13818-1 Table 2-34 that cameras send. */
const STREAM_TYPES: Record<number, { kind: 'video' | 'audio'; codec: string }> = {
  27: { kind: 'video', codec: 'h264' },
  36: { kind: 'video', codec: 'hevc' },
  2: { kind: 'video', codec: 'mpeg2' },
  16: { kind: 'video', codec: 'mpeg4' },
  15: { kind: 'audio', codec: 'aac' },
  17: { kind: 'audio', codec: 'aac-latm' },
  3: { kind: 'audio', codec: 'mp3' },
  4: { kind: 'audio', codec: 'mp3' },
  129: { kind: 'audio', codec: 'ac3' },
  6: { kind: 'audio', codec: 'private' },
};

/** What a segment holds. */
export interface TsSummary {
  packets: number;
  /** Bytes that are not whole 188-byte packets with a sync byte. */
  badBytes: number;
  streams: { pid: number; kind: 'video' | 'audio' | 'other'; codec: string; packets: number }[];
}

/** Incremental MPEG-TS inspector: push chunks as they are read, then `summary()`. */
export class TsInspector {
  /** The start of a packet cut by a chunk boundary: always begins with a sync byte, shorter than a packet. */
  readonly #carry = Buffer.allocUnsafe(PACKET);
  #carryLength = 0;
  #pmtPids = new Set<number>();
  #streams = new Map<number, { kind: 'video' | 'audio' | 'other'; codec: string; packets: number }>();
  #packets = 0;
  #badBytes = 0;

  /**
   * Adds the next bytes of the file. Packets are read in place, by offset: the chunk is not copied and
   * not kept, so the caller may reuse its buffer once this returns. Only a packet cut by the chunk's end
   * is copied, into a carry of less than one packet.
   */
  push(chunk: Buffer): void {
    let i = 0;
    if (this.#carryLength > 0) {
      const need = PACKET - this.#carryLength;
      if (chunk.length < need) {
        chunk.copy(this.#carry, this.#carryLength);
        this.#carryLength += chunk.length;
        return;
      }
      chunk.copy(this.#carry, this.#carryLength, 0, need);
      this.#carryLength = 0;
      this.#packet(this.#carry, 0);
      i = need;
    }
    const end = chunk.length;
    while (i + PACKET <= end) {
      if (chunk[i] !== SYNC) {
        this.#badBytes++;
        i++;
        continue;
      }
      this.#packet(chunk, i);
      i += PACKET;
    }
    // A byte that is not a sync byte never starts a packet, whatever follows: count it now, carry the rest.
    while (i < end && chunk[i] !== SYNC) {
      this.#badBytes++;
      i++;
    }
    chunk.copy(this.#carry, 0, i, end);
    this.#carryLength = end - i;
  }

  /** The streams seen and their packet counts. */
  summary(): TsSummary {
    return {
      packets: this.#packets,
      badBytes: this.#badBytes + this.#carryLength,
      streams: [...this.#streams.entries()].map(([pid, s]) => ({ pid, ...s })),
    };
  }

  /** The packet of `b` at `at`; every read stays below `at + PACKET`, since `b` may hold more packets. */
  #packet(b: Buffer, at: number): void {
    this.#packets++;
    const pid = ((b[at + 1]! & 0x1f) << 8) | b[at + 2]!;
    const unitStart = (b[at + 1]! & 0x40) !== 0;
    const adaptation = (b[at + 3]! >> 4) & 0x3;
    let offset = 4;
    if (adaptation === 2 || adaptation === 3) offset += 1 + b[at + 4]!;
    if (adaptation === 2 || offset >= PACKET) return;
    const stream = this.#streams.get(pid);
    if (stream) {
      stream.packets++;
      return;
    }
    if (!unitStart) return;
    const isPat = pid === 0;
    if (!isPat && !this.#pmtPids.has(pid)) return;
    // The pointer field says where the section starts; a section may not run past its packet here.
    const section = at + offset + 1 + b[at + offset]!;
    const length = Math.max(0, at + PACKET - section);
    if (isPat) this.#pat(b, section, length);
    else this.#pmt(b, section, length);
  }

  /** A program association section of `length` bytes at `s`: the PIDs of the program maps. */
  #pat(b: Buffer, s: number, length: number): void {
    if (length < 8 || b[s] !== 0x00) return;
    const sectionLength = ((b[s + 1]! & 0x0f) << 8) | b[s + 2]!;
    const end = Math.min(3 + sectionLength - 4, length);
    for (let i = 8; i + 4 <= end; i += 4) {
      const program = (b[s + i]! << 8) | b[s + i + 1]!;
      const pid = ((b[s + i + 2]! & 0x1f) << 8) | b[s + i + 3]!;
      if (program !== 0) this.#pmtPids.add(pid);
    }
  }

  /** A program map section of `length` bytes at `s`: each elementary stream's PID and type. */
  #pmt(b: Buffer, s: number, length: number): void {
    if (length < 12 || b[s] !== 0x02) return;
    const sectionLength = ((b[s + 1]! & 0x0f) << 8) | b[s + 2]!;
    const end = Math.min(3 + sectionLength - 4, length);
    const infoLength = ((b[s + 10]! & 0x0f) << 8) | b[s + 11]!;
    for (let i = 12 + infoLength; i + 5 <= end; ) {
      const type = b[s + i]!;
      const pid = ((b[s + i + 1]! & 0x1f) << 8) | b[s + i + 2]!;
      const esInfo = ((b[s + i + 3]! & 0x0f) << 8) | b[s + i + 4]!;
      if (!this.#streams.has(pid)) {
        const known = STREAM_TYPES[type];
        this.#streams.set(pid, {
          kind: known?.kind ?? 'other',
          codec: known?.codec ?? `0x${type.toString(16)}`,
          packets: 0,
        });
      }
      i += 5 + esInfo;
    }
  }
}
