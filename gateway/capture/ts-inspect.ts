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
  #carry: Buffer = Buffer.alloc(0);
  #pmtPids = new Set<number>();
  #streams = new Map<number, { kind: 'video' | 'audio' | 'other'; codec: string; packets: number }>();
  #packets = 0;
  #badBytes = 0;

  /** Adds the next bytes of the file. */
  push(chunk: Buffer): void {
    let buf = this.#carry.length ? Buffer.concat([this.#carry, chunk]) : chunk;
    let i = 0;
    while (i + PACKET <= buf.length) {
      if (buf[i] !== SYNC) {
        this.#badBytes++;
        i++;
        continue;
      }
      this.#packet(buf.subarray(i, i + PACKET));
      i += PACKET;
    }
    buf = buf.subarray(i);
    this.#carry = Buffer.from(buf);
  }

  /** The streams seen and their packet counts. */
  summary(): TsSummary {
    return {
      packets: this.#packets,
      badBytes: this.#badBytes + this.#carry.length,
      streams: [...this.#streams.entries()].map(([pid, s]) => ({ pid, ...s })),
    };
  }

  #packet(p: Buffer): void {
    this.#packets++;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const unitStart = (p[1]! & 0x40) !== 0;
    const adaptation = (p[3]! >> 4) & 0x3;
    let offset = 4;
    if (adaptation === 2 || adaptation === 3) offset += 1 + p[4]!;
    if (adaptation === 2 || offset >= PACKET) return;
    const stream = this.#streams.get(pid);
    if (stream) {
      stream.packets++;
      return;
    }
    if (!unitStart) return;
    if (pid === 0) this.#pat(p.subarray(offset + 1 + p[offset]!));
    else if (this.#pmtPids.has(pid)) this.#pmt(p.subarray(offset + 1 + p[offset]!));
  }

  #pat(section: Buffer): void {
    if (section[0] !== 0x00 || section.length < 8) return;
    const length = ((section[1]! & 0x0f) << 8) | section[2]!;
    const end = Math.min(3 + length - 4, section.length);
    for (let i = 8; i + 4 <= end; i += 4) {
      const program = (section[i]! << 8) | section[i + 1]!;
      const pid = ((section[i + 2]! & 0x1f) << 8) | section[i + 3]!;
      if (program !== 0) this.#pmtPids.add(pid);
    }
  }

  #pmt(section: Buffer): void {
    if (section[0] !== 0x02 || section.length < 12) return;
    const length = ((section[1]! & 0x0f) << 8) | section[2]!;
    const end = Math.min(3 + length - 4, section.length);
    const infoLength = ((section[10]! & 0x0f) << 8) | section[11]!;
    for (let i = 12 + infoLength; i + 5 <= end; ) {
      const type = section[i]!;
      const pid = ((section[i + 1]! & 0x1f) << 8) | section[i + 2]!;
      const esInfo = ((section[i + 3]! & 0x0f) << 8) | section[i + 4]!;
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
