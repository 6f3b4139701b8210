/**
 * @module Looks at a file's bytes as they pass (never a second read): the container its first bytes announce,
 * and for ISO BMFF (MP4, MOV) whether its top-level boxes exactly fill the file.
 */

/** What the bytes said. */
export interface MediaFacts {
  /** mp4, mov, mpegts, wav, avi, jpeg, png, mp3, amr; null when not recognised. */
  container: string | null;
  /** ISO BMFF only: boxes fill the file exactly and a moov box is present; null for other containers. */
  intact: boolean | null;
}

/** An observer fed every chunk in order; `finish` gives the facts once the file has ended. */
export class MediaInspector {
  #head = Buffer.alloc(0);
  #offset = 0;
  /** Offset of the next top-level box header; -1 once the walk has failed or ran to the end. */
  #nextBox = 0;
  #pending = Buffer.alloc(0);
  #boxesBroken = false;
  #sawMoov = false;
  #toEnd = false;

  /** Feeds the next chunk of the file. */
  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#head.length < 16)
      this.#head = Buffer.concat([this.#head, buf.subarray(0, 16 - this.#head.length)]);
    this.#walkBoxes(buf);
    this.#offset += buf.length;
  }

  /** The facts about the whole file. */
  finish(): MediaFacts {
    const container = sniff(this.#head);
    if (container !== 'mp4' && container !== 'mov') return { container, intact: null };
    const filled = this.#toEnd || this.#nextBox === this.#offset;
    return { container, intact: !this.#boxesBroken && filled && this.#sawMoov };
  }

  /** Follows box headers across chunks; only the bytes of headers are looked at. */
  #walkBoxes(buf: Buffer): void {
    if (this.#boxesBroken || this.#toEnd) return;
    const end = this.#offset + buf.length;
    while (this.#nextBox < end) {
      const at = this.#nextBox - this.#offset;
      // a header may straddle chunks: keep what we have of it
      const header = Buffer.concat([this.#pending, buf.subarray(Math.max(0, at), Math.max(0, at) + 16)]);
      if (header.length < 8) {
        this.#pending = header;
        return;
      }
      const size32 = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      let size: number;
      if (size32 === 1) {
        if (header.length < 16) {
          this.#pending = header;
          return;
        }
        size = Number(header.readBigUInt64BE(8));
      } else if (size32 === 0) {
        this.#toEnd = true; // the box runs to the end of the file [ISO/IEC 14496-12 §4.2]
        if (type === 'moov') this.#sawMoov = true;
        return;
      } else {
        size = size32;
      }
      this.#pending = Buffer.alloc(0);
      if (size < 8 || !/^[\x20-\x7e]{4}$/.test(type)) {
        this.#boxesBroken = true;
        return;
      }
      if (type === 'moov') this.#sawMoov = true;
      this.#nextBox += size;
    }
  }
}

/** The container the first bytes announce. */
export function sniff(head: Buffer): string | null {
  if (head.length >= 12 && head.toString('latin1', 4, 8) === 'ftyp')
    return head.toString('latin1', 8, 12) === 'qt  ' ? 'mov' : 'mp4';
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF') {
    const form = head.toString('latin1', 8, 12);
    if (form === 'WAVE') return 'wav';
    if (form === 'AVI ') return 'avi';
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (head.length >= 5 && head.toString('latin1', 0, 5) === '#!AMR') return 'amr';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (head.length >= 1 && head[0] === 0x47) return 'mpegts';
  return null;
}
