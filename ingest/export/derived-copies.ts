/**
 * @module Convenience copies: one MP4 per track, joined by ffmpeg's concat demuxer in copy mode (no
 * re-encode), written to derived/ beside the bag's payload and outside every manifest. They are for
 * watching, never evidence: the README in derived/ says so [DESIGN: exports may add derived copies].
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { objectPath } from '../../protocol/folder-layout.ts';
import { PAYLOAD_DIR } from './bagit.ts';
import type { ChainSummary } from './chain-summary.ts';
import { DERIVED_DIR } from './package-layout.ts';

const README = `派生副本 DERIVED COPIES — NOT EVIDENCE
本文件夹中的 MP4 由 ffmpeg 以复制模式（不重新编码）拼接 data/objects/ 中的原始片段而成，仅供观看。
它们不在任何清单中，不是证据；证据是 data/ 中的原始对象，由 quanlu verify 核验。
The MP4 files here join the original segments in data/objects/ with ffmpeg's concat demuxer in copy
mode (no re-encoding), for viewing only. They are outside every manifest and are not evidence: the
evidence is the original objects under data/, checked by quanlu verify.
`;

/** Runs ffmpeg; resolves with its exit code and the tail of its stderr. */
function ffmpeg(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (err) => resolvePromise({ code: -1, stderr: err.message }));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stderr }));
  });
}

/** The concat demuxer's list file: one `file '<path>'` line per segment, quotes escaped. */
export function concatList(paths: readonly string[]): string {
  return paths.map((p) => `file '${p.replace(/'/g, "'\\''")}'\n`).join('');
}

/** Makes derived/<recording>/<track>.mp4 for every track with segments; failures are listed, not thrown. */
export async function makeDerivedCopies(
  bag: string,
  chains: readonly ChainSummary[],
): Promise<{ made: string[]; failed: string[] }> {
  const made: string[] = [];
  const failed: string[] = [];
  const dir = join(bag, DERIVED_DIR);
  await mkdir(dir, { recursive: true });
  const notes: string[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'quanlu-concat-'));
  try {
    for (const c of chains) {
      if (c.segments.length === 0) continue;
      const rel = `${c.recording}/${c.track}.mp4`;
      await mkdir(join(dir, c.recording), { recursive: true });
      const list = join(scratch, `${c.recording}-${c.track}.txt`);
      await writeFile(
        list,
        concatList(c.segments.map((s) => resolve(bag, PAYLOAD_DIR, objectPath(s.sha256)))),
      );
      const run = await ffmpeg([
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        list,
        '-map',
        '0',
        '-c',
        'copy',
        '-movflags',
        '+faststart',
        '-y',
        join(dir, rel),
      ]);
      if (run.code === 0) made.push(rel);
      else {
        failed.push(rel);
        notes.push(
          `${rel}: ffmpeg failed (${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`,
        );
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeFile(
    join(dir, 'README.txt'),
    `${README}\n${made.map((m) => `made: ${m}`).join('\n')}${notes.length ? `\n${notes.join('\n')}` : ''}\n`,
  );
  return { made, failed };
}
