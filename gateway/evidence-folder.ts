/** @module Writes a recording's chains from the spool as an evidence folder that `quanlu verify` checks offline. */
import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Entry } from '../protocol/entry.ts';
import { chainFileName, LAYOUT, objectPath } from '../protocol/folder-layout.ts';
import type { KeyPair } from '../protocol/keys.ts';
import type { Spool } from './spool/spool.ts';

/** Writes keys/, entries/ and objects/ for the given chains. Objects are hard-linked when possible, copied otherwise. */
export function writeEvidenceFolder(
  spool: Spool,
  folder: string,
  gateway: string,
  keyPair: KeyPair,
  chains: readonly { recording: string; track: string }[],
): { entries: number; objects: number } {
  mkdirSync(join(folder, LAYOUT.keys), { recursive: true });
  writeFileSync(
    join(folder, LAYOUT.keys, `${gateway}.json`),
    `${JSON.stringify({ alg: 'ed25519', publicKey: keyPair.publicKeyText, owner: gateway }, null, 2)}\n`,
  );
  let entries = 0;
  const objects = new Set<string>();
  for (const { recording, track } of chains) {
    const chain = spool.chain(recording, track);
    const file = join(folder, LAYOUT.entries, chainFileName(recording, track));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, chain.map((s) => `${JSON.stringify(s)}\n`).join(''));
    entries += chain.length;
    for (const s of chain) {
      const e = s.entry as Entry;
      if (e.kind !== 'segment' || objects.has(e.object.sha256)) continue;
      objects.add(e.object.sha256);
      const target = join(folder, objectPath(e.object.sha256));
      mkdirSync(dirname(target), { recursive: true });
      try {
        linkSync(spool.objectPath(e.object.sha256), target);
      } catch {
        copyFileSync(spool.objectPath(e.object.sha256), target);
      }
    }
  }
  return { entries, objects: objects.size };
}
