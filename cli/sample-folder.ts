/** @module Writes a synthetic, correctly signed evidence folder: for the demo before a camera exists, tests and benchmarks. */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TrackChain } from '../protocol/chain.ts';
import type { SignedEntry } from '../protocol/entry.ts';
import { chainFileName, LAYOUT, objectPath } from '../protocol/folder-layout.ts';
import { sha256Hex } from '../protocol/hash.ts';
import { generateKeyPair, type KeyPair } from '../protocol/keys.ts';
import { isoTime } from '../protocol/time.ts';

/** What to generate. */
export interface SampleOptions {
  tracks?: number;
  segmentsPerTrack?: number;
  segmentBytes?: number;
  segmentMs?: number;
  /** Insert one honest gap in every track after this many segments. */
  gapAfter?: number | null;
  /** Leave the chains open (no close entry), as while recording. */
  open?: boolean;
  keyPair?: KeyPair;
  gateway?: string;
  startMs?: number;
}

/** What was generated. */
export interface Sample {
  folder: string;
  keyPair: KeyPair;
  chains: { recording: string; track: string; entries: SignedEntry[]; file: string }[];
  bytes: number;
}

/** Writes a sample folder with `tracks` chains of `segmentsPerTrack` random-content segments each. */
export async function writeSampleFolder(folder: string, options: SampleOptions = {}): Promise<Sample> {
  const o = {
    tracks: 2,
    segmentsPerTrack: 10,
    segmentBytes: 64 * 1024,
    segmentMs: 4000,
    gapAfter: null,
    open: false,
    gateway: 'gw-sample',
    startMs: Date.UTC(2026, 10, 27, 1, 0, 0),
    ...options,
  };
  const keyPair = o.keyPair ?? generateKeyPair();
  await mkdir(join(folder, LAYOUT.keys), { recursive: true });
  await writeFile(
    join(folder, LAYOUT.keys, `${o.gateway}.json`),
    `${JSON.stringify({ alg: 'ed25519', publicKey: keyPair.publicKeyText, owner: o.gateway }, null, 2)}\n`,
  );
  const recording = randomUUID();
  const clock = { offsetMs: 0, rttMs: null, source: 'none' };
  const sample: Sample = { folder, keyPair, chains: [], bytes: 0 };
  for (let t = 0; t < o.tracks; t++) {
    const track = `cam-${t + 1}`;
    const chain = new TrackChain({
      gateway: o.gateway,
      keyFingerprint: keyPair.publicKey.fingerprint,
      privateKey: keyPair.privateKey,
      recording,
      track,
    });
    let now = o.startMs;
    const entries: SignedEntry[] = [];
    entries.push(
      chain.open({
        sealedAt: isoTime(now),
        clock,
        start: isoTime(now),
        continuity: 'continuous',
        case: {
          id: 'DEMO-2026-0001',
          matter: '行政处罚听证',
          officers: ['31010001', '31010002'],
          room: 'hearing-1',
        },
        source: { kind: 'camera', name: `Camera ${t + 1}`, device: null, officer: null },
        startedBy: 'sample',
      }),
    );
    for (let s = 0; s < o.segmentsPerTrack; s++) {
      if (o.gapAfter !== null && s === o.gapAfter) {
        const from = now;
        now += 3000;
        entries.push(
          chain.gap({
            sealedAt: isoTime(now),
            clock,
            from: isoTime(from),
            to: isoTime(now),
            reason: 'source-lost',
            detail: 'sample outage',
          }),
        );
      }
      const bytes = randomBytes(o.segmentBytes);
      const sha256 = sha256Hex(bytes);
      await writeObject(join(folder, objectPath(sha256)), bytes);
      sample.bytes += bytes.length;
      entries.push(
        chain.segment({
          sealedAt: isoTime(now + o.segmentMs),
          clock,
          object: { sha256, size: bytes.length },
          start: isoTime(now),
          durationMs: o.segmentMs,
          container: 'mpegts',
          name: null,
        }),
      );
      now += o.segmentMs;
    }
    if (!o.open)
      entries.push(chain.close({ sealedAt: isoTime(now), clock, end: isoTime(now), reason: 'stopped' }));
    const file = join(folder, LAYOUT.entries, chainFileName(recording, track));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    sample.chains.push({ recording, track, entries, file });
  }
  return sample;
}

async function writeObject(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(bytes);
  } finally {
    await fh.close();
  }
}
