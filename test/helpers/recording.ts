/** @module Helpers for recording tests: wait for sealed entries, export and verify a recording, probe segments. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { readFolder } from '../../cli/verify/read-folder.ts';
import { writeEvidenceFolder } from '../../gateway/evidence-folder.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import type { Entry, SignedEntry } from '../../protocol/entry.ts';
import { type VerifyReport, verifyChains } from '../../protocol/verifier.ts';

/** A temp folder removed when the test ends. */
export function tmp(t: Test, prefix = 'quanlu-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves with the entries once `n` sealed entries of `kind` on `track` have been seen. */
export function sealed(gw: Gateway, track: string, kind: Entry['kind'], n = 1): Promise<Entry[]> {
  return new Promise((resolve) => {
    const seen: Entry[] = [];
    const on = (s: SignedEntry) => {
      const e = s.entry as Entry;
      if (e.kind === kind && e.track === track) {
        seen.push(e);
        if (seen.length >= n) {
          gw.recorder.off('sealed', on);
          resolve(seen);
        }
      }
    };
    gw.recorder.on('sealed', on);
  });
}

/** Writes the recording's chains as an evidence folder and verifies it as `quanlu verify` would. */
export async function exportAndVerify(
  t: Test,
  gw: Gateway,
  recording: string,
  tracks: string[],
): Promise<{ report: VerifyReport; folder: string }> {
  const folder = join(tmp(t), 'evidence');
  writeEvidenceFolder(
    gw.spool,
    folder,
    gw.id,
    gw.keyPair,
    tracks.map((track) => ({ recording, track })),
  );
  const c = await readFolder(folder);
  return { report: verifyChains(c.inputs, c.keys, c.objects, {}, c.findings), folder };
}

/** Every finding of a report, for assertion messages. */
export function findingsOf(report: VerifyReport): string {
  return JSON.stringify([...report.findings, ...report.tracks.flatMap((x) => x.findings)].slice(0, 8));
}

/** ffprobe of one file: its streams' codec types and its duration in seconds; rejects when it does not play. */
export function probeFile(path: string): Promise<{ codecs: string[]; duration: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type:format=duration', '-of', 'json', path],
      (err, stdout) => {
        if (err) return reject(err);
        const j = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration?: string } };
        resolve({ codecs: j.streams.map((s) => s.codec_name), duration: Number(j.format.duration ?? 0) });
      },
    );
  });
}
