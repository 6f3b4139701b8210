/**
 * @module Crash-test child for spool.test.ts: stages and puts segments in a loop until it is killed,
 * writing `put <entry hash>` to stdout after each put returns. Run by the test; alone it does nothing.
 */
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Spool } from '../../gateway/spool/spool.ts';
import { newChain, openEntry, segmentEntry, stage } from './chain-fixture.ts';

const dir = process.argv[2];
if (dir) await run(dir);

async function run(root: string): Promise<void> {
  // a floor of 256 KiB: some acknowledged objects are reclaimed, some kept, while the child is killed
  const spool = Spool.open(root, { minFreeBytes: 0, retainAckedBytes: 256 * 1024 });
  const chain = newChain();
  await spool.put(openEntry(chain));
  let previous: Buffer | null = null;
  for (let i = 0; ; i++) {
    // every fourth segment repeats the previous bytes: two entries, one object
    const bytes: Buffer =
      i % 4 === 3 && previous ? previous : randomBytes(1 + Math.floor(Math.random() * 96 * 1024));
    previous = bytes;
    const object = stage(spool, `seg-${process.pid}-${i}.ts`, bytes);
    const signed = segmentEntry(chain, object);
    await spool.put(signed, object);
    // fd 1 directly, synchronously: the line is in the pipe before the next put starts
    writeSync(1, `put ${signed.hash}\n`);
    if (i % 3 === 2) {
      for (const r of spool.pending(2)) {
        spool.markUploaded(r.hash);
        spool.acknowledge(r.hash);
      }
      spool.reclaim();
    }
  }
}
